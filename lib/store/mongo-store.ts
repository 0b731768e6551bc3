// The production store: MongoDB through the official driver. The public dashboard reads
// these collections, so documents are written exactly in the SPEC 4 shapes (no wrapper, real
// Dates). Aggregations run in the server as pipelines.
import type { Document, Filter, Sort } from 'mongodb';
import type { Config } from '../config.ts';
import { redactUrl } from '../config.ts';
import type {
  AgentRunDoc,
  ErrorDoc,
  ErrorKind,
  MetricDoc,
  ModelDoc,
  ModelHealthDoc,
  OpenRouterCatalogDoc,
  OpenRouterEntry,
  ProviderCatalogDoc,
  ProviderCatalogEntry,
  ScenarioDoc,
  ScenarioSuccess,
  SweepSkipDoc,
} from './documents.ts';
import { deprecationDay, normalizeModel } from './documents.ts';
import { MOCK_ON_MONGODB, isMockDocument, metricsCollectionFor, type MetricsCollection } from './collection-rules.ts';
import { PUBLISHED_SCENARIO_ID } from './documents.ts';
import {
  PermanentStoreError,
  StoreError,
  type AgentFailure,
  type AgentKpiFilter,
  type AgentKpiRow,
  type AgentKpiSummary,
  type AgentRunFilter,
  type DailyMedian,
  type DailySpend,
  type FingerprintSummary,
  type InsertResult,
  type KindCount,
  type KpiRow,
  type KpiSummary,
  type MetricPoint,
  type Percentiles,
  type RunFilter,
  type RunQuery,
  type RunRecord,
  DEFAULT_SCENARIO,
  type LastError,
  type LastSuccess,
  type MetricSamples,
  type MetricsScope,
  type ModelActivity,
  type ModelErrorSummary,
  type ModelFilter,
  type ModelPatch,
  type ModelSpend,
  type ProviderCounts,
  type ScenarioPatch,
  type Store,
  type TimeWindow,
  type UpsertCounts,
} from './store.ts';
import { byKey, emptyKpiRow, summarizeGroups, withRates, type GroupFailures, type GroupValues } from './kpis.ts';
import { agentFailure, groupAgentRuns, summarizeAgentGroups } from './kpis.ts';

/**
 * The part of the driver's Collection this store uses. Tests pass an in-memory stand-in
 * built on mingo; production passes real collections.
 */
export interface CollectionLike {
  insertOne(doc: Document): Promise<unknown>;
  findOne(filter: Filter<Document>): Promise<Document | null>;
  find(filter: Filter<Document>, options?: { sort?: Sort; limit?: number }): { toArray(): Promise<Document[]> };
  updateOne(
    filter: Filter<Document>,
    update: Document,
    options?: { upsert?: boolean; maxTimeMS?: number },
  ): Promise<{ matchedCount: number; upsertedCount?: number }>;
  aggregate(pipeline: Document[]): { toArray(): Promise<Document[]> };
  countDocuments(filter: Filter<Document>): Promise<number>;
  createIndex(keys: Document, options?: Document): Promise<string>;
  deleteOne(filter: Filter<Document>): Promise<{ deletedCount: number }>;
}

export interface MongoCollections {
  metrics: CollectionLike;
  errors: CollectionLike;
  models: CollectionLike;
  openrouterCatalog: CollectionLike;
  providerCatalog: CollectionLike;
  /** metrics_cloud_probe: metric rows of every profile but the published one (SPEC 4.1). */
  probe: CollectionLike;
  /** bench_model_health (SPEC 4.7). */
  modelHealth: CollectionLike;
  scenarios: CollectionLike;
  agentRuns: CollectionLike;
  /** Models a sweep did not start for the daily budget (SPEC 17). */
  sweepSkips: CollectionLike;
  /** The write check of ping(): one document, rewritten. */
  ingestHealth: CollectionLike;
}

const DUPLICATE_KEY = 11000;
// ping()'s write check: the document it rewrites, and how long the server may spend on it
// (the ingest server's /health waits 2 s in all).
const WRITE_CHECK_ID = 'write-check';
const WRITE_CHECK_MAX_TIME_MS = 1500;
// An equivalent index already exists under another name or with other cosmetic options
// (collections created by the upstream Python service): keep it.
const INDEX_ALREADY_THERE = new Set([85, 86]);

/** The hosts of a MongoDB URI, without credentials, for messages. */
export function mongoHosts(uri: string): string {
  const m = /^mongodb(?:\+srv)?:\/\/(?:[^@/]*@)?([^/?]+)/.exec(uri);
  return m?.[1] ?? redactUrl(uri);
}

/**
 * Connects to MongoDB, checks it answers, and creates the indexes.
 * @throws StoreError naming the host when it cannot connect within mongodbConnectTimeoutMs.
 */
export async function openMongoStore(config: Config['store']): Promise<Store> {
  const uri = config.mongodbUri;
  if (!uri) throw new StoreError('MONGODB_URI is not set');
  const { MongoClient } = await import('mongodb');
  const where = `MongoDB at ${mongoHosts(uri)}`;
  const client = new MongoClient(uri, {
    serverSelectionTimeoutMS: config.mongodbConnectTimeoutMs,
    connectTimeoutMS: config.mongodbConnectTimeoutMs,
    appName: 'llm-bench',
  });
  try {
    await client.connect();
    await client.db(config.mongodbDb).command({ ping: 1 });
  } catch (err) {
    await client.close().catch(() => {});
    throw new StoreError(`Cannot connect to ${where}: ${firstLine(err)}`, { cause: err });
  }
  const db = client.db(config.mongodbDb);
  const c = config.collections;
  const collections: MongoCollections = {
    metrics: db.collection(c.metrics),
    errors: db.collection(c.errors),
    models: db.collection(c.models),
    openrouterCatalog: db.collection(c.openrouterCatalog),
    providerCatalog: db.collection(c.providerCatalog),
    probe: db.collection(c.probe),
    modelHealth: db.collection(c.modelHealth),
    scenarios: db.collection(c.scenarios),
    agentRuns: db.collection(c.agentRuns),
    sweepSkips: db.collection(c.sweepSkips),
    ingestHealth: db.collection(c.ingestHealth),
  };
  try {
    return await createMongoStore(collections, {
      location: `${where}, database ${config.mongodbDb}`,
      close: () => client.close(),
    });
  } catch (err) {
    await client.close().catch(() => {});
    throw err;
  }
}

/**
 * A Store over the given collections; creates its indexes first.
 * @throws StoreError when an index cannot be created (e.g. existing duplicate models).
 */
export async function createMongoStore(
  collections: MongoCollections,
  options: MongoStoreOptions,
): Promise<Store> {
  await ensureIndexes(collections);
  await rewriteDeprecationDates(collections.models);
  return new MongoStore(collections, options);
}

/**
 * Models deprecated by an earlier version hold deprecation_date as a Date, which the
 * dashboard's public API prints as `{}` (its schema says String): rewrite them as YYYY-MM-DD.
 * A handful of documents at most, and none after the first run.
 */
async function rewriteDeprecationDates(models: CollectionLike): Promise<void> {
  for (const m of await models.find({ deprecation_date: { $type: 'date' } }).toArray()) {
    await models.updateOne({ _id: m._id }, { $set: { deprecation_date: deprecationDay(m.deprecation_date) } });
  }
}

async function ensureIndexes(c: MongoCollections): Promise<void> {
  // run_id is unique where present; rows written upstream before run_id existed have none.
  const uniqueRunId = { unique: true, partialFilterExpression: { run_id: { $type: 'string' } } };
  const specs: Array<[CollectionLike, Document, Document]> = [
    [c.metrics, { run_id: 1 }, { ...uniqueRunId, name: 'run_id_unique' }],
    [c.metrics, { provider: 1, model_name: 1, run_ts: -1 }, { name: 'model_run_ts' }],
    [c.metrics, { run_ts: -1 }, { name: 'run_ts' }],
    [c.errors, { run_id: 1 }, { ...uniqueRunId, name: 'run_id_unique' }],
    [c.errors, { provider: 1, model_name: 1, ts: -1 }, { name: 'model_ts' }],
    [c.errors, { ts: -1 }, { name: 'ts' }],
    [c.errors, { fingerprint: 1, ts: 1 }, { name: 'fingerprint_ts' }],
    [c.models, { provider: 1, model_id: 1 }, { unique: true, name: 'provider_model_unique' }],
    [c.openrouterCatalog, { openrouter_id: 1 }, { unique: true, name: 'openrouter_id_unique' }],
    [c.providerCatalog, { provider: 1, model_id: 1 }, { unique: true, name: 'provider_model_unique' }],
    // The probe collection has the published one's shape, so it gets its indexes too.
    [c.probe, { run_id: 1 }, { ...uniqueRunId, name: 'run_id_unique' }],
    [c.probe, { provider: 1, model_name: 1, run_ts: -1 }, { name: 'model_run_ts' }],
    [c.probe, { run_ts: -1 }, { name: 'run_ts' }],
    [c.modelHealth, { provider: 1, model_id: 1 }, { unique: true, name: 'provider_model_unique' }],
    [c.scenarios, { scenario_id: 1 }, { unique: true, name: 'scenario_id_unique' }],
    [c.agentRuns, { run_id: 1 }, { unique: true, name: 'run_id_unique' }],
    [c.agentRuns, { started_at: -1 }, { name: 'started_at' }],
    [c.agentRuns, { automation: 1, scenario_id: 1, started_at: -1 }, { name: 'automation_scenario_started_at' }],
    // Two ingest servers upserting the write check at once must not make two documents.
    [c.ingestHealth, { check: 1 }, { unique: true, name: 'check_unique' }],
    [c.sweepSkips, { skipped_at: -1 }, { name: 'skipped_at' }],
  ];
  for (const [collection, keys, options] of specs) {
    try {
      await collection.createIndex(keys, options);
    } catch (err) {
      if (INDEX_ALREADY_THERE.has((err as { code?: number }).code ?? 0)) continue;
      throw new StoreError(`Cannot create index ${String(options.name)}: ${firstLine(err)}`, { cause: err });
    }
  }
}

function firstLine(err: unknown): string {
  return redactUrl(String((err as Error)?.message ?? err).split('\n')[0] ?? '');
}

function isDuplicate(err: unknown): boolean {
  return (err as { code?: number }).code === DUPLICATE_KEY;
}

// Server codes for a document no retry can store: DocumentValidationFailure (a collection
// validator), BSONObjectTooLarge, KeyTooLong.
const PERMANENT_WRITE_CODES = new Set([121, 10334, 17280]);

/**
 * Errors that say the document itself cannot be stored: the driver could not encode it (a
 * NUL byte in a key, over 16 MiB) or the server refused its content. Connection and
 * timeout errors are not among them.
 */
function isPermanentWriteError(err: unknown): boolean {
  const e = err as { name?: unknown; code?: unknown };
  if (e?.name === 'BSONError' || e?.name === 'MongoInvalidArgumentError') return true;
  return typeof e?.code === 'number' && PERMANENT_WRITE_CODES.has(e.code);
}

function strip<T>(doc: Document | null): T | null {
  if (!doc) return null;
  const { _id, ...rest } = doc;
  return rest as T;
}

function stripAll<T>(docs: Document[]): T[] {
  return docs.map((d) => strip<T>(d)!);
}

// Calls cut short by the operator (SIGINT, SIGTERM) say nothing about the provider: no health
// figure counts them (SPEC 5).
const NOT_ABORTED = { error_kind: { $ne: 'aborted' } };

function inWindow(field: string, w: TimeWindow): Document {
  return { [field]: { $gte: w.since, $lt: w.until } };
}

/**
 * The last guard of SPEC 4.1: whatever a script or the ingest server checked before, a
 * simulated document is never written to MongoDB.
 * @throws StoreError saying why.
 */
function refuseMock(doc: { provider: string; mock?: boolean }): void {
  if (isMockDocument(doc)) throw new StoreError(`Refusing to write ${doc.provider} to MongoDB: ${MOCK_ON_MONGODB}`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

class MongoStore implements Store {
  readonly kind = 'mongodb' as const;
  readonly location: string;
  readonly #c: MongoCollections;
  readonly #close: () => Promise<void>;
  #percentiles: 'auto' | 'server' | 'fallback';

  constructor(c: MongoCollections, options: MongoStoreOptions) {
    this.#percentiles = options.percentiles ?? 'auto';
    this.#c = c;
    this.location = options.location;
    this.#close = options.close ?? (async () => {});
  }

  async #insert(collection: CollectionLike, doc: object): Promise<InsertResult> {
    try {
      // The driver adds _id to the object it is given: pass a copy so callers' documents stay as built.
      await collection.insertOne({ ...doc });
      return 'stored';
    } catch (err) {
      if (isDuplicate(err)) return 'duplicate';
      if (isPermanentWriteError(err)) {
        throw new PermanentStoreError(`MongoDB refuses the document: ${firstLine(err)}`, { cause: err });
      }
      throw err;
    }
  }

  async listModels(filter: ModelFilter = {}): Promise<ModelDoc[]> {
    const q: Document = {};
    if (filter.provider) q.provider = filter.provider;
    if (filter.benchmarkedOnly) Object.assign(q, { enabled: true, deprecated: { $ne: true } });
    return stripAll<ModelDoc>(await this.#c.models.find(q, { sort: { provider: 1, model_id: 1 } }).toArray()).map(normalizeModel);
  }

  async getModel(provider: string, modelId: string): Promise<ModelDoc | null> {
    const doc = strip<ModelDoc>(await this.#c.models.findOne({ provider, model_id: modelId }));
    return doc && normalizeModel(doc);
  }

  async findModelsIgnoreCase(provider: string, modelId: string): Promise<ModelDoc[]> {
    const q = { provider, model_id: { $regex: `^${escapeRegex(modelId)}$`, $options: 'i' } };
    return stripAll<ModelDoc>(await this.#c.models.find(q, { sort: { model_id: 1 } }).toArray()).map(normalizeModel);
  }

  async insertModel(doc: ModelDoc): Promise<InsertResult> {
    refuseMock(doc);
    return this.#insert(this.#c.models, doc);
  }

  async updateModel(provider: string, modelId: string, patch: ModelPatch): Promise<boolean> {
    const r = await this.#c.models.updateOne({ provider, model_id: modelId }, { $set: patch });
    return r.matchedCount === 1;
  }

  async insertMetric(doc: MetricDoc): Promise<InsertResult> {
    refuseMock(doc);
    return this.#insert(this.#metrics(metricsCollectionFor(doc.benchmark_profile_id)), doc);
  }

  async insertError(doc: ErrorDoc): Promise<InsertResult> {
    refuseMock(doc);
    return this.#insert(this.#c.errors, doc);
  }

  #metrics(collection: MetricsCollection = 'published'): CollectionLike {
    return collection === 'probe' ? this.#c.probe : this.#c.metrics;
  }

  async lastSuccesses(filter: { provider?: string } = {}): Promise<LastSuccess[]> {
    return this.lastSuccessesIn(filter);
  }

  async lastSuccessesIn(filter: MetricsScope & { provider?: string }): Promise<LastSuccess[]> {
    const rows = await this.#metrics(filter.collection)
      .aggregate([
        { $match: filter.provider ? { provider: filter.provider } : {} },
        { $sort: { provider: 1, model_name: 1, run_ts: -1 } },
        {
          $group: {
            _id: { provider: '$provider', model_name: '$model_name' },
            ts: { $first: '$run_ts' },
            sweep_started_at: { $first: { $ifNull: ['$sweep_started_at', null] } },
          },
        },
      ])
      .toArray();
    return rows.map((r) => ({ provider: r._id.provider, model_name: r._id.model_name, ts: r.ts, sweep_started_at: r.sweep_started_at ?? null }));
  }

  async lastErrors(filter: { provider?: string } = {}): Promise<LastError[]> {
    const rows = await this.#c.errors
      .aggregate([
        { $match: filter.provider ? { provider: filter.provider } : {} },
        { $sort: { ts: -1 } },
        {
          $group: {
            _id: { provider: '$provider', model_name: '$model_name' },
            ts: { $first: '$ts' },
            message: { $first: '$message' },
            error_kind: { $first: '$error_kind' },
          },
        },
      ])
      .toArray();
    return rows.map((r) => ({ provider: r._id.provider, model_name: r._id.model_name, ts: r.ts, message: r.message, error_kind: r.error_kind }));
  }

  async recentMetrics(provider: string, modelName: string, limit: number): Promise<MetricDoc[]> {
    const q = { provider, model_name: modelName };
    return stripAll<MetricDoc>(await this.#c.metrics.find(q, { sort: { run_ts: -1 }, limit }).toArray());
  }

  async recentErrors(provider: string, modelName: string, limit: number): Promise<ErrorDoc[]> {
    const q = { provider, model_name: modelName };
    return stripAll<ErrorDoc>(await this.#c.errors.find(q, { sort: { ts: -1 }, limit }).toArray());
  }

  async countMetrics(filter: { provider?: string } = {}): Promise<number> {
    return this.countMetricsIn(filter);
  }

  async countMetricsIn(filter: MetricsScope & { provider?: string }): Promise<number> {
    return this.#metrics(filter.collection).countDocuments(filter.provider ? { provider: filter.provider } : {});
  }

  async recentMetricsIn(scope: MetricsScope & { provider: string; modelName: string; limit: number }): Promise<MetricDoc[]> {
    const q = { provider: scope.provider, model_name: scope.modelName };
    return stripAll<MetricDoc>(await this.#metrics(scope.collection).find(q, { sort: { run_ts: -1 }, limit: scope.limit }).toArray());
  }

  async modelActivity(since: Date): Promise<ModelActivity[]> {
    const key = { provider: '$provider', model_name: '$model_name' };
    const countSince = (c: CollectionLike, field: string) =>
      c.aggregate([{ $match: { [field]: { $gte: since } } }, { $group: { _id: key, n: { $sum: 1 } } }]).toArray();
    const [successes, errors, recentOk, recentBad] = await Promise.all([
      this.lastSuccesses(),
      this.lastErrors(),
      countSince(this.#c.metrics, 'run_ts'),
      countSince(this.#c.errors, 'ts'),
    ]);
    const byModel = new Map<string, ModelActivity>();
    const entry = (provider: string, model_name: string): ModelActivity => {
      const k = `${provider}\u0000${model_name}`;
      let a = byModel.get(k);
      if (!a) {
        a = {
          provider,
          model_name,
          last_success_at: null,
          last_error_at: null,
          last_error_kind: null,
          successes_since: 0,
          failures_since: 0,
          failures_after_last_success: 0,
        };
        byModel.set(k, a);
      }
      return a;
    };
    for (const s of successes) entry(s.provider, s.model_name).last_success_at = s.ts;
    for (const e of errors) Object.assign(entry(e.provider, e.model_name), { last_error_at: e.ts, last_error_kind: e.error_kind });
    for (const r of recentOk) entry(r._id.provider, r._id.model_name).successes_since = r.n;
    for (const r of recentBad) entry(r._id.provider, r._id.model_name).failures_since = r.n;
    // Only models whose newest error is newer than their newest success have a run of
    // failures to count, so one query over those few, not over every model.
    const failing = [...byModel.values()].filter((a) => a.last_error_at && (!a.last_success_at || a.last_error_at > a.last_success_at));
    if (failing.length > 0) {
      const rows = await this.#c.errors
        .aggregate([
          {
            $match: {
              $or: failing.map((a) => ({
                provider: a.provider,
                model_name: a.model_name,
                ...(a.last_success_at ? { ts: { $gt: a.last_success_at } } : {}),
              })),
            },
          },
          { $group: { _id: key, n: { $sum: 1 } } },
        ])
        .toArray();
      for (const r of rows) entry(r._id.provider, r._id.model_name).failures_after_last_success = r.n;
    }
    return [...byModel.values()];
  }

  async upsertModelHealth(docs: ModelHealthDoc[]): Promise<void> {
    for (const doc of docs) {
      refuseMock(doc);
      await this.#c.modelHealth.updateOne({ provider: doc.provider, model_id: doc.model_id }, { $set: doc }, { upsert: true });
    }
  }

  async listModelHealth(filter: { provider?: string } = {}): Promise<ModelHealthDoc[]> {
    const q = filter.provider ? { provider: filter.provider } : {};
    return stripAll<ModelHealthDoc>(await this.#c.modelHealth.find(q, { sort: { provider: 1, model_id: 1 } }).toArray());
  }

  async countErrors(filter: { provider?: string } = {}): Promise<number> {
    return this.#c.errors.countDocuments(filter.provider ? { provider: filter.provider } : {});
  }

  async countsByProvider(w: TimeWindow): Promise<ProviderCounts[]> {
    const count = (c: CollectionLike, field: string, extra: Document = {}) =>
      c.aggregate([{ $match: { ...inWindow(field, w), ...extra } }, { $group: { _id: '$provider', n: { $sum: 1 } } }]).toArray();
    const [ok, bad] = await Promise.all([count(this.#c.metrics, 'run_ts'), count(this.#c.errors, 'ts', NOT_ABORTED)]);
    const byProvider = new Map<string, ProviderCounts>();
    const entry = (p: string) => byProvider.get(p) ?? byProvider.set(p, { provider: p, successes: 0, errors: 0 }).get(p)!;
    for (const r of ok) entry(r._id).successes = r.n;
    for (const r of bad) entry(r._id).errors = r.n;
    return [...byProvider.values()].sort((a, b) => a.provider.localeCompare(b.provider));
  }

  async errorsByKind(w: TimeWindow): Promise<KindCount[]> {
    const rows = await this.#c.errors
      .aggregate([
        { $match: { ...inWindow('ts', w), ...NOT_ABORTED } },
        { $group: { _id: { provider: '$provider', error_kind: '$error_kind' }, count: { $sum: 1 } } },
        { $sort: { count: -1, '_id.provider': 1, '_id.error_kind': 1 } },
      ])
      .toArray();
    return rows.map((r) => ({ provider: r._id.provider, error_kind: r._id.error_kind, count: r.count }));
  }

  async errorsByModel(w: TimeWindow): Promise<ModelErrorSummary[]> {
    const key = { provider: '$provider', model_name: '$model_name' };
    const modelKey = (r: Document) => `${r._id.provider}\u0000${r._id.model_name}`;
    const [errors, successes, kinds] = await Promise.all([
      this.#c.errors
        .aggregate([
          { $match: { ...inWindow('ts', w), ...NOT_ABORTED } },
          { $sort: { ts: -1 } },
          {
            $group: {
              _id: key,
              errors: { $sum: 1 },
              last_error_ts: { $first: '$ts' },
              last_message: { $first: '$message' },
              last_error_kind: { $first: '$error_kind' },
              last_stage: { $first: '$stage' },
            },
          },
        ])
        .toArray(),
      this.#c.metrics.aggregate([{ $match: inWindow('run_ts', w) }, { $group: { _id: key, n: { $sum: 1 } } }]).toArray(),
      this.#c.errors
        .aggregate([
          { $match: { ...inWindow('ts', w), ...NOT_ABORTED } },
          { $group: { _id: { provider: '$provider', model_name: '$model_name', error_kind: '$error_kind' }, n: { $sum: 1 } } },
        ])
        .toArray(),
    ]);
    const ok = new Map(successes.map((r) => [modelKey(r), r.n as number]));
    const byKind = new Map<string, Partial<Record<ErrorKind, number>>>();
    for (const r of kinds) {
      const k = modelKey(r);
      byKind.set(k, { ...byKind.get(k), [r._id.error_kind]: r.n });
    }
    return errors
      .map((r) => ({
        provider: r._id.provider,
        model_name: r._id.model_name,
        errors: r.errors,
        successes: ok.get(modelKey(r)) ?? 0,
        last_error_ts: r.last_error_ts,
        last_message: r.last_message,
        last_error_kind: r.last_error_kind,
        last_stage: r.last_stage,
        error_kinds: byKind.get(modelKey(r)) ?? {},
      }))
      .sort((a, b) => b.errors - a.errors || a.provider.localeCompare(b.provider) || a.model_name.localeCompare(b.model_name));
  }

  async newFingerprints(w: TimeWindow): Promise<FingerprintSummary[]> {
    const seen = await this.#c.errors
      .aggregate([{ $match: { ...inWindow('ts', w), ...NOT_ABORTED } }, { $group: { _id: '$fingerprint' } }])
      .toArray();
    if (seen.length === 0) return [];
    const rows = await this.#c.errors
      .aggregate([
        { $match: { fingerprint: { $in: seen.map((r) => r._id) }, ts: { $lt: w.until } } },
        { $sort: { ts: 1 } },
        {
          $group: {
            _id: '$fingerprint',
            provider: { $first: '$provider' },
            model_name: { $first: '$model_name' },
            stage: { $first: '$stage' },
            error_kind: { $first: '$error_kind' },
            first_seen: { $first: '$ts' },
            count: { $sum: 1 },
            sample_message: { $first: '$message' },
          },
        },
        { $match: { first_seen: { $gte: w.since } } },
        { $sort: { first_seen: 1 } },
      ])
      .toArray();
    return rows.map(({ _id, ...r }) => ({ fingerprint: _id, ...r }) as FingerprintSummary);
  }

  async metricSamples(w: TimeWindow): Promise<MetricSamples[]> {
    const rows = await this.#c.metrics
      .aggregate([
        { $match: inWindow('run_ts', w) },
        {
          $group: {
            _id: { provider: '$provider', model_name: '$model_name' },
            tps: { $push: '$tokens_per_second' },
            ttft: { $push: '$time_to_first_token' },
          },
        },
        { $sort: { '_id.provider': 1, '_id.model_name': 1 } },
      ])
      .toArray();
    // $push skips missing fields but keeps explicit nulls; TTFT is null when no text came.
    const numbers = (xs: unknown[]) => xs.filter((x): x is number => typeof x === 'number');
    return rows.map((r) => ({
      provider: r._id.provider,
      model_name: r._id.model_name,
      tokens_per_second: numbers(r.tps),
      time_to_first_token: numbers(r.ttft),
    }));
  }

  async dailyMedians(w: TimeWindow): Promise<DailyMedian[]> {
    // $median needs MongoDB 7.0 or later.
    const rows = await this.#c.metrics
      .aggregate([
        { $match: { ...inWindow('run_ts', w), tokens_per_second: { $type: 'number' } } },
        {
          $group: {
            _id: { provider: '$provider', day: { $dateToString: { format: '%Y-%m-%d', date: '$run_ts' } } },
            median: { $median: { input: '$tokens_per_second', method: 'approximate' } },
            count: { $sum: 1 },
          },
        },
        { $sort: { '_id.provider': 1, '_id.day': 1 } },
      ])
      .toArray();
    return rows.map((r) => ({ provider: r._id.provider, day: r._id.day, median_tokens_per_second: r.median, count: r.count }));
  }

  async spendByDay(w: TimeWindow): Promise<DailySpend[]> {
    const rows = await this.#spend({ provider: '$provider', day: { $dateToString: { format: '%Y-%m-%d', date: '$run_ts' } } }, w);
    return rows.map(({ key, ...r }) => ({ provider: key.provider, day: key.day, ...r }));
  }

  async spendByModel(w: TimeWindow): Promise<ModelSpend[]> {
    const rows = await this.#spend({ provider: '$provider', model_name: '$model_name' }, w);
    return rows.map(({ key, ...r }) => ({ provider: key.provider, model_name: key.model_name, ...r }));
  }

  // Money is money whatever the scenario: published and probe rows are both summed.
  async #spend(key: Document, w: TimeWindow): Promise<Array<{ key: Document } & Omit<DailySpend, 'day' | 'provider'>>> {
    // $sum skips what is not a number, so rows without cost_usd (or with null) add nothing.
    const priced = { $cond: [{ $isNumber: '$cost_usd' }, 1, 0] };
    const pipeline = [
      { $match: inWindow('run_ts', w) },
      { $group: { _id: key, cost_usd: { $sum: '$cost_usd' }, priced_calls: { $sum: priced }, calls: { $sum: 1 } } },
    ];
    const merged = new Map<string, { key: Document; cost_usd: number; priced_calls: number; calls: number }>();
    for (const collection of [this.#c.metrics, this.#c.probe]) {
      for (const r of await collection.aggregate(pipeline).toArray()) {
        const id = JSON.stringify(Object.keys(key).map((k) => r._id[k]));
        const m = merged.get(id) ?? { key: r._id, cost_usd: 0, priced_calls: 0, calls: 0 };
        m.cost_usd += r.cost_usd;
        m.priced_calls += r.priced_calls;
        m.calls += r.calls;
        merged.set(id, m);
      }
    }
    const rows = [...merged.values()].sort((a, b) => {
      for (const k of Object.keys(key)) if (a.key[k] !== b.key[k]) return a.key[k] < b.key[k] ? -1 : 1;
      return 0;
    });
    return rows.map((r) => ({ key: r.key, cost_usd: r.cost_usd, priced_calls: r.priced_calls, unpriced_calls: r.calls - r.priced_calls }));
  }

  async #upsertCatalog(collection: CollectionLike, entries: object[], key: (e: object) => Document, now: Date): Promise<UpsertCounts> {
    const counts = { inserted: 0, updated: 0 };
    for (const entry of entries) {
      const r = await collection.updateOne(
        key(entry),
        { $set: { ...entry, last_seen_at: now }, $setOnInsert: { first_seen_at: now } },
        { upsert: true },
      );
      counts[r.upsertedCount ? 'inserted' : 'updated']++;
    }
    return counts;
  }

  async upsertOpenRouterCatalog(entries: OpenRouterEntry[], now: Date): Promise<UpsertCounts> {
    return this.#upsertCatalog(this.#c.openrouterCatalog, entries, (e) => ({ openrouter_id: (e as OpenRouterEntry).openrouter_id }), now);
  }

  async upsertProviderCatalog(entries: ProviderCatalogEntry[], now: Date): Promise<UpsertCounts> {
    const key = (e: object) => ({ provider: (e as ProviderCatalogEntry).provider, model_id: (e as ProviderCatalogEntry).model_id });
    return this.#upsertCatalog(this.#c.providerCatalog, entries, key, now);
  }

  async listOpenRouterCatalog(): Promise<OpenRouterCatalogDoc[]> {
    return stripAll<OpenRouterCatalogDoc>(await this.#c.openrouterCatalog.find({}, { sort: { openrouter_id: 1 } }).toArray());
  }

  async listProviderCatalog(filter: { provider?: string } = {}): Promise<ProviderCatalogDoc[]> {
    const q = filter.provider ? { provider: filter.provider } : {};
    return stripAll<ProviderCatalogDoc>(await this.#c.providerCatalog.find(q, { sort: { provider: 1, model_id: 1 } }).toArray());
  }

  // ---- KPIs and runs (SPEC 16) ----

  async metricKpis(w: TimeWindow, filter: RunFilter = {}): Promise<KpiSummary> {
    const match = { ...inWindow('run_ts', w), ...runMatch(filter) };
    const failures = (
      await this.#c.errors
        .aggregate([{ $match: { ...inWindow('ts', w), ...runMatch(filter) } }, { $group: { _id: { ...GROUP_KEY }, n: { $sum: 1 } } }])
        .toArray()
    ).map((r): GroupFailures => ({ provider: r._id.provider, model_name: r._id.model_name, scenario: r._id.scenario, failures: r.n }));
    // Rows of every scenario but the published one are in the probe collection (SPEC 4.1). The
    // server's $percentile sees one collection, so with probe rows in the window the values
    // come to us from both (exact, and the groups of the two never overlap).
    const probeRows = await this.#c.probe.countDocuments(match);
    if (this.#percentiles !== 'fallback' && probeRows === 0) {
      try {
        const summary = await this.#serverKpis(match, failures);
        this.#percentiles = 'server';
        return summary;
      } catch (err) {
        if (this.#percentiles === 'server' || !isUnknownOperator(err)) throw err;
        // A server before 7.0 has no $percentile: from now on the values come to us.
        this.#percentiles = 'fallback';
      }
    }
    const pipeline = [
      { $match: match },
      {
        $group: {
          _id: { ...GROUP_KEY },
          n: { $sum: 1 },
          last: { $max: '$run_ts' },
          ...Object.fromEntries(Object.entries(KPI_FIELDS).map(([name, field]) => [name, { $push: field }])),
        },
      },
    ];
    const rows = [
      ...(await this.#c.metrics.aggregate(pipeline).toArray()),
      ...(probeRows > 0 ? await this.#c.probe.aggregate(pipeline).toArray() : []),
    ];
    // $push keeps explicit nulls (TTFT is null when no text came): leave them out.
    const numbers = (xs: unknown[]) => xs.filter((x): x is number => typeof x === 'number');
    const groups = rows.map(
      (r): GroupValues => ({
        provider: r._id.provider,
        model_name: r._id.model_name,
        scenario: r._id.scenario,
        successes: r.n,
        last_success: r.last ?? null,
        time_to_first_token: numbers(r.time_to_first_token),
        total_time: numbers(r.total_time),
        tokens_per_second: numbers(r.tokens_per_second),
        decode_tokens_per_second: numbers(r.decode_tokens_per_second),
      }),
    );
    return summarizeGroups(groups, failures);
  }

  async #serverKpis(match: Document, failures: GroupFailures[]): Promise<KpiSummary> {
    // MongoDB 7.0+: $percentile in the server, at the three levels at once.
    const level = (id: Document | null) =>
      this.#c.metrics
        .aggregate([
          { $match: match },
          {
            $group: {
              _id: id,
              n: { $sum: 1 },
              last: { $max: '$run_ts' },
              ...Object.fromEntries(
                Object.entries(KPI_FIELDS).map(([name, field]) => [name, { $percentile: { input: field, p: [0.5, 0.95, 0.99], method: 'approximate' } }]),
              ),
            },
          },
        ])
        .toArray();
    const [models, providers, overall] = await Promise.all([level({ ...GROUP_KEY }), level({ provider: '$provider' }), level(null)]);
    const row = (r: Document | undefined, key: Pick<KpiRow, 'provider' | 'model_name' | 'scenario'>, failed: number): KpiRow => {
      const base = { ...emptyKpiRow(key), successes: r?.n ?? 0, failures: failed, last_success: r?.last ?? null };
      if (!r) return withRates(base);
      const p = (v: unknown): Percentiles => {
        const [p50 = null, p95 = null, p99 = null] = Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : null)) : [];
        return { p50, p95, p99 };
      };
      return withRates({
        ...base,
        time_to_first_token: p(r.time_to_first_token),
        total_time: p(r.total_time),
        tokens_per_second: p(r.tokens_per_second),
        decode_tokens_per_second: p(r.decode_tokens_per_second),
      });
    };
    const sum = (pick: (f: GroupFailures) => boolean) => failures.filter(pick).reduce((n, f) => n + f.failures, 0);
    const modelRows = models.map((r) =>
      row(r, { provider: r._id.provider, model_name: r._id.model_name, scenario: r._id.scenario }, sum((f) => f.provider === r._id.provider && f.model_name === r._id.model_name && f.scenario === r._id.scenario)),
    );
    for (const f of failures) {
      if (!modelRows.some((m) => m.provider === f.provider && m.model_name === f.model_name && m.scenario === f.scenario)) {
        modelRows.push(row(undefined, { provider: f.provider, model_name: f.model_name, scenario: f.scenario }, f.failures));
      }
    }
    const providerNames = new Set([...providers.map((r) => r._id.provider as string), ...failures.map((f) => f.provider)]);
    return {
      overall: row(overall[0], { provider: null, model_name: null, scenario: null }, sum(() => true)),
      providers: [...providerNames]
        .map((p) => row(providers.find((r) => r._id.provider === p), { provider: p, model_name: null, scenario: null }, sum((f) => f.provider === p)))
        .sort(byKey),
      models: modelRows.sort(byKey),
    };
  }

  async recentRuns(query: RunQuery): Promise<RunRecord[]> {
    const window = (field: string) =>
      query.since || query.until ? { [field]: { ...(query.since ? { $gte: query.since } : {}), ...(query.until ? { $lt: query.until } : {}) } } : {};
    const [ok, failed] = await Promise.all([
      query.outcome === 'failed'
        ? []
        : Promise.all(
            [this.#c.metrics, this.#c.probe].map((c) => c.find({ ...window('run_ts'), ...runMatch(query) }, { sort: { run_ts: -1 }, limit: query.limit }).toArray()),
          ).then((parts) => parts.flat()),
      query.outcome === 'ok' ? [] : this.#c.errors.find({ ...window('ts'), ...runMatch(query) }, { sort: { ts: -1 }, limit: query.limit }).toArray(),
    ]);
    const runs: RunRecord[] = [
      ...stripAll<MetricDoc>(ok).map((metric): RunRecord => ({ outcome: 'ok', ts: metric.run_ts, metric })),
      ...stripAll<ErrorDoc>(failed).map((error): RunRecord => ({ outcome: 'failed', ts: error.ts, error })),
    ];
    return runs.sort((a, b) => b.ts.getTime() - a.ts.getTime()).slice(0, query.limit);
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const metric = strip<MetricDoc>((await this.#c.metrics.findOne({ run_id: runId })) ?? (await this.#c.probe.findOne({ run_id: runId })));
    if (metric) return { outcome: 'ok', ts: metric.run_ts, metric };
    const error = strip<ErrorDoc>(await this.#c.errors.findOne({ run_id: runId }));
    return error ? { outcome: 'failed', ts: error.ts, error } : null;
  }

  async metricPoints(w: TimeWindow, filter: RunFilter = {}): Promise<MetricPoint[]> {
    const pipeline = [
        { $match: { ...inWindow('run_ts', w), ...runMatch(filter) } },
        {
          $project: {
            _id: 0,
            provider: 1,
            model_name: 1,
            scenario: GROUP_KEY.scenario,
            run_ts: 1,
            time_to_first_token: { $ifNull: ['$time_to_first_token', null] },
            tokens_per_second: 1,
          },
        },
        { $sort: { provider: 1, model_name: 1, scenario: 1, run_ts: 1 } },
      ];
    // Published and probe rows (SPEC 4.1); a group's rows are all in one of the two.
    const key = (p: Document) => `${p.provider}\u0000${p.model_name}\u0000${p.scenario}`;
    const rows = [...(await this.#c.metrics.aggregate(pipeline).toArray()), ...(await this.#c.probe.aggregate(pipeline).toArray())].sort((a, b) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.run_ts.getTime() - b.run_ts.getTime(),
    );
    return rows as MetricPoint[];
  }

  /**
   * What a result needs, not a driver ping: a primary that answers pings but cannot take a
   * write (stepped down, no majority, disk full) must fail this. One small document is
   * upserted with the collections' own write concern; maxTimeMS makes the server give up as
   * well, rather than leave the write queued behind a lock after the caller stopped waiting.
   * @throws what the driver throws.
   */
  async ping(): Promise<void> {
    await this.#c.ingestHealth.updateOne(
      { check: WRITE_CHECK_ID },
      { $set: { checked_at: new Date() } },
      { upsert: true, maxTimeMS: WRITE_CHECK_MAX_TIME_MS },
    );
  }

  async close(): Promise<void> {
    await this.#close();
  }

  // --- Scenarios and agent runs (SPEC 4.5, 4.6) ---

  async listScenarios(filter: { enabledOnly?: boolean; kind?: string } = {}): Promise<ScenarioDoc[]> {
    const q: Document = {};
    if (filter.enabledOnly) q.enabled = true;
    if (filter.kind) q.kind = filter.kind;
    return stripAll<ScenarioDoc>(await this.#c.scenarios.find(q, { sort: { scenario_id: 1 } }).toArray());
  }

  async getScenario(scenarioId: string): Promise<ScenarioDoc | null> {
    return strip<ScenarioDoc>(await this.#c.scenarios.findOne({ scenario_id: scenarioId }));
  }

  async insertScenario(doc: ScenarioDoc): Promise<InsertResult> {
    return this.#insert(this.#c.scenarios, doc);
  }

  async updateScenario(scenarioId: string, patch: ScenarioPatch): Promise<boolean> {
    const r = await this.#c.scenarios.updateOne({ scenario_id: scenarioId }, { $set: patch });
    return r.matchedCount === 1;
  }

  async removeScenario(scenarioId: string): Promise<boolean> {
    const r = await this.#c.scenarios.deleteOne({ scenario_id: scenarioId });
    return r.deletedCount === 1;
  }

  async insertAgentRun(doc: AgentRunDoc): Promise<InsertResult> {
    // Simulated runs never reach MongoDB (SPEC 4.1): the dashboard and KPIs read it.
    if (doc.mock) throw new StoreError(`Refusing to store the simulated TinyFish run of ${doc.automation} in MongoDB: mock runs belong in the SQLite store`);
    return this.#insert(this.#c.agentRuns, doc);
  }

  async recentAgentRuns(filter: AgentRunFilter = {}): Promise<AgentRunDoc[]> {
    const q: Document = {};
    if (filter.automation) q.automation = filter.automation;
    if (filter.scenario_id) q.scenario_id = filter.scenario_id;
    if (filter.status) q.status = filter.status;
    if (filter.since || filter.until) {
      q.started_at = { ...(filter.since ? { $gte: filter.since } : {}), ...(filter.until ? { $lt: filter.until } : {}) };
    }
    const runs = stripAll<AgentRunDoc>(
      await this.#c.agentRuns.find(q, { sort: { started_at: -1 }, limit: filter.limit ?? 100, ...(filter.withoutResult ? { projection: { result: 0 } } : {}) }).toArray(),
    );
    return filter.withoutResult ? runs.map((r) => ({ ...r, result: null })) : runs;
  }

  async lastAgentRuns(filter: { automation?: string } = {}): Promise<AgentRunDoc[]> {
    const rows = await this.#c.agentRuns
      .aggregate([
        { $match: filter.automation ? { automation: filter.automation } : {} },
        { $sort: { started_at: -1 } },
        { $group: { _id: { automation: '$automation', scenario_id: '$scenario_id' }, doc: { $first: '$$ROOT' } } },
        { $sort: { '_id.automation': 1, '_id.scenario_id': 1 } },
      ])
      .toArray();
    return rows.map((r) => strip<AgentRunDoc>(r.doc)!);
  }

  // --- Sweep skips (SPEC 17) ---

  async insertSweepSkip(doc: SweepSkipDoc): Promise<void> {
    refuseMock(doc);
    await this.#c.sweepSkips.insertOne({ ...doc });
  }

  async sweepSkips(w: TimeWindow, limit = 1000): Promise<SweepSkipDoc[]> {
    return stripAll<SweepSkipDoc>(await this.#c.sweepSkips.find(inWindow('skipped_at', w), { sort: { skipped_at: -1 }, limit }).toArray());
  }

  async lastScenarioSuccesses(since: Date): Promise<ScenarioSuccess[]> {
    // Only rows since `since` (the run_ts index): dueness needs nothing older. Rows from before
    // scenarios existed have no benchmark_profile_id and count as the published scenario's.
    const newest = (c: CollectionLike, match: Document, key: Document, field: string) =>
      c
        .aggregate([
          { $match: match },
          { $sort: { [field]: -1 } },
          { $group: { _id: key, ts: { $first: `$${field}` }, sweep_started_at: { $first: { $ifNull: ['$sweep_started_at', null] } } } },
        ])
        .toArray();
    const metricKey = { scenario_id: { $ifNull: ['$benchmark_profile_id', PUBLISHED_SCENARIO_ID] }, provider: '$provider', model_name: '$model_name' };
    // Published and probe rows: SPEC 4.1 sends every other scenario to the probe collection.
    const [metrics, probe, runs] = await Promise.all([
      newest(this.#c.metrics, { run_ts: { $gte: since } }, metricKey, 'run_ts'),
      newest(this.#c.probe, { run_ts: { $gte: since } }, metricKey, 'run_ts'),
      newest(
        this.#c.agentRuns,
        { started_at: { $gte: since }, status: 'completed' },
        { scenario_id: '$scenario_id', provider: 'tinyfish', model_name: '$automation' },
        'started_at',
      ),
    ]);
    return [...metrics, ...probe, ...runs]
      .map((r) => ({
        scenario_id: r._id.scenario_id,
        provider: r._id.provider,
        model_name: r._id.model_name,
        ts: r.ts,
        sweep_started_at: r.sweep_started_at ?? null,
      }))
      .sort((a, b) => a.scenario_id.localeCompare(b.scenario_id) || a.provider.localeCompare(b.provider) || a.model_name.localeCompare(b.model_name));
  }

  // --- Agent-run KPIs (SPEC 16) ---

  async agentRunKpis(w: TimeWindow, filter: AgentKpiFilter = {}): Promise<AgentKpiSummary> {
    const match: Document = { ...inWindow('started_at', w) };
    if (filter.automation !== undefined) match.automation = filter.automation;
    if (filter.scenario !== undefined) match.scenario_id = filter.scenario;
    if (filter.mock !== undefined) match.mock = filter.mock ? true : { $ne: true };
    if (this.#percentiles !== 'fallback') {
      try {
        const summary = await this.#serverAgentKpis(match);
        this.#percentiles = 'server';
        return summary;
      } catch (err) {
        if (this.#percentiles === 'server' || !isUnknownOperator(err)) throw err;
        this.#percentiles = 'fallback';
      }
    }
    // Before 7.0: the few fields the KPIs need come here and are grouped like SQLite's.
    // (Never the result, up to 64 KiB a run.)
    const docs = await this.#c.agentRuns
      .aggregate([
        { $match: match },
        { $project: { _id: 0, run_id: 1, automation: 1, scenario_id: 1, started_at: 1, status: 1, mock: 1, total_duration_ms: 1, time_to_first_progress_ms: 1, error: 1, error_kind: 1 } },
      ])
      .toArray();
    const groups = groupAgentRuns(
      docs.map((d) => ({
        ...(d as unknown as AgentRunDoc),
        scenario: d.scenario_id as string,
        mock: d.mock === true,
        started_at: (d.started_at as Date).getTime(),
        total_duration_ms: typeof d.total_duration_ms === 'number' ? d.total_duration_ms : null,
        time_to_first_progress_ms: typeof d.time_to_first_progress_ms === 'number' ? d.time_to_first_progress_ms : null,
      })),
    );
    return summarizeAgentGroups(
      groups.map((g) => ({ ...g, newest_failure: g.newest_failure ? agentFailure({ ...g.newest_failure, started_at: new Date(g.newest_failure.started_at) }) : null })),
    );
  }

  async getAgentRun(runId: string): Promise<AgentRunDoc | null> {
    return strip<AgentRunDoc>(await this.#c.agentRuns.findOne({ run_id: runId }));
  }

  async #serverAgentKpis(match: Document): Promise<AgentKpiSummary> {
    // MongoDB 7.0+: $percentile over the completed runs ($percentile skips the nulls the
    // other runs give it), per group and overall; the newest failure of each group apart.
    const done = { $eq: ['$status', 'completed'] };
    const ofCompleted = (field: string) => ({ $percentile: { input: { $cond: [done, field, null] }, p: [0.5, 0.95, 0.99], method: 'approximate' } });
    const level = (id: Document | null) =>
      this.#c.agentRuns
        .aggregate([
          { $match: match },
          {
            $group: {
              _id: id,
              completed: { $sum: { $cond: [done, 1, 0] } },
              failed: { $sum: { $cond: [{ $eq: ['$status', 'failed'] }, 1, 0] } },
              timeouts: { $sum: { $cond: [{ $eq: ['$status', 'timeout'] }, 1, 0] } },
              last_started: { $max: '$started_at' },
              last_completed: { $max: { $cond: [done, '$started_at', null] } },
              mock: { $max: { $eq: ['$mock', true] } },
              total_duration_ms: ofCompleted('$total_duration_ms'),
              time_to_first_progress_ms: ofCompleted('$time_to_first_progress_ms'),
            },
          },
        ])
        .toArray();
    const key = { automation: '$automation', scenario: '$scenario_id', mock: { $eq: ['$mock', true] } };
    const [groups, overall, failures] = await Promise.all([
      level(key),
      level(null),
      this.#c.agentRuns
        .aggregate([
          { $match: { ...match, status: { $ne: 'completed' } } },
          { $sort: { started_at: -1 } },
          { $group: { _id: key, doc: { $first: '$$ROOT' } } },
        ])
        .toArray(),
    ]);
    const keyOf = (k: Document) => `${k.automation}\u0000${k.scenario}\u0000${k.mock === true}`;
    const newest = new Map(failures.map((f) => [keyOf(f._id), agentFailure(f.doc as AgentRunDoc)]));
    const p = (v: unknown): Percentiles => {
      const [p50 = null, p95 = null, p99 = null] = Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : null)) : [];
      return { p50, p95, p99 };
    };
    const row = (r: Document, automation: string | null, scenario: string | null, lastFailure: AgentFailure | null): AgentKpiRow => {
      const runs = r.completed + r.failed + r.timeouts;
      return {
        provider: 'tinyfish',
        automation,
        scenario,
        mock: r.mock === true,
        runs,
        completed: r.completed,
        failed: r.failed,
        timeouts: r.timeouts,
        success_rate: runs > 0 ? r.completed / runs : null,
        last_started: r.last_started ?? null,
        last_completed: r.last_completed ?? null,
        total_duration_ms: p(r.total_duration_ms),
        time_to_first_progress_ms: p(r.time_to_first_progress_ms),
        last_failure: lastFailure,
      };
    };
    const rows = groups
      .map((g) => row(g, g._id.automation, g._id.scenario, newest.get(keyOf(g._id)) ?? null))
      .sort((a, b) => (a.automation! < b.automation! ? -1 : a.automation! > b.automation! ? 1 : a.scenario! < b.scenario! ? -1 : a.scenario! > b.scenario! ? 1 : Number(a.mock) - Number(b.mock)));
    const newestOverall = [...newest.values()].sort((a, b) => b.started_at.getTime() - a.started_at.getTime())[0] ?? null;
    const all = overall[0] ? row(overall[0], null, null, newestOverall) : summarizeAgentGroups([]).overall;
    return { overall: all, groups: rows };
  }
}

// ---- KPIs and runs (SPEC 16) ----

export interface MongoStoreOptions {
  location: string;
  close?: () => Promise<void>;
  /**
   * Where KPI percentiles are computed: 'server' ($percentile, MongoDB 7.0+), 'fallback' (the
   * values are sent here and sorted; any version), or 'auto' (default): the server's, until it
   * answers that it does not know $percentile.
   */
  percentiles?: 'auto' | 'server' | 'fallback';
}

/** A KPI group: rows without benchmark_profile_id belong to the published profile. */
const GROUP_KEY = {
  provider: '$provider',
  model_name: '$model_name',
  scenario: { $ifNull: ['$benchmark_profile_id', DEFAULT_SCENARIO] },
} as const;
const KPI_FIELDS = {
  time_to_first_token: '$time_to_first_token',
  total_time: '$generate_time',
  tokens_per_second: '$tokens_per_second',
  decode_tokens_per_second: '$decode_tokens_per_second',
} as const;

function runMatch(filter: RunFilter): Document {
  const q: Document = {};
  if (filter.provider !== undefined) q.provider = filter.provider;
  if (filter.model !== undefined) q.model_name = filter.model;
  if (filter.scenario !== undefined) {
    // null matches a missing field: the rows from before benchmark_profile_id.
    q.benchmark_profile_id = filter.scenario === DEFAULT_SCENARIO ? { $in: [DEFAULT_SCENARIO, null] } : filter.scenario;
  }
  return q;
}

// What servers before 7.0 answer to $percentile in $group: "unknown group operator
// '$percentile'" (code 15952) or, in $project-like contexts, InvalidPipelineOperator (168).
function isUnknownOperator(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === 15952 || code === 168 || /unknown group operator|unrecognized expression/i.test(String((err as Error)?.message));
}
