// The models table (SPEC 4.3): enabled and deprecated are columns, so the benchmarked models
// are listed without reading every document.
import type { SQLInputValue } from 'node:sqlite';
import type { ModelDoc } from '../documents.ts';
import { readModel } from '../upstream.ts';
import type { InsertResult, ModelFilter, ModelPatch, ModelsStore } from '../store.ts';
import { encodeDoc, type SqliteConnection } from './connection.ts';

export function sqliteModels(c: SqliteConnection): ModelsStore {
  const models: ModelsStore = {
    async listModels(filter: ModelFilter = {}): Promise<ModelDoc[]> {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      if (filter.provider) {
        where.push('provider = ?');
        params.push(filter.provider);
      }
      if (filter.benchmarkedOnly) where.push('enabled = 1 AND deprecated = 0');
      const sql = `SELECT doc FROM models ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY provider, model_id`;
      return c.docs<ModelDoc>(sql, ...params).map(readModel);
    },

    async getModel(provider: string, modelId: string): Promise<ModelDoc | null> {
      const doc = c.docs<ModelDoc>('SELECT doc FROM models WHERE provider = ? AND model_id = ?', provider, modelId)[0];
      return doc ? readModel(doc) : null;
    },

    async findModelsIgnoreCase(provider: string, modelId: string): Promise<ModelDoc[]> {
      return c.docs<ModelDoc>(
        'SELECT doc FROM models WHERE provider = ? AND lower(model_id) = lower(?) ORDER BY model_id',
        provider,
        modelId,
      ).map(readModel);
    },

    async insertModel(doc: ModelDoc): Promise<InsertResult> {
      const r = c.stmt(
        'INSERT INTO models (provider, model_id, enabled, deprecated, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
      ).run(doc.provider, doc.model_id, doc.enabled ? 1 : 0, doc.deprecated === true ? 1 : 0, encodeDoc(doc));
      return r.changes === 1 ? 'stored' : 'duplicate';
    },

    async updateModel(provider: string, modelId: string, patch: ModelPatch): Promise<boolean> {
      // Read and write in one transaction so a concurrent update is not lost.
      c.db.exec('BEGIN IMMEDIATE');
      try {
        // The stored document as it is, not as read: upstream fields (added_at, a Date
        // deprecation_date, lifecycle fields) stay as they were unless the patch sets them.
        const current = c.docs<ModelDoc>('SELECT doc FROM models WHERE provider = ? AND model_id = ?', provider, modelId)[0];
        if (!current) {
          c.db.exec('ROLLBACK');
          return false;
        }
        const next: ModelDoc = { ...current, ...patch };
        c.stmt('UPDATE models SET enabled = ?, deprecated = ?, doc = ? WHERE provider = ? AND model_id = ?').run(
          next.enabled ? 1 : 0,
          next.deprecated === true ? 1 : 0,
          encodeDoc(next),
          provider,
          modelId,
        );
        c.db.exec('COMMIT');
        return true;
      } catch (err) {
        if (c.db.isTransaction) c.db.exec('ROLLBACK');
        throw err;
      }
    },
  };
  return models;
}
