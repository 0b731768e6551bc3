import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { loadConfig } from '../../../lib/config.ts';
import { BenchError, classifyError } from '../../../lib/errors.ts';
import { buildMetric, countTokens, evaluateCall } from '../../../lib/bench/measure.ts';
import type { ProviderRequest, StreamEvent } from '../../../lib/bench/provider-stream.ts';
import { parseMockModelId, streamMock } from '../../../lib/bench/providers/mock.ts';
import { providerRequest } from '../../fakes/provider-harness.ts';

const config = loadConfig({ env: {}, dotenvPath: false });

function request(modelId: string, o: Partial<ProviderRequest> = {}): ProviderRequest {
  // The mocked Date is the clock here, so timings are exact.
  return providerRequest({ provider: 'mock', modelId, config, now: () => Date.now(), ...o });
}

interface Collected {
  events: StreamEvent[];
  endT: number;
  error: unknown;
}

/**
 * Consumes a stream under mocked setTimeout/Date, advancing the clock 1 ms at a time while the
 * stream waits. Stops ticking at untilMs (the stream may still be pending then).
 */
async function drive(t: TestContext, stream: AsyncIterable<StreamEvent>, o: { untilMs?: number; onTick?: (ms: number) => void } = {}) {
  const out: Collected = { events: [], endT: NaN, error: undefined };
  let done = false;
  const consumed = (async () => {
    try {
      for await (const ev of stream) out.events.push(ev);
    } catch (err) {
      out.error = err;
    } finally {
      out.endT = Date.now();
      done = true;
    }
  })();
  const until = o.untilMs ?? 60_000;
  for (let ms = 0; !done && ms < until; ms++) {
    await new Promise((r) => setImmediate(r));
    if (done) break;
    t.mock.timers.tick(1);
    o.onTick?.(Date.now());
  }
  return { out, consumed, isDone: () => done };
}

async function run(t: TestContext, req: ProviderRequest): Promise<Collected> {
  const { out, consumed } = await drive(t, streamMock(req));
  await consumed;
  return out;
}

function mockTimers(t: TestContext) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
}

const ctx = (modelId: string) => ({
  provider: 'mock' as const,
  modelId,
  runId: 'r',
  profileId: 'cloud-default-v1',
  runner: 'test',
  wallOffsetMs: 0,
  fallbackMaxTokens: 64,
});

describe('mock model id grammar', () => {
  test('reads timing, chunking and reasoning parts in any order', () => {
    const s = parseMockModelId('tps-500-ttft-50ms-chunk-4-reasoning-8');
    assert.equal(s.ttftMs, 50);
    assert.equal(s.tokensPerSecond, 500);
    assert.equal(s.tokensPerChunk, 4);
    assert.equal(s.reasoningTokens, 8);
    assert.equal(parseMockModelId('ttft-1.5s').ttftMs, 1500);
    assert.equal(parseMockModelId('instant').tokensPerSecond, Infinity);
  });

  test('reads failure parts', () => {
    assert.equal(parseMockModelId('fail-429-retry-2s').retryAfterMs, 2000);
    assert.equal(parseMockModelId('fail-auth').failStatus, 401);
    assert.equal(parseMockModelId('no-usage').usage, false);
    assert.equal(parseMockModelId('budget-exhausted').budgetExhausted, true);
    assert.equal(parseMockModelId('stall').stall, true);
    assert.equal(parseMockModelId('cut').cut, true);
  });

  test('refuses an id it does not understand, as a missing model', () => {
    for (const id of ['turbo', 'tps-fast', 'ttft', 'fail-200', 'chunk-0', 'no-limits']) {
      assert.throws(
        () => parseMockModelId(id),
        (err: unknown) => err instanceof BenchError && err.kind === 'hard_model' && /Unknown mock model id/.test(err.message),
        id,
      );
    }
  });
});

describe('mock stream', () => {
  test('streams exactly the budget at the simulated speed, with usage and a length finish', async (t) => {
    mockTimers(t);
    const out = await run(t, request('ttft-200ms-tps-100'));
    assert.equal(out.error, undefined);
    const [req, first] = out.events;
    assert.deepEqual(req, {
      type: 'request',
      t: 0,
      mode: 'mock_stream',
      maxTokens: 64,
      temperature: 0.1,
      reasoningEffort: null,
      applied: { mock: true },
    });
    assert.deepEqual(first, { type: 'first_byte', t: 200 });
    const texts = out.events.filter((e) => e.type === 'text');
    assert.equal(texts.length, 64);
    assert.equal(texts[0]!.t, 200);
    assert.equal(texts[63]!.t, 200 + 63 * 10);
    const usage = out.events.find((e) => e.type === 'usage');
    assert.equal(usage?.type === 'usage' && usage.usage.outputTokens, 64);
    const fin = out.events.at(-1);
    assert.equal(fin?.type === 'finish' && fin.reason, 'length');

    const m = await buildMetric({ events: out.events, startT: 0, endT: out.endT }, ctx('ttft-200ms-tps-100'));
    assert.equal(m.time_to_first_token, 0.2);
    assert.equal(m.decode_tokens_per_second, 100);
    assert.equal(m.output_tokens, 64);
    assert.equal(m.mock, true);
    assert.deepEqual(m.misc, { mock: true });
  });

  test('groups tokens into chunks of the given size', async (t) => {
    mockTimers(t);
    const out = await run(t, request('ttft-50ms-tps-500-chunk-4', { maxTokens: 30 }));
    const texts = out.events.filter((e) => e.type === 'text');
    assert.equal(texts.length, 8);
    // 30 tokens in chunks of 4: seven full chunks and one of two.
    assert.equal(texts.at(-1)!.type === 'text' && texts.at(-1)!.text.split(' ').length - 1, 2);
    // Spread so that decode speed, the 26 tokens after the first chunk over first-to-last event, is the simulated 500/s.
    assert.equal(texts[0]!.t, 50);
    assert.equal(texts.at(-1)!.t, 50 + 52);
    const m = await buildMetric({ events: out.events, startT: 0, endT: out.endT }, ctx('chunked'));
    assert.equal(m.decode_tokens_per_second, 500);
  });

  test('instant streams without waiting on any timer', async (t) => {
    mockTimers(t);
    // The mocked clock never moves: a stream that waited on a timer would not finish.
    const { out, isDone } = await drive(t, streamMock(request('instant')), { untilMs: 0 });
    for (let i = 0; i < 20 && !isDone(); i++) await new Promise((r) => setImmediate(r));
    assert.equal(isDone(), true);
    assert.equal(out.events.filter((e) => e.type === 'text').length, 64);
    assert.equal(out.endT, 0);
  });

  test('streams reasoning before the visible text and reports its count', async (t) => {
    mockTimers(t);
    const out = await run(t, request('reasoning-24-ttft-100ms-tps-200'));
    const kinds = out.events.filter((e) => e.type === 'text' || e.type === 'reasoning').map((e) => e.type);
    assert.deepEqual(kinds, [...Array(24).fill('reasoning'), ...Array(40).fill('text')]);
    const m = await buildMetric({ events: out.events, startT: 0, endT: out.endT }, ctx('reasoning-24'));
    assert.equal(m.reasoning_tokens, 24);
    assert.equal(m.visible_output_tokens, 40);
    assert.equal(m.time_to_first_reasoning_token, 0.1);
    assert.equal(m.time_to_first_token, 0.1 + 24 * 0.005);
  });

  test('no-usage leaves the count to the tokenizer, which agrees with the budget', async (t) => {
    mockTimers(t);
    const out = await run(t, request('no-usage-ttft-10ms-tps-1000'));
    assert.equal(out.events.some((e) => e.type === 'usage'), false);
    const text = out.events.map((e) => (e.type === 'text' ? e.text : '')).join('');
    assert.equal(await countTokens(text), 64);
    const m = await buildMetric({ events: out.events, startT: 0, endT: out.endT }, ctx('no-usage'));
    assert.equal(m.token_source, 'tokenizer');
    assert.equal(m.output_tokens, 64);
  });

  test('budget-exhausted spends the budget on reasoning and fails validation as budget_exhausted', async (t) => {
    mockTimers(t);
    const out = await run(t, request('budget-exhausted-ttft-10ms-tps-1000'));
    assert.equal(out.events.some((e) => e.type === 'text'), false);
    const result = await evaluateCall({ events: out.events, startT: 0, endT: out.endT }, ctx('budget-exhausted'));
    assert.ok(!result.ok);
    assert.equal(result.error.error_kind, 'budget_exhausted');
  });
});

describe('mock timing on real timers', () => {
  test('the first token never comes before the TTFT the id asks for, though a timer may fire up to 1 ms early', async () => {
    const early: number[] = [];
    for (let i = 0; i < 40; i++) {
      const events: StreamEvent[] = [];
      for await (const ev of streamMock(request('ttft-5ms-tps-1000', { now: () => performance.now(), maxTokens: 2 }))) events.push(ev);
      const ttft = events.find((e) => e.type === 'text')!.t - events[0]!.t;
      if (ttft < 5) early.push(ttft);
    }
    assert.deepEqual(early, []);
  });
});

describe('mock failures', () => {
  test('fail-429 throws an HTTP-shaped error that classifies as rate_limit with its retry-after, after the request event', async (t) => {
    mockTimers(t);
    const out = await run(t, request('fail-429-retry-200ms'));
    assert.deepEqual(
      out.events.map((e) => e.type),
      ['request'],
    );
    const c = classifyError(out.error);
    assert.equal(c.kind, 'rate_limit');
    assert.equal(c.httpStatus, 429);
    assert.equal(c.retryAfterMs, 200);
  });

  test('fail-auth and fail-500 classify as auth and transient_provider', async (t) => {
    mockTimers(t);
    assert.equal(classifyError((await run(t, request('fail-auth'))).error).kind, 'auth');
    assert.equal(classifyError((await run(t, request('fail-500'))).error).kind, 'transient_provider');
  });

  test('cut drops the connection half-way through, as a network error', async (t) => {
    mockTimers(t);
    const out = await run(t, request('cut-ttft-10ms-tps-1000'));
    assert.equal(classifyError(out.error).kind, 'network');
    assert.equal(out.events.filter((e) => e.type === 'text').length, 32);
  });

  test('stall sends one chunk and then nothing until aborted, then throws the abort reason', async (t) => {
    mockTimers(t);
    const controller = new AbortController();
    const reason = new Error('stall timeout');
    const { out, consumed, isDone } = await drive(t, streamMock(request('stall-ttft-10ms', { signal: controller.signal })), {
      untilMs: 5000,
    });
    assert.equal(isDone(), false);
    assert.equal(out.events.filter((e) => e.type === 'text').length, 1);
    controller.abort(reason);
    await consumed;
    assert.equal(out.error, reason);
  });

  test('an abort during the wait for the first token ends the stream at once', async (t) => {
    mockTimers(t);
    const controller = new AbortController();
    const { out, consumed } = await drive(t, streamMock(request('ttft-10s', { signal: controller.signal })), {
      onTick: (ms) => ms === 100 && controller.abort(),
    });
    await consumed;
    assert.equal((out.error as Error).name, 'AbortError');
    assert.equal(out.endT, 100);
  });
});
