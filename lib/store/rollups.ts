// Daily rollups (SPEC 20), what both backends share: a day's rollups from the values the KPI
// reads return (so the reading rules of upstream.ts apply as they do to the KPIs), which days
// of a window are read from stored rollups and which from raw rows, and what a figure over a
// long window is. Percentiles of days do not merge exactly, so a long window's figure is
// defined here, once: see longWindowAccumulator.
import type { ErrorKind } from './documents.ts';
import { emptyKpiRow, nearestRank, withRates, byKey, type GroupValues } from './kpis.ts';
import type { DailyRollup, KpiRow, KpiSummary, RetentionResult, RollupDay, RollupPercentiles, RunFilter, Store, TimeWindow } from './store.ts';

export const DAY_MS = 86_400_000;
/**
 * KPIs over a window longer than this many days read rollups (longWindowAccumulator); shorter ones
 * stay exact (metricKpis). Eight days keeps the 24-hour and 7-day reads exact, and the health
 * report's window plus its 7-day baseline, whatever hour they start at.
 */
export const LONG_WINDOW_DAYS = 8;

export const ROLLUP_MEASURES = ['time_to_first_token', 'total_time', 'tokens_per_second', 'decode_tokens_per_second'] as const;

/** Failures of one group and error kind in a window (aborted calls left out). */
export interface KindFailures {
  provider: string;
  model_name: string;
  scenario: string;
  error_kind: string;
  failures: number;
}
/** What the successes of one group cost in a window. */
export interface GroupCost {
  provider: string;
  model_name: string;
  scenario: string;
  cost_usd: number;
  priced_calls: number;
}
/** The raw material of one day's rollups, as a backend reads it. */
export interface DayParts {
  groups: GroupValues[];
  failures: KindFailures[];
  costs: GroupCost[];
}

/** What a backend gives the shared reader. */
export interface RollupSource {
  /** The day's parts from the raw rows of a window inside one UTC day. */
  rawDay(w: TimeWindow, filter: RunFilter): Promise<DayParts>;
  /**
   * Hands each stored rollup of the days from..to (inclusive, YYYY-MM-DD) to `each`, one at a
   * time as read: a year of them is 110,000 rows, which a caller need not hold.
   */
  stored(from: string, to: string, filter: RunFilter, each: (r: DailyRollup) => void): Promise<void>;
  days(from: string, to: string): Promise<RollupDay[]>;
}

export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function dayStart(day: string): number {
  return Date.parse(`${day}T00:00:00.000Z`);
}

/** Each UTC day the window touches, with the part of it inside the window. */
export function daysOf(w: TimeWindow): Array<{ day: string; whole: boolean; part: TimeWindow }> {
  const out = [];
  const since = w.since.getTime();
  const until = w.until.getTime();
  for (let start = Math.floor(since / DAY_MS) * DAY_MS; start < until; start += DAY_MS) {
    const end = start + DAY_MS;
    out.push({
      day: utcDay(start),
      whole: since <= start && end <= until,
      part: { since: new Date(Math.max(start, since)), until: new Date(Math.min(end, until)) },
    });
  }
  return out;
}

/** A stored day covers the whole day when it was computed after the day ended. */
export function coversDay(d: RollupDay): boolean {
  return d.computed_at.getTime() >= dayStart(d.day) + DAY_MS;
}

/** Nearest-rank p50, p90, p95 and p99 (kpis.ts's definition) of a day's values. */
export function rollupPercentiles(values: ArrayLike<number>): RollupPercentiles {
  const sorted = Float64Array.from(values).sort();
  return { n: sorted.length, p50: nearestRank(sorted, 50), p90: nearestRank(sorted, 90), p95: nearestRank(sorted, 95), p99: nearestRank(sorted, 99) };
}

const groupKey = (r: { provider: string; model_name: string; scenario: string }) => `${r.provider}\u0000${r.model_name}\u0000${r.scenario}`;

/** One day's rollups from its parts: a row per group with a success or a failure. */
export function rollupsOfDay(day: string, parts: DayParts, source: DailyRollup['source']): DailyRollup[] {
  const rows = new Map<string, DailyRollup>();
  const row = (k: { provider: string; model_name: string; scenario: string }): DailyRollup => {
    const key = groupKey(k);
    let r = rows.get(key);
    if (!r) {
      const none = rollupPercentiles([]);
      r = {
        day,
        provider: k.provider,
        model_name: k.model_name,
        scenario: k.scenario,
        runs: 0,
        successes: 0,
        failures: 0,
        failures_by_kind: {},
        last_success: null,
        time_to_first_token: none,
        total_time: none,
        tokens_per_second: none,
        decode_tokens_per_second: none,
        cost_usd: 0,
        priced_calls: 0,
        source,
      };
      rows.set(key, r);
    }
    return r;
  };
  for (const g of parts.groups) {
    const r = row(g);
    r.successes += g.successes;
    r.last_success = g.last_success;
    for (const m of ROLLUP_MEASURES) r[m] = rollupPercentiles(g[m]);
  }
  for (const f of parts.failures) {
    const r = row(f);
    r.failures += f.failures;
    const kind = f.error_kind as ErrorKind;
    r.failures_by_kind[kind] = (r.failures_by_kind[kind] ?? 0) + f.failures;
  }
  for (const c of parts.costs) {
    // Costs are of successes: a group without one in the window has none to show.
    const r = rows.get(groupKey(c));
    if (!r) continue;
    r.cost_usd += c.cost_usd;
    r.priced_calls += c.priced_calls;
  }
  for (const r of rows.values()) r.runs = r.successes + r.failures;
  return [...rows.values()].sort(byCell);
}

export function byCell(a: DailyRollup, b: DailyRollup): number {
  return cmp(a.provider, b.provider) || cmp(a.model_name, b.model_name) || cmp(a.scenario, b.scenario) || cmp(a.day, b.day);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The rows of DailyRollups over a window: a complete day inside the window reads its stored
 * rollups when they cover it, every other day (today, the partial ends, a day never rolled up
 * or rolled up before it ended) is computed from the raw rows of its part of the window.
 */
export async function readDailyRollups(source: RollupSource, w: TimeWindow, filter: RunFilter = {}): Promise<DailyRollup[]> {
  const out: DailyRollup[] = [];
  await forEachDailyRollup(source, w, filter, (r) => out.push(r));
  return out.sort(byCell);
}

/** readDailyRollups' rows, in no order, each handed to `each` as it is read and not kept. */
export async function forEachDailyRollup(source: RollupSource, w: TimeWindow, filter: RunFilter, each: (r: DailyRollup) => void): Promise<void> {
  const days = daysOf(w);
  if (days.length === 0) return;
  const first = days[0]!.day;
  const last = days.at(-1)!.day;
  const covered = new Set((await source.days(first, last)).filter(coversDay).map((d) => d.day));
  const fromStore = new Set(days.filter((d) => d.whole && covered.has(d.day)).map((d) => d.day));
  if (fromStore.size > 0) {
    await source.stored(first, last, filter, (r) => {
      if (fromStore.has(r.day)) each(r);
    });
  }
  for (const d of days) {
    if (fromStore.has(d.day)) continue;
    for (const r of rollupsOfDay(d.day, await source.rawDay(d.part, filter), 'raw')) each(r);
  }
}

/** The days a rebuild of the window writes: every UTC day it touches that has begun at `now`, whole. */
export function daysToRebuild(w: TimeWindow, now: Date): Array<{ day: string; whole: TimeWindow }> {
  return daysOf(w)
    .filter((d) => dayStart(d.day) < now.getTime())
    .map((d) => ({ day: d.day, whole: { since: new Date(dayStart(d.day)), until: new Date(dayStart(d.day) + DAY_MS) } }));
}

/**
 * The weighted median: the smallest value with at least half of the total weight at or below
 * it (the nearest-rank median when every weight is 1); null without weight.
 */
export function weightedMedian(pairs: Array<{ value: number; weight: number }>): number | null {
  return weightedMedianOf(Float64Array.from(pairs, (p) => p.value), Float64Array.from(pairs, (p) => p.weight));
}

/**
 * weightedMedian over parallel arrays, by a weighted quickselect (linear time, no sort: a
 * provider's year is tens of thousands of pairs, read twelve times). Reorders neither input.
 */
function weightedMedianOf(values: Float64Array, weights: Float64Array): number | null {
  const v = new Float64Array(values.length);
  const w = new Float64Array(values.length);
  let n = 0;
  let total = 0;
  for (let i = 0; i < values.length; i++) {
    if (!(weights[i]! > 0)) continue;
    v[n] = values[i]!;
    w[n++] = weights[i]!;
    total += weights[i]!;
  }
  if (n === 0) return null;
  // The answer is the smallest value whose weight at or below it reaches half of the total.
  const half = total / 2;
  let lo = 0;
  let hi = n;
  let below = 0;
  for (;;) {
    const pivot = v[(lo + hi) >>> 1]!;
    // Three-way partition of [lo, hi): below the pivot, equal to it, above it.
    let lt = lo;
    let i = lo;
    let gt = hi;
    let wLess = 0;
    let wEqual = 0;
    while (i < gt) {
      if (v[i]! < pivot) {
        wLess += w[i]!;
        swap2(v, w, lt++, i++);
      } else if (v[i]! > pivot) swap2(v, w, i, --gt);
      else wEqual += w[i++]!;
    }
    if (below + wLess >= half) hi = lt;
    else if (below + wLess + wEqual >= half) return pivot;
    else {
      below += wLess + wEqual;
      lo = gt;
    }
  }
}

function swap2(a: Float64Array, b: Float64Array, i: number, j: number): void {
  const x = a[i]!;
  a[i] = a[j]!;
  a[j] = x;
  const y = b[i]!;
  b[i] = b[j]!;
  b[j] = y;
}

/** One group's sums while rollups are added; its rows are found by their group index. */
interface GroupSums {
  row: KpiRow;
  provider: string;
}

/**
 * KPIs over a long window from daily rollups, added one at a time. Counts, success rate and
 * last success are exact sums and maxima. A percentile of a measure is the weighted median,
 * over the (provider, model, scenario, UTC day) rows the figure spans, of each row's own
 * nearest-rank percentile of that measure, each row weighted by its number of values: "a
 * typical day's p95", which is what a day's rollup can give without the raw values. A
 * provider's and the overall figure span all their rows' days likewise.
 *
 * Each row leaves its twelve figures and weights in typed arrays (192 bytes) and its counts in
 * its group's sums, so a year of 300 models (110,000 rollups, about 1 KB each as objects) is
 * never held: issue 28's one-year KPIs took 388 MB when they were.
 */
export function longWindowAccumulator(): { add(r: DailyRollup): void; summary(): KpiSummary } {
  const width = FIGURES.length;
  let values = new Float64Array(1024 * width);
  let weights = new Float64Array(1024 * width);
  let groupOf = new Uint32Array(1024);
  let n = 0;
  const groups: GroupSums[] = [];
  const groupIndex = new Map<string, number>();
  const put = (f: number, x: RollupPercentiles) => {
    values[f] = x.p50 ?? 0;
    weights[f] = x.p50 === null ? 0 : x.n;
    values[f + 1] = x.p95 ?? 0;
    weights[f + 1] = x.p95 === null ? 0 : x.n;
    values[f + 2] = x.p99 ?? 0;
    weights[f + 2] = x.p99 === null ? 0 : x.n;
  };
  const grow = <T extends Float64Array | Uint32Array>(a: T, size: number): T => {
    const bigger = new (a.constructor as new (n: number) => T)(size);
    bigger.set(a);
    return bigger;
  };
  return {
    add(r) {
      if (n === groupOf.length) {
        values = grow(values, 2 * n * width);
        weights = grow(weights, 2 * n * width);
        groupOf = grow(groupOf, 2 * n);
      }
      // In FIGURES' order, each measure by name (a computed key is slow over 110,000 rows).
      put(n * width, r.time_to_first_token);
      put(n * width + 3, r.total_time);
      put(n * width + 6, r.tokens_per_second);
      put(n * width + 9, r.decode_tokens_per_second);
      const k = groupKey(r);
      let g = groupIndex.get(k);
      if (g === undefined) {
        g = groups.length;
        groupIndex.set(k, g);
        groups.push({ row: emptyKpiRow({ provider: r.provider, model_name: r.model_name, scenario: r.scenario }), provider: r.provider });
      }
      const sums = groups[g]!.row;
      sums.successes += r.successes;
      sums.failures += r.failures;
      if (r.last_success && (!sums.last_success || r.last_success > sums.last_success)) sums.last_success = r.last_success;
      groupOf[n++] = g;
    },
    summary() {
      // Each group's rows, contiguous in one array (a counting sort by group).
      const start = new Uint32Array(groups.length + 1);
      for (let i = 0; i < n; i++) start[groupOf[i]! + 1]! += 1;
      for (let g = 0; g < groups.length; g++) start[g + 1]! += start[g]!;
      const byGroup = new Uint32Array(n);
      const next = start.slice(0, groups.length);
      for (let i = 0; i < n; i++) byGroup[next[groupOf[i]!]!++] = i;
      const cellsOf = (g: number) => byGroup.subarray(start[g]!, start[g + 1]!);
      const v = new Float64Array(n);
      const w = new Float64Array(n);
      const figures = (sums: KpiRow, cells: ArrayLike<number>): KpiRow => {
        const row = { ...sums };
        FIGURES.forEach(([m, p], f) => {
          for (let j = 0; j < cells.length; j++) {
            v[j] = values[cells[j]! * width + f]!;
            w[j] = weights[cells[j]! * width + f]!;
          }
          row[m] = { ...row[m], [p]: weightedMedianOf(v.subarray(0, cells.length), w.subarray(0, cells.length)) };
        });
        return withRates(row);
      };
      const pooled = (members: number[], key: Pick<KpiRow, 'provider' | 'model_name' | 'scenario'>): KpiRow => {
        const sums = emptyKpiRow(key);
        let size = 0;
        for (const g of members) size += start[g + 1]! - start[g]!;
        const cells = new Uint32Array(size);
        let at = 0;
        for (const g of members) {
          const row = groups[g]!.row;
          sums.successes += row.successes;
          sums.failures += row.failures;
          if (row.last_success && (!sums.last_success || row.last_success > sums.last_success)) sums.last_success = row.last_success;
          cells.set(cellsOf(g), at);
          at += start[g + 1]! - start[g]!;
        }
        return figures(sums, cells);
      };
      const providers = new Map<string, number[]>();
      groups.forEach((g, i) => (providers.get(g.provider) ?? providers.set(g.provider, []).get(g.provider)!).push(i));
      return {
        overall: pooled(groups.map((_, i) => i), { provider: null, model_name: null, scenario: null }),
        providers: [...providers].map(([p, members]) => pooled(members, { provider: p, model_name: null, scenario: null })).sort(byKey),
        models: groups.map((g, i) => figures(g.row, cellsOf(i))).sort(byKey),
      };
    },
  };
}

/** The twelve figures of a KPI row: p50, p95 and p99 of each measure, in this order. */
const FIGURES = ROLLUP_MEASURES.flatMap((m) => (['p50', 'p95', 'p99'] as const).map((p) => [m, p] as const));

/**
 * KPIs over a window: exact from the raw rows up to LONG_WINDOW_DAYS, from daily rollups
 * (longWindowAccumulator) beyond.
 * @throws what the store throws.
 */
export async function windowKpis(store: Pick<Store, 'metricKpis' | 'eachDailyRollup'>, w: TimeWindow, filter: RunFilter = {}): Promise<KpiSummary> {
  if (w.until.getTime() - w.since.getTime() <= LONG_WINDOW_DAYS * DAY_MS) return store.metricKpis(w, filter);
  const acc = longWindowAccumulator();
  await store.eachDailyRollup(w, filter, (r) => acc.add(r));
  return acc.summary();
}

/**
 * Rows retention changes per table in one sweep: the backlog of an old store is worked off a
 * slice at a time. Removing 20,000 metric and 20,000 error rows took 9.8 s on the 10-million-row
 * bench store (each delete recomputes the expression indexes); 5,000 of each per sweep is 240,000
 * a day, sixteen times what 300 models every 30 minutes add.
 */
export const SWEEP_RETENTION_LIMIT = 5_000;
/** For this long after midnight a sweep recomputes yesterday too (rows of a sweep that started before midnight, late deliveries). */
const YESTERDAY_HOURS = 3;

/** What retention keeps (Config['retention']). */
export interface RetentionSettings {
  gapsDays: number | null;
  rowsDays: number | null;
  includeDashboard: boolean;
}

/**
 * After a sweep: recomputes today's rollups (and yesterday's, shortly after midnight or when
 * no rollup covers it yet), then applies retention, at most SWEEP_RETENTION_LIMIT rows per table.
 * @throws what the store throws.
 */
export async function refreshRollups(
  store: Pick<Store, 'rebuildRollups' | 'rollupDays' | 'applyRetention'>,
  o: { now: Date; retention: RetentionSettings; limit?: number },
): Promise<{ days: RollupDay[]; retention: RetentionResult }> {
  const today = Math.floor(o.now.getTime() / DAY_MS) * DAY_MS;
  const yesterday = { since: new Date(today - DAY_MS), until: new Date(today) };
  const [stored] = await store.rollupDays(yesterday);
  const redoYesterday = o.now.getTime() - today < YESTERDAY_HOURS * 3_600_000 || !stored || !coversDay(stored);
  const days = await store.rebuildRollups({ since: redoYesterday ? yesterday.since : new Date(today), until: o.now }, o.now);
  const retention = await store.applyRetention({ now: o.now, ...o.retention, limit: o.limit ?? SWEEP_RETENTION_LIMIT });
  return { days, retention };
}
