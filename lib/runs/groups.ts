// Parallel groups (SPEC 19), computed where they are read: the calls a sweep started together
// on one model, their aggregate throughput over the group's wall time, and how much slower each
// call decoded than the same model's single calls.
import type { ErrorDoc, ErrorKind, MetricDoc } from '../store/documents.ts';
import type { ErrorsStore, MetricsStore, RunsStore, TimeWindow } from '../store/store.ts';
import { csv, fixed, textTable, type OutputFormat } from './format.ts';
import { medianOf } from '../store/kpis.ts';

export interface GroupCall {
  run_id: string;
  output_tokens: number;
  decode_tokens_per_second: number | null;
  /** The model's single-call median decode speed over this call's; 1.5 means a third slower. null when either is unknown. */
  slowdown: number | null;
}

export interface GroupSummary {
  group_id: string;
  provider: string;
  model_name: string;
  scenario_id: string;
  /** Calls the group started. */
  size: number;
  /** Calls of it with a metric row (a failed call has none). */
  recorded: number;
  /** Calls of it that failed (error rows with its group id; calls stopped by the operator are not failures). */
  failed: number;
  /** The failures per kind, e.g. { rate_limit: 3 }. */
  failures_by_kind: Partial<Record<ErrorKind, number>>;
  /** The first call's request; for a group whose every call failed, its first failure. */
  started_at: Date;
  /** From the first call's request to the last call's last token, in seconds. */
  wall_s: number;
  output_tokens: number;
  /** Every call's output tokens over the group's wall time. */
  aggregate_tokens_per_second: number;
  /** The same model's median decode speed over single calls in the window, or null when it has none. */
  single_decode_median: number | null;
  calls: GroupCall[];
}

/**
 * The groups among `rows`, each against the single calls (rows without a group) of its model,
 * with the failures among `errors` that carry a group id.
 */
export function summarizeGroups(rows: MetricDoc[], errors: ErrorDoc[] = []): GroupSummary[] {
  const key = (r: { provider: string; model_name: string }) => `${r.provider}\u0000${r.model_name}`;
  const singles = new Map<string, number[]>();
  const groups = new Map<string, MetricDoc[]>();
  for (const r of rows) {
    if (r.parallel_group_id) groups.set(r.parallel_group_id, [...(groups.get(r.parallel_group_id) ?? []), r]);
    else if (r.decode_tokens_per_second !== null && r.decode_tokens_per_second > 0) singles.set(key(r), [...(singles.get(key(r)) ?? []), r.decode_tokens_per_second]);
  }
  const failures = new Map<string, ErrorDoc[]>();
  for (const e of errors) {
    if (!e.parallel_group_id || e.error_kind === 'aborted') continue;
    failures.set(e.parallel_group_id, [...(failures.get(e.parallel_group_id) ?? []), e]);
    if (!groups.has(e.parallel_group_id)) groups.set(e.parallel_group_id, []);
  }
  const out: GroupSummary[] = [];
  for (const [id, calls] of groups) {
    const failed = failures.get(id) ?? [];
    const first = calls[0] ?? failed[0]!;
    const sizeOf = calls[0]?.parallel_size ?? failed[0]?.parallel_size;
    const start = calls.length ? Math.min(...calls.map((c) => c.run_ts.getTime())) : Math.min(...failed.map((e) => e.ts.getTime()));
    const end = calls.length ? Math.max(...calls.map((c) => c.gen_ts.getTime())) : start;
    const wall = (end - start) / 1000;
    const output = calls.reduce((sum, c) => sum + c.output_tokens, 0);
    const single = medianOf(singles.get(key(first)) ?? []);
    const byKind: Partial<Record<ErrorKind, number>> = {};
    for (const e of failed) byKind[e.error_kind] = (byKind[e.error_kind] ?? 0) + 1;
    out.push({
      group_id: id,
      provider: first.provider,
      model_name: first.model_name,
      scenario_id: first.benchmark_profile_id,
      size: sizeOf ?? calls.length + failed.length,
      recorded: calls.length,
      failed: failed.length,
      failures_by_kind: byKind,
      started_at: new Date(start),
      wall_s: wall,
      output_tokens: output,
      aggregate_tokens_per_second: wall > 0 ? output / wall : 0,
      single_decode_median: single,
      calls: calls.map((c) => ({
        run_id: c.run_id,
        output_tokens: c.output_tokens,
        decode_tokens_per_second: c.decode_tokens_per_second,
        slowdown: single !== null && c.decode_tokens_per_second ? single / c.decode_tokens_per_second : null,
      })),
    });
  }
  return out.sort((a, b) => b.started_at.getTime() - a.started_at.getTime());
}

/** Rows read per model and collection: 72 hours of 30-minute sweeps and daily groups are far below it. */
const ROWS_PER_MODEL = 5000;

/**
 * The window's rows, both collections, of every model with a probe row in it (workloads and
 * groups are probe scenarios; their single-call and 64-token references are published rows).
 */
export async function readWindowRows(
  store: Pick<MetricsStore, 'lastSuccessesIn' | 'recentMetricsIn'>,
  w: TimeWindow,
  filter: { provider?: string; model?: string } = {},
): Promise<MetricDoc[]> {
  const models = (await store.lastSuccessesIn({ collection: 'probe', ...(filter.provider ? { provider: filter.provider } : {}) })).filter(
    (m) => m.ts >= w.since && (!filter.model || m.model_name === filter.model),
  );
  const rows: MetricDoc[] = [];
  for (const m of models) {
    for (const collection of ['probe', 'published'] as const) {
      const recent = await store.recentMetricsIn({ provider: m.provider, modelName: m.model_name, limit: ROWS_PER_MODEL, collection });
      rows.push(...recent.filter((r) => r.run_ts >= w.since && r.run_ts <= w.until));
    }
  }
  return rows;
}

/**
 * The window's error rows that belong to a parallel group, of every model with an error in the
 * window (a group whose every call failed has no metric row to find its model by).
 */
export async function readWindowGroupErrors(
  store: Pick<RunsStore, 'errorsByModel'> & Pick<ErrorsStore, 'recentErrors'>,
  w: TimeWindow,
  filter: { provider?: string; model?: string } = {},
): Promise<ErrorDoc[]> {
  const models = (await store.errorsByModel(w)).filter((m) => (!filter.provider || m.provider === filter.provider) && (!filter.model || m.model_name === filter.model));
  const errors: ErrorDoc[] = [];
  for (const m of models) {
    const recent = await store.recentErrors(m.provider, m.model_name, ROWS_PER_MODEL);
    errors.push(...recent.filter((e) => e.parallel_group_id && e.ts >= w.since && e.ts <= w.until));
  }
  return errors;
}

export function formatGroups(groups: GroupSummary[], format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(groups, null, 2)}\n`;
  const header = ['started', 'provider', 'model', 'scenario', 'calls', 'failed', 'wall_s', 'agg_tok_s', 'single_decode_tok_s', 'slowdown_p50', 'slowdown_max'];
  const cells = groups.map((g) => {
    const slow = g.calls.map((c) => c.slowdown).filter((s): s is number => s !== null);
    return [
      g.started_at.toISOString(),
      g.provider,
      g.model_name,
      g.scenario_id,
      `${g.recorded}/${g.size}`,
      String(g.failed),
      fixed(g.wall_s, 3),
      fixed(g.aggregate_tokens_per_second, 1),
      fixed(g.single_decode_median, 1),
      fixed(medianOf(slow), 2),
      fixed(slow.length ? Math.max(...slow) : null, 2),
    ];
  });
  if (format === 'csv') return csv(header, cells.map((r) => r.map((c) => (c === '-' ? null : c))));
  if (groups.length === 0) return 'No parallel groups in the window (enable one: npm run models -- scenario enable parallel-10-daily-v1)\n';
  return `${textTable(header, cells, new Set([4, 5, 6, 7, 8, 9, 10]))}\n`;
}
