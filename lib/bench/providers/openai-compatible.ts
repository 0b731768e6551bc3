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
import type { ProviderRequest, StreamEvent, Usage } from '../provider-stream.ts';

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
  yield* streamChatCompletions(createOpenAIClient(apiKey, baseUrl), req, { mode: CHAT_STREAM_MODE });
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
    try {
      stream = await client.chat.completions.create(body, { signal: req.signal });
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
    yield* readChatStream(stream, req);
    return;
  }
}

async function* readChatStream(stream: AsyncIterable<ChatCompletionChunk>, req: ProviderRequest): AsyncGenerator<StreamEvent> {
  let first = true;
  let rawReason: string | null = null;
  let responseId: string | null = null;
  try {
    for await (const chunk of stream) {
      const t = req.now();
      if (first) {
        first = false;
        yield { type: 'first_byte', t };
      }
      const vendor = chunk as ChatCompletionChunk & VendorChunk;
      if (typeof chunk.id === 'string' && chunk.id) responseId ??= chunk.id;
      for (const choice of chunk.choices ?? []) {
        // Only one answer is requested; a second choice would be a different completion.
        if (choice.index !== undefined && choice.index !== 0) continue;
        const delta = choice.delta as (ChatCompletionChunk.Choice.Delta & VendorDelta) | null | undefined;
        const reasoning = stringOr(delta?.reasoning_content) ?? stringOr(delta?.reasoning);
        if (reasoning) yield { type: 'reasoning', t, text: reasoning };
        const text = stringOr(delta?.content);
        if (text) yield { type: 'text', t, text };
        if (choice.finish_reason) rawReason = choice.finish_reason;
      }
      // OpenAI and most hosts: a final chunk with empty choices carries the usage.
      if (chunk.usage) yield { type: 'usage', t, usage: chatUsage(chunk.usage) };
      if (vendor.x_groq?.usage) yield { type: 'usage', t, usage: chatUsage(vendor.x_groq.usage) };
    }
  } catch (err) {
    req.signal.throwIfAborted();
    throw streamReadError(err, req);
  }
  // The SDK ends the iteration quietly when the signal aborts; the caller must see why
  // (the abort reason: call timeout, stall timeout or sweep deadline).
  req.signal.throwIfAborted();
  if (rawReason === null) {
    throw new BenchError(`${req.provider}/${req.modelId} stream ended without a finish reason`, {
      kind: 'network',
      stage: 'generate',
    });
  }
  yield {
    type: 'finish',
    t: req.now(),
    reason: normalizeFinishReason(rawReason),
    rawReason,
    responseId,
    providerLatencyMs: null,
  };
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
