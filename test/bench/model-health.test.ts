import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildModelHealth, freshnessOf, refreshModelHealth } from '../../lib/bench/model-health.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { ModelActivity } from '../../lib/store/store.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeAgentRun, makeError, makeMetric, makeModel, makeScenario } from '../fixtures.ts';

const now = new Date('2026-11-20T12:00:00.000Z');
const options = { now, cadenceSeconds: 1800 };
const ago = (seconds: number) => new Date(now.getTime() - seconds * 1000);

describe('freshness (SPEC 4.7)', () => {
  test('fresh up to one and a half sweep periods, stale up to three, critical beyond', () => {
    assert.deepEqual(freshnessOf(true, ago(2700), options), { freshness_status: 'fresh', staleness_seconds: 2700 });
    assert.deepEqual(freshnessOf(true, ago(2701), options), { freshness_status: 'stale', staleness_seconds: 2701 });
    assert.deepEqual(freshnessOf(true, ago(5400), options), { freshness_status: 'stale', staleness_seconds: 5400 });
    assert.deepEqual(freshnessOf(true, ago(5401), options), { freshness_status: 'critical', staleness_seconds: 5401 });
  });

  test('a model not benchmarked is disabled and one never measured is never_run, both without a staleness', () => {
    assert.deepEqual(freshnessOf(false, ago(10), options), { freshness_status: 'disabled', staleness_seconds: null });
    assert.deepEqual(freshnessOf(true, null, options), { freshness_status: 'never_run', staleness_seconds: null });
  });

  test('a success stamped a little after now (clock skew of a remote runner) is fresh, staleness 0', () => {
    assert.deepEqual(freshnessOf(true, ago(-30), options), { freshness_status: 'fresh', staleness_seconds: 0 });
  });
});

describe('buildModelHealth', () => {
  test('one document per catalog model, from its activity; models without any are never_run with zero counts', () => {
    const activity: ModelActivity[] = [
      {
        provider: 'groq',
        model_name: 'a',
        last_success_at: ago(600),
        last_error_at: ago(60),
        last_error_kind: 'rate_limit',
        successes_since: 40,
        failures_since: 2,
        failures_after_last_success: 1,
      },
      // Results of a model that is not in the catalog (an ad-hoc --models run): no document.
      { ...activityOf('groq', 'ad-hoc') },
    ];
    const docs = buildModelHealth(
      [makeModel({ provider: 'groq', model_id: 'a' }), makeModel({ provider: 'groq', model_id: 'b' }), makeModel({ provider: 'groq', model_id: 'c', deprecated: true })],
      activity,
      options,
    );
    assert.deepEqual(docs, [
      {
        provider: 'groq',
        model_id: 'a',
        enabled: true,
        cadence_seconds: 1800,
        last_success_at: ago(600),
        last_attempt_at: ago(60),
        last_error_at: ago(60),
        last_error_kind: 'rate_limit',
        consecutive_failures: 1,
        successes_24h: 40,
        failures_24h: 2,
        staleness_seconds: 600,
        freshness_status: 'fresh',
        updated_at: now,
      },
      { ...unmeasured('b'), enabled: true, freshness_status: 'never_run' },
      { ...unmeasured('c'), enabled: false, freshness_status: 'disabled' },
    ]);
  });
});

/** The document of a catalog model with no stored results. */
function unmeasured(modelId: string) {
  return {
    provider: 'groq',
    model_id: modelId,
    cadence_seconds: 1800,
    last_success_at: null,
    last_attempt_at: null,
    last_error_at: null,
    last_error_kind: null,
    consecutive_failures: 0,
    successes_24h: 0,
    failures_24h: 0,
    staleness_seconds: null,
    updated_at: now,
  };
}

function activityOf(provider: string, model: string): ModelActivity {
  return {
    provider,
    model_name: model,
    last_success_at: ago(100),
    last_error_at: null,
    last_error_kind: null,
    successes_since: 1,
    failures_since: 0,
    failures_after_last_success: 0,
  };
}

describe('refreshModelHealth', () => {
  for (const [name, open] of [
    ['sqlite', async () => openSqliteStore(':memory:')],
    ['mongodb (mingo)', async () => createMongoStore(mingoCollections(), { location: 'memory' })],
  ] as const) {
    test(`on ${name}: reads the stored results, writes every model's document, and a second refresh replaces it`, async () => {
      const store = await open();
      await store.insertModel(makeModel({ provider: 'groq', model_id: 'm' }));
      await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'm', run_ts: ago(4000) }));
      // A probe row is not a published success: it does not make the badge fresh.
      await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'm', run_ts: ago(10), benchmark_profile_id: 'cloud-long-v1' }));
      await store.insertError(makeError({ provider: 'groq', model_name: 'm', ts: ago(100), error_kind: 'timeout' }));
      const first = await refreshModelHealth(store, options);
      assert.deepEqual(
        first.map((d) => [d.model_id, d.freshness_status, d.staleness_seconds, d.consecutive_failures, d.last_error_kind]),
        [['m', 'stale', 4000, 1, 'timeout']],
      );
      await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'm', run_ts: ago(5) }));
      await refreshModelHealth(store, options);
      const stored = await store.listModelHealth();
      assert.deepEqual(
        stored.map((d) => [d.model_id, d.freshness_status, d.consecutive_failures, d.successes_24h]),
        [['m', 'fresh', 0, 2]],
      );
      await store.close();
    });
  }

  test('on MongoDB a mock model left from before they were refused gets no document', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    // Written straight into the collection, as an older version would have.
    await c.models.insertOne(makeModel({ provider: 'mock', model_id: 'instant' }));
    await store.insertModel(makeModel({ provider: 'groq', model_id: 'real' }));
    await refreshModelHealth(store, options);
    assert.deepEqual(c.modelHealth.docs.map((d) => `${d.provider}/${d.model_id}`), ['groq/real']);
  });
});

describe('refreshModelHealth for TinyFish automations (their results are agent runs, not metric rows)', () => {
  for (const [name, open] of [
    ['sqlite', async () => openSqliteStore(':memory:')],
    ['mongodb (mingo)', async () => createMongoStore(mingoCollections(), { location: 'memory' })],
  ] as const) {
    test(`on ${name}: a completed run is the last success, a failed or timed-out one the last error, judged against the agent scenario's interval`, async () => {
      const store = await open();
      const hours = (h: number) => ago(h * 3600);
      for (const id of ['pricing-page', 'signup-flow', 'checkout', 'unscheduled']) await store.insertModel(makeModel({ provider: 'tinyfish', model_id: id }));
      // Every 6 hours for three of them; nothing runs `unscheduled`, so the sweep period is its cadence.
      await store.insertScenario(
        makeScenario({
          scenario_id: 'agent-default-v1',
          kind: 'agent',
          inputs: {},
          interval_minutes: 360,
          targets: { type: 'models', models: ['pricing-page', 'signup-flow', 'checkout'].map((model_id) => ({ provider: 'tinyfish', model_id })) },
        }),
      );
      const run = (automation: string, h: number, status: 'completed' | 'failed' | 'timeout', error_kind: 'run_failed' | 'timeout' | null = null) =>
        store.insertAgentRun(makeAgentRun({ automation, started_at: hours(h), status, error_kind, error: error_kind ? 'it failed' : null }));
      await run('pricing-page', 30, 'failed', 'run_failed');
      await run('pricing-page', 2, 'completed');
      await run('pricing-page', 1, 'failed', 'run_failed');
      await run('signup-flow', 10, 'completed');
      await run('checkout', 3, 'timeout', 'timeout');
      await run('unscheduled', 0.5, 'completed');

      await refreshModelHealth(store, options);
      const docs = new Map((await store.listModelHealth({ provider: 'tinyfish' })).map((d) => [d.model_id, d]));
      const pick = (id: string) => {
        const d = docs.get(id)!;
        return [d.freshness_status, d.staleness_seconds, d.cadence_seconds, d.last_success_at, d.last_error_at, d.last_error_kind, d.consecutive_failures, d.successes_24h, d.failures_24h];
      };
      // 2 h since the last success is fresh against 6-hour runs (1.5 periods = 9 h).
      assert.deepEqual(pick('pricing-page'), ['fresh', 7200, 21600, hours(2), hours(1), 'run_failed', 1, 1, 1]);
      assert.deepEqual(pick('signup-flow'), ['stale', 36000, 21600, hours(10), null, null, 0, 1, 0]);
      assert.deepEqual(pick('checkout'), ['never_run', null, 21600, null, hours(3), 'timeout', 1, 0, 1]);
      assert.deepEqual(pick('unscheduled'), ['fresh', 1800, 1800, hours(0.5), null, null, 0, 1, 0]);
      assert.equal(docs.get('pricing-page')!.last_attempt_at?.getTime(), hours(1).getTime());
      await store.close();
    });
  }
});
