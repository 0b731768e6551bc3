// A SQLite file as the store wrote it before compact rows (issue 28): metric and error tables
// whose rows are JSON text, with no gid, generate_time, decode_tps or scenario columns. The store opens such a file
// and reads it as it did, until `store compact` converts it.
import { DatabaseSync } from 'node:sqlite';

const jsonRowsTable = (name: string) => `CREATE TABLE ${name} (
  id INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL UNIQUE,
  provider TEXT NOT NULL,
  model_name TEXT NOT NULL,
  run_ts INTEGER NOT NULL,
  tokens_per_second REAL,
  time_to_first_token REAL,
  doc TEXT NOT NULL
);`;

const JSON_ERRORS_TABLE = `CREATE TABLE errors (
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
);`;

/** Creates the metric tables and the errors table of JSON rows in a new file; the store adds the rest on open. */
export function createJsonRowsFile(path: string): void {
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec(jsonRowsTable('metrics') + jsonRowsTable('metrics_probe') + JSON_ERRORS_TABLE);
  db.close();
}
