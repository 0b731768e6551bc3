// Compact metric rows on SQLite (issue 28): a row read back equals what was written (bench rows,
// ingest rows, the upstream corpus, documents at the edges of the format), imported lines export
// byte for byte, a file of JSON rows from before answers the same before and after `store
// compact` (the command too), and dictionaries written by two processes at once stay consistent.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { collectHealthReport } from '../../lib/health/report.ts';
import { parseMetricPayload } from '../../lib/ingest/schema.ts';
import { loadConfig } from '../../lib/config.ts';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { collectionNames, exportCollections, importFile, importPlan } from '../../lib/store/exchange.ts';
import { compactFile } from '../../lib/store/sqlite/compact-file.ts';
import { decodeDoc, encodeDoc } from '../../lib/store/sqlite/connection.ts';
import { inWriteTransaction } from '../../lib/store/sqlite/metric-rows.ts';
import { codecOf } from '../../lib/store/sqlite/compact.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { BY_RUN_ID, openDatabase } from '../../lib/store/sqlite/schema.ts';
import type { Store } from '../../lib/store/store.ts';
import { readMetric } from '../../lib/store/upstream.ts';
import { makeError, makeMetric } from '../fixtures.ts';
import { createJsonRowsFile } from './json-rows-file.ts';
import { runScript } from '../scripts/run-script.ts';
import { buildUpstreamDb, writeMongoexport } from './upstream-db.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-compact-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const newPath = () => join(dir, `store-${files++}.sqlite`);

const NOW = new Date();
const HOUR = 3_600_000;
const ago = (h: number) => new Date(NOW.getTime() - h * HOUR);

/** A row as the bench writes it (lib/bench/measure.ts): gaps in whole microseconds, the rest full doubles. */
function benchRow(i: number, overrides: Partial<MetricDoc> = {}): MetricDoc {
  const ttft = 0.1 + (i % 7) / 13;
  const generate_time = ttft + 0.5 + (i % 5) / 17;
  return makeMetric({
    provider: ['groq', 'openai', 'anthropic'][i % 3]!,
    model_name: `model-${i % 4}`,
    run_ts: ago(i / 3),
    generate_time,
    tokens_per_second: 64 / generate_time,
    time_to_first_token: ttft,
    time_to_first_byte: ttft * 0.91,
    decode_tokens_per_second: 63 / (generate_time - ttft),
    times_between_tokens: Array.from({ length: 39 }, (_, k) => Math.round(((generate_time - ttft) / 39) * (0.5 + ((k * 7 + i) % 10) / 10) * 1e6) / 1e6),
    inter_chunk_ms: { p50: 12.345678901, p90: 20.1, p99: 31.000001, max: 33 },
    response_id: `chatcmpl-${i}x${(i * 7919).toString(36)}`,
    cost_usd: 0.0000405 + i * 1e-9,
    sweep_started_at: new Date(ago(i / 3).getTime() - 1234),
    served_model: i % 2 ? `model-${i % 4}` : `model-${i % 4}-2026-01-01`,
    rate_limit: { requests_limit: 1000, requests_remaining: 990 - i, tokens_limit: 200_000, tokens_remaining: 1000 + i, retry_after_s: null },
    runner: 'bench',
    ...overrides,
  });
}

/** What a reader gets for a written document: its JSON text read back (Dates as Dates). */
const asRead = <T>(doc: T): T => decodeDoc<T>(encodeDoc(doc));

function rowKinds(path: string, tables = ['metrics', 'metrics_probe']): Record<string, number> {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const out: Record<string, number> = {};
    for (const t of tables) {
      for (const r of db.prepare(`SELECT typeof(doc) AS k, count(*) AS n FROM ${t} GROUP BY 1`).all() as Array<{ k: string; n: number }>) out[`${t}:${r.k}`] = r.n;
    }
    return out;
  } finally {
    db.close();
  }
}

describe('compact metric rows', () => {
  test('bench rows are stored compact and read back equal to what was written, by every read', async () => {
    const path = newPath();
    const store = openSqliteStore(path);
    const docs = Array.from({ length: 30 }, (_, i) => benchRow(i, i === 5 ? { benchmark_profile_id: 'cloud-long-v1' } : {}));
    for (const d of docs) assert.equal(await store.insertMetric(d), 'stored');
    assert.equal(await store.insertMetric(docs[0]!), 'duplicate');
    assert.deepEqual(rowKinds(path), { 'metrics:blob': 29, 'metrics_probe:blob': 1 });
    for (const d of docs) {
      const run = await store.getRun(d.run_id);
      assert.ok(run?.outcome === 'ok');
      assert.deepEqual(run.metric, asRead(d));
    }
    const recent = await store.recentMetrics('groq', 'model-0', 10);
    assert.deepEqual(recent, docs.filter((d) => d.provider === 'groq' && d.model_name === 'model-0').map(asRead));
    const runs = await store.recentRuns({ limit: 100 });
    assert.equal(runs.length, 30);
    for (const r of runs) assert.deepEqual(r.outcome === 'ok' && r.metric, asRead(docs.find((d) => r.outcome === 'ok' && d.run_id === r.metric.run_id)!));
    await store.close();
  });

  test('documents at the edges of the format read back as their JSON text reads, or are kept as that text', async () => {
    const path = newPath();
    const store = openSqliteStore(path);
    const edges: Array<Partial<MetricDoc> & Record<string, unknown>> = [
      { times_between_tokens: [0.1234567891234, 1e-7, 3] },
      { times_between_tokens: [-0.5, 0, 0.25] },
      { times_between_tokens: [] },
      { times_between_tokens: [0.000001] },
      { temperature: -0, output_tokens: 2 ** 60, input_tokens: -7, total_tokens: Number.MAX_SAFE_INTEGER },
      { misc: { nested: { $date: '2026-01-02T03:04:05.678Z' }, list: [1, 'a', null, true, { b: [] }], text: 'ünïcødé ✓ \u0000 "quoted"' } },
      { misc: { notCanonical: { $date: '2026-01-02T03:04:05Z' } } },
      { misc: { 'a.b': 1, '': 2, '10': 3, '2': 4 } },
      { sweep_started_at: new Date('1969-07-20T20:17:40.000Z') },
      { response_id: 'x'.repeat(5000) },
      { time_to_first_token: 0, ttft_available: false },
      { evidence: { cache_hit: true } },
      { evidence: { saturated: true } },
    ];
    const docs = edges.map((e, i) => ({ ...benchRow(i), ...e }) as MetricDoc);
    for (const d of docs) await store.insertMetric(d);
    for (const d of docs) {
      const run = await store.getRun(d.run_id);
      assert.ok(run?.outcome === 'ok');
      // As readers see any row (readMetric: a TTFT of 0 without ttft_available is none).
      assert.deepEqual(run.metric, readMetric(asRead(d)), JSON.stringify(d.misc));
    }
    // The marked rows are listed (and left out of the KPIs), as the trigger listed them before.
    const marked = await store.markedRuns({ since: ago(100), until: NOW });
    assert.deepEqual(
      marked.map((m) => [m.provider, m.model_name, m.cache_hits, m.saturated]),
      [[docs[11]!.provider, docs[11]!.model_name, 1, 0], [docs[12]!.provider, docs[12]!.model_name, 0, 1]].sort(),
    );
    await store.close();
  });

  test('ingest rows (a remote runner, full-precision gaps) read back as parsed', async () => {
    const path = newPath();
    const store = openSqliteStore(path);
    const wire = JSON.parse(JSON.stringify({ ...benchRow(1), times_between_tokens: [0.0123456789, 0.02, 0.031234567891], runner: 'remote-1' }));
    const parsed = parseMetricPayload(wire, { now: NOW.getTime() });
    assert.ok(parsed.ok);
    await store.insertMetric(parsed.value);
    const run = await store.getRun(parsed.value.run_id);
    assert.ok(run?.outcome === 'ok');
    assert.deepEqual(run.metric, asRead(parsed.value));
    assert.deepEqual(rowKinds(path), { 'metrics:blob': 1 });
    await store.close();
  });

  test('a rolled-back write leaves no dictionary entry behind that a later row could name wrongly', async () => {
    const path = newPath();
    const store = openSqliteStore(path);
    const db = openDatabase(path);
    assert.throws(() =>
      inWriteTransaction(db, () => {
        codecOf(db).encode({ finish_reason: 'only-in-the-rolled-back-write' }, { values: ['x', 'p', 'm'], time: 0 }, '{"finish_reason":"only-in-the-rolled-back-write"}');
        throw new Error('stop');
      }),
    );
    // Another writer takes the next ids for other strings; this connection's next rows must not reuse what it rolled back.
    await store.insertMetric(benchRow(1, { finish_reason: 'other-writer' }));
    const mine = benchRow(2, { finish_reason: 'only-in-the-rolled-back-write' });
    db.close();
    const again = openSqliteStore(path);
    await again.insertMetric(mine);
    const run = await store.getRun(mine.run_id);
    assert.ok(run?.outcome === 'ok');
    assert.equal(run.metric.finish_reason, 'only-in-the-rolled-back-write');
    await again.close();
    await store.close();
  });

  test('two processes adding new strings and shapes at once: every row reads back as its writer wrote it', async () => {
    const path = newPath();
    openSqliteStore(path).close();
    const script = join(dir, 'writer.mts');
    writeFileSync(
      script,
      `import { openSqliteStore } from ${JSON.stringify(new URL('../../lib/store/sqlite/open.ts', import.meta.url).pathname)};
import { makeMetric } from ${JSON.stringify(new URL('../fixtures.ts', import.meta.url).pathname)};
const [path, tag] = process.argv.slice(2);
const store = openSqliteStore(path);
for (let i = 0; i < 300; i++) {
  await store.insertMetric(makeMetric({ provider: tag, model_name: 'm', run_id: tag + '-' + i, finish_reason: tag + '-' + (i % 37), misc: { [tag + (i % 11)]: i } }));
}
await store.close();
`,
    );
    const run = (tag: string) =>
      new Promise<string>((resolve) => {
        let stderr = '';
        const child = spawn(process.execPath, ['--import', 'tsx', script, path, tag], { stdio: ['ignore', 'ignore', 'pipe'] });
        child.stderr.on('data', (d) => (stderr += d));
        child.on('close', (code) => resolve(`exit ${code} ${stderr}`));
      });
    assert.deepEqual(await Promise.all([run('a'), run('b')]), ['exit 0 ', 'exit 0 ']);
    const store = openSqliteStore(path);
    for (const tag of ['a', 'b']) {
      const docs = await store.recentMetrics(tag, 'm', 1000);
      assert.equal(docs.length, 300);
      for (const d of docs) {
        const i = Number(d.run_id.split('-')[1]);
        assert.equal(d.finish_reason, `${tag}-${i % 37}`);
        assert.deepEqual(d.misc, { [`${tag}${i % 11}`]: i });
      }
    }
    await store.close();
  });
});

describe('compact rows: the reads stay on the indexes', () => {
  test("a group's KPI read, a model's time range, spend and failures read their covering index alone", async () => {
    const path = newPath();
    const store = openSqliteStore(path);
    await store.insertMetric(benchRow(1));
    await store.close();
    const db = openDatabase(path);
    const plan = (sql: string) => (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
    assert.match(
      plan(`SELECT count(kpi_collect(time_to_first_token, generate_time, tokens_per_second, decode_tps)), max(run_ts) FROM metrics INDEXED BY metrics_model_kpi
            WHERE provider = ? AND model_name = ? AND gid = ? AND run_ts >= ? AND run_ts < ?`),
      /^SEARCH metrics USING COVERING INDEX metrics_model_kpi \(provider=\? AND model_name=\? AND run_ts>\? AND run_ts<\?\)$/,
    );
    assert.match(plan('SELECT tokens_per_second, time_to_first_token FROM metrics WHERE provider = ? AND model_name = ? AND run_ts >= ? AND run_ts < ?'), /COVERING INDEX metrics_model_kpi/);
    assert.match(
      plan('SELECT g.provider, m.cost_usd FROM metrics m INDEXED BY metrics_spend JOIN metric_groups g ON g.gid = m.gid WHERE m.run_ts >= ? AND m.run_ts < ?'),
      /^SEARCH m USING COVERING INDEX metrics_spend .* \| SEARCH g USING INTEGER PRIMARY KEY/,
    );
    assert.match(plan("SELECT provider, model_name, scenario, error_kind FROM errors INDEXED BY errors_kpi_kind WHERE ts >= ? AND ts < ? AND error_kind != 'aborted'"), /COVERING INDEX errors_kpi_kind/);
    // A run found by its id (getRun, and every insert's look for a duplicate) through the index on the key's last bytes.
    for (const t of ['metrics', 'metrics_probe', 'errors']) assert.match(plan(`SELECT doc FROM ${t} WHERE ${BY_RUN_ID}`), new RegExp(`^SEARCH ${t} USING INDEX ${t}_run_id`));
    db.close();
  });
});

describe('imported history on compact rows', () => {
  test('the upstream corpus imports as compact rows (metrics and errors) and exports back byte for byte', async () => {
    const src = join(dir, 'corpus');
    const out = join(dir, 'corpus-out');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(src);
    await writeMongoexport(buildUpstreamDb(NOW), src);
    const path = newPath();
    const store = openSqliteStore(path);
    const names = collectionNames(loadConfig({ env: {}, dotenvPath: false }).store.collections);
    for (const { file, collection } of importPlan(src, names).files) await importFile(store, file, collection);
    const kinds = rowKinds(path, ['metrics', 'metrics_probe', 'errors']);
    assert.ok(kinds['metrics:blob']! > 1000 && !kinds['metrics:text'], JSON.stringify(kinds));
    assert.ok(kinds['metrics_probe:blob']! > 50 && !kinds['metrics_probe:text'], JSON.stringify(kinds));
    assert.ok(kinds['errors:blob']! > 10 && !kinds['errors:text'], JSON.stringify(kinds));
    await exportCollections(store, out, names);
    for (const f of ['metrics_cloud_v2.json', 'metrics_cloud_probe.json', 'errors_cloud.json']) assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(src, f), 'utf8'), f);
    await store.close();
  });
});

describe('a file of JSON rows from before compact rows', () => {
  /** What the readers answer, every read over metric rows the report, KPIs, runs and rollups make. */
  async function answers(store: Store) {
    const w = { since: ago(24 * 8), until: NOW };
    const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
    return {
      // Everything but the file's size, which compacting changes.
      report: JSON.parse(JSON.stringify({ ...report, storage: null })),
      kpis: await store.metricKpis(w),
      points: await store.metricPoints(w),
      runs: await store.recentRuns({ limit: 1000 }),
      scenarioRuns: await store.recentRuns({ limit: 1000, scenario: 'cloud-long-v1' }),
      one: await store.getRun('3f2c1d9e-0000-4000-8000-000000000007'),
      oneError: await store.getRun('3f2c1d9e-0000-4000-9000-000000000003'),
      errors: await store.recentErrors('groq', 'model-1', 10),
      fingerprints: await store.newFingerprints(w),
      failures: await store.errorsByModel(w),
      last: await store.lastSuccesses(),
      lastProbe: await store.lastSuccessesIn({ collection: 'probe' }),
      dueness: await store.lastScenarioSuccesses(ago(24 * 30)),
      served: await store.servedModels(w),
      nearLimit: await store.nearLimit(w, 0.99),
      marked: await store.markedRuns(w),
      spend: await store.spendByModel(w),
      samples: await store.metricSamples(w),
      medians: await store.dailyMedians(w),
      activity: await store.modelActivity(ago(24)),
    };
  }

  test('answers the same as JSON rows, compacted by `store compact` (ids and export kept), and after it', async () => {
    const path = newPath();
    createJsonRowsFile(path);
    const store = openSqliteStore(path);
    for (let i = 0; i < 60; i++) {
      const overrides: Partial<MetricDoc> = {
        run_id: `3f2c1d9e-0000-4000-8000-${String(i).padStart(12, '0')}`,
        ...(i % 10 === 3 ? { benchmark_profile_id: 'cloud-long-v1' } : {}),
        ...(i % 17 === 4 ? { evidence: { cache_hit: true } } : {}),
      };
      await store.insertMetric(benchRow(i, overrides));
    }
    for (let i = 0; i < 10; i++) {
      const error = makeError({ provider: 'groq', model_name: `model-${i % 4}`, ts: ago(i), run_id: `3f2c1d9e-0000-4000-9000-${String(i).padStart(12, '0')}` });
      await store.insertError({ ...error, ...(i === 2 ? { benchmark_profile_id: 'cloud-long-v1' } : {}), ...(i === 4 ? { rate_limit: { requests_limit: 100, requests_remaining: 0, tokens_limit: null, tokens_remaining: null, retry_after_s: 3 } } : {}) });
    }
    await store.rebuildRollups({ since: ago(24 * 10), until: NOW }, NOW);
    const exported = join(dir, 'json-rows-export');
    const names = collectionNames(loadConfig({ env: {}, dotenvPath: false }).store.collections);
    await exportCollections(store, exported, names);
    const before = await answers(store);
    await store.close();
    // Each read has something to compare.
    for (const k of ['points', 'runs', 'scenarioRuns', 'last', 'lastProbe', 'dueness', 'served', 'nearLimit', 'marked', 'spend', 'samples', 'medians', 'activity', 'errors', 'fingerprints', 'failures'] as const) {
      assert.ok((before[k] as unknown[]).length > 0, k);
    }
    assert.ok(before.one && before.oneError && before.kpis.models.some((m) => m.scenario === 'cloud-long-v1' && m.failures === 1));
    // Opened by the new code, nothing was rewritten: the rows are still JSON text.
    const all = ['metrics', 'metrics_probe', 'errors'];
    assert.deepEqual(rowKinds(path, all), { 'metrics:text': 54, 'metrics_probe:text': 6, 'errors:text': 10 });
    const r = compactFile(path);
    assert.deepEqual(r.tables.map((t) => [t.table, t.rows, t.compact]), [['metrics', 54, 54], ['metrics_probe', 6, 6], ['errors', 10, 10]]);
    assert.deepEqual(rowKinds(path, all), { 'metrics:blob': 54, 'metrics_probe:blob': 6, 'errors:blob': 10 });
    const compacted = openSqliteStore(path);
    assert.deepEqual(await answers(compacted), before);
    const again = join(dir, 'compact-export');
    await exportCollections(compacted, again, names);
    for (const f of readdirSync(exported)) assert.equal(readFileSync(join(again, f), 'utf8'), readFileSync(join(exported, f), 'utf8'), f);
    // New rows go in compact; a second compact has nothing to convert.
    await compacted.insertMetric(benchRow(100));
    await compacted.close();
    assert.deepEqual(compactFile(path, { vacuum: false }).tables, []);
    assert.deepEqual(rowKinds(path, all), { 'metrics:blob': 55, 'metrics_probe:blob': 6, 'errors:blob': 10 });
  });

  test('a process that had the file open when another compacted it writes compact rows next', async () => {
    const path = newPath();
    createJsonRowsFile(path);
    const store = openSqliteStore(path);
    await store.insertMetric(benchRow(1));
    await store.insertError(makeError());
    compactFile(path, { vacuum: false });
    const later = benchRow(2);
    assert.equal(await store.insertMetric(later), 'stored');
    assert.equal(await store.insertError(makeError()), 'stored');
    assert.deepEqual(rowKinds(path, ['metrics', 'errors']), { 'metrics:blob': 2, 'errors:blob': 2 });
    const run = await store.getRun(later.run_id);
    assert.deepEqual(run?.outcome === 'ok' && run.metric, asRead(later));
    await store.close();
  });
});

describe('npm run store -- compact', () => {
  test('converts a file of JSON rows, says what it did and the sizes, and has nothing to do the second time; MongoDB is refused', async () => {
    const path = newPath();
    createJsonRowsFile(path);
    const store = openSqliteStore(path);
    for (let i = 0; i < 20; i++) await store.insertMetric(benchRow(i));
    await store.insertError(makeError());
    await store.close();
    const env = { PATH: process.env.PATH ?? '', LLM_BENCH_DB: join(dir, 'unused.sqlite') };
    const first = await runScript('store.ts', ['compact', '--sqlite', path], { cwd: dir, env });
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^metrics: 20 rows converted to compact rows\nmetrics_probe: 0 rows converted to compact rows\nerrors: 1 row converted to compact rows\n.*: [\d.]+ MB before, [\d.]+ MB after\n$/);
    assert.deepEqual(rowKinds(path, ['metrics', 'errors']), { 'metrics:blob': 20, 'errors:blob': 1 });
    const second = await runScript('store.ts', ['compact', '--sqlite', path, '--no-vacuum'], { cwd: dir, env });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /every metric and error row is already compact\n.*\(not vacuumed/);
    const mongo = await runScript('store.ts', ['compact', '--mongodb-uri', 'mongodb://127.0.0.1:1'], { cwd: dir, env });
    assert.equal(mongo.code, 2);
    assert.match(mongo.stderr, /compact is for the SQLite store/);
  });
});
