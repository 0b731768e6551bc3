// Validation of what remote runners post to the ingest server (SPEC 9). Two kinds of sender
// must keep working: this project's runner, which posts complete SPEC 4.1/4.2 documents with
// ISO dates, and the upstream Python runner, which posts its run config merged with its
// metrics (`provider`, `model_name`, `run_ts` as "YYYY-MM-DD HH:MM:SS", `temperature`,
// `misc`, the five headline numbers, no run_id). Both come out as complete documents: what
// is derivable from the payload is derived, what is not is null, never 0.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { AgentErrorKind, AgentRunDoc, ErrorDoc, ErrorKind, EvidenceMark, MetricDoc, RowEvidence } from '../store/documents.ts';
import { ERROR_KINDS, ERROR_STAGES, EVIDENCE_MARKS, RESULT_CAP_BYTES, cacheEvidence, withEvidence } from '../store/documents.ts';
import { buildErrorDoc, classifyError } from '../errors.ts';
import { saturationEvidence } from '../bench/loop-lag.ts';
import { SERVED_MAX_CHARS, percentiles } from '../bench/measure.ts';
import { redact } from '../log.ts';
import { isMockAutomation } from '../tinyfish/mock.ts';
import { RESULT_TYPES, type ResultType } from './routes.ts';

/** SPEC 4.1: the profile every upstream row was measured with. */
export const DEFAULT_PROFILE_ID = 'cloud-default-v1';
/** `runner` of a document whose sender did not say who measured it. */
export const DEFAULT_RUNNER = 'ingest';
/** Most items one POST /ingest/batch may carry (the body cap bounds it too). */
export const MAX_BATCH_ITEMS = 500;
// Provider error messages can be whole HTML pages; the rest is noise and journal volume.
const MAX_MESSAGE_CHARS = 8000;
const MAX_MISC_DEPTH = 8;
// Bounds on numbers and dates (issue 13): a row from the far future would look fresh for
// ever, and 1e308 tokens/s would wreck every median. A runner's clock may be a little ahead.
const MAX_FUTURE_MS = 5 * 60_000;
// The store keeps everything, but nothing reads further back than a year (reports look back
// days, regressions weeks): an older result is a runner's broken clock, not a measurement.
const MAX_AGE_MS = 366 * 86_400_000;
const MAX_RATE = 10_000_000;
const MAX_SECONDS = 86_400;
// One gap per stream delta; 300,000 of them cost half a second of CPU in one request.
const MAX_GAPS = 65_536;
// One call's cost (SPEC 17): the dearest models cost a few hundred USD per million output
// tokens, so even a 100k-token answer stays far below this; more is a sender's bug.
const MAX_COST_USD = 10_000;

/** A field that failed validation: `field` is a dotted path (`inter_chunk_ms.p50`, `times_between_tokens[3]`), null for the whole body. */
export interface FieldIssue {
  code: 'invalid_body' | 'missing_field' | 'invalid_field';
  field: string | null;
  message: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; issue: FieldIssue };

const UPSTREAM_TS = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Parses a timestamp in ISO 8601 form or the upstream "YYYY-MM-DD HH:MM:SS" form. A time
 * without an offset is UTC (the upstream runner writes UTC wall-clock times without one).
 * Returns null for anything that is not a real calendar date and time.
 */
export function parseTimestamp(text: string): Date | null {
  const m = UPSTREAM_TS.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const parts = [y, mo, d, h, mi, s].map(Number) as [number, number, number, number, number, number];
  const [year, month, day, hour, minute, second] = parts;
  const ms = frac ? Math.floor(Number(`0.${frac}`) * 1000) : 0;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(utc);
  // Date.UTC rolls 2026-02-30 over to March: a date that does not exist is not a date.
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return null;
  }
  let offsetMs = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = Number(digits.slice(2, 4));
    if (oh > 23 || om > 59) return null;
    offsetMs = sign * (oh * 60 + om) * 60_000;
  }
  return new Date(utc - offsetMs);
}

const timestamp = z.string().transform((text, ctx) => {
  const date = parseTimestamp(text);
  if (!date) {
    ctx.addIssue({ code: 'custom', message: 'must be a date: ISO 8601 or "YYYY-MM-DD HH:MM:SS" (UTC)' });
    return z.NEVER;
  }
  return date;
});

// Names end up in store queries and journal lines: no control characters, bounded length.
function name(max: number) {
  return z
    .string()
    .min(1)
    .max(max)
    .regex(/^[^\u0000-\u001f\u007f]+$/, 'must not contain control characters');
}

const runId = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'may contain only letters, digits and . _ : -');

const seconds = z.number().min(0).max(MAX_SECONDS);
const rate = z.number().min(0).max(MAX_RATE);
const tokens = z.int().min(0);
// SPEC 18: a key's limits (rate-limit headers) and a provider's own times, typed and strict.
const limitCount = z.number().min(0).max(1e15).nullable();
const rateLimit = z
  .object({ requests_limit: limitCount, requests_remaining: limitCount, tokens_limit: limitCount, tokens_remaining: limitCount, retry_after_s: seconds.nullable() })
  .strict();
const providerTimings = z.object({ queue_s: seconds.nullable(), prompt_s: seconds.nullable(), completion_s: seconds.nullable(), total_s: seconds.nullable() }).strict();
// SPEC 18: the runner's event-loop lag during the call (ms), absent when not measured; no call outlasts MAX_SECONDS.
const clientLagMs = z.number().min(0).max(MAX_SECONDS * 1000);
// The runner's marks, each only ever true; strict, so nothing else rides along.
const evidence = z.object(Object.fromEntries(EVIDENCE_MARKS.map((k) => [k, z.literal(true).optional()])) as Record<EvidenceMark, z.ZodOptional<z.ZodLiteral<true>>>).strict();
const optionalText = (max: number) => z.string().max(max).nullable().optional();

// `misc` is free-form, but keys starting with `$` are Mongo operators (and `{"$date": …}` is
// the SQLite store's date tag), and `__proto__` would become a prototype when copied.
const misc = z.unknown().transform((value, ctx) => {
  const problem = miscProblem(value, 'misc', 0);
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
    return z.NEVER;
  }
  return value as Record<string, unknown>;
});

// The providers' own usage objects: free-form like misc, with the same key rules.
const rawUsage = z
  .array(z.unknown())
  .max(16)
  .transform((value, ctx) => {
    const problem = miscProblem(value, 'raw_usage', 1);
    if (problem) {
      ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
      return z.NEVER;
    }
    return value;
  });

function miscProblem(value: unknown, where: string, depth: number, maxDepth = MAX_MISC_DEPTH): { path: string[]; message: string } | null {
  if (depth === 0 && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    return { path: [], message: 'must be an object' };
  }
  if (depth > maxDepth) return { path: [], message: `is nested more than ${maxDepth} levels deep` };
  if (value === null || typeof value !== 'object') return null;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  for (const [key, v] of entries) {
    if (!Array.isArray(value) && (key.startsWith('$') || key === '__proto__')) {
      return { path: [key], message: `key ${JSON.stringify(key)} in ${where} is not allowed (no $-prefixed or __proto__ keys)` };
    }
    // BSON cannot encode a NUL in a key, and MongoDB reads a dot as a path: either would
    // fail the store on every retry.
    if (!Array.isArray(value) && (key.includes('\u0000') || key.includes('.'))) {
      return { path: [key], message: `key ${JSON.stringify(key)} in ${where} is not allowed (no NUL bytes or dots in keys)` };
    }
    const inner = miscProblem(v, where, depth + 1, maxDepth);
    if (inner) return { path: [key, ...inner.path], message: inner.message };
  }
  return null;
}

const interChunkMs = z.object({
  p50: seconds.nullable(),
  p90: seconds.nullable(),
  p99: seconds.nullable(),
  max: seconds.nullable(),
});

const metricSchema = z.object({
  provider: name(64),
  model_name: name(256),
  run_ts: timestamp,
  gen_ts: timestamp.optional(),
  // SPEC 6: a call with no output or no speed is a failure, recorded through /ingest/error.
  tokens_per_second: z.number().gt(0).max(MAX_RATE),
  generate_time: z.number().gt(0).max(MAX_SECONDS),
  time_to_first_token: seconds.nullable().optional(),
  output_tokens: z.int().min(1),
  requested_tokens: z.int().min(1),
  generated_tokens_per_second: rate.optional(),
  visible_tokens_per_second: rate.nullable().optional(),
  temperature: z.number().min(0).max(2).nullable().optional(),
  misc: misc.optional(),
  times_between_tokens: z.array(seconds).max(MAX_GAPS).optional(),
  metrics_schema_version: z.literal(2).optional(),

  run_id: runId.optional(),
  generated_output_tokens: tokens.optional(),
  visible_output_tokens: tokens.nullable().optional(),
  reasoning_tokens: tokens.nullable().optional(),
  input_tokens: tokens.nullable().optional(),
  cached_input_tokens: tokens.nullable().optional(),
  total_tokens: tokens.nullable().optional(),
  // SPEC 9: where the count came from and how the call was made are the sender's own words
  // (upstream: `provider_usage_output_tokens_with_tiktoken_visible_split`,
  // `openrouter_chat_completions_stream`, …), stored as sent and only bounded in length.
  token_source: optionalText(128),
  request_mode: optionalText(128),
  ttft_available: z.boolean().optional(),
  time_to_first_byte: seconds.nullable().optional(),
  time_to_first_reasoning_token: seconds.nullable().optional(),
  decode_tokens_per_second: rate.nullable().optional(),
  chunk_count: tokens.nullable().optional(),
  inter_chunk_ms: interChunkMs.nullable().optional(),
  provider_latency_ms: seconds.nullable().optional(),
  finish_reason: optionalText(64),
  raw_finish_reason: optionalText(256),
  response_id: optionalText(256),
  attempts_count: z.int().min(1).nullable().optional(),
  max_output_tokens_attempted: z.int().min(1).nullable().optional(),
  reasoning_effort: optionalText(64),
  validation_policy: optionalText(64),
  benchmark_profile_id: name(64).optional(),
  runner: name(128).optional(),
  mock: z.boolean().optional(),
  sweep_started_at: timestamp.nullable().optional(),
  raw_usage: rawUsage.nullable().optional(),
  // Sent by the upstream Python runner (its build_cloud_metrics), stored as sent.
  response_status: optionalText(64),
  visible_text_empty: z.boolean().nullable().optional(),
  time_to_64_visible_tokens_seconds: seconds.nullable().optional(),
  connection_reused: z.boolean().nullable().optional(),
  // Written by our own runner (SPEC 17, scenarios' cache defeat): a remote runner's row keeps them.
  cost_usd: z.number().min(0).max(MAX_COST_USD).nullable().optional(),
  cache_defeat_nonce: optionalText(128),
  requested_input_tokens: z.number().int().min(1).nullable().optional(),
  parallel_group_id: optionalText(64),
  parallel_size: z.number().int().min(1).nullable().optional(),
  evidence: evidence.optional(),
  client_lag_ms: clientLagMs.optional(),
  served_model: z.string().min(1).max(SERVED_MAX_CHARS).optional(),
  served_fingerprint: z.string().min(1).max(SERVED_MAX_CHARS).optional(),
  rate_limit: rateLimit.optional(),
  provider_timings: providerTimings.optional(),
});

const errorSchema = z.object({
  provider: name(64),
  model_name: name(256),
  ts: timestamp,
  stage: z.enum(ERROR_STAGES),
  message: z.string().min(1),
  // A kind this project does not know (a newer upstream taxonomy) is not refused: the error is
  // classified here instead, as when none is sent.
  error_kind: z.string().max(64).optional(),
  http_status: z.int().min(100).max(599).nullable().optional(),
  run_id: runId.optional(),
  benchmark_profile_id: name(64).optional(),
  runner: name(128).optional(),
  rate_limit: rateLimit.optional(),
  client_lag_ms: clientLagMs.optional(),
  parallel_group_id: optionalText(64),
  parallel_size: z.number().int().min(1).nullable().optional(),
});

// --- Agent runs (SPEC 4.6) -------------------------------------------------------------------
// What lib/tinyfish/run.ts builds, sent by a remote runner. TinyFish's own wording (its final
// status, its error text) is kept, bounded in length and with keys redacted; the result is
// capped as the runner caps it (capResult: its JSON at RESULT_CAP_BYTES, else its text cut there).
const MAX_RUN_MS = MAX_SECONDS * 1000;
const MAX_RESULT_DEPTH = 64;
const runMs = z.number().min(0).max(MAX_RUN_MS);
const AGENT_ERROR_KINDS: readonly string[] = [...ERROR_KINDS, 'run_failed'];

// A cut result is a string of RESULT_CAP_BYTES, plus at most a replacement character where the
// cut split a multi-byte one.
const CUT_SLACK_BYTES = 3;

const agentResult = z.unknown().transform((value, ctx) => {
  // A string is measured as itself: its JSON escapes every quote of the JSON text it was cut from.
  const bytes = typeof value === 'string' ? Buffer.byteLength(value) - CUT_SLACK_BYTES : Buffer.byteLength(JSON.stringify(value ?? null));
  if (bytes > RESULT_CAP_BYTES) {
    ctx.addIssue({ code: 'custom', message: `is larger than ${RESULT_CAP_BYTES} bytes (the runner caps it and sets result_truncated)` });
    return z.NEVER;
  }
  // A result is TinyFish's JSON, stored in MongoDB as it is: the same key rules as misc.
  // A scraped page's JSON nests deeper than a model's quirks; BSON allows 100 levels.
  const problem = value !== null && typeof value === 'object' ? miscProblem(value, 'result', 1, MAX_RESULT_DEPTH) : null;
  if (problem) {
    ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
    return z.NEVER;
  }
  return value ?? null;
});

const agentRunSchema = z.object({
  // Required: a run is idempotent by the id its runner gave it.
  run_id: runId,
  provider: z.literal('tinyfish'),
  automation: name(256),
  scenario_id: name(64),
  started_at: timestamp,
  finished_at: timestamp,
  status: z.enum(['completed', 'failed', 'timeout']),
  total_duration_ms: runMs,
  time_to_started_ms: runMs.nullable().optional(),
  time_to_first_progress_ms: runMs.nullable().optional(),
  progress_events: tokens.max(1_000_000),
  // Not in SPEC 4.6's list: a post shaped as the spec is taken without them.
  event_count: tokens.max(1_000_000).nullable().optional(),
  inter_event_ms: z.object({ p50: runMs.nullable(), p90: runMs.nullable(), p99: runMs.nullable(), max: runMs.nullable() }),
  tinyfish_run_id: optionalText(256),
  endpoint: z.enum(['run-sse', 'run']).optional(),
  tinyfish_status: optionalText(64),
  result: agentResult.optional(),
  result_truncated: z.boolean().optional(),
  error: z.string().nullable().optional(),
  // A kind this project does not know is kept as unknown, as for errors.
  error_kind: z.string().max(64).nullable().optional(),
  http_status: z.int().min(100).max(599).nullable().optional(),
  runner: name(128).optional(),
  mock: z.boolean().optional(),
  sweep_started_at: timestamp.nullable().optional(),
});

/**
 * Validates a posted agent run (SPEC 4.6) and completes it: what the sender left out is null
 * (or false), the error text is capped like an error document's. Never throws.
 */
export function parseAgentRunPayload(input: unknown, options: TimeBounds = {}): Parsed<AgentRunDoc> {
  const r = agentRunSchema.safeParse(input);
  if (!r.success) return { ok: false, issue: toIssue(r.error.issues, input) };
  const p = r.data;
  const late = timeProblem('started_at', p.started_at, options) ?? timeProblem('finished_at', p.finished_at, options);
  if (late) return { ok: false, issue: late };
  if (p.finished_at < p.started_at) {
    return { ok: false, issue: { code: 'invalid_field', field: 'finished_at', message: 'finished_at: is before started_at' } };
  }
  // As for error documents: a key in TinyFish's wording never reaches the store, the pages or the mail.
  const error = p.error === undefined || p.error === null ? null : redact(capMessage(p.error));
  const kind = p.error_kind === undefined || p.error_kind === null ? null : AGENT_ERROR_KINDS.includes(p.error_kind) ? (p.error_kind as AgentErrorKind) : 'unknown';
  return {
    ok: true,
    value: {
      run_id: p.run_id,
      provider: 'tinyfish',
      automation: p.automation,
      scenario_id: p.scenario_id,
      started_at: p.started_at,
      finished_at: p.finished_at,
      status: p.status,
      total_duration_ms: p.total_duration_ms,
      time_to_started_ms: p.time_to_started_ms ?? null,
      time_to_first_progress_ms: p.time_to_first_progress_ms ?? null,
      progress_events: p.progress_events,
      event_count: p.event_count ?? null,
      inter_event_ms: p.inter_event_ms,
      tinyfish_run_id: p.tinyfish_run_id ?? null,
      endpoint: p.endpoint ?? 'run-sse',
      tinyfish_status: p.tinyfish_status ?? null,
      result: p.result ?? null,
      result_truncated: p.result_truncated ?? false,
      error,
      error_kind: kind,
      http_status: p.http_status ?? null,
      runner: p.runner ?? DEFAULT_RUNNER,
      // SPEC 15: a mock automation id is a simulated run, whatever the post says.
      mock: p.mock === true || isMockAutomation(p.automation),
      sweep_started_at: p.sweep_started_at ?? null,
    },
  };
}

const batchSchema = z.object({
  items: z.array(z.unknown()).min(1).max(MAX_BATCH_ITEMS),
});

const batchItemSchema = z.object({
  type: z.enum(RESULT_TYPES),
  doc: z.unknown(),
});

/**
 * Validates a posted metrics document (ours or the upstream runner's) and completes it to
 * SPEC 4.1. Never throws.
 *
 * Fields the upstream runner does not send and nothing can derive (token_source,
 * request_mode, attempts_count, validation_policy, …) are stored as null. MetricDoc types a
 * few of them as non-null because our own runner always knows them; the cast below is the
 * one place where that is not so.
 */
export function parseMetricPayload(input: unknown, options: TimeBounds = {}): Parsed<MetricDoc> {
  const r = metricSchema.safeParse(input);
  if (!r.success) return { ok: false, issue: toIssue(r.error.issues, input) };
  const p = r.data;
  const late = timeProblem('run_ts', p.run_ts, options);
  if (late) return { ok: false, issue: late };
  const gaps = p.times_between_tokens ?? [];
  const gapSum = gaps.reduce((a, b) => a + b, 0);
  const ttft = p.time_to_first_token ?? null;
  // times_between_tokens are the gaps between successive stream deltas (SPEC 4.1), so with
  // n gaps there were n + 1 deltas, and their sum is t_last_delta − t_first_delta.
  const derived = {
    chunk_count: gaps.length > 0 ? gaps.length + 1 : null,
    inter_chunk_ms: percentiles(gaps.map((g) => g * 1000)),
    decode_tokens_per_second: gaps.length > 0 && gapSum > 0 ? (p.output_tokens - 1) / gapSum : null,
  };
  const visible = p.visible_output_tokens ?? null;
  const doc = {
    provider: p.provider,
    model_name: p.model_name,
    run_ts: p.run_ts,
    gen_ts: p.gen_ts ?? new Date(p.run_ts.getTime() + p.generate_time * 1000),
    tokens_per_second: p.tokens_per_second,
    generate_time: p.generate_time,
    time_to_first_token: ttft,
    output_tokens: p.output_tokens,
    requested_tokens: p.requested_tokens,
    generated_tokens_per_second: p.generated_tokens_per_second ?? p.tokens_per_second,
    visible_tokens_per_second:
      p.visible_tokens_per_second !== undefined ? p.visible_tokens_per_second : visible === null ? null : visible / p.generate_time,
    temperature: p.temperature ?? null,
    misc: p.misc ?? {},
    times_between_tokens: gaps,
    metrics_schema_version: 2 as const,
    run_id: p.run_id ?? '',
    generated_output_tokens: p.generated_output_tokens ?? p.output_tokens,
    visible_output_tokens: visible,
    reasoning_tokens: p.reasoning_tokens ?? null,
    input_tokens: p.input_tokens ?? null,
    cached_input_tokens: p.cached_input_tokens ?? null,
    total_tokens: p.total_tokens ?? null,
    token_source: p.token_source ?? null,
    request_mode: p.request_mode ?? null,
    ttft_available: p.ttft_available ?? ttft !== null,
    time_to_first_byte: p.time_to_first_byte ?? null,
    time_to_first_reasoning_token: p.time_to_first_reasoning_token ?? null,
    decode_tokens_per_second: p.decode_tokens_per_second !== undefined ? p.decode_tokens_per_second : derived.decode_tokens_per_second,
    chunk_count: p.chunk_count !== undefined ? p.chunk_count : derived.chunk_count,
    inter_chunk_ms: p.inter_chunk_ms ?? derived.inter_chunk_ms,
    provider_latency_ms: p.provider_latency_ms ?? null,
    finish_reason: p.finish_reason ?? null,
    ...(p.raw_finish_reason !== undefined ? { raw_finish_reason: p.raw_finish_reason } : {}),
    response_id: p.response_id ?? null,
    attempts_count: p.attempts_count ?? null,
    // The runner only ever raises the budget when it retries, so the budget of the call that
    // produced this result is the largest one tried.
    max_output_tokens_attempted: p.max_output_tokens_attempted ?? p.requested_tokens,
    reasoning_effort: p.reasoning_effort ?? null,
    validation_policy: p.validation_policy ?? null,
    benchmark_profile_id: p.benchmark_profile_id ?? DEFAULT_PROFILE_ID,
    runner: p.runner ?? DEFAULT_RUNNER,
    ...(p.mock !== undefined ? { mock: p.mock } : {}),
    ...(p.sweep_started_at !== undefined ? { sweep_started_at: p.sweep_started_at } : {}),
    ...(p.raw_usage !== undefined ? { raw_usage: p.raw_usage } : {}),
    ...(p.response_status !== undefined ? { response_status: p.response_status } : {}),
    ...(p.visible_text_empty !== undefined ? { visible_text_empty: p.visible_text_empty } : {}),
    ...(p.time_to_64_visible_tokens_seconds !== undefined ? { time_to_64_visible_tokens_seconds: p.time_to_64_visible_tokens_seconds } : {}),
    // Stored as sent: the server does not price rows again (its prices may differ from the runner's at the time).
    ...(p.connection_reused !== undefined ? { connection_reused: p.connection_reused } : {}),
    ...(p.cost_usd !== undefined ? { cost_usd: p.cost_usd } : {}),
    ...(p.cache_defeat_nonce !== undefined ? { cache_defeat_nonce: p.cache_defeat_nonce } : {}),
    ...(p.requested_input_tokens !== undefined ? { requested_input_tokens: p.requested_input_tokens } : {}),
    ...(p.parallel_group_id !== undefined ? { parallel_group_id: p.parallel_group_id } : {}),
    ...(p.parallel_size !== undefined ? { parallel_size: p.parallel_size } : {}),
    ...(p.served_model !== undefined ? { served_model: p.served_model } : {}),
    ...(p.served_fingerprint !== undefined ? { served_fingerprint: p.served_fingerprint } : {}),
    ...(p.rate_limit !== undefined ? { rate_limit: p.rate_limit } : {}),
    ...(p.provider_timings !== undefined ? { provider_timings: p.provider_timings } : {}),
    ...(p.client_lag_ms !== undefined ? { client_lag_ms: p.client_lag_ms } : {}),
  };
  // A cache hit and a saturated runner are marked from the row's own counts and lag too, so a
  // runner that leaves a mark off cannot publish a warm or late-timed figure as a clean one.
  const marked = withEvidence(doc as typeof doc & { evidence?: RowEvidence }, p.evidence, cacheEvidence(p), saturationEvidence(p.provider, p.client_lag_ms));
  if (!p.run_id) marked.run_id = contentRunId('m', marked);
  return { ok: true, value: marked as unknown as MetricDoc };
}

/**
 * Validates a posted error document and completes it to SPEC 4.2: the message is redacted
 * and capped, normalized_message and fingerprint are always computed here (a sender's own
 * are ignored), and a missing error_kind is classified from http_status and the message.
 * Never throws.
 */
export function parseErrorPayload(input: unknown, options: TimeBounds = {}): Parsed<ErrorDoc> {
  const r = errorSchema.safeParse(input);
  if (!r.success) return { ok: false, issue: toIssue(r.error.issues, input) };
  const p = r.data;
  const late = timeProblem('ts', p.ts, options);
  if (late) return { ok: false, issue: late };
  const message = capMessage(p.message);
  const httpStatus = p.http_status ?? null;
  const sentKind = (ERROR_KINDS as readonly string[]).includes(p.error_kind ?? '') ? (p.error_kind as ErrorKind) : undefined;
  const kind: ErrorKind =
    sentKind ?? classifyError(Object.assign(new Error(message), httpStatus === null ? {} : { status: httpStatus })).kind;
  const fields = {
    provider: p.provider,
    model_name: p.model_name,
    ts: p.ts,
    stage: p.stage,
    error_kind: kind,
    message,
    http_status: httpStatus,
    run_id: p.run_id ?? '',
    benchmark_profile_id: p.benchmark_profile_id ?? DEFAULT_PROFILE_ID,
    runner: p.runner ?? DEFAULT_RUNNER,
  };
  if (!p.run_id) fields.run_id = contentRunId('e', fields);
  const doc: ErrorDoc = buildErrorDoc(fields);
  if (p.rate_limit) doc.rate_limit = p.rate_limit;
  if (p.client_lag_ms !== undefined) doc.client_lag_ms = p.client_lag_ms;
  // A remote runner's failed call of a parallel group keeps its group (SPEC 19).
  if (p.parallel_group_id !== undefined) doc.parallel_group_id = p.parallel_group_id;
  if (p.parallel_size !== undefined) doc.parallel_size = p.parallel_size;
  return { ok: true, value: doc };
}

function capMessage(text: string): string {
  return text.length > MAX_MESSAGE_CHARS ? `${text.slice(0, MAX_MESSAGE_CHARS)}…` : text;
}

export interface TimeBounds {
  /** The wall clock (default Date.now), against which run_ts and ts are bounded. */
  now?: number;
}

/** Why a result's time cannot be right: more than a few minutes ahead, or older than a year. */
function timeProblem(field: string, at: Date, options: TimeBounds): FieldIssue | null {
  const now = options.now ?? Date.now();
  if (at.getTime() > now + MAX_FUTURE_MS) {
    return { code: 'invalid_field', field, message: `${field}: is more than ${MAX_FUTURE_MS / 60_000} minutes in the future (check the runner's clock)` };
  }
  if (at.getTime() < now - MAX_AGE_MS) {
    return { code: 'invalid_field', field, message: `${field}: is more than ${MAX_AGE_MS / 86_400_000} days in the past` };
  }
  return null;
}

export type BatchItem = { type: ResultType; doc: unknown };

/** Validates the envelope of POST /ingest/batch; items themselves are checked one by one. */
export function parseBatchEnvelope(input: unknown): Parsed<unknown[]> {
  const r = batchSchema.safeParse(input);
  if (!r.success) return { ok: false, issue: toIssue(r.error.issues, input) };
  return { ok: true, value: r.data.items };
}

/** Validates one batch item's `{ type, doc }`; field paths are relative to the item. */
export function parseBatchItem(input: unknown): Parsed<BatchItem> {
  const r = batchItemSchema.safeParse(input);
  if (!r.success) return { ok: false, issue: toIssue(r.error.issues, input) };
  return { ok: true, value: { type: r.data.type, doc: r.data.doc } };
}

/**
 * A run_id for a sender that has none (the upstream runner): a hash of the document, so the
 * same result posted twice is stored once instead of twice.
 */
function contentRunId(prefix: string, doc: object): string {
  return `ingest-${prefix}-${createHash('sha256').update(JSON.stringify(doc)).digest('hex').slice(0, 32)}`;
}

function toIssue(issues: readonly z.core.$ZodIssue[], input: unknown): FieldIssue {
  const first = issues[0];
  if (!first) return { code: 'invalid_body', field: null, message: 'invalid document' };
  const path = first.path.filter((k): k is string | number => typeof k !== 'symbol');
  if (path.length === 0) {
    const got = input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input;
    return { code: 'invalid_body', field: null, message: `the body must be a JSON object (got ${got})` };
  }
  const field = path.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${k}` : k), '');
  const missing = valueAt(input, path) === undefined;
  const message = missing ? `${field} is required` : `${field}: ${first.message}`;
  return { code: missing ? 'missing_field' : 'invalid_field', field, message };
}

function valueAt(input: unknown, path: Array<string | number>): unknown {
  let cur: unknown = input;
  for (const k of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, k)) return undefined;
    cur = (cur as Record<string | number, unknown>)[k];
  }
  return cur;
}
