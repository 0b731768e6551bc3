// What every collection's contract suite shares: the store it runs against, opened before its
// tests and closed after them, the dates of its fixtures, and how percentiles are compared.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Store } from '../../../lib/store/store.ts';

export type OpenStore = () => Promise<Store>;

export interface ContractOptions {
  /** A real MongoDB 7.0+ answers $percentile approximately: compare percentiles within 5%. */
  approximatePercentiles?: boolean;
}

export const day = (iso: string) => new Date(`${iso}T00:00:00.000Z`);
export const day0 = day;
export const at = (iso: string) => new Date(iso);

/**
 * The store a suite runs against: opened in the suite's before hook and closed in its after
 * hook, so the suite's tests can name it where they are declared.
 */
export function contractStore(open: OpenStore): Store {
  let store: Store | undefined;
  before(async () => {
    store = await open();
  });
  after(async () => {
    await store?.close();
  });
  return new Proxy({} as Store, {
    get(_target, prop) {
      if (!store) throw new Error(`the contract store is not open yet (reading ${String(prop)})`);
      const value = Reflect.get(store, prop);
      return typeof value === 'function' ? value.bind(store) : value;
    },
  });
}

/** Percentiles: exact, or within 5% of a server's estimate. */
export function percentileCheck(options: ContractOptions): (actual: number | null, expected: number) => void {
  return (actual, expected) => {
    assert.ok(actual !== null, `expected ${expected}, got null`);
    if (options.approximatePercentiles) assert.ok(Math.abs(actual - expected) <= 0.05 * Math.abs(expected), `${actual} not within 5% of ${expected}`);
    else assert.equal(actual, expected);
  };
}

/**
 * The p50's distribution-free 95 % interval written out plainly: the values sorted as numbers,
 * and the largest rank l whose interval [x(l), x(n+1−l)] misses the median with probability
 * 2·P(Binomial(n, ½) ≤ l − 1) ≤ 5 %, in exact integers; null when no l qualifies.
 */
export function referenceMedianInterval(values: number[]): { low: number; high: number } | null {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  let best = 0;
  let below = 0n; // sum of C(n, k) for k < l
  let choose = 1n; // C(n, l - 1)
  for (let l = 1; l <= n / 2; l++) {
    below += choose;
    // 2·below/2^n ≤ 1/20
    if (40n * below > 1n << BigInt(n)) break;
    best = l;
    choose = (choose * BigInt(n - l + 1)) / BigInt(l);
  }
  return best === 0 ? null : { low: sorted[best - 1]!, high: sorted[n - best]! };
}
