// OpenAI through the Responses API, streamed. Reasoning models get a budget they can answer
// in and a low effort; the two in-call retries OpenAI needs (a larger budget when reasoning
// used it all, a parameter the model refuses) live here. Rate limits and 5xx are the sweep
// runner's to retry: they are thrown as the SDK raised them.
import { APIError } from 'openai';
import type OpenAI from 'openai';
import type { ResponseCreateParamsStreaming, ResponseStreamEvent, ResponseUsage } from 'openai/resources/responses/responses';
import type { ReasoningEffort } from 'openai/resources/shared';
import { BenchError } from '../../errors.ts';
import { normalizeFinishReason } from '../provider-stream.ts';
import type { ProviderRequest, StreamEvent, Usage, WarmRequest } from '../provider-stream.ts';
import { sharedOpenAIClient, streamReadError, warmOpenAIClient } from './openai-compatible.ts';
import { rehearse, sseEvent, type Canned } from './rehearsal.ts';
import { arrivalTime, headersTime, inTap, newTap, notAStream, type WireTap } from './wire.ts';
import { rateLimitFrom } from '../rate-limit.ts';

export const RESPONSES_STREAM_MODE = 'openai_responses_stream';

/** A reasoning model spends tokens thinking before any text; below this it often shows none. */
export const REASONING_MIN_BUDGET = 128;
const BUDGET_RETRY_FACTOR = 4;
const BUDGET_RETRY_CAP = 4096;
const MAX_BUDGET_RETRIES = 2;

interface Plan {
  maxTokens: number;
  temperature: number | null;
  reasoningEffort: string | null;
  applied: Record<string, unknown>;
}

/** Whether a model id is one of OpenAI's reasoning families; misc.reasoning (boolean) overrides. */
export function isReasoningModel(modelId: string, misc: Record<string, unknown>): boolean {
  if (typeof misc.reasoning === 'boolean') return misc.reasoning;
  return /^(gpt-5|o1|o3|o4)/i.test(modelId);
}

/**
 * Streams one Responses API call to OpenAI.
 * @throws BenchError (auth, load_provider) when OPENAI_API_KEY is not configured; the SDK's
 *   errors as they are (HTTP errors, and `error` events in the stream); an APIError carrying
 *   the response's error code for `response.failed`; the abort reason when req.signal fires;
 *   a BenchError for a stream that breaks or ends before the response completed.
 */
export async function* streamOpenAI(req: ProviderRequest): AsyncGenerator<StreamEvent> {
  const { apiKey, baseUrl } = req.config.providers.openai;
  if (!apiKey) throw new BenchError('OPENAI_API_KEY is not set', { kind: 'auth', stage: 'load_provider' });
  yield* streamResponses(sharedOpenAIClient(apiKey, baseUrl), req);
}

streamOpenAI.warm = async (req: WarmRequest): Promise<void> => {
  const { apiKey, baseUrl } = req.config.providers.openai;
  if (!apiKey) return;
  await rehearse(`responses ${baseUrl}`, streamOpenAI, req, RESPONSES_REHEARSAL);
  await warmOpenAIClient(sharedOpenAIClient(apiKey, baseUrl), req.signal);
};

/** A short Responses stream for the rehearsal. */
const RESPONSES_REHEARSAL: Canned = {
  contentType: 'text/event-stream',
  body: [
    sseEvent({ type: 'response.created', sequence_number: 0, response: { id: 'warm', status: 'in_progress', output: [] } }, 'response.created'),
    sseEvent({ type: 'response.reasoning_summary_text.delta', sequence_number: 1, delta: 'w' }, 'response.reasoning_summary_text.delta'),
    sseEvent({ type: 'response.output_text.delta', sequence_number: 2, delta: 'w' }, 'response.output_text.delta'),
    sseEvent(
      {
        type: 'response.completed',
        sequence_number: 3,
        response: { id: 'warm', status: 'completed', output: [], usage: { input_tokens: 1, output_tokens: 1, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 2 } },
      },
      'response.completed',
    ),
  ].join(''),
};

async function* streamResponses(client: OpenAI, req: ProviderRequest): AsyncGenerator<StreamEvent> {
  let plan = initialPlan(req);
  let budgetRetries = 0;
  let droppedParameter = false;
  for (;;) {
    const body: ResponseCreateParamsStreaming = {
      model: req.modelId,
      input: req.prompt,
      max_output_tokens: plan.maxTokens,
      stream: true,
      ...(plan.temperature === null ? {} : { temperature: plan.temperature }),
      // misc.reasoning_effort is passed through as the operator wrote it; the API judges it.
      ...(plan.reasoningEffort === null ? {} : { reasoning: { effort: plan.reasoningEffort as ReasoningEffort } }),
    };
    yield {
      type: 'request',
      t: req.now(),
      mode: RESPONSES_STREAM_MODE,
      maxTokens: plan.maxTokens,
      temperature: plan.temperature,
      reasoningEffort: plan.reasoningEffort,
      applied: { ...plan.applied },
    };
    let stream: AsyncIterable<ResponseStreamEvent>;
    const tap = newTap(req.onActivity, req.now);
    try {
      stream = await inTap(tap, () => client.responses.create(body, { signal: req.signal }));
      yield { type: 'connection', t: headersTime(tap), reused: !tap.newConnection, rateLimit: rateLimitFrom(tap.headers), sentAt: tap.sentAt };
    } catch (err) {
      req.signal.throwIfAborted();
      const rejected = droppedParameter ? null : rejectedParameter(err);
      const next = rejected === null ? null : withoutParameter(plan, rejected);
      if (next === null) throw err;
      plan = next;
      droppedParameter = true;
      continue;
    }
    const outcome = yield* readResponseStream(stream, req, tap);
    // A reasoning model can spend the whole budget thinking and show nothing; the row
    // would say nothing about its speed, so ask again with room to answer.
    if (outcome.budgetRanOutBeforeText && budgetRetries < MAX_BUDGET_RETRIES && plan.maxTokens < BUDGET_RETRY_CAP) {
      budgetRetries += 1;
      plan = { ...plan, maxTokens: Math.min(plan.maxTokens * BUDGET_RETRY_FACTOR, BUDGET_RETRY_CAP) };
      continue;
    }
    return;
  }
}

function initialPlan(req: ProviderRequest): Plan {
  const applied: Record<string, unknown> = { ...req.misc };
  if (isReasoningModel(req.modelId, req.misc)) {
    const effort = typeof req.misc.reasoning_effort === 'string' ? req.misc.reasoning_effort : 'low';
    applied.reasoning_effort = effort;
    // Reasoning models reject temperature (400 "Unsupported parameter: 'temperature'").
    if (req.temperature !== null) applied.omit_temperature = true;
    return {
      maxTokens: Math.max(req.maxTokens, REASONING_MIN_BUDGET),
      temperature: null,
      reasoningEffort: effort,
      applied,
    };
  }
  const omit = req.temperature === null || req.misc.omit_temperature === true;
  if (omit && req.temperature !== null) applied.omit_temperature = true;
  return { maxTokens: req.maxTokens, temperature: omit ? null : req.temperature, reasoningEffort: null, applied };
}

/**
 * The parameter a 400 refuses as unsupported, e.g. `Unsupported parameter: 'temperature' is
 * not supported with this model.` (code unsupported_parameter) or `Unsupported value:
 * 'temperature' does not support 0.1 with this model.` (code unsupported_value).
 */
function rejectedParameter(err: unknown): string | null {
  if (!(err instanceof APIError) || err.status !== 400) return null;
  if ((err.code === 'unsupported_parameter' || err.code === 'unsupported_value') && typeof err.param === 'string') {
    return err.param;
  }
  return /unsupported (?:parameter|value): '([\w.]+)'/i.exec(err.message)?.[1] ?? null;
}

/** The plan without a parameter the model refused; null when it is not one we can drop. */
function withoutParameter(plan: Plan, param: string): Plan | null {
  if (param === 'temperature' && plan.temperature !== null) {
    return { ...plan, temperature: null, applied: { ...plan.applied, omit_temperature: true } };
  }
  if (param.startsWith('reasoning') && plan.reasoningEffort !== null) {
    const applied: Record<string, unknown> = { ...plan.applied, omit_reasoning: true };
    delete applied.reasoning_effort;
    return { ...plan, reasoningEffort: null, applied };
  }
  return null;
}

async function* readResponseStream(
  stream: AsyncIterable<ResponseStreamEvent>,
  req: ProviderRequest,
  tap: WireTap,
): AsyncGenerator<StreamEvent, { budgetRanOutBeforeText: boolean }> {
  let first = true;
  let sawText = false;
  let finished: { reason: string | null } | null = null;
  try {
    for await (const event of stream) {
      const t = arrivalTime(tap);
      if (first) {
        first = false;
        yield { type: 'first_byte', t };
      }
      switch (event.type) {
        case 'response.output_text.delta':
        // A refusal is visible text too: the reader sees it, and its tokens were generated.
        case 'response.refusal.delta':
          if (event.delta) {
            sawText = true;
            yield { type: 'text', t, text: event.delta };
          }
          break;
        // Summaries for OpenAI's own reasoning models; full reasoning text for gpt-oss.
        case 'response.reasoning_summary_text.delta':
        case 'response.reasoning_text.delta':
          if (event.delta) yield { type: 'reasoning', t, text: event.delta };
          break;
        case 'response.completed':
        case 'response.incomplete': {
          const response = event.response;
          if (response.usage) yield { type: 'usage', t, usage: responsesUsage(response.usage) };
          const rawReason =
            event.type === 'response.incomplete' ? (response.incomplete_details?.reason ?? 'incomplete') : response.status ?? 'completed';
          finished = { reason: normalizeFinishReason(rawReason) };
          yield {
            type: 'finish',
            t,
            reason: finished.reason,
            rawReason,
            responseId: response.id ?? null,
            providerLatencyMs: null,
            // The Responses API names the snapshot that answered; it has no system_fingerprint.
            servedModel: typeof response.model === 'string' && response.model ? response.model : null,
          };
          break;
        }
        case 'response.failed':
          throw new APIError(undefined, event.response.error ?? { message: 'response.failed without an error object' }, undefined, undefined);
        case 'error':
          // The SDK throws on `event: error` itself; this catches one sent without the event line.
          throw new APIError(undefined, event, undefined, undefined);
        default:
          break;
      }
    }
  } catch (err) {
    req.signal.throwIfAborted();
    throw streamReadError(err, req);
  }
  // The SDK ends the iteration quietly when the signal aborts; the caller must see why.
  req.signal.throwIfAborted();
  const wrongBody = notAStream(tap, `openai/${req.modelId}`);
  if (wrongBody) throw wrongBody;
  if (finished === null) {
    throw new BenchError(`openai/${req.modelId} stream ended before the response completed`, {
      kind: 'network',
      stage: 'generate',
    });
  }
  return { budgetRanOutBeforeText: finished.reason === 'length' && !sawText };
}

/** Maps a Responses usage object to Usage (reasoning and cached counts from the details). */
export function responsesUsage(raw: ResponseUsage): Usage {
  return {
    inputTokens: count(raw.input_tokens),
    outputTokens: count(raw.output_tokens),
    reasoningTokens: count(raw.output_tokens_details?.reasoning_tokens),
    cachedInputTokens: count(raw.input_tokens_details?.cached_tokens),
    totalTokens: count(raw.total_tokens),
    raw,
  };
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}
