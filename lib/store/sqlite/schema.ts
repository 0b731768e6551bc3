// The SQLite file's tables and indexes, created or brought up to date on every open. Each
// document is kept whole beside the columns that queries filter, group and sort on: as JSON
// (dates tagged so they come back as Dates), or, for metric and error rows, in the compact form
// of compact.ts, which reads back as the same document.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { pathToFileURL } from 'node:url';
import type { MetricsCollection } from '../collection-rules.ts';
import { docColumns, registerDocField } from './compact.ts';
import { EVIDENCE_MARKS } from '../documents.ts';
import { DEFAULT_SCENARIO, StoreError } from '../store.ts';

/**
 * The published metrics table and the probe one share one shape. A new file keeps compact rows
 * (issue 28, compact.ts): `doc` is a BLOB in the compact form or, where that would not read back
 * exactly, JSON text; the KPI measures are columns set at insert (gid names the row's
 * (table, provider, model, scenario) group in metric_groups); run_id is a UUID's 16 bytes. A
 * file from before keeps its JSON rows and reads them as it did (json_extract over `doc`) until
 * `npm run store -- compact` converts it.
 */
export function metricsTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  id INTEGER PRIMARY KEY,
  run_id NOT NULL,
  provider TEXT NOT NULL,
  model_name TEXT NOT NULL,
  run_ts INTEGER NOT NULL,
  tokens_per_second REAL,
  time_to_first_token REAL,
  doc NOT NULL,
  cost_usd REAL,
  gid INTEGER NOT NULL,
  generate_time REAL,
  decode_tps REAL,
  served
);`;
}

/** The errors table: compact rows as the metric tables (its scenario a column set at insert). */
export function errorsTableSql(name: string): string {
  return `CREATE TABLE IF NOT EXISTS ${name} (
  id INTEGER PRIMARY KEY,
  run_id NOT NULL,
  provider TEXT NOT NULL,
  model_name TEXT NOT NULL,
  ts INTEGER NOT NULL,
  stage TEXT NOT NULL,
  error_kind TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  message TEXT NOT NULL,
  doc NOT NULL,
  scenario TEXT NOT NULL
);`;
}

/**
 * Finding a compact table's row by run_id (?1, as runIdKey gives it): through an index on its
 * last 6 bytes (a UUID's random ones, an ObjectId's counter), 10 bytes a row less than a unique
 * index on the whole key. No two rows share a run_id because every insert looks first, inside
 * its write transaction (metric-rows.ts).
 */
export const BY_RUN_ID = 'substr(run_id, -6) = substr(?1, -6) AND run_id = ?1';
export const runIdIndex = (t: string) => `CREATE INDEX IF NOT EXISTS ${t}_run_id ON ${t} (substr(run_id, -6));`;

/** The dictionaries of compact rows, and the KPI groups their gid names. */
const COMPACT_TABLES = `
-- shape: the JSON of [keys, heads] of an object (compact.ts).
CREATE TABLE IF NOT EXISTS doc_shapes (id INTEGER PRIMARY KEY, shape TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS doc_strings (id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS metric_groups (
  gid INTEGER PRIMARY KEY,
  tbl TEXT NOT NULL,
  provider TEXT NOT NULL,
  model_name TEXT NOT NULL,
  scenario TEXT NOT NULL,
  UNIQUE (tbl, provider, model_name, scenario)
);
`;

const SCHEMA = `
${metricsTableSql('metrics')}
${errorsTableSql('errors')}
CREATE INDEX IF NOT EXISTS errors_model_ts ON errors (provider, model_name, ts);
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
-- SPEC 4.7: one freshness document per model.
CREATE TABLE IF NOT EXISTS bench_model_health (
  provider TEXT NOT NULL,
  model_id TEXT NOT NULL,
  doc TEXT NOT NULL,
  PRIMARY KEY (provider, model_id)
);
`;

// The indexes of a file whose metric rows are JSON (from before compact rows).
const JSON_ROW_INDEXES = `
-- metrics_model_speed below serves every per-model range; this older index is its prefix.
DROP INDEX IF EXISTS metrics_model_ts;
CREATE INDEX IF NOT EXISTS metrics_ts ON metrics (run_ts);
-- Covers the health report's per-model ranges of tokens/s and TTFT, so they read the index
-- alone and never the documents (a 1.5 KB row each: 10x the pages on a million rows).
CREATE INDEX IF NOT EXISTS metrics_model_speed ON metrics (provider, model_name, run_ts, tokens_per_second, time_to_first_token);
CREATE INDEX IF NOT EXISTS metrics_probe_model_ts ON metrics_probe (provider, model_name, run_ts);
`;

export const METRICS_TABLE: Record<MetricsCollection, MetricTable> = { published: 'metrics', probe: 'metrics_probe' };

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

// What each sweep measured of the runner and the way to each provider (SPEC 18): sqlite/sweeps.ts.
const BENCH_SWEEPS_SCHEMA = `
CREATE TABLE IF NOT EXISTS bench_sweeps (
  id INTEGER PRIMARY KEY,
  sweep_id TEXT NOT NULL UNIQUE,
  started_at INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS bench_sweeps_started ON bench_sweeps (started_at);
`;

// Models a sweep did not start for the daily budget (SPEC 17), read by the health mail.
const SWEEP_SKIP_SCHEMA = `
CREATE TABLE IF NOT EXISTS sweep_skips (
  id INTEGER PRIMARY KEY,
  skipped_at INTEGER NOT NULL,
  doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sweep_skips_at ON sweep_skips (skipped_at);
-- What each \`store migrate\` changed, so it can be put back.
CREATE TABLE IF NOT EXISTS migrations (
  batch_id TEXT PRIMARY KEY,
  applied_at INTEGER NOT NULL,
  doc TEXT NOT NULL
);
`;

// Moving history (lib/store/exchange.ts): how far the import of each source file has come,
// written in the transaction that stores its rows, so an import stopped anywhere resumes after
// the last line stored. A finished import removes its record.
const IMPORT_PROGRESS_SCHEMA = `
CREATE TABLE IF NOT EXISTS import_progress (
  source TEXT PRIMARY KEY,
  collection TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL,
  byte_offset INTEGER NOT NULL,
  line INTEGER NOT NULL,
  bad INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
`;

/** Each rollup measure and the prefix of its columns in daily_rollups. */
export const ROLLUP_MEASURE_COLUMNS = [
  ['time_to_first_token', 'ttft'],
  ['total_time', 'total'],
  ['tokens_per_second', 'tps'],
  ['decode_tokens_per_second', 'decode'],
] as const;

// SPEC 20: one row per (UTC day, provider, model, scenario), the days rolled up and when (a day
// computed after its end is covered), and what retention has done so far.
const ROLLUP_SCHEMA = `
-- Columns, not a JSON document: a year of 300 models is 110,000 rows read at once.
CREATE TABLE IF NOT EXISTS daily_rollups (
  day TEXT NOT NULL,
  provider TEXT NOT NULL,
  model_name TEXT NOT NULL,
  scenario TEXT NOT NULL,
  successes INTEGER NOT NULL,
  failures INTEGER NOT NULL,
  failures_by_kind TEXT NOT NULL,
  last_success INTEGER,
  ${ROLLUP_MEASURE_COLUMNS.flatMap(([, c]) => [`${c}_n INTEGER NOT NULL`, ...['p50', 'p90', 'p95', 'p99'].map((p) => `${c}_${p} REAL`)]).join(',\n  ')},
  cost_usd REAL NOT NULL,
  priced_calls INTEGER NOT NULL,
  PRIMARY KEY (day, provider, model_name, scenario)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_days (
  day TEXT PRIMARY KEY,
  computed_at INTEGER NOT NULL,
  cells INTEGER NOT NULL,
  raw_rows_removed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS store_state (
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`;

/** How long SQLite itself waits for a lock per attempt (SqliteConnection.run waits the rest). */
export const BUSY_SLICE_MS = 5;

/**
 * Opens the file (creating it if needed) and brings its tables and indexes up to date. A file
 * this process may not write (its permissions, a read-only mount) is opened read-only as it is,
 * so the commands that only read (models list, runs, the health check) still work; a write then
 * fails saying the store is read-only.
 * @throws StoreError when the file cannot be opened or is not a database.
 */
export function openDatabase(path: string): DatabaseSync {
  try {
    return openWritable(path);
  } catch (err) {
    if (path === ':memory:' || !isReadOnlyError(err)) throw err;
    try {
      return openReadOnly(path);
    } catch {
      // A WAL file needs its -shm beside it, which a reader cannot create in a folder it may
      // not write: read the file as it stands (what was checkpointed into it).
      const url = pathToFileURL(path);
      url.searchParams.set('immutable', '1');
      try {
        return openReadOnly(url);
      } catch (readErr) {
        throw new StoreError(`Cannot open SQLite store ${path} (read-only): ${(readErr as Error).message}`, { cause: readErr });
      }
    }
  }
}

function openReadOnly(path: string | URL): DatabaseSync {
  const db = new DatabaseSync(path, { timeout: BUSY_SLICE_MS, readOnly: true });
  try {
    registerFunctions(db);
    // Reads the schema, so a file that is not a database fails here, not at the first query.
    db.prepare('SELECT count(*) FROM sqlite_master').get();
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** The SQL functions the reads call: kpi_collect (below) and doc_field (compact.ts). */
function registerFunctions(db: DatabaseSync): void {
  db.function('kpi_collect', KPI_COLUMNS.collect);
  registerDocField(db);
}

function isReadOnlyError(err: unknown): boolean {
  return /readonly|read-only/i.test(String((err as Error)?.message));
}

function openWritable(path: string): DatabaseSync {
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: BUSY_SLICE_MS });
    // A metric row as JSON with its per-chunk gaps was about 2 KB: on 4 KB pages one filled a
    // page and half of each page stayed empty (4.5 KB per row in `npm run bench:report`; 2.7 KB
    // on 16 KB pages). Only a new file takes it: an existing one keeps its page size until a
    // VACUUM outside WAL mode (`store compact` does one).
    db.exec('PRAGMA page_size = 16384');
    db.exec('PRAGMA journal_mode = WAL');
    // NORMAL is durable across process crashes in WAL mode; only a power loss can drop the
    // last transactions, and each result is its own transaction.
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec(SCHEMA);
    db.exec(COMPACT_TABLES);
    db.exec(SCENARIO_SCHEMA);
    db.exec(SWEEP_SKIP_SCHEMA);
    db.exec(BENCH_SWEEPS_SCHEMA);
    db.exec(IMPORT_PROGRESS_SCHEMA);
    db.exec(ROLLUP_SCHEMA);
    if (KPI_TABLES.some((t) => !hasCompactRows(db!, t))) db.exec(JSON_ROW_INDEXES);
    db.exec(kpiIndexes(db));
    dropStaleMarkTriggers(db);
    db.exec(AGENT_KPI_INDEX);
    registerFunctions(db);
    addSpendColumns(db);
    return db;
  } catch (err) {
    // Not left open: the read-only retry, or the caller, opens the file afresh.
    if (db?.isOpen) db.close();
    throw new StoreError(`Cannot open SQLite store ${path}: ${(err as Error).message}`, { cause: err });
  }
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
    // A compact table's rows name their provider and model by gid (metric_groups): 20 bytes less a row.
    const key = hasCompactRows(db, table) ? 'gid' : 'provider, model_name';
    db.exec(`CREATE INDEX IF NOT EXISTS ${table}_spend ON ${table} (run_ts, ${key}, cost_usd)`);
  }
}

// ---- KPIs and runs (SPEC 16) ----
// A compact table keeps the KPI measures as columns set at insert, and its covering index
// (TABLE_model_kpi) holds them: a KPI read, and every per-model range of the health report,
// reads that index alone. A table of JSON rows (a file from before compact rows) reads the
// measures not kept in columns from the document through indexes on expressions: metrics_kpi
// covers a KPI query the same way (SQLite reads an indexed expression from the index), and
// metrics_model_speed the per-model ranges.
export const SCENARIO = `ifnull(json_extract(doc, '$.benchmark_profile_id'), '${DEFAULT_SCENARIO}')`;
/**
 * Upstream's admission probes and shadow runs (sample_role, SPEC 4.0) are in metrics_probe,
 * probes with the published profile's id: there they belong to no scenario, UNPUBLISHED,
 * which every read leaves out. ('' sorts before every scenario id, so the loose index scans
 * that step from group to group pass over it; NULL would stop them.)
 */
export const UNPUBLISHED = '';
const PROBE_SCENARIO = `CASE WHEN json_extract(doc, '$.sample_role') IN ('probe', 'shadow') THEN '${UNPUBLISHED}' ELSE ${SCENARIO} END`;
// Both metric tables: the published rows and the probe rows of every other scenario (SPEC 4.1).
export const KPI_TABLES = ['metrics', 'metrics_probe'] as const;
export type MetricTable = (typeof KPI_TABLES)[number];

/** The scenario of a document bound for a table, as its scenarioOf() expression reads it from a JSON row. */
export function scenarioOfDoc(table: MetricTable | 'errors', doc: Record<string, unknown>): string {
  if (table === 'metrics_probe' && (doc.sample_role === 'probe' || doc.sample_role === 'shadow')) return UNPUBLISHED;
  const id = doc.benchmark_profile_id;
  return id === null || id === undefined ? DEFAULT_SCENARIO : typeof id === 'string' ? id : JSON.stringify(id);
}

const compactTables = new WeakMap<DatabaseSync, { version: number; pragma: StatementSync; tables: Map<string, boolean> }>();
export type RowTable = MetricTable | 'errors';
/**
 * Whether the table keeps compact rows (a metric table's gid column, the errors table's
 * scenario). Asked again whenever the file's schema changed (`store compact` run by another
 * process while this one had the file open), so no JSON row is written into a compact table.
 */
export function hasCompactRows(db: DatabaseSync, table: RowTable): boolean {
  let known = compactTables.get(db);
  const version = ((known?.pragma ?? db.prepare('PRAGMA schema_version')).get() as { schema_version: number }).schema_version;
  if (!known || known.version !== version) compactTables.set(db, (known = { version, pragma: known?.pragma ?? db.prepare('PRAGMA schema_version'), tables: new Map() }));
  let compact = known.tables.get(table);
  if (compact === undefined) {
    const columns = db.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as Array<{ name: string }>;
    const marker = table === 'errors' ? 'scenario' : 'gid';
    known.tables.set(table, (compact = columns.some((c) => c.name === marker)));
  }
  return compact;
}

/** How a connection's reads name a metric table's KPI values: columns in a compact table, expressions over `doc` in a JSON one. */
export function metricSql(c: { db: DatabaseSync }, table: MetricTable) {
  const compact = hasCompactRows(c.db, table);
  const json = table === 'metrics_probe' ? PROBE_SCENARIO : SCENARIO;
  const prefix = (alias?: string) => (alias ? `${alias}.` : '');
  return {
    compact,
    /** The row's scenario (alias. before the columns when given). */
    scenario: (alias?: string) =>
      compact
        ? `(SELECT scenario FROM metric_groups WHERE metric_groups.gid = ${alias ?? table}.gid)`
        : alias
          ? json.replaceAll('json_extract(doc,', `json_extract(${alias}.doc,`)
          : json,
    generateTime: compact ? 'generate_time' : "json_extract(doc, '$.generate_time')",
    /**
     * The document's served_model as json_extract gives it: a compact row keeps it in the served
     * column (an empty BLOB when it is the row's model_name), so the health mail's read of a
     * week of rows decodes no document.
     */
    servedModel: compact ? "CASE WHEN typeof(served) = 'blob' THEN model_name ELSE served END" : "json_extract(doc, '$.served_model')",
    decodeTps: compact ? 'decode_tps' : "json_extract(doc, '$.decode_tokens_per_second')",
    /** The covering KPI index. */
    kpiIndex: compact ? `${table}_model_kpi` : KPI_INDEX[table],
    /** The index whose leading column is run_ts. */
    timeIndex: compact || table === 'metrics_probe' ? `${table}_spend` : 'metrics_ts',
    /**
     * The rows of a window as the spend index holds them (never the documents but for a JSON
     * table's scenario): provider, model_name, run_ts, cost_usd and, when asked, scenario.
     * Placeholders: since, until, then the provider and the model when filtered on.
     */
    spendRows(o: { scenario?: boolean; priced?: boolean; provider?: boolean; model?: boolean } = {}): string {
      const [p, g] = compact ? ['m.', 'g.'] : ['', ''];
      const where = [`${p}run_ts >= ?`, `${p}run_ts < ?`];
      if (o.priced) where.push(`${p}cost_usd IS NOT NULL`);
      if (o.provider) where.push(`${g}provider = ?`);
      if (o.model) where.push(`${g}model_name = ?`);
      const scenario = o.scenario ? `, ${compact ? 'g.scenario' : json} AS scenario` : '';
      return compact
        ? `SELECT g.provider AS provider, g.model_name AS model_name${scenario}, m.run_ts AS run_ts, m.cost_usd AS cost_usd
           FROM ${table} m INDEXED BY ${table}_spend JOIN metric_groups g ON g.gid = m.gid WHERE ${where.join(' AND ')}`
        : `SELECT provider, model_name${scenario}, run_ts, cost_usd FROM ${table} INDEXED BY ${table}_spend WHERE ${where.join(' AND ')}`;
    },
    /** The columns a document is read from (decodeRow), alias. before each when given. */
    docColumns: (alias?: string) => (compact ? docColumns('metric').map((k) => prefix(alias) + k).join(', ') : `${prefix(alias)}doc`),
    /** One field of the document ('a.b' for $.a.b), as json_extract gives it, over either kind of row. */
    field: (path: string, alias?: string) => {
      const json = `json_extract(${prefix(alias)}doc, '$.${path.split('.').map((k) => (k.startsWith('$') ? `"${k}"` : k)).join('.')}')`;
      if (!compact) return json;
      return `CASE WHEN typeof(${prefix(alias)}doc) = 'blob' THEN doc_field('${path}', 'metric', ${docColumns('metric').map((k) => prefix(alias) + k).join(', ')}) ELSE ${json} END`;
    },
  };
}

/** How a connection's reads name the errors table's scenario, its documents and their fields (as metricSql). */
export function errorSql(c: { db: DatabaseSync }) {
  const compact = hasCompactRows(c.db, 'errors');
  return {
    compact,
    scenario: compact ? 'scenario' : SCENARIO,
    field: (path: string) => {
      const json = `json_extract(doc, '$.${path}')`;
      return compact ? `CASE WHEN typeof(doc) = 'blob' THEN doc_field('${path}', 'error', ${docColumns('error').join(', ')}) ELSE ${json} END` : json;
    },
    /** 1 when the document has a string run_id (a row this project wrote, not an upstream one). */
    ours: compact ? `typeof(CASE WHEN typeof(doc) = 'blob' THEN doc_field('run_id', 'error', ${docColumns('error').join(', ')}) ELSE json_extract(doc, '$.run_id') END) = 'text'` : "json_type(doc, '$.run_id') = 'text'",
    docColumns: () => (compact ? docColumns('error').join(', ') : 'doc'),
  };
}

/**
 * A metric or error row's scenario, as its table's KPI index holds it, over the JSON documents
 * (`alias.` before doc when given): the errors table always, and metric tables of JSON rows.
 */
export function scenarioOf(table: 'metrics' | 'metrics_probe' | 'errors', alias?: string): string {
  const expr = table === 'metrics_probe' ? PROBE_SCENARIO : SCENARIO;
  return alias ? expr.replaceAll('json_extract(doc,', `json_extract(${alias}.doc,`) : expr;
}
const GENERATE_TIME = "json_extract(doc, '$.generate_time')";
const DECODE_TPS = "json_extract(doc, '$.decode_tokens_per_second')";
/**
 * Rows whose evidence leaves them out of the KPIs (SPEC 18), by table and id: few, so the KPI
 * read leaves them out by id (every index holds the id) and still never reads a document.
 * Every insert (bench, ingest, import) adds its row when isMarked() says so; in a table of JSON
 * rows a trigger from before did it too (kept: it adds the same rows). A file from before it has
 * no marked rows to list.
 */
export const MARKED_TABLE = 'metrics_marked';

/**
 * The condition that leaves a table's marked rows out (`AND id NOT IN …`, every index holds the
 * id), or '' in a file opened read-only from before SPEC 18, which has no marked rows nor their table.
 */
export function unmarkedRows(c: { all<T>(sql: string): T[] }, table: 'metrics' | 'metrics_probe'): string {
  const exists = c.all(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '${MARKED_TABLE}'`).length > 0;
  return exists ? ` AND id NOT IN (SELECT id FROM ${MARKED_TABLE} WHERE tbl = '${table}')` : '';
}
/** A row with any of the marks (documents.ts EVIDENCE_MARKS). */
const MARKED_WHEN = EVIDENCE_MARKS.map((k) => `json_extract(NEW.doc, '$.evidence.${k}') = 1`).join(' OR ');
/**
 * A JSON table's insert trigger that lists its marked rows, named for its marks, so a file opened
 * before a mark was added gets the new trigger, and loses the old (dropStaleMarkTriggers). A
 * compact table has none: every insert marks its row in code (metric-rows.ts, isMarked).
 */
const markTrigger = (t: string) => `${t}_marked_by_${EVIDENCE_MARKS.join('_')}`;
/**
 * Drops the insert triggers of earlier mark lists (`metrics_marked`: cache_hit alone). Rows that
 * arrived before carry no mark that did not exist then, so nothing needs marking afresh.
 */
function dropStaleMarkTriggers(db: DatabaseSync): void {
  for (const t of ['metrics', 'metrics_probe']) {
    const triggers = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?`).all(t) as Array<{ name: string }>;
    const stale = triggers.filter(({ name }) => (name === `${t}_marked` || name.startsWith(`${t}_marked_by_`)) && name !== markTrigger(t));
    for (const { name } of stale) db.exec(`DROP TRIGGER IF EXISTS "${name}"`);
  }
}
export const KPI_INDEX = { metrics: 'metrics_kpi', metrics_probe: 'metrics_probe_kpi_roles', errors: 'errors_kpi_kind' } as const;

/** The KPI indexes and the marked-rows table, each metric table's by its kind of rows. */
function kpiIndexes(db: DatabaseSync): string {
  const parts = [`DROP INDEX IF EXISTS metrics_probe_kpi;
DROP INDEX IF EXISTS errors_kpi;
-- error_kind: aborted calls (the operator stopped the sweep) are no failure, and the KPIs read the index alone.
CREATE INDEX IF NOT EXISTS ${KPI_INDEX.errors} ON errors (ts, provider, model_name, ${hasCompactRows(db, 'errors') ? 'scenario' : `(${SCENARIO})`}, error_kind);
-- Its leading ts serves every range of a compact errors table; a JSON one had errors_ts besides.
${hasCompactRows(db, 'errors') ? runIdIndex('errors') : 'CREATE INDEX IF NOT EXISTS errors_ts ON errors (ts);'}
CREATE TABLE IF NOT EXISTS ${MARKED_TABLE} (tbl TEXT NOT NULL, id INTEGER NOT NULL, PRIMARY KEY (tbl, id)) WITHOUT ROWID;`];
  for (const t of KPI_TABLES) {
    if (hasCompactRows(db, t)) {
      // run_ts before gid: the same index serves every per-model time range (the health
      // report's) and, with gid checked in the index entry, each group's KPIs.
      parts.push(`CREATE INDEX IF NOT EXISTS ${t}_model_kpi ON ${t}
  (provider, model_name, run_ts, gid, time_to_first_token, generate_time, tokens_per_second, decode_tps);
${runIdIndex(t)}`);
    } else {
      parts.push(`CREATE INDEX IF NOT EXISTS ${KPI_INDEX[t]} ON ${t}
  (provider, model_name, (${scenarioOf(t)}), run_ts, time_to_first_token, (${GENERATE_TIME}), tokens_per_second, (${DECODE_TPS}));
CREATE TRIGGER IF NOT EXISTS ${markTrigger(t)} AFTER INSERT ON ${t} WHEN ${MARKED_WHEN}
  BEGIN INSERT OR IGNORE INTO ${MARKED_TABLE} VALUES ('${t}', NEW.id); END;`);
    }
    parts.push(`CREATE TRIGGER IF NOT EXISTS ${t}_marked_gone AFTER DELETE ON ${t}
  BEGIN DELETE FROM ${MARKED_TABLE} WHERE tbl = '${t}' AND id = OLD.id; END;`);
  }
  return parts.join('\n');
}

// ---- Agent-run KPIs (SPEC 16) ----
// agent_runs_kpi covers the KPI read over a window: the measures come from the document
// through indexed expressions, so a year of runs is read from the index alone.
export const AGENT_MOCK = "json_extract(doc, '$.mock')";
export const AGENT_DURATION = "json_extract(doc, '$.total_duration_ms')";
export const AGENT_FIRST_PROGRESS = "json_extract(doc, '$.time_to_first_progress_ms')";
const AGENT_KPI_INDEX = `CREATE INDEX IF NOT EXISTS agent_runs_kpi ON agent_runs
  (started_at, automation, scenario_id, status, (${AGENT_MOCK}), (${AGENT_DURATION}), (${AGENT_FIRST_PROGRESS}));`;

/**
 * The SQL function kpi_collect(ttft, total, tps, decode): appends each non-null measure of a
 * row to its column. node:sqlite runs a query synchronously and JS has one thread, so one
 * set of columns serves every connection: metricKpis resets them before a group's read and
 * takes them right after.
 */
export const KPI_COLUMNS = (() => {
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
