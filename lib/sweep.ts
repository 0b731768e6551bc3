// The sweep runner (SPEC 8): benchmark every due model once and record each result as soon as
// it is known. Providers run side by side; within a provider, `concurrencyPerProvider` calls
// at a time, so provider rate limits hold. Every call has a total timeout and a stall timeout,
// the sweep has a deadline, and retries happen only before the first byte.
//
// The edges are injected: where results go (`sink`: the store, or later an HTTP sink for a
// remote runner), which models to run, the provider loader, the clocks and the logger.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import { UsageError } from './cli.ts';
import { isProviderName, type Config, type ProviderName } from './config.ts';
import type { ErrorDoc, ErrorKind, ErrorStage, MetricDoc, ModelDoc } from './documents.ts';
import { BenchError, buildErrorDoc, classifyError } from './errors.ts';
import { silentLogger, type Logger } from './log.ts';
import { evaluateCall, type Recording } from './measure.ts';
import type { ProviderStream, StreamEvent } from './provider-stream.ts';
import type { InsertResult, Store } from './store.ts';

export interface SweepModel {
  provider: ProviderName;
  modelId: string;
  /** The model's quirks (omit_temperature, region, …), passed to the adapter. */
  misc?: Record<string, unknown>;
  /** When this model last produced a successful row. */
  lastSuccessAt?: Date | null;
  /** When the sweep that produced that row started; the freshness rule compares this (else lastSuccessAt). */
  lastSweepStartedAt?: Date | null;
}

/** Where results go. A store satisfies it; so will the remote runner's HTTP sink. Both throw on a failed write. */
export interface ResultSink {
  insertMetric(doc: MetricDoc): Promise<InsertResult>;
  insertError(doc: ErrorDoc): Promise<InsertResult>;
}

export interface SweepClock {
  /** Monotonic milliseconds (performance.now). */
  now(): number;
  /** Wall-clock epoch milliseconds (Date.now). */
  wallNow(): number;
  /** Waits ms; rejects when signal aborts. Used for retry back-off only. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: SweepClock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
};

const FRESH_SLACK_MS = 60_000;

export type Outcome = 'ok' | 'failed' | 'skipped_fresh' | 'skipped_deadline';

export interface ModelResult {
  provider: ProviderName;
  modelId: string;
  outcome: Outcome;
  /** The metrics document (also present for a validation failure, which is recorded as an error). */
  metric: MetricDoc | null;
  /** The error recorded for a failed call. */
  error: ErrorDoc | null;
  /** Calls made, retries included (0 when skipped). */
  attempts: number;
  /** Why the model was skipped. */
  skipReason: string | null;
  /** The result could not be written: the message of the failed write. */
  writeError: string | null;
}

export interface SweepSummary {
  /** Models given to the sweep. */
  models: number;
  /** Models that were called. */
  ran: number;
  ok: number;
  failed: number;
  skippedFresh: number;
  skippedDeadline: number;
  writeFailures: number;
  errorsByKind: Partial<Record<ErrorKind, number>>;
  durationMs: number;
  /** The sweep deadline passed or the sweep was aborted. */
  interrupted: boolean;
}

export interface SweepResult {
  results: ModelResult[];
  summary: SweepSummary;
}

export interface SweepOptions {
  config: Config;
  models: SweepModel[];
  sink: ResultSink;
  loadProvider: (name: ProviderName) => Promise<ProviderStream>;
  logger?: Logger;
  clock?: SweepClock;
  /** Benchmark models even when they have a fresh success. */
  force?: boolean;
  /** Calls at a time within one provider; defaults to config.bench.concurrencyPerProvider. */
  concurrency?: number;
  /** Aborts the whole sweep (SIGTERM): calls in flight are aborted and recorded, the rest skipped. */
  signal?: AbortSignal;
  /** Called as each model's result is known and written, in completion order. */
  onResult?: (result: ModelResult) => void;
  /** Called as each call starts. */
  onStart?: (model: SweepModel) => void;
}

/** Kinds worth another attempt, and only while nothing has been streamed yet. */
const RETRY_KINDS: ReadonlySet<ErrorKind> = new Set(['rate_limit', 'transient_provider', 'network']);
const BASE_BACKOFF_MS = 1000;

const KIND_LABEL: Record<ErrorKind, string> = {
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
};

/**
 * Runs one sweep. Never throws for a model's failure: each is recorded through the sink and
 * returned. A sink that throws is logged, recorded as a stage `log` error where possible and
 * counted in summary.writeFailures.
 */
export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const { config, sink } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const bench = config.bench;
  const started = clock.now();
  const results: ModelResult[] = [];
  let writeFailures = 0;

  // The deadline aborts calls in flight with a reason the error document can state.
  const deadline = new AbortController();
  const deadlineTimer = setTimeout(
    () =>
      deadline.abort(
        new BenchError(`aborted at the sweep deadline (${seconds(bench.sweepDeadlineMs)} s after the sweep started)`, {
          kind: 'timeout',
          stage: 'timeout',
        }),
      ),
    bench.sweepDeadlineMs,
  );
  const sweepSignal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;

  const finish = (result: ModelResult) => {
    results.push(result);
    options.onResult?.(result);
  };

  const due: SweepModel[] = [];
  // Fresh means measured by a sweep that started less than FRESH_MINUTES ago. Sweep starts,
  // not call times: with the timer every 30 minutes and FRESH_MINUTES=30, a model measured
  // 20 minutes into the last sweep is due again now. The minute of slack absorbs timer jitter.
  const freshMs = bench.freshMinutes * 60_000 - FRESH_SLACK_MS;
  const wallNow = clock.wallNow();
  const sweepStartedAt = new Date(wallNow);
  for (const model of options.models) {
    const last = model.lastSweepStartedAt ?? model.lastSuccessAt;
    if (!options.force && last && wallNow - last.getTime() < freshMs) {
      const ago = Math.round((wallNow - last.getTime()) / 60_000);
      finish(skipped(model, 'skipped_fresh', `measured by a sweep that started ${ago} min ago (FRESH_MINUTES=${bench.freshMinutes})`));
    } else {
      due.push(model);
    }
  }

  const byProvider = new Map<ProviderName, SweepModel[]>();
  for (const m of due) byProvider.set(m.provider, [...(byProvider.get(m.provider) ?? []), m]);
  const concurrency = Math.max(1, options.concurrency ?? bench.concurrencyPerProvider);

  async function write(model: SweepModel, doc: { metric: MetricDoc } | { error: ErrorDoc }): Promise<string | null> {
    const target = `${model.provider}/${model.modelId}`;
    try {
      const status = 'metric' in doc ? await sink.insertMetric(doc.metric) : await sink.insertError(doc.error);
      if (status === 'duplicate') logger.warn(`Result of ${target} was already stored (run_id ${'metric' in doc ? doc.metric.run_id : doc.error.run_id})`);
      return null;
    } catch (err) {
      writeFailures += 1;
      const c = classifyError(err);
      const message = `Cannot store the result of ${target}: ${c.detail}`;
      logger.error(message);
      try {
        await sink.insertError(
          buildErrorDoc({
            provider: model.provider,
            model_name: model.modelId,
            ts: new Date(clock.wallNow()),
            stage: 'log',
            error_kind: c.kind,
            message,
            http_status: c.httpStatus,
            run_id: randomUUID(),
            benchmark_profile_id: bench.profile.id,
            runner: bench.runner,
          }),
        );
      } catch (again) {
        logger.error(`Cannot record the failed write of ${target} either: ${classifyError(again).detail}`);
      }
      return message;
    }
  }

  async function runModel(model: SweepModel, stream: Promise<ProviderStream>): Promise<ModelResult> {
    const target = `${model.provider}/${model.modelId}`;
    const runId = randomUUID();
    let attempts = 0;
    let maxBudget = 0;
    const fail = async (err: unknown): Promise<ModelResult> => {
      const c = classifyError(err);
      const stage: ErrorStage = err instanceof BenchError && err.stage ? err.stage : c.kind === 'timeout' ? 'timeout' : 'generate';
      const status = c.httpStatus !== null ? `HTTP ${c.httpStatus} ` : '';
      const tries = attempts > 1 ? ` (after ${attempts} attempts)` : '';
      const message = `Cannot stream ${target}: ${status}${KIND_LABEL[c.kind]}: ${c.detail}${tries}`;
      const error = buildErrorDoc({
        provider: model.provider,
        model_name: model.modelId,
        ts: new Date(clock.wallNow()),
        stage,
        error_kind: c.kind,
        message,
        http_status: c.httpStatus,
        run_id: runId,
        benchmark_profile_id: bench.profile.id,
        runner: bench.runner,
      });
      const writeError = await write(model, { error });
      return { ...base(model), outcome: 'failed', error, attempts: Math.max(1, attempts), writeError };
    };

    let providerStream: ProviderStream;
    try {
      providerStream = await stream;
    } catch (err) {
      return fail(err);
    }

    for (let attempt = 1; ; attempt++) {
      const a = await runAttempt(providerStream, model, { config, clock, sweepSignal });
      attempts += Math.max(1, a.requests);
      maxBudget = Math.max(maxBudget, a.maxBudget);
      if (a.ok) {
        let outcome: Awaited<ReturnType<typeof evaluateCall>>;
        try {
          outcome = await evaluateCall(a.recording, {
            provider: model.provider,
            modelId: model.modelId,
            runId,
            profileId: bench.profile.id,
            runner: bench.runner,
            wallOffsetMs: a.wallOffsetMs,
            fallbackMaxTokens: bench.profile.maxTokens,
            previousAttempts: attempts - Math.max(1, a.requests),
            previousMaxTokens: maxBudget,
            sweepStartedAt,
          });
        } catch (err) {
          // Measurement itself failed (the tokenizer could not load): the call is lost, the sweep goes on.
          return fail(err);
        }
        if (outcome.ok) {
          const writeError = await write(model, { metric: outcome.metric });
          return { ...base(model), outcome: 'ok', metric: outcome.metric, attempts, writeError };
        }
        const writeError = await write(model, { error: outcome.error });
        return { ...base(model), outcome: 'failed', metric: outcome.metric, error: outcome.error, attempts, writeError };
      }
      const c = classifyError(a.error);
      const delay = c.retryAfterMs ?? Math.min(BASE_BACKOFF_MS * 2 ** (attempt - 1), bench.maxRetryDelayMs);
      const retry =
        !a.sawByte && RETRY_KINDS.has(c.kind) && attempt < bench.maxAttempts && delay <= bench.maxRetryDelayMs && !sweepSignal.aborted;
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

  async function runProvider(provider: ProviderName, models: SweepModel[]): Promise<void> {
    // Loaded once per provider, and only when the provider has a due model.
    const stream = options.loadProvider(provider);
    stream.catch(() => {}); // Each model records the load failure itself.
    let next = 0;
    const worker = async () => {
      while (next < models.length) {
        const model = models[next++]!;
        if (sweepSignal.aborted) {
          finish(skipped(model, 'skipped_deadline', `not started: ${describeAbort(sweepSignal.reason)}`));
          continue;
        }
        options.onStart?.(model);
        finish(await runModel(model, stream));
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, models.length) }, worker));
  }

  try {
    await Promise.all([...byProvider].map(([provider, models]) => runProvider(provider, models)));
  } finally {
    clearTimeout(deadlineTimer);
  }

  const summary: SweepSummary = {
    models: options.models.length,
    ran: 0,
    ok: 0,
    failed: 0,
    skippedFresh: 0,
    skippedDeadline: 0,
    writeFailures,
    errorsByKind: {},
    durationMs: clock.now() - started,
    interrupted: sweepSignal.aborted,
  };
  for (const r of results) {
    if (r.outcome === 'ok') summary.ok += 1;
    if (r.outcome === 'failed') summary.failed += 1;
    if (r.outcome === 'skipped_fresh') summary.skippedFresh += 1;
    if (r.outcome === 'skipped_deadline') summary.skippedDeadline += 1;
    if (r.error) summary.errorsByKind[r.error.error_kind] = (summary.errorsByKind[r.error.error_kind] ?? 0) + 1;
  }
  summary.ran = summary.ok + summary.failed;
  return { results, summary };
}

type Attempt =
  | { ok: true; recording: Recording; wallOffsetMs: number; requests: number; maxBudget: number; sawByte: true }
  | { ok: false; error: unknown; requests: number; maxBudget: number; sawByte: boolean };

/**
 * One call to the provider under a total timeout and a stall timeout reset on each event. The
 * iterator is raced against the abort signal, so an adapter that ignores its signal still
 * cannot hold the sweep past its limits.
 */
async function runAttempt(
  stream: ProviderStream,
  model: SweepModel,
  o: { config: Config; clock: SweepClock; sweepSignal: AbortSignal },
): Promise<Attempt> {
  const { bench } = o.config;
  const target = `${model.provider}/${model.modelId}`;
  const events: StreamEvent[] = [];
  let requests = 0;
  let maxBudget = 0;
  let sawByte = false;

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
  let onAbort: (() => void) | null = null;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});

  const startT = o.clock.now();
  const wallOffsetMs = o.clock.wallNow() - startT;
  let iterator: AsyncIterator<StreamEvent> | null = null;
  try {
    iterator = stream({
      provider: model.provider,
      modelId: model.modelId,
      misc: model.misc ?? {},
      prompt: bench.profile.prompt,
      maxTokens: bench.profile.maxTokens,
      temperature: bench.profile.temperature,
      signal,
      now: o.clock.now,
      config: o.config,
    })[Symbol.asyncIterator]();
    for (;;) {
      const pending = iterator.next();
      // If the abort wins the race, the adapter's late rejection must not become an unhandled one.
      pending.catch(() => {});
      const next = await Promise.race([pending, aborted]);
      if (next.done) break;
      const ev = next.value;
      events.push(ev);
      if (ev.type === 'request') {
        requests += 1;
        maxBudget = Math.max(maxBudget, ev.maxTokens);
      } else {
        sawByte = true;
      }
      stallTimer.refresh();
    }
    const endT = o.clock.now();
    if (!sawByte) throw new BenchError(`the stream of ${target} ended without any event`, { kind: 'unknown' });
    return { ok: true, recording: { events, startT, endT }, wallOffsetMs, requests, maxBudget, sawByte: true };
  } catch (err) {
    // Stop the adapter (and its HTTP request) when we gave up on it; ignore what it says then.
    if (signal.aborted) iterator?.return?.().catch(() => {});
    return { ok: false, error: signal.aborted ? abortError(signal.reason) : err, requests, maxBudget, sawByte };
  } finally {
    clearTimeout(callTimer);
    clearTimeout(stallTimer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** Our own abort reasons are already classified; anything else (SIGTERM) is a sweep abort. */
function abortError(reason: unknown): BenchError {
  if (reason instanceof BenchError) return reason;
  return new BenchError(describeAbort(reason), { kind: 'timeout', stage: 'timeout', cause: reason });
}

function describeAbort(reason: unknown): string {
  if (reason instanceof BenchError) return reason.message;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : '';
  return why ? `sweep aborted (${why})` : 'sweep aborted';
}

function base(model: SweepModel): ModelResult {
  return {
    provider: model.provider,
    modelId: model.modelId,
    outcome: 'ok',
    metric: null,
    error: null,
    attempts: 0,
    skipReason: null,
    writeError: null,
  };
}

function skipped(model: SweepModel, outcome: 'skipped_fresh' | 'skipped_deadline', reason: string): ModelResult {
  return { ...base(model), outcome, skipReason: reason };
}

function seconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(ms < 10_000 ? 3 : 1)));
}

/** Why a sweep counts as not having run (exit 1), or null when it ran. Model failures alone are data. */
export function sweepFailure(summary: SweepSummary): string | null {
  if (summary.writeFailures > 0) return `${summary.writeFailures} result(s) could not be stored`;
  if (summary.ran > 0 && summary.ok === 0) return `every call failed (${summary.failed} of ${summary.ran})`;
  return null;
}

/**
 * Parses model list entries ("provider:model", or bare ids when exactly one provider is given).
 * @throws UsageError naming the entry that cannot be read.
 */
export function parseModelList(entries: string[], providers: ProviderName[]): Array<{ provider: ProviderName; modelId: string }> {
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    const prefix = colon > 0 ? entry.slice(0, colon) : null;
    // Bedrock ids contain colons too (anthropic.claude-…-v1:0): only a known provider name is a prefix.
    if (prefix !== null && isProviderName(prefix)) return { provider: prefix, modelId: entry.slice(colon + 1) };
    if (providers.length === 1) return { provider: providers[0]!, modelId: entry };
    throw new UsageError(
      `Model ${JSON.stringify(entry)} has no provider: write it as provider:model (e.g. groq:${entry}) or give exactly one --provider`,
    );
  });
}

/** True when no providers were named, or p is one of them. */
function isWanted(p: string, providers: ProviderName[]): boolean {
  return providers.length === 0 || (providers as string[]).includes(p);
}

/**
 * The models a sweep should run, with their quirks and last success: the explicit list when
 * given (a runner without the catalog, or a one-off), else every enabled, non-deprecated model
 * in the store; either filtered to `providers` when any are given.
 */
export async function modelsFromStore(
  store: Pick<Store, 'listModels' | 'getModel' | 'lastSuccesses'>,
  options: { explicit: Array<{ provider: ProviderName; modelId: string }> | null; providers: ProviderName[] },
): Promise<SweepModel[]> {
  const wanted = (p: string) => isWanted(p, options.providers);
  let models: SweepModel[];
  if (options.explicit) {
    models = [];
    for (const e of options.explicit.filter((m) => wanted(m.provider))) {
      // An explicit model the catalog knows still gets its quirks.
      const doc = await store.getModel(e.provider, e.modelId);
      models.push({ ...e, misc: doc?.misc ?? {} });
    }
  } else {
    const docs = await store.listModels({ benchmarkedOnly: true });
    models = docs
      .filter((d) => isProviderName(d.provider) && wanted(d.provider))
      .map((d) => ({ provider: d.provider as ProviderName, modelId: d.model_id, misc: d.misc ?? {} }));
  }
  const last = new Map((await store.lastSuccesses()).map((s) => [`${s.provider}\u0000${s.model_name}`, s]));
  return models.map((m) => {
    const l = last.get(`${m.provider}\u0000${m.modelId}`);
    return { ...m, lastSuccessAt: l?.ts ?? null, lastSweepStartedAt: l?.sweep_started_at ?? null };
  });
}

/**
 * The models a remote runner should run (it has no store): the explicit list when given, with
 * quirks from the ingest server's runner-config where it has them, else the server's enabled
 * models for each of `providers`. No last-success times: freshness needs the database, so a
 * remote runner benchmarks every model it is given.
 * @throws UsageError when neither models nor providers say what to run.
 */
export async function modelsFromRunnerConfig(
  runnerConfig: (provider: string) => Promise<ModelDoc[]>,
  options: {
    explicit: Array<{ provider: ProviderName; modelId: string }> | null;
    providers: ProviderName[];
    logger?: Logger;
  },
): Promise<SweepModel[]> {
  const wanted = (p: string) => isWanted(p, options.providers);
  if (options.explicit) {
    const explicit = options.explicit.filter((m) => wanted(m.provider));
    const quirks = new Map<string, Record<string, unknown>>();
    for (const provider of new Set(explicit.map((m) => m.provider))) {
      try {
        for (const doc of await runnerConfig(provider)) quirks.set(`${provider}\u0000${doc.model_id}`, doc.misc ?? {});
      } catch (err) {
        // The list is explicit, so the sweep can run without the server: its results are
        // spooled. Only the models' quirks are missing.
        (options.logger ?? silentLogger).warn(`Running without the models' quirks: ${(err as Error).message}`);
      }
    }
    return explicit.map((m) => ({ ...m, misc: quirks.get(`${m.provider}\u0000${m.modelId}`) ?? {}, lastSuccessAt: null }));
  }
  if (options.providers.length === 0) {
    throw new UsageError('A remote runner (INGEST_API_URL set) needs --provider P or --models/BENCHMARK_MODELS to know what to run');
  }
  const models: SweepModel[] = [];
  for (const provider of options.providers) {
    for (const doc of await runnerConfig(provider)) {
      models.push({ provider, modelId: doc.model_id, misc: doc.misc ?? {}, lastSuccessAt: null });
    }
  }
  return models;
}

/** The machine-readable form of one result (bench-once --json). */
export function resultToJson(r: ModelResult): Record<string, unknown> {
  return {
    provider: r.provider,
    model: r.modelId,
    outcome: r.outcome,
    run_id: r.metric?.run_id ?? r.error?.run_id ?? null,
    attempts: r.attempts,
    time_to_first_token: r.metric?.time_to_first_token ?? null,
    tokens_per_second: r.metric?.tokens_per_second ?? null,
    decode_tokens_per_second: r.metric?.decode_tokens_per_second ?? null,
    output_tokens: r.metric?.output_tokens ?? null,
    error_kind: r.error?.error_kind ?? null,
    stage: r.error?.stage ?? null,
    message: r.error?.message ?? null,
    skip_reason: r.skipReason,
    stored: r.outcome === 'ok' || r.outcome === 'failed' ? r.writeError === null : null,
    write_error: r.writeError,
  };
}

const fmt = (v: number | null | undefined, digits: number, unit = '') => (v === null || v === undefined ? '-' : `${v.toFixed(digits)}${unit}`);

/** One journal line per model. */
export function formatResultLine(r: ModelResult): string {
  const target = `${r.provider}/${r.modelId}`;
  const tries = r.attempts > 1 ? ` after ${r.attempts} attempts` : '';
  const unstored = r.writeError ? ` [NOT STORED: ${r.writeError}]` : '';
  switch (r.outcome) {
    case 'ok': {
      const m = r.metric!;
      return `${target}: ok${tries}, TTFT ${fmt(m.time_to_first_token, 3, ' s')}, ${fmt(m.tokens_per_second, 1)} tokens/s, decode ${fmt(m.decode_tokens_per_second, 1)} tokens/s, ${m.output_tokens} tokens${unstored}`;
    }
    case 'failed':
      // The message already says how many attempts were made.
      return `${target}: failed (${r.error!.error_kind}, stage ${r.error!.stage}): ${r.error!.message}${unstored}`;
    default:
      return `${target}: skipped, ${r.skipReason}`;
  }
}

export function formatSummary(s: SweepSummary): string {
  const kinds = Object.entries(s.errorsByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `Sweep done in ${(s.durationMs / 1000).toFixed(1)} s: ${s.models} models, ${s.ok} ok, ${s.failed} failed` +
    (kinds ? ` (${kinds})` : '') +
    `, ${s.skippedFresh} fresh, ${s.skippedDeadline} skipped at the deadline` +
    (s.writeFailures ? `, ${s.writeFailures} NOT STORED` : '') +
    (s.interrupted ? ', interrupted' : '')
  );
}
