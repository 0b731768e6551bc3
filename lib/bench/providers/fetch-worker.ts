// The fetch thread (fetch-thread.ts): sends the SDKs' requests and reads their answers on an
// event loop of its own, which does nothing else, so each chunk is timed as it comes off the
// socket however busy the main thread is with the SDKs' parsing and its own garbage collection.
// Each message to the main thread carries the time on process.hrtime (one monotonic clock for
// every thread) and how long the chunk can have waited on this loop (loop-lag.ts, this thread's).
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import { parentPort } from 'node:worker_threads';
import { loopBusyFor, runDelayMs, watchLag } from '../loop-lag.ts';
import { errorToWire, hrNow, type FetchReply, type FetchRequest } from './fetch-thread.ts';

interface Pending {
  id: number;
  controller: AbortController;
  newConnection: boolean;
  /** The thread's run delay when undici began writing the request. */
  runDelayAtHeaders?: number;
}

const current = new AsyncLocalStorage<Pending>();
const pending = new Map<number, Pending>();

subscribe('net.client.socket', () => {
  const p = current.getStore();
  if (p) p.newConnection = true;
});
// undici publishes sendHeaders just before it writes the request and bodySent just after. A
// thread preempted in between reads the clock late by the time it waited for a core, and the
// provider's TTFT would look that much shorter: that wait is taken off (so the time is never
// after the last byte went out). Told at once, so a call on a clock of a test's own reads it
// as near the send as it can.
subscribe('undici:client:sendHeaders', () => {
  const p = current.getStore();
  if (p) p.runDelayAtHeaders = runDelayMs();
});
subscribe('undici:request:bodySent', () => {
  const p = current.getStore();
  if (!p) return;
  const at = hrNow();
  reply({ type: 'sent', id: p.id, at: at - Math.max(0, runDelayMs() - (p.runDelayAtHeaders ?? Infinity)) });
});

const port = parentPort!;
const reply = (m: FetchReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on('message', (m: FetchRequest) => {
  if (m.type === 'abort') {
    pending.get(m.id)?.controller.abort(new DOMException('This operation was aborted', 'AbortError'));
    return;
  }
  void send(m);
});

async function send(m: Extract<FetchRequest, { type: 'fetch' }>): Promise<void> {
  const p: Pending = { id: m.id, controller: new AbortController(), newConnection: false };
  pending.set(m.id, p);
  // Watched as the main thread watches a call: while requests are open, a 1 ms timer observes
  // this loop too, so the work of sending one request is seen to end before the loop polls, and
  // is not counted against the next chunk of another.
  const lag = watchLag();
  try {
    const response = await current.run(p, () =>
      fetch(m.url, { method: m.method, headers: m.headers, body: m.body, redirect: m.redirect, signal: p.controller.signal }),
    );
    reply({ type: 'head', id: m.id, at: hrNow(), status: response.status, statusText: response.statusText, headers: [...response.headers], newConnection: p.newConnection });
    if (response.body) {
      for await (const chunk of response.body) {
        const at = hrNow();
        const wait = loopBusyFor();
        // A copy of exactly the chunk's bytes: its buffer may be a slice of a larger one.
        const bytes = new Uint8Array(chunk);
        reply({ type: 'chunk', id: m.id, at, wait, bytes }, [bytes.buffer]);
      }
    }
    reply({ type: 'end', id: m.id });
  } catch (err) {
    reply({ type: 'error', id: m.id, error: errorToWire(err) });
  } finally {
    lag.end();
    pending.delete(m.id);
  }
}
