// The storage interface both backends implement (the factory is open-store.ts, so the backends
// can import from here without a cycle): MongoDB when MONGODB_URI is set (production, read by
// the dashboard), embedded SQLite otherwise. Every method either does what it says or
// throws: no write is ever silently dropped.
import type {
  ErrorDoc,
  ErrorKind,
  MetricDoc,
  ModelDoc,
  OpenRouterCatalogDoc,
  OpenRouterEntry,
  ProviderCatalogDoc,
  ProviderCatalogEntry,
} from './documents.ts';

export type InsertResult = 'stored' | 'duplicate';

/** A half-open time window: since <= t < until. */
export interface TimeWindow {
  since: Date;
  until: Date;
}

export interface ModelFilter {
  provider?: string;
  /** Only models that are enabled and not deprecated. */
  benchmarkedOnly?: boolean;
}

export type ModelPatch = Partial<Omit<ModelDoc, 'provider' | 'model_id' | 'created_at'>>;

export interface LastSeen {
  provider: string;
  model_name: string;
  ts: Date;
}
export interface LastSuccess extends LastSeen {
  /** The sweep start recorded on that newest row (null on rows from before it was recorded). */
  sweep_started_at: Date | null;
}
export interface LastError extends LastSeen {
  message: string;
  error_kind: ErrorKind;
}

export interface ProviderCounts {
  provider: string;
  successes: number;
  errors: number;
}
export interface KindCount {
  provider: string;
  error_kind: ErrorKind;
  count: number;
}
export interface ModelErrorSummary {
  provider: string;
  model_name: string;
  errors: number;
  successes: number;
  last_error_ts: Date;
  last_message: string;
  last_error_kind: ErrorKind;
  last_stage: string;
  /** Errors in the window per kind, e.g. { hard_model: 3, timeout: 1 }. */
  error_kinds: Partial<Record<ErrorKind, number>>;
}
export interface FingerprintSummary {
  fingerprint: string;
  provider: string;
  model_name: string;
  stage: string;
  error_kind: ErrorKind;
  first_seen: Date;
  count: number;
  sample_message: string;
}
export interface MetricSamples {
  provider: string;
  model_name: string;
  tokens_per_second: number[];
  /** TTFT samples, nulls left out. */
  time_to_first_token: number[];
}
export interface DailyMedian {
  provider: string;
  /** UTC day, YYYY-MM-DD. */
  day: string;
  median_tokens_per_second: number;
  count: number;
}
export interface UpsertCounts {
  inserted: number;
  updated: number;
}

// ---- KPIs and runs (SPEC 16) ----

/** Which rows KPIs and run listings cover; scenario is the row's benchmark_profile_id. */
export interface RunFilter {
  provider?: string;
  model?: string;
  scenario?: string;
}
/** Nearest-rank percentiles (exact on SQLite; MongoDB 7.0+ answers $percentile approximately). */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}
/** KPIs of one group; provider, model_name and scenario are null where the group spans them. */
export interface KpiRow {
  provider: string | null;
  model_name: string | null;
  scenario: string | null;
  /** successes + failures */
  runs: number;
  successes: number;
  failures: number;
  /** successes / runs, null without runs. */
  success_rate: number | null;
  /** Newest successful run in the window. */
  last_success: Date | null;
  time_to_first_token: Percentiles;
  /** generate_time: from just before the request to the end of the stream. */
  total_time: Percentiles;
  tokens_per_second: Percentiles;
  decode_tokens_per_second: Percentiles;
}
export interface KpiSummary {
  overall: KpiRow;
  /** One row per provider, sorted by provider. */
  providers: KpiRow[];
  /** One row per (provider, model, scenario), sorted by those. */
  models: KpiRow[];
}
export type RunRecord =
  | { outcome: 'ok'; ts: Date; metric: MetricDoc }
  | { outcome: 'failed'; ts: Date; error: ErrorDoc };
export interface RunQuery extends RunFilter {
  since?: Date;
  until?: Date;
  outcome?: 'ok' | 'failed';
  limit: number;
}
/** One successful call, reduced to what a chart draws. */
export interface MetricPoint {
  provider: string;
  model_name: string;
  scenario: string;
  run_ts: Date;
  time_to_first_token: number | null;
  tokens_per_second: number;
}
/** Rows written before benchmark_profile_id existed belong to the published profile. */
export const DEFAULT_SCENARIO = 'cloud-default-v1';

export interface Store {
  readonly kind: 'sqlite' | 'mongodb';
  /** A human description of where the data lives (no credentials). */
  readonly location: string;

  listModels(filter?: ModelFilter): Promise<ModelDoc[]>;
  getModel(provider: string, modelId: string): Promise<ModelDoc | null>;
  /** Models of the provider whose id equals modelId ignoring case. */
  findModelsIgnoreCase(provider: string, modelId: string): Promise<ModelDoc[]>;
  insertModel(doc: ModelDoc): Promise<InsertResult>;
  /** @returns false when no such model exists. */
  updateModel(provider: string, modelId: string, patch: ModelPatch): Promise<boolean>;

  /** Stores a metric unless its run_id is already stored. */
  insertMetric(doc: MetricDoc): Promise<InsertResult>;
  /** Stores an error unless its run_id is already stored. */
  insertError(doc: ErrorDoc): Promise<InsertResult>;
  /** Latest successful run per (provider, model_name). */
  lastSuccesses(filter?: { provider?: string }): Promise<LastSuccess[]>;
  /** Latest error per (provider, model_name), with its message. */
  lastErrors(filter?: { provider?: string }): Promise<LastError[]>;
  recentMetrics(provider: string, modelName: string, limit: number): Promise<MetricDoc[]>;
  recentErrors(provider: string, modelName: string, limit: number): Promise<ErrorDoc[]>;
  countMetrics(filter?: { provider?: string }): Promise<number>;
  countErrors(filter?: { provider?: string }): Promise<number>;

  countsByProvider(w: TimeWindow): Promise<ProviderCounts[]>;
  errorsByKind(w: TimeWindow): Promise<KindCount[]>;
  /** Models with at least one error in the window, most errors first. */
  errorsByModel(w: TimeWindow): Promise<ModelErrorSummary[]>;
  /** Fingerprints whose first occurrence ever falls inside the window. */
  newFingerprints(w: TimeWindow): Promise<FingerprintSummary[]>;
  /** tokens/s and TTFT samples per model in the window. */
  metricSamples(w: TimeWindow): Promise<MetricSamples[]>;
  /** Median tokens/s per provider per UTC day in the window. */
  dailyMedians(w: TimeWindow): Promise<DailyMedian[]>;

  upsertOpenRouterCatalog(entries: OpenRouterEntry[], now: Date): Promise<UpsertCounts>;
  upsertProviderCatalog(entries: ProviderCatalogEntry[], now: Date): Promise<UpsertCounts>;
  listOpenRouterCatalog(): Promise<OpenRouterCatalogDoc[]>;
  listProviderCatalog(filter?: { provider?: string }): Promise<ProviderCatalogDoc[]>;

  // ---- KPIs and runs (SPEC 16) ----
  /** Runs, success rate and p50/p95/p99 per (provider, model, scenario), per provider and overall. */
  metricKpis(w: TimeWindow, filter?: RunFilter): Promise<KpiSummary>;
  /** Successes and failures, newest first, at most limit. */
  recentRuns(query: RunQuery): Promise<RunRecord[]>;
  /** The success or failure recorded under runId, or null. */
  getRun(runId: string): Promise<RunRecord | null>;
  /** Every success in the window as a chart point, by provider, model, scenario, then time. */
  metricPoints(w: TimeWindow, filter?: RunFilter): Promise<MetricPoint[]>;

  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A store that cannot be opened or reached; the message names where, never a password. */
export class StoreError extends Error {
  override name = 'StoreError';
}
