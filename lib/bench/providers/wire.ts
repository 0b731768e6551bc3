// What the SDKs hide and measurement needs from the wire (SPEC 5): every byte the provider
// sends (the stall watch resets on pings and keep-alives the SDKs drop), whether the call
// opened a new connection (connection_reused), and what a 200 that was not an event stream
// carried. Each call runs inside a tap held in AsyncLocalStorage, so a client shared by a
// lane's concurrent calls still reports each call's own bytes and sockets.
import { AsyncLocalStorage } from 'node:async_hooks';
import { channel, subscribe } from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { BenchError } from '../../errors.ts';
import { chunkRead } from '../loop-lag.ts';
import { monotonicNow } from '../clock.ts';
import { errorFromWire, hrNow, threadRequest } from './fetch-thread.ts';

export interface WireTap {
  /** Called on each chunk of the response body (fetch-based SDKs) or each event (others). */
  onBytes: () => void;
  /** A socket was opened while this call was in progress (node:net publishes each one). */
  newConnection: boolean;
  status: number | null;
  contentType: string | null;
  /** The first bytes of the body, kept to say what a 200 that was not a stream carried. */
  head: string;
  /** The last bytes of the body (`data: [DONE]`). */
  tail: string;
  /** The response's headers (rate limits, SPEC 18); null until a response came. */
  headers: Headers | null;
  /** When they arrived (the call's clock), or null. */
  headersAt: number | null;
  /** The call's monotonic clock (ProviderRequest.now). */
  now: () => number;
  /**
   * When the request's last byte was handed to the socket (the fetch thread's node:http tells
   * it, and fetch and HTTP/2 publish it on this thread), or null. The call's clock starts here (SPEC 5): the time the SDK took to build the request, and
   * the time the loop kept it from being sent, are ours, not the provider's.
   */
  sentAt: number | null;
  /**
   * When the body chunk the SDK is parsing arrived (SPEC 5: the clock read when the chunk
   * arrives), or null before the first chunk and for clients whose bytes we cannot see. An
   * event an SDK yields was completed by the chunk it read last: the SDKs read a chunk only
   * after yielding every event it completed.
   */
  arrivedAt: number | null;
  /** Event-stream messages (Bedrock) as they arrived and were not yet taken: `:event-type` and time. */
  messages: Array<{ type: string; t: number }>;
}

const HEAD_CHARS = 2048;
const TAIL_CHARS = 256;

const taps = new AsyncLocalStorage<WireTap>();
// Where a rehearsal (rehearsal.ts) sends what the client would send to the provider.
const redirects = new AsyncLocalStorage<URL>();

/** Runs `fn` with every request the SDK sends redirected to `origin` (the rehearsal's local server). */
export function redirectedTo<T>(origin: string, fn: () => T): T {
  return redirects.run(new URL(origin), fn);
}

/** The rehearsal's origin when the current call is a rehearsal. */
export function currentRedirect(): URL | undefined {
  return redirects.getStore();
}

// net.connect and tls.connect publish every client socket synchronously, inside the caller's
// async context: undici's connect for fetch, http2.connect for the AWS SDK.
// Connections kept for the lane must never hold the process open once the sweep is done (an
// HTTP/2 session stays referenced while idle): calls in flight keep their own timers.
subscribe('net.client.socket', (message) => {
  const tap = taps.getStore();
  if (!tap) return;
  tap.newConnection = true;
  (message as { socket?: { unref?: () => void } }).socket?.unref?.();
});

// Both publish in the async context of the call that sent the request, so the current tap is its own.
const requestSent = () => {
  const tap = taps.getStore();
  if (tap) tap.sentAt = tap.now();
};
subscribe('undici:request:bodySent', requestSent);
subscribe('http2.client.stream.bodySent', requestSent);

/** A tap for one call; pass it to `inTap` around the SDK call that sends the request. */
export function newTap(onBytes: (() => void) | undefined, now: () => number = monotonicNow): WireTap {
  return { onBytes: onBytes ?? (() => {}), newConnection: false, status: null, contentType: null, head: '', tail: '', headers: null, headersAt: null, now, sentAt: null, arrivedAt: null, messages: [] };
}

/** The time of the `connection` event: when the response's headers arrived, where the tap saw them. */
export function headersTime(tap: WireTap): number {
  return tap.headersAt ?? tap.now();
}

/** The time of an event the SDK just yielded: when its bytes arrived, where the tap saw them. */
export function arrivalTime(tap: WireTap): number {
  return tap.arrivedAt ?? tap.now();
}

/** Runs `fn` (the SDK call that connects and sends) with `tap` as the current call's tap. */
export function inTap<T>(tap: WireTap, fn: () => T): T {
  return taps.run(tap, fn);
}

/**
 * fetch for the SDKs' `fetch` option: the response's bytes pass through unchanged; with a
 * current call's tap, the request goes through the fetch thread (fetch-thread.ts), which times
 * the response's headers and each chunk of its body as they come off the socket, before the SDK
 * parses them, however busy this thread is. A request whose body the thread cannot take (a
 * stream, a form) is sent from this thread, and its chunks timed as this thread reads them.
 */
export async function tappedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
  const tap = taps.getStore();
  const to = redirects.getStore();
  if (to) {
    const url = new URL(input instanceof Request ? input.url : input);
    url.protocol = to.protocol;
    url.host = to.host;
    input = input instanceof Request ? new Request(url, input) : url;
  }
  if (tap && !(input instanceof Request)) {
    const body = threadBody(init?.body);
    if (body !== undefined) return threadFetch(String(input), init ?? {}, body, tap);
  }
  const response = await fetch(input, init);
  if (!tap) return response;
  tap.headersAt = tap.now();
  if (!response.body) return response;
  tap.status = response.status;
  tap.contentType = response.headers.get('content-type');
  tap.headers = response.headers;
  return new Response(timedBody(response.body, tap), { status: response.status, statusText: response.statusText, headers: response.headers });
}

/** A request body the fetch thread can take (a copy of it), or undefined. */
function threadBody(body: BodyInit | null | undefined): string | Uint8Array<ArrayBuffer> | null | undefined {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string') return body;
  if (body instanceof ArrayBuffer) return new Uint8Array(body.slice(0));
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  return undefined;
}

// Statuses whose response has no body (the Response constructor refuses one).
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/**
 * Each request handed to the fetch thread, published on this thread with its URL and signal
 * (`{ url, signal }`), as undici publishes its own: what a test's guard of where requests go
 * sees, now that the thread's fetch is not this thread's global one.
 */
export const threadRequests = channel('llm-bench:fetch-thread:request');

/** Sends a request through the fetch thread and answers as fetch does, the tap told each time as it was on that thread. */
function threadFetch(url: string, init: RequestInit, body: string | Uint8Array<ArrayBuffer> | null, tap: WireTap): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (threadRequests.hasSubscribers) threadRequests.publish({ url, signal });
  if (signal?.aborted) return Promise.reject(signal.reason);
  // A time on the fetch thread as the call's clock reads it: exact on the monotonic clock, and
  // a chunk's wait is then the fetch thread's. A clock a test injects is read when the message is
  // handled, as it was read on this thread before the fetch thread (the order of its readings is
  // what those tests check), and a chunk's wait is then this thread's.
  const exact = tap.now === monotonicNow;
  const callTime = exact ? (at: number) => performance.now() - Math.max(0, hrNow() - at) : () => tap.now();
  return new Promise<Response>((resolve, reject) => {
    let chunks: TimedChunks | null = null;
    const done = () => signal?.removeEventListener('abort', onAbort);
    const request = threadRequest((m) => {
      if (m.type === 'sent') {
        tap.sentAt = callTime(m.at);
      } else if (m.type === 'head') {
        tap.headersAt = callTime(m.at);
        if (m.newConnection) tap.newConnection = true;
        const headers = new Headers(m.headers);
        tap.status = m.status;
        tap.contentType = headers.get('content-type');
        tap.headers = headers;
        if (NULL_BODY.has(m.status)) {
          resolve(new Response(null, { status: m.status, statusText: m.statusText, headers }));
          return;
        }
        chunks = timedChunks(tap, () => {
          request.abort();
          done();
        });
        resolve(new Response(chunks.stream, { status: m.status, statusText: m.statusText, headers }));
      } else if (m.type === 'chunk') {
        chunks?.arrived(m.bytes, callTime(m.at), exact ? m.wait : undefined);
      } else if (m.type === 'end') {
        done();
        chunks?.end(undefined);
      } else {
        done();
        const err = errorFromWire(m.error);
        if (chunks) chunks.end(err);
        else reject(err);
      }
    });
    const onAbort = () => {
      request.abort();
      const reason = signal!.reason;
      if (chunks) chunks.end(reason);
      else reject(reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    request.fetch({ url, method: init.method ?? 'GET', headers: [...new Headers(init.headers)], body, redirect: init.redirect });
  });
}

/** The response body as the SDK reads it: chunks handed over as they were timed (timedChunks). */
interface TimedChunks {
  stream: ReadableStream<Uint8Array>;
  /** A chunk came at `t` (the call's clock), having waited up to `wait` ms before it was timed (this thread's lag when not given). */
  arrived(chunk: Uint8Array, t: number, wait?: number): void;
  /** The body ended (error undefined) or failed. */
  end(error: unknown): void;
}

/**
 * The response body as the SDK reads it, each chunk timed when it arrived rather than when
 * the SDK got to it. A chunk that arrives while the SDK waits is handed over in the loop's next
 * check phase, so the other sockets ready in the same poll are read and timed before any SDK
 * parses (README: bench:fidelity --concurrent).
 */
function timedChunks(tap: WireTap, cancel: (reason: unknown) => void | Promise<void>): TimedChunks {
  const arrived: Array<{ chunk: Uint8Array; t: number }> = [];
  let ended = null as { error: unknown } | null;
  let wake = null as (() => void) | null;
  const headDecoder = new TextDecoder();
  const tailDecoder = new TextDecoder();
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (arrived.length === 0 && !ended) {
          await new Promise<void>((resolve) => {
            wake = () => {
              wake = null;
              setImmediate(resolve);
            };
          });
        }
        const next = arrived.shift();
        if (next) {
          const { chunk, t } = next;
          tap.arrivedAt = t;
          if (tap.head.length < HEAD_CHARS) tap.head += headDecoder.decode(chunk, { stream: true }).slice(0, HEAD_CHARS - tap.head.length);
          // Only the chunk's end is decoded: the tail is for `[DONE]`, and decoding all of a long
          // stream would be our own work inside the provider's timing.
          tap.tail = (tap.tail + tailDecoder.decode(chunk.subarray(Math.max(0, chunk.length - TAIL_CHARS)))).slice(-TAIL_CHARS);
          controller.enqueue(chunk);
        } else if (ended!.error !== undefined) {
          controller.error(ended!.error);
        } else {
          controller.close();
        }
      },
      cancel,
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    arrived(chunk, t, wait) {
      chunkRead(t, wait);
      arrived.push({ chunk, t });
      tap.onBytes();
      wake?.();
    },
    end(error) {
      if (ended) return;
      ended = { error };
      wake?.();
    },
  };
}

/** A fetch body read on this thread (a request the fetch thread could not take), each chunk timed as this thread reads it. */
function timedBody(body: ReadableStream<Uint8Array>, tap: WireTap): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const chunks = timedChunks(tap, (reason) => reader.cancel(reason));
  void (async () => {
    try {
      for (;;) {
        const next = await reader.read();
        if (next.done) break;
        chunks.arrived(next.value, tap.now());
      }
      chunks.end(undefined);
    } catch (error) {
      chunks.end(error ?? new Error('the response body failed'));
    }
  })();
  return chunks.stream;
}

/**
 * An AWS event stream (Bedrock's HTTP/2 answer) as the SDK reads it, each message timed when its
 * last byte arrived (`messages` on the tap, taken by `messageArrival`), the chunks handed over a
 * check phase later, as timedBody does for fetch.
 */
export function timedEventStream(body: Readable, tap: WireTap): Readable {
  const frame = eventStreamFramer();
  let ended = false;
  const out = new Readable({
    highWaterMark: 1 << 20,
    read() {
      body.resume();
    },
    destroy(err, callback) {
      body.destroy(err ?? undefined);
      callback(err);
    },
  });
  body.on('data', (chunk: Buffer) => {
    const t = tap.now();
    chunkRead(t);
    tap.onBytes();
    for (const type of frame(chunk)) tap.messages.push({ type, t });
    setImmediate(() => {
      if (!out.push(chunk)) body.pause();
    });
  });
  body.on('end', () => {
    ended = true;
    setImmediate(() => out.push(null));
  });
  body.on('error', (err) => setImmediate(() => out.destroy(err)));
  // Closed without an end (the call aborted, the session went away): the reader must not wait on.
  body.on('close', () => setImmediate(() => ended || out.destroy(new Error('the event stream closed before its end'))));
  return out;
}

/** When the message the SDK just yielded as `type` arrived (now, when the tap never saw it). */
export function messageArrival(tap: WireTap, type: string | undefined): number {
  const i = tap.messages.findIndex((m) => m.type === type);
  if (i < 0) return tap.now();
  const { t } = tap.messages[i]!;
  tap.messages.splice(0, i + 1);
  return t;
}

/**
 * Splits the bytes of an AWS event stream into messages as they complete (prelude: total
 * length, headers length, CRC; then headers, payload, CRC) and returns each completed one's
 * `:event-type` ('' for messages without one). A length that cannot be right stops it.
 */
export function eventStreamFramer(): (chunk: Uint8Array) => string[] {
  let pending = Buffer.alloc(0);
  let broken = false;
  return (chunk) => {
    if (broken) return [];
    pending = pending.length === 0 ? Buffer.from(chunk) : Buffer.concat([pending, chunk]);
    const types: string[] = [];
    let at = 0;
    while (pending.length - at >= 12) {
      const total = pending.readUInt32BE(at);
      const headersLength = pending.readUInt32BE(at + 4);
      if (total < 16 || headersLength > total - 16) {
        broken = true;
        return types;
      }
      if (pending.length - at < total) break;
      types.push(eventTypeOf(pending.subarray(at + 12, at + 12 + headersLength)));
      at += total;
    }
    pending = pending.subarray(at);
    return types;
  };
}

/** The `:event-type` string header of an event-stream message's headers, or ''. */
function eventTypeOf(headers: Buffer): string {
  // Value sizes by type: 0/1 bool, 2 byte, 3 short, 4 int, 5 long, 6 bytes, 7 string, 8 timestamp, 9 uuid.
  const fixed = [0, 0, 1, 2, 4, 8, -1, -1, 8, 16];
  let i = 0;
  while (i < headers.length) {
    const nameLength = headers[i]!;
    const name = headers.toString('utf8', i + 1, i + 1 + nameLength);
    const type = headers[i + 1 + nameLength];
    i += 2 + nameLength;
    if (type === undefined || type > 9) return '';
    if (fixed[type]! >= 0) {
      i += fixed[type]!;
      continue;
    }
    if (i + 2 > headers.length) return '';
    const length = headers.readUInt16BE(i);
    if (name === ':event-type' && type === 7) return headers.toString('utf8', i + 2, i + 2 + length);
    i += 2 + length;
  }
  return '';
}

function isEventStream(contentType: string | null): boolean {
  return contentType !== null && /text\/event-stream|application\/vnd\.amazon\.eventstream/i.test(contentType);
}

/** The current call's tap, for code the SDK calls back (a request handler). */
export function currentTap(): WireTap | undefined {
  return taps.getStore();
}

/** Whether the body ended with the OpenAI-style `data: [DONE]` line. */
export function sawDone(tap: WireTap): boolean {
  return /data:\s*\[DONE\]\s*$/.test(tap.tail);
}

/**
 * When a call answered 200 with something that is not an event stream (an HTML page, a
 * non-streamed JSON body), the error to record: the provider's fault, never `network`
 * (SPEC 5). `hard_capability` when the body is a complete non-streamed answer (the endpoint
 * ignores `stream`), else `transient_provider`. null when the body was an event stream.
 */
export function notAStream(tap: WireTap, label: string): BenchError | null {
  if (tap.status !== 200 || isEventStream(tap.contentType)) return null;
  const kind = completeAnswer(tap.head) ? 'hard_capability' : 'transient_provider';
  const what = kind === 'hard_capability' ? 'a complete non-streamed answer' : `${tap.contentType ?? 'a body without a content type'}`;
  return new BenchError(`${label} answered HTTP 200 with ${what} instead of an event stream: ${tap.head.slice(0, 120)}`, {
    kind,
    stage: 'generate',
    httpStatus: 200,
  });
}

/** A JSON body shaped like a finished chat, Responses, Messages or Gemini answer. */
function completeAnswer(body: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (!parsed || typeof parsed !== 'object') return false;
  const o = parsed as Record<string, unknown>;
  return Array.isArray(o.choices) || Array.isArray(o.output) || Array.isArray(o.content) || Array.isArray(o.candidates);
}

const opened = new WeakMap<object, Promise<void>>();

/**
 * Opens `client`'s connection to its host with `request`, a call that costs nothing
 * (list-models, ListAsyncInvokes), once per client. Any HTTP answer will do: a 403 or 404 has
 * opened the connection all the same. A network failure is forgotten, so the next call tries
 * again. Resolves a turn after the answer: fetch hands the connection back to its pool a moment
 * after the body was read, and a request sent at once would open (and time) a second one.
 */
export function openConnection(client: object, request: () => Promise<unknown>): Promise<void> {
  let done = opened.get(client);
  if (!done) {
    done = inTap(newTap(undefined), request)
      .then(
        () => {},
        (err: unknown) => {
          if (httpStatusOf(err) !== null) return;
          opened.delete(client);
          throw err;
        },
      )
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    opened.set(client, done);
  }
  return done;
}

function httpStatusOf(err: unknown): number | null {
  const e = err as { status?: unknown; $metadata?: { httpStatusCode?: unknown } } | null;
  const status = e?.status ?? e?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : null;
}
