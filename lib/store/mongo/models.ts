// The models collection (SPEC 4.3).
import type { Document } from 'mongodb';
import type { ModelDoc } from '../documents.ts';
import { readModel } from '../upstream.ts';
import type { InsertResult, ModelFilter, ModelPatch, ModelsStore } from '../store.ts';
import { insertDoc, refuseMock, strip, stripAll, type MongoContext } from './connection.ts';

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function mongoModels(ctx: MongoContext): ModelsStore {
  const c = ctx.c;
  const models: ModelsStore = {
    async listModels(filter: ModelFilter = {}): Promise<ModelDoc[]> {
      const q: Document = {};
      if (filter.provider) q.provider = filter.provider;
      if (filter.benchmarkedOnly) Object.assign(q, { enabled: true, deprecated: { $ne: true } });
      return stripAll<ModelDoc>(await c.models.find(q, { sort: { provider: 1, model_id: 1 } }).toArray()).map(readModel);
    },

    async getModel(provider: string, modelId: string): Promise<ModelDoc | null> {
      const doc = strip<ModelDoc>(await c.models.findOne({ provider, model_id: modelId }));
      return doc && readModel(doc);
    },

    async findModelsIgnoreCase(provider: string, modelId: string): Promise<ModelDoc[]> {
      const q = { provider, model_id: { $regex: `^${escapeRegex(modelId)}$`, $options: 'i' } };
      return stripAll<ModelDoc>(await c.models.find(q, { sort: { model_id: 1 } }).toArray()).map(readModel);
    },

    async insertModel(doc: ModelDoc): Promise<InsertResult> {
      refuseMock(doc);
      return insertDoc(c.models, doc);
    },

    async updateModel(provider: string, modelId: string, patch: ModelPatch): Promise<boolean> {
      const r = await c.models.updateOne({ provider, model_id: modelId }, { $set: patch });
      return r.matchedCount === 1;
    },
  };
  return models;
}
