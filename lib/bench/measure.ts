// Measurement (SPEC 4.1) and validation (SPEC 6): turns any provider's timed StreamEvents into
// the metrics document, so every provider is measured by the same code. All times here are
// the monotonic clock in milliseconds (`t` on each event); the document stores seconds.
import type { ProviderName } from '../config.ts';
import type { ErrorDoc, ErrorKind, InterChunkMs, MetricDoc, TokenSource, ValidationPolicy } from '../store/documents.ts';
import { buildErrorDoc } from '../errors.ts';
import type { StreamEvent, Usage } from './provider-stream.ts';

/** Providers that honour the max-tokens budget exactly, so a count far from it means a broken call (SPEC 6). */
const STRICT_BUDGET_PROVIDERS: ReadonlySet<string> = new Set(['anthropic', 'bedrock', 'cerebras', 'mock']);

export const METRICS_SCHEMA_VERSION = 2;

/** Everything one call's stream produced, as the runner saw it. */
export interface Recording {
  events: StreamEvent[];
  /** Monotonic time just before the provider function was called (used only if it never emitted `request`). */
  startT: number;
  /** Monotonic time when the iterator finished. */
  endT: number;
}

export interface MeasureContext {
  provider: ProviderName;
  modelId: string;
  runId: string;
  profileId: string;
  runner: string;
  /** Wall clock minus monotonic clock, in ms, read once per call: maps event times to run_ts/gen_ts. */
  wallOffsetMs: number;
  /** The profile's budget, used only when the adapter never said what it sent. */
  fallbackMaxTokens: number;
  /** When the sweep started (recorded so freshness can compare sweep starts). */
  sweepStartedAt?: Date;
  /** Attempts the runner made before this one (retries before the first byte) and their largest budget. */
  previousAttempts?: number;
  previousMaxTokens?: number;
}

export type CallOutcome = { ok: true; metric: MetricDoc } | { ok: false; metric: MetricDoc; error: ErrorDoc };

/**
 * Builds the metrics document and validates it. A validation failure carries an ErrorDoc with stage validate.
 * @throws only when the tokenizer is needed and cannot be loaded.
 */
export async function evaluateCall(recording: Recording, ctx: MeasureContext): Promise<CallOutcome> {
  const metric = await buildMetric(recording, ctx);
  const failure = validateMetric(metric);
  if (!failure) return { ok: true, metric };
  const error = buildErrorDoc({
    provider: ctx.provider,
    model_name: ctx.modelId,
    ts: metric.gen_ts,
    stage: 'validate',
    error_kind: failure.kind,
    message: `Invalid result from ${ctx.provider}/${ctx.modelId}: ${failure.message}`,
    http_status: null,
    run_id: ctx.runId,
    benchmark_profile_id: ctx.profileId,
    runner: ctx.runner,
  });
  return { ok: false, metric, error };
}

/**
 * When a call's clock starts (SPEC 5, just before the request): when its last request's last
 * byte went to the socket, where the adapter saw it, so neither the SDK building the request nor
 * our busy loop holding it back counts as the provider's time; else at that request event;
 * null without one.
 */
export function clockStart(events: StreamEvent[]): number | null {
  const last = events.findLastIndex((e) => e.type === 'request');
  if (last < 0) return null;
  for (let i = last + 1; i < events.length; i++) {
    const e = events[i]!;
    if (e.type === 'connection') return e.sentAt ?? events[last]!.t;
  }
  return events[last]!.t;
}

/**
 * The SPEC 4.1 document for one recorded call, measured from its last `request` event (an
 * adapter that retries inside one call starts measurement again).
 * @throws only when the tokenizer is needed and cannot be loaded.
 */
export async function buildMetric(recording: Recording, ctx: MeasureContext): Promise<MetricDoc> {
  const { events } = recording;
  let lastRequest = -1;
  let requestsSeen = 0;
  let maxBudget = ctx.previousMaxTokens ?? 0;
  events.forEach((ev, i) => {
    if (ev.type !== 'request') return;
    lastRequest = i;
    requestsSeen += 1;
    maxBudget = Math.max(maxBudget, ev.maxTokens);
  });
  const request = lastRequest >= 0 ? (events[lastRequest] as Extract<StreamEvent, { type: 'request' }>) : null;
  const after = events.slice(lastRequest + 1);
  const connection = after.find((e): e is Extract<StreamEvent, { type: 'connection' }> => e.type === 'connection');
  const t0 = clockStart(events) ?? recording.startT;
  const requestedTokens = request?.maxTokens ?? ctx.fallbackMaxTokens;
  if (maxBudget === 0) maxBudget = requestedTokens;

  const sec = (t: number) => (t - t0) / 1000;
  const deltas = after.filter(
    (e): e is Extract<StreamEvent, { type: 'text' | 'reasoning' }> => (e.type === 'text' || e.type === 'reasoning') && e.text !== '',
  );
  const firstText = deltas.find((e) => e.type === 'text');
  const firstReasoning = deltas.find((e) => e.type === 'reasoning');
  // A first_byte event is the adapter's word for "the stream began"; without one, the first
  // event of any kind after the request is the first byte.
  const firstByte = after.find((e) => e.type === 'first_byte') ?? after.find((e) => e.type !== 'connection');
  const finish = [...after].reverse().find((e): e is Extract<StreamEvent, { type: 'finish' }> => e.type === 'finish');
  const usageEvents = after.filter((e): e is Extract<StreamEvent, { type: 'usage' }> => e.type === 'usage').map((e) => e.usage);
  const usage = mergeUsage(usageEvents);

  const reasoningText = deltas.filter((d) => d.type === 'reasoning').map((d) => d.text).join('');
  const streamedReasoning = reasoningText.length > 0;
  // Tokenizer counts of every delta: the shape of the stream over time. Their scale comes
  // from the provider's counts below (SPEC 5); never the number of chunks.
  // The mock simulates its counts, so a mock sweep never loads the tokenizer (unless no-usage).
  const chunkTokens = deltas.every((d) => d.tokens !== undefined)
    ? deltas.map((d) => d.tokens!)
    : await countEach(deltas.map((d) => d.text));
  const tokenizerVisible = sum(chunkTokens.filter((_, i) => deltas[i]!.type === 'text'));
  const tokenizerReasoning = sum(chunkTokens.filter((_, i) => deltas[i]!.type === 'reasoning'));

  let outputTokens: number;
  let reasoningTokens: number | null;
  let tokenSource: TokenSource;
  if (usage.outputTokens !== null) {
    outputTokens = usage.outputTokens;
    reasoningTokens = usage.reasoningTokens;
    // The mock's usage is part of its simulation, not a provider's report.
    tokenSource = ctx.provider === 'mock' ? 'simulated' : 'provider_usage';
    if (reasoningTokens === null && ctx.provider !== 'mock') {
      // No split reported (Anthropic, Bedrock). Thinking that streamed is counted with the
      // tokenizer; a total far above everything that streamed holds reasoning that never did.
      const split = splitWithoutReport(outputTokens, tokenizerVisible, tokenizerReasoning);
      if (split !== null) {
        reasoningTokens = split;
        tokenSource = 'provider_usage_tokenizer_split';
      }
    }
  } else {
    // Only when the provider reported no output count: a real tokenizer over what streamed.
    outputTokens = tokenizerVisible + tokenizerReasoning;
    reasoningTokens = streamedReasoning ? tokenizerReasoning : usage.reasoningTokens;
    tokenSource = 'tokenizer';
  }
  const visibleTokens =
    reasoningTokens !== null ? Math.max(0, outputTokens - reasoningTokens) : streamedReasoning ? null : outputTokens;

  // Per-chunk token counts, each kind scaled to the provider's count of that kind when the
  // count covers what streamed; reasoning that never streamed stays out (SPEC 5).
  const scaleVisible = streamScale(visibleTokens, tokenizerVisible);
  const scaleReasoning = streamScale(reasoningTokens, tokenizerReasoning);
  const perChunk = chunkTokens.map((n, i) => n * (deltas[i]!.type === 'text' ? scaleVisible : scaleReasoning));

  // generate_time ends at the last event carrying text, reasoning or the finish; a usage-only
  // event after it (or the socket closing) does not stretch it.
  const lastContent = [...after].reverse().find((e) => e.type === 'text' || e.type === 'reasoning' || e.type === 'finish');
  const generateTime = sec(lastContent?.t ?? recording.endT);
  const tokensPerSecond = outputTokens / generateTime;
  const gaps = deltas.slice(1).map((d, i) => d.t - deltas[i]!.t);
  const decode = decodeRate(deltas, perChunk);
  const at64 = timeToVisibleTokens(deltas, perChunk, 64);
  const runTs = new Date(ctx.wallOffsetMs + t0);

  return {
    provider: ctx.provider,
    model_name: ctx.modelId,
    run_ts: runTs,
    gen_ts: new Date(runTs.getTime() + generateTime * 1000),
    tokens_per_second: tokensPerSecond,
    generate_time: generateTime,
    time_to_first_token: firstText ? sec(firstText.t) : null,
    output_tokens: outputTokens,
    requested_tokens: requestedTokens,
    generated_tokens_per_second: tokensPerSecond,
    visible_tokens_per_second: visibleTokens === null ? null : visibleTokens / generateTime,
    temperature: request ? request.temperature : null,
    misc: { ...(request?.applied ?? {}), ...(ctx.provider === 'mock' ? { mock: true } : {}) },
    times_between_tokens: gaps.map((g) => Math.round(g * 1000) / 1e6), // seconds, in whole microseconds (stored packed, issue 28)
    metrics_schema_version: METRICS_SCHEMA_VERSION,

    run_id: ctx.runId,
    generated_output_tokens: outputTokens,
    visible_output_tokens: visibleTokens,
    reasoning_tokens: reasoningTokens,
    input_tokens: usage.inputTokens,
    cached_input_tokens: usage.cachedInputTokens,
    total_tokens: usage.totalTokens,
    token_source: tokenSource,
    request_mode: request?.mode ?? 'unknown',
    ttft_available: firstText !== undefined,
    time_to_first_byte: firstByte ? sec(firstByte.t) : null,
    time_to_first_reasoning_token: firstReasoning ? sec(firstReasoning.t) : null,
    decode_tokens_per_second: decode,
    chunk_count: deltas.length,
    inter_chunk_ms: percentiles(gaps),
    provider_latency_ms: finish?.providerLatencyMs ?? null,
    finish_reason: finish?.reason ?? null,
    raw_finish_reason: finish?.rawReason ?? null,
    response_id: finish?.responseId ?? null,
    attempts_count: (ctx.previousAttempts ?? 0) + Math.max(1, requestsSeen),
    max_output_tokens_attempted: maxBudget,
    reasoning_effort: request?.reasoningEffort ?? null,
    validation_policy: validationPolicyFor(ctx.provider),
    benchmark_profile_id: ctx.profileId,
    runner: ctx.runner,
    ...(ctx.provider === 'mock' ? { mock: true } : {}),
    sweep_started_at: ctx.sweepStartedAt ?? null,
    raw_usage: usageEvents.length > 0 ? usageEvents.map((u) => u.raw ?? null) : null,
    ...servedBy(finish),
    ...(connection?.rateLimit ? { rate_limit: connection.rateLimit } : {}),
    ...(finish?.providerTimings ? { provider_timings: finish.providerTimings } : {}),
    time_to_64_visible_tokens_seconds: at64 === null ? null : sec(at64),
    connection_reused: connection ? connection.reused : null,
  };
}

export function validationPolicyFor(provider: string): ValidationPolicy {
  return STRICT_BUDGET_PROVIDERS.has(provider) ? 'strict_pm10' : 'visible_nonzero';
}

export interface ValidationFailure {
  kind: ErrorKind;
  message: string;
}

/** SPEC 6: a call that returned can still be a failure. Returns null when the result is valid. */
export function validateMetric(m: MetricDoc): ValidationFailure | null {
  if (!(m.output_tokens > 0)) return { kind: 'unknown', message: `no output tokens (finish reason ${m.finish_reason ?? 'unknown'})` };
  if (!Number.isFinite(m.tokens_per_second) || m.tokens_per_second <= 0) {
    return {
      kind: 'unknown',
      message: `tokens per second ${m.tokens_per_second} is not a positive number (${m.output_tokens} tokens in ${m.generate_time} s)`,
    };
  }
  if (m.finish_reason === 'error') {
    return { kind: 'transient_provider', message: `the provider ended the stream with finish reason ${m.raw_finish_reason ?? 'error'}` };
  }
  if (!m.ttft_available) {
    if (m.finish_reason === 'length') {
      const spent = m.reasoning_tokens !== null ? ` on ${m.reasoning_tokens} reasoning tokens` : '';
      return {
        kind: 'budget_exhausted',
        message: `no visible text: the token budget of ${m.requested_tokens} ran out${spent} before any visible text`,
      };
    }
    return { kind: 'unknown', message: `no visible text (finish reason ${m.finish_reason ?? 'unknown'}, ${m.output_tokens} output tokens)` };
  }
  if (m.validation_policy === 'strict_pm10' && Math.abs(m.output_tokens - m.requested_tokens) > 0.1 * m.requested_tokens) {
    return { kind: 'unknown', message: `output_tokens ${m.output_tokens} not within 10% of requested ${m.requested_tokens}` };
  }
  return null;
}

/** Several usage events may arrive (OpenAI-compatible final chunk, Anthropic start + delta): later non-null fields win. */
function mergeUsage(list: Usage[]): Omit<Usage, 'raw'> {
  const out: Omit<Usage, 'raw'> = {
    inputTokens: null,
    outputTokens: null,
    reasoningTokens: null,
    cachedInputTokens: null,
    totalTokens: null,
  };
  for (const u of list) {
    for (const k of Object.keys(out) as Array<keyof typeof out>) {
      const v = u[k];
      if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    }
  }
  return out;
}

// A provider count above this multiple of what the tokenizer found in the stream (plus a few
// tokens of slack) cannot be tokenizer disagreement (o200k and the providers' own tokenizers
// differ by well under 1.5× on prose): it holds tokens that never streamed.
const HIDDEN_FACTOR = 1.5;
const HIDDEN_SLACK = 8;

function holdsHidden(providerCount: number, streamed: number): boolean {
  return providerCount > HIDDEN_FACTOR * streamed + HIDDEN_SLACK;
}

/**
 * The reasoning count when the provider reports no split: thinking that streamed, counted by
 * the tokenizer and scaled with the visible text to the provider's total; or, when the total
 * holds far more than streamed, everything but the streamed visible text. null: nothing says
 * there was any reasoning.
 */
function splitWithoutReport(output: number, visible: number, reasoning: number): number | null {
  if (holdsHidden(output, visible + reasoning)) return Math.max(0, output - visible);
  if (reasoning === 0) return null;
  return Math.round((output * reasoning) / (visible + reasoning));
}

/** Factor from tokenizer counts to the provider's count of streamed tokens of one kind (1: no usable count). */
function streamScale(providerCount: number | null, tokenizer: number): number {
  if (providerCount === null || tokenizer === 0 || holdsHidden(providerCount, tokenizer)) return 1;
  return providerCount / tokenizer;
}

/** Tokens that arrived after the first delta (the first chunk's own out) per second of the span to the last. */
function decodeRate(deltas: Array<{ t: number }>, perChunk: number[]): number | null {
  if (deltas.length < 2) return null;
  const first = deltas[0]!.t;
  const spanMs = deltas[deltas.length - 1]!.t - first;
  if (!(spanMs > 0)) return null;
  let tokens = 0;
  deltas.forEach((d, i) => {
    if (d.t > first) tokens += perChunk[i]!;
  });
  return tokens / (spanMs / 1000);
}

/** When the running count of visible tokens reached n; null when fewer streamed. */
function timeToVisibleTokens(deltas: Array<{ type: string; t: number }>, perChunk: number[], n: number): number | null {
  let seen = 0;
  for (const [i, d] of deltas.entries()) {
    if (d.type !== 'text') continue;
    seen += perChunk[i]!;
    // Scaled counts are fractions; a sum that should be exactly n may land a hair below.
    if (seen >= n - 1e-6) return d.t;
  }
  return null;
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** A provider's own naming is kept to this many characters: a row stays bounded whatever it sends. */
export const SERVED_MAX_CHARS = 200;

/** The model and fingerprint the provider says answered (SPEC 18), each only when it said. */
function servedBy(finish: { servedModel?: string | null; fingerprint?: string | null } | undefined): Pick<MetricDoc, 'served_model' | 'served_fingerprint'> {
  const cap = (v: string | null | undefined) => (v ? v.slice(0, SERVED_MAX_CHARS) : null);
  const model = cap(finish?.servedModel);
  const fingerprint = cap(finish?.fingerprint);
  return { ...(model ? { served_model: model } : {}), ...(fingerprint ? { served_fingerprint: fingerprint } : {}) };
}

/** Linear-interpolated percentiles of the gaps between deltas; all null when there are none. */
export function percentiles(values: number[]): InterChunkMs {
  if (values.length === 0) return { p50: null, p90: null, p99: null, max: null };
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => {
    const pos = (sorted.length - 1) * p;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
  };
  return { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: sorted[sorted.length - 1]! };
}

let encoder: Promise<(text: string) => number> | null = null;

/** Counts tokens with a real BPE tokenizer (o200k_base, the GPT-4o/o-series encoding). */
export async function countTokens(text: string): Promise<number> {
  if (text === '') return 0;
  return (await tokenizer())(text);
}

// Measuring a finished call shares the thread with calls still streaming beside it, whose
// chunks are timed when the event loop gets to them: counting a 2,000-chunk answer in one go
// holds it 5–7 ms on an idle machine, more under load, so it yields this often.
const COUNT_SLICE_MS = 0.5;

/**
 * Tokenizer counts of each text. Every call's texts go through one queue, counted in slices of
 * COUNT_SLICE_MS, one slice per turn of the event loop: calls that finish together would
 * otherwise each take a slice per turn, and a chunk of a call still streaming would wait for
 * all of them before it is timed.
 */
async function countEach(texts: string[]): Promise<number[]> {
  const count = await tokenizer();
  if (texts.length === 0) return [];
  return new Promise((done, fail) => {
    countJobs.push({ texts, counts: [], count, done, fail });
    if (countJobs.length === 1) setImmediate(countSlice);
  });
}

interface CountJob {
  texts: string[];
  counts: number[];
  count: (text: string) => number;
  done: (counts: number[]) => void;
  fail: (err: unknown) => void;
}

const countJobs: CountJob[] = [];

function countSlice(): void {
  const sliceStart = performance.now();
  while (countJobs.length > 0 && performance.now() - sliceStart < COUNT_SLICE_MS) {
    const job = countJobs[0]!;
    try {
      job.counts.push(job.count(job.texts[job.counts.length]!));
    } catch (err) {
      // One call's measurement fails; the calls queued behind it are still counted.
      countJobs.shift();
      job.fail(err);
      continue;
    }
    if (job.counts.length === job.texts.length) {
      countJobs.shift();
      job.done(job.counts);
    }
  }
  if (countJobs.length > 0) setImmediate(countSlice);
}

/**
 * Loads the tokenizer now. Every call's measurement needs it (per-chunk counts), and its load
 * blocks the event loop for tens of milliseconds: done in the warm-up, it never lands inside
 * another lane's timed call.
 */
export async function loadTokenizer(): Promise<void> {
  (await tokenizer())('warm');
}

function tokenizer(): Promise<(text: string) => number> {
  encoder ??= import('gpt-tokenizer/encoding/o200k_base').then((m) => (t: string) => m.countTokens(t));
  return encoder;
}
