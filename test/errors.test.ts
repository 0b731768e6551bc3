// classifyError: structured fields first, message as a fallback (SPEC 7).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APIError } from 'openai';
import { buildErrorDoc, classifyError, parseRetryAfter } from '../lib/errors.ts';

describe('classifyError', () => {
  // The OpenAI SDK raises in-stream errors (Responses `error` events, chat chunks carrying
  // `{"error": …}`) as an APIError without an HTTP status; only the code says what happened.
  it('classifies an OpenAI in-stream error without HTTP status by its error code', () => {
    const cases = [
      [{ type: 'error', code: 'server_error', message: 'The server had an error processing your request.', param: null }, 'transient_provider'],
      [{ code: 'rate_limit_exceeded', message: 'Please slow down.' }, 'rate_limit'],
      [{ message: 'The server had an error while processing your request.', type: 'server_error', param: null, code: null }, 'transient_provider'],
      [{ code: 'model_not_found', message: 'Nope.' }, 'hard_model'],
    ] as const;
    for (const [body, kind] of cases) {
      const err = new APIError(undefined, body, undefined, undefined);
      assert.equal(classifyError(err).kind, kind, JSON.stringify(body));
      assert.equal(classifyError(err).httpStatus, null);
    }
  });

  it('lets the HTTP status win over an error code', () => {
    const err = APIError.generate(
      401,
      { error: { message: 'Server error in auth backend', type: 'server_error', code: 'server_error' } },
      undefined,
      new Headers(),
    );
    assert.equal(classifyError(err).kind, 'auth');
  });
});

describe('classifyError on the failures the seeds and providers report', () => {
  const err = (message: string, fields: Record<string, unknown>) => Object.assign(new Error(message), fields);
  const cases: Array<[string, unknown, string]> = [
    ['an AWS profile missing on the host', err('The config profile (zh-ml-mlengineer) could not be found', { name: 'ProfileNotFound' }), 'auth'],
    ['no AWS credentials at all', err('Could not load credentials from any providers', { name: 'CredentialsProviderError' }), 'auth'],
    ['a decommissioned Groq model (HTTP 400)', err('The model `mixtral-8x7b-32768` has been decommissioned and is no longer supported.', { status: 400 }), 'hard_model'],
    ['OpenAI out of quota (HTTP 429, insufficient_quota)', err('You exceeded your current quota, please check your plan and billing details.', { status: 429, code: 'insufficient_quota' }), 'billing'],
    // Proxies and OpenAI-compatible hosts pass the message on without OpenAI's code.
    ['out of credits (HTTP 429 without the insufficient_quota code)', err('You exceeded your current quota, please check your plan and billing details.', { status: 429 }), 'billing'],
    ['out of credits, the code only inside the error body', err('429 quota', { status: 429, error: { code: 'insufficient_quota', message: 'quota' } }), 'billing'],
    ['a Together model that needs a dedicated endpoint', err('Unable to access non-serverless model x. Please create and start a new dedicated endpoint for the model.', { status: 400 }), 'hard_model'],
    ['a Vertex quota (HTTP 429)', err('Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute', { status: 429 }), 'rate_limit'],
    ['an o-series model refusing max_tokens', err("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", { status: 400 }), 'hard_capability'],
    ['a connection reset under fetch', err('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }), 'network'],
    ['Anthropic overloaded (HTTP 529)', err('Overloaded', { status: 529 }), 'transient_provider'],
    ['an un-prefixed Bedrock Anthropic id', err("Invocation of model ID anthropic.claude-3-haiku with on-demand throughput isn't supported.", { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }), 'hard_model'],
    ['a Bedrock model at the end of its life', err('This model version has reached the end of its life.', { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } }), 'hard_model'],
    ['payment required (HTTP 402)', err('Insufficient credits', { status: 402 }), 'billing'],
    ['Anthropic out of credits (HTTP 400)', err('Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.', { status: 400 }), 'billing'],
    ['a host answering HTTP 500 for a model it no longer serves', err('Model llama-2-70b-chat does not exist', { status: 500 }), 'hard_model'],
    ['a project without access to the model (HTTP 403)', err('Project `proj_abc` does not have access to model `gpt-5`', { status: 403 }), 'auth'],
  ];
  for (const [what, error, kind] of cases) {
    it(`${what} is ${kind}`, () => assert.equal(classifyError(error).kind, kind));
  }
});

describe('the delay a provider asks for before a retry', () => {
  // HTTP dates have whole seconds.
  const now = Math.floor(Date.now() / 1000) * 1000;

  it('reads retry-after-ms as milliseconds, before Retry-After', () => {
    const err = Object.assign(new Error('429 slow down'), { status: 429, headers: new Headers({ 'retry-after-ms': '1500', 'retry-after': '2' }) });
    assert.equal(classifyError(err).retryAfterMs, 1500);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    assert.equal(parseRetryAfter(null, '7', now), 7000);
    assert.equal(parseRetryAfter(null, new Date(now + 30_000).toUTCString(), now), 30_000);
    assert.equal(parseRetryAfter(null, new Date(now - 30_000).toUTCString(), now), 0, 'a date already past asks for no wait');
    assert.equal(parseRetryAfter(null, 'soon', now), null);
  });
});

describe('buildErrorDoc (errors_cloud documents)', () => {
  const fields = (message: string, error_kind: 'transient_provider' | 'rate_limit' = 'transient_provider') => ({
    provider: 'groq',
    model_name: 'llama-3.3-70b-versatile',
    ts: new Date(),
    stage: 'generate' as const,
    error_kind,
    message,
    http_status: 500,
    run_id: 'run-1',
    benchmark_profile_id: 'default',
    runner: 'test',
  });

  it('gives the same failure one fingerprint whatever request id it carries, so the report counts it once', () => {
    const a = buildErrorDoc(fields('Internal error 5f1e0c9a7b3d2e4f6a8b9c0d, please retry'));
    const b = buildErrorDoc(fields('Internal error 0a9b8c7d6e5f4a3b2c1d0e9f, please retry'));
    assert.equal(a.fingerprint, b.fingerprint);
    assert.notEqual(a.fingerprint, buildErrorDoc(fields('Internal error 5f1e0c9a7b3d2e4f6a8b9c0d, please retry', 'rate_limit')).fingerprint);
  });

  it('never keeps a key the provider echoed in its message', () => {
    const doc = buildErrorDoc(fields('Incorrect API key provided: sk-proj-abcdefghijklmnop0123. Find your key at …'));
    assert.doesNotMatch(JSON.stringify(doc), /abcdefghijklmnop0123/);
    assert.match(doc.message, /^Incorrect API key provided: \*\*\*\. /);
  });
});
