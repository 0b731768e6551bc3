// The MongoDB collections every part of the store reads and writes, and what they share: how
// a document is inserted, read back without _id, refused when simulated, and how the server
// says it does not know an operator.
import type { AnyBulkWriteOperation, Document, Filter, Sort } from 'mongodb';
import { redactUrl } from '../../config.ts';
import { MOCK_ON_MONGODB, isMockDocument } from '../collection-rules.ts';
import { EVIDENCE_MARKS, type ErrorDoc, type MetricDoc } from '../documents.ts';
import { PermanentStoreError, StoreError, type InsertResult, type TimeWindow } from '../store.ts';
import { UNPUBLISHED_ROLES, readError, readMetric } from '../upstream.ts';

/**
 * The part of the driver's Collection this store uses. Tests pass an in-memory stand-in
 * built on mingo; production passes real collections.
 */
export interface CollectionLike {
  insertOne(doc: Document): Promise<unknown>;
  findOne(filter: Filter<Document>): Promise<Document | null>;
  /** A cursor: read whole, or one document at a time (exchange.ts, over millions). */
  find(filter: Filter<Document>, options?: { sort?: Sort; limit?: number }): { toArray(): Promise<Document[]> } & AsyncIterable<Document>;
  updateOne(
    filter: Filter<Document>,
    update: Document,
    options?: { upsert?: boolean; maxTimeMS?: number },
  ): Promise<{ matchedCount: number; upsertedCount?: number }>;
  aggregate(pipeline: Document[]): { toArray(): Promise<Document[]> };
  countDocuments(filter: Filter<Document>): Promise<number>;
  createIndex(keys: Document, options?: Document): Promise<string>;
  deleteOne(filter: Filter<Document>): Promise<{ deletedCount: number }>;
  bulkWrite(operations: AnyBulkWriteOperation[], options: { ordered: boolean }): Promise<{ upsertedCount: number; matchedCount: number }>;
  deleteMany(filter: Filter<Document>): Promise<{ deletedCount: number }>;
  updateMany(filter: Filter<Document>, update: Document): Promise<{ modifiedCount: number }>;
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
  /** What each sweep measured of the runner and the way to each provider (SPEC 18). */
  benchSweeps: CollectionLike;
  /** The write check of ping(): one document, rewritten. */
  ingestHealth: CollectionLike;
  /** What each `store migrate` changed (MigrationsStore). */
  migrations: CollectionLike;
  /** How far each unfinished import has come (exchange.ts), one document per source file. */
  importProgress: CollectionLike;
  /** bench_daily_rollups: one document per (UTC day, provider, model, scenario) (SPEC 20). */
  rollups: CollectionLike;
  /** The days rolled up and when, and where retention got to. */
  rollupDays: CollectionLike;
}

const DUPLICATE_KEY = 11000;

/** The collections, and what the store has learnt of the server. */
export interface MongoContext {
  readonly c: MongoCollections;
  /**
   * Where KPI percentiles are computed (MongoStoreOptions.percentiles), both the metrics' and
   * the agent runs': 'auto' turns into 'server' or 'fallback' at the server's first answer.
   */
  percentiles: 'auto' | 'server' | 'fallback';
}

export function firstLine(err: unknown): string {
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

export function strip<T>(doc: Document | null): T | null {
  if (!doc) return null;
  const { _id, ...rest } = doc;
  return rest as T;
}

export function stripAll<T>(docs: Document[]): T[] {
  return docs.map((d) => strip<T>(d)!);
}

// ---- Reading rules for upstream documents (SPEC 4.0, ../upstream.ts), as query fragments ----

/** Upstream's admission probes and shadow runs were never published: no read of a figure sees them. */
export const PUBLISHED = { sample_role: { $nin: [...UNPUBLISHED_ROLES] } };
/** What the KPIs and rollups count: published rows no evidence marks (SPEC 18); listings still show marked rows. */
export const COUNTED = { ...PUBLISHED, ...Object.fromEntries(EVIDENCE_MARKS.map((k) => [`evidence.${k}`, { $ne: true }])) };
/** Rows any mark of their evidence leaves out (documents.ts EVIDENCE_MARKS). */
export const MARKED = { $or: EVIDENCE_MARKS.map((k) => ({ [`evidence.${k}`]: true })) };
/** A row's TTFT as published (publishedTtft): upstream's 0 without `ttft_available: true` is none. */
export const TTFT = {
  $cond: [{ $and: [{ $eq: ['$time_to_first_token', 0] }, { $ne: ['$ttft_available', true] }] }, null, '$time_to_first_token'],
};
/** An error's kind: rows from before upstream's taxonomy have none. */
export const ERROR_KIND = { $ifNull: ['$error_kind', 'unknown'] };

/** Metric documents as readers see them (readMetric), without _id. */
export function readMetrics(docs: Document[]): MetricDoc[] {
  return docs.map((d) => strip<MetricDoc>(readMetric(d))!);
}
/** Error documents as readers see them (readError), without _id. */
export function readErrors(docs: Document[]): ErrorDoc[] {
  return docs.map((d) => strip<ErrorDoc>(readError(d))!);
}

/**
 * Runs `server` (an aggregation with $median or $percentile, MongoDB 7.0+) or `fallback` (the
 * values come here; any version), as the server's version said at open, or, when it could not
 * be read, as the server's first answer says.
 */
export async function serverOrFallback<T>(ctx: MongoContext, server: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
  if (ctx.percentiles !== 'fallback') {
    try {
      const result = await server();
      ctx.percentiles = 'server';
      return result;
    } catch (err) {
      if (ctx.percentiles === 'server' || !isUnknownOperator(err)) throw err;
      ctx.percentiles = 'fallback';
    }
  }
  return fallback();
}

// Calls cut short by the operator (SIGINT, SIGTERM) say nothing about the provider: no health
// figure counts them (SPEC 5).
export const NOT_ABORTED = { error_kind: { $ne: 'aborted' } };

export function inWindow(field: string, w: TimeWindow): Document {
  return { [field]: { $gte: w.since, $lt: w.until } };
}

/**
 * The last guard of SPEC 4.1: whatever a script or the ingest server checked before, a
 * simulated document is never written to MongoDB.
 * @throws StoreError saying why.
 */
export function refuseMock(doc: { provider: string; mock?: boolean }): void {
  if (isMockDocument(doc)) throw new StoreError(`Refusing to write ${doc.provider} to MongoDB: ${MOCK_ON_MONGODB}`);
}

/**
 * Inserts a copy of doc; a run_id or key already stored is a duplicate, not an error.
 * @throws PermanentStoreError for a document no retry can store; what the driver throws otherwise.
 */
export async function insertDoc(collection: CollectionLike, doc: object): Promise<InsertResult> {
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

// What servers before 7.0 answer to $percentile in $group: "unknown group operator
// '$percentile'" (code 15952) or, in $project-like contexts, InvalidPipelineOperator (168).
export function isUnknownOperator(err: unknown): boolean {
  const code = (err as { code?: number }).code;
  return code === 15952 || code === 168 || /unknown group operator|unrecognized expression/i.test(String((err as Error)?.message));
}
