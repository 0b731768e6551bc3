import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-models-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const script = new URL('../../scripts/models.ts', import.meta.url).pathname;
// Resolved here because the child runs in a temp dir, where a bare 'tsx' would not resolve.
const tsx = import.meta.resolve('tsx');

function models(args: string[], env: Record<string, string> = {}) {
  // Run from the temp dir so no developer .env is picked up.
  const r = spawnSync(process.execPath, ['--import', tsx, script, ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', LLM_BENCH_DB: join(dir, 'cli.sqlite'), ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/models.ts', () => {
  test('add bedrock with an un-prefixed Anthropic id exits 2 and suggests the us.anthropic. id', () => {
    const r = models(['add', 'bedrock', 'anthropic.claude-3-haiku-20240307-v1:0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /npm run models -- add bedrock us\.anthropic\.claude-3-haiku-20240307-v1:0/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line, no stack trace');
  });

  test('add with an unknown provider exits 2 listing the providers', () => {
    const r = models(['add', 'nosuchprovider', 'x']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Unknown provider 'nosuchprovider'\. Known providers: openai, anthropic, groq, together, deepinfra, fireworks, cerebras, bedrock, vertex, mock, tinyfish/);
  });

  test('a bad FRESH_MINUTES exits 2 naming the variable and its value', () => {
    const r = models(['list'], { FRESH_MINUTES: 'abc' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /FRESH_MINUTES must be a number .* \(got "abc"\)/);
  });

  test('add, list, disable, list --all, enable, deprecate round-trip through the embedded store', () => {
    assert.equal(models(['add', 'groq', 'llama-3.3-70b-versatile']).code, 0);
    const listed = models(['list']).stdout.split('\n');
    assert.match(listed[0]!, /^provider\s+model\s+state\s+last success\s+price in \/ out per 1M tokens\s+spent 24 h\s+last error$/);
    assert.match(listed[2]!, /^groq\s+llama-3\.3-70b-versatile\s+enabled\s+never\s+unknown\s+\$0\s+-$/);
    assert.equal(models(['disable', 'groq', 'llama-3.3-70b-versatile']).code, 2, 'disable without --reason');
    assert.equal(models(['disable', 'groq', 'llama-3.3-70b-versatile', '--reason', 'guard model']).code, 0);
    assert.match(models(['list']).stdout, /No enabled models/);
    assert.match(models(['list', '--all']).stdout, /disabled: guard model/);
    const json = JSON.parse(models(['list', '--all', '--json']).stdout);
    assert.equal(json[0].model.disabled_reason, 'guard model');
    assert.equal(models(['enable', 'groq', 'llama-3.3-70b-versatile']).code, 0);
    assert.equal(models(['deprecate', 'groq', 'llama-3.3-70b-versatile', '--successor', 'llama-4']).code, 0);
    assert.match(models(['show', 'groq', 'llama-3.3-70b-versatile']).stdout, /deprecated → llama-4/);
    assert.equal(models(['add', 'groq', 'LLAMA-3.3-70b-versatile', '--force']).code, 2);
  });

  test('a newcomer\'s first hour: deprecate, enable, undeprecate, repeated enable/disable, a misspelt --misc', () => {
    const env = { LLM_BENCH_DB: join(dir, 'newcomer.sqlite') };
    const run = (args: string[]) => models(args, env);
    assert.equal(run(['add', 'openai', 'gpt-4o']).code, 0);
    assert.equal(run(['deprecate', 'openai', 'gpt-4o', '--successor', 'gpt-5']).code, 0);
    const list = run(['list']);
    assert.match(list.stdout, /^No enabled models; 1 is disabled or deprecated: see it with --all/);
    assert.doesNotMatch(list.stdout, /add openai gpt-4o/, 'no add that would be refused as a duplicate');
    const enable = run(['enable', 'openai', 'gpt-4o']);
    assert.equal(enable.code, 2);
    assert.match(enable.stderr, /openai\/gpt-4o is deprecated \(successor: gpt-5\).*npm run models -- undeprecate openai gpt-4o/);
    assert.match(run(['undeprecate', 'openai', 'gpt-4o']).stdout, /^Undeprecated openai\/gpt-4o: the next sweep benchmarks it$/m);
    assert.match(run(['list']).stdout, /^openai\s+gpt-4o\s+enabled/m);
    assert.match(run(['enable', 'openai', 'gpt-4o']).stdout, /^openai\/gpt-4o is already enabled; nothing changed$/m);
    assert.equal(run(['disable', 'openai', 'gpt-4o', '--reason', 'too slow']).code, 0);
    const again = run(['disable', 'openai', 'gpt-4o', '--reason', 'other']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^openai\/gpt-4o is already disabled since \d{4}-\d\d-\d\d \(too slow\); nothing changed, the reason is kept$/m);
    const misc = run(['add', 'openai', 'gpt-4o-mini', '--misc', '{"omit_temprature":true}']);
    assert.equal(misc.code, 2);
    assert.match(misc.stderr, /unknown key omit_temprature: did you mean omit_temperature\?/);
  });

  test('show works after an ad-hoc run of a model that is not in the catalog, with TTFT in seconds', () => {
    const db = join(dir, 'adhoc.sqlite');
    const bench = spawnSync(process.execPath, ['--import', tsx, new URL('../../scripts/bench-once.ts', import.meta.url).pathname, '--models', 'mock:instant', '--force'], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', LLM_BENCH_DB: db },
    });
    assert.equal(bench.status, 0, bench.stderr);
    const r = models(['show', 'mock', 'instant'], { LLM_BENCH_DB: db });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^mock\/instant\n {2}state\s+not in the models catalog/m);
    assert.match(r.stdout, /^Recent results \(1\):\n {2}time \(UTC\)\s+TTFT s\s+tokens\/s\s+tokens\s+scenario\n.*\n {2}\S+ \S+\s+\d+\.\d{3}\s+/m);
  });

  test('list and show print the price and the last 24 hours of spend', () => {
    const env = { LLM_BENCH_DB: join(dir, 'price.sqlite') };
    assert.equal(models(['add', 'groq', 'llama-3.3-70b-versatile', '--misc', '{"price":{"input":0.59,"output":0.79}}'], env).code, 0);
    const list = models(['list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /groq\s+llama-3\.3-70b-versatile\s+enabled\s+never\s+\$0\.59 \/ \$0\.79\s+\$0\s+-$/m);
    const show = models(['show', 'groq', 'llama-3.3-70b-versatile'], env);
    assert.match(show.stdout, /^ {2}price\s+\$0\.59 in \/ \$0\.79 out per M tokens \(misc\.price\)$/m);
    assert.match(show.stdout, /^ {2}spent, last 24 h\s+\$0 over 0 calls$/m);
    assert.doesNotMatch(show.stdout, /price price/);
  });

  test('unknown commands and flags exit 2', () => {
    assert.equal(models(['frobnicate']).code, 2);
    assert.equal(models(['list', '--bogus']).code, 2);
  });

  test('an unreachable MONGODB_URI fails with exit 1 and a one-line message naming the host, not the password', () => {
    const r = models(['list'], { MONGODB_URI: 'mongodb://ops:pa55word-secret@127.0.0.1:1/', MONGODB_CONNECT_TIMEOUT_MS: '2000' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot connect to MongoDB at 127\.0\.0\.1:1/);
    assert.doesNotMatch(r.stderr, /pa55word-secret/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  });

  test('scenario add, list and remove from the shell; refusals exit 2 with one line saying what to do', () => {
    const add = models(['scenario', 'add', 'cli-long-v1', '--max-tokens', '256', '--targets', 'groq', '--interval', '120']);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /^Added scenario cli-long-v1 \(llm, enabled/);
    const list = models(['scenario', 'list', '--json']);
    assert.deepEqual(JSON.parse(list.stdout).map((s: { scenario_id: string }) => s.scenario_id), ['cli-long-v1', 'cloud-default-v1', 'cloud-long-v1', 'input-100k-v1', 'input-10k-v1', 'input-1k-v1', 'parallel-10-daily-v1']);
    const refused = models(['scenario', 'remove', 'cloud-default-v1']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /always exists\. To pause it: .*scenario disable cloud-default-v1/);
    assert.equal(refused.stderr.trim().split('\n').length, 1);
    assert.equal(models(['scenario', 'frobnicate']).code, 2);
    assert.equal(models(['scenario', 'remove', 'cli-long-v1']).code, 0);
  });
});
