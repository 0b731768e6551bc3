import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import type { Document } from 'mongodb';
import { createMongoStore, mongoHosts, openMongoStore } from '../../lib/store/mongo/open.ts';
import { makeAgentRun, makeError, makeMetric, makeModel } from '../fixtures.ts';
import { asServerBefore70, mingoCollections } from '../fakes/mingo-collection.ts';
import { storeContract } from './contract/store.ts';

// mingo's $percentile is a rough estimate (it answers 10 as the median of 1, 2, 10), so the
// contract runs the stand-in as a server before 7.0: the store finds $percentile unknown and
// computes the percentiles itself (the fallback every older server gets).
storeContract('mongodb (mingo stand-in)', async () => createMongoStore(asServerBefore70(mingoCollections()), { location: 'memory' }));

const testUri = process.env.MONGODB_TEST_URI;
if (testUri) {
  const db = `llm-bench-test-${process.pid}-${Date.now()}`;
  storeContract('mongodb (real server)', async () => {
    const config = loadConfig({ env: { MONGODB_URI: testUri, MONGODB_DB: db }, dotenvPath: false });
    return openMongoStore(config.store);
  }, { approximatePercentiles: true });
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

  test('rows of a non-published profile are written to metrics_cloud_probe, the published ones to metrics_cloud_v2', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    await store.insertMetric(makeMetric({ run_id: 'pub' }));
    await store.insertMetric(makeMetric({ run_id: 'long', benchmark_profile_id: 'cloud-long-v1' }));
    assert.deepEqual(c.metrics.docs.map((d) => d.run_id), ['pub']);
    assert.deepEqual(c.probe.docs.map((d) => d.run_id), ['long']);
    assert.ok(c.probe.indexes.some((i) => i.options.name === 'run_id_unique'), 'the probe collection is indexed like the published one');
    const config = loadConfig({ env: { MONGODB_COLLECTION_PROBE: 'probe_rows' }, dotenvPath: false });
    assert.deepEqual([config.store.collections.probe, config.store.collections.modelHealth], ['probe_rows', 'bench_model_health']);
  });

  test('no simulated row, error or model is ever written to MongoDB', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    const refused = (err: Error) => err.name === 'StoreError' && /simulated \(mock\) results never go to MongoDB/.test(err.message);
    await assert.rejects(store.insertMetric(makeMetric({ provider: 'mock', model_name: 'instant' })), refused);
    await assert.rejects(store.insertMetric(makeMetric({ mock: true })), refused);
    await assert.rejects(store.insertMetric(makeMetric({ provider: 'mock', benchmark_profile_id: 'cloud-long-v1' })), refused);
    await assert.rejects(store.insertError(makeError({ provider: 'mock' })), refused);
    await assert.rejects(store.insertModel(makeModel({ provider: 'mock', model_id: 'instant' })), refused);
    assert.deepEqual([c.metrics.docs.length, c.probe.docs.length, c.errors.docs.length, c.models.docs.length], [0, 0, 0, 0]);
  });

  test('opening the store writes nothing to the operator\'s models; an older Date deprecation_date reads as YYYY-MM-DD', async () => {
    const c = mingoCollections();
    await c.models.insertOne({ ...makeModel({ model_id: 'old', deprecated: true }), deprecation_date: new Date('2026-10-15T00:00:00Z') });
    await c.models.insertOne({ ...makeModel({ model_id: 'new', deprecated: true }), deprecation_date: '2026-12-01' });
    await c.models.insertOne(makeModel({ model_id: 'live' }));
    const store = await createMongoStore(c, { location: 'memory' });
    assert.deepEqual(c.models.docs.map((d) => [d.model_id, d.deprecation_date]), [
      ['old', new Date('2026-10-15T00:00:00Z')],
      ['new', '2026-12-01'],
      ['live', undefined],
    ]);
    assert.deepEqual((await store.listModels()).map((d) => [d.model_id, d.deprecation_date]), [
      ['live', undefined],
      ['new', '2026-12-01'],
      ['old', '2026-10-15'],
    ]);
    assert.deepEqual(c.models.docs.map((d) => [d.model_id, d.deprecation_date]), [
      ['old', new Date('2026-10-15T00:00:00Z')],
      ['new', '2026-12-01'],
      ['live', undefined],
    ]);
  });

  test('bench_model_health is unique per (provider, model_id)', async () => {
    const c = mingoCollections();
    await createMongoStore(c, { location: 'memory' });
    const idx = c.modelHealth.indexes.find((i) => i.options.name === 'provider_model_unique');
    assert.deepEqual([idx?.keys, idx?.options.unique], [{ provider: 1, model_id: 1 }, true]);
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

// ---- KPIs (SPEC 16) ----

describe('mongodb KPI percentiles', () => {
  test('a server that knows $percentile computes them: the pipeline asks for p50, p95 and p99 at three levels', async () => {
    const c = mingoCollections();
    const pipelines: Document[][] = [];
    const aggregate = c.metrics.aggregate.bind(c.metrics);
    c.metrics.aggregate = (p: Document[]) => {
      pipelines.push(p);
      return aggregate(p);
    };
    const store = await createMongoStore(c, { location: 'memory', percentiles: 'server' });
    await store.insertMetric(makeMetric({ provider: 'p', model_name: 'm' }));
    const w = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };
    const summary = await store.metricKpis(w);
    assert.equal(summary.models.length, 1);
    assert.equal(summary.overall.successes, 1);
    const groups = pipelines.map((p) => p.find((s) => s.$group)?.$group);
    assert.equal(groups.length, 3);
    assert.deepEqual(groups.map((g) => g._id), [{ provider: '$provider', model_name: '$model_name', scenario: { $ifNull: ['$benchmark_profile_id', 'cloud-default-v1'] } }, { provider: '$provider' }, null]);
    assert.deepEqual(groups[0].tokens_per_second, { $percentile: { input: '$tokens_per_second', p: [0.5, 0.95, 0.99], method: 'approximate' } });
  });

  test('agent-run KPIs on a server that knows $percentile: counts and the newest failure per group, percentiles of completed runs only', async () => {
    const c = mingoCollections();
    const pipelines: Document[][] = [];
    const aggregate = c.agentRuns.aggregate.bind(c.agentRuns);
    c.agentRuns.aggregate = (p: Document[]) => {
      pipelines.push(p);
      return aggregate(p);
    };
    const store = await createMongoStore(c, { location: 'memory', percentiles: 'server' });
    const t = (min: number) => new Date(Date.parse('2026-11-20T10:00:00Z') + min * 60_000);
    await store.insertAgentRun(makeAgentRun({ automation: 'a', scenario_id: 's', started_at: t(0) }));
    await store.insertAgentRun(makeAgentRun({ automation: 'a', scenario_id: 's', started_at: t(1), status: 'failed', error: 'first', error_kind: 'run_failed' }));
    await store.insertAgentRun(makeAgentRun({ automation: 'a', scenario_id: 's', started_at: t(2), status: 'timeout', error: 'second', error_kind: 'timeout' }));
    const { overall, groups } = await store.agentRunKpis({ since: t(-1), until: t(10) });
    assert.deepEqual(groups.map((g) => [g.automation, g.scenario, g.mock, g.runs, g.completed, g.failed, g.timeouts, g.last_failure?.error]), [['a', 's', false, 3, 1, 1, 1, 'second']]);
    assert.deepEqual([overall.runs, overall.success_rate, overall.last_completed], [3, 1 / 3, t(0)]);
    const percentileGroups = pipelines.map((p) => p.find((st) => st.$group)?.$group).filter((g) => g?.total_duration_ms);
    assert.equal(percentileGroups.length, 2, 'per group and overall');
    assert.deepEqual(percentileGroups[0].total_duration_ms, {
      $percentile: { input: { $cond: [{ $eq: ['$status', 'completed'] }, '$total_duration_ms', null] }, p: [0.5, 0.95, 0.99], method: 'approximate' },
    });
  });

  test('on a server without $percentile the store falls back once and stays on the exact fallback', async () => {
    const c = asServerBefore70(mingoCollections());
    let percentileTries = 0;
    const aggregate = c.metrics.aggregate.bind(c.metrics);
    c.metrics.aggregate = (p: Document[]) => {
      if (JSON.stringify(p).includes('"$percentile"')) percentileTries++;
      return aggregate(p);
    };
    const store = await createMongoStore(c, { location: 'memory' });
    for (const tps of [1, 2, 10]) await store.insertMetric(makeMetric({ provider: 'p', model_name: 'm', tokens_per_second: tps }));
    const w = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };
    assert.deepEqual((await store.metricKpis(w)).overall.tokens_per_second, { p50: 2, p95: 10, p99: 10, p50_ci: null });
    await store.metricKpis(w);
    assert.ok(percentileTries >= 1 && percentileTries <= 3, `tried $percentile ${percentileTries} times`);
    const after = percentileTries;
    await store.metricKpis(w);
    assert.equal(percentileTries, after, 'no second attempt once the server said no');
  });

  test('a server error other than an unknown operator is not hidden by the fallback', async () => {
    const c = mingoCollections();
    c.metrics.aggregate = () => ({ toArray: () => Promise.reject(Object.assign(new Error('not authorized'), { code: 13 })) });
    const store = await createMongoStore(c, { location: 'memory' });
    const w = { since: new Date('2026-11-01T00:00:00Z'), until: new Date('2026-12-01T00:00:00Z') };
    await assert.rejects(store.metricKpis(w), /not authorized/);
  });
});
