// What a sweep prints: one journal line per model, the summary, and bench-once --json.
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
    cost_usd: r.metric?.cost_usd ?? null,
    error_kind: r.error?.error_kind ?? null,
    stage: r.error?.stage ?? null,
    message: r.error?.message ?? null,
    skip_reason: r.skipReason,
    stored: r.outcome === 'ok' || r.outcome === 'failed' ? r.writeError === null : null,
    write_error: r.writeError,
  };
}

const fmt = (v: number | null | undefined, digits: number, unit = '') => (v === null || v === undefined ? '-' : `${v.toFixed(digits)}${unit}`);

/** One journal line per model. */
export function formatResultLine(r: ModelResult): string {
  const target = `${r.provider}/${r.modelId}`;
  const tries = r.attempts > 1 ? ` after ${r.attempts} attempts` : '';
  const unstored = r.writeError ? ` [NOT STORED: ${r.writeError}]` : '';
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
    (s.skippedBudget ? `, ${s.skippedBudget} skipped for the daily budget` : '') +
    (s.writeFailures ? `, ${s.writeFailures} NOT STORED` : '') +
    (s.interrupted ? ', interrupted' : '')
  );
}
