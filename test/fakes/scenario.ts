// A provider-neutral description of one streamed answer, which every fake provider server in
// this folder encodes in its own wire format. Tests and benchmarks (bench:fidelity) build a
// scenario once and play it through OpenAI, Anthropic, Bedrock and Gemini framing alike.

export interface ChunkPlan {
  /** Milliseconds after the request arrived at the server when this chunk is written. */
  atMs: number;
  /** Visible text carried by this chunk. */
  text?: string;
  /** Reasoning/thinking text carried by this chunk. */
  reasoning?: string;
  /** Tokens this chunk stands for (for the truth of a benchmark; not sent on the wire). */
  tokens?: number;
}

export interface FakeScenario {
  /** Answer with this HTTP status and errorBody instead of a stream (401, 404, 429, 500, …). */
  status?: number;
  headers?: Record<string, string>;
  /** The provider's error body; each fake has a default shaped like its provider's. */
  errorBody?: unknown;
  /** Delay before the response headers are sent. */
  headerDelayMs?: number;
  chunks: ChunkPlan[];
  /** Reported in the provider's usage event(s); null: the provider reports no usage. */
  usage?: { input: number; output: number; reasoning?: number; cached?: number } | null;
  /** 'stop' or 'length' (the budget ran out); each fake maps it to its provider's value. */
  finishReason?: 'stop' | 'length';
  /** Interleave the provider's keep-alive events (SSE comments, Anthropic ping, …). */
  pings?: boolean;
  /** Use CRLF line endings (SSE formats only). */
  crlf?: boolean;
  /** Destroy the socket after this many chunks were written (a stream cut mid-way). */
  cutAfterChunks?: number;
  /** Write nothing more after this many chunks and keep the connection open (a stall). */
  stallAfterChunks?: number;
  /** Replace the chunk at this index with malformed event data. */
  malformedAt?: number;
  /** The model the response says answered (an alias moved to a new snapshot); default: the one asked for. */
  servedModel?: string;
  /** OpenAI chat's system_fingerprint; default fp_fake0001. */
  fingerprint?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
  /** performance.now() in the server's process when the request body was complete. */
  arrivedAt: number;
}

export type ScenarioFor = (req: RecordedRequest) => FakeScenario;

export interface FakeServer {
  /** The base URL to put in <PROVIDER>_BASE_URL (with the API's version path where the provider has one). */
  baseUrl: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

export interface ScheduleOptions {
  ttftMs: number;
  tokens: number;
  tokensPerSecond: number;
  tokensPerChunk: number;
  /** Reasoning tokens streamed before the visible text (default 0). */
  reasoningTokens?: number;
}

/**
 * A chunk schedule with a known truth: the first visible chunk at ttftMs, the remaining
 * tokens spread so that the tokens after the first chunk over (t_last - t_first) equal
 * tokensPerSecond exactly, which is how SPEC 5 defines decode tokens per second.
 */
export function scheduleChunks(o: ScheduleOptions): { chunks: ChunkPlan[]; usage: { input: number; output: number; reasoning: number } } {
  const chunks: ChunkPlan[] = [];
  const reasoning = o.reasoningTokens ?? 0;
  for (let r = 0; r < reasoning; r += o.tokensPerChunk) {
    const n = Math.min(o.tokensPerChunk, reasoning - r);
    chunks.push({ atMs: (o.ttftMs * r) / Math.max(1, reasoning), reasoning: word(n), tokens: n });
  }
  const sizes: number[] = [];
  for (let left = o.tokens; left > 0; left -= o.tokensPerChunk) sizes.push(Math.min(o.tokensPerChunk, left));
  const spanMs = o.tokens > sizes[0]! ? ((o.tokens - sizes[0]!) / o.tokensPerSecond) * 1000 : 0;
  let emitted = 0;
  sizes.forEach((n, i) => {
    emitted += n;
    const atMs = i === 0 ? o.ttftMs : o.ttftMs + (spanMs * (emitted - sizes[0]!)) / Math.max(1, o.tokens - sizes[0]!);
    chunks.push({ atMs, text: word(n), tokens: n });
  });
  return { chunks, usage: { input: 14, output: o.tokens + reasoning, reasoning } };
}

function word(n: number): string {
  return ' tok'.repeat(n);
}

export interface PrefillOptions {
  /** Time to the first token of an empty prompt. */
  baseTtftMs: number;
  /** The prefill: milliseconds added per 1,000 prompt tokens (o200k). */
  msPer1kInputTokens: number;
  tokens: number;
  tokensPerSecond: number;
  tokensPerChunk: number;
  /** The provider's tokenizer (the test's o200k counter: the fakes do not load one themselves). */
  countTokens: (text: string) => number;
}

/**
 * A provider whose first token waits for the prompt's prefill, proportional to its length, and
 * which reports the prompt's o200k token count as its input count (SPEC 19's workloads). The
 * prompt is the request body's longest string, whatever the provider's wire format.
 */
export function prefillScenario(req: RecordedRequest, o: PrefillOptions): FakeScenario & { inputTokens: number } {
  const inputTokens = o.countTokens(longestString(req.body));
  const plan = scheduleChunks({ ...o, ttftMs: o.baseTtftMs + (o.msPer1kInputTokens * inputTokens) / 1000 });
  return { chunks: plan.chunks, usage: { ...plan.usage, input: inputTokens }, finishReason: 'stop', inputTokens };
}

function longestString(value: unknown): string {
  if (typeof value === 'string') return value;
  if (!value || typeof value !== 'object') return '';
  let best = '';
  for (const v of Object.values(value)) {
    const s = longestString(v);
    if (s.length > best.length) best = s;
  }
  return best;
}
