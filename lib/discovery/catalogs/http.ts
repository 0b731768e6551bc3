// The one HTTP GET every catalog fetcher uses: global fetch with a time limit, and every way a
// list-models call goes wrong (no connection, an error status, an HTML page from a proxy or
// CDN, a body that is not JSON) turned into one classified, one-line BenchError.
import { redactUrl } from '../../config.ts';
import { BenchError, classifyError } from '../../errors.ts';

/** What every catalog fetcher accepts, so tests can drive it and runs can stop it. */
export interface CatalogHttpOptions {
  /** Defaults to the global fetch. */
  fetch?: typeof globalThis.fetch;
  /** Per HTTP request (each page separately). Defaults to 30 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export const DEFAULT_CATALOG_TIMEOUT_MS = 30_000;

/** A provider that keeps answering with a next-page token is cut off here, not followed forever. */
export const MAX_PAGES = 100;

/**
 * GETs a URL and parses its JSON body.
 * @throws BenchError naming the URL (credentials redacted) and what went wrong, classified
 *   from the status (401 auth, 5xx transient_provider, …) or the transport error.
 */
export async function getJson(url: string, options: CatalogHttpOptions & { headers?: Record<string, string> } = {}): Promise<unknown> {
  const doFetch = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CATALOG_TIMEOUT_MS;
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const where = `GET ${redactUrl(stripQuery(url))}`;
  let res: Response;
  let text: string;
  try {
    res = await doFetch(url, { headers: { accept: 'application/json', ...options.headers }, signal });
    text = await res.text();
  } catch (err) {
    if (timeout.aborted) {
      throw new BenchError(`${where}: no answer within ${timeoutMs} ms`, { kind: 'timeout', cause: err });
    }
    const c = classifyError(err);
    throw new BenchError(`${where}: ${c.detail}`, { kind: c.kind, cause: err });
  }
  const contentType = res.headers.get('content-type') ?? '';
  const html = /html/i.test(contentType) || /^\s*<(!doctype|html|head|body)/i.test(text);
  if (!res.ok) {
    const summary = html ? `an HTML page${htmlTitle(text)}` : errorSummary(text);
    const message = `${where}: HTTP ${res.status}${summary ? ` ${summary}` : ''}`;
    const c = classifyError({ status: res.status, message, headers: res.headers });
    throw new BenchError(message, { kind: c.kind, httpStatus: res.status, retryAfterMs: c.retryAfterMs });
  }
  // A captive portal, a proxy login page or a CDN challenge answers 200 with HTML.
  if (html) {
    throw new BenchError(`${where}: answered an HTML page${htmlTitle(text)} instead of JSON (HTTP ${res.status})`, {
      kind: 'unknown',
      httpStatus: res.status,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new BenchError(`${where}: answered invalid JSON (HTTP ${res.status}, ${text.length} bytes: ${JSON.stringify(text.slice(0, 60))})`, {
      kind: 'unknown',
      httpStatus: res.status,
      cause: err,
    });
  }
}

/** The query string of these list calls holds page tokens: noise in a message, so left out. */
function stripQuery(url: string): string {
  const i = url.indexOf('?');
  return i === -1 ? url : url.slice(0, i);
}

function htmlTitle(text: string): string {
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(text)?.[1]?.replace(/\s+/g, ' ').trim();
  return title ? ` ("${title.slice(0, 100)}")` : '';
}

/**
 * The provider's own error message from a JSON error body, in the shapes the providers use:
 * OpenAI and the compatible hosts `{"error":{"message","type","code"}}`, Anthropic
 * `{"type":"error","error":{"type","message"}}`, Google `{"error":{"code","message","status"}}`,
 * AWS `{"message"}` or `{"Message"}`; else the start of the body.
 */
function errorSummary(text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    const t = text.replace(/\s+/g, ' ').trim();
    return t ? JSON.stringify(t.slice(0, 200)) : '';
  }
  const b = (body ?? {}) as Record<string, unknown>;
  const err = (typeof b.error === 'object' && b.error !== null ? b.error : {}) as Record<string, unknown>;
  const message = [err.message, b.message, b.Message, typeof b.error === 'string' ? b.error : null, b.detail].find(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  const type = [err.type, err.status, err.code].find((v): v is string => typeof v === 'string' && v.length > 0);
  return [type, message ? message.replace(/\s+/g, ' ').slice(0, 300) : null].filter(Boolean).join(': ');
}

/** A list response that is JSON but not the documented shape. */
export function shapeError(url: string, expected: string): BenchError {
  return new BenchError(`GET ${redactUrl(stripQuery(url))}: unexpected response, expected ${expected}`, { kind: 'unknown' });
}

/** True for a plain JSON object. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A non-empty string or null. */
export function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() ? v.trim() : null;
}

/**
 * A query string encoded as RFC 3986 requires (what AWS SigV4 signs): URLSearchParams would
 * write a space as '+' and leave some reserved characters alone. Page tokens contain '+', '/'
 * and '='.
 */
export function encodeQuery(query: Record<string, string>): string {
  const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return Object.keys(query)
    .sort()
    .map((k) => `${enc(k)}=${enc(query[k]!)}`)
    .join('&');
}
