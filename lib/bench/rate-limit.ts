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
