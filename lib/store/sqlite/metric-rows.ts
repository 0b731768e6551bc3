// Writing one metric or error row, the same way for every path that stores one (the bench's
// insertMetric and insertError, the ingest server through them, `store import`, `store compact`,
// the perf seeds): the columns the reads filter and sort on, the document (compact where it
// reads back exactly, JSON text otherwise), a metric row's KPI group, and its mark when its
// evidence leaves it out (isMarked).
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { isMarked, type MetricDoc } from '../documents.ts';
import { numberOf } from '../exchange-lines.ts';
import { publishedTtft } from '../upstream.ts';
import { codecOf, encodeText as encodeDoc, runIdKey } from './compact.ts';
import { BY_RUN_ID, MARKED_TABLE, hasCompactRows, scenarioOfDoc, type MetricTable } from './schema.ts';

/** A REAL column's value: null for what is not a finite number. */
export function real(v: unknown): number | null {
  const n = numberOf(v);
  return n === undefined || !Number.isFinite(n) ? null : n;
}

const JSON_INSERT = (t: MetricTable) =>
  `INSERT INTO ${t} (run_id, provider, model_name, run_ts, tokens_per_second, time_to_first_token, doc, cost_usd, id)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`;
const COMPACT_INSERT = (t: MetricTable) =>
  `INSERT INTO ${t} (run_id, provider, model_name, run_ts, tokens_per_second, time_to_first_token, doc, cost_usd, gid, generate_time, decode_tps, served, id)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const SAME_AS_MODEL = new Uint8Array(0);
/** The served column: served_model as json_extract gives it, an empty BLOB when it is the model_name (metricSql().servedModel). */
function servedColumn(doc: Record<string, unknown>): SQLInputValue {
  const v = doc.served_model;
  if (v === undefined || v === null) return null;
  if (v === doc.model_name) return SAME_AS_MODEL;
  if (typeof v === 'string' || typeof v === 'number') return v;
  return typeof v === 'boolean' ? Number(v) : encodeDoc(v);
}

/** Whether a compact table holds the key already (BY_RUN_ID: the table has no unique index on it). */
function stored(db: DatabaseSync, table: MetricTable | 'errors', key: string | Uint8Array): boolean {
  return prepared(db, `SELECT 1 FROM ${table} WHERE ${BY_RUN_ID}`).get(key) !== undefined;
}

/**
 * Stores one metric document whose JSON text (encodeDoc, or an imported line as it came) is
 * `text`, keyed by `runId` (its run_id, or what stands for it), unless that key is stored
 * already; `id` is the row's id when it must keep one (store compact), else the next. Runs
 * inside the caller's write transaction (see inWriteTransaction): a compact row
 * may add dictionary entries and a group in it.
 * @returns 1 when stored, 0 when the key was there.
 */
export function insertMetricRow(db: DatabaseSync, table: MetricTable, doc: Record<string, unknown>, text: string, runId: string, id: number | null = null): number {
  const runTs = (doc.run_ts as Date).getTime();
  const provider = doc.provider as string;
  const model = doc.model_name as string;
  const tps = real(doc.tokens_per_second);
  // The column the KPI and rollup reads take TTFT from holds it as published (upstream's 0 is none).
  const ttft = publishedTtft(doc);
  const cost = real(doc.cost_usd);
  const head: SQLInputValue[] = [provider, model, runTs, tps, ttft];
  let r;
  if (hasCompactRows(db, table)) {
    const codec = codecOf(db);
    const key = runIdKey(runId);
    if (stored(db, table, key)) return 0;
    const generateTime = real(doc.generate_time);
    const decode = real(doc.decode_tokens_per_second);
    const gid = codec.groupId(table, provider, model, scenarioOfDoc(table, doc));
    // In ROW_REFS.metric's order.
    const cols = { values: [runId, provider, model, tps, ttft, cost, generateTime, decode], time: runTs };
    const value = codec.encode(doc, cols, text) ?? text;
    r = prepared(db, COMPACT_INSERT(table)).run(key, ...head, value, cost, gid, generateTime, decode, servedColumn(doc), id);
  } else {
    r = prepared(db, JSON_INSERT(table)).run(runId, ...head, text, cost, id);
  }
  if (r.changes === 1 && isMarked(doc as Pick<MetricDoc, 'evidence'>)) {
    prepared(db, `INSERT OR IGNORE INTO ${MARKED_TABLE} (tbl, id) VALUES (?, ?)`).run(table, r.lastInsertRowid);
  }
  return Number(r.changes);
}

/**
 * Stores one error document as insertMetricRow does a metric one: `columns` are what the health
 * report groups on (readError's reading of an upstream row), the document stays as written.
 * @returns 1 when stored, 0 when the key was there.
 */
export function insertErrorRow(
  db: DatabaseSync,
  doc: Record<string, unknown>,
  text: string,
  c: { run_id: string; provider: string; model_name: string; stage: string; error_kind: string; fingerprint: string; message: string },
  id: number | null = null,
): number {
  const ts = (doc.ts as Date).getTime();
  const values = [c.provider, c.model_name, ts, c.stage, c.error_kind, c.fingerprint, c.message];
  if (!hasCompactRows(db, 'errors')) {
    return Number(prepared(db, ERRORS_INSERT(false)).run(c.run_id, ...values, text, id).changes);
  }
  const key = runIdKey(c.run_id);
  if (stored(db, 'errors', key)) return 0;
  // In ROW_REFS.error's order.
  const cols = { values: [c.run_id, c.provider, c.model_name, c.stage, c.error_kind, c.fingerprint, c.message], time: ts };
  const value = codecOf(db).encode(doc, cols, text) ?? text;
  return Number(prepared(db, ERRORS_INSERT(true)).run(key, ...values, value, id, scenarioOfDoc('errors', doc)).changes);
}

const ERRORS_INSERT = (compact: boolean) =>
  `INSERT INTO errors (run_id, provider, model_name, ts, stage, error_kind, fingerprint, message, doc, id${compact ? ', scenario' : ''})
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?${compact ? ', ?' : ''})${compact ? '' : ' ON CONFLICT (run_id) DO NOTHING'}`;

const statements = new WeakMap<DatabaseSync, Map<string, ReturnType<DatabaseSync['prepare']>>>();
function prepared(db: DatabaseSync, sql: string) {
  let m = statements.get(db);
  if (!m) statements.set(db, (m = new Map()));
  let s = m.get(sql);
  if (!s) m.set(sql, (s = db.prepare(sql)));
  return s;
}

/**
 * Runs fn in one write transaction (BEGIN IMMEDIATE), rolled back when it throws. After a
 * rollback the connection's dictionaries are forgotten: ids handed out in it name nothing.
 */
export function inWriteTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const out = fn();
    db.exec('COMMIT');
    return out;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    codecOf(db).forget();
    throw err;
  }
}
