// Speed-regression statistics for the daily health check (SPEC 10): is a model's tokens/s or
// TTFT in the report window worse than its own previous week, by enough to matter and by
// more than chance? Two gates, both required:
//   1. practical: the median is worse by at least MIN_WORSE_FRACTION (20%);
//   2. statistical: a one-sided Mann-Whitney U test (normal approximation with tie and
//      continuity corrections) rejects "no difference" at REGRESSION_ALPHA.
// Rank tests suit these samples: speeds are skewed with long tails (a slow provider minute
// gives a few very slow calls), and ranks do not care.
import { medianOf } from '../store/kpis.ts';

/** Samples required on each side before a comparison is made at all. */
export const MIN_SAMPLES = 5;
/** The median must be worse by at least this fraction (0.2 = 20%). */
export const MIN_WORSE_FRACTION = 0.2;
/**
 * One-sided significance level per test. Each model is tested twice (tokens/s and TTFT), so
 * under pure noise a model is flagged with probability at most 2 × 0.0025 = 0.5%
 * (Bonferroni), and the 20% median gate only lowers that. The report may flag at most 2% of
 * a few hundred noise-only models, and not merely on average: simulated over 200 seeds of
 * 200 noisy models (lognormal, 5 to 48 recent against 30 to 336 baseline samples), 0.5% per
 * model never exceeded 4 of 200 where 1% did in 4% of the runs, while a 30% slowdown
 * measured 48 times a day against a week is still found 99% of the time. A cost: 5 samples
 * against 5 never reach significance (complete separation gives p ≈ 0.006); against a
 * week of history, 5 recent samples are enough.
 */
export const REGRESSION_ALPHA = 0.0025;

export type SpeedMetric = 'tokens_per_second' | 'time_to_first_token';

/** Which direction is worse for each metric. */
export const WORSE_WHEN: Record<SpeedMetric, 'lower' | 'higher'> = {
  tokens_per_second: 'lower',
  time_to_first_token: 'higher',
};

export interface RegressionOptions {
  minSamples?: number;
  minWorseFraction?: number;
  alpha?: number;
}

export interface RankTest {
  /** U of the first sample: pairs where it is larger, ties counting one half. */
  u: number;
  /** Standardised U with continuity correction; negative when the first sample ranks low. */
  z: number;
  /** One-sided p-value for "the first sample tends to be smaller than the second". */
  pValue: number;
}

export interface SpeedComparison {
  metric: SpeedMetric;
  currentN: number;
  baselineN: number;
  currentMedian: number;
  baselineMedian: number;
  /** How much worse the current median is, in percent of the baseline (negative: better). */
  worsePct: number;
  /** One-sided p-value for "current is worse than baseline". */
  pValue: number;
  regressed: boolean;
}

/** The median, or null for an empty sample. Does not modify its input. */
export const median: (values: ArrayLike<number>) => number | null = medianOf;

/** Standard normal cumulative distribution function. */
export function normalCdf(z: number): number {
  return 0.5 * erfc(-z / Math.SQRT2);
}

// Complementary error function by a Chebyshev fit (Numerical Recipes, erfcc): fractional
// error below 1.2e-7 everywhere, ample for p-values compared with 0.005.
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/**
 * One-sided Mann-Whitney U test that x tends to be smaller than y, by the normal
 * approximation with the tie-corrected variance and a continuity correction of 1/2.
 * @throws RangeError when either sample is empty or holds NaN.
 */
export function mannWhitneyLess(x: readonly number[], y: readonly number[]): RankTest {
  const n1 = x.length;
  const n2 = y.length;
  if (n1 === 0 || n2 === 0) throw new RangeError('Mann-Whitney U needs two non-empty samples');
  const n = n1 + n2;
  // Sort each sample (natively, as typed arrays) and walk both in step: each distinct value
  // gets the mid-rank of its run of ties, and each run adds t^3 - t to the tie term.
  const xs = Float64Array.from(x).sort();
  const ys = Float64Array.from(y).sort();
  // A typed-array sort puts NaN last; a NaN has no rank.
  if (Number.isNaN(xs[n1 - 1]) || Number.isNaN(ys[n2 - 1])) throw new RangeError('Mann-Whitney U needs numbers, got NaN');
  let i = 0;
  let j = 0;
  let ranked = 0;
  let rankSumX = 0;
  let tieTerm = 0;
  while (i < n1 || j < n2) {
    const v = j >= n2 || (i < n1 && xs[i]! <= ys[j]!) ? xs[i]! : ys[j]!;
    let inX = 0;
    let inY = 0;
    while (i < n1 && xs[i] === v) {
      inX++;
      i++;
    }
    while (j < n2 && ys[j] === v) {
      inY++;
      j++;
    }
    const t = inX + inY;
    rankSumX += inX * (ranked + (t + 1) / 2);
    tieTerm += t * t * t - t;
    ranked += t;
  }
  const u = rankSumX - (n1 * (n1 + 1)) / 2;
  const mean = (n1 * n2) / 2;
  const variance = ((n1 * n2) / 12) * (n + 1 - tieTerm / (n * (n - 1)));
  // Every value tied: no evidence either way.
  if (!(variance > 0)) return { u, z: 0, pValue: 1 };
  const z = (u - mean + 0.5) / Math.sqrt(variance);
  return { u, z, pValue: Math.min(1, normalCdf(z)) };
}

/**
 * Compares a model's current samples of one metric with its baseline samples.
 * @returns null when either side has fewer than minSamples samples or the baseline median
 * is not positive (no meaningful percentage).
 */
export function compareSpeed(
  metric: SpeedMetric,
  samples: { current: readonly number[]; baseline: readonly number[] },
  options: RegressionOptions = {},
): SpeedComparison | null {
  const minSamples = options.minSamples ?? MIN_SAMPLES;
  const minWorse = options.minWorseFraction ?? MIN_WORSE_FRACTION;
  const alpha = options.alpha ?? REGRESSION_ALPHA;
  const current = samples.current.filter(Number.isFinite);
  const baseline = samples.baseline.filter(Number.isFinite);
  if (current.length < minSamples || baseline.length < minSamples) return null;
  const currentMedian = median(current)!;
  const baselineMedian = median(baseline)!;
  if (!(baselineMedian > 0)) return null;
  const lowerIsWorse = WORSE_WHEN[metric] === 'lower';
  const worseFraction = lowerIsWorse
    ? (baselineMedian - currentMedian) / baselineMedian
    : (currentMedian - baselineMedian) / baselineMedian;
  const { pValue } = lowerIsWorse ? mannWhitneyLess(current, baseline) : mannWhitneyLess(baseline, current);
  return {
    metric,
    currentN: current.length,
    baselineN: baseline.length,
    currentMedian,
    baselineMedian,
    worsePct: worseFraction * 100,
    pValue,
    // A small tolerance so that "exactly 20% worse" is not lost to floating point.
    regressed: worseFraction >= minWorse - 1e-9 && pValue < alpha,
  };
}
