// Day one on the operator's own database (SPEC 4.0): every reader over the documents the
// upstream Python system wrote (test/store/upstream-db.ts), on both backends. Expected figures
// are computed here in plain TypeScript from the corpus with the reading rules applied, never
// taken from the store under test; MongoDB runs as a server before 7.0 (no $median or
// $percentile), since the stand-in's own $median sorts numbers as strings.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { modelsFromStore } from '../../lib/bench/due.ts';
import { collectSeries } from '../../lib/bench/prometheus.ts';
import { buildDiscoveryReport } from '../../lib/discovery/report.ts';
import { collectHealthReport } from '../../lib/health/report.ts';
import { renderSite } from '../../lib/site/build.ts';
import { collectSiteData } from '../../lib/site/data.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { collectionNames, importFile, importPlan } from '../../lib/store/exchange.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { docColumns, type RowKind } from '../../lib/store/sqlite/compact.ts';
import { decodeRow } from '../../lib/store/sqlite/connection.ts';
import { openDatabase } from '../../lib/store/sqlite/schema.ts';
import type { Store } from '../../lib/store/store.ts';
import { loadConfig } from '../../lib/config.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asServerBefore70, mingoCollections, type MingoCollection } from '../fakes/mingo-collection.ts';
import {
  CORPUS_MODELS,
  NEW_MESSAGE,
  buildUpstreamDb,
  expectedKpis,
  inside,
  isPublished,
  writeMongoexport,
  type Doc,
  type UpstreamDb,
} from './upstream-db.ts';

const DAY = 86_400_000;
const NOW = new Date();
const DB = buildUpstreamDb(NOW);

/** A backend holding the corpus, and a way to see every stored document afterwards. */
export interface CorpusBackend {
  name: string;
  open(db: UpstreamDb): Promise<{ store: Store; stored(): Promise<Record<string, Doc[]>> }>;
}

const mongo: CorpusBackend = {
  name: 'mongodb (stand-in, server before 7.0)',
  async open(db) {
    const c = asServerBefore70(mingoCollections());
    const load = async (col: MingoCollection, docs: Doc[]) => {
      for (const d of docs) await col.insertOne(d);
    };
    await load(c.models, db.models);
    await load(c.metrics, db.metrics);
    await load(c.probe, db.probe);
    await load(c.errors, db.errors);
    await load(c.providerCatalog, db.provider_catalog);
    await load(c.openrouterCatalog, db.openrouter_catalog);
    const store = await createMongoStore(c, { location: 'memory' });
    return {
      store,
      stored: async () => ({ models: c.models.docs, metrics: c.metrics.docs, probe: c.probe.docs, errors: c.errors.docs }),
    };
  },
};

// SQLite holds the corpus as an operator copying production gets it: a mongoexport dump,
// imported (lib/store/exchange.ts).
const sqlite: CorpusBackend = {
  name: 'sqlite (a mongoexport dump imported)',
  async open(db) {
    const dir = mkdtempSync(join(tmpdir(), 'llm-bench-upstream-'));
    await writeMongoexport(db, dir);
    const store = openSqliteStore(join(dir, 'store.sqlite'));
    const names = collectionNames(loadConfig({ env: {}, dotenvPath: false }).store.collections);
    for (const { file, collection } of importPlan(dir, names).files) await importFile(store, file, collection);
    const close = store.close.bind(store);
    store.close = async () => {
      await close();
      rmSync(dir, { recursive: true, force: true });
    };
    // Each row as stored, read on a connection of its own (a metric or error row through the
    // compact form's decoder when it is compact).
    const docs = async (sql: string, kind: RowKind = 'metric') => {
      const raw = openDatabase(join(dir, 'store.sqlite'));
      try {
        return raw.prepare(sql).all().map((r) => decodeRow<Doc>(raw, kind, r));
      } finally {
        raw.close();
      }
    };
    return {
      store,
      stored: async () => ({
        models: await docs('SELECT doc FROM models ORDER BY rowid'),
        metrics: await docs(`SELECT ${docColumns('metric').join(', ')} FROM metrics ORDER BY id`),
        probe: await docs(`SELECT ${docColumns('metric').join(', ')} FROM metrics_probe ORDER BY id`),
        errors: await docs(`SELECT ${docColumns('error').join(', ')} FROM errors ORDER BY id`, 'error'),
      }),
    };
  },
};

for (const backend of [mongo, sqlite]) {
  describe(`the operator's upstream database on ${backend.name}`, () => {
    let store: Store;
    let stored: () => Promise<Record<string, Doc[]>>;
    const before0 = structuredClone({ models: DB.models, metrics: DB.metrics, probe: DB.probe, errors: DB.errors });
    before(async () => {
      ({ store, stored } = await backend.open(DB));
    });
    after(async () => {
      // Nothing any reader did wrote to the operator's documents.
      const now = await stored();
      for (const name of Object.keys(before0) as Array<keyof typeof before0>) {
        assert.deepEqual(
          now[name]!.map(({ _id, ...d }) => d),
          before0[name].map(({ _id, ...d }) => d),
          `${name} changed`,
        );
      }
      await store.close();
    });

    test('every model is listed and shown: added_at is the creation date, Date deprecation dates read as days, lifecycle fields kept', async () => {
      const models = await store.listModels();
      assert.equal(models.length, DB.models.length);
      for (const m of models) assert.ok(m.created_at instanceof Date, `${m.provider}/${m.model_id} has a creation date`);
      const seeded = await store.getModel(CORPUS_MODELS.seeded.provider, CORPUS_MODELS.seeded.model_id);
      assert.deepEqual([seeded?.created_at, seeded?.deprecated], [DB.models.find((m) => m.model_id === CORPUS_MODELS.seeded.model_id)!.added_at, false]);
      const deprecated = await store.getModel(CORPUS_MODELS.deprecated.provider, CORPUS_MODELS.deprecated.model_id);
      assert.equal(deprecated?.deprecation_date, '2025-06-06');
      const rejected = (await store.getModel(CORPUS_MODELS.rejected.provider, CORPUS_MODELS.rejected.model_id)) as unknown as Doc;
      assert.deepEqual([rejected.status, rejected.disabled_class, rejected.recheck_after instanceof Date], ['rejected', 'hard_model', true]);
      for (const p of ['anyscale', 'azure', 'lambda', 'openrouter']) assert.equal((await store.listModels({ provider: p })).length, 1, p);
    });

    test('a sweep runs only enabled, undeprecated models of providers it has an adapter for', async () => {
      const due = await modelsFromStore(store, { explicit: null, providers: [] });
      const M = CORPUS_MODELS;
      assert.deepEqual(
        due.map((m) => `${m.provider}/${m.modelId}`).sort(),
        [M.gpt4oMini, M.haiku, M.seeded, M.probation, M.bedrock, M.vertex, M.reasoning].map((m) => `${m.provider}/${m.model_id}`).sort(),
      );
    });

    test('KPIs over 60 days count published rows only (no probe or shadow), read upstream\'s TTFT 0 as none, and equal the plain computation', async () => {
      const w = { since: new Date(NOW.getTime() - 60 * DAY), until: NOW };
      const { models, providers } = await store.metricKpis(w);
      assert.deepEqual(
        models.map((m) => [m.provider, m.model_name, m.scenario, m.successes, m.failures, m.time_to_first_token.p50, m.time_to_first_token.p95, m.tokens_per_second.p50, m.tokens_per_second.p99]),
        expectedKpis(DB, w),
      );
      // The model upstream never admitted has no KPI row; the probation one has exactly one.
      assert.equal(models.filter((m) => m.model_name === CORPUS_MODELS.probing.model_id).length, 0);
      assert.equal(models.filter((m) => m.model_name === CORPUS_MODELS.probation.model_id).length, 1);
      assert.equal(providers.find((p) => p.provider === 'fireworks')?.successes ?? 0, 0);
      // o4-mini's no-visible-token rows are not a TTFT of 0.
      const o4 = models.find((m) => m.model_name === CORPUS_MODELS.reasoning.model_id)!;
      assert.ok(o4.time_to_first_token.p50! > 1, `o4-mini TTFT p50 ${o4.time_to_first_token.p50}`);
    });

    test('the daily report: one new error (the recurring one is known), pre-taxonomy errors as unknown, medians as the plain computation', async () => {
      const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
      assert.deepEqual(report.new_fingerprints.map((f) => [f.provider, f.model_name, f.sample_message]), [['openai', 'gpt-4o-mini', NEW_MESSAGE]]);
      // No model of a provider without an adapter, and no disabled one, is ever stale.
      for (const s of report.stale_models) {
        assert.ok(!['anyscale', 'azure', 'lambda', 'openrouter', 'fireworks', 'deepinfra'].includes(s.provider), `${s.provider}/${s.model_id} stale`);
      }
      const weekly = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30, days: 60 });
      const kinds = Object.fromEntries(weekly.errors_by_kind.map((k) => [`${k.provider}:${k.error_kind}`, k.count]));
      assert.equal(kinds['anthropic:unknown'], DB.errors.filter((e) => e.provider === 'anthropic' && !e.error_kind && inside(e.ts, weekly.window)).length);
      assert.ok(!weekly.errors_by_kind.some((k) => k.error_kind === null || k.error_kind === undefined));
      // Daily medians of tokens/s per provider: published rows only, sorted as numbers.
      const w = { since: new Date(NOW.getTime() - 7 * DAY), until: NOW };
      const medians = await store.dailyMedians(w);
      const byDay = new Map<string, number[]>();
      for (const d of DB.metrics.filter((d) => isPublished(d) && inside(d.run_ts, w))) {
        const k = `${d.provider} ${(d.run_ts as Date).toISOString().slice(0, 10)}`;
        byDay.set(k, [...(byDay.get(k) ?? []), d.tokens_per_second as number]);
      }
      const median = (xs: number[]) => {
        const s = [...xs].sort((a, b) => a - b);
        return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
      };
      assert.deepEqual(
        medians.map((m) => [`${m.provider} ${m.day}`, m.median_tokens_per_second, m.count]),
        [...byDay.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, xs]) => [k, median(xs), xs.length]),
      );
    });

    test('runs: upstream rows listed by _id with their scenario and kind; one is shown by its _id; probes never listed', async () => {
      const runs = await store.recentRuns({ limit: 500, since: new Date(NOW.getTime() - 60 * DAY) });
      assert.ok(runs.length > 0);
      for (const r of runs) {
        const doc = (r.outcome === 'ok' ? r.metric : r.error) as unknown as Doc;
        assert.equal(typeof doc.run_id, 'string');
        // Known by its run_id on both backends: `_id` is the store's, never part of what is read.
        assert.ok(!('_id' in doc), 'a row read with its _id');
        assert.equal(typeof doc.benchmark_profile_id, 'string');
        assert.notEqual(doc.sample_role, 'probe');
        assert.notEqual(doc.sample_role, 'shadow');
        if (r.outcome === 'failed') assert.equal(typeof r.error.error_kind, 'string');
      }
      const pre = DB.errors.find((e) => !e.error_kind)!;
      const shown = await store.getRun(String(pre._id));
      assert.equal(shown?.outcome, 'failed');
      assert.deepEqual(shown?.outcome === 'failed' && [shown.error.error_kind, shown.error.message, shown.error.stage], ['unknown', pre.message, 'generate']);
      const probe = DB.probe.find((d) => d.sample_role === 'probe')!;
      assert.equal((await store.recentRuns({ limit: 100, provider: 'fireworks' })).length, 0);
      // Asked for by id, a probe row is still there to see.
      assert.equal((await store.getRun(String(probe._id)))?.outcome, 'ok');
    });

    test('the status site: no page for the model upstream never admitted, and nothing reads "undefined"', async () => {
      const pages = renderSite(await collectSiteData(store, NOW));
      for (const [name, html] of pages) assert.ok(!/\bundefined\b/.test(html), `${name} prints undefined`);
      assert.ok(![...pages.keys()].some((name) => name.includes('qwen3-235b')), 'a page for the probing model');
    });

    test('discovery: catalog models upstream already has are not proposed; the new one is', async () => {
      const report = await buildDiscoveryReport(store, { now: NOW });
      const proposed = JSON.stringify(report);
      assert.ok(proposed.includes('gpt-oss-120b'));
      assert.ok(!/"model_id":"gpt-4o-mini"/.test(proposed.replace(/\s/g, '')), 'gpt-4o-mini proposed again');
    });

    test('Prometheus: each model\'s latest published row and latest error, upstream rows included', async () => {
      const series = await collectSeries(
        [{ provider: 'openai', modelId: 'gpt-4o-mini', outcome: 'skipped_fresh', metric: null, error: null, attempts: 0, skipReason: null, writeError: null }],
        store,
        'cloud-default-v1',
      );
      const newest = DB.metrics.filter((d) => d.model_name === 'gpt-4o-mini').sort((a, b) => (b.run_ts as Date).getTime() - (a.run_ts as Date).getTime())[0]!;
      assert.deepEqual(series[0]!.lastMetric?.run_ts, newest.run_ts);
      assert.ok(series[0]!.lastErrorAt instanceof Date);
    });
  });
}
