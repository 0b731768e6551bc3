import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript, type ScriptRun } from './run-script.ts';
import { after, before, describe, test } from 'node:test';
import {
  FAKE_KEYS,
  bedrockFoundationModel,
  bedrockProfile,
  groqModel,
  openAIModel,
  openRouterModel,
  startCatalogServer,
  type CatalogFake,
} from '../fakes/catalog-servers.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-discovery-cli-'));
let fake: CatalogFake;

before(async () => {
  fake = await startCatalogServer();
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs the script as the timer would, in a temp dir (no developer .env). Asynchronous, so
 * the fake servers in this process keep answering while the child runs.
 */
function discovery(args: string[], env: Record<string, string>): Promise<ScriptRun> {
  return runScript('discovery.ts', args, { cwd: dir, env: { PATH: process.env.PATH ?? '', ...env } });
}

describe('scripts/discovery.ts', () => {
  test('fetch: one line per source (fetched/new, skipped, failed), exit 0 while any source worked; a second run finds nothing new; report and stats read the result', async () => {
    const db = join(dir, 'fetch.sqlite');
    const env = { ...fake.env, LLM_BENCH_DB: db, GROQ_API_KEY: '', VERTEX_ACCESS_TOKEN: '', TOGETHER_API_KEY: '', DEEPINFRA_API_KEY: '', FIREWORKS_API_KEY: '', CEREBRAS_API_KEY: '' };
    fake.plans.openrouter = { models: [openRouterModel('openai/gpt-4o-mini', { prompt: '0.00000015', completion: '0.0000006', context: 128000 }), openRouterModel('anthropic/claude-sonnet-4')] };
    fake.plans.openai = { models: [openAIModel('gpt-4o-mini'), openAIModel('text-embedding-3-large')] };
    fake.plans.anthropic = { fail: 'unauthorized' };
    fake.plans.bedrock = {
      models: [bedrockFoundationModel('anthropic.claude-sonnet-4-20250514-v1:0', { inference: ['INFERENCE_PROFILE'] })],
      profiles: [bedrockProfile('us.anthropic.claude-sonnet-4-20250514-v1:0', { name: 'US Claude Sonnet 4' })],
    };

    const first = await discovery(['fetch'], env);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.trim().split('\n'), [
      'openrouter: fetched 2, new 2',
      'openai: fetched 2, new 2',
      'groq: skipped: GROQ_API_KEY is not set',
      'together: skipped: TOGETHER_API_KEY is not set',
      'deepinfra: skipped: DEEPINFRA_API_KEY is not set',
      'fireworks: skipped: FIREWORKS_API_KEY is not set',
      'cerebras: skipped: CEREBRAS_API_KEY is not set',
      'bedrock: fetched 2, new 2',
      'vertex: skipped: VERTEX_ACCESS_TOKEN is not set',
      'Discovery fetch done: 3 fetched (6 new models), 1 failed, 6 skipped',
    ]);
    assert.match(first.stderr, /^anthropic: failed \(auth\): GET http:\/\/127\.0\.0\.1:\d+\/anthropic\/v1\/models: HTTP 401 authentication_error: invalid x-api-key\n$/);
    for (const secret of [FAKE_KEYS.openai, FAKE_KEYS.awsSecretAccessKey, FAKE_KEYS.anthropic]) {
      assert.ok(!first.stdout.includes(secret) && !first.stderr.includes(secret));
    }

    const second = await discovery(['fetch', '--provider', 'openai'], env);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^openai: fetched 2, new 0$/m);
    assert.doesNotMatch(second.stdout, /openrouter|bedrock/);

    const report = await discovery(['report'], env);
    assert.equal(report.code, 0, report.stderr);
    assert.match(report.stdout, /^ {4}npm run models -- add openai gpt-4o-mini$/m);
    assert.match(report.stdout, /openrouter openai\/gpt-4o-mini: \$0\.15 \/ \$0\.60 per M tokens \(prompt \/ completion\), 128,000 context/);
    assert.match(report.stdout, /add bedrock us\.anthropic\.claude-sonnet-4-20250514-v1:0 --display-name 'US Claude Sonnet 4'/);
    assert.doesNotMatch(report.stdout, /text-embedding|(^|\s)anthropic\.claude/m);

    const stats = await discovery(['stats'], env);
    assert.equal(stats.code, 0, stats.stderr);
    assert.match(stats.stdout, /^openai\s+2\s+2\s+0\s+0\s+0\s+0\s+\d{4}-\d\d-\d\d \d\d:\d\d$/m);
  });

  test('fetch exits 1 when every source it tried failed, and 2 when the one asked for is not configured', async () => {
    const env = { OPENROUTER_BASE_URL: fake.env.OPENROUTER_BASE_URL!, LLM_BENCH_DB: join(dir, 'fail.sqlite') };
    fake.plans.openrouter = { fail: 'html' };
    const failed = await discovery(['fetch'], env);
    assert.equal(failed.code, 1);
    assert.match(failed.stderr, /^openrouter: failed \(transient_provider\): GET .*\/openrouter\/api\/v1\/models: HTTP 502 an HTML page \("502 Bad Gateway"\)$/m);
    assert.match(failed.stderr, /^Discovery fetch failed: every catalog it tried failed \(0 fetched \(0 new models\), 1 failed, 9 skipped\)$/m);

    const unconfigured = await discovery(['fetch', '--provider', 'groq'], env);
    assert.equal(unconfigured.code, 2);
    assert.match(unconfigured.stdout, /^groq: skipped: GROQ_API_KEY is not set$/m);
    assert.match(unconfigured.stderr, /Nothing to fetch: groq is not configured/);
  });

  test('report --email: nothing new sends nothing (exit 0); new models without NOTIFY_EMAIL exit 2; with it, the report goes to sendmail', async () => {
    const db = join(dir, 'mail.sqlite');
    const mailFile = join(dir, 'mail.eml');
    const sendmail = join(dir, 'fake-sendmail');
    writeFileSync(sendmail, `#!/bin/sh\ncat > '${mailFile}'\n`);
    chmodSync(sendmail, 0o755);
    const env = { OPENROUTER_BASE_URL: fake.env.OPENROUTER_BASE_URL!, GROQ_BASE_URL: fake.env.GROQ_BASE_URL!, GROQ_API_KEY: FAKE_KEYS.groq, LLM_BENCH_DB: db };

    const empty = await discovery(['report', '--email'], env);
    assert.equal(empty.code, 0, empty.stderr);
    assert.match(empty.stdout, /^Nothing new in the last 7 days: no mail sent$/m);

    fake.plans.openrouter = { models: [openRouterModel('meta-llama/llama-3.3-70b-instruct')] };
    fake.plans.groq = { models: [groqModel('llama-3.3-70b-versatile'), groqModel('whisper-large-v3')] };
    assert.equal((await discovery(['fetch'], env)).code, 0);

    const noRecipient = await discovery(['report', '--email'], env);
    assert.equal(noRecipient.code, 2);
    assert.equal(noRecipient.stderr, 'Invalid configuration:\n  - NOTIFY_EMAIL is not set: set it (or pass --to) to say where the mail goes\n');

    const sent = await discovery(['report', '--email'], { ...env, NOTIFY_EMAIL: 'ops@example.com', SENDMAIL_PATH: sendmail, MAIL_FROM: 'bench@example.com' });
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^Mailed "\[INFO\] llm-bench discovery: 1 new model" to ops@example\.com$/m);
    assert.ok(existsSync(mailFile));
    const mail = readFileSync(mailFile, 'utf8');
    assert.match(mail, /^Subject: \[INFO\] llm-bench discovery: 1 new model$/m);
    assert.match(mail, /^To: ops@example\.com$/m);
    assert.match(mail, /npm run models -- add groq llama-3\.3-70b-versatile/);
    assert.doesNotMatch(mail, /whisper/);
  });

  test('bad usage exits 2 with a one-line message', async () => {
    const env = { LLM_BENCH_DB: join(dir, 'usage.sqlite') };
    const cases: Array<[string[], RegExp]> = [
      [['frobnicate'], /^Unknown command 'frobnicate'\./],
      [['report', '--days', 'abc'], /^--days must be a positive number \(got "abc"\)\n$/],
      [['report', '--max', '0'], /^--max must be a positive integer \(got "0"\)\n$/],
      [['fetch', '--provider', 'nosuch'], /^Unknown catalog 'nosuch'\. Catalogs: openrouter, openai, /],
      [['report', '--provider', 'mock'], /^Unknown provider 'mock'\. Providers with a catalog: /],
      [['report', '--bogus'], /--bogus/],
    ];
    const runs = await Promise.all(cases.map(([args]) => discovery(args, env)));
    runs.forEach((r, i) => {
      const [args, message] = cases[i]!;
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    });
  });
});
