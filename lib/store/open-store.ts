// Chooses and opens the store (SPEC 3). Kept apart from store.ts, which both backends import.
import type { Config } from '../config.ts';
import type { Store } from './store.ts';

/**
 * Opens the configured store: MongoDB when MONGODB_URI is set, SQLite otherwise. Only the
 * chosen backend's code is loaded.
 * @throws StoreError when the store cannot be opened or reached.
 */
export async function openStore(config: Config): Promise<Store> {
  if (config.store.mongodbUri) {
    const { openMongoStore } = await import('./mongo/open.ts');
    return openMongoStore(config.store);
  }
  const { openSqliteStore } = await import('./sqlite/open.ts');
  return openSqliteStore(config.store.sqlitePath);
}
