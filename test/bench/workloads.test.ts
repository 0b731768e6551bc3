// Workloads beyond the published one (SPEC 19), against the fake OpenAI server whose first
// token waits for a prefill proportional to the prompt and which reports the prompt's count.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import { createPriceBook } from '../../lib/bench/cost.ts';
import { pairsFromStore } from '../../lib/bench/due.ts';
import { formatResultLine } from '../../lib/bench/output.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import { loadConfig } from '../../lib/config.ts';
import { addScenario, ensureBuiltinScenarios } from '../../lib/models/scenarios.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { startOpenAIServer } from '../fakes/openai-server.ts';
import { prefillScenario } from '../fakes/scenario.ts';
import type { FakeServer, RecordedRequest } from '../fakes/scenario.ts';
import { makeModel } from '../fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-workloads-'));
const PREFILL = { baseTtftMs: 5, msPer1kInputTokens: 20, tokens: 12, tokensPerSecond: 400, tokensPerChunk: 3, countTokens };
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
