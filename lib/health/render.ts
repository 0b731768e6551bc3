// The daily health mail (SPEC 10) as plain text and HTML, and the unit-failure mail.
// Subject tags: critical → [CRITICAL] (act now: a provider or key is down), warning →
// [URGENT] (look today: regressions, stale or failing models, new errors), healthy → [INFO].
import { SATURATED_LAG_MS, SPEED_WAIT_SHARE } from '../bench/loop-lag.ts';
import { plural } from '../plural.ts';
import { runnerLines } from '../runs/sweeps.ts';
import type { MarkedRuns } from '../store/store.ts';
import type { Assessment, OverallStatus } from './assessment.ts';
import { NEAR_LIMIT_SHARE, SPEND_DAYS, type HealthReport, type SpendReport, type UnitFailure } from './report.ts';

export const SUBJECT_TAGS: Record<OverallStatus, string> = {
  critical: '[CRITICAL]',
  warning: '[URGENT]',
  healthy: '[INFO]',
};

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

// Long lists are cut in the mail (the full lists are in --json).
const CAPS = { failing: 25, onlyErrors: 100, fingerprints: 50, stale: 100, regressions: 100, budgetSkips: 100 } as const;
const METRIC_LABEL = { tokens_per_second: 'tokens/s', time_to_first_token: 'TTFT' } as const;

export function healthSubject(status: OverallStatus, date: Date): string {
  return `${SUBJECT_TAGS[status]} llm-bench health ${date.toISOString().slice(0, 10)}`;
}

export function renderHealthMail(report: HealthReport, assessment: Assessment): RenderedMail {
  return {
    subject: healthSubject(assessment.overall_status, report.generated_at),
    text: renderHealthText(report, assessment),
    html: renderHealthHtml(report, assessment),
  };
}

/** A report section: a title and its rows, each row a list of cells (text) or a line. */
interface Section {
  title: string;
  /** Column headers for a table; absent for a list of lines. */
  columns?: string[];
  rows: string[][];
  /** Shown when there are no rows. */
  empty: string;
  more?: number;
  /** Rows to show preformatted (commands, sparklines). */
  mono?: boolean;
}

function sections(report: HealthReport, assessment: Assessment): Section[] {
  const out: Section[] = [];
  const a = assessment;
  const assessmentRows: string[][] = [];
  if (a.source === 'llm') assessmentRows.push([`Assessment by ${a.model}: ${a.overall_status}`]);
  else assessmentRows.push([`LLM assessment missing: ${a.missing_reason}.`]);
  assessmentRows.push([a.summary]);
  for (const p of a.provider_issues) assessmentRows.push([`Provider issue, ${p.provider}: ${p.issue}`]);
  for (const m of a.models_likely_deprecated) assessmentRows.push([`Likely deprecated, ${m.provider}/${m.model}: ${m.reason}`]);
  for (const f of a.code_fixes_needed) assessmentRows.push([`Code fix needed: ${f}`]);
  const commands = new Set(report.suggested_commands.map((c) => c.command));
  for (const r of a.recommended_actions) if (!commands.has(r)) assessmentRows.push([`Recommended: ${r}`]);
  if (a.source === 'llm' && a.rules.status !== a.overall_status) {
    assessmentRows.push([`(Rules alone would say ${a.rules.status}: ${a.rules.reasons.join('; ') || 'nothing to report'}.)`]);
  }
  out.push({ title: 'Assessment', rows: assessmentRows, empty: '' });
  // The sweep ran and stored its results, but what people look at (the site, Prometheus) is stale.
  if (report.output_failures?.length) {
    out.push({
      title: 'Sweep outputs not written',
      columns: ['output', 'sweeps', 'last', 'why'],
      rows: report.output_failures.map((f) => [f.model_id, String(f.skips), time(f.last_skipped_at), clip(f.last_reason, 240)]),
      empty: 'none',
    });
  }

  out.push({
    title: 'Suggested commands',
    rows: report.suggested_commands.flatMap((c) => [[`# ${c.why}`], [c.command]]),
    empty: 'none',
    mono: true,
  });

  out.push({
    title: 'Successes and errors per provider',
    columns: ['provider', 'successes', 'errors', 'error rate'],
    rows: [
      ...report.providers.map((p) => [p.provider, String(p.successes), String(p.errors), pct(p.error_rate)]),
      ...(report.providers.length > 1
        ? [['all', String(report.totals.successes), String(report.totals.errors), pct(report.totals.error_rate)]]
        : []),
    ],
    empty: 'no calls recorded in the window',
  });

  const kinds = new Map<string, { total: number; parts: string[] }>();
  for (const k of report.errors_by_kind) {
    const e = kinds.get(k.error_kind) ?? { total: 0, parts: [] };
    e.total += k.count;
    e.parts.push(`${k.provider} ${k.count}`);
    kinds.set(k.error_kind, e);
  }
  out.push({
    title: 'Errors by kind',
    columns: ['kind', 'errors', 'by provider'],
    rows: [...kinds.entries()].sort((x, y) => y[1].total - x[1].total).map(([kind, e]) => [kind, String(e.total), e.parts.join(', ')]),
    empty: 'none',
  });

  out.push({
    title: 'Most failing models',
    columns: ['model', 'errors', 'successes', 'last error'],
    rows: report.failing_models
      .slice(0, CAPS.failing)
      .map((m) => [`${m.provider}/${m.model_name}`, String(m.errors), String(m.successes), `${time(m.last_error_ts)} ${m.last_stage}/${m.last_error_kind}: ${clip(m.last_message)}`]),
    empty: 'none',
    more: report.failing_models.length - CAPS.failing,
  });

  out.push({
    title: 'Models with only errors',
    columns: ['model', 'errors', 'kinds', 'last message'],
    rows: report.only_errors.slice(0, CAPS.onlyErrors).map((m) => [
      `${m.provider}/${m.model_name}`,
      String(m.errors),
      Object.entries(m.error_kinds)
        .map(([k, n]) => `${k} ${n}`)
        .join(', '),
      clip(m.last_message),
    ]),
    empty: 'none',
    more: report.only_errors.length - CAPS.onlyErrors,
  });

  out.push({
    title: 'New error fingerprints (first seen in the window)',
    columns: ['model', 'stage/kind', 'count', 'first seen', 'message'],
    rows: report.new_fingerprints
      .slice(0, CAPS.fingerprints)
      .map((f) => [`${f.provider}/${f.model_name}`, `${f.stage}/${f.error_kind}`, String(f.count), time(f.first_seen), clip(f.sample_message)]),
    empty: 'none',
    more: report.new_fingerprints.length - CAPS.fingerprints,
  });

  out.push({
    title: `Stale models (enabled, no success for more than ${report.stale_after_minutes} min)`,
    columns: ['model', 'last success'],
    rows: report.stale_models
      .slice(0, CAPS.stale)
      .map((s) => [`${s.provider}/${s.model_id}`, s.last_success ? `${time(s.last_success)} (${ago(report.generated_at, s.last_success)} ago)` : 'never']),
    empty: 'none',
    more: report.stale_models.length - CAPS.stale,
  });

  out.push({
    title: `Speed regressions (window against the previous 7 days)`,
    columns: ['model', 'metric', 'now', 'before', 'worse by', 'samples', 'p'],
    rows: report.regressions.slice(0, CAPS.regressions).map((r) => [
      `${r.provider}/${r.model_name}`,
      METRIC_LABEL[r.metric],
      metricValue(r.metric, r.current_median),
      metricValue(r.metric, r.baseline_median),
      `${Math.round(r.worse_pct)}%`,
      `${r.current_samples} vs ${r.baseline_samples}`,
      r.p_value < 0.0001 ? '<0.0001' : r.p_value.toFixed(4),
    ]),
    empty: 'none',
    more: report.regressions.length - CAPS.regressions,
  });

  const first = report.sparklines[0]?.days[0]?.day;
  const last = report.sparklines[0]?.days.at(-1)?.day;
  out.push({
    title: `Median tokens/s per provider by day${first && last ? ` (${first} to ${last}, a gap is a day without data)` : ''}`,
    columns: ['provider', 'days', 'latest', 'range'],
    rows: report.sparklines.map((s) => {
      const values = s.days.map((d) => d.median_tokens_per_second).filter((v): v is number => v !== null);
      const latest = s.days.findLast((d) => d.median_tokens_per_second !== null);
      return [
        s.provider,
        s.sparkline,
        latest ? `${num(latest.median_tokens_per_second!)} (${latest.day.slice(5)})` : '-',
        values.length ? `${num(Math.min(...values))} to ${num(Math.max(...values))}` : '-',
      ];
    }),
    empty: 'no data',
    mono: true,
  });
  if (report.spend) out.push(...spendSections(report.spend, report.generated_at));
  if (report.storage) out.push({ title: 'Storage', rows: report.storage.lines.map((l) => [l]), empty: '' });
  const skipSection = budgetSkipSection(report);
  if (skipSection) out.push(skipSection);
  const cacheSection = cacheHitSection(report);
  if (cacheSection) out.push(cacheSection);
  const saturated = saturatedSection(report);
  if (saturated) out.push(saturated);
  if (report.near_limit?.length) {
    out.push({
      title: `Keys near their rate limit (at most ${NEAR_LIMIT_SHARE * 100} % of requests or tokens left)`,
      columns: ['provider', 'calls', 'lowest left', 'last'],
      rows: report.near_limit.map((n) => [n.provider, String(n.rows), pct(n.lowest_share), time(n.last_at)]),
      empty: 'none',
    });
  }
  if (report.model_changes?.length) {
    const tps = (v: number | null) => (v === null ? '-' : num(v));
    out.push({
      title: 'Models now served by another model (the provider says so in its responses)',
      rows: report.model_changes.map((c) => [
        `${c.provider}/${c.model_name} served by ${c.served_model} since ${time(c.since)} (before: ${c.previous_model}); tokens/s ${tps(c.tokens_per_second_before)} before, ${tps(c.tokens_per_second_after)} after`,
      ]),
      empty: 'none',
    });
  }

  // SPEC 18: the runner's own share of the numbers and the way to each provider.
  const runner = report.runner ? runnerLines(report.runner) : [];
  if (runner.length) out.push({ title: 'Runner', rows: runner.map((l) => [l]), empty: '' });

  if (report.agent_runs?.length) {
    const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
    out.push({
      title: 'TinyFish agent runs',
      columns: ['automation', 'scenario', 'runs', 'ok', 'p50', 'p95', 'failures', 'last failure'],
      rows: report.agent_runs.map((r) => [
        `tinyfish/${r.automation}${r.mock ? ' (mock)' : ''}`,
        r.scenario_id,
        String(r.runs),
        pct(r.success_rate),
        secs(r.p50_duration_ms),
        secs(r.p95_duration_ms),
        Object.entries(r.failures_by_kind).map(([k, n]) => `${k} ${n}`).join(', ') || '-',
        r.last_failure ? `${time(r.last_failure.at)} ${clip(r.last_failure.message)}` : '-',
      ]),
      empty: 'none',
    });
  }
  return out;
}

/** SPEC 17: spend per provider per day, then the month so far and its projection. */
function spendSections(spend: SpendReport, generatedAt: Date): Section[] {
  const lastDay = Date.parse(`${new Date(generatedAt.getTime() - 1).toISOString().slice(0, 10)}T00:00:00Z`);
  const days = Array.from({ length: SPEND_DAYS }, (_, i) => new Date(lastDay - (SPEND_DAYS - 1 - i) * 86_400_000).toISOString().slice(0, 10));
  const providers = [...new Set(spend.days.map((d) => d.provider))].sort();
  const cell = (provider: string | null, day: string) => {
    const rows = spend.days.filter((d) => d.day === day && (provider === null || d.provider === provider));
    return rows.length ? usd(rows.reduce((a, r) => a + r.cost_usd, 0)) : '-';
  };
  const budget = spend.daily_budget_usd;
  const byDay: Section = {
    title: `Spend per provider by day (USD, UTC days${budget !== null ? `; BENCH_DAILY_BUDGET_USD=${budget}` : ''})`,
    columns: ['provider', ...days.map((d) => d.slice(5))],
    rows: [
      ...providers.map((p) => [p, ...days.map((d) => cell(p, d))]),
      ...(providers.length > 1 ? [['all', ...days.map((d) => cell(null, d))]] : []),
    ],
    empty: 'no calls recorded in these days',
  };
  const m = spend.month;
  const unpriced = spend.days.reduce((a, r) => a + r.unpriced_calls, 0);
  const lines = [
    [`${m.month} so far: ${usd(m.spent_usd)}, projected ${usd(m.projected_usd)} for the month at this pace.`],
    ...m.providers.map((p) => [`  ${p.provider}: ${usd(p.spent_usd)} so far, projected ${usd(p.projected_usd)}`]),
  ];
  if (m.unpriced_calls > 0 || unpriced > 0) {
    lines.push([
      `${plural(m.unpriced_calls, 'successful call')} this month ${m.unpriced_calls === 1 ? 'has' : 'have'} no known cost (no price: set misc.price or run discovery) and ${m.unpriced_calls === 1 ? 'is' : 'are'} not in these figures.`,
    ]);
  }
  return [byDay, { title: 'Spend this month', rows: lines, empty: '' }];
}

/**
 * SPEC 17: the models the daily budget kept from starting, beside the day's spend against the
 * budget. Shown when a budget is set or anything was skipped (a budget removed since still
 * explains the window's gaps).
 */
function budgetSkipSection(report: HealthReport): Section | null {
  const skips = report.budget_skips ?? [];
  const budget = report.spend?.daily_budget_usd ?? null;
  if (budget === null && skips.length === 0) return null;
  let title = 'Skipped for the daily budget';
  if (budget !== null) {
    const today = new Date(report.generated_at.getTime() - 1).toISOString().slice(0, 10);
    const spent = (report.spend?.days ?? []).filter((d) => d.day === today).reduce((a, d) => a + d.cost_usd, 0);
    title += ` (BENCH_DAILY_BUDGET_USD=${budget}; spent today ${usd(spent)} of $${budget})`;
  }
  return {
    title,
    columns: ['model', 'scenario', 'sweeps', 'last skipped', 'why'],
    rows: skips
      .slice(0, CAPS.budgetSkips)
      .map((s) => [`${s.provider}/${s.model_id}`, s.scenario_id, String(s.skips), time(s.last_skipped_at), clip(s.last_reason, 240)]),
    empty: 'none',
    more: skips.length - CAPS.budgetSkips,
  };
}

/**
 * SPEC 18: providers that served a cached prefix despite a cache-defeating nonce; their rows
 * are kept but left out of the KPIs, the site and regression tests. Shown only when any did.
 */
function cacheHitSection(report: HealthReport): Section | null {
  const hits = (report.marked_rows ?? []).filter((m) => m.cache_hits > 0);
  if (hits.length === 0) return null;
  const providers = [...new Set(hits.map((m) => m.provider))];
  return {
    title: `Served cached prefixes (${providers.join(', ')}): rows left out of the published numbers`,
    columns: ['model', 'cache hits'],
    rows: hits.map((m) => [`${m.provider}/${m.model_name}`, String(m.cache_hits)]),
    empty: 'none',
  };
}

/**
 * SPEC 18: rows whose chunks the runner itself may have read late by more than their figures allow, per
 * lane (a provider's calls run in its own lane), with the models: kept, but left out of the
 * published numbers. Shown only when any were.
 */
function saturatedSection(report: HealthReport): Section | null {
  const marked = (report.marked_rows ?? []).filter((m) => m.saturated > 0);
  if (marked.length === 0) return null;
  const lanes = new Map<string, MarkedRuns[]>();
  for (const m of marked) lanes.set(m.provider, [...(lanes.get(m.provider) ?? []), m]);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const total = sum(marked.map((m) => m.saturated));
  return {
    title:
      `Measured while the runner was saturated: ${plural(total, 'row')} on ${plural(lanes.size, 'lane')} (${[...lanes.keys()].join(', ')}), ` +
      `their figures possibly read late by the runner itself, by more than TTFT's ${SATURATED_LAG_MS} ms or the speeds' ${SPEED_WAIT_SHARE * 100} % allow; left out of the published numbers`,
    columns: ['lane', 'rows', 'models'],
    rows: [...lanes].map(([provider, ms]) => [
      provider,
      String(sum(ms.map((m) => m.saturated))),
      ms.map((m) => `${m.model_name} (${m.saturated})`).join(', '),
    ]),
    empty: 'none',
  };
}

function usd(x: number): string {
  return x === 0 ? '$0' : x >= 1 ? `$${x.toFixed(2)}` : `$${x.toFixed(4)}`;
}

export function renderHealthText(report: HealthReport, assessment: Assessment): string {
  const lines = [
    `llm-bench health ${report.generated_at.toISOString().slice(0, 10)}: ${assessment.overall_status.toUpperCase()}`,
    `Window ${time(report.window.since)} to ${time(report.window.until)} (${plural(report.window.days, 'day')}), ${plural(report.totals.successes, 'success', 'successes')}, ${plural(report.totals.errors, 'error')}.`,
  ];
  for (const s of sections(report, assessment)) {
    lines.push('', s.title, '-'.repeat(Math.min(s.title.length, 72)));
    if (s.rows.length === 0) lines.push(`  ${s.empty}`);
    else if (s.columns) lines.push(...textTable(s.columns, s.rows));
    else lines.push(...s.rows.map((r) => `  ${r.join(' ')}`));
    if (s.more && s.more > 0) lines.push(`  … and ${s.more} more (run with --json for all)`);
  }
  return `${lines.join('\n')}\n`;
}

function textTable(columns: string[], rows: string[][]): string[] {
  // The last column is free text: pad the others to their widest cell.
  const widths = columns.map((c, i) => Math.max(width(c), ...rows.map((r) => width(r[i] ?? ''))));
  const line = (cells: string[]) =>
    `  ${cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - width(c)))).join('  ')}`.trimEnd();
  return [line(columns), ...rows.map(line)];
}

// Code points, so the sparkline blocks count one column each.
function width(s: string): number {
  return [...s].length;
}

export function renderHealthHtml(report: HealthReport, assessment: Assessment): string {
  const color = { critical: '#b00020', warning: '#b35c00', healthy: '#1b5e20' }[assessment.overall_status];
  const parts = [
    '<!doctype html><html><head><meta charset="utf-8"><title>llm-bench health</title></head>',
    '<body style="font-family:system-ui,sans-serif;font-size:14px;color:#222">',
    `<h2 style="margin:0 0 4px">llm-bench health ${esc(report.generated_at.toISOString().slice(0, 10))}: <span style="color:${color}">${esc(assessment.overall_status.toUpperCase())}</span></h2>`,
    `<p style="margin:0 0 12px">Window ${esc(time(report.window.since))} to ${esc(time(report.window.until))} (${plural(report.window.days, 'day')}), ${plural(report.totals.successes, 'success', 'successes')}, ${plural(report.totals.errors, 'error')}.</p>`,
  ];
  const cell = 'style="padding:2px 8px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top"';
  for (const s of sections(report, assessment)) {
    parts.push(`<h3 style="margin:16px 0 4px">${esc(s.title)}</h3>`);
    if (s.rows.length === 0) {
      parts.push(`<p style="color:#666;margin:0">${esc(s.empty)}</p>`);
    } else if (s.columns) {
      const td = (c: string, i: number) =>
        `<td ${cell}>${s.mono && i === 1 ? `<span style="font-family:monospace;white-space:pre;font-size:16px">${esc(c)}</span>` : esc(c)}</td>`;
      parts.push(
        '<table style="border-collapse:collapse">',
        `<tr>${s.columns.map((c) => `<th ${cell}>${esc(c)}</th>`).join('')}</tr>`,
        ...s.rows.map((r) => `<tr>${r.map(td).join('')}</tr>`),
        '</table>',
      );
    } else if (s.mono) {
      parts.push(`<pre style="background:#f6f6f6;padding:8px;white-space:pre-wrap">${esc(s.rows.map((r) => r.join(' ')).join('\n'))}</pre>`);
    } else {
      parts.push(...s.rows.map((r) => `<p style="margin:0 0 6px">${esc(r.join(' '))}</p>`));
    }
    if (s.more && s.more > 0) parts.push(`<p style="color:#666;margin:4px 0">… and ${s.more} more (run with --json for all)</p>`);
  }
  parts.push('</body></html>');
  return `${parts.join('\n')}\n`;
}

/** The mail the systemd failure notifier sends: `[CRITICAL] <host> <unit> failed`. */
export function renderUnitFailureMail(failure: UnitFailure, now: Date): RenderedMail {
  const subject = `${SUBJECT_TAGS.critical} ${failure.host} ${failure.unit} failed`;
  const intro = `${failure.unit} failed on ${failure.host} (reported ${time(now)}).`;
  const hint = `See: journalctl -u ${failure.unit} -n 200 --no-pager`;
  const body = failure.journal.length > 0 ? failure.journal.join('\n') : (failure.journal_note ?? 'no journal lines');
  const heading = failure.journal.length > 0 ? `Last ${failure.journal.length} journal lines:` : 'Journal:';
  return {
    subject,
    text: `${intro}\n${hint}\n\n${heading}\n${body}\n`,
    html: [
      '<!doctype html><html><head><meta charset="utf-8"></head><body style="font-family:system-ui,sans-serif;font-size:14px">',
      `<p><b>${esc(intro)}</b><br>${esc(hint)}</p>`,
      `<p>${esc(heading)}</p>`,
      `<pre style="background:#f6f6f6;padding:8px;white-space:pre-wrap">${esc(body)}</pre>`,
      '</body></html>',
    ].join('\n'),
  };
}

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function time(d: Date): string {
  return `${d.toISOString().slice(0, 16).replace('T', ' ')}Z`;
}

function ago(now: Date, then: Date): string {
  const minutes = Math.max(0, (now.getTime() - then.getTime()) / 60_000);
  if (minutes < 120) return `${Math.round(minutes)} min`;
  if (minutes < 48 * 60) return `${(minutes / 60).toFixed(1)} h`;
  return `${(minutes / 1440).toFixed(1)} days`;
}

function pct(x: number | null): string {
  return x === null ? '-' : `${(x * 100).toFixed(1)}%`;
}

function num(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

function metricValue(metric: keyof typeof METRIC_LABEL, v: number): string {
  return metric === 'time_to_first_token' ? `${v.toFixed(3)} s` : `${num(v)} tok/s`;
}

function clip(s: string, n = 160): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length <= n ? one : `${one.slice(0, n - 1)}…`;
}
