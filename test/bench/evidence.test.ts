// SPEC 18: what a row's conditions say against it, recorded by the real sweep against the fake
// providers' wire formats.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { benchmarkModel } from '../../lib/bench/call.ts';
import { systemClock } from '../../lib/bench/clock.ts';
import type { SweepModel } from '../../lib/bench/due.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { loadConfig } from '../../lib/config.ts';
import type { ProviderName } from '../../lib/config.ts';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { startAnthropicServer } from '../fakes/anthropic-server.ts';
import { startOpenAIServer } from '../fakes/openai-server.ts';
import type { FakeScenario, FakeServer } from '../fakes/scenario.ts';

const servers: FakeServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** The whole 64-token budget in one-word chunks, its usage reporting `cached` cached input tokens. */
const answer = (cached: number, served: Pick<FakeScenario, 'servedModel' | 'fingerprint'> = {}): FakeScenario => ({
  ...served,
  chunks: Array.from({ length: 64 }, (_, i) => ({ atMs: 5 + i, text: ` word`, tokens: 1 })),
  usage: { input: 2048, output: 64, cached },
  finishReason: 'stop',
});

const scenario = (id: string, nonce: string | null): SweepModel['scenario'] => ({
  kind: 'llm',
  id,
  intervalMinutes: 30,
  prompt: 'Tell a long and happy story about the history of the world.',
  maxTokens: 64,
  temperature: 0.1,
  cacheDefeatNonce: nonce,
});

type Served = Pick<FakeScenario, 'servedModel' | 'fingerprint'>;
type Wire = { provider: ProviderName; modelId: string; start: (cached: number, served?: Served) => Promise<FakeServer>; env: (s: FakeServer) => Record<string, string> };
const WIRES: Wire[] = [
  {
    provider: 'anthropic',
    modelId: 'claude-sonnet-4-5',
    start: (cached, served) => startAnthropicServer(() => answer(cached, served)),
    env: (s) => ({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: s.baseUrl }),
  },
  {
    provider: 'openai',
    modelId: 'gpt-4o-mini',
    start: (cached, served) => startOpenAIServer(() => answer(cached, served)),
    env: (s) => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: s.baseUrl }),
  },
  {
    provider: 'together',
    modelId: 'meta-llama/Llama-3.3-70B-Instruct-Turbo',
    start: (cached, served) => startOpenAIServer(() => answer(cached, served)),
    env: (s) => ({ TOGETHER_API_KEY: 'tg-test', TOGETHER_BASE_URL: s.baseUrl }),
  },
];

async function row(wire: Wire, cached: number, nonce: string | null, served?: Served): Promise<MetricDoc> {
  const server = await wire.start(cached, served);
  servers.push(server);
  const config = loadConfig({ env: { RUNNER_NAME: 'test', BENCH_MAX_RETRY_DELAY_MS: '0', ...wire.env(server) }, dotenvPath: false });
  const model: SweepModel = { provider: wire.provider, modelId: wire.modelId, scenario: scenario(nonce ? 'long-nocache-v1' : 'cloud-default-v1', nonce) };
  const outcome = await benchmarkModel(model, loadProvider(wire.provider), {
    config,
    clock: { ...systemClock, sleep: async () => {} },
    sweepSignal: new AbortController().signal,
    sweepStartedAt: new Date(),
  });
  assert.equal(outcome.outcome, 'ok', String(outcome.error?.message));
  return outcome.metric!;
}

describe('the cache check (SPEC 18)', () => {
  for (const wire of WIRES) {
    test(`${wire.provider}: a cache-defeating row whose provider reports cached input tokens is marked a cache hit, with the count kept`, async () => {
      const hit = await row(wire, 1024, 'a1b2c3');
      assert.equal(hit.cached_input_tokens, 1024);
      assert.deepEqual(hit.evidence, { cache_hit: true });
      const cold = await row(wire, 0, 'd4e5f6');
      assert.equal(cold.cached_input_tokens, 0);
      assert.equal(cold.evidence, undefined);
    });
  }

  test('a row of a scenario that does not defeat caches is never marked: its prompt may be cached by design', async () => {
    const published = await row(WIRES[1]!, 1024, null);
    assert.equal(published.cached_input_tokens, 1024);
    assert.equal(published.evidence, undefined);
  });
});

describe('model identity (SPEC 18)', () => {
  for (const wire of WIRES) {
    test(`${wire.provider}: each row records the model the provider says answered, and a new one when the alias moves between sweeps`, async () => {
      const before = await row(wire, 0, null, { servedModel: `${wire.modelId}-2024-08-06`, fingerprint: 'fp_aaa111' });
      const after = await row(wire, 0, null, { servedModel: `${wire.modelId}-2024-11-20`, fingerprint: 'fp_bbb222' });
      assert.equal(before.served_model, `${wire.modelId}-2024-08-06`);
      assert.equal(after.served_model, `${wire.modelId}-2024-11-20`);
      // Only OpenAI-style chat completions carry system_fingerprint.
      assert.equal(before.served_fingerprint, wire.provider === 'together' ? 'fp_aaa111' : undefined);
      assert.equal(after.served_fingerprint, wire.provider === 'together' ? 'fp_bbb222' : undefined);
    });
  }

  test('a provider naming its model at length is kept bounded', async () => {
    const long = await row(WIRES[2]!, 0, null, { servedModel: 'x'.repeat(5000) });
    assert.equal(long.served_model, 'x'.repeat(200));
  });
});
