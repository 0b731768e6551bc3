// Agent runs summed up for people (SPEC 4.6): the health report and `models.ts show` both read
// success rate, duration percentiles and failures from here. They already hold the runs (with
// failures by kind, which the store's KPIs do not count), so this sums them in memory; the
// percentiles are the store's own (lib/store/kpis.ts), so the site, `runs.ts kpis` and the
// health mail show the same p50 for the same runs.
import type { AgentErrorKind, AgentRunDoc } from '../store/documents.ts';
import { percentiles } from '../store/kpis.ts';

export interface AgentRunStats {
  provider: 'tinyfish';
  automation: string;
  scenario_id: string;
  runs: number;
  completed: number;
  failed: number;
  timeouts: number;
  /** completed / runs; null without runs. */
  success_rate: number | null;
  /** Total duration of completed runs, ms; null without any. */
  p50_duration_ms: number | null;
  p95_duration_ms: number | null;
  /** Time to the first PROGRESS of completed runs, ms. */
  p50_first_progress_ms: number | null;
  failures_by_kind: Partial<Record<AgentErrorKind, number>>;
  last_failure: { at: Date; kind: AgentErrorKind | null; message: string } | null;
  mock: boolean;
}

/** One summary per (automation, scenario), ordered by automation then scenario. */
export function summarizeAgentRuns(runs: AgentRunDoc[]): AgentRunStats[] {
  const groups = new Map<string, AgentRunDoc[]>();
  for (const r of runs) {
    const k = `${r.automation}\u0000${r.scenario_id}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  return [...groups.values()]
    .map((g) => {
      const ok = g.filter((r) => r.status === 'completed');
      const bad = g.filter((r) => r.status !== 'completed').sort((a, b) => b.started_at.getTime() - a.started_at.getTime());
      const failures_by_kind: Partial<Record<AgentErrorKind, number>> = {};
      for (const r of bad) {
        const k = r.error_kind ?? 'unknown';
        failures_by_kind[k] = (failures_by_kind[k] ?? 0) + 1;
      }
      const durations = ok.map((r) => r.total_duration_ms);
      const firstProgress = ok.map((r) => r.time_to_first_progress_ms).filter((v): v is number => v !== null);
      const last = bad[0];
      const duration = percentiles(durations);
      return {
        provider: 'tinyfish' as const,
        automation: g[0]!.automation,
        scenario_id: g[0]!.scenario_id,
        runs: g.length,
        completed: ok.length,
        failed: g.filter((r) => r.status === 'failed').length,
        timeouts: g.filter((r) => r.status === 'timeout').length,
        success_rate: g.length ? ok.length / g.length : null,
        p50_duration_ms: duration.p50,
        p95_duration_ms: duration.p95,
        p50_first_progress_ms: percentiles(firstProgress).p50,
        failures_by_kind,
        last_failure: last ? { at: last.started_at, kind: last.error_kind, message: last.error ?? '' } : null,
        mock: g.some((r) => r.mock),
      };
    })
    .sort((a, b) => a.automation.localeCompare(b.automation) || a.scenario_id.localeCompare(b.scenario_id));
}

/** A summary in one line: "12 runs, 83% ok, p50 41.2 s, p95 88.0 s; failures run_failed 1, timeout 1". */
export function formatAgentRunStats(s: AgentRunStats): string {
  const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  const rate = s.success_rate === null ? '-' : `${Math.round(s.success_rate * 100)}%`;
  const kinds = Object.entries(s.failures_by_kind).map(([k, n]) => `${k} ${n}`).join(', ');
  return `${s.runs} runs, ${rate} ok, p50 ${secs(s.p50_duration_ms)}, p95 ${secs(s.p95_duration_ms)}${kinds ? `; failures ${kinds}` : ''}`;
}
