// The OpenRouter catalog and the providers' model lists (SPEC 4.4), upserted by discovery.
import type { Document } from 'mongodb';
import type { OpenRouterCatalogDoc, OpenRouterEntry, ProviderCatalogDoc, ProviderCatalogEntry } from '../documents.ts';
import type { CatalogsStore, UpsertCounts } from '../store.ts';
import { stripAll, type CollectionLike, type MongoContext } from './connection.ts';

export function mongoCatalogs(ctx: MongoContext): CatalogsStore {
  const c = ctx.c;

  async function upsertCatalog(collection: CollectionLike, entries: object[], key: (e: object) => Document, now: Date): Promise<UpsertCounts> {
    const counts = { inserted: 0, updated: 0 };
    for (const entry of entries) {
      const r = await collection.updateOne(
        key(entry),
        { $set: { ...entry, last_seen_at: now }, $setOnInsert: { first_seen_at: now } },
        { upsert: true },
      );
      counts[r.upsertedCount ? 'inserted' : 'updated']++;
    }
    return counts;
  }

  const catalogs: CatalogsStore = {
    async upsertOpenRouterCatalog(entries: OpenRouterEntry[], now: Date): Promise<UpsertCounts> {
      return upsertCatalog(c.openrouterCatalog, entries, (e) => ({ openrouter_id: (e as OpenRouterEntry).openrouter_id }), now);
    },

    async upsertProviderCatalog(entries: ProviderCatalogEntry[], now: Date): Promise<UpsertCounts> {
      const key = (e: object) => ({ provider: (e as ProviderCatalogEntry).provider, model_id: (e as ProviderCatalogEntry).model_id });
      return upsertCatalog(c.providerCatalog, entries, key, now);
    },

    async listOpenRouterCatalog(): Promise<OpenRouterCatalogDoc[]> {
      return stripAll<OpenRouterCatalogDoc>(await c.openrouterCatalog.find({}, { sort: { openrouter_id: 1 } }).toArray());
    },

    async listProviderCatalog(filter: { provider?: string } = {}): Promise<ProviderCatalogDoc[]> {
      const q = filter.provider ? { provider: filter.provider } : {};
      return stripAll<ProviderCatalogDoc>(await c.providerCatalog.find(q, { sort: { provider: 1, model_id: 1 } }).toArray());
    },
  };
  return catalogs;
}
