// The documents of SPEC section 4. The dashboard reads metrics_cloud_v2 and errors_cloud
// from MongoDB, so the field names and meanings here are a contract: add fields, never
// rename them. Times are Dates (UTC), durations seconds, unknown numbers null.

export type TokenSource = 'provider_usage' | 'tokenizer' | 'simulated';
export type ValidationPolicy = 'strict_pm10' | 'visible_nonzero';

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
  /** The random nonce the prompt started with, when its scenario defeats prompt caches. */
  cache_defeat_nonce?: string | null;
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
  deprecation_date?: Date | null;
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
  /** Every event received, heartbeats included. */
  event_count: number;
  /** Gaps between successive events. */
  inter_event_ms: InterChunkMs;
  tinyfish_run_id: string | null;
  /** `run-sse` (events) or `run` (the synchronous endpoint, no events). */
  endpoint: 'run-sse' | 'run';
  /** TinyFish's own final status (COMPLETED, FAILED, CANCELLED), as sent. */
  tinyfish_status: string | null;
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
