import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../../lib/config.ts';
import { BenchError, classifyError } from '../../../lib/errors.ts';
import type { ProviderRequest, StreamEvent } from '../../../lib/bench/provider-stream.ts';
import { streamAnthropic } from '../../../lib/bench/providers/anthropic.ts';
import { startAnthropicServer } from '../../fakes/anthropic-server.ts';
import type { AnthropicScenario } from '../../fakes/anthropic-server.ts';
import { assertNonDecreasing, collect, ofType, providerRequest, trackServers, trackWireServers, types } from '../../fakes/provider-harness.ts';
import type { Collected } from '../../fakes/provider-harness.ts';
import { scheduleChunks } from '../../fakes/scenario.ts';
import type { FakeServer, RecordedRequest } from '../../fakes/scenario.ts';
import { anthropic } from '../../fakes/wire-server.ts';

const API_KEY = 'sk-ant-test-0123456789abcdef';
const track = trackServers();

function serve(scenarioFor: (req: RecordedRequest) => AnthropicScenario): Promise<FakeServer> {
  return track(startAnthropicServer(scenarioFor));
}

function request(server: Pick<FakeServer, 'baseUrl'>, overrides: Partial<ProviderRequest> = {}): ProviderRequest {
  const config = loadConfig({ env: { ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: server.baseUrl }, dotenvPath: false });
  return providerRequest({ provider: 'anthropic', modelId: 'claude-sonnet-4-5', config, ...overrides });
}

function run(req: ProviderRequest): Promise<Collected> {
  return collect(streamAnthropic(req));
}

const story: AnthropicScenario = {
  chunks: [
    { atMs: 5, text: 'Once' },
    { atMs: 10, text: ' upon' },
    { atMs: 15, text: ' a time' },
  ],
  usage: { input: 21, output: 4, cached: 3 },
  finishReason: 'stop',
};

describe('streamAnthropic', () => {
  test('streams text deltas, takes usage from message_start and message_delta, and finishes with the normalised reason', async () => {
    const server = await serve(() => story);
    const { events, error } = await run(request(server));
    assert.equal(error, null);
    assert.deepEqual(
      types(events),
      ['request', 'first_byte', 'usage', 'text', 'text', 'text', 'usage', 'finish'],
    );
    assert.equal(ofType(events, 'text').map((e) => e.text).join(''), 'Once upon a time');
    const [start, final] = ofType(events, 'usage');
    assert.equal(start!.usage.inputTokens, 21);
    assert.equal(start!.usage.cachedInputTokens, 3);
    assert.equal(start!.usage.outputTokens, null, "message_start's placeholder output count is not a count");
    assert.equal(final!.usage.outputTokens, 4);
    assert.equal(final!.usage.totalTokens, null);
    const finish = ofType(events, 'finish')[0]!;
    assert.equal(finish.reason, 'stop');
    assert.equal(finish.rawReason, 'end_turn');
    assert.match(finish.responseId ?? '', /^msg_/);
    assert.equal(finish.t, final!.t, 'usage and finish come from the same message_delta event');
    assertNonDecreasing(events);
    const req = ofType(events, 'request')[0]!;
    assert.deepEqual(
      { mode: req.mode, maxTokens: req.maxTokens, temperature: req.temperature, applied: req.applied },
      { mode: 'anthropic_messages_stream', maxTokens: 64, temperature: 0.1, applied: {} },
    );
  });

  test('sends one user message with the budget, temperature and stream flag, authenticated with the API key', async () => {
    const server = await serve(() => story);
    await run(request(server));
    assert.equal(server.requests.length, 1);
    const sent = server.requests[0]!;
    assert.equal(sent.path, '/v1/messages');
    assert.deepEqual(sent.body, {
      model: 'claude-sonnet-4-5',
      max_tokens: 64,
      messages: [{ role: 'user', content: 'Tell a long and happy story about the history of the world.' }],
      temperature: 0.1,
      stream: true,
    });
    // SDK 1.x sends the key as a bearer token; older versions used x-api-key.
    assert.ok(sent.headers['x-api-key'] === API_KEY || sent.headers.authorization === `Bearer ${API_KEY}`);
    assert.ok(sent.headers['anthropic-version']);
  });

  test('several tokens per chunk stay one text event per delta, and output tokens come from usage, not chunk count', async () => {
    const { chunks, usage } = scheduleChunks({ ttftMs: 5, tokens: 24, tokensPerSecond: 2000, tokensPerChunk: 4 });
    const server = await serve(() => ({ chunks, usage, finishReason: 'length' }));
    const { events, error } = await run(request(server));
    assert.equal(error, null);
    assert.equal(ofType(events, 'text').length, 6);
    assert.equal(ofType(events, 'text').map((e) => e.text).join(''), ' tok'.repeat(24));
    assert.equal(ofType(events, 'usage').at(-1)!.usage.outputTokens, 24);
    const finish = ofType(events, 'finish')[0]!;
    assert.deepEqual([finish.reason, finish.rawReason], ['length', 'max_tokens']);
  });

  test('each SSE event reads the clock once: deltas get successive times, first byte precedes them', async () => {
    const server = await serve(() => story);
    const { events } = await run(request(server));
    const times = ofType(events, 'text').map((e) => e.t);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!);
    assert.ok(ofType(events, 'first_byte')[0]!.t < times[0]!);
  });

  test('thinking deltas are reasoning and come before the text; thinking tokens are reasoning tokens', async () => {
    const { chunks, usage } = scheduleChunks({ ttftMs: 20, tokens: 8, tokensPerSecond: 2000, tokensPerChunk: 2, reasoningTokens: 6 });
    const server = await serve(() => ({ chunks, usage, finishReason: 'length' }));
    const { events, error } = await run(request(server));
    assert.equal(error, null);
    const kinds = events.filter((e) => e.type === 'text' || e.type === 'reasoning').map((e) => e.type);
    assert.deepEqual(kinds, ['reasoning', 'reasoning', 'reasoning', 'text', 'text', 'text', 'text']);
    const final = ofType(events, 'usage').at(-1)!.usage;
    assert.equal(final.outputTokens, 14);
    assert.equal(final.reasoningTokens, 6);
  });

  test('ping events count only as the first byte: they yield nothing and change no content', async () => {
    const plain = await serve(() => story);
    const withPings = await serve(() => ({ ...story, pings: true }));
    const a = await run(request(plain));
    const b = await run(request(withPings));
    assert.equal(b.error, null);
    const content = (events: StreamEvent[]) =>
      events
        .filter((e) => e.type !== 'request' && e.type !== 'first_byte')
        .map((e) => ({ ...e, t: 0, ...(e.type === 'finish' ? { responseId: null } : {}) }));
    assert.deepEqual(content(b.events), content(a.events));
    assert.equal(ofType(b.events, 'first_byte').length, 1);
    // The clock was read for every ping too, so the last delta is read later than without pings.
    assert.ok(ofType(b.events, 'text').at(-1)!.t > ofType(a.events, 'text').at(-1)!.t);
  });

  test('CRLF line endings parse to the same events', async () => {
    const server = await serve(() => ({ ...story, crlf: true, pings: true }));
    const { events, error } = await run(request(server));
    assert.equal(error, null);
    assert.equal(ofType(events, 'text').map((e) => e.text).join(''), 'Once upon a time');
    assert.equal(ofType(events, 'usage').at(-1)!.usage.outputTokens, 4);
    assert.equal(ofType(events, 'finish')[0]!.reason, 'stop');
  });

  test('a stream without usage yields no usage events and still finishes', async () => {
    const server = await serve(() => ({ ...story, usage: null }));
    const { events, error } = await run(request(server));
    assert.equal(error, null);
    assert.equal(ofType(events, 'usage').length, 0);
    assert.equal(ofType(events, 'finish').length, 1);
  });

  test('max tokens reached while thinking: reasoning but no text, finish reason length', async () => {
    const server = await serve(() => ({
      chunks: [
        { atMs: 5, reasoning: 'Let me think' },
        { atMs: 10, reasoning: ' about this.' },
      ],
      usage: { input: 21, output: 64, reasoning: 64 },
      finishReason: 'length',
    }));
    const { events, error } = await run(request(server));
    assert.equal(error, null);
    assert.equal(ofType(events, 'text').length, 0);
    assert.equal(ofType(events, 'reasoning').length, 2);
    const finish = ofType(events, 'finish')[0]!;
    assert.deepEqual([finish.reason, finish.rawReason], ['length', 'max_tokens']);
    assert.equal(ofType(events, 'usage').at(-1)!.usage.outputTokens, 64);
  });

  test('misc.omit_temperature: no temperature is sent and the request event says so', async () => {
    const server = await serve(() => story);
    const { events } = await run(request(server, { misc: { omit_temperature: true } }));
    assert.equal('temperature' in (server.requests[0]!.body as object), false);
    const req = ofType(events, 'request')[0]!;
    assert.equal(req.temperature, null);
    assert.deepEqual(req.applied, { omit_temperature: true });
  });

  test('a profile without temperature sends none and records no quirk', async () => {
    const server = await serve(() => story);
    const { events } = await run(request(server, { temperature: null }));
    assert.equal('temperature' in (server.requests[0]!.body as object), false);
    assert.deepEqual(ofType(events, 'request')[0]!.applied, {});
  });

  test('a 400 rejecting temperature is retried once without it, with a new request event', async () => {
    const server = await serve((r) =>
      'temperature' in (r.body as object)
        ? {
            status: 400,
            chunks: [],
            errorBody: { type: 'error', error: { type: 'invalid_request_error', message: '`temperature` is deprecated for this model.' } },
          }
        : story,
    );
    const { events, error } = await run(request(server, { modelId: 'claude-opus-4-7' }));
    assert.equal(error, null);
    assert.equal(server.requests.length, 2);
    assert.equal((server.requests[0]!.body as { temperature?: number }).temperature, 0.1);
    assert.equal('temperature' in (server.requests[1]!.body as object), false);
    const reqs = ofType(events, 'request');
    assert.equal(reqs.length, 2);
    assert.deepEqual([reqs[0]!.temperature, reqs[1]!.temperature], [0.1, null]);
    assert.deepEqual(reqs[1]!.applied, { omit_temperature: true });
    assert.equal(ofType(events, 'text').length, 3);
  });

  for (const message of ['max_tokens: must be at least 1', 'temperature: range: 0..1', 'top_k is not supported with extended thinking']) {
    test(`a 400 about something else is not retried: ${message}`, async () => {
      const server = await serve(() => ({
        status: 400,
        chunks: [],
        errorBody: { type: 'error', error: { type: 'invalid_request_error', message } },
      }));
      const { events, error } = await run(request(server));
      assert.equal(server.requests.length, 1);
      assert.equal(ofType(events, 'request').length, 1);
      assert.equal(classifyError(error).kind, 'hard_capability');
    });
  }

  test('without ANTHROPIC_API_KEY it fails at load_provider as auth, before any request', async () => {
    const server = await serve(() => story);
    const config = loadConfig({ env: { ANTHROPIC_BASE_URL: server.baseUrl }, dotenvPath: false });
    const { events, error } = await run(request(server, { config }));
    assert.ok(error instanceof BenchError);
    assert.equal(error.kind, 'auth');
    assert.equal(error.stage, 'load_provider');
    assert.match(error.message, /ANTHROPIC_API_KEY/);
    assert.equal(events.length, 0);
    assert.equal(server.requests.length, 0);
  });

  describe('HTTP errors are thrown as SDK errors that classify by status', () => {
    const cases: Array<{ status: number; headers?: Record<string, string>; kind: string; retryAfterMs?: number }> = [
      { status: 401, kind: 'auth' },
      { status: 404, kind: 'hard_model' },
      { status: 429, headers: { 'retry-after': '7' }, kind: 'rate_limit', retryAfterMs: 7000 },
      { status: 500, kind: 'transient_provider' },
      { status: 529, kind: 'transient_provider' },
    ];
    for (const c of cases) {
      test(`HTTP ${c.status} → ${c.kind}${c.retryAfterMs ? ' with Retry-After' : ''}`, async () => {
        const server = await serve(() => ({ status: c.status, headers: c.headers, chunks: [] }));
        const { events, error } = await run(request(server));
        assert.ok(error, 'the call fails');
        const classified = classifyError(error);
        assert.equal(classified.kind, c.kind);
        assert.equal(classified.httpStatus, c.status);
        if (c.retryAfterMs !== undefined) assert.equal(classified.retryAfterMs, c.retryAfterMs);
        assert.doesNotMatch(classified.detail, new RegExp(API_KEY));
        assert.deepEqual(types(events), ['request'], 'no retry by the SDK');
        assert.equal(server.requests.length, 1);
      });
    }
  });

  test('an overloaded_error event mid-stream is thrown after the text already streamed, as transient_provider', async () => {
    const server = await serve(() => ({ ...story, errorEventAfterChunks: 2 }));
    const { events, error } = await run(request(server));
    assert.equal(ofType(events, 'text').length, 2);
    assert.equal(ofType(events, 'finish').length, 0);
    const classified = classifyError(error);
    assert.equal(classified.kind, 'transient_provider');
    assert.match(classified.detail, /overloaded/i);
  });

  test('a rate_limit_error event mid-stream classifies as rate_limit', async () => {
    const server = await serve(() => ({
      ...story,
      errorEventAfterChunks: 1,
      errorEvent: { type: 'rate_limit_error', message: 'Rate limited' },
    }));
    const { error } = await run(request(server));
    assert.equal(classifyError(error).kind, 'rate_limit');
  });

  test('a stream cut mid-way throws a network error after the deltas received', async () => {
    const server = await serve(() => ({
      chunks: [
        { atMs: 0, text: 'Once' },
        { atMs: 20, text: ' upon' },
        { atMs: 400, text: ' a time' },
      ],
      usage: { input: 21, output: 4 },
      cutAfterChunks: 2,
    }));
    const { events, error } = await run(request(server));
    assert.ok(error, 'a cut stream is not a success');
    assert.equal(ofType(events, 'text').length, 2);
    assert.equal(ofType(events, 'finish').length, 0);
    assert.equal(classifyError(error).kind, 'network');
  });

  test('malformed event data throws a transient_provider error naming the event', async () => {
    const server = await serve(() => ({ ...story, malformedAt: 1 }));
    const { events, error } = await run(request(server));
    assert.ok(error instanceof BenchError);
    assert.equal(error.kind, 'transient_provider');
    assert.match(error.message, /malformed content_block_delta/);
    assert.equal(ofType(events, 'text').length, 1);
  });

  test('an abort during a stalled stream surfaces as an error, not as a clean end', async () => {
    const server = await serve(() => ({ ...story, stallAfterChunks: 1 }));
    const controller = new AbortController();
    const events: StreamEvent[] = [];
    await assert.rejects(
      (async () => {
        for await (const e of streamAnthropic(request(server, { signal: controller.signal }))) {
          events.push(e);
          if (e.type === 'text') controller.abort();
        }
      })(),
      (err: unknown) => {
        assert.equal(classifyError(err).kind, 'timeout');
        return true;
      },
    );
    assert.equal(ofType(events, 'text').length, 1);
  });
});

describe('streamAnthropic on exact bytes (test/fakes/wire-server.ts)', () => {
  const wire = trackWireServers();

  test('a stream that ends after message_delta without message_stop is a network failure, not a complete answer', async () => {
    const server = await wire({ writes: [{ atMs: 5, data: anthropic.start + anthropic.text('Once upon') + anthropic.end(4).split('event: message_stop')[0]! }] });
    const { error } = await run(request(server));
    assert.equal(classifyError(error).kind, 'network', String(error));
  });
});
