// What a write to the SQLite store needs, for GET /health (SPEC 9, README: 200 only when the
// store can take a write). The store's own ping (BEGIN IMMEDIATE, ROLLBACK) passes on a file
// SQLite opened read-only: taking the write lock writes nothing, and every insert then fails
// with "attempt to write a readonly database". So this checks the files themselves: the
// database, its WAL and shared-memory files, and the folder SQLite creates them in, must be
// writable by this process, and the file system must not be mounted read-only (access(2)
// answers EROFS for that, even to root); then a connection of its own makes a real write
// and rolls it back, which is what a fresh start of the server would meet.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { DatabaseSync } from 'node:sqlite';

/**
 * Resolves when a write to the SQLite file at path can succeed.
 * @throws Error naming the file and why it cannot take a write.
 */
export async function checkSqliteWritable(path: string): Promise<void> {
  const dir = dirname(path);
  await writable(dir, 'the folder', constants.W_OK | constants.X_OK);
  await writable(path, 'the file', constants.R_OK | constants.W_OK);
  // Both exist while the store is open in WAL mode; a missing one is created in the folder checked above.
  for (const suffix of ['-wal', '-shm']) await writable(`${path}${suffix}`, `its ${suffix.slice(1).toUpperCase()} file`, constants.W_OK, true);
  // Loaded here, not at the top: the ingest server imports this module before it can tell an
  // old Node (without node:sqlite) that it is too old (lib/cli.ts).
  const { DatabaseSync } = await import('node:sqlite');
  probe(path, DatabaseSync);
}

async function writable(path: string, what: string, mode: number, mayBeMissing = false): Promise<void> {
  try {
    await access(path, mode);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (mayBeMissing && code === 'ENOENT') return;
    const why = code === 'EROFS' ? 'is on a read-only file system' : code === 'ENOENT' ? 'is missing' : `is not writable (${code ?? (err as Error).message})`;
    throw new Error(`SQLite store ${path}: ${what} ${why}`, { cause: err });
  }
}

/**
 * A write that is rolled back, on a connection of its own. Never waits for the lock (timeout
 * 0: this runs on the server's event loop); a lock held by another writer means the file
 * takes writes, so busy passes.
 */
function probe(path: string, Database: typeof DatabaseSync): void {
  let db: DatabaseSync | null = null;
  try {
    db = new Database(path, { timeout: 0 });
    db.exec('BEGIN IMMEDIATE');
    try {
      const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      db.exec(`PRAGMA user_version = ${Number(version)}`);
    } finally {
      db.exec('ROLLBACK');
    }
  } catch (err) {
    if (/database is locked|SQLITE_BUSY/i.test((err as Error).message)) return;
    throw new Error(`SQLite store ${path} refuses a write: ${(err as Error).message}`, { cause: err });
  } finally {
    db?.close();
  }
}
