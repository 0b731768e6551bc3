// The documents of SPEC section 4. The dashboard reads metrics_cloud_v2 and errors_cloud
// from MongoDB, so the field names and meanings here are a contract: add fields, never
// rename them. Times are Dates (UTC), durations seconds, unknown numbers null.

/** What our runner writes; rows from other runners carry their own wording (SPEC 9), stored as sent. */
export const TOKEN_SOURCES = [
  'provider_usage',
  'tokenizer',
  'simulated',
  // The provider's total output count, with the reasoning/visible split counted by a tokenizer
  // over the streamed thinking and text (Anthropic and Bedrock report no split).
  'provider_usage_tokenizer_split',
] as const;
export type KnownTokenSource = (typeof TOKEN_SOURCES)[number];
export type TokenSource = KnownTokenSource | (string & {});
export type KnownValidationPolicy = 'strict_pm10' | 'visible_nonzero';
export type ValidationPolicy = KnownValidationPolicy | (string & {});

export interface InterChunkMs {
  p50: number | null;
  p90: number | null;
  p99: number | null;
  max: number | null;
}

/** metrics_cloud_v2: one successful benchmark call (SPEC 4.1). */
export interface MetricDoc {
  provider: string;
  model_name: string;
  run_ts: Date;
  gen_ts: Date;
  tokens_per_second: number;
  generate_time: number;
  time_to_first_token: number | null;
  output_tokens: number;
  requested_tokens: number;
  generated_tokens_per_second: number;
  visible_tokens_per_second: number | null;
  temperature: number | null;
  misc: Record<string, unknown>;
  times_between_tokens: number[];
  metrics_schema_version: 2;

  run_id: string;
  generated_output_tokens: number;
  visible_output_tokens: number | null;
  reasoning_tokens: number | null;
  input_tokens: number | null;
  cached_input_tokens: number | null;
  total_tokens: number | null;
  /** null only on rows from the upstream runner, which did not record it (also below). */
  token_source: TokenSource | null;
  request_mode: string | null;
  ttft_available: boolean;
  time_to_first_byte: number | null;
  time_to_first_reasoning_token: number | null;
  decode_tokens_per_second: number | null;
  chunk_count: number | null;
  inter_chunk_ms: InterChunkMs;
  provider_latency_ms: number | null;
  finish_reason: string | null;
  /** The provider's own finish reason, before normalisation. */
  raw_finish_reason?: string | null;
  response_id: string | null;
  attempts_count: number | null;
  max_output_tokens_attempted: number;
  reasoning_effort: string | null;
  validation_policy: ValidationPolicy | null;
  benchmark_profile_id: string;
  runner: string;
  /** True for rows measured against the simulated mock provider. */
  mock?: boolean;
  /**
   * When the sweep that measured this started. Freshness compares against it, not run_ts, so a
   * model measured late in one sweep is still due in the next one, a period later.
   */
  sweep_started_at?: Date | null;
  /** The provider's usage objects as reported, in order (null when it reported none). */
  raw_usage?: unknown[] | null;

  // Sent by the upstream Python runner (SPEC 9) and stored as sent; our runner does not write them.
  /** The Responses API's status of the answer (`completed`, `incomplete`), or the runner's own wording. */
  response_status?: string | null;
  visible_text_empty?: boolean | null;
  /** Seconds from the request to the 64th visible token (per-chunk counts, SPEC 5); null when fewer streamed. */
  time_to_64_visible_tokens_seconds?: number | null;
  /** Whether the call went out on a connection opened before its clock started; null when unknown (mock). */
  connection_reused?: boolean | null;
  /** USD for the row's input and output tokens at the model's price (SPEC 17); null when the price or the counts are unknown. */
  cost_usd?: number | null;
  /** The random nonce the prompt started with, when its scenario defeats prompt caches. */
  cache_defeat_nonce?: string | null;
  /** The prompt length its scenario asked for (SPEC 19); input_tokens is what the provider counted. */
  requested_input_tokens?: number | null;
  /** The parallel group this call was started with (SPEC 19); absent on single calls. */
  parallel_group_id?: string | null;
  /** How many calls the group started. */
  parallel_size?: number | null;
  /** What the row's conditions say against it (SPEC 18); absent when nothing does. */
  evidence?: RowEvidence;
  /** The model the provider says answered (its response's `model`), at most 200 characters; absent when it did not say. */
  served_model?: string;
  /** OpenAI chat's `system_fingerprint` (the backend configuration), at most 200 characters; absent when not given. */
  served_fingerprint?: string;
  /** How close the key was to its limit, from the answer's headers (SPEC 18); absent when the provider sent none. */
  rate_limit?: RateLimit;
  /** The provider's own account of the call's time (Groq `x_groq.usage`); absent when it gives none. */
  provider_timings?: ProviderTimings;
  /**
   * The worst lag (ms) of the runner's own event loop when the call's published times were taken
   * (SPEC 18, lib/bench/loop-lag.ts); absent when not measured (rows of older runners).
   */
  client_lag_ms?: number;
}

/** Rate-limit headers of one answer or 429, as numbers; null where the provider did not send that one. */
export interface RateLimit {
  requests_limit: number | null;
  requests_remaining: number | null;
  tokens_limit: number | null;
  tokens_remaining: number | null;
  /** retry-after (or retry-after-ms) in seconds. */
  retry_after_s: number | null;
}

/** Seconds the provider says it spent queueing, reading the prompt and generating (Groq's x_groq.usage). */
export interface ProviderTimings {
  queue_s: number | null;
  prompt_s: number | null;
  completion_s: number | null;
  total_s: number | null;
}

/**
 * The marks a row's evidence can carry (SPEC 18): each leaves the row kept and listed but out of
 * published KPIs, rollups, the site's figures and regression tests. Every read that leaves
 * marked rows out derives from this list (isMarked here, the SQLite trigger filling
 * metrics_marked, MongoDB's COUNTED), so a new mark is one entry here.
 * - cache_hit: a row of a cache-defeating scenario whose provider still reported cached input
 *   tokens: not a cold TTFT.
 * - saturated: the runner's own event loop lagged (client_lag_ms) past what the published
 *   figures allow while the row's times were taken (lib/bench/loop-lag.ts).
 */
export const EVIDENCE_MARKS = ['cache_hit', 'saturated'] as const;
export type EvidenceMark = (typeof EVIDENCE_MARKS)[number];

/** Each mark is set only when true, so an unmarked row has no `evidence` at all. */
export type RowEvidence = { [K in EvidenceMark]?: true };

/** True when the row's evidence leaves it out of published numbers. */
export function isMarked(doc: Pick<MetricDoc, 'evidence'>): boolean {
  return EVIDENCE_MARKS.some((k) => doc.evidence?.[k] === true);
}

/** The row with the marks of every part set (the row's own kept), `evidence` left absent when none is. */
export function withEvidence<T extends { evidence?: RowEvidence }>(doc: T, ...parts: Array<RowEvidence | undefined>): T {
  const evidence: RowEvidence = Object.assign({}, doc.evidence, ...parts);
  if (Object.keys(evidence).length === 0) return doc;
  return { ...doc, evidence };
}

/**
 * The evidence of a row measured for a cache-defeating scenario: a provider that counted cached
 * input tokens served a cached prefix despite the nonce. Undefined when nothing is marked.
 */
export function cacheEvidence(doc: { cached_input_tokens?: number | null; cache_defeat_nonce?: string | null }): RowEvidence | undefined {
  return doc.cache_defeat_nonce && (doc.cached_input_tokens ?? 0) > 0 ? { cache_hit: true } : undefined;
}

export const ERROR_STAGES = ['load_provider', 'generate', 'validate', 'log', 'ingest', 'timeout'] as const;
export type ErrorStage = (typeof ERROR_STAGES)[number];

export const ERROR_KINDS = [
  'auth',
  'billing',
  'rate_limit',
  'hard_model',
  'hard_capability',
  'transient_provider',
  'network',
  'timeout',
  'budget_exhausted',
  'unknown',
  // Cut short by the operator or systemd (SIGINT, SIGTERM): says nothing about the provider.
  'aborted',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** errors_cloud: one failed benchmark call (SPEC 4.2). */
export interface ErrorDoc {
  provider: string;
  model_name: string;
  ts: Date;
  stage: ErrorStage;
  message: string;
  error_kind: ErrorKind;
  http_status: number | null;
  normalized_message: string;
  fingerprint: string;
  run_id: string;
  benchmark_profile_id: string;
  runner: string;
  /** The rate-limit headers of the failed answer (a 429 says how far over); absent when none came (SPEC 18). */
  rate_limit?: RateLimit;
  /** The worst lag (ms) of the runner's event loop during the failed attempt (as MetricDoc's); absent when no attempt ran or not measured. */
  client_lag_ms?: number;
  /** The parallel group the failed call was started with (SPEC 19), as on metric rows; absent on single calls. */
  parallel_group_id?: string | null;
  /** How many calls the group started. */
  parallel_size?: number | null;
}

/** models: what to benchmark (SPEC 4.3). */
export interface ModelDoc {
  provider: string;
  model_id: string;
  display_name?: string | null;
  enabled: boolean;
  deprecated: boolean;
  created_at: Date;
  disabled_reason?: string | null;
  disabled_at?: Date | null;
  /** `YYYY-MM-DD` (the dashboard's schema says String); stores turn older Date values into this on read. */
  deprecation_date?: string | null;
  successor_model?: string | null;
  misc?: Record<string, unknown>;
}

/** openrouter_catalog (SPEC 4.4). */
export interface OpenRouterCatalogDoc {
  openrouter_id: string;
  name: string;
  org: string;
  pricing: { prompt: number | null; completion: number | null };
  context_length: number | null;
  created: Date | null;
  first_seen_at: Date;
  last_seen_at: Date;
}

/** provider_catalog (SPEC 4.4). */
export interface ProviderCatalogDoc {
  provider: string;
  model_id: string;
  name: string | null;
  raw: unknown;
  first_seen_at: Date;
  last_seen_at: Date;
}

/** A catalog entry as fetched, before the store stamps first/last seen. */
export type OpenRouterEntry = Omit<OpenRouterCatalogDoc, 'first_seen_at' | 'last_seen_at'>;
export type ProviderCatalogEntry = Omit<ProviderCatalogDoc, 'first_seen_at' | 'last_seen_at'>;

/** A model is benchmarked when enabled and not deprecated (SPEC 4.3). */
export function isBenchmarked(m: Pick<ModelDoc, 'enabled' | 'deprecated'>): boolean {
  return m.enabled === true && m.deprecated !== true;
}

/**
 * A deprecation date as the dashboard reads it: `YYYY-MM-DD`. Older rows hold a Date (UTC
 * midnight); null for anything else, so an unreadable value never reaches a reader as `{}`.
 */
export function deprecationDay(value: unknown): string | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString().slice(0, 10);
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) return value.slice(0, 10);
  return null;
}

export const FRESHNESS_STATUSES = ['disabled', 'never_run', 'fresh', 'stale', 'critical'] as const;
export type FreshnessStatus = (typeof FRESHNESS_STATUSES)[number];

/**
 * bench_model_health: one document per (provider, model_id), rewritten after every sweep
 * (SPEC 4.7). The public dashboard reads it for its freshness badges.
 */
export interface ModelHealthDoc {
  provider: string;
  model_id: string;
  /** Benchmarked: enabled and not deprecated. */
  enabled: boolean;
  /** The sweep period the staleness is judged against. */
  cadence_seconds: number;
  last_success_at: Date | null;
  last_attempt_at: Date | null;
  last_error_at: Date | null;
  /** A TinyFish automation's may be `run_failed` (AgentErrorKind, declared below). */
  last_error_kind: AgentErrorKind | null;
  /** Errors since the last success (all of them when it never succeeded). */
  consecutive_failures: number;
  successes_24h: number;
  failures_24h: number;
  /** Seconds since the last success; null when disabled or never run. */
  staleness_seconds: number | null;
  freshness_status: FreshnessStatus;
  updated_at: Date;
}

// --- Scenarios and agent runs (SPEC 4.5, 4.6) -----------------------------------------------

/** The one scenario whose rows the public dashboard reads (metrics_cloud_v2); every other goes to the probe collection. */
export const PUBLISHED_SCENARIO_ID = 'cloud-default-v1';

export type ScenarioKind = 'llm' | 'agent';

/**
 * What a scenario runs over: every enabled model of its kind (LLM models for `llm`, TinyFish
 * automations for `agent`), the enabled models of some providers, or an explicit list.
 */
export type ScenarioTargets =
  | { type: 'all' }
  | { type: 'providers'; providers: string[] }
  | { type: 'models'; models: Array<{ provider: string; model_id: string }> };

/** An `llm` scenario's inputs: what each call sends. */
export interface LlmScenarioInputs {
  prompt: string;
  max_tokens: number;
  temperature: number;
  /** Start each prompt with a random nonce, so no provider can answer from a prompt cache. */
  cache_defeat?: boolean;
  /** A generated prompt of this many tokens instead of `prompt` (SPEC 19), new and unique for every call. */
  input_tokens?: number;
  /** Calls to the same model started together, each with a prompt of its own (SPEC 19); absent: 1. */
  parallel?: number;
}

/**
 * An `agent` scenario's inputs: overrides of the automation's own `misc` (url, goal,
 * browser_profile, proxy_config, timeout_seconds, endpoint); empty runs each automation as catalogued.
 */
export type AgentScenarioInputs = Record<string, unknown>;

/** scenarios: what to send, how often, to which targets (SPEC 4.5). */
export interface ScenarioDoc {
  scenario_id: string;
  description: string;
  kind: ScenarioKind;
  inputs: LlmScenarioInputs | AgentScenarioInputs;
  /** How often each (scenario, target) pair is due, counted from its last success. */
  interval_minutes: number;
  /** Due once per interval at a random time within it (SPEC 19's daily parallel test), not on its last success. */
  jitter?: boolean;
  /** Agent scenarios: runs at a time. LLM scenarios share the provider lanes (BENCH_PROVIDER_CONCURRENCY). */
  concurrency: number;
  targets: ScenarioTargets;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export type AgentRunStatus = 'completed' | 'failed' | 'timeout';
/** The kinds of SPEC 7, plus the run's own failure: TinyFish ran it and reported FAILED or CANCELLED. */
export type AgentErrorKind = ErrorKind | 'run_failed';

/** The cap on a stored agent run's result (SPEC 4.6). */
export const RESULT_CAP_BYTES = 64 * 1024;

/** agent_runs: one TinyFish automation run (SPEC 4.6). Never in metrics_cloud_v2. */
export interface AgentRunDoc {
  run_id: string;
  provider: 'tinyfish';
  /** The automation's catalog id (model_id of provider tinyfish). */
  automation: string;
  scenario_id: string;
  started_at: Date;
  finished_at: Date;
  status: AgentRunStatus;
  total_duration_ms: number;
  /** From the request to the STARTED event; null when none came (or the synchronous endpoint). */
  time_to_started_ms: number | null;
  time_to_first_progress_ms: number | null;
  progress_events: number;
  /** Every event received, heartbeats included; null when a post to /ingest/agent-run did not say (SPEC 4.6 does not list it). */
  event_count: number | null;
  /** Gaps between successive events. */
  inter_event_ms: InterChunkMs;
  tinyfish_run_id: string | null;
  /** `run-sse` (events) or `run` (the synchronous endpoint, no events). */
  endpoint: 'run-sse' | 'run';
  /** TinyFish's own final status (COMPLETED, FAILED, CANCELLED), as sent. */
  tinyfish_status: string | null;
  /** TinyFish's resultJson, whole when its JSON fits RESULT_CAP_BYTES, else that JSON text cut there. */
  result: unknown;
  result_truncated: boolean;
  error: string | null;
  error_kind: AgentErrorKind | null;
  http_status: number | null;
  runner: string;
  mock: boolean;
  /** When the sweep that ran it started; dueness compares against it, as for metrics. */
  sweep_started_at: Date | null;
}

/** The newest success of one (scenario, provider, model) pair: what makes the pair due again. */
export interface ScenarioSuccess {
  scenario_id: string;
  provider: string;
  model_name: string;
  ts: Date;
  /** The sweep start recorded on that row (null when it has none). */
  sweep_started_at: Date | null;
}

// --- Sweep skips (SPEC 17) ------------------------------------------------------------------

/**
 * sweep_skips: a model a sweep did not start because its call could pass
 * BENCH_DAILY_BUDGET_USD, one per model (and scenario) per sweep, for the health mail. Not an
 * errors_cloud row: a skip says nothing about the provider, and the public dashboard counts
 * those rows as provider failures.
 */
export interface SweepSkipDoc {
  provider: string;
  model_id: string;
  /** The scenario of the pair (the configured profile's id for a pair without one). */
  scenario_id: string;
  /** Why, as the journal line says it (the worst case against the day's spend, or an unknown price). */
  reason: string;
  skipped_at: Date;
  sweep_started_at: Date;
  runner: string;
  /** BENCH_DAILY_BUDGET_USD at the time. */
  daily_budget_usd: number | null;
}

// --- Sweeps: the runner's own figures (SPEC 18) ----------------------------------------------

/**
 * bench_sweeps: one per sweep, what the runner measured of itself and of the way to each
 * provider, so a reader can tell the runner's share of a TTFT from the provider's. Durations in
 * seconds; null where a figure does not apply or could not be taken.
 */
export interface BenchSweepDoc {
  sweep_id: string;
  started_at: Date;
  finished_at: Date;
  runner: string;
  /** The machine the sweep ran on (os.hostname()). */
  host: string;
  /** The loopback calibration stream; null when the sweep ran no LLM lane. */
  calibration: SweepCalibration | null;
  /** One per provider host a lane called, from its warm-up. */
  connections: LaneConnection[];
}

/**
 * A stream over loopback whose send times are known, measured by the code that measures every
 * call: what it reads minus the truth is what the runner itself adds.
 */
export interface SweepCalibration {
  /** Server's write of the first text chunk minus the client's request. */
  ttft_true_s: number | null;
  ttft_measured_s: number | null;
  /** measured − true: the runner's own share of a TTFT. */
  ttft_added_s: number | null;
  /** Tokens after the first chunk over the span of the server's writes. */
  decode_true_tps: number | null;
  decode_measured_tps: number | null;
  /** (measured − true) / true, in percent. */
  decode_error_pct: number | null;
  /** Arrival of each chunk at the client minus its write at the server: median and worst. */
  chunk_delay_p50_s: number | null;
  chunk_delay_max_s: number | null;
  /** Why the calibration has no figures (it failed); null when it ran. */
  error: string | null;
}

/** How long the way to one provider host took at the start of the sweep (a no-cost request). */
export interface LaneConnection {
  provider: string;
  /** The origin probed, e.g. https://api.groq.com (never a path, query or credentials). */
  origin: string;
  /** Name lookup; null for an address literal. */
  dns_s: number | null;
  /** TCP connect after the lookup. */
  connect_s: number | null;
  /** TLS handshake after the connect; null on plain http. */
  tls_s: number | null;
  /** Request written to the first byte of the answer. */
  first_byte_s: number | null;
  /** Why the probe stopped short (the figures it got are kept); null when it completed. */
  error: string | null;
}
