// Moving history (SPEC 4.0): every collection out of either backend as mongoexport's Extended
// JSON lines and into the other, idempotent, resumable, and refusing bad lines by file:line.
// MongoDB runs as the mingo stand-in, whose bulkWrite stores what the driver would (BSON encoded
// and decoded); what is compared is the documents, never a mingo aggregation.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BSON } from 'mongodb';
import { loadConfig } from '../../lib/config.ts';
import { collectionNames, exportCollections, importFile, importPlan, readLines } from '../../lib/store/exchange.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { readMetric } from '../../lib/store/upstream.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { EXCHANGE_COLLECTIONS, type BadLine } from '../../lib/store/exchange-store.ts';
import type { Store } from '../../lib/store/store.ts';
import { mingoCollections, type MingoCollection } from '../fakes/mingo-collection.ts';
import { seededRandom } from '../fakes/random.ts';
import { makeAgentRun, makeError, makeMetric, makeModel, makeScenario } from '../fixtures.ts';
import { upstreamErrorLine, upstreamMetricLine } from './exchange-fixtures.ts';
import { buildUpstreamDb, writeMongoexport } from './upstream-db.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-exchange-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (name: string) => join(dir, `${name}-${++n}`);

const config = loadConfig({ env: {}, dotenvPath: false });
const NAMES = collectionNames(config.store.collections);

interface Backend {
  name: 'sqlite' | 'mongodb';
  open(): Promise<{ store: Store; mongo?: ReturnType<typeof mingoCollections>; sqlitePath?: string }>;
}
const BACKENDS: Backend[] = [
  {
    name: 'sqlite',
    open: async () => {
      const sqlitePath = `${fresh('store')}.sqlite`;
      return { store: openSqliteStore(sqlitePath), sqlitePath };
    },
  },
  {
    name: 'mongodb',
    open: async () => {
      const mongo = mingoCollections();
      return { store: await createMongoStore(mongo, { location: 'memory' }), mongo };
    },
  },
];

const NOW = Date.now();
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A mongoexport file of upstream metric rows (no run_id), oldest first. */
function upstreamMetricsFile(count: number, seed = 7): { path: string; text: string } {
  const random = seededRandom(seed);
  const lines = Array.from({ length: count }, (_, i) => upstreamMetricLine(i, NOW - (count - i) * HOUR + (i % 3) * 7, random));
  const folder = fresh('upstream');
  mkdirSync(folder);
  const path = join(folder, 'metrics_cloud_v2.json');
  const text = `${lines.join('\n')}\n`;
  writeFileSync(path, text);
  return { path, text };
}

/** One or more documents of every collection, written through the store's own writers. */
async function fillThroughWriters(store: Store): Promise<void> {
  const t = (h: number) => new Date(NOW - h * HOUR);
  await store.insertModel(makeModel({ provider: 'groq', model_id: 'llama-3.3-70b-versatile', created_at: t(100) }));
  await store.insertModel(makeModel({ provider: 'openai', model_id: 'gpt-4o-mini', enabled: false, created_at: t(90) }));
  for (let i = 0; i < 5; i++) await store.insertMetric(makeMetric({ run_ts: t(10 - i), cost_usd: i === 0 ? null : 0.0001 * i }));
  await store.insertMetric(makeMetric({ run_ts: t(3), benchmark_profile_id: 'cloud-long-v1' }));
  await store.insertError(makeError({ ts: t(2) }));
  await store.insertError(makeError({ ts: t(1), provider: 'openai', model_name: 'gpt-4o-mini' }));
  await store.insertScenario(makeScenario({ created_at: t(200), updated_at: t(150) }));
  await store.insertAgentRun(makeAgentRun({ started_at: t(4) }));
  await store.upsertProviderCatalog([{ provider: 'groq', model_id: 'llama-3.3-70b-versatile', name: 'Llama 3.3 70B', raw: { owned_by: 'Meta', context_window: 131072 } }], t(50));
  await store.upsertOpenRouterCatalog(
    [{ openrouter_id: 'meta-llama/llama-3.3-70b-instruct', name: 'Llama 3.3 70B', org: 'meta-llama', pricing: { prompt: 1.2e-7, completion: 3e-7 }, context_length: 131072, created: t(3000) }],
    t(50),
  );
  await store.upsertModelHealth([
    {
      provider: 'groq',
      model_id: 'llama-3.3-70b-versatile',
      enabled: true,
      cadence_seconds: 1800,
      last_success_at: t(1),
      last_attempt_at: t(1),
      last_error_at: null,
      last_error_kind: null,
      consecutive_failures: 0,
      successes_24h: 5,
      failures_24h: 0,
      staleness_seconds: 3600,
      freshness_status: 'fresh',
      updated_at: t(1),
    },
  ]);
  await store.insertSweepSkip({ provider: 'openai', model_id: 'gpt-4o-mini', scenario_id: 'cloud-default-v1', reason: 'over budget', skipped_at: t(5), sweep_started_at: t(5), runner: 'test', daily_budget_usd: 1 });
}

/** The documents of an export directory per collection, _id aside, as sorted canonical JSON (field order aside). */
function documentsOf(folder: string): Record<string, string[]> {
  const canonical = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canonical)
      : v && typeof v === 'object' && !(v instanceof Date)
        ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]))
        : v;
  const out: Record<string, string[]> = {};
  for (const c of EXCHANGE_COLLECTIONS) {
    const lines = readFileSync(join(folder, `${NAMES[c]}.json`), 'utf8').split('\n').filter(Boolean);
    out[c] = lines
      .map((l) => {
        const { _id, ...doc } = BSON.EJSON.parse(l, { relaxed: true }) as Record<string, unknown>;
        return JSON.stringify(canonical(doc));
      })
      .sort();
  }
  return out;
}

async function importDir(store: Store, folder: string, o: { batchSize?: number } = {}) {
  const bad: BadLine[] = [];
  const results = [];
  for (const { file, collection } of importPlan(folder, NAMES).files) {
    results.push(await importFile(store, file, collection, { ...o, onBadLine: (_f, b) => bad.push(b) }));
  }
  return { added: results.reduce((s, r) => s + r.added, 0), present: results.reduce((s, r) => s + r.present, 0), bad, results };
}

for (const backend of BACKENDS) {
  describe(`moving history: ${backend.name}`, () => {
    test('a mongoexport file imported and exported again comes back byte for byte', async () => {
      const { path, text } = upstreamMetricsFile(250);
      const { store } = await backend.open();
      try {
        const r = await importFile(store, path, 'metrics', { batchSize: 64 });
        assert.deepEqual([r.lines, r.added, r.present, r.bad], [250, 250, 0, 0]);
        const out = fresh('out');
        await exportCollections(store, out, NAMES, ['metrics']);
        assert.equal(readFileSync(join(out, 'metrics_cloud_v2.json'), 'utf8'), text);
      } finally {
        await store.close();
      }
    });

    test('upstream rows without run_id read back through the store like rows it wrote: Dates, newest first, counted', async () => {
      const { path } = upstreamMetricsFile(120);
      const errors = join(fresh('errors'), 'errors_cloud.json');
      mkdirSync(join(errors, '..'));
      writeFileSync(errors, `${Array.from({ length: 30 }, (_, i) => upstreamErrorLine(i, NOW - (30 - i) * HOUR)).join('\n')}\n`);
      const { store } = await backend.open();
      try {
        await importFile(store, path, 'metrics');
        assert.equal((await importFile(store, errors, 'errors')).added, 30);
        assert.equal(await store.countMetrics(), 120);
        assert.equal(await store.countMetrics({ provider: 'anthropic' }), 20);
        const recent = await store.recentMetrics('anthropic', 'claude-3-5-haiku-20241022', 3);
        assert.equal(recent.length, 3);
        for (const m of recent) {
          assert.ok(m.run_ts instanceof Date && m.gen_ts instanceof Date, 'dates come back as Dates');
          assert.equal(typeof m.tokens_per_second, 'number');
        }
        assert.ok(recent[0]!.run_ts > recent[1]!.run_ts && recent[1]!.run_ts > recent[2]!.run_ts);
        // The newest anthropic row is line 115 (i = 114: every sixth row is anthropic), read by
        // SPEC 4.0's rules like the same document stored by MongoDB: known by its _id.
        const expected = BSON.EJSON.parse(readFileSync(path, 'utf8').split('\n')[114]!, { relaxed: true }) as Record<string, unknown>;
        const { _id: id, ...want } = expected;
        const { _id: _b, ...got } = recent[0] as unknown as Record<string, unknown>;
        const hex = (id as { toHexString(): string }).toHexString();
        assert.deepEqual(got, readMetric({ ...want, run_id: hex }));
        const run = await store.getRun(hex);
        assert.equal(run?.outcome === 'ok' && run.metric.run_ts.getTime(), (want.run_ts as Date).getTime(), 'the row is found by its _id');
        assert.equal(await store.countErrors(), 30);
        const [e] = await store.recentErrors('openai', 'gpt-4o-mini', 1);
        assert.match(e!.message, /^RateLimitError: Error code: 429/);
        assert.ok(e!.ts instanceof Date);
      } finally {
        await store.close();
      }
    });

    test('the upstream corpus as mongoexport writes it imports whole and exports back byte for byte, file by file', async () => {
      const db = buildUpstreamDb(new Date(NOW));
      const dump = fresh('corpus');
      mkdirSync(dump);
      await writeMongoexport(db, dump);
      const { store } = await backend.open();
      try {
        const r = await importDir(store, dump, { batchSize: 100 });
        const total = db.models.length + db.metrics.length + db.probe.length + db.errors.length + db.provider_catalog.length + db.openrouter_catalog.length;
        assert.deepEqual([r.added, r.present, r.bad], [total, 0, []]);
        assert.equal((await store.listModels()).length, db.models.length);
        assert.equal(await store.countMetricsIn({ collection: 'probe' }), db.probe.length);
        const out = fresh('out');
        await exportCollections(store, out, NAMES);
        for (const f of readdirSync(dump)) assert.equal(readFileSync(join(out, f), 'utf8'), readFileSync(join(dump, f), 'utf8'), f);
      } finally {
        await store.close();
      }
    });

    test("January rows' TTFT 0 (no visible token, no ttft_available) is read as none, as in the readers' rules", async () => {
      const folder = fresh('jan');
      mkdirSync(folder);
      const file = join(folder, 'metrics_cloud_v2.json');
      const row = (i: number, ttft: number) =>
        `{"_id":{"$oid":"${(0x5f1d7f2e00 + i).toString(16)}00000000000000"},"run_ts":{"$date":"${new Date(NOW - (i + 1) * HOUR).toISOString()}"},"model_name":"o4-mini","temperature":0.1,"provider":"openai","tokens_per_second":${40 + i},"time_to_first_token":${ttft},"times_between_tokens":[]}`;
      writeFileSync(file, [row(0, 0), row(1, 0), row(2, 0.5)].join('\n'));
      const { store } = await backend.open();
      try {
        assert.equal((await importFile(store, file, 'metrics')).added, 3);
        const [samples] = await store.metricSamples({ since: new Date(NOW - DAY), until: new Date(NOW) });
        assert.deepEqual(samples!.time_to_first_token, [0.5]);
        assert.equal(samples!.tokens_per_second.length, 3);
      } finally {
        await store.close();
      }
    });

    test('a second import adds nothing, and never overwrites what the store holds', async () => {
      const { store: source } = await backend.open();
      const { store: target } = await backend.open();
      try {
        await fillThroughWriters(source);
        const out = fresh('out');
        await exportCollections(source, out, NAMES);
        const first = await importDir(target, out);
        assert.deepEqual([first.added, first.present, first.bad.length], [16, 0, 0]);
        await target.updateModel('groq', 'llama-3.3-70b-versatile', { enabled: false, disabled_reason: 'changed in the target' });
        const second = await importDir(target, out);
        assert.deepEqual([second.added, second.present, second.bad.length], [0, 16, 0]);
        assert.equal((await target.getModel('groq', 'llama-3.3-70b-versatile'))!.disabled_reason, 'changed in the target');
        // Back into the store it came from: nothing new either.
        assert.equal((await importDir(source, out)).added, 0);
      } finally {
        await source.close();
        await target.close();
      }
    });

    test('bad lines are reported by line and what is wrong, the rest imported, nothing damaged stored', async () => {
      const random = seededRandom(3);
      const good = (i: number) => upstreamMetricLine(i, NOW - (20 - i) * HOUR, random);
      const lines = [
        good(0),
        'not json at all',
        '{"_id":{"$oid":"5f1d7f2e9c3b2a00123456ff"},"model_name":"m","run_ts":{"$date":"2026-05-07T14:00:03Z"}}',
        '{"provider":"openai","model_name":"m","run_ts":"2026-05-07 14:00:03"}',
        good(4),
        '',
        '{"provider":"openai","model_name":"m","run_ts":{"$date":"2026-05-07T14:00:03Z"},"tokens_per_second":"fast"}',
        '[{"provider":"openai"}]',
        '{"provider":"mock","model_name":"fast","run_id":"mock-1","run_ts":{"$date":"2026-05-07T14:00:03Z"},"tokens_per_second":50,"mock":true}',
        good(9),
      ];
      const folder = fresh('bad');
      mkdirSync(folder);
      const file = join(folder, 'metrics_cloud_v2.json');
      writeFileSync(file, lines.join('\n'));
      const { store } = await backend.open();
      try {
        const bad: BadLine[] = [];
        const r = await importFile(store, file, 'metrics', { batchSize: 3, onBadLine: (_f, b) => bad.push(b) });
        const expected: Array<[number, RegExp]> = [
          [2, /^not JSON \(Unexpected token/],
          [3, /^missing provider$/],
          [4, /^run_ts is not a date \(got "2026-05-07 14:00:03"\)$/],
          [7, /^tokens_per_second is not a number \(got "fast"\)$/],
          [8, /^a JSON array, not one document per line/],
        ];
        // Simulated rows never go to MongoDB (SPEC 4.1), from an import as from anywhere.
        if (backend.name === 'mongodb') expected.push([9, /simulated \(mock\) results never go to MongoDB/]);
        assert.deepEqual(bad.map((b) => b.line), expected.map(([l]) => l));
        for (const [i, [, reason]] of expected.entries()) assert.match(bad[i]!.reason, reason);
        assert.equal(r.bad, expected.length);
        assert.equal(r.added, lines.length - 1 - expected.length, 'every good line is stored (the empty line is no row)');
        assert.equal(await store.countMetrics(), r.added);
        assert.equal(await store.countMetrics({ provider: 'openai' }), 0, 'no refused row was stored');
      } finally {
        await store.close();
      }
    });

    test('an import stopped mid-file resumes after its last stored batch and stores each row exactly once', async () => {
      const { path } = upstreamMetricsFile(1000, 11);
      const opened = await backend.open();
      const { store } = opened;
      try {
        const batchSize = 100;
        let restore: () => void;
        if (opened.sqlitePath) {
          // Killed inside the transaction of the fourth batch: its rows and progress go together.
          const db = new DatabaseSync(opened.sqlitePath);
          db.exec(`CREATE TRIGGER stop_import BEFORE INSERT ON import_progress WHEN NEW.line > 300 BEGIN SELECT RAISE(ABORT, 'killed'); END`);
          restore = () => {
            db.exec('DROP TRIGGER stop_import');
            db.close();
          };
        } else {
          // Killed after the fourth batch's rows were written, before its progress was.
          const progress = opened.mongo!.importProgress;
          const updateOne = progress.updateOne.bind(progress);
          let calls = 0;
          progress.updateOne = async (...args: Parameters<MingoCollection['updateOne']>) => {
            if (++calls === 4) throw new Error('killed');
            return updateOne(...args);
          };
          restore = () => {
            progress.updateOne = updateOne;
          };
        }
        await assert.rejects(importFile(store, path, 'metrics', { batchSize }), /killed/);
        const stored = await store.countMetrics();
        assert.equal(stored, backend.name === 'sqlite' ? 300 : 400);
        restore();
        const r = await importFile(store, path, 'metrics', { batchSize });
        assert.equal(r.resumedAfterLine, 300);
        assert.equal(r.lines, 700, 'only the rest of the file is read');
        assert.equal(r.added, 1000 - stored);
        assert.equal(r.present, stored - 300, 'the batch written before the kill is found there, not added again');
        assert.equal(await store.countMetrics(), 1000);
        const again = await importFile(store, path, 'metrics', { batchSize });
        assert.deepEqual([again.resumedAfterLine, again.added, again.present], [null, 0, 1000], 'a finished import leaves no progress behind');
      } finally {
        await store.close();
      }
    });
  });
}

const PAIRS: Array<[Backend, Backend]> = [
  [BACKENDS[0]!, BACKENDS[1]!],
  [BACKENDS[1]!, BACKENDS[0]!],
];
for (const [from, to] of PAIRS) {
  test(`${from.name} -> file -> ${to.name} -> file: the same documents in every collection, read the same`, async () => {
    const { store: source } = await from.open();
    const { store: target } = await to.open();
    try {
      await fillThroughWriters(source);
      const out1 = fresh('out');
      await exportCollections(source, out1, NAMES);
      const r = await importDir(target, out1);
      assert.deepEqual([r.added, r.bad.length], [16, 0]);
      const out2 = fresh('out');
      await exportCollections(target, out2, NAMES);
      const docs = documentsOf(out1);
      assert.deepEqual(documentsOf(out2), docs);
      assert.deepEqual(Object.fromEntries(Object.entries(docs).map(([c, d]) => [c, d.length])), {
        models: 2,
        metrics: 5,
        probe: 1,
        errors: 2,
        scenarios: 1,
        agentRuns: 1,
        providerCatalog: 1,
        openrouterCatalog: 1,
        modelHealth: 1,
        sweepSkips: 1,
      });
      const dropId = <T>(docs: T[]) => docs.map((d) => Object.fromEntries(Object.entries(d as object).filter(([k]) => k !== '_id')));
      assert.deepEqual(dropId(await target.listModels()), dropId(await source.listModels()));
      assert.deepEqual(dropId(await target.recentMetrics('groq', 'llama-3.3-70b-versatile', 10)), dropId(await source.recentMetrics('groq', 'llama-3.3-70b-versatile', 10)));
      assert.equal(await target.countMetricsIn({ collection: 'probe' }), 1);
      assert.deepEqual(dropId(await target.listScenarios()), dropId(await source.listScenarios()));
      assert.deepEqual(dropId(await target.listOpenRouterCatalog()), dropId(await source.listOpenRouterCatalog()));
      assert.deepEqual(dropId(await target.listModelHealth()), dropId(await source.listModelHealth()));
      const w = { since: new Date(NOW - 24 * HOUR), until: new Date(NOW) };
      assert.deepEqual(dropId(await target.sweepSkips(w)), dropId(await source.sweepSkips(w)));
      const [run] = await source.recentAgentRuns();
      assert.deepEqual(dropId([await target.getAgentRun(run!.run_id)]), dropId([run]));
    } finally {
      await source.close();
      await target.close();
    }
  });
}

test('mongodb: a row whose _id is held under another run_id counts as already there, and the rest of its batch is stored', async () => {
  const mongo = mingoCollections();
  const store = await createMongoStore(mongo, { location: 'memory' });
  const folder = fresh('dup');
  mkdirSync(folder);
  const file = join(folder, 'metrics_cloud_v2.json');
  const row = (runId: string, oid: string) =>
    `{"_id":{"$oid":"${oid}"},"run_id":"${runId}","provider":"groq","model_name":"m","run_ts":${JSON.stringify({ $date: new Date(NOW).toISOString() })},"tokens_per_second":50}`;
  writeFileSync(file, [row('r1', '5f1d7f2e9c3b2a0012345601'), row('r2', '5f1d7f2e9c3b2a0012345601'), row('r3', '5f1d7f2e9c3b2a0012345603')].join('\n'));
  const r = await importFile(store, file, 'metrics');
  assert.deepEqual([r.added, r.present, r.bad], [2, 1, 0]);
  assert.deepEqual(mongo.metrics.docs.map((d) => d.run_id), ['r1', 'r3']);
});

describe('exchange files', () => {
  test('lines are read with their numbers and byte offsets, CRLF and a last line without newline included', async () => {
    const file = `${fresh('lines')}.json`;
    writeFileSync(file, '{"a":1}\r\n\n{"b":"é"}\n{"c":3}');
    const all = [];
    for await (const l of readLines(file)) all.push(l);
    assert.deepEqual(all, [
      { line: 1, text: '{"a":1}', end: 9 },
      { line: 2, text: '', end: 10 },
      { line: 3, text: '{"b":"é"}', end: 21 },
      { line: 4, text: '{"c":3}', end: 28 },
    ]);
    const rest = [];
    for await (const l of readLines(file, { offset: 10, line: 2 })) rest.push(l.line);
    assert.deepEqual(rest, [3, 4]);
  });

  test('a directory import reads the files named after collections, models first, and names the others it skips', () => {
    const folder = fresh('plan');
    mkdirSync(folder);
    for (const f of ['metrics_cloud_v2.json', 'models.json', 'notes.txt', 'metrics_cloud_v2.json.partial']) writeFileSync(join(folder, f), '');
    const plan = importPlan(folder, NAMES);
    assert.deepEqual(plan.files.map((f) => f.collection), ['models', 'metrics']);
    assert.deepEqual(plan.skipped, ['metrics_cloud_v2.json.partial', 'notes.txt']);
    const renamed = { ...NAMES, metrics: 'metrics_cloud_staging' };
    assert.throws(() => importPlan(join(folder, 'metrics_cloud_v2.json'), renamed), /Cannot tell the collection/);
    assert.equal(importPlan(join(folder, 'metrics_cloud_v2.json'), renamed, 'metrics').files[0]!.collection, 'metrics');
  });

  test('Extended JSON beyond dates and ObjectIds ($numberLong, a date before 1970) is stored as numbers and Dates on SQLite', async () => {
    const folder = fresh('rich');
    mkdirSync(folder);
    const file = join(folder, 'metrics_cloud_v2.json');
    writeFileSync(
      file,
      '{"_id":{"$oid":"5f1d7f2e9c3b2a0012345678"},"provider":"groq","model_name":"m","run_ts":{"$date":{"$numberLong":"-1000"}},"tokens_per_second":{"$numberLong":"35"},"time_to_first_token":{"$numberDouble":"0.5"}}\n',
    );
    const store = openSqliteStore(`${fresh('store')}.sqlite`);
    try {
      assert.equal((await importFile(store, file, 'metrics')).added, 1);
      const [m] = await store.recentMetrics('groq', 'm', 1);
      assert.deepEqual([m!.run_ts, m!.tokens_per_second, m!.time_to_first_token], [new Date(-1000), 35, 0.5]);
    } finally {
      await store.close();
    }
  });

  test('an export never overwrites a file, and leaves no partial file behind', async () => {
    const store = openSqliteStore(`${fresh('store')}.sqlite`);
    try {
      const out = fresh('out');
      await exportCollections(store, out, NAMES, ['models']);
      await assert.rejects(exportCollections(store, out, NAMES, ['metrics', 'models']), /Not overwriting .*models\.json/);
      assert.deepEqual(readdirSync(out), ['models.json']);
    } finally {
      await store.close();
    }
  });
});

