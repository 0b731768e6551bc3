// The status site (SPEC 16): reads KPIs, chart points, runs and failures from the store and
// renders every page and JSON file in memory; write.ts puts them on disk atomically.
import { createHash } from 'node:crypto';
import type { AgentRunDoc, ErrorKind, ModelDoc, ScenarioDoc } from '../store/documents.ts';
import type { AgentKpiSummary, KindCount, KpiRow, KpiSummary, MetricPoint, Percentiles, RunRecord, Store, TimeWindow } from '../store/store.ts';
import { isMockRun } from '../runs/format.ts';
import { MOCK_BADGE, card, esc, filterBox, num, page, pct, td, th, when } from './html.ts';
import { bucketPercentile, lineChart, sparkline } from './svg.ts';
import { agentRunsJson, agentsPage, collectAgentData, scenariosJson, scenariosPage, type AgentSiteData } from './agents.ts';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** How many runs and failures the listing pages show. */
const RECENT_RUNS = 100;
const RECENT_FAILURES = 200;
const MODEL_RECENT_RUNS = 10;

/** Everything the pages show, as read from the store in one go. */
export interface SiteData {
  now: Date;
  day: TimeWindow;
  week: TimeWindow;
  kpis24h: KpiSummary;
  kpis7d: KpiSummary;
  points: MetricPoint[];
  runs: RunRecord[];
  failures: RunRecord[];
  kinds: KindCount[];
  displayNames: Map<string, string>;
  modelRuns: Map<string, RunRecord[]>;
  /** Scenarios and agent runs (agents.ts renders their pages). */
  agents: AgentSiteData;
}

const modelKey = (provider: string, model: string) => `${provider}\u0000${model}`;

export async function collectSiteData(store: Store, now: Date): Promise<SiteData> {
  const day = { since: new Date(now.getTime() - DAY_MS), until: now };
  const week = { since: new Date(now.getTime() - 7 * DAY_MS), until: now };
  const [kpis24h, kpis7d, points, runs, failures, kinds, models, agents] = await Promise.all([
    store.metricKpis(day),
    store.metricKpis(week),
    store.metricPoints(week),
    store.recentRuns({ since: week.since, until: now, limit: RECENT_RUNS }),
    store.recentRuns({ since: week.since, until: now, outcome: 'failed', limit: RECENT_FAILURES }),
    store.errorsByKind(week),
    store.listModels(),
    collectAgentData(store, day, week),
  ]);
  const displayNames = new Map(models.filter((m) => m.display_name).map((m) => [modelKey(m.provider, m.model_id), m.display_name!]));
  const modelRuns = new Map<string, RunRecord[]>();
  for (const m of uniqueModels(kpis7d)) {
    modelRuns.set(modelKey(m.provider, m.model), await store.recentRuns({ provider: m.provider, model: m.model, limit: MODEL_RECENT_RUNS }));
  }
  return { now, day, week, kpis24h, kpis7d, points, runs, failures, kinds, displayNames, modelRuns, agents: { ...agents, models } };
}

function uniqueModels(s: KpiSummary): Array<{ provider: string; model: string }> {
  const seen = new Map<string, { provider: string; model: string }>();
  for (const r of s.models) seen.set(modelKey(r.provider!, r.model_name!), { provider: r.provider!, model: r.model_name! });
  return [...seen.values()];
}

/**
 * The file name of a model's page: readable, safe on every file system and in a URL, and
 * unique (a short hash of the exact provider and id tells apart ids that differ only in
 * characters replaced here, such as "a/b" and "a:b").
 */
export function modelPageName(provider: string, model: string): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '').slice(0, 80);
  const hash = createHash('sha256').update(modelKey(provider, model)).digest('hex').slice(0, 8);
  return `models/${safe(provider)}--${safe(model)}-${hash}.html`;
}

const isMock = (provider: string | null) => provider === 'mock';

/** Renders every file of the site: relative path → contents. */
export function renderSite(data: SiteData): Map<string, string> {
  const files = new Map<string, string>();
  const pointsByModel = groupPoints(data.points);
  files.set('index.html', overviewPage(data));
  files.set('models.html', modelsPage(data, pointsByModel));
  files.set('runs.html', runsPage(data));
  files.set('failures.html', failuresPage(data));
  files.set('scenarios.html', scenariosPage(data));
  files.set('agents.html', agentsPage(data));
  for (const m of uniqueModels(data.kpis7d)) {
    files.set(modelPageName(m.provider, m.model), modelPage(data, m.provider, m.model, pointsByModel.get(modelKey(m.provider, m.model)) ?? []));
  }
  const json = (v: unknown) => `${JSON.stringify(v)}\n`;
  files.set('json/kpis-24h.json', json({ since: data.day.since, until: data.day.until, ...data.kpis24h }));
  files.set('json/kpis-7d.json', json({ since: data.week.since, until: data.week.until, ...data.kpis7d }));
  files.set('json/runs.json', json(data.runs.map(runJson)));
  files.set('json/failures.json', json(data.failures.map(runJson)));
  files.set('json/scenarios.json', json(scenariosJson(data)));
  files.set('json/agent-runs.json', json(agentRunsJson(data)));
  return files;
}

function runJson(r: RunRecord) {
  return { outcome: r.outcome, mock: isMockRun(r), ...(r.outcome === 'ok' ? r.metric : r.error) };
}

function groupPoints(points: MetricPoint[]): Map<string, MetricPoint[]> {
  const out = new Map<string, MetricPoint[]>();
  for (const p of points) {
    const k = modelKey(p.provider, p.model_name);
    const list = out.get(k);
    if (list) list.push(p);
    else out.set(k, [p]);
  }
  return out;
}

// ---- pages ----

/** Cells of the given percentiles of one measure, numeric and sortable. */
function pctCells(p: Percentiles, digits: number, which: ReadonlyArray<keyof Percentiles> = ['p50', 'p95', 'p99']): string {
  return which.map((k) => td(num(p[k], digits), p[k], 'n')).join('');
}

/** Runs and success rate cells. */
function runCells(r: KpiRow): string {
  return td(String(r.runs), r.runs, 'n') + td(pct(r.success_rate), r.success_rate, 'n');
}

function kpiCards(r: KpiRow, prefix = ''): string {
  const s = (v: number | null) => num(v, 3, ' s');
  const t = (v: number | null) => num(v, 1);
  return [
    card('Runs', String(r.runs), `${prefix}runs`, r.runs, `${r.successes} ok, ${r.failures} failed`),
    card('Success rate', pct(r.success_rate), `${prefix}success_rate`, r.success_rate),
    card('TTFT p50', s(r.time_to_first_token.p50), `${prefix}ttft_p50`, r.time_to_first_token.p50),
    card('TTFT p95', s(r.time_to_first_token.p95), `${prefix}ttft_p95`, r.time_to_first_token.p95),
    card('TTFT p99', s(r.time_to_first_token.p99), `${prefix}ttft_p99`, r.time_to_first_token.p99),
    card('Tokens/s p50', t(r.tokens_per_second.p50), `${prefix}tps_p50`, r.tokens_per_second.p50),
    card('Tokens/s p95', t(r.tokens_per_second.p95), `${prefix}tps_p95`, r.tokens_per_second.p95),
    card('Tokens/s p99', t(r.tokens_per_second.p99), `${prefix}tps_p99`, r.tokens_per_second.p99),
    card('Total time p50', s(r.total_time.p50), `${prefix}total_p50`, r.total_time.p50),
    card('Decode tok/s p50', t(r.decode_tokens_per_second.p50), `${prefix}decode_p50`, r.decode_tokens_per_second.p50),
  ].join('');
}

function mockNote(rows: Array<{ provider: string | null }>): string {
  return rows.some((r) => isMock(r.provider))
    ? `<p>Rows marked ${MOCK_BADGE} were simulated by the mock provider (the demo), not measured against a real API.</p>`
    : '';
}

function overviewPage(data: SiteData): string {
  const k = data.kpis24h;
  const failing = k.models.filter((r) => r.success_rate === 0).length;
  const providerRows = k.providers
    .map(
      (r) =>
        `<tr${isMock(r.provider) ? ' class="mock"' : ''}>${td(esc(r.provider) + (isMock(r.provider) ? MOCK_BADGE : ''), r.provider)}` +
        runCells(r) +
        pctCells(r.time_to_first_token, 3, ['p50', 'p95']) +
        pctCells(r.tokens_per_second, 1, ['p50', 'p95']) +
        td(when(r.last_success), r.last_success?.getTime() ?? null) +
        '</tr>',
    )
    .join('');
  const body = `
<h1>Overview: the last 24 hours</h1>
<p class="mut">${when(data.day.since)} to ${when(data.day.until)}, all providers, models and scenarios.
${k.models.length} model/scenario groups measured; ${failing} with no success at all.</p>
${mockNote(k.providers)}
<div class="cards" id="kpis">${kpiCards(k.overall)}</div>
<h2>By provider</h2>
<div class="wrap"><table class="sortable" id="providers"><thead><tr>${th('provider')}${th('runs', true)}${th('success', true)}${th('TTFT p50 s', true)}${th('TTFT p95 s', true)}${th('tok/s p50', true)}${th('tok/s p95', true)}${th('last success')}</tr></thead>
<tbody>${providerRows || '<tr><td colspan="8">No runs in the last 24 hours.</td></tr>'}</tbody></table></div>
<h2>Latest runs</h2>
${runsTable(data.runs.slice(0, 15), 'latest', '', data)}
${agentLine(data)}
<p><a href="runs.html">All recent runs</a> · <a href="failures.html">Failures</a> · <a href="models.html">Every model over 7 days</a> · <a href="scenarios.html">Scenarios</a> · <a href="agents.html">Agent runs</a></p>`;
  return page({ title: 'Overview', file: 'index.html', root: '', generatedAt: data.now, body });
}

/** The agent runs of the day in one line, when there are any (most installs run none). */
function agentLine(data: SiteData): string {
  const a = data.agents.headline24h;
  if (a.runs === 0) return '';
  return `<h2>Agent runs</h2>
<p id="agent-summary">${a.runs} ${a.mock ? 'simulated' : 'measured'} TinyFish agent runs in the last 24 hours${a.mock ? MOCK_BADGE : ''}: ${pct(a.success_rate)} completed,
duration p50 ${num(a.total_duration_ms.p50 === null ? null : a.total_duration_ms.p50 / 1000, 1, ' s')}, p95 ${num(a.total_duration_ms.p95 === null ? null : a.total_duration_ms.p95 / 1000, 1, ' s')}. <a href="agents.html">Agent runs</a></p>`;
}

function modelLink(provider: string, model: string, root: string, data: SiteData): string {
  const name = data.displayNames.get(modelKey(provider, model));
  return `<a href="${root}${esc(modelPageName(provider, model))}"${name ? ` title="${esc(name)}"` : ''}>${esc(model)}</a>`;
}

const SPARK_BUCKET_MS = 6 * HOUR_MS;

function modelsPage(data: SiteData, pointsByModel: Map<string, MetricPoint[]>): string {
  const rows = data.kpis7d.models
    .map((r) => {
      const points = (pointsByModel.get(modelKey(r.provider!, r.model_name!)) ?? []).filter((p) => p.scenario === r.scenario);
      const series = bucketPercentile(
        points.map((p) => ({ t: p.run_ts.getTime(), v: p.tokens_per_second })),
        { since: data.week.since.getTime(), until: data.week.until.getTime(), bucketMs: SPARK_BUCKET_MS, p: 50 },
      );
      const mock = isMock(r.provider);
      return (
        `<tr${mock ? ' class="mock"' : ''}>` +
        td(esc(r.provider) + (mock ? MOCK_BADGE : ''), r.provider) +
        td(modelLink(r.provider!, r.model_name!, '', data), r.model_name) +
        td(esc(r.scenario), r.scenario) +
        runCells(r) +
        pctCells(r.time_to_first_token, 3) +
        pctCells(r.tokens_per_second, 1) +
        pctCells(r.decode_tokens_per_second, 1, ['p50']) +
        td(sparkline(series, `tokens per second of ${esc(r.model_name)} over 7 days`), null) +
        td(when(r.last_success), r.last_success?.getTime() ?? null) +
        '</tr>'
      );
    })
    .join('');
  const body = `
<h1>Models: the last 7 days</h1>
<p class="mut">One row per provider, model and scenario, ${when(data.week.since)} to ${when(data.week.until)}. TTFT in seconds;
the sparkline is the median tokens/s per 6 hours. Click a header to sort, a model for its charts.</p>
${mockNote(data.kpis7d.models)}
${filterBox('models', 'Filter: provider, model, scenario…')}
<div class="wrap"><table class="sortable" id="models"><thead><tr>${th('provider')}${th('model')}${th('scenario')}${th('runs', true)}${th('success', true)}${th('TTFT p50', true)}${th('TTFT p95', true)}${th('TTFT p99', true)}${th('tok/s p50', true)}${th('tok/s p95', true)}${th('tok/s p99', true)}${th('decode p50', true)}${th('tok/s, 7 days')}${th('last success')}</tr></thead>
<tbody>${rows || '<tr><td colspan="14">No runs in the last 7 days.</td></tr>'}</tbody></table></div>`;
  return page({ title: 'Models', file: 'models.html', root: '', generatedAt: data.now, body });
}

const CHART_BUCKET_MS = 3 * HOUR_MS;

function modelPage(data: SiteData, provider: string, model: string, points: MetricPoint[]): string {
  const rows = data.kpis7d.models.filter((r) => r.provider === provider && r.model_name === model);
  // Charts show the scenario with the most successes: mixing prompts of different lengths in
  // one line would chart the mix, not the model.
  const main = [...rows].sort((a, b) => b.successes - a.successes)[0]!;
  const mine = points.filter((p) => p.scenario === main.scenario);
  const opts = (p: number) => ({ since: data.week.since.getTime(), until: data.week.until.getTime(), bucketMs: CHART_BUCKET_MS, p });
  const ttft = mine.map((p) => ({ t: p.run_ts.getTime(), v: p.time_to_first_token }));
  const tps = mine.map((p) => ({ t: p.run_ts.getTime(), v: p.tokens_per_second }));
  const days: Array<{ index: number; label: string }> = [];
  const firstDay = Math.ceil(data.week.since.getTime() / DAY_MS) * DAY_MS;
  for (let t = firstDay; t < data.week.until.getTime(); t += DAY_MS) {
    days.push({ index: (t - data.week.since.getTime()) / CHART_BUCKET_MS, label: new Date(t).toISOString().slice(5, 10) });
  }
  const mock = isMock(provider);
  const name = data.displayNames.get(modelKey(provider, model));
  const scenarioRows = rows
    .map(
      (r) =>
        `<tr>${td(esc(r.scenario), r.scenario)}${runCells(r)}${pctCells(r.time_to_first_token, 3)}${pctCells(r.tokens_per_second, 1)}` +
        `${pctCells(r.total_time, 2, ['p50'])}${pctCells(r.decode_tokens_per_second, 1, ['p50'])}</tr>`,
    )
    .join('');
  const body = `
<h1>${esc(provider)} / ${esc(model)}${mock ? MOCK_BADGE : ''}</h1>
${name ? `<p>${esc(name)}</p>` : ''}
<p class="mut">The last 7 days, ${when(data.week.since)} to ${when(data.week.until)}. Charts: scenario ${esc(main.scenario)}.</p>
${mock ? '<p>Simulated by the mock provider: these numbers describe the simulation, not an API.</p>' : ''}
<div class="cards" id="kpis">${kpiCards(main)}</div>
${lineChart({ title: 'Time to first token', unit: 's', p50: bucketPercentile(ttft, opts(50)), p95: bucketPercentile(ttft, opts(95)), days, digits: 2 })}
${lineChart({ title: 'Tokens per second', unit: 'tokens/s', p50: bucketPercentile(tps, opts(50)), p95: bucketPercentile(tps, opts(95)), days, digits: 0 })}
<h2>By scenario</h2>
<div class="wrap"><table class="sortable" id="scenarios"><thead><tr>${th('scenario')}${th('runs', true)}${th('success', true)}${th('TTFT p50', true)}${th('TTFT p95', true)}${th('TTFT p99', true)}${th('tok/s p50', true)}${th('tok/s p95', true)}${th('tok/s p99', true)}${th('total s p50', true)}${th('decode p50', true)}</tr></thead>
<tbody>${scenarioRows}</tbody></table></div>
<h2>Latest runs</h2>
${runsTable(data.modelRuns.get(modelKey(provider, model)) ?? [], 'model-runs', '../', data)}`;
  return page({ title: `${provider}/${model}`, file: '', root: '../', generatedAt: data.now, body });
}

function runsTable(runs: RunRecord[], id: string, root: string, data: SiteData): string {
  if (runs.length === 0) return '<p>No runs.</p>';
  const rows = runs
    .map((r) => {
      const doc = r.outcome === 'ok' ? r.metric : r.error;
      const mock = isMockRun(r);
      const model = modelLink(doc.provider, doc.model_name, root, data);
      return (
        `<tr class="${r.outcome === 'ok' ? 'r-ok' : 'r-failed'}${mock ? ' mock' : ''}">` +
        td(when(r.ts), r.ts.getTime()) +
        td(esc(doc.provider) + (mock ? MOCK_BADGE : ''), doc.provider) +
        td(model, doc.model_name) +
        td(esc(doc.benchmark_profile_id), doc.benchmark_profile_id) +
        (r.outcome === 'ok'
          ? td('<span class="ok">ok</span>', 'ok') +
            td(num(r.metric.time_to_first_token, 3), r.metric.time_to_first_token, 'n') +
            td(num(r.metric.tokens_per_second, 1), r.metric.tokens_per_second, 'n') +
            td(num(r.metric.generate_time, 2), r.metric.generate_time, 'n') +
            td('', '')
          : td(`<span class="bad">${esc(r.error.error_kind)}</span>`, r.error.error_kind) +
            td('–', null, 'n') +
            td('–', null, 'n') +
            td('–', null, 'n') +
            td(esc(r.error.message), r.error.message, 'msg')) +
        '</tr>'
      );
    })
    .join('');
  return `<div class="wrap"><table class="sortable" id="${id}"><thead><tr>${th('time')}${th('provider')}${th('model')}${th('scenario')}${th('outcome')}${th('TTFT s', true)}${th('tok/s', true)}${th('total s', true)}${th('message')}</tr></thead><tbody>${rows}</tbody></table></div>`;
}

function runsPage(data: SiteData): string {
  const body = `
<h1>Recent runs</h1>
<p class="mut">The latest ${data.runs.length} runs of the last 7 days, successes and failures, newest first.
In the shell: <code>npm run runs -- list</code>, and <code>npm run runs -- show RUN_ID</code> for one run in full.</p>
${mockNote(data.runs.map((r) => ({ provider: r.outcome === 'ok' ? r.metric.provider : r.error.provider })))}
${filterBox('runs', 'Filter: provider, model, outcome, kind…')}
${runsTable(data.runs, 'runs', '', data)}`;
  return page({ title: 'Recent runs', file: 'runs.html', root: '', generatedAt: data.now, body });
}

function failuresPage(data: SiteData): string {
  const byProvider = new Map<string, Partial<Record<ErrorKind, number>>>();
  const kinds = [...new Set(data.kinds.map((k) => k.error_kind))].sort();
  for (const k of data.kinds) byProvider.set(k.provider, { ...byProvider.get(k.provider), [k.error_kind]: k.count });
  const kindRows = [...byProvider.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([provider, counts]) => {
      const total = Object.values(counts).reduce((n, c) => n + (c ?? 0), 0);
      return `<tr${isMock(provider) ? ' class="mock"' : ''}>${td(esc(provider) + (isMock(provider) ? MOCK_BADGE : ''), provider)}${td(String(total), total, 'n')}${kinds.map((k) => td(String(counts[k] ?? 0), counts[k] ?? 0, 'n')).join('')}</tr>`;
    })
    .join('');
  const rows = data.failures
    .filter((r): r is Extract<RunRecord, { outcome: 'failed' }> => r.outcome === 'failed')
    .map((r) => {
      const e = r.error;
      const mock = isMock(e.provider);
      return (
        `<tr${mock ? ' class="mock"' : ''}>` +
        td(when(e.ts), e.ts.getTime()) +
        td(esc(e.provider) + (mock ? MOCK_BADGE : ''), e.provider) +
        td(modelLink(e.provider, e.model_name, '', data), e.model_name) +
        td(esc(e.benchmark_profile_id), e.benchmark_profile_id) +
        td(`<span class="bad">${esc(e.error_kind)}</span>`, e.error_kind) +
        td(esc(e.stage), e.stage) +
        td(e.http_status === null ? '–' : String(e.http_status), e.http_status, 'n') +
        td(esc(e.message), e.message, 'msg') +
        '</tr>'
      );
    })
    .join('');
  const body = `
<h1>Failures: the last 7 days</h1>
<h2>By provider and kind</h2>
${kindRows ? `<div class="wrap"><table class="sortable" id="kinds"><thead><tr>${th('provider')}${th('failures', true)}${kinds.map((k) => th(k, true)).join('')}</tr></thead><tbody>${kindRows}</tbody></table></div>` : '<p>No failures in the last 7 days.</p>'}
<h2>Latest failures</h2>
<p class="mut">The latest ${data.failures.length} failures with their messages, newest first.</p>
${filterBox('failures', 'Filter: provider, model, kind, message…')}
${rows ? `<div class="wrap"><table class="sortable" id="failures"><thead><tr>${th('time')}${th('provider')}${th('model')}${th('scenario')}${th('kind')}${th('stage')}${th('HTTP', true)}${th('message')}</tr></thead><tbody>${rows}</tbody></table></div>` : '<p>None.</p>'}`;
  return page({ title: 'Failures', file: 'failures.html', root: '', generatedAt: data.now, body });
}
