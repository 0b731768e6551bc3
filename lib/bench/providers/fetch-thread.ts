// The fetch thread: the SDKs' fetch requests (tappedFetch, wire.ts) are sent and their answers
// read on a worker thread of their own (fetch-worker.ts), whose event loop does nothing else.
// On the main thread a chunk is timed when the loop gets to it, which is late by however long
// the loop was busy: other streams' SDK parsing, request set-up, garbage collection (1.5–5 ms
// stretches, README: What the mark reaches). The fetch thread's loop is idle when a chunk
// comes, so the chunk is timed as it arrives, and the main thread's work no longer moves the
// published figures. This module is what both threads share: the messages, the clock and how
// an error crosses between them.
import { Worker } from 'node:worker_threads';

export type FetchRequest =
  | { type: 'fetch'; id: number; url: string; method: string; headers: Array<[string, string]>; body: string | Uint8Array<ArrayBuffer> | null; redirect: RequestRedirect | undefined }
  | { type: 'abort'; id: number };

export type FetchReply =
  | { type: 'sent'; id: number; at: number }
  | { type: 'head'; id: number; at: number; status: number; statusText: string; headers: Array<[string, string]>; newConnection: boolean }
  | { type: 'chunk'; id: number; at: number; wait: number; bytes: Uint8Array<ArrayBuffer> }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; error: WireError };

/** An error as it crosses threads: what classification reads of it (errors.ts), its causes included. */
export interface WireError {
  name: string;
  message: string;
  code?: string | number;
  errno?: number;
  syscall?: string;
  cause?: WireError;
}

/** process.hrtime in ms: one monotonic clock for every thread of the process. */
export function hrNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function errorToWire(err: unknown, depth = 0): WireError {
  if (!(err instanceof Error) && !(err instanceof DOMException)) return { name: 'Error', message: String(err) };
  const e = err as Error & { code?: unknown; errno?: unknown; syscall?: unknown };
  const out: WireError = { name: e.name, message: e.message };
  if (typeof e.code === 'string' || typeof e.code === 'number') out.code = e.code;
  if (typeof e.errno === 'number') out.errno = e.errno;
  if (typeof e.syscall === 'string') out.syscall = e.syscall;
  if (e.cause !== undefined && depth < 5) out.cause = errorToWire(e.cause, depth + 1);
  return out;
}

/** The error again on this side, of the class fetch throws (TypeError, DOMException) where it can be. */
export function errorFromWire(w: WireError): Error {
  const cause = w.cause ? errorFromWire(w.cause) : undefined;
  let err: Error;
  if (w.name === 'AbortError' || w.name === 'TimeoutError') err = new DOMException(w.message, w.name) as unknown as Error;
  else if (w.name === 'TypeError') err = new TypeError(w.message, { cause });
  else {
    err = new Error(w.message, { cause });
    err.name = w.name;
  }
  if (cause && err.cause === undefined) Object.defineProperty(err, 'cause', { value: cause, configurable: true, writable: true });
  if (w.code !== undefined) Object.assign(err, { code: w.code });
  if (w.errno !== undefined) Object.assign(err, { errno: w.errno });
  if (w.syscall !== undefined) Object.assign(err, { syscall: w.syscall });
  return err;
}

/** One request on the fetch thread, as wire.ts drives it. */
export interface ThreadRequest {
  /** Sends it (the body's buffer, when it has one, is transferred). */
  fetch(m: Omit<Extract<FetchRequest, { type: 'fetch' }>, 'type' | 'id'>): void;
  /** Tells the thread to abort it; no reply reaches the request after this. */
  abort(): void;
}

interface Thread {
  worker: Worker;
  /** Handlers of the requests in flight, by id. */
  handlers: Map<number, (m: FetchReply) => void>;
  nextId: number;
}

let thread: Thread | null = null;

/**
 * A request on the process's fetch thread, which is started on first use. The thread never keeps
 * the process alive: it is referenced only while a request is in flight.
 */
export function threadRequest(onReply: (m: FetchReply) => void): ThreadRequest {
  const t = (thread ??= startThread());
  const id = t.nextId++;
  t.handlers.set(id, onReply);
  return {
    fetch: (m) => {
      t.worker.ref();
      t.worker.postMessage({ ...m, type: 'fetch', id } satisfies FetchRequest, m.body instanceof Uint8Array ? [m.body.buffer] : []);
    },
    abort: () => {
      t.handlers.delete(id);
      t.worker.postMessage({ type: 'abort', id } satisfies FetchRequest);
    },
  };
}

function startThread(): Thread {
  const worker = new Worker(new URL('./fetch-worker.ts', import.meta.url));
  worker.unref();
  const handlers = new Map<number, (m: FetchReply) => void>();
  worker.on('message', (m: FetchReply) => {
    handlers.get(m.id)?.(m);
    if (m.type === 'end' || m.type === 'error') {
      handlers.delete(m.id);
      if (handlers.size === 0) worker.unref();
    }
  });
  worker.on('error', (err) => {
    // The thread is gone: every request in flight fails as a network error would, and the next starts a new thread.
    thread = null;
    const failed = errorToWire(new TypeError('fetch failed', { cause: err }));
    for (const [id, handle] of handlers) handle({ type: 'error', id, error: failed });
    handlers.clear();
  });
  return { worker, handlers, nextId: 1 };
}
