import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { loadConfig } from '../../../lib/config.ts';
import type { Config } from '../../../lib/config.ts';
import { BenchError, classifyError } from '../../../lib/errors.ts';
import type { ProviderRequest, StreamEvent } from '../../../lib/bench/provider-stream.ts';
import { bedrockRegion, streamBedrock } from '../../../lib/bench/providers/bedrock.ts';
import { startBedrockServer } from '../../fakes/bedrock-server.ts';
import type { BedrockFakeServer, BedrockScenario } from '../../fakes/bedrock-server.ts';
import { assertNonDecreasing, collect, ofType, only, providerRequest, STORY_PROMPT, texts, types } from '../../fakes/provider-harness.ts';
import type { Collected } from '../../fakes/provider-harness.ts';
import { scheduleChunks } from '../../fakes/scenario.ts';
import { setEnv } from '../../set-env.ts';

const MODEL = 'us.anthropic.claude-3-5-haiku-20241022-v1:0';

// The SDK's default credential chain reads these; the tests own them while they run.
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST',
  AWS_SECRET_ACCESS_KEY: 'test-secret-access-key',
  AWS_SESSION_TOKEN: undefined,
  AWS_PROFILE: undefined,
  AWS_BEARER_TOKEN_BEDROCK: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  // Never ask an instance metadata service, never read the developer's ~/.aws.
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/llm-bench-test/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/llm-bench-test/aws-credentials',
  AWS_ENDPOINT_URL: undefined,
  AWS_ENDPOINT_URL_BEDROCK_RUNTIME: undefined,
} satisfies Record<string, string | undefined>;

let savedEnv: Record<string, string | undefined> = {};

let server: BedrockFakeServer;
let config: Config;
let scenario: BedrockScenario;

before(async () => {
  savedEnv = setEnv(AWS_ENV);
  server = await startBedrockServer(() => scenario);
  config = loadConfig({ env: { AWS_ENDPOINT_URL_BEDROCK_RUNTIME: server.baseUrl }, dotenvPath: false });
});

after(async () => {
  await server.close();
  setEnv(savedEnv);
});

beforeEach(() => {
  server.requests.length = 0;
});

/** Streams MODEL through the real SDK; `onEvent` sees each event as it arrives. */
function run({ onEvent, ...overrides }: Partial<ProviderRequest> & { onEvent?: (e: StreamEvent) => void } = {}): Promise<Collected> {
  const req = providerRequest({ provider: 'bedrock', modelId: MODEL, config, signal: AbortSignal.timeout(10_000), ...overrides });
  return collect(streamBedrock(req), { onEvent });
}

const threeChunks: BedrockScenario = {
  chunks: [
    { atMs: 5, text: 'Once upon' },
    { atMs: 10, text: ' a time' },
    { atMs: 15, text: ' there was' },
  ],
  usage: { input: 14, output: 7 },
  finishReason: 'stop',
};

describe('streamBedrock through the real SDK against the HTTP/2 event-stream fake', { timeout: 30_000 }, () => {
  test('sends one user message with maxTokens and temperature to /model/{id}/converse-stream over HTTP/2, signed', async () => {
    scenario = threeChunks;
    const { events, error } = await run();
    assert.equal(error, null);
    assert.equal(server.requests.length, 1);
    const sent = server.requests[0]!;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.path, `/model/${encodeURIComponent(MODEL)}/converse-stream`);
    // Pseudo-headers exist only on HTTP/2: the SDK's NodeHttp2Handler really spoke h2c.
    assert.equal(sent.headers[':scheme'], 'http');
    assert.deepEqual(sent.body, {
      messages: [{ role: 'user', content: [{ text: STORY_PROMPT }] }],
      inferenceConfig: { maxTokens: 64, temperature: 0.1 },
    });
    assert.match(String(sent.headers.authorization), /^AWS4-HMAC-SHA256 Credential=AKIDTESTTESTTEST\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
    const request = ofType(events, 'request');
    assert.equal(request.length, 1);
    assert.deepEqual(
      { ...request[0], t: 0 },
      { type: 'request', t: 0, mode: 'bedrock_converse_stream', maxTokens: 64, temperature: 0.1, reasoningEffort: null, applied: { region: 'us-east-1' } },
    );
  });

  test('passes misc.additional_model_request_fields through and records it as applied', async () => {
    scenario = threeChunks;
    const extra = { reasoning_config: { type: 'enabled', budget_tokens: 1024 }, top_k: 40 };
    const { events, error } = await run({ misc: { additional_model_request_fields: extra } });
    assert.equal(error, null);
    assert.deepEqual((server.requests[0]!.body as Record<string, unknown>).additionalModelRequestFields, extra);
    assert.deepEqual(ofType(events, 'request')[0]!.applied, { region: 'us-east-1', additional_model_request_fields: extra });
  });

  test('omits temperature when misc.omit_temperature is set or the request has none', async () => {
    scenario = threeChunks;
    const quirk = await run({ misc: { omit_temperature: true } });
    const none = await run({ temperature: null });
    assert.equal(quirk.error, null);
    assert.equal(none.error, null);
    for (const sent of server.requests) {
      assert.deepEqual((sent.body as { inferenceConfig: unknown }).inferenceConfig, { maxTokens: 64 });
    }
    assert.equal(server.requests.length, 2);
    assert.equal(ofType(quirk.events, 'request')[0]!.temperature, null);
    assert.deepEqual(ofType(quirk.events, 'request')[0]!.applied, { region: 'us-east-1', omit_temperature: true });
    assert.equal(ofType(none.events, 'request')[0]!.temperature, null);
  });

  test('signs for us-west-2 when the model id contains opus, and for misc.region when set', async () => {
    scenario = threeChunks;
    const opus = await run({ modelId: 'us.anthropic.claude-opus-4-1-20250805-v1:0' });
    const pinned = await run({ misc: { region: 'eu-central-1' } });
    assert.equal(opus.error, null);
    assert.equal(pinned.error, null);
    assert.match(String(server.requests[0]!.headers.authorization), /\/us-west-2\/bedrock\/aws4_request/);
    assert.match(String(server.requests[1]!.headers.authorization), /\/eu-central-1\/bedrock\/aws4_request/);
    assert.deepEqual(ofType(pinned.events, 'request')[0]!.applied, { region: 'eu-central-1' });
  });

  test('usage and latencyMs come only from the final metadata event, after the last text', async () => {
    scenario = { ...threeChunks, usage: { input: 14, output: 7, cached: 3 }, latencyMs: 1234 };
    const { events, error } = await run();
    assert.equal(error, null);
    assert.deepEqual(
      types(events),
      ['request', 'first_byte', 'text', 'text', 'text', 'usage', 'finish'],
    );
    const usage = ofType(events, 'usage');
    assert.equal(usage.length, 1);
    assert.deepEqual(usage[0]!.usage, {
      inputTokens: 14,
      outputTokens: 7,
      reasoningTokens: null,
      cachedInputTokens: 3,
      totalTokens: 21,
      raw: { inputTokens: 14, outputTokens: 7, totalTokens: 21, cacheReadInputTokens: 3, cacheWriteInputTokens: 0 },
    });
    const finish = ofType(events, 'finish');
    assert.equal(finish.length, 1);
    assert.equal(finish[0]!.providerLatencyMs, 1234);
    assert.equal(finish[0]!.reason, 'stop');
    assert.equal(finish[0]!.rawReason, 'end_turn');
    // The response id is Bedrock's x-amzn-requestid.
    assert.match(String(finish[0]!.responseId), /^[0-9a-f]{8}-[0-9a-f]{4}-/);
  });

  test('reports no usage when metadata carries none, without inventing counts', async () => {
    scenario = { ...threeChunks, usage: null, latencyMs: 40 };
    const { events, error } = await run();
    assert.equal(error, null);
    assert.equal(ofType(events, 'usage').length, 0);
    assert.equal(ofType(events, 'finish')[0]!.providerLatencyMs, 40);
  });

  test('keeps several tokens per chunk as one text delta and takes counts from usage, not chunks', async () => {
    const plan = scheduleChunks({ ttftMs: 5, tokens: 12, tokensPerSecond: 2000, tokensPerChunk: 3 });
    scenario = { chunks: plan.chunks, usage: plan.usage, finishReason: 'stop' };
    const { events, error } = await run();
    assert.equal(error, null);
    assert.deepEqual(texts(events), plan.chunks.map((c) => c.text));
    assert.equal(texts(events).length, 4);
    assert.equal(ofType(events, 'usage')[0]!.usage.outputTokens, 12);
  });

  test('yields reasoning deltas before text and skips the signature-only reasoning delta', async () => {
    scenario = {
      chunks: [
        { atMs: 5, reasoning: 'The user wants' },
        { atMs: 8, reasoning: ' a story.' },
        { atMs: 12, text: 'Long ago' },
        { atMs: 14, text: ', the world' },
      ],
      usage: { input: 14, output: 9 },
      finishReason: 'stop',
    };
    const { events, error } = await run();
    assert.equal(error, null);
    const deltas = events.filter((e) => e.type === 'text' || e.type === 'reasoning');
    assert.deepEqual(
      deltas.map((e) => [e.type, e.text]),
      [
        ['reasoning', 'The user wants'],
        ['reasoning', ' a story.'],
        ['text', 'Long ago'],
        ['text', ', the world'],
      ],
    );
  });

  test('reports a max_tokens stop before any visible text as finish reason length', async () => {
    scenario = {
      chunks: [
        { atMs: 5, reasoning: 'Let me think' },
        { atMs: 9, reasoning: ' about this at length' },
      ],
      usage: { input: 14, output: 64 },
      finishReason: 'length',
    };
    const { events, error } = await run();
    assert.equal(error, null);
    assert.equal(texts(events).length, 0);
    assert.equal(ofType(events, 'reasoning').length, 2);
    const finish = ofType(events, 'finish')[0]!;
    assert.equal(finish.reason, 'length');
    assert.equal(finish.rawReason, 'max_tokens');
    assert.equal(ofType(events, 'usage')[0]!.usage.outputTokens, 64);
  });

  test('times each SDK event by when its message arrived: clock readings at the send, the headers and each chunk, never while the SDK parses', async () => {
    scenario = {
      chunks: [
        { atMs: 5, reasoning: 'hmm' },
        { atMs: 30, text: 'One' },
        { atMs: 60, text: ' two' },
      ],
      usage: { input: 14, output: 3 },
      finishReason: 'stop',
    };
    const readings: Array<{ t: number; stack: string }> = [];
    const { events, error } = await run({
      now: () => {
        readings.push({ t: readings.length * 10 + 10, stack: new Error().stack ?? '' });
        return readings.length * 10;
      },
    });
    assert.equal(error, null);
    assertNonDecreasing(events);
    assert.equal(events[0]!.type, 'request');
    assert.equal(events[0]!.t, 10);
    // Then the request's last byte going out (HTTP/2 bodySent), then the response headers.
    const connection = only(events, 'connection');
    assert.equal(connection.sentAt, 20);
    assert.equal(connection.t, 30);
    // Every later reading is a chunk's arrival (timedEventStream, on the socket's read), none from the adapter's loop.
    for (const r of readings.slice(3)) assert.match(r.stack, /wire\.ts[\s\S]*onStreamRead/, `reading ${r.t} taken outside a chunk arrival: ${r.stack}`);
    const [reasoning, one, two] = [only(events, 'reasoning'), ...ofType(events, 'text')];
    // 25 and 30 ms apart on the wire: three chunks, three readings in order.
    assert.ok(reasoning.t > connection.t && one!.t > reasoning.t && two!.t > one!.t);
    assert.ok(readings.some((r) => r.t === one!.t) && readings.some((r) => r.t === two!.t));
    // The finish is messageStop's arrival, the usage metadata's: the same chunk, or a later one.
    const finish = only(events, 'finish');
    assert.ok(finish.t >= two!.t && only(events, 'usage').t >= finish.t);
  });

  const httpErrors: Array<{ name: string; status: number; kind: string; errorName: string; model?: string }> = [
    { name: '403 AccessDeniedException', status: 403, kind: 'auth', errorName: 'AccessDeniedException' },
    { name: '404 ResourceNotFoundException (end of life)', status: 404, kind: 'hard_model', errorName: 'ResourceNotFoundException' },
    { name: '429 ThrottlingException', status: 429, kind: 'rate_limit', errorName: 'ThrottlingException' },
    { name: '500 InternalServerException', status: 500, kind: 'transient_provider', errorName: 'InternalServerException' },
    {
      name: '400 ValidationException for an un-prefixed anthropic id (on-demand throughput)',
      status: 400,
      kind: 'hard_model',
      errorName: 'ValidationException',
      model: 'anthropic.claude-3-5-sonnet-20241022-v2:0',
    },
  ];
  for (const c of httpErrors) {
    test(`an HTTP ${c.name} before the stream is thrown by the SDK and classified ${c.kind}`, async () => {
      scenario = { status: c.status, chunks: [] };
      const { events, error } = await run(c.model ? { modelId: c.model } : {});
      assert.ok(error instanceof Error, 'expected an error');
      assert.equal(error.name, c.errorName);
      const classified = classifyError(error);
      assert.equal(classified.kind, c.kind);
      assert.equal(classified.httpStatus, c.status);
      assert.deepEqual(
        types(events),
        ['request'],
      );
      if (c.model) assert.match(classified.detail, /on-demand throughput isn.t supported/);
    });
  }

  test('a throttlingException event mid-stream is thrown after the deltas before it, classified rate_limit', async () => {
    scenario = {
      ...threeChunks,
      streamException: { afterChunks: 2, type: 'throttlingException', message: 'Too many tokens, please wait before trying again.' },
    };
    const { events, error } = await run();
    assert.ok(error instanceof Error);
    assert.equal(error.name, 'ThrottlingException');
    assert.equal(classifyError(error).kind, 'rate_limit');
    assert.deepEqual(texts(events), ['Once upon', ' a time']);
    assert.equal(ofType(events, 'finish').length, 0);
  });

  test('a modelStreamErrorException event mid-stream is classified transient_provider', async () => {
    scenario = {
      ...threeChunks,
      streamException: { afterChunks: 1, type: 'modelStreamErrorException', message: 'The model stream failed.' },
    };
    const { events, error } = await run();
    assert.equal(classifyError(error).kind, 'transient_provider');
    assert.deepEqual(texts(events), ['Once upon']);
  });

  test('a connection cut mid-way is an error, not a short success', async () => {
    scenario = { ...threeChunks, cutAfterChunks: 2 };
    const { events, error } = await run();
    assert.ok(error instanceof BenchError, `expected a BenchError, got ${String(error)}`);
    assert.equal(error.kind, 'network');
    assert.match(error.message, /ended before messageStop/);
    assert.deepEqual(texts(events), ['Once upon', ' a time']);
    assert.equal(ofType(events, 'finish').length, 0);
  });

  test('a frame with a bad CRC fails the call after the deltas before it', async () => {
    scenario = { ...threeChunks, malformedAt: 1 };
    const { events, error } = await run();
    assert.ok(error instanceof Error);
    assert.match(error.message, /checksum/i);
    assert.deepEqual(texts(events), ['Once upon']);
    assert.equal(ofType(events, 'finish').length, 0);
  });

  test('a stalled stream ends with the caller abort reason, classified timeout', async () => {
    scenario = { ...threeChunks, stallAfterChunks: 2 };
    const stall = new AbortController();
    // Stands in for the runner's stall timeout: fires once the deltas before the stall arrived.
    const { events, error } = await run({
      signal: stall.signal,
      onEvent: (e) => {
        if (e.type === 'text' && e.text === ' a time') setTimeout(() => stall.abort(new DOMException('stalled', 'TimeoutError')), 30);
      },
    });
    assert.ok(error instanceof DOMException);
    assert.equal(error.name, 'TimeoutError');
    assert.equal(classifyError(error).kind, 'timeout');
    assert.deepEqual(texts(events), ['Once upon', ' a time']);
  });

  test('a caller that stops reading cancels the HTTP/2 stream', async () => {
    scenario = { ...threeChunks, stallAfterChunks: 1 };
    const before = server.cancelledStreams;
    const { events, error } = await run({ signal: new AbortController().signal, onEvent: (e) => {
      if (e.type === 'text') throw new Error('caller stops');
    } });
    assert.equal((error as Error).message, 'caller stops');
    assert.deepEqual(texts(events), ['Once upon']);
    // Wait (bounded) for the reset to reach the fake.
    for (let i = 0; i < 400 && server.cancelledStreams === before; i++) await new Promise((r) => setTimeout(r, 5));
    assert.equal(server.cancelledStreams, before + 1);
  });

  test('without any AWS credentials the call fails as auth at load_provider', async () => {
    const keys = setEnv({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });
    try {
      scenario = threeChunks;
      // A region no other test used, so the client (and its cached credentials) is new.
      const { error } = await run({ misc: { region: 'ap-southeast-2' } });
      assert.ok(error instanceof BenchError, `expected a BenchError, got ${String(error)}`);
      assert.equal(error.kind, 'auth');
      assert.equal(error.stage, 'load_provider');
      assert.equal(server.requests.length, 0);
    } finally {
      setEnv(keys);
    }
  });
});

describe('bedrockRegion', () => {
  test('misc.region wins over every id rule', () => {
    assert.equal(bedrockRegion('us.anthropic.claude-opus-4-1-20250805-v1:0', { region: 'eu-west-1' }, 'us-east-1'), 'eu-west-1');
  });

  test('ids containing opus or llama3-1 go to us-west-2', () => {
    assert.equal(bedrockRegion('us.anthropic.claude-opus-4-20250514-v1:0', {}, 'us-east-1'), 'us-west-2');
    assert.equal(bedrockRegion('meta.llama3-1-70b-instruct-v1:0', {}, 'us-east-1'), 'us-west-2');
  });

  test('other ids use the configured default region', () => {
    assert.equal(bedrockRegion('us.meta.llama3-2-90b-instruct-v1:0', {}, 'us-east-1'), 'us-east-1');
    assert.equal(bedrockRegion('us.anthropic.claude-3-5-haiku-20241022-v1:0', {}, 'eu-central-1'), 'eu-central-1');
    assert.equal(bedrockRegion('mistral.mistral-large-2402-v1:0', { region: null }, 'us-east-2'), 'us-east-2');
  });

  test('a misc.region that is not a region name is refused', () => {
    assert.throws(() => bedrockRegion('amazon.nova-pro-v1:0', { region: 42 }, 'us-east-1'), (err: unknown) => err instanceof BenchError && err.stage === 'load_provider');
    assert.throws(() => bedrockRegion('amazon.nova-pro-v1:0', { region: 'Oregon' }, 'us-east-1'), /misc\.region/);
  });
});
