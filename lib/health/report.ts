// The daily health report (SPEC 10), collected from a store: every section is computed by
// the store's report queries inside the database; this module only combines them with the
// model list, the regression statistics and the clock. Nothing here mails or prints.
import { execFile } from 'node:child_process';
import type { ErrorKind, SweepSkipDoc } from '../store/documents.ts';
import { isProviderName } from '../config.ts';
import { redact } from '../log.ts';
import { compareSpeed, type RegressionOptions, type SpeedMetric } from './regression.ts';
import type { DailySpend, FingerprintSummary, KindCount, MarkedRuns, MetricSamples, ModelErrorSummary, NearLimit, ServedModel, Store, StoreFootprint, TimeWindow } from '../store/store.ts';
import { summarizeAgentRuns, type AgentRunStats } from '../tinyfish/stats.ts';
import { SWEEP_OUTPUT_PROVIDER } from '../bench/sweep-outputs.ts';
import type { RetentionSettings } from '../store/rollups.ts';
import { footprintLines } from '../store/rollups-status.ts';
import { summarizeSweeps, type RunnerSummary } from '../runs/sweeps.ts';

const DAY_MS = 86_400_000;
/** Days of history each model's window is compared with (SPEC 10: "their own previous 7 days"). */
export const BASELINE_DAYS = 7;
/** Days shown in each provider's sparkline. */
export const SPARKLINE_DAYS = 7;
/** A model is stale after this many sweep periods without a success (SPEC 10). */
export const STALE_SWEEP_PERIODS = 3;
const SPARK_BLOCKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;
/** Days of spend per provider in the report (SPEC 17). */
export const SPEND_DAYS = 7;

export interface HealthReportOptions {
  /** The end of the window (exclusive); the report's "now". */
  now: Date;
  /** Window length in days (default 1). */
  days?: number;
  /** config.bench.sweepPeriodMinutes: staleness is 3 of these without a success. */
  sweepPeriodMinutes: number;
  regression?: RegressionOptions;
  /** BENCH_DAILY_BUDGET_USD, shown beside each day's spend. */
  dailyBudgetUsd?: number | null;
  /** Config['retention'], named beside the store's projected size (SPEC 20). */
  retention?: RetentionSettings;
}

export interface ProviderHealth {
  provider: string;
  successes: number;
  errors: number;
  /** errors / (successes + errors); null when the provider made no calls in the window. */
  error_rate: number | null;
}

export interface StaleModel {
  provider: string;
  model_id: string;
  /** The latest success ever; null when the model never succeeded. */
  last_success: Date | null;
}

export interface SpeedRegression {
  provider: string;
  model_name: string;
  metric: SpeedMetric;
  baseline_median: number;
  current_median: number;
  /** How much worse the window's median is than the baseline's, in percent. */
  worse_pct: number;
  current_samples: number;
  baseline_samples: number;
  p_value: number;
}

export interface SparkDay {
  /** UTC day, YYYY-MM-DD. */
  day: string;
  median_tokens_per_second: number | null;
  count: number;
}

export interface ProviderSparkline {
  provider: string;
  days: SparkDay[];
  /** One block character per day (▁ to █, scaled from 0 to the provider's best day), a space for a day without data. */
  sparkline: string;
}

export interface SuggestedCommand {
  /** A shell command to paste. */
  command: string;
  why: string;
}

/** What benchmarking cost (SPEC 17): rows without a known cost are counted, never priced at 0. */
export interface SpendReport {
  /** Per provider per UTC day, the last SPEND_DAYS days up to the report's end. */
  days: DailySpend[];
  /** The UTC calendar month the report ends in, so far, and projected to its end at the pace so far. */
  month: {
    /** YYYY-MM. */
    month: string;
    spent_usd: number;
    projected_usd: number;
    unpriced_calls: number;
    providers: Array<{ provider: string; spent_usd: number; projected_usd: number; unpriced_calls: number }>;
  };
  daily_budget_usd: number | null;
}

export interface HealthReport {
  generated_at: Date;
  window: TimeWindow & { days: number };
  baseline: TimeWindow;
  sweep_period_minutes: number;
  stale_after_minutes: number;
  totals: { successes: number; errors: number; error_rate: number | null };
  providers: ProviderHealth[];
  /** Per provider and kind, most first. */
  errors_by_kind: KindCount[];
  /** Every (provider, model) with an error in the window, most errors first. */
  failing_models: ModelErrorSummary[];
  /** Models whose every call in the window failed. */
  only_errors: ModelErrorSummary[];
  new_fingerprints: FingerprintSummary[];
  stale_models: StaleModel[];
  regressions: SpeedRegression[];
  sparklines: ProviderSparkline[];
  suggested_commands: SuggestedCommand[];
  /** Optional so reports built before SPEC 17 (and test fixtures) still type-check. */
  spend?: SpendReport;
  /** TinyFish automation runs in the window, per (automation, scenario): success rate, p50/p95 duration, failures. */
  agent_runs?: AgentRunStats[];
  /** Models sweeps did not start in the window because of BENCH_DAILY_BUDGET_USD (SPEC 17), most skipped first. */
  budget_skips?: BudgetSkip[];
  /** Outputs a sweep could not write (its status site, its Prometheus textfile), from the same records. */
  output_failures?: BudgetSkip[];
  /** SPEC 20: the store's size, its growth and where it will be in a year, as lines for the mail. */
  storage?: { footprint: StoreFootprint; lines: string[] };
  /** SPEC 18: rows in the window their evidence left out of the published numbers, per model. */
  marked_rows?: MarkedRuns[];
  /** SPEC 18: catalog ids whose provider started answering with another model in the window. */
  model_changes?: ModelChange[];
  /** SPEC 18: providers whose key had at most NEAR_LIMIT_SHARE of its requests or tokens budget left. */
  near_limit?: NearLimit[];
  /** SPEC 18: the runner's own added delay over the window's sweeps, and each lane host's connection timings. */
  runner?: RunnerSummary;
}

/**
 * A key is near its limit when an answer's headers leave at most a tenth of its requests or
 * tokens budget: one sweep's burst on a lane (a few calls) can then exhaust it.
 */
export const NEAR_LIMIT_SHARE = 0.1;
/** Sweeps the Runner section reads at most: a week of a 30-minute timer. */
const SWEEPS_CAP = 336;

/** A catalog id served by a new model since a time in the window, against the one before it. */
export interface ModelChange {
  provider: string;
  model_name: string;
  served_model: string;
  since: Date;
  previous_model: string;
  /** Median tokens/s of the previous model's rows (over the window and its baseline) and of the new one's. */
  tokens_per_second_before: number | null;
  tokens_per_second_after: number | null;
}

/**
 * The model swaps in a window: per catalog id, the served model first seen last, when that was
 * inside the window and another model answered before it. `served` is ordered by provider,
 * model and first seen (what servedModels returns), over the window and its baseline.
 */
export function findModelChanges(served: ServedModel[], window: TimeWindow): ModelChange[] {
  const byModel = new Map<string, ServedModel[]>();
  for (const s of served) {
    const k = modelKey(s.provider, s.model_name);
    (byModel.get(k) ?? byModel.set(k, []).get(k)!).push(s);
  }
  const out: ModelChange[] = [];
  for (const list of byModel.values()) {
    const newest = list.reduce((a, b) => (b.first_seen > a.first_seen ? b : a));
    if (newest.first_seen < window.since) continue;
    const before = list.filter((s) => s !== newest);
    if (before.length === 0) continue;
    const previous = before.reduce((a, b) => (b.last_seen > a.last_seen ? b : a));
    out.push({
      provider: newest.provider,
      model_name: newest.model_name,
      served_model: newest.served_model,
      since: newest.first_seen,
      previous_model: previous.served_model,
      tokens_per_second_before: previous.median_tokens_per_second,
      tokens_per_second_after: newest.median_tokens_per_second,
    });
  }
  return out;
}

/** One (provider, model, scenario) the daily budget kept from starting in the window. */
export interface BudgetSkip {
  provider: string;
  model_id: string;
  scenario_id: string;
  /** Sweeps that skipped it. */
  skips: number;
  last_skipped_at: Date;
  /** Why, the last time (the worst case against the day's spend, or an unknown price). */
  last_reason: string;
}

/** More skip records than this in one window are not read (one per model per sweep: 48 sweeps a day). */
const BUDGET_SKIPS_CAP = 50_000;

/** Skip records grouped per (provider, model, scenario), most skipped first. */
export function summarizeBudgetSkips(skips: SweepSkipDoc[]): BudgetSkip[] {
  const groups = new Map<string, BudgetSkip>();
  for (const s of skips) {
    const k = `${modelKey(s.provider, s.model_id)}\u0000${s.scenario_id}`;
    const g = groups.get(k);
    if (!g) {
      groups.set(k, { provider: s.provider, model_id: s.model_id, scenario_id: s.scenario_id, skips: 1, last_skipped_at: s.skipped_at, last_reason: s.reason });
      continue;
    }
    g.skips += 1;
    if (s.skipped_at > g.last_skipped_at) Object.assign(g, { last_skipped_at: s.skipped_at, last_reason: s.reason });
  }
  return [...groups.values()].sort((a, b) => b.skips - a.skips || byModel(a, b) || a.scenario_id.localeCompare(b.scenario_id));
}

/** More agent runs than this in one window are not summed (a run lasts minutes: a day holds a few hundred). */
const AGENT_RUNS_CAP = 100_000;

/**
 * Collects every section of the daily report from the store.
 * @throws whatever the store throws (e.g. StoreError when it is unreachable).
 */
export async function collectHealthReport(store: Store, options: HealthReportOptions): Promise<HealthReport> {
  const days = options.days ?? 1;
  if (!(days > 0)) throw new RangeError(`days must be positive (got ${days})`);
  const until = options.now;
  const window: TimeWindow = { since: new Date(until.getTime() - days * DAY_MS), until };
  const baseline: TimeWindow = { since: new Date(window.since.getTime() - BASELINE_DAYS * DAY_MS), until: window.since };
  const lastDay = utcDayStart(new Date(until.getTime() - 1));
  const sparkWindow: TimeWindow = { since: new Date(lastDay - (SPARKLINE_DAYS - 1) * DAY_MS), until };
  const staleAfterMinutes = STALE_SWEEP_PERIODS * options.sweepPeriodMinutes;

  // Sequential on purpose: SQLite answers synchronously anyway, and a Mongo server is
  // spared a burst of parallel aggregations from a once-a-day job.
  const counts = await store.countsByProvider(window);
  const errorsByKind = await store.errorsByKind(window);
  const failing = await store.errorsByModel(window);
  const fingerprints = await store.newFingerprints(window);
  const current = await store.metricSamples(window);
  const previous = await store.metricSamples(baseline);
  const daily = await store.dailyMedians(sparkWindow);
  const models = await store.listModels({ benchmarkedOnly: true });
  const lastSuccess = new Map((await store.lastSuccesses()).map((s) => [modelKey(s.provider, s.model_name), s.ts]));
  const spend = await collectSpend(store, { until, dailyBudgetUsd: options.dailyBudgetUsd ?? null });
  const agentRuns = await store.recentAgentRuns({ since: window.since, until, limit: AGENT_RUNS_CAP, withoutResult: true });
  const budgetSkips = await store.sweepSkips(window, BUDGET_SKIPS_CAP);
  const footprint = await store.storeFootprint(until);
  const marked = await store.markedRuns(window);
  const served = await store.servedModels({ since: baseline.since, until });
  const nearLimit = await store.nearLimit(window, NEAR_LIMIT_SHARE);
  const sweeps = await store.benchSweeps(window, SWEEPS_CAP);
  const retention = options.retention ?? { gapsDays: null, rowsDays: null, includeDashboard: false };

  const providers = counts.map((c) => ({ ...c, error_rate: rate(c.errors, c.successes) }));
  const successes = sum(providers.map((p) => p.successes));
  const errors = sum(providers.map((p) => p.errors));

  const staleBefore = until.getTime() - staleAfterMinutes * 60_000;
  const stale: StaleModel[] = [];
  for (const m of models) {
    // Automations are due by their agent scenario's interval (hours), not every sweep: their
    // health is the agent runs section.
    if (m.provider === 'tinyfish') continue;
    // A provider with no adapter here (upstream's anyscale, azure, …) is never benchmarked, so
    // never stale: `models list` shows it as such.
    if (!isProviderName(m.provider)) continue;
    const last = lastSuccess.get(modelKey(m.provider, m.model_id)) ?? null;
    // A model never run but added within the last three periods has not had its chance yet.
    // Rows added upstream by mongosh may lack created_at: those count as old.
    const addedAt = m.created_at instanceof Date ? m.created_at.getTime() : 0;
    if (last ? last.getTime() >= staleBefore : addedAt >= staleBefore) continue;
    stale.push({ provider: m.provider, model_id: m.model_id, last_success: last });
  }
  stale.sort((a, b) => (a.last_success?.getTime() ?? 0) - (b.last_success?.getTime() ?? 0) || byModel(a, b));

  const onlyErrors = failing.filter((f) => f.successes === 0);
  const benchmarked = new Set(models.map((m) => modelKey(m.provider, m.model_id)));

  return {
    generated_at: until,
    window: { ...window, days },
    baseline,
    sweep_period_minutes: options.sweepPeriodMinutes,
    stale_after_minutes: staleAfterMinutes,
    totals: { successes, errors, error_rate: rate(errors, successes) },
    providers,
    errors_by_kind: errorsByKind,
    failing_models: failing,
    only_errors: onlyErrors,
    new_fingerprints: fingerprints,
    stale_models: stale,
    regressions: findRegressions(current, previous, options.regression),
    sparklines: buildSparklines(daily, {
      providers: providers.map((p) => p.provider),
      days: Array.from({ length: SPARKLINE_DAYS }, (_, i) => isoDay(lastDay - (SPARKLINE_DAYS - 1 - i) * DAY_MS)),
    }),
    suggested_commands: suggestCommands(onlyErrors, { benchmarked, since: window.since }),
    spend,
    agent_runs: summarizeAgentRuns(agentRuns),
    budget_skips: summarizeBudgetSkips(budgetSkips.filter((s) => s.provider !== SWEEP_OUTPUT_PROVIDER)),
    output_failures: summarizeBudgetSkips(budgetSkips.filter((s) => s.provider === SWEEP_OUTPUT_PROVIDER)),
    storage: { footprint, lines: footprintLines(footprint, { kind: store.kind, location: store.location, retention }) },
    marked_rows: marked,
    model_changes: findModelChanges(served, window),
    near_limit: nearLimit,
    runner: summarizeSweeps(sweeps),
  };
}

/**
 * Spend per provider per day (the last SPEND_DAYS days), the month so far and its projection:
 * the month's spend scaled from the time elapsed to the whole month. One query covers both.
 * @throws what the store throws.
 */
export async function collectSpend(store: Pick<Store, 'spendByDay'>, o: { until: Date; dailyBudgetUsd: number | null }): Promise<SpendReport> {
  const end = new Date(o.until.getTime() - 1);
  const monthStart = Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), 1);
  const monthEnd = Date.UTC(end.getUTCFullYear(), end.getUTCMonth() + 1, 1);
  const daysStart = utcDayStart(end) - (SPEND_DAYS - 1) * DAY_MS;
  const rows = await store.spendByDay({ since: new Date(Math.min(monthStart, daysStart)), until: o.until });
  const scale = (monthEnd - monthStart) / Math.max(1, o.until.getTime() - monthStart);
  const providers = new Map<string, { provider: string; spent_usd: number; projected_usd: number; unpriced_calls: number }>();
  for (const r of rows) {
    if (Date.parse(`${r.day}T00:00:00Z`) < monthStart) continue;
    const p = providers.get(r.provider) ?? { provider: r.provider, spent_usd: 0, projected_usd: 0, unpriced_calls: 0 };
    p.spent_usd += r.cost_usd;
    p.unpriced_calls += r.unpriced_calls;
    providers.set(r.provider, p);
  }
  for (const p of providers.values()) p.projected_usd = p.spent_usd * scale;
  const all = [...providers.values()].sort((a, b) => a.provider.localeCompare(b.provider));
  return {
    days: rows.filter((r) => Date.parse(`${r.day}T00:00:00Z`) >= daysStart),
    month: {
      month: isoDay(monthStart).slice(0, 7),
      spent_usd: sum(all.map((p) => p.spent_usd)),
      projected_usd: sum(all.map((p) => p.projected_usd)),
      unpriced_calls: sum(all.map((p) => p.unpriced_calls)),
      providers: all,
    },
    daily_budget_usd: o.dailyBudgetUsd,
  };
}

/** Compares each model's window samples with its baseline samples; the flagged ones, worst first. */
export function findRegressions(current: MetricSamples[], baseline: MetricSamples[], options: RegressionOptions = {}): SpeedRegression[] {
  const before = new Map(baseline.map((b) => [modelKey(b.provider, b.model_name), b]));
  const flagged: SpeedRegression[] = [];
  for (const now of current) {
    const then = before.get(modelKey(now.provider, now.model_name));
    if (!then) continue;
    for (const metric of ['tokens_per_second', 'time_to_first_token'] as const) {
      const c = compareSpeed(metric, { current: now[metric], baseline: then[metric] }, options);
      if (!c?.regressed) continue;
      flagged.push({
        provider: now.provider,
        model_name: now.model_name,
        metric,
        baseline_median: c.baselineMedian,
        current_median: c.currentMedian,
        worse_pct: c.worsePct,
        current_samples: c.currentN,
        baseline_samples: c.baselineN,
        p_value: c.pValue,
      });
    }
  }
  return flagged.sort((a, b) => b.worse_pct - a.worse_pct || byModel(a, b));
}

/**
 * A sparkline of values, one block per value scaled from 0 to the largest (so a 30% drop
 * looks like a 30% drop, not like a fall to the floor); null is a gap (a space).
 */
export function sparkline(values: ReadonlyArray<number | null>): string {
  const max = Math.max(0, ...values.filter((v): v is number => v !== null && Number.isFinite(v)));
  return values
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      if (max <= 0) return SPARK_BLOCKS[0];
      const level = Math.min(SPARK_BLOCKS.length - 1, Math.max(0, Math.ceil((v / max) * SPARK_BLOCKS.length) - 1));
      return SPARK_BLOCKS[level];
    })
    .join('');
}

function buildSparklines(
  daily: Array<{ provider: string; day: string; median_tokens_per_second: number; count: number }>,
  frame: { providers: string[]; days: string[] },
): ProviderSparkline[] {
  const names = [...new Set([...frame.providers, ...daily.map((d) => d.provider)])].sort();
  return names.map((provider) => {
    const byDay = new Map(daily.filter((d) => d.provider === provider).map((d) => [d.day, d]));
    const days = frame.days.map((day) => {
      const d = byDay.get(day);
      return { day, median_tokens_per_second: d ? d.median_tokens_per_second : null, count: d?.count ?? 0 };
    });
    return { provider, days, sparkline: sparkline(days.map((d) => d.median_tokens_per_second)) };
  });
}

/**
 * Copy-paste commands for what the report shows: a model whose every call in the window
 * failed, and only with hard_model errors (404, retired, "end of its life"), is a candidate
 * for `models.ts disable`. Mixed failures (rate limits, timeouts) are left to a person.
 */
export function suggestCommands(onlyErrors: ModelErrorSummary[], context: { benchmarked: Set<string>; since: Date }): SuggestedCommand[] {
  const out: SuggestedCommand[] = [];
  for (const m of onlyErrors) {
    const kinds = Object.keys(m.error_kinds) as ErrorKind[];
    if (kinds.length !== 1 || kinds[0] !== 'hard_model') continue;
    if (!context.benchmarked.has(modelKey(m.provider, m.model_name))) continue;
    const reason = `hard_model errors only since ${isoDay(context.since.getTime())}: ${truncate(redact(m.last_message), 120)}`;
    out.push({
      command: ['npm', 'run', 'models', '--', 'disable', m.provider, m.model_name, '--reason', reason].map(shellQuote).join(' '),
      why: `${m.provider}/${m.model_name}: ${m.errors} hard_model error${m.errors === 1 ? '' : 's'} and no success in the window`,
    });
  }
  return out;
}

/** Quotes a word for a POSIX shell: safe words as they are, anything else in single quotes. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:@%+=,-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface UnitFailure {
  unit: string;
  host: string;
  /** The unit's latest journal lines; empty when the journal could not be read. */
  journal: string[];
  /** Why there are no journal lines, when there are none. */
  journal_note: string | null;
}

export type RunCommand = (file: string, args: string[]) => Promise<{ stdout: string; stderr?: string }>;

/** systemd unit names: letters, digits and ":-_.\@", with a type suffix. */
export function isUnitName(unit: string): boolean {
  return /^[A-Za-z0-9:_.\\@-]+\.(service|timer|socket|target|mount|path|scope|slice)$/.test(unit);
}

/**
 * Reads a failed unit's last 50 journal lines for the failure mail. Never throws: when
 * journalctl is missing or fails (no journal on this machine, no permission), the note says
 * why and the mail goes out without the lines.
 */
export async function collectUnitFailure(unit: string, options: { host: string; run?: RunCommand }): Promise<UnitFailure> {
  const run = options.run ?? runCommand;
  try {
    const { stdout, stderr } = await run('journalctl', ['-u', unit, '-n', '50', '--no-pager']);
    const lines = stdout.split('\n').filter((l) => l.trim() !== '');
    // journalctl prints "-- No entries --" (exit 0) when it has nothing for the unit.
    const entries = lines.filter((l) => !/^-- (No entries|Journal begins|Logs begin)/.test(l));
    return {
      unit,
      host: options.host,
      journal: entries.map(redact),
      journal_note: entries.length === 0 ? `journalctl -u ${unit} returned no entries${stderr?.trim() ? ` (${redact(oneLine(stderr))})` : ''}` : null,
    };
  } catch (err) {
    const e = err as { message?: string; stderr?: string; code?: unknown };
    const why = e.code === 'ENOENT' ? 'journalctl is not installed' : oneLine(String(e.stderr || e.message || err));
    return { unit, host: options.host, journal: [], journal_note: `journal unavailable: ${redact(why)}` };
  }
}

function runCommand(file: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 15_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve({ stdout, stderr });
    });
  });
}

function modelKey(provider: string, model: string): string {
  return `${provider}\u0000${model}`;
}

function byModel(a: { provider: string; model_name?: string; model_id?: string }, b: typeof a): number {
  return a.provider.localeCompare(b.provider) || (a.model_name ?? a.model_id ?? '').localeCompare(b.model_name ?? b.model_id ?? '');
}

function rate(errors: number, successes: number): number | null {
  const total = errors + successes;
  return total === 0 ? null : errors / total;
}

function sum(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function utcDayStart(d: Date): number {
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
}

function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function truncate(s: string, n: number): string {
  const one = oneLine(s);
  return one.length <= n ? one : `${one.slice(0, n - 1)}…`;
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
