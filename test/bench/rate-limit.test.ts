import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { googleRateLimit, rateLimitFrom, rateLimitOfError, remainingShare, withRateLimit } from '../../lib/bench/rate-limit.ts';

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

describe("a failed call's rate limit (Bedrock, Vertex)", () => {
  const only = (retry_after_s: number) => ({ requests_limit: null, requests_remaining: null, tokens_limit: null, tokens_remaining: null, retry_after_s });

  test("Google's RetryInfo detail gives the delay, whole or fractional seconds; anything else gives nothing", () => {
    const body = (retryDelay: unknown) => JSON.stringify({ error: { code: 429, status: 'RESOURCE_EXHAUSTED', details: [{ '@type': 'type.googleapis.com/google.rpc.Help' }, { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay }] } });
    assert.deepEqual(googleRateLimit(body('38s')), only(38));
    assert.deepEqual(googleRateLimit(body('45.837906927s')), only(45.837906927));
    assert.deepEqual(googleRateLimit([JSON.parse(body('2s'))]), only(2));
    assert.equal(googleRateLimit(body('soon')), null);
    assert.equal(googleRateLimit(body(38)), null);
    assert.equal(googleRateLimit(JSON.stringify({ error: { code: 429, message: 'Resource exhausted.', status: 'RESOURCE_EXHAUSTED' } })), null);
    assert.equal(googleRateLimit('not json'), null);
    assert.equal(googleRateLimit(null), null);
  });

  test("an error's rate limit: the adapter's, else its headers, else the AWS SDK's $response headers", () => {
    const attached = withRateLimit(new Error('429'), only(9));
    assert.deepEqual(rateLimitOfError(attached), only(9));
    assert.equal(JSON.stringify(attached), '{}', 'never in a serialised error');
    assert.deepEqual(rateLimitOfError({ headers: new Headers({ 'retry-after': '4' }) }), only(4));
    assert.deepEqual(rateLimitOfError({ $response: { headers: { 'retry-after': '5' } } }), only(5));
    assert.equal(rateLimitOfError({ $response: { headers: { 'x-amzn-requestid': 'abc' } } }), null);
    assert.equal(rateLimitOfError('throttled'), null);
    assert.equal(rateLimitOfError(null), null);
  });
});
