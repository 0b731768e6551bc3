// Run by sqlite-write-check.test.ts as an unprivileged user (root writes through any file
// mode, so a read-only file only shows as one to another user): opens the SQLite store at
// argv[2] as the ingest server does, makes it read-only in the way argv[3] names, and prints
// what GET /health and POST /ingest answer, as one JSON line.
import { chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadConfig } from '../../lib/config.ts';
import { createIngestHandler } from '../../lib/ingest/handler.ts';
import { silentLogger } from '../../lib/log.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeModel } from '../fixtures.ts';
import { makeMetric } from './recent-fixtures.ts';

const [path, how] = process.argv.slice(2) as [string, string];
const KEY = 'write-check-test-key-1234';
const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
const request = (method: string, url: string, body = '') => ({ method, url, headers: { 'x-api-key': KEY }, body });

let store = openSqliteStore(path);
await store.insertModel(makeModel());
await store.insertMetric(makeMetric());
const modes: Record<string, () => void> = {
  none: () => {},
  file: () => chmodSync(path, 0o444),
  folder: () => chmodSync(dirname(path), 0o555),
  wal: () => chmodSync(`${path}-wal`, 0o444),
  shm: () => chmodSync(`${path}-shm`, 0o444),
};
modes[how]!();
// The issue 24 case: the server (re)started on a file it can only read; SQLite opens it read-only without a word.
const reopened = how === 'file';
if (reopened) {
  await store.close();
  store = openSqliteStore(path);
}
const handler = createIngestHandler({ store, config, logger: silentLogger });
const health = await handler(request('GET', '/health'));
const write = await handler(request('POST', '/ingest', JSON.stringify(makeMetric())));
process.stdout.write(`${JSON.stringify({ health: health.status, write: write.status, reopened })}\n`);
await store.close().catch(() => {});
