import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { runScript, type ScriptRun } from './run-script.ts';
import { after, before, describe, test } from 'node:test';
import { addModel } from '../../lib/models/admin.ts';
import { addScenario } from '../../lib/models/scenarios.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeModel } from '../fixtures.ts';

// bench-once runs as a child process, as systemd runs it, on a temporary SQLite file with
// mock models only: no network, no keys. The working directory is a temp dir so no .env is read.
const SCRIPT = new URL('../../scripts/bench-once.ts', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-once-'));
after(() => rmSync(dir, { recursive: true, force: true }));

type Run = ScriptRun;

function benchOnce(args: string[], env: Record<string, string>): Promise<Run> {
  return runScript('bench-once.ts', args, { cwd: dir, env: { PATH: process.env.PATH ?? '', RUNNER_NAME: 'test-runner', ...env } });
}

let n = 0;
/** A fresh store file holding the given mock models. */
async function storeWith(modelIds: string[], extra: Array<Parameters<typeof makeModel>[0]> = []): Promise<string> {
  const path = join(dir, `bench-${++n}.sqlite`);
  const store = openSqliteStore(path);
  for (const id of modelIds) await store.insertModel(makeModel({ provider: 'mock', model_id: id }));
  for (const m of extra) await store.insertModel(makeModel(m));
  await store.close();
  return path;
}

async function readStore(path: string) {
  const store = openSqliteStore(path);
  try {
    const metrics = await store.recentMetrics('mock', 'ttft-20ms-tps-2000', 10);
    const errors = await store.recentErrors('mock', 'fail-auth', 10);
    return { metrics, errors, metricCount: await store.countMetrics(), errorCount: await store.countErrors() };
  } finally {
    await store.close();
  }
}

describe('bench-once', () => {
  let db: string;
  before(async () => {
    db = await storeWith(['ttft-20ms-tps-2000', 'fail-auth', 'instant'], [{ provider: 'mock', model_id: 'reasoning-8', enabled: false }]);
  });

  test('benchmarks the enabled models, prints one journal line each and a summary, and exits 0 when some failed', async () => {
    const run = await benchOnce([], { LLM_BENCH_DB: db });
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trim().split('\n');
    assert.match(lines.find((l) => l.startsWith('mock/ttft-20ms-tps-2000:')) ?? '', /: ok, TTFT 0\.\d{3} s, [\d.]+ tokens\/s, decode [\d.]+ tokens\/s, 64 tokens$/);
    assert.match(lines.find((l) => l.startsWith('mock/instant:')) ?? '', /: ok, /);
    assert.match(run.stderr, /^mock\/fail-auth: failed \(auth, stage generate\): Cannot stream mock\/fail-auth: HTTP 401 authentication failed/m);
    assert.ok(!run.stdout.includes('reasoning-8'), 'a disabled model is not benchmarked');
    assert.match(lines.at(-1) ?? '', /^Sweep done in [\d.]+ s: 3 models, 2 ok, 1 failed \(auth 1\), 0 fresh/);
    assert.equal(lines[0], 'Benchmarking 3 models over 1 provider, deadline 25 min; a pair measured within its interval is skipped (cloud-default-v1 every 30 min)');
    assert.ok(!run.stderr.includes('\r'), 'no progress line when stderr is not a terminal');

    const stored = await readStore(db);
    assert.equal(stored.metrics.length, 1);
    assert.equal(stored.metrics[0]!.mock, true);
    assert.equal(stored.metrics[0]!.runner, 'test-runner');
    assert.equal(stored.errors[0]!.error_kind, 'auth');
  });

  test('skips what it just benchmarked, and runs it again with --force', async () => {
    const own = await storeWith(['instant', 'chunk-4-instant']);
    assert.equal((await benchOnce([], { LLM_BENCH_DB: own })).code, 0);
    const again = await benchOnce([], { LLM_BENCH_DB: own });
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^mock\/instant: skipped, measured by a sweep that started 0 min ago \(cloud-default-v1 is due every 30 min\)$/m);
    assert.match(again.stdout, /2 models, 0 ok, 0 failed, 2 fresh/);

    const forced = await benchOnce(['--force', '--provider', 'mock'], { LLM_BENCH_DB: own });
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /2 models, 2 ok, 0 failed, 0 fresh/);
    const store = openSqliteStore(own);
    assert.equal(await store.countMetrics(), 4);
    await store.close();
  });

  test('--json prints the results on stdout and the journal lines on stderr', async () => {
    const run = await benchOnce(['--json', '--force'], { LLM_BENCH_DB: db });
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { summary: { ok: number; failed: number }; results: Array<Record<string, unknown>> };
    assert.equal(out.summary.ok, 2);
    assert.equal(out.summary.failed, 1);
    const ok = out.results.find((r) => r.model === 'ttft-20ms-tps-2000')!;
    assert.equal(ok.provider, 'mock');
    assert.equal(ok.outcome, 'ok');
    assert.equal(ok.output_tokens, 64);
    assert.equal(typeof ok.time_to_first_token, 'number');
    assert.equal(ok.stored, true);
    const failed = out.results.find((r) => r.model === 'fail-auth')!;
    assert.equal(failed.error_kind, 'auth');
    assert.equal(failed.stage, 'generate');
    assert.match(run.stderr, /^mock\/instant: ok/m);
  });

  test('takes an explicit model list from --models or BENCHMARK_MODELS instead of the store', async () => {
    const fresh = await storeWith([]);
    const run = await benchOnce(['--models', 'mock:instant,mock:chunk-4-instant'], { LLM_BENCH_DB: fresh });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /2 models, 2 ok/);
    const bare = await benchOnce(['--provider', 'mock', '--force'], { LLM_BENCH_DB: fresh, BENCHMARK_MODELS: 'instant' });
    assert.equal(bare.code, 0, bare.stderr);
    assert.match(bare.stdout, /^mock\/instant: ok/m);
    assert.match(bare.stdout, /: 1 model, 1 ok/);
  });

  test('with BENCH_DAILY_BUDGET_USD it skips the call that would pass it, and PROM_TEXTFILE is rewritten after the sweep', async () => {
    // 64 output tokens at $1000 per million: $0.064 a call, so a $0.10 budget holds one.
    const price = { price: { input: 0, output: 1000 } };
    const priced = await storeWith([], [
      { provider: 'mock', model_id: 'chunk-4-instant', misc: price },
      { provider: 'mock', model_id: 'instant', misc: price },
    ]);
    const textfile = join(dir, 'llm-bench.prom');
    const run = await benchOnce(['--json'], { LLM_BENCH_DB: priced, BENCH_DAILY_BUDGET_USD: '0.1', PROM_TEXTFILE: textfile });
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { summary: { ok: number; skippedBudget: number }; results: Array<Record<string, unknown>> };
    assert.deepEqual([out.summary.ok, out.summary.skippedBudget], [1, 1]);
    assert.equal(out.results.find((r) => r.model === 'chunk-4-instant')!.cost_usd, 0.064);
    assert.equal(out.results.find((r) => r.model === 'instant')!.outcome, 'skipped_budget');
    assert.match(run.stderr, /^mock\/instant: skipped, not started: daily budget: its worst case \$0\.064 on top of \$0\.064 spent today/m);
    assert.match(run.stderr, /1 model\(s\) were not started: BENCH_DAILY_BUDGET_USD=0\.1/);
    const prom = readFileSync(textfile, 'utf8');
    assert.match(prom, /^llm_bench_last_call_cost_usd\{provider="mock",model="chunk-4-instant",scenario="cloud-default-v1"\} 0\.064$/m);
    assert.match(prom, /^llm_bench_sweep_models\{outcome="skipped_budget"\} 1$/m);
  });

  test('a mock sweep loads no provider SDK, no MongoDB driver and no tokenizer', async () => {
    const log = join(dir, 'modules.log');
    // A resolve hook that appends every module the child resolves to MODULE_LOG.
    const hook =
      'data:text/javascript,' +
      encodeURIComponent(
        'import{registerHooks}from"node:module";import{appendFileSync}from"node:fs";' +
          'registerHooks({resolve(s,c,n){const r=n(s,c);appendFileSync(process.env.MODULE_LOG,r.url+"\\n");return r}});',
      );
    const child = spawn(process.execPath, ['--import', hook, '--import', TSX, SCRIPT, '--models', 'mock:instant', '--force'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', LLM_BENCH_DB: db, MODULE_LOG: log },
      stdio: 'ignore',
    });
    assert.equal(await new Promise((resolve) => child.on('close', resolve)), 0);
    const loaded = readFileSync(log, 'utf8');
    assert.match(loaded, /lib\/bench\/providers\/mock\.ts/);
    for (const pkg of ['openai', '@anthropic-ai', '@aws-sdk', '@google/genai', 'mongodb', 'gpt-tokenizer']) {
      assert.ok(!loaded.includes(`node_modules/${pkg}/`), `${pkg} was loaded`);
    }
  });

  test('a stop (SIGINT, twice as npm forwards Ctrl-C) ends the sweep with exit 0: the call in flight aborted, the rest not started for the stop', async () => {
    const own = await storeWith(['stall', 'stall-chunk-2']);
    const child = spawn(process.execPath, ['--import', TSX, SCRIPT, '--json', '--concurrency', '1'], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', LLM_BENCH_DB: own, RUNNER_NAME: 'test-runner' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const started = new Promise<void>((resolve) =>
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        if (/Benchmarking/.test(stderr)) resolve();
      }),
    );
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await started;
    child.kill('SIGINT');
    child.kill('SIGINT');
    assert.equal(await closed, 0, stderr);
    assert.equal(stderr.match(/Received SIGINT/g)?.length, 1, stderr);
    const last = stderr.trim().split('\n').at(-1)!;
    const m = /^Sweep stopped by SIGINT: 0 measured, (\d) aborted, (\d) not started/.exec(last);
    assert.ok(m, last);
    assert.equal(Number(m[1]) + Number(m[2]), 2);
    assert.doesNotMatch(stderr, /Sweep failed|every call failed|skipped at the deadline/);
    const out = JSON.parse(stdout) as { results: Array<{ outcome: string }> };
    assert.ok(out.results.every((r) => r.outcome === 'aborted' || r.outcome === 'skipped_stopped'), stdout);
  });

  test('a sweep that cannot write its site or its Prometheus file says so at warning level and in the health mail, and exits 0', async () => {
    const own = await storeWith(['instant']);
    // A file where a folder should be: no user, root included, can write below it.
    const blocker = join(dir, `blocker-${++n}`);
    writeFileSync(blocker, '');
    const run = await benchOnce([], { LLM_BENCH_DB: own, SITE_DIR: join(blocker, 'site'), PROM_TEXTFILE: join(blocker, 'llm-bench.prom'), JOURNAL_STREAM: '8:1' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^<6>mock\/instant: ok/m, 'the result was measured and stored');
    assert.match(run.stderr, new RegExp(`^<4>Cannot write the status site to ${blocker}/site`, 'm'));
    assert.match(run.stderr, new RegExp(`^<4>Cannot write PROM_TEXTFILE ${blocker}/llm-bench\\.prom`, 'm'));

    const mail = await runScript('health-check.ts', ['--dry-run'], { cwd: dir, env: { PATH: process.env.PATH ?? '', LLM_BENCH_DB: own } });
    assert.equal(mail.code, 0, mail.stderr);
    const section = mail.stdout.split('Sweep outputs not written')[1] ?? '';
    assert.match(section, /status-site\s+1\s.*Cannot write the status site to .*ENOTDIR/);
    assert.match(section, /prom-textfile\s+1\s.*Cannot write PROM_TEXTFILE .*ENOTDIR/);
    assert.doesNotMatch(mail.stdout, /Skipped for the daily budget[\s\S]*status-site/, 'not a budget skip');
  });

  test('writes one bench_model_health document per catalog model after the sweep', async () => {
    const own = await storeWith(['instant', 'fail-auth'], [{ provider: 'mock', model_id: 'off', enabled: false }]);
    const run = await benchOnce([], { LLM_BENCH_DB: own });
    assert.equal(run.code, 0, run.stderr);
    const store = openSqliteStore(own);
    const health = await store.listModelHealth({ provider: 'mock' });
    await store.close();
    assert.deepEqual(
      health.map((h) => [h.model_id, h.freshness_status, h.successes_24h, h.failures_24h, h.consecutive_failures, h.last_error_kind]),
      [
        ['fail-auth', 'never_run', 0, 1, 1, 'auth'],
        ['instant', 'fresh', 1, 0, 0, null],
        ['off', 'disabled', 0, 0, 0, null],
      ],
    );
    assert.ok(health.every((h) => h.updated_at instanceof Date && h.cadence_seconds === 1800));
  });

  test('rows of a scenario other than cloud-default-v1 go to the probe table, not the published one', async () => {
    const own = await storeWith(['instant']);
    const run = await benchOnce(['--scenario', 'cloud-long-v1'], { LLM_BENCH_DB: own });
    assert.equal(run.code, 0, run.stderr);
    const store = openSqliteStore(own);
    const [published, probe] = [await store.countMetrics(), await store.countMetricsIn({ collection: 'probe' })];
    const [row] = await store.recentMetricsIn({ collection: 'probe', provider: 'mock', modelName: 'instant', limit: 1 });
    await store.close();
    assert.deepEqual([published, probe, row?.benchmark_profile_id], [0, 1, 'cloud-long-v1']);
  });

  test('prefixes journal lines with syslog priorities under systemd', async () => {
    const run = await benchOnce(['--force'], { LLM_BENCH_DB: db, JOURNAL_STREAM: '8:1234' });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^<6>mock\/instant: ok/m);
    assert.match(run.stderr, /^<4>mock\/fail-auth: failed/m);
  });
});

describe('bench-once with scenarios', () => {
  test('runs each enabled scenario over its targets, TinyFish automations included, and nothing the second time', async () => {
    const db = await storeWith(['instant']);
    const store = openSqliteStore(db);
    await addScenario(store, 'probe-256-v1', { maxTokens: '256', targets: 'mock' });
    await addModel(store, 'tinyfish', 'mock-start-5ms-steps-2-step-5ms', { misc: { url: 'https://example.com', goal: 'List the plans' } });
    await addScenario(store, 'agent-v1', { kind: 'agent' });
    await store.close();

    const run = await benchOnce([], { LLM_BENCH_DB: db });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^mock\/instant: ok, /m);
    assert.match(run.stdout, /^mock\/instant \[probe-256-v1\]: ok, .*, 256 tokens$/m);
    assert.match(run.stdout, /^tinyfish\/mock-start-5ms-steps-2-step-5ms \[agent-v1\]: completed \(mock\) in [\d.]+ s, STARTED after [\d.]+ s, first progress [\d.]+ s, 2 steps$/m);
    assert.match(run.stdout, /3 models, 3 ok, 0 failed/);

    const again = await benchOnce(['--json'], { LLM_BENCH_DB: db });
    assert.equal(again.code, 0, again.stderr);
    const out = JSON.parse(again.stdout) as { summary: { ran: number; skippedFresh: number }; results: Array<{ scenario: string }> };
    assert.deepEqual([out.summary.ran, out.summary.skippedFresh], [0, 3]);
    assert.deepEqual(out.results.map((r) => r.scenario).sort(), ['agent-v1', 'cloud-default-v1', 'probe-256-v1']);

    const one = await benchOnce(['--scenario', 'cloud-long-v1'], { LLM_BENCH_DB: db });
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /^mock\/instant \[cloud-long-v1\]: ok, .*, 512 tokens$/m, '--scenario runs a disabled scenario too');
    assert.match(one.stdout, /1 model, 1 ok/);
    const unknown = await benchOnce(['--scenario', 'nope'], { LLM_BENCH_DB: db });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /No scenario nope\. Scenarios: agent-v1, cloud-default-v1, cloud-long-v1, input-100k-v1, input-10k-v1, input-1k-v1, parallel-10-daily-v1, probe-256-v1/);

    const stored = openSqliteStore(db);
    const runs = await stored.recentAgentRuns();
    await stored.close();
    assert.deepEqual(runs.map((r) => [r.status, r.mock, r.runner]), [['completed', true, 'test-runner']]);
  });
});

describe('bench-once exit codes', () => {
  test('exits 1 when every call failed', async () => {
    const db = await storeWith(['fail-auth', 'fail-404']);
    const run = await benchOnce([], { LLM_BENCH_DB: db });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Sweep failed: every call failed \(2 of 2\)/);
  });

  test('exits 1 when the store is unreachable', async () => {
    const run = await benchOnce(['--models', 'groq:llama-3.3-70b-versatile'], { MONGODB_URI: 'mongodb://127.0.0.1:1', MONGODB_CONNECT_TIMEOUT_MS: '300' });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Cannot connect to MongoDB at 127\.0\.0\.1:1/);
    assert.equal(run.stderr.trim().split('\n').length, 1, 'one line');
  });

  test('exits 2 on mock models with MONGODB_URI set, saying why, before touching MongoDB', async () => {
    const run = await benchOnce(['--models', 'groq:llama-3.3-70b-versatile,mock:instant', '--force'], {
      MONGODB_URI: 'mongodb://127.0.0.1:1',
      MONGODB_CONNECT_TIMEOUT_MS: '300',
    });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /Refusing to benchmark mock\/instant into MongoDB \(MONGODB_URI is set\): simulated \(mock\) results never go to MongoDB/);
    assert.doesNotMatch(run.stderr, /Cannot connect/);
  });

  test('exits 1 when a result cannot be written, after recording that as an error', async () => {
    const db = await storeWith(['instant', 'fail-auth']);
    // The metrics table refuses every insert, as a full disk or a broken file would.
    const raw = new DatabaseSync(db);
    raw.exec(`CREATE TRIGGER refuse_metrics BEFORE INSERT ON metrics BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END;`);
    raw.close();
    const run = await benchOnce([], { LLM_BENCH_DB: db });
    assert.equal(run.code, 1);
    assert.match(run.stderr, /Cannot store the result of mock\/instant: .*database or disk is full/);
    assert.match(run.stderr, /Sweep failed: 1 result\(s\) could not be stored/);
    const store = openSqliteStore(db);
    const errors = await store.recentErrors('mock', 'instant', 5);
    await store.close();
    assert.equal(errors[0]?.stage, 'log');
  });

  test('a Bedrock model without AWS credentials fails with one "Cannot stream" prefix', async () => {
    const run = await benchOnce(['--models', 'bedrock:us.anthropic.claude-sonnet-4-20250514-v1:0', '--force'], {
      LLM_BENCH_DB: join(dir, 'bedrock.sqlite'),
      // No credential source at all, and no instance metadata service to ask.
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://127.0.0.1:9',
    });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^bedrock\/us\.anthropic\.claude-sonnet-4-20250514-v1:0: failed \(auth, stage load_provider\): Cannot stream bedrock\/us\.anthropic\.claude-sonnet-4-20250514-v1:0: authentication failed: no AWS credentials found \(/m,
    );
    assert.equal(run.stderr.match(/Cannot stream/g)?.length, 1);
  });

  for (const [what, args, env, message] of [
    ['an unknown flag', ['--bogus'], {}, /^Unknown option --bogus\.\n\nUsage: bench-once\.ts/],
    ['an unknown provider', ['--provider', 'groq,nope'], {}, /Unknown provider 'nope'/],
    ['a model without a provider', ['--models', 'llama-3.3-70b'], {}, /has no provider/],
    ['an unknown provider in --models', ['--models', 'foo:bar'], {}, /^Unknown provider 'foo' in "foo:bar": use one of openai, anthropic, .*, mock, tinyfish$/m],
    ['a bad --concurrency', ['--concurrency', '0'], {}, /--concurrency must be an integer/],
    ['a bad configuration value', [], { BENCH_MAX_ATTEMPTS: 'lots' }, /BENCH_MAX_ATTEMPTS must be an integer/],
  ] as const) {
    test(`exits 2 on ${what}`, async () => {
      const run = await benchOnce([...args], { LLM_BENCH_DB: join(dir, 'usage.sqlite'), ...env });
      assert.equal(run.code, 2, run.stderr);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    });
  }
});

describe('bench-once and the daily rollups (SPEC 20)', () => {
  test('after a sweep, today\'s rollups hold its runs, read back as the raw rows say', async () => {
    const own = await storeWith(['instant', 'fail-auth']);
    const run = await benchOnce([], { LLM_BENCH_DB: own });
    assert.equal(run.code, 0, run.stderr);
    const store = openSqliteStore(own);
    const now = new Date();
    const today = { since: new Date(Math.floor(now.getTime() / 86_400_000) * 86_400_000), until: new Date(now.getTime() + 60_000) };
    const days = await store.rollupDays(today);
    const rows = await store.dailyRollups(today, { provider: 'mock' });
    await store.close();
    assert.deepEqual(days.map((d) => d.cells), [2]);
    assert.deepEqual(rows.map((r) => [r.model_name, r.successes, r.failures, r.failures_by_kind]), [
      ['fail-auth', 0, 1, { auth: 1 }],
      ['instant', 1, 0, {}],
    ]);
  });
});
