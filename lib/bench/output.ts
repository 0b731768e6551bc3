// What a sweep prints: one journal line per model, the summary, and bench-once --json.
import { PUBLISHED_SCENARIO_ID } from '../store/documents.ts';
import type { ModelResult, SweepSummary } from './sweep.ts';

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
    error_kind: r.error?.error_kind ?? null,
    stage: r.error?.stage ?? null,
    message: r.error?.message ?? null,
    skip_reason: r.skipReason,
    stored: r.outcome === 'ok' || r.outcome === 'failed' ? r.writeError === null : null,
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
    default:
      return `${target}: skipped, ${r.skipReason}`;
  }
}

export function formatSummary(s: SweepSummary): string {
  const kinds = Object.entries(s.errorsByKind)
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `Sweep done in ${(s.durationMs / 1000).toFixed(1)} s: ${s.models} models, ${s.ok} ok, ${s.failed} failed` +
    (kinds ? ` (${kinds})` : '') +
    `, ${s.skippedFresh} fresh, ${s.skippedDeadline} skipped at the deadline` +
    (s.writeFailures ? `, ${s.writeFailures} NOT STORED` : '') +
    (s.interrupted ? ', interrupted' : '')
  );
}
