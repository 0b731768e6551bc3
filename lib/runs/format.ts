// KPIs and runs as a terminal table, CSV (RFC 4180) or JSON. Unknown numbers print as "-" in
// tables, empty in CSV and null in JSON: never as 0.
import type { KpiRow, KpiSummary, Percentiles, RunRecord, TimeWindow } from '../store/store.ts';

export type OutputFormat = 'table' | 'csv' | 'json';

const PCT = ['p50', 'p95', 'p99'] as const;
const METRICS = [
  ['ttft_s', 'time_to_first_token', 3],
  ['total_s', 'total_time', 3],
  ['tok_s', 'tokens_per_second', 1],
  ['decode_tok_s', 'decode_tokens_per_second', 1],
] as const;

export function fixed(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined ? '-' : v.toFixed(digits);
}

export function percent(rate: number | null): string {
  return rate === null ? '-' : `${(rate * 100).toFixed(1)}%`;
}

/** A run is simulated when the mock provider measured it. */
export function isMockRun(run: RunRecord): boolean {
  return run.outcome === 'ok' ? run.metric.provider === 'mock' || run.metric.mock === true : run.error.provider === 'mock';
}

/** Left-aligned text columns, right-aligned numbers, two spaces apart. */
export function textTable(header: string[], rows: string[][], numeric: ReadonlySet<number>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 && !numeric.has(i) ? c : numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function csv(header: string[], rows: Array<Array<string | number | null>>): string {
  const cell = (v: string | number | null) => {
    if (v === null) return '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n')}\r\n`;
}

function kpiRows(summary: KpiSummary): KpiRow[] {
  return [...summary.models, ...summary.providers, summary.overall];
}

function label(r: KpiRow): [string, string, string] {
  return [r.provider ?? '(all)', r.model_name ?? '(all)', r.scenario ?? '(all)'];
}

export function formatKpis(summary: KpiSummary, w: TimeWindow, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify({ since: w.since, until: w.until, ...summary }, null, 2)}\n`;
  if (format === 'csv') {
    const header = ['provider', 'model', 'scenario', 'runs', 'successes', 'failures', 'success_rate', 'last_success'];
    for (const [name] of METRICS) for (const p of PCT) header.push(`${name}_${p}`);
    const rows = kpiRows(summary).map((r) => {
      const row: Array<string | number | null> = [r.provider, r.model_name, r.scenario, r.runs, r.successes, r.failures, r.success_rate, r.last_success?.toISOString() ?? null];
      for (const [, field] of METRICS) for (const p of PCT) row.push(r[field][p]);
      return row;
    });
    return csv(header, rows);
  }
  const header = ['provider', 'model', 'scenario', 'runs', 'ok', 'TTFT s p50/p95/p99', 'total s p50/p95/p99', 'tok/s p50/p95/p99', 'decode tok/s p50'];
  const trio = (p: Percentiles, digits: number) => PCT.map((k) => fixed(p[k], digits)).join(' / ');
  const rows = kpiRows(summary).map((r) => [
    ...label(r),
    String(r.runs),
    percent(r.success_rate),
    trio(r.time_to_first_token, 3),
    trio(r.total_time, 2),
    trio(r.tokens_per_second, 1),
    fixed(r.decode_tokens_per_second.p50, 1),
  ]);
  const title = `KPIs from ${w.since.toISOString()} to ${w.until.toISOString()} (${summary.models.length} model/scenario groups)`;
  return `${title}\n\n${textTable(header, rows, new Set([3, 4, 5, 6, 7, 8]))}\n`;
}

const RUN_CSV_COLUMNS = ['ts', 'run_id', 'provider', 'model', 'scenario', 'outcome', 'mock', 'ttft_s', 'total_s', 'tok_s', 'decode_tok_s', 'error_kind', 'message'] as const;

/** The columns of one run in a listing. */
function runColumns(run: RunRecord) {
  const doc = run.outcome === 'ok' ? run.metric : run.error;
  return {
    ts: run.ts.toISOString(),
    run_id: doc.run_id,
    provider: doc.provider,
    model: doc.model_name,
    scenario: doc.benchmark_profile_id,
    outcome: run.outcome,
    mock: isMockRun(run),
    ttft_s: run.outcome === 'ok' ? run.metric.time_to_first_token : null,
    total_s: run.outcome === 'ok' ? run.metric.generate_time : null,
    tok_s: run.outcome === 'ok' ? run.metric.tokens_per_second : null,
    decode_tok_s: run.outcome === 'ok' ? run.metric.decode_tokens_per_second : null,
    error_kind: run.outcome === 'failed' ? run.error.error_kind : null,
    message: run.outcome === 'failed' ? run.error.message : null,
  };
}

export function formatRuns(runs: RunRecord[], format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(runs.map(runColumns), null, 2)}\n`;
  const cols = runs.map(runColumns);
  if (format === 'csv') {
    return csv(
      [...RUN_CSV_COLUMNS],
      cols.map((c) => RUN_CSV_COLUMNS.map((k) => (typeof c[k] === 'boolean' ? String(c[k]) : c[k]))),
    );
  }
  if (runs.length === 0) return 'No runs match.\n';
  const header = ['time (UTC)', 'provider', 'model', 'scenario', 'outcome', 'TTFT s', 'tok/s', 'run_id / error'];
  const rows = cols.map((c) => [
    c.ts.slice(0, 19).replace('T', ' '),
    c.mock ? `${c.provider} (mock)` : c.provider,
    c.model,
    c.scenario,
    c.outcome,
    fixed(c.ttft_s, 3),
    fixed(c.tok_s, 1),
    c.outcome === 'ok' ? c.run_id : `${c.error_kind}: ${oneLine(c.message ?? '', 100)}`,
  ]);
  return `${textTable(header, rows, new Set([5, 6]))}\n`;
}

/** One run in full: every field of its document, one per line (JSON: the document itself). */
export function formatRun(run: RunRecord, format: 'table' | 'json'): string {
  const doc = run.outcome === 'ok' ? run.metric : run.error;
  if (format === 'json') return `${JSON.stringify({ outcome: run.outcome, ...doc }, null, 2)}\n`;
  const width = Math.max(...Object.keys(doc).map((k) => k.length));
  const lines = [`${run.outcome === 'ok' ? 'Success' : 'Failure'}${isMockRun(run) ? ' (simulated: mock provider)' : ''}`, ''];
  for (const [k, v] of Object.entries(doc)) {
    const text = v instanceof Date ? v.toISOString() : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
    lines.push(`${k.padEnd(width)}  ${text}`);
  }
  return `${lines.join('\n')}\n`;
}

function oneLine(s: string, max: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
