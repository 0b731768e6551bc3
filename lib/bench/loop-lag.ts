// The runner checking itself (SPEC 18): how late the client's event loop ran when a call's
// published times were taken. A chunk is timed when the loop reads it, so a loop busy with
// other streams' parsing, paused for garbage collection or not scheduled by the OS times it late
// by as long as it was kept waiting.
//
// How it is sampled: a 1 ms timer records how late each of its firings was (a ring of the last
// few seconds). Chosen over what else perf_hooks offers:
// - monitorEventLoopDelay keeps one histogram for the whole process, read by resetting it, so
//   calls that overlap (lanes side by side) cannot each have their own worst, nor say when a
//   delay happened; its default 10 ms resolution is coarser than the errors in question.
// - performance.eventLoopUtilization says how busy the loop was, not how long anything waited:
//   40 % busy in 0.1 ms slices delays no chunk by more than 0.1 ms, while one 8 ms pause in an
//   idle loop delays one by 8 ms.
// A late timer is late for the same reasons a socket read is, so its lateness is the wait a chunk
// arriving then had. It costs about 3 % of a core (1,000 wake-ups a second, measured idle), and runs
// only while a call is open. libuv keeps the loop's time in whole milliseconds, so an idle loop
// fires it up to about 1 ms late: lag below that is noise, which the threshold stays far above.
//
// Which moments count: those the published figures are taken at (the request for TTFT, the first
// token for TTFT and decode speed, the last token and the last event for decode speed and
// generate time), each with the waits of the WINDOW_MS before it (a chunk that arrived during a
// pause is read some loop turns after it, behind the other streams' backlog) and, for the
// request, after it (a request held back after its time was taken). The worst lag anywhere in
// the stream would mark nearly every row: a call of a second or more almost always sees a GC
// pause of a few ms somewhere, and a pause while it only waits for its first byte, or between
// two middle chunks, moves none of its published figures. Threshold and window were chosen with
// `npm run bench:fidelity -- --concurrent` (README: Evidence each row carries).

import type { RowEvidence } from '../store/documents.ts';
import type { StreamEvent } from './provider-stream.ts';

/** How often the loop is sampled. */
const PERIOD_MS = 1;
/** Samples kept: a few seconds, longer than any window read from them. */
const RING = 4096;

/**
 * Lag above which a row is marked `evidence.saturated` (SPEC 18): the runner may have added more
 * than 10 ms to the row's figures, a few per cent of a typical TTFT. Lower marks ordinary runs,
 * which the mark must not hide: at the default concurrency on 2 idle cores, the lag of a sweep's
 * rows has a median of about 2 ms and a p99 of about 8 ms (`npm run bench:sweep`, 200 calls: 2 ms
 * marked 53 % of them, 5 ms 8 %, 10 ms none), the ordinary cost of nine streams' parsing and
 * the garbage collector sharing one thread. What it does catch: a lane's first call made before
 * its SDK was loaded (35-60 ms, every lane at once), a blocked loop, a starved process. The
 * concurrent fidelity figures over marked and unmarked rows are in the README.
 */
export const SATURATED_LAG_MS = 10;

/**
 * How long before each moment (and after a request) its waits are counted. In 22 runs of
 * bench:fidelity --concurrent on 2 shared cores, the rows left unmarked with 20 ms were within
 * target (TTFT p99 <= 2 ms, decode <= 1 %) in 20; with 10 ms in 15, 5 ms in 14, 2 ms in 8.
 */
export const WINDOW_MS = 20;

/** True when a call's lag may have timed its published figures late by more than they allow. */
export function isSaturated(lagMs: number | null | undefined, thresholdMs = SATURATED_LAG_MS): boolean {
  return typeof lagMs === 'number' && lagMs > thresholdMs;
}

/** The evidence a row's lag gives: `saturated` past the threshold, else nothing. */
export function saturationEvidence(lagMs: number | null | undefined, thresholdMs = SATURATED_LAG_MS): RowEvidence | undefined {
  return isSaturated(lagMs, thresholdMs) ? { saturated: true } : undefined;
}

/** The lag of one call, from when it was opened. */
export interface LagWatch {
  /** Called with each stream event as it is read: counts the moments the published figures are taken at. */
  event(type: StreamEvent['type']): void;
  /** After the last event: counts its moment, stops watching and returns the worst lag (ms). */
  end(): number;
}

const firedAt = new Float64Array(RING);
const lateness = new Float64Array(RING);
let samples = 0;
let timer: NodeJS.Timeout | null = null;
/** When the pending sample is due (performance.now). */
let due = 0;
let watching = 0;

/** The span after a request whose waits count for it, and the worst so far. */
interface RequestWindow {
  from: number;
  to: number;
  worst: number;
}
/**
 * Open request windows, followed by each sample rather than read back from the ring: the next
 * event of a call may come many seconds after its request (a slow first token), past the ring.
 */
const requestWindows = new Set<RequestWindow>();

function sample(): void {
  const now = performance.now();
  const late = Math.max(0, now - due);
  const i = samples++ % RING;
  firedAt[i] = now;
  lateness[i] = late;
  for (const r of requestWindows) {
    // This sample waited from now - late to now; the part before the request did not delay it.
    if (now - late <= r.to) r.worst = Math.max(r.worst, Math.min(late, now - r.from));
    if (now > r.to) requestWindows.delete(r);
  }
  due = now + PERIOD_MS;
  timer!.refresh();
}

/** The worst lateness of the samples fired since `from`, and of the pending one if it is overdue now. */
function worstSince(from: number, now: number): number {
  let worst = Math.max(0, now - due);
  for (let k = samples - 1; k >= Math.max(0, samples - RING); k--) {
    if (firedAt[k % RING]! < from) break;
    worst = Math.max(worst, lateness[k % RING]!);
  }
  return worst;
}

/**
 * A sample late by more than this was a stall (a collection, a blocked loop, the process not
 * scheduled), not a loop busy with ordinary work (whose samples are 1-3 ms late).
 */
const STALL_MS = 5;

/**
 * How long the loop has been held until `now` by stalls back to back: the pending sample if it
 * is overdue, and each earlier sample that stalled and fired just before the next stall began.
 * A chunk that arrived during the first of them is read only now, though that stall may have
 * ended more than a window ago (a 1.5 s block, then 55 ms of the process not being scheduled:
 * seen beside two busy cores).
 */
function heldFor(now: number): number {
  let start = now - due > STALL_MS ? due : now;
  for (let k = samples - 1; k >= Math.max(0, samples - RING); k--) {
    if (firedAt[k % RING]! < start - PERIOD_MS - STALL_MS || lateness[k % RING]! <= STALL_MS) break;
    start = Math.min(start, firedAt[k % RING]! - lateness[k % RING]!);
  }
  return now - start;
}

/**
 * Starts watching the loop's lag for one call; the sampler runs while any call is watched.
 * Each watch must be ended (in a finally).
 */
export function watchLag(windowMs = WINDOW_MS): LagWatch {
  const start = performance.now();
  if (watching++ === 0) {
    due = start + PERIOD_MS;
    timer = setTimeout(sample, PERIOD_MS);
    // Never what keeps a process alive.
    timer.unref();
  }
  let worst = 0;
  let ended = false;
  let sawDelta = false;
  /** The lag at the latest token, counted when no later one comes. */
  let lastDelta = 0;
  let request: RequestWindow | null = null;
  const count = (lag: number) => {
    worst = Math.max(worst, lag);
  };
  // A wait that began before the call opened did not delay it.
  const lagNow = (now: number) => Math.min(Math.max(worstSince(now - windowMs, now), heldFor(now)), now - start);
  /** Counts the last request's window: what the samples saw, and the pending sample if it is overdue within it. */
  const settleRequest = (now: number) => {
    if (!request) return;
    const overdue = Math.max(0, Math.min(now, request.to) - Math.max(due, request.from));
    count(Math.max(request.worst, overdue));
    requestWindows.delete(request);
    request = null;
  };
  return {
    event(type) {
      if (ended) return;
      const now = performance.now();
      if (type === 'request') {
        // A retry's request: measurement reads the tokens after the last one.
        settleRequest(now);
        count(lagNow(now));
        request = { from: now, to: now + windowMs, worst: 0 };
        requestWindows.add(request);
        sawDelta = false;
      } else if (type === 'text' || type === 'reasoning') {
        lastDelta = lagNow(now);
        if (!sawDelta) count(lastDelta);
        sawDelta = true;
      }
    },
    end() {
      if (ended) return worst;
      const now = performance.now();
      settleRequest(now);
      count(Math.max(lastDelta, lagNow(now)));
      ended = true;
      if (--watching === 0 && timer) {
        clearTimeout(timer);
        timer = null;
      }
      return worst;
    },
  };
}

/** A lag as stored: ms to two decimals (the sampler's resolution is coarser). */
export function lagField(ms: number): number {
  return Math.round(ms * 100) / 100;
}
