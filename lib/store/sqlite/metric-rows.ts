// Writing one metric row, the same way for every path that stores one (the bench's insertMetric,
// the ingest server through it, `store import`, `store compact`, the perf seeds): the columns
// the reads filter and sort on, the document (compact where it reads back exactly, JSON text
// otherwise), the row's KPI group, and its mark when its evidence leaves it out (isMarked).
import type { DatabaseSync, SQLInputValue } from 'node:sqlite';
import { isMarked, type MetricDoc } from '../documents.ts';
import { numberOf } from '../exchange-lines.ts';
import { publishedTtft } from '../upstream.ts';
import { codecOf, runIdKey, type RowColumns } from './compact.ts';
import { MARKED_TABLE, hasCompactRows, scenarioOfDoc, type MetricTable } from './schema.ts';

/** A REAL column's value: null for what is not a finite number. */
export function real(v: unknown): number | null {
  const n = numberOf(v);
  return n === undefined || !Number.isFinite(n) ? null : n;
}

const JSON_INSERT = (t: MetricTable) =>
  `INSERT INTO ${t} (run_id, provider, model_name, run_ts, tokens_per_second, time_to_first_token, doc, cost_usd, id)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`;
const COMPACT_INSERT = (t: MetricTable) =>
  `INSERT INTO ${t} (run_id, provider, model_name, run_ts, tokens_per_second, time_to_first_token, doc, cost_usd, gid, generate_time, decode_tps, id)
   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`;

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
  const cols: RowColumns = {
    run_id: runId,
    provider: doc.provider as string,
    model_name: doc.model_name as string,
    run_ts: runTs,
    tokens_per_second: real(doc.tokens_per_second),
    // The column the KPI and rollup reads take TTFT from holds it as published (upstream's 0 is none).
    time_to_first_token: publishedTtft(doc),
    cost_usd: real(doc.cost_usd),
    generate_time: real(doc.generate_time),
    decode_tps: real(doc.decode_tokens_per_second),
  };
  const head: SQLInputValue[] = [cols.provider, cols.model_name, runTs, cols.tokens_per_second, cols.time_to_first_token];
  let r;
  if (hasCompactRows(db, table)) {
    const codec = codecOf(db);
    const gid = codec.groupId(table, cols.provider as string, cols.model_name as string, scenarioOfDoc(table, doc));
    const stored = codec.encode(doc, cols, text) ?? text;
    r = prepared(db, COMPACT_INSERT(table)).run(runIdKey(runId), ...head, stored, cols.cost_usd, gid, cols.generate_time, cols.decode_tps, id);
  } else {
    r = prepared(db, JSON_INSERT(table)).run(runId, ...head, text, cols.cost_usd, id);
  }
  if (r.changes === 1 && isMarked(doc as Pick<MetricDoc, 'evidence'>)) {
    prepared(db, `INSERT OR IGNORE INTO ${MARKED_TABLE} (tbl, id) VALUES (?, ?)`).run(table, r.lastInsertRowid);
  }
  return Number(r.changes);
}

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
