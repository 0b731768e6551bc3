import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { createMongoStore, mongoHosts, openMongoStore } from '../../lib/store/mongo-store.ts';
import { makeAgentRun, makeMetric } from '../fixtures.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { storeContract } from './store-contract.ts';

storeContract('mongodb (mingo stand-in)', async () => createMongoStore(mingoCollections(), { location: 'memory' }));

const testUri = process.env.MONGODB_TEST_URI;
if (testUri) {
  const db = `llm-bench-test-${process.pid}-${Date.now()}`;
  storeContract('mongodb (real server)', async () => {
    const config = loadConfig({ env: { MONGODB_URI: testUri, MONGODB_DB: db }, dotenvPath: false });
    return openMongoStore(config.store);
  });
} else {
  test('mongodb (real server) store contract', { skip: 'MONGODB_TEST_URI is not set: the real-server contract run is skipped' }, () => {});
}

describe('mongodb backend', () => {
  test('documents are stored in the dashboard shape: no wrapper, real Dates, no _id leaking back', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    const m = makeMetric();
    await store.insertMetric(m);
    const raw = c.metrics.docs[0]!;
    assert.ok(raw.run_ts instanceof Date);
    assert.equal(raw.tokens_per_second, m.tokens_per_second);
    assert.equal('_id' in m, false, 'the caller\'s document is not mutated');
    const [back] = await store.recentMetrics(m.provider, m.model_name, 1);
    assert.equal('_id' in back!, false);
  });

  test('run_id uniqueness is partial, so upstream rows without run_id do not collide', async () => {
    const c = mingoCollections();
    await createMongoStore(c, { location: 'memory' });
    const idx = c.metrics.indexes.find((i) => i.options.name === 'run_id_unique');
    assert.deepEqual(idx?.options.partialFilterExpression, { run_id: { $type: 'string' } });
    const { run_id: _drop, ...legacy } = makeMetric();
    await c.metrics.insertOne({ ...legacy });
    await c.metrics.insertOne({ ...legacy });
    assert.equal(c.metrics.docs.length, 2);
  });

  test('mongoHosts names the hosts and never the password', () => {
    assert.equal(mongoHosts('mongodb://user:s3cretpw@db1.example:27017,db2.example:27017/llm?replicaSet=rs0'), 'db1.example:27017,db2.example:27017');
    assert.equal(mongoHosts('mongodb+srv://u:p@cluster0.abc.mongodb.net/'), 'cluster0.abc.mongodb.net');
  });

  test('an unreachable MONGODB_URI fails within the connect timeout with a message naming the host, not the password', async () => {
    const config = loadConfig({
      env: { MONGODB_URI: 'mongodb://bench:hunter2secret@127.0.0.1:1/?directConnection=true', MONGODB_CONNECT_TIMEOUT_MS: '1500' },
      dotenvPath: false,
    });
    await assert.rejects(openMongoStore(config.store), (err: Error) => {
      assert.equal(err.name, 'StoreError');
      assert.match(err.message, /Cannot connect to MongoDB at 127\.0\.0\.1:1/);
      assert.doesNotMatch(err.message, /hunter2secret/);
      return true;
    });
  });
});

describe('mongodb backend: agent runs', () => {
  test('a simulated (mock) TinyFish run is refused, so it never reaches the collections the dashboard reads', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    await assert.rejects(store.insertAgentRun(makeAgentRun({ mock: true, automation: 'mock-3s' })), /Refusing to store the simulated TinyFish run of mock-3s in MongoDB/);
    assert.equal(c.agentRuns.docs.length, 0);
    assert.equal(await store.insertAgentRun(makeAgentRun()), 'stored');
  });
});
