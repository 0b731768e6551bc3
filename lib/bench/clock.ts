// The clocks a sweep runs on, injected so tests can drive time.
import { setTimeout as sleepFor } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface SweepClock {
  /** Monotonic milliseconds (performance.now). */
  now(): number;
  /** Wall-clock epoch milliseconds (Date.now). */
  wallNow(): number;
  /** Waits ms; rejects when signal aborts. Used for retry back-off only. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

/**
 * The monotonic clock itself (performance.now). A call on this clock has its chunks timed when
 * the fetch thread read them (wire.ts); a clock a test injects is read as the events come.
 */
export const monotonicNow = (): number => performance.now();

export const systemClock: SweepClock = {
  now: monotonicNow,
  wallNow: () => Date.now(),
  sleep: (ms, signal) => sleepFor(ms, undefined, { signal }),
};

/**
 * Waits until performance.now() reaches `due`. A bare timer may fire up to a millisecond
 * early by that clock (libuv schedules from its loop time, kept in whole milliseconds), which
 * a simulation promising "no earlier than" cannot allow.
 */
export async function sleepUntil(due: number, signal: AbortSignal): Promise<void> {
  for (let left = due - performance.now(); left > 0; left = due - performance.now()) await sleepFor(left, undefined, { signal });
}

/** Milliseconds as a short seconds figure for messages ("0.25", "30"). */
export function seconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(ms < 10_000 ? 3 : 1)));
}

let collect: (() => void) | null = null;

/**
 * Collects the garbage the warm-up left (SDK loading, the tokenizer's rank table) before the
 * first timed call, where a major collection would otherwise land: ~10 ms read as the
 * provider's latency. Node offers no gc() without --expose-gc; the flag set at run time
 * applies to a fresh context, whose gc() is the process's.
 */
export function collectWarmUpGarbage(): void {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
}
