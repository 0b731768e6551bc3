import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatSummary, resultToJson } from '../../lib/bench/output.ts';
import { summarize, type ModelResult } from '../../lib/bench/sweep.ts';
import { makeError, makeMetric } from '../fixtures.ts';

const base = { provider: 'groq' as const, modelId: 'm', attempts: 1, skipReason: null, writeError: null };
const ok: ModelResult = { ...base, outcome: 'ok', metric: makeMetric({ model_name: 'm' }), error: null };
const failed: ModelResult = { ...base, outcome: 'failed', metric: null, error: makeError({ model_name: 'm', error_kind: 'rate_limit' }) };
const fresh: ModelResult = { ...base, outcome: 'skipped_fresh', metric: null, error: null, attempts: 0, skipReason: 'fresh' };

describe('sweep output', () => {
  test('summarize counts outcomes and errors by kind', () => {
    const s = summarize([ok, failed, fresh], { models: 3, writeFailures: 0, durationMs: 1234 });
    assert.deepEqual({ ran: s.ran, ok: s.ok, failed: s.failed, fresh: s.skippedFresh }, { ran: 2, ok: 1, failed: 1, fresh: 1 });
    assert.deepEqual(s.errorsByKind, { rate_limit: 1 });
    assert.equal(formatSummary(s), 'Sweep done in 1.2 s: 3 models, 1 ok, 1 failed (rate_limit 1), 1 fresh, 0 skipped at the deadline');
  });

  test('the JSON form says whether a result was stored, and null for a skipped one', () => {
    assert.equal(resultToJson(ok).stored, true);
    assert.equal(resultToJson({ ...failed, writeError: 'disk full' }).stored, false);
    assert.equal(resultToJson(fresh).stored, null);
    assert.equal(resultToJson(ok).run_id, ok.metric!.run_id);
  });
});
