// What every provider adapter in lib/bench/providers/ implements: stream one chat call and yield
// timed events. Measurement (lib/bench/measure.ts) turns the events of any provider into the
// metrics document, so all providers are measured by the same code.
import type { Config, ProviderName } from '../config.ts';
import type { ProviderTimings, RateLimit } from '../store/documents.ts';

export interface ProviderRequest {
  provider: ProviderName;
  modelId: string;
  /** The model's quirks from the models collection (omit_temperature, region, …). */
  misc: Record<string, unknown>;
  prompt: string;
  /** The profile's budget; an adapter may raise it (OpenAI reasoning models) and says so in its request event. */
  maxTokens: number;
  /** null: do not send a temperature. */
  temperature: number | null;
  /** Aborts the call: per-call timeout, stall timeout, sweep deadline. */
  signal: AbortSignal;
  /** Monotonic clock in milliseconds (performance.now in production, a fake in tests). */
  now: () => number;
  config: Config;
  /**
   * Called on every sign of life from the provider: bytes on the wire where the SDK lets us see
   * them, else every event, including those measurement ignores (pings, keep-alives, empty
   * deltas). The stall watch resets on it (SPEC 5: a stall is silence on the wire).
   */
  onActivity?: () => void;
}

/** What a warm-up needs: the provider, the model (its region or route may pick the host) and config. */
export type WarmRequest = Pick<ProviderRequest, 'provider' | 'modelId' | 'misc' | 'config' | 'signal'>;

export interface Usage {
  inputTokens: number | null;
  /** All generated tokens, reasoning included. */
  outputTokens: number | null;
  reasoningTokens: number | null;
  cachedInputTokens: number | null;
  totalTokens: number | null;
  /** The provider's usage object as received. */
  raw: unknown;
}

/**
 * Timed events. `t` is the monotonic clock read when the chunk carrying the event arrived.
 * An adapter that retries inside one call (OpenAI: larger budget, dropped parameter)
 * yields a new `request` event; measurement restarts from it.
 */
export type StreamEvent =
  | {
      type: 'request';
      t: number;
      /** e.g. openai_responses_stream, openai_chat_stream, anthropic_messages_stream, bedrock_converse_stream. */
      mode: string;
      /** The max-tokens budget actually sent. */
      maxTokens: number;
      /** The temperature actually sent; null when omitted. */
      temperature: number | null;
      reasoningEffort: string | null;
      /** The quirks that were applied to this request (recorded as the row's misc). */
      applied: Record<string, unknown>;
    }
  /**
   * The response headers arrived; `reused`: no new connection was opened for this call;
   * `sentAt`: when the request's last byte went to the socket, where the adapter saw it
   * (measurement starts the clock there rather than at the `request` event).
   */
  | { type: 'connection'; t: number; reused: boolean; rateLimit?: RateLimit | null; sentAt?: number | null }
  /** The first stream event of any kind (role chunk, ping, message_start, …). */
  | { type: 'first_byte'; t: number }
  /** `tokens`: the mock's simulated count for the chunk; real providers leave it to the tokenizer. */
  | { type: 'text'; t: number; text: string; tokens?: number }
  | { type: 'reasoning'; t: number; text: string; tokens?: number }
  /** Usage as reported; several may arrive, later non-null fields win. */
  | { type: 'usage'; t: number; usage: Usage }
  | {
      type: 'finish';
      t: number;
      /** Normalised: stop | length | content_filter | tool_calls | error | other. */
      reason: string | null;
      rawReason: string | null;
      responseId: string | null;
      /** Provider's own timing where it reports one (Bedrock metrics.latencyMs). */
      providerLatencyMs: number | null;
      /** The model the provider says answered (`model` in the response), where it says (SPEC 18). */
      servedModel?: string | null;
      /** The backend configuration it reports (OpenAI chat's `system_fingerprint`), where it does. */
      fingerprint?: string | null;
      /** The provider's own account of the call's time (Groq x_groq.usage). */
      providerTimings?: ProviderTimings | null;
    };

/**
 * An adapter's stream function. `warm`, where the adapter has one, loads what the first call
 * would load, builds the client and opens the connection with a request that costs nothing
 * (SPEC 5: warm before the clock starts); it is idempotent per host, and its failure is not the
 * call's (the measured call reports its own errors).
 */
export type ProviderStream = ((req: ProviderRequest) => AsyncIterable<StreamEvent>) & {
  warm?: (req: WarmRequest) => Promise<void>;
  /**
   * The URL of the host the model's calls go to, for the warm-up's connection timings
   * (connection-probe.ts), where the provider's configured base URL does not say it (a region
   * or location picks the host).
   */
  origin?: (req: WarmRequest) => string | null;
};

/** Maps a provider's raw finish reason to stop | length | content_filter | tool_calls | error | other. */
export function normalizeFinishReason(raw: string | null | undefined): string | null {
  if (raw === null || raw === undefined || raw === '') return null;
  const r = raw.toLowerCase();
  if (['stop', 'end_turn', 'stop_sequence', 'completed', 'complete', 'eos'].includes(r)) return 'stop';
  if (['length', 'max_tokens', 'max_output_tokens', 'incomplete'].includes(r)) return 'length';
  if (['content_filter', 'content_filtered', 'safety', 'guardrail_intervened', 'refusal', 'recitation'].includes(r)) {
    return 'content_filter';
  }
  if (['tool_calls', 'tool_use', 'function_call'].includes(r)) return 'tool_calls';
  // The provider says the answer broke off: a failure, whatever streamed before (SPEC 5).
  if (['error', 'abort', 'aborted', 'failed', 'cancelled'].includes(r)) return 'error';
  return 'other';
}
