import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../../lib/config.ts';
import { BenchError, classifyError } from '../../../lib/errors.ts';
import type { ProviderRequest, StreamEvent } from '../../../lib/bench/provider-stream.ts';
import { geminiUsage, streamVertex, vertexFamily } from '../../../lib/bench/providers/vertex.ts';
import { threadRequests } from '../../../lib/bench/providers/wire.ts';
import { startAnthropicServer } from '../../fakes/anthropic-server.ts';
import type { AnthropicScenario } from '../../fakes/anthropic-server.ts';
import { startGeminiServer } from '../../fakes/gemini-server.ts';
import { startOpenAIServer } from '../../fakes/openai-server.ts';
import { assertNonDecreasing, collect, ofType, providerRequest, STORY_PROMPT, trackServers, trackWireServers, types } from '../../fakes/provider-harness.ts';
import { gemini } from '../../fakes/wire-server.ts';
import type { Collected } from '../../fakes/provider-harness.ts';
import { scheduleChunks } from '../../fakes/scenario.ts';
import type { FakeScenario, FakeServer, RecordedRequest } from '../../fakes/scenario.ts';
import { setEnv } from '../../set-env.ts';

const TOKEN = 'ya29.test-access-token-0123456789';

// Proof that nothing reaches Google: every fetch the SDKs (and google-auth-library) make goes
// through this guard, which refuses any host but the local fakes. The list is checked at the end.
const fetched: string[] = [];
// The signals the SDKs handed to fetch, to see that a request was really aborted.
const fetchSignals: AbortSignal[] = [];
// The SDKs' calls go through the fetch thread (wire.ts), which publishes each request here.
const realFetch = globalThis.fetch;
const onThreadRequest = (message: unknown) => {
  const { url, signal } = message as { url: string; signal?: AbortSignal };
  fetched.push(url);
  if (signal) fetchSignals.push(signal);
};
before(() => {
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    fetched.push(url);
    if (init?.signal) fetchSignals.push(init.signal);
    if (new URL(url).hostname !== '127.0.0.1') return Promise.reject(new Error(`test tried to reach ${url}`));
    return realFetch(input, init);
  }) as typeof fetch;
  threadRequests.subscribe(onThreadRequest);
});
after(() => {
  globalThis.fetch = realFetch;
  threadRequests.unsubscribe(onThreadRequest);
  // All three SDKs went through the guard (none kept a fetch of its own)...
  for (const route of [':streamGenerateContent', ':streamRawPredict', '/endpoints/openapi/chat/completions']) {
    assert.ok(fetched.some((u) => u.includes(route)), `a request to ${route} was seen`);
  }
  // ...and none of them, nor google-auth-library, went anywhere but the fakes.
  assert.deepEqual(fetched.filter((u) => new URL(u).hostname !== '127.0.0.1'), [], 'no request left 127.0.0.1');
});

const track = trackServers();

function request(baseUrl: string, overrides: Partial<ProviderRequest> = {}): ProviderRequest {
  const config = loadConfig({
    env: { VERTEX_PROJECT: 'bench-proj', VERTEX_LOCATION: 'us-central1', VERTEX_ACCESS_TOKEN: TOKEN, VERTEX_BASE_URL: baseUrl },
    dotenvPath: false,
  });
  return providerRequest({ provider: 'vertex', modelId: 'gemini-2.5-flash', config, ...overrides });
}

function run(req: ProviderRequest): Promise<Collected> {
  return collect(streamVertex(req));
}

const story: FakeScenario = {
  chunks: [
    { atMs: 5, text: 'Once' },
    { atMs: 10, text: ' upon' },
    { atMs: 15, text: ' a time' },
  ],
  usage: { input: 14, output: 4 },
  finishReason: 'stop',
};

test('model ids route to Gemini, Claude or the OpenAI-compatible endpoint', () => {
  assert.equal(vertexFamily('gemini-2.5-pro'), 'gemini');
  assert.equal(vertexFamily('claude-sonnet-4@20250514'), 'claude');
  assert.equal(vertexFamily('meta/llama-4-maverick-17b-128e-instruct-maas'), 'openapi');
  assert.equal(vertexFamily('llama-3.3-70b-instruct-maas'), 'openapi');
  assert.equal(vertexFamily('text-bison'), null);
});

describe('Gemini on Vertex', () => {
  const gemini = (scenarioFor: (r: RecordedRequest) => FakeScenario) => track(startGeminiServer(scenarioFor));

  test('a finished stream leaves no abort listener on the caller’s signal', async () => {
    const server = await gemini(() => story);
    // Like the runner's: AbortSignal.any keeps such a signal alive while a listener is attached.
    const signal = AbortSignal.any([new AbortController().signal, new AbortController().signal]);
    const { events, error } = await run(request(server.baseUrl, { signal }));
    assert.equal(error, null);
    assert.equal(events.at(-1)?.type, 'finish');
    assert.equal(getEventListeners(signal, 'abort').length, 0);
  });

  test('a caller that stops reading early aborts the HTTP request', async () => {
    const server = await gemini(() => ({ ...story, stallAfterChunks: 1 }));
    for await (const e of streamVertex(request(server.baseUrl))) if (e.type === 'text') break;
    assert.equal(fetchSignals.at(-1)?.aborted, true);
  });

  test('streams text, takes usage from the final event and finishes with the normalised reason', async () => {
    const server = await gemini(() => story);
    const { events, error } = await run(request(server.baseUrl));
    assert.equal(error, null);
    assert.deepEqual(
      types(events),
      ['request', 'first_byte', 'text', 'text', 'text', 'usage', 'finish'],
    );
    assert.equal(ofType(events, 'text').map((e) => e.text).join(''), 'Once upon a time');
    const usage = ofType(events, 'usage')[0]!.usage;
    assert.deepEqual(
      [usage.inputTokens, usage.outputTokens, usage.reasoningTokens, usage.totalTokens],
      [14, 4, 0, 18],
    );
    const finish = ofType(events, 'finish')[0]!;
    assert.deepEqual([finish.reason, finish.rawReason], ['stop', 'STOP']);
    assert.ok(finish.responseId);
    const req = ofType(events, 'request')[0]!;
    assert.deepEqual([req.mode, req.maxTokens, req.temperature], ['vertex_gemini_stream', 64, 0.1]);
    // Which model answered, as the response's modelVersion says (the fake echoes the path's model).
    assert.equal(finish.servedModel, request(server.baseUrl).modelId);
    assertNonDecreasing(events);
  });

  test('sends the prompt, budget and temperature to the project and location, with the access token as bearer', async () => {
    const server = await gemini(() => story);
    await run(request(server.baseUrl));
    assert.equal(server.requests.length, 1);
    const sent = server.requests[0]!;
    assert.equal(
      sent.path,
      '/v1/projects/bench-proj/locations/us-central1/publishers/google/models/gemini-2.5-flash:streamGenerateContent?alt=sse',
    );
    assert.equal(sent.headers.authorization, `Bearer ${TOKEN}`);
    assert.deepEqual(sent.body, {
      contents: [{ role: 'user', parts: [{ text: STORY_PROMPT }] }],
      generationConfig: { maxOutputTokens: 64, temperature: 0.1 },
    });
  });

  test('several tokens per chunk stay one text event per chunk; output tokens come from usage', async () => {
    const { chunks, usage } = scheduleChunks({ ttftMs: 5, tokens: 30, tokensPerSecond: 3000, tokensPerChunk: 5 });
    const server = await gemini(() => ({ chunks, usage, finishReason: 'length' }));
    const { events, error } = await run(request(server.baseUrl));
    assert.equal(error, null);
    assert.equal(ofType(events, 'text').length, 6);
    assert.equal(ofType(events, 'usage').at(-1)!.usage.outputTokens, 30);
    assert.deepEqual(ofType(events, 'finish').map((f) => [f.reason, f.rawReason]), [['length', 'MAX_TOKENS']]);
  });

  test('thought parts are reasoning, before the text; output tokens are candidates plus thoughts', async () => {
    const { chunks, usage } = scheduleChunks({ ttftMs: 20, tokens: 8, tokensPerSecond: 2000, tokensPerChunk: 4, reasoningTokens: 12 });
    const server = await gemini(() => ({ chunks, usage, finishReason: 'length' }));
    const { events, error } = await run(request(server.baseUrl));
    assert.equal(error, null);
    const kinds = events.filter((e) => e.type === 'text' || e.type === 'reasoning').map((e) => e.type);
    assert.deepEqual(kinds, ['reasoning', 'reasoning', 'reasoning', 'text', 'text']);
    const final = ofType(events, 'usage').at(-1)!.usage;
    assert.equal(final.outputTokens, 20);
    assert.equal(final.reasoningTokens, 12);
  });

  test('max tokens spent thinking before any visible text: no text, length, all output tokens are thoughts', async () => {
    const server = await gemini(() => ({
      chunks: [{ atMs: 5, reasoning: 'Considering the request' }],
      usage: { input: 14, output: 64, reasoning: 64 },
      finishReason: 'length',
    }));
    const { events, error } = await run(request(server.baseUrl));
    assert.equal(error, null);
    assert.equal(ofType(events, 'text').length, 0);
    const usage = ofType(events, 'usage').at(-1)!.usage;
    assert.deepEqual([usage.outputTokens, usage.reasoningTokens], [64, 64]);
    const raw = usage.raw as Record<string, unknown>;
    assert.equal('candidatesTokenCount' in raw, false, 'the fake leaves out zero counts, as Google does');
    assert.equal(ofType(events, 'finish')[0]!.reason, 'length');
  });

  test('CRLF line endings parse to the same events', async () => {
    const server = await gemini(() => ({ ...story, crlf: true }));
    const { events, error } = await run(request(server.baseUrl));
    assert.equal(error, null);
    assert.equal(ofType(events, 'text').map((e) => e.text).join(''), 'Once upon a time');
    assert.equal(ofType(events, 'finish')[0]!.reason, 'stop');
  });

  test('a stream without usageMetadata yields no usage events', async () => {
    const server = await gemini(() => ({ ...story, usage: null }));
    const { events, error } = await run(request(server.baseUrl));
    assert.equal(error, null);
    assert.equal(ofType(events, 'usage').length, 0);
    assert.equal(ofType(events, 'finish').length, 1);
  });

  test('misc.omit_temperature and misc.region shape the request and are reported as applied', async () => {
    const server = await gemini(() => story);
    const { events } = await run(request(server.baseUrl, { misc: { omit_temperature: true, region: 'europe-west4' } }));
    const sent = server.requests[0]!;
    assert.match(sent.path, /\/locations\/europe-west4\//);
    assert.deepEqual((sent.body as { generationConfig: unknown }).generationConfig, { maxOutputTokens: 64 });
    const req = ofType(events, 'request')[0]!;
    assert.equal(req.temperature, null);
    assert.deepEqual(req.applied, { region: 'europe-west4', omit_temperature: true });
  });

  test('misc.thinking_budget is sent as thinkingConfig and reported as applied', async () => {
    const server = await gemini(() => story);
    const { events } = await run(request(server.baseUrl, { misc: { thinking_budget: 0 } }));
    const sent = server.requests[0]!.body as { generationConfig: unknown };
    assert.deepEqual(sent.generationConfig, { maxOutputTokens: 64, temperature: 0.1, thinkingConfig: { thinkingBudget: 0 } });
    assert.deepEqual(ofType(events, 'request')[0]!.applied, { thinking_budget: 0 });
  });

  describe('HTTP errors classify by status', () => {
    const cases: Array<{ status: number; kind: string }> = [
      { status: 401, kind: 'auth' },
      { status: 404, kind: 'hard_model' },
      { status: 429, kind: 'rate_limit' },
      { status: 500, kind: 'transient_provider' },
      { status: 503, kind: 'transient_provider' },
    ];
    for (const c of cases) {
      test(`HTTP ${c.status} → ${c.kind}, one request only`, async () => {
        const server = await gemini(() => ({ status: c.status, chunks: [] }));
        const { events, error } = await run(request(server.baseUrl));
        const classified = classifyError(error);
        assert.equal(classified.kind, c.kind);
        assert.equal(classified.httpStatus, c.status);
        assert.doesNotMatch(classified.detail, new RegExp(TOKEN.replace('.', '\\.')));
        assert.deepEqual(events.map((e) => e.type), ['request']);
        assert.equal(server.requests.length, 1);
      });
    }
  });

  test('a stream cut mid-way throws a network error after the chunks received', async () => {
    const server = await gemini(() => ({
      chunks: [
        { atMs: 0, text: 'Once' },
        { atMs: 20, text: ' upon' },
        { atMs: 400, text: ' a time' },
      ],
      usage: { input: 14, output: 4 },
      cutAfterChunks: 2,
    }));
    const { events, error } = await run(request(server.baseUrl));
    assert.ok(error);
    assert.equal(ofType(events, 'text').length, 2);
    assert.equal(ofType(events, 'finish').length, 0);
    assert.equal(classifyError(error).kind, 'network');
  });

  test('malformed event data throws a transient_provider error', async () => {
    const server = await gemini(() => ({ ...story, malformedAt: 1 }));
    const { events, error } = await run(request(server.baseUrl));
    assert.ok(error instanceof BenchError, String(error));
    assert.equal(error.kind, 'transient_provider');
    assert.match(error.message, /malformed/);
    assert.equal(ofType(events, 'text').length, 1);
  });

  test('an abort during a stalled stream surfaces as an error', async () => {
    const server = await gemini(() => ({ ...story, stallAfterChunks: 1 }));
    const controller = new AbortController();
    const events: StreamEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of streamVertex(request(server.baseUrl, { signal: controller.signal }))) {
          events.push(e);
          if (e.type === 'text') controller.abort();
        }
      })(),
      (err: unknown) => classifyError(err).kind === 'timeout',
    );
    assert.equal(ofType(events, 'text').length, 1);
  });

  test('usage before the final chunk leaves missing counts unknown; on the final chunk they are zero', () => {
    assert.equal(geminiUsage({ promptTokenCount: 14, totalTokenCount: 14 }, false).outputTokens, null);
    assert.equal(geminiUsage({ promptTokenCount: 14, totalTokenCount: 14 }, true).outputTokens, 0);
    assert.equal(geminiUsage({ candidatesTokenCount: 5, thoughtsTokenCount: 7 }, false).outputTokens, 12);
  });
});

describe('Claude on Vertex', () => {
  const claude = (scenarioFor: (r: RecordedRequest) => AnthropicScenario) => track(startAnthropicServer(scenarioFor));
  const model = 'claude-sonnet-4@20250514';

  test('streams through streamRawPredict with the access token, the model in the path and Anthropic events', async () => {
    const server = await claude(() => ({ ...story, pings: true }));
    const { events, error } = await run(request(server.baseUrl, { modelId: model, misc: { region: 'us-east5' } }));
    assert.equal(error, null);
    const sent = server.requests[0]!;
    assert.equal(sent.path, '/v1/projects/bench-proj/locations/us-east5/publishers/anthropic/models/claude-sonnet-4@20250514:streamRawPredict');
    assert.equal(sent.headers.authorization, `Bearer ${TOKEN}`);
    const body = sent.body as Record<string, unknown>;
    assert.equal('model' in body, false, 'Vertex takes the model from the path');
    assert.equal(typeof body.anthropic_version, 'string');
    assert.deepEqual(
      { max_tokens: body.max_tokens, temperature: body.temperature, stream: body.stream, messages: body.messages },
      { max_tokens: 64, temperature: 0.1, stream: true, messages: [{ role: 'user', content: STORY_PROMPT }] },
    );
    assert.equal(ofType(events, 'text').map((e) => e.text).join(''), 'Once upon a time');
    assert.equal(ofType(events, 'usage').at(-1)!.usage.outputTokens, 4);
    assert.equal(ofType(events, 'finish')[0]!.reason, 'stop');
    const req = ofType(events, 'request')[0]!;
    assert.equal(req.mode, 'vertex_anthropic_stream');
    assert.deepEqual(req.applied, { region: 'us-east5' });
    assertNonDecreasing(events);
  });

  test('a 400 rejecting temperature is retried once without it, as on the Anthropic API', async () => {
    const server = await claude((r) =>
      'temperature' in (r.body as object)
        ? { status: 400, chunks: [], errorBody: { type: 'error', error: { type: 'invalid_request_error', message: 'temperature is not supported for this model' } } }
        : story,
    );
    const { events, error } = await run(request(server.baseUrl, { modelId: model }));
    assert.equal(error, null);
    assert.equal(server.requests.length, 2);
    assert.deepEqual(ofType(events, 'request').map((r) => r.temperature), [0.1, null]);
    assert.deepEqual(ofType(events, 'request')[1]!.applied, { omit_temperature: true });
  });

  test('429 with Retry-After (Google quota error shape) → rate_limit with the delay', async () => {
    const server = await claude(() => ({
      status: 429,
      headers: { 'retry-after': '12' },
      errorBody: { error: { code: 429, message: 'Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model', status: 'RESOURCE_EXHAUSTED' } },
      chunks: [],
    }));
    const { error } = await run(request(server.baseUrl, { modelId: model }));
    const classified = classifyError(error);
    assert.deepEqual([classified.kind, classified.httpStatus, classified.retryAfterMs], ['rate_limit', 429, 12000]);
  });

  test('an overloaded_error event mid-stream → transient_provider', async () => {
    const server = await claude(() => ({ ...story, errorEventAfterChunks: 1 }));
    const { events, error } = await run(request(server.baseUrl, { modelId: model }));
    assert.equal(ofType(events, 'text').length, 1);
    assert.equal(classifyError(error).kind, 'transient_provider');
  });
});

/**
 * Vertex's OpenAI-compatible route (/v1/projects/P/locations/L/endpoints/openapi/chat/completions)
 * in front of the OpenAI fake, which plays chat-completion chunks at /v1/chat/completions.
 */
async function startOpenApiRoute(target: FakeServer): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    req.socket.setNoDelay(true);
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const raw = Buffer.concat(parts).toString('utf8');
      const path = req.url ?? '/';
      requests.push({ method: req.method ?? 'GET', path, headers: req.headers, body: JSON.parse(raw || 'null'), arrivedAt: performance.now() });
      if (!/^\/v1\/projects\/[^/]+\/locations\/[^/]+\/endpoints\/openapi\/chat\/completions$/.test(path)) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 404, message: `no route ${path}`, status: 'NOT_FOUND' } }));
        return;
      }
      void (async () => {
        const upstream = await realFetch(`${target.baseUrl}/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: String(req.headers.authorization) },
          body: raw,
        });
        const headers = Object.fromEntries([...upstream.headers].filter(([k]) => !['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(k)));
        res.writeHead(upstream.status, headers);
        for await (const chunk of upstream.body ?? []) res.write(chunk);
        res.end();
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('Llama on Vertex (OpenAI-compatible endpoint)', () => {
  const model = 'meta/llama-4-maverick-17b-128e-instruct-maas';

  test('streams chat completions from the project endpoint with the access token as the bearer key', async () => {
    const openai = await track(startOpenAIServer(() => story));
    const route = await track(startOpenApiRoute(openai));
    const { events, error } = await run(request(route.baseUrl, { modelId: model }));
    assert.equal(error, null);
    const sent = route.requests[0]!;
    assert.equal(sent.path, '/v1/projects/bench-proj/locations/us-central1/endpoints/openapi/chat/completions');
    assert.equal(sent.headers.authorization, `Bearer ${TOKEN}`);
    const body = sent.body as Record<string, unknown>;
    assert.equal(body.model, model);
    assert.equal(body.stream, true);
    assert.deepEqual(body.messages, [{ role: 'user', content: STORY_PROMPT }]);
    assert.equal(ofType(events, 'request')[0]!.mode, 'vertex_openai_chat_stream');
    assert.equal(ofType(events, 'text').map((e) => e.text).join(''), 'Once upon a time');
    assert.equal(ofType(events, 'usage').at(-1)!.usage.outputTokens, 4);
    assert.equal(ofType(events, 'finish')[0]!.reason, 'stop');
    assertNonDecreasing(events);
  });

  test('HTTP 429 from the endpoint → rate_limit', async () => {
    const openai = await track(startOpenAIServer(() => ({ status: 429, chunks: [] })));
    const route = await track(startOpenApiRoute(openai));
    const { error } = await run(request(route.baseUrl, { modelId: model }));
    assert.equal(classifyError(error).kind, 'rate_limit');
  });
});

describe('Vertex configuration', () => {
  test('without VERTEX_PROJECT it fails at load_provider as auth, naming the variable, before any request', async () => {
    const server = await track(startGeminiServer(() => story));
    const config = loadConfig({ env: { VERTEX_ACCESS_TOKEN: TOKEN, VERTEX_BASE_URL: server.baseUrl }, dotenvPath: false });
    const { events, error } = await run(request(server.baseUrl, { config }));
    assert.ok(error instanceof BenchError);
    assert.deepEqual([error.kind, error.stage], ['auth', 'load_provider']);
    assert.match(error.message, /VERTEX_PROJECT/);
    assert.equal(events.length, 0);
    assert.equal(server.requests.length, 0);
  });

  test('a model id no Vertex route serves is refused at load_provider', async () => {
    const { error } = await run(request('http://127.0.0.1:9', { modelId: 'text-bison@002' }));
    assert.ok(error instanceof BenchError);
    assert.deepEqual([error.kind, error.stage], ['hard_capability', 'load_provider']);
  });

  describe('without VERTEX_ACCESS_TOKEN', () => {
    let saved: Record<string, string | undefined> = {};
    before(() => {
      // Application default credentials from a file that does not exist: google-auth-library
      // fails on the spot instead of probing the metadata server.
      saved = setEnv({ GOOGLE_APPLICATION_CREDENTIALS: '/nonexistent/llm-bench-test-adc.json' });
    });
    after(() => {
      setEnv(saved);
    });

    test('unusable application default credentials fail at load_provider as auth, before any request', async () => {
      const server = await track(startGeminiServer(() => story));
      const config = loadConfig({ env: { VERTEX_PROJECT: 'bench-proj', VERTEX_BASE_URL: server.baseUrl }, dotenvPath: false });
      const { events, error } = await run(request(server.baseUrl, { config }));
      assert.ok(error instanceof BenchError, String(error));
      assert.deepEqual([error.kind, error.stage], ['auth', 'load_provider']);
      assert.match(error.message, /VERTEX_ACCESS_TOKEN/);
      assert.equal(events.length, 0);
      assert.equal(server.requests.length, 0);
    });
  });
});

describe('Gemini streams on exact bytes (test/fakes/wire-server.ts)', () => {
  const wire = trackWireServers();

  test('a stream that ends without a finish reason is a network failure, not a complete answer', async () => {
    const server = await wire({ writes: [{ atMs: 5, data: gemini.chunk([{ text: 'Once upon' }]) + gemini.chunk([{ text: ' a time' }]) }] });
    const { events, error } = await run(request(server.baseUrl));
    assert.equal(classifyError(error).kind, 'network', String(error));
    assert.deepEqual(ofType(events, 'finish'), []);
  });

  test("a prompt blocked by Google's safety filter finishes with its block reason, not as a broken stream", async () => {
    const blocked = `data: ${JSON.stringify({ promptFeedback: { blockReason: 'SAFETY' }, usageMetadata: { promptTokenCount: 14, totalTokenCount: 14 }, responseId: 'gem-w1' })}\r\n\r\n`;
    const server = await wire({ writes: [{ atMs: 5, data: blocked }] });
    const { events, error } = await run(request(server.baseUrl));
    assert.equal(error, null);
    const finish = ofType(events, 'finish')[0]!;
    assert.deepEqual([finish.reason, finish.rawReason], ['content_filter', 'SAFETY']);
  });
});
