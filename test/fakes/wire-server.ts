// An adversarial fake provider that knows nothing of our adapters: each case is the exact
// bytes to send and when, in any provider's wire format (SSE for OpenAI chat and Responses,
// Anthropic and Gemini; AWS binary event-stream over cleartext HTTP/2 for Bedrock), and the
// server notes when it handed each write to the socket. Tests take the truth (TTFT, decode
// rate) from those send times, never from the schedule, and assert the stored documents.
//
// Every POST plays the case chosen for it; every GET (the lanes' warm-up: list-models,
// ListAsyncInvokes) answers 200 with an empty list, as the real services do.
import { createServer as createHttpServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { EventStreamCodec } from '@smithy/eventstream-codec';

export interface WireWrite {
  /** Milliseconds after the request body arrived. */
  atMs: number;
  data: string | Uint8Array;
  /** Visible tokens this write carries (the truth of the case; not sent). */
  visible?: number;
  /** Streamed reasoning tokens this write carries. */
  reasoning?: number;
}

export interface WireCase {
  status?: number;
  contentType?: string;
  writes: WireWrite[];
}

export interface SentWrite {
  write: WireWrite;
  /** performance.now() right after the write was handed to the socket. */
  at: number;
}

export interface Exchange {
  method: string;
  path: string;
  body: unknown;
  arrivedAt: number;
  sent: SentWrite[];
}

export interface WireServer {
  baseUrl: string;
  /** The POSTs, in order of arrival, each with what was sent back and when. */
  exchanges: Exchange[];
  /** Every request, warm-ups included, as `METHOD path`. */
  seen: string[];
  close(): Promise<void>;
}

export type CaseFor = (exchange: Exchange, index: number) => WireCase;

/** Starts the fake on 127.0.0.1, port 0: HTTP/1.1 by default, cleartext HTTP/2 for Bedrock. */
export async function startWireServer(caseFor: CaseFor, o: { http2?: boolean } = {}): Promise<WireServer> {
  const exchanges: Exchange[] = [];
  const seen: string[] = [];
  const timers = new Set<NodeJS.Timeout>();

  async function play(c: WireCase, ex: Exchange, out: { write(d: string | Uint8Array): void; end(): void; closed(): boolean }) {
    for (const w of c.writes) {
      const wait = ex.arrivedAt + w.atMs - performance.now();
      if (wait > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            timers.delete(timer);
            resolve();
          }, wait);
          timers.add(timer);
        });
      }
      if (out.closed()) return;
      out.write(w.data);
      ex.sent.push({ write: w, at: performance.now() });
    }
    out.end();
  }

  function begin(method: string, path: string, raw: string): Exchange | null {
    seen.push(`${method} ${path}`);
    if (method !== 'POST') return null;
    let body: unknown = raw;
    try {
      body = JSON.parse(raw);
    } catch {
      // Kept as text.
    }
    const ex: Exchange = { method, path, body, arrivedAt: performance.now(), sent: [] };
    exchanges.push(ex);
    return ex;
  }

  let close: () => Promise<void>;
  let port: number;
  if (o.http2) {
    const server = createHttp2Server();
    const sessions = new Set<import('node:http2').ServerHttp2Session>();
    server.on('session', (s) => {
      sessions.add(s);
      s.on('close', () => sessions.delete(s));
      s.on('error', () => {});
    });
    server.on('stream', (stream: ServerHttp2Stream, headers) => {
      stream.on('error', () => {});
      const parts: Buffer[] = [];
      stream.on('data', (d: Buffer) => parts.push(d));
      stream.on('end', () => {
        const ex = begin(String(headers[':method']), String(headers[':path']), Buffer.concat(parts).toString('utf8'));
        if (!ex) {
          stream.respond({ ':status': 200, 'content-type': 'application/json' });
          stream.end('{"asyncInvokeSummaries":[]}');
          return;
        }
        const c = caseFor(ex, exchanges.length - 1);
        stream.respond({ ':status': c.status ?? 200, 'content-type': c.contentType ?? 'application/vnd.amazon.eventstream' });
        void play(c, ex, { write: (d) => stream.write(d), end: () => stream.end(), closed: () => stream.destroyed || stream.closed });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
  } else {
    const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => {
        res.socket?.setNoDelay(true);
        const ex = begin(req.method ?? 'GET', (req.url ?? '/').split('?')[0]!, Buffer.concat(parts).toString('utf8'));
        if (!ex) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"object":"list","data":[],"has_more":false,"first_id":null,"last_id":null}');
          return;
        }
        const c = caseFor(ex, exchanges.length - 1);
        res.writeHead(c.status ?? 200, { 'content-type': c.contentType ?? 'text/event-stream', 'cache-control': 'no-cache' });
        res.flushHeaders();
        void play(c, ex, { write: (d) => res.write(d), end: () => res.end(), closed: () => res.destroyed });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    close = async () => {
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    };
  }
  return { baseUrl: `http://127.0.0.1:${port}`, exchanges, seen, close: () => close() };
}

// ---------------------------------------------------------------------------------------
// Encoders: what each provider puts on the wire, written out by hand from their docs.

export function sse(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

export const chat = {
  delta(delta: Record<string, unknown>, finish: string | null = null): string {
    return sse({ id: 'chatcmpl-w1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] });
  },
  usage(completion: number, reasoning?: number): string {
    return sse({
      id: 'chatcmpl-w1',
      object: 'chat.completion.chunk',
      created: 1,
      model: 'm',
      choices: [],
      usage: {
        prompt_tokens: 14,
        completion_tokens: completion,
        total_tokens: 14 + completion,
        ...(reasoning === undefined ? {} : { completion_tokens_details: { reasoning_tokens: reasoning } }),
      },
    });
  },
  done: 'data: [DONE]\n\n',
};

export const responses = {
  created: sse({ type: 'response.created', sequence_number: 0, response: { id: 'resp_w1', object: 'response', status: 'in_progress', output: [] } }, 'response.created'),
  text(delta: string): string {
    return sse({ type: 'response.output_text.delta', sequence_number: 1, item_id: 'msg_w1', output_index: 0, content_index: 0, delta }, 'response.output_text.delta');
  },
  completed(output: number, reasoning: number): string {
    return sse(
      {
        type: 'response.completed',
        sequence_number: 9,
        response: {
          id: 'resp_w1',
          object: 'response',
          status: 'completed',
          output: [],
          usage: { input_tokens: 14, input_tokens_details: { cached_tokens: 0 }, output_tokens: output, output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: 14 + output },
        },
      },
      'response.completed',
    );
  },
  error(code: string, message: string): string {
    return sse({ type: 'error', sequence_number: 1, code, message, param: null }, 'error');
  },
};

export const anthropic = {
  start: sse({ type: 'message_start', message: { id: 'msg_w1', type: 'message', role: 'assistant', content: [], model: 'm', usage: { input_tokens: 14, output_tokens: 1 } } }, 'message_start'),
  ping: sse({ type: 'ping' }, 'ping'),
  text(text: string, index = 0): string {
    return sse({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } }, 'content_block_delta');
  },
  thinking(thinking: string): string {
    return sse({ type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking } }, 'content_block_delta');
  },
  end(output: number, stop = 'end_turn'): string {
    return (
      sse({ type: 'message_delta', delta: { stop_reason: stop, stop_sequence: null }, usage: { output_tokens: output } }, 'message_delta') +
      sse({ type: 'message_stop' }, 'message_stop')
    );
  },
  error(type: string, message: string): string {
    return sse({ type: 'error', error: { type, message } }, 'error');
  },
};

export const gemini = {
  chunk(parts: Array<{ text: string; thought?: boolean }>, o: { finish?: string; candidates?: number; thoughts?: number } = {}): string {
    const usage =
      o.finish !== undefined
        ? { usageMetadata: { promptTokenCount: 14, candidatesTokenCount: o.candidates, thoughtsTokenCount: o.thoughts, totalTokenCount: 14 + (o.candidates ?? 0) + (o.thoughts ?? 0) } }
        : {};
    return `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts }, ...(o.finish ? { finishReason: o.finish } : {}), index: 0 }], ...usage, responseId: 'gem-w1' })}\r\n\r\n`;
  },
};

const codec = new EventStreamCodec(
  (bytes) => new TextDecoder().decode(bytes),
  (text) => new TextEncoder().encode(text),
);

export const bedrock = {
  event(eventType: string, payload: Record<string, unknown>): Uint8Array {
    return codec.encode({
      headers: {
        ':event-type': { type: 'string', value: eventType },
        ':content-type': { type: 'string', value: 'application/json' },
        ':message-type': { type: 'string', value: 'event' },
      },
      body: new TextEncoder().encode(JSON.stringify({ ...payload, p: 'abcdef' })),
    });
  },
  start(): Uint8Array {
    return bedrock.event('messageStart', { role: 'assistant' });
  },
  text(text: string): Uint8Array {
    return bedrock.event('contentBlockDelta', { contentBlockIndex: 0, delta: { text } });
  },
  end(output: number, stop = 'end_turn'): Uint8Array {
    const parts = [
      bedrock.event('contentBlockStop', { contentBlockIndex: 0 }),
      bedrock.event('messageStop', { stopReason: stop }),
      bedrock.event('metadata', { usage: { inputTokens: 14, outputTokens: output, totalTokens: 14 + output }, metrics: { latencyMs: 100 } }),
    ];
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  },
};

// ---------------------------------------------------------------------------------------
// Truth from the send times.

/** The TTFT the server produced: its first write carrying visible text, from the request's arrival, in ms. */
export function trueTtftMs(ex: Exchange): number {
  const first = ex.sent.find((s) => (s.write.visible ?? 0) > 0);
  if (!first) throw new Error('no visible write was sent');
  return first.at - ex.arrivedAt;
}

/** Tokens streamed after the first content write, over the time from it to the last content write, per second. */
export function trueDecodeRate(ex: Exchange): number {
  const content = ex.sent.filter((s) => (s.write.visible ?? 0) + (s.write.reasoning ?? 0) > 0);
  const [first, last] = [content[0]!, content[content.length - 1]!];
  const tokens = content.slice(1).reduce((n, s) => n + (s.write.visible ?? 0) + (s.write.reasoning ?? 0), 0);
  return tokens / ((last.at - first.at) / 1000);
}
