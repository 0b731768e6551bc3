// Anthropic Messages API, streamed (SPEC 5). The request and SSE event handling live in
// streamAnthropicMessages so that Claude on Vertex (lib/bench/providers/vertex.ts), which speaks
// the same events through Google's endpoint, is measured by exactly the same code.
import Anthropic, { APIError } from '@anthropic-ai/sdk';
import { Stream } from '@anthropic-ai/sdk/core/streaming';
import { BenchError } from '../../errors.ts';
import { normalizeFinishReason } from '../provider-stream.ts';
import type { ProviderRequest, StreamEvent, Usage, WarmRequest } from '../provider-stream.ts';
import { rehearse, sseEvent, type Canned } from './rehearsal.ts';
import { arrivalTime, headersTime, inTap, newTap, notAStream, openConnection, tappedFetch, type WireTap } from './wire.ts';
import { rateLimitFrom } from '../rate-limit.ts';

/**
 * Streams one Messages call to api.anthropic.com (or ANTHROPIC_BASE_URL).
 * @throws BenchError (auth, load_provider) when ANTHROPIC_API_KEY is not set; the SDK's
 * APIError for HTTP errors and for `error` events mid-stream; the abort reason when
 * req.signal fires; BenchError for malformed event data (transient_provider) or a stream
 * that ends before message_stop (network).
 */
export async function* streamAnthropic(req: ProviderRequest): AsyncGenerator<StreamEvent> {
  const { apiKey, baseUrl } = req.config.providers.anthropic;
  if (!apiKey) throw new BenchError('ANTHROPIC_API_KEY is not set', { kind: 'auth', stage: 'load_provider' });
  yield* streamAnthropicMessages(sharedClient(apiKey, baseUrl), req, { mode: 'anthropic_messages_stream' });
}

/**
 * Builds the client and opens its connection with list-models (costs nothing) before the
 * lane's first clock starts (SPEC 5). Any HTTP answer opens the connection; once per client.
 */
streamAnthropic.warm = async (req: WarmRequest): Promise<void> => {
  const { apiKey, baseUrl } = req.config.providers.anthropic;
  if (!apiKey) return;
  await rehearse(`anthropic ${baseUrl}`, streamAnthropic, req, ANTHROPIC_REHEARSAL);
  const client = sharedClient(apiKey, baseUrl);
  await openConnection(client, () => client.models.list({ limit: 1 }, { signal: req.signal }));
};

/** A short Messages stream for the rehearsal (also used for Claude on Vertex). */
export const ANTHROPIC_REHEARSAL: Canned = {
  contentType: 'text/event-stream',
  body: [
    sseEvent({ type: 'message_start', message: { id: 'warm', usage: { input_tokens: 1, output_tokens: 1 } } }, 'message_start'),
    sseEvent({ type: 'ping' }, 'ping'),
    sseEvent({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'w' } }, 'content_block_delta'),
    sseEvent({ type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'w' } }, 'content_block_delta'),
    sseEvent({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 2 } }, 'message_delta'),
    sseEvent({ type: 'message_stop' }, 'message_stop'),
  ].join(''),
};

const clients = new Map<string, Anthropic>();

// One client per key and base URL for the process: the lane's warm-up and its calls share it.
function sharedClient(apiKey: string, baseUrl: string): Anthropic {
  const key = `${baseUrl}\u0000${apiKey}`;
  let client = clients.get(key);
  if (!client) {
    // The runner decides and records retries, so the SDK makes exactly one attempt; errors
    // reach the caller as exceptions, so the SDK's own console logging would only repeat them.
    // tappedFetch lets every byte (pings included) reach the stall watch.
    client = new Anthropic({ apiKey, baseURL: baseUrl, maxRetries: 0, logLevel: 'off', fetch: tappedFetch });
    clients.set(key, client);
  }
  return client;
}

/** What streamAnthropicMessages needs of a client: Anthropic and AnthropicVertex both fit. */
export interface AnthropicMessagesClient {
  messages: { create: Anthropic['messages']['create'] };
}

export interface AnthropicMessagesOptions {
  /** The request mode recorded in every request event (anthropic_messages_stream, vertex_anthropic_stream). */
  mode: string;
  /** Quirks the caller has already applied (e.g. a Vertex region), reported with each request. */
  applied?: Record<string, unknown>;
}

/**
 * Sends one streamed Messages request through `client` and yields timed events. When the
 * model rejects `temperature` (HTTP 400 naming it), retries once without it.
 * @throws as streamAnthropic.
 */
export async function* streamAnthropicMessages(
  client: AnthropicMessagesClient,
  req: ProviderRequest,
  options: AnthropicMessagesOptions,
): AsyncGenerator<StreamEvent> {
  const applied: Record<string, unknown> = { ...options.applied };
  let omitTemperature = req.temperature === null || req.misc.omit_temperature === true;
  if (req.misc.omit_temperature === true) applied.omit_temperature = true;
  for (let retriedWithoutTemperature = false; ; ) {
    const temperature = omitTemperature ? null : req.temperature;
    yield {
      type: 'request',
      t: req.now(),
      mode: options.mode,
      maxTokens: req.maxTokens,
      temperature,
      reasoningEffort: null,
      applied: { ...applied },
    };
    let response: Response;
    const tap = newTap(req.onActivity, req.now);
    try {
      const body = {
        model: req.modelId,
        max_tokens: req.maxTokens,
        messages: [{ role: 'user' as const, content: req.prompt }],
        ...(temperature === null ? {} : { temperature }),
        stream: true as const,
      };
      response = await inTap(tap, () => client.messages.create(body, { signal: req.signal }).asResponse());
      yield { type: 'connection', t: headersTime(tap), reused: !tap.newConnection, rateLimit: rateLimitFrom(tap.headers), sentAt: tap.sentAt };
    } catch (err) {
      // The caller's reason (call timeout, stall, sweep deadline) says more than the SDK's abort error.
      req.signal.throwIfAborted();
      // Newer Claude models answer 400 "`temperature` is deprecated for this model" (or not
      // supported); the benchmark then runs at the model's default, and the row says so.
      if (temperature !== null && !retriedWithoutTemperature && rejectsTemperature(err)) {
        retriedWithoutTemperature = true;
        omitTemperature = true;
        applied.omit_temperature = true;
        continue;
      }
      throw err;
    }
    yield* readMessageEvents(response, req, tap);
    return;
  }
}

/** A 400 saying the model takes no temperature at all (not one about its value). */
function rejectsTemperature(err: unknown): boolean {
  return (
    err instanceof APIError &&
    err.status === 400 &&
    /temperature/i.test(err.message) &&
    /deprecated|not supported|unsupported|does not support|not allowed|cannot be (set|used|specified)/i.test(err.message)
  );
}

// Anthropic's documented HTTP status for each error type, so that an `error` event arriving
// mid-stream (HTTP 200 already sent) is raised like the same error before the stream.
const ERROR_TYPE_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

interface MessageEventData {
  type?: string;
  message?: { id?: string; model?: unknown; usage?: Record<string, unknown> | null };
  delta?: { type?: string; text?: string; thinking?: string; stop_reason?: string | null };
  usage?: Record<string, unknown> | null;
  error?: { type?: string; message?: string };
}

/** Turns Anthropic's SSE events into StreamEvents. Pings count only as the first byte. */
async function* readMessageEvents(response: Response, req: ProviderRequest, tap: WireTap): AsyncGenerator<StreamEvent> {
  let firstByte = false;
  let responseId: string | null = null;
  let servedModel: string | null = null;
  let stopped = false;
  try {
    // rawEvents, not the SDK's parsed Stream: the parsed stream drops `ping` events and ends
    // quietly when aborted; we need the first (first byte) and must report the second.
    for await (const sse of Stream.rawEvents(response)) {
      const t = arrivalTime(tap);
      // Clients without tappedFetch (Vertex's) still show the stall watch every event.
      req.onActivity?.();
      if (!firstByte) {
        firstByte = true;
        yield { type: 'first_byte', t };
      }
      // Anthropic sends `ping` events every few seconds to keep the connection open.
      if (sse.event === 'ping' || (sse.event === null && !sse.data)) continue;
      const data = parseData(sse, req);
      switch (sse.event ?? data.type) {
        case 'message_start': {
          responseId = data.message?.id ?? null;
          servedModel = typeof data.message?.model === 'string' ? data.message.model : null;
          const usage = data.message?.usage;
          // message_start's output_tokens is a placeholder (1), not a count of this answer.
          if (usage) yield { type: 'usage', t, usage: toUsage(usage, { withOutput: false }) };
          break;
        }
        case 'content_block_delta': {
          const d = data.delta;
          if (d?.type === 'text_delta' && d.text) yield { type: 'text', t, text: d.text };
          else if (d?.type === 'thinking_delta' && d.thinking) yield { type: 'reasoning', t, text: d.thinking };
          break;
        }
        case 'message_delta': {
          // message_delta carries the cumulative usage of the whole answer and the stop reason.
          if (data.usage) yield { type: 'usage', t, usage: toUsage(data.usage, { withOutput: true }) };
          const rawReason = data.delta?.stop_reason ?? null;
          yield { type: 'finish', t, reason: normalizeFinishReason(rawReason), rawReason, responseId, providerLatencyMs: null, servedModel };
          break;
        }
        case 'message_stop':
          stopped = true;
          break;
        case 'error': {
          const errorType = data.error?.type ?? 'api_error';
          throw APIError.generate(ERROR_TYPE_STATUS[errorType] ?? 500, data, undefined, response.headers);
        }
        default:
          // content_block_start/stop, signature deltas and event types added later carry nothing we measure.
          break;
      }
    }
  } catch (err) {
    req.signal.throwIfAborted();
    throw err;
  }
  req.signal.throwIfAborted();
  const wrongBody = notAStream(tap, `${req.provider}/${req.modelId}`);
  if (wrongBody) throw wrongBody;
  if (!stopped) {
    throw new BenchError(`${req.provider}/${req.modelId} stream ended before message_stop`, { kind: 'network', stage: 'generate' });
  }
}

/** Parses an event's JSON; data that is not a JSON object is the provider's fault. */
function parseData(sse: { event: string | null; data: string }, req: ProviderRequest): MessageEventData {
  let cause: unknown = null;
  try {
    const parsed: unknown = JSON.parse(sse.data);
    if (parsed && typeof parsed === 'object') return parsed as MessageEventData;
  } catch (err) {
    cause = err;
  }
  throw new BenchError(
    `${req.provider}/${req.modelId} stream sent malformed ${sse.event ?? 'event'} data: ${sse.data.slice(0, 120)}`,
    { kind: 'transient_provider', stage: 'generate', cause },
  );
}

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * Anthropic's usage. output_tokens counts thinking and text together; the SDK's types
 * (MessageDeltaUsage.output_tokens_details, nullable) carry thinking_tokens only where the API
 * sends it. When absent, measurement splits by the tokenizer and says so in token_source.
 */
function toUsage(raw: Record<string, unknown>, o: { withOutput: boolean }): Usage {
  const details = raw.output_tokens_details as { thinking_tokens?: unknown } | null | undefined;
  return {
    inputTokens: num(raw.input_tokens),
    outputTokens: o.withOutput ? num(raw.output_tokens) : null,
    reasoningTokens: o.withOutput ? num(details?.thinking_tokens) : null,
    cachedInputTokens: num(raw.cache_read_input_tokens),
    // Anthropic reports no total; input_tokens excludes cache reads and writes, so a sum here would be a guess.
    totalTokens: null,
    raw,
  };
}
