import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProviderName } from '../../lib/config.ts';
import { buildMetric, countTokens, evaluateCall, percentiles, validateMetric, type MeasureContext } from '../../lib/bench/measure.ts';
import type { StreamEvent, Usage } from '../../lib/bench/provider-stream.ts';
import { makeMetric } from '../fixtures.ts';

// Event times are a hand-written monotonic clock in ms; the wall clock is 2026-11-20T10:00:00Z
// at monotonic 0, so run_ts is exact.
const WALL0 = Date.parse('2026-11-20T10:00:00.000Z');

function ctx(overrides: Partial<MeasureContext> = {}): MeasureContext {
  return {
    provider: 'groq',
    modelId: 'llama-3.3-70b-versatile',
    runId: 'run-1',
    profileId: 'cloud-default-v1',
    runner: 'test-runner',
    wallOffsetMs: WALL0,
    fallbackMaxTokens: 64,
    ...overrides,
  };
}

function request(t: number, o: Partial<Extract<StreamEvent, { type: 'request' }>> = {}): StreamEvent {
  return { type: 'request', t, mode: 'openai_chat_stream', maxTokens: 64, temperature: 0.1, reasoningEffort: null, applied: {}, ...o };
}
const text = (t: number, s = ' tok'): StreamEvent => ({ type: 'text', t, text: s });
const reasoning = (t: number, s = ' think'): StreamEvent => ({ type: 'reasoning', t, text: s });
// ' tok' and ' think' are one token each in o200k, so n of them are n tokens.
const toks = (n: number) => ' tok'.repeat(n);
const thinks = (n: number) => ' think'.repeat(n);
const firstByte = (t: number): StreamEvent => ({ type: 'first_byte', t });
function usage(t: number, u: Partial<Usage>): StreamEvent {
  return {
    type: 'usage',
    t,
    usage: { inputTokens: null, outputTokens: null, reasoningTokens: null, cachedInputTokens: null, totalTokens: null, raw: u, ...u },
  };
}
function finish(t: number, reason: string | null = 'stop', o: Partial<Extract<StreamEvent, { type: 'finish' }>> = {}): StreamEvent {
  return { type: 'finish', t, reason, rawReason: reason === 'length' ? 'max_tokens' : 'end_turn', responseId: 'resp-1', providerLatencyMs: null, ...o };
}

/** A plain answer: request at 1000, first byte 1150, 1 + 31 + 32 tokens at 1200, 1300, 1500, usage 64, finish 1560, end 1600. */
function plainEvents(): StreamEvent[] {
  return [
    request(1000),
    firstByte(1150),
    text(1200, toks(1)),
    text(1300, toks(31)),
    text(1500, toks(32)),
    usage(1550, { inputTokens: 14, outputTokens: 64, totalTokens: 78 }),
    finish(1560, 'length'),
  ];
}

const near = (actual: number | null, expected: number, what: string) => {
  assert.ok(actual !== null, `${what} is null`);
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: ${actual} != ${expected}`);
};

describe('buildMetric timings', () => {
  test('measures TTFT and TTFB from the request event, and generate_time to the finish, not the end of the stream', async () => {
    const m = await buildMetric({ events: plainEvents(), startT: 990, endT: 1600 }, ctx());
    near(m.generate_time, 0.56, 'generate_time');
    near(m.time_to_first_token, 0.2, 'time_to_first_token');
    near(m.time_to_first_byte, 0.15, 'time_to_first_byte');
    assert.equal(m.time_to_first_reasoning_token, null);
    assert.equal(m.ttft_available, true);
    assert.deepEqual(m.run_ts, new Date(WALL0 + 1000));
    assert.deepEqual(m.gen_ts, new Date(WALL0 + 1560));
  });

  test('does not stretch generate_time with a usage-only event after the finish', async () => {
    const events = [request(0), text(100, toks(2)), text(200, toks(2)), finish(300), usage(900, { outputTokens: 4 })];
    const m = await buildMetric({ events, startT: 0, endT: 1000 }, ctx());
    near(m.generate_time, 0.3, 'generate_time');
  });

  test('starts the clock when the request’s last byte went to the socket (connection.sentAt), else at the request event', async () => {
    // The SDK built the request at 1000; the loop sent its body at 1012; headers at 1100.
    const events: StreamEvent[] = [request(1000), { type: 'connection', t: 1100, reused: true, sentAt: 1012 }, text(1200, toks(4)), text(1300, toks(4)), usage(1310, { outputTokens: 8 })];
    const sent = await buildMetric({ events, startT: 990, endT: 1400 }, ctx());
    near(sent.time_to_first_token, 0.188, 'time_to_first_token from the send');
    near(sent.generate_time, 0.288, 'generate_time from the send');
    assert.equal(sent.run_ts.getTime(), WALL0 + 1012);
    const unseen: StreamEvent[] = [request(1000), { type: 'connection', t: 1100, reused: true, sentAt: null }, text(1200, toks(4)), text(1300, toks(4)), usage(1310, { outputTokens: 8 })];
    near((await buildMetric({ events: unseen, startT: 990, endT: 1400 }, ctx())).time_to_first_token, 0.2, 'time_to_first_token from the request event');
  });

  test('derives tokens/s from provider usage over generate_time, and decode tokens/s over the delta span', async () => {
    const m = await buildMetric({ events: plainEvents(), startT: 990, endT: 1600 }, ctx());
    assert.equal(m.output_tokens, 64);
    assert.equal(m.token_source, 'provider_usage');
    near(m.tokens_per_second, 64 / 0.56, 'tokens_per_second');
    assert.equal(m.generated_tokens_per_second, m.tokens_per_second);
    // The 63 tokens after the first delta at 1200, over the span to the last at 1500.
    near(m.decode_tokens_per_second, 63 / 0.3, 'decode_tokens_per_second');
    assert.equal(m.visible_output_tokens, 64);
    near(m.visible_tokens_per_second, 64 / 0.56, 'visible_tokens_per_second');
    // The 64th visible token arrived with the last chunk.
    near(m.time_to_64_visible_tokens_seconds ?? null, 0.5, 'time_to_64_visible_tokens_seconds');
    assert.equal(m.input_tokens, 14);
    assert.equal(m.total_tokens, 78);
    assert.equal(m.cached_input_tokens, null);
  });

  test('records chunk gaps as seconds, chunk_count and inter-chunk percentiles in ms', async () => {
    const m = await buildMetric({ events: plainEvents(), startT: 990, endT: 1600 }, ctx());
    assert.equal(m.chunk_count, 3);
    assert.deepEqual(m.times_between_tokens, [0.1, 0.2]);
    assert.deepEqual(m.inter_chunk_ms, { p50: 150, p90: 190, p99: 199, max: 200 });
  });

  test('takes the first event as first byte when the adapter sent no first_byte', async () => {
    const events = [request(0), text(80), text(90), usage(95, { outputTokens: 2 }), finish(95)];
    const m = await buildMetric({ events, startT: 0, endT: 100 }, ctx());
    near(m.time_to_first_byte, 0.08, 'time_to_first_byte');
  });

  test('records the request, finish and quirks the adapter reported', async () => {
    const events = [
      request(0, { mode: 'openai_responses_stream', maxTokens: 128, temperature: null, reasoningEffort: 'low', applied: { omit_temperature: true } }),
      text(10),
      text(20),
      usage(30, { outputTokens: 128 }),
      finish(30, 'stop', { responseId: 'resp_abc', providerLatencyMs: 412 }),
    ];
    const m = await buildMetric({ events, startT: 0, endT: 40 }, ctx({ provider: 'openai', modelId: 'o4-mini' }));
    assert.equal(m.request_mode, 'openai_responses_stream');
    assert.equal(m.requested_tokens, 128);
    assert.equal(m.temperature, null);
    assert.equal(m.reasoning_effort, 'low');
    assert.deepEqual(m.misc, { omit_temperature: true });
    assert.equal(m.finish_reason, 'stop');
    assert.equal(m.raw_finish_reason, 'end_turn');
    assert.equal(m.response_id, 'resp_abc');
    assert.equal(m.provider_latency_ms, 412);
    assert.equal(m.metrics_schema_version, 2);
    assert.equal(m.run_id, 'run-1');
    assert.equal(m.benchmark_profile_id, 'cloud-default-v1');
    assert.equal(m.runner, 'test-runner');
    assert.equal(m.provider, 'openai');
    assert.equal(m.model_name, 'o4-mini');
    assert.equal(m.mock, undefined);
  });

  test('gives null TTFT, decode speed and gaps when nothing visible or only one delta streamed', async () => {
    const one = await buildMetric(
      { events: [request(0), text(50, ' hello'), usage(60, { outputTokens: 1 }), finish(60)], startT: 0, endT: 70 },
      ctx(),
    );
    assert.equal(one.decode_tokens_per_second, null);
    assert.deepEqual(one.inter_chunk_ms, { p50: null, p90: null, p99: null, max: null });
    assert.deepEqual(one.times_between_tokens, []);

    const none = await buildMetric({ events: [request(0), firstByte(20), usage(60, { outputTokens: 5 }), finish(60, 'length')], startT: 0, endT: 70 }, ctx());
    assert.equal(none.time_to_first_token, null);
    assert.equal(none.ttft_available, false);
    assert.equal(none.chunk_count, 0);
  });

  test('gives null decode speed when all deltas arrived at the same instant', async () => {
    const m = await buildMetric({ events: [request(0), text(50), text(50), usage(50, { outputTokens: 2 }), finish(50)], startT: 0, endT: 60 }, ctx());
    assert.equal(m.decode_tokens_per_second, null);
  });

  test('skips empty deltas', async () => {
    const m = await buildMetric(
      { events: [request(0), text(10, ''), text(30), text(40), usage(50, { outputTokens: 2 }), finish(50)], startT: 0, endT: 60 },
      ctx(),
    );
    assert.equal(m.chunk_count, 2);
    near(m.time_to_first_token, 0.03, 'time_to_first_token');
  });
});

describe('buildMetric for calls that finish together', () => {
  test('counts each call as it would alone, however their counting interleaves', async () => {
    // Long answers without usage: the tokenizer counts every chunk, over several turns of the loop.
    const answer = (k: number): StreamEvent[] => [
      request(0),
      ...Array.from({ length: 3000 }, (_, i) => text(100 + i, toks(1 + ((i * (k + 1)) % 5)))),
      finish(3200),
    ];
    const calls = [0, 1, 2, 3, 4, 5].map((k) => ({ events: answer(k), startT: 0, endT: 3300 }));
    const alone: Array<[number | null, number | null]> = [];
    for (const call of calls) {
      const m = await buildMetric(call, ctx());
      alone.push([m.output_tokens, m.decode_tokens_per_second]);
    }
    const together = await Promise.all(calls.map((call) => buildMetric(call, ctx())));
    assert.deepEqual(together.map((m) => [m.output_tokens, m.decode_tokens_per_second]), alone);
    assert.equal(together[0]!.token_source, 'tokenizer');
  });
});

describe('buildMetric with reasoning', () => {
  const events = [
    request(0),
    firstByte(100),
    reasoning(200, thinks(20)),
    reasoning(300, thinks(20)),
    text(600, toks(12)),
    text(700, toks(12)),
    usage(800, { outputTokens: 64, reasoningTokens: 40 }),
    finish(800),
  ];

  test('times the first reasoning token apart from the first visible one', async () => {
    const m = await buildMetric({ events, startT: 0, endT: 1000 }, ctx({ provider: 'anthropic' }));
    near(m.time_to_first_reasoning_token, 0.2, 'time_to_first_reasoning_token');
    near(m.time_to_first_token, 0.6, 'time_to_first_token');
    near(m.time_to_first_byte, 0.1, 'time_to_first_byte');
  });

  test('counts visible tokens as output minus reasoning and decode speed over reasoning and text deltas', async () => {
    const m = await buildMetric({ events, startT: 0, endT: 1000 }, ctx({ provider: 'anthropic' }));
    assert.equal(m.reasoning_tokens, 40);
    assert.equal(m.visible_output_tokens, 24);
    near(m.visible_tokens_per_second, 24 / 0.8, 'visible_tokens_per_second');
    near(m.tokens_per_second, 64 / 0.8, 'tokens_per_second');
    // All but the first chunk's 20 reasoning tokens, from the first delta (200) to the last (700).
    near(m.decode_tokens_per_second, 44 / 0.5, 'decode_tokens_per_second');
    assert.equal(m.chunk_count, 4);
    assert.equal(m.time_to_64_visible_tokens_seconds, null);
  });

  test('splits by the tokenizer over the streamed thinking when the count was not reported, and says so', async () => {
    const noCount = events.map((e) => (e.type === 'usage' ? usage(e.t, { outputTokens: 64 }) : e));
    const m = await buildMetric({ events: noCount, startT: 0, endT: 1000 }, ctx({ provider: 'anthropic' }));
    assert.equal(m.reasoning_tokens, 40);
    assert.equal(m.visible_output_tokens, 24);
    assert.equal(m.token_source, 'provider_usage_tokenizer_split');
  });

  test('counts a total far above what streamed as reasoning that never streamed (Bedrock reports no split)', async () => {
    const hidden = [request(0), text(1000, toks(1)), text(1100, toks(8)), text(1300, toks(7)), usage(1300, { outputTokens: 216 }), finish(1300)];
    const m = await buildMetric({ events: hidden, startT: 0, endT: 1400 }, ctx({ provider: 'bedrock' }));
    assert.equal(m.reasoning_tokens, 200);
    assert.equal(m.visible_output_tokens, 16);
    assert.equal(m.token_source, 'provider_usage_tokenizer_split');
    // Only the 15 visible tokens after the first chunk, over 0.3 s: never the 216.
    near(m.decode_tokens_per_second, 15 / 0.3, 'decode_tokens_per_second');
  });

  test('leaves hidden reasoning out of decode speed (OpenAI and Gemini report it, never stream it)', async () => {
    const hidden = [request(0), text(1000, toks(1)), text(1100, toks(8)), text(1300, toks(7)), usage(1300, { outputTokens: 216, reasoningTokens: 200 }), finish(1300)];
    const m = await buildMetric({ events: hidden, startT: 0, endT: 1400 }, ctx({ provider: 'openai' }));
    assert.equal(m.visible_output_tokens, 16);
    assert.equal(m.token_source, 'provider_usage');
    near(m.decode_tokens_per_second, 15 / 0.3, 'decode_tokens_per_second');
  });

  test('scales per-chunk tokenizer counts to the provider count of streamed tokens', async () => {
    // The provider's tokenizer found 20% more tokens than o200k in the same text.
    const events2 = [request(0), text(100, toks(10)), text(200, toks(10)), text(300, toks(10)), usage(300, { outputTokens: 36 }), finish(300)];
    const m = await buildMetric({ events: events2, startT: 0, endT: 400 }, ctx());
    near(m.decode_tokens_per_second, 24 / 0.2, 'decode_tokens_per_second');
  });
});

describe('buildMetric token counts without usage', () => {
  test('counts streamed text and reasoning with the tokenizer when the provider reported no output count', async () => {
    const words = ' Once upon a time';
    const thought = ' Let me think about the world';
    const events = [request(0), reasoning(10, thought), text(20, words), text(30, ' there was'), finish(40)];
    const m = await buildMetric({ events, startT: 0, endT: 50 }, ctx());
    const visible = await countTokens(words + ' there was');
    const hidden = await countTokens(thought);
    assert.equal(m.token_source, 'tokenizer');
    assert.equal(m.output_tokens, visible + hidden);
    assert.equal(m.reasoning_tokens, hidden);
    assert.equal(m.visible_output_tokens, visible);
    // Never the number of chunks: three chunks, more tokens.
    assert.notEqual(m.output_tokens, 3);
    assert.equal(visible, 6);
  });

  test('prefers a later usage event over an earlier partial one', async () => {
    const events = [
      request(0),
      usage(5, { inputTokens: 20, outputTokens: 1 }),
      text(10),
      text(20),
      usage(30, { outputTokens: 64 }),
      finish(30),
    ];
    const m = await buildMetric({ events, startT: 0, endT: 40 }, ctx());
    assert.equal(m.output_tokens, 64);
    assert.equal(m.input_tokens, 20);
  });
});

describe('buildMetric with a restarted request', () => {
  // An adapter that retried inside the call (OpenAI reasoning model: budget ran out, retried with more).
  const events = [
    request(0, { maxTokens: 128 }),
    firstByte(50),
    reasoning(60),
    usage(90, { outputTokens: 128, reasoningTokens: 128 }),
    finish(90, 'length'),
    request(1000, { maxTokens: 512 }),
    firstByte(1100),
    text(1200),
    text(1400),
    usage(1500, { outputTokens: 300, reasoningTokens: 200 }),
    finish(1500, 'stop'),
  ];

  test('measures from the last request only', async () => {
    const m = await buildMetric({ events, startT: 0, endT: 1600 }, ctx({ provider: 'openai' }));
    near(m.generate_time, 0.5, 'generate_time');
    near(m.time_to_first_token, 0.2, 'time_to_first_token');
    near(m.time_to_first_byte, 0.1, 'time_to_first_byte');
    assert.equal(m.time_to_first_reasoning_token, null);
    assert.equal(m.output_tokens, 300);
    assert.equal(m.reasoning_tokens, 200);
    assert.equal(m.requested_tokens, 512);
    assert.equal(m.chunk_count, 2);
    assert.equal(m.finish_reason, 'stop');
    assert.deepEqual(m.run_ts, new Date(WALL0 + 1000));
  });

  test('counts every request as an attempt, with the runner attempts before it, and keeps the largest budget', async () => {
    const m = await buildMetric({ events, startT: 0, endT: 1600 }, ctx({ provider: 'openai', previousAttempts: 2, previousMaxTokens: 1024 }));
    assert.equal(m.attempts_count, 4);
    assert.equal(m.max_output_tokens_attempted, 1024);
    const alone = await buildMetric({ events, startT: 0, endT: 1600 }, ctx({ provider: 'openai' }));
    assert.equal(alone.attempts_count, 2);
    assert.equal(alone.max_output_tokens_attempted, 512);
  });
});

describe('buildMetric for the mock provider', () => {
  test('marks the row and its misc as mock and says the counts are simulated', async () => {
    const events = [request(0, { mode: 'mock_stream', applied: { mock: true } }), text(10), text(20), usage(20, { outputTokens: 64 }), finish(20, 'length')];
    const m = await buildMetric({ events, startT: 0, endT: 30 }, ctx({ provider: 'mock', modelId: 'instant' }));
    assert.equal(m.mock, true);
    assert.equal(m.misc.mock, true);
    assert.equal(m.token_source, 'simulated');
    assert.equal(m.validation_policy, 'strict_pm10');
  });
});

describe('validation (SPEC 6)', () => {
  const strict: ProviderName[] = ['anthropic', 'bedrock', 'cerebras', 'mock'];
  const loose: ProviderName[] = ['openai', 'groq', 'together', 'deepinfra', 'fireworks', 'vertex'];

  test('applies strict_pm10 to providers that honour the budget and visible_nonzero to the rest', async () => {
    for (const provider of strict) {
      const m = await buildMetric({ events: plainEvents(), startT: 0, endT: 1600 }, ctx({ provider }));
      assert.equal(m.validation_policy, 'strict_pm10', provider);
    }
    for (const provider of loose) {
      const m = await buildMetric({ events: plainEvents(), startT: 0, endT: 1600 }, ctx({ provider }));
      assert.equal(m.validation_policy, 'visible_nonzero', provider);
    }
  });

  test('accepts a valid result', () => {
    assert.equal(validateMetric(makeMetric()), null);
    assert.equal(validateMetric(makeMetric({ validation_policy: 'strict_pm10', output_tokens: 58, requested_tokens: 64 })), null);
  });

  test('rejects a result with no output tokens', () => {
    const f = validateMetric(makeMetric({ output_tokens: 0, tokens_per_second: 0 }));
    assert.match(f?.message ?? '', /no output tokens/);
  });

  test('rejects tokens per second that is not positive or not finite', () => {
    assert.match(validateMetric(makeMetric({ tokens_per_second: 0 }))?.message ?? '', /tokens per second/);
    assert.match(validateMetric(makeMetric({ tokens_per_second: Infinity, generate_time: 0 }))?.message ?? '', /tokens per second/);
  });

  test('rejects no visible text as budget_exhausted when the budget ran out first, saying so', () => {
    const f = validateMetric(
      makeMetric({ ttft_available: false, time_to_first_token: null, finish_reason: 'length', reasoning_tokens: 64, requested_tokens: 64 }),
    );
    assert.equal(f?.kind, 'budget_exhausted');
    assert.match(f?.message ?? '', /budget of 64 ran out on 64 reasoning tokens before any visible text/);
  });

  test('rejects no visible text for another reason without calling it budget_exhausted', () => {
    const f = validateMetric(makeMetric({ ttft_available: false, time_to_first_token: null, finish_reason: 'content_filter' }));
    assert.notEqual(f?.kind, 'budget_exhausted');
    assert.match(f?.message ?? '', /no visible text \(finish reason content_filter/);
  });

  test("rejects a stream the provider ended with finish reason 'error', even after visible text", () => {
    const f = validateMetric(makeMetric({ finish_reason: 'error', raw_finish_reason: 'error' }));
    assert.equal(f?.kind, 'transient_provider');
    assert.match(f?.message ?? '', /ended the stream with finish reason error/);
  });

  test('rejects an output count more than 10% from the budget under strict_pm10 only', () => {
    const f = validateMetric(makeMetric({ validation_policy: 'strict_pm10', output_tokens: 80, requested_tokens: 64 }));
    assert.equal(f?.message, 'output_tokens 80 not within 10% of requested 64');
    assert.ok(validateMetric(makeMetric({ validation_policy: 'strict_pm10', output_tokens: 57, requested_tokens: 64 })));
    assert.equal(validateMetric(makeMetric({ validation_policy: 'visible_nonzero', output_tokens: 80, requested_tokens: 64 })), null);
  });

  test('evaluateCall turns a validation failure into an error document with stage validate', async () => {
    const events = [request(0), firstByte(10), reasoning(20), usage(90, { outputTokens: 64, reasoningTokens: 64 }), finish(90, 'length')];
    const out = await evaluateCall({ events, startT: 0, endT: 100 }, ctx({ provider: 'anthropic', modelId: 'claude-x' }));
    assert.equal(out.ok, false);
    assert.ok(!out.ok);
    assert.equal(out.error.stage, 'validate');
    assert.equal(out.error.error_kind, 'budget_exhausted');
    assert.equal(out.error.run_id, 'run-1');
    assert.equal(out.error.provider, 'anthropic');
    assert.match(out.error.message, /^Invalid result from anthropic\/claude-x: no visible text/);
    assert.equal(out.error.fingerprint.length, 64);
  });

  test('evaluateCall passes a valid call through', async () => {
    const out = await evaluateCall({ events: plainEvents(), startT: 0, endT: 1600 }, ctx());
    assert.ok(out.ok);
    assert.equal(out.metric.output_tokens, 64);
  });
});

test('percentiles interpolate between ranks', () => {
  assert.deepEqual(percentiles([10]), { p50: 10, p90: 10, p99: 10, max: 10 });
  const p = percentiles([4, 1, 3, 2]);
  assert.equal(p.p50, 2.5);
  assert.equal(p.max, 4);
  assert.ok(Math.abs(p.p90! - 3.7) < 1e-9);
});

describe('buildMetric provenance', () => {
  test('keeps the provider usage objects as reported, in order, and the sweep start', async () => {
    const sweepStartedAt = new Date('2026-11-20T09:59:00.000Z');
    const events = [
      request(1000),
      text(1200),
      usage(1210, { inputTokens: 14 }),
      text(1300),
      usage(1400, { outputTokens: 64 }),
      finish(1410),
    ];
    const m = await buildMetric({ events, startT: 990, endT: 1500 }, ctx({ sweepStartedAt }));
    assert.deepEqual(m.raw_usage, [{ inputTokens: 14 }, { outputTokens: 64 }]);
    assert.deepEqual(m.sweep_started_at, sweepStartedAt);
    const none = await buildMetric({ events: [request(0), text(10), finish(20)], startT: 0, endT: 30 }, ctx());
    assert.equal(none.raw_usage, null);
    assert.equal(none.sweep_started_at, null);
  });
});
