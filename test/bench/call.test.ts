import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { benchmarkModel, runAttempt, type CallContext } from '../../lib/bench/call.ts';
import { systemClock } from '../../lib/bench/clock.ts';
import type { ProviderRequest, ProviderStream, StreamEvent } from '../../lib/bench/provider-stream.ts';
import { loadConfig } from '../../lib/config.ts';
import { BenchError } from '../../lib/errors.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));

function context(env: Record<string, string> = {}, sleeps: number[] = []): CallContext {
  return {
    config: loadConfig({ env: { RUNNER_NAME: 'test-runner', ...env }, dotenvPath: false }),
    clock: { ...systemClock, sleep: async (ms) => void sleeps.push(ms) },
    sweepSignal: new AbortController().signal,
    sweepStartedAt: new Date('2026-11-20T12:00:00Z'),
  };
}

function requestEvent(req: ProviderRequest): StreamEvent {
  return { type: 'request', t: req.now(), mode: 'fake', maxTokens: req.maxTokens, temperature: req.temperature, reasoningEffort: null, applied: {} };
}

async function* answer(req: ProviderRequest): AsyncGenerator<StreamEvent> {
  yield requestEvent(req);
  await tick();
  yield { type: 'first_byte', t: req.now() };
  for (let i = 0; i < 4; i++) {
    await tick();
    yield { type: 'text', t: req.now(), text: ' tok' };
  }
  yield { type: 'usage', t: req.now(), usage: { inputTokens: 10, outputTokens: 64, reasoningTokens: null, cachedInputTokens: null, totalTokens: null, raw: {} } };
  yield { type: 'finish', t: req.now(), reason: 'stop', rawReason: 'stop', responseId: 'r1', providerLatencyMs: null };
}

const httpError = (status: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error(`${status} busy`), { status, headers: new Headers(headers) });

const model = { provider: 'groq' as const, modelId: 'm' };

describe('benchmarkModel (one call with its retries)', () => {
  test('a good answer is an ok outcome with its metric and one attempt', async () => {
    const r = await benchmarkModel(model, Promise.resolve(answer as ProviderStream), context());
    assert.equal(r.outcome, 'ok');
    assert.equal(r.attempts, 1);
    assert.equal(r.metric?.output_tokens, 64);
    assert.equal(r.metric?.attempts_count, 1);
  });

  test('retries a 429 before the first byte after the Retry-After it was given, and records the attempts', async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const stream: ProviderStream = async function* (req) {
      calls += 1;
      if (calls > 1) return yield* answer(req);
      yield requestEvent(req);
      throw httpError(429, { 'retry-after': '2' });
    };
    const r = await benchmarkModel(model, Promise.resolve(stream), context({}, sleeps));
    assert.equal(r.outcome, 'ok');
    assert.equal(r.attempts, 2);
    assert.deepEqual(sleeps, [2000]);
    assert.equal(r.metric?.attempts_count, 2);
  });

  test('retries an HTTP 200 whose first event is an error like the HTTP error it carries', async () => {
    let calls = 0;
    const stream: ProviderStream = async function* (req) {
      calls += 1;
      if (calls > 1) return yield* answer(req);
      yield requestEvent(req);
      yield { type: 'first_byte', t: req.now() };
      throw httpError(529);
    };
    const sleeps: number[] = [];
    const r = await benchmarkModel(model, Promise.resolve(stream), context({}, sleeps));
    assert.equal(calls, 2);
    assert.equal(r.outcome, 'ok');
  });

  test('does not retry once part of the answer has arrived: the failure is recorded as it was', async () => {
    let calls = 0;
    const stream: ProviderStream = async function* (req) {
      calls += 1;
      yield requestEvent(req);
      yield { type: 'first_byte', t: req.now() };
      yield { type: 'text', t: req.now(), text: 'Once' };
      throw httpError(503);
    };
    const r = await benchmarkModel(model, Promise.resolve(stream), context());
    assert.equal(calls, 1);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.error?.error_kind, 'transient_provider');
    assert.match(r.error?.message ?? '', /^Cannot stream groq\/m: HTTP 503 provider error: /);
  });

  test('an adapter that could not load is a failure at its own stage, not a throw', async () => {
    const r = await benchmarkModel(model, Promise.reject(new BenchError('no SDK', { kind: 'unknown', stage: 'load_provider' })), context());
    assert.equal(r.outcome, 'failed');
    assert.equal(r.error?.stage, 'load_provider');
    assert.equal(r.attempts, 1);
  });
});

describe('runAttempt (time limits and the stall watch)', () => {
  test('a stream silent for longer than the stall timeout is aborted as a timeout, even when it ignores its signal', async () => {
    const stream: ProviderStream = async function* (req) {
      yield requestEvent(req);
      await new Promise(() => {});
    };
    const a = await runAttempt(stream, model, context({ BENCH_STALL_TIMEOUT_MS: '60' }));
    assert.equal(a.ok, false);
    assert.ok(!a.ok && a.error instanceof BenchError && a.error.kind === 'timeout');
    assert.match(String((a as { error: Error }).error.message), /stalled after 0\.06 s without a stream event \(before the first byte\)/);
  });

  test('a stream with no event after the request is an error, not a recording', async () => {
    const stream: ProviderStream = async function* (req) {
      yield requestEvent(req);
    };
    const a = await runAttempt(stream, model, context());
    assert.equal(a.ok, false);
    assert.equal(a.requests, 1);
  });
});

describe('benchmarkModel: what is retried, how long it waits, and what is recorded', () => {
  /** A stream that fails before the first byte with `error` on each of its first `failures` calls, then answers. */
  function failing(error: () => unknown, failures = Infinity): { stream: ProviderStream; calls: () => number } {
    let calls = 0;
    const stream: ProviderStream = async function* (req) {
      calls += 1;
      if (calls > failures) return yield* answer(req);
      yield requestEvent(req);
      throw error();
    };
    return { stream, calls: () => calls };
  }

  test('a 429 whose message says the credits ran out is recorded as billing after one attempt, not retried', async () => {
    const quota = () => Object.assign(new Error('You exceeded your current quota, please check your plan and billing details.'), { status: 429, headers: new Headers() });
    const { stream, calls } = failing(quota);
    const sleeps: number[] = [];
    const r = await benchmarkModel(model, Promise.resolve(stream), context({}, sleeps));
    assert.equal(calls(), 1);
    assert.deepEqual(sleeps, []);
    assert.equal(r.error?.error_kind, 'billing');
  });

  test('without Retry-After it waits 1 s, then 2 s, and stops at BENCH_MAX_ATTEMPTS', async () => {
    const { stream, calls } = failing(() => httpError(503));
    const sleeps: number[] = [];
    const r = await benchmarkModel(model, Promise.resolve(stream), context({ BENCH_MAX_ATTEMPTS: '3' }, sleeps));
    assert.equal(calls(), 3);
    assert.deepEqual(sleeps, [1000, 2000]);
    assert.equal(r.outcome, 'failed');
    assert.equal(r.attempts, 3);
    assert.match(r.error?.message ?? '', /\(after 3 attempts\)$/);
  });

  test('a Retry-After longer than BENCH_MAX_RETRY_DELAY_MS is not waited out: the 429 is recorded at once', async () => {
    const { stream, calls } = failing(() => httpError(429, { 'retry-after': '120' }), 1);
    const sleeps: number[] = [];
    const r = await benchmarkModel(model, Promise.resolve(stream), context({ BENCH_MAX_RETRY_DELAY_MS: '30000' }, sleeps));
    assert.equal(calls(), 1);
    assert.deepEqual(sleeps, []);
    assert.equal(r.error?.error_kind, 'rate_limit');
  });

  test('no retry once the sweep was aborted (deadline, SIGTERM)', async () => {
    const sweep = new AbortController();
    const { stream, calls } = failing(() => {
      sweep.abort(new Error('SIGTERM'));
      return httpError(503);
    }, 1);
    const r = await benchmarkModel(model, Promise.resolve(stream), { ...context(), sweepSignal: sweep.signal });
    assert.equal(calls(), 1);
    assert.equal(r.outcome, 'failed');
  });

  test('a call in flight when the sweep is aborted from outside is recorded as aborted, not timeout', async () => {
    const sweep = new AbortController();
    const stream: ProviderStream = async function* (req) {
      yield requestEvent(req);
      yield { type: 'first_byte', t: req.now() };
      sweep.abort(new Error('SIGTERM'));
      await new Promise(() => {});
    };
    const r = await benchmarkModel(model, Promise.resolve(stream), { ...context(), sweepSignal: sweep.signal });
    assert.equal(r.error?.error_kind, 'aborted');
    assert.match(r.error?.message ?? '', /sweep aborted \(SIGTERM\)/);
  });

  test("a timeout, ours (the stall watch) or the SDK's own, is recorded at stage timeout", async () => {
    const stalled: ProviderStream = async function* (req) {
      yield requestEvent(req);
      await new Promise(() => {});
    };
    const sdkTimeout = failing(() => new DOMException('The operation was aborted due to timeout', 'TimeoutError')).stream;
    for (const stream of [stalled, sdkTimeout]) {
      const r = await benchmarkModel(model, Promise.resolve(stream), context({ BENCH_STALL_TIMEOUT_MS: '60', BENCH_MAX_ATTEMPTS: '1' }));
      assert.equal(r.error?.error_kind, 'timeout');
      assert.equal(r.error?.stage, 'timeout');
    }
  });

  test('a stream that keeps sending events is not cut by the stall timeout, however long it runs', async () => {
    // 32 events 25 ms apart (0.8 s) under a 0.5 s stall timeout: only a 475 ms pause of the
    // whole process could cut it, which a loaded 2-core machine does not produce.
    const stream: ProviderStream = async function* (req) {
      yield requestEvent(req);
      yield { type: 'first_byte', t: req.now() };
      for (let i = 0; i < 32; i++) {
        await new Promise((r) => setTimeout(r, 25));
        yield { type: 'text', t: req.now(), text: ' tok' };
      }
      yield { type: 'finish', t: req.now(), reason: 'stop', rawReason: 'stop', responseId: 'r1', providerLatencyMs: null };
    };
    const a = await runAttempt(stream, model, context({ BENCH_STALL_TIMEOUT_MS: '500' }));
    assert.equal(a.ok, true, a.ok ? '' : String(a.error));
  });
});
