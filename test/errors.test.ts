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
