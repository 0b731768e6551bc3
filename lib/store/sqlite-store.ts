// The embedded store: one SQLite file through node:sqlite, no set-up. Several processes may
// write at once (a sweep and the ingest server), so the file runs in WAL mode with a busy
// timeout. Each document is kept whole as JSON (dates tagged so they come back as Dates),
// beside the columns that queries filter, group and sort on.
import { mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  AgentRunDoc,
  ErrorDoc,
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
import { normalizeModel } from './documents.ts';
import { metricsCollectionFor, type MetricsCollection } from './collection-rules.ts';
import { PUBLISHED_SCENARIO_ID } from './documents.ts';
import {
  PermanentStoreError,
  StoreError,
  type AgentKpiFilter,
  type AgentKpiSummary,
  type AgentRunFilter,
  type DailyMedian,
  type DailySpend,
  type FingerprintSummary,
  type InsertResult,
  type KindCount,
  type KpiSummary,
  type MetricPoint,
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
import { summarizeGroups, type GroupFailures, type GroupValues } from './kpis.ts';
import { agentFailure, groupAgentRuns, summarizeAgentGroups, type AgentRunValues } from './kpis.ts';

/** The published metrics table and the probe one share one shape. */
function metricsTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  model_name TEXT NOT NULL,
  run_ts INTEGER NOT NULL,
  tokens_per_second REAL,
  time_to_first_token REAL,
  doc TEXT NOT NULL
);`;
}

const SCHEMA = `
${metricsTableSql('metrics')}
-- metrics_model_speed below serves every per-model range; this older index is its prefix.
DROP INDEX IF EXISTS metrics_model_ts;
CREATE INDEX IF NOT EXISTS metrics_ts ON metrics (run_ts);
-- Covers the health report's per-model ranges of tokens/s and TTFT, so they read the index
-- alone and never the documents (a 1.5 KB row each: 10x the pages on a million rows).
CREATE INDEX IF NOT EXISTS metrics_model_speed ON metrics (provider, model_name, run_ts, tokens_per_second, time_to_first_token);
CREATE TABLE IF NOT EXISTS errors (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  model_name TEXT NOT NULL,
  ts INTEGER NOT NULL,
  stage TEXT NOT NULL,
  error_kind TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  message TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS errors_model_ts ON errors (provider, model_name, ts);
CREATE INDEX IF NOT EXISTS errors_ts ON errors (ts);
CREATE INDEX IF NOT EXISTS errors_fingerprint_ts ON errors (fingerprint, ts);
CREATE TABLE IF NOT EXISTS models (
  provider TEXT NOT NULL,
  model_id TEXT NOT NULL,
  enabled INTEGER NOT NULL,
  deprecated INTEGER NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (provider, model_id)
);
CREATE TABLE IF NOT EXISTS openrouter_catalog (
  openrouter_id TEXT PRIMARY KEY,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS provider_catalog (
  provider TEXT NOT NULL,
  model_id TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (provider, model_id)
);
-- SPEC 4.1: metric rows of every profile but the published one, apart (MongoDB: metrics_cloud_probe).
${metricsTableSql('metrics_probe')}
CREATE INDEX IF NOT EXISTS metrics_probe_model_ts ON metrics_probe (provider, model_name, run_ts);
-- SPEC 4.7: one freshness document per model.
CREATE TABLE IF NOT EXISTS bench_model_health (
  provider TEXT NOT NULL,
  model_id TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (provider, model_id)
);
`;

const METRICS_TABLE: Record<MetricsCollection, string> = { published: 'metrics', probe: 'metrics_probe' };

// Scenarios (SPEC 4.5) and TinyFish agent runs (SPEC 4.6).
const SCENARIO_SCHEMA = `
CREATE TABLE IF NOT EXISTS scenarios (
  scenario_id TEXT PRIMARY KEY,
  enabled INTEGER NOT NULL,
  kind TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS agent_runs (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  automation TEXT NOT NULL,
  scenario_id TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS agent_runs_started ON agent_runs (started_at);
CREATE INDEX IF NOT EXISTS agent_runs_pair ON agent_runs (automation, scenario_id, started_at);
`;

// Models a sweep did not start for the daily budget (SPEC 17), read by the health mail.
const SWEEP_SKIP_SCHEMA = `
CREATE TABLE IF NOT EXISTS sweep_skips (
  id INTEGER PRIMARY KEY,
  skipped_at INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sweep_skips_at ON sweep_skips (skipped_at);
`;

/** JSON with Dates tagged as {"$date": ISO}, so they come back as Dates. */
export function encodeDoc(doc: unknown): string {
  return JSON.stringify(doc, function (this: Record<string, unknown>, key, value) {
    const original = this[key];
    return original instanceof Date ? { $date: original.toISOString() } : value;
  });
}

export function decodeDoc<T>(text: string): T {
  return JSON.parse(text, (_key, value) =>
    value && typeof value === 'object' && !Array.isArray(value) && typeof value.$date === 'string' && Object.keys(value).length === 1
      ? new Date(value.$date)
      : value,
  ) as T;
}

const ms = (d: Date) => d.getTime();

type LastSuccessRow = { provider: string; model_name: string; ts: number; sweep: string | null };
function toLastSuccess(r: LastSuccessRow): LastSuccess {
  return { provider: r.provider, model_name: r.model_name, ts: new Date(r.ts), sweep_started_at: r.sweep ? new Date(r.sweep) : null };
}
const DAY_MS = 86_400_000;

// Every (provider, model_name) that has metrics, by a loose index scan: one index seek per
// model however long the history, where DISTINCT would read every row. The report's
// queries then read each model's time range from metrics_model_speed: contiguous,
// index-only and already grouped, so SQLite never sorts a week of rows into groups (a
// GROUP BY or window function over 875,000 rows took 1.5 to 7 s; this takes a fraction).
const METRIC_MODELS = `k(provider, model_name) AS (
  SELECT * FROM (SELECT provider, model_name FROM metrics ORDER BY provider, model_name LIMIT 1)
  UNION ALL
  SELECT m.provider, m.model_name FROM k JOIN metrics m ON m.id = COALESCE(
    (SELECT id FROM metrics WHERE provider = k.provider AND model_name > k.model_name ORDER BY provider, model_name LIMIT 1),
    (SELECT id FROM metrics WHERE provider > k.provider ORDER BY provider, model_name LIMIT 1))
)`;
const MODEL_RANGE = 'provider = k.provider AND model_name = k.model_name AND run_ts >= ? AND run_ts < ?';

/**
 * Opens (creating if needed) the SQLite store at path.
 *
 * busyTimeoutMs is how long a call waits for another process's lock (a sweep, discovery)
 * before it fails. node:sqlite waits synchronously, on the event loop, so SQLite itself is
 * given only BUSY_SLICE_MS per attempt and the rest of the wait is spent between attempts,
 * where the server goes on answering other requests.
 * @throws StoreError when the file cannot be opened or is not a database.
 */
export function openSqliteStore(path: string, options: { busyTimeoutMs?: number } = {}): Store {
  if (path !== ':memory:') {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new StoreError(`Cannot open SQLite store ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  const store = new SqliteStore(openDatabase(path), path, options.busyTimeoutMs ?? 10_000);
  return guardCalls(store);
}

const BUSY_SLICE_MS = 5;
const PING_BUSY_MS = 250;
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_TOOBIG = 18;
const SQLITE_CONSTRAINT = 19;

function openDatabase(path: string): DatabaseSync {
  try {
    const db = new DatabaseSync(path, { timeout: BUSY_SLICE_MS });
    db.exec('PRAGMA journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the
    // last transactions, and each result is its own transaction.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(SCHEMA);
    db.exec(SCENARIO_SCHEMA);
    db.exec(SWEEP_SKIP_SCHEMA);
    db.exec(KPI_INDEXES);
    db.exec(AGENT_KPI_INDEX);
    db.function('kpi_collect', KPI_COLUMNS.collect);
    addSpendColumns(db);
    return db;
  } catch (err) {
    throw new StoreError(`Cannot open SQLite store ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** The file a path names now, or null when there is none: device and inode, as a string. */
function fileIdentity(path: string): string | null {
  const st = statSync(path, { throwIfNoEntry: false });
  return st ? `${st.dev}:${st.ino}` : null;
}

function sqliteCode(err: unknown): number | null {
  const code = (err as { errcode?: unknown }).errcode;
  // Extended result codes (SQLITE_BUSY_SNAPSHOT = 517, …) carry the primary code in the low byte.
  return typeof code === 'number' ? code & 0xff : null;
}

/**
 * Every call of the store goes through SqliteStore.run (file identity, lock waits that
 * yield), including methods added later, without each method having to remember it.
 */
function guardCalls(store: SqliteStore): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      if (prop === 'close' || prop === 'run') return value.bind(target);
      const call = (...args: unknown[]) => () => (value as (...a: unknown[]) => unknown).apply(target, args);
      // A health check says at once that a write cannot get through; it does not queue behind the lock.
      return (...args: unknown[]) => target.run(call(...args), prop === 'ping' ? PING_BUSY_MS : undefined);
    },
  });
}

/**
 * SPEC 17: cost_usd as a column beside the document, with a covering index, so a month of spend
 * reads the index alone (json_extract over a month of documents took seconds). Added by ALTER,
 * which SQLite does without rewriting the table, so files from before it gain it on open; their
 * rows have no cost, and NULL is what they get.
 */
function addSpendColumns(db: DatabaseSync): void {
  for (const table of Object.values(METRICS_TABLE)) {
    const columns = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as Array<{ name: string }>;
    if (!columns.some((c) => c.name === 'cost_usd')) {
      try {
        db.exec(`ALTER TABLE ${table} ADD COLUMN cost_usd REAL`);
      } catch (err) {
        // Another process opening the same file added it first.
        if (!/duplicate column/i.test((err as Error).message)) throw err;
      }
    }
    db.exec(`CREATE INDEX IF NOT EXISTS ${table}_spend ON ${table} (run_ts, provider, model_name, cost_usd)`);
  }
}

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #busyTimeoutMs: number;
  /** Device and inode of the file this connection has open (null for :memory:). */
  #identity: string | null;
  /** Device and inode of the -wal file beside it, which SQLite keeps while the connection is open. */
  #walIdentity: string | null;
  #closed = false;

  constructor(
    db: DatabaseSync,
    readonly location: string,
    busyTimeoutMs: number,
  ) {
    this.#db = db;
    this.#busyTimeoutMs = busyTimeoutMs;
    this.#identity = location === ':memory:' ? null : fileIdentity(location);
    this.#walIdentity = location === ':memory:' ? null : fileIdentity(`${location}-wal`);
  }

  /**
   * Runs one store call, retrying while another process holds the lock, then checks that
   * the path still names the open file before answering, so nothing is acknowledged that
   * went into a file nobody will read. One stat per call is enough: a write that went into
   * the replaced file is answered 503 and retried into the new one, where its run_id is not
   * yet stored.
   * @throws StoreError when the file was removed or replaced (the file now at the path is
   *   opened for the next call) or the lock was not released within busyTimeoutMs;
   *   PermanentStoreError for a write SQLite refuses whatever the retry (too big, a constraint).
   */
  async run<T>(call: () => T | Promise<T>, busyTimeoutMs = this.#busyTimeoutMs): Promise<T> {
    const deadline = performance.now() + busyTimeoutMs;
    for (let attempt = 0; ; attempt++) {
      if (!this.#db.isOpen) this.#checkFile();
      let result: T;
      try {
        result = await call();
      } catch (err) {
        const code = sqliteCode(err);
        if (code === SQLITE_BUSY || code === SQLITE_LOCKED) {
          const left = deadline - performance.now();
          if (left <= 0) {
            throw new StoreError(`SQLite store ${this.location} is locked by another process (waited ${busyTimeoutMs} ms)`, { cause: err });
          }
          await sleep(Math.min(left, 2 ** Math.min(attempt, 5) * BUSY_SLICE_MS));
          continue;
        }
        if (code === SQLITE_TOOBIG || (code === SQLITE_CONSTRAINT && !/UNIQUE/i.test((err as Error).message))) {
          throw new PermanentStoreError(`SQLite store ${this.location} refuses the write: ${(err as Error).message}`, { cause: err });
        }
        throw err;
      }
      this.#checkFile();
      return result;
    }
  }

  #checkFile(): void {
    if (this.#closed) throw new StoreError(`SQLite store ${this.location} is closed`);
    if (this.location === ':memory:') return;
    const now = fileIdentity(this.location);
    if (now !== null && now === this.#identity) return;
    // The old connection lets go of the -wal and -shm beside the path before they are set aside.
    if (this.#db.isOpen) this.#db.close();
    this.#statements.clear();
    // SQLite does not checkpoint a moved file on close, and leaves its -wal beside the path:
    // opened with the new file, its frames would be laid over the new file's pages. It is
    // set aside (it holds what was written to the old file since its last checkpoint).
    const wal = `${this.location}-wal`;
    if (this.#walIdentity !== null && fileIdentity(wal) === this.#walIdentity) {
      renameSync(wal, `${wal}.orphaned-${Date.now()}`);
      rmSync(`${this.location}-shm`, { force: true });
    }
    if (now === null) {
      this.#identity = null;
      // Not recreated: an empty new file would hide what happened from the operator, and the
      // runners keep their results until the file is restored or the server restarted.
      throw new StoreError(`SQLite store ${this.location} was removed while open: nothing is written until it is back`);
    }
    const reopened = this.#identity !== null;
    this.#db = openDatabase(this.location);
    this.#identity = fileIdentity(this.location);
    this.#walIdentity = fileIdentity(wal);
    throw new StoreError(
      `SQLite store ${this.location} was ${reopened ? 'replaced' : 'restored'} while open: reopened it; the call is to be retried`,
    );
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  #all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    // node:sqlite returns null-prototype rows; callers get plain objects.
    return this.#stmt(sql).all(...params).map((row) => ({ ...row })) as T[];
  }

  #docs<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.#all<{ doc: string }>(sql, ...params).map((r) => decodeDoc<T>(r.doc));
  }

  async listModels(filter: ModelFilter = {}): Promise<ModelDoc[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (filter.provider) {
      where.push('provider = ?');
      params.push(filter.provider);
    }
    if (filter.benchmarkedOnly) where.push('enabled = 1 AND deprecated = 0');
    const sql = `SELECT doc FROM models ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY provider, model_id`;
    return this.#docs<ModelDoc>(sql, ...params).map(normalizeModel);
  }

  async getModel(provider: string, modelId: string): Promise<ModelDoc | null> {
    const doc = this.#docs<ModelDoc>('SELECT doc FROM models WHERE provider = ? AND model_id = ?', provider, modelId)[0];
    return doc ? normalizeModel(doc) : null;
  }

  async findModelsIgnoreCase(provider: string, modelId: string): Promise<ModelDoc[]> {
    return this.#docs<ModelDoc>(
      'SELECT doc FROM models WHERE provider = ? AND lower(model_id) = lower(?) ORDER BY model_id',
      provider,
      modelId,
    ).map(normalizeModel);
  }

  async insertModel(doc: ModelDoc): Promise<InsertResult> {
    const r = this.#stmt(
      'INSERT INTO models (provider, model_id, enabled, deprecated, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    ).run(doc.provider, doc.model_id, doc.enabled ? 1 : 0, doc.deprecated === true ? 1 : 0, encodeDoc(doc));
    return r.changes === 1 ? 'stored' : 'duplicate';
  }

  async updateModel(provider: string, modelId: string, patch: ModelPatch): Promise<boolean> {
    // Read and write in one transaction so a concurrent update is not lost.
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const current = await this.getModel(provider, modelId);
      if (!current) {
        this.#db.exec('ROLLBACK');
        return false;
      }
      const next: ModelDoc = { ...current, ...patch };
      this.#stmt('UPDATE models SET enabled = ?, deprecated = ?, doc = ? WHERE provider = ? AND model_id = ?').run(
        next.enabled ? 1 : 0,
        next.deprecated === true ? 1 : 0,
        encodeDoc(next),
        provider,
        modelId,
      );
      this.#db.exec('COMMIT');
      return true;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  async insertMetric(doc: MetricDoc): Promise<InsertResult> {
    const table = METRICS_TABLE[metricsCollectionFor(doc.benchmark_profile_id)];
    const r = this.#stmt(
      `INSERT INTO ${table} (run_id, provider, model_name, run_ts, tokens_per_second, time_to_first_token, doc, cost_usd)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
    ).run(
      doc.run_id,
      doc.provider,
      doc.model_name,
      ms(doc.run_ts),
      doc.tokens_per_second,
      doc.time_to_first_token,
      encodeDoc(doc),
      typeof doc.cost_usd === 'number' ? doc.cost_usd : null,
    );
    return r.changes === 1 ? 'stored' : 'duplicate';
  }

  async insertError(doc: ErrorDoc): Promise<InsertResult> {
    const r = this.#stmt(
      `INSERT INTO errors (run_id, provider, model_name, ts, stage, error_kind, fingerprint, message, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
    ).run(
      doc.run_id,
      doc.provider,
      doc.model_name,
      ms(doc.ts),
      doc.stage,
      doc.error_kind,
      doc.fingerprint,
      doc.message,
      encodeDoc(doc),
    );
    return r.changes === 1 ? 'stored' : 'duplicate';
  }

  async lastSuccesses(filter: { provider?: string } = {}): Promise<LastSuccess[]> {
    // Per model, its newest row by one index seek, and that row's sweep start from the document.
    const rows = this.#all<LastSuccessRow>(
      `WITH RECURSIVE ${METRIC_MODELS}
       SELECT k.provider, k.model_name, m.run_ts AS ts, json_extract(m.doc, '$.sweep_started_at."$date"') AS sweep
       FROM k JOIN metrics m ON m.id = (
         SELECT id FROM metrics WHERE provider = k.provider AND model_name = k.model_name ORDER BY run_ts DESC LIMIT 1)
       ${filter.provider ? 'WHERE k.provider = ?' : ''}`,
      ...(filter.provider ? [filter.provider] : []),
    );
    return rows.map(toLastSuccess);
  }

  async lastErrors(filter: { provider?: string } = {}): Promise<LastError[]> {
    // SQLite returns the other columns from the row holding MAX() (documented bare-column behaviour).
    const rows = this.#all<{ provider: string; model_name: string; ts: number; message: string; error_kind: string }>(
      `SELECT provider, model_name, MAX(ts) AS ts, message, error_kind FROM errors
       ${filter.provider ? 'WHERE provider = ?' : ''} GROUP BY provider, model_name`,
      ...(filter.provider ? [filter.provider] : []),
    );
    return rows.map((r) => ({ ...r, ts: new Date(r.ts) }) as LastError);
  }

  async recentMetrics(provider: string, modelName: string, limit: number): Promise<MetricDoc[]> {
    return this.#docs<MetricDoc>(
      'SELECT doc FROM metrics WHERE provider = ? AND model_name = ? ORDER BY run_ts DESC LIMIT ?',
      provider,
      modelName,
      limit,
    );
  }

  async recentErrors(provider: string, modelName: string, limit: number): Promise<ErrorDoc[]> {
    return this.#docs<ErrorDoc>(
      'SELECT doc FROM errors WHERE provider = ? AND model_name = ? ORDER BY ts DESC LIMIT ?',
      provider,
      modelName,
      limit,
    );
  }

  async countMetrics(filter: { provider?: string } = {}): Promise<number> {
    return this.#count('metrics', filter.provider);
  }

  async countMetricsIn(scope: MetricsScope & { provider?: string }): Promise<number> {
    return this.#count(scope.collection === 'probe' ? 'metrics_probe' : 'metrics', scope.provider);
  }

  async lastSuccessesIn(scope: MetricsScope & { provider?: string }): Promise<LastSuccess[]> {
    if (scope.collection !== 'probe') return this.lastSuccesses(scope);
    // The probe table is small: a plain GROUP BY (SQLite's bare columns come from the MAX() row).
    const rows = this.#all<LastSuccessRow>(
      `SELECT provider, model_name, MAX(run_ts) AS ts, json_extract(doc, '$.sweep_started_at."$date"') AS sweep
       FROM metrics_probe ${scope.provider ? 'WHERE provider = ?' : ''} GROUP BY provider, model_name`,
      ...(scope.provider ? [scope.provider] : []),
    );
    return rows.map(toLastSuccess);
  }

  async recentMetricsIn(scope: MetricsScope & { provider: string; modelName: string; limit: number }): Promise<MetricDoc[]> {
    return this.#docs<MetricDoc>(
      `SELECT doc FROM ${METRICS_TABLE[scope.collection ?? 'published']} WHERE provider = ? AND model_name = ? ORDER BY run_ts DESC LIMIT ?`,
      scope.provider,
      scope.modelName,
      scope.limit,
    );
  }

  async modelActivity(since: Date): Promise<ModelActivity[]> {
    // Models with successes by the loose index scan, models with errors by one pass over the
    // errors index; then per failing model, its errors newer than its last success.
    const rows = this.#all<{
      provider: string;
      model_name: string;
      last_success: number | null;
      successes: number;
      last_error: number | null;
      error_kind: string | null;
      failures: number;
      after: number;
    }>(
      `WITH RECURSIVE ${METRIC_MODELS},
       s AS (
         SELECT k.provider, k.model_name,
                (SELECT MAX(run_ts) FROM metrics WHERE provider = k.provider AND model_name = k.model_name) AS last_success,
                (SELECT COUNT(*) FROM metrics WHERE provider = k.provider AND model_name = k.model_name AND run_ts >= ?) AS successes
         FROM k
       ),
       e AS (
         SELECT provider, model_name, MAX(ts) AS last_error, error_kind, SUM(ts >= ?) AS failures
         FROM errors GROUP BY provider, model_name
       ),
       a AS (
         SELECT s.provider, s.model_name, s.last_success, s.successes, e.last_error, e.error_kind, COALESCE(e.failures, 0) AS failures
         FROM s LEFT JOIN e ON e.provider = s.provider AND e.model_name = s.model_name
         UNION ALL
         SELECT e.provider, e.model_name, NULL, 0, e.last_error, e.error_kind, e.failures
         FROM e WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.provider = e.provider AND s.model_name = e.model_name)
       )
       SELECT a.*, CASE WHEN a.last_error IS NULL OR a.last_error <= COALESCE(a.last_success, -1) THEN 0 ELSE (
         SELECT COUNT(*) FROM errors WHERE provider = a.provider AND model_name = a.model_name AND ts > COALESCE(a.last_success, -1)
       ) END AS after
       FROM a ORDER BY a.provider, a.model_name`,
      ms(since),
      ms(since),
    );
    return rows.map((r) => ({
      provider: r.provider,
      model_name: r.model_name,
      last_success_at: r.last_success === null ? null : new Date(r.last_success),
      last_error_at: r.last_error === null ? null : new Date(r.last_error),
      last_error_kind: r.error_kind as ModelActivity['last_error_kind'],
      successes_since: r.successes,
      failures_since: r.failures,
      failures_after_last_success: r.after,
    }));
  }

  async upsertModelHealth(docs: ModelHealthDoc[]): Promise<void> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const doc of docs) {
        this.#stmt(
          `INSERT INTO bench_model_health (provider, model_id, doc) VALUES (?, ?, ?)
           ON CONFLICT (provider, model_id) DO UPDATE SET doc = excluded.doc`,
        ).run(doc.provider, doc.model_id, encodeDoc(doc));
      }
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  async listModelHealth(filter: { provider?: string } = {}): Promise<ModelHealthDoc[]> {
    return this.#docs<ModelHealthDoc>(
      `SELECT doc FROM bench_model_health ${filter.provider ? 'WHERE provider = ?' : ''} ORDER BY provider, model_id`,
      ...(filter.provider ? [filter.provider] : []),
    );
  }

  async countErrors(filter: { provider?: string } = {}): Promise<number> {
    return this.#count('errors', filter.provider);
  }

  #count(table: 'metrics' | 'metrics_probe' | 'errors', provider?: string): number {
    const sql = `SELECT COUNT(*) AS n FROM ${table} ${provider ? 'WHERE provider = ?' : ''}`;
    return this.#all<{ n: number }>(sql, ...(provider ? [provider] : []))[0]!.n;
  }

  async countsByProvider(w: TimeWindow): Promise<ProviderCounts[]> {
    return this.#all<ProviderCounts>(
      `WITH RECURSIVE ${METRIC_MODELS}, s AS (
         SELECT provider, (SELECT COUNT(*) FROM metrics WHERE ${MODEL_RANGE}) AS n FROM k
       )
       SELECT provider, SUM(s) AS successes, SUM(e) AS errors FROM (
         SELECT provider, SUM(n) AS s, 0 AS e FROM s GROUP BY provider HAVING SUM(n) > 0
         UNION ALL
         SELECT provider, 0, COUNT(*) FROM errors WHERE ts >= ? AND ts < ? AND error_kind != 'aborted' GROUP BY provider
       ) GROUP BY provider ORDER BY provider`,
      ms(w.since),
      ms(w.until),
      ms(w.since),
      ms(w.until),
    );
  }

  async errorsByKind(w: TimeWindow): Promise<KindCount[]> {
    return this.#all<KindCount>(
      `SELECT provider, error_kind, COUNT(*) AS count FROM errors WHERE ts >= ? AND ts < ? AND error_kind != 'aborted'
       GROUP BY provider, error_kind ORDER BY count DESC, provider, error_kind`,
      ms(w.since),
      ms(w.until),
    );
  }

  async errorsByModel(w: TimeWindow): Promise<ModelErrorSummary[]> {
    const rows = this.#all<Omit<ModelErrorSummary, 'last_error_ts' | 'error_kinds'> & { last_error_ts: number; error_kinds: string }>(
      `WITH e AS (
         SELECT provider, model_name, COUNT(*) AS errors, MAX(ts) AS last_error_ts,
                message AS last_message, error_kind AS last_error_kind, stage AS last_stage
         FROM errors WHERE ts >= ? AND ts < ? AND error_kind != 'aborted' GROUP BY provider, model_name
       ), k AS (
         SELECT provider, model_name, json_group_object(error_kind, n) AS error_kinds FROM (
           SELECT provider, model_name, error_kind, COUNT(*) AS n FROM errors
           WHERE ts >= ? AND ts < ? AND error_kind != 'aborted' GROUP BY provider, model_name, error_kind
         ) GROUP BY provider, model_name
       )
       SELECT e.provider, e.model_name, e.errors, e.last_error_ts, e.last_message, e.last_error_kind, e.last_stage,
              k.error_kinds,
              (SELECT COUNT(*) FROM metrics m WHERE m.provider = e.provider AND m.model_name = e.model_name
                 AND m.run_ts >= ? AND m.run_ts < ?) AS successes
       FROM e JOIN k ON k.provider = e.provider AND k.model_name = e.model_name
       ORDER BY e.errors DESC, e.provider, e.model_name`,
      ms(w.since),
      ms(w.until),
      ms(w.since),
      ms(w.until),
      ms(w.since),
      ms(w.until),
    );
    return rows.map((r) => ({
      provider: r.provider,
      model_name: r.model_name,
      errors: r.errors,
      successes: r.successes,
      last_error_ts: new Date(r.last_error_ts),
      last_message: r.last_message,
      last_error_kind: r.last_error_kind,
      last_stage: r.last_stage,
      error_kinds: JSON.parse(r.error_kinds),
    }));
  }

  async newFingerprints(w: TimeWindow): Promise<FingerprintSummary[]> {
    const rows = this.#all<Omit<FingerprintSummary, 'first_seen'> & { first_seen: number }>(
      `SELECT fingerprint, provider, model_name, stage, error_kind, MIN(ts) AS first_seen, COUNT(*) AS count,
              message AS sample_message
       FROM errors
       WHERE fingerprint IN (SELECT DISTINCT fingerprint FROM errors WHERE ts >= ? AND ts < ? AND error_kind != 'aborted') AND ts < ?
       GROUP BY fingerprint HAVING MIN(ts) >= ?
       ORDER BY first_seen`,
      ms(w.since),
      ms(w.until),
      ms(w.until),
      ms(w.since),
    );
    return rows.map((r) => ({ ...r, first_seen: new Date(r.first_seen) }));
  }

  async metricSamples(w: TimeWindow): Promise<MetricSamples[]> {
    const rows = this.#stmt(
      `WITH RECURSIVE ${METRIC_MODELS}
       SELECT provider, model_name, (
         SELECT json_array(COUNT(*),
                  json_group_array(tokens_per_second) FILTER (WHERE tokens_per_second IS NOT NULL),
                  json_group_array(time_to_first_token) FILTER (WHERE time_to_first_token IS NOT NULL))
         FROM metrics WHERE ${MODEL_RANGE}) AS v
       FROM k ORDER BY provider, model_name`,
    ).iterate(ms(w.since), ms(w.until)) as Iterable<{ provider: string; model_name: string; v: string }>;
    // Row by row, so a week of samples is never held twice (as JSON text and as numbers).
    const out: MetricSamples[] = [];
    for (const r of rows) {
      const [n, tps, ttft] = JSON.parse(r.v) as [number, number[], number[]];
      if (n > 0) out.push({ provider: r.provider, model_name: r.model_name, tokens_per_second: tps, time_to_first_token: ttft });
    }
    return out;
  }

  async dailyMedians(w: TimeWindow): Promise<DailyMedian[]> {
    // One row per (UTC day, model), days outermost (CROSS JOIN keeps that order), so each
    // provider's day arrives as consecutive rows and only one day's values are held at a time.
    // SQLite has no median aggregate: the median is taken here.
    const rows = this.#stmt(
      `WITH RECURSIVE days(d) AS (SELECT ? UNION ALL SELECT d + 1 FROM days WHERE d < ?), ${METRIC_MODELS}
       SELECT days.d AS day, k.provider AS provider, (
         SELECT json_group_array(tokens_per_second) FROM metrics
         WHERE provider = k.provider AND model_name = k.model_name AND tokens_per_second IS NOT NULL
           AND run_ts >= max(days.d * ${DAY_MS}, ?) AND run_ts < min((days.d + 1) * ${DAY_MS}, ?)) AS v
       FROM days CROSS JOIN k`,
    ).iterate(
      Math.floor(ms(w.since) / DAY_MS),
      Math.floor((ms(w.until) - 1) / DAY_MS),
      ms(w.since),
      ms(w.until),
    ) as Iterable<{ day: number; provider: string; v: string }>;
    const out: DailyMedian[] = [];
    let current: { day: number; provider: string } | null = null;
    let values: number[] = [];
    const flush = () => {
      if (!current || values.length === 0) return;
      const sorted = Float64Array.from(values).sort();
      const mid = sorted.length >> 1;
      out.push({
        provider: current.provider,
        day: new Date(current.day * DAY_MS).toISOString().slice(0, 10),
        median_tokens_per_second: sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
        count: sorted.length,
      });
    };
    for (const r of rows) {
      if (!current || r.day !== current.day || r.provider !== current.provider) {
        flush();
        current = { day: r.day, provider: r.provider };
        values = [];
      }
      for (const v of JSON.parse(r.v) as number[]) values.push(v);
    }
    flush();
    return out.sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : a.day < b.day ? -1 : 1));
  }

  async spendByDay(w: TimeWindow): Promise<DailySpend[]> {
    const rows = this.#spend<{ d: number }>(`run_ts / ${DAY_MS} AS d`, 'provider, d', w);
    return rows.map(({ d, ...r }) => ({ ...r, day: new Date(d * DAY_MS).toISOString().slice(0, 10) }));
  }

  async spendByModel(w: TimeWindow): Promise<ModelSpend[]> {
    return this.#spend<{ model_name: string }>('model_name', 'provider, model_name', w);
  }

  // Read from the spend indexes alone (addSpendColumns). Money is money whatever the scenario:
  // published and probe rows are both summed.
  #spend<K extends object>(key: string, groupBy: string, w: TimeWindow): Array<K & Omit<DailySpend, 'day'>> {
    return this.#all<K & Omit<DailySpend, 'day'>>(
      `SELECT provider, ${key}, TOTAL(cost_usd) AS cost_usd, COUNT(cost_usd) AS priced_calls, COUNT(*) - COUNT(cost_usd) AS unpriced_calls
       FROM (SELECT provider, model_name, run_ts, cost_usd FROM metrics WHERE run_ts >= ? AND run_ts < ?
             UNION ALL SELECT provider, model_name, run_ts, cost_usd FROM metrics_probe WHERE run_ts >= ? AND run_ts < ?)
       GROUP BY ${groupBy} ORDER BY ${groupBy}`,
      ms(w.since),
      ms(w.until),
      ms(w.since),
      ms(w.until),
    );
  }

  async upsertOpenRouterCatalog(entries: OpenRouterEntry[], now: Date): Promise<UpsertCounts> {
    return this.#upsertCatalog(
      entries,
      now,
      (e) => [e.openrouter_id],
      'SELECT doc FROM openrouter_catalog WHERE openrouter_id = ?',
      'INSERT OR REPLACE INTO openrouter_catalog (openrouter_id, doc) VALUES (?, ?)',
    );
  }

  async upsertProviderCatalog(entries: ProviderCatalogEntry[], now: Date): Promise<UpsertCounts> {
    return this.#upsertCatalog(
      entries,
      now,
      (e) => [e.provider, e.model_id],
      'SELECT doc FROM provider_catalog WHERE provider = ? AND model_id = ?',
      'INSERT OR REPLACE INTO provider_catalog (provider, model_id, doc) VALUES (?, ?, ?)',
    );
  }

  #upsertCatalog<E extends object>(
    entries: E[],
    now: Date,
    key: (e: E) => string[],
    selectSql: string,
    upsertSql: string,
  ): UpsertCounts {
    const counts = { inserted: 0, updated: 0 };
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const entry of entries) {
        const k = key(entry);
        const existing = this.#docs<{ first_seen_at: Date }>(selectSql, ...k)[0];
        const doc = { ...entry, first_seen_at: existing?.first_seen_at ?? now, last_seen_at: now };
        this.#stmt(upsertSql).run(...k, encodeDoc(doc));
        counts[existing ? 'updated' : 'inserted']++;
      }
      this.#db.exec('COMMIT');
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
    return counts;
  }

  async listOpenRouterCatalog(): Promise<OpenRouterCatalogDoc[]> {
    return this.#docs<OpenRouterCatalogDoc>('SELECT doc FROM openrouter_catalog ORDER BY openrouter_id');
  }

  async listProviderCatalog(filter: { provider?: string } = {}): Promise<ProviderCatalogDoc[]> {
    return this.#docs<ProviderCatalogDoc>(
      `SELECT doc FROM provider_catalog ${filter.provider ? 'WHERE provider = ?' : ''} ORDER BY provider, model_id`,
      ...(filter.provider ? [filter.provider] : []),
    );
  }

  // ---- KPIs and runs (SPEC 16) ----

  async metricKpis(w: TimeWindow, filter: RunFilter = {}): Promise<KpiSummary> {
    // The groups by a loose index scan, then one index-only range read per group whose values
    // SQLite hands to kpi_collect() straight into Float64Arrays: no JSON, and no row object or
    // array per row (rows as arrays cost 1.5x as much on a million rows; JSON arrays 2x).
    const groups: GroupValues[] = [];
    // A (provider, model, scenario) group lives in one table: its scenario decides which.
    for (const table of KPI_TABLES) {
      const keys = this.#all<{ provider: string; model_name: string; scenario: string }>(
        `WITH RECURSIVE ${kpiGroups(table)} SELECT provider, model_name, scenario FROM g ${kpiWhere(filter)}`,
        ...kpiParams(filter),
      );
      const read = this.#stmt(
        `SELECT count(kpi_collect(time_to_first_token, ${GENERATE_TIME}, tokens_per_second, ${DECODE_TPS})) AS n, max(run_ts) AS last
         FROM ${table} INDEXED BY ${table}_kpi WHERE provider = ? AND model_name = ? AND ${SCENARIO} = ? AND run_ts >= ? AND run_ts < ?`,
      );
      for (const k of keys) {
        KPI_COLUMNS.reset();
        const { n, last } = read.get(k.provider, k.model_name, k.scenario, ms(w.since), ms(w.until)) as { n: number; last: number | null };
        if (n === 0) continue;
        const [ttft, total, tps, decode] = KPI_COLUMNS.take();
        groups.push({
          ...k,
          successes: n,
          last_success: new Date(last!),
          time_to_first_token: ttft!,
          total_time: total!,
          tokens_per_second: tps!,
          decode_tokens_per_second: decode!,
        });
      }
    }
    const where = ['ts >= ?', 'ts < ?'];
    const params: SQLInputValue[] = [ms(w.since), ms(w.until)];
    for (const [column, value] of [['provider', filter.provider], ['model_name', filter.model], [SCENARIO, filter.scenario]] as const) {
      if (value === undefined) continue;
      where.push(`${column} = ?`);
      params.push(value);
    }
    const failures = this.#all<GroupFailures>(
      // LIMIT -1 keeps SQLite from flattening the subquery: flattened, it sorts for the GROUP BY
      // with the expression recomputed from every document (5x slower on 100,000 errors).
      `SELECT provider, model_name, scenario, COUNT(*) AS failures FROM (
         SELECT provider, model_name, ${SCENARIO} AS scenario FROM errors INDEXED BY errors_kpi WHERE ${where.join(' AND ')} LIMIT -1
       ) GROUP BY provider, model_name, scenario`,
      ...params,
    );
    return summarizeGroups(groups, failures);
  }

  async recentRuns(query: RunQuery): Promise<RunRecord[]> {
    const part = (table: 'metrics' | 'metrics_probe' | 'errors', tsColumn: string) => {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      const add = (sql: string, value: SQLInputValue | undefined) => {
        if (value === undefined) return;
        where.push(sql);
        params.push(value);
      };
      add(`${tsColumn} >= ?`, query.since ? ms(query.since) : undefined);
      add(`${tsColumn} < ?`, query.until ? ms(query.until) : undefined);
      add('provider = ?', query.provider);
      add('model_name = ?', query.model);
      add(`${SCENARIO} = ?`, query.scenario);
      params.push(query.limit);
      return this.#docs<MetricDoc & ErrorDoc>(
        `SELECT doc FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${tsColumn} DESC LIMIT ?`,
        ...params,
      );
    };
    const ok: RunRecord[] =
      query.outcome === 'failed'
        ? []
        : [...part('metrics', 'run_ts'), ...part('metrics_probe', 'run_ts')].map((metric) => ({ outcome: 'ok', ts: metric.run_ts, metric }));
    const failed: RunRecord[] = query.outcome === 'ok' ? [] : part('errors', 'ts').map((error) => ({ outcome: 'failed', ts: error.ts, error }));
    return [...ok, ...failed].sort((a, b) => b.ts.getTime() - a.ts.getTime()).slice(0, query.limit);
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const metric =
      this.#docs<MetricDoc>('SELECT doc FROM metrics WHERE run_id = ?', runId)[0] ??
      this.#docs<MetricDoc>('SELECT doc FROM metrics_probe WHERE run_id = ?', runId)[0];
    if (metric) return { outcome: 'ok', ts: metric.run_ts, metric };
    const error = this.#docs<ErrorDoc>('SELECT doc FROM errors WHERE run_id = ?', runId)[0];
    return error ? { outcome: 'failed', ts: error.ts, error } : null;
  }

  async metricPoints(w: TimeWindow, filter: RunFilter = {}): Promise<MetricPoint[]> {
    const points: MetricPoint[] = [];
    for (const table of KPI_TABLES) {
      const rows = this.#all<{ provider: string; model_name: string; scenario: string; run_ts: number; time_to_first_token: number | null; tokens_per_second: number }>(
        `WITH RECURSIVE ${kpiGroups(table)}
         SELECT m.provider, m.model_name, g.scenario, m.run_ts, m.time_to_first_token, m.tokens_per_second
         FROM g JOIN ${table} m INDEXED BY ${table}_kpi ON m.provider = g.provider AND m.model_name = g.model_name
           AND ${SCENARIO_OF('m')} = g.scenario AND m.run_ts >= ? AND m.run_ts < ?
         ${kpiWhere(filter)}
         ORDER BY g.provider, g.model_name, g.scenario, m.run_ts`,
        ms(w.since),
        ms(w.until),
        ...kpiParams(filter),
      );
      for (const r of rows) points.push({ ...r, run_ts: new Date(r.run_ts) });
    }
    const key = (p: MetricPoint) => `${p.provider}\u0000${p.model_name}\u0000${p.scenario}`;
    return points.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.run_ts.getTime() - b.run_ts.getTime()));
  }

  /** Checks what a write needs: the file at the path is the open one and its write lock can be taken. */
  async ping(): Promise<void> {
    this.#db.exec('BEGIN IMMEDIATE');
    this.#db.exec('ROLLBACK');
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#db.isOpen) this.#db.close();
  }

  // --- Scenarios and agent runs (SPEC 4.5, 4.6) ---

  async listScenarios(filter: { enabledOnly?: boolean; kind?: string } = {}): Promise<ScenarioDoc[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    if (filter.enabledOnly) where.push('enabled = 1');
    if (filter.kind) {
      where.push('kind = ?');
      params.push(filter.kind);
    }
    return this.#docs<ScenarioDoc>(`SELECT doc FROM scenarios ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY scenario_id`, ...params);
  }

  async getScenario(scenarioId: string): Promise<ScenarioDoc | null> {
    return this.#docs<ScenarioDoc>('SELECT doc FROM scenarios WHERE scenario_id = ?', scenarioId)[0] ?? null;
  }

  async insertScenario(doc: ScenarioDoc): Promise<InsertResult> {
    const r = this.#stmt('INSERT INTO scenarios (scenario_id, enabled, kind, doc) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
      doc.scenario_id,
      doc.enabled ? 1 : 0,
      doc.kind,
      encodeDoc(doc),
    );
    return r.changes === 1 ? 'stored' : 'duplicate';
  }

  async updateScenario(scenarioId: string, patch: ScenarioPatch): Promise<boolean> {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      const current = await this.getScenario(scenarioId);
      if (!current) {
        this.#db.exec('ROLLBACK');
        return false;
      }
      const next: ScenarioDoc = { ...current, ...patch };
      this.#stmt('UPDATE scenarios SET enabled = ?, kind = ?, doc = ? WHERE scenario_id = ?').run(
        next.enabled ? 1 : 0,
        next.kind,
        encodeDoc(next),
        scenarioId,
      );
      this.#db.exec('COMMIT');
      return true;
    } catch (err) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      throw err;
    }
  }

  async removeScenario(scenarioId: string): Promise<boolean> {
    return this.#stmt('DELETE FROM scenarios WHERE scenario_id = ?').run(scenarioId).changes === 1;
  }

  async insertAgentRun(doc: AgentRunDoc): Promise<InsertResult> {
    const r = this.#stmt(
      `INSERT INTO agent_runs (run_id, automation, scenario_id, started_at, status, doc)
       VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
    ).run(doc.run_id, doc.automation, doc.scenario_id, ms(doc.started_at), doc.status, encodeDoc(doc));
    return r.changes === 1 ? 'stored' : 'duplicate';
  }

  async recentAgentRuns(filter: AgentRunFilter = {}): Promise<AgentRunDoc[]> {
    const where: string[] = [];
    const params: SQLInputValue[] = [];
    const add = (sql: string, v: SQLInputValue) => {
      where.push(sql);
      params.push(v);
    };
    if (filter.automation) add('automation = ?', filter.automation);
    if (filter.scenario_id) add('scenario_id = ?', filter.scenario_id);
    if (filter.status) add('status = ?', filter.status);
    if (filter.since) add('started_at >= ?', ms(filter.since));
    if (filter.until) add('started_at < ?', ms(filter.until));
    const runs = this.#docs<AgentRunDoc>(
      `SELECT ${filter.withoutResult ? `json_remove(doc, '$.result') AS doc` : 'doc'} FROM agent_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT ?`,
      ...params,
      filter.limit ?? 100,
    );
    return filter.withoutResult ? runs.map((r) => ({ ...r, result: null })) : runs;
  }

  async lastAgentRuns(filter: { automation?: string } = {}): Promise<AgentRunDoc[]> {
    // The bare column doc comes from the row holding MAX(started_at) (SQLite's documented behaviour).
    return this.#all<{ doc: string; t: number }>(
      `SELECT doc, MAX(started_at) AS t FROM agent_runs ${filter.automation ? 'WHERE automation = ?' : ''}
       GROUP BY automation, scenario_id ORDER BY automation, scenario_id`,
      ...(filter.automation ? [filter.automation] : []),
    ).map((r) => decodeDoc<AgentRunDoc>(r.doc));
  }

  // --- Sweep skips (SPEC 17) ---

  async insertSweepSkip(doc: SweepSkipDoc): Promise<void> {
    this.#stmt('INSERT INTO sweep_skips (skipped_at, doc) VALUES (?, ?)').run(ms(doc.skipped_at), encodeDoc(doc));
  }

  async sweepSkips(w: TimeWindow, limit = 1000): Promise<SweepSkipDoc[]> {
    return this.#docs<SweepSkipDoc>(
      'SELECT doc FROM sweep_skips WHERE skipped_at >= ? AND skipped_at < ? ORDER BY skipped_at DESC, id DESC LIMIT ?',
      ms(w.since),
      ms(w.until),
      limit,
    );
  }

  async lastScenarioSuccesses(since: Date): Promise<ScenarioSuccess[]> {
    // Published and probe rows (SPEC 4.1 sends every other scenario to metrics_probe), and
    // completed agent runs. Only rows since `since`, through the run_ts index: dueness needs nothing older, and a
    // year of history is never read. Rows from before scenarios existed have no
    // benchmark_profile_id and count as the published scenario's.
    const rows = this.#all<{ scenario_id: string; provider: string; model_name: string; ts: number; sweep: string | null }>(
      `SELECT COALESCE(json_extract(doc, '$.benchmark_profile_id'), ?) AS scenario_id, provider, model_name,
              MAX(run_ts) AS ts, json_extract(doc, '$.sweep_started_at."$date"') AS sweep
       FROM metrics WHERE run_ts >= ? GROUP BY 1, provider, model_name
       UNION ALL
       SELECT COALESCE(json_extract(doc, '$.benchmark_profile_id'), ?), provider, model_name,
              MAX(run_ts), json_extract(doc, '$.sweep_started_at."$date"')
       FROM metrics_probe WHERE run_ts >= ? GROUP BY 1, provider, model_name
       UNION ALL
       SELECT scenario_id, 'tinyfish', automation, MAX(started_at), json_extract(doc, '$.sweep_started_at."$date"')
       FROM agent_runs WHERE started_at >= ? AND status = 'completed' GROUP BY scenario_id, automation
       ORDER BY 1, 2, 3`,
      PUBLISHED_SCENARIO_ID,
      ms(since),
      PUBLISHED_SCENARIO_ID,
      ms(since),
      ms(since),
    );
    return rows.map((r) => ({
      scenario_id: r.scenario_id,
      provider: r.provider,
      model_name: r.model_name,
      ts: new Date(r.ts),
      sweep_started_at: r.sweep ? new Date(r.sweep) : null,
    }));
  }

  // --- Agent-run KPIs (SPEC 16) ---

  async agentRunKpis(w: TimeWindow, filter: AgentKpiFilter = {}): Promise<AgentKpiSummary> {
    // One range read of agent_runs_kpi (index only, no document), grouped in one pass; then the
    // documents of the groups' newest failures alone, for their messages.
    const where = ['started_at >= ?', 'started_at < ?'];
    const params: SQLInputValue[] = [ms(w.since), ms(w.until)];
    if (filter.automation !== undefined) {
      where.push('automation = ?');
      params.push(filter.automation);
    }
    if (filter.scenario !== undefined) {
      where.push('scenario_id = ?');
      params.push(filter.scenario);
    }
    if (filter.mock !== undefined) {
      // json_extract gives JSON true and false as 1 and 0.
      where.push(`${AGENT_MOCK} = ?`);
      params.push(filter.mock ? 1 : 0);
    }
    const read = this.#stmt(
      `SELECT id, automation, scenario_id, started_at, status, ${AGENT_MOCK}, ${AGENT_DURATION}, ${AGENT_FIRST_PROGRESS}
       FROM agent_runs INDEXED BY agent_runs_kpi WHERE ${where.join(' AND ')}`,
    );
    read.setReturnArrays(true);
    let rows: Array<[number, string, string, number, AgentRunValues['status'], number | null, number | null, number | null]>;
    try {
      rows = read.all(...params) as unknown as typeof rows;
    } finally {
      read.setReturnArrays(false);
    }
    const groups = groupAgentRuns(
      (function* () {
        for (const r of rows) {
          yield { id: r[0], automation: r[1], scenario: r[2], started_at: r[3], status: r[4], mock: r[5] === 1, total_duration_ms: r[6], time_to_first_progress_ms: r[7] };
        }
      })(),
    );
    const ids = groups.flatMap((g) => (g.newest_failure ? [g.newest_failure.id] : []));
    const failures = new Map(
      ids.length === 0
        ? []
        : this.#all<{ id: number; doc: string }>(`SELECT id, doc FROM agent_runs WHERE id IN (${ids.map(() => '?').join(',')})`, ...ids).map((r) => {
            const d = decodeDoc<AgentRunDoc>(r.doc);
            return [r.id, agentFailure(d)] as const;
          }),
    );
    return summarizeAgentGroups(groups.map((g) => ({ ...g, newest_failure: g.newest_failure ? failures.get(g.newest_failure.id)! : null })));
  }

  async getAgentRun(runId: string): Promise<AgentRunDoc | null> {
    return this.#docs<AgentRunDoc>('SELECT doc FROM agent_runs WHERE run_id = ?', runId)[0] ?? null;
  }
}

// ---- KPIs and runs (SPEC 16) ----
// The KPI measures not kept in columns are read from the document through indexes on
// expressions: metrics_kpi covers a KPI query (SQLite reads an indexed expression from the
// index), so it never reads a document (1.5 KB a row: 10x the pages). Columns filled by a
// trigger would rewrite every row once more on insert. A file from before these indexes gets
// them when a store opens it (computed once, over every row).
const SCENARIO_OF = (table: string) => `ifnull(json_extract(${table}.doc, '$.benchmark_profile_id'), '${DEFAULT_SCENARIO}')`;
const SCENARIO = `ifnull(json_extract(doc, '$.benchmark_profile_id'), '${DEFAULT_SCENARIO}')`;
const GENERATE_TIME = "json_extract(doc, '$.generate_time')";
const DECODE_TPS = "json_extract(doc, '$.decode_tokens_per_second')";
// Both metric tables: the published rows and the probe rows of every other scenario (SPEC 4.1).
const KPI_TABLES = ['metrics', 'metrics_probe'] as const;
const KPI_INDEXES =
  KPI_TABLES.map(
    (t) => `CREATE INDEX IF NOT EXISTS ${t}_kpi ON ${t}
  (provider, model_name, (${SCENARIO}), run_ts, time_to_first_token, (${GENERATE_TIME}), tokens_per_second, (${DECODE_TPS}));`,
  ).join('\n') + `\nCREATE INDEX IF NOT EXISTS errors_kpi ON errors (ts, provider, model_name, (${SCENARIO}));\n`;

// Every (provider, model_name, scenario) with metrics, by a loose scan of metrics_kpi (one
// seek per group, as METRIC_MODELS does per model).
const kpiGroups = (t: string) => `g(provider, model_name, scenario) AS (
  SELECT * FROM (SELECT provider, model_name, ${SCENARIO} FROM ${t} INDEXED BY ${t}_kpi ORDER BY provider, model_name, ${SCENARIO} LIMIT 1)
  UNION ALL
  SELECT m.provider, m.model_name, ${SCENARIO_OF('m')} FROM g JOIN ${t} m ON m.id = COALESCE(
    (SELECT id FROM ${t} INDEXED BY ${t}_kpi WHERE provider = g.provider AND model_name = g.model_name AND ${SCENARIO} > g.scenario
       ORDER BY provider, model_name, ${SCENARIO} LIMIT 1),
    (SELECT id FROM ${t} INDEXED BY ${t}_kpi WHERE provider = g.provider AND model_name > g.model_name
       ORDER BY provider, model_name, ${SCENARIO} LIMIT 1),
    (SELECT id FROM ${t} INDEXED BY ${t}_kpi WHERE provider > g.provider ORDER BY provider, model_name, ${SCENARIO} LIMIT 1))
)`;

function kpiWhere(filter: RunFilter): string {
  const where = [
    filter.provider !== undefined ? 'g.provider = ?' : null,
    filter.model !== undefined ? 'g.model_name = ?' : null,
    filter.scenario !== undefined ? 'g.scenario = ?' : null,
  ].filter(Boolean);
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

function kpiParams(filter: RunFilter): SQLInputValue[] {
  return [filter.provider, filter.model, filter.scenario].filter((v): v is string => v !== undefined);
}

// ---- Agent-run KPIs (SPEC 16) ----
// agent_runs_kpi covers the KPI read over a window: the measures come from the document
// through indexed expressions, so a year of runs is read from the index alone.
const AGENT_MOCK = "json_extract(doc, '$.mock')";
const AGENT_DURATION = "json_extract(doc, '$.total_duration_ms')";
const AGENT_FIRST_PROGRESS = "json_extract(doc, '$.time_to_first_progress_ms')";
const AGENT_KPI_INDEX = `CREATE INDEX IF NOT EXISTS agent_runs_kpi ON agent_runs
  (started_at, automation, scenario_id, status, (${AGENT_MOCK}), (${AGENT_DURATION}), (${AGENT_FIRST_PROGRESS}));`;

/**
 * The SQL function kpi_collect(ttft, total, tps, decode): appends each non-null measure of a
 * row to its column. node:sqlite runs a query synchronously and JS has one thread, so one
 * set of columns serves every connection: metricKpis resets them before a group's read and
 * takes them right after.
 */
const KPI_COLUMNS = (() => {
  let columns = [0, 1, 2, 3].map(() => new Float64Array(4096));
  const filled = [0, 0, 0, 0];
  const put = (c: number, v: unknown) => {
    if (typeof v !== 'number') return;
    if (filled[c] === columns[c]!.length) {
      const grown = new Float64Array(columns[c]!.length * 2);
      grown.set(columns[c]!);
      columns[c] = grown;
    }
    columns[c]![filled[c]!++] = v;
  };
  return {
    /** @returns 1, so count(kpi_collect(…)) counts the rows. */
    collect(ttft: unknown, total: unknown, tps: unknown, decode: unknown): number {
      put(0, ttft);
      put(1, total);
      put(2, tps);
      put(3, decode);
      return 1;
    },
    reset(): void {
      filled.fill(0);
    },
    /** Copies of the columns (the percentiles reorder them in place). */
    take(): Float64Array[] {
      const taken = columns.map((c, i) => c.slice(0, filled[i]));
      // A group far bigger than the rest should not keep its buffers for good.
      if (columns[0]!.length > 1 << 20) columns = [0, 1, 2, 3].map(() => new Float64Array(4096));
      return taken;
    },
  };
})();
