// Pieces several pages of the status site share: KPI cards and cells, model links, the runs
// table with the operator's aborted calls listed apart, and each provider's colour and shape.
import type { ErrorDoc } from '../store/documents.ts';
import type { KpiPercentiles, KpiRow, Percentiles, RunRecord } from '../store/store.ts';
import { plural } from '../plural.ts';
import { TOO_FEW_RUNS, TOO_FEW_RUNS_NOTE, intervalText, isMockRun } from '../runs/format.ts';
import { tooFewRuns } from '../store/kpis.ts';
import { MOCK_BADGE, card, esc, num, pct, table, td, when, type Column, type Row } from './html.ts';
import { modelKey, modelPageName } from './data.ts';
import { SHAPES, type Shape } from './svg.ts';

export const isMock = (provider: string | null) => provider === 'mock';

/**
 * Cells of the given percentiles of one measure, numeric and sortable; a KPI's p50 carries its
 * 95 % interval as a tooltip and is marked when it stands on too few runs (SPEC 18).
 */
export function pctCells(p: Percentiles | KpiPercentiles, digits: number, which: ReadonlyArray<keyof Percentiles> = ['p50', 'p95', 'p99']): string[] {
  return which.map((k) => td(k === 'p50' && 'p50_ci' in p ? p50Text(p, digits) : num(p[k], digits), p[k], 'n'));
}

/** A p50 with its interval in a tooltip, or the "too few runs" marker beside it. */
function p50Text(p: KpiPercentiles, digits: number, unit = ''): string {
  const value = num(p.p50, digits, unit);
  if (p.p50_ci) return `<span title="95 % interval ${esc(intervalText(p, digits))}${esc(unit)}">${value}</span>`;
  return tooFewRuns(p) ? `${value} <small class="few" title="${esc(TOO_FEW_RUNS_NOTE)}">${TOO_FEW_RUNS}</small>` : value;
}

/** A p50 card's line under the figure: its 95 % interval, or why there is none. */
function intervalLine(p: KpiPercentiles, digits: number, unit = ''): string {
  if (p.p50_ci) return `95 % interval ${esc(intervalText(p, digits))}${esc(unit)}`;
  return tooFewRuns(p) ? `<span class="few" title="${esc(TOO_FEW_RUNS_NOTE)}">${TOO_FEW_RUNS}</span>` : '';
}

/** Runs and success rate cells. */
export function runCells(r: KpiRow): string[] {
  return [td(String(r.runs), r.runs, 'n'), td(pct(r.success_rate), r.success_rate, 'n')];
}

/** The provider cell, badged when simulated. */
export function providerCell(provider: string): string {
  return td(esc(provider) + (isMock(provider) ? MOCK_BADGE : ''), provider);
}

/** A row's classes: simulated rows are tinted. */
export const mockClass = (provider: string | null) => (isMock(provider) ? 'mock' : undefined);

export function kpiCards(r: KpiRow, aborted = 0): string {
  const s = (v: number | null) => num(v, 3, ' s');
  const t = (v: number | null) => num(v, 1);
  const stopped = aborted > 0 ? `; ${aborted} stopped by the operator (not counted)` : '';
  return [
    card('Runs', String(r.runs), 'runs', r.runs, `${r.successes} ok, ${r.failures} failed${stopped}`),
    card('Success rate', pct(r.success_rate), 'success_rate', r.success_rate),
    card('TTFT p50', s(r.time_to_first_token.p50), 'ttft_p50', r.time_to_first_token.p50, intervalLine(r.time_to_first_token, 3, ' s')),
    card('TTFT p95', s(r.time_to_first_token.p95), 'ttft_p95', r.time_to_first_token.p95),
    card('TTFT p99', s(r.time_to_first_token.p99), 'ttft_p99', r.time_to_first_token.p99),
    card('Tokens/s p50', t(r.tokens_per_second.p50), 'tps_p50', r.tokens_per_second.p50, intervalLine(r.tokens_per_second, 1)),
    card('Tokens/s p95', t(r.tokens_per_second.p95), 'tps_p95', r.tokens_per_second.p95),
    card('Tokens/s p99', t(r.tokens_per_second.p99), 'tps_p99', r.tokens_per_second.p99),
    card('Total time p50', s(r.total_time.p50), 'total_p50', r.total_time.p50, intervalLine(r.total_time, 3, ' s')),
    card('Decode tok/s p50', t(r.decode_tokens_per_second.p50), 'decode_p50', r.decode_tokens_per_second.p50, intervalLine(r.decode_tokens_per_second, 1)),
  ].join('');
}

export function mockNote(rows: Array<{ provider: string | null }>): string {
  return rows.some((r) => isMock(r.provider))
    ? `<p>Rows marked ${MOCK_BADGE} were simulated by the mock provider (the demo), not measured against a real API.</p>`
    : '';
}

export function modelLink(provider: string, model: string, root: string, displayNames: Map<string, string>): string {
  const name = displayNames.get(modelKey(provider, model));
  return `<a href="${root}${esc(modelPageName(provider, model))}"${name ? ` title="${esc(name)}"` : ''}>${esc(model)}</a>`;
}

const RUN_COLUMNS: Column[] = [
  { label: 'time', bare: true },
  { label: 'provider', bare: true },
  { label: 'model', bare: true },
  { label: 'scenario' },
  { label: 'outcome', bare: true },
  { label: 'TTFT s', numeric: true },
  { label: 'tok/s', numeric: true },
  { label: 'total s', numeric: true },
  { label: 'message' },
];

/** Successes and failures (no aborted call: those go to abortedTable). */
export function runsTable(runs: RunRecord[], id: string, root: string, displayNames: Map<string, string>): string {
  if (runs.length === 0) return '<p>No runs.</p>';
  const rows = runs.map((r): Row => {
    const doc = r.outcome === 'ok' ? r.metric : r.error;
    const mock = isMockRun(r);
    const common = [
      td(when(r.ts), r.ts.getTime()),
      td(esc(doc.provider) + (mock ? MOCK_BADGE : ''), doc.provider),
      td(modelLink(doc.provider, doc.model_name, root, displayNames), doc.model_name, 'name'),
      td(esc(doc.benchmark_profile_id), doc.benchmark_profile_id),
    ];
    const rest =
      r.outcome === 'ok'
        ? [
            td('<span class="ok">ok</span>', 'ok'),
            td(num(r.metric.time_to_first_token, 3), r.metric.time_to_first_token, 'n'),
            td(num(r.metric.tokens_per_second, 1), r.metric.tokens_per_second, 'n'),
            td(num(r.metric.generate_time, 2), r.metric.generate_time, 'n'),
            td('', ''),
          ]
        : [
            td(`<span class="bad">${esc(r.error.error_kind)}</span>`, r.error.error_kind),
            td('–', null, 'n'),
            td('–', null, 'n'),
            td('–', null, 'n'),
            td(esc(r.error.message), r.error.message, 'msg'),
          ];
    return { cells: [...common, ...rest], cls: `${r.outcome === 'ok' ? 'r-ok' : 'r-failed'}${mock ? ' mock' : ''}` };
  });
  return table(id, RUN_COLUMNS, rows, 'No runs.');
}

/**
 * The calls the operator stopped, apart from the runs and never as failures: a short note, or
 * nothing when there were none.
 */
export function abortedTable(aborted: ErrorDoc[], id: string, root: string, displayNames: Map<string, string>, limit = 20): string {
  if (aborted.length === 0) return '';
  const shown = aborted.slice(0, limit);
  const rows = shown.map(
    (e): Row => ({
      cells: [
        td(when(e.ts), e.ts.getTime()),
        td(esc(e.provider), e.provider),
        td(modelLink(e.provider, e.model_name, root, displayNames), e.model_name, 'name'),
        td(esc(e.benchmark_profile_id ?? ''), e.benchmark_profile_id ?? ''),
        td(esc(e.message), e.message, 'msg'),
      ],
      cls: 'r-aborted',
    }),
  );
  return `<h2>Stopped by the operator</h2>
<p class="mut">${plural(aborted.length, 'call')} of these 7 days ${aborted.length === 1 ? 'was' : 'were'} cut short when the sweep was stopped (SIGINT or SIGTERM). They say nothing about the provider and count as neither success nor failure${aborted.length > shown.length ? `; the latest ${shown.length} are listed` : ''}.</p>
${table(id, [{ label: 'time', bare: true }, { label: 'provider', bare: true }, { label: 'model', bare: true }, { label: 'scenario' }, { label: 'message' }], rows, 'None.')}`;
}

/** Eight colours told apart with colour blindness (Okabe and Ito), readable on light and dark. */
const COLORS = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#8f8f00', '#7a5cc7'];

export interface Look {
  color: string;
  shape: Shape;
}

/** A colour and a shape per provider, by name order, so no two of 40 providers look alike. */
export function providerLooks(providers: Iterable<string>): Map<string, Look> {
  const names = [...new Set(providers)].sort();
  return new Map(names.map((p, i) => [p, { color: COLORS[i % COLORS.length]!, shape: SHAPES[i % SHAPES.length]! }]));
}
