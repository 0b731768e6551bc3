// Calls the operator stopped (error_kind `aborted`: SIGINT or SIGTERM during a sweep) say
// nothing about the provider (SPEC 18), but the store's metricKpis counts every error row as a
// failure. The site takes them back out here, from the aborted rows it read.
// TODO(store): when metricKpis leaves aborted rows out of `failures` (as errorsByKind and
// countsByProvider already do), drop this and pass the store's summary through.
import type { ErrorDoc } from '../store/documents.ts';
import { DEFAULT_SCENARIO, type KpiRow, type KpiSummary } from '../store/store.ts';

/**
 * The summary with the given aborted calls (those of its window and filter) left out of every
 * row's failures, runs and success rate; a row left with no run is dropped.
 */
export function withoutAborted(summary: KpiSummary, aborted: ErrorDoc[]): KpiSummary {
  if (aborted.length === 0) return summary;
  const count = (match: (e: ErrorDoc) => boolean) => aborted.filter(match).length;
  const less = (row: KpiRow, n: number): KpiRow => {
    const failures = Math.max(0, row.failures - n);
    const runs = row.successes + failures;
    return { ...row, failures, runs, success_rate: runs > 0 ? row.successes / runs : null };
  };
  const models = summary.models
    .map((r) => less(r, count((e) => e.provider === r.provider && e.model_name === r.model_name && (e.benchmark_profile_id ?? DEFAULT_SCENARIO) === r.scenario)))
    .filter((r) => r.runs > 0);
  const providers = summary.providers.map((r) => less(r, count((e) => e.provider === r.provider))).filter((r) => r.runs > 0);
  return { overall: less(summary.overall, aborted.length), providers, models };
}
