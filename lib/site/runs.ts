// The recent-runs and failures pages: the week's latest calls and failures with their
// messages; calls the operator stopped listed apart, never as failures.
import type { ErrorKind } from '../store/documents.ts';
import type { RunRecord } from '../store/store.ts';
import { plural } from '../plural.ts';
import { esc, filterBox, page, table, td, when, type Row } from './html.ts';
import type { SiteData } from './data.ts';
import { abortedTable, mockClass, mockNote, modelLink, providerCell, runsTable } from './blocks.ts';

export function runsPage(data: SiteData): string {
  const body = `
<h1>Recent runs</h1>
<p class="mut">The latest ${plural(data.runs.length, 'run')} of the last 7 days, successes and failures of every scenario, newest first.
In the shell: <code>npm run runs -- list</code>, and <code>npm run runs -- show RUN_ID</code> for one run in full.</p>
${mockNote(data.runs.map((r) => ({ provider: r.outcome === 'ok' ? r.metric.provider : r.error.provider })))}
${filterBox('runs', 'Filter: provider, model, outcome, kind…')}
${runsTable(data.runs, 'runs', '', data.displayNames)}
${abortedTable(data.aborted, 'aborted', '', data.displayNames)}`;
  return page({ title: 'Recent runs', file: 'runs.html', root: '', generatedAt: data.now, body });
}

export function failuresPage(data: SiteData): string {
  const byProvider = new Map<string, Partial<Record<ErrorKind, number>>>();
  const kinds = [...new Set(data.kinds.map((k) => k.error_kind))].sort();
  for (const k of data.kinds) byProvider.set(k.provider, { ...byProvider.get(k.provider), [k.error_kind]: k.count });
  const kindRows = [...byProvider.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([provider, counts]): Row => {
      const total = Object.values(counts).reduce((n, c) => n + (c ?? 0), 0);
      return { cls: mockClass(provider), cells: [providerCell(provider), td(String(total), total, 'n'), ...kinds.map((k) => td(String(counts[k] ?? 0), counts[k] ?? 0, 'n'))] };
    });
  const rows = data.failures
    .filter((r): r is Extract<RunRecord, { outcome: 'failed' }> => r.outcome === 'failed')
    .map((r): Row => {
      const e = r.error;
      return {
        cls: mockClass(e.provider),
        cells: [
          td(when(e.ts), e.ts.getTime()),
          providerCell(e.provider),
          td(modelLink(e.provider, e.model_name, '', data.displayNames), e.model_name, 'name'),
          td(esc(e.benchmark_profile_id), e.benchmark_profile_id),
          td(`<span class="bad">${esc(e.error_kind)}</span><br><span class="sub">${esc(e.stage)}${e.http_status === null ? '' : ` · HTTP ${e.http_status}`}</span>`, e.error_kind),
          td(esc(e.message), e.message, 'msg'),
        ],
      };
    });
  const body = `
<h1>Failures: the last 7 days</h1>
<h2>By provider and kind</h2>
${kindRows.length ? table('kinds', [{ label: 'provider', bare: true }, { label: 'failures', numeric: true }, ...kinds.map((k) => ({ label: k, numeric: true }))], kindRows, '') : '<p>No failures in the last 7 days.</p>'}
<h2>Latest failures</h2>
<p class="mut">The latest ${plural(data.failures.length, 'failure')} with ${data.failures.length === 1 ? 'its message' : 'their messages'}, newest first; calls stopped by the operator are not failures (see <a href="runs.html">Recent runs</a>).</p>
${filterBox('failures', 'Filter: provider, model, kind, message…')}
${rows.length ? table('failures', [{ label: 'time', bare: true }, { label: 'provider', bare: true }, { label: 'model', bare: true }, { label: 'scenario' }, { label: 'kind, stage' }, { label: 'message' }], rows, '') : '<p>None.</p>'}`;
  return page({ title: 'Failures', file: 'failures.html', root: '', generatedAt: data.now, body });
}
