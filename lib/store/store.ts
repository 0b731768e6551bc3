// The storage interfaces both backends implement, one per collection, and Store, the set of
// them (the factory is open-store.ts, so the backends can import from here without a cycle):
// MongoDB when MONGODB_URI is set (production, read by the dashboard), embedded SQLite
// otherwise (lib/store/mongo/, lib/store/sqlite/, a file per collection in each). Every method
// either does what it says or throws: no write is ever silently dropped.
import type {
  AgentErrorKind,
  AgentRunDoc,
  AgentRunStatus,
  ErrorDoc,
  ErrorKind,
  MetricDoc,
  ModelDoc,
  ModelHealthDoc,
  OpenRouterCatalogDoc,
  OpenRouterEntry,
  ProviderCatalogDoc,
  ProviderCatalogEntry,
  ScenarioDoc,
  ScenarioKind,
  ScenarioSuccess,
  SweepSkipDoc,
  BenchSweepDoc,
} from './documents.ts';
import type { MetricsCollection } from './collection-rules.ts';
import type { ExchangeStore } from './exchange-store.ts';

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
/** What the metric rows in a window cost (SPEC 17), per provider and UTC day or per model. */
export interface SpendRow {
  provider: string;
  /** Sum of the rows' cost_usd (0 when none had one). */
  cost_usd: number;
  /** Rows with a cost. */
  priced_calls: number;
  /** Rows whose cost is unknown (no price, or no token counts): their spend is not in cost_usd. */
  unpriced_calls: number;
}
export interface DailySpend extends SpendRow {
  /** UTC day, YYYY-MM-DD. */
  day: string;
}
export interface ModelSpend extends SpendRow {
  model_name: string;
}
export interface UpsertCounts {
  inserted: number;
  updated: number;
}

/** Which metrics a read looks at: the published rows (the default) or the probe rows (SPEC 4.1). */
export interface MetricsScope {
  collection?: MetricsCollection;
}

/** What a model's bench_model_health document is computed from (SPEC 4.7). */
export interface ModelActivity {
  provider: string;
  model_name: string;
  /** Newest published success; null when there is none. */
  last_success_at: Date | null;
  last_error_at: Date | null;
  /** A TinyFish automation's may be `run_failed` (its agent runs stand for its results). */
  last_error_kind: AgentErrorKind | null;
  /** Published successes with run_ts >= since. */
  successes_since: number;
  /** Errors with ts >= since. */
  failures_since: number;
  /** Errors newer than the last success (all errors when there is none). */
  failures_after_last_success: number;
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
/** Two order statistics that cover the true median with at least 95 % probability, whatever the distribution. */
export interface MedianInterval {
  low: number;
  high: number;
}
/** A KPI's percentiles and how far its p50 can be trusted (SPEC 18). */
export interface KpiPercentiles extends Percentiles {
  /**
   * The p50's distribution-free 95 % interval; null with fewer than MIN_RUNS_FOR_INTERVAL values
   * (lib/store/kpis.ts) and wherever the raw values are not read (MongoDB 7.0+'s $percentile,
   * long windows from daily rollups).
   */
  p50_ci: MedianInterval | null;
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
  time_to_first_token: KpiPercentiles;
  /** generate_time: from just before the request to the end of the stream. */
  total_time: KpiPercentiles;
  tokens_per_second: KpiPercentiles;
  decode_tokens_per_second: KpiPercentiles;
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

/** The models collection: what is benchmarked, and how (SPEC 4.3). */
export interface ModelsStore {
  listModels(filter?: ModelFilter): Promise<ModelDoc[]>;
  getModel(provider: string, modelId: string): Promise<ModelDoc | null>;
  /** Models of the provider whose id equals modelId ignoring case. */
  findModelsIgnoreCase(provider: string, modelId: string): Promise<ModelDoc[]>;
  insertModel(doc: ModelDoc): Promise<InsertResult>;
  /** @returns false when no such model exists. */
  updateModel(provider: string, modelId: string, patch: ModelPatch): Promise<boolean>;
}

/**
 * The metric rows, published and probe (SPEC 4.1): insertMetric sends a row whose
 * benchmark_profile_id is not the published one to the probe collection
 * (collection-rules.ts); every read without a MetricsScope sees published rows only.
 */
export interface MetricsStore {
  /** Stores a metric unless its run_id is already stored. */
  insertMetric(doc: MetricDoc): Promise<InsertResult>;
  /** Latest successful run per (provider, model_name). */
  lastSuccesses(filter?: { provider?: string }): Promise<LastSuccess[]>;
  recentMetrics(provider: string, modelName: string, limit: number): Promise<MetricDoc[]>;
  countMetrics(filter?: { provider?: string }): Promise<number>;
  /** tokens/s and TTFT samples per model in the window. */
  metricSamples(w: TimeWindow): Promise<MetricSamples[]>;
  /** Median tokens/s per provider per UTC day in the window. */
  dailyMedians(w: TimeWindow): Promise<DailyMedian[]>;
  /** Spend per provider per UTC day in the window, by provider then day. */
  spendByDay(w: TimeWindow): Promise<DailySpend[]>;
  /** Spend per (provider, model_name) in the window, by provider then model. */
  spendByModel(w: TimeWindow): Promise<ModelSpend[]>;
  /** Latest probe success per (provider, model_name) (or published, the default). */
  lastSuccessesIn(scope: MetricsScope & { provider?: string }): Promise<LastSuccess[]>;
  /** Counts rows in the probe collection (or published, the default). */
  countMetricsIn(scope: MetricsScope & { provider?: string }): Promise<number>;
  /** Newest rows of one model in the probe collection (or published, the default). */
  recentMetricsIn(scope: MetricsScope & { provider: string; modelName: string; limit: number }): Promise<MetricDoc[]>;
}

/** The error rows (SPEC 4.2). */
export interface ErrorsStore {
  /** Stores an error unless its run_id is already stored. */
  insertError(doc: ErrorDoc): Promise<InsertResult>;
  /** Latest error per (provider, model_name), with its message. */
  lastErrors(filter?: { provider?: string }): Promise<LastError[]>;
  recentErrors(provider: string, modelName: string, limit: number): Promise<ErrorDoc[]>;
  countErrors(filter?: { provider?: string }): Promise<number>;
  errorsByKind(w: TimeWindow): Promise<KindCount[]>;
  /** Fingerprints whose first occurrence ever falls inside the window. */
  newFingerprints(w: TimeWindow): Promise<FingerprintSummary[]>;
}

/**
 * Reads over successes and failures together: the health report's per-provider and
 * per-model figures, model health's activity, dueness, and the KPIs and runs of SPEC 16.
 */
export interface RunsStore {
  countsByProvider(w: TimeWindow): Promise<ProviderCounts[]>;
  /** Models with at least one error in the window, most errors first. */
  errorsByModel(w: TimeWindow): Promise<ModelErrorSummary[]>;
  /** Per (provider, model_name) with any success or error: what model health is computed from. */
  modelActivity(since: Date): Promise<ModelActivity[]>;
  /**
   * The newest success since `since` of each (scenario, provider, model): metric rows by their
   * benchmark_profile_id (rows without one count as the published scenario), completed agent
   * runs by their scenario_id. Pairs with no success since then are absent: they are due.
   */
  lastScenarioSuccesses(since: Date): Promise<ScenarioSuccess[]>;
  /** Runs, success rate and p50/p95/p99 per (provider, model, scenario), per provider and overall. */
  metricKpis(w: TimeWindow, filter?: RunFilter): Promise<KpiSummary>;
  /** Successes and failures, newest first, at most limit. */
  recentRuns(query: RunQuery): Promise<RunRecord[]>;
  /** The success or failure recorded under runId, or null. */
  getRun(runId: string): Promise<RunRecord | null>;
  /** Every success in the window as a chart point, by provider, model, scenario, then time. */
  metricPoints(w: TimeWindow, filter?: RunFilter): Promise<MetricPoint[]>;
  /** Rows in the window that their evidence marks (SPEC 18), counted per model, by provider then model. */
  markedRuns(w: TimeWindow): Promise<MarkedRuns[]>;
  /**
   * The published, unmarked rows in the window that name the model that answered, per
   * (provider, catalog id, served model): what the health mail tells a model swap from (SPEC 18).
   */
  servedModels(w: TimeWindow): Promise<ServedModel[]>;
  /**
   * Per provider, the rows and failures in the window whose rate-limit headers left at most
   * `share` (0..1) of the requests or tokens budget (SPEC 18), providers in order.
   */
  nearLimit(w: TimeWindow, share: number): Promise<NearLimit[]>;
}

/** A provider whose key ran near its limit in a window. */
export interface NearLimit {
  provider: string;
  /** Successes and failures whose headers said so. */
  rows: number;
  /** The smallest share of the requests or tokens budget left that any of them reported. */
  lowest_share: number;
  last_at: Date;
}

/** One model the provider said answered for one catalog id, over a window. */
export interface ServedModel {
  provider: string;
  model_name: string;
  served_model: string;
  first_seen: Date;
  last_seen: Date;
  runs: number;
  /** The median tokens/s of those rows; null when none has one. */
  median_tokens_per_second: number | null;
}

/** A model's rows left out of the published numbers by their evidence, per mark. */
export interface MarkedRuns {
  provider: string;
  model_name: string;
  /** Rows of cache-defeating scenarios whose provider reported cached input tokens. */
  cache_hits: number;
  /** Rows measured while the runner's own event loop lagged past the threshold (evidence.saturated). */
  saturated: number;
}

/** The OpenRouter catalog and the providers' own model lists, as discovery last saw them (SPEC 4.4). */
export interface CatalogsStore {
  upsertOpenRouterCatalog(entries: OpenRouterEntry[], now: Date): Promise<UpsertCounts>;
  upsertProviderCatalog(entries: ProviderCatalogEntry[], now: Date): Promise<UpsertCounts>;
  listOpenRouterCatalog(): Promise<OpenRouterCatalogDoc[]>;
  listProviderCatalog(filter?: { provider?: string }): Promise<ProviderCatalogDoc[]>;
}

/** bench_model_health: one freshness document per model (SPEC 4.7). */
export interface ModelHealthStore {
  /** Writes one document per (provider, model_id), replacing the previous one. */
  upsertModelHealth(docs: ModelHealthDoc[]): Promise<void>;
  listModelHealth(filter?: { provider?: string }): Promise<ModelHealthDoc[]>;
}

/** Scenarios (SPEC 4.5). */
export interface ScenariosStore {
  /** Scenarios ordered by id. */
  listScenarios(filter?: { enabledOnly?: boolean; kind?: ScenarioKind }): Promise<ScenarioDoc[]>;
  getScenario(scenarioId: string): Promise<ScenarioDoc | null>;
  insertScenario(doc: ScenarioDoc): Promise<InsertResult>;
  /** @returns false when no such scenario exists. */
  updateScenario(scenarioId: string, patch: ScenarioPatch): Promise<boolean>;
  /** @returns false when no such scenario exists. */
  removeScenario(scenarioId: string): Promise<boolean>;
}

/** TinyFish agent runs (SPEC 4.6) and their KPIs (SPEC 16). */
export interface AgentRunsStore {
  /** Stores an agent run unless its run_id is already stored. */
  insertAgentRun(doc: AgentRunDoc): Promise<InsertResult>;
  /** Agent runs matching the filter, newest first (at most `limit`, default 100). */
  recentAgentRuns(filter?: AgentRunFilter): Promise<AgentRunDoc[]>;
  /** The newest run of each (scenario, automation). */
  lastAgentRuns(filter?: { automation?: string }): Promise<AgentRunDoc[]>;
  /**
   * Runs, outcomes and p50/p95/p99 of total duration and time to first progress (completed
   * runs only) per (automation, scenario, simulated or not) and overall, over agent runs that
   * started in the window.
   */
  agentRunKpis(w: TimeWindow, filter?: AgentKpiFilter): Promise<AgentKpiSummary>;
  /** The agent run recorded under runId, or null. */
  getAgentRun(runId: string): Promise<AgentRunDoc | null>;
}

/** Models a sweep did not start for the daily budget (SPEC 17). */
export interface SweepSkipsStore {
  /** Records a model a sweep did not start for the daily budget. */
  insertSweepSkip(doc: SweepSkipDoc): Promise<void>;
  /** Skips with skipped_at in the window, newest first, at most `limit` (default 1000). */
  sweepSkips(w: TimeWindow, limit?: number): Promise<SweepSkipDoc[]>;
}

/** What each sweep measured of the runner and of the way to each provider (SPEC 18). */
export interface BenchSweepsStore {
  /** Records one sweep. */
  insertBenchSweep(doc: BenchSweepDoc): Promise<void>;
  /** Sweeps with started_at in the window, newest first, at most `limit` (default 1000). */
  benchSweeps(w: TimeWindow, limit?: number): Promise<BenchSweepDoc[]>;
}

// ---- Daily rollups and retention (SPEC 20) ----

/** Nearest-rank percentiles of one measure over one day's values, and how many values there were. */
export interface RollupPercentiles {
  n: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}
/**
 * One (provider, model, scenario, UTC day): its runs and the percentiles of each measure, read
 * with the rules of upstream.ts (probe and shadow rows left out, upstream's TTFT 0 as none, no
 * profile as the published one, no error_kind as unknown); aborted calls are no run.
 */
export interface DailyRollup {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  provider: string;
  model_name: string;
  scenario: string;
  /** successes + failures */
  runs: number;
  successes: number;
  failures: number;
  failures_by_kind: Partial<Record<ErrorKind, number>>;
  last_success: Date | null;
  time_to_first_token: RollupPercentiles;
  /** generate_time */
  total_time: RollupPercentiles;
  tokens_per_second: RollupPercentiles;
  decode_tokens_per_second: RollupPercentiles;
  /** Sum of the successes' cost_usd (0 when none had one). */
  cost_usd: number;
  /** Successes with a cost. */
  priced_calls: number;
  /**
   * 'rollup': the stored rollup of the whole day; 'raw': computed from the raw rows when read
   * (today, the partial days at a window's ends, a day never rolled up).
   */
  source: 'rollup' | 'raw';
}
/** A day whose rollups are stored; they cover the whole day when computed_at is after its end. */
export interface RollupDay {
  day: string;
  computed_at: Date;
  /** (provider, model, scenario) rows stored for the day. */
  cells: number;
  /** Retention removed raw rows of the day: a rebuild keeps its rollups rather than recompute them from what is left. */
  raw_rows_removed: boolean;
}
/** What retention removes (README "History over years"); off unless a number of days is set. */
export interface RetentionPolicy {
  now: Date;
  /** BENCH_RAW_RETENTION_DAYS: times_between_tokens dropped from metric rows older than this. */
  gapsDays: number | null;
  /** BENCH_ROW_RETENTION_DAYS: raw rows older than this removed, only on days a stored rollup covers. */
  rowsDays: number | null;
  /** MongoDB: metrics_cloud_v2 and errors_cloud too, which the public dashboard reads (BENCH_RETENTION_DASHBOARD). */
  includeDashboard: boolean;
  /** Rows changed per table at most (a sweep's bounded share of the work). */
  limit: number;
}
export interface RetentionResult {
  /** Metric rows whose times_between_tokens were dropped. */
  gaps_dropped: number;
  /** Metric and error rows removed. */
  rows_deleted: number;
}
/** How big the store is and grows (SQLite: from its page counts; MongoDB: row counts only). */
export interface StoreFootprint {
  /** Bytes in use (pages × page size), null where the backend cannot say. */
  bytes: number | null;
  /** Bytes of free pages a VACUUM would give back to the file system. */
  free_bytes: number | null;
  /** Metric and error rows. */
  rows: number;
  /** Metric and error rows of the last 7 days, per day. */
  rows_per_day: number;
  /** bytes / rows, indexes and rollups included. */
  bytes_per_row: number | null;
  /** bytes + a year of rows_per_day × bytes_per_row (no retention counted). */
  projected_bytes_in_a_year: number | null;
}

export interface RollupsStore {
  /**
   * Recomputes from the raw rows, and stores, the rollups of every UTC day the window touches
   * (days that have not begun at `now`, or before the oldest raw row, are skipped), replacing
   * what was stored for them; a day whose raw rows retention removed keeps its rollups.
   * @returns the days written.
   */
  rebuildRollups(w: TimeWindow, now: Date): Promise<RollupDay[]>;
  /**
   * One row per (provider, model, scenario, UTC day) with runs in the window, by provider,
   * model, scenario, then day: the stored rollup for each complete day inside the window that
   * one covers, computed from the raw rows for the rest. The status site's 30-day charts read this.
   */
  dailyRollups(w: TimeWindow, filter?: RunFilter): Promise<DailyRollup[]>;
  /** dailyRollups' rows in no order, each handed to `each` as read and not kept (a year's KPIs). */
  eachDailyRollup(w: TimeWindow, filter: RunFilter, each: (r: DailyRollup) => void): Promise<void>;
  /** The days in the window that have stored rollups. */
  rollupDays(w: TimeWindow): Promise<RollupDay[]>;
  /** Applies the policy, oldest rows first, at most policy.limit rows per table. */
  applyRetention(policy: RetentionPolicy): Promise<RetentionResult>;
  storeFootprint(now: Date): Promise<StoreFootprint>;
}

/** Every collection, and the connection they share. */
// ---- Migrations (SPEC 4.0): rewrites of the operator's documents, only when asked ----

/** One field of one model document a migration rewrites, with its value before and after. */
export interface FieldChange {
  provider: string;
  model_id: string;
  field: string;
  before: unknown;
  after: unknown;
}
/** One `store migrate`: what it changed, so `--revert` can put it back. */
export interface MigrationBatch {
  batch_id: string;
  applied_at: Date;
  reverted_at: Date | null;
  changes: FieldChange[];
}
export interface MigrationsStore {
  /**
   * What a migration would rewrite: stored values the readers only reinterpret (a Date
   * deprecation_date, which the dashboard's API prints as `{}`). Nothing is written.
   */
  pendingMigrations(): Promise<FieldChange[]>;
  /**
   * Records the batch, then rewrites each field that still holds its `before` value.
   * @returns the batch, with the changes that were made.
   */
  applyMigration(changes: FieldChange[], at: Date): Promise<MigrationBatch>;
  /** Puts back each field of the batch that still holds its `after` value; null for an unknown batch. */
  revertMigration(batchId: string, at: Date): Promise<MigrationBatch | null>;
  /** Every batch, newest first. */
  listMigrations(): Promise<MigrationBatch[]>;
}

export interface Store
  extends ModelsStore,
    MetricsStore,
    ErrorsStore,
    RunsStore,
    CatalogsStore,
    ModelHealthStore,
    ScenariosStore,
    AgentRunsStore,
    SweepSkipsStore,
    BenchSweepsStore,
    MigrationsStore,
    ExchangeStore,
    RollupsStore {
  readonly kind: 'sqlite' | 'mongodb';
  /** A human description of where the data lives (no credentials). */
  readonly location: string;
  /** Throws when the store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
  /** SQLite: holds off its write-ahead log's automatic checkpoint while a sweep's calls stream (ResultSink). */
  pauseCheckpoints?(): Promise<void>;
  /** SQLite: checkpoints again, and once now. */
  resumeCheckpoints?(): Promise<void>;
}

export type ScenarioPatch = Partial<Omit<ScenarioDoc, 'scenario_id' | 'created_at'>>;

export interface AgentRunFilter {
  automation?: string;
  scenario_id?: string;
  status?: AgentRunStatus;
  /** started_at >= since */
  since?: Date;
  /** started_at < until */
  until?: Date;
  limit?: number;
  /**
   * Each run's `result` read as null: for lists, counts and pages, which never show it (a
   * result can be 64 KiB, and thousands of runs are read after every sweep).
   */
  withoutResult?: boolean;
}

// ---- Agent-run KPIs (SPEC 16) ----

export interface AgentKpiFilter {
  automation?: string;
  scenario?: string;
  /** Only simulated runs (true) or only measured ones (false). */
  mock?: boolean;
}
/** The newest run of a group that did not complete. */
export interface AgentFailure {
  run_id: string;
  started_at: Date;
  status: Exclude<AgentRunStatus, 'completed'>;
  error_kind: AgentErrorKind | null;
  error: string | null;
}
/**
 * KPIs of one (automation, scenario) group, its simulated runs apart from measured ones (a
 * percentile over both would describe neither); automation and scenario are null in the
 * overall row, whose mock is true when any pooled run was simulated.
 */
export interface AgentKpiRow {
  provider: 'tinyfish';
  automation: string | null;
  scenario: string | null;
  mock: boolean;
  /** completed + failed + timeouts */
  runs: number;
  completed: number;
  failed: number;
  timeouts: number;
  /** completed / runs, null without runs. */
  success_rate: number | null;
  last_started: Date | null;
  last_completed: Date | null;
  /** total_duration_ms of completed runs. */
  total_duration_ms: Percentiles;
  /** time_to_first_progress_ms of completed runs that had a PROGRESS event. */
  time_to_first_progress_ms: Percentiles;
  last_failure: AgentFailure | null;
}
export interface AgentKpiSummary {
  overall: AgentKpiRow;
  /** By automation, scenario, then measured before simulated. */
  groups: AgentKpiRow[];
}

/** A store that cannot be opened or reached; the message names where, never a password. */
export class StoreError extends Error {
  override name = 'StoreError';
}

/**
 * A write the store refuses whatever the retry (a document the driver cannot encode, over
 * the size limit, refused by a collection validator): the ingest server answers it with a
 * 4xx for that item, so a runner sets it aside instead of retrying it forever.
 */
export class PermanentStoreError extends StoreError {
  override name = 'PermanentStoreError';
  readonly permanent = true;
}
