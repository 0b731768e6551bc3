// The OpenRouter catalog and the providers' model lists (SPEC 4.4), upserted by discovery.
import type { OpenRouterCatalogDoc, OpenRouterEntry, ProviderCatalogDoc, ProviderCatalogEntry } from '../documents.ts';
import type { CatalogsStore, UpsertCounts } from '../store.ts';
import { encodeDoc, type SqliteConnection } from './connection.ts';

export function sqliteCatalogs(c: SqliteConnection): CatalogsStore {
  function upsertCatalog<E extends object>(
    entries: E[],
    now: Date,
    key: (e: E) => string[],
    selectSql: string,
    upsertSql: string,
  ): UpsertCounts {
    const counts = { inserted: 0, updated: 0 };
    c.db.exec('BEGIN IMMEDIATE');
    try {
      for (const entry of entries) {
        const k = key(entry);
        const existing = c.docs<{ first_seen_at: Date }>(selectSql, ...k)[0];
        const doc = { ...entry, first_seen_at: existing?.first_seen_at ?? now, last_seen_at: now };
        c.stmt(upsertSql).run(...k, encodeDoc(doc));
        counts[existing ? 'updated' : 'inserted']++;
      }
      c.db.exec('COMMIT');
    } catch (err) {
      if (c.db.isTransaction) c.db.exec('ROLLBACK');
      throw err;
    }
    return counts;
  }

  const catalogs: CatalogsStore = {
    async upsertOpenRouterCatalog(entries: OpenRouterEntry[], now: Date): Promise<UpsertCounts> {
      return upsertCatalog(
        entries,
        now,
        (e) => [e.openrouter_id],
        'SELECT doc FROM openrouter_catalog WHERE openrouter_id = ?',
        'INSERT OR REPLACE INTO openrouter_catalog (openrouter_id, doc) VALUES (?, ?)',
      );
    },

    async upsertProviderCatalog(entries: ProviderCatalogEntry[], now: Date): Promise<UpsertCounts> {
      return upsertCatalog(
        entries,
        now,
        (e) => [e.provider, e.model_id],
        'SELECT doc FROM provider_catalog WHERE provider = ? AND model_id = ?',
        'INSERT OR REPLACE INTO provider_catalog (provider, model_id, doc) VALUES (?, ?, ?)',
      );
    },

    async listOpenRouterCatalog(): Promise<OpenRouterCatalogDoc[]> {
      return c.docs<OpenRouterCatalogDoc>('SELECT doc FROM openrouter_catalog ORDER BY openrouter_id');
    },

    async listProviderCatalog(filter: { provider?: string } = {}): Promise<ProviderCatalogDoc[]> {
      return c.docs<ProviderCatalogDoc>(
        `SELECT doc FROM provider_catalog ${filter.provider ? 'WHERE provider = ?' : ''} ORDER BY provider, model_id`,
        ...(filter.provider ? [filter.provider] : []),
      );
    },
  };
  return catalogs;
}
