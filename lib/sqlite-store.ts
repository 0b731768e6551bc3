// The embedded store: one SQLite file through node:sqlite, no set-up. Several processes may
// write at once (a sweep and the ingest server), so the file runs in WAL mode with a busy
// timeout. Each document is kept whole as JSON (dates tagged so they come back as Dates),
// beside the columns that queries filter, group and sort on.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import type {
  ErrorDoc,
  MetricDoc,
  ModelDoc,
  OpenRouterCatalogDoc,
  OpenRouterEntry,
  ProviderCatalogDoc,
  ProviderCatalogEntry,
} from './documents.ts';
import {
  StoreError,
  type DailyMedian,
  type FingerprintSummary,
  type InsertResult,
  type KindCount,
  type LastError,
  type LastSeen,
  type MetricSamples,
  type ModelErrorSummary,
  type ModelFilter,
  type ModelPatch,
  type ProviderCounts,
  type Store,
  type TimeWindow,
  type UpsertCounts,
} from './store.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS metrics (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  model_name TEXT NOT NULL,
  run_ts INTEGER NOT NULL,
  tokens_per_second REAL,
  time_to_first_token REAL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS metrics_model_ts ON metrics (provider, model_name, run_ts);
CREATE INDEX IF NOT EXISTS metrics_ts ON metrics (run_ts);
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

/**
 * Opens (creating if needed) the SQLite store at path.
 * @throws StoreError when the file cannot be opened or is not a database.
 */
export function openSqliteStore(path: string, options: { busyTimeoutMs?: number } = {}): Store {
  let db: DatabaseSync;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new DatabaseSync(path, { timeout: options.busyTimeoutMs ?? 10_000 });
    db.exec('PRAGMA journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the
    // last transactions, and each result is its own transaction.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(SCHEMA);
  } catch (err) {
    throw new StoreError(`Cannot open SQLite store ${path}: ${(err as Error).message}`, { cause: err });
  }
  return new SqliteStore(db, path);
}

class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  readonly #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();

  constructor(
    db: DatabaseSync,
    readonly location: string,
  ) {
    this.#db = db;
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
    return this.#docs<ModelDoc>(sql, ...params);
  }

  async getModel(provider: string, modelId: string): Promise<ModelDoc | null> {
    return this.#docs<ModelDoc>('SELECT doc FROM models WHERE provider = ? AND model_id = ?', provider, modelId)[0] ?? null;
  }

  async findModelsIgnoreCase(provider: string, modelId: string): Promise<ModelDoc[]> {
    return this.#docs<ModelDoc>(
      'SELECT doc FROM models WHERE provider = ? AND lower(model_id) = lower(?) ORDER BY model_id',
      provider,
      modelId,
    );
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
    const r = this.#stmt(
      `INSERT INTO metrics (run_id, provider, model_name, run_ts, tokens_per_second, time_to_first_token, doc)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
    ).run(
      doc.run_id,
      doc.provider,
      doc.model_name,
      ms(doc.run_ts),
      doc.tokens_per_second,
      doc.time_to_first_token,
      encodeDoc(doc),
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

  async lastSuccesses(filter: { provider?: string } = {}): Promise<LastSeen[]> {
    const rows = this.#all<{ provider: string; model_name: string; ts: number }>(
      `SELECT provider, model_name, MAX(run_ts) AS ts FROM metrics
       ${filter.provider ? 'WHERE provider = ?' : ''} GROUP BY provider, model_name`,
      ...(filter.provider ? [filter.provider] : []),
    );
    return rows.map((r) => ({ provider: r.provider, model_name: r.model_name, ts: new Date(r.ts) }));
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

  async countErrors(filter: { provider?: string } = {}): Promise<number> {
    return this.#count('errors', filter.provider);
  }

  #count(table: 'metrics' | 'errors', provider?: string): number {
    const sql = `SELECT COUNT(*) AS n FROM ${table} ${provider ? 'WHERE provider = ?' : ''}`;
    return this.#all<{ n: number }>(sql, ...(provider ? [provider] : []))[0]!.n;
  }

  async countsByProvider(w: TimeWindow): Promise<ProviderCounts[]> {
    return this.#all<ProviderCounts>(
      `SELECT provider, SUM(s) AS successes, SUM(e) AS errors FROM (
         SELECT provider, COUNT(*) AS s, 0 AS e FROM metrics WHERE run_ts >= ? AND run_ts < ? GROUP BY provider
         UNION ALL
         SELECT provider, 0, COUNT(*) FROM errors WHERE ts >= ? AND ts < ? GROUP BY provider
       ) GROUP BY provider ORDER BY provider`,
      ms(w.since),
      ms(w.until),
      ms(w.since),
      ms(w.until),
    );
  }

  async errorsByKind(w: TimeWindow): Promise<KindCount[]> {
    return this.#all<KindCount>(
      `SELECT provider, error_kind, COUNT(*) AS count FROM errors WHERE ts >= ? AND ts < ?
       GROUP BY provider, error_kind ORDER BY count DESC, provider, error_kind`,
      ms(w.since),
      ms(w.until),
    );
  }

  async errorsByModel(w: TimeWindow): Promise<ModelErrorSummary[]> {
    const rows = this.#all<Omit<ModelErrorSummary, 'last_error_ts'> & { last_error_ts: number }>(
      `WITH e AS (
         SELECT provider, model_name, COUNT(*) AS errors, MAX(ts) AS last_error_ts,
                message AS last_message, error_kind AS last_error_kind, stage AS last_stage
         FROM errors WHERE ts >= ? AND ts < ? GROUP BY provider, model_name
       ), s AS (
         SELECT provider, model_name, COUNT(*) AS successes FROM metrics
         WHERE run_ts >= ? AND run_ts < ? GROUP BY provider, model_name
       )
       SELECT e.provider, e.model_name, e.errors, COALESCE(s.successes, 0) AS successes, e.last_error_ts,
              e.last_message, e.last_error_kind, e.last_stage
       FROM e LEFT JOIN s ON s.provider = e.provider AND s.model_name = e.model_name
       ORDER BY e.errors DESC, e.provider, e.model_name`,
      ms(w.since),
      ms(w.until),
      ms(w.since),
      ms(w.until),
    );
    return rows.map((r) => ({ ...r, last_error_ts: new Date(r.last_error_ts) }));
  }

  async newFingerprints(w: TimeWindow): Promise<FingerprintSummary[]> {
    const rows = this.#all<Omit<FingerprintSummary, 'first_seen'> & { first_seen: number }>(
      `SELECT fingerprint, provider, model_name, stage, error_kind, MIN(ts) AS first_seen, COUNT(*) AS count,
              message AS sample_message
       FROM errors
       WHERE fingerprint IN (SELECT DISTINCT fingerprint FROM errors WHERE ts >= ? AND ts < ?) AND ts < ?
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
    const rows = this.#all<{ provider: string; model_name: string; tps: string; ttft: string }>(
      `SELECT provider, model_name,
              json_group_array(tokens_per_second) FILTER (WHERE tokens_per_second IS NOT NULL) AS tps,
              json_group_array(time_to_first_token) FILTER (WHERE time_to_first_token IS NOT NULL) AS ttft
       FROM metrics WHERE run_ts >= ? AND run_ts < ? GROUP BY provider, model_name ORDER BY provider, model_name`,
      ms(w.since),
      ms(w.until),
    );
    return rows.map((r) => ({
      provider: r.provider,
      model_name: r.model_name,
      tokens_per_second: JSON.parse(r.tps) as number[],
      time_to_first_token: JSON.parse(r.ttft) as number[],
    }));
  }

  async dailyMedians(w: TimeWindow): Promise<DailyMedian[]> {
    return this.#all<DailyMedian>(
      `WITH d AS (
         SELECT provider, strftime('%Y-%m-%d', run_ts / 1000, 'unixepoch') AS day, tokens_per_second AS v
         FROM metrics WHERE run_ts >= ? AND run_ts < ? AND tokens_per_second IS NOT NULL
       ), r AS (
         SELECT provider, day, v,
                ROW_NUMBER() OVER (PARTITION BY provider, day ORDER BY v) AS rn,
                COUNT(*) OVER (PARTITION BY provider, day) AS n
         FROM d
       )
       SELECT provider, day, AVG(v) AS median_tokens_per_second, MAX(n) AS count
       FROM r WHERE rn IN ((n + 1) / 2, (n + 2) / 2)
       GROUP BY provider, day ORDER BY provider, day`,
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

  async ping(): Promise<void> {
    this.#stmt('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}
