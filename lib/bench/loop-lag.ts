// The runner checking itself (SPEC 18): how long a call's published times may have been held
// back by the client's own event loop. A chunk is timed when the loop reads it, so a loop busy
// with other streams' parsing or paused for garbage collection times it late by as long as it
// kept the chunk waiting. The fetch-based SDKs' chunks are read on the fetch thread
// (providers/fetch-thread.ts), whose loop does nothing else: this module runs there too, and
// the wait it gives each chunk comes with the chunk (chunkRead's `wait`); Bedrock's chunks are
// read on the main thread, and their waits are the main loop's.
//
// How it is known: the loop reads every socket that is ready each time it polls, and blocks in
// that poll only when nothing is ready. So a chunk read at t arrived after the loop last
// blocked, and waited at most t minus the moment that block ended: the time the loop has been
// busy without a break. libuv counts the time the loop spent blocked (perf_hooks'
// nodeTiming.idleTime, added to as each block ends); each observation that finds the count grown
// knows the loop blocked since the one before, and for at least that long, so the block ended
// no earlier than the previous observation plus the growth. A second bound comes from libuv's
// count of loop iterations: a chunk read in one iteration's poll would have been read in the
// poll before had it come by then, and that poll began after every observation two iterations
// back. Observations come with every chunk the response taps read (wire.ts, which stamps each
// chunk as it is read, before any parsing), every event a call handles, and a 1 ms timer while
// calls are open, so the bound is tight exactly when the loop is busy. It is an upper bound: a
// chunk that arrived at the end of a busy stretch waited less.
// Chosen over timer lateness (a 1 ms timer's delay, this module before): a late timer says the
// loop was busy around then, not that a given chunk waited, and at 1 ms resolution it marked
// rows whose figures were right while missing rows read late (README: Evidence each row carries).
//
// Which moments count: those the published figures are taken at: the first token (TTFT, decode
// speed) and the last token or finish (decode speed, generate time). TTFT takes the first
// token's wait in ms; the speeds take a wait at either end as a share of the decode span
// (SPEED_WAIT_SHARE). The request's moment does not: the clock starts when its last byte went
// to the socket (measure.ts), so a loop that held it back delayed the provider's start, not
// our reading. A wait while the call only waits for its first byte, or between two middle
// chunks, moves none of its published figures.

import { openSync, readSync } from 'node:fs';
import { performance as perfHooks } from 'node:perf_hooks';
import type { RowEvidence } from '../store/documents.ts';
import type { StreamEvent } from './provider-stream.ts';

/**
 * Wait above which a row is marked `evidence.saturated` (SPEC 18): its TTFT may be late by more
 * than the 2 ms the measurement promises. Chosen with `npm run bench:fidelity -- --concurrent`
 * (README: Evidence each row carries).
 */
export const SATURATED_LAG_MS = 2;

/**
 * A wait at the first or last token moves decode speed and tokens/s by its share of the decode
 * span (first token to last): past this share they may be off by more than the 1 % they promise
 * (a 3 ms wait at the end of a 10 s stream moved them by 0.03 %, at the start of a 110 ms one
 * by 2.7 %). Such a wait marks the row when it is also over half SATURATED_LAG_MS: below that
 * the loop's ordinary waits (median 0.14 ms in a sweep) would mark the fastest providers' short
 * streams, whose speeds are then read to within a few tenths of a ms at each end.
 */
export const SPEED_WAIT_SHARE = 0.01;

/** What a call's waits (ms) say about its published figures. */
export interface CallLag {
  /** Stored as client_lag_ms: the first token's wait, and the last token's or finish's when over SPEED_WAIT_SHARE of the decode span. */
  ms: number;
  /** The longer of the waits at the first and the last token that are over SPEED_WAIT_SHARE of the decode span, else 0: what may have moved the speeds. */
  speedsMs: number;
}

/**
 * True when a call's waits may have moved its published figures by more than they allow: its
 * lag over the threshold (TTFT), or a wait that moved its speeds over half of it. A number is a
 * stored client_lag_ms alone (the ingest server's check of a remote row).
 */
export function isSaturated(lag: CallLag | number | null | undefined, thresholdMs = SATURATED_LAG_MS): boolean {
  if (typeof lag === 'number') return lag > thresholdMs;
  return lag !== null && lag !== undefined && (lag.ms > thresholdMs || lag.speedsMs > thresholdMs / 2);
}

/**
 * The evidence a row's lag gives: `saturated` past the threshold, else nothing. Never for the
 * mock: its stream is made in the runner's own process, so a busy loop holds back its simulated
 * chunks' sending, not their reading.
 */
export function saturationEvidence(provider: string, lag: CallLag | number | null | undefined, thresholdMs = SATURATED_LAG_MS): RowEvidence | undefined {
  if (provider === 'mock') return undefined;
  return isSaturated(lag, thresholdMs) ? { saturated: true } : undefined;
}

// The time this thread spent ready to run but waiting for a core (Linux's schedstat run_delay,
// ms): a chunk that reached a loop blocked in its poll waits while the woken thread waits for
// a core, which libuv counts as blocked time. Read with one pread of an open file (~0.5 µs).
const schedstat = (() => {
  try {
    return openSync('/proc/thread-self/schedstat', 'r');
  } catch {
    return null;
  }
})();
const statBuf = Buffer.alloc(64);
/** This thread's time waiting for a core so far (ms; 0 where Linux's schedstat cannot be read). */
export function runDelayMs(): number {
  if (schedstat === null) return 0;
  const n = readSync(schedstat, statBuf, 0, statBuf.length, 0);
  const text = statBuf.toString('latin1', 0, n);
  const from = text.indexOf(' ') + 1;
  return Number(text.slice(from, text.indexOf(' ', from))) / 1e6;
}

/** The latest observation: when, and libuv's blocked-time count and the thread's run delay then. */
let observedAt = 0;
let idleThen = 0;
let runDelayThen = 0;
/** The earliest the loop's latest block can have ended (performance.now). */
let busySince = 0;
/** How long the thread waited for a core when the loop's latest block ended, at most (ms). */
let wakeWait = 0;
/**
 * The last observation of each of the three latest loop iterations seen, newest first: libuv
 * counts an iteration just before its poll, so an observation counted L - 2 or earlier came
 * before the poll of iteration L - 1.
 */
const iterations = [
  { loop: -1, at: 0 },
  { loop: -1, at: 0 },
  { loop: -1, at: 0 },
];

/**
 * How long before `now` the loop last polled its sockets, at the most: the most that anything
 * read now can have waited. Every call is an observation that tightens the bound.
 */
export function loopBusyFor(now = performance.now()): number {
  const { idleTime, uvMetricsInfo } = perfHooks.nodeTiming;
  const blocked = idleTime - idleThen;
  if (blocked > 0) {
    // The loop blocked since the last observation, for `blocked` ms in all: its last block
    // ended no earlier than that observation plus them.
    busySince = Math.max(busySince, Math.min(now, observedAt + blocked));
  }
  observedAt = now;
  idleThen = idleTime;
  // The thread's waits for a core since the last observation. When the loop blocked in
  // between, they include the wait of its latest wake-up, which libuv counts as blocked (it is
  // no longer than that block): every chunk read before the loop blocks again may have come at
  // that wake-up, so each of them carries it, not only the first read after it. A wait while
  // the loop was busy (preempted) is already in the time since the block ended.
  const runDelay = runDelayMs();
  if (blocked > 0) wakeWait = Math.min(runDelay - runDelayThen, blocked);
  runDelayThen = runDelay;
  // A chunk read in iteration L's poll would have been read by iteration L - 1's had it come
  // before that poll began, which was after every observation of iteration L - 2 (a bound in
  // wall time, which holds whatever the thread waited for).
  const loop = uvMetricsInfo.loopCount;
  const before = iterations.find((i) => i.loop >= 0 && i.loop <= loop - 2);
  const bound = Math.min(now - busySince + wakeWait, before ? now - before.at : Infinity);
  if (loop !== iterations[0]!.loop) {
    // A new iteration: the oldest slot becomes the newest (observed ~1,000 times a second, so no allocation).
    const oldest = iterations.pop()!;
    oldest.loop = loop;
    iterations.unshift(oldest);
  }
  iterations[0]!.at = now;
  return bound;
}

// The wait of each chunk a response tap read, by the time it was given (the call's clock, which
// stamps the events made from it), kept in two generations so a lookup never misses a chunk
// read moments ago.
let reads = new Map<number, number>();
let olderReads = new Map<number, number>();
const READS_KEPT = 4096;

/**
 * A chunk was read at `t` (the call's clock): records how long it can have waited, `wait` when
 * it was read on the fetch thread (that thread's lag), else this thread's.
 */
export function chunkRead(t: number, wait?: number): void {
  if (reads.size >= READS_KEPT) {
    olderReads = reads;
    reads = new Map();
  }
  reads.set(t, wait ?? loopBusyFor());
}

/** The lag of one call, from when it was opened. */
export interface LagWatch {
  /** Called with each stream event as it is handled: counts the moments the published figures are taken at. */
  event(ev: Pick<StreamEvent, 'type' | 't'>): void;
  /** After the last event: stops watching and returns what the call's waits say. */
  end(): CallLag;
  /** The waits (ms) at the first token and at the last token or finish, and the decode span (first to last token, ms), for bench:fidelity. */
  moments(): { first: number; last: number; spanMs: number };
}

// While calls are open, a 1 ms timer observes too: it fires in the loop's last phase before
// the poll, so work that nothing else observes (a store write, the tokenizer counting a
// finished call) is seen to end before the loop blocks, and is not counted against the next
// chunk.
let watching = 0;
let sampler: NodeJS.Timeout | null = null;
const sample = () => {
  loopBusyFor();
  sampler?.refresh();
};

/** Starts watching the loop's lag for one call; end() must be called (in a finally). */
export function watchLag(): LagWatch {
  const start = performance.now();
  loopBusyFor(start);
  if (watching++ === 0) {
    sampler = setTimeout(sample, 1);
    // Never what keeps a process alive.
    sampler.unref();
  }
  let ended = false;
  /** The waits at the first token, the latest token and the finish, since the last request. */
  let first: number | null = null;
  let lastDelta = 0;
  let finish = 0;
  /** When the first and latest tokens came. */
  let firstAt = 0;
  let lastAt = 0;
  // A wait that began before the call opened did not delay it.
  const waitOf = (t: number) => {
    const now = performance.now();
    return Math.min(reads.get(t) ?? olderReads.get(t) ?? loopBusyFor(now), now - start);
  };
  // The last token ends decode speed's span, the finish generate_time's (SPEC 5).
  const last = () => Math.max(lastDelta, finish);
  // A wait that moved the speeds by more than SPEED_WAIT_SHARE of the decode span, else 0.
  const movedSpeeds = (wait: number) => (wait > SPEED_WAIT_SHARE * (lastAt - firstAt) ? wait : 0);
  const result = (): CallLag => ({ ms: Math.max(first ?? 0, movedSpeeds(last())), speedsMs: Math.max(movedSpeeds(first ?? 0), movedSpeeds(last())) });
  return {
    event(ev) {
      if (ended) return;
      if (ev.type === 'text' || ev.type === 'reasoning') {
        lastDelta = waitOf(ev.t);
        lastAt = ev.t;
        if (first === null) {
          first = lastDelta;
          firstAt = ev.t;
        }
      } else if (ev.type === 'finish') {
        finish = waitOf(ev.t);
      } else {
        // A retry's request: measurement reads the tokens after the last one.
        if (ev.type === 'request') {
          first = null;
          lastDelta = 0;
          finish = 0;
          lastAt = firstAt = 0;
        }
        // Every event handled is an observation: the bound stays tight on a busy loop.
        loopBusyFor();
      }
    },
    end() {
      if (!ended) {
        loopBusyFor();
        if (--watching === 0 && sampler) {
          clearTimeout(sampler);
          sampler = null;
        }
      }
      ended = true;
      return result();
    },
    moments: () => ({ first: first ?? 0, last: last(), spanMs: lastAt - firstAt }),
  };
}

/** A lag as stored: ms to two decimals. */
export function lagField(ms: number): number {
  return Math.round(ms * 100) / 100;
}
