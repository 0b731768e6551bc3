// KPIs and runs as a terminal table, CSV (RFC 4180) or JSON. Unknown numbers print as "-" in
// tables, empty in CSV and null in JSON: never as 0.
import { PUBLISHED_SCENARIO_ID, type AgentRunDoc } from '../store/documents.ts';
import { rowId } from '../store/upstream.ts';
import { MIN_RUNS_FOR_INTERVAL, tooFewRuns } from '../store/kpis.ts';
import type { AgentKpiRow, AgentKpiSummary, KpiPercentiles, KpiRow, KpiSummary, Percentiles, RunRecord, TimeWindow } from '../store/store.ts';

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

/**
 * A p50's 95 % interval as "low–high", "too few runs" below MIN_RUNS_FOR_INTERVAL values, or
 * "-" where there is no p50 or the interval was not computed (MongoDB 7.0+, rollups).
 */
export function intervalText(p: KpiPercentiles, digits: number, dash = '-'): string {
  if (p.p50_ci) return `${p.p50_ci.low.toFixed(digits)}–${p.p50_ci.high.toFixed(digits)}`;
  return tooFewRuns(p) ? TOO_FEW_RUNS : dash;
}

export const TOO_FEW_RUNS = 'too few runs';
/** What the "too few runs" marker means, for a legend. */
export const TOO_FEW_RUNS_NOTE = `"${TOO_FEW_RUNS}": p50 from fewer than ${MIN_RUNS_FOR_INTERVAL} runs: no 95 % interval exists`;

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

/**
 * The LLM KPIs; with agent, the agent-run KPIs too: a second table, or the key agent_runs in
 * JSON. CSV holds one table, so it never includes them (formatAgentKpis writes theirs).
 */
export function formatKpis(summary: KpiSummary, w: TimeWindow, format: OutputFormat, agent?: AgentKpiSummary): string {
  if (format === 'json') return `${JSON.stringify({ since: w.since, until: w.until, ...summary, ...(agent ? { agent_runs: agent } : {}) }, null, 2)}\n`;
  if (format === 'csv') {
    const header = ['provider', 'model', 'scenario', 'runs', 'successes', 'failures', 'success_rate', 'last_success'];
    for (const [name] of METRICS) for (const p of PCT) header.push(`${name}_${p}`);
    // The intervals after every existing column, so readers of the older columns keep their places.
    for (const [name] of METRICS) header.push(`${name}_p50_low`, `${name}_p50_high`);
    const rows = kpiRows(summary).map((r) => {
      const row: Array<string | number | null> = [r.provider, r.model_name, r.scenario, r.runs, r.successes, r.failures, r.success_rate, r.last_success?.toISOString() ?? null];
      for (const [, field] of METRICS) for (const p of PCT) row.push(r[field][p]);
      for (const [, field] of METRICS) row.push(r[field].p50_ci?.low ?? null, r[field].p50_ci?.high ?? null);
      return row;
    });
    return csv(header, rows);
  }
  const header = ['provider', 'model', 'scenario', 'runs', 'ok', 'TTFT s p50/p95/p99', 'TTFT p50 95% CI', 'total s p50/p95/p99', 'tok/s p50/p95/p99', 'tok/s p50 95% CI', 'decode tok/s p50'];
  const trio = (p: Percentiles, digits: number) => PCT.map((k) => fixed(p[k], digits)).join(' / ');
  const rows = kpiRows(summary).map((r) => [
    ...label(r),
    String(r.runs),
    percent(r.success_rate),
    trio(r.time_to_first_token, 3),
    intervalText(r.time_to_first_token, 3),
    trio(r.total_time, 2),
    trio(r.tokens_per_second, 1),
    intervalText(r.tokens_per_second, 1),
    fixed(r.decode_tokens_per_second.p50, 1),
  ]);
  const title = `KPIs from ${w.since.toISOString()} to ${w.until.toISOString()} (${summary.models.length} model/scenario groups)`;
  const note = `95% CI: distribution-free interval of the p50 from order statistics; ${TOO_FEW_RUNS_NOTE}; "-" where not computed (MongoDB 7.0+ server percentiles, windows read from daily rollups).`;
  const llm = `${title}\n\n${textTable(header, rows, new Set([3, 4, 5, 6, 7, 8, 9, 10]))}\n${note}\n`;
  return agent ? `${llm}\n${formatAgentKpis(agent, w, 'table')}` : llm;
}

const RUN_CSV_COLUMNS = ['ts', 'run_id', 'provider', 'model', 'scenario', 'outcome', 'mock', 'ttft_s', 'total_s', 'tok_s', 'decode_tok_s', 'error_kind', 'message'] as const;

/**
 * The outcome as listed: an error row of kind aborted (the sweep was stopped) is neither a
 * success nor the provider's failure, so it is shown apart.
 */
function listedOutcome(run: RunRecord): 'ok' | 'failed' | 'aborted' {
  return run.outcome === 'failed' && run.error.error_kind === 'aborted' ? 'aborted' : run.outcome;
}

/** The columns of one run in a listing. */
function runColumns(run: RunRecord) {
  const doc = run.outcome === 'ok' ? run.metric : run.error;
  return {
    ts: run.ts.toISOString(),
    run_id: rowId(doc),
    provider: doc.provider,
    model: doc.model_name,
    // Upstream rows predate the field: they are all of the published profile (SPEC 4.0).
    scenario: doc.benchmark_profile_id ?? PUBLISHED_SCENARIO_ID,
    outcome: listedOutcome(run),
    mock: isMockRun(run),
    ttft_s: run.outcome === 'ok' ? run.metric.time_to_first_token : null,
    total_s: run.outcome === 'ok' ? run.metric.generate_time : null,
    tok_s: run.outcome === 'ok' ? run.metric.tokens_per_second : null,
    decode_tok_s: run.outcome === 'ok' ? run.metric.decode_tokens_per_second : null,
    error_kind: run.outcome === 'failed' ? (run.error.error_kind ?? 'unknown') : null,
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
  const header = ['time (UTC)', 'run_id', 'provider', 'model', 'scenario', 'outcome', 'TTFT s', 'tok/s', 'error'];
  const rows = cols.map((c) => [
    c.ts.slice(0, 19).replace('T', ' '),
    c.run_id ?? '-',
    c.mock ? `${c.provider} (mock)` : c.provider,
    c.model,
    c.scenario,
    c.outcome,
    fixed(c.ttft_s, 3),
    fixed(c.tok_s, 1),
    c.outcome === 'ok' ? '' : `${c.error_kind}: ${oneLine(c.message ?? '', 100)}`,
  ]);
  return `${textTable(header, rows, new Set([6, 7]))}\n`;
}

/** One run in full: every field of its document, one per line (JSON: the document itself). */
export function formatRun(run: RunRecord, format: 'table' | 'json'): string {
  const stored = run.outcome === 'ok' ? run.metric : run.error;
  // An upstream row lacks the fields it predates (SPEC 4.0): shown as what they mean.
  const doc = { ...stored, run_id: rowId(stored), benchmark_profile_id: stored.benchmark_profile_id ?? PUBLISHED_SCENARIO_ID };
  if (format === 'json') return `${JSON.stringify({ outcome: listedOutcome(run), ...doc }, null, 2)}\n`;
  const heading = { ok: 'Success', failed: 'Failure', aborted: 'Aborted (the sweep was stopped; not the provider\'s failure)' }[listedOutcome(run)];
  return fieldLines(`${heading}${isMockRun(run) ? ' (simulated: mock provider)' : ''}`, doc);
}

/** A heading, then each field of the document on its own line, names aligned. */
function fieldLines(heading: string, doc: object): string {
  const width = Math.max(...Object.keys(doc).map((k) => k.length));
  const lines = [heading, ''];
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

// ---- Agent runs (SPEC 16) ----

const AGENT_KPI_CSV = [
  'provider', 'automation', 'scenario', 'mock', 'runs', 'completed', 'failed', 'timeouts', 'success_rate', 'last_started', 'last_completed',
  'duration_ms_p50', 'duration_ms_p95', 'duration_ms_p99', 'first_progress_ms_p50', 'first_progress_ms_p95', 'first_progress_ms_p99',
  'last_failure_at', 'last_failure_status', 'last_failure_kind', 'last_failure_message',
] as const;

const secs = (ms: number | null) => (ms === null ? null : ms / 1000);

/** The agent-run KPIs: per automation and scenario (simulated runs apart) and overall. */
export function formatAgentKpis(summary: AgentKpiSummary, w: TimeWindow, format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify({ since: w.since, until: w.until, ...summary }, null, 2)}\n`;
  const rows = [...summary.groups, summary.overall];
  if (format === 'csv') {
    return csv(
      [...AGENT_KPI_CSV],
      rows.map((r) => [
        r.provider, r.automation, r.scenario, String(r.mock), r.runs, r.completed, r.failed, r.timeouts, r.success_rate,
        r.last_started?.toISOString() ?? null, r.last_completed?.toISOString() ?? null,
        ...PCT.map((p) => r.total_duration_ms[p]), ...PCT.map((p) => r.time_to_first_progress_ms[p]),
        r.last_failure?.started_at.toISOString() ?? null, r.last_failure?.status ?? null, r.last_failure?.error_kind ?? null, r.last_failure?.error ?? null,
      ]),
    );
  }
  const title = `Agent runs (TinyFish) from ${w.since.toISOString()} to ${w.until.toISOString()} (${summary.groups.length} automation/scenario groups)`;
  if (summary.groups.length === 0) return `${title}\n\nNo agent runs in the window.\n`;
  const trio = (p: Percentiles) => PCT.map((k) => fixed(secs(p[k]), 1)).join(' / ');
  const header = ['automation', 'scenario', 'runs', 'ok', 'failed', 'timeout', 'duration s p50/p95/p99', 'first progress s p50/p95/p99', 'last failure'];
  const table = rows.map((r: AgentKpiRow) => [
    r.automation === null ? '(all)' : r.mock ? `${r.automation} (mock)` : r.automation,
    r.scenario ?? '(all)',
    String(r.runs),
    percent(r.success_rate),
    String(r.failed),
    String(r.timeouts),
    trio(r.total_duration_ms),
    trio(r.time_to_first_progress_ms),
    r.last_failure ? `${r.last_failure.started_at.toISOString().slice(0, 16).replace('T', ' ')} ${r.last_failure.error_kind ?? r.last_failure.status}: ${oneLine(r.last_failure.error ?? '', 80)}` : '-',
  ]);
  return `${title}\n\n${textTable(header, table, new Set([2, 3, 4, 5, 6, 7]))}\n`;
}

const AGENT_RUN_COLUMNS = [
  'ts', 'run_id', 'provider', 'automation', 'scenario', 'status', 'mock', 'duration_s', 'first_progress_s', 'progress_events', 'error_kind', 'error',
] as const;

function agentRunColumns(r: AgentRunDoc) {
  return {
    ts: r.started_at.toISOString(),
    run_id: r.run_id,
    provider: r.provider,
    automation: r.automation,
    scenario: r.scenario_id,
    status: r.status,
    mock: r.mock,
    duration_s: secs(r.total_duration_ms),
    first_progress_s: secs(r.time_to_first_progress_ms),
    progress_events: r.progress_events,
    error_kind: r.error_kind,
    error: r.error,
  };
}

/** Agent runs, newest first, as runs.ts list --kind agent prints them. */
export function formatAgentRuns(runs: AgentRunDoc[], format: OutputFormat): string {
  const cols = runs.map(agentRunColumns);
  if (format === 'json') return `${JSON.stringify(cols, null, 2)}\n`;
  if (format === 'csv') return csv([...AGENT_RUN_COLUMNS], cols.map((c) => AGENT_RUN_COLUMNS.map((k) => (typeof c[k] === 'boolean' ? String(c[k]) : c[k]))));
  if (runs.length === 0) return 'No agent runs match.\n';
  const header = ['started (UTC)', 'run_id', 'automation', 'scenario', 'status', 'duration s', 'first progress s', 'error'];
  const rows = cols.map((c) => [
    c.ts.slice(0, 19).replace('T', ' '),
    c.run_id ?? '-',
    c.mock ? `${c.automation} (mock)` : c.automation,
    c.scenario,
    c.status,
    fixed(c.duration_s, 1),
    fixed(c.first_progress_s, 1),
    c.status === 'completed' ? '' : `${c.error_kind ?? c.status}: ${oneLine(c.error ?? '', 100)}`,
  ]);
  return `${textTable(header, rows, new Set([5, 6]))}\n`;
}

/** One agent run in full: every field of its document (JSON: the document itself). */
export function formatAgentRun(run: AgentRunDoc, format: 'table' | 'json'): string {
  if (format === 'json') return `${JSON.stringify({ kind: 'agent', ...run }, null, 2)}\n`;
  return fieldLines(`Agent run ${run.status}${run.mock ? ' (simulated: mock TinyFish run)' : ''}`, run);
}
