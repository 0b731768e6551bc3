// The first half of a lane's warm-up (SPEC 5): one call through the adapter, its SDK and
// fetch or HTTP/2, against a server on 127.0.0.1 that answers with a canned stream in the
// provider's wire format. A process's first streamed call compiles the SDK's request and
// stream-parsing code as it goes (on loopback: ~10 ms more to send, ~6 ms more to read the
// first event); the rehearsal pays that before any clock starts. Nothing leaves the machine.
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { ServerHttp2Session, ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Server } from 'node:net';
import { crc32 } from 'node:zlib';
import type { Config } from '../../config.ts';
import { monotonicNow } from '../clock.ts';
import type { ProviderStream, WarmRequest } from '../provider-stream.ts';
import { redirectedTo } from './wire.ts';

export interface Canned {
  contentType: string;
  body: string | Uint8Array;
  /** Bedrock speaks HTTP/2 (cleartext here, as http2.connect does for an http:// endpoint). */
  http2?: boolean;
}

const rehearsed = new Set<string>();
// Measured on loopback (the first call of a lane minus its later calls, off the truth): one
// rehearsal left a median 1.7 ms, three 0.8 ms; V8 compiles hot code further on later runs.
const REHEARSALS = 3;

/**
 * Runs `stream` once to its end against a local server answering `canned`: with the config
 * `pointAt` returns for the server's URL, or, without pointAt, with the lane's own client,
 * its requests redirected there (tappedFetch, Bedrock's handler), so the client's own
 * first-use work is done too. Once per key for the process; what the rehearsal yields or
 * throws is of no interest (a failure only means the first call runs colder).
 */
export async function rehearse(
  key: string,
  stream: ProviderStream,
  req: WarmRequest,
  canned: Canned,
  pointAt?: (config: Config, baseUrl: string) => Config,
): Promise<void> {
  if (rehearsed.has(key)) return;
  rehearsed.add(key);
  const server = await serve(canned);
  try {
    for (let i = 0; i < REHEARSALS; i++) await (pointAt ? run(stream, req, pointAt(req.config, server.url)) : redirectedTo(server.url, () => run(stream, req, req.config)));
  } catch {
    // A colder first call, not a failure.
  } finally {
    await server.close();
  }
}

async function run(stream: ProviderStream, req: WarmRequest, config: Config): Promise<void> {
  const events = stream({
    provider: req.provider,
    modelId: req.modelId,
    misc: req.misc,
    prompt: 'warm-up',
    maxTokens: 1,
    temperature: null,
    signal: req.signal,
    now: monotonicNow,
    config,
  });
  for await (const _ of events) {
    // Only the running matters.
  }
}

export async function serve(canned: Canned): Promise<{ url: string; close(): Promise<void> }> {
  const answer = (respond: (status: number, contentType: string) => void, end: (body: string | Uint8Array) => void) => {
    respond(200, canned.contentType);
    end(canned.body);
  };
  let server: Server;
  let drop: () => void;
  if (canned.http2) {
    const h2 = createHttp2Server();
    const sessions = new Set<ServerHttp2Session>();
    h2.on('session', (s) => {
      sessions.add(s);
      s.on('close', () => sessions.delete(s));
      s.on('error', () => {});
    });
    h2.on('stream', (stream: ServerHttp2Stream) => {
      stream.on('error', () => {});
      stream.resume();
      stream.on('end', () => answer((status, type) => stream.respond({ ':status': status, 'content-type': type }), (b) => stream.end(b)));
    });
    server = h2;
    drop = () => sessions.forEach((s) => s.destroy());
  } else {
    const h1 = createHttpServer((req, res) => {
      req.resume();
      req.on('end', () => answer((status, type) => res.writeHead(status, { 'content-type': type }), (b) => res.end(b)));
    });
    server = h1;
    drop = () => h1.closeAllConnections();
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      drop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One SSE event. */
export function sseEvent(data: unknown, event?: string): string {
  return `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
}

/**
 * One AWS event-stream message (application/vnd.amazon.eventstream): total and headers length,
 * prelude CRC32, string headers, the JSON payload, message CRC32.
 */
export function eventStreamMessage(eventType: string, payload: unknown): Uint8Array {
  const headers: Array<[string, string]> = [
    [':event-type', eventType],
    [':content-type', 'application/json'],
    [':message-type', 'event'],
  ];
  const headerBytes = Buffer.concat(
    headers.map(([name, value]) => {
      const n = Buffer.from(name);
      const v = Buffer.from(value);
      const h = Buffer.alloc(1 + n.length + 1 + 2 + v.length);
      h.writeUInt8(n.length, 0);
      n.copy(h, 1);
      h.writeUInt8(7, 1 + n.length); // 7: string
      h.writeUInt16BE(v.length, 2 + n.length);
      v.copy(h, 4 + n.length);
      return h;
    }),
  );
  const body = Buffer.from(JSON.stringify(payload));
  const total = 12 + headerBytes.length + body.length + 4;
  const prelude = Buffer.alloc(8);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headerBytes.length, 4);
  const preludeCrc = Buffer.alloc(4);
  preludeCrc.writeUInt32BE(crc32(prelude), 0);
  const withoutCrc = Buffer.concat([prelude, preludeCrc, headerBytes, body]);
  const messageCrc = Buffer.alloc(4);
  messageCrc.writeUInt32BE(crc32(withoutCrc), 0);
  return Buffer.concat([withoutCrc, messageCrc]);
}
