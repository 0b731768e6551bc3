// classifyError: structured fields first, message as a fallback (SPEC 7).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { APIError } from 'openai';
import { classifyError } from '../lib/errors.ts';

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
    ['a Together model that needs a dedicated endpoint', err('Unable to access non-serverless model x. Please create and start a new dedicated endpoint for the model.', { status: 400 }), 'hard_model'],
    ['a Vertex quota (HTTP 429)', err('Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute', { status: 429 }), 'rate_limit'],
    ['an o-series model refusing max_tokens', err("Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", { status: 400 }), 'hard_capability'],
    ['a connection reset under fetch', err('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }), 'network'],
    ['Anthropic overloaded (HTTP 529)', err('Overloaded', { status: 529 }), 'transient_provider'],
    ['an un-prefixed Bedrock Anthropic id', err("Invocation of model ID anthropic.claude-3-haiku with on-demand throughput isn't supported.", { name: 'ValidationException', $metadata: { httpStatusCode: 400 } }), 'hard_model'],
    ['a Bedrock model at the end of its life', err('This model version has reached the end of its life.', { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 404 } }), 'hard_model'],
    ['payment required (HTTP 402)', err('Insufficient credits', { status: 402 }), 'billing'],
  ];
  for (const [what, error, kind] of cases) {
    it(`${what} is ${kind}`, () => assert.equal(classifyError(error).kind, kind));
  }
});
