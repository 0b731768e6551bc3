import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig, type Config, type ProviderName } from '../../lib/config.ts';
import type { AgentRunDoc, ErrorDoc, MetricDoc } from '../../lib/store/documents.ts';
import { BenchError } from '../../lib/errors.ts';
import { UsageError } from '../../lib/cli.ts';
import { createLogger } from '../../lib/log.ts';
import type { ProviderRequest, ProviderStream, StreamEvent } from '../../lib/bench/provider-stream.ts';
import { streamMock } from '../../lib/bench/providers/mock.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import type { InsertResult } from '../../lib/store/store.ts';
import { systemClock, type SweepClock } from '../../lib/bench/clock.ts';
import { parseModelList, type SweepModel } from '../../lib/bench/due.ts';
import { formatResultLine, formatSummary } from '../../lib/bench/output.ts';
import { runSweep, summarize, sweepFailure, type SweepOptions } from '../../lib/bench/sweep.ts';

function config(env: Record<string, string> = {}): Config {
  return loadConfig({ env: { RUNNER_NAME: 'test-runner', ...env }, dotenvPath: false });
}

/** An in-memory sink that keeps a log of writes in order, shared with the fake adapters. */
class MemorySink {
  metrics: MetricDoc[] = [];
  errors: ErrorDoc[] = [];
  agentRuns: AgentRunDoc[] = [];
  constructor(
    readonly log: string[] = [],
    readonly failMetrics = false,
    readonly failErrors = false,
  ) {}
  async insertMetric(doc: MetricDoc): Promise<InsertResult> {
    if (this.failMetrics) throw new Error('disk I/O error');
    this.log.push(`stored ${doc.model_name}`);
    this.metrics.push(doc);
    return 'stored';
  }
  async insertError(doc: ErrorDoc): Promise<InsertResult> {
    if (this.failErrors) throw new Error('disk I/O error');
    this.log.push(`error ${doc.model_name}`);
    this.errors.push(doc);
    return 'stored';
  }
  async insertAgentRun(doc: AgentRunDoc): Promise<InsertResult> {
    this.log.push(`agent run ${doc.automation}`);
    this.agentRuns.push(doc);
    return 'stored';
  }
}

/** An HTTP-shaped SDK error, as the real SDKs throw (status + headers). */
function httpError(status: number, message: string, headers: Record<string, string> = {}) {
  return Object.assign(new Error(`${status} ${message}`), { status, headers: new Headers(headers) });
}

const tick = () => new Promise<void>((r) => setImmediate(r));

/** A well-behaved answer of `tokens` text deltas, one event loop turn apart, with usage. */
async function* answer(req: ProviderRequest, tokens = 64): AsyncGenerator<StreamEvent> {
  yield { type: 'request', t: req.now(), mode: 'fake', maxTokens: req.maxTokens, temperature: req.temperature, reasoningEffort: null, applied: {} };
  await tick();
  yield { type: 'first_byte', t: req.now() };
  for (let i = 0; i < 4; i++) {
    await tick();
    yield { type: 'text', t: req.now(), text: ' tok' };
  }
  const usage = { inputTokens: 10, outputTokens: tokens, reasoningTokens: null, cachedInputTokens: null, totalTokens: null, raw: {} };
  yield { type: 'usage', t: req.now(), usage };
  yield { type: 'finish', t: req.now(), reason: 'stop', rawReason: 'stop', responseId: 'r1', providerLatencyMs: null };
}

/** Waits until the request's signal aborts, then throws its reason (an adapter honouring its signal). */
function untilAborted(req: ProviderRequest): Promise<never> {
  return new Promise((_, reject) => {
    if (req.signal.aborted) reject(req.signal.reason);
    req.signal.addEventListener('abort', () => reject(req.signal.reason), { once: true });
  });
}

function sweep(o: Partial<SweepOptions> & { models: SweepModel[]; stream?: ProviderStream }): ReturnType<typeof runSweep> {
  const stream = o.stream ?? ((req: ProviderRequest) => answer(req));
  return runSweep({
    config: config(),
    sink: new MemorySink(),
    loadProvider: async () => stream,
    ...o,
  });
}

const model = (modelId: string, provider: ProviderName = 'groq', extra: Partial<SweepModel> = {}): SweepModel => ({ provider, modelId, ...extra });

/** The real clocks, with retry waits recorded instead of slept. */
function recordingClock(): SweepClock & { sleeps: number[] } {
  const sleeps: number[] = [];
  return { ...systemClock, sleeps, sleep: async (ms) => void sleeps.push(ms) };
}

describe('sweep freshness', () => {
  const now = Date.parse('2026-11-20T12:00:00Z');
  const clock: SweepClock = { ...systemClock, wallNow: () => now };
  const models = [
    model('fresh', 'groq', { lastSuccessAt: new Date(now - 10 * 60_000) }),
    model('stale', 'groq', { lastSuccessAt: new Date(now - 40 * 60_000) }),
    model('never', 'groq', { lastSuccessAt: null }),
  ];

  test('skips a model benchmarked within FRESH_MINUTES', async () => {
    const sink = new MemorySink();
    const { results, summary } = await sweep({ models, sink, clock });
    const byId = Object.fromEntries(results.map((r) => [r.modelId, r]));
    assert.equal(byId.fresh!.outcome, 'skipped_fresh');
    assert.match(byId.fresh!.skipReason ?? '', /10 min ago \(FRESH_MINUTES=30\)/);
    assert.equal(byId.stale!.outcome, 'ok');
    assert.equal(byId.never!.outcome, 'ok');
    assert.deepEqual(sink.metrics.map((m) => m.model_name).sort(), ['never', 'stale']);
    assert.equal(summary.skippedFresh, 1);
    assert.equal(summary.ran, 2);
  });

  test('runs fresh models too with force', async () => {
    const { summary } = await sweep({ models, clock, force: true });
    assert.equal(summary.ok, 3);
    assert.equal(summary.skippedFresh, 0);
  });

  test('freshness counts from the start of the sweep that measured the model, with a minute of timer slack', async () => {
    const { results } = await sweep({
      clock,
      models: [
        // Measured 20 minutes into the previous sweep, which started one period (30 min) ago: due.
        model('late-in-last-sweep', 'groq', { lastSuccessAt: new Date(now - 10 * 60_000), lastSweepStartedAt: new Date(now - 30 * 60_000) }),
        // The timer fired a few hundred ms early: still due.
        model('jitter', 'groq', { lastSuccessAt: new Date(now - 29 * 60_000), lastSweepStartedAt: new Date(now - 29.99 * 60_000) }),
        // A manual sweep 10 minutes ago: fresh.
        model('manual-run', 'groq', { lastSuccessAt: new Date(now - 9 * 60_000), lastSweepStartedAt: new Date(now - 10 * 60_000) }),
      ],
    });
    const byId = Object.fromEntries(results.map((r) => [r.modelId, r.outcome]));
    assert.deepEqual(byId, { 'late-in-last-sweep': 'ok', jitter: 'ok', 'manual-run': 'skipped_fresh' });
  });

  test('every metric records the sweep start', async () => {
    const sink = new MemorySink();
    await sweep({ models: [model('never', 'groq', { lastSuccessAt: null })], sink, clock });
    assert.deepEqual(sink.metrics[0]!.sweep_started_at, new Date(now));
  });
});

describe('sweep concurrency', () => {
  function tracking() {
    const active = new Map<string, number>();
    const peak = new Map<string, number>();
    const stream: ProviderStream = async function* (req) {
      const n = (active.get(req.provider) ?? 0) + 1;
      active.set(req.provider, n);
      peak.set(req.provider, Math.max(peak.get(req.provider) ?? 0, n));
      try {
        for (let i = 0; i < 5; i++) await tick();
        yield* answer(req);
      } finally {
        active.set(req.provider, active.get(req.provider)! - 1);
      }
    };
    return { stream, peak };
  }
  const models = [...['a', 'b', 'c', 'd', 'e'].map((id) => model(id, 'groq')), ...['a', 'b', 'c', 'd', 'e'].map((id) => model(id, 'together'))];

  test('runs one call at a time per provider by default, providers side by side', async () => {
    const { stream, peak } = tracking();
    const { summary } = await sweep({ models, stream });
    assert.equal(summary.ok, 10);
    assert.equal(peak.get('groq'), 1);
    assert.equal(peak.get('together'), 1);
  });

  test('starts the next provider without waiting for the first one', async () => {
    let togetherStarted!: () => void;
    const started = new Promise<void>((r) => (togetherStarted = r));
    const stream: ProviderStream = async function* (req) {
      if (req.provider === 'together') togetherStarted();
      // groq's only call waits until together's call has begun: a serial sweep would time out here.
      if (req.provider === 'groq') await Promise.race([started, untilAborted(req)]);
      yield* answer(req);
    };
    const { summary } = await sweep({ models: [model('x', 'groq'), model('y', 'together')], stream, config: config({ BENCH_CALL_TIMEOUT_MS: '3000' }) });
    assert.equal(summary.ok, 2);
  });

  test('runs up to the configured number of calls at once within a provider', async () => {
    const { stream, peak } = tracking();
    await sweep({ models, stream, config: config({ BENCH_PROVIDER_CONCURRENCY: '3' }) });
    assert.equal(peak.get('groq'), 3);
    const { stream: s2, peak: p2 } = tracking();
    await sweep({ models, stream: s2, concurrency: 2 });
    assert.equal(p2.get('groq'), 2);
  });
});

describe('sweep retries', () => {
  function flaky(failures: unknown[]): { stream: ProviderStream; calls: () => number } {
    let calls = 0;
    const stream: ProviderStream = async function* (req) {
      const failure = failures[calls++];
      if (failure) {
        yield { type: 'request', t: req.now(), mode: 'fake', maxTokens: 64, temperature: 0.1, reasoningEffort: null, applied: {} };
        throw failure;
      }
      yield* answer(req);
    };
    return { stream, calls: () => calls };
  }

  test('retries a rate limit before the first byte, honouring Retry-After, and records the attempts', async () => {
    const clock = recordingClock();
    const { stream, calls } = flaky([httpError(429, 'Rate limit reached', { 'retry-after': '1.5' }), httpError(429, 'Rate limit reached', { 'retry-after-ms': '700' })]);
    const sink = new MemorySink();
    const { results } = await sweep({ models: [model('m')], stream, clock, sink });
    assert.equal(calls(), 3);
    assert.deepEqual(clock.sleeps, [1500, 700]);
    assert.equal(results[0]!.outcome, 'ok');
    assert.equal(results[0]!.attempts, 3);
    assert.equal(sink.metrics[0]!.attempts_count, 3);
    assert.equal(sink.errors.length, 0);
  });

  test('backs off exponentially on 5xx and network errors without Retry-After, up to BENCH_MAX_ATTEMPTS', async () => {
    const clock = recordingClock();
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const { stream, calls } = flaky([httpError(503, 'Service Unavailable'), reset, httpError(500, 'boom'), httpError(500, 'boom')]);
    const sink = new MemorySink();
    const { results } = await sweep({ models: [model('m')], stream, clock, sink, config: config({ BENCH_MAX_ATTEMPTS: '4' }) });
    assert.equal(calls(), 4);
    assert.deepEqual(clock.sleeps, [1000, 2000, 4000]);
    assert.equal(results[0]!.outcome, 'failed');
    assert.equal(sink.errors[0]!.error_kind, 'transient_provider');
    assert.match(sink.errors[0]!.message, /\(after 4 attempts\)$/);
  });

  test('does not retry when Retry-After exceeds BENCH_MAX_RETRY_DELAY_MS', async () => {
    const clock = recordingClock();
    const { stream, calls } = flaky([httpError(429, 'Rate limit reached', { 'retry-after': '120' })]);
    await sweep({ models: [model('m')], stream, clock });
    assert.equal(calls(), 1);
    assert.deepEqual(clock.sleeps, []);
  });

  test('does not retry errors that another attempt cannot fix', async () => {
    const clock = recordingClock();
    const { stream, calls } = flaky([httpError(401, 'Invalid API key'), httpError(401, 'Invalid API key')]);
    const sink = new MemorySink();
    await sweep({ models: [model('m')], stream, clock, sink });
    assert.equal(calls(), 1);
    assert.equal(sink.errors[0]!.error_kind, 'auth');
  });

  test('does not retry once the stream has started', async () => {
    const clock = recordingClock();
    let calls = 0;
    const stream: ProviderStream = async function* (req) {
      calls++;
      yield { type: 'request', t: req.now(), mode: 'fake', maxTokens: 64, temperature: 0.1, reasoningEffort: null, applied: {} };
      yield { type: 'first_byte', t: req.now() };
      yield { type: 'text', t: req.now(), text: ' Once' };
      throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    };
    const sink = new MemorySink();
    const { results } = await sweep({ models: [model('m')], stream, clock, sink });
    assert.equal(calls, 1);
    assert.deepEqual(clock.sleeps, []);
    assert.equal(results[0]!.outcome, 'failed');
    assert.equal(sink.errors[0]!.error_kind, 'network');
    assert.equal(sink.errors[0]!.stage, 'generate');
  });
});

describe('sweep time limits', () => {
  test('aborts a call that stalls between events, saying it stalled', async () => {
    const stream: ProviderStream = async function* (req) {
      yield* [
        { type: 'request', t: req.now(), mode: 'fake', maxTokens: 64, temperature: 0.1, reasoningEffort: null, applied: {} },
        { type: 'first_byte', t: req.now() },
        { type: 'text', t: req.now(), text: ' Once' },
      ] satisfies StreamEvent[];
      await untilAborted(req);
    };
    const sink = new MemorySink();
    const { results } = await sweep({ models: [model('m')], stream, sink, config: config({ BENCH_STALL_TIMEOUT_MS: '60', BENCH_CALL_TIMEOUT_MS: '10000' }) });
    assert.equal(results[0]!.outcome, 'failed');
    const e = sink.errors[0]!;
    assert.equal(e.stage, 'timeout');
    assert.equal(e.error_kind, 'timeout');
    assert.match(e.message, /^Cannot stream groq\/m: timed out: stalled after 0\.06 s without a stream event \(after 3 events\)$/);
  });

  test('aborts a stalled adapter even when it ignores its signal', async () => {
    const stream: ProviderStream = async function* (req) {
      yield { type: 'request', t: req.now(), mode: 'fake', maxTokens: 64, temperature: 0.1, reasoningEffort: null, applied: {} };
      await new Promise(() => {}); // never settles, never looks at req.signal
    };
    const sink = new MemorySink();
    await sweep({ models: [model('m')], stream, sink, config: config({ BENCH_STALL_TIMEOUT_MS: '60' }) });
    assert.match(sink.errors[0]!.message, /stalled after 0\.06 s without a stream event \(before the first byte\)/);
  });

  test('aborts a call that keeps streaming past the total timeout, saying so', async () => {
    const stream: ProviderStream = async function* (req) {
      yield { type: 'request', t: req.now(), mode: 'fake', maxTokens: 64, temperature: 0.1, reasoningEffort: null, applied: {} };
      for (;;) {
        await new Promise((r) => setTimeout(r, 10));
        if (req.signal.aborted) throw req.signal.reason;
        yield { type: 'text', t: req.now(), text: ' tok' };
      }
    };
    const sink = new MemorySink();
    await sweep({ models: [model('m')], stream, sink, config: config({ BENCH_STALL_TIMEOUT_MS: '100', BENCH_CALL_TIMEOUT_MS: '200' }) });
    assert.equal(sink.errors[0]!.stage, 'timeout');
    assert.match(sink.errors[0]!.message, /no complete answer within the total timeout of 0\.2 s/);
  });

  test('at the sweep deadline aborts the call in flight and skips the calls not started', async () => {
    const stream: ProviderStream = async function* (req) {
      yield { type: 'request', t: req.now(), mode: 'fake', maxTokens: 64, temperature: 0.1, reasoningEffort: null, applied: {} };
      await untilAborted(req);
    };
    const sink = new MemorySink();
    const { results, summary } = await sweep({
      models: [model('a'), model('b'), model('c'), model('fast', 'mock')],
      stream: (req) => (req.provider === 'mock' ? streamMock({ ...req, modelId: 'instant' }) : stream(req)),
      sink,
      config: config({ BENCH_SWEEP_DEADLINE_MS: '1000', BENCH_STALL_TIMEOUT_MS: '60000' }),
    });
    const outcome = Object.fromEntries(results.map((r) => [r.modelId, r.outcome]));
    assert.deepEqual(outcome, { a: 'failed', b: 'skipped_deadline', c: 'skipped_deadline', fast: 'ok' });
    assert.equal(sink.errors.length, 1);
    assert.equal(sink.errors[0]!.stage, 'timeout');
    assert.match(sink.errors[0]!.message, /aborted at the sweep deadline \(1 s after the sweep started\)/);
    assert.match(results.find((r) => r.modelId === 'b')!.skipReason!, /^not started: aborted at the sweep deadline/);
    assert.equal(summary.skippedDeadline, 2);
    assert.equal(summary.interrupted, true);
  });

  test('a stopped sweep (SIGTERM) records the call in flight as aborted, not as a failure, and the rest as not started for the stop', async () => {
    const controller = new AbortController();
    const stream: ProviderStream = async function* (req) {
      yield { type: 'request', t: req.now(), mode: 'fake', maxTokens: 64, temperature: 0.1, reasoningEffort: null, applied: {} };
      setImmediate(() => controller.abort(new Error('SIGTERM')));
      await untilAborted(req);
    };
    const sink = new MemorySink();
    const { results, summary } = await sweep({ models: [model('a'), model('b')], stream, sink, signal: controller.signal });
    assert.deepEqual(results.map((r) => [r.modelId, r.outcome]), [['a', 'aborted'], ['b', 'skipped_stopped']]);
    assert.deepEqual([summary.ok, summary.failed, summary.aborted, summary.skippedStopped, summary.skippedDeadline], [0, 0, 1, 1, 0]);
    assert.deepEqual(summary.errorsByKind, {}, 'an aborted call is no kind of provider failure');
    assert.equal(summary.stoppedBy, 'SIGTERM');
    assert.equal(sink.errors[0]!.error_kind, 'aborted');
    assert.match(sink.errors[0]!.message, /sweep aborted \(SIGTERM\)/);
    assert.match(results[1]!.skipReason!, /^not started: sweep aborted \(SIGTERM\)/);
    assert.equal(sweepFailure(summary), null, 'a stop is not "every call failed"');
    assert.equal(formatSummary(summary).split(' (')[0], 'Sweep stopped by SIGTERM: 0 measured, 1 aborted, 1 not started');
  });

  test('a stopped sweep is still a failure when a result could not be stored', () => {
    const summary = summarize([], { models: 1, writeFailures: 1, durationMs: 1 });
    summary.stoppedBy = 'SIGINT';
    assert.equal(sweepFailure(summary), '1 result(s) could not be stored');
  });
});

describe('sweep results', () => {
  test('one model failing does not stop the sweep', async () => {
    const stream: ProviderStream = (req) => {
      if (req.modelId === 'broken') throw httpError(404, 'The model `broken` does not exist');
      return answer(req);
    };
    const sink = new MemorySink();
    const { results, summary } = await sweep({ models: [model('a'), model('broken'), model('c')], stream, sink });
    assert.deepEqual(
      results.map((r) => [r.modelId, r.outcome]),
      [
        ['a', 'ok'],
        ['broken', 'failed'],
        ['c', 'ok'],
      ],
    );
    assert.equal(sink.errors[0]!.error_kind, 'hard_model');
    assert.equal(summary.errorsByKind.hard_model, 1);
    assert.equal(sweepFailure(summary), null);
  });

  test('writes each result before the next call starts', async () => {
    const log: string[] = [];
    const stream: ProviderStream = (req) => {
      log.push(`call ${req.modelId}`);
      return answer(req);
    };
    await sweep({ models: [model('a'), model('b'), model('c')], stream, sink: new MemorySink(log) });
    assert.deepEqual(log, ['call a', 'stored a', 'call b', 'stored b', 'call c', 'stored c']);
  });

  test('classifies once and names the action, target, status and kind, with secrets redacted', async () => {
    const stream: ProviderStream = () => {
      throw httpError(429, 'Rate limit reached for key sk-proj-abcdefghijklmnopqrstuvwx');
    };
    const sink = new MemorySink();
    await sweep({ models: [model('llama-3.3-70b')], stream, sink, clock: recordingClock(), config: config({ BENCH_MAX_ATTEMPTS: '1' }) });
    const e = sink.errors[0]!;
    assert.match(e.message, /^Cannot stream groq\/llama-3\.3-70b: HTTP 429 rate limited: 429 Rate limit reached for key \*\*\*$/);
    assert.equal(e.http_status, 429);
    assert.equal(e.stage, 'generate');
    assert.equal(e.runner, 'test-runner');
  });

  test('records a validation failure as an error with stage validate', async () => {
    const sink = new MemorySink();
    const { results } = await sweep({ models: [model('short', 'anthropic')], stream: (req) => answer(req, 20), sink });
    assert.equal(results[0]!.outcome, 'failed');
    assert.equal(sink.errors[0]!.stage, 'validate');
    assert.match(sink.errors[0]!.message, /output_tokens 20 not within 10% of requested 64/);
    assert.equal(sink.metrics.length, 0);
  });

  test('records a provider that cannot be loaded against each of its models, and runs the others', async () => {
    const sink = new MemorySink();
    const { results } = await runSweep({
      config: config(),
      sink,
      models: [model('a', 'bedrock'), model('b', 'bedrock'), model('c', 'groq')],
      loadProvider: async (name) => {
        if (name === 'bedrock') throw new BenchError('Cannot load provider bedrock: Cannot find package', { kind: 'unknown', stage: 'load_provider' });
        return (req) => answer(req);
      },
    });
    assert.deepEqual(
      sink.errors.map((e) => [e.model_name, e.stage]),
      [
        ['a', 'load_provider'],
        ['b', 'load_provider'],
      ],
    );
    assert.equal(results.find((r) => r.modelId === 'c')!.outcome, 'ok');
  });

  test('a result that cannot be stored is logged, recorded as a log error and fails the sweep', async () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (_level, line) => lines.push(line) });
    const sink = new MemorySink([], true, false);
    const { results, summary } = await sweep({ models: [model('a'), model('b')], sink, logger });
    assert.equal(summary.writeFailures, 2);
    assert.match(sweepFailure(summary) ?? '', /2 result\(s\) could not be stored/);
    assert.equal(sink.errors.length, 2);
    assert.equal(sink.errors[0]!.stage, 'log');
    assert.match(sink.errors[0]!.message, /^Cannot store the result of groq\/a: disk I\/O error$/);
    assert.match(results[0]!.writeError ?? '', /disk I\/O error/);
    assert.ok(lines.some((l) => /Cannot store the result of groq\/a/.test(l)));
    assert.match(formatResultLine(results[0]!), /NOT STORED/);
  });

  test('a sink that fails every write still lets the sweep finish and says so', async () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (_level, line) => lines.push(line) });
    const { summary } = await sweep({ models: [model('a')], sink: new MemorySink([], true, true), logger });
    assert.equal(summary.writeFailures, 1);
    assert.ok(lines.some((l) => /Cannot record the failed write of groq\/a either/.test(l)));
  });

  test("the store's checkpoints are held off from before the first call until every result is written", async () => {
    const log: string[] = [];
    const sink = Object.assign(new MemorySink(log), {
      pauseCheckpoints: async () => void log.push('pause'),
      resumeCheckpoints: async () => void log.push('resume'),
    });
    const agent = model('mock-steps-1-step-10ms', 'tinyfish', { misc: { url: 'https://example.com', goal: 'g' }, scenario: { kind: 'agent', id: 'agent-v1', intervalMinutes: 360, inputs: {}, concurrency: 1 } });
    await sweep({ models: [model('a'), model('b'), agent], sink, config: config({ TINYFISH_MOCK_MODE: 'true' }) });
    assert.deepEqual([log[0], log.at(-1)], ['pause', 'resume']);
    assert.deepEqual(log.slice(1, -1).sort(), ['agent run mock-steps-1-step-10ms', 'stored a', 'stored b']);
  });

  test('checkpoints that cannot be held off or resumed are a warning; the results are stored all the same', async () => {
    const lines: string[] = [];
    const logger = createLogger({ write: (_level, line) => lines.push(line) });
    const sink = Object.assign(new MemorySink(), {
      pauseCheckpoints: async () => {
        throw new Error('database is locked');
      },
      resumeCheckpoints: async () => {
        throw new Error('disk I/O error');
      },
    });
    const { summary } = await sweep({ models: [model('a')], sink, logger });
    assert.equal(summary.ok, 1);
    assert.equal(sink.metrics.length, 1);
    assert.ok(lines.some((l) => /Cannot pause the store's checkpoints: database is locked/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /Cannot resume the store's checkpoints: disk I\/O error/.test(l)), lines.join('\n'));
  });

  test('an every-call-failed sweep is a failed run; a sweep with nothing due is not', async () => {
    const stream: ProviderStream = () => {
      throw httpError(401, 'bad key');
    };
    const failed = await sweep({ models: [model('a'), model('b')], stream });
    assert.match(sweepFailure(failed.summary) ?? '', /every call failed \(2 of 2\)/);
    const empty = await sweep({ models: [] });
    assert.equal(sweepFailure(empty.summary), null);
  });

  test('mock rows are marked mock end to end', async () => {
    const sink = new MemorySink();
    await runSweep({ config: config(), sink, models: [model('instant', 'mock')], loadProvider: async () => streamMock });
    assert.equal(sink.metrics[0]!.mock, true);
    assert.equal(sink.metrics[0]!.misc.mock, true);
    assert.equal(sink.metrics[0]!.runner, 'test-runner');
  });
});

describe('model lists and journal lines', () => {
  test('reads provider:model entries, bare ids with one provider, and Bedrock ids with colons', () => {
    assert.deepEqual(parseModelList(['groq:llama-3.3-70b', 'mock:instant'], []), [
      { provider: 'groq', modelId: 'llama-3.3-70b' },
      { provider: 'mock', modelId: 'instant' },
    ]);
    assert.deepEqual(parseModelList(['us.anthropic.claude-3-5-haiku-20241022-v1:0'], ['bedrock']), [
      { provider: 'bedrock', modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' },
    ]);
    assert.throws(() => parseModelList(['llama'], ['groq', 'together']), UsageError);
  });

  test('formats one line per model with TTFT, tokens/s and decode tokens/s', async () => {
    const { results } = await runSweep({ config: config(), sink: new MemorySink(), models: [model('instant', 'mock')], loadProvider: async () => streamMock });
    assert.match(formatResultLine(results[0]!), /^mock\/instant: ok, TTFT \d+\.\d{3} s, \d+\.\d tokens\/s, decode (\d+\.\d|-) tokens\/s, 64 tokens$/);
  });
});

describe('provider registry', () => {
  test('maps every provider to its adapter, the OpenAI-compatible ones to one shared adapter', async () => {
    const names = {
      openai: 'streamOpenAI',
      anthropic: 'streamAnthropic',
      groq: 'streamOpenAICompatible',
      together: 'streamOpenAICompatible',
      deepinfra: 'streamOpenAICompatible',
      fireworks: 'streamOpenAICompatible',
      cerebras: 'streamOpenAICompatible',
      bedrock: 'streamBedrock',
      vertex: 'streamVertex',
      mock: 'streamMock',
    } as const;
    for (const [provider, fn] of Object.entries(names)) {
      assert.equal((await loadProvider(provider as ProviderName)).name, fn, provider);
    }
  });

  test('refuses a provider it does not know at stage load_provider', async () => {
    await assert.rejects(
      loadProvider('nope' as ProviderName),
      (err: unknown) => err instanceof BenchError && err.stage === 'load_provider' && /Cannot load provider nope/.test(err.message),
    );
  });
});
