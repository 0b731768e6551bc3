// The production store: MongoDB through the official driver. The public dashboard reads
// these collections, so documents are written exactly in the SPEC 4 shapes (no wrapper, real
// Dates). Aggregations run in the server as pipelines. Each collection is a file of its own
// beside this one; here the client is connected, the indexes made, and the parts put together.
import type { Document } from 'mongodb';
import type { Config } from '../../config.ts';
import { redactUrl } from '../../config.ts';
import { StoreError, type Store } from '../store.ts';
import { firstLine, type CollectionLike, type MongoCollections, type MongoContext } from './connection.ts';
import { mongoAgentRuns } from './agent-runs.ts';
import { mongoCatalogs } from './catalogs.ts';
import { mongoErrors } from './errors.ts';
import { mongoExchange } from './exchange.ts';
import { mongoMetrics } from './metrics.ts';
import { mongoModelHealth } from './model-health.ts';
import { mongoMigrations } from './migrations.ts';
import { mongoModels } from './models.ts';
import { mongoRollups } from './rollups.ts';
import { mongoRuns } from './runs.ts';
import { mongoScenarios } from './scenarios.ts';
import { mongoSweepSkips } from './sweep-skips.ts';
import { mongoBenchSweeps } from './sweeps.ts';

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
  let serverVersion: string | undefined;
  try {
    await client.connect();
    await client.db(config.mongodbDb).command({ ping: 1 });
    serverVersion = await readServerVersion(client.db(config.mongodbDb));
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
    benchSweeps: db.collection(c.benchSweeps),
    ingestHealth: db.collection(c.ingestHealth),
    migrations: db.collection(c.migrations),
    // Ours alone (no upstream name to follow), so not configurable.
    importProgress: db.collection('import_progress'),
    rollups: db.collection(c.rollups),
    rollupDays: db.collection(c.rollupDays),
  };
  try {
    return await createMongoStore(collections, {
      location: `${where}, database ${config.mongodbDb}`,
      close: () => client.close(),
      serverVersion,
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
  const ctx: MongoContext = { c: collections, percentiles: options.percentiles ?? percentilesFor(options.serverVersion) };
  return {
    kind: 'mongodb',
    location: options.location,
    ...mongoModels(ctx),
    ...mongoMetrics(ctx),
    ...mongoErrors(ctx),
    ...mongoRuns(ctx),
    ...mongoCatalogs(ctx),
    ...mongoModelHealth(ctx),
    ...mongoScenarios(ctx),
    ...mongoAgentRuns(ctx),
    ...mongoSweepSkips(ctx),
    ...mongoBenchSweeps(ctx),
    ...mongoMigrations(ctx),
    ...mongoExchange(ctx),
    ...mongoRollups(ctx),
    ping: () => ping(collections.ingestHealth),
    close: options.close ?? (async () => {}),
  };
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
    [c.benchSweeps, { sweep_id: 1 }, { unique: true, name: 'sweep_id_unique' }],
    [c.benchSweeps, { started_at: -1 }, { name: 'started_at' }],
    [c.migrations, { batch_id: 1 }, { unique: true, name: 'batch_id_unique' }],
    [c.rollups, { day: 1, provider: 1, model_name: 1, scenario: 1 }, { unique: true, name: 'day_group_unique' }],
    [c.rollups, { provider: 1, model_name: 1, scenario: 1, day: 1 }, { name: 'group_day' }],
    // The retention state documents have no day.
    [c.rollupDays, { day: 1 }, { unique: true, partialFilterExpression: { day: { $type: 'string' } }, name: 'day_unique' }],
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

export interface MongoStoreOptions {
  location: string;
  close?: () => Promise<void>;
  /**
   * Where KPI percentiles are computed: 'server' ($percentile, MongoDB 7.0+), 'fallback' (the
   * values are sent here and sorted; any version), or 'auto' (default): the server's, until it
   * answers that it does not know $percentile.
   */
  percentiles?: 'auto' | 'server' | 'fallback';
  /** The server's version (buildInfo), read once per process: it decides `percentiles` when that is not given. */
  serverVersion?: string;
}

/**
 * $median and $percentile arrived in MongoDB 7.0; older servers (5.0 and 6.x are supported) get
 * the fallback, which sends the values here. Unknown version: find out from the first answer.
 */
export function percentilesFor(version: string | undefined): 'auto' | 'server' | 'fallback' {
  const major = Number.parseInt(version ?? '', 10);
  if (!Number.isFinite(major)) return 'auto';
  return major >= 7 ? 'server' : 'fallback';
}

/** The server's version, or undefined when buildInfo is not allowed (then the first answer decides). */
async function readServerVersion(db: { command(c: Document): Promise<Document> }): Promise<string | undefined> {
  try {
    const info = await db.command({ buildInfo: 1 });
    return typeof info.version === 'string' ? info.version : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What a result needs, not a driver ping: a primary that answers pings but cannot take a
 * write (stepped down, no majority, disk full) must fail this. One small document is
 * upserted with the collections' own write concern; maxTimeMS makes the server give up as
 * well, rather than leave the write queued behind a lock after the caller stopped waiting.
 * @throws what the driver throws.
 */
async function ping(ingestHealth: CollectionLike): Promise<void> {
  await ingestHealth.updateOne(
    { check: WRITE_CHECK_ID },
    { $set: { checked_at: new Date() } },
    { upsert: true, maxTimeMS: WRITE_CHECK_MAX_TIME_MS },
  );
}
