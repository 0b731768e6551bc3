// `npm run store -- compact` (issue 28): converts a SQLite file's metric and error tables of
// JSON rows (written before compact rows) to compact rows, keeping every row's id, and gives the freed
// pages back with VACUUM. Run with the timers stopped: it holds the write lock while it converts
// a table, and a process that opened the file before would go on writing JSON rows.
import { statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { StoreError } from '../store.ts';
import { decodeDoc } from './connection.ts';
import { codecOf } from './compact.ts';
import { inWriteTransaction, insertErrorRow, insertMetricRow } from './metric-rows.ts';
import { KPI_TABLES, errorsTableSql, hasCompactRows, metricsTableSql, openDatabase, runIdIndex, type RowTable } from './schema.ts';

export interface CompactResult {
  /** The tables converted, with their rows and how many of them took the compact form. */
  tables: Array<{ table: RowTable; rows: number; compact: number }>;
  bytesBefore: number;
  bytesAfter: number;
  vacuumed: boolean;
}

/** The file's size with its WAL: what the disk holds for it. */
function fileBytes(path: string): number {
  return statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);
}

/**
 * Converts every metric table of JSON rows, and the errors table, in the file at path, then (unless vacuum is false)
 * VACUUMs it. A table is converted in one transaction: stopped anywhere, the file is as before.
 * @throws StoreError when the file is missing or cannot be written.
 */
export function compactFile(path: string, options: { vacuum?: boolean; onTable?: (table: RowTable, rows: number) => void } = {}): CompactResult {
  const bytesBefore = fileBytes(path);
  const tables: CompactResult['tables'] = [];
  // Opened by the store first, so everything else the file needs exists.
  openDatabase(path).close();
  const db = new DatabaseSync(path, { timeout: 10_000 });
  try {
    for (const table of KPI_TABLES) {
      if (hasCompactRows(db, table)) continue;
      const old = `${table}_json_rows`;
      let rows = 0;
      let compact = 0;
      inWriteTransaction(db, () => {
        // Renamed first: its indexes and triggers go with it, and are dropped with it.
        db.exec(`ALTER TABLE ${table} RENAME TO ${old}`);
        db.exec(metricsTableSql(table) + runIdIndex(table));
        const read = db.prepare(`SELECT id, run_id, doc FROM ${old} ORDER BY id`);
        for (const r of read.iterate() as Iterable<{ id: number; run_id: string; doc: string }>) {
          rows += insertMetricRow(db, table, decodeDoc(r.doc), r.doc, r.run_id, r.id);
        }
        compact = (db.prepare(`SELECT count(*) AS n FROM ${table} WHERE typeof(doc) = 'blob'`).get() as { n: number }).n;
        db.exec(`DROP TABLE ${old}`);
      });
      tables.push({ table, rows, compact });
      options.onTable?.(table, rows);
    }
    if (!hasCompactRows(db, 'errors')) {
      let rows = 0;
      let compact = 0;
      inWriteTransaction(db, () => {
        db.exec('ALTER TABLE errors RENAME TO errors_json_rows');
        db.exec(errorsTableSql('errors') + runIdIndex('errors'));
        const read = db.prepare('SELECT id, run_id, provider, model_name, stage, error_kind, fingerprint, message, doc FROM errors_json_rows ORDER BY id');
        type Row = { id: number; run_id: string; provider: string; model_name: string; stage: string; error_kind: string; fingerprint: string; message: string; doc: string };
        for (const { id, doc, ...columns } of read.iterate() as Iterable<Row>) rows += insertErrorRow(db, decodeDoc(doc), doc, columns, id);
        compact = (db.prepare(`SELECT count(*) AS n FROM errors WHERE typeof(doc) = 'blob'`).get() as { n: number }).n;
        db.exec('DROP TABLE errors_json_rows');
      });
      tables.push({ table: 'errors', rows, compact });
      options.onTable?.('errors', rows);
    }
  } catch (err) {
    throw new StoreError(`Cannot compact SQLite store ${path}: ${(err as Error).message}`, { cause: err });
  } finally {
    codecOf(db).forget();
    db.close();
  }
  // The new tables' indexes and triggers, built once over all their rows.
  openDatabase(path).close();
  const vacuumed = options.vacuum !== false;
  if (vacuumed) {
    const v = new DatabaseSync(path, { timeout: 10_000 });
    try {
      // Outside WAL mode, so the copy is written in place (and a file on 4 KB pages takes 16 KB ones).
      v.exec('PRAGMA journal_mode = DELETE');
      v.exec('PRAGMA page_size = 16384');
      v.exec('VACUUM');
      v.exec('PRAGMA journal_mode = WAL');
    } finally {
      v.close();
    }
  }
  return { tables, bytesBefore, bytesAfter: fileBytes(path), vacuumed };
}
