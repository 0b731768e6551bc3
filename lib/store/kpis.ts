// KPIs from raw values, for the backends that do not compute nearest-rank percentiles in the
// database: SQLite (its percentile_disc() is another definition, and twelve of them per group
// cost more than reading the values once) and MongoDB servers older than 7.0 (no $percentile).
// Each group's values arrive once as a Float64Array; the percentiles are selected in linear
// time and the provider and overall rows pool the values by concatenation, so every
// percentile is exact.
import type { AgentRunDoc, AgentRunStatus } from './documents.ts';
import type { AgentFailure, AgentKpiRow, AgentKpiSummary, KpiPercentiles, KpiRow, KpiSummary, Percentiles } from './store.ts';

/** The values of one (provider, model, scenario) in a window; nulls already left out. */
export interface GroupValues {
  provider: string;
  model_name: string;
  scenario: string;
  successes: number;
  last_success: Date | null;
  time_to_first_token: ArrayLike<number>;
  total_time: ArrayLike<number>;
  tokens_per_second: ArrayLike<number>;
  decode_tokens_per_second: ArrayLike<number>;
}
export interface GroupFailures {
  provider: string;
  model_name: string;
  scenario: string;
  failures: number;
}

const FIELDS = ['time_to_first_token', 'total_time', 'tokens_per_second', 'decode_tokens_per_second'] as const;

/** Nearest-rank percentile (the smallest value with at least p% of values at or below it). */
export function nearestRank(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[rankIndex(sorted.length, p)]!;
}

/** The 0-based index of the nearest-rank p-th percentile among n sorted values. */
function rankIndex(n: number, p: number): number {
  return Math.min(n, Math.max(1, Math.ceil((p / 100) * n))) - 1;
}

/**
 * p50, p95 and p99 of the values, which are reordered in place (a selection, not a sort:
 * linear time, which matters for the provider and overall rows over a million values).
 */
export function percentilesInPlace(values: Float64Array): Percentiles {
  const n = values.length;
  if (n === 0) return NO_PERCENTILES;
  const [p50, p95, p99] = selectInPlace(values, [rankIndex(n, 50), rankIndex(n, 95), rankIndex(n, 99)]);
  return { p50: p50!, p95: p95!, p99: p99! };
}

/** percentilesInPlace plus the p50's 95 % interval (SPEC 18). */
export function kpiPercentilesInPlace(values: Float64Array): KpiPercentiles {
  const n = values.length;
  if (n === 0) return NO_KPI_PERCENTILES;
  const ranks = medianIntervalRanks(n);
  const [p50, p95, p99, low, high] = selectInPlace(values, [rankIndex(n, 50), rankIndex(n, 95), rankIndex(n, 99), ...(ranks ? [ranks[0] - 1, ranks[1] - 1] : [])]);
  return { p50: p50!, p95: p95!, p99: p99!, p50_ci: ranks ? { low: low!, high: high! } : null };
}

/**
 * Below this many values no interval of order statistics covers the median with 95 %: even
 * (min, max) misses it with probability 2 × 0.5^n, 6.25 % at five values and 3.1 % at six.
 * Fewer runs are shown as "too few runs".
 */
export const MIN_RUNS_FOR_INTERVAL = 6;

/** True when a p50 stands on too few values to carry a 95 % interval. */
export function tooFewRuns(p: KpiPercentiles): boolean {
  return p.p50 !== null && p.p50_ci === null;
}

const intervalRanks = new Map<number, readonly [number, number] | null>();

/**
 * The 1-based ranks (l, n + 1 − l) of the distribution-free 95 % interval of the median of n
 * values: the number of values below the true median is Binomial(n, ½), so the interval
 * [x(l), x(n+1−l)] misses it with probability 2·P(B ≤ l − 1); l is the largest rank keeping
 * that at or under 5 %. Null below MIN_RUNS_FOR_INTERVAL values.
 */
export function medianIntervalRanks(n: number): readonly [number, number] | null {
  const known = intervalRanks.get(n);
  if (known !== undefined) return known;
  // P(B = k) in logs (0.5^n underflows past n = 1074), summed from k = 0 while the tail stays ≤ 2.5 %.
  let logPmf = -n * Math.LN2;
  let tail = 0;
  let l = 0;
  for (let k = 0; k < n / 2; k++) {
    tail += Math.exp(logPmf);
    if (tail > 0.025) break;
    l = k + 1;
    logPmf += Math.log((n - k) / (k + 1));
  }
  const ranks = l === 0 ? null : ([l, n + 1 - l] as const);
  if (intervalRanks.size < 10_000) intervalRanks.set(n, ranks);
  return ranks;
}

/**
 * The values at the given 0-based indices (in any order) after a selection in place: each
 * index is looked for only right of the previous, lower one, since after a selection
 * everything left of it is <= it.
 */
function selectInPlace(values: Float64Array, indices: number[]): number[] {
  let from = 0;
  for (const k of [...indices].sort((a, b) => a - b)) {
    select(values, k, from);
    from = k;
  }
  return indices.map((k) => values[k]!);
}

/** The median (the mean of the middle two of an even count), sorting numbers as numbers; null when empty. */
export function medianOf(values: ArrayLike<number>): number | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentiles(values: ArrayLike<number>): Percentiles {
  return percentilesInPlace(Float64Array.from(values));
}

/** Moves the k-th smallest of a[from..] to a[k] (Hoare partitioning, median-of-three pivot). */
function select(a: Float64Array, k: number, from: number): void {
  let lo = from;
  let hi = a.length - 1;
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}

export const NO_PERCENTILES: Percentiles = Object.freeze({ p50: null, p95: null, p99: null });
export const NO_KPI_PERCENTILES: KpiPercentiles = Object.freeze({ ...NO_PERCENTILES, p50_ci: null });

/** A KPI's percentiles where the raw values were not read, so no interval can be given. */
export function withoutInterval(p: Percentiles): KpiPercentiles {
  return { ...p, p50_ci: null };
}

export function emptyKpiRow(key: Pick<KpiRow, 'provider' | 'model_name' | 'scenario'>): KpiRow {
  return {
    ...key,
    runs: 0,
    successes: 0,
    failures: 0,
    success_rate: null,
    last_success: null,
    time_to_first_token: NO_KPI_PERCENTILES,
    total_time: NO_KPI_PERCENTILES,
    tokens_per_second: NO_KPI_PERCENTILES,
    decode_tokens_per_second: NO_KPI_PERCENTILES,
  };
}

/** Fills runs and success_rate from successes and failures. */
export function withRates(row: KpiRow): KpiRow {
  const runs = row.successes + row.failures;
  return { ...row, runs, success_rate: runs > 0 ? row.successes / runs : null };
}

const keyOf = (r: { provider: string; model_name: string; scenario: string }) => `${r.provider}\u0000${r.model_name}\u0000${r.scenario}`;

/** Builds the summary from each group's values and failure counts (groups may have either). */
export function summarizeGroups(groups: Iterable<GroupValues>, failures: GroupFailures[]): KpiSummary {
  const failed = new Map(failures.map((f) => [keyOf(f), f]));
  // The provider and overall rows pool the groups' values (not their percentiles).
  type Pool = { row: KpiRow; parts: Record<(typeof FIELDS)[number], Float64Array[]> };
  const pool = (row: KpiRow): Pool => ({ row, parts: { time_to_first_token: [], total_time: [], tokens_per_second: [], decode_tokens_per_second: [] } });
  const overall = pool(emptyKpiRow({ provider: null, model_name: null, scenario: null }));
  const providers = new Map<string, Pool>();
  const models: KpiRow[] = [];
  const add = (p: Pool, successes: number, failures: number, last: Date | null) => {
    p.row.successes += successes;
    p.row.failures += failures;
    if (last && (!p.row.last_success || last > p.row.last_success)) p.row.last_success = last;
  };
  const providerPool = (provider: string) => providers.get(provider) ?? providers.set(provider, pool(emptyKpiRow({ provider, model_name: null, scenario: null }))).get(provider)!;

  for (const g of groups) {
    const f = failed.get(keyOf(g))?.failures ?? 0;
    failed.delete(keyOf(g));
    const row = emptyKpiRow({ provider: g.provider, model_name: g.model_name, scenario: g.scenario });
    row.successes = g.successes;
    row.failures = f;
    row.last_success = g.last_success;
    const pp = providerPool(g.provider);
    for (const field of FIELDS) {
      const values = g[field] instanceof Float64Array ? g[field] : Float64Array.from(g[field]);
      row[field] = kpiPercentilesInPlace(values);
      pp.parts[field].push(values);
    }
    models.push(withRates(row));
    add(pp, g.successes, f, g.last_success);
    add(overall, g.successes, f, g.last_success);
  }
  // Groups with failures only.
  for (const f of failed.values()) {
    models.push(withRates({ ...emptyKpiRow({ provider: f.provider, model_name: f.model_name, scenario: f.scenario }), failures: f.failures }));
    add(providerPool(f.provider), 0, f.failures, null);
    add(overall, 0, f.failures, null);
  }
  const finish = (p: Pool): KpiRow => {
    for (const field of FIELDS) p.row[field] = kpiPercentilesInPlace(concat(p.parts[field]));
    return withRates(p.row);
  };
  const providerRows = [...providers.values()].map((p) => {
    for (const field of FIELDS) overall.parts[field].push(...p.parts[field]);
    return finish(p);
  });
  return { overall: finish(overall), providers: providerRows.sort(byKey), models: models.sort(byKey) };
}

function concat(parts: Float64Array[]): Float64Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function byKey(a: KpiRow, b: KpiRow): number {
  return cmp(a.provider, b.provider) || cmp(a.model_name, b.model_name) || cmp(a.scenario, b.scenario);
}

function cmp(a: string | null, b: string | null): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}

// ---- Agent runs (SPEC 16) ----
// The same nearest-rank percentiles over agent runs: every backend (and lib/tinyfish/stats.ts)
// turns its rows into groups here, so SQLite, MongoDB before 7.0 and the health report agree.

/** What the agent-run KPIs read of one run. */
export interface AgentRunValues {
  automation: string;
  scenario: string;
  mock: boolean;
  /** ms since the epoch */
  started_at: number;
  status: AgentRunStatus;
  total_duration_ms: number | null;
  time_to_first_progress_ms: number | null;
}

/** One group's counts and completed runs' values; newest_failure is the caller's row. */
export interface AgentGroupValues<R = unknown> {
  automation: string;
  scenario: string;
  mock: boolean;
  completed: number;
  failed: number;
  timeouts: number;
  last_started: Date | null;
  last_completed: Date | null;
  total_duration_ms: ArrayLike<number>;
  time_to_first_progress_ms: ArrayLike<number>;
  newest_failure: R | null;
}

/** Groups runs by (automation, scenario, mock) in one pass; durations of completed runs only. */
export function groupAgentRuns<R extends AgentRunValues>(rows: Iterable<R>): Array<AgentGroupValues<R>> {
  type Acc = AgentGroupValues<R> & { durations: number[]; progress: number[]; newestStart: number; newestDone: number; newestFail: number };
  const groups = new Map<string, Acc>();
  for (const r of rows) {
    const key = `${r.automation}\u0000${r.scenario}\u0000${r.mock ? 1 : 0}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        automation: r.automation,
        scenario: r.scenario,
        mock: r.mock,
        completed: 0,
        failed: 0,
        timeouts: 0,
        last_started: null,
        last_completed: null,
        total_duration_ms: [],
        time_to_first_progress_ms: [],
        newest_failure: null,
        durations: [],
        progress: [],
        newestStart: -Infinity,
        newestDone: -Infinity,
        newestFail: -Infinity,
      };
      groups.set(key, g);
    }
    if (r.started_at > g.newestStart) g.newestStart = r.started_at;
    if (r.status === 'completed') {
      g.completed++;
      if (r.started_at > g.newestDone) g.newestDone = r.started_at;
      if (typeof r.total_duration_ms === 'number') g.durations.push(r.total_duration_ms);
      if (typeof r.time_to_first_progress_ms === 'number') g.progress.push(r.time_to_first_progress_ms);
    } else {
      if (r.status === 'timeout') g.timeouts++;
      else g.failed++;
      if (r.started_at > g.newestFail) {
        g.newestFail = r.started_at;
        g.newest_failure = r;
      }
    }
  }
  return [...groups.values()].map(({ durations, progress, newestStart, newestDone, newestFail: _, ...g }) => ({
    ...g,
    last_started: Number.isFinite(newestStart) ? new Date(newestStart) : null,
    last_completed: Number.isFinite(newestDone) ? new Date(newestDone) : null,
    total_duration_ms: Float64Array.from(durations),
    time_to_first_progress_ms: Float64Array.from(progress),
  }));
}

function emptyAgentRow(automation: string | null, scenario: string | null, mock: boolean): AgentKpiRow {
  return {
    provider: 'tinyfish',
    automation,
    scenario,
    mock,
    runs: 0,
    completed: 0,
    failed: 0,
    timeouts: 0,
    success_rate: null,
    last_started: null,
    last_completed: null,
    total_duration_ms: NO_PERCENTILES,
    time_to_first_progress_ms: NO_PERCENTILES,
    last_failure: null,
  };
}

const later = (a: Date | null, b: Date | null) => (a && (!b || a > b) ? a : b);

/**
 * The summary from each group's values (reordered in place) and its newest failure; the
 * overall row pools the groups' values, not their percentiles.
 */
export function summarizeAgentGroups(groups: Iterable<AgentGroupValues<AgentFailure>>): AgentKpiSummary {
  const overall = emptyAgentRow(null, null, false);
  const pooled = { total_duration_ms: [] as Float64Array[], time_to_first_progress_ms: [] as Float64Array[] };
  const rows: AgentKpiRow[] = [];
  for (const g of groups) {
    const durations = g.total_duration_ms instanceof Float64Array ? g.total_duration_ms : Float64Array.from(g.total_duration_ms);
    const progress = g.time_to_first_progress_ms instanceof Float64Array ? g.time_to_first_progress_ms : Float64Array.from(g.time_to_first_progress_ms);
    const runs = g.completed + g.failed + g.timeouts;
    rows.push({
      ...emptyAgentRow(g.automation, g.scenario, g.mock),
      runs,
      completed: g.completed,
      failed: g.failed,
      timeouts: g.timeouts,
      success_rate: runs > 0 ? g.completed / runs : null,
      last_started: g.last_started,
      last_completed: g.last_completed,
      total_duration_ms: percentilesInPlace(durations),
      time_to_first_progress_ms: percentilesInPlace(progress),
      last_failure: g.newest_failure,
    });
    pooled.total_duration_ms.push(durations);
    pooled.time_to_first_progress_ms.push(progress);
    overall.mock ||= g.mock;
    overall.runs += runs;
    overall.completed += g.completed;
    overall.failed += g.failed;
    overall.timeouts += g.timeouts;
    overall.last_started = later(g.last_started, overall.last_started);
    overall.last_completed = later(g.last_completed, overall.last_completed);
    if (g.newest_failure && (!overall.last_failure || g.newest_failure.started_at > overall.last_failure.started_at)) overall.last_failure = g.newest_failure;
  }
  overall.success_rate = overall.runs > 0 ? overall.completed / overall.runs : null;
  overall.total_duration_ms = percentilesInPlace(concat(pooled.total_duration_ms));
  overall.time_to_first_progress_ms = percentilesInPlace(concat(pooled.time_to_first_progress_ms));
  const cmpRow = (a: AgentKpiRow, b: AgentKpiRow) => cmp(a.automation, b.automation) || cmp(a.scenario, b.scenario) || Number(a.mock) - Number(b.mock);
  return { overall, groups: rows.sort(cmpRow) };
}

/** What a group shows of its newest run that did not complete. */
export function agentFailure(d: Pick<AgentRunDoc, 'run_id' | 'started_at' | 'status' | 'error_kind' | 'error'>): AgentFailure {
  return { run_id: d.run_id, started_at: d.started_at, status: d.status === 'timeout' ? 'timeout' : 'failed', error_kind: d.error_kind ?? null, error: d.error ?? null };
}
