// A local server that speaks OpenAI's streaming wire formats, for provider tests and the
// fidelity benchmark:
// - POST /v1/chat/completions: chat.completion.chunk SSE (`data:` lines only) ending with
//   `data: [DONE]`, usage in a final chunk with empty choices when the request asked for
//   stream_options.include_usage (as OpenAI does), reasoning as `delta.reasoning_content`
//   (DeepInfra, vLLM).
// - POST /openai/v1/chat/completions: the same with Groq's flavour (Groq's base URL ends in
//   /openai/v1): reasoning as `delta.reasoning`, an `x_groq` object on the first chunk and the
//   usage in `x_groq.usage` on the last one, no separate usage chunk.
// - POST /v1/responses: Responses API SSE (`event:` and `data:` lines, sequence numbers):
//   response.created, response.in_progress, output items and content parts opened and closed,
//   response.output_text.delta, response.reasoning_summary_text.delta (or
//   response.reasoning_text.delta for gpt-oss models), then response.completed, or
//   response.incomplete with incomplete_details.reason "max_output_tokens".
// Every planned chunk is one socket write at its atMs after the request body arrived.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { ChunkPlan, FakeScenario, FakeServer, RecordedRequest } from './scenario.ts';

/** OpenAI-only additions to the provider-neutral scenario. */
export interface OpenAIFakeScenario extends FakeScenario {
  /**
   * After this many chunks, send an error inside the stream instead of finishing: a chat
   * chunk `{"error": {…}}`, a Responses `error` event, or a `response.failed` event.
   */
  streamError?: { afterChunks: number; code: string; message: string; as?: 'error' | 'response.failed' };
}

export type OpenAIScenarioFor = (req: RecordedRequest) => OpenAIFakeScenario;

interface Write {
  atMs: number;
  data: string;
  /** Index of the scenario chunk this write carries; null for framing, pings and the end. */
  chunk: number | null;
  /** What to write instead when this chunk is the scenario's malformedAt. */
  malformed?: string;
}

type Flavour = 'openai' | 'groq';

/**
 * Starts the fake on 127.0.0.1, port 0. baseUrl is `http://127.0.0.1:PORT/v1`; see
 * groqBaseUrl() for the Groq-flavoured chat endpoint.
 */
export async function startOpenAIServer(scenarioFor: OpenAIScenarioFor): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const stopping = new AbortController();
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const arrivedAt = performance.now();
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      // Kept as the raw string: a test can still see what was sent.
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: { ...req.headers }, body, arrivedAt };
    requests.push(recorded);
    res.socket?.setNoDelay(true);

    const route = routeOf(req.method, path);
    if (route === null) {
      sendJson(res, {
        status: 404,
        body: { error: { message: `Invalid URL (${req.method} ${path})`, type: 'invalid_request_error', param: null, code: null } },
      });
      return;
    }
    const scenario = scenarioFor(recorded);
    const stop = AbortSignal.any([stopping.signal, closedSignal(res)]);
    if (scenario.headerDelayMs) await sleepUntil(arrivedAt + scenario.headerDelayMs, stop);
    if (stop.aborted) return;

    const model = typeof (body as { model?: unknown })?.model === 'string' ? (body as { model: string }).model : 'unknown';
    if (scenario.status !== undefined && scenario.status !== 200) {
      sendJson(res, {
        status: scenario.status,
        body: scenario.errorBody ?? defaultErrorBody(scenario.status, model),
        headers: scenario.headers,
      });
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-request-id': `req_${randomBytes(16).toString('hex')}`,
      ...scenario.headers,
    });
    res.flushHeaders();
    const requestBody = (body ?? {}) as Record<string, unknown>;
    const writes =
      route === 'responses'
        ? responsesWrites(scenario, { body: requestBody, model })
        : chatWrites(scenario, { body: requestBody, model, flavour: route === 'groq-chat' ? 'groq' : 'openai' });
    await play(res, writes, { scenario, arrivedAt, stop });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    async close() {
      stopping.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The fake's Groq-flavoured base URL (Groq's real one is https://api.groq.com/openai/v1). */
export function groqBaseUrl(server: FakeServer): string {
  return server.baseUrl.replace(/\/v1$/, '/openai/v1');
}

function routeOf(method: string | undefined, path: string): 'chat' | 'groq-chat' | 'responses' | null {
  if (method !== 'POST') return null;
  if (path === '/v1/chat/completions') return 'chat';
  if (path === '/openai/v1/chat/completions') return 'groq-chat';
  if (path === '/v1/responses') return 'responses';
  return null;
}

async function play(
  res: ServerResponse,
  writes: Write[],
  o: { scenario: OpenAIFakeScenario; arrivedAt: number; stop: AbortSignal },
): Promise<void> {
  const { scenario, arrivedAt, stop } = o;
  const eol = scenario.crlf ? '\r\n' : '\n';
  let chunksWritten = 0;
  for (const [i, w] of writes.entries()) {
    await sleepUntil(arrivedAt + w.atMs, stop);
    if (stop.aborted) return;
    const data = w.chunk !== null && w.chunk === scenario.malformedAt && w.malformed ? w.malformed : w.data;
    await writeOnce(res, eol === '\n' ? data : data.replace(/\n/g, eol));
    if (w.chunk !== null) chunksWritten += 1;
    // Cut and stall count scenario chunks; the opening frame always goes out.
    if (i === 0 || w.chunk !== null) {
      if (scenario.cutAfterChunks !== undefined && chunksWritten >= scenario.cutAfterChunks) {
        res.socket?.destroy();
        return;
      }
      // The connection stays open until the client gives up or the server closes.
      if (scenario.stallAfterChunks !== undefined && chunksWritten >= scenario.stallAfterChunks) return;
    }
  }
  res.end();
}

// ---------------------------------------------------------------------------------------
// Chat completions

function chatWrites(
  scenario: OpenAIFakeScenario,
  { body, model, flavour }: { body: Record<string, unknown>; model: string; flavour: Flavour },
): Write[] {
  const id = `chatcmpl-${randomBytes(12).toString('base64url')}`;
  const created = Math.floor(Date.now() / 1000);
  const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
  const groqId = `req_${randomBytes(13).toString('hex')}`;
  const chunkOf = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: scenario.servedModel ?? model,
    system_fingerprint: scenario.fingerprint ?? 'fp_fake0001',
    choices,
    // OpenAI puts `usage: null` on every chunk once include_usage is asked for.
    ...(includeUsage && flavour === 'openai' ? { usage: null } : {}),
    ...extra,
  });
  const choice = (delta: Record<string, unknown>, finish: string | null = null) => ({
    index: 0,
    delta,
    logprobs: null,
    finish_reason: finish,
  });
  const reasoningField = flavour === 'groq' ? 'reasoning' : 'reasoning_content';

  const writes: Write[] = [];
  writes.push({
    atMs: 0,
    chunk: null,
    data: sse(chunkOf([choice({ role: 'assistant', content: '' })], flavour === 'groq' ? { x_groq: { id: groqId } } : {})),
  });
  const error = scenario.streamError;
  scenario.chunks.forEach((c, i) => {
    if (error && i >= error.afterChunks) return;
    const delta: Record<string, unknown> = {};
    if (c.reasoning !== undefined) delta[reasoningField] = c.reasoning;
    if (c.text !== undefined || c.reasoning === undefined) delta.content = c.text ?? '';
    const payload = chunkOf([choice(delta)]);
    writes.push({ atMs: c.atMs, chunk: i, data: sse(payload), malformed: truncated(payload) });
  });
  const lastAt = endAt(scenario.chunks, error?.afterChunks);
  withPings(scenario, writes);
  if (error) {
    writes.push({
      atMs: lastAt,
      chunk: null,
      data: sse({ error: { message: error.message, type: error.code, param: null, code: error.code } }),
    });
    return writes;
  }

  const finish = scenario.finishReason ?? 'stop';
  const usage = scenario.usage ? chatUsageBody(scenario.usage, flavour) : null;
  const finishExtra = flavour === 'groq' ? { x_groq: usage ? { id: groqId, usage } : { id: groqId } } : {};
  writes.push({ atMs: lastAt, chunk: null, data: sse(chunkOf([choice({}, finish)], finishExtra)) });
  if (flavour === 'openai' && includeUsage && usage) {
    writes.push({ atMs: lastAt, chunk: null, data: sse({ ...chunkOf([]), usage }) });
  }
  writes.push({ atMs: lastAt, chunk: null, data: 'data: [DONE]\n\n' });
  return writes;
}

function chatUsageBody(u: NonNullable<FakeScenario['usage']>, flavour: Flavour): Record<string, unknown> {
  const base = {
    prompt_tokens: u.input,
    completion_tokens: u.output,
    total_tokens: u.input + u.output,
  };
  if (flavour === 'groq') {
    // Groq reports its own timings beside the counts.
    return {
      queue_time: 0.0123,
      prompt_time: 0.0021,
      completion_time: 0.05,
      total_time: 0.0521,
      ...base,
      ...(u.reasoning !== undefined ? { completion_tokens_details: { reasoning_tokens: u.reasoning } } : {}),
    };
  }
  return {
    ...base,
    prompt_tokens_details: { cached_tokens: u.cached ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: u.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

// ---------------------------------------------------------------------------------------
// Responses API

function responsesWrites(
  scenario: OpenAIFakeScenario,
  { body, model }: { body: Record<string, unknown>; model: string },
): Write[] {
  const responseId = `resp_${randomBytes(24).toString('hex')}`;
  const createdAt = Math.floor(Date.now() / 1000);
  // gpt-oss models stream their full reasoning text; OpenAI's own reasoning models stream summaries.
  const fullReasoning = model.startsWith('gpt-oss');
  let seq = 0;
  const event = (type: string, fields: Record<string, unknown>) => {
    const payload = { type, sequence_number: seq++, ...fields };
    return { text: sse(payload, type), payload };
  };
  const output: Array<Record<string, unknown>> = [];
  const responseObject = (status: string, extra: Record<string, unknown> = {}) => ({
    id: responseId,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: body.max_output_tokens ?? null,
    model: scenario.servedModel ?? model,
    output: structuredClone(output),
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: (body.reasoning as { effort?: unknown } | undefined)?.effort ?? null, summary: null },
    store: true,
    temperature: body.temperature ?? 1,
    text: { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    truncation: 'disabled',
    usage: null,
    user: null,
    metadata: {},
    ...extra,
  });

  type Open = { kind: 'reasoning' | 'message'; id: string; index: number; text: string };
  let open: Open | null = null;
  const openItem = (kind: Open['kind']): string => {
    const index = output.length;
    const id = `${kind === 'reasoning' ? 'rs' : 'msg'}_${randomBytes(24).toString('hex')}`;
    open = { kind, id, index, text: '' };
    if (kind === 'reasoning') {
      const item = { id, type: 'reasoning', summary: [] };
      output.push({ ...item });
      return (
        event('response.output_item.added', { output_index: index, item }).text +
        (fullReasoning
          ? event('response.content_part.added', { item_id: id, output_index: index, content_index: 0, part: { type: 'reasoning_text', text: '' } }).text
          : event('response.reasoning_summary_part.added', { item_id: id, output_index: index, summary_index: 0, part: { type: 'summary_text', text: '' } }).text)
      );
    }
    const item = { id, type: 'message', status: 'in_progress', content: [], role: 'assistant' };
    output.push({ ...item });
    return (
      event('response.output_item.added', { output_index: index, item }).text +
      event('response.content_part.added', {
        item_id: id,
        output_index: index,
        content_index: 0,
        part: { type: 'output_text', annotations: [], logprobs: [], text: '' },
      }).text
    );
  };
  const closeItem = (): string => {
    const o = open as Open | null;
    if (o === null) return '';
    open = null;
    if (o.kind === 'reasoning') {
      const item = fullReasoning
        ? { id: o.id, type: 'reasoning', summary: [], content: [{ type: 'reasoning_text', text: o.text }] }
        : { id: o.id, type: 'reasoning', summary: [{ type: 'summary_text', text: o.text }] };
      output[o.index] = item;
      const parts = fullReasoning
        ? event('response.reasoning_text.done', { item_id: o.id, output_index: o.index, content_index: 0, text: o.text }).text +
          event('response.content_part.done', { item_id: o.id, output_index: o.index, content_index: 0, part: { type: 'reasoning_text', text: o.text } }).text
        : event('response.reasoning_summary_text.done', { item_id: o.id, output_index: o.index, summary_index: 0, text: o.text }).text +
          event('response.reasoning_summary_part.done', { item_id: o.id, output_index: o.index, summary_index: 0, part: { type: 'summary_text', text: o.text } }).text;
      return parts + event('response.output_item.done', { output_index: o.index, item }).text;
    }
    const part = { type: 'output_text', annotations: [], logprobs: [], text: o.text };
    const item = { id: o.id, type: 'message', status: 'completed', content: [part], role: 'assistant' };
    output[o.index] = item;
    return (
      event('response.output_text.done', { item_id: o.id, output_index: o.index, content_index: 0, text: o.text, logprobs: [] }).text +
      event('response.content_part.done', { item_id: o.id, output_index: o.index, content_index: 0, part }).text +
      event('response.output_item.done', { output_index: o.index, item }).text
    );
  };
  const delta = (kind: Open['kind'], text: string) => {
    let prefix = '';
    if ((open as Open | null)?.kind !== kind) prefix = closeItem() + openItem(kind);
    const o = open as unknown as Open;
    o.text += text;
    const e =
      kind === 'message'
        ? event('response.output_text.delta', { item_id: o.id, output_index: o.index, content_index: 0, delta: text, logprobs: [] })
        : fullReasoning
          ? event('response.reasoning_text.delta', { item_id: o.id, output_index: o.index, content_index: 0, delta: text })
          : event('response.reasoning_summary_text.delta', { item_id: o.id, output_index: o.index, summary_index: 0, delta: text });
    return { text: prefix + e.text, payload: e.payload };
  };

  const writes: Write[] = [];
  writes.push({
    atMs: 0,
    chunk: null,
    data: event('response.created', { response: responseObject('in_progress') }).text +
      event('response.in_progress', { response: responseObject('in_progress') }).text,
  });
  const error = scenario.streamError;
  scenario.chunks.forEach((c, i) => {
    if (error && i >= error.afterChunks) return;
    let data = '';
    let last: Record<string, unknown> | null = null;
    if (c.reasoning !== undefined) ({ text: data, payload: last } = appendDelta(data, delta('reasoning', c.reasoning)));
    if (c.text !== undefined || c.reasoning === undefined) ({ text: data, payload: last } = appendDelta(data, delta('message', c.text ?? '')));
    writes.push({
      atMs: c.atMs,
      chunk: i,
      data,
      malformed: last ? truncated(last, String(last.type)) : undefined,
    });
  });
  const lastAt = endAt(scenario.chunks, error?.afterChunks);
  withPings(scenario, writes);

  if (error) {
    if ((error.as ?? 'error') === 'error') {
      writes.push({ atMs: lastAt, chunk: null, data: event('error', { code: error.code, message: error.message, param: null }).text });
    } else {
      const closing = closeItem();
      writes.push({
        atMs: lastAt,
        chunk: null,
        data: closing + event('response.failed', { response: responseObject('failed', { error: { code: error.code, message: error.message } }) }).text,
      });
    }
    return writes;
  }

  const closing = closeItem();
  const usage = scenario.usage
    ? {
        input_tokens: scenario.usage.input,
        input_tokens_details: { cached_tokens: scenario.usage.cached ?? 0 },
        output_tokens: scenario.usage.output,
        output_tokens_details: { reasoning_tokens: scenario.usage.reasoning ?? 0 },
        total_tokens: scenario.usage.input + scenario.usage.output,
      }
    : null;
  const final =
    scenario.finishReason === 'length'
      ? event('response.incomplete', {
          response: responseObject('incomplete', { usage, incomplete_details: { reason: 'max_output_tokens' } }),
        })
      : event('response.completed', { response: responseObject('completed', { usage }) });
  writes.push({ atMs: lastAt, chunk: null, data: closing + final.text });
  return writes;
}

function appendDelta(data: string, d: { text: string; payload: Record<string, unknown> }) {
  return { text: data + d.text, payload: d.payload };
}

// ---------------------------------------------------------------------------------------
// Shared framing

function sse(payload: unknown, eventName?: string): string {
  return `${eventName ? `event: ${eventName}\n` : ''}data: ${JSON.stringify(payload)}\n\n`;
}

/** The event with its JSON cut in half: what a broken proxy or a server bug sends. */
function truncated(payload: unknown, eventName?: string): string {
  const json = JSON.stringify(payload);
  return `${eventName ? `event: ${eventName}\n` : ''}data: ${json.slice(0, Math.floor(json.length / 2))}\n\n`;
}

/** When the stream ends: right after the last chunk that is played. */
function endAt(chunks: ChunkPlan[], upTo?: number): number {
  const played = upTo === undefined ? chunks : chunks.slice(0, upTo);
  return played.reduce((max, c) => Math.max(max, c.atMs), 0);
}

/** SSE comment lines (`: ping`) after the opening frame and halfway between chunks. */
function withPings(scenario: FakeScenario, writes: Write[]): void {
  if (!scenario.pings) return;
  const out: Write[] = [];
  writes.forEach((w, i) => {
    const prev = writes[i - 1];
    if (w.chunk !== null && prev) out.push({ atMs: (prev.atMs + w.atMs) / 2, chunk: null, data: ': ping\n\n' });
    out.push(w);
  });
  writes.splice(0, writes.length, ...out);
}

const ERROR_BODIES: Record<number, (model: string) => { message: string; type: string; code: string | null; param?: string | null }> = {
  400: () => ({ message: "Invalid value for 'input'.", type: 'invalid_request_error', code: 'invalid_value', param: 'input' }),
  401: () => ({
    message: 'Incorrect API key provided: sk-fake***1234. You can find your API key at https://platform.openai.com/account/api-keys.',
    type: 'invalid_request_error',
    code: 'invalid_api_key',
  }),
  403: () => ({ message: 'You are not allowed to sample from this model', type: 'invalid_request_error', code: null }),
  404: (model) => ({
    message: `The model \`${model}\` does not exist or you do not have access to it.`,
    type: 'invalid_request_error',
    code: 'model_not_found',
  }),
  429: (model) => ({
    message: `Rate limit reached for ${model} in organization org-fake on tokens per min (TPM): Limit 30000, Used 29990, Requested 80. Please try again in 140ms.`,
    type: 'tokens',
    code: 'rate_limit_exceeded',
  }),
  500: () => ({
    message: 'The server had an error while processing your request. Sorry about that!',
    type: 'server_error',
    code: null,
  }),
  503: () => ({ message: 'The engine is currently overloaded, please try again later', type: 'server_error', code: null }),
};

function defaultErrorBody(status: number, model: string): unknown {
  const make = ERROR_BODIES[status] ?? ERROR_BODIES[status >= 500 ? 500 : 400]!;
  return { error: { param: null, ...make(model) } };
}

function sendJson(res: ServerResponse, o: { status: number; body: unknown; headers?: Record<string, string> }): void {
  const { status, body, headers = {} } = o;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'x-request-id': `req_${randomBytes(16).toString('hex')}`,
    ...headers,
  });
  res.end(text);
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export function closedSignal(res: ServerResponse): AbortSignal {
  const ac = new AbortController();
  res.once('close', () => ac.abort());
  return ac.signal;
}

export async function sleepUntil(at: number, signal: AbortSignal): Promise<void> {
  const ms = at - performance.now();
  if (ms <= 0 || signal.aborted) return;
  try {
    await delay(ms, undefined, { signal });
  } catch {
    // Aborted: the server is closing or the client went away.
  }
}

function writeOnce(res: ServerResponse, data: string): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed || res.writableEnded) return resolve();
    res.write(data, () => resolve());
  });
}
