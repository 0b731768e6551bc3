// bench_model_health (SPEC 4.7): one document per model, replaced on every write.
import type { ModelHealthDoc } from '../documents.ts';
import type { ModelHealthStore } from '../store.ts';
import { refuseMock, stripAll, type MongoContext } from './connection.ts';

export function mongoModelHealth(ctx: MongoContext): ModelHealthStore {
  const c = ctx.c;
  const modelHealth: ModelHealthStore = {
    async upsertModelHealth(docs: ModelHealthDoc[]): Promise<void> {
      for (const doc of docs) {
        refuseMock(doc);
        await c.modelHealth.updateOne({ provider: doc.provider, model_id: doc.model_id }, { $set: doc }, { upsert: true });
      }
    },

    async listModelHealth(filter: { provider?: string } = {}): Promise<ModelHealthDoc[]> {
      const q = filter.provider ? { provider: filter.provider } : {};
      return stripAll<ModelHealthDoc>(await c.modelHealth.find(q, { sort: { provider: 1, model_id: 1 } }).toArray());
    },
  };
  return modelHealth;
}
