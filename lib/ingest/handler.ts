// The ingest server (SPEC 9) as a function from request to response, so tests call it
// directly, plus the small node:http adapter that feeds it (body cap while reading, graceful
// close). Remote runners post their results here; the store decides duplicates by run_id.
//
// Responses: 200 {"status":"accepted"} or {"status":"duplicate"} (the upstream Python runner
// treats any 2xx without "status":"rejected" as success); 422 {"status":"rejected",…} for a
// model the catalog does not have enabled (422, not 409 or 403: the request is well formed
// and authorised, but its content cannot be accepted, and a retry will not change that until
// the operator enables the model); every other failure is one JSON shape,
// {"error":{"code","field","message"}}, with the codes in ERROR_CODES.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PROVIDERS, isProviderName, type Config } from '../config.ts';
import type { AgentRunDoc, ErrorDoc, MetricDoc, ModelDoc } from '../store/documents.ts';
import { isBenchmarked } from '../store/documents.ts';
import type { Logger } from '../log.ts';
import { PermanentStoreError, type InsertResult, type Store } from '../store/store.ts';
import { RESULT_PATHS, RESULT_TYPES, resultModel, type ResultDoc, type ResultType } from './routes.ts';
import { createClientAddressResolver } from './client-address.ts';
import { redactStored } from './redact-stored.ts';
import { checkSqliteWritable } from './sqlite-write-check.ts';
import { MOCK_ON_MONGODB, isMockDocument } from '../store/collection-rules.ts';
import {
  parseAgentRunPayload,
  parseBatchEnvelope,
  parseBatchItem,
  parseErrorPayload,
  parseMetricPayload,
  type FieldIssue,
  type Parsed,
} from './schema.ts';

export const ERROR_CODES = {
  unauthorized: 401,
  invalid_json: 400,
  invalid_body: 400,
  missing_field: 400,
  invalid_field: 400,
  invalid_query: 400,
  not_found: 404,
  method_not_allowed: 405,
  payload_too_large: 413,
  store_unavailable: 503,
  internal_error: 500,
  bad_request: 400,
  too_many_requests: 429,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

export interface IngestRequest {
  method: string;
  /** Path and query, as node:http gives it (`/runner-config?provider=groq`). */
  url: string;
  /** Lower-case header names, as node:http gives them. */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer | string;
  /** The peer's address, for throttling wrong keys and for log lines (absent in direct calls). */
  remoteAddress?: string;
}

export interface IngestResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Outcome = 'accepted' | 'duplicate' | 'rejected' | 'invalid' | 'unauthorized' | 'failed';

export interface IngestStats {
  /** Documents by outcome (a batch counts each item). */
  accepted: number;
  duplicate: number;
  rejected: number;
  invalid: number;
  unauthorized: number;
  failed: number;
  /** Warning lines not written because too many came at once. */
  suppressedLogLines: number;
}

/**
 * The one handler shape the HTTP layer serves. Every part is required, so a wrapper (the
 * status site's, any later one) that drops one does not compile; wrap with wrapIngestHandler,
 * which passes on every part it does not replace.
 */
export type IngestHandler = ((req: IngestRequest) => Promise<IngestResponse>) & IngestHandlerParts;

export interface IngestHandlerParts {
  /** Counts since the handler was created, for the server's periodic summary line. */
  stats(): IngestStats;
  /**
   * What can be answered from the request line and headers alone (bad target, no route,
   * wrong method, missing or wrong key), so the server answers it before reading any body;
   * null when the body is to be read.
   */
  preflight(req: Omit<IngestRequest, 'body'>): IngestResponse | null;
  /** A warning line, rate-limited with the handler's own (the HTTP layer's 413s and broken-off requests). */
  warn(line: string): void;
}

/**
 * A handler that answers some requests itself and passes the rest to inner: every part of
 * inner (stats, preflight, warn, and any added later) is passed on unless overrides replaces it.
 */
export function wrapIngestHandler(
  inner: IngestHandler,
  handle: (req: IngestRequest) => Promise<IngestResponse>,
  overrides: Partial<IngestHandlerParts> = {},
): IngestHandler {
  const parts = Object.fromEntries(
    Object.keys(inner).map((k) => [k, (...args: unknown[]) => (inner[k as keyof IngestHandlerParts] as (...a: unknown[]) => unknown)(...args)]),
  ) as unknown as IngestHandlerParts;
  return Object.assign(handle, parts, overrides);
}

export interface IngestHandlerOptions {
  store: Store;
  config: Config;
  logger: Logger;
  /** Monotonic milliseconds, for the models cache and log throttling. */
  now?: () => number;
  /** The wall clock in ms (default Date.now), against which a result's dates are judged (at most 366 days old, a few minutes ahead). */
  clock?: () => number;
  /**
   * What GET /health checks beyond the store's ping: that a write can succeed. Default: for a
   * SQLite store, its file, WAL/SHM files and folder are writable (sqlite-write-check.ts);
   * MongoDB's ping already makes a write.
   */
  writeCheck?: () => Promise<void>;
  /** How long the enabled-models lookup is cached (default 5 s). */
  modelsCacheMs?: number;
  /** How long GET /health waits for the store (default 2 s). */
  healthTimeoutMs?: number;
}

const ROUTES: Record<string, readonly string[]> = {
  '/ingest': ['POST'],
  '/ingest/error': ['POST'],
  '/ingest/batch': ['POST'],
  '/ingest/agent-run': ['POST'],
  '/runner-config': ['GET'],
  '/health': ['GET'],
};

// A flood of bad requests must not flood the journal: at most this many warning (and error) lines per
// minute; the rest are counted and reported in the periodic summary.
const WARN_LINES_PER_MINUTE = 20;
const STORE_UNAVAILABLE = 'the store is unavailable; retry later';
const RETRY_AFTER = { 'retry-after': '5' };
// Wrong keys from one client address beyond INGEST_WRONG_KEYS_PER_MINUTE (default 10) are
// answered 429 without a log line each. A right key is always let through, so an address
// shared by several runners (a proxy not named in INGEST_TRUSTED_PROXIES) cannot be locked out
// by someone guessing; the key's length is what makes guessing hopeless (INGEST_API_KEY is at
// least 16 characters). At most this many addresses are tracked:
const MAX_TRACKED_ADDRESSES = 10_000;
// /runner-config and the model checks cache per provider; only known providers are asked
// for, and the cache is bounded anyway.
const MAX_CACHED_PROVIDERS = 64;

/** Thrown by store calls inside the handler, so a store outage answers 503 (retry later), not 500. */
class StoreFailure extends Error {
  override name = 'StoreFailure';
}

type ItemResult =
  | { status: 'accepted' | 'duplicate'; run_id: string }
  | { status: 'rejected'; run_id: string; code: string; reason: string }
  | { status: 'invalid'; error: FieldIssue }
  | { status: 'failed'; run_id?: string; error: { code: 'store_unavailable'; message: string } };

/**
 * Builds the ingest handler. The handler never throws: unexpected errors are logged and
 * answered with a plain 500.
 */
export function createIngestHandler(options: IngestHandlerOptions): IngestHandler {
  const { store, config, logger } = options;
  const now = options.now ?? (() => performance.now());
  const clock = options.clock ?? Date.now;
  const writeCheck =
    options.writeCheck ?? (store.kind === 'sqlite' && store.location !== ':memory:' ? () => checkSqliteWritable(store.location) : async () => {});
  const wrongKeysPerMinute = config.ingest.wrongKeysPerMinute;
  const cacheMs = options.modelsCacheMs ?? 5000;
  const healthTimeoutMs = options.healthTimeoutMs ?? 2000;
  const keyDigest = config.ingest.apiKey ? digest(config.ingest.apiKey) : null;
  const stats: IngestStats = {
    accepted: 0,
    duplicate: 0,
    rejected: 0,
    invalid: 0,
    unauthorized: 0,
    failed: 0,
    suppressedLogLines: 0,
  };
  // One window for warnings and one for errors, so a flood of bad requests cannot hide
  // that the store is failing, and a store outage (an error line per request) cannot flood
  // the journal either.
  const windows = { warn: { start: -Infinity, lines: 0 }, error: { start: -Infinity, lines: 0 } };

  function limited(level: 'warn' | 'error', line: string): void {
    const t = now();
    const w = windows[level];
    if (t - w.start >= 60_000) {
      w.start = t;
      w.lines = 0;
    }
    if (w.lines < WARN_LINES_PER_MINUTE) {
      w.lines += 1;
      logger[level](line);
    } else {
      stats.suppressedLogLines += 1;
    }
  }

  function warn(line: string): void {
    limited('warn', line);
  }

  const wrongKeys = new Map<string, { since: number; count: number }>();
  // Requests the HTTP layer already let through preflight (by their headers object), with
  // their parsed target, so the handler does not parse it and hash the key a second time.
  const passed = new WeakMap<object, { target: string; url: URL }>();

  // Enabled models per provider, cached briefly so a burst of results does not query the
  // store per request. Loads are shared by concurrent requests.
  const cache = new Map<string, { at: number; models: Map<string, ModelDoc> }>();
  const loading = new Map<string, Promise<Map<string, ModelDoc>>>();

  async function enabledModels(provider: string): Promise<Map<string, ModelDoc>> {
    const hit = cache.get(provider);
    if (hit && now() - hit.at < cacheMs) return hit.models;
    let pending = loading.get(provider);
    if (!pending) {
      pending = storeCall(() => store.listModels({ provider, benchmarkedOnly: true }))
        .then((list) => {
          const models = new Map(list.filter(isBenchmarked).map((m) => [m.model_id, m]));
          cache.delete(provider);
          if (cache.size >= MAX_CACHED_PROVIDERS) cache.delete(cache.keys().next().value!);
          cache.set(provider, { at: now(), models });
          return models;
        })
        .finally(() => loading.delete(provider));
      loading.set(provider, pending);
    }
    return pending;
  }

  /** Null when the model is enabled; otherwise why not. */
  async function modelRefusal(provider: string, modelName: string): Promise<{ code: string; reason: string } | null> {
    if ((await enabledModels(provider)).has(modelName)) return null;
    // Not in the cached list: ask the store, so a model enabled a moment ago is not refused
    // for the cache's lifetime, and the reason is precise.
    const model = await storeCall(() => store.getModel(provider, modelName));
    const target = `${provider}/${modelName}`;
    if (!model) return { code: 'model_unknown', reason: `model ${target} is not in the catalog` };
    if (isBenchmarked(model)) {
      cache.get(provider)?.models.set(modelName, model);
      return null;
    }
    if (model.deprecated === true) return { code: 'model_deprecated', reason: `model ${target} is deprecated` };
    return { code: 'model_disabled', reason: `model ${target} is disabled${model.disabled_reason ? ` (${model.disabled_reason})` : ''}` };
  }

  // Each kind of result: how it is validated and where it is stored.
  const kinds: Record<ResultType, { parse: (payload: unknown) => Parsed<ResultDoc>; insert: (doc: ResultDoc) => Promise<InsertResult> }> = {
    metric: { parse: (p) => parseMetricPayload(p, { now: clock() }), insert: (doc) => store.insertMetric(doc as MetricDoc) },
    error: { parse: (p) => parseErrorPayload(p, { now: clock() }), insert: (doc) => store.insertError(doc as ErrorDoc) },
    agent_run: { parse: (p) => parseAgentRunPayload(p, { now: clock() }), insert: (doc) => store.insertAgentRun(doc as AgentRunDoc) },
  };

  async function ingestOne(type: ResultType, payload: unknown): Promise<ItemResult> {
    const parsed = kinds[type].parse(payload);
    if (!parsed.ok) return { status: 'invalid', error: parsed.issue };
    const doc = redactStored(parsed.value, config.secrets);
    const modelName = resultModel(doc);
    // SPEC 4.1: simulated rows never reach the MongoDB the dashboard publishes (SQLite keeps them, for trials).
    if (store.kind === 'mongodb' && isMockDocument(doc)) {
      return { status: 'rejected', run_id: doc.run_id, code: 'mock_refused', reason: `${doc.provider}/${modelName}: ${MOCK_ON_MONGODB}` };
    }
    const refusal = await modelRefusal(doc.provider, modelName);
    if (refusal) return { status: 'rejected', run_id: doc.run_id, ...refusal };
    let result;
    try {
      result = await storeCall(() => kinds[type].insert(doc));
    } catch (err) {
      // The store will never take this document: the sender sets it aside and goes on.
      if (err instanceof PermanentStoreError) return { status: 'rejected', run_id: doc.run_id, code: 'store_refused', reason: err.message };
      throw err;
    }
    if (result !== 'stored' && result !== 'duplicate') throw new Error(`store answered ${String(result)} to an insert`);
    return { status: result === 'stored' ? 'accepted' : 'duplicate', run_id: doc.run_id };
  }

  function count(r: ItemResult): void {
    stats[r.status] += 1;
  }

  async function single(type: ResultType, body: unknown, path: string): Promise<IngestResponse> {
    const r = await ingestOne(type, body);
    count(r);
    switch (r.status) {
      case 'accepted':
      case 'duplicate':
        return json(200, { status: r.status, run_id: r.run_id });
      case 'rejected':
        warn(`Ingest ${path}: rejected run ${r.run_id}: ${r.reason}`);
        return json(422, { status: 'rejected', code: r.code, reason: r.reason, run_id: r.run_id });
      case 'invalid':
        warn(`Ingest ${path}: ${r.error.code}: ${r.error.message}`);
        return errorResponse(r.error.code, r.error.message, r.error.field);
      case 'failed':
        return errorResponse('store_unavailable', STORE_UNAVAILABLE);
    }
  }

  async function batch(body: unknown): Promise<IngestResponse> {
    const envelope = parseBatchEnvelope(body);
    if (!envelope.ok) {
      stats.invalid += 1;
      warn(`Ingest /ingest/batch: ${envelope.issue.code}: ${envelope.issue.message}`);
      return errorResponse(envelope.issue.code, envelope.issue.message, envelope.issue.field);
    }
    // Field names in per-item errors are relative to the item (`type`) or its doc (`run_ts`).
    const results: Array<ItemResult & { index: number }> = [];
    let storeDown: string | null = null;
    for (const [index, raw] of envelope.value.entries()) {
      let r: ItemResult;
      if (storeDown) {
        // The store failed on an earlier item: do not wait on it again for every item left.
        r = { status: 'failed', error: { code: 'store_unavailable', message: storeDown } };
      } else {
        const item = parseBatchItem(raw);
        if (!item.ok) {
          r = { status: 'invalid', error: item.issue };
        } else {
          try {
            r = await ingestOne(item.value.type, item.value.doc);
          } catch (err) {
            if (!(err instanceof StoreFailure)) throw err;
            // The detail goes to the journal only: a driver's message may name hosts or users.
            limited('error', `Ingest /ingest/batch: item ${index} of ${envelope.value.length}: ${err.message}`);
            storeDown = STORE_UNAVAILABLE;
            r = { status: 'failed', error: { code: 'store_unavailable', message: storeDown } };
          }
        }
      }
      count(r);
      results.push({ index, ...r });
    }
    const tally = { accepted: 0, duplicate: 0, rejected: 0, invalid: 0, failed: 0 };
    for (const r of results) tally[r.status] += 1;
    if (tally.rejected + tally.invalid > 0) {
      const firstBad = results.find((r) => r.status === 'rejected' || r.status === 'invalid');
      const why = firstBad?.status === 'rejected' ? firstBad.reason : firstBad?.status === 'invalid' ? firstBad.error.message : '';
      warn(`Ingest /ingest/batch: ${tally.rejected} rejected, ${tally.invalid} invalid of ${results.length} (first: ${why})`);
    }
    // 503 tells the runner to come back later; the per-item results still say which items
    // were stored before the store failed, so it deletes exactly those from its spool.
    return json(storeDown ? 503 : 200, { status: storeDown ? 'partial' : 'ok', counts: tally, results }, storeDown ? RETRY_AFTER : {});
  }

  async function runnerConfig(url: URL): Promise<IngestResponse> {
    const provider = url.searchParams.get('provider')?.trim();
    if (!provider) return errorResponse('invalid_query', 'the provider query parameter is required', 'provider');
    if (!isProviderName(provider)) {
      return errorResponse('invalid_query', `unknown provider ${JSON.stringify(provider.slice(0, 64))}; known: ${PROVIDERS.join(', ')}`, 'provider');
    }
    const models = [...(await enabledModels(provider)).values()].sort((a, b) => a.model_id.localeCompare(b.model_id));
    return json(200, {
      provider,
      models: models.map((m) => ({
        provider: m.provider,
        model_id: m.model_id,
        display_name: m.display_name ?? null,
        enabled: m.enabled,
        deprecated: m.deprecated,
        created_at: m.created_at,
        misc: m.misc ?? {},
      })),
    });
  }

  async function health(): Promise<IngestResponse> {
    try {
      await withTimeout(store.ping(), healthTimeoutMs);
      await withTimeout(writeCheck(), healthTimeoutMs);
      return json(200, { status: 'ok', store: store.kind });
    } catch (err) {
      warn(`Ingest /health: store ${store.kind} cannot take a write: ${(err as Error).message}`);
      return json(503, { status: 'unavailable', store: store.kind }, RETRY_AFTER);
    }
  }

  function authorized(headers: IngestRequest['headers']): boolean {
    if (!keyDigest) return config.ingest.allowNoKey;
    const given = headerValue(headers['x-api-key']) ?? bearer(headerValue(headers.authorization));
    if (given === null) return false;
    // Equal-length digests make the comparison constant-time whatever the key's length.
    return timingSafeEqual(digest(given), keyDigest);
  }

  /** Counts a wrong key from address; true once the address is over its allowance this minute. */
  function overWrongKeyAllowance(address: string): boolean {
    const t = now();
    let entry = wrongKeys.get(address);
    if (!entry || t - entry.since >= 60_000) {
      if (wrongKeys.size >= MAX_TRACKED_ADDRESSES) {
        for (const [a, e] of wrongKeys) if (t - e.since >= 60_000) wrongKeys.delete(a);
        if (wrongKeys.size >= MAX_TRACKED_ADDRESSES) wrongKeys.delete(wrongKeys.keys().next().value!);
      }
      entry = { since: t, count: 0 };
      wrongKeys.set(address, entry);
    }
    entry.count += 1;
    return entry.count > wrongKeysPerMinute;
  }

  function preflight(req: Omit<IngestRequest, 'body'>): IngestResponse | null {
    const r = check(req);
    return r instanceof URL ? null : r;
  }

  /** The parsed target of a request that may go on, or the answer that refuses it. */
  function check(req: Omit<IngestRequest, 'body'>): URL | IngestResponse {
    const url = parseTarget(req.url);
    if (!url) {
      stats.invalid += 1;
      warn(`Ingest ${safeMethod(req.method)} from ${req.remoteAddress ?? 'a direct call'}: the request-target is not a path`);
      return errorResponse('bad_request', 'the request-target is not a valid path');
    }
    const allowed = ROUTES[url.pathname];
    if (!allowed) return errorResponse('not_found', `no route ${url.pathname.slice(0, 200)}`);
    if (!allowed.includes(req.method)) {
      return errorResponse('method_not_allowed', `${safeMethod(req.method)} is not allowed on ${url.pathname}`, null, { allow: allowed.join(', ') });
    }
    // /health says only "can take a write or not", so monitors can poll it without the key.
    if (url.pathname === '/health') return url;
    if (authorized(req.headers)) {
      passed.set(req.headers, { target: req.url, url });
      return url;
    }
    stats.unauthorized += 1;
    const from = req.remoteAddress ?? 'a direct call';
    if (req.remoteAddress && overWrongKeyAllowance(req.remoteAddress)) {
      stats.suppressedLogLines += 1;
      return errorResponse('too_many_requests', 'too many requests with a missing or wrong API key; retry later', null, { 'retry-after': '60' });
    }
    warn(`Ingest ${req.method} ${url.pathname} from ${from}: missing or wrong API key`);
    return errorResponse('unauthorized', 'missing or wrong API key (send X-API-Key or Authorization: Bearer)', null, {
      'www-authenticate': 'Bearer',
    });
  }

  async function handle(req: IngestRequest): Promise<IngestResponse> {
    const earlier = passed.get(req.headers);
    const url = earlier?.target === req.url ? earlier.url : check(req);
    if (!(url instanceof URL)) return url;
    if (url.pathname === '/health') return health();
    if (url.pathname === '/runner-config') return runnerConfig(url);

    let body: unknown;
    try {
      body = JSON.parse(typeof req.body === 'string' ? req.body : req.body.toString('utf8'));
    } catch (err) {
      stats.invalid += 1;
      warn(`Ingest ${url.pathname}: malformed JSON`);
      return errorResponse('invalid_json', `the body is not valid JSON: ${(err as Error).message}`);
    }
    if (url.pathname === '/ingest/batch') return batch(body);
    return single(RESULT_TYPES.find((t) => RESULT_PATHS[t] === url.pathname)!, body, url.pathname);
  }

  const handler = async (req: IngestRequest): Promise<IngestResponse> => {
    try {
      return await handle(req);
    } catch (err) {
      stats.failed += 1;
      if (err instanceof StoreFailure) {
        limited('error', `Ingest ${safeMethod(req.method)} ${safePath(req.url)}: ${err.message}`);
        return errorResponse('store_unavailable', STORE_UNAVAILABLE, null, RETRY_AFTER);
      }
      // One line, no stack: a stack is many journal lines, and says nothing to the operator.
      limited('error', `Ingest ${safeMethod(req.method)} ${safePath(req.url)} failed: ${err instanceof Error ? err.message : String(err)}`);
      return errorResponse('internal_error', 'internal error');
    }
  };
  return Object.assign(handler, { stats: () => ({ ...stats }), preflight, warn });
}

/**
 * Runs a store call; any failure becomes a StoreFailure naming the store, never a stack,
 * except a PermanentStoreError, which the caller answers for the one document.
 */
async function storeCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof PermanentStoreError) throw err;
    throw new StoreFailure(`store call failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s, 'utf8').digest();
}

function headerValue(v: string | string[] | undefined): string | null {
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s === '' ? null : s;
}

function bearer(v: string | null): string | null {
  const m = v ? /^Bearer\s+(\S+)\s*$/i.exec(v) : null;
  return m?.[1] ?? null;
}

function safePath(url: string): string {
  return JSON.stringify(url.split('?')[0]!.slice(0, 200)).slice(1, -1);
}

function safeMethod(method: string): string {
  return method.replace(/[^A-Z-]/gi, '?').slice(0, 16);
}

/** The request-target as a URL, or null when it is not one (`http://[/`, `//[`). */
function parseTarget(target: string): URL | null {
  try {
    return new URL(target, 'http://ingest.invalid');
  } catch {
    return null;
  }
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

function json(status: number, body: unknown, headers: Record<string, string> = {}): IngestResponse {
  return { status, headers: { ...JSON_HEADERS, ...headers }, body: JSON.stringify(body) };
}

/** The one error shape: {"error":{"code","field","message"}}. */
export function errorResponse(
  code: ErrorCode,
  message: string,
  field: string | null = null,
  headers: Record<string, string> = {},
): IngestResponse {
  return json(ERROR_CODES[code], { error: { code, field, message } }, headers);
}

/** A one-line summary of what changed between two stats readings, or null when nothing did. */
export function formatStatsDelta(before: IngestStats, after: IngestStats, minutes: number): string | null {
  const keys = Object.keys(after) as Array<keyof IngestStats>;
  const delta = Object.fromEntries(keys.map((k) => [k, after[k] - before[k]])) as unknown as IngestStats;
  if (keys.every((k) => delta[k] === 0)) return null;
  const parts = [
    `${delta.accepted} accepted`,
    `${delta.duplicate} duplicate`,
    `${delta.rejected} rejected`,
    `${delta.invalid} invalid`,
    `${delta.unauthorized} unauthorized`,
    `${delta.failed} failed`,
  ];
  if (delta.suppressedLogLines > 0) parts.push(`${delta.suppressedLogLines} warning lines suppressed`);
  return `Ingest in the last ${minutes} min: ${parts.join(', ')}`;
}

export interface ListenOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  logger: Logger;
  /** A whole request (headers and body) must arrive within this (default 30 s): slow senders are cut off. */
  requestTimeoutMs?: number;
  /** The request line and headers must arrive within this (default 10 s). */
  headersTimeoutMs?: number;
  /** How long close() waits for requests in flight before cutting connections (default 10 s). */
  closeGraceMs?: number;
  /** Open connections at most (default 256, well under the usual 1,024 file descriptors); more are refused. */
  maxConnections?: number;
  /**
   * Open connections from one address at most, and requests in flight from one client
   * address (default 64). Connections from a trusted proxy are not counted per address (every
   * runner behind it shares it); their requests are, by the client address the proxy forwards.
   */
  maxConnectionsPerAddress?: number;
  /** Addresses and CIDRs of reverse proxies whose X-Forwarded-For / Forwarded is believed (INGEST_TRUSTED_PROXIES). */
  trustedProxies?: readonly string[];
  /** How long a connection closed after an early answer (413, 401) is still read from, so the sender sees the answer, not a reset (default 2 s). */
  lingerMs?: number;
}

export interface IngestServer {
  server: Server;
  /** http://host:port of the bound socket. */
  url: string;
  port: number;
  /** Stops accepting, lets requests in flight finish (up to closeGraceMs), then resolves. */
  close(): Promise<void>;
}

/**
 * Serves the handler over node:http. What the headers decide (route, method, key, declared
 * size) is answered before any body is read, including for `Expect: 100-continue`; a body
 * larger than maxBodyBytes is answered 413 without being buffered; the connection is then
 * closed gracefully.
 * @throws the listen error (e.g. EADDRINUSE) when the port cannot be bound.
 */
export async function listenIngest(handler: IngestHandler, options: ListenOptions): Promise<IngestServer> {
  const { maxBodyBytes } = options;
  const warn = handler.warn;
  const lingerMs = options.lingerMs ?? 2000;
  const perAddress = options.maxConnectionsPerAddress ?? 64;
  const clients = createClientAddressResolver(options.trustedProxies ?? []);
  // The client address of each request, resolved once from its socket and headers.
  const clientOf = new WeakMap<IncomingMessage, string>();
  const client = (req: IncomingMessage): string => {
    let a = clientOf.get(req);
    if (a === undefined) {
      a = clients.resolve(req.socket.remoteAddress ?? '', req.headers);
      clientOf.set(req, a);
    }
    return a;
  };
  const inFlight = new Map<string, number>();
  let closing = false;
  const server = createServer(
    {
      requestTimeout: options.requestTimeoutMs ?? 30_000,
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      // Node checks both timeouts only this often (30 s by default), which made them ~60 s.
      connectionsCheckingInterval: 1000,
    },
    (req, res) => {
      // Only reading the body can fail here (the handler never throws): the sender went away.
      serve(req, res).catch((err) => {
        warn(`Ingest ${safeMethod(req.method ?? '')} ${safePath(req.url ?? '')} from ${client(req)}: request broken off: ${(err as Error).message}`);
        res.destroy();
      });
    },
  );
  server.maxConnections = options.maxConnections ?? 256;
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? '';
    if (clients.trusted(address)) return;
    const n = (open.get(address) ?? 0) + 1;
    if (n > perAddress) {
      warn(`Ingest: more than ${perAddress} connections from ${address}; refused one`);
      socket.destroy();
      return;
    }
    open.set(address, n);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
  });
  // Expect: 100-continue: the sender waits for our go-ahead, so refuse before it sends the body.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    const early = earlyAnswer(req);
    if (early) {
      refuse(req, res, early);
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });

  function earlyAnswer(req: IncomingMessage): IngestResponse | null {
    const head = { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, remoteAddress: client(req) };
    const refused = handler.preflight(head);
    if (refused) return refused;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodyBytes) return tooLarge(req);
    return null;
  }

  function tooLarge(req: IncomingMessage): IngestResponse {
    warn(`Ingest ${safeMethod(req.method ?? '')} ${safePath(req.url ?? '')} from ${client(req)}: body larger than ${maxBodyBytes} bytes refused`);
    return errorResponse('payload_too_large', `the body exceeds ${maxBodyBytes} bytes`);
  }

  /** Answers without reading the rest of the body, then closes the connection without a reset. */
  function refuse(req: IncomingMessage, res: ServerResponse, response: IngestResponse): void {
    lingerOnClose(req.socket, lingerMs);
    send(res, response, true);
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const early = earlyAnswer(req);
    if (early) {
      refuse(req, res, early);
      return;
    }
    // Per client: behind a proxy one connection count per address cannot tell runners apart.
    const from = client(req);
    const n = (inFlight.get(from) ?? 0) + 1;
    if (n > perAddress) {
      warn(`Ingest: more than ${perAddress} requests in flight from ${from}; refused one`);
      refuse(req, res, errorResponse('too_many_requests', `more than ${perAddress} requests in flight from ${from}; retry later`, null, RETRY_AFTER));
      return;
    }
    inFlight.set(from, n);
    try {
      const body = await readBody(req, maxBodyBytes);
      if (body === null) {
        refuse(req, res, tooLarge(req));
        return;
      }
      const response = await handler({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body, ...(from ? { remoteAddress: from } : {}) });
      // While shutting down, a keep-alive connection would hold close() open until it idles out.
      send(res, response, closing);
    } finally {
      const left = (inFlight.get(from) ?? 1) - 1;
      if (left > 0) inFlight.set(from, left);
      else inFlight.delete(from);
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () => {
      closing = true;
      return closeServer(server, options.closeGraceMs ?? 10_000);
    },
  };
}

/**
 * Lingering close: node:http ends a `Connection: close` response by destroying the socket,
 * and closing a socket with unread bytes makes the kernel send a reset, which a sender still
 * uploading sees instead of our answer. Instead, the write side is ended (the answer goes
 * out whole), the rest of the upload is read and discarded, and the socket is destroyed when
 * the sender is done or after ms.
 */
function lingerOnClose(socket: Socket, ms: number): void {
  socket.destroySoon = function lingeringDestroySoon(this: Socket) {
    const timer = setTimeout(() => this.destroy(), ms);
    timer.unref();
    this.once('end', () => {
      clearTimeout(timer);
      this.destroy();
    });
    this.once('close', () => clearTimeout(timer));
    this.end();
    this.resume();
  };
}

/** Reads the body up to max bytes; null (and nothing more buffered) when it is larger. */
function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > max) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        done = true;
        req.off('data', onData);
        chunks.length = 0;
        resolve(null);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => {
      if (!done) resolve(Buffer.concat(chunks, size));
    });
    req.once('error', (err) => {
      if (!done) reject(err);
    });
  });
}

function send(res: ServerResponse, response: IngestResponse, closeConnection: boolean): void {
  const headers: Record<string, string | number> = { ...response.headers, 'content-length': Buffer.byteLength(response.body) };
  if (closeConnection) headers.connection = 'close';
  res.writeHead(response.status, headers);
  res.end(response.body);
}

function closeServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    // close() stops accepting and, since Node 19, closes idle keep-alive connections;
    // requests in flight finish. After the grace period, whatever is left is cut.
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
