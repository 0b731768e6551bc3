import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MIN_RUNS_FOR_INTERVAL, kpiPercentilesInPlace, medianIntervalRanks, summarizeGroups, tooFewRuns, type GroupValues } from '../../lib/store/kpis.ts';
import { referenceMedianInterval } from './contract/context.ts';

// Values whose string order differs from their numeric order ("100" < "20" < "3"), shuffled.
function values(n: number, seed: number): number[] {
  const out = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? (i + 1) * 100 : i % 3 === 1 ? i + 2 : (i + 3) / 7));
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function group(tps: number[]): GroupValues {
  return { provider: 'p', model_name: 'm', scenario: 's', successes: tps.length, last_success: null, time_to_first_token: [], total_time: [], tokens_per_second: tps, decode_tokens_per_second: tps };
}

describe('the p50 confidence interval (SPEC 18)', () => {
  test('matches the exact binomial computation at every count from 1 to 300', () => {
    for (let n = 1; n <= 300; n++) {
      const v = values(n, n);
      assert.deepEqual(kpiPercentilesInPlace(Float64Array.from(v)).p50_ci, referenceMedianInterval(v), `n = ${n}`);
    }
  });

  test('the interval holds the p50, and the percentiles are those of the values sorted as numbers', () => {
    const v = values(57, 3);
    const sorted = [...v].sort((a, b) => a - b);
    const p = kpiPercentilesInPlace(Float64Array.from(v));
    assert.equal(p.p50, sorted[28]);
    assert.equal(p.p95, sorted[54]);
    assert.equal(p.p99, sorted[56]);
    assert.ok(p.p50_ci!.low <= p.p50! && p.p50! <= p.p50_ci!.high);
  });

  test('below the minimum count a p50 is shown as too few runs, never with an interval', () => {
    assert.equal(medianIntervalRanks(MIN_RUNS_FOR_INTERVAL - 1), null);
    assert.notEqual(medianIntervalRanks(MIN_RUNS_FOR_INTERVAL), null);
    const few = kpiPercentilesInPlace(Float64Array.from(values(MIN_RUNS_FOR_INTERVAL - 1, 1)));
    assert.equal(few.p50_ci, null);
    assert.equal(tooFewRuns(few), true);
    assert.equal(tooFewRuns(kpiPercentilesInPlace(new Float64Array(0))), false, 'no p50 at all is not "too few runs"');
    assert.equal(tooFewRuns(kpiPercentilesInPlace(Float64Array.from(values(MIN_RUNS_FOR_INTERVAL, 1)))), false);
  });

  test('large counts (the overall row over a million values) agree with the normal approximation', () => {
    const [l, h] = medianIntervalRanks(1_000_000)!;
    const approx = 500_000 - 1.959964 * Math.sqrt(1_000_000) / 2;
    assert.ok(Math.abs(l - approx) <= 2, `${l} vs ${approx}`);
    assert.equal(h, 1_000_001 - l);
  });

  test('the provider and overall rows give the interval of the pooled values', () => {
    const a = values(40, 7);
    const b = values(25, 9).map((x) => x * 3);
    const summary = summarizeGroups([group(a), { ...group(b), model_name: 'n' }], []);
    assert.deepEqual(summary.overall.tokens_per_second.p50_ci, referenceMedianInterval([...a, ...b]));
    assert.deepEqual(summary.providers[0]!.decode_tokens_per_second.p50_ci, referenceMedianInterval([...a, ...b]));
    assert.deepEqual(summary.models[1]!.tokens_per_second.p50_ci, referenceMedianInterval(b));
    assert.equal(summary.overall.time_to_first_token.p50_ci, null);
  });
});
