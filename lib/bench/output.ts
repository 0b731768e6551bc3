// What a sweep prints: one journal line per model, the summary, and bench-once --json.
import { PUBLISHED_SCENARIO_ID } from '../store/documents.ts';
import type { ModelResult, SweepSummary } from './sweep.ts';
import type { SweepModel } from './due.ts';
import { plural } from '../plural.ts';

/** The machine-readable form of one result (bench-once --json). */
export function resultToJson(r: ModelResult): Record<string, unknown> {
  return {
    provider: r.provider,
    model: r.modelId,
    outcome: r.outcome,
    run_id: r.metric?.run_id ?? r.error?.run_id ?? null,
    attempts: r.attempts,
    time_to_first_token: r.metric?.time_to_first_token ?? null,
    tokens_per_second: r.metric?.tokens_per_second ?? null,
    decode_tokens_per_second: r.metric?.decode_tokens_per_second ?? null,
    output_tokens: r.metric?.output_tokens ?? null,
    cost_usd: r.metric?.cost_usd ?? null,
    error_kind: r.error?.error_kind ?? null,
    stage: r.error?.stage ?? null,
    message: r.error?.message ?? null,
    skip_reason: r.skipReason,
    stored: r.outcome === 'ok' || r.outcome === 'failed' || r.outcome === 'aborted' ? r.writeError === null : null,
    write_error: r.writeError,
    scenario: r.scenarioId ?? null,
    ...(r.agentRun
      ? {
          run_id: r.agentRun.run_id,
          error_kind: r.agentRun.error_kind,
          message: r.agentRun.error,
          agent_status: r.agentRun.status,
          total_duration_ms: r.agentRun.total_duration_ms,
          time_to_started_ms: r.agentRun.time_to_started_ms,
          time_to_first_progress_ms: r.agentRun.time_to_first_progress_ms,
          progress_events: r.agentRun.progress_events,
          mock: r.agentRun.mock,
        }
      : {}),
  };
}

const fmt = (v: number | null | undefined, digits: number, unit = '') => (v === null || v === undefined ? '-' : `${v.toFixed(digits)}${unit}`);

/** One journal line per model. */
export function formatResultLine(r: ModelResult): string {
  // Rows of the published scenario are the usual case; any other scenario is named.
  const scenario = r.scenarioId && r.scenarioId !== PUBLISHED_SCENARIO_ID ? ` [${r.scenarioId}]` : '';
  const target = `${r.provider}/${r.modelId}${scenario}`;
  const tries = r.attempts > 1 ? ` after ${r.attempts} attempts` : '';
  const unstored = r.writeError ? ` [NOT STORED: ${r.writeError}]` : '';
  const a = r.agentRun;
  if (a) {
    const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
    const mock = a.mock ? ' (mock)' : '';
    if (a.status === 'completed') {
      return `${target}: completed${mock} in ${secs(a.total_duration_ms)}, STARTED after ${secs(a.time_to_started_ms)}, first progress ${secs(a.time_to_first_progress_ms)}, ${a.progress_events} steps${unstored}`;
    }
    return `${target}: ${a.status}${mock} after ${secs(a.total_duration_ms)} (${a.error_kind}): ${a.error}${unstored}`;
  }
  switch (r.outcome) {
    case 'ok': {
      const m = r.metric!;
      return `${target}: ok${tries}, TTFT ${fmt(m.time_to_first_token, 3, ' s')}, ${fmt(m.tokens_per_second, 1)} tokens/s, decode ${fmt(m.decode_tokens_per_second, 1)} tokens/s, ${m.output_tokens} tokens${unstored}`;
    }
    case 'failed':
      // The message already says how many attempts were made.
      return `${target}: failed (${r.error!.error_kind}, stage ${r.error!.stage}): ${r.error!.message}${unstored}`;
    case 'aborted':
      return `${target}: aborted, not measured: ${r.error!.message}${unstored}`;
    default:
      return `${target}: skipped, ${r.skipReason}`;
  }
}

/**
 * The sweep's last line. A sweep stopped by the operator or systemd says so, and what it got
 * done, e.g. "Sweep stopped by SIGTERM: 3 measured, 1 aborted, 5 not started (2 ok, 1 failed, in 12.3 s)".
 */
export function formatSummary(s: SweepSummary): string {
  if (s.stoppedBy) {
    return (
      `Sweep stopped by ${s.stoppedBy}: ${s.ok + s.failed} measured, ${s.aborted} aborted, ${s.skippedStopped} not started ` +
      `(${s.ok} ok, ${s.failed} failed, in ${(s.durationMs / 1000).toFixed(1)} s)` +
      (s.writeFailures ? `, ${s.writeFailures} NOT STORED` : '')
    );
  }
  const kinds = Object.entries(s.errorsByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `Sweep done in ${(s.durationMs / 1000).toFixed(1)} s: ${plural(s.models, 'model')}, ${s.ok} ok, ${s.failed} failed` +
    (kinds ? ` (${kinds})` : '') +
    (s.aborted ? `, ${s.aborted} aborted` : '') +
    `, ${s.skippedFresh} fresh, ${s.skippedDeadline} skipped at the deadline` +
    (s.skippedBudget ? `, ${s.skippedBudget} skipped for the daily budget` : '') +
    (s.skippedContext ? `, ${s.skippedContext} skipped: prompt longer than the context window` : '') +
    (s.writeFailures ? `, ${s.writeFailures} NOT STORED` : '') +
    (s.interrupted ? ', interrupted' : '')
  );
}


/**
 * The sweep's first line, before any call: how much work it is, how long it may take and what
 * is skipped, e.g. "Benchmarking 12 models over 3 providers (groq 5, openai 4, mock 3), deadline
 * 25 min; a pair measured within its scenario's interval is skipped (cloud-default-v1 every 30
 * min, agent-pricing-v1 every 360 min)". Each scenario has its own interval; a pair without one
 * follows FRESH_MINUTES, and one with no history to compare (a remote runner's) is never skipped.
 */
export function formatSweepStart(
  models: Array<Pick<SweepModel, 'provider' | 'scenario' | 'lastSuccessAt' | 'lastSweepStartedAt'>>,
  o: { deadlineMs: number; force: boolean; freshMinutes: number },
): string {
  const perProvider = new Map<string, number>();
  for (const m of models) perProvider.set(m.provider, (perProvider.get(m.provider) ?? 0) + 1);
  const counts = [...perProvider].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([p, n]) => `${p} ${n}`);
  const minutes = o.deadlineMs / 60_000;
  const deadline = minutes >= 1 ? `${Number(minutes.toFixed(1))} min` : `${Number((o.deadlineMs / 1000).toFixed(1))} s`;
  const rules = new Set<string>();
  for (const m of models) {
    if (m.scenario) rules.add(`${m.scenario.id} every ${m.scenario.intervalMinutes} min`);
    else if (m.lastSuccessAt || m.lastSweepStartedAt) rules.add(`FRESH_MINUTES=${o.freshMinutes}`);
  }
  return (
    `Benchmarking ${plural(models.length, 'model')} over ${plural(perProvider.size, 'provider')}` +
    (counts.length > 1 ? ` (${counts.join(', ')})` : '') +
    `, deadline ${deadline}` +
    (o.force || rules.size === 0 ? '' : `; a pair measured within its interval is skipped (${[...rules].join(', ')})`)
  );
}

/**
 * The live line on a terminal: progress, then every call in flight with how long it has been
 * waiting, longest first, so a stalled call shows itself instead of a silent terminal, e.g.
 * "[3/40] waiting: groq/llama-3.3-70b-versatile 12 s, openai/gpt-4o 2 s". Cut to the width.
 */
export function formatLiveLine(o: { done: number; total: number; running: ReadonlyMap<string, number>; nowMs: number; columns: number }): string {
  const waiting = [...o.running]
    .sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0]))
    .map(([name, since]) => `${name} ${Math.max(0, Math.floor((o.nowMs - since) / 1000))} s`);
  const text = `[${o.done}/${o.total}]${waiting.length ? ` waiting: ${waiting.join(', ')}` : ''}`;
  const width = Math.max(10, o.columns - 1);
  return text.length > width ? `${text.slice(0, width - 1)}…` : text;
}

export interface LiveLineOptions {
  /** False off a terminal (the journal, pipes): then nothing is ever drawn. */
  enabled: boolean;
  write: (text: string) => void;
  columns: () => number;
  /** Monotonic ms. */
  now: () => number;
  /** How often the waiting times are redrawn. */
  intervalMs?: number;
}

/** Draws formatLiveLine on one terminal line, redrawn as calls start and end and every second. */
export function createLiveLine(o: LiveLineOptions) {
  let total = 0;
  let done = 0;
  let active = false;
  let timer: NodeJS.Timeout | null = null;
  const running = new Map<string, number>();
  const draw = () => {
    if (active) o.write(`\r\x1b[K${formatLiveLine({ done, total, running, nowMs: o.now(), columns: o.columns() })}`);
  };
  const clear = () => {
    if (active) o.write('\r\x1b[K');
  };
  return {
    start(n: number) {
      total = n;
      active = o.enabled && n > 0;
      if (active) {
        timer = setInterval(draw, o.intervalMs ?? 1000);
        timer.unref();
      }
      draw();
    },
    started(name: string) {
      running.set(name, o.now());
      draw();
    },
    finished(name: string) {
      running.delete(name);
      done += 1;
    },
    /** Writes a log line with the live line moved out of its way. */
    around(write: () => void) {
      clear();
      write();
      draw();
    },
    stop() {
      clear();
      active = false;
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
