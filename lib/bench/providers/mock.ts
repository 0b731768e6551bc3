// The mock provider: an in-process simulated stream, no network and no key, so the whole
// service (sweeps, storage, health checks, the demo) can be tried before any real provider is
// configured. Every row it produces is marked mock (`mock: true`, `misc.mock: true`).
//
// The model id describes the simulation. Grammar (parts joined by '-', in any order):
//
//   instant             no delays at all
//   ttft-<D>            delay before the first streamed token, reasoning or text (default 100ms)
//   tps-<N>             tokens per second once streaming (default 100), as decode speed:
//                       tokens after the first event / (last event - first event)
//   chunk-<N>           tokens per stream event (default 1)
//   reasoning-<N>       N reasoning tokens (within the budget) stream before the visible text
//   no-usage            report no usage, so measurement falls back to the tokenizer
//   fail-<S>            fail before the first byte with HTTP status S (429, 500, 503, 404, …)
//   fail-auth           fail with HTTP 401
//   retry-<D>           with fail-<S>: send a retry-after of D
//   stall               send the first chunk, then nothing until aborted
//   cut                 drop the connection (ECONNRESET) half-way through the answer
//   budget-exhausted    spend the whole budget on reasoning: no visible text, finish reason length
//
// A duration <D> is `<n>ms` or `<n>s`. Examples: `ttft-200ms-tps-80`, `ttft-50ms-tps-500-chunk-4`,
// `instant`, `reasoning-32-ttft-300ms-tps-200`, `fail-429-retry-200ms`, `fail-auth`, `stall`.
// The budget is honoured exactly: output tokens always equal the budget sent.
import { BenchError } from '../../errors.ts';
import type { ProviderRequest, StreamEvent, Usage } from '../provider-stream.ts';

export interface MockSpec {
  ttftMs: number;
  /** Infinity: no delay between tokens. */
  tokensPerSecond: number;
  tokensPerChunk: number;
  reasoningTokens: number;
  usage: boolean;
  failStatus: number | null;
  retryAfterMs: number | null;
  stall: boolean;
  cut: boolean;
  budgetExhausted: boolean;
}

const DEFAULTS: MockSpec = {
  ttftMs: 100,
  tokensPerSecond: 100,
  tokensPerChunk: 1,
  reasoningTokens: 0,
  usage: true,
  failStatus: null,
  retryAfterMs: null,
  stall: false,
  cut: false,
  budgetExhausted: false,
};

/**
 * Parses a mock model id (grammar above).
 * @throws BenchError (kind hard_model) naming the part it does not understand.
 */
export function parseMockModelId(id: string): MockSpec {
  const spec = { ...DEFAULTS };
  const parts = id.toLowerCase().split('-');
  const bad = (why: string): never => {
    throw new BenchError(`Unknown mock model id ${JSON.stringify(id)}: ${why} (see lib/bench/providers/mock.ts for the grammar)`, {
      kind: 'hard_model',
      stage: 'generate',
      httpStatus: 404,
    });
  };
  const value = (i: number, key: string): string => parts[i + 1] ?? bad(`${key} needs a value`);
  const count = (raw: string, key: string, min: number): number => {
    const n = Number(raw);
    return Number.isInteger(n) && n >= min ? n : bad(`${key} wants an integer >= ${min}, got ${JSON.stringify(raw)}`);
  };
  const duration = (raw: string, key: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw);
    if (!m) return bad(`${key} wants a duration like 200ms or 1s, got ${JSON.stringify(raw)}`);
    return Number(m[1]) * (m[2] === 's' ? 1000 : 1);
  };
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    switch (part) {
      case 'instant':
        spec.ttftMs = 0;
        spec.tokensPerSecond = Infinity;
        break;
      case 'ttft':
        spec.ttftMs = duration(value(i++, part), part);
        break;
      case 'tps': {
        const tps = Number(value(i++, part));
        if (!(tps > 0)) bad(`tps wants a positive number, got ${JSON.stringify(parts[i])}`);
        spec.tokensPerSecond = tps;
        break;
      }
      case 'chunk':
        spec.tokensPerChunk = count(value(i++, part), part, 1);
        break;
      case 'reasoning':
        spec.reasoningTokens = count(value(i++, part), part, 0);
        break;
      case 'no':
        if (value(i++, part) !== 'usage') bad('"no" must be followed by "usage"');
        spec.usage = false;
        break;
      case 'fail': {
        const v = value(i++, part);
        spec.failStatus = v === 'auth' ? 401 : count(v, part, 400);
        if (spec.failStatus > 599) bad(`fail wants an HTTP error status, got ${v}`);
        break;
      }
      case 'retry':
        spec.retryAfterMs = duration(value(i++, part), part);
        break;
      case 'stall':
        spec.stall = true;
        break;
      case 'cut':
        spec.cut = true;
        break;
      case 'budget':
        if (value(i++, part) !== 'exhausted') bad('"budget" must be followed by "exhausted"');
        spec.budgetExhausted = true;
        break;
      default:
        bad(`unknown part ${JSON.stringify(part)}`);
    }
  }
  return spec;
}

/** Shaped like the SDKs' API errors (status + headers), so classifyError treats it as it treats theirs. */
export class MockApiError extends Error {
  override name = 'MockApiError';
  readonly status: number;
  readonly headers: Headers;
  constructor(status: number, message: string, headers: Headers) {
    super(`${status} ${message}`);
    this.status = status;
    this.headers = headers;
  }
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Invalid API key (simulated)',
  403: 'Forbidden (simulated)',
  404: 'The model does not exist (simulated)',
  429: 'Rate limit reached (simulated)',
  500: 'Internal server error (simulated)',
  503: 'Service temporarily unavailable (simulated)',
};

// Common words that are one token each in the GPT tokenizers, so the tokenizer fallback
// (no-usage) counts what the simulation says it sent.
const WORDS = ' Once upon a time the world was young and people told happy stories about it'.split(/(?= )/);

/**
 * Streams a simulated answer described by req.modelId.
 * @throws what a real SDK would: an HTTP-shaped MockApiError, a socket reset (ECONNRESET), the
 *   abort reason when req.signal fires; BenchError (hard_model) for an id outside the grammar.
 */
export async function* streamMock(req: ProviderRequest): AsyncGenerator<StreamEvent> {
  const spec = parseMockModelId(req.modelId);
  const budget = req.maxTokens;
  const t0 = req.now();
  yield {
    type: 'request',
    t: t0,
    mode: 'mock_stream',
    maxTokens: budget,
    temperature: req.temperature,
    reasoningEffort: null,
    applied: { mock: true },
  };
  throwIfAborted(req.signal);

  if (spec.failStatus !== null) {
    await sleepUntil(req, t0 + spec.ttftMs);
    const headers = new Headers();
    if (spec.retryAfterMs !== null) headers.set('retry-after-ms', String(spec.retryAfterMs));
    throw new MockApiError(spec.failStatus, STATUS_TEXT[spec.failStatus] ?? 'Simulated failure', headers);
  }

  const reasoning = spec.budgetExhausted ? budget : Math.min(spec.reasoningTokens, budget);
  const plan = planChunks(budget, reasoning, spec.tokensPerChunk);
  // Chunk times are fixed from the start, so speed does not drift with timer lateness, and
  // spread so that the tokens after the first event over (t_last - t_first), the decode speed
  // lib/bench/measure.ts reports, equals tps also when several tokens share an event.
  const first = plan[0]?.tokens ?? 0;
  const spanMs = budget > first ? ((budget - first) / spec.tokensPerSecond) * 1000 : 0;
  let sent = 0;
  for (const [i, chunk] of plan.entries()) {
    const due = i === 0 ? 0 : (spanMs * (sent + chunk.tokens - first)) / (budget - first);
    await sleepUntil(req, t0 + spec.ttftMs + due);
    if (spec.cut && i >= Math.floor(plan.length / 2) && i > 0) {
      throw Object.assign(new Error('read ECONNRESET (simulated)'), { code: 'ECONNRESET' });
    }
    const t = req.now();
    if (i === 0) yield { type: 'first_byte', t };
    // With usage the simulation knows each chunk's count; without it, measurement must count (the tokenizer).
    yield { type: chunk.kind, t, text: words(sent, chunk.tokens), ...(spec.usage ? { tokens: chunk.tokens } : {}) };
    sent += chunk.tokens;
    if (spec.stall) await never(req.signal);
  }

  const t = req.now();
  if (spec.usage) {
    const usage: Usage = {
      inputTokens: null,
      outputTokens: budget,
      reasoningTokens: spec.reasoningTokens > 0 || spec.budgetExhausted ? reasoning : null,
      cachedInputTokens: null,
      totalTokens: null,
      raw: { output_tokens: budget, reasoning_tokens: reasoning, simulated: true },
    };
    yield { type: 'usage', t, usage };
  }
  // The simulation always spends its whole budget, so it stops for length, as a real model cut off at max tokens does.
  yield { type: 'finish', t, reason: 'length', rawReason: 'length', responseId: `mock-${Math.round(t0 * 1000).toString(36)}`, providerLatencyMs: null };
}

function planChunks(budget: number, reasoning: number, perChunk: number): Array<{ kind: 'text' | 'reasoning'; tokens: number }> {
  const plan: Array<{ kind: 'text' | 'reasoning'; tokens: number }> = [];
  for (let left = reasoning; left > 0; left -= perChunk) plan.push({ kind: 'reasoning', tokens: Math.min(perChunk, left) });
  for (let left = budget - reasoning; left > 0; left -= perChunk) plan.push({ kind: 'text', tokens: Math.min(perChunk, left) });
  return plan;
}

function words(from: number, n: number): string {
  let s = '';
  for (let k = from; k < from + n; k++) s += WORDS[k % WORDS.length];
  return s;
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortReason(signal);
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new DOMException('The operation was aborted', 'AbortError');
}

/**
 * Waits until the monotonic clock reaches `at`; rejects with the abort reason when req.signal
 * fires. A timer may fire up to 1 ms early by that clock, so it is checked again when it does.
 */
function sleepUntil(req: ProviderRequest, at: number): Promise<void> {
  throwIfAborted(req.signal);
  const ms = at - req.now();
  if (!(ms > 0) || !Number.isFinite(ms)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(req.signal));
    };
    const timer = setTimeout(() => {
      req.signal.removeEventListener('abort', onAbort);
      resolve(sleepUntil(req, at));
    }, ms);
    req.signal.addEventListener('abort', onAbort, { once: true });
  });
}

function never(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    throwIfAborted(signal);
    signal.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
  });
}
