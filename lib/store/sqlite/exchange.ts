// Moving history in and out of the SQLite file (SPEC 4.0). An imported line is stored as its own
// text: encodeDoc writes Dates as {"$date": ISO}, which is relaxed Extended JSON's form too, so
// decodeDoc reads an imported row exactly like one the store wrote (Dates as Dates), and a file
// imported and exported again comes back byte for byte. Its identity goes in the key column:
// run_id holds the _id's hex for an upstream row that has none (the id readers show and
// `runs show` finds, lib/store/upstream.ts), the document stays as it came.
import type { SQLInputValue } from 'node:sqlite';
import type { ErrorDoc } from '../documents.ts';
import { NATURAL_KEYS, notJson, problemOf, rowKey } from '../exchange-lines.ts';
import { readError } from '../upstream.ts';
import type { BadLine, ExchangeCollection, ExchangeStore, ImportBatchResult, ImportLine, ImportProgress } from '../exchange-store.ts';
import { StoreError } from '../store.ts';
import { codecOf, rowColumns } from './compact.ts';
import type { SqliteConnection } from './connection.ts';
import { inWriteTransaction, insertErrorRow, insertMetricRow } from './metric-rows.ts';
import { errorSql, metricSql, type MetricTable } from './schema.ts';

type Doc = Record<string, unknown>;

interface Table {
  name: string;
  /** A metric table or the errors one: its rows go through insertMetricRow or insertErrorRow, and insert and values are not used. */
  rows?: MetricTable | 'errors';
  /** Inserts one row unless its identity is already stored (changes = 0 then). */
  insert: string;
  values(doc: Doc, text: string): SQLInputValue[];
}

const time = (v: unknown) => (v as Date).getTime();
const flag = (v: unknown) => (v === true ? 1 : 0);

/** A metric table: its rows go through insertMetricRow (the columns the readers use, compact where the line reads back byte for byte). */
function metricsTable(name: MetricTable): Table {
  return { name, rows: name, insert: '', values: (_d, text) => [text] };
}

/** Rows keyed by their natural key (NATURAL_KEYS), the key's columns first. */
function keyedTable(collection: ExchangeCollection, name: string, extra: Array<[string, (d: Doc) => SQLInputValue]> = []): Table {
  const keys = NATURAL_KEYS[collection]!;
  const columns = [...keys, ...extra.map(([c]) => c), 'doc'];
  return {
    name,
    insert: `INSERT INTO ${name} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')}) ON CONFLICT DO NOTHING`,
    values: (d, text) => [...keys.map((k) => d[k] as string), ...extra.map(([, f]) => f(d)), text],
  };
}

const TABLES: Record<ExchangeCollection, Table> = {
  metrics: metricsTable('metrics'),
  probe: metricsTable('metrics_probe'),
  // Pre-taxonomy upstream rows have no error_kind or fingerprint: the columns the health report
  // groups on get what readers see (readError: `unknown`, our fingerprint); the document keeps
  // what it had.
  errors: { name: 'errors', rows: 'errors', insert: '', values: (_d, text) => [text] },
  models: keyedTable('models', 'models', [
    ['enabled', (d) => flag(d.enabled)],
    ['deprecated', (d) => flag(d.deprecated)],
  ]),
  providerCatalog: keyedTable('providerCatalog', 'provider_catalog'),
  openrouterCatalog: keyedTable('openrouterCatalog', 'openrouter_catalog'),
  modelHealth: keyedTable('modelHealth', 'bench_model_health'),
  scenarios: keyedTable('scenarios', 'scenarios', [
    ['enabled', (d) => flag(d.enabled)],
    ['kind', (d) => d.kind as string],
  ]),
  agentRuns: {
    name: 'agent_runs',
    insert: `INSERT INTO agent_runs (run_id, automation, scenario_id, started_at, status, doc) VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (run_id) DO NOTHING`,
    values: (d, text) => [d.run_id as string, d.automation as string, d.scenario_id as string, time(d.started_at), d.status as string, text],
  },
  // No key column: a skip is the same row when its time and its whole text are.
  sweepSkips: {
    name: 'sweep_skips',
    insert: 'INSERT INTO sweep_skips (skipped_at, doc) SELECT ?1, ?2 WHERE NOT EXISTS (SELECT 1 FROM sweep_skips WHERE skipped_at = ?1 AND doc = ?2)',
    values: (d, text) => [time(d.skipped_at), text],
  },
};

// A line with Extended JSON beyond {"$date": "…"} and {"$oid": "…"} (a $numberLong, a date
// before 1970, …): decodeDoc would hand readers {"$numberLong": …} objects, so it is parsed as
// Extended JSON and stored as the store writes documents (numbers as numbers, Dates as
// {"$date": ISO}, an ObjectId as {"$oid": …}); its bytes change.
const RICH = /"\$(?!date":"|oid":")/;
type Ejson = typeof import('mongodb').BSON.EJSON;
let ejson: Ejson | null = null;
/** The driver's EJSON, loaded on the first such line: SQLite users never load the driver otherwise. */
async function loadEjson(): Promise<Ejson> {
  ejson ??= (await import('mongodb')).BSON.EJSON;
  return ejson;
}

/** A line's document as encodeDoc would write it, the other BSON values (ObjectId, Decimal128) in relaxed Extended JSON. */
function encodeRich(text: string, EJSON: Ejson): { doc: unknown; stored: string } {
  const doc: unknown = EJSON.parse(text, { relaxed: true });
  const stored = JSON.stringify(doc, function (this: Record<string, unknown>, key, value) {
    const original = this[key];
    if (original instanceof Date) return { $date: original.toISOString() };
    if (original !== null && typeof original === 'object' && '_bsontype' in original) return EJSON.serialize(original, { relaxed: true });
    return value;
  });
  return { doc, stored };
}

/**
 * The line's top-level {"$date": ISO} values as Dates, all that the checks and the columns read:
 * decodeDoc's reviver, called for every value (63 token gaps a row), took half an import's time.
 */
function withTopDates(doc: unknown): unknown {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) return doc;
  const d = doc as Doc;
  for (const k in d) {
    const v = d[k] as { $date?: unknown } | null;
    if (v !== null && typeof v === 'object' && typeof v.$date === 'string' && Object.keys(v).length === 1) d[k] = new Date(v.$date);
  }
  return d;
}

// About 64 KiB of lines per write: 1 MiB strings took more memory (peak RSS 278 against 198 MB
// exporting a million rows) and more time (16.5 against 10.0 s).
const CHUNK_CHARS = 1 << 16;

export function sqliteExchange(c: SqliteConnection): ExchangeStore {
  function saveProgress(p: ImportProgress & { done: boolean }): void {
    if (p.done) {
      c.stmt('DELETE FROM import_progress WHERE source = ?').run(p.source);
      return;
    }
    c.stmt(
      `INSERT OR REPLACE INTO import_progress (source, collection, size, mtime_ms, byte_offset, line, bad, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(p.source, p.collection, p.size, p.mtimeMs, p.offset, p.line, p.bad, Date.now());
  }

  return {
    async exportCollection(collection: ExchangeCollection, write: (chunk: string) => Promise<void>): Promise<number> {
      const table = TABLES[collection].name;
      const kind = table === 'errors' ? 'error' : table === 'metrics' || table === 'metrics_probe' ? 'metric' : null;
      const columns = table === 'errors' ? errorSql(c).docColumns() : table === 'metrics' || table === 'metrics_probe' ? metricSql(c, table).docColumns() : 'doc';
      // A statement of its own, stepped between writes: a cached one could be reset under it.
      const rows = c.db.prepare(`SELECT ${columns} FROM ${table} ORDER BY rowid`).iterate();
      let n = 0;
      let chunk = '';
      try {
        for (const row of rows) {
          // A compact row gives back the text it was stored from (compact.ts stores none that does not).
          chunk += `${typeof row.doc === 'string' ? row.doc : codecOf(c.db).text(row.doc as Uint8Array, rowColumns(kind!, row))}\n`;
          n++;
          if (chunk.length >= CHUNK_CHARS) {
            await write(chunk);
            chunk = '';
          }
        }
      } catch (err) {
        // Not a lock wait to retry: the lines before it are written already.
        if (err instanceof StoreError) throw err;
        throw new StoreError(`Cannot read ${table} of SQLite store ${c.location} after ${n} rows: ${(err as Error).message}`, { cause: err });
      }
      if (chunk) await write(chunk);
      return n;
    },

    async importBatch(collection: ExchangeCollection, lines: ImportLine[], progress: ImportProgress & { done: boolean }): Promise<ImportBatchResult> {
      const table = TABLES[collection];
      const rows: SQLInputValue[][] = [];
      const docs: Doc[] = [];
      const bad: BadLine[] = [];
      for (const { line, text } of lines) {
        let doc: unknown;
        let stored = text;
        try {
          if (RICH.test(text)) ({ doc, stored } = encodeRich(text, await loadEjson()));
          else doc = withTopDates(JSON.parse(text));
        } catch (err) {
          bad.push({ line, reason: notJson(err) });
          continue;
        }
        const problem = problemOf(collection, doc);
        if (problem) bad.push({ line, reason: problem });
        else {
          rows.push(table.values(doc as Doc, stored));
          docs.push(doc as Doc);
        }
      }
      let added = 0;
      inWriteTransaction(c.db, () => {
        if (table.rows === 'errors') {
          rows.forEach(([text], i) => {
            const r = readError(docs[i] as Partial<ErrorDoc>);
            const columns = { run_id: rowKey(docs[i]!, text as string), provider: r.provider!, model_name: r.model_name!, stage: r.stage!, error_kind: r.error_kind!, fingerprint: r.fingerprint!, message: r.message! };
            added += insertErrorRow(c.db, docs[i]!, text as string, columns);
          });
        } else if (table.rows) {
          const metric = table.rows;
          rows.forEach(([text], i) => (added += insertMetricRow(c.db, metric, docs[i]!, text as string, rowKey(docs[i]!, text as string))));
        } else {
          const insert = c.stmt(table.insert);
          for (const values of rows) added += Number(insert.run(...values).changes);
        }
        saveProgress({ ...progress, bad: progress.bad + bad.length });
      });
      return { added, present: rows.length - added, bad };
    },

    async importProgress(source: string): Promise<ImportProgress | null> {
      const r = c.all<{ source: string; collection: ExchangeCollection; size: number; mtime_ms: number; byte_offset: number; line: number; bad: number }>(
        'SELECT * FROM import_progress WHERE source = ?',
        source,
      )[0];
      return r ? { source: r.source, collection: r.collection, size: r.size, mtimeMs: r.mtime_ms, offset: r.byte_offset, line: r.line, bad: r.bad } : null;
    },
  };
}
