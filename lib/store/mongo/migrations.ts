// `store migrate` on MongoDB: swaps are conditional updates (the field must still hold the value
// the plan saw), batches are documents of their own collection.
import type { MigrationBatch, MigrationsStore } from '../store.ts';
import { migrationsStore } from '../migrations.ts';
import { strip, type MongoContext } from './connection.ts';

export function mongoMigrations(ctx: MongoContext): MigrationsStore {
  const c = ctx.c;
  return migrationsStore({
    rawModels: () => c.models.find({}, { sort: { provider: 1, model_id: 1 } }).toArray(),
    async swapModelField(change, from, to) {
      const r = await c.models.updateOne({ provider: change.provider, model_id: change.model_id, [change.field]: from }, { $set: { [change.field]: to } });
      return r.matchedCount === 1;
    },
    async saveBatch(batch) {
      await c.migrations.updateOne({ batch_id: batch.batch_id }, { $set: batch }, { upsert: true });
    },
    async getBatch(batchId) {
      return strip<MigrationBatch>(await c.migrations.findOne({ batch_id: batchId }));
    },
    async listBatches() {
      return (await c.migrations.find({}, { sort: { applied_at: -1 } }).toArray()).map((d) => strip<MigrationBatch>(d)!);
    },
  });
}
