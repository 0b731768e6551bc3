// The speed-regression statistics: Mann-Whitney U with tie and continuity corrections, the
// 20% median gate, minimum samples, and the false-positive rate on pure noise.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareSpeed, mannWhitneyLess, median, MIN_SAMPLES, normalCdf, REGRESSION_ALPHA } from '../../lib/health/regression.ts';
import { lognormalSamples, seededRandom } from '../fakes/random.ts';

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} expected ${expected} ± ${tol}, got ${actual}`);

describe('median', () => {
  it('is the middle value, or the mean of the two middle values, without sorting its input', () => {
    const xs = [5, 1, 4, 2];
    assert.equal(median(xs), 3);
    assert.deepEqual(xs, [5, 1, 4, 2]);
    assert.equal(median([7, 3, 9]), 7);
    assert.equal(median([10, 9, 100, 2, 3]), 9);
    assert.equal(median([]), null);
  });
});

describe('normalCdf', () => {
  it('matches the standard normal table', () => {
    close(normalCdf(0), 0.5, 1e-7);
    close(normalCdf(1.959964), 0.975, 1e-6);
    close(normalCdf(-2.575829), 0.005, 1e-6);
    close(normalCdf(-3.090232), 0.001, 1e-6);
    close(normalCdf(-6), 9.8659e-10, 1e-12);
  });
});

describe('mannWhitneyLess', () => {
  // Reference values: scipy.stats.mannwhitneyu(x, y, alternative='less', method='asymptotic',
  // use_continuity=True), scipy 1.17.1, which applies the same tie correction.
  const scipy: Array<[number[], number[], number, number]> = [
    [[1, 2, 3], [4, 5, 6], 0, 0.04042779918502612],
    [[3.1, 2.2, 5.0, 1.1, 4.4, 2.2], [6.0, 2.2, 7.5, 8.1, 5.0, 9.9, 3.3], 6.5, 0.022011097520835028],
    [[1, 1, 2, 2, 3], [2, 3, 3, 4, 4, 5], 3, 0.015816711519938482],
    [[10, 20, 30, 40, 50, 60, 70, 80], [15, 25, 35], 18, 0.9077137235800585],
  ];
  for (const [x, y, u, p] of scipy) {
    it(`gives scipy's U and p-value for ${JSON.stringify(x)} against ${JSON.stringify(y)}`, () => {
      const r = mannWhitneyLess(x, y);
      assert.equal(r.u, u);
      close(r.pValue, p, 1e-6, 'p');
    });
  }

  it('computes U as the count of pairs where x is larger, ties counting one half', () => {
    const random = seededRandom(11);
    const x = Array.from({ length: 17 }, () => Math.round(random() * 10));
    const y = Array.from({ length: 23 }, () => Math.round(random() * 10));
    let pairs = 0;
    for (const a of x) for (const b of y) pairs += a > b ? 1 : a === b ? 0.5 : 0;
    assert.equal(mannWhitneyLess(x, y).u, pairs);
  });

  it('uses the tie-corrected variance: the exact variance of U over every split of a heavily tied sample', () => {
    // All C(9,4) = 126 ways to pick which 4 of these 9 values form x: the variance of U across
    // them is what the tie-corrected formula must give (z = (U - mean + 0.5) / sd).
    const pooled = [1, 1, 1, 2, 2, 3, 3, 3, 3];
    const us: number[] = [];
    const choose = (start: number, picked: number[]) => {
      if (picked.length === 4) {
        const x = picked.map((i) => pooled[i]!);
        const y = pooled.filter((_, i) => !picked.includes(i));
        us.push(mannWhitneyLess(x, y).u);
        return;
      }
      for (let i = start; i < pooled.length; i++) choose(i + 1, [...picked, i]);
    };
    choose(0, []);
    assert.equal(us.length, 126);
    const mean = us.reduce((a, b) => a + b, 0) / us.length;
    const exactVariance = us.reduce((a, u) => a + (u - mean) ** 2, 0) / us.length;
    close(mean, 10, 1e-9, 'mean of U');
    const x = [1, 1, 2, 3];
    const r = mannWhitneyLess(x, [1, 2, 3, 3, 3]);
    close(r.z, (r.u - 10 + 0.5) / Math.sqrt(exactVariance), 1e-9, 'z');
  });

  it('gives p = 1 when every value is tied (no evidence either way)', () => {
    assert.equal(mannWhitneyLess([4, 4, 4], [4, 4, 4, 4]).pValue, 1);
  });

  it('refuses an empty sample or a NaN', () => {
    assert.throws(() => mannWhitneyLess([], [1, 2]), RangeError);
    assert.throws(() => mannWhitneyLess([1, NaN], [1, 2]), RangeError);
    assert.throws(() => mannWhitneyLess([1, 2], [NaN]), RangeError);
  });

  it('ranks infinities like any other value', () => {
    assert.equal(mannWhitneyLess([Infinity, 1], [2, 3]).u, 2);
  });
});

describe('compareSpeed', () => {
  const baseline = [100, 98, 103, 101, 97, 99, 102, 100, 96, 104, 101, 99];

  it('flags tokens/s 30% lower, saying by how much and with how many samples', () => {
    const current = baseline.slice(0, 8).map((v) => v * 0.7);
    const c = compareSpeed('tokens_per_second', { current, baseline })!;
    assert.equal(c.regressed, true);
    close(c.worsePct, 30, 0.5, 'worse by');
    assert.equal(c.currentN, 8);
    assert.equal(c.baselineN, 12);
    assert.ok(c.pValue < REGRESSION_ALPHA);
  });

  it('flags TTFT that doubled, since higher TTFT is worse', () => {
    const ttft = [0.3, 0.31, 0.29, 0.32, 0.3, 0.28, 0.33, 0.3];
    const c = compareSpeed('time_to_first_token', { current: ttft.map((v) => v * 2), baseline: ttft })!;
    assert.equal(c.regressed, true);
    close(c.worsePct, 100, 1, 'worse by');
  });

  it('does not flag an improvement: faster tokens/s or lower TTFT', () => {
    assert.equal(compareSpeed('tokens_per_second', { current: baseline.map((v) => v * 1.5), baseline })!.regressed, false);
    assert.equal(compareSpeed('time_to_first_token', { current: [0.1, 0.1, 0.1, 0.1, 0.1], baseline: [0.5, 0.5, 0.6, 0.5, 0.5] })!.regressed, false);
  });

  it('does not flag a significant slowdown smaller than 20%', () => {
    const current = baseline.map((v) => v * 0.85);
    const c = compareSpeed('tokens_per_second', { current, baseline })!;
    assert.ok(c.pValue < REGRESSION_ALPHA, 'significant');
    assert.equal(c.regressed, false);
    close(c.worsePct, 15, 0.5);
  });

  it('does not flag a 30% drop that chance explains (wide noise, few samples)', () => {
    const c = compareSpeed('tokens_per_second', { current: [70, 200, 40, 90, 65], baseline: [100, 30, 160, 95, 240, 50, 110] })!;
    assert.ok(c.worsePct >= 20, `median gate passed (${c.worsePct})`);
    assert.equal(c.regressed, false);
  });

  it(`makes no comparison with fewer than ${MIN_SAMPLES} samples on either side`, () => {
    assert.equal(compareSpeed('tokens_per_second', { current: [1, 1, 1, 1], baseline }), null);
    assert.equal(compareSpeed('tokens_per_second', { current: baseline, baseline: [100, 100, 100, 100] }), null);
    assert.ok(compareSpeed('tokens_per_second', { current: [1, 1, 1, 1, 1], baseline }));
  });

  it('flags at most 2% of 200 noise-only models, where the 20% median rule alone would flag many', () => {
    // Same lognormal distribution on both sides, wide (sigma 0.4) and small samples, so that
    // medians 20% apart happen by chance often: only the significance test keeps them out.
    const random = seededRandom(20261120);
    let flagged = 0;
    let naive = 0;
    for (let m = 0; m < 200; m++) {
      const tps = compareSpeed('tokens_per_second', {
        current: lognormalSamples(random, { median: 120, sigma: 0.4, n: 10 }),
        baseline: lognormalSamples(random, { median: 120, sigma: 0.4, n: 30 }),
      })!;
      const ttft = compareSpeed('time_to_first_token', {
        current: lognormalSamples(random, { median: 0.4, sigma: 0.4, n: 10 }),
        baseline: lognormalSamples(random, { median: 0.4, sigma: 0.4, n: 30 }),
      })!;
      if (tps.regressed || ttft.regressed) flagged++;
      if (tps.worsePct >= 20 || ttft.worsePct >= 20) naive++;
    }
    assert.ok(naive >= 40, `the median rule alone flags many (${naive})`);
    assert.ok(flagged <= 4, `at most 2% flagged, got ${flagged} of 200`);
  });
});
