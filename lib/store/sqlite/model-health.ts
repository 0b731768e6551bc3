// bench_model_health (SPEC 4.7): one document per model, replaced on every write.
import type { ModelHealthDoc } from '../documents.ts';
import type { ModelHealthStore } from '../store.ts';
import { encodeDoc, type SqliteConnection } from './connection.ts';

export function sqliteModelHealth(c: SqliteConnection): ModelHealthStore {
  const modelHealth: ModelHealthStore = {
    async upsertModelHealth(docs: ModelHealthDoc[]): Promise<void> {
      c.db.exec('BEGIN IMMEDIATE');
      try {
        for (const doc of docs) {
          c.stmt(
            `INSERT INTO bench_model_health (provider, model_id, doc) VALUES (?, ?, ?)
             ON CONFLICT (provider, model_id) DO UPDATE SET doc = excluded.doc`,
          ).run(doc.provider, doc.model_id, encodeDoc(doc));
        }
        c.db.exec('COMMIT');
      } catch (err) {
        if (c.db.isTransaction) c.db.exec('ROLLBACK');
        throw err;
      }
    },

    async listModelHealth(filter: { provider?: string } = {}): Promise<ModelHealthDoc[]> {
      return c.docs<ModelHealthDoc>(
        `SELECT doc FROM bench_model_health ${filter.provider ? 'WHERE provider = ?' : ''} ORDER BY provider, model_id`,
        ...(filter.provider ? [filter.provider] : []),
      );
    },
  };
  return modelHealth;
}
