// One SQLite file through node:sqlite, shared by every collection of the store. Several
// processes may write at once (a sweep and the ingest server), so the file runs in WAL mode
// with a busy timeout, and each call checks that the path still names the file it has open.
import { renameSync, rmSync, statSync } from 'node:fs';
import type { DatabaseSync, SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite';
import { codecOf, encodeText, rowColumns, type RowKind } from './compact.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentStoreError, StoreError } from '../store.ts';
import { BUSY_SLICE_MS, openDatabase } from './schema.ts';

/** JSON with Dates tagged as {"$date": ISO}, so they come back as Dates. */
export const encodeDoc: (doc: unknown) => string = encodeText;

export function decodeDoc<T>(text: string): T {
  return JSON.parse(text, (_key, value) =>
    value && typeof value === 'object' && !Array.isArray(value) && typeof value.$date === 'string' && Object.keys(value).length === 1
      ? new Date(value.$date)
      : value,
  ) as T;
}

export const ms = (d: Date) => d.getTime();

/** A row's document from its docColumns(kind) (metricSql().docColumns, errorSql()…): JSON text or compact. */
export function decodeRow<T>(db: DatabaseSync, kind: RowKind, row: Record<string, SQLOutputValue>): T {
  const doc = row.doc;
  return typeof doc === 'string' ? decodeDoc<T>(doc) : codecOf(db).decode<T>(doc as Uint8Array, rowColumns(kind, row));
}

/** SQLite's default for `wal_autocheckpoint`. */
const WAL_AUTOCHECKPOINT_PAGES = 1000;

const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_READONLY = 8;
const SQLITE_TOOBIG = 18;
const SQLITE_CONSTRAINT = 19;

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
 * The open file and its prepared statements, which every collection of the store reads and
 * writes through. The database is reopened when the file at the path is replaced, so callers
 * take `db` afresh on every call and never keep it.
 */
export class SqliteConnection {
  #db: DatabaseSync;
  readonly #statements = new Map<string, StatementSync>();
  readonly #busyTimeoutMs: number;
  /** Device and inode of the file this connection has open (null for :memory:). */
  #identity: string | null;
  /** Device and inode of the -wal file beside it, which SQLite keeps while the connection is open. */
  #walIdentity: string | null;
  #closed = false;
  /** SQLite's automatic checkpoint held off (pauseCheckpoints), also on a file reopened meanwhile. */
  #checkpointsPaused = false;

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
        if (code === SQLITE_READONLY) {
          throw new StoreError(`SQLite store ${this.location} is read-only for this process (its permissions or its mount): ${(err as Error).message}`, { cause: err });
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
    if (this.#checkpointsPaused) this.#db.exec('PRAGMA wal_autocheckpoint = 0');
    this.#identity = fileIdentity(this.location);
    this.#walIdentity = fileIdentity(wal);
    throw new StoreError(
      `SQLite store ${this.location} was ${reopened ? 'replaced' : 'restored'} while open: reopened it; the call is to be retried`,
    );
  }

  get db(): DatabaseSync {
    return this.#db;
  }

  stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  all<T>(sql: string, ...params: SQLInputValue[]): T[] {
    // node:sqlite returns null-prototype rows; callers get plain objects.
    return this.stmt(sql).all(...params).map((row) => ({ ...row })) as T[];
  }

  docs<T>(sql: string, ...params: SQLInputValue[]): T[] {
    return this.all<{ doc: string }>(sql, ...params).map((r) => decodeDoc<T>(r.doc));
  }

  /** Metric or error documents, of rows selected with their docColumns (JSON or compact rows). */
  rowDocs<T>(kind: RowKind, sql: string, ...params: SQLInputValue[]): T[] {
    return this.stmt(sql)
      .all(...params)
      .map((r) => decodeRow<T>(this.#db, kind, r));
  }

  /** Rows of the table, of one provider when given. */
  count(table: 'metrics' | 'metrics_probe' | 'errors', provider?: string): number {
    const sql = `SELECT COUNT(*) AS n FROM ${table} ${provider ? 'WHERE provider = ?' : ''}`;
    return this.all<{ n: number }>(sql, ...(provider ? [provider] : []))[0]!.n;
  }

  /** Checks what a write needs: the file at the path is the open one and its write lock can be taken. */
  async ping(): Promise<void> {
    this.#db.exec('BEGIN IMMEDIATE');
    this.#db.exec('ROLLBACK');
  }

  /**
   * Holds off SQLite's automatic checkpoint, which copies the write-ahead log back into the file
   * in the commit that passes 1,000 pages: 20–25 ms on the thread once every ~200 rows of a
   * sweep (`npm run bench:sweep`), read as lateness by every stream then in flight. The log
   * keeps every commit meanwhile (durable as before); the last connection to close, or
   * resumeCheckpoints, copies it back.
   */
  pauseCheckpoints(): void {
    this.#checkpointsPaused = true;
    this.#db.exec('PRAGMA wal_autocheckpoint = 0');
  }

  /** Automatic checkpoints again (SQLite's default), and one now, without waiting for readers. */
  resumeCheckpoints(): void {
    this.#checkpointsPaused = false;
    this.#db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
    this.#db.exec('PRAGMA wal_checkpoint(PASSIVE)');
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#db.isOpen) this.#db.close();
  }
}
