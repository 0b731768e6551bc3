// The shared fixtures (../fixtures.ts) are dated 2026-11-20; the ingest server judges a
// result's dates against its clock (at most 366 days old), so a fixed day would make every
// ingest test fail a year later. These builders date the same documents relative to the
// test's now instead.
import type { AgentRunDoc, ErrorDoc, MetricDoc } from '../../lib/store/documents.ts';
import { makeAgentRun as agentRunOn, makeError as errorOn, makeMetric as metricOn } from '../fixtures.ts';

/** The now the ingest tests date their fixtures against (read once, when the test file loads). */
export const TEST_NOW = Date.now();

/** A moment ms before TEST_NOW (default an hour), to the whole second as the upstream runner writes. */
export function ago(ms = 3_600_000, now = TEST_NOW): Date {
  return new Date(Math.floor((now - ms) / 1000) * 1000);
}

/** The upstream runner's "YYYY-MM-DD HH:MM:SS" (UTC, no offset). */
export function upstreamTs(at: Date): string {
  return at.toISOString().slice(0, 19).replace('T', ' ');
}

export function makeMetric(overrides: Partial<MetricDoc> = {}): MetricDoc {
  return metricOn({ run_ts: ago(), ...overrides });
}

export function makeError(overrides: Partial<ErrorDoc> = {}): ErrorDoc {
  return errorOn({ ts: ago(), ...overrides });
}

export function makeAgentRun(overrides: Partial<AgentRunDoc> = {}): AgentRunDoc {
  return agentRunOn({ started_at: ago(), ...overrides });
}
