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
