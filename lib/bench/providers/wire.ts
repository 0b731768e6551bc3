// What the SDKs hide and measurement needs from the wire (SPEC 5): every byte the provider
// sends (the stall watch resets on pings and keep-alives the SDKs drop), whether the call
// opened a new connection (connection_reused), and what a 200 that was not an event stream
// carried. Each call runs inside a tap held in AsyncLocalStorage, so a client shared by a
// lane's concurrent calls still reports each call's own bytes and sockets.
import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe } from 'node:diagnostics_channel';
import { BenchError } from '../../errors.ts';

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

/** A tap for one call; pass it to `inTap` around the SDK call that sends the request. */
export function newTap(onBytes: (() => void) | undefined): WireTap {
  return { onBytes: onBytes ?? (() => {}), newConnection: false, status: null, contentType: null, head: '', tail: '', headers: null };
}

/** Runs `fn` (the SDK call that connects and sends) with `tap` as the current call's tap. */
export function inTap<T>(tap: WireTap, fn: () => T): T {
  return taps.run(tap, fn);
}

/**
 * fetch for the SDKs' `fetch` option: the response body passes through unchanged, each chunk
 * reported to the current call's tap (when there is one) as it is read.
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
  const response = await fetch(input, init);
  if (!tap || !response.body) return response;
  tap.status = response.status;
  tap.contentType = response.headers.get('content-type');
  tap.headers = response.headers;
  const headDecoder = new TextDecoder();
  const tailDecoder = new TextDecoder();
  const watched = response.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        tap.onBytes();
        if (tap.head.length < HEAD_CHARS) tap.head += headDecoder.decode(chunk, { stream: true }).slice(0, HEAD_CHARS - tap.head.length);
        // Only the chunk's end is decoded: the tail is for `[DONE]`, and decoding all of a long
        // stream would be our own work inside the provider's timing.
        tap.tail = (tap.tail + tailDecoder.decode(chunk.subarray(Math.max(0, chunk.length - TAIL_CHARS)))).slice(-TAIL_CHARS);
        controller.enqueue(chunk);
      },
    }),
  );
  return new Response(watched, { status: response.status, statusText: response.statusText, headers: response.headers });
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
