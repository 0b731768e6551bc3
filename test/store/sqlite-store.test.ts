import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DatabaseSync } from 'node:sqlite';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeAgentRun, makeError, makeMetric } from '../fixtures.ts';
import { storeContract } from './contract/store.ts';
import { createJsonRowsFile } from './json-rows-file.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));

storeContract('sqlite', async () => openSqliteStore(join(dir, 'contract.sqlite')));

// A child process that inserts N metrics into the file, one transaction each.
const WRITER = `
import { openSqliteStore } from ${JSON.stringify(new URL('../../lib/store/sqlite/open.ts', import.meta.url).pathname)};
import { makeMetric } from ${JSON.stringify(new URL('../fixtures.ts', import.meta.url).pathname)};
const [path, n, tag, paused] = process.argv.slice(2);
const store = openSqliteStore(path);
if (paused) await store.pauseCheckpoints();
for (let i = 0; i < Number(n); i++) {
  await store.insertMetric(makeMetric({ provider: tag, model_name: 'm' + (i % 10), run_id: tag + '-' + i }));
  if (i === 50) process.stdout.write('started\\n');
}
await store.close();
`;

function runWriter(path: string, n: number, tag: string, o: { paused?: boolean } = {}) {
  const script = join(dir, 'writer.mts');
  writeFileSync(script, WRITER);
  return spawn(process.execPath, ['--import', 'tsx', script, path, String(n), tag, ...(o.paused ? ['paused'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
}

function exited(child: ReturnType<typeof spawn>): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal, stderr })));
}

describe('sqlite store with several processes', () => {
  test('two processes inserting 2,000 metrics each at once end with exactly 4,000 rows and no error', async () => {
    const path = join(dir, 'concurrent.sqlite');
    openSqliteStore(path).close();
    const results = await Promise.all([exited(runWriter(path, 2000, 'p1')), exited(runWriter(path, 2000, 'p2'))]);
    for (const r of results) assert.deepEqual([r.code, r.stderr], [0, '']);
    const store = openSqliteStore(path);
    assert.equal(await store.countMetrics(), 4000);
    assert.equal(await store.countMetrics({ provider: 'p1' }), 2000);
    await store.close();
  });

  for (const paused of [false, true]) test(`a writer killed with SIGKILL mid-way leaves every row it had committed readable${paused ? ', its checkpoints paused as in a sweep' : ''}`, async () => {
    const path = join(dir, `killed${paused ? '-paused' : ''}.sqlite`);
    openSqliteStore(path).close();
    const child = runWriter(path, 1_000_000, 'k', { paused });
    const done = exited(child);
    await new Promise<void>((resolve) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGKILL');
    assert.equal((await done).signal, 'SIGKILL');
    const store = openSqliteStore(path);
    const n = await store.countMetrics({ provider: 'k' });
    assert.ok(n > 50, `expected the rows written before the kill, got ${n}`);
    // Rows are numbered in order: every one up to the count is there and reads back whole.
    for (const model of ['m0', 'm5', 'm9']) {
      const rows = await store.recentMetrics('k', model, 1_000_000);
      assert.ok(rows.length > 0 && rows.every((r) => r.run_ts instanceof Date && typeof r.tokens_per_second === 'number'));
    }
    const ids = new Set<string>();
    for (let m = 0; m < 10; m++) for (const r of await store.recentMetrics('k', `m${m}`, 1_000_000)) ids.add(r.run_id);
    assert.equal(ids.size, n);
    for (let i = 0; i < n; i++) assert.ok(ids.has(`k-${i}`), `row k-${i} missing`);
    await store.close();
  });

  test('a file that is not a database is refused with a message naming it', () => {
    const path = join(dir, 'not-a-db.sqlite');
    writeFileSync(path, 'this is not sqlite '.repeat(100));
    assert.throws(() => openSqliteStore(path), (err: Error) => err.name === 'StoreError' && err.message.includes(path));
  });
});

describe("sqlite store checkpoints held off while a sweep's calls stream", () => {
  // What the file itself holds, without its write-ahead log: a copy of it alone, as SQLite reads it.
  const rowsInFileAlone = (path: string) => {
    const copy = `${path}.alone`;
    copyFileSync(path, copy);
    const db = new DatabaseSync(copy, { readOnly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS n FROM metrics').get() as { n: number }).n;
    } finally {
      db.close();
      rmSync(copy);
    }
  };
  // Commits until the log holds `pages` pages (frames of a 24-byte header and a new file's 16 KB
  // page, after the log's 32-byte header): past 1,000, a commit copies it back into the file.
  const writeLog = async (store: ReturnType<typeof openSqliteStore>, path: string, tag: string, pages: number) => {
    let n = 0;
    // (A log copied back is written again from its start and no longer grows: stop there too.)
    while (statSync(`${path}-wal`).size < 32 + pages * (24 + 16_384) && n < 2000) {
      await store.insertMetric(makeMetric({ provider: tag, model_name: `m${n % 10}`, run_id: `${tag}-${n}` }));
      n++;
    }
    return n;
  };

  test('paused, no commit copies the log back into the file, however long it grows; resumed, one checkpoint does', async () => {
    const path = join(dir, 'checkpoints.sqlite');
    const store = openSqliteStore(path);
    await store.resumeCheckpoints!(); // the schema in the file itself
    await store.pauseCheckpoints!();
    const n = await writeLog(store, path, 'held', 1500);
    assert.equal(await store.countMetrics(), n);
    assert.equal(rowsInFileAlone(path), 0, `${n} rows committed, none copied into the file`);
    await store.resumeCheckpoints!();
    assert.equal(rowsInFileAlone(path), n);
    await store.close();
  });

  test('not paused, SQLite copies the log back on its own once it passes 1,000 pages (what the pause holds off)', async () => {
    const path = join(dir, 'auto-checkpoints.sqlite');
    const store = openSqliteStore(path);
    await store.resumeCheckpoints!();
    const n = await writeLog(store, path, 'auto', 1000);
    assert.ok(rowsInFileAlone(path) > 0, `${n} rows committed`);
    await store.close();
  });
});

describe('sqlite store files from before cost_usd (SPEC 17)', () => {
  test('an older file gains the cost_usd column on open; its rows count as unpriced, new rows as priced', async () => {
    const path = join(dir, 'before-cost.sqlite');
    // The metrics table as it was before the column (no cost_usd), with one row.
    const old = new DatabaseSync(path);
    old.exec(`CREATE TABLE metrics (id INTEGER PRIMARY KEY, run_id TEXT NOT NULL UNIQUE, provider TEXT NOT NULL, model_name TEXT NOT NULL,
      run_ts INTEGER NOT NULL, tokens_per_second REAL, time_to_first_token REAL, doc TEXT NOT NULL)`);
    const ts = Date.parse('2026-11-20T10:00:00Z');
    old.prepare('INSERT INTO metrics (run_id, provider, model_name, run_ts, doc) VALUES (?, ?, ?, ?, ?)').run('old-1', 'groq', 'm', ts, '{}');
    old.close();

    const store = openSqliteStore(path);
    await store.insertMetric({ ...makeMetric({ provider: 'groq', model_name: 'm', run_ts: new Date(ts + 1000) }), cost_usd: 0.5 });
    // A second process opening the migrated file changes nothing.
    const again = openSqliteStore(path);
    await again.close();
    assert.deepEqual(await store.spendByDay({ since: new Date('2026-11-20T00:00:00Z'), until: new Date('2026-11-21T00:00:00Z') }), [
      { provider: 'groq', day: '2026-11-20', cost_usd: 0.5, priced_calls: 1, unpriced_calls: 1 },
    ]);
    await store.close();
  });
});

describe('sqlite store files from before the saturated mark (SPEC 18)', () => {
  test('a file whose trigger knew only cache_hit gets the trigger of every mark on open: a saturated row is left out of the KPIs', async () => {
    const path = join(dir, 'before-saturated.sqlite');
    // A file of JSON rows (from before compact rows, whose tables mark rows in code, not by trigger).
    createJsonRowsFile(path);
    const first = openSqliteStore(path);
    await first.close();
    // The file as the cache check left it: its one trigger marks cache hits alone.
    const old = new DatabaseSync(path);
    for (const t of ['metrics', 'metrics_probe']) {
      const mine = (old.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND name LIKE '%marked_by%'`).all(t) as Array<{ name: string }>);
      for (const { name } of mine) old.exec(`DROP TRIGGER "${name}"`);
      old.exec(`CREATE TRIGGER ${t}_marked AFTER INSERT ON ${t} WHEN json_extract(NEW.doc, '$.evidence.cache_hit') = 1
        BEGIN INSERT OR IGNORE INTO metrics_marked VALUES ('${t}', NEW.id); END;`);
    }
    old.close();

    const store = openSqliteStore(path);
    const ts = Date.now() - 60_000;
    await store.insertMetric({ ...makeMetric({ provider: 'groq', model_name: 'm', run_ts: new Date(ts), tokens_per_second: 10 }), client_lag_ms: 0.5 });
    await store.insertMetric({ ...makeMetric({ provider: 'groq', model_name: 'm', run_ts: new Date(ts + 1), tokens_per_second: 9000 }), client_lag_ms: 30, evidence: { saturated: true } });
    const w = { since: new Date(ts - 1000), until: new Date() };
    const { overall } = await store.metricKpis(w, { provider: 'groq' });
    assert.deepEqual([overall.successes, overall.tokens_per_second.p50], [1, 10]);
    await store.close();
    const check = new DatabaseSync(path, { readOnly: true });
    const triggers = (check.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'metrics%marked%' ORDER BY name`).all() as Array<{ name: string }>).map((r) => r.name);
    check.close();
    assert.deepEqual(triggers, [
      'metrics_marked_by_cache_hit_saturated',
      'metrics_marked_gone',
      'metrics_probe_marked_by_cache_hit_saturated',
      'metrics_probe_marked_gone',
    ]);
  });
});

// ---- KPIs (SPEC 16) ----
describe('sqlite KPI indexes', () => {
  test('a file written before the KPI indexes gains them, built from the stored documents, and they cover the KPI reads', async () => {
    const path = join(dir, 'before-kpi.sqlite');
    createJsonRowsFile(path);
    const store = openSqliteStore(path);
    await store.insertMetric(makeMetric({ provider: 'old', model_name: 'm', generate_time: 2, decode_tokens_per_second: 40, benchmark_profile_id: 'cloud-long-v1' }));
    await store.insertError(makeError({ provider: 'old', model_name: 'm' }));
    await store.close();
    const db = new DatabaseSync(path);
    db.exec('DROP INDEX metrics_kpi; DROP INDEX errors_kpi_kind');
    db.close();

    const reopened = openSqliteStore(path);
    const w = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };
    const { models } = await reopened.metricKpis(w, { provider: 'old' });
    assert.deepEqual(
      models.map((r) => [r.scenario, r.successes, r.failures, r.total_time.p50, r.decode_tokens_per_second.p50]),
      [
        ['cloud-default-v1', 0, 1, null, null],
        ['cloud-long-v1', 1, 0, 2, 40],
      ],
    );
    await reopened.close();
    // The per-group read is answered from the index alone, never from the documents.
    const check = new DatabaseSync(path);
    check.function('kpi_collect', (_a: unknown, _b: unknown, _c: unknown, _d: unknown) => 1);
    const plan = check
      .prepare(
        `EXPLAIN QUERY PLAN SELECT count(kpi_collect(time_to_first_token, json_extract(doc, '$.generate_time'), tokens_per_second, json_extract(doc, '$.decode_tokens_per_second'))), max(run_ts)
         FROM metrics INDEXED BY metrics_kpi WHERE provider = ? AND model_name = ? AND ifnull(json_extract(doc, '$.benchmark_profile_id'), 'cloud-default-v1') = ? AND run_ts >= ? AND run_ts < ?`,
      )
      .all('p', 'm', 's', 0, 1)
      .map((r) => r.detail);
    check.close();
    assert.deepEqual(plan.length, 1);
    assert.match(String(plan[0]), /USING COVERING INDEX metrics_kpi/);
  });
});

describe('sqlite agent-run KPIs', () => {
  test('simulated runs (only SQLite keeps them) are a group of their own, and a filter picks either', async () => {
    const store = openSqliteStore(':memory:');
    const t = new Date('2026-11-20T10:00:00Z');
    await store.insertAgentRun(makeAgentRun({ automation: 'a', scenario_id: 's', started_at: t, total_duration_ms: 40_000 }));
    await store.insertAgentRun(makeAgentRun({ automation: 'a', scenario_id: 's', started_at: t, total_duration_ms: 2_000, mock: true }));
    const w = { since: new Date('2026-11-20T00:00:00Z'), until: new Date('2026-11-21T00:00:00Z') };
    const { groups, overall } = await store.agentRunKpis(w);
    assert.deepEqual(groups.map((g) => [g.automation, g.mock, g.runs, g.total_duration_ms.p50]), [['a', false, 1, 40_000], ['a', true, 1, 2_000]]);
    assert.equal(overall.mock, true);
    assert.equal((await store.agentRunKpis(w, { mock: false })).overall.total_duration_ms.p50, 40_000);
    assert.equal((await store.agentRunKpis(w, { mock: true })).overall.mock, true);
    await store.close();
  });
});
