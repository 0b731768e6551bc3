// SPEC 18: how close a key is to its limit, from the headers providers send with every answer
// and every 429, so a throttled provider and a slow one can be told apart. Typed and bounded:
// five numbers, whatever headers arrive.
import { parseRetryAfter } from '../errors.ts';
import type { RateLimit } from '../store/documents.ts';

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/**
 * The rate-limit state the headers report, or null when they report none. OpenAI, Groq and
 * the other OpenAI-compatible hosts send `x-ratelimit-{limit,remaining}-{requests,tokens}`;
 * Anthropic `anthropic-ratelimit-{requests,tokens}-{limit,remaining}`; any may send
 * `retry-after` (seconds or a date) or `retry-after-ms`.
 */
export function rateLimitFrom(headers: HeaderBag | null | undefined, now = Date.now()): RateLimit | null {
  if (!headers) return null;
  const get = (name: string): string | null => {
    const v = typeof (headers as Headers).get === 'function' ? (headers as Headers).get(name) : (headers as Record<string, string | string[] | undefined>)[name];
    return Array.isArray(v) ? (v[0] ?? null) : (v ?? null);
  };
  const count = (...names: string[]): number | null => {
    for (const n of names) {
      const v = get(n);
      if (v === null || !/^\s*\d+(\.\d+)?\s*$/.test(v)) continue;
      return Number(v);
    }
    return null;
  };
  const retryMs = parseRetryAfter(get('retry-after-ms'), get('retry-after'), now);
  const r: RateLimit = {
    requests_limit: count('x-ratelimit-limit-requests', 'anthropic-ratelimit-requests-limit'),
    requests_remaining: count('x-ratelimit-remaining-requests', 'anthropic-ratelimit-requests-remaining'),
    tokens_limit: count('x-ratelimit-limit-tokens', 'anthropic-ratelimit-tokens-limit'),
    tokens_remaining: count('x-ratelimit-remaining-tokens', 'anthropic-ratelimit-tokens-remaining'),
    retry_after_s: retryMs === null ? null : retryMs / 1000,
  };
  return Object.values(r).some((v) => v !== null) ? r : null;
}

/** The smaller share of the requests and tokens budget left, 0..1; null when neither is known. */
export function remainingShare(r: RateLimit): number | null {
  const share = (left: number | null, limit: number | null) => (left !== null && limit !== null && limit > 0 ? left / limit : null);
  const shares = [share(r.requests_remaining, r.requests_limit), share(r.tokens_remaining, r.tokens_limit)].filter((s): s is number => s !== null);
  return shares.length ? Math.min(...shares) : null;
}

// An adapter that learns more than an error's headers say (Google's RetryInfo in the body) puts
// it here; non-enumerable, so it never shows in a logged or serialised error.
const ATTACHED = Symbol('rateLimit');

/** Attaches what an adapter read of a failed call's rate limit to its error; returns the error. */
export function withRateLimit<E>(err: E, rateLimit: RateLimit | null): E {
  if (rateLimit && err !== null && typeof err === 'object') Object.defineProperty(err, ATTACHED, { value: rateLimit, enumerable: false });
  return err;
}

/**
 * The rate limit a failed call's error carries (SPEC 18): what its adapter attached, else its
 * headers (the fetch-based SDKs' `headers`; the AWS SDK's `$response.headers`). null when none.
 */
export function rateLimitOfError(err: unknown, now = Date.now()): RateLimit | null {
  if (err === null || typeof err !== 'object') return null;
  const e = err as { [ATTACHED]?: RateLimit; headers?: HeaderBag; $response?: { headers?: HeaderBag } };
  return e[ATTACHED] ?? rateLimitFrom(e.headers ?? e.$response?.headers, now);
}

/**
 * Google's word on a 429 (Vertex, the Gemini API): no rate-limit headers, but the body's
 * `google.rpc.RetryInfo` detail may say how long to wait (`retryDelay`, a protobuf duration such
 * as "38s" or "45.837906927s"). `body` is the error's JSON (Google's `{error: {details}}`) as
 * text or parsed; null when it says nothing.
 */
export function googleRateLimit(body: unknown): RateLimit | null {
  let parsed = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return null;
    }
  }
  // The @google/genai SDK's message is the body; some proxies wrap it in an array.
  const error = (Array.isArray(parsed) ? parsed[0] : parsed) as { error?: { details?: unknown } } | null;
  const details = error?.error?.details;
  if (!Array.isArray(details)) return null;
  for (const d of details as Array<{ '@type'?: unknown; retryDelay?: unknown }>) {
    if (typeof d?.['@type'] !== 'string' || !d['@type'].endsWith('google.rpc.RetryInfo')) continue;
    const m = typeof d.retryDelay === 'string' ? /^\s*(\d+(?:\.\d+)?)s\s*$/.exec(d.retryDelay) : null;
    if (m) return { requests_limit: null, requests_remaining: null, tokens_limit: null, tokens_remaining: null, retry_after_s: Number(m[1]) };
  }
  return null;
}
