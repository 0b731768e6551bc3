// Amazon Bedrock through the AWS SDK's ConverseStream: one API for every model family, with
// usage and Bedrock's own latency in the final `metadata` event. Credentials come from the
// SDK's default chain (environment, shared profile, web identity, container or instance
// role), which is why this file never looks at keys itself.
import { Readable } from 'node:stream';
import { BedrockRuntimeClient, ConverseStreamCommand, ListAsyncInvokesCommand } from '@aws-sdk/client-bedrock-runtime';
import type { ConverseStreamCommandInput, ConverseStreamOutput } from '@aws-sdk/client-bedrock-runtime';
import { BenchError } from '../../errors.ts';
import { normalizeFinishReason } from '../provider-stream.ts';
import type { ProviderRequest, StreamEvent, Usage, WarmRequest } from '../provider-stream.ts';
import { rateLimitFrom } from '../rate-limit.ts';
import { eventStreamMessage, rehearse, type Canned } from './rehearsal.ts';
import { currentRedirect, currentTap, headersTime, inTap, messageArrival, newTap, notAStream, openConnection, timedEventStream } from './wire.ts';

const MODE = 'bedrock_converse_stream';

/**
 * The AWS region to call for a model: `misc.region` when set, else `us-west-2` for ids
 * containing `opus` or `llama3-1` (served on demand there only), else `fallback`.
 * @throws BenchError when misc.region is set but is not a region name.
 */
export function bedrockRegion(modelId: string, misc: Record<string, unknown>, fallback: string): string {
  const region = misc.region;
  if (region !== undefined && region !== null) {
    if (typeof region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region.trim())) {
      throw new BenchError(`misc.region of bedrock/${modelId} must be a region name such as us-west-2 (got ${JSON.stringify(region)})`, {
        kind: 'unknown',
        stage: 'load_provider',
      });
    }
    return region.trim();
  }
  const id = modelId.toLowerCase();
  if (id.includes('opus') || id.includes('llama3-1')) return 'us-west-2';
  return fallback;
}

// One client per region (and endpoint) for the process: the client holds the resolved
// credentials and its HTTP/2 handler, so building one per call would re-run the credential
// chain each time.
const clients = new Map<string, BedrockRuntimeClient>();

function clientFor(region: string, endpoint: string | null): BedrockRuntimeClient {
  const key = `${region} ${endpoint ?? ''}`;
  let client = clients.get(key);
  if (!client) {
    client = new BedrockRuntimeClient({
      region,
      // The runner decides retries and records them (SPEC 8); the SDK must not retry behind it.
      maxAttempts: 1,
      ...(endpoint ? { endpoint } : {}),
      // Options for the SDK's own NodeHttp2Handler; keepSessions below does the rest.
      requestHandler: { disableConcurrentStreams: false },
    });
    keepSessions(client);
    clients.set(key, client);
  }
  return client;
}

/**
 * The SDK's HTTP/2 handler opens a new session (TCP and TLS) for every event stream, so each
 * call would time a connection set-up. ConverseStream only streams responses, so the calls of
 * a lane can share one session like any other request (SPEC 5: one kept session per lane);
 * the handler also tells the call's tap what came back.
 */
function keepSessions(client: BedrockRuntimeClient): void {
  const handler = client.config.requestHandler as unknown as {
    handle: (request: object, options?: Record<string, unknown>) => Promise<{ response: { statusCode: number; headers: Record<string, string> } }>;
  };
  const handle = handler.handle.bind(handler);
  handler.handle = async (request, options = {}) => {
    const to = currentRedirect();
    if (to) Object.assign(request as object, { protocol: to.protocol, hostname: to.hostname, port: Number(to.port) });
    const result = await handle(request, { ...options, isEventStream: false });
    const tap = currentTap();
    if (tap) {
      tap.headersAt = tap.now();
      const response = result.response as { body?: unknown };
      if (response.body instanceof Readable) response.body = timedEventStream(response.body, tap);
      tap.status = result.response.statusCode;
      tap.contentType = headerOf(result.response.headers, 'content-type');
      tap.headers = headersOf(result.response.headers);
    }
    return result;
  };
}

/** The answer's headers as fetch's Headers (a header Headers refuses is left out). */
function headersOf(record: Record<string, string>): Headers {
  const headers = new Headers();
  for (const [k, v] of Object.entries(record)) {
    try {
      headers.set(k, v);
    } catch {
      // An HTTP/2 pseudo-header or a value fetch would refuse: nothing a rate limit needs.
    }
  }
  return headers;
}

function headerOf(headers: Record<string, string>, name: string): string | null {
  for (const [k, v] of Object.entries(headers)) if (k.toLowerCase() === name) return v;
  return null;
}

/** A short ConverseStream answer for the rehearsal. */
const BEDROCK_REHEARSAL: Canned = {
  http2: true,
  contentType: 'application/vnd.amazon.eventstream',
  body: Buffer.concat([
    eventStreamMessage('messageStart', { role: 'assistant' }),
    eventStreamMessage('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'w' } } }),
    eventStreamMessage('contentBlockDelta', { contentBlockIndex: 1, delta: { text: 'w' } }),
    eventStreamMessage('contentBlockStop', { contentBlockIndex: 1 }),
    eventStreamMessage('messageStop', { stopReason: 'end_turn' }),
    eventStreamMessage('metadata', { usage: { inputTokens: 1, outputTokens: 2, totalTokens: 3 }, metrics: { latencyMs: 1 } }),
  ]),
};

/**
 * Opens the lane's HTTP/2 session with ListAsyncInvokes, a read on the runtime host that costs
 * nothing (an access-denied answer opens the session all the same), and resolves the
 * credentials, before the first clock starts. Once per region's client.
 */
streamBedrock.warm = async (req: WarmRequest): Promise<void> => {
  const region = bedrockRegion(req.modelId, req.misc, req.config.providers.bedrock.defaultRegion);
  const client = clientFor(region, req.config.providers.bedrock.runtimeEndpoint);
  await rehearse(`bedrock ${region} ${req.config.providers.bedrock.runtimeEndpoint ?? ''}`, streamBedrock, req, BEDROCK_REHEARSAL);
  await openConnection(client, () => client.send(new ListAsyncInvokesCommand({ maxResults: 1 }), { abortSignal: req.signal }));
};

/** The runtime host of the model's region (or AWS_ENDPOINT_URL_BEDROCK_RUNTIME). */
streamBedrock.origin = (req: WarmRequest): string => {
  const region = bedrockRegion(req.modelId, req.misc, req.config.providers.bedrock.defaultRegion);
  return req.config.providers.bedrock.runtimeEndpoint ?? `https://bedrock-runtime.${region}.amazonaws.com`;
};

/**
 * Streams one ConverseStream call and yields timed events.
 * @throws BenchError (auth, load_provider) when no AWS credentials can be found; SDK errors
 * (ThrottlingException, AccessDeniedException, stream exception events, …) propagate as
 * thrown for classifyError; the abort reason of `req.signal` when it fired; BenchError
 * (network) when the stream ends before `messageStop`.
 */
export async function* streamBedrock(req: ProviderRequest): AsyncGenerator<StreamEvent> {
  const label = `bedrock/${req.modelId}`;
  const region = bedrockRegion(req.modelId, req.misc, req.config.providers.bedrock.defaultRegion);
  const extra = req.misc.additional_model_request_fields;
  if (extra !== undefined && extra !== null && (typeof extra !== 'object' || Array.isArray(extra))) {
    throw new BenchError(`misc.additional_model_request_fields of ${label} must be an object`, {
      kind: 'unknown',
      stage: 'load_provider',
    });
  }
  const omitTemperature = req.temperature === null || req.misc.omit_temperature === true;
  const temperature = omitTemperature ? null : req.temperature;
  const input: ConverseStreamCommandInput = {
    modelId: req.modelId,
    messages: [{ role: 'user', content: [{ text: req.prompt }] }],
    inferenceConfig: { maxTokens: req.maxTokens, ...(temperature !== null ? { temperature } : {}) },
    ...(extra ? { additionalModelRequestFields: extra as NonNullable<ConverseStreamCommandInput['additionalModelRequestFields']> } : {}),
  };
  // The region is recorded with the quirks: the same model measures differently per region.
  const applied: Record<string, unknown> = { region };
  if (req.misc.omit_temperature === true) applied.omit_temperature = true;
  if (extra) applied.additional_model_request_fields = extra;

  const client = clientFor(region, req.config.providers.bedrock.runtimeEndpoint);
  // Aborting `local` stops the HTTP/2 stream when the caller stops reading early.
  const local = new AbortController();
  const signal = AbortSignal.any([req.signal, local.signal]);
  let completed = false;
  try {
    yield { type: 'request', t: req.now(), mode: MODE, maxTokens: req.maxTokens, temperature, reasoningEffort: null, applied };

    let stream: AsyncIterable<ConverseStreamOutput>;
    let responseId: string | null;
    const tap = newTap(req.onActivity, req.now);
    try {
      const response = await inTap(tap, () => client.send(new ConverseStreamCommand(input), { abortSignal: signal }));
      // Bedrock sends no rate-limit headers today (nor on a 429: x-amzn-requestid and
      // x-amzn-errortype only); read them all the same, so one that appears is kept (SPEC 18).
      yield { type: 'connection', t: headersTime(tap), reused: !tap.newConnection, rateLimit: rateLimitFrom(tap.headers), sentAt: tap.sentAt };
      if (!response.stream) throw new BenchError(`the response has no event stream`, { kind: 'unknown', stage: 'generate' });
      stream = response.stream;
      responseId = response.$metadata.requestId ?? null;
    } catch (err) {
      throw notAStream(tap, label) ?? settled(err, req.signal);
    }

    let sawEvent = false;
    let rawReason: string | null | undefined;
    let stopT = 0;
    let metadataSeen = false;
    let providerLatencyMs: number | null = null;
    // SPEC 18: the only name of the answering model Bedrock gives is a prompt router's
    // trace.promptRouter.invokedModelId; for a plain model id it says nothing.
    let servedModel: string | null = null;
    let finished = false;
    try {
      for await (const event of stream) {
        const t = messageArrival(tap, Object.keys(event)[0]);
        req.onActivity?.();
        if (!sawEvent) {
          sawEvent = true;
          yield { type: 'first_byte', t };
        }
        if (event.contentBlockDelta) {
          const delta = event.contentBlockDelta.delta;
          // Signature-only and redacted reasoning deltas carry no text to time.
          if (delta?.text) yield { type: 'text', t, text: delta.text };
          else if (delta?.reasoningContent?.text) yield { type: 'reasoning', t, text: delta.reasoningContent.text };
        } else if (event.messageStop) {
          rawReason = event.messageStop.stopReason ?? null;
          stopT = t;
        } else if (event.metadata) {
          metadataSeen = true;
          const latency = event.metadata.metrics?.latencyMs;
          providerLatencyMs = typeof latency === 'number' ? latency : null;
          const invoked = event.metadata.trace?.promptRouter?.invokedModelId;
          if (typeof invoked === 'string' && invoked) servedModel = invoked;
          const u = event.metadata.usage;
          if (u) yield { type: 'usage', t, usage: usageOf(u) };
        }
        if (!finished && rawReason !== undefined && metadataSeen) {
          finished = true;
          // The answer ended at messageStop; the metadata after it only reports on it.
          yield finishEvent(stopT, rawReason, responseId, providerLatencyMs, servedModel);
        }
      }
    } catch (err) {
      throw (sawEvent ? null : notAStream(tap, label)) ?? settled(err, req.signal);
    }
    if (req.signal.aborted) throw settled(new Error('aborted'), req.signal);
    if (rawReason === undefined) {
      throw new BenchError(`the event stream ended before messageStop`, { kind: 'network', stage: 'generate' });
    }
    // Bedrock always ends with `metadata`; should it not, finish with what we have.
    if (!finished) yield finishEvent(stopT, rawReason, responseId, providerLatencyMs, servedModel);
    completed = true;
  } finally {
    if (!completed) local.abort();
  }
}

function finishEvent(t: number, rawReason: string | null, responseId: string | null, providerLatencyMs: number | null, servedModel: string | null): StreamEvent {
  return { type: 'finish', t, reason: normalizeFinishReason(rawReason), rawReason, responseId, providerLatencyMs, servedModel };
}

function usageOf(u: { inputTokens?: number | undefined; outputTokens?: number | undefined; totalTokens?: number | undefined; cacheReadInputTokens?: number | undefined }): Usage {
  const n = (v: number | undefined): number | null => (typeof v === 'number' ? v : null);
  return {
    inputTokens: n(u.inputTokens),
    outputTokens: n(u.outputTokens),
    // ConverseStream reports reasoning tokens inside outputTokens, never apart.
    reasoningTokens: null,
    cachedInputTokens: n(u.cacheReadInputTokens),
    totalTokens: n(u.totalTokens),
    raw: u,
  };
}

/**
 * The error to throw for a failed call: the caller's abort reason when its signal fired (the
 * SDK reports an aborted HTTP/2 stream as a generic stream error), a BenchError for missing
 * credentials, and anything else as thrown, for classifyError.
 */
function settled(err: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return signal.reason ?? err;
  if (err instanceof Error && err.name === 'CredentialsProviderError') {
    return new BenchError(`no AWS credentials found (${err.message})`, {
      kind: 'auth',
      stage: 'load_provider',
      cause: err,
    });
  }
  return err;
}
