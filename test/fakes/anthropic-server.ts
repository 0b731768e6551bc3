// A local stand-in for Anthropic's Messages API that plays a FakeScenario in Anthropic's
// documented SSE framing (event: + data: lines; message_start, content_block_start, ping,
// content_block_delta, content_block_stop, message_delta, message_stop). It also answers
// Vertex AI's Claude route (…/publishers/anthropic/models/{model}:streamRawPredict), which
// streams the very same events. The SSE player below is shared with gemini-server.ts.
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ChunkPlan, FakeScenario, FakeServer, RecordedRequest, ScenarioFor } from './scenario.ts';

/** Anthropic-only extension: an `event: error` sent after some chunks, as Anthropic does when overloaded mid-stream. */
export interface AnthropicScenario extends FakeScenario {
  errorEventAfterChunks?: number;
  /** Defaults to {type: 'overloaded_error', message: 'Overloaded'}. */
  errorEvent?: { type: string; message: string };
}

/** How a provider frames a scenario as SSE. Each string is written with one socket write. */
export interface SseEncoder {
  /** Written with the response headers (Anthropic: message_start). Null: nothing. */
  head(): string | null;
  chunk(plan: ChunkPlan, index: number): string;
  malformed(plan: ChunkPlan, index: number): string;
  /** The provider's keep-alive event, or null when the provider has none. */
  ping: string | null;
  /** Written right after the last chunk (finish reason, usage, end of message). */
  tail(): string;
  /** Written after `afterChunks` chunks instead of the rest of the stream (mid-stream error), or null. */
  midStreamError?: { afterChunks: number; event: string } | null;
}

export interface RouteMatch {
  /** The model id named by the path (Vertex puts it there), or null when the body names it. */
  model: string | null;
}

export interface SseRoute {
  match(method: string, path: string): RouteMatch | null;
  /** The provider's error body for an HTTP status when the scenario does not give one. */
  errorBody(status: number, req: RecordedRequest): unknown;
  encoder(scenario: FakeScenario, req: RecordedRequest, match: RouteMatch): SseEncoder;
  /** Headers every response of this provider carries (request ids). */
  headers?(): Record<string, string>;
}

/**
 * Starts an HTTP server on 127.0.0.1, port 0, that records each request and plays the
 * scenario chosen for it through the first matching route. Unmatched requests get 404 in the
 * first route's error shape.
 */
export async function startSseServer(scenarioFor: ScenarioFor, routes: SseRoute[]): Promise<FakeServer> {
  const requests: RecordedRequest[] = [];
  const stop = new AbortController();
  const server = createServer((req, res) => {
    // Nagle would merge chunks written a few milliseconds apart and distort inter-chunk timing.
    req.socket.setNoDelay(true);
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`fake server error: ${String(err)}`);
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const arrivedAt = performance.now();
    const path = req.url ?? '/';
    let body: unknown = raw;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      // Keep the raw text: a test may want to see what was sent.
    }
    const recorded: RecordedRequest = { method: req.method ?? 'GET', path, headers: req.headers, body, arrivedAt };
    requests.push(recorded);
    const pathOnly = path.split('?')[0] ?? path;
    for (const route of routes) {
      const match = route.match(recorded.method, pathOnly);
      if (match) {
        await play(res, scenarioFor(recorded), { route, recorded, match, signal: stop.signal });
        return;
      }
    }
    const route = routes[0]!;
    res.writeHead(404, { 'content-type': 'application/json', ...route.headers?.() });
    res.end(JSON.stringify(route.errorBody(404, recorded)));
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      stop.abort();
      // Stalled streams keep their sockets open on purpose; close them with the server.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function play(
  res: ServerResponse,
  scenario: FakeScenario,
  ctx: { route: SseRoute; recorded: RecordedRequest; match: RouteMatch; signal: AbortSignal },
): Promise<void> {
  const { route, recorded, signal } = ctx;
  const at = (ms: number) => waitUntil(recorded.arrivedAt + ms, signal);
  if (scenario.headerDelayMs) await at(scenario.headerDelayMs);
  if (scenario.status !== undefined && scenario.status >= 400) {
    res.writeHead(scenario.status, {
      'content-type': 'application/json',
      ...route.headers?.(),
      ...scenario.headers,
    });
    res.end(JSON.stringify(scenario.errorBody ?? route.errorBody(scenario.status, recorded)));
    return;
  }
  const encoder = route.encoder(scenario, recorded, ctx.match);
  const eol = (s: string) => (scenario.crlf ? s.replace(/\r?\n/g, '\r\n') : s);
  const write = (s: string): boolean => {
    if (res.destroyed || signal.aborted) return false;
    res.write(eol(s));
    return true;
  };
  res.writeHead(scenario.status ?? 200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...route.headers?.(),
    ...scenario.headers,
  });
  const head = encoder.head();
  if (head !== null) write(head);
  else res.flushHeaders();
  const pings = scenario.pings === true && encoder.ping !== null;
  if (pings) write(encoder.ping!);

  const chunks = scenario.chunks;
  let previousAt = scenario.headerDelayMs ?? 0;
  for (let i = 0; i < chunks.length; i++) {
    if (scenario.cutAfterChunks === i) {
      // The connection dies when the next chunk is due, not in the same instant as the last
      // write: a reader would otherwise lose that chunk with the error that follows it.
      if (await at(chunks[i]!.atMs)) res.destroy();
      return;
    }
    if (scenario.stallAfterChunks === i) return;
    if (encoder.midStreamError && encoder.midStreamError.afterChunks === i) {
      write(encoder.midStreamError.event);
      res.end();
      return;
    }
    const plan = chunks[i]!;
    if (pings && plan.atMs > previousAt) {
      // Keep-alives fall between deltas, the way they arrive from the real API.
      if (!(await at((previousAt + plan.atMs) / 2)) || !write(encoder.ping!)) return;
    }
    if (!(await at(plan.atMs))) return;
    const text = scenario.malformedAt === i ? encoder.malformed(plan, i) : encoder.chunk(plan, i);
    if (!write(text)) return;
    previousAt = plan.atMs;
  }
  if (scenario.cutAfterChunks !== undefined && scenario.cutAfterChunks >= chunks.length) {
    res.destroy();
    return;
  }
  if (scenario.stallAfterChunks !== undefined && scenario.stallAfterChunks >= chunks.length) return;
  if (encoder.midStreamError && encoder.midStreamError.afterChunks >= chunks.length) {
    write(encoder.midStreamError.event);
    res.end();
    return;
  }
  if (write(encoder.tail())) res.end();
}

/** Resolves true at performance.now() === target, false when the server is closing. */
async function waitUntil(target: number, signal: AbortSignal): Promise<boolean> {
  const delay = target - performance.now();
  try {
    if (delay > 0) await sleep(delay, undefined, { signal });
  } catch {
    return false;
  }
  return !signal.aborted;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

/** One SSE event in Anthropic's framing. */
function sse(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

// Anthropic's documented error types and the HTTP statuses that carry them.
const ANTHROPIC_ERRORS: Record<number, [string, string]> = {
  400: ['invalid_request_error', 'Invalid request.'],
  401: ['authentication_error', 'invalid x-api-key'],
  402: ['billing_error', 'Your credit balance is too low to access the Anthropic API.'],
  403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
  404: ['not_found_error', 'Not found.'],
  413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
  429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
  500: ['api_error', 'Internal server error'],
  504: ['timeout_error', 'Request timed out.'],
  529: ['overloaded_error', 'Overloaded'],
};

/** Anthropic's JSON error body for a status: {type: 'error', error: {type, message}}. */
export function anthropicErrorBody(status: number, req?: RecordedRequest): unknown {
  const [type, message] = ANTHROPIC_ERRORS[status] ?? (status >= 500 ? ANTHROPIC_ERRORS[500]! : ANTHROPIC_ERRORS[400]!);
  const model = (req?.body as { model?: unknown } | null)?.model;
  const text = status === 404 && typeof model === 'string' ? `model: ${model}` : message;
  return { type: 'error', error: { type, message: text } };
}

const VERTEX_CLAUDE_PATH = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/publishers\/anthropic\/models\/([^/:]+):streamRawPredict$/;

/** The Anthropic Messages route and Vertex AI's Claude route, both playing Anthropic SSE. */
export const anthropicRoute: SseRoute = {
  match(method, path) {
    if (method !== 'POST') return null;
    if (path === '/v1/messages') return { model: null };
    const vertex = VERTEX_CLAUDE_PATH.exec(path);
    return vertex ? { model: decodeURIComponent(vertex[1]!) } : null;
  },
  errorBody: anthropicErrorBody,
  headers: () => ({ 'request-id': `req_${randomUUID().replace(/-/g, '')}` }),
  encoder: (scenario, req, match) => anthropicEncoder(scenario as AnthropicScenario, req, match),
};

function anthropicEncoder(scenario: AnthropicScenario, req: RecordedRequest, match: RouteMatch): SseEncoder {
  const body = (req.body ?? {}) as { model?: unknown };
  const model = match.model ?? (typeof body.model === 'string' ? body.model : 'claude-unknown');
  const usage = scenario.usage ?? null;
  let index = -1;
  let open: 'thinking' | 'text' | null = null;

  // Thinking blocks end with a signature_delta before content_block_stop, as the API sends them.
  const closeBlock = (): string => {
    if (open === null) return '';
    const signature =
      open === 'thinking'
        ? sse('content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: 'EqQBCkYIARgCIkD' } })
        : '';
    open = null;
    return signature + sse('content_block_stop', { type: 'content_block_stop', index });
  };
  const delta = (kind: 'thinking' | 'text', value: string): string => {
    let out = '';
    if (open !== kind) {
      out += closeBlock();
      index++;
      open = kind;
      const block = kind === 'thinking' ? { type: 'thinking', thinking: '', signature: '' } : { type: 'text', text: '' };
      out += sse('content_block_start', { type: 'content_block_start', index, content_block: block });
    }
    const d = kind === 'thinking' ? { type: 'thinking_delta', thinking: value } : { type: 'text_delta', text: value };
    return out + sse('content_block_delta', { type: 'content_block_delta', index, delta: d });
  };

  const errorEvent = scenario.errorEvent ?? { type: 'overloaded_error', message: 'Overloaded' };
  return {
    head: () =>
      sse('message_start', {
        type: 'message_start',
        message: {
          id: `msg_${randomUUID().replace(/-/g, '').slice(0, 24)}`,
          type: 'message',
          role: 'assistant',
          model: scenario.servedModel ?? model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          // Anthropic reports input and cache counts here and a placeholder output count of 1;
          // with no usage in the scenario the object is left out entirely.
          ...(usage
            ? {
                usage: {
                  input_tokens: usage.input,
                  cache_creation_input_tokens: 0,
                  cache_read_input_tokens: usage.cached ?? 0,
                  output_tokens: 1,
                },
              }
            : {}),
        },
      }),
    ping: sse('ping', { type: 'ping' }),
    chunk(plan) {
      let out = '';
      if (plan.reasoning) out += delta('thinking', plan.reasoning);
      if (plan.text) out += delta('text', plan.text);
      return out;
    },
    malformed(plan) {
      // Cut inside the JSON, as a broken proxy would deliver it.
      const full = JSON.stringify({ type: 'content_block_delta', index: Math.max(index, 0), delta: { type: 'text_delta', text: plan.text ?? plan.reasoning ?? '' } });
      return `event: content_block_delta\ndata: ${full.slice(0, Math.max(10, full.length - 12))}\n\n`;
    },
    tail() {
      const stopReason = scenario.finishReason === 'length' ? 'max_tokens' : 'end_turn';
      return (
        closeBlock() +
        sse('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: stopReason, stop_sequence: null },
          ...(usage
            ? {
                usage: {
                  output_tokens: usage.output,
                  ...(usage.reasoning ? { output_tokens_details: { thinking_tokens: usage.reasoning } } : {}),
                },
              }
            : {}),
        }) +
        sse('message_stop', { type: 'message_stop' })
      );
    },
    midStreamError:
      scenario.errorEventAfterChunks === undefined
        ? null
        : { afterChunks: scenario.errorEventAfterChunks, event: sse('error', { type: 'error', error: errorEvent }) },
  };
}

/** Anthropic's Messages API (and Vertex's Claude route) on a local port. */
export function startAnthropicServer(scenarioFor: (req: RecordedRequest) => AnthropicScenario): Promise<FakeServer> {
  return startSseServer(scenarioFor, [anthropicRoute]);
}
