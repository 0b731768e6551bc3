// The overview (index.html): the published scenario's last 72 hours and nothing else in its
// cards and charts (another scenario's longer prompts would move the published numbers), the
// way public LLM leaderboards show them: latency against speed per model, each provider's
// daily medians and success rate over 30 days, then a table per provider and the latest runs.
import { plural } from '../plural.ts';
import { MOCK_BADGE, esc, num, page, pct, table, td, when, type Row } from './html.ts';
import { PUBLISHED, PUBLISHED_HOURS, STRIP_DAYS, TREND_DAYS, modelPageName, type SiteData } from './data.ts';
import { kpiCards, mockClass, mockNote, pctCells, providerCell, providerLooks, runCells, runsTable, type Look } from './blocks.ts';
import { legendKey, scatterChart, successStrip, timeChart, type ChartSeries } from './svg.ts';

export function overviewPage(data: SiteData): string {
  const k = data.pub;
  const withRuns = k.models.length;
  // A model with no success at all: every counted call failed (aborted calls are not counted).
  const failing = k.models.filter((r) => r.successes === 0 && r.failures > 0).length;
  const looks = providerLooks([...k.providers.map((p) => p.provider!), ...data.trend.map((d) => d.provider)]);
  const providerRows = k.providers.map(
    (r): Row => ({
      cls: mockClass(r.provider),
      cells: [providerCell(r.provider!), ...runCells(r), ...pctCells(r.time_to_first_token, 3, ['p50', 'p95']), ...pctCells(r.tokens_per_second, 1, ['p50', 'p95']), td(when(r.last_success), r.last_success?.getTime() ?? null)],
    }),
  );
  const body = `
<h1>The published numbers: the last ${PUBLISHED_HOURS} hours</h1>
<p class="lede">Scenario <b>${PUBLISHED}</b> (the one published) from ${when(data.published.since)} to ${when(data.published.until)}:
${plural(withRuns, 'model')} measured, ${failing} with no success at all. Other scenarios are <a href="#other-scenarios">below</a>, never in these numbers.</p>
${mockNote(k.providers)}
<div class="cards" id="kpis">${kpiCards(k.overall, data.pubAborted)}</div>
${scatter(data, looks)}
${legend(looks, k.providers.map((p) => p.provider!))}
<div class="charts">${trendCharts(data, looks)}</div>
${strip(data)}
<h2>By provider</h2>
${table('providers', [{ label: 'provider', bare: true }, { label: 'runs', numeric: true }, { label: 'success', numeric: true }, { label: 'TTFT p50 s', numeric: true }, { label: 'TTFT p95 s', numeric: true }, { label: 'tok/s p50', numeric: true }, { label: 'tok/s p95', numeric: true }, { label: 'last success' }], providerRows, `No run of ${PUBLISHED} in the last ${PUBLISHED_HOURS} hours.`)}
<h2>Latest runs of ${PUBLISHED}</h2>
${runsTable(data.publishedRuns, 'latest', '', data.displayNames)}
${otherScenarios(data)}
${agentLine(data)}
<p><a href="runs.html">All recent runs</a> · <a href="failures.html">Failures</a> · <a href="models.html">Every model over 7 days</a> · <a href="compare.html">Compare models</a> · <a href="scenarios.html">Scenarios</a> · <a href="agents.html">Agent runs</a></p>`;
  return page({ title: 'Overview', file: 'index.html', root: '', generatedAt: data.now, body });
}

/** TTFT against tokens/s, one point per model (its p50 over the window). */
function scatter(data: SiteData, looks: Map<string, Look>): string {
  const points = data.pub.models
    .filter((r) => r.time_to_first_token.p50 !== null && r.tokens_per_second.p50 !== null && r.tokens_per_second.p50 > 0 && r.time_to_first_token.p50 > 0)
    .map((r) => {
      const look = looks.get(r.provider!)!;
      const short = r.model_name!.split('/').at(-1)!;
      return {
        x: r.time_to_first_token.p50!,
        y: r.tokens_per_second.p50!,
        label: short.length > 26 ? `${short.slice(0, 25)}…` : short,
        title: `${r.provider}/${r.model_name}: TTFT p50 ${num(r.time_to_first_token.p50, 3)} s, ${num(r.tokens_per_second.p50, 1)} tokens/s (${plural(r.successes, 'successful run')})`,
        color: look.color,
        shape: look.shape,
        href: modelPageName(r.provider!, r.model_name!),
      };
    });
  return scatterChart({
    id: 'latency-speed',
    title: 'Latency against speed',
    caption: `one point per model: its median time to first token (across, less is better) and median tokens/s (up, more is better) over the ${PUBLISHED_HOURS} hours; both axes logarithmic. Hover a point for the model, click it for its page.`,
    xLabel: 'time to first token, s (p50)',
    yLabel: 'tokens/s (p50)',
    points,
    empty: `no successful run of ${PUBLISHED} in the last ${PUBLISHED_HOURS} hours`,
  });
}

function legend(looks: Map<string, Look>, providers: string[]): string {
  if (providers.length === 0) return '';
  return `<ul class="legend" id="provider-legend">${providers.map((p) => `<li>${legendKey(looks.get(p)!.color, looks.get(p)!.shape)}${esc(p)}</li>`).join('')}</ul>`;
}

/** Each provider's daily median TTFT and tokens/s over TREND_DAYS. */
function trendCharts(data: SiteData, looks: Map<string, Look>): string {
  const providers = [...new Set(data.trend.map((d) => d.provider))].sort();
  const index = new Map(data.trendDays.map((d, i) => [d, i]));
  const series = (pick: (d: SiteData['trend'][number]) => number | null): ChartSeries[] =>
    providers.map((p) => {
      const values: Array<number | null> = data.trendDays.map(() => null);
      for (const d of data.trend) if (d.provider === p) values[index.get(d.day)!] = pick(d);
      return { label: p, values, color: looks.get(p)!.color, shape: looks.get(p)!.shape };
    });
  const xTicks = data.trendDays.flatMap((d, i) => ((TREND_DAYS - 1 - i) % 7 === 0 ? [{ index: i, label: d.slice(5) }] : []));
  const common = { n: TREND_DAYS, xTicks, scale: 'log' as const, empty: `no successful run of ${PUBLISHED} in ${TREND_DAYS} days` };
  return (
    timeChart({ ...common, id: 'trend-tps', title: 'Tokens per second', caption: `each provider's median per UTC day, ${TREND_DAYS} days (log scale; today so far at the right)`, series: series((d) => d.tps_p50) }) +
    timeChart({ ...common, id: 'trend-ttft', title: 'Time to first token, s', caption: `each provider's median per UTC day, ${TREND_DAYS} days (log scale)`, series: series((d) => d.ttft_p50) })
  );
}

/** Success rate per provider per UTC day, the last STRIP_DAYS. */
function strip(data: SiteData): string {
  const days = data.trendDays.slice(-STRIP_DAYS);
  const shown = data.trend.filter((t) => days.includes(t.day));
  const providers = [...new Set(shown.map((d) => d.provider))].sort();
  if (providers.length === 0) return '';
  const rows = providers.map((p) => ({
    label: p,
    cells: days.map((day) => {
      const d = shown.find((t) => t.provider === p && t.day === day);
      const runs = d ? d.successes + d.failures : 0;
      return d && runs > 0
        ? { rate: d.successes / runs, title: `${p} ${day}: ${d.successes} of ${plural(runs, 'run')} succeeded (${pct(d.successes / runs)})` }
        : { rate: null, title: `${p} ${day}: no run` };
    }),
  }));
  return successStrip({
    id: 'success-strip',
    title: 'Success rate per provider per day',
    caption: `the last ${STRIP_DAYS} UTC days: green 100 %, red 0 %, blank without runs; hover a day for its counts (calls stopped by the operator are not counted)`,
    days: days.map((d) => d.slice(5)),
    rows,
  });
}

/** The scenarios other than the published one, with their week's runs: apart, with a link. */
function otherScenarios(data: SiteData): string {
  const by = new Map<string, { runs: number; successes: number; models: number }>();
  for (const r of data.kpis7d.models) {
    if (r.scenario === PUBLISHED) continue;
    const s = by.get(r.scenario!) ?? { runs: 0, successes: 0, models: 0 };
    by.set(r.scenario!, { runs: s.runs + r.runs, successes: s.successes + r.successes, models: s.models + 1 });
  }
  const items = [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([id, s]) => `<li><a href="scenarios.html#scenario-${esc(id)}">${esc(id)}</a>: ${plural(s.runs, 'run')} of ${plural(s.models, 'model')} in 7 days, ${pct(s.successes / s.runs)} succeeded</li>`);
  return `<h2 id="other-scenarios">Other scenarios</h2>
${items.length ? `<p class="mut">Probes, not published: each model's numbers per scenario are on its page and on <a href="models.html">Models</a>.</p><ul>${items.join('')}</ul>` : '<p class="mut">None ran in the last 7 days.</p>'}`;
}

/** The agent runs of the day in one line, when there are any (most installs run none). */
function agentLine(data: SiteData): string {
  const a = data.agents.headline24h;
  if (a.runs === 0) return '';
  const s = (ms: number | null) => num(ms === null ? null : ms / 1000, 1, ' s');
  return `<h2>Agent runs</h2>
<p id="agent-summary">${plural(a.runs, `${a.mock ? 'simulated' : 'measured'} TinyFish agent run`)} in the last 24 hours${a.mock ? MOCK_BADGE : ''}: ${pct(a.success_rate)} completed,
duration p50 ${s(a.total_duration_ms.p50)}, p95 ${s(a.total_duration_ms.p95)}. <a href="agents.html">Agent runs</a></p>`;
}
