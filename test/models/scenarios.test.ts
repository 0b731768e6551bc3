import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { UsageError } from '../../lib/cli.ts';
import { addModel, listModelRows, showModel } from '../../lib/models/admin.ts';
import {
  addScenario,
  editScenario,
  ensureBuiltinScenarios,
  formatScenario,
  formatScenarioList,
  listScenarios,
  parseTargets,
  removeScenario,
  setScenarioEnabled,
  showScenario,
} from '../../lib/models/scenarios.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeAgentRun, makeMetric, makeModel } from '../fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-scenarios-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const usage = (pattern: RegExp) => (err: unknown) => err instanceof UsageError && pattern.test(err.message);

const backends: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(join(dir, `${Math.random()}.sqlite`))],
  ['mongodb (mingo)', async () => createMongoStore(mingoCollections(), { location: 'memory' })],
];

for (const [name, open] of backends) {
  describe(`scenario administration on ${name}`, () => {
    test('the built-in scenarios exist on first use: cloud-default-v1 published and enabled, cloud-long-v1 (512 tokens, 6 hours) disabled', async () => {
      const store = await open();
      const all = await listScenarios(store);
      assert.deepEqual(
        all.map((s) => [s.scenario_id, s.kind, s.enabled, s.interval_minutes, (s.inputs as { max_tokens: number }).max_tokens]),
        [
          ['cloud-default-v1', 'llm', true, 30, 64],
          ['cloud-long-v1', 'llm', false, 360, 512],
          ['input-100k-v1', 'llm', false, 10080, 512],
          ['input-10k-v1', 'llm', false, 180, 512],
          ['input-1k-v1', 'llm', false, 180, 512],
          ['parallel-10-daily-v1', 'llm', false, 1440, 512],
        ],
      );
      assert.deepEqual(
        all.map((s) => [(s.inputs as { input_tokens?: number }).input_tokens, (s.inputs as { parallel?: number }).parallel, s.jitter]).slice(2),
        [[100_000, undefined, undefined], [10_000, undefined, undefined], [1_000, undefined, undefined], [undefined, 10, true]],
        'the workloads ship disabled, the parallel one jittered',
      );
      assert.match(formatScenarioList(all), /^cloud-default-v1 .* all enabled models \(published\)$/m);
      await setScenarioEnabled(store, 'cloud-long-v1', true);
      await ensureBuiltinScenarios(store);
      assert.equal((await store.getScenario('cloud-long-v1'))!.enabled, true, 'an existing built-in is never reset');
    });

    test('add, edit, disable, enable and remove an llm scenario; the published one cannot be removed', async () => {
      const store = await open();
      const now = new Date('2026-11-28T10:00:00Z');
      const s = await addScenario(store, 'long-nocache-v1', { maxTokens: '256', cacheDefeat: true, targets: 'groq,openai', interval: '120', now });
      assert.deepEqual(s.inputs, { prompt: 'Tell a long and happy story about the history of the world.', max_tokens: 256, temperature: 0.1, cache_defeat: true });
      assert.deepEqual(s.targets, { type: 'providers', providers: ['groq', 'openai'] });
      await assert.rejects(addScenario(store, 'long-nocache-v1', {}), usage(/already exists\. Change it with: .* edit long-nocache-v1/));
      const later = new Date('2026-11-28T11:00:00Z');
      const e = await editScenario(store, 'long-nocache-v1', { cacheDefeat: false, temperature: '0.5', now: later });
      assert.deepEqual(e.inputs, { prompt: 'Tell a long and happy story about the history of the world.', max_tokens: 256, temperature: 0.5 });
      assert.deepEqual([e.created_at, e.updated_at], [now, later]);
      assert.equal((await setScenarioEnabled(store, 'long-nocache-v1', false)).enabled, false);
      assert.equal((await setScenarioEnabled(store, 'long-nocache-v1', true)).enabled, true);
      await removeScenario(store, 'long-nocache-v1');
      assert.equal(await store.getScenario('long-nocache-v1'), null);
      await assert.rejects(removeScenario(store, 'cloud-default-v1'), usage(/published scenario and always exists\. To pause it: .*scenario disable cloud-default-v1/));
      await assert.rejects(removeScenario(store, 'nope'), usage(/No scenario nope\. Scenarios: cloud-default-v1, cloud-long-v1, input-100k-v1/));
    });

    test('bad input is refused with what to do instead', async () => {
      const store = await open();
      await assert.rejects(addScenario(store, 'Bad Id', {}), usage(/must be lowercase letters/));
      await assert.rejects(addScenario(store, 'x', { kind: 'chat' }), usage(/--kind must be llm .* or agent/));
      await assert.rejects(addScenario(store, 'x', { maxTokens: '0' }), usage(/--max-tokens must be an integer from 1 to 1000000 \(got "0"\)/));
      await assert.rejects(addScenario(store, 'x', { interval: 'soon' }), usage(/--interval must be a whole number of minutes from 30/));
      await assert.rejects(addScenario(store, 'x', { kind: 'agent', maxTokens: '5' }), usage(/are for llm scenarios; an agent scenario takes --inputs/));
      await assert.rejects(addScenario(store, 'x', { inputs: '{}' }), usage(/--inputs is for agent scenarios/));
      await assert.rejects(addScenario(store, 'x', { kind: 'agent', inputs: '{"gaol":"x"}' }), usage(/--inputs: unknown field "gaol"/));
      await assert.rejects(editScenario(store, 'cloud-default-v1', { kind: 'agent' }), usage(/keeps its kind/));
      await assert.rejects(editScenario(store, 'cloud-default-v1', {}), usage(/Nothing to change/));
      assert.equal((await store.listScenarios()).length, 6, 'nothing refused was stored');
    });

    test('an interval below the timer\'s 30 minutes or not in whole minutes is refused, at add and at edit', async () => {
      const store = await open();
      for (const interval of ['0', '29', '1.5', '45.5', '-30']) {
        await assert.rejects(addScenario(store, 'x', { interval }), usage(new RegExp(`^--interval must be a whole number of minutes from 30 .*\\(got "${interval.replace('.', '\\.')}"\\)$`)), interval);
        await assert.rejects(editScenario(store, 'cloud-default-v1', { interval }), usage(/--interval must be a whole number of minutes from 30/), interval);
      }
      assert.equal((await addScenario(store, 'x', { interval: '30' })).interval_minutes, 30);
      assert.equal((await store.getScenario('cloud-default-v1'))!.interval_minutes, 30, 'the refused edits changed nothing');
    });

    test('--targets naming a model not in the catalog is refused (add and edit) unless --force, for one about to be added', async () => {
      const store = await open();
      await addModel(store, 'groq', 'llama-3.3-70b-versatile');
      await assert.rejects(
        addScenario(store, 'x', { targets: 'groq:llama-3.3-70b-versatile,openai:gpt-5-nope' }),
        usage(/^--targets: openai:gpt-5-nope is not in the models catalog\. Add it first \(npm run models -- add openai gpt-5-nope\), or give --force/),
      );
      await assert.rejects(editScenario(store, 'cloud-default-v1', { targets: 'openai:gpt-5-nope' }), usage(/openai:gpt-5-nope is not in the models catalog/));
      assert.equal(await store.getScenario('x'), null);
      const forced = await addScenario(store, 'x', { targets: 'openai:gpt-5-next', force: true });
      assert.deepEqual(forced.targets, { type: 'models', models: [{ provider: 'openai', model_id: 'gpt-5-next' }] });
      assert.deepEqual((await addScenario(store, 'y', { targets: 'groq:llama-3.3-70b-versatile' })).targets.type, 'models');
    });

    test('an agent scenario over TinyFish automations, shown with its recent runs and the pairs measured within its interval', async () => {
      const store = await open();
      await addModel(store, 'tinyfish', 'pricing-page', { misc: { url: 'https://example.com', goal: 'List the plans' } });
      const s = await addScenario(store, 'agent-pricing-v1', { kind: 'agent', targets: 'tinyfish:pricing-page', inputs: '{"timeout_seconds":120}', concurrency: '2' });
      assert.deepEqual([s.interval_minutes, s.concurrency, s.inputs], [360, 2, { timeout_seconds: 120 }]);
      const now = new Date('2026-11-28T10:00:00Z');
      await store.insertAgentRun(makeAgentRun({ automation: 'pricing-page', scenario_id: 'agent-pricing-v1', started_at: new Date('2026-11-28T09:00:00Z') }));
      await store.insertMetric(makeMetric({ run_ts: new Date('2026-11-28T09:50:00Z') }));
      const v = await showScenario(store, 'agent-pricing-v1', { now });
      assert.equal(v.agentRuns.length, 1);
      assert.deepEqual(v.fresh.map((f) => [f.provider, f.model_name]), [['tinyfish', 'pricing-page']]);
      const d = await showScenario(store, 'cloud-default-v1', { now });
      assert.deepEqual(d.fresh.map((f) => f.model_name), ['llama-3.3-70b-versatile']);
    });

    test('models.ts add tinyfish validates the automation; show covers its agent runs', async () => {
      const store = await open();
      await assert.rejects(addModel(store, 'tinyfish', 'a', { misc: { url: 'https://example.com' } }), usage(/Refusing to add tinyfish\/a: goal must be .*--misc '\{"url"/));
      // An automation named like a model the chat rules refuse ("image", "live") is still fine.
      await addModel(store, 'tinyfish', 'image-search-live', { misc: { url: 'https://example.com', goal: 'Search images' } });
      const base = Date.now();
      const t = (min: number) => new Date(base - min * 60_000);
      for (const [i, status] of (['completed', 'completed', 'failed', 'timeout'] as const).entries()) {
        await store.insertAgentRun(makeAgentRun({ automation: 'image-search-live', status, started_at: t(10 * (i + 1)), total_duration_ms: 10_000 * (i + 1), error_kind: status === 'completed' ? null : status === 'failed' ? 'run_failed' : 'timeout' }));
      }
      const shown = await showModel(store, 'tinyfish', 'image-search-live');
      assert.equal(shown.agentRuns!.length, 4);
      const [st] = shown.agentStats!;
      assert.deepEqual([st!.runs, st!.completed, st!.success_rate, st!.p50_duration_ms, st!.p95_duration_ms], [4, 2, 0.5, 10_000, 20_000]);
      assert.deepEqual(st!.failures_by_kind, { run_failed: 1, timeout: 1 });
      await store.insertAgentRun(makeAgentRun({ automation: 'image-search-live', scenario_id: 'other', status: 'failed', started_at: t(5), error: 'boom', error_kind: 'run_failed', result: null }));
      const [row] = (await listModelRows(store, { provider: 'tinyfish' })).filter((r) => r.model.model_id === 'image-search-live');
      assert.equal(row!.lastSuccess!.getTime(), t(10).getTime(), 'the last completed run is the last success');
      assert.deepEqual([row!.lastError!.error_kind, row!.lastError!.message], ['run_failed', 'boom']);
    });
  });
}

describe('what enabling a scenario costs', () => {
  test('per day at current prices: input as sent, answers at their max tokens, parallel calls counted; the budget\'s worst case beside it; unpriced models named', async () => {
    const store = openSqliteStore(join(dir, 'cost.sqlite'));
    await store.insertModel({ ...makeModel({ provider: 'groq', model_id: 'priced' }), misc: { price: { input: 1, output: 4 } } });
    await store.insertModel(makeModel({ provider: 'groq', model_id: 'unpriced' }));
    await ensureBuiltinScenarios(store);
    const tenK = await showScenario(store, 'input-10k-v1');
    // 8 calls a day of (10,000 + 64 template) input tokens at $1/M and 512 output tokens at $4/M.
    assert.ok(Math.abs(tenK.cost!.usdPerDay - (8 * (10_064 * 1 + 512 * 4)) / 1e6) < 1e-12);
    assert.ok(tenK.cost!.worstUsdPerDay > tenK.cost!.usdPerDay, 'the worst case counts every prompt byte a token');
    assert.deepEqual([tenK.cost!.models, tenK.cost!.callsPerModelPerDay, tenK.cost!.unpriced], [2, 8, ['groq/unpriced']]);
    const par = await showScenario(store, 'parallel-10-daily-v1');
    assert.equal(par.cost!.callsPerModelPerDay, 10, 'one group of ten a day');
    const text = formatScenario(tenK, 0.5);
    assert.match(text, /Cost: about \$0\.0969 a day at current prices \(2 model\(s\) × 8 call\(s\) a day/);
    assert.match(text, /not counted, no price: groq\/unpriced/);
    assert.match(text, /BENCH_DAILY_BUDGET_USD=0\.5 does not cover a day of them: calls whose worst case does not fit are not started/);
    assert.match(formatScenario(tenK, 1), /BENCH_DAILY_BUDGET_USD=1 covers a day of them on its own/);
    await store.close();
  });
});

describe('--input-tokens', () => {
  test('a generated prompt length is kept with the scenario, refused out of range, and removed with 0', async () => {
    const store = openSqliteStore(join(dir, 'input-tokens.sqlite'));
    const s = await addScenario(store, 'in-10k', { inputTokens: '10000', maxTokens: '256' });
    assert.equal((s.inputs as { input_tokens?: number }).input_tokens, 10000);
    assert.match(formatScenarioList([s]), /10000-token generated prompts \(unique per call\), 256 tokens/);
    await assert.rejects(addScenario(store, 'tiny', { inputTokens: '50' }), usage(/--input-tokens must be a whole number of tokens from 100/));
    await assert.rejects(addScenario(store, 'agent-x', { kind: 'agent', inputTokens: '1000' }), usage(/--input-tokens and --parallel are for llm scenarios/));
    const edited = await editScenario(store, 'in-10k', { maxTokens: '512' });
    assert.equal((edited.inputs as { input_tokens?: number }).input_tokens, 10000, 'an edit of another field keeps it');
    const back = await editScenario(store, 'in-10k', { inputTokens: '0' });
    assert.equal((back.inputs as { input_tokens?: number }).input_tokens, undefined);
    await store.close();
  });
});

describe('scenario targets', () => {
  test('all, providers, or provider:model entries, kept to the scenario\'s kind', () => {
    assert.deepEqual(parseTargets('all', 'llm'), { type: 'all' });
    assert.deepEqual(parseTargets('groq:llama-3.3-70b-versatile,bedrock:us.anthropic.claude-3-5-haiku-20241022-v1:0', 'llm'), {
      type: 'models',
      models: [
        { provider: 'groq', model_id: 'llama-3.3-70b-versatile' },
        { provider: 'bedrock', model_id: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' },
      ],
    });
    assert.throws(() => parseTargets('groq,openai:gpt-4o', 'llm'), usage(/mixes providers and provider:model/));
    assert.throws(() => parseTargets('nosuch', 'llm'), usage(/unknown provider 'nosuch'/));
    assert.throws(() => parseTargets('groq', 'agent'), usage(/an agent scenario runs TinyFish automations/));
    assert.throws(() => parseTargets('tinyfish', 'llm'), usage(/need an agent scenario/));
  });
});
