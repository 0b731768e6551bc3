import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rateLimitFrom, remainingShare } from '../../lib/bench/rate-limit.ts';

describe('rate-limit headers (SPEC 18)', () => {
  test("OpenAI's and Groq's x-ratelimit-* headers become numbers, with retry-after in seconds", () => {
    const h = new Headers({
      'x-ratelimit-limit-requests': '10000',
      'x-ratelimit-remaining-requests': '9999',
      'x-ratelimit-limit-tokens': '30000',
      'x-ratelimit-remaining-tokens': '1200',
      'x-ratelimit-reset-tokens': '6m0s',
      'retry-after': '2',
    });
    const r = rateLimitFrom(h)!;
    assert.deepEqual(r, { requests_limit: 10000, requests_remaining: 9999, tokens_limit: 30000, tokens_remaining: 1200, retry_after_s: 2 });
    assert.equal(remainingShare(r), 0.04);
  });

  test("Anthropic's anthropic-ratelimit-* headers, as a plain object (the SDK error's headers)", () => {
    const r = rateLimitFrom({ 'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '0', 'retry-after-ms': '1500' })!;
    assert.deepEqual(r, { requests_limit: 50, requests_remaining: 0, tokens_limit: null, tokens_remaining: null, retry_after_s: 1.5 });
    assert.equal(remainingShare(r), 0);
  });

  test('no rate-limit header, or only values that are not counts, is no rate limit: never a 0 made up', () => {
    assert.equal(rateLimitFrom(new Headers({ 'content-type': 'text/event-stream', 'x-request-id': 'req_1' })), null);
    assert.equal(rateLimitFrom(new Headers({ 'x-ratelimit-remaining-tokens': 'lots' })), null);
    assert.equal(rateLimitFrom(null), null);
    assert.equal(remainingShare({ requests_limit: null, requests_remaining: 5, tokens_limit: 0, tokens_remaining: 0, retry_after_s: null }), null);
  });
});
