// OpenAI through the Responses API, with the real `openai` SDK against the local fake
// (test/fakes/openai-server.ts) speaking Responses SSE (`event:` + `data:` lines).
import assert from 'node:assert/strict';
import { beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../../lib/config.ts';
import { BenchError, classifyError } from '../../../lib/errors.ts';
import { isReasoningModel, streamOpenAI } from '../../../lib/bench/providers/openai.ts';
import type { ProviderRequest } from '../../../lib/bench/provider-stream.ts';
import { startOpenAIServer } from '../../fakes/openai-server.ts';
import type { OpenAIFakeScenario, OpenAIScenarioFor } from '../../fakes/openai-server.ts';
import { assertClockTimes, collect, ofType, only, providerRequest, requestBody, serveFile, texts, trackWireServers, types } from '../../fakes/provider-harness.ts';
import type { TestRequest } from '../../fakes/provider-harness.ts';
import { responses, sse, type WireWrite } from '../../fakes/wire-server.ts';

const STORY: OpenAIFakeScenario = {
  chunks: [
    { atMs: 5, text: 'Once upon' },
    { atMs: 10, text: ' a time, the' },
    { atMs: 15, text: ' world began.' },
  ],
  usage: { input: 14, output: 9, cached: 3 },
  finishReason: 'stop',
};

const THINK_THEN_TELL: OpenAIFakeScenario = {
  chunks: [
    { atMs: 2, reasoning: '**Planning** the story' },
    { atMs: 4, reasoning: ' from the beginning.' },
    { atMs: 8, text: 'Long ago' },
    { atMs: 12, text: ' people farmed.' },
  ],
  usage: { input: 14, output: 90, reasoning: 80 },
  finishReason: 'stop',
};

/** Thinking that uses up the budget: no visible text, response.incomplete. */
const ONLY_THINKING: OpenAIFakeScenario = {
  chunks: [{ atMs: 3, reasoning: 'Considering' }],
  usage: { input: 14, output: 128, reasoning: 128 },
  finishReason: 'length',
};

let scenarioFor: OpenAIScenarioFor = () => STORY;
const server = serveFile(() => startOpenAIServer((r) => scenarioFor(r)));
beforeEach(() => {
  scenarioFor = () => STORY;
});

function request(overrides: Partial<ProviderRequest> = {}): TestRequest {
  return providerRequest({
    provider: 'openai',
    modelId: 'gpt-4o-mini',
    config: loadConfig({ env: { OPENAI_API_KEY: 'sk-test-0123456789abcdef', OPENAI_BASE_URL: server.baseUrl }, dotenvPath: false }),
    ...overrides,
  });
}

function body(i = 0): Record<string, unknown> {
  return requestBody(server, i);
}

function unsupported(param: string, code = 'unsupported_parameter'): OpenAIFakeScenario {
  return {
    status: 400,
    chunks: [],
    errorBody: {
      error: {
        message: `Unsupported parameter: '${param}' is not supported with this model.`,
        type: 'invalid_request_error',
        param,
        code,
      },
    },
  };
}

describe('streamOpenAI', () => {
  it('posts model, input, max_output_tokens, temperature and stream to /v1/responses, and yields timed events in order', async () => {
    const req = request();
    const { events, error } = await collect(streamOpenAI(req));
    assert.equal(error, null);
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text', 'text', 'usage', 'finish']);

    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0]!.path, '/v1/responses');
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer sk-test-0123456789abcdef');
    assert.deepEqual(body(), {
      model: 'gpt-4o-mini',
      input: 'Tell a long and happy story about the history of the world.',
      max_output_tokens: 64,
      stream: true,
      temperature: 0.1,
    });

    const sent = only(events, 'request');
    assert.equal(sent.mode, 'openai_responses_stream');
    assert.equal(sent.maxTokens, 64);
    assert.equal(sent.temperature, 0.1);
    assert.equal(sent.reasoningEffort, null);
    assert.deepEqual(sent.applied, {});

    assert.equal(texts(events, 'text').join(''), 'Once upon a time, the world began.');
    const finish = only(events, 'finish');
    assert.equal(finish.reason, 'stop');
    assert.equal(finish.rawReason, 'completed');
    assert.match(finish.responseId ?? '', /^resp_/);
    assertClockTimes(events, req.clock);
  });

  it('takes usage only from response.completed, with reasoning and cached tokens from the details', async () => {
    scenarioFor = () => THINK_THEN_TELL;
    const { events } = await collect(streamOpenAI(request({ modelId: 'o4-mini' })));
    assert.equal(types(events).indexOf('usage'), types(events).length - 2, 'usage comes with the final event');
    const { usage } = only(events, 'usage');
    assert.deepEqual(
      [usage.inputTokens, usage.outputTokens, usage.reasoningTokens, usage.cachedInputTokens, usage.totalTokens],
      [14, 90, 80, 0, 104],
    );
    assert.equal((usage.raw as { output_tokens: number }).output_tokens, 90);
  });

  it('yields one text event per delta when a delta carries several tokens', async () => {
    scenarioFor = () => ({
      chunks: [
        { atMs: 3, text: ' tok tok tok tok tok' },
        { atMs: 6, text: ' tok tok tok tok tok' },
      ],
      usage: { input: 14, output: 10 },
    });
    const { events } = await collect(streamOpenAI(request()));
    assert.deepEqual(texts(events, 'text'), [' tok tok tok tok tok', ' tok tok tok tok tok']);
    assert.equal(only(events, 'usage').usage.outputTokens, 10);
  });

  it('sends a reasoning model effort low, no temperature and at least 128 tokens, and yields reasoning before text', async () => {
    scenarioFor = () => THINK_THEN_TELL;
    const req = request({ modelId: 'o4-mini' });
    const { events, error } = await collect(streamOpenAI(req));
    assert.equal(error, null);
    assert.deepEqual(body(), {
      model: 'o4-mini',
      input: 'Tell a long and happy story about the history of the world.',
      max_output_tokens: 128,
      stream: true,
      reasoning: { effort: 'low' },
    });
    assert.deepEqual(types(events), ['request', 'first_byte', 'reasoning', 'reasoning', 'text', 'text', 'usage', 'finish']);
    assert.deepEqual(texts(events, 'reasoning'), ['**Planning** the story', ' from the beginning.']);
    const sent = only(events, 'request');
    assert.equal(sent.maxTokens, 128);
    assert.equal(sent.temperature, null);
    assert.equal(sent.reasoningEffort, 'low');
    assert.deepEqual(sent.applied, { reasoning_effort: 'low', omit_temperature: true });
    assertClockTimes(events, req.clock);
  });

  it('takes the reasoning effort from misc and keeps a budget above 128 as it is', async () => {
    await collect(streamOpenAI(request({ modelId: 'gpt-5-mini', maxTokens: 1000, misc: { reasoning_effort: 'minimal' } })));
    assert.deepEqual(body().reasoning, { effort: 'minimal' });
    assert.equal(body().max_output_tokens, 1000);
  });

  it('yields full reasoning text deltas (gpt-oss) as reasoning', async () => {
    scenarioFor = () => THINK_THEN_TELL;
    const { events, error } = await collect(streamOpenAI(request({ modelId: 'gpt-oss-120b', misc: { reasoning: true } })));
    assert.equal(error, null);
    assert.deepEqual(texts(events, 'reasoning'), ['**Planning** the story', ' from the beginning.']);
    assert.deepEqual(body().reasoning, { effort: 'low' });
  });

  it('treats gpt-5*, o1, o3 and o4 ids as reasoning models unless misc.reasoning says otherwise', () => {
    for (const id of ['gpt-5', 'gpt-5-mini', 'o1', 'o3-mini', 'o4-mini']) assert.equal(isReasoningModel(id, {}), true, id);
    for (const id of ['gpt-4o', 'gpt-4.1-mini', 'omni-moderation-latest']) assert.equal(isReasoningModel(id, {}), false, id);
    assert.equal(isReasoningModel('gpt-5-chat-latest', { reasoning: false }), false);
    assert.equal(isReasoningModel('my-finetune', { reasoning: true }), true);
  });

  it('ignores keep-alive comment lines and CRLF line endings', async () => {
    scenarioFor = () => ({ ...STORY, pings: true, crlf: true });
    const { events, error } = await collect(streamOpenAI(request()));
    assert.equal(error, null);
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text', 'text', 'usage', 'finish']);
    assert.equal(texts(events, 'text').join(''), 'Once upon a time, the world began.');
  });

  it('reports no usage event when the response carries none', async () => {
    scenarioFor = () => ({ ...STORY, usage: null });
    const { events } = await collect(streamOpenAI(request()));
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text', 'text', 'finish']);
  });

  it("maps response.incomplete (max_output_tokens) after visible text to finish 'length' without a retry", async () => {
    scenarioFor = () => ({ ...STORY, finishReason: 'length' });
    const { events, error } = await collect(streamOpenAI(request()));
    assert.equal(error, null);
    assert.equal(server.requests.length, 1);
    const finish = only(events, 'finish');
    assert.equal(finish.reason, 'length');
    assert.equal(finish.rawReason, 'max_output_tokens');
  });

  it('retries with four times the budget when reasoning used it all before any text, as a new request', async () => {
    scenarioFor = (r) => ((r.body as { max_output_tokens: number }).max_output_tokens < 512 ? ONLY_THINKING : THINK_THEN_TELL);
    const req = request({ modelId: 'o3-mini' });
    const { events, error } = await collect(streamOpenAI(req));
    assert.equal(error, null);
    assert.deepEqual(
      server.requests.map((r) => (r.body as { max_output_tokens: number }).max_output_tokens),
      [128, 512],
    );
    assert.deepEqual(types(events), [
      'request', 'first_byte', 'reasoning', 'usage', 'finish',
      'request', 'first_byte', 'reasoning', 'reasoning', 'text', 'text', 'usage', 'finish',
    ]);
    assert.deepEqual(ofType(events, 'request').map((e) => e.maxTokens), [128, 512]);
    const finishes = events.filter((e) => e.type === 'finish');
    assert.deepEqual(finishes.map((e) => e.type === 'finish' && e.reason), ['length', 'stop']);
    assertClockTimes(events, req.clock);
  });

  it('stops after two budget retries and reports the last attempt as it ended', async () => {
    scenarioFor = () => ONLY_THINKING;
    const { events, error } = await collect(streamOpenAI(request({ modelId: 'gpt-5-nano' })));
    assert.equal(error, null);
    assert.deepEqual(ofType(events, 'request').map((e) => e.maxTokens), [128, 512, 2048]);
    assert.equal(server.requests.length, 3);
    const last = events.at(-1);
    assert.equal(last?.type === 'finish' ? last.reason : last?.type, 'length');
    assert.deepEqual(texts(events, 'text'), []);
  });

  it('drops a temperature the model rejects as unsupported, records it and retries once', async () => {
    scenarioFor = (r) => ('temperature' in (r.body as object) ? unsupported('temperature') : STORY);
    const req = request({ modelId: 'gpt-4o-search-preview' });
    const { events, error } = await collect(streamOpenAI(req));
    assert.equal(error, null);
    assert.equal(server.requests.length, 2);
    assert.equal(body(0).temperature, 0.1);
    assert.equal('temperature' in body(1), false);
    const [first, second] = ofType(events, 'request');
    assert.equal(first?.temperature, 0.1);
    assert.equal(second?.temperature, null);
    assert.deepEqual(second?.applied, { omit_temperature: true });
    assert.deepEqual(types(events), ['request', 'request', 'first_byte', 'text', 'text', 'text', 'usage', 'finish']);
    assertClockTimes(events, req.clock);
  });

  it("drops a rejected temperature value ('Unsupported value', code unsupported_value) the same way", async () => {
    scenarioFor = (r) =>
      'temperature' in (r.body as object)
        ? {
            status: 400,
            chunks: [],
            errorBody: {
              error: {
                message: "Unsupported value: 'temperature' does not support 0.1 with this model. Only the default (1) value is supported.",
                type: 'invalid_request_error',
                param: 'temperature',
                code: 'unsupported_value',
              },
            },
          }
        : STORY;
    const { error } = await collect(streamOpenAI(request()));
    assert.equal(error, null);
    assert.equal(server.requests.length, 2);
  });

  it('drops reasoning when a model marked as reasoning rejects it', async () => {
    scenarioFor = (r) => ('reasoning' in (r.body as object) ? unsupported('reasoning.effort') : STORY);
    const { events, error } = await collect(streamOpenAI(request({ modelId: 'gpt-5-chat-latest' })));
    assert.equal(error, null);
    assert.equal('reasoning' in body(1), false);
    const second = ofType(events, 'request')[1];
    assert.equal(second?.reasoningEffort, null);
    assert.equal(second?.applied.omit_reasoning, true);
  });

  it('retries an unsupported parameter only once, then throws a hard_capability error', async () => {
    let n = 0;
    scenarioFor = () => (n++ === 0 ? unsupported('temperature') : unsupported('top_logprobs'));
    const { events, error } = await collect(streamOpenAI(request()));
    assert.equal(server.requests.length, 2);
    assert.deepEqual(types(events), ['request', 'request']);
    assert.equal(classifyError(error).kind, 'hard_capability');
  });

  it('omits the temperature when misc.omit_temperature is set', async () => {
    const { events } = await collect(streamOpenAI(request({ misc: { omit_temperature: true } })));
    assert.equal('temperature' in body(), false);
    assert.equal(only(events, 'request').temperature, null);
    assert.equal(only(events, 'request').applied.omit_temperature, true);
  });

  for (const [status, kind] of [
    [401, 'auth'],
    [404, 'hard_model'],
    [500, 'transient_provider'],
  ] as const) {
    it(`throws the SDK error for HTTP ${status}, classified ${kind}, after one request`, async () => {
      scenarioFor = () => ({ status, chunks: [] });
      const { events, error } = await collect(streamOpenAI(request()));
      assert.deepEqual(types(events), ['request']);
      assert.equal(server.requests.length, 1, 'SDK retries are off');
      const c = classifyError(error);
      assert.equal(c.kind, kind);
      assert.equal(c.httpStatus, status);
      assert.doesNotMatch(c.detail, /sk-test-0123456789abcdef/);
    });
  }

  it('throws a 429 that classifyError reads as rate_limit with the Retry-After delay', async () => {
    scenarioFor = () => ({ status: 429, headers: { 'retry-after': '3' }, chunks: [] });
    const { events, error } = await collect(streamOpenAI(request()));
    assert.deepEqual(types(events), ['request']);
    assert.equal(server.requests.length, 1, 'SDK retries are off');
    const c = classifyError(error);
    assert.equal(c.kind, 'rate_limit');
    assert.equal(c.retryAfterMs, 3000);
  });

  it('throws a network error after the text received when the stream is cut mid-way', async () => {
    scenarioFor = () => ({ ...STORY, cutAfterChunks: 2 });
    const { events, error } = await collect(streamOpenAI(request()));
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text']);
    assert.ok(error);
    assert.equal(classifyError(error).kind, 'network');
  });

  it('throws a transient_provider error when an event carries malformed JSON', async () => {
    scenarioFor = () => ({ ...STORY, malformedAt: 2 });
    const { events, error } = await collect(streamOpenAI(request()));
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text']);
    assert.ok(error instanceof BenchError);
    assert.equal(classifyError(error).kind, 'transient_provider');
  });

  it('throws an `error` event from the stream, classified from its code', async () => {
    scenarioFor = () => ({ ...STORY, streamError: { afterChunks: 1, code: 'server_error', message: 'The server had an error processing your request.' } });
    const { events, error } = await collect(streamOpenAI(request()));
    assert.deepEqual(types(events), ['request', 'first_byte', 'text']);
    const c = classifyError(error);
    assert.equal(c.kind, 'transient_provider');
    assert.match(c.detail, /server had an error/);
  });

  it('throws response.failed with the response error code and message', async () => {
    scenarioFor = () => ({
      ...STORY,
      streamError: { afterChunks: 2, code: 'rate_limit_exceeded', message: 'You exceeded your request budget.', as: 'response.failed' },
    });
    const { events, error } = await collect(streamOpenAI(request()));
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text']);
    assert.equal((error as { code?: unknown }).code, 'rate_limit_exceeded');
    const c = classifyError(error);
    assert.equal(c.kind, 'rate_limit');
    assert.match(c.detail, /request budget/);
  });

  it('throws the abort reason when the call is aborted during a stalled stream', async () => {
    scenarioFor = () => ({ ...STORY, stallAfterChunks: 1 });
    const controller = new AbortController();
    const reason = new DOMException('no chunk for 30000 ms', 'TimeoutError');
    const { events, error } = await collect(streamOpenAI(request({ signal: controller.signal })), {
      onEvent: (e) => {
        if (e.type === 'text') controller.abort(reason);
      },
    });
    assert.deepEqual(types(events), ['request', 'first_byte', 'text']);
    assert.equal(error, reason);
  });

  it('refuses to start without OPENAI_API_KEY, before any request', async () => {
    const { events, error } = await collect(streamOpenAI(request({ config: loadConfig({ env: {}, dotenvPath: false }) })));
    assert.deepEqual(events, []);
    assert.equal(server.requests.length, 0);
    assert.ok(error instanceof BenchError);
    assert.equal(error.kind, 'auth');
    assert.equal(error.stage, 'load_provider');
    assert.match(error.message, /OPENAI_API_KEY/);
  });
});

// Exact bytes on the wire (test/fakes/wire-server.ts), for the streams the fake above never sends.
describe('what a Responses stream counts as the answer', () => {
  const wire = trackWireServers();
  async function play(writes: WireWrite[]) {
    const server = await wire({ writes });
    return collect(streamOpenAI(request({ config: loadConfig({ env: { OPENAI_API_KEY: 'sk-test-0123456789abcdef', OPENAI_BASE_URL: `${server.baseUrl}/v1` }, dotenvPath: false }) })));
  }

  it('a refusal is visible text: the reader sees it and its tokens were generated', async () => {
    const refusal = sse({ type: 'response.refusal.delta', sequence_number: 2, item_id: 'msg_w1', output_index: 0, content_index: 0, delta: "I can't help with that." }, 'response.refusal.delta');
    const { events, error } = await play([{ atMs: 5, data: responses.created + refusal + responses.completed(7, 0) }]);
    assert.equal(error, null);
    assert.equal(texts(events, 'text').join(''), "I can't help with that.");
  });

  it('a stream that ends after text without response.completed is a network failure, not a short answer', async () => {
    const { events, error } = await play([{ atMs: 5, data: responses.created + responses.text('Once upon') + responses.text(' a time') }]);
    assert.equal(classifyError(error).kind, 'network', String(error));
    assert.deepEqual(ofType(events, 'finish'), []);
  });
});
