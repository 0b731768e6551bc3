// KPIs from raw values, for the backends that cannot compute percentiles in the database:
// SQLite (no percentile aggregate) and MongoDB servers older than 7.0 (no $percentile). Each
// group's values arrive once, are sorted once as a Float64Array, and roll up into the
// provider and overall rows by concatenation, so every percentile is exact.
import type { KpiRow, KpiSummary, Percentiles } from './store.ts';

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
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function percentiles(values: ArrayLike<number>): Percentiles {
  const sorted = Float64Array.from(values).sort();
  return { p50: nearestRank(sorted, 50), p95: nearestRank(sorted, 95), p99: nearestRank(sorted, 99) };
}

export const NO_PERCENTILES: Percentiles = Object.freeze({ p50: null, p95: null, p99: null });

export function emptyKpiRow(key: Pick<KpiRow, 'provider' | 'model_name' | 'scenario'>): KpiRow {
  return {
    ...key,
    runs: 0,
    successes: 0,
    failures: 0,
    success_rate: null,
    last_success: null,
    time_to_first_token: NO_PERCENTILES,
    total_time: NO_PERCENTILES,
    tokens_per_second: NO_PERCENTILES,
    decode_tokens_per_second: NO_PERCENTILES,
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
  type Pool = { row: KpiRow; values: Record<(typeof FIELDS)[number], number[]> };
  const pool = (row: KpiRow): Pool => ({ row, values: { time_to_first_token: [], total_time: [], tokens_per_second: [], decode_tokens_per_second: [] } });
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
    for (const field of FIELDS) row[field] = percentiles(g[field]);
    models.push(withRates(row));
    const pp = providerPool(g.provider);
    for (const target of [pp, overall]) {
      add(target, g.successes, f, g.last_success);
      for (const field of FIELDS) {
        const into = target.values[field];
        for (let i = 0; i < g[field].length; i++) into.push(g[field][i]!);
      }
    }
  }
  // Groups with failures only.
  for (const f of failed.values()) {
    models.push(withRates({ ...emptyKpiRow({ provider: f.provider, model_name: f.model_name, scenario: f.scenario }), failures: f.failures }));
    add(providerPool(f.provider), 0, f.failures, null);
    add(overall, 0, f.failures, null);
  }
  const finish = (p: Pool): KpiRow => {
    for (const field of FIELDS) p.row[field] = percentiles(p.values[field]);
    return withRates(p.row);
  };
  return {
    overall: finish(overall),
    providers: [...providers.values()].map(finish).sort(byKey),
    models: models.sort(byKey),
  };
}

export function byKey(a: KpiRow, b: KpiRow): number {
  return cmp(a.provider, b.provider) || cmp(a.model_name, b.model_name) || cmp(a.scenario, b.scenario);
}

function cmp(a: string | null, b: string | null): number {
  return (a ?? '') < (b ?? '') ? -1 : (a ?? '') > (b ?? '') ? 1 : 0;
}
