// `store migrate` on SQLite: a swap rewrites one model document in a transaction, batches are
// rows of their own table.
import { isDeepStrictEqual } from 'node:util';
import type { MigrationBatch, MigrationsStore } from '../store.ts';
import { migrationsStore } from '../migrations.ts';
import { encodeDoc, type SqliteConnection } from './connection.ts';

export function sqliteMigrations(c: SqliteConnection): MigrationsStore {
  return migrationsStore({
    async rawModels() {
      return c.docs<Record<string, unknown>>('SELECT doc FROM models ORDER BY provider, model_id');
    },
    async swapModelField(change, from, to) {
      c.db.exec('BEGIN IMMEDIATE');
      try {
        const doc = c.docs<Record<string, unknown>>('SELECT doc FROM models WHERE provider = ? AND model_id = ?', change.provider, change.model_id)[0];
        if (!doc || !isDeepStrictEqual(doc[change.field], from)) {
          c.db.exec('ROLLBACK');
          return false;
        }
        doc[change.field] = to;
        c.stmt('UPDATE models SET doc = ? WHERE provider = ? AND model_id = ?').run(encodeDoc(doc), change.provider, change.model_id);
        c.db.exec('COMMIT');
        return true;
      } catch (err) {
        if (c.db.isTransaction) c.db.exec('ROLLBACK');
        throw err;
      }
    },
    async saveBatch(batch) {
      c.stmt('INSERT INTO migrations (batch_id, applied_at, doc) VALUES (?, ?, ?) ON CONFLICT (batch_id) DO UPDATE SET doc = excluded.doc').run(
        batch.batch_id,
        batch.applied_at.getTime(),
        encodeDoc(batch),
      );
    },
    async getBatch(batchId) {
      return c.docs<MigrationBatch>('SELECT doc FROM migrations WHERE batch_id = ?', batchId)[0] ?? null;
    },
    async listBatches() {
      return c.docs<MigrationBatch>('SELECT doc FROM migrations ORDER BY applied_at DESC');
    },
  });
}
