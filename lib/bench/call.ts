// One benchmark call of one model (SPEC 8): attempts under a total timeout and a stall
// timeout, retries only before the first byte on rate limits, 5xx and network errors
// (honouring Retry-After), then measurement and validation into a metric or error document.
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import { BenchError, buildErrorDoc, classifyError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import { cacheEvidence, withEvidence, type ErrorDoc, type ErrorKind, type ErrorStage, type MetricDoc } from '../store/documents.ts';
import { seconds, type SweepClock } from './clock.ts';
import { callInputs, type CallInputs, type SweepModel } from './due.ts';
import { lagField, saturationEvidence, watchLag, type CallLag } from './loop-lag.ts';
import { evaluateCall, loadTokenizer, type Recording } from './measure.ts';
import { buildLongPrompt } from './prompts.ts';
import { rateLimitOfError } from './rate-limit.ts';
import type { ProviderStream, StreamEvent } from './provider-stream.ts';

/** Kinds worth another attempt, and only while nothing has been streamed yet. */
const RETRY_KINDS: ReadonlySet<ErrorKind> = new Set(['rate_limit', 'transient_provider', 'network']);
const BASE_BACKOFF_MS = 1000;

export const KIND_LABEL: Record<ErrorKind, string> = {
  auth: 'authentication failed',
  billing: 'billing problem',
  rate_limit: 'rate limited',
  hard_model: 'model unavailable',
  hard_capability: 'request not supported',
  transient_provider: 'provider error',
  network: 'network error',
  timeout: 'timed out',
  budget_exhausted: 'token budget exhausted',
  unknown: 'failed',
  aborted: 'aborted by the operator',
};

/** How long a lane's warm-up may take before the first measured call goes ahead cold. */
const WARM_TIMEOUT_MS = 10_000;

export interface CallContext {
  config: Config;
  clock: SweepClock;
  /** Aborted at the sweep deadline or by SIGTERM. */
  sweepSignal: AbortSignal;
  sweepStartedAt: Date;
  logger?: Logger;
  /** The lag that marks a row saturated (SPEC 18); SATURATED_LAG_MS unless a test says otherwise. */
  saturatedLagMs?: number;
}

/** What one model's call came to: a metric (ok), or an error (failed; with the metric when validation failed). */
export type CallOutcome =
  | { outcome: 'ok'; metric: MetricDoc; error: null; attempts: number }
  | { outcome: 'failed'; metric: MetricDoc | null; error: ErrorDoc; attempts: number };

/**
 * Benchmarks one model: attempts and retries, then measurement. Never throws; a failure of
 * any kind (the adapter could not load, the call failed, validation refused it) is an error
 * document in the outcome.
 */
export async function benchmarkModel(model: SweepModel, stream: Promise<ProviderStream>, ctx: CallContext): Promise<CallOutcome> {
  const { bench } = ctx.config;
  const { clock, sweepSignal } = ctx;
  const logger = ctx.logger ?? silentLogger;
  const target = `${model.provider}/${model.modelId}`;
  const runId = randomUUID();
  let inputs = callInputs(model, bench.profile);
  let attempts = 0;
  let maxBudget = 0;
  /** The last attempt's event-loop lag; null before any ran. */
  let lagMs: number | null = null;
  const fail = (err: unknown): CallOutcome => {
    const c = classifyError(err);
    const stage: ErrorStage = err instanceof BenchError && err.stage ? err.stage : c.kind === 'timeout' ? 'timeout' : 'generate';
    const status = c.httpStatus !== null ? `HTTP ${c.httpStatus} ` : '';
    const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
    const error = buildErrorDoc({
      provider: model.provider,
      model_name: model.modelId,
      ts: new Date(clock.wallNow()),
      stage,
      error_kind: c.kind,
      message: `Cannot stream ${target}: ${status}${KIND_LABEL[c.kind]}: ${c.detail}${tries}`,
      http_status: c.httpStatus,
      run_id: runId,
      benchmark_profile_id: inputs.profileId,
      runner: bench.runner,
    });
    // SPEC 18: a 429 says how far over the key was; kept beside the error.
    const rateLimit = rateLimitOfError(err);
    if (rateLimit) error.rate_limit = rateLimit;
    if (lagMs !== null) error.client_lag_ms = lagField(lagMs);
    return { outcome: 'failed', metric: null, error, attempts: Math.max(1, attempts) };
  };

  let providerStream: ProviderStream;
  try {
    providerStream = await stream;
  } catch (err) {
    return fail(err);
  }
  await warmUp(providerStream, model, ctx);
  if (inputs.inputTokens !== null) {
    // Built before the clock starts, once per call: a retry sends the same prompt.
    try {
      inputs = { ...inputs, ...(await buildLongPrompt(inputs.inputTokens)) };
    } catch (err) {
      return fail(err);
    }
  }

  for (let attempt = 1; ; attempt++) {
    const a = await runAttempt(providerStream, model, ctx, inputs);
    lagMs = a.lag.ms;
    attempts += Math.max(1, a.requests);
    maxBudget = Math.max(maxBudget, a.maxBudget);
    if (a.ok) {
      let outcome: Awaited<ReturnType<typeof evaluateCall>>;
      try {
        outcome = await evaluateCall(a.recording, {
          provider: model.provider,
          modelId: model.modelId,
          runId,
          profileId: inputs.profileId,
          runner: bench.runner,
          wallOffsetMs: a.wallOffsetMs,
          fallbackMaxTokens: inputs.maxTokens,
          previousAttempts: attempts - Math.max(1, a.requests),
          previousMaxTokens: maxBudget,
          sweepStartedAt: ctx.sweepStartedAt,
        });
      } catch (err) {
        // Measurement itself failed (the tokenizer could not load): the call is lost, the sweep goes on.
        return fail(err);
      }
      let metric = outcome.metric;
      if (metric) {
        if (inputs.inputTokens !== null) metric.requested_input_tokens = inputs.inputTokens;
        if (inputs.nonce) metric.cache_defeat_nonce = inputs.nonce;
        // SPEC 18: cached input tokens despite the nonce mean a warm prefix, and a lagging runner
        // may have timed the row late; either way kept, marked, not published.
        metric.client_lag_ms = lagField(a.lag.ms);
        metric = withEvidence(metric, cacheEvidence(metric), saturationEvidence(model.provider, a.lag, ctx.saturatedLagMs));
      }
      if (outcome.ok) return { outcome: 'ok', metric: metric!, error: null, attempts };
      outcome.error.client_lag_ms = lagField(a.lag.ms);
      return { outcome: 'failed', metric, error: outcome.error, attempts };
    }
    const c = classifyError(a.error);
    const delay = c.retryAfterMs ?? Math.min(BASE_BACKOFF_MS * 2 ** (attempt - 1), bench.maxRetryDelayMs);
    const retry =
      !a.sawContent && RETRY_KINDS.has(c.kind) && attempt < bench.maxAttempts && delay <= bench.maxRetryDelayMs && !sweepSignal.aborted;
    if (!retry) return fail(a.error);
    logger.debug(
      `Retrying ${target} in ${seconds(delay)} s after ${c.httpStatus !== null ? `HTTP ${c.httpStatus} ` : ''}${KIND_LABEL[c.kind]} (attempt ${attempt + 1} of ${bench.maxAttempts})`,
    );
    try {
      await clock.sleep(delay, sweepSignal);
    } catch {
      return fail(a.error);
    }
  }
}

/**
 * Loads, builds and connects the provider's client before the clock starts (SPEC 5). The
 * adapter does it once per host, so later calls of the lane pass straight through. A failed
 * or slow warm-up is only logged: the measured call then reports what is wrong.
 */
export async function warmUp(stream: ProviderStream, model: SweepModel, ctx: Pick<CallContext, 'config' | 'sweepSignal' | 'logger'>): Promise<void> {
  // The mock simulates its counts; a tokenizer that cannot load fails the measurement, where it is recorded.
  if (model.provider !== 'mock') await loadTokenizer().catch(() => {});
  if (!stream.warm) return;
  const signal = AbortSignal.any([ctx.sweepSignal, AbortSignal.timeout(WARM_TIMEOUT_MS)]);
  try {
    await stream.warm({ provider: model.provider, modelId: model.modelId, misc: model.misc ?? {}, config: ctx.config, signal });
  } catch (err) {
    (ctx.logger ?? silentLogger).debug(`Warm-up for ${model.provider}/${model.modelId} failed: ${classifyError(err).detail}`);
  }
}

export type Attempt = (
  | { ok: true; recording: Recording; wallOffsetMs: number; requests: number; maxBudget: number; sawByte: true; sawContent: true }
  | { ok: false; error: unknown; requests: number; maxBudget: number; sawByte: boolean; sawContent: boolean }
) & {
  /** The client's event-loop waits when the attempt's published times were taken (SPEC 18). */
  lag: CallLag;
};

/** Events that carry part of the answer: after one of these, a retry would throw away what streamed. */
const CONTENT_EVENTS: ReadonlySet<StreamEvent['type']> = new Set(['text', 'reasoning', 'usage', 'finish']);

/**
 * One call to the provider under a total timeout and a stall timeout reset on each event. The
 * iterator is raced against the abort signal, so an adapter that ignores its signal still
 * cannot hold the sweep past its limits.
 */
export async function runAttempt(
  stream: ProviderStream,
  model: SweepModel,
  o: Pick<CallContext, 'config' | 'clock' | 'sweepSignal'>,
  /** What to send; by default the pair's scenario's (without an input-length scenario's generated prompt). */
  inputs: CallInputs = callInputs(model, o.config.bench.profile),
): Promise<Attempt> {
  const { bench } = o.config;
  const target = `${model.provider}/${model.modelId}`;
  const events: StreamEvent[] = [];
  let requests = 0;
  let maxBudget = 0;
  let sawByte = false;
  // An HTTP 200 whose first event is an error is retried like the HTTP error it carries
  // (SPEC 5): only content, not the first byte, makes an attempt unrepeatable.
  let sawContent = false;

  const limits = new AbortController();
  const callTimer = setTimeout(
    () =>
      limits.abort(
        new BenchError(`no complete answer within the total timeout of ${seconds(bench.callTimeoutMs)} s`, {
          kind: 'timeout',
          stage: 'timeout',
        }),
      ),
    bench.callTimeoutMs,
  );
  const stallTimer = setTimeout(() => {
    limits.abort(
      new BenchError(
        `stalled after ${seconds(bench.stallTimeoutMs)} s without a stream event (${sawByte ? `after ${events.length} events` : 'before the first byte'})`,
        { kind: 'timeout', stage: 'timeout' },
      ),
    );
  }, bench.stallTimeoutMs);
  const signal = AbortSignal.any([o.sweepSignal, limits.signal]);
  // Each wait for an event races a promise of its own that the abort rejects. One promise for
  // the whole call would keep a reaction of every race until the call ended: a few hundred
  // bytes an event, old enough by then to reach V8's old generation (issue 27's peak RSS).
  let rejectWait: ((reason: unknown) => void) | null = null;
  const onAbort = () => rejectWait?.(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  const abortable = () =>
    new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      rejectWait = reject;
    });

  // SPEC 18: the runner's own lag, sampled on the real clock whatever clock the call runs on.
  const lag = watchLag();
  let callLag: CallLag = { ms: 0, speedsMs: 0 };
  const startT = o.clock.now();
  const wallOffsetMs = o.clock.wallNow() - startT;
  let iterator: AsyncIterator<StreamEvent> | null = null;
  try {
    iterator = stream({
      provider: model.provider,
      modelId: model.modelId,
      misc: model.misc ?? {},
      prompt: inputs.prompt,
      maxTokens: inputs.maxTokens,
      temperature: inputs.temperature,
      signal,
      now: o.clock.now,
      config: o.config,
      onActivity: () => stallTimer.refresh(),
    })[Symbol.asyncIterator]();
    for (;;) {
      const pending = iterator.next();
      // If the abort wins the race, the adapter's late rejection must not become an unhandled one.
      pending.catch(() => {});
      const next = await Promise.race([pending, abortable()]);
      if (next.done) break;
      const ev = next.value;
      events.push(ev);
      lag.event(ev);
      if (ev.type === 'request') {
        requests += 1;
        maxBudget = Math.max(maxBudget, ev.maxTokens);
      } else if (ev.type !== 'connection') {
        sawByte = true;
        if (CONTENT_EVENTS.has(ev.type)) sawContent = true;
      }
      stallTimer.refresh();
    }
    const endT = o.clock.now();
    callLag = lag.end();
    // fetch returns the connection to its pool a turn after the body ended; the lane's next
    // call must find it there rather than open (and time) a new one.
    await new Promise((resolve) => setImmediate(resolve));
    if (!sawByte) throw new BenchError(`the stream of ${target} ended without any event`, { kind: 'unknown' });
    return { ok: true, recording: { events, startT, endT }, wallOffsetMs, requests, maxBudget, sawByte: true, sawContent: true, lag: callLag };
  } catch (err) {
    callLag = lag.end();
    // Stop the adapter (and its HTTP request) when we gave up on it; ignore what it says then.
    if (signal.aborted) iterator?.return?.().catch(() => {});
    return { ok: false, error: signal.aborted ? abortError(signal.reason) : err, requests, maxBudget, sawByte, sawContent, lag: callLag };
  } finally {
    lag.end();
    clearTimeout(callTimer);
    clearTimeout(stallTimer);
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Our own abort reasons are already classified; anything else came from outside the sweep
 * (SIGINT, SIGTERM, a caller's controller) and says nothing about the provider (SPEC 5).
 */
function abortError(reason: unknown): BenchError {
  if (reason instanceof BenchError) return reason;
  return new BenchError(describeAbort(reason), { kind: 'aborted', stage: 'generate', cause: reason });
}

export function describeAbort(reason: unknown): string {
  if (reason instanceof BenchError) return reason.message;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : '';
  return why ? `sweep aborted (${why})` : 'sweep aborted';
}
