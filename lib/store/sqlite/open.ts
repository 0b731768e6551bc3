// The embedded store: one SQLite file through node:sqlite, no set-up. Each collection is a file
// of its own beside this one; here they are opened over one connection and put together.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { StoreError, type Store } from '../store.ts';
import { SqliteConnection } from './connection.ts';
import { openDatabase } from './schema.ts';
import { sqliteAgentRuns } from './agent-runs.ts';
import { sqliteCatalogs } from './catalogs.ts';
import { sqliteErrors } from './errors.ts';
import { sqliteExchange } from './exchange.ts';
import { sqliteMetrics } from './metrics.ts';
import { sqliteModelHealth } from './model-health.ts';
import { sqliteMigrations } from './migrations.ts';
import { sqliteModels } from './models.ts';
import { sqliteRollups } from './rollups.ts';
import { sqliteRuns } from './runs.ts';
import { sqliteScenarios } from './scenarios.ts';
import { sqliteSweepSkips } from './sweep-skips.ts';
import { sqliteBenchSweeps } from './sweeps.ts';

const PING_BUSY_MS = 250;

/**
 * Opens (creating if needed) the SQLite store at path.
 *
 * busyTimeoutMs is how long a call waits for another process's lock (a sweep, discovery)
 * before it fails. node:sqlite waits synchronously, on the event loop, so SQLite itself is
 * given only BUSY_SLICE_MS per attempt and the rest of the wait is spent between attempts,
 * where the server goes on answering other requests.
 * @throws StoreError when the file cannot be opened or is not a database.
 */
export function openSqliteStore(path: string, options: { busyTimeoutMs?: number } = {}): Store {
  if (path !== ':memory:') {
    try {
      mkdirSync(dirname(path), { recursive: true });
    } catch (err) {
      throw new StoreError(`Cannot open SQLite store ${path}: ${(err as Error).message}`, { cause: err });
    }
  }
  const c = new SqliteConnection(openDatabase(path), path, options.busyTimeoutMs ?? 10_000);
  const store: Store = {
    kind: 'sqlite',
    location: path,
    ...sqliteModels(c),
    ...sqliteMetrics(c),
    ...sqliteErrors(c),
    ...sqliteRuns(c),
    ...sqliteCatalogs(c),
    ...sqliteModelHealth(c),
    ...sqliteScenarios(c),
    ...sqliteAgentRuns(c),
    ...sqliteSweepSkips(c),
    ...sqliteBenchSweeps(c),
    ...sqliteMigrations(c),
    ...sqliteExchange(c),
    ...sqliteRollups(c),
    pauseCheckpoints: async () => c.pauseCheckpoints(),
    resumeCheckpoints: async () => c.resumeCheckpoints(),
    ping: () => c.ping(),
    close: () => c.close(),
  };
  return guardCalls(c, store);
}

/**
 * Every call of the store goes through SqliteConnection.run (file identity, lock waits that
 * yield), including methods added later, without each method having to remember it.
 */
function guardCalls(c: SqliteConnection, store: Store): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || prop === 'close') return value;
      const call = (...args: unknown[]) => () => (value as (...a: unknown[]) => unknown).apply(target, args);
      // A health check says at once that a write cannot get through; it does not queue behind the lock.
      return (...args: unknown[]) => c.run(call(...args), prop === 'ping' ? PING_BUSY_MS : undefined);
    },
  });
}
