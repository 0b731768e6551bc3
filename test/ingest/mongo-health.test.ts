// GET /health on MongoDB checks what a result needs: a write, bounded in time (SQLite's takes
// the write lock). A primary that answers pings but cannot take a write (stepped down, no
// majority, disk full) must answer 503, so the runners spool and the monitors see it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MongoServerError, type Document } from 'mongodb';
import { loadConfig } from '../../lib/config.ts';
import { createIngestHandler, type IngestRequest } from '../../lib/ingest/handler.ts';
import { silentLogger } from '../../lib/log.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { mingoCollections, type MingoCollection } from '../fakes/mingo-collection.ts';

const config = loadConfig({ env: { INGEST_API_KEY: 'mongo-health-test-key-0b77c3' }, dotenvPath: false });
const health: IngestRequest = { method: 'GET', url: '/health', headers: {}, body: '' };

/** Every write of every collection fails as a replica set member that is not primary answers. */
function refuseWrites(collections: Record<string, MingoCollection>): void {
  const notPrimary = () => Promise.reject(new MongoServerError({ message: 'not primary', code: 10107, codeName: 'NotWritablePrimary', errmsg: 'not primary' }));
  for (const c of Object.values(collections)) {
    c.insertOne = notPrimary;
    c.updateOne = notPrimary;
    c.deleteOne = notPrimary;
  }
}

describe('GET /health on MongoDB', () => {
  test('answers 200 when a write goes through, and leaves one small document behind however often it is asked', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    const handler = createIngestHandler({ store, config, logger: silentLogger });
    for (let i = 0; i < 3; i++) assert.equal((await handler(health)).status, 200);
    const written = Object.entries(c).filter(([, coll]) => coll.docs.length > 0);
    assert.equal(written.length, 1, `one collection holds the check: ${written.map(([k]) => k).join(', ')}`);
    assert.equal(written[0]![1].docs.length, 1);
  });

  test('answers 503 when the store reads but cannot write', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    refuseWrites(c);
    const handler = createIngestHandler({ store, config, logger: silentLogger });
    const res = await handler(health);
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(res.body), { status: 'unavailable', store: 'mongodb' });
    assert.equal(res.headers['retry-after'], '5');
  });

  test('answers 503 when the write does not come back within the health timeout, and bounds the write on the server too', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    const options: Document[] = [];
    for (const coll of Object.values(c)) {
      coll.updateOne = (_f: Document, _u: Document, o: Document = {}) => {
        options.push(o);
        return new Promise(() => {});
      };
      coll.insertOne = () => new Promise(() => {});
    }
    const handler = createIngestHandler({ store, config, logger: silentLogger, healthTimeoutMs: 50 });
    assert.equal((await handler(health)).status, 503);
    // maxTimeMS makes the server give up too, rather than leave the write queued behind a lock.
    assert.ok(options.some((o) => typeof o.maxTimeMS === 'number' && o.maxTimeMS > 0), JSON.stringify(options));
  });
});
