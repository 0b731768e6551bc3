// The status site's scenarios and agent-runs pages (SPEC 4.5, 4.6, 16): what each scenario
// sends and how often, with its runs and success rate, and the TinyFish agent runs' KPIs,
// duration sparklines, last failures and recent runs. build.ts calls these; they read only
// what they are given, so they do not import it (no cycle).
import { PUBLISHED_SCENARIO_ID, type AgentRunDoc, type LlmScenarioInputs, type ModelDoc, type ScenarioDoc } from '../store/documents.ts';
import type { AgentKpiRow, AgentKpiSummary, KpiSummary, Percentiles, Store, TimeWindow } from '../store/store.ts';
import { plural } from '../plural.ts';
import { MOCK_BADGE, card, esc, filterBox, num, page, pct, table, td, when, type Row } from './html.ts';
import { bucketPercentile, sparkline } from './svg.ts';

const HOUR_MS = 3_600_000;
/** Agent runs read for the sparklines and the recent table: a week of a busy schedule. */
const WEEK_AGENT_RUNS = 5000;
const RECENT_AGENT_RUNS = 100;
const SPARK_BUCKET_MS = 6 * HOUR_MS;

export interface AgentSiteData {
  scenarios: ScenarioDoc[];
  agents24h: AgentKpiSummary;
  /**
   * What the cards show: the measured runs of the day when there are simulated ones beside
   * them (a p50 over both would describe neither), else every run.
   */
  headline24h: AgentKpiRow;
  agents7d: AgentKpiSummary;
  /** The week's agent runs, newest first (at most WEEK_AGENT_RUNS). */
  agentRuns: AgentRunDoc[];
  models: ModelDoc[];
}

/** What the two pages read of the site's data (build.ts's SiteData has it all). */
export interface AgentPageInput {
  now: Date;
  day: TimeWindow;
  week: TimeWindow;
  kpis24h: KpiSummary;
  kpis7d: KpiSummary;
  agents: AgentSiteData;
}

export async function collectAgentData(store: Store, day: TimeWindow, week: TimeWindow): Promise<Omit<AgentSiteData, 'models'>> {
  const [scenarios, agents24h, agents7d, agentRuns] = await Promise.all([
    store.listScenarios(),
    store.agentRunKpis(day),
    store.agentRunKpis(week),
    store.recentAgentRuns({ since: week.since, until: week.until, limit: WEEK_AGENT_RUNS, withoutResult: true }),
  ]);
  const mixed = agents24h.groups.some((g) => g.mock) && agents24h.groups.some((g) => !g.mock);
  const headline24h = mixed ? (await store.agentRunKpis(day, { mock: false })).overall : agents24h.overall;
  return { scenarios, agents24h, headline24h, agents7d, agentRuns };
}

// ---- scenarios ----

interface RunCount {
  runs: number;
  successes: number;
  success_rate: number | null;
}

/** A scenario's runs in a window: its metric rows and failures, or its agent runs. */
function scenarioRuns(s: ScenarioDoc, llm: KpiSummary, agents: AgentKpiSummary): RunCount {
  let runs = 0;
  let successes = 0;
  if (s.kind === 'agent') {
    for (const g of agents.groups.filter((g) => g.scenario === s.scenario_id)) {
      runs += g.runs;
      successes += g.completed;
    }
  } else {
    for (const m of llm.models.filter((m) => m.scenario === s.scenario_id)) {
      runs += m.runs;
      successes += m.successes;
    }
  }
  return { runs, successes, success_rate: runs > 0 ? successes / runs : null };
}

export function every(minutes: number): string {
  return minutes % 1440 === 0 ? `${minutes / 1440} d` : minutes % 60 === 0 ? `${minutes / 60} h` : `${minutes} min`;
}

function targets(s: ScenarioDoc): string {
  const t = s.targets;
  if (t.type === 'all') return s.kind === 'agent' ? 'every enabled automation' : 'every enabled model';
  const names = t.type === 'providers' ? t.providers : t.models.map((m) => `${m.provider}/${m.model_id}`);
  const shown = names.slice(0, 4).join(', ');
  return `${t.type === 'providers' ? 'providers ' : ''}${shown}${names.length > 4 ? ` and ${names.length - 4} more` : ''}`;
}

/** What a call or run sends: an LLM scenario's prompt length and limits; an agent's url and goal. */
function inputs(s: ScenarioDoc, models: ModelDoc[]): string {
  if (s.kind === 'llm') {
    const i = s.inputs as LlmScenarioInputs;
    const prompt = i.input_tokens ? `generated prompt of ${i.input_tokens} tokens, unique per call` : typeof i.prompt === 'string' ? `prompt ${i.prompt.length} chars` : 'no prompt';
    const parallel = i.parallel ? `, ${i.parallel} calls at once` : '';
    return esc(`${prompt}, max_tokens ${i.max_tokens ?? '–'}, temperature ${i.temperature ?? '–'}${i.cache_defeat ? ', cache defeated' : ''}${parallel}${s.jitter ? ', random start' : ''}`);
  }
  // An agent scenario may leave url and goal to each automation (its catalog entry's misc).
  const own = agentInputs(s.inputs as Record<string, unknown>);
  if (own) return own;
  const automations = s.targets.type === 'models' ? s.targets.models.filter((m) => m.provider === 'tinyfish').map((m) => m.model_id) : [];
  const fromModels = models
    .filter((m) => m.provider === 'tinyfish' && automations.includes(m.model_id))
    .map((m) => agentInputs(m.misc ?? {}))
    .filter(Boolean);
  return fromModels.length ? `each automation's: ${fromModels.join('; ')}` : '<span class="mut">each automation\'s own url and goal</span>';
}

function agentInputs(v: Record<string, unknown>): string {
  const url = typeof v.url === 'string' ? v.url : null;
  const goal = typeof v.goal === 'string' ? v.goal : null;
  if (!url && !goal) return '';
  return [url ? `<code>${esc(url)}</code>` : '', goal ? esc(goal.length > 120 ? `${goal.slice(0, 119)}…` : goal) : ''].filter(Boolean).join(': ');
}

export function scenariosPage(data: AgentPageInput): string {
  const rows = data.agents.scenarios.map((s): Row => {
    const d = scenarioRuns(s, data.kpis24h, data.agents.agents24h);
    const w = scenarioRuns(s, data.kpis7d, data.agents.agents7d);
    const published = s.scenario_id === PUBLISHED_SCENARIO_ID;
    return {
      id: `scenario-${s.scenario_id}`,
      cls: s.enabled ? undefined : 'off',
      cells: [
        td(
          `<b>${esc(s.scenario_id)}</b>${published ? ' <span class="pub-badge" title="the one published profile: its rows reach metrics_cloud_v2">published</span>' : ''}<br><span class="sub">${esc(s.description)}</span>`,
          s.scenario_id,
          'txt',
        ),
        td(`${esc(s.kind)}${s.enabled ? '' : '<br><span class="sub">disabled</span>'}`, s.kind),
        td(`${every(s.interval_minutes)}<br><span class="sub">concurrency ${s.concurrency}</span>`, s.interval_minutes, 'n'),
        td(String(d.runs), d.runs, 'n'),
        td(pct(d.success_rate), d.success_rate, 'n'),
        td(String(w.runs), w.runs, 'n'),
        td(pct(w.success_rate), w.success_rate, 'n'),
        td(esc(targets(s)), null, 'txt'),
        td(inputs(s, data.agents.models), null, 'txt'),
      ],
    };
  });
  const body = `
<h1>Scenarios</h1>
<p class="mut">What each benchmark sends, how often each target is due (counted from its last success), and how its runs went.
Only <b>${PUBLISHED_SCENARIO_ID}</b> is published (its rows reach the public dashboard); every other scenario's rows are probes.
Runs count successes and failures (not calls stopped by the operator); agent scenarios count TinyFish runs (see <a href="agents.html">Agent runs</a>).
Long-prompt and parallel workloads have their own page: <a href="workloads.html">Workloads</a>.
In the shell: <code>npm run models -- scenario list</code>.</p>
${filterBox('scenario-list', 'Filter: id, kind, target…')}
${table(
  'scenario-list',
  [
    { label: 'scenario', bare: true },
    { label: 'kind' },
    { label: 'every', numeric: true },
    { label: 'runs 24 h', numeric: true },
    { label: 'success 24 h', numeric: true },
    { label: 'runs 7 d', numeric: true },
    { label: 'success 7 d', numeric: true },
    { label: 'targets' },
    { label: 'inputs' },
  ],
  rows,
  'No scenarios yet: a sweep creates the built-in ones.',
)}`;
  return page({ title: 'Scenarios', file: 'scenarios.html', root: '', generatedAt: data.now, body });
}

export function scenariosJson(data: AgentPageInput) {
  return data.agents.scenarios.map((s) => ({
    ...s,
    published: s.scenario_id === PUBLISHED_SCENARIO_ID,
    runs_24h: scenarioRuns(s, data.kpis24h, data.agents.agents24h),
    runs_7d: scenarioRuns(s, data.kpis7d, data.agents.agents7d),
  }));
}

// ---- agent runs ----

const seconds = (ms: number | null) => (ms === null ? null : ms / 1000);

/** p50 and p95 in seconds (p99 is on the cards: the table must fit 1280 px). */
function msCells(p: Percentiles): string[] {
  return (['p50', 'p95'] as const).map((k) => td(num(seconds(p[k]), 1), p[k], 'n'));
}

function automationCell(automation: string, mock: boolean): string {
  return td(esc(automation) + (mock ? MOCK_BADGE : ''), automation);
}

function agentCards(r: AgentKpiRow): string {
  const s = (ms: number | null) => num(seconds(ms), 1, ' s');
  return [
    card('Agent runs', String(r.runs), 'agent_runs', r.runs, `${r.completed} completed, ${r.failed} failed, ${r.timeouts} timed out`),
    card('Success rate', pct(r.success_rate), 'agent_success_rate', r.success_rate),
    card('Duration p50', s(r.total_duration_ms.p50), 'agent_duration_p50', r.total_duration_ms.p50),
    card('Duration p95', s(r.total_duration_ms.p95), 'agent_duration_p95', r.total_duration_ms.p95),
    card('Duration p99', s(r.total_duration_ms.p99), 'agent_duration_p99', r.total_duration_ms.p99),
    card('First progress p50', s(r.time_to_first_progress_ms.p50), 'agent_progress_p50', r.time_to_first_progress_ms.p50),
    card('First progress p95', s(r.time_to_first_progress_ms.p95), 'agent_progress_p95', r.time_to_first_progress_ms.p95),
    card('First progress p99', s(r.time_to_first_progress_ms.p99), 'agent_progress_p99', r.time_to_first_progress_ms.p99),
  ].join('');
}

const groupKey = (automation: string, scenario: string, mock: boolean) => `${automation}\u0000${scenario}\u0000${mock}`;

export function agentsPage(data: AgentPageInput): string {
  const { agents24h, headline24h, agents7d, agentRuns } = data.agents;
  const durations = new Map<string, Array<{ t: number; v: number }>>();
  for (const r of agentRuns) {
    if (r.status !== 'completed') continue;
    const k = groupKey(r.automation, r.scenario_id, r.mock);
    const list = durations.get(k) ?? durations.set(k, []).get(k)!;
    list.push({ t: r.started_at.getTime(), v: r.total_duration_ms / 1000 });
  }
  const groupRows = agents7d.groups.map((g): Row => {
    const series = bucketPercentile(durations.get(groupKey(g.automation!, g.scenario!, g.mock)) ?? [], {
      since: data.week.since.getTime(),
      until: data.week.until.getTime(),
      bucketMs: SPARK_BUCKET_MS,
      p: 50,
    });
    const f = g.last_failure;
    return {
      cls: g.mock ? 'mock' : undefined,
      cells: [
        automationCell(g.automation!, g.mock),
        td(`<a href="scenarios.html#scenario-${esc(g.scenario)}">${esc(g.scenario)}</a>`, g.scenario),
        td(String(g.runs), g.runs, 'n'),
        td(pct(g.success_rate), g.success_rate, 'n'),
        td(String(g.failed), g.failed, 'n'),
        td(String(g.timeouts), g.timeouts, 'n'),
        ...msCells(g.total_duration_ms),
        ...msCells(g.time_to_first_progress_ms),
        td(sparkline(series, `duration of ${esc(g.automation)} over 7 days`), null),
        f
          ? td(`${when(f.started_at)} <span class="bad">${esc(f.error_kind ?? f.status)}</span><br>${esc(f.error ?? '')}`, f.started_at.getTime(), 'msg')
          : td('–', null, 'msg'),
      ],
    };
  });
  const recent = agentRuns.slice(0, RECENT_AGENT_RUNS);
  // Compact rows: the status cell carries the error's kind, the last cell its message (or the
  // run id of a completed run), so a failed row is as short as its message.
  const runRows = recent.map(
    (r): Row => ({
      cls: `${r.status === 'completed' ? 'r-ok' : 'r-failed'}${r.mock ? ' mock' : ''}`,
      cells: [
        td(when(r.started_at), r.started_at.getTime()),
        automationCell(r.automation, r.mock),
        td(esc(r.scenario_id), r.scenario_id),
        td(
          r.status === 'completed' ? '<span class="ok">completed</span>' : `<span class="bad">${esc(r.status)}</span>${r.error_kind && r.error_kind !== r.status ? ` <span class="sub">${esc(r.error_kind)}</span>` : ''}`,
          r.status,
        ),
        td(num(seconds(r.total_duration_ms), 1), r.total_duration_ms, 'n'),
        td(num(seconds(r.time_to_first_progress_ms), 1), r.time_to_first_progress_ms, 'n'),
        td(String(r.progress_events), r.progress_events, 'n'),
        td(r.error ? esc(r.error) : `<span class="sub">${esc(r.run_id)}</span>`, r.error ?? '', 'msg'),
      ],
    }),
  );
  const anyMock = agents7d.groups.some((g) => g.mock);
  const simulated = agents24h.overall.runs - headline24h.runs;
  const body = `
<h1>Agent runs (TinyFish)</h1>
<p class="mut">Browser-agent runs: total duration from the request to the last event, and time to the first PROGRESS event, of completed runs.
Cards: the last 24 hours, ${when(data.day.since)} to ${when(data.day.until)}. Failed runs and timeouts count against the success rate.</p>
${anyMock ? `<p>Rows marked ${MOCK_BADGE} were simulated (TinyFish mock mode or a <code>mock-</code> automation), not run by TinyFish; their numbers are kept apart.</p>` : ''}
${headline24h.mock || simulated === 0 ? '' : `<p>The cards count the ${plural(headline24h.runs, 'measured run')}; the ${plural(simulated, 'simulated one')} ${simulated === 1 ? 'is' : 'are'} in the table only.</p>`}
<div class="cards" id="agent-kpis">${agentCards(headline24h)}</div>
<h2>By automation and scenario: the last 7 days</h2>
<p class="mut">In seconds: dur is the total duration, prog the time to the first PROGRESS event; the sparkline is the median duration per 6 hours.
In the shell: <code>npm run runs -- kpis --kind agent --days 7</code>.</p>
${table(
  'agents',
  [
    { label: 'automation', bare: true },
    { label: 'scenario', bare: true },
    { label: 'runs', numeric: true },
    { label: 'success', numeric: true },
    { label: 'failed', numeric: true },
    { label: 'timeouts', numeric: true },
    { label: 'dur p50', numeric: true },
    { label: 'dur p95', numeric: true },
    { label: 'prog p50', numeric: true },
    { label: 'prog p95', numeric: true },
    { label: 'duration, 7 days' },
    { label: 'last failure' },
  ],
  groupRows,
  'No agent runs in the last 7 days.',
)}
<h2>Recent agent runs</h2>
<p class="mut">The latest ${plural(recent.length, 'run')} of the last 7 days, newest first. <code>npm run runs -- show RUN_ID</code> prints one in full, with its result.</p>
${
  recent.length
    ? `${filterBox('agent-runs', 'Filter: automation, scenario, status, error…')}
${table(
  'agent-runs',
  [
    { label: 'started', bare: true },
    { label: 'automation', bare: true },
    { label: 'scenario', bare: true },
    { label: 'status', bare: true },
    { label: 'duration s', numeric: true },
    { label: 'first progress s', numeric: true },
    { label: 'steps', numeric: true },
    { label: 'error or run_id' },
  ],
  runRows,
  '',
)}`
    : '<p>None.</p>'
}`;
  return page({ title: 'Agent runs', file: 'agents.html', root: '', generatedAt: data.now, body });
}

/** The agent KPIs and recent runs; a run's result (up to 64 KiB) stays in the store. */
export function agentRunsJson(data: AgentPageInput) {
  return {
    since_24h: data.day.since,
    since_7d: data.week.since,
    until: data.week.until,
    kpis_24h: data.agents.agents24h,
    kpis_7d: data.agents.agents7d,
    recent: data.agents.agentRuns.slice(0, RECENT_AGENT_RUNS).map(({ result: _, ...r }) => r),
  };
}
