// SPEC 18: what a row's conditions say against it, recorded by the real sweep against the fake
// providers' wire formats.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { benchmarkModel } from '../../lib/bench/call.ts';
import { systemClock } from '../../lib/bench/clock.ts';
import type { SweepModel } from '../../lib/bench/due.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { loadConfig } from '../../lib/config.ts';
import type { ProviderName } from '../../lib/config.ts';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { startAnthropicServer } from '../fakes/anthropic-server.ts';
import { startBedrockServer } from '../fakes/bedrock-server.ts';
import { googleQuotaErrorBody, startGeminiServer } from '../fakes/gemini-server.ts';
import { setEnv } from '../set-env.ts';
import { groqBaseUrl, startOpenAIServer } from '../fakes/openai-server.ts';
import type { FakeScenario, FakeServer } from '../fakes/scenario.ts';
import { sweepScenario } from '../fixtures.ts';

const servers: FakeServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** The whole 64-token budget in one-word chunks, its usage reporting `cached` cached input tokens. */
const answer = (cached: number, served: Pick<FakeScenario, 'servedModel' | 'fingerprint' | 'headers'> = {}): FakeScenario => ({
  ...served,
  chunks: Array.from({ length: 64 }, (_, i) => ({ atMs: 5 + i, text: ` word`, tokens: 1 })),
  usage: { input: 2048, output: 64, cached },
  finishReason: 'stop',
});

type Served = Pick<FakeScenario, 'servedModel' | 'fingerprint' | 'headers'>;
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

async function call(wire: Wire, server: FakeServer, nonce: string | null) {
  const config = loadConfig({ env: { RUNNER_NAME: 'test', BENCH_MAX_RETRY_DELAY_MS: '0', BENCH_MAX_ATTEMPTS: '1', ...wire.env(server) }, dotenvPath: false });
  const model: SweepModel = { provider: wire.provider, modelId: wire.modelId, scenario: sweepScenario(nonce ? 'long-nocache-v1' : 'cloud-default-v1', nonce) };
  const outcome = await benchmarkModel(model, loadProvider(wire.provider), {
    config,
    clock: { ...systemClock, sleep: async () => {} },
    sweepSignal: new AbortController().signal,
    sweepStartedAt: new Date(),
    // These tests are about what the provider says; the runner's own lag on a loaded test
    // machine (evidence.saturated, tested in loop-lag.test.ts) must not mark their rows.
    saturatedLagMs: Number.POSITIVE_INFINITY,
  });
  return outcome;
}

async function row(wire: Wire, cached: number, nonce: string | null, served?: Served): Promise<MetricDoc> {
  const server = await wire.start(cached, served);
  servers.push(server);
  const outcome = await call(wire, server, nonce);
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

const OPENAI_LIMITS = { 'x-ratelimit-limit-requests': '500', 'x-ratelimit-remaining-requests': '499', 'x-ratelimit-limit-tokens': '30000', 'x-ratelimit-remaining-tokens': '2400' };
const ANTHROPIC_LIMITS = { 'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '3', 'anthropic-ratelimit-tokens-limit': '40000', 'anthropic-ratelimit-tokens-remaining': '39000' };

describe('rate limits and provider timings (SPEC 18)', () => {
  for (const [wire, headers, expected] of [
    [WIRES[0]!, ANTHROPIC_LIMITS, { requests_limit: 50, requests_remaining: 3, tokens_limit: 40000, tokens_remaining: 39000, retry_after_s: null }],
    [WIRES[1]!, OPENAI_LIMITS, { requests_limit: 500, requests_remaining: 499, tokens_limit: 30000, tokens_remaining: 2400, retry_after_s: null }],
    [WIRES[2]!, OPENAI_LIMITS, { requests_limit: 500, requests_remaining: 499, tokens_limit: 30000, tokens_remaining: 2400, retry_after_s: null }],
  ] as const) {
    test(`${wire.provider}: a row keeps the answer's rate-limit headers as numbers, and a 429 keeps its own beside the error`, async () => {
      const ok = await row(wire, 0, null, { headers });
      assert.deepEqual(ok.rate_limit, expected);
      const limited = wire.provider === 'anthropic'
        ? await startAnthropicServer(() => ({ status: 429, headers: { ...headers, 'anthropic-ratelimit-requests-remaining': '0', 'retry-after': '7' }, chunks: [] }))
        : await startOpenAIServer(() => ({ status: 429, headers: { ...headers, 'x-ratelimit-remaining-tokens': '0', 'retry-after': '7' }, chunks: [] }));
      servers.push(limited);
      const failed = await call(wire, limited, null);
      assert.equal(failed.outcome, 'failed');
      assert.equal(failed.error?.error_kind, 'rate_limit');
      assert.equal(failed.error?.rate_limit?.retry_after_s, 7);
      assert.equal(wire.provider === 'anthropic' ? failed.error?.rate_limit?.requests_remaining : failed.error?.rate_limit?.tokens_remaining, 0);
    });
  }

  test('a row without rate-limit headers has no rate_limit, never zeros', async () => {
    assert.equal((await row(WIRES[2]!, 0, null)).rate_limit, undefined);
  });

  test("Groq: the row keeps x_groq.usage's queue, prompt, completion and total times", async () => {
    const server = await startOpenAIServer(() => answer(0));
    servers.push(server);
    const groq: Wire = { provider: 'groq', modelId: 'llama-3.3-70b-versatile', start: async () => server, env: (s) => ({ GROQ_API_KEY: 'gsk-test', GROQ_BASE_URL: groqBaseUrl(s) }) };
    const outcome = await call(groq, server, null);
    assert.equal(outcome.outcome, 'ok', String(outcome.error?.message));
    // The fake's x_groq.usage (test/fakes/openai-server.ts) reports these times.
    assert.deepEqual(outcome.metric!.provider_timings, { queue_s: 0.0123, prompt_s: 0.0021, completion_s: 0.05, total_s: 0.0521 });
    assert.equal((await row(WIRES[2]!, 0, null)).provider_timings, undefined, 'a host without x_groq has none');
  });
});

describe('Bedrock and Vertex: the model that answered and rate limits (SPEC 18)', () => {
  // The AWS SDK reads its credentials from the environment itself; never from ~/.aws here.
  let savedEnv: Record<string, string | undefined> = {};
  before(() => {
    savedEnv = setEnv({
      AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      AWS_SESSION_TOKEN: undefined,
      AWS_PROFILE: undefined,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_CONFIG_FILE: '/nonexistent/llm-bench-test/aws-config',
      AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/llm-bench-test/aws-credentials',
    });
  });
  after(() => setEnv(savedEnv));

  const bedrock = (modelId: string): Wire => ({
    provider: 'bedrock',
    modelId,
    start: (cached, served) => startBedrockServer(() => answer(cached, served)),
    env: (s) => ({ AWS_ENDPOINT_URL_BEDROCK_RUNTIME: s.baseUrl }),
  });
  const gemini: Wire = {
    provider: 'vertex',
    modelId: 'gemini-2.5-flash',
    start: (cached, served) => startGeminiServer(() => answer(cached, served)),
    env: (s) => ({ VERTEX_PROJECT: 'bench-proj', VERTEX_ACCESS_TOKEN: 'ya29.test-token', VERTEX_BASE_URL: s.baseUrl }),
  };

  test("Bedrock: a prompt router's row keeps the model it invoked; a plain model id's row names none (Bedrock says nothing)", async () => {
    const router = bedrock('arn:aws:bedrock:us-east-1:123456789012:default-prompt-router/anthropic.claude:1');
    const routed = await row(router, 0, null, { servedModel: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0' });
    assert.equal(routed.served_model, 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0');
    const plain = await row(bedrock('us.anthropic.claude-3-5-haiku-20241022-v1:0'), 0, null);
    assert.equal(plain.served_model, undefined);
    assert.equal(plain.served_fingerprint, undefined);
    assert.equal(plain.rate_limit, undefined);
  });

  test('Bedrock: a 429 as Bedrock sends it carries no rate limit, so the error has none; a Retry-After, were one sent, is kept', async () => {
    const throttled = await startBedrockServer(() => ({ status: 429, chunks: [] }));
    servers.push(throttled);
    const wire = bedrock('us.anthropic.claude-3-5-haiku-20241022-v1:0');
    const failed = await call(wire, throttled, null);
    assert.equal(failed.error?.error_kind, 'rate_limit');
    assert.equal(failed.error?.http_status, 429);
    assert.equal(failed.error?.rate_limit, undefined);
    // Read from the AWS SDK's $response headers, as any header of another provider is.
    const withRetry = await startBedrockServer(() => ({ status: 429, headers: { 'retry-after': '3' }, chunks: [] }));
    servers.push(withRetry);
    const again = await call(wire, withRetry, null);
    assert.deepEqual(again.error?.rate_limit, { requests_limit: null, requests_remaining: null, tokens_limit: null, tokens_remaining: null, retry_after_s: 3 });
  });

  test("Vertex Gemini: the row keeps modelVersion as the model that answered, and a change shows", async () => {
    const before = await row(gemini, 0, null, { servedModel: 'gemini-2.5-flash-preview-05-20' });
    const after = await row(gemini, 0, null, { servedModel: 'gemini-2.5-flash-001' });
    assert.deepEqual([before.served_model, after.served_model], ['gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash-001']);
    assert.equal(after.rate_limit, undefined, 'Vertex sends no rate-limit headers');
  });

  test("Vertex: the usual 429 (shared capacity) carries nothing; a quota 429's google.rpc.RetryInfo gives retry_after_s", async () => {
    const capacity = await startGeminiServer(() => ({ status: 429, chunks: [] }));
    servers.push(capacity);
    const busy = await call(gemini, capacity, null);
    assert.equal(busy.error?.error_kind, 'rate_limit');
    assert.equal(busy.error?.rate_limit, undefined);
    const quota = await startGeminiServer(() => ({ status: 429, errorBody: googleQuotaErrorBody('38.512s'), chunks: [] }));
    servers.push(quota);
    const limited = await call(gemini, quota, null);
    assert.equal(limited.error?.error_kind, 'rate_limit');
    assert.deepEqual(limited.error?.rate_limit, { requests_limit: null, requests_remaining: null, tokens_limit: null, tokens_remaining: null, retry_after_s: 38.512 });
  });
});
