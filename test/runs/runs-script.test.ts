import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript, type ScriptRun } from '../scripts/run-script.ts';
import { after, before, describe, test } from 'node:test';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeModel } from '../fixtures.ts';
import { AUTOMATION, MOCK_AUTOMATION, ODD_MODEL, seedStore } from '../site/seed.ts';

// runs.ts and bench-once as the operator and systemd run them: child processes on a temporary
// SQLite file, in a temp working directory so no .env is read.
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-runs-'));
const db = join(dir, 'store.sqlite');
after(() => rmSync(dir, { recursive: true, force: true }));

function run(name: string, args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return runScript(name, args, { cwd: dir, env: { PATH: process.env.PATH ?? '', LLM_BENCH_DB: db, SITE_DIR: join(dir, 'site'), ...env } });
}
const runs = (...args: string[]) => run('runs.ts', args);

describe('runs.ts', () => {
  before(async () => {
    // Seeded relative to now: the script's windows end now.
    const store = openSqliteStore(db);
    await seedStore(store, new Date());
    await store.close();
  });

  test('kpis --json prints the store\'s summary for the window, filtered by provider', async () => {
    const r = await runs('kpis', '--days', '7', '--provider', 'groq', '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(
      out.models.map((m: { model_name: string; runs: number; failures: number }) => [m.model_name, m.runs, m.failures]),
      [['llama-3.3-70b-versatile', 57, 1]],
    );
    assert.equal(out.overall.tokens_per_second.p50, 210);
    assert.equal(out.overall.time_to_first_token.p99, 0.2 + 4 / 100);
  });

  test('kpis as a table shows unknown numbers as "-", never 0, and one line per group plus the rollups', async () => {
    const r = await runs('kpis', '--since', '24h');
    assert.equal(r.code, 0, r.stderr);
    const claude = r.stdout.split('\n').find((l) => l.includes('claude-gone'))!;
    assert.match(claude, /anthropic\s+claude-gone\s+cloud-default-v1\s+1\s+0\.0%\s+- \/ - \/ -/);
    assert.match(r.stdout, /\(all\)\s+\(all\)\s+\(all\)\s+18\s+83\.3%/);
  });

  test('kpis --csv quotes what needs quoting and leaves unknown cells empty', async () => {
    const r = await runs('kpis', '--days', '7', '--csv', '--provider', 'together');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\r\n');
    assert.match(lines[0]!, /^provider,model,scenario,runs,successes,failures,success_rate,last_success,ttft_s_p50,/);
    assert.ok(lines[1]!.startsWith(`together,"meta-llama/Llama<3.3>&""70B"":v1",cloud-default-v1,14,14,0,1,`), lines[1]!);
  });

  test('list filters by outcome and limit, newest first; show prints one run in full', async () => {
    const r = await runs('list', '--outcome', 'failed', '--limit', '2', '--json');
    assert.equal(r.code, 0, r.stderr);
    const rows = JSON.parse(r.stdout);
    assert.deepEqual(rows.map((x: { model: string }) => x.model), ['fail-429-retry-200ms', 'llama-3.3-70b-versatile']);
    assert.equal(rows[0].mock, true);
    const ok = JSON.parse((await runs('list', '--provider', 'together', '--scenario', 'cloud-long-v1', '--json')).stdout);
    assert.equal(ok.length, 1);
    const shown = await runs('show', ok[0].run_id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^Success\n/);
    assert.match(shown.stdout, new RegExp(`model_name\\s+${ODD_MODEL.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    assert.match(shown.stdout, /benchmark_profile_id\s+cloud-long-v1/);
    const json = JSON.parse((await runs('show', ok[0].run_id, '--json')).stdout);
    assert.equal(json.tokens_per_second, 50);
  });

  test('rollups --rebuild rolls up the history, says so with the store\'s size; kpis over 30 days then read them, with the same counts', async () => {
    const rebuilt = await runs('rollups', '--rebuild', '--json');
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    const out = JSON.parse(rebuilt.stdout);
    assert.ok(out.rebuilt.length >= 7 && out.days.count === out.rebuilt.length, rebuilt.stdout);
    assert.ok(out.footprint.bytes > 0 && out.footprint.rows > 0 && out.footprint.projected_bytes_in_a_year > out.footprint.bytes);
    const table = await runs('rollups');
    assert.match(table.stdout, new RegExp(`Rollups stored for ${out.days.count} day\\(s\\)`));
    assert.match(table.stdout, /rows a day over the last 7 days: about [\d.]+ [kMG]B in a year/);
    const [week, month] = await Promise.all([runs('kpis', '--days', '8', '--json'), runs('kpis', '--days', '30')]);
    const long = await runs('kpis', '--days', '30', '--json');
    assert.equal(JSON.parse(long.stdout).overall.runs, JSON.parse(week.stdout).overall.runs, 'the seeded history is within the week');
    assert.match(month.stderr, /runs-weighted median of the daily percentiles/);
  });

  test('an unknown run_id exits 1; bad usage exits 2 with a message', async () => {
    const missing = await runs('show', 'no-such-run');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No run with run_id no-such-run/);
    for (const args of [['kpis', '--since', 'yesterday'], ['kpis', '--since', '1d', '--days', '2'], ['list', '--outcome', 'maybe'], ['list', '--limit', '0'], ['frobnicate'], ['kpis', '--json', '--csv']]) {
      const r = await runs(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.trim().split('\n').length === 1 && r.stderr.length > 10, r.stderr);
    }
  });

  test('kpis shows the agent runs too: a second table, the key agent_runs in JSON, their own CSV with --kind agent', async () => {
    const json = JSON.parse((await runs('kpis', '--days', '7', '--json')).stdout);
    assert.deepEqual(
      json.agent_runs.groups.map((g: { automation: string; mock: boolean; runs: number; failed: number; timeouts: number }) => [g.automation, g.mock, g.runs, g.failed, g.timeouts]),
      [[MOCK_AUTOMATION, true, 6, 0, 0], [AUTOMATION, false, 28, 1, 1]],
    );
    assert.equal(json.agent_runs.groups[1].total_duration_ms.p50, 42_000);
    assert.ok(json.models.length > 0, 'beside the LLM KPIs');
    const table = await runs('kpis', '--days', '7', '--model', AUTOMATION);
    assert.match(table.stdout, /Agent runs \(TinyFish\)/);
    assert.match(table.stdout, /pricing-page\s+agent-pricing-v1\s+28\s+92\.9%\s+1\s+1\s+42\.0 \/ 57\.0 \/ 57\.0/);
    const csv = (await runs('kpis', '--days', '7', '--csv', '--kind', 'agent')).stdout.split('\r\n');
    assert.match(csv[0]!, /^provider,automation,scenario,mock,runs,/);
    assert.equal(csv.filter((l) => l.startsWith('tinyfish,')).length, 3, 'two groups and the overall row');
    assert.doesNotMatch((await runs('kpis', '--days', '7', '--csv')).stdout, /tinyfish/, 'the default CSV is the LLM table alone');
    assert.doesNotMatch((await runs('kpis', '--days', '7', '--provider', 'groq')).stdout, /Agent runs/, 'another provider has no agent runs');
  });

  test('list --provider tinyfish lists agent runs, failed meaning failed or timed out; show finds an agent run by run_id', async () => {
    const failed = JSON.parse((await runs('list', '--provider', 'tinyfish', '--outcome', 'failed', '--json')).stdout);
    assert.deepEqual(failed.map((r: { status: string }) => r.status), ['failed', 'timeout']);
    const mock = JSON.parse((await runs('list', '--kind', 'agent', '--model', MOCK_AUTOMATION, '--since', '5h', '--json')).stdout);
    assert.deepEqual(mock.map((r: { mock: boolean; automation: string }) => [r.automation, r.mock]), [[MOCK_AUTOMATION, true]]);
    const shown = await runs('show', failed[0].run_id);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^Agent run failed\n/);
    assert.match(shown.stdout, /error\s+TinyFish reported FAILED: <button> "Buy" & price not found/);
    assert.equal(JSON.parse((await runs('show', failed[0].run_id, '--json')).stdout).kind, 'agent');
    for (const args of [['list', '--kind', 'robots'], ['kpis', '--kind', 'agent', '--provider', 'groq'], ['list', '--outcome', 'timeout']]) {
      const r = await runs(...args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
  });

  test('site writes the status site into SITE_DIR and says where to open it', async () => {
    const r = await runs('site');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`open ${join(dir, 'site')}/index.html`));
    assert.ok(existsSync(join(dir, 'site', 'index.html')));
    // groq, together (two scenarios, one page), anthropic (failures only) and two mock models.
    assert.equal(readdirSync(join(dir, 'site', 'models')).length, 5);
  });
});

describe('bench-once and the status site', () => {
  test('a sweep rewrites the site after its results are stored', async () => {
    const path = join(dir, 'sweep.sqlite');
    const site = join(dir, 'sweep-site');
    const store = openSqliteStore(path);
    await store.insertModel(makeModel({ provider: 'mock', model_id: 'instant' }));
    await store.close();
    const r = await run('bench-once.ts', [], { LLM_BENCH_DB: path, SITE_DIR: site, RUNNER_NAME: 'test' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Status site: \d+ files/);
    const models = readdirSync(join(site, 'models'));
    assert.equal(models.length, 1);
    assert.match(models[0]!, /^mock--instant-[0-9a-f]{8}\.html$/);
  });
});

describe('runs.ts sweeps', () => {
  test('sweeps prints what each sweep recorded of itself, newest first, and --json the documents', async () => {
    const store = openSqliteStore(db);
    const started = new Date(Date.now() - 3_600_000);
    await store.insertBenchSweep({
      sweep_id: 'runs-script-sweep',
      started_at: started,
      finished_at: new Date(started.getTime() + 60_000),
      runner: 'clifford',
      host: 'clifford.example',
      calibration: { ttft_true_s: 0.1, ttft_measured_s: 0.1004, ttft_added_s: 0.0004, decode_true_tps: 100, decode_measured_tps: 99.8, decode_error_pct: -0.2, chunk_delay_p50_s: 0.0002, chunk_delay_max_s: 0.0011, error: null },
      connections: [{ provider: 'groq', origin: 'https://api.groq.com', dns_s: 0.004, connect_s: 0.021, tls_s: 0.032, first_byte_s: 0.06, error: null }],
    });
    await store.close();
    const table = await runs('sweeps', '--since', '2h');
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /clifford\s+clifford\.example\s+\+0\.40\s+-0\.20\s+1\.10\s+1\s+53 \(groq\)/);
    assert.match(table.stdout, /groq\s+https:\/\/api\.groq\.com\s+1\s+0\s+4\.0\s+21\.0\s+32\.0\s+60\.0\s+0/);
    const json = await runs('sweeps', '--json');
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout).map((s: { sweep_id: string }) => s.sweep_id), ['runs-script-sweep']);
    assert.equal((await runs('sweeps', 'extra')).code, 2);
  });
});
