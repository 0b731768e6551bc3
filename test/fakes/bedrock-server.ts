// A fake Amazon Bedrock runtime that answers ConverseStream the way the real service does:
// HTTP/2 (the SDK's Node request handler for this client is NodeHttp2Handler, so the fake
// speaks cleartext HTTP/2 with prior knowledge, which is what http2.connect does for an
// http:// endpoint), `application/vnd.amazon.eventstream` binary framing, JSON payloads,
// and AWS JSON errors with `x-amzn-errortype` before the stream starts.
import { randomUUID } from 'node:crypto';
import { constants, createServer } from 'node:http2';
import type { Http2Session, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { EventStreamCodec } from '@smithy/eventstream-codec';
import type { Message } from '@smithy/eventstream-codec';
import type { FakeScenario, FakeServer, RecordedRequest } from './scenario.ts';

/** The exception events Bedrock may send inside a ConverseStream (`:message-type: exception`). */
export type BedrockStreamExceptionType =
  | 'throttlingException'
  | 'modelStreamErrorException'
  | 'validationException'
  | 'serviceUnavailableException'
  | 'internalServerException';

/** A FakeScenario plus what only Bedrock has. */
export interface BedrockScenario extends FakeScenario {
  /** An exception event written instead of chunk `afterChunks` (the stream ends after it). */
  streamException?: { afterChunks: number; type: BedrockStreamExceptionType; message: string };
  /** metrics.latencyMs to report; by default the milliseconds from request arrival to metadata. */
  latencyMs?: number;
}

export type BedrockScenarioFor = (req: RecordedRequest) => BedrockScenario;

export interface BedrockFakeServer extends FakeServer {
  /** Streams the client reset (RST_STREAM CANCEL) before the fake had ended them. */
  readonly cancelledStreams: number;
}

// Streams the fake itself ended; any other stream that closes was closed by the client.
const endedByFake = new WeakSet<ServerHttp2Stream>();

const codec = new EventStreamCodec(
  (bytes) => new TextDecoder().decode(bytes),
  (text) => new TextEncoder().encode(text),
);

// Defaults for errors sent before the stream, with the messages Bedrock really sends.
function defaultError(status: number, modelId: string): { type: string; message: string } {
  switch (status) {
    case 400:
      return {
        type: 'ValidationException',
        message: `Invocation of model ID ${modelId} with on-demand throughput isn’t supported. Retry your request with the ID or ARN of an inference profile that contains this model.`,
      };
    case 403:
      return { type: 'AccessDeniedException', message: "You don't have access to the model with the specified model ID." };
    case 404:
      return {
        type: 'ResourceNotFoundException',
        message: 'This model version has reached the end of its life. Please refer to the AWS documentation for more details.',
      };
    case 429:
      return { type: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' };
    case 503:
      return { type: 'ServiceUnavailableException', message: 'Bedrock is unable to process your request.' };
    default:
      return status >= 500
        ? { type: 'InternalServerException', message: 'The system encountered an unexpected error during processing. Try your request again.' }
        : { type: 'ValidationException', message: 'Malformed input request, please reformat your input and try again.' };
  }
}

// Bedrock pads every event payload with a random `p` field so that payload sizes do not
// reveal token lengths; a client must ignore it.
function padding(): string {
  return 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.slice(0, 1 + Math.floor(Math.random() * 40));
}

function eventFrame(eventType: string, payload: Record<string, unknown>): Uint8Array {
  const message: Message = {
    headers: {
      ':event-type': { type: 'string', value: eventType },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: new TextEncoder().encode(JSON.stringify({ ...payload, p: padding() })),
  };
  return codec.encode(message);
}

function exceptionFrame(type: string, message: string): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'exception' },
    },
    body: new TextEncoder().encode(JSON.stringify({ message })),
  });
}

/** A well-formed frame whose message CRC no longer matches (one flipped bit). */
function corruptFrame(frame: Uint8Array): Uint8Array {
  const bad = Uint8Array.from(frame);
  bad[bad.length - 1]! ^= 0x01;
  return bad;
}

/**
 * Starts the fake on 127.0.0.1, port 0. Put `baseUrl` in AWS_ENDPOINT_URL_BEDROCK_RUNTIME.
 * Scenario mapping: chunks become contentBlockDelta events (reasoning in block 0, text in the
 * next block), then contentBlockStop, messageStop and metadata (usage, metrics.latencyMs, and
 * trace.promptRouter.invokedModelId when the scenario has a servedModel). Errors carry only the
 * headers Bedrock sends (x-amzn-requestid, x-amzn-errortype): no rate-limit or retry-after
 * header, even on a 429.
 * `pings` and `crlf` do not exist in Bedrock's format and are ignored.
 */
export async function startBedrockServer(scenarioFor: BedrockScenarioFor): Promise<BedrockFakeServer> {
  const requests: RecordedRequest[] = [];
  const sessions = new Set<Http2Session>();
  const timers = new Set<NodeJS.Timeout>();
  let cancelledStreams = 0;
  const server = createServer();

  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  server.on('session', (session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    // The client may reset a stream (abort); that is not a server error.
    session.on('error', () => {});
  });
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    stream.on('error', () => {});
    stream.on('close', () => {
      // CANCEL from a destroyed session, or the client closing a stream the fake had not ended
      // (a kept session closes just the stream).
      if (stream.rstCode === constants.NGHTTP2_CANCEL || !endedByFake.has(stream)) cancelledStreams += 1;
    });
    const parts: Buffer[] = [];
    stream.on('data', (d: Buffer) => parts.push(d));
    stream.on('end', () => {
      const arrivedAt = performance.now();
      const text = Buffer.concat(parts).toString('utf8');
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Recorded as text: a test can see what was sent.
      }
      const path = String(headers[':path'] ?? '');
      const recorded: RecordedRequest = {
        method: String(headers[':method'] ?? ''),
        path,
        headers: plainHeaders(headers),
        body,
        arrivedAt,
      };
      requests.push(recorded);
      const match = /^\/model\/([^/]+)\/converse-stream$/.exec(path.split('?')[0] ?? '');
      if (recorded.method !== 'POST' || !match) {
        sendError(stream, 404, { type: 'UnknownOperationException', message: `No route for ${recorded.method} ${path}` });
        return;
      }
      play(stream, scenarioFor(recorded), { arrivedAt, modelId: decodeURIComponent(match[1]!) });
    });
  });

  function later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      timers.delete(timer);
      fn();
    }, Math.max(0, ms));
    timers.add(timer);
  }

  function play(stream: ServerHttp2Stream, scenario: BedrockScenario, at: { arrivedAt: number; modelId: string }): void {
    const sinceArrival = (ms: number) => at.arrivedAt + ms - performance.now();
    later(sinceArrival(scenario.headerDelayMs ?? 0), () => {
      if (stream.destroyed) return;
      if (scenario.status !== undefined && scenario.status !== 200) {
        const fallback = defaultError(scenario.status, at.modelId);
        const type = scenario.headers?.['x-amzn-errortype'] ?? fallback.type;
        sendError(stream, scenario.status, {
          type,
          body: scenario.errorBody ?? { message: fallback.message },
          extraHeaders: scenario.headers,
        });
        return;
      }
      stream.respond({
        ':status': 200,
        'content-type': 'application/vnd.amazon.eventstream',
        'x-amzn-requestid': randomUUID(),
        ...scenario.headers,
      });
      streamEvents(stream, scenario, at.arrivedAt);
    });
  }

  function streamEvents(stream: ServerHttp2Stream, scenario: BedrockScenario, arrivedAt: number): void {
    const chunks = scenario.chunks;
    const hasReasoning = chunks.some((c) => c.reasoning);
    const textBlock = hasReasoning ? 1 : 0;
    let reasoningOpen = false;
    let textOpen = false;
    let written = 0;
    const lastAt = chunks.length > 0 ? Math.max(...chunks.map((c) => c.atMs)) : 0;

    const write = (frames: Uint8Array[]) => {
      if (stream.destroyed || frames.length === 0) return;
      stream.write(Buffer.concat(frames));
    };

    // Bedrock sends messageStart together with the first content, not with the headers.
    const framesFor = (i: number): Uint8Array[] => {
      const chunk = chunks[i]!;
      const frames: Uint8Array[] = [];
      if (i === 0) frames.push(eventFrame('messageStart', { role: 'assistant' }));
      if (chunk.reasoning) {
        reasoningOpen = true;
        frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: chunk.reasoning } } }));
      }
      if (chunk.text) {
        if (reasoningOpen) {
          // Claude on Bedrock closes its reasoning block with a signature-only delta.
          frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { signature: 'c2lnbmF0dXJl' } } }));
          frames.push(eventFrame('contentBlockStop', { contentBlockIndex: 0 }));
          reasoningOpen = false;
        }
        textOpen = true;
        frames.push(eventFrame('contentBlockDelta', { contentBlockIndex: textBlock, delta: { text: chunk.text } }));
      }
      if (scenario.malformedAt === i) {
        const last = frames.length - 1;
        frames[last] = corruptFrame(frames[last]!);
      }
      return frames;
    };

    const finish = () => {
      if (stream.destroyed) return;
      const frames: Uint8Array[] = [];
      if (chunks.length === 0) frames.push(eventFrame('messageStart', { role: 'assistant' }));
      if (reasoningOpen) frames.push(eventFrame('contentBlockStop', { contentBlockIndex: 0 }));
      if (textOpen) frames.push(eventFrame('contentBlockStop', { contentBlockIndex: textBlock }));
      for (const f of frames) write([f]);
      write([eventFrame('messageStop', { stopReason: scenario.finishReason === 'length' ? 'max_tokens' : 'end_turn' })]);
      const latencyMs = scenario.latencyMs ?? Math.round(performance.now() - arrivedAt);
      const u = scenario.usage;
      const metadata: Record<string, unknown> = { metrics: { latencyMs } };
      // Bedrock names the answering model only when the request went to a prompt router:
      // trace.promptRouter.invokedModelId (the scenario's servedModel stands for it).
      if (scenario.servedModel) metadata.trace = { promptRouter: { invokedModelId: scenario.servedModel } };
      if (u) {
        metadata.usage = {
          inputTokens: u.input,
          outputTokens: u.output,
          totalTokens: u.input + u.output,
          ...(u.cached !== undefined ? { cacheReadInputTokens: u.cached, cacheWriteInputTokens: 0 } : {}),
        };
      }
      write([eventFrame('metadata', metadata)]);
      endedByFake.add(stream);
      stream.end();
    };

    const step = () => {
      if (stream.destroyed) return;
      if (scenario.cutAfterChunks === written) {
        // A cut connection: the socket goes away with no END_STREAM and no GOAWAY.
        stream.session?.destroy();
        return;
      }
      if (scenario.stallAfterChunks === written) return;
      const ex = scenario.streamException;
      if (ex && ex.afterChunks === written) {
        write([exceptionFrame(ex.type, ex.message)]);
        endedByFake.add(stream);
        stream.end();
        return;
      }
      if (written === chunks.length) {
        later(arrivedAt + lastAt - performance.now(), finish);
        return;
      }
      const i = written;
      later(arrivedAt + chunks[i]!.atMs - performance.now(), () => {
        if (stream.destroyed) return;
        write(framesFor(i));
        written += 1;
        step();
      });
    };
    step();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    get cancelledStreams() {
      return cancelledStreams;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function sendError(
  stream: ServerHttp2Stream,
  status: number,
  o: { type: string; message?: string; body?: unknown; extraHeaders?: Record<string, string> | undefined },
): void {
  if (stream.destroyed) return;
  const { 'x-amzn-errortype': _ignored, ...extra } = o.extraHeaders ?? {};
  stream.respond({
    ':status': status,
    'content-type': 'application/json',
    'x-amzn-requestid': randomUUID(),
    // The form the real service sends: the shape name, then the Coral namespace.
    'x-amzn-errortype': `${o.type}:http://internal.amazon.com/coral/com.amazon.bedrock/`,
    ...extra,
  });
  endedByFake.add(stream);
  stream.end(JSON.stringify(o.body ?? { message: o.message ?? o.type }));
}

function plainHeaders(headers: IncomingHttpHeaders): Record<string, string | string[] | undefined> {
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers)) out[k] = v;
  return out;
}
