// What the status site shows, read from the store in one go (SPEC 16): the published
// scenario's last 72 hours for the overview, 30 days of it per provider per day for the trend
// charts, every scenario's last 7 days for the models and scenario pages, runs, failures and
// agent runs. The pages (overview.ts, models.ts, runs.ts, compare.ts, agents.ts) render it.
import { createHash } from 'node:crypto';
import { readWindowRows, summarizeGroups, type GroupSummary } from '../runs/groups.ts';
import { deriveWorkloads, type ModelWorkload } from '../runs/workloads.ts';
import type { ErrorDoc, ModelDoc } from '../store/documents.ts';
import { DEFAULT_SCENARIO, type KindCount, type KpiSummary, type MetricPoint, type RunRecord, type ServedModel, type Store, type TimeWindow } from '../store/store.ts';
import { collectAgentData, type AgentSiteData } from './agents.ts';
import { percentilesOf } from './svg.ts';

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;
/** The one scenario whose numbers are published (SPEC 4.5): the overview shows only it. */
export const PUBLISHED = DEFAULT_SCENARIO;
/** The overview's window: the published figure is the median of the past 72 hours (SPEC 19). */
export const PUBLISHED_HOURS = 72;
/** Days of the overview's trend charts (daily medians of successes). */
export const TREND_DAYS = 30;
/** Days of the success strip: the trend's (the store's KPIs leave aborted calls out). */
export const STRIP_DAYS = TREND_DAYS;
/** How many runs and failures the listing pages show. */
const RECENT_RUNS = 100;
const RECENT_FAILURES = 200;
const MODEL_RECENT_RUNS = 10;
const PUBLISHED_RECENT_RUNS = 15;
/**
 * Failures of the week read: the Failures page, the aborted calls shown apart, and the week's
 * days of the trend (dayFromRuns). A week of a busy schedule.
 */
const FAILURE_SCAN = 100_000;

/** One provider's published calls on one UTC day, aborted calls left out. */
export interface ProviderDay {
  provider: string;
  /** YYYY-MM-DD */
  day: string;
  successes: number;
  failures: number;
  ttft_p50: number | null;
  tps_p50: number | null;
}

export interface SiteData {
  now: Date;
  day: TimeWindow;
  week: TimeWindow;
  /** The overview's window: the last PUBLISHED_HOURS. */
  published: TimeWindow;
  /** The published scenario's KPIs over `published`, aborted calls left out. */
  pub: KpiSummary;
  /** Calls of the published scenario in `published` that the operator stopped. */
  pubAborted: number;
  /** The UTC days of the trend, oldest first, and each provider's numbers on them. */
  trendDays: string[];
  trend: ProviderDay[];
  /** Every scenario, aborted calls left out. */
  kpis24h: KpiSummary;
  kpis7d: KpiSummary;
  /** The week's successes of every scenario, by provider, model, scenario, then time. */
  points: MetricPoint[];
  /** The latest runs and failures of the week, aborted calls left out. */
  runs: RunRecord[];
  /** The published scenario's latest runs of the week, aborted calls left out. */
  publishedRuns: RunRecord[];
  failures: RunRecord[];
  /** The week's aborted calls, newest first: shown apart, never as failures. */
  aborted: ErrorDoc[];
  kinds: KindCount[];
  displayNames: Map<string, string>;
  /** Each model's latest runs, aborted calls left out. */
  modelRuns: Map<string, RunRecord[]>;
  /** Scenarios and agent runs (agents.ts renders their pages). */
  agents: AgentSiteData;
  /** Derived per model from the workload scenarios over `published` (SPEC 19). */
  workloads: ModelWorkload[];
  /** The parallel groups over `published`. */
  groups: GroupSummary[];
  /** The models the providers said answered each catalog id over the week, oldest first per id (SPEC 18). */
  served: ServedModel[];
}

export const modelKey = (provider: string, model: string) => `${provider}\u0000${model}`;

const isAborted = (r: RunRecord) => r.outcome === 'failed' && r.error.error_kind === 'aborted';
const inWindow = (t: Date, w: TimeWindow) => t >= w.since && t < w.until;
const scenarioOf = (e: ErrorDoc) => e.benchmark_profile_id ?? DEFAULT_SCENARIO;
const utcDay = (t: number) => new Date(t).toISOString().slice(0, 10);

export async function collectSiteData(store: Store, now: Date): Promise<SiteData> {
  const ago = (ms: number) => ({ since: new Date(now.getTime() - ms), until: now });
  const day = ago(DAY_MS);
  const week = ago(7 * DAY_MS);
  const published = ago(PUBLISHED_HOURS * HOUR_MS);
  const firstDay = Math.floor(now.getTime() / DAY_MS) * DAY_MS - (TREND_DAYS - 1) * DAY_MS;
  const trendDays = Array.from({ length: TREND_DAYS }, (_, i) => ({ since: new Date(firstDay + i * DAY_MS), until: new Date(Math.min(firstDay + (i + 1) * DAY_MS, now.getTime())) }));
  const [pub, kpis24h, kpis7d, points, runs, publishedRuns, failed, kinds, models, agents, daily, served] = await Promise.all([
    store.metricKpis(published, { scenario: PUBLISHED }),
    store.metricKpis(day),
    store.metricKpis(week),
    store.metricPoints(week),
    store.recentRuns({ since: week.since, until: now, limit: RECENT_RUNS }),
    store.recentRuns({ since: week.since, until: now, scenario: PUBLISHED, limit: PUBLISHED_RECENT_RUNS }),
    store.recentRuns({ since: week.since, until: now, outcome: 'failed', limit: FAILURE_SCAN }),
    store.errorsByKind(week),
    store.listModels(),
    collectAgentData(store, day, week),
    // The days inside the week come from its points and failures, read above anyway.
    Promise.all(trendDays.filter((w) => w.since < week.since).map((w) => store.metricKpis(w, { scenario: PUBLISHED }))),
    store.servedModels(week),
  ]);
  const windowRows = await readWindowRows(store, published);
  const aborted = failed.filter(isAborted).map((r) => (r as Extract<RunRecord, { outcome: 'failed' }>).error);
  const abortedIn = (w: TimeWindow, scenario?: string) => aborted.filter((e) => inWindow(e.ts, w) && (scenario === undefined || scenarioOf(e) === scenario));
  const pubAborted = abortedIn(published, PUBLISHED);
  const counted = failed.flatMap((r) => (r.outcome === 'failed' && !isAborted(r) ? [r.error] : []));
  const trend = trendDays.flatMap((w, i) => {
    if (i >= daily.length) return dayFromRuns(w, points, counted);
    return daily[i]!.providers.map(
      (p): ProviderDay => ({
        provider: p.provider!,
        day: utcDay(w.since.getTime()),
        successes: p.successes,
        failures: p.failures,
        ttft_p50: p.time_to_first_token.p50,
        tps_p50: p.tokens_per_second.p50,
      }),
    );
  });
  // The store's KPIs leave aborted calls out of failures (SPEC 18).
  const kpis = kpis7d;
  const displayNames = new Map(models.filter((m: ModelDoc) => m.display_name).map((m) => [modelKey(m.provider, m.model_id), m.display_name!]));
  const modelRuns = new Map<string, RunRecord[]>();
  for (const m of uniqueModels(kpis)) {
    const list = await store.recentRuns({ provider: m.provider, model: m.model, limit: MODEL_RECENT_RUNS });
    modelRuns.set(modelKey(m.provider, m.model), list.filter((r) => !isAborted(r)));
  }
  return {
    now,
    day,
    week,
    published,
    pub,
    pubAborted: pubAborted.length,
    trendDays: trendDays.map((w) => utcDay(w.since.getTime())),
    trend,
    kpis24h,
    kpis7d: kpis,
    points,
    runs: runs.filter((r) => !isAborted(r)),
    publishedRuns: publishedRuns.filter((r) => !isAborted(r)),
    failures: failed.filter((r) => !isAborted(r) && inWindow(r.ts, week)).slice(0, RECENT_FAILURES),
    aborted: abortedIn(week),
    kinds,
    displayNames,
    modelRuns,
    agents: { ...agents, models },
    workloads: deriveWorkloads(windowRows),
    groups: summarizeGroups(windowRows),
    served,
  };
}

/**
 * The published scenario's numbers per provider on a day inside the points' window, as the
 * store's metricKpis would give them (nearest-rank p50, failures without aborted calls).
 */
export function dayFromRuns(w: TimeWindow, points: MetricPoint[], failures: ErrorDoc[]): ProviderDay[] {
  const by = new Map<string, { ttft: number[]; tps: number[]; failures: number }>();
  const of = (provider: string) => by.get(provider) ?? by.set(provider, { ttft: [], tps: [], failures: 0 }).get(provider)!;
  for (const p of points) {
    if (p.scenario !== PUBLISHED || !inWindow(p.run_ts, w)) continue;
    const g = of(p.provider);
    g.tps.push(p.tokens_per_second);
    if (p.time_to_first_token !== null) g.ttft.push(p.time_to_first_token);
  }
  for (const e of failures) if (scenarioOf(e) === PUBLISHED && inWindow(e.ts, w)) of(e.provider).failures++;
  return [...by.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([provider, g]) => ({
      provider,
      day: utcDay(w.since.getTime()),
      successes: g.tps.length,
      failures: g.failures,
      ttft_p50: percentilesOf(g.ttft, [50])?.[50] ?? null,
      tps_p50: percentilesOf(g.tps, [50])?.[50] ?? null,
    }));
}

/** Each (provider, model) of the summary once. */
export function uniqueModels(s: KpiSummary): Array<{ provider: string; model: string }> {
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
