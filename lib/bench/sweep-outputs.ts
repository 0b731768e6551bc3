// What a sweep writes besides its results, the status site (SPEC 16) and the Prometheus
// textfile (SPEC 17), and how a failure to write them reaches the health mail. Such a failure
// does not fail the sweep (the results are stored; exit 0), so without this only the journal
// would know, and a sandbox that cannot write SITE_DIR would go unnoticed for weeks.
//
// It is recorded in sweep_skips (SPEC 17's record of what a sweep did not do) under the
// provider `llm-bench`, rather than in a new collection or a state file: the health check
// already reads sweep_skips for its window on both backends, and a file beside the site would
// fail to be written exactly when the site does. A remote runner has no store: its journal
// says it, as for its budget skips.
import { classifyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { SweepSkipDoc } from '../store/documents.ts';

/** The provider of a sweep_skips record about the sweep's own output, not about a model. */
export const SWEEP_OUTPUT_PROVIDER = 'llm-bench';

/** The outputs, as their records name them (model_id). */
export type SweepOutput = 'status-site' | 'prom-textfile';

/**
 * Records that a sweep could not write one of its outputs, for the health mail.
 * Never throws: the journal already has the failure, so a failed record is a warning.
 */
export async function recordOutputFailure(
  sink: { insertSweepSkip?(doc: SweepSkipDoc): Promise<void> } | null,
  output: SweepOutput,
  message: string,
  o: { now: Date; sweepStartedAt: Date; runner: string; logger: Logger },
): Promise<void> {
  if (!sink?.insertSweepSkip) return;
  try {
    await sink.insertSweepSkip({
      provider: SWEEP_OUTPUT_PROVIDER,
      model_id: output,
      scenario_id: '-',
      reason: message,
      skipped_at: o.now,
      sweep_started_at: o.sweepStartedAt,
      runner: o.runner,
      daily_budget_usd: null,
    });
  } catch (err) {
    o.logger.warn(`Cannot record for the health mail that the sweep did not write its ${output}: ${classifyError(err).detail}`);
  }
}
