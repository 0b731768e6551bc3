// The stored documents against an adversarial fake (test/fakes/wire-server.ts) in each wire
// format, through the real SDKs, adapters, call.ts and measure.ts: decode speed and TTFT
// against the truth the fake took from its own send times, the stall watch on wire
// activity, the stream edge cases of SPEC 5, the reasoning counts, warm lanes and aborts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { benchmarkModel, type CallOutcome } from '../../lib/bench/call.ts';
import { systemClock } from '../../lib/bench/clock.ts';
import type { SweepModel } from '../../lib/bench/due.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { loadConfig, type ProviderName } from '../../lib/config.ts';
import type { ErrorDoc, MetricDoc } from '../../lib/store/documents.ts';
import { setEnv } from '../set-env.ts';
import {
  anthropic,
  bedrock,
  chat,
  gemini,
  responses,
  sse,
  startWireServer,
  trueDecodeRate,
  trueTtftMs,
  type CaseFor,
  type WireServer,
  type WireWrite,
} from '../fakes/wire-server.ts';

const execFileAsync = promisify(execFile);

type Format = 'chat' | 'responses' | 'anthropic' | 'gemini' | 'bedrock';

const FORMAT: Record<Format, { provider: ProviderName; modelId: string; env: (url: string) => Record<string, string> }> = {
  chat: { provider: 'groq', modelId: 'llama-3.3-70b-versatile', env: (u) => ({ GROQ_API_KEY: 'gsk-test', GROQ_BASE_URL: `${u}/openai/v1` }) },
  responses: { provider: 'openai', modelId: 'gpt-4o-mini', env: (u) => ({ OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: `${u}/v1` }) },
  anthropic: { provider: 'anthropic', modelId: 'claude-sonnet-4-5', env: (u) => ({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: u }) },
  gemini: {
    provider: 'vertex',
    modelId: 'gemini-2.5-flash',
    env: (u) => ({ VERTEX_PROJECT: 'proj', VERTEX_ACCESS_TOKEN: 'ya29.test', VERTEX_BASE_URL: u }),
  },
  bedrock: { provider: 'bedrock', modelId: 'us.deepseek.r1-v1:0', env: (u) => ({ AWS_ENDPOINT_URL_BEDROCK_RUNTIME: u }) },
};

let restore: Record<string, string | undefined> = {};
before(() => {
  // The AWS SDK reads credentials from the environment; never a real profile.
  restore = setEnv({
    AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST',
    AWS_SECRET_ACCESS_KEY: 'test-secret',
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
});
after(() => void setEnv(restore));

const servers: WireServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

interface Run {
  server: WireServer;
  outcome: CallOutcome;
  metric: MetricDoc;
  error: ErrorDoc | null;
}

/** One call of `format`'s model against a fresh fake playing `caseFor`, as the sweep makes it. */
async function call(format: Format, caseFor: CaseFor, o: { env?: Record<string, string>; modelId?: string; signal?: AbortSignal } = {}): Promise<Run> {
  const server = await startWireServer(caseFor, { http2: format === 'bedrock' });
  servers.push(server);
  const f = FORMAT[format];
  const config = loadConfig({ env: { RUNNER_NAME: 'test', BENCH_MAX_RETRY_DELAY_MS: '0', ...f.env(server.baseUrl), ...o.env }, dotenvPath: false });
  const model: SweepModel = { provider: f.provider, modelId: o.modelId ?? f.modelId };
  const outcome = await benchmarkModel(model, loadProvider(f.provider), {
    config,
    clock: { ...systemClock, sleep: async () => {} },
    sweepSignal: o.signal ?? new AbortController().signal,
    sweepStartedAt: new Date(),
  });
  return { server, outcome, metric: outcome.metric as MetricDoc, error: outcome.error };
}

const always = (writes: WireWrite[], extra: { status?: number; contentType?: string } = {}): CaseFor => () => ({ writes, ...extra });
const toks = (n: number) => ' tok'.repeat(n);

/** n one-token visible writes every `gapMs` from `fromMs`, encoded by `enc`. */
function visible(n: number, fromMs: number, gapMs: number, enc: (text: string) => string | Uint8Array, tokens = 1): WireWrite[] {
  return Array.from({ length: n }, (_, i) => ({ atMs: fromMs + i * gapMs, data: enc(toks(tokens)), visible: tokens }));
}

function assertOk(r: Run): MetricDoc {
  assert.equal(r.outcome.outcome, 'ok', String(r.error?.message));
  return r.metric;
}

/**
 * Near the truth the fake took from its send times. The 2 % of issue #11 is measured by
 * `node --import tsx test/perf/decode-cases.ts` on a quiet machine; here the fake and the client
 * share a loaded CI machine, where one 10 ms scheduling delay is 3 % of a 300 ms span (seen:
 * 3.49 %). 10 % still refuses the old formula, which was 31 % to 14x off in every case.
 */
const DECODE_TOLERANCE = 0.1;
function assertDecodeNearTruth(r: Run): void {
  const m = assertOk(r);
  const truth = trueDecodeRate(r.server.exchanges.at(-1)!);
  assert.ok(m.decode_tokens_per_second !== null, 'decode speed measured');
  const err = Math.abs(m.decode_tokens_per_second - truth) / truth;
  assert.ok(err <= DECODE_TOLERANCE, `decode ${m.decode_tokens_per_second.toFixed(1)} tokens/s vs true ${truth.toFixed(1)} (${(err * 100).toFixed(2)} %)`);
}

describe('decode speed counts only what streamed after the first delta (near the send-time truth)', () => {
  test('OpenAI chat: four chunks of 16 tokens 100 ms apart decode at 160 tokens/s, not 210', async () => {
    const r = await call('chat', always([...visible(4, 50, 100, (t) => chat.delta({ content: t }), 16), { atMs: 360, data: chat.delta({}, 'stop') + chat.usage(64) + chat.done }]));
    assertDecodeNearTruth(r);
    assert.equal(r.metric.output_tokens, 64);
    assert.equal(r.metric.visible_output_tokens, 64);
  });

  test('OpenAI chat: 200 hidden reasoning tokens reported and never streamed stay out of decode speed', async () => {
    const r = await call('chat', always([...visible(16, 300, 20, (t) => chat.delta({ content: t })), { atMs: 620, data: chat.delta({}, 'stop') + chat.usage(216, 200) + chat.done }]));
    assertDecodeNearTruth(r);
    assert.equal(r.metric.reasoning_tokens, 200);
    assert.equal(r.metric.visible_output_tokens, 16);
  });

  test('OpenAI Responses: 200 hidden reasoning + 16 visible at 50 tokens/s decode at 50, not 717', async () => {
    const r = await call('responses', always([{ atMs: 5, data: responses.created }, ...visible(16, 300, 20, responses.text), { atMs: 620, data: responses.completed(216, 200) }]));
    assertDecodeNearTruth(r);
    assert.equal(r.metric.visible_output_tokens, 16);
  });

  test('OpenAI Responses budget retry: only the second answer is measured, its hidden reasoning out of decode speed', async () => {
    const incomplete = sse(
      {
        type: 'response.incomplete',
        sequence_number: 3,
        response: { id: 'resp_w0', object: 'response', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [], usage: { input_tokens: 14, output_tokens: 128, output_tokens_details: { reasoning_tokens: 128 }, total_tokens: 142 } },
      },
      'response.incomplete',
    );
    const r = await call('responses', (_ex, i) =>
      i === 0
        ? { writes: [{ atMs: 5, data: responses.created }, { atMs: 50, data: incomplete }] }
        : { writes: [{ atMs: 5, data: responses.created }, ...visible(16, 200, 20, responses.text), { atMs: 520, data: responses.completed(216, 200) }] },
    { modelId: 'gpt-5-mini' });
    assertDecodeNearTruth(r);
    assert.equal(r.server.exchanges.length, 2);
    assert.equal(r.metric.requested_tokens, 512);
  });

  test('Anthropic: streamed thinking without a reported split counts by the tokenizer, and says so', async () => {
    const thinking: WireWrite[] = Array.from({ length: 8 }, (_, i) => ({ atMs: 50 + i * 20, data: anthropic.thinking(' think'.repeat(5)), reasoning: 5 }));
    const r = await call('anthropic', always([{ atMs: 5, data: anthropic.start }, ...thinking, ...visible(16, 220, 20, (t) => anthropic.text(t, 1)), { atMs: 540, data: anthropic.end(56) }]), {
      env: { BENCH_MAX_TOKENS: '56' },
    });
    assertDecodeNearTruth(r);
    assert.equal(r.metric.token_source, 'provider_usage_tokenizer_split');
    assert.equal(r.metric.reasoning_tokens, 40);
    assert.equal(r.metric.visible_output_tokens, 16);
  });

  test('Gemini: thoughtsTokenCount 200 never streamed stays out of decode speed', async () => {
    const writes = visible(16, 300, 20, (t) => gemini.chunk([{ text: t }]));
    writes.push({ atMs: 620, data: gemini.chunk([], { finish: 'STOP', candidates: 16, thoughts: 200 }) });
    const r = await call('gemini', always(writes));
    assertDecodeNearTruth(r);
    assert.equal(r.metric.reasoning_tokens, 200);
    assert.equal(r.metric.visible_output_tokens, 16);
  });

  test('Bedrock: hidden reasoning inside outputTokens stays out of decode speed and the visible count', async () => {
    const r = await call('bedrock', always([{ atMs: 5, data: bedrock.start() }, ...visible(16, 300, 20, bedrock.text), { atMs: 620, data: bedrock.end(216) }]), {
      env: { BENCH_MAX_TOKENS: '216' },
    });
    assertDecodeNearTruth(r);
    assert.equal(r.metric.visible_output_tokens, 16);
    assert.equal(r.metric.reasoning_tokens, 200);
    assert.equal(r.metric.token_source, 'provider_usage_tokenizer_split');
  });
});

describe('generate_time ends at the last text, reasoning or finish event', () => {
  test('a usage chunk 600 ms after the finish does not stretch it', async () => {
    const r = await call('chat', always([...visible(4, 50, 20, (t) => chat.delta({ content: t })), { atMs: 120, data: chat.delta({}, 'stop') }, { atMs: 720, data: chat.usage(4) + chat.done }]));
    const m = assertOk(r);
    const ex = r.server.exchanges[0]!;
    const finishSent = ex.sent[4]!.at - ex.arrivedAt;
    // Half-way to the usage: the client may read the finish late on a loaded machine (a 10 ms
    // timer fired up to 143 ms late with the load average at 5-9, README Testing), not 300 ms.
    assert.ok(m.generate_time * 1000 < finishSent + 300, `generate_time ${m.generate_time} s ends near the finish (${finishSent.toFixed(0)} ms), not the usage`);
  });
});

describe('the stall watch counts silence on the wire', () => {
  // Wire activity every 100 ms against a 500 ms limit: only a pause of 400 ms could fire it
  // (a 10 ms timer fired up to 143 ms late with the load average at 5-9, README Testing).
  const stall = { BENCH_STALL_TIMEOUT_MS: '500', BENCH_MAX_ATTEMPTS: '1' };
  const every = (data: string, fromMs: number, toMs: number): WireWrite[] =>
    Array.from({ length: Math.floor((toMs - fromMs) / 100) }, (_, i) => ({ atMs: fromMs + i * 100, data }));

  test('Anthropic pings every 100 ms keep a 500 ms stall limit from firing', async () => {
    const r = await call('anthropic', always([{ atMs: 5, data: anthropic.start }, ...every(anthropic.ping, 100, 800), ...visible(4, 800, 10, (t) => anthropic.text(t)), { atMs: 850, data: anthropic.end(4) }]), {
      env: { ...stall, BENCH_MAX_TOKENS: '4' },
    });
    assertOk(r);
  });

  test('empty chat deltas every 100 ms keep it from firing', async () => {
    const r = await call('chat', always([...every(chat.delta({ content: '' }), 50, 750), ...visible(4, 750, 10, (t) => chat.delta({ content: t })), { atMs: 800, data: chat.delta({}, 'stop') + chat.usage(4) + chat.done }]), { env: stall });
    assertOk(r);
  });

  test('SSE keep-alive comments, which the SDK drops, keep it from firing (chat and Responses)', async () => {
    const keepAlive = every(': keep-alive\n\n', 50, 750);
    const a = await call('chat', always([...keepAlive, ...visible(4, 750, 10, (t) => chat.delta({ content: t })), { atMs: 800, data: chat.delta({}, 'stop') + chat.usage(4) + chat.done }]), { env: stall });
    assertOk(a);
    const b = await call('responses', always([{ atMs: 5, data: responses.created }, ...keepAlive, ...visible(4, 750, 10, responses.text), { atMs: 800, data: responses.completed(4, 0) }]), { env: stall });
    assertOk(b);
  });

  test('SSE keep-alive comments keep a Gemini stream alive too', async () => {
    const keepAlive = every(': keep-alive\r\n\r\n', 50, 750);
    const writes = [...keepAlive, ...visible(4, 750, 10, (t) => gemini.chunk([{ text: t }])), { atMs: 800, data: gemini.chunk([], { finish: 'STOP', candidates: 4 }) }];
    assertOk(await call('gemini', always(writes), { env: stall }));
  });

  test('true silence still ends as a timeout', async () => {
    const r = await call('chat', always([...visible(2, 50, 10, (t) => chat.delta({ content: t })), { atMs: 1500, data: chat.delta({}, 'stop') + chat.usage(4) + chat.done }]), { env: stall });
    assert.equal(r.error?.error_kind, 'timeout');
  });
});

describe('stream edge cases (SPEC 5)', () => {
  test('a chat stream with text, usage and [DONE] but no finish_reason is a complete answer', async () => {
    const r = await call('chat', always([...visible(4, 50, 10, (t) => chat.delta({ content: t })), { atMs: 100, data: chat.usage(4) + chat.done }]));
    const m = assertOk(r);
    assert.equal(m.finish_reason, null);
    assert.equal(m.output_tokens, 4);
  });

  test('finish_reason "error" after 5 tokens is a failure, not a success', async () => {
    const r = await call('chat', always([...visible(5, 50, 10, (t) => chat.delta({ content: t })), { atMs: 110, data: chat.delta({}, 'error') + chat.usage(5) + chat.done }]));
    assert.equal(r.outcome.outcome, 'failed');
    assert.equal(r.error?.error_kind, 'transient_provider');
  });

  const good: Record<'chat' | 'responses' | 'anthropic', WireWrite[]> = {
    chat: [...visible(4, 20, 10, (t) => chat.delta({ content: t })), { atMs: 70, data: chat.delta({}, 'stop') + chat.usage(4) + chat.done }],
    responses: [{ atMs: 5, data: responses.created }, ...visible(4, 20, 10, responses.text), { atMs: 70, data: responses.completed(4, 0) }],
    anthropic: [{ atMs: 5, data: anthropic.start }, ...visible(4, 20, 10, (t) => anthropic.text(t)), { atMs: 70, data: anthropic.end(4) }],
  };
  const firstEventError: Record<'chat' | 'responses' | 'anthropic', string> = {
    chat: sse({ error: { message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: 'server_error' } }),
    responses: responses.created + responses.error('server_error', 'The server had an error processing your request.'),
    anthropic: anthropic.error('overloaded_error', 'Overloaded'),
  };
  for (const format of ['chat', 'responses', 'anthropic'] as const) {
    test(`${format}: an HTTP 200 whose first event is an error is retried like the HTTP error it carries`, async () => {
      const r = await call(format, (_ex, i) => ({ writes: i === 0 ? [{ atMs: 5, data: firstEventError[format] }] : good[format] }), { env: { BENCH_MAX_TOKENS: '4' } });
      assertOk(r);
      assert.equal(r.server.exchanges.length, 2);
      assert.equal(r.metric.attempts_count, 2);
    });
  }

  const html = '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>';
  for (const format of ['chat', 'responses', 'anthropic', 'gemini', 'bedrock'] as const) {
    test(`${format}: an HTTP 200 HTML page is the provider's fault (transient_provider), never network`, async () => {
      const r = await call(format, always([{ atMs: 5, data: html }], { contentType: 'text/html' }), { env: { BENCH_MAX_ATTEMPTS: '1' } });
      assert.equal(r.error?.error_kind, 'transient_provider', String(r.error?.message));
      assert.equal(r.error?.http_status, 200);
    });
  }

  test('an HTTP 200 carrying a complete non-streamed answer is hard_capability, not retried', async () => {
    const body = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'Once upon a time' }, finish_reason: 'stop' }], usage: { prompt_tokens: 14, completion_tokens: 4, total_tokens: 18 } });
    const r = await call('chat', always([{ atMs: 5, data: body }], { contentType: 'application/json' }));
    assert.equal(r.error?.error_kind, 'hard_capability');
    assert.equal(r.server.exchanges.length, 1);
    const resp = await call('responses', always([{ atMs: 5, data: JSON.stringify({ id: 'resp_1', object: 'response', status: 'completed', output: [] }) }], { contentType: 'application/json' }));
    assert.equal(resp.error?.error_kind, 'hard_capability');
  });

  test('<think>…</think> at the start of content is reasoning: TTFT is the first token after it', async () => {
    const writes: WireWrite[] = [
      { atMs: 20, data: chat.delta({ content: '<thi' }) },
      { atMs: 40, data: chat.delta({ content: 'nk> Let me' }), reasoning: 2 },
      { atMs: 60, data: chat.delta({ content: ' plan this</th' }), reasoning: 2 },
      { atMs: 300, data: chat.delta({ content: 'ink>\n\nOnce' }), visible: 1 },
      ...visible(7, 320, 20, (t) => chat.delta({ content: t })),
      { atMs: 480, data: chat.delta({}, 'stop') + chat.usage(16) + chat.done },
    ];
    const r = await call('chat', always(writes));
    const m = assertOk(r);
    const ex = r.server.exchanges[0]!;
    assert.ok(m.time_to_first_token !== null && m.time_to_first_reasoning_token !== null);
    assert.ok(m.time_to_first_token * 1000 >= trueTtftMs(ex) - 1, `TTFT ${m.time_to_first_token} s is the first visible token, after the reasoning`);
    assert.ok(m.time_to_first_reasoning_token < m.time_to_first_token);
    assert.ok((m.reasoning_tokens ?? 0) > 0);
  });
});

describe('warm lanes (SPEC 5: warm before the clock starts)', () => {
  // Each sweep is a new process, so each run is one: test/fakes/lane-probe.ts sweeps a lane of
  // five models and reports each row's TTFT error against the fake's send-time truth. The
  // first call's gap to the later ones is compared with the same lane's gap without the
  // warm-up, measured in turn, so both see the same load. Measured 2026-12-07 with a load
  // average of 4-7 (README, Testing): medians of seven processes 0.1-14 ms warm (4 of 9 above
  // the fixed 2 ms this test asserted before), 15-51 ms cold.
  const probe = new URL('../fakes/lane-probe.ts', import.meta.url).pathname;
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

  /** The first call's TTFT error minus the median of the later calls', in one fresh process. */
  async function firstCallGap(format: 'chat' | 'anthropic' | 'bedrock', cold: boolean): Promise<number> {
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', probe, format, ...(cold ? ['--cold'] : [])], { timeout: 60_000 });
    const out = JSON.parse(stdout.trim().split('\n').at(-1)!) as { firstRequest: string; rows: Array<{ ttftErrMs: number; reused: boolean }>; errors: string[] };
    assert.deepEqual(out.errors, []);
    if (!cold) {
      assert.match(out.firstRequest, /^GET /, 'the warm-up request came first');
      assert.deepEqual(out.rows.map((r) => r.reused), [true, true, true, true, true]);
    }
    const errs = out.rows.map((r) => r.ttftErrMs);
    return errs[0]! - median(errs.slice(1));
  }

  for (const format of ['chat', 'anthropic', 'bedrock'] as const) {
    test(`${format}: the first call of a lane is timed warm, on a connection already open, its TTFT gap to the later calls within 2 ms or under half of the gap without the warm-up`, async () => {
      const warm: number[] = [];
      const cold: number[] = [];
      for (let run = 0; run < 5; run++) {
        warm.push(await firstCallGap(format, false));
        cold.push(await firstCallGap(format, true));
      }
      const ms = (xs: number[]) => xs.map((g) => g.toFixed(1)).join(', ');
      // Within SPEC 5's 2 ms, or, on a machine too loaded for that, under half the cold gap.
      // Since the clock starts at the request's send (measure.ts), opening the connection is
      // outside TTFT warm or cold, and Bedrock's cold gap is ~1 ms too (0.4-1.4 ms measured).
      assert.ok(
        median(warm) <= 2 || median(warm) < median(cold) / 2,
        `first call minus later calls, off the truth: warm ${ms(warm)} ms; without the warm-up ${ms(cold)} ms`,
      );
    });
  }
});

describe('aborted calls (SIGINT, SIGTERM)', () => {
  test('a call in flight when the sweep is aborted from outside is recorded as aborted, not timeout', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('SIGTERM')), 150);
    const r = await call('chat', always([...visible(2, 50, 10, (t) => chat.delta({ content: t })), { atMs: 2000, data: chat.delta({}, 'stop') + chat.usage(4) + chat.done }]), {
      signal: controller.signal,
    });
    assert.equal(r.error?.error_kind, 'aborted');
  });
});
