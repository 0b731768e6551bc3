// The OpenAI-compatible chat providers, through the real `openai` SDK against the local fake
// (test/fakes/openai-server.ts) speaking chat.completion.chunk SSE.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { loadConfig } from '../../../lib/config.ts';
import type { Config } from '../../../lib/config.ts';
import { BenchError, classifyError } from '../../../lib/errors.ts';
import { createOpenAIClient, streamChatCompletions, streamOpenAICompatible } from '../../../lib/bench/providers/openai-compatible.ts';
import type { ProviderRequest } from '../../../lib/bench/provider-stream.ts';
import { groqBaseUrl, startOpenAIServer } from '../../fakes/openai-server.ts';
import type { OpenAIFakeScenario, OpenAIScenarioFor } from '../../fakes/openai-server.ts';
import { assertClockTimes, collect, only, providerRequest, requestBody, serveFile, texts, trackWireServers, types } from '../../fakes/provider-harness.ts';
import type { Collected, TestRequest } from '../../fakes/provider-harness.ts';
import { chat, sse, type WireWrite } from '../../fakes/wire-server.ts';
import { setEnv } from '../../set-env.ts';

const STORY: OpenAIFakeScenario = {
  chunks: [
    { atMs: 5, text: 'Once upon' },
    { atMs: 10, text: ' a time, the' },
    { atMs: 15, text: ' world began.' },
  ],
  usage: { input: 14, output: 9, cached: 4 },
  finishReason: 'stop',
};

const THINK_THEN_TELL: OpenAIFakeScenario = {
  chunks: [
    { atMs: 2, reasoning: 'The user wants' },
    { atMs: 4, reasoning: ' a story.' },
    { atMs: 8, text: 'Long ago' },
    { atMs: 12, text: ' people farmed.' },
  ],
  usage: { input: 14, output: 30, reasoning: 22 },
  finishReason: 'stop',
};

let scenarioFor: OpenAIScenarioFor = () => STORY;
const server = serveFile(() => startOpenAIServer((r) => scenarioFor(r)));
beforeEach(() => {
  scenarioFor = () => STORY;
});

function configFor(env: Record<string, string>): Config {
  return loadConfig({ env, dotenvPath: false });
}

function request(overrides: Partial<ProviderRequest> = {}): TestRequest {
  return providerRequest({
    provider: 'groq',
    modelId: 'llama-3.3-70b-versatile',
    config: configFor({ GROQ_API_KEY: 'gsk_test_key_0123456789', GROQ_BASE_URL: server.baseUrl }),
    ...overrides,
  });
}

function body(i = 0): Record<string, unknown> {
  return requestBody(server, i);
}

describe('streamOpenAICompatible', () => {
  it('sends model, messages, max_tokens, temperature and stream_options.include_usage, and yields timed events in order', async () => {
    const req = request();
    const { events, error } = await collect(streamOpenAICompatible(req));
    assert.equal(error, null);
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text', 'text', 'usage', 'finish']);

    assert.equal(server.requests.length, 1);
    assert.equal(server.requests[0]!.path, '/v1/chat/completions');
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer gsk_test_key_0123456789');
    assert.deepEqual(body(), {
      model: 'llama-3.3-70b-versatile',
      messages: [{ role: 'user', content: 'Tell a long and happy story about the history of the world.' }],
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 64,
      temperature: 0.1,
    });

    const sent = only(events, 'request');
    assert.equal(sent.mode, 'openai_chat_stream');
    assert.equal(sent.maxTokens, 64);
    assert.equal(sent.temperature, 0.1);
    assert.equal(sent.reasoningEffort, null);
    assert.deepEqual(sent.applied, {});

    const finish = only(events, 'finish');
    assert.equal(finish.reason, 'stop');
    assert.equal(finish.rawReason, 'stop');
    assert.match(finish.responseId ?? '', /^chatcmpl-/);
    assertClockTimes(events, req.clock);
  });

  it('takes usage from the final chunk with empty choices, including cached and reasoning counts', async () => {
    const { events } = await collect(streamOpenAICompatible(request()));
    // The usage event comes after every text delta: the counts only exist at the end.
    assert.equal(types(events).indexOf('usage'), types(events).lastIndexOf('text') + 1);
    const { usage } = only(events, 'usage');
    assert.equal(usage.inputTokens, 14);
    assert.equal(usage.outputTokens, 9);
    assert.equal(usage.cachedInputTokens, 4);
    assert.equal(usage.reasoningTokens, 0);
    assert.equal(usage.totalTokens, 23);
    assert.equal((usage.raw as { completion_tokens: number }).completion_tokens, 9);
  });

  it('yields one text event per chunk when a chunk carries several tokens, and never counts chunks as tokens', async () => {
    scenarioFor = () => ({
      chunks: [
        { atMs: 3, text: ' tok tok tok tok' },
        { atMs: 6, text: ' tok tok tok tok' },
      ],
      usage: { input: 14, output: 8 },
    });
    const { events } = await collect(streamOpenAICompatible(request()));
    assert.deepEqual(texts(events, 'text'), [' tok tok tok tok', ' tok tok tok tok']);
    assert.equal(only(events, 'usage').usage.outputTokens, 8);
  });

  it('yields reasoning_content deltas as reasoning events before the text', async () => {
    scenarioFor = () => THINK_THEN_TELL;
    const { events, error } = await collect(streamOpenAICompatible(request({ provider: 'deepinfra', config: configFor({ DEEPINFRA_API_KEY: 'di-test-key-123', DEEPINFRA_BASE_URL: server.baseUrl }) })));
    assert.equal(error, null);
    assert.deepEqual(types(events), ['request', 'first_byte', 'reasoning', 'reasoning', 'text', 'text', 'usage', 'finish']);
    assert.deepEqual(texts(events, 'reasoning'), ['The user wants', ' a story.']);
    assert.equal(only(events, 'usage').usage.reasoningTokens, 22);
  });

  it("reads Groq's delta.reasoning and its usage from x_groq.usage on the last chunk", async () => {
    scenarioFor = () => THINK_THEN_TELL;
    const req = request({
      modelId: 'openai/gpt-oss-20b',
      config: configFor({ GROQ_API_KEY: 'gsk_test_key_0123456789', GROQ_BASE_URL: groqBaseUrl(server) }),
    });
    const { events, error } = await collect(streamOpenAICompatible(req));
    assert.equal(error, null);
    assert.equal(server.requests[0]!.path, '/openai/v1/chat/completions');
    assert.deepEqual(types(events), ['request', 'first_byte', 'reasoning', 'reasoning', 'text', 'text', 'usage', 'finish']);
    const { usage } = only(events, 'usage');
    assert.equal(usage.outputTokens, 30);
    assert.equal(usage.reasoningTokens, 22);
    assert.equal(usage.inputTokens, 14);
    assert.equal(usage.cachedInputTokens, null, 'Groq did not report cached tokens');
    assert.equal((usage.raw as { queue_time: number }).queue_time, 0.0123);
    assertClockTimes(events, req.clock);
  });

  it('ignores keep-alive comment lines and CRLF line endings', async () => {
    scenarioFor = () => ({ ...STORY, pings: true, crlf: true });
    const { events, error } = await collect(streamOpenAICompatible(request()));
    assert.equal(error, null);
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text', 'text', 'usage', 'finish']);
    assert.equal(texts(events, 'text').join(''), 'Once upon a time, the world began.');
  });

  it('reports no usage event when the provider sends none', async () => {
    scenarioFor = () => ({ ...STORY, usage: null });
    const { events, error } = await collect(streamOpenAICompatible(request()));
    assert.equal(error, null);
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text', 'text', 'finish']);
  });

  it("ends with finish 'length' and no text when the budget ran out during reasoning", async () => {
    scenarioFor = () => ({
      chunks: [
        { atMs: 2, reasoning: 'Let me think' },
        { atMs: 4, reasoning: ' about this.' },
      ],
      usage: { input: 14, output: 64, reasoning: 64 },
      finishReason: 'length',
    });
    const { events, error } = await collect(streamOpenAICompatible(request()));
    assert.equal(error, null);
    assert.equal(server.requests.length, 1, 'the chat adapter does not retry a spent budget');
    assert.deepEqual(texts(events, 'text'), []);
    const finish = only(events, 'finish');
    assert.equal(finish.reason, 'length');
    assert.equal(finish.rawReason, 'length');
  });

  for (const [status, kind] of [
    [401, 'auth'],
    [404, 'hard_model'],
    [500, 'transient_provider'],
  ] as const) {
    it(`throws the SDK error for HTTP ${status}, classified ${kind}, after one request`, async () => {
      scenarioFor = () => ({ status, chunks: [] });
      const { events, error } = await collect(streamOpenAICompatible(request()));
      assert.deepEqual(types(events), ['request']);
      assert.equal(server.requests.length, 1, 'SDK retries are off');
      const c = classifyError(error);
      assert.equal(c.kind, kind);
      assert.equal(c.httpStatus, status);
      assert.doesNotMatch(c.detail, /gsk_test_key_0123456789/);
    });
  }

  it('throws a 429 that classifyError reads as rate_limit with the Retry-After delay', async () => {
    scenarioFor = () => ({ status: 429, headers: { 'retry-after': '7' }, chunks: [] });
    const { events, error } = await collect(streamOpenAICompatible(request()));
    assert.deepEqual(types(events), ['request']);
    assert.equal(server.requests.length, 1, 'SDK retries are off');
    const c = classifyError(error);
    assert.equal(c.kind, 'rate_limit');
    assert.equal(c.httpStatus, 429);
    assert.equal(c.retryAfterMs, 7000);
  });

  it('throws a network error after the text received when the stream is cut mid-way', async () => {
    scenarioFor = () => ({ ...STORY, cutAfterChunks: 2 });
    const { events, error } = await collect(streamOpenAICompatible(request()));
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text']);
    assert.ok(error, 'the cut is an error, not a short answer');
    assert.equal(classifyError(error).kind, 'network');
  });

  it('throws a transient_provider error when an event carries malformed JSON', async () => {
    scenarioFor = () => ({ ...STORY, malformedAt: 1 });
    const { events, error } = await collect(streamOpenAICompatible(request()));
    assert.deepEqual(types(events), ['request', 'first_byte', 'text']);
    assert.ok(error instanceof BenchError);
    assert.equal(error.stage, 'generate');
    assert.equal(classifyError(error).kind, 'transient_provider');
  });

  it('throws the error a provider sends inside the stream, classified from its code', async () => {
    scenarioFor = () => ({ ...STORY, streamError: { afterChunks: 1, code: 'server_error', message: 'The server had an error while processing your request.' } });
    const { events, error } = await collect(streamOpenAICompatible(request()));
    assert.deepEqual(types(events), ['request', 'first_byte', 'text']);
    assert.equal(classifyError(error).kind, 'transient_provider');
  });

  it('throws the abort reason when the call is aborted during a stalled stream', async () => {
    scenarioFor = () => ({ ...STORY, stallAfterChunks: 1 });
    const controller = new AbortController();
    const reason = new DOMException('no chunk for 30000 ms', 'TimeoutError');
    const { events, error } = await collect(streamOpenAICompatible(request({ signal: controller.signal })), {
      onEvent: (e) => {
        if (e.type === 'text') controller.abort(reason);
      },
    });
    assert.deepEqual(types(events), ['request', 'first_byte', 'text']);
    assert.equal(error, reason, 'the SDK ends quietly on abort; the adapter must not report a short answer');
    assert.equal(classifyError(error).kind, 'timeout');
  });

  it('retries once with max_completion_tokens when the server refuses max_tokens, with a new request event', async () => {
    scenarioFor = (r) =>
      (r.body as Record<string, unknown>).max_tokens !== undefined
        ? {
            status: 400,
            chunks: [],
            errorBody: {
              error: {
                message: "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.",
                type: 'invalid_request_error',
                param: 'max_tokens',
                code: 'unsupported_parameter',
              },
            },
          }
        : STORY;
    const req = request();
    const { events, error } = await collect(streamOpenAICompatible(req));
    assert.equal(error, null);
    assert.equal(server.requests.length, 2);
    assert.equal(body(0).max_tokens, 64);
    assert.equal(body(1).max_tokens, undefined);
    assert.equal(body(1).max_completion_tokens, 64);
    assert.deepEqual(types(events), ['request', 'request', 'first_byte', 'text', 'text', 'text', 'usage', 'finish']);
    const [first, second] = events.filter((e) => e.type === 'request');
    assert.deepEqual(first!.type === 'request' && first!.applied, {});
    assert.deepEqual(second!.type === 'request' && second!.applied, { max_tokens_param: 'max_completion_tokens' });
    assertClockTimes(events, req.clock);
  });

  it('does not retry a 400 that is about something else', async () => {
    scenarioFor = () => ({
      status: 400,
      chunks: [],
      errorBody: { error: { message: "Invalid value for 'temperature'", type: 'invalid_request_error', param: 'temperature', code: 'invalid_value' } },
    });
    const { events, error } = await collect(streamOpenAICompatible(request()));
    assert.deepEqual(types(events), ['request']);
    assert.equal(server.requests.length, 1);
    assert.equal(classifyError(error).kind, 'hard_capability');
  });

  it('sends max_completion_tokens from the start when misc.max_tokens_param says so', async () => {
    const { error } = await collect(streamOpenAICompatible(request({ misc: { max_tokens_param: 'max_completion_tokens' } })));
    assert.equal(error, null);
    assert.equal(server.requests.length, 1);
    assert.equal(body().max_completion_tokens, 64);
    assert.equal('max_tokens' in body(), false);
  });

  it('omits the temperature when misc.omit_temperature is set, and records it as applied', async () => {
    const { events } = await collect(streamOpenAICompatible(request({ misc: { omit_temperature: true } })));
    assert.equal('temperature' in body(), false);
    const sent = only(events, 'request');
    assert.equal(sent.temperature, null);
    assert.equal(sent.applied.omit_temperature, true);
  });

  it('omits the temperature when the request has none', async () => {
    const { events } = await collect(streamOpenAICompatible(request({ temperature: null })));
    assert.equal('temperature' in body(), false);
    assert.equal(only(events, 'request').temperature, null);
  });

  it("uses each provider's own base URL and key", async () => {
    const config = configFor({
      TOGETHER_API_KEY: 'together-test-key-1',
      TOGETHER_BASE_URL: server.baseUrl,
      GROQ_API_KEY: 'gsk_other_key_0123456789',
      GROQ_BASE_URL: 'http://127.0.0.1:9/openai/v1',
    });
    const { error } = await collect(streamOpenAICompatible(request({ provider: 'together', modelId: 'meta-llama/Llama-3.3-70B-Instruct-Turbo', config })));
    assert.equal(error, null);
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer together-test-key-1');
    assert.equal(body().model, 'meta-llama/Llama-3.3-70B-Instruct-Turbo');
  });

  for (const provider of ['groq', 'together', 'deepinfra', 'fireworks', 'cerebras'] as const) {
    it(`refuses to start without ${provider.toUpperCase()}_API_KEY, before any request`, async () => {
      const { events, error } = await collect(streamOpenAICompatible(request({ provider, config: configFor({}) })));
      assert.deepEqual(events, []);
      assert.equal(server.requests.length, 0);
      assert.ok(error instanceof BenchError);
      assert.equal(error.kind, 'auth');
      assert.equal(error.stage, 'load_provider');
      assert.match(error.message, new RegExp(`${provider.toUpperCase()}_API_KEY`));
    });
  }
});

describe('OpenAI SDK environment variables', () => {
  let saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    saved = setEnv({ OPENAI_ORG_ID: 'org-should-not-leak', OPENAI_PROJECT_ID: 'proj-should-not-leak' });
  });
  afterEach(() => {
    setEnv(saved);
  });

  it("never sends OpenAI's organization or project headers to another provider", async () => {
    const { error } = await collect(streamOpenAICompatible(request()));
    assert.equal(error, null);
    assert.equal(server.requests[0]!.headers['openai-organization'], undefined);
    assert.equal(server.requests[0]!.headers['openai-project'], undefined);
  });
});

describe('streamChatCompletions', () => {
  it("streams through the caller's client and labels requests with the caller's mode", async () => {
    const client = createOpenAIClient('vertex-token-abcdef', server.baseUrl);
    const req = request({ provider: 'vertex', modelId: 'meta/llama-3.3-70b-instruct-maas', config: configFor({}) });
    const { events, error } = await collect(streamChatCompletions(client, req, { mode: 'vertex_openai_chat_stream' }));
    assert.equal(error, null);
    assert.equal(only(events, 'request').mode, 'vertex_openai_chat_stream');
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer vertex-token-abcdef');
    assert.equal(texts(events, 'text').join(''), 'Once upon a time, the world began.');
    assertClockTimes(events, req.clock);
  });
});

// Exact bytes on the wire (test/fakes/wire-server.ts), for the streams the fake above never sends.
describe('what a chat stream counts as a complete answer (SPEC 5)', () => {
  const wire = trackWireServers();
  async function play(writes: WireWrite[], contentType?: string): Promise<Collected> {
    const server = await wire({ writes, contentType });
    return collect(streamOpenAICompatible(request({ config: configFor({ GROQ_API_KEY: 'gsk_test_key_0123456789', GROQ_BASE_URL: `${server.baseUrl}/openai/v1` }) })));
  }
  const text = (s: string, index = 0) =>
    sse({ id: 'chatcmpl-w1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index, delta: { content: s }, finish_reason: null }] });
  const end = chat.delta({}, 'stop') + chat.usage(4) + chat.done;

  it('a stream cut off after its usage chunk (no finish reason, no [DONE]) is a network failure, not a complete answer', async () => {
    const { events, error } = await play([{ atMs: 5, data: text('Once upon') + text(' a time') + chat.usage(4) }]);
    assert.equal(classifyError(error).kind, 'network', String(error));
    assert.deepEqual(types(events), ['request', 'first_byte', 'text', 'text', 'usage']);
  });

  it('the same stream reaching [DONE] is complete without a finish reason (some hosts never send one)', async () => {
    const { events, error } = await play([{ atMs: 5, data: text('Once upon') + text(' a time') + chat.usage(4) + chat.done }]);
    assert.equal(error, null);
    assert.equal(only(events, 'finish').rawReason, null);
  });

  it("a second choice's deltas (index 1) are not part of the answer", async () => {
    const { events, error } = await play([{ atMs: 5, data: text('Once upon') + text('Other answer', 1) + text(' a time') + text(' and more', 1) + end }]);
    assert.equal(error, null);
    assert.equal(texts(events, 'text').join(''), 'Once upon a time');
  });

  it('<think> split across chunks is reasoning, and the text after </think> in the same chunk is the answer', async () => {
    const { events, error } = await play([{ atMs: 5, data: ['<thi', 'nk>Let me', ' plan</th', 'ink>\n\nOnce', ' upon'].map((c) => text(c)).join('') + end }]);
    assert.equal(error, null);
    assert.equal(texts(events, 'reasoning').join(''), 'Let me plan');
    assert.equal(texts(events, 'text').join(''), '\n\nOnce upon');
  });

  it("an HTTP 200 HTML page (a proxy's error page) is the provider's fault, not an empty answer", async () => {
    const { error } = await play([{ atMs: 5, data: '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>' }], 'text/html');
    assert.ok(error instanceof BenchError, String(error));
    assert.equal(error.kind, 'transient_provider');
  });
});
