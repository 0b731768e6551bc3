import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { readEvents, tinyfishStream, type AgentStreamItem } from '../../lib/tinyfish/client.ts';

/** A body that delivers these chunks, each read stamped with the next integer by the clock. */
function body(chunks: string[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(c) {
      for (const ch of chunks) c.enqueue(enc.encode(ch));
      c.close();
    },
  });
}

async function collect(chunks: string[]): Promise<AgentStreamItem[]> {
  let n = 0;
  const out: AgentStreamItem[] = [];
  for await (const item of readEvents(body(chunks), { signal: new AbortController().signal, now: () => ++n })) out.push(item);
  return out;
}

describe('TinyFish event stream parsing', () => {
  test('events split across chunks, CRLF endings, event: lines and comments; each stamped when its last chunk arrived', async () => {
    const items = await collect([
      'data: {"type":"STAR',
      'TED","runId":"r1"}\r\n\r\n: keep-alive\r\n\r\nevent: message\ndata: {"type":"PROGRESS","purpose":"p"}\n\n',
      'data: {"type":"COMPLETE","status":"COMPLETED","resultJson":{"a":1}}\n\n',
    ]);
    assert.deepEqual(
      items.map((i) => (i.kind === 'event' ? [i.t, i.event.type] : [i.t, i.kind])),
      [
        [2, 'STARTED'],
        [2, 'keepalive'],
        [2, 'PROGRESS'],
        [3, 'COMPLETE'],
      ],
    );
  });

  test('an event that is not JSON is reported as UNREADABLE, not dropped', async () => {
    const [item] = await collect(['data: not json\n\n']);
    assert.equal(item!.kind === 'event' && item!.event.type, 'UNREADABLE');
  });

  test('a 200 that is not an event stream is the provider\'s fault, never network', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>maintenance</html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    try {
      const config = loadConfig({ env: { TINYFISH_API_KEY: 'tf-key-0123456789', TINYFISH_BASE_URL: `http://127.0.0.1:${port}` }, dotenvPath: false });
      const stream = tinyfishStream(config.providers.tinyfish)({ url: 'https://example.com', goal: 'g', timeoutMs: null, endpoint: 'run-sse' }, { signal: new AbortController().signal, now: performance.now.bind(performance) });
      await assert.rejects(
        (async () => {
          for await (const _ of stream);
        })(),
        (err: Error & { kind?: string }) => err.kind === 'transient_provider' && /answered HTTP 200 with text\/html, not an event stream/.test(err.message),
      );
    } finally {
      server.close();
    }
  });
});
