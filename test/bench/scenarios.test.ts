import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { systemClock, type SweepClock } from '../../lib/bench/clock.ts';
import { callInputs, pairsFromStore, partitionDue, scenarioPairs } from '../../lib/bench/due.ts';
import { formatResultLine } from '../../lib/bench/output.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import { addModel } from '../../lib/models/admin.ts';
import { addScenario, ensureBuiltinScenarios } from '../../lib/models/scenarios.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { makeModel, makeScenario } from '../fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-scenarios-sweep-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const config = loadConfig({ env: { RUNNER_NAME: 'test-runner' }, dotenvPath: false });
const T = Date.parse('2026-11-28T10:00:00.000Z');

/** The real monotonic clock with the wall clock set to T + offset minutes. */
function clockAt(minutes: number): SweepClock {
  return { ...systemClock, wallNow: () => T + minutes * 60_000 + (performance.now() % 1000) };
}

/** What bench-once does with a store: the enabled scenarios' pairs, then one sweep of the due ones. */
async function benchOnceAt(store: Store, minutes: number) {
  const clock = clockAt(minutes);
  const scenarios = await store.listScenarios({ enabledOnly: true });
  const models = await pairsFromStore(store, { scenarios, explicit: null, providers: [], wallNow: clock.wallNow() });
  return runSweep({ config, models, sink: store, loadProvider, clock });
}

async function counts(store: Store) {
  // Published rows and, since SPEC 4.1 sends every other scenario there, the probe rows.
  const metrics = [];
  for (const modelName of ['instant', 'chunk-4-instant']) {
    for (const collection of ['published', 'probe'] as const) metrics.push(...(await store.recentMetricsIn({ provider: 'mock', modelName, limit: 100, collection })));
  }
  const byScenario: Record<string, number> = {};
  for (const m of metrics) byScenario[m.benchmark_profile_id] = (byScenario[m.benchmark_profile_id] ?? 0) + 1;
  byScenario.agent = (await store.recentAgentRuns({ limit: 1000 })).length;
  return byScenario;
}

describe('a sweep over scenarios', () => {
  test('two scenarios over the same models write each pair once when due and nothing when not, across runs of bench-once (fake clock)', async () => {
    const store = openSqliteStore(join(dir, 'two.sqlite'));
    await ensureBuiltinScenarios(store, new Date(T));
    for (const id of ['instant', 'chunk-4-instant']) await store.insertModel(makeModel({ provider: 'mock', model_id: id }));
    await addModel(store, 'tinyfish', 'mock-start-5ms-steps-2-step-5ms', { misc: { url: 'https://example.com', goal: 'List the plans' } });
    await addScenario(store, 'probe-long-v1', { maxTokens: '128', interval: '360', targets: 'mock', cacheDefeat: true });
    await addScenario(store, 'agent-pricing-v1', { kind: 'agent', interval: '60' });

    const first = await benchOnceAt(store, 0);
    assert.equal(first.summary.ok, 5, JSON.stringify(first.results.map(formatResultLine)));
    assert.deepEqual(await counts(store), { 'cloud-default-v1': 2, 'probe-long-v1': 2, agent: 1 });

    const second = await benchOnceAt(store, 5);
    assert.deepEqual([second.summary.ran, second.summary.skippedFresh], [0, 5]);
    assert.deepEqual(await counts(store), { 'cloud-default-v1': 2, 'probe-long-v1': 2, agent: 1 }, 'nothing written when nothing is due');
    assert.ok(second.results.some((r) => /^mock\/instant \[probe-long-v1\]: skipped, measured by a sweep that started 5 min ago \(probe-long-v1 is due every 360 min\)$/.test(formatResultLine(r))));

    const third = await benchOnceAt(store, 31);
    assert.deepEqual(await counts(store), { 'cloud-default-v1': 4, 'probe-long-v1': 2, agent: 1 }, 'only the 30-minute scenario was due');
    assert.equal(third.summary.ran, 2);

    await benchOnceAt(store, 61);
    assert.deepEqual(await counts(store), { 'cloud-default-v1': 6, 'probe-long-v1': 2, agent: 2 });

    await benchOnceAt(store, 361);
    assert.deepEqual(await counts(store), { 'cloud-default-v1': 8, 'probe-long-v1': 4, agent: 3 });

    const [long] = await store.recentMetricsIn({ provider: 'mock', modelName: 'instant', limit: 20, collection: 'probe' }).then((ms) => ms.filter((m) => m.benchmark_profile_id === 'probe-long-v1'));
    assert.equal(long!.requested_tokens, 128, "each call uses its scenario's inputs");
    assert.match(long!.cache_defeat_nonce ?? '', /^[0-9a-f]{12}$/);
    const [published] = await store.recentMetrics('mock', 'instant', 20).then((ms) => ms.filter((m) => m.benchmark_profile_id === 'cloud-default-v1'));
    assert.equal(published!.requested_tokens, 64);
    assert.equal(published!.cache_defeat_nonce, undefined);
    const [run] = await store.recentAgentRuns({ limit: 1 });
    assert.deepEqual([run!.status, run!.mock, run!.scenario_id, run!.progress_events], ['completed', true, 'agent-pricing-v1', 2]);
    await store.close();
  });

  test('a disabled scenario runs nothing; a failing pair stays due', async () => {
    const store = openSqliteStore(join(dir, 'failing.sqlite'));
    await ensureBuiltinScenarios(store, new Date(T));
    await store.insertModel(makeModel({ provider: 'mock', model_id: 'fail-500' }));
    await store.insertModel(makeModel({ provider: 'mock', model_id: 'instant' }));
    await benchOnceAt(store, 0);
    const again = await benchOnceAt(store, 1);
    assert.deepEqual(
      again.results.map((r) => [r.modelId, r.scenarioId, r.outcome]).sort(),
      [
        ['fail-500', 'cloud-default-v1', 'failed'],
        ['instant', 'cloud-default-v1', 'skipped_fresh'],
      ],
      'cloud-long-v1 ships disabled; the failed pair is due again',
    );
    const [err] = await store.recentErrors('mock', 'fail-500', 1);
    assert.equal(err!.benchmark_profile_id, 'cloud-default-v1');
    await store.close();
  });

  test('an agent run that could not finish before the sweep deadline is not started', async () => {
    const store = openSqliteStore(join(dir, 'deadline.sqlite'));
    await addModel(store, 'tinyfish', 'mock-steps-1', { misc: { url: 'https://example.com', goal: 'g', timeout_seconds: 600 } });
    await addScenario(store, 'agent-v1', { kind: 'agent' });
    const cfg = loadConfig({ env: { RUNNER_NAME: 'test-runner', BENCH_SWEEP_DEADLINE_MS: '60000' }, dotenvPath: false });
    const scenarios = await store.listScenarios({ kind: 'agent' });
    const models = await pairsFromStore(store, { scenarios, explicit: null, providers: [], wallNow: T });
    const { results } = await runSweep({ config: cfg, models, sink: store, loadProvider, clock: clockAt(0) });
    assert.equal(results[0]!.outcome, 'skipped_deadline');
    assert.match(results[0]!.skipReason ?? '', /a run may take 600 s and the sweep deadline is (59\.\d|60) s away/);
    assert.equal((await store.recentAgentRuns()).length, 0);
    await store.close();
  });
});

describe('scenario pairs', () => {
  const models = [
    { provider: 'groq' as const, modelId: 'a', misc: {} },
    { provider: 'openai' as const, modelId: 'b', misc: {} },
    { provider: 'tinyfish' as const, modelId: 'auto', misc: { url: 'https://example.com', goal: 'g' } },
  ];

  test('each scenario pairs with the models it targets, the published scenario first; automations only with agent scenarios', () => {
    const pairs = scenarioPairs(
      models,
      [
        makeScenario({ scenario_id: 'aa-groq', targets: { type: 'providers', providers: ['groq'] } }),
        makeScenario({ scenario_id: 'cloud-default-v1', interval_minutes: 30 }),
        makeScenario({ scenario_id: 'agent', kind: 'agent', inputs: {}, targets: { type: 'all' } }),
        makeScenario({ scenario_id: 'one', targets: { type: 'models', models: [{ provider: 'openai', model_id: 'b' }] } }),
      ],
      [{ scenario_id: 'one', provider: 'openai', model_name: 'b', ts: new Date(T), sweep_started_at: null }],
    );
    assert.deepEqual(
      pairs.map((p) => `${p.scenario!.id}:${p.provider}/${p.modelId}`),
      ['cloud-default-v1:groq/a', 'cloud-default-v1:openai/b', 'aa-groq:groq/a', 'agent:tinyfish/auto', 'one:openai/b'],
    );
    assert.deepEqual(pairs.at(-1)!.lastSuccessAt, new Date(T));
    assert.equal(pairs[0]!.lastSuccessAt, null);
  });

  test("a pair is fresh within its own scenario's interval", () => {
    const [def, long] = scenarioPairs(
      [models[0]!],
      [makeScenario({ scenario_id: 'cloud-default-v1', interval_minutes: 30 }), makeScenario({ scenario_id: 'long', interval_minutes: 360 })],
      [
        { scenario_id: 'cloud-default-v1', provider: 'groq', model_name: 'a', ts: new Date(T - 40 * 60_000), sweep_started_at: null },
        { scenario_id: 'long', provider: 'groq', model_name: 'a', ts: new Date(T - 40 * 60_000), sweep_started_at: null },
      ],
    );
    const { due, fresh } = partitionDue([def!, long!], { freshMinutes: 30, wallNow: T, force: false });
    assert.deepEqual(due.map((p) => p.scenario!.id), ['cloud-default-v1']);
    assert.equal(fresh[0]!.reason, 'measured by a sweep that started 40 min ago (long is due every 360 min)');
  });

  test('a call sends its scenario\'s prompt (led by the nonce when it defeats caches), budget and temperature', () => {
    const [p] = scenarioPairs([models[0]!], [makeScenario({ scenario_id: 's', inputs: { prompt: 'Hi', max_tokens: 7, temperature: 0.7, cache_defeat: true } })], []);
    const i = callInputs(p!, config.bench.profile);
    assert.match(i.prompt, /^\[[0-9a-f]{12}\] Hi$/);
    assert.deepEqual([i.profileId, i.maxTokens, i.temperature, i.prompt.slice(1, 13)], ['s', 7, 0.7, i.nonce]);
    const [q] = scenarioPairs([models[0]!], [makeScenario({ scenario_id: 's', inputs: { prompt: 'Hi', max_tokens: 7, temperature: 0.7, cache_defeat: true } })], []);
    assert.notEqual(callInputs(q!, config.bench.profile).nonce, i.nonce, 'a new nonce for every pair of every sweep');
    const without = callInputs({ ...models[0]!, provider: 'groq' }, config.bench.profile);
    assert.deepEqual(without, { profileId: 'cloud-default-v1', prompt: config.bench.profile.prompt, maxTokens: 64, temperature: 0.1, nonce: null, inputTokens: null });
  });
});
