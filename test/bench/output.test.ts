import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLiveLine, formatLiveLine, formatSummary, formatSweepStart, resultToJson } from '../../lib/bench/output.ts';
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

  test('the summary says "1 model", not "1 models"', () => {
    assert.match(formatSummary(summarize([ok], { models: 1, writeFailures: 0, durationMs: 10 })), /: 1 model, 1 ok/);
  });

  test('the first line says how many models over how many providers, and the deadline', () => {
    const models = [...Array(5).fill({ provider: 'groq' }), ...Array(4).fill({ provider: 'openai' }), ...Array(3).fill({ provider: 'mock' })];
    assert.equal(
      formatSweepStart(models, { deadlineMs: 1_500_000, force: true, freshMinutes: 30 }),
      'Benchmarking 12 models over 3 providers (groq 5, openai 4, mock 3), deadline 25 min',
    );
    // A remote runner's models have no history to compare: nothing is skipped, so nothing is said.
    assert.equal(
      formatSweepStart([{ provider: 'mock' }], { deadlineMs: 90_000, force: false, freshMinutes: 30 }),
      'Benchmarking 1 model over 1 provider, deadline 1.5 min',
    );
    assert.match(formatSweepStart([{ provider: 'mock' }], { deadlineMs: 20_000, force: true, freshMinutes: 30 }), /deadline 20 s$/);
  });

  test('the first line says each scenario\'s own interval, not FRESH_MINUTES, and nothing skipped under --force', () => {
    const llm = { kind: 'llm' as const, id: 'cloud-default-v1', intervalMinutes: 30, prompt: 'p', maxTokens: 64, temperature: 0.1, cacheDefeatNonce: null };
    const agent = { kind: 'agent' as const, id: 'agent-pricing-v1', intervalMinutes: 360, inputs: {}, concurrency: 1 };
    const models = [
      { provider: 'mock' as const, scenario: llm },
      { provider: 'mock' as const, scenario: llm },
      { provider: 'tinyfish' as const, scenario: agent },
      { provider: 'groq' as const, lastSuccessAt: new Date() },
    ];
    assert.equal(
      formatSweepStart(models, { deadlineMs: 1_500_000, force: false, freshMinutes: 45 }),
      'Benchmarking 4 models over 3 providers (mock 2, groq 1, tinyfish 1), deadline 25 min; ' +
        'a pair measured within its interval is skipped (cloud-default-v1 every 30 min, agent-pricing-v1 every 360 min, FRESH_MINUTES=45)',
    );
    assert.doesNotMatch(formatSweepStart(models, { deadlineMs: 1_500_000, force: true, freshMinutes: 45 }), /skipped/);
  });

  test('the live line names every call in flight with how long it has waited, longest first, cut to the width', () => {
    const running = new Map([['openai/gpt-4o', 28_000], ['groq/llama-3.3-70b-versatile', 18_000]]);
    assert.equal(formatLiveLine({ done: 3, total: 40, running, nowMs: 30_500, columns: 120 }), '[3/40] waiting: groq/llama-3.3-70b-versatile 12 s, openai/gpt-4o 2 s');
    assert.equal(formatLiveLine({ done: 3, total: 40, running, nowMs: 30_500, columns: 31 }), '[3/40] waiting: groq/llama-3.…');
    assert.equal(formatLiveLine({ done: 40, total: 40, running: new Map(), nowMs: 0, columns: 80 }), '[40/40]');
  });

  test('the live line redraws as calls start and end, steps aside for log lines, and draws nothing off a terminal', () => {
    let now = 1000;
    const out: string[] = [];
    const line = createLiveLine({ enabled: true, write: (t) => out.push(t), columns: () => 80, now: () => now, intervalMs: 3_600_000 });
    line.start(2);
    line.started('groq/a');
    now += 31_000;
    line.around(() => out.push('groq/b: ok\n'));
    assert.deepEqual(out.slice(-3), ['\r\x1b[K', 'groq/b: ok\n', '\r\x1b[K[0/2] waiting: groq/a 31 s']);
    line.finished('groq/a');
    line.around(() => out.push('groq/a: ok\n'));
    assert.equal(out.at(-1), '\r\x1b[K[1/2]');
    line.stop();
    assert.equal(out.at(-1), '\r\x1b[K');

    const silent: string[] = [];
    const off = createLiveLine({ enabled: false, write: (t) => silent.push(t), columns: () => 80, now: () => 0 });
    off.start(2);
    off.started('groq/a');
    off.around(() => silent.push('line\n'));
    off.stop();
    assert.deepEqual(silent, ['line\n']);
  });
});
