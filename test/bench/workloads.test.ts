// Workloads beyond the published one (SPEC 19), against the fake OpenAI server whose first
// token waits for a prefill proportional to the prompt and which reports the prompt's count.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { createDailyBudget } from '../../lib/bench/budget.ts';
import { createPriceBook } from '../../lib/bench/cost.ts';
import { jitterSlot, pairsFromStore, partitionDue, type SweepModel } from '../../lib/bench/due.ts';
import { formatResultLine } from '../../lib/bench/output.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import { loadConfig } from '../../lib/config.ts';
import { addScenario, ensureBuiltinScenarios } from '../../lib/models/scenarios.ts';
import { parseErrorPayload } from '../../lib/ingest/schema.ts';
import { formatGroups, readWindowGroupErrors, readWindowRows, summarizeGroups } from '../../lib/runs/groups.ts';
import { deriveWorkloads, formatWorkloads, theilSen } from '../../lib/runs/workloads.ts';
import { renderSite } from '../../lib/site/build.ts';
import { collectSiteData } from '../../lib/site/data.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { startOpenAIServer } from '../fakes/openai-server.ts';
import { prefillScenario } from '../fakes/scenario.ts';
import type { FakeServer, RecordedRequest } from '../fakes/scenario.ts';
import { makeModel } from '../fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-workloads-'));
const PREFILL = { baseTtftMs: 150, msPer1kInputTokens: 20, tokens: 12, tokensPerSecond: 400, tokensPerChunk: 3, countTokens };
let server: FakeServer;
before(async () => {
  server = await startOpenAIServer((req) => prefillScenario(req, PREFILL));
});
after(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

function promptOf(r: RecordedRequest): string {
  const body = r.body as { messages?: Array<{ content: string }>; input?: unknown };
  return body.messages ? body.messages.map((m) => m.content).join('') : JSON.stringify(body.input);
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

async function sweepScenarios(store: Store, ids: string[]) {
  const config = loadConfig({ env: { RUNNER_NAME: 'test-runner', OPENAI_API_KEY: 'sk-test-0123456789abcdef', OPENAI_BASE_URL: server.baseUrl }, dotenvPath: false });
  const scenarios = (await store.listScenarios()).filter((s) => ids.includes(s.scenario_id));
  const models = await pairsFromStore(store, { scenarios, explicit: null, providers: ['openai'], wallNow: Date.now() });
  return runSweep({ config, models, sink: store, loadProvider, prices: createPriceBook([]), force: true });
}

describe('input-length scenarios (--input-tokens)', () => {
  test('each call sends a new prompt of the asked length, unique from its first token; rows record both counts; a model whose window is too small is not called', async () => {
    const store = openSqliteStore(join(dir, 'input.sqlite'));
    for (const id of ['gpt-4.1-mini', 'gpt-4.1-nano']) await store.insertModel(makeModel({ provider: 'openai', model_id: id }));
    await store.insertModel(makeModel({ provider: 'openai', model_id: 'small-window', misc: { context_window: 3000 } }));
    await addScenario(store, 'in-1k', { inputTokens: '1000', maxTokens: '12', targets: 'openai' });
    await addScenario(store, 'in-4k', { inputTokens: '4000', maxTokens: '12', targets: 'openai' });
    const before = server.requests.length;

    const { summary, results } = await sweepScenarios(store, ['in-1k', 'in-4k']);
    await sweepScenarios(store, ['in-1k', 'in-4k']);

    assert.equal(summary.ok, 5, results.map(formatResultLine).join('\n'));
    const skippedLine = results.filter((r) => r.outcome === 'skipped_context').map(formatResultLine);
    assert.deepEqual(skippedLine, ['openai/small-window [in-4k]: skipped, not started: a 4000-token prompt and 12 output tokens do not fit its 3000-token context window']);
    const sent = server.requests.slice(before).filter((r) => r.method === 'POST' && typeof r.body === 'object');
    assert.equal(sent.length, 10, 'two sweeps of five pairs; the skipped pair never reached the provider');
    assert.ok(!sent.some((r) => (r.body as { model: string }).model === 'small-window' && countTokens(promptOf(r)) > 3000));

    const prompts = sent.map(promptOf);
    for (const p of prompts) {
      const asked = countTokens(p) > 2500 ? 4000 : 1000;
      assert.ok(Math.abs(countTokens(p) - asked) <= asked * 0.01, `${countTokens(p)} tokens for ${asked} asked`);
    }
    const nonceLength = '[0123456789ab]'.length;
    for (let i = 0; i < prompts.length; i++) {
      for (let j = i + 1; j < prompts.length; j++) {
        assert.ok(commonPrefix(prompts[i]!, prompts[j]!) < nonceLength, `prompts ${i} and ${j} share ${commonPrefix(prompts[i]!, prompts[j]!)} leading characters`);
      }
    }

    const rows = [];
    for (const id of ['gpt-4.1-mini', 'gpt-4.1-nano', 'small-window']) rows.push(...(await store.recentMetricsIn({ provider: 'openai', modelName: id, limit: 10, collection: 'probe' })));
    assert.equal(rows.length, 10);
    for (const r of rows) {
      const asked = r.benchmark_profile_id === 'in-4k' ? 4000 : 1000;
      assert.equal(r.requested_input_tokens, asked);
      assert.ok(r.input_tokens !== null && Math.abs(r.input_tokens - asked) <= asked * 0.01, `the provider counted ${r.input_tokens} of ${asked}`);
      assert.match(r.cache_defeat_nonce ?? '', /^[0-9a-f]{12}$/);
    }
    assert.equal(new Set(rows.map((r) => r.cache_defeat_nonce)).size, rows.length, 'a nonce of its own for every call');
    await store.close();
  });
});

describe('the sweep deadline with workloads', () => {
  test('a long-prompt call whose time limit would pass the deadline is not started; the published pair still runs', async () => {
    const store = openSqliteStore(join(dir, 'deadline.sqlite'));
    await ensureBuiltinScenarios(store);
    await store.insertModel(makeModel({ provider: 'mock', model_id: 'instant' }));
    await addScenario(store, 'in-1k', { inputTokens: '1000', maxTokens: '12', targets: 'mock' });
    const sweep = async (env: Record<string, string>) => {
      const config = loadConfig({ env: { RUNNER_NAME: 'test-runner', BENCH_SWEEP_DEADLINE_MS: '60000', ...env }, dotenvPath: false });
      const scenarios = (await store.listScenarios()).filter((s) => ['cloud-default-v1', 'in-1k'].includes(s.scenario_id));
      const models = await pairsFromStore(store, { scenarios, explicit: null, providers: ['mock'], wallNow: Date.now() });
      return (await runSweep({ config, models, sink: store, loadProvider, force: true })).results.map(formatResultLine);
    };
    const late = await sweep({ BENCH_CALL_TIMEOUT_MS: '120000' });
    assert.equal(late.length, 2);
    assert.match(late[0]!, /^mock\/instant: ok,/);
    assert.match(late[1]!, /^mock\/instant \[in-1k\]: skipped, not started: a call may take 120(\.0)? s and the sweep deadline is \d+(\.\d)? s away$/);
    const inTime = await sweep({ BENCH_CALL_TIMEOUT_MS: '30000' });
    assert.match(inTime[1]!, /^mock\/instant \[in-1k\]: ok,/, inTime.join('\n'));
    await store.close();
  });
});

describe('parallel groups (--parallel)', () => {
  test('a 10-call group is started together and recorded whole; its aggregate throughput is the rows\' output over the group\'s wall time', async () => {
    const store = openSqliteStore(join(dir, 'parallel.sqlite'));
    await ensureBuiltinScenarios(store);
    await store.insertModel(makeModel({ provider: 'openai', model_id: 'gpt-4.1-mini' }));
    await addScenario(store, 'par-10', { parallel: '10', maxTokens: '24', targets: 'openai' });
    const before = server.requests.length;
    const { results } = await sweepScenarios(store, ['cloud-default-v1', 'par-10']);
    assert.deepEqual(results.map((r) => r.outcome), Array(11).fill('ok'), results.map(formatResultLine).join('\n'));
    const prompts = server.requests.slice(before).filter((r) => r.method === 'POST' && typeof r.body === 'object').map(promptOf);
    assert.equal(new Set(prompts).size, 11, 'every call of the group sends a prompt of its own');

    const rows = (await store.recentMetricsIn({ provider: 'openai', modelName: 'gpt-4.1-mini', limit: 20, collection: 'probe' })).filter((r) => r.benchmark_profile_id === 'par-10');
    assert.equal(rows.length, 10);
    assert.equal(new Set(rows.map((r) => r.parallel_group_id)).size, 1);
    assert.ok(rows.every((r) => r.parallel_size === 10 && /^[0-9a-f-]{36}$/.test(r.parallel_group_id ?? '')));
    const start = Math.min(...rows.map((r) => r.run_ts.getTime()));
    const end = Math.max(...rows.map((r) => r.gen_ts.getTime()));
    assert.ok(Math.max(...rows.map((r) => r.run_ts.getTime())) < Math.min(...rows.map((r) => r.gen_ts.getTime())), 'all ten were in flight at once');

    const [published] = await store.recentMetrics('openai', 'gpt-4.1-mini', 5);
    assert.equal(published!.parallel_group_id, undefined, 'a single call has no group');
    const groups = summarizeGroups(await readWindowRows(store, { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) }));
    assert.equal(groups.length, 1);
    const g = groups[0]!;
    assert.deepEqual([g.size, g.recorded, g.scenario_id], [10, 10, 'par-10']);
    const sum = rows.reduce((s, r) => s + r.output_tokens, 0);
    assert.ok(Math.abs(g.aggregate_tokens_per_second - sum / ((end - start) / 1000)) < 1e-9);
    assert.equal(g.single_decode_median, published!.decode_tokens_per_second);
    for (const c of g.calls) {
      const row = rows.find((r) => r.run_id === c.run_id)!;
      assert.equal(c.slowdown, published!.decode_tokens_per_second! / row.decode_tokens_per_second!);
    }
    assert.match(formatGroups(groups, 'table'), /openai\s+gpt-4\.1-mini\s+par-10\s+10\/10/);
    await store.close();
  });

  test('failed calls of a group carry its group id, and the group counts them', async () => {
    // Three of the group's ten calls are refused (HTTP 400: not retried); the published call is not.
    let groupCalls = 0;
    const failing = await startOpenAIServer((req) => {
      const group = promptOf(req).includes('Group probe');
      return group && [2, 5, 8].includes(++groupCalls) ? { chunks: [], status: 400 } : prefillScenario(req, PREFILL);
    });
    const store = openSqliteStore(join(dir, 'parallel-failures.sqlite'));
    try {
      await ensureBuiltinScenarios(store);
      await store.insertModel(makeModel({ provider: 'openai', model_id: 'gpt-4.1-mini' }));
      await addScenario(store, 'par-10', { parallel: '10', maxTokens: '24', targets: 'openai', prompt: 'Group probe: say hello.' });
      const config = loadConfig({ env: { RUNNER_NAME: 'test-runner', OPENAI_API_KEY: 'sk-test-0123456789abcdef', OPENAI_BASE_URL: failing.baseUrl }, dotenvPath: false });
      const scenarios = (await store.listScenarios()).filter((s) => ['cloud-default-v1', 'par-10'].includes(s.scenario_id));
      const models = await pairsFromStore(store, { scenarios, explicit: null, providers: ['openai'], wallNow: Date.now() });
      const { results } = await runSweep({ config, models, sink: store, loadProvider, prices: createPriceBook([]), force: true });
      const group = results.filter((r) => r.scenarioId === 'par-10');
      assert.deepEqual([group.filter((r) => r.outcome === 'ok').length, group.filter((r) => r.outcome === 'failed').length], [7, 3], results.map(formatResultLine).join('\n'));

      const w = { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) };
      const rows = (await readWindowRows(store, w)).filter((r) => r.benchmark_profile_id === 'par-10');
      const errors = await readWindowGroupErrors(store, w);
      assert.equal(errors.length, 3);
      const id = rows[0]!.parallel_group_id;
      assert.ok(errors.every((e) => e.parallel_group_id === id && e.parallel_size === 10 && e.benchmark_profile_id === 'par-10'));
      // A remote runner's failed call keeps its group through /ingest/error.
      const posted = parseErrorPayload(JSON.parse(JSON.stringify(errors[0])));
      assert.ok(posted.ok);
      assert.deepEqual([posted.value.parallel_group_id, posted.value.parallel_size], [id, 10]);

      const groups = summarizeGroups(await readWindowRows(store, w), errors);
      assert.equal(groups.length, 1);
      const g = groups[0]!;
      assert.deepEqual([g.size, g.recorded, g.failed, g.failures_by_kind], [10, 7, 3, { [errors[0]!.error_kind]: 3 }]);
      assert.match(formatGroups(groups, 'table'), /openai\s+gpt-4\.1-mini\s+par-10\s+7\/10\s+3\s/);
      // A group whose every call failed is still listed, from its error rows alone.
      const [alone] = summarizeGroups([], errors);
      assert.deepEqual([alone!.recorded, alone!.failed, alone!.size, alone!.scenario_id], [0, 3, 10, 'par-10']);
    } finally {
      await store.close();
      await failing.close();
    }
  });
});

describe('jittered scenarios (--jitter)', () => {
  const sweepModel = (last: Date | null): SweepModel => ({
    provider: 'mock',
    modelId: 'instant',
    lastSweepStartedAt: last,
    scenario: { kind: 'llm', id: 'par-daily', intervalMinutes: 1440, prompt: 'p', maxTokens: 8, temperature: 0, cacheDefeatNonce: null, jitter: true },
  });
  test('a pair runs once per interval, at the first sweep after a random time within it', () => {
    const day = 86_400_000;
    const now = Date.now();
    const slot = jitterSlot('par-daily', 1440, now);
    assert.ok(slot <= now && now - slot < day, 'the latest start is within the last interval');
    const starts = new Set(Array.from({ length: 10 }, (_, i) => (jitterSlot('par-daily', 1440, now + i * day) - now) % day));
    assert.ok(starts.size > 1, 'the start moves from one interval to the next');
    const at = (wallNow: number, last: Date | null) => partitionDue([sweepModel(last)], { freshMinutes: 30, wallNow, force: false }).due.length;
    assert.equal(at(slot, new Date(slot - 60_000)), 1, 'due at its start when last measured before it');
    assert.equal(at(slot + 60_000, new Date(slot)), 0, 'measured since its start: not due again this interval');
    assert.equal(at(slot - 1, null), 1, 'never measured: due');
  });
});

describe('the daily budget with workloads', () => {
  test('a long-prompt call whose worst case does not fit is not started, while the short published call does', async () => {
    const store = openSqliteStore(join(dir, 'budget.sqlite'));
    await ensureBuiltinScenarios(store);
    await store.insertModel(makeModel({ provider: 'openai', model_id: 'gpt-4.1-mini', misc: { price: { input: 1, output: 1 } } }));
    await addScenario(store, 'in-1k', { inputTokens: '1000', maxTokens: '12', targets: 'openai' });
    const config = loadConfig({ env: { RUNNER_NAME: 'test-runner', OPENAI_API_KEY: 'sk-test-0123456789abcdef', OPENAI_BASE_URL: server.baseUrl }, dotenvPath: false });
    const prices = createPriceBook([]);
    // The published call's worst case is about $0.0002; a 1,000-token prompt's is above $0.005.
    const budget = createDailyBudget({ limitUsd: 0.005, prices, spentOn: null, wallNow: Date.now });
    const scenarios = (await store.listScenarios()).filter((s) => ['cloud-default-v1', 'in-1k'].includes(s.scenario_id));
    const models = await pairsFromStore(store, { scenarios, explicit: null, providers: ['openai'], wallNow: Date.now() });
    const { results } = await runSweep({ config, models, sink: store, loadProvider, prices, budget, force: true });
    assert.deepEqual(results.map((r) => [r.scenarioId, r.outcome]), [['cloud-default-v1', 'ok'], ['in-1k', 'skipped_budget']]);
    assert.match(results[1]!.skipReason ?? '', /worst case \$0\.00\d+ .* would pass BENCH_DAILY_BUDGET_USD=0\.005/);
    await store.close();
  });
});

describe('derived per model (runs workloads)', () => {
  test('the fitted seconds per 1,000 input tokens is within 5 % of the fake\'s prefill; TTFT per length and the 500-token answer beside it', async () => {
    const MS_PER_1K = 100;
    const slow = await startOpenAIServer((req) => prefillScenario(req, { ...PREFILL, msPer1kInputTokens: MS_PER_1K }));
    try {
      const store = openSqliteStore(join(dir, 'fit.sqlite'));
      await ensureBuiltinScenarios(store);
      await store.insertModel(makeModel({ provider: 'openai', model_id: 'gpt-4.1-mini' }));
      for (const n of [1000, 3000, 6000]) await addScenario(store, `in-${n}`, { inputTokens: String(n), maxTokens: '12', targets: 'openai' });
      const config = loadConfig({ env: { RUNNER_NAME: 'test-runner', OPENAI_API_KEY: 'sk-test-0123456789abcdef', OPENAI_BASE_URL: slow.baseUrl }, dotenvPath: false });
      const ids = ['cloud-default-v1', 'in-1000', 'in-3000', 'in-6000'];
      for (let i = 0; i < 2; i++) {
        const scenarios = (await store.listScenarios()).filter((s) => ids.includes(s.scenario_id));
        const models = await pairsFromStore(store, { scenarios, explicit: null, providers: ['openai'], wallNow: Date.now() });
        await runSweep({ config, models, sink: store, loadProvider, force: true });
      }
      const [m] = deriveWorkloads(await readWindowRows(store, { since: new Date(Date.now() - 3_600_000), until: new Date(Date.now() + 60_000) }));
      assert.ok(m!.fit, 'three input lengths make a line');
      const want = MS_PER_1K / 1000;
      assert.ok(Math.abs(m!.fit!.slope_s_per_1k - want) <= want * 0.05, `fitted ${m!.fit!.slope_s_per_1k} s per 1,000 tokens, the fake adds ${want}`);
      assert.equal(m!.fit!.points, 6);
      assert.deepEqual(m!.ttft_by_input.map((t) => [t.input_tokens, t.runs]), [[1000, 2], [3000, 2], [6000, 2]]);
      assert.ok(m!.ttft_by_input[2]!.ttft_p50_s > m!.ttft_by_input[0]!.ttft_p50_s);
      const published = (await store.recentMetrics('openai', 'gpt-4.1-mini', 5)).map((r) => r.time_to_first_token!);
      assert.equal(m!.e2e_500_s, (published[0]! + published[1]!) / 2 + 500 / m!.decode_64_p50!, 'no long answers: the 64-token decode speed');
      assert.match(formatWorkloads([m!], 'table'), /ttft_1000_s\s+ttft_3000_s\s+ttft_6000_s\s+s_per_1k_input/);
      const site = renderSite(await collectSiteData(store, new Date(Date.now() + 1000)));
      const siteJson = JSON.parse(site.get('json/workloads.json')!) as { models: Array<{ fit: { slope_s_per_1k: number } }> };
      assert.equal(siteJson.models[0]!.fit.slope_s_per_1k, m!.fit!.slope_s_per_1k, 'the site publishes the same fit');
      assert.match(site.get('workloads.html')!, /TTFT 6,000 in.*s per 1k input/s);
      await store.close();
    } finally {
      await slow.close();
    }
  });

  test('Theil–Sen keeps the line of the many through one slow outlier', () => {
    const points = [1, 2, 3, 4, 5, 6].map((x) => ({ x, y: 2 * x + 1 }));
    points.push({ x: 3.5, y: 40 });
    assert.deepEqual(theilSen(points), { slope: 2, intercept: 1 });
  });
});
