// Seeded noise for tests and benchmarks, so every run sees the same numbers.

/** mulberry32: a small seeded PRNG returning numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box-Muller), from two draws of `random`. */
export function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}

/** Lognormal samples: speeds and latencies are positive and skewed. */
export function lognormalSamples(random: () => number, o: { median: number; sigma: number; n: number }): number[] {
  return Array.from({ length: o.n }, () => o.median * Math.exp(o.sigma * gaussian(random)));
}
