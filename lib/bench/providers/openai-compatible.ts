// Groq, Together, DeepInfra, Fireworks and Cerebras through the `openai` SDK's chat
// completions against each provider's OpenAI-compatible base URL. The stream reader is
// exported on its own (streamChatCompletions) because Vertex serves Llama through the same
// wire format with its own client.
import OpenAI, { APIError } from 'openai';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import type { CompatProvider } from '../../config.ts';
import { BenchError } from '../../errors.ts';
import { normalizeFinishReason } from '../provider-stream.ts';
import type { ProviderRequest, StreamEvent, Usage, WarmRequest } from '../provider-stream.ts';
import { rehearse, sseEvent, type Canned } from './rehearsal.ts';
import { arrivalTime, headersTime, inTap, newTap, notAStream, openConnection, sawDone, tappedFetch, type WireTap } from './wire.ts';
import { rateLimitFrom } from '../rate-limit.ts';
import type { ProviderTimings } from '../../store/documents.ts';

export const CHAT_STREAM_MODE = 'openai_chat_stream';

const COMPAT_PROVIDERS: readonly CompatProvider[] = ['groq', 'together', 'deepinfra', 'fireworks', 'cerebras'];

type TokensParam = 'max_tokens' | 'max_completion_tokens';

/** What the providers add to the OpenAI chunk shape; none of it is in the SDK's types. */
interface VendorChunk {
  /** Groq: `x_groq.usage` on the last chunk (with timing fields beside the token counts). */
  x_groq?: { id?: string; usage?: unknown } | null;
  choices?: Array<{ delta?: VendorDelta | null }>;
}

interface VendorDelta {
  /** DeepInfra (and vLLM-based servers) stream thinking as `reasoning_content`. */
  reasoning_content?: unknown;
  /** Groq and Together stream thinking as `reasoning`. */
  reasoning?: unknown;
}

/**
 * Streams one chat call to groq, together, deepinfra, fireworks or cerebras (req.provider).
 * @throws BenchError (auth, load_provider) when the provider's API key is not configured;
 *   otherwise the SDK's errors as they are (classifyError reads them), the abort reason
 *   when req.signal fires, and a BenchError for a stream that ends or breaks mid-way.
 */
export async function* streamOpenAICompatible(req: ProviderRequest): AsyncGenerator<StreamEvent> {
  const provider = req.provider as CompatProvider;
  if (!COMPAT_PROVIDERS.includes(provider)) {
    throw new BenchError(`${req.provider} is not an OpenAI-compatible chat provider`, {
      kind: 'hard_capability',
      stage: 'load_provider',
    });
  }
  const { apiKey, baseUrl } = req.config.providers[provider];
  if (!apiKey) {
    throw new BenchError(`${provider.toUpperCase()}_API_KEY is not set`, { kind: 'auth', stage: 'load_provider' });
  }
  yield* streamChatCompletions(sharedOpenAIClient(apiKey, baseUrl), req, { mode: CHAT_STREAM_MODE });
}

streamOpenAICompatible.warm = async (req: WarmRequest): Promise<void> => {
  const provider = req.provider as CompatProvider;
  const { apiKey, baseUrl } = req.config.providers[provider] ?? {};
  if (!apiKey) return;
  await rehearse(`chat ${baseUrl}`, streamOpenAICompatible, req, CHAT_REHEARSAL);
  await warmOpenAIClient(sharedOpenAIClient(apiKey, baseUrl), req.signal);
};

/** A short chat stream for the rehearsal: reasoning in <think>, text, finish, usage, [DONE]. */
export const CHAT_REHEARSAL: Canned = {
  contentType: 'text/event-stream',
  body:
    [
      { choices: [{ index: 0, delta: { role: 'assistant', content: '<think>w</think>' }, finish_reason: null }] },
      { choices: [{ index: 0, delta: { content: 'w' }, finish_reason: null }] },
      { choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } },
    ]
      .map((c) => sseEvent({ id: 'warm', object: 'chat.completion.chunk', created: 0, model: 'warm', ...c }))
      .join('') + sseEvent('[DONE]'),
};

// One client per key and base URL for the process, so the lane's warm-up and its calls share
// the SDK's first-use work; the connection pool is fetch's, per origin.
const sharedClients = new Map<string, OpenAI>();

export function sharedOpenAIClient(apiKey: string, baseUrl: string): OpenAI {
  const key = `${baseUrl}\u0000${apiKey}`;
  let client = sharedClients.get(key);
  if (!client) {
    client = createOpenAIClient(apiKey, baseUrl);
    sharedClients.set(key, client);
  }
  return client;
}

/** Opens the client's connection with list-models, which costs nothing (see openConnection). */
export function warmOpenAIClient(client: OpenAI, signal: AbortSignal): Promise<void> {
  return openConnection(client, () => client.models.list({ signal }));
}

/**
 * An SDK client for an OpenAI-compatible endpoint: retries off (the sweep runner decides
 * retries), and nothing taken from OPENAI_* environment variables, so the organization and
 * project headers meant for OpenAI never reach another provider.
 */
export function createOpenAIClient(apiKey: string, baseUrl: string): OpenAI {
  return new OpenAI({
    apiKey,
    baseURL: baseUrl,
    maxRetries: 0,
    organization: null,
    project: null,
    adminAPIKey: null,
    webhookSecret: null,
    // Errors reach the caller as exceptions; the SDK's own console logging would only
    // duplicate them in the journal.
    logLevel: 'off',
    // Every byte reaches the stall watch, and the call learns whether it opened a connection.
    fetch: tappedFetch,
  });
}

/**
 * Streams one chat-completions call through `client` and yields timed events. Sends
 * max_tokens (or max_completion_tokens when misc.max_tokens_param says so, or after the
 * server refused max_tokens once) and the temperature unless it is null or
 * misc.omit_temperature is set.
 * @throws what streamOpenAICompatible throws, minus the missing-key check.
 */
export async function* streamChatCompletions(
  client: OpenAI,
  req: ProviderRequest,
  options: { mode: string },
): AsyncGenerator<StreamEvent> {
  let tokensParam: TokensParam = req.misc.max_tokens_param === 'max_completion_tokens' ? 'max_completion_tokens' : 'max_tokens';
  const temperature = req.temperature === null || req.misc.omit_temperature === true ? null : req.temperature;
  const applied: Record<string, unknown> = { ...req.misc };
  if (temperature === null && req.temperature !== null) applied.omit_temperature = true;
  let switchedTokensParam = false;

  for (;;) {
    const body: ChatCompletionCreateParamsStreaming = {
      model: req.modelId,
      messages: [{ role: 'user', content: req.prompt }],
      stream: true,
      // Without this the providers send no usage at all in a stream, and the counts would
      // have to come from a tokenizer.
      stream_options: { include_usage: true },
      ...(tokensParam === 'max_tokens' ? { max_tokens: req.maxTokens } : { max_completion_tokens: req.maxTokens }),
      ...(temperature === null ? {} : { temperature }),
    };
    yield {
      type: 'request',
      t: req.now(),
      mode: options.mode,
      maxTokens: req.maxTokens,
      temperature,
      reasoningEffort: null,
      applied: { ...applied },
    };
    let stream: AsyncIterable<ChatCompletionChunk>;
    const tap = newTap(req.onActivity, req.now);
    try {
      stream = await inTap(tap, () => client.chat.completions.create(body, { signal: req.signal }));
      yield { type: 'connection', t: headersTime(tap), reused: !tap.newConnection, rateLimit: rateLimitFrom(tap.headers), sentAt: tap.sentAt };
    } catch (err) {
      req.signal.throwIfAborted();
      // OpenAI's o-series and gpt-5 models (and some hosts that mirror OpenAI's validation)
      // answer 400 "Unsupported parameter: 'max_tokens' … use 'max_completion_tokens'".
      if (tokensParam === 'max_tokens' && !switchedTokensParam && refusesMaxTokens(err)) {
        tokensParam = 'max_completion_tokens';
        switchedTokensParam = true;
        applied.max_tokens_param = 'max_completion_tokens';
        continue;
      }
      throw err;
    }
    yield* readChatStream(stream, req, tap);
    return;
  }
}

async function* readChatStream(
  stream: AsyncIterable<ChatCompletionChunk>,
  req: ProviderRequest,
  tap: WireTap,
): AsyncGenerator<StreamEvent> {
  let first = true;
  let rawReason: string | null = null;
  let finishT: number | null = null;
  let responseId: string | null = null;
  let servedModel: string | null = null;
  let fingerprint: string | null = null;
  let providerTimings: ProviderTimings | null = null;
  let sawUsage = false;
  const think = new ThinkSplitter();
  try {
    for await (const chunk of stream) {
      const t = arrivalTime(tap);
      if (first) {
        first = false;
        yield { type: 'first_byte', t };
      }
      const vendor = chunk as ChatCompletionChunk & VendorChunk;
      if (typeof chunk.id === 'string' && chunk.id) responseId ??= chunk.id;
      if (typeof chunk.model === 'string' && chunk.model) servedModel ??= chunk.model;
      if (typeof chunk.system_fingerprint === 'string' && chunk.system_fingerprint) fingerprint ??= chunk.system_fingerprint;
      for (const choice of chunk.choices ?? []) {
        // Only one answer is requested; a second choice would be a different completion.
        if (choice.index !== undefined && choice.index !== 0) continue;
        const delta = choice.delta as (ChatCompletionChunk.Choice.Delta & VendorDelta) | null | undefined;
        const reasoning = stringOr(delta?.reasoning_content) ?? stringOr(delta?.reasoning);
        if (reasoning) yield { type: 'reasoning', t, text: reasoning };
        const content = stringOr(delta?.content);
        if (content) {
          for (const part of think.push(content)) yield { ...part, t };
        }
        if (choice.finish_reason) {
          rawReason = choice.finish_reason;
          finishT = t;
        }
      }
      // OpenAI and most hosts: a final chunk with empty choices carries the usage.
      if (chunk.usage) {
        sawUsage = true;
        yield { type: 'usage', t, usage: chatUsage(chunk.usage) };
      }
      if (vendor.x_groq?.usage) {
        sawUsage = true;
        yield { type: 'usage', t, usage: chatUsage(vendor.x_groq.usage) };
        providerTimings = groqTimings(vendor.x_groq.usage);
      }
    }
  } catch (err) {
    req.signal.throwIfAborted();
    throw streamReadError(err, req);
  }
  // The SDK ends the iteration quietly when the signal aborts; the caller must see why
  // (the abort reason: call timeout, stall timeout or sweep deadline).
  req.signal.throwIfAborted();
  const label = `${req.provider}/${req.modelId}`;
  const wrongBody = notAStream(tap, label);
  if (wrongBody) throw wrongBody;
  for (const part of think.end()) yield { ...part, t: finishT ?? req.now() };
  // Some hosts never send a finish reason; a stream that reached [DONE] with its usage is
  // complete all the same (SPEC 5). Without both, it broke off.
  if (rawReason === null && !(sawUsage && sawDone(tap))) {
    throw new BenchError(`${label} stream ended without a finish reason`, { kind: 'network', stage: 'generate' });
  }
  yield {
    type: 'finish',
    t: finishT ?? req.now(),
    reason: normalizeFinishReason(rawReason),
    rawReason,
    responseId,
    providerLatencyMs: null,
    servedModel,
    fingerprint,
    providerTimings,
  };
}

/** Groq's own times (seconds) beside its token counts in x_groq.usage; null when it gave none. */
function groqTimings(usage: unknown): ProviderTimings | null {
  const u = (usage ?? {}) as Record<string, unknown>;
  const s = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);
  const t: ProviderTimings = { queue_s: s(u.queue_time), prompt_s: s(u.prompt_time), completion_s: s(u.completion_time), total_s: s(u.total_time) };
  return Object.values(t).some((v) => v !== null) ? t : null;
}

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';

/**
 * DeepSeek-R1-style reasoning inside `content`: text within `<think>…</think>` at the start of
 * the answer is reasoning, not the first visible token (SPEC 5). Tags may be split across
 * chunks, so text that could still be the start of a tag is held back until it is decided.
 */
export class ThinkSplitter {
  #state: 'start' | 'thinking' | 'text' = 'start';
  #held = '';

  push(content: string): Array<{ type: 'text' | 'reasoning'; text: string }> {
    if (this.#state === 'text') return [{ type: 'text', text: content }];
    this.#held += content;
    const out: Array<{ type: 'text' | 'reasoning'; text: string }> = [];
    if (this.#state === 'start') {
      const lead = this.#held.trimStart();
      if (lead.length < THINK_OPEN.length && THINK_OPEN.startsWith(lead)) return out;
      if (!lead.startsWith(THINK_OPEN)) {
        this.#state = 'text';
        return this.#flush('text');
      }
      this.#state = 'thinking';
      this.#held = lead.slice(THINK_OPEN.length);
    }
    const close = this.#held.indexOf(THINK_CLOSE);
    if (close >= 0) {
      const reasoning = this.#held.slice(0, close);
      const rest = this.#held.slice(close + THINK_CLOSE.length);
      this.#state = 'text';
      this.#held = '';
      if (reasoning) out.push({ type: 'reasoning', text: reasoning });
      if (rest) out.push({ type: 'text', text: rest });
      return out;
    }
    // Keep back what could be the start of the closing tag.
    let keep = 0;
    for (let k = Math.min(THINK_CLOSE.length - 1, this.#held.length); k > 0; k--) {
      if (THINK_CLOSE.startsWith(this.#held.slice(-k))) {
        keep = k;
        break;
      }
    }
    const ready = this.#held.slice(0, this.#held.length - keep);
    this.#held = this.#held.slice(this.#held.length - keep);
    if (ready) out.push({ type: 'reasoning', text: ready });
    return out;
  }

  /** What is still held when the stream ends (an unclosed tag's text stays reasoning). */
  end(): Array<{ type: 'text' | 'reasoning'; text: string }> {
    if (!this.#held) return [];
    return this.#flush(this.#state === 'thinking' ? 'reasoning' : 'text');
  }

  #flush(type: 'text' | 'reasoning'): Array<{ type: 'text' | 'reasoning'; text: string }> {
    const text = this.#held;
    this.#held = '';
    return text ? [{ type, text }] : [];
  }
}

/** Maps a chat-completions usage object (OpenAI's, or Groq's x_groq.usage) to Usage. */
export function chatUsage(raw: unknown): Usage {
  const u = (raw ?? {}) as Record<string, unknown>;
  const completionDetails = (u.completion_tokens_details ?? {}) as Record<string, unknown>;
  const promptDetails = (u.prompt_tokens_details ?? {}) as Record<string, unknown>;
  return {
    inputTokens: count(u.prompt_tokens),
    outputTokens: count(u.completion_tokens),
    reasoningTokens: count(completionDetails.reasoning_tokens),
    cachedInputTokens: count(promptDetails.cached_tokens),
    totalTokens: count(u.total_tokens),
    raw,
  };
}

function refusesMaxTokens(err: unknown): boolean {
  if (!(err instanceof APIError) || (err.status !== 400 && err.status !== 422)) return false;
  if (err.param === 'max_tokens' && (err.code === 'unsupported_parameter' || err.code === 'unsupported_value')) return true;
  return /max_tokens/.test(err.message) && /unsupported|not supported|max_completion_tokens/i.test(err.message);
}

/**
 * Errors while reading an open stream. The SDK throws a bare SyntaxError for an event whose
 * data is not JSON; that is the provider's fault, so it is classified here.
 */
export function streamReadError(err: unknown, req: ProviderRequest): unknown {
  if (err instanceof SyntaxError) {
    return new BenchError(`${req.provider}/${req.modelId} stream sent malformed event data: ${err.message}`, {
      kind: 'transient_provider',
      stage: 'generate',
      cause: err,
    });
  }
  return err;
}

function stringOr(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}
