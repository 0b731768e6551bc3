// Where a TTFT's time went before the provider saw the request (SPEC 18): at each sweep's
// warm-up, one no-cost request to every provider host a lane calls, timed phase by phase (DNS,
// TCP connect, TLS handshake, first byte of the answer), kept in the sweep's bench_sweeps record.
//
// Why a request of its own through node:http/https and its socket events ('lookup', 'connect',
// 'secureConnect', 'response'), rather than watching the lanes' own connections through undici's
// diagnostics_channel: undici does not time the name lookup apart from the connect, Bedrock's
// calls go over the AWS SDK's HTTP/2 session (not undici at all), and a lane opens its connection
// once per process at most, so what it saw depends on the adapter. A probe of its own times every
// host the same way, on a socket of its own (agent: false), so the lane's kept connection is left
// as it is. It costs one GET of the host's root, without any key (any status will do), and runs
// once per host per sweep, after the warm-ups and before the first measured call.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { LaneConnection } from '../store/documents.ts';
import type { ProviderStream, WarmRequest } from './provider-stream.ts';

/** How long one probe may take; a slower host is recorded as a timeout with what was timed. */
const PROBE_TIMEOUT_MS = 5000;
const ERROR_CHARS = 200;

/**
 * The origin a lane's calls go to: the adapter's own answer where it has one (Bedrock's region,
 * Vertex's location), else the provider's configured base URL; null when it calls no host (the
 * mock), cannot call it (no API key configured: every call fails before it leaves) or the URL
 * cannot be read.
 */
export function laneOrigin(stream: ProviderStream, req: WarmRequest): string | null {
  let url: string | null | undefined;
  if (stream.origin) {
    try {
      url = stream.origin(req);
    } catch {
      return null;
    }
  } else {
    const settings = (req.config.providers as Record<string, { baseUrl?: unknown; apiKey?: unknown } | undefined>)[req.provider];
    if (settings && 'apiKey' in settings && !settings.apiKey) return null;
    url = typeof settings?.baseUrl === 'string' ? settings.baseUrl : null;
  }
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

/**
 * Times one GET of `origin`'s root on a new connection. Never throws: a failure (no such host,
 * refused, a certificate refused, the timeout, the sweep's abort) is the record's `error`, beside
 * the phases that completed before it.
 */
export async function probeConnection(
  provider: string,
  origin: string,
  o: { signal: AbortSignal; timeoutMs?: number; now?: () => number; ca?: string | Buffer },
): Promise<LaneConnection> {
  const now = o.now ?? (() => performance.now());
  const record: LaneConnection = { provider, origin, dns_s: null, connect_s: null, tls_s: null, first_byte_s: null, error: null };
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return { ...record, error: `not a URL: ${origin.slice(0, ERROR_CHARS)}` };
  }
  const secure = url.protocol === 'https:';
  const signal = AbortSignal.any([o.signal, AbortSignal.timeout(o.timeoutMs ?? PROBE_TIMEOUT_MS)]);
  const s = (ms: number) => ms / 1000;
  const start = now();
  // Each phase is timed from the end of the one before it.
  let looked = isIP(url.hostname.replace(/^\[|\]$/g, '')) ? start : null;
  let connected: number | null = null;
  let secured: number | null = null;
  await new Promise<void>((resolve) => {
    const request = secure ? httpsRequest : httpRequest;
    const req = request(url, { method: 'GET', path: '/', agent: false, headers: { connection: 'close', 'user-agent': 'llm-bench-probe' }, signal, ...(o.ca ? { ca: o.ca } : {}) });
    req.on('socket', (socket) => {
      socket.once('lookup', () => {
        looked = now();
        record.dns_s = s(looked - start);
      });
      socket.once('connect', () => {
        connected = now();
        record.connect_s = s(connected - (looked ?? start));
      });
      socket.once('secureConnect', () => {
        secured = now();
        if (connected !== null) record.tls_s = s(secured - connected);
      });
      // The first bytes of the answer as they arrive, before any parsing: a host that answers
      // in something other than HTTP/1.1 (a cleartext HTTP/2-only endpoint) has answered too.
      // Before the HTTP parser's own listener, which reports such an answer as an error at once.
      socket.prependOnceListener('data', () => {
        const sent = secured ?? connected;
        if (sent !== null) record.first_byte_s = s(now() - sent);
      });
    });
    req.on('response', (res) => {
      res.resume();
      res.on('error', () => {});
      req.destroy();
      resolve();
    });
    req.on('error', (err) => {
      // Once the host answered, what it answered does not matter (see 'data' above).
      if (signal.aborted || record.first_byte_s === null) record.error = describe(signal.aborted ? signal.reason : err);
      resolve();
    });
    req.end();
  });
  return record;
}

function describe(err: unknown): string {
  const e = err as { name?: string; message?: string; code?: string } | null;
  // Node's network errors name their code in the message already ("connect ECONNREFUSED …").
  const message = e?.message && e.code && !e.message.includes(e.code) ? `${e.code}: ${e.message}` : (e?.message ?? e?.code);
  const text = e?.name === 'TimeoutError' ? 'timed out' : message || String(err);
  return text.slice(0, ERROR_CHARS);
}

/**
 * Probes each origin once, all at once (a probe waits on the network, not the CPU), in the
 * order given. Never rejects.
 */
export async function probeLanes(
  targets: Array<{ provider: string; origin: string }>,
  o: { signal: AbortSignal; timeoutMs?: number; ca?: string | Buffer },
): Promise<LaneConnection[]> {
  const seen = new Set<string>();
  const unique = targets.filter((t) => !seen.has(t.origin) && seen.add(t.origin));
  return Promise.all(unique.map((t) => probeConnection(t.provider, t.origin, o)));
}
