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
