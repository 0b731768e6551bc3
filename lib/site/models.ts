// The models page (one row per provider, model and scenario over 7 days, with a sparkline of
// that scenario's speed) and each model's own page (cards, 7-day charts, the distribution of
// TTFT and tokens/s, every scenario's numbers, its latest runs).
import type { KpiRow, MetricPoint, ServedModel } from '../store/store.ts';
import { MOCK_BADGE, esc, filterBox, page, table, td, when, type Row } from './html.ts';
import { HOUR_MS, PUBLISHED, modelKey, type SiteData } from './data.ts';
import { abortedTable, isMock, kpiCards, mockClass, mockNote, modelLink, pctCells, providerCell, runCells, runsTable } from './blocks.ts';
import { bucketPercentile, dayAxis, distributionBar, sparkline, timeChart, type ChartMark } from './svg.ts';

const SPARK_BUCKET_MS = 6 * HOUR_MS;
const CHART_BUCKET_MS = 3 * HOUR_MS;

export function groupPoints(points: MetricPoint[]): Map<string, MetricPoint[]> {
  const out = new Map<string, MetricPoint[]>();
  for (const p of points) {
    const k = modelKey(p.provider, p.model_name);
    const list = out.get(k);
    if (list) list.push(p);
    else out.set(k, [p]);
  }
  return out;
}

export function modelsPage(data: SiteData, pointsByModel: Map<string, MetricPoint[]>): string {
  const rows = data.kpis7d.models.map((r): Row => {
    // The row's own scenario only: a longer prompt's speed is another line.
    const points = (pointsByModel.get(modelKey(r.provider!, r.model_name!)) ?? []).filter((p) => p.scenario === r.scenario);
    const series = bucketPercentile(
      points.map((p) => ({ t: p.run_ts.getTime(), v: p.tokens_per_second })),
      { since: data.week.since.getTime(), until: data.week.until.getTime(), bucketMs: SPARK_BUCKET_MS, p: 50 },
    );
    return {
      cls: mockClass(r.provider),
      cells: [
        providerCell(r.provider!),
        td(modelLink(r.provider!, r.model_name!, '', data.displayNames), r.model_name, 'name'),
        td(esc(r.scenario) + (r.scenario === PUBLISHED ? '' : ' <span class="sub">probe</span>'), r.scenario),
        ...runCells(r),
        ...pctCells(r.time_to_first_token, 3, ['p50', 'p95']),
        ...pctCells(r.tokens_per_second, 1, ['p50', 'p95']),
        td(sparkline(series, `median tokens per second of ${esc(r.model_name)}, ${esc(r.scenario)}, over 7 days`), null),
        td(when(r.last_success), r.last_success?.getTime() ?? null),
      ],
    };
  });
  const body = `
<h1>Models: the last 7 days</h1>
<p class="mut">One row per provider, model and scenario, ${when(data.week.since)} to ${when(data.week.until)}; only ${PUBLISHED} is published, the others are probes.
TTFT in seconds; the sparkline is that scenario's median tokens/s per 6 hours. Click a header to sort, a model for its charts, p99 and decode speed.</p>
${mockNote(data.kpis7d.models)}
${filterBox('models', 'Filter: provider, model, scenario…')}
${table(
  'models',
  [
    { label: 'provider', bare: true },
    { label: 'model', bare: true },
    { label: 'scenario', bare: true },
    { label: 'runs', numeric: true },
    { label: 'success', numeric: true },
    { label: 'TTFT p50', numeric: true },
    { label: 'TTFT p95', numeric: true },
    { label: 'tok/s p50', numeric: true },
    { label: 'tok/s p95', numeric: true },
    { label: 'tok/s, 7 days' },
    { label: 'last success' },
  ],
  rows,
  'No runs in the last 7 days.',
)}`;
  return page({ title: 'Models', file: 'models.html', root: '', generatedAt: data.now, body });
}

/**
 * The scenario a model page charts: the published one when the model has a success in it,
 * else the one with the most successes (mixing prompts of different lengths in one line
 * would chart the mix, not the model).
 */
export function chartedScenario(rows: KpiRow[]): KpiRow {
  const published = rows.find((r) => r.scenario === PUBLISHED && r.successes > 0);
  return published ?? [...rows].sort((a, b) => b.successes - a.successes)[0]!;
}

/**
 * Where the model that answered a catalog id changed (SPEC 18), as chart marks: each served
 * model first seen after the first one of the window, at the time it first answered (from the
 * published scenario's unmarked rows, as the health mail's model-change item).
 */
export function modelChangeMarks(served: ServedModel[], o: { since: number; bucketMs: number }): ChartMark[] {
  const byFirst = [...served].sort((a, b) => a.first_seen.getTime() - b.first_seen.getTime());
  return byFirst.slice(1).map((s) => ({
    at: (s.first_seen.getTime() - o.since) / o.bucketMs,
    label: `→ ${s.served_model}`,
    title: `served by ${s.served_model} from ${s.first_seen.toISOString().slice(0, 16)}Z (${s.runs} runs)`,
  }));
}

export function modelPage(data: SiteData, provider: string, model: string, points: MetricPoint[]): string {
  const rows = data.kpis7d.models.filter((r) => r.provider === provider && r.model_name === model);
  const main = chartedScenario(rows);
  const mine = points.filter((p) => p.scenario === main.scenario);
  const opts = (p: number) => ({ since: data.week.since.getTime(), until: data.week.until.getTime(), bucketMs: CHART_BUCKET_MS, p });
  const ttft = mine.map((p) => ({ t: p.run_ts.getTime(), v: p.time_to_first_token }));
  const tps = mine.map((p) => ({ t: p.run_ts.getTime(), v: p.tokens_per_second }));
  const { n, xTicks } = dayAxis(data.week.since.getTime(), data.week.until.getTime(), CHART_BUCKET_MS);
  // The served-model changes are read from the published rows: marked on its charts only.
  const marks =
    main.scenario === PUBLISHED
      ? modelChangeMarks(data.served.filter((s) => s.provider === provider && s.model_name === model), { since: data.week.since.getTime(), bucketMs: CHART_BUCKET_MS })
      : [];
  const changed = marks.length > 0 ? '; <span style="color:#cf222e">dashed line</span>: another model answered from then on' : '';
  const chart = (title: string, unit: string, values: typeof ttft) =>
    timeChart({
      title,
      caption: `(${unit}): <span style="color:var(--acc)">p50</span> and <span style="color:#bf8700">p95</span> per 3 hours, scenario ${esc(main.scenario)}${changed}`,
      n,
      xTicks,
      marks,
      scale: 'linear',
      empty: 'no successful run in these 7 days',
      series: [
        { label: 'p95', values: bucketPercentile(values, opts(95)), color: '#bf8700', halo: true },
        { label: 'p50', values: bucketPercentile(values, opts(50)), color: 'var(--acc)' },
      ],
    });
  const mock = isMock(provider);
  const name = data.displayNames.get(modelKey(provider, model));
  const scenarioRows = rows.map(
    (r): Row => ({
      cells: [
        td(esc(r.scenario) + (r.scenario === PUBLISHED ? ' <span class="pub-badge">published</span>' : ''), r.scenario),
        ...runCells(r),
        ...pctCells(r.time_to_first_token, 3),
        ...pctCells(r.tokens_per_second, 1),
        ...pctCells(r.total_time, 2, ['p50']),
        ...pctCells(r.decode_tokens_per_second, 1, ['p50']),
      ],
    }),
  );
  const aborted = data.aborted.filter((e) => e.provider === provider && e.model_name === model);
  const body = `
<h1>${esc(provider)} / ${esc(model)}${mock ? MOCK_BADGE : ''}</h1>
${name ? `<p>${esc(name)}</p>` : ''}
<p class="mut">The last 7 days, ${when(data.week.since)} to ${when(data.week.until)}. Cards and charts: scenario <b>${esc(main.scenario)}</b>${main.scenario === PUBLISHED ? ' (published)' : ''}; every scenario in the table below.</p>
${mock ? '<p>Simulated by the mock provider: these numbers describe the simulation, not an API.</p>' : ''}
<div class="cards" id="kpis">${kpiCards(main, aborted.filter((e) => (e.benchmark_profile_id ?? PUBLISHED) === main.scenario).length)}</div>
<div class="charts">
${chart('Time to first token', 's', ttft)}
${chart('Tokens per second', 'tokens/s', tps)}
</div>
<h2>Distribution over the 7 days</h2>
<div class="charts">
${distributionBar({ title: 'Time to first token', unit: 's', values: ttft.flatMap((p) => (p.v === null ? [] : [p.v])), digits: 3 })}
${distributionBar({ title: 'Tokens per second', unit: 'tokens/s', values: tps.flatMap((p) => (p.v === null ? [] : [p.v])), digits: 1 })}
</div>
<h2>By scenario</h2>
${table(
  'scenarios',
  [
    { label: 'scenario', bare: true },
    { label: 'runs', numeric: true },
    { label: 'success', numeric: true },
    { label: 'TTFT p50', numeric: true },
    { label: 'TTFT p95', numeric: true },
    { label: 'TTFT p99', numeric: true },
    { label: 'tok/s p50', numeric: true },
    { label: 'tok/s p95', numeric: true },
    { label: 'tok/s p99', numeric: true },
    { label: 'total s p50', numeric: true },
    { label: 'decode p50', numeric: true },
  ],
  scenarioRows,
  'None.',
)}
<h2>Latest runs</h2>
${runsTable(data.modelRuns.get(modelKey(provider, model)) ?? [], 'model-runs', '../', data.displayNames)}
${abortedTable(aborted, 'model-aborted', '../', data.displayNames, 10)}`;
  return page({ title: `${provider}/${model}`, file: '', root: '../', generatedAt: data.now, body });
}
