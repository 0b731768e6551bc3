// The fetch thread (fetch-thread.ts): sends the SDKs' requests and reads their answers on an
// event loop of its own, which does nothing else, so each chunk is timed as it comes off the
// socket however busy the main thread is with the SDKs' parsing and its own garbage collection.
// Each message to the main thread carries the time on process.hrtime (one monotonic clock for
// every thread) and how long the chunk can have waited on this loop (loop-lag.ts, this thread's).
//
// Requests go out through node:http and node:https, not this thread's fetch: a chunk is then one
// 'data' event straight from the socket's read, where fetch would take it through web streams
// and promises. That work was this loop's busy stretches (1.5–3 ms, a garbage collection of up
// to 10 ms now and then), the time a chunk could have waited unseen, and the bound every row
// carries. What fetch does for the SDKs is done here: a body decoded as its content-encoding
// says, redirects followed, connections kept alive, errors named as fetch names them.
import { subscribe } from 'node:diagnostics_channel';
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { parentPort } from 'node:worker_threads';
import { createBrotliDecompress, createGunzip, createInflate, constants as zlib } from 'node:zlib';
import type { Transform } from 'node:stream';
import { loopBusyFor, runDelayMs, watchLag } from '../loop-lag.ts';
import { errorToWire, hrNow, type FetchReply, type FetchRequest } from './fetch-thread.ts';

// Connections kept alive as fetch (undici) keeps them: an idle one is closed after 4 s, or a
// second before the server's own `Keep-Alive: timeout=` if that is sooner, so a request never
// goes out on a connection the server is about to drop. A request in flight is never cut by it.
const KEEP_ALIVE_MS = 4000;
const agents = {
  'http:': new HttpAgent({ keepAlive: true, timeout: KEEP_ALIVE_MS }),
  'https:': new HttpsAgent({ keepAlive: true, timeout: KEEP_ALIVE_MS }),
};
const MAX_REDIRECTS = 20;

interface Pending {
  controller: AbortController;
  /** The socket a request of this call opened (node:net publishes each one), as fetch's callers learn. */
  newConnection: boolean;
}

const pending = new Map<number, Pending>();
/** The call whose request is being set up right now (sockets are opened synchronously inside it). */
let connecting: Pending | null = null;

subscribe('net.client.socket', () => {
  if (connecting) connecting.newConnection = true;
});

const port = parentPort!;
const reply = (m: FetchReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

// Every piece of work this loop does ends with an observation (loopBusyFor), so the moment it
// last blocked is known closely: work nobody observed before a block would count against the
// next chunk read after it.
port.on('message', (m: FetchRequest) => {
  if (m.type === 'abort') pending.get(m.id)?.controller.abort(new DOMException('This operation was aborted', 'AbortError'));
  else void send(m);
  loopBusyFor();
});

async function send(m: Extract<FetchRequest, { type: 'fetch' }>): Promise<void> {
  const p: Pending = { controller: new AbortController(), newConnection: false };
  pending.set(m.id, p);
  // Watched as the main thread watches a call: while requests are open, a 1 ms timer observes
  // this loop too, so the work of sending one request is seen to end before the loop polls, and
  // is not counted against the next chunk of another.
  const lag = watchLag();
  let inBody = false;
  try {
    let url = new URL(m.url);
    let method = m.method;
    let body = m.body;
    for (let redirects = 0; ; redirects++) {
      const response = await exchange(m.id, p, url, method, m.headers, body);
      const location = response.headers.location;
      if (m.redirect !== 'manual' && location && [301, 302, 303, 307, 308].includes(response.statusCode ?? 0)) {
        response.resume();
        if (m.redirect === 'error' || redirects >= MAX_REDIRECTS) throw new TypeError('fetch failed', { cause: new Error(`redirect to ${location} not followed`) });
        // As fetch does: 303, and 301 or 302 after a POST, become a GET without a body.
        if (response.statusCode === 303 || ((response.statusCode === 301 || response.statusCode === 302) && method === 'POST')) {
          method = 'GET';
          body = null;
        }
        url = new URL(location, url);
        continue;
      }
      reply({ type: 'head', id: m.id, at: hrNow(), status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', headers: headerPairs(response), newConnection: p.newConnection });
      loopBusyFor();
      inBody = true;
      await readBody(m.id, response, p.controller.signal);
      reply({ type: 'end', id: m.id });
      return;
    }
  } catch (err) {
    // Named as fetch names them: a request that failed is "fetch failed", a body cut off "terminated", each with the socket's error as its cause.
    const named = err instanceof TypeError || (err as Error)?.name === 'AbortError' ? err : new TypeError(inBody ? 'terminated' : 'fetch failed', { cause: err });
    reply({ type: 'error', id: m.id, error: errorToWire(named) });
  } finally {
    lag.end();
    pending.delete(m.id);
  }
}

/** One request and its response's head. */
function exchange(id: number, p: Pending, url: URL, method: string, headers: Array<[string, string]>, body: string | Uint8Array | null): Promise<IncomingMessage> {
  const signal = p.controller.signal;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const secure = url.protocol === 'https:';
    if (!secure && url.protocol !== 'http:') {
      reject(new TypeError('fetch failed', { cause: new Error(`unsupported protocol ${url.protocol}`) }));
      return;
    }
    const outgoing: Record<string, string> = {};
    for (const [name, value] of headers) outgoing[name] = outgoing[name] === undefined ? value : `${outgoing[name]}, ${value}`;
    if (!('accept-encoding' in outgoing)) outgoing['accept-encoding'] = 'gzip, deflate, br';
    if (body !== null) outgoing['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    const options = { method, headers: outgoing, agent: secure ? agents['https:'] : agents['http:'], signal };
    connecting = p;
    const req = (secure ? httpsRequest : httpRequest)(url, options, resolve);
    connecting = null;
    req.on('error', (err) => reject(signal.aborted ? signal.reason : err));
    // The request's last byte went to the kernel: the call's clock starts here. A thread
    // preempted since the request began reads the clock late by the time it waited for a core,
    // and the provider's TTFT would look that much shorter: that wait is taken off.
    const runDelayAtStart = runDelayMs();
    req.on('finish', () => {
      reply({ type: 'sent', id, at: hrNow() - Math.max(0, runDelayMs() - runDelayAtStart) });
      loopBusyFor();
    });
    req.end(body ?? undefined);
  });
}

/** The response's chunks to the main thread, each timed as it was read (after decoding, when the body is encoded). */
function readBody(id: number, response: IncomingMessage, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const decoder = decoderFor(response.headers['content-encoding']);
    const source = decoder ? response.pipe(decoder) : response;
    if (decoder) response.on('error', (err) => decoder.destroy(err));
    let arrived: { at: number; wait: number } | null = null;
    // The time is taken as the socket's bytes are read; a decoder hands on what they held within the same turn.
    response.on('data', () => {
      arrived ??= { at: hrNow(), wait: loopBusyFor() };
    });
    source.on('data', (chunk: Buffer) => {
      const { at, wait } = arrived ?? { at: hrNow(), wait: loopBusyFor() };
      arrived = null;
      // A copy of exactly the chunk's bytes: its buffer may be a slice of a larger one.
      const bytes = new Uint8Array(chunk);
      reply({ type: 'chunk', id, at, wait, bytes }, [bytes.buffer]);
      loopBusyFor();
    });
    source.on('end', () => {
      resolve();
      loopBusyFor();
    });
    source.on('error', (err) => reject(signal.aborted ? signal.reason : err));
    response.on('aborted', () => reject(signal.aborted ? signal.reason : Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })));
    signal.addEventListener('abort', () => {
      response.destroy();
      reject(signal.reason);
    }, { once: true });
  });
}

/** A decoder for an encoded body (flushing as it goes, so a stream's events pass at once), or null. */
function decoderFor(encoding: string | undefined): Transform | null {
  switch (encoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return createGunzip({ flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH });
    case 'deflate':
      return createInflate({ flush: zlib.Z_SYNC_FLUSH, finishFlush: zlib.Z_SYNC_FLUSH });
    case 'br':
      return createBrotliDecompress({ flush: zlib.BROTLI_OPERATION_FLUSH, finishFlush: zlib.BROTLI_OPERATION_FLUSH });
    default:
      return null;
  }
}

function headerPairs(response: IncomingMessage): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const raw = response.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!, raw[i + 1]!]);
  return pairs;
}
