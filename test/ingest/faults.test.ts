// The fault battery of issue 13: each way the ingest path used to lose an acknowledged result
// or stop, reproduced against the handler, the stores and the runner's spool.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, test } from 'node:test';
import { MongoServerError, BSON } from 'mongodb';
import { loadConfig } from '../../lib/config.ts';
import { createIngestHandler, listenIngest, type IngestRequest } from '../../lib/ingest/handler.ts';
import { createRemoteRunner } from '../../lib/ingest/client.ts';
import { createLogger, silentLogger, type Level } from '../../lib/log.ts';
import type { MongoCollections } from '../../lib/store/mongo/connection.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeModel } from '../fixtures.ts';
import { makeMetric } from './recent-fixtures.ts';

const KEY = 'ingest-faults-test-key-7c41e0a9';
const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
const root = mkdtempSync(join(tmpdir(), 'llm-bench-ingest-faults-'));
after(() => rmSync(root, { recursive: true, force: true }));

function post(path: string, body: unknown): IngestRequest {
  return { method: 'POST', url: path, headers: { 'x-api-key': KEY }, body: JSON.stringify(body) };
}

function get(path: string): IngestRequest {
  return { method: 'GET', url: path, headers: { 'x-api-key': KEY }, body: '' };
}

function capturingLogger() {
  const lines: Array<{ level: Level; line: string }> = [];
  return Object.assign(createLogger({ level: 'debug', write: (level, line) => lines.push({ level, line }) }), { lines });
}

async function freshSqlite(name: string) {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'store.sqlite');
  const store = openSqliteStore(path);
  await store.insertModel(makeModel());
  return { dir, path, store };
}

describe('1. the SQLite file removed or replaced under a running server', () => {
  test('a file replaced by a restored backup is noticed: 503 instead of an acknowledgement into the old file, then the new file is written', async () => {
    const { dir, path, store } = await freshSqlite('replaced');
    const handler = createIngestHandler({ store, config, logger: silentLogger });
    assert.equal((await handler(post('/ingest', makeMetric()))).status, 200);

    const backupPath = join(dir, 'backup.sqlite');
    const backup = openSqliteStore(backupPath);
    await backup.insertModel(makeModel());
    await backup.close();
    renameSync(backupPath, path);

    const late = makeMetric();
    const first = await handler(post('/ingest', late));
    assert.equal(first.status, 503, 'not acknowledged while the store was writing to the replaced file');
    assert.ok(first.headers['retry-after']);
    // The store reopened the file now at the path: the retry lands where the operator reads.
    assert.equal((await handler(post('/ingest', late))).status, 200);
    assert.equal((await handler(get('/health'))).status, 200);
    await store.close();
    const check = openSqliteStore(path);
    assert.deepEqual((await check.recentMetrics(late.provider, late.model_name, 10)).map((m) => m.run_id), [late.run_id]);
    await check.close();
  });

  test('a removed store folder makes /health and writes answer 503, never 200', async () => {
    const { dir, store } = await freshSqlite('removed');
    const handler = createIngestHandler({ store, config, logger: silentLogger });
    assert.equal((await handler(get('/health'))).status, 200);
    rmSync(dir, { recursive: true, force: true });
    assert.equal((await handler(get('/health'))).status, 503);
    assert.equal((await handler(post('/ingest', makeMetric()))).status, 503);
    assert.equal((await handler(post('/ingest/batch', { items: [{ type: 'metric', doc: makeMetric() }] }))).status, 503);
    await store.close();
  });
});

/** Collections that serialize documents as the driver does, and refuse one run_id as a collection validator would. */
function driverLikeCollections(refusedRunId: string): MongoCollections {
  const c = mingoCollections();
  const metrics = c.metrics;
  const insertOne = metrics.insertOne.bind(metrics);
  metrics.insertOne = async (doc: Record<string, unknown>) => {
    BSON.serialize(doc);
    if (doc.run_id === refusedRunId) throw new MongoServerError({ message: 'Document failed validation', code: 121, errmsg: 'Document failed validation' });
    return insertOne(doc);
  };
  return c;
}

describe('2. a document the store refuses for good', () => {
  test('a NUL byte or a dot in a misc key is refused by the schema, before the store sees it', async () => {
    const store = await createMongoStore(driverLikeCollections('none'), { location: 'memory' });
    await store.insertModel(makeModel());
    const handler = createIngestHandler({ store, config, logger: silentLogger });
    for (const key of ['a\u0000b', 'a.b']) {
      const res = await handler(post('/ingest', { ...makeMetric(), misc: { nested: { [key]: 1 } } }));
      assert.equal(res.status, 400, JSON.stringify(key));
      assert.equal((JSON.parse(res.body) as { error: { field: string } }).error.field, `misc.nested.${key}`);
    }
  });

  test('a validator refusal is a 4xx for that item only: the rest of the batch is stored and the runner moves the item to rejected/', async () => {
    const poison = makeMetric();
    const store = await createMongoStore(driverLikeCollections(poison.run_id), { location: 'memory' });
    await store.insertModel(makeModel());
    const handler = createIngestHandler({ store, config, logger: silentLogger });
    const single = await handler(post('/ingest', poison));
    assert.equal(single.status, 422);

    const good = [makeMetric(), makeMetric()];
    const res = await handler(post('/ingest/batch', { items: [good[0], poison, good[1]].map((doc) => ({ type: 'metric', doc })) }));
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body) as { results: Array<{ status: string }> };
    assert.deepEqual(body.results.map((r) => r.status), ['accepted', 'rejected', 'accepted']);

    // End to end: the poison document is first in the spool's sorted order, as in the field.
    const server = await listenIngest(handler, { host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20, logger: silentLogger });
    const spoolDir = join(root, 'poison-spool');
    mkdirSync(spoolDir, { recursive: true });
    const later = [makeMetric(), makeMetric()];
    const entry = (doc: MetricDoc) => JSON.stringify({ type: 'metric', doc, spooled_at: new Date().toISOString(), reason: 'test' });
    writeFileSync(join(spoolDir, 'metric-0000-poison.json'), entry(poison));
    later.forEach((doc, i) => writeFileSync(join(spoolDir, `metric-${i + 1}.json`), entry(doc)));
    const runner = createRemoteRunner(
      loadConfig({ env: { INGEST_API_URL: server.url, INGEST_API_KEY: KEY, INGEST_SPOOL_DIR: spoolDir }, dotenvPath: false }),
      { logger: silentLogger },
    );
    assert.deepEqual(await runner.flushSpool(), { delivered: 2, dropped: 1, remaining: 0 });
    assert.deepEqual(readdirSync(join(spoolDir, 'rejected')), ['metric-0000-poison.json']);
    await server.close();
  });
});

describe('3. another process holding the SQLite write lock', () => {
  test('a write waiting for the lock lets other work run, and is stored once the lock is released', async () => {
    const { path, store } = await freshSqlite('locked-yield');
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    const doc = makeMetric();
    const write = store.insertMetric(doc);
    let otherWorkRan = false;
    await new Promise((r) => setImmediate(r)).then(() => (otherWorkRan = true));
    assert.equal(otherWorkRan, true);
    other.exec('COMMIT');
    other.close();
    assert.equal(await write, 'stored');
    await store.close();
  });

  test('while the lock is held, /health and writes answer 503 with Retry-After instead of waiting it out', async () => {
    const { path } = await freshSqlite('locked-health');
    const store = openSqliteStore(path, { busyTimeoutMs: 100 });
    const handler = createIngestHandler({ store, config, logger: silentLogger, healthTimeoutMs: 100 });
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      const health = await handler(get('/health'));
      assert.equal(health.status, 503);
      assert.ok(health.headers['retry-after']);
      const write = await handler(post('/ingest', makeMetric()));
      assert.equal(write.status, 503);
      assert.ok(write.headers['retry-after']);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    assert.equal((await handler(get('/health'))).status, 200);
    await store.close();
  });
});

describe('4. a stale spool flush lock', () => {
  async function spoolOne(name: string) {
    const { store } = await freshSqlite(`lock-${name}`);
    const handler = createIngestHandler({ store, config, logger: silentLogger });
    const server = await listenIngest(handler, { host: '127.0.0.1', port: 0, maxBodyBytes: 1 << 20, logger: silentLogger });
    const spoolDir = join(root, `lock-${name}`, 'spool');
    mkdirSync(spoolDir, { recursive: true });
    const doc = makeMetric();
    writeFileSync(join(spoolDir, `metric-${doc.run_id}.json`), JSON.stringify({ type: 'metric', doc, spooled_at: new Date().toISOString(), reason: 't' }));
    const logger = capturingLogger();
    const runner = createRemoteRunner(
      loadConfig({ env: { INGEST_API_URL: server.url, INGEST_API_KEY: KEY, INGEST_SPOOL_DIR: spoolDir }, dotenvPath: false }),
      { logger },
    );
    return { spoolDir, runner, logger, lock: join(spoolDir, '.flush.lock'), close: () => server.close() };
  }
  const twoHoursAgo = () => new Date(Date.now() - 2 * 3600_000);

  test('a lock whose pid now belongs to another process (pid reused after a crash) is broken, with a journal line', async () => {
    const s = await spoolOne('reused');
    // The pid is alive (it is this test's), but the lock's heartbeat stopped two hours ago.
    writeFileSync(s.lock, `${process.pid}@${hostname()}`);
    utimesSync(s.lock, twoHoursAgo(), twoHoursAgo());
    assert.deepEqual(await s.runner.flushSpool(), { delivered: 1, dropped: 0, remaining: 0 });
    assert.ok(s.logger.lines.some((l) => l.level === 'warn' && /stale flush lock/.test(l.line)));
    await s.close();
  });

  test('a lock from another host whose heartbeat stopped is broken', async () => {
    const s = await spoolOne('other-host');
    writeFileSync(s.lock, JSON.stringify({ host: 'elsewhere.invalid', pid: 4242, started_at: '2026-01-01T00:00:00.000Z', token: 'x' }));
    utimesSync(s.lock, twoHoursAgo(), twoHoursAgo());
    assert.deepEqual(await s.runner.flushSpool(), { delivered: 1, dropped: 0, remaining: 0 });
    assert.deepEqual(readdirSync(s.spoolDir).filter((n) => n.startsWith('.')), [], 'the lock is released');
    await s.close();
  });
});

describe('5. hostile request-targets and floods of refused requests', () => {
  test('a request-target that is not a URL is a 400 with no error-level line', async () => {
    const { store } = await freshSqlite('target');
    const logger = capturingLogger();
    const handler = createIngestHandler({ store, config, logger });
    for (const url of ['http://[/', '//[', 'http://%zz/ingest']) {
      const res = await handler({ method: 'GET', url, headers: {}, body: '' });
      assert.equal(res.status, 400, url);
    }
    assert.deepEqual(logger.lines.filter((l) => l.level === 'error'), []);
    await store.close();
  });

  test('oversized bodies are answered 413, and their warning lines are rate-limited', async () => {
    const { store } = await freshSqlite('flood');
    const logger = capturingLogger();
    const handler = createIngestHandler({ store, config, logger });
    const server = await listenIngest(handler, { host: '127.0.0.1', port: 0, maxBodyBytes: 1024, logger });
    const body = 'x'.repeat(4096);
    for (let i = 0; i < 40; i++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${server.url}/ingest`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-length': body.length } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(status, 413);
    }
    await server.close();
    const warnings = logger.lines.filter((l) => l.level === 'warn');
    assert.ok(warnings.length <= 20, `${warnings.length} warning lines for 40 refused bodies`);
    assert.ok(handler.stats().suppressedLogLines >= 20);
    await store.close();
  });
});
