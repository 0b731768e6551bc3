// wire.ts's clock (SPEC 5: read when a chunk arrives, before parsing): a body chunk is timed when
// the socket delivers it, however late the SDK asks for it; the request's send time is taken
// from fetch's own report; Bedrock's event stream is timed per message, by its last byte.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { classifyError } from '../../../lib/errors.ts';
import { watchLag } from '../../../lib/bench/loop-lag.ts';
import { eventStreamFramer, inTap, messageArrival, newTap, tappedFetch } from '../../../lib/bench/providers/wire.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Written 60 ms after the first chunk; the SDK in the test asks for it 300 ms after. */
const SECOND_AFTER_MS = 60;
const CONSUMER_BUSY_MS = 300;

let url = '';
const written: number[] = [];
const server = createServer((req, res: ServerResponse) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.socket?.setNoDelay(true);
    res.write('data: first\n\n');
    written.push(performance.now());
    setTimeout(() => {
      res.end('data: second\n\n');
      written.push(performance.now());
    }, SECOND_AFTER_MS);
  });
});
before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/stream`;
});
after(() => server.close());

describe('tappedFetch', () => {
  test('times each chunk when it arrived, not when a busy SDK read it, and the request from when its body was sent', async () => {
    written.length = 0;
    let bytes = 0;
    const tap = newTap(() => bytes++);
    const started = performance.now();
    const response = await inTap(tap, () => tappedFetch(url, { method: 'POST', body: JSON.stringify({ prompt: 'x'.repeat(1000) }) }));
    assert.ok(tap.sentAt !== null && tap.sentAt >= started, `sentAt ${tap.sentAt}`);
    assert.ok(tap.headersAt !== null && tap.headersAt >= tap.sentAt!, `headersAt ${tap.headersAt} before sentAt ${tap.sentAt}`);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    assert.equal(decoder.decode((await reader.read()).value), 'data: first\n\n');
    const firstAt = tap.arrivedAt!;
    assert.ok(firstAt >= tap.headersAt! && firstAt - written[0]! < 40, `first chunk timed ${firstAt - written[0]!} ms after its write`);
    // The SDK is busy elsewhere (other streams' parsing) while the second chunk arrives.
    await sleep(CONSUMER_BUSY_MS);
    const second = await reader.read();
    const askedAt = performance.now();
    assert.equal(decoder.decode(second.value), 'data: second\n\n');
    assert.equal(written.length, 2);
    assert.ok(tap.arrivedAt! - written[1]! < 40, `second chunk timed ${tap.arrivedAt! - written[1]!} ms after its write`);
    assert.ok(askedAt - tap.arrivedAt! > CONSUMER_BUSY_MS / 2, `second chunk timed when the SDK read it (${askedAt - tap.arrivedAt!} ms before)`);
    assert.equal((await reader.read()).done, true);
    assert.equal(bytes, 2);
    assert.match(tap.head, /^data: first\n\ndata: second/);
  });

  test('a body that fails after a chunk fails the SDK’s read, after the chunk', async () => {
    const broken = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const tap = newTap(undefined);
      const response = await inTap(tap, () => tappedFetch(`http://127.0.0.1:${(broken.address() as AddressInfo).port}/`));
      const reader = response.body!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), 'data: one\n\n');
      await assert.rejects(reader.read());
    } finally {
      broken.close();
    }
  });
});

describe('the fetch thread', () => {
  /** A server that writes a chunk and then holds this thread for `blockMs`, as a busy SDK or a GC pause would. */
  async function blockingServer(blockMs: number): Promise<{ url: string; writtenAt: () => number; close: () => void }> {
    let writtenAt = 0;
    const blocking = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.socket?.setNoDelay(true);
        res.write('data: first\n\n');
        setTimeout(() => {
          res.end('data: second\n\n');
          writtenAt = performance.now();
          // The chunk is on the loopback socket; this thread cannot read anything until the block ends.
          while (performance.now() - writtenAt < blockMs);
        }, 30);
      });
    });
    await new Promise<void>((resolve) => blocking.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(blocking.address() as AddressInfo).port}/`, writtenAt: () => writtenAt, close: () => blocking.close() };
  }

  test('times a chunk when it came off the socket while this thread was blocked, and records the fetch thread\'s short wait', async () => {
    const BLOCK_MS = 80;
    const blocking = await blockingServer(BLOCK_MS);
    try {
      const tap = newTap(undefined);
      // Watched from before the request, as a call is.
      const lag = watchLag();
      const response = await inTap(tap, () => tappedFetch(blocking.url, { method: 'POST', body: '{}' }));
      const reader = response.body!.getReader();
      await reader.read();
      const second = await reader.read();
      assert.equal(new TextDecoder().decode(second.value), 'data: second\n\n');
      const late = tap.arrivedAt! - blocking.writtenAt();
      // This thread read it only after the block: timed here, it would be BLOCK_MS late or more.
      assert.ok(late >= 0 && late < BLOCK_MS / 4, `second chunk timed ${late.toFixed(2)} ms after its write`);
      // The wait the call's lag takes for it is the fetch thread's, not this thread's block.
      lag.event({ type: 'text', t: tap.arrivedAt! });
      assert.ok(lag.moments().first < BLOCK_MS / 4, `recorded wait ${lag.moments().first.toFixed(2)} ms`);
      lag.end();
    } finally {
      blocking.close();
    }
  });

  test('a clock a test injects is read as each message is handled, in order', async () => {
    const blocking = await blockingServer(0);
    try {
      let reads = 0;
      const tap = newTap(undefined, () => ++reads);
      const response = await inTap(tap, () => tappedFetch(blocking.url, { method: 'POST', body: '{}' }));
      const reader = response.body!.getReader();
      await reader.read();
      const first = tap.arrivedAt!;
      await reader.read();
      assert.ok(Number.isInteger(tap.headersAt) && Number.isInteger(first) && first > tap.headersAt! && tap.arrivedAt! > first, `${tap.headersAt}, ${first}, ${tap.arrivedAt}`);
    } finally {
      blocking.close();
    }
  });

  test('a refused connection fails as fetch fails, with the socket error as its cause', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const err = await inTap(newTap(undefined), () => tappedFetch(`http://127.0.0.1:${port}/`)).then(
      () => assert.fail('resolved'),
      (e: unknown) => e as TypeError & { cause: { code?: string } },
    );
    assert.ok(err instanceof TypeError, String(err));
    assert.equal(err.message, 'fetch failed');
    assert.equal(err.cause.code, 'ECONNREFUSED');
    assert.equal(classifyError(err).kind, 'network');
  });

  test('an abort before the answer rejects with the signal\'s reason, and one mid-body fails the read with it', async () => {
    const slow = createServer((req, res) => {
      req.resume();
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('data: one\n\n');
      }, 50);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const at = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/`;
    try {
      const early = new AbortController();
      const pending = inTap(newTap(undefined), () => tappedFetch(at, { signal: early.signal }));
      const reason = new Error('the sweep gave up');
      early.abort(reason);
      await assert.rejects(pending, (e) => e === reason);

      const late = new AbortController();
      const response = await inTap(newTap(undefined), () => tappedFetch(at, { signal: late.signal }));
      const reader = response.body!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), 'data: one\n\n');
      late.abort(reason);
      await assert.rejects(reader.read(), (e) => e === reason);
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
  });

  test('as fetch does: an encoded body arrives decoded, a redirect is followed (a 303 as a GET), a 204 has no body', async () => {
    const seen: string[] = [];
    const odd = createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers['accept-encoding']}`);
      req.resume();
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' });
        res.end(gzipSync('data: unpacked\n\n'));
      } else if (req.url === '/moved') {
        res.writeHead(303, { location: '/gzip' });
        res.end();
      } else {
        res.writeHead(204);
        res.end();
      }
    });
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    const at = `http://127.0.0.1:${(odd.address() as AddressInfo).port}`;
    try {
      const tap = newTap(undefined);
      const moved = await inTap(tap, () => tappedFetch(`${at}/moved`, { method: 'POST', body: '{}' }));
      assert.equal(moved.status, 200);
      assert.equal(await moved.text(), 'data: unpacked\n\n');
      assert.equal(tap.head, 'data: unpacked\n\n');
      assert.deepEqual(seen, ['POST /moved gzip, deflate, br', 'GET /gzip gzip, deflate, br']);
      const empty = await inTap(newTap(undefined), () => tappedFetch(`${at}/none`));
      assert.equal(empty.status, 204);
      assert.equal(empty.body, null);
    } finally {
      odd.close();
    }
  });

  test('a body the thread cannot take (a stream) is sent from this thread, still timed and tapped', async () => {
    written.length = 0;
    const tap = newTap(undefined);
    const body = new Blob(['{"prompt":"x"}']).stream();
    const response = await inTap(tap, () => tappedFetch(url, { method: 'POST', body, duplex: 'half' } as RequestInit));
    assert.equal(await response.text(), 'data: first\n\ndata: second\n\n');
    assert.ok(tap.sentAt !== null && tap.headersAt !== null && tap.arrivedAt !== null);
  });
});

/** An AWS event-stream message with a string `:event-type` header (CRCs zero: the framer reads lengths only). */
function message(type: string, payload: string): Buffer {
  const name = Buffer.from(':event-type');
  const value = Buffer.from(type);
  const headers = Buffer.concat([Buffer.from([name.length]), name, Buffer.from([7]), Buffer.from([value.length >> 8, value.length & 255]), value]);
  const body = Buffer.from(payload);
  const total = 12 + headers.length + body.length + 4;
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(headers.length, 4);
  return Buffer.concat([prelude, headers, body, Buffer.alloc(4)]);
}

describe('eventStreamFramer (Bedrock)', () => {
  test('names each message when its last byte arrives: two in one chunk, one split over three', () => {
    const frame = eventStreamFramer();
    assert.deepEqual(frame(Buffer.concat([message('messageStart', '{}'), message('contentBlockDelta', '{"delta":{"text":"a"}}')])), ['messageStart', 'contentBlockDelta']);
    const split = message('contentBlockDelta', '{"delta":{"text":"bc"}}');
    assert.deepEqual(frame(split.subarray(0, 5)), []);
    assert.deepEqual(frame(split.subarray(5, 30)), []);
    assert.deepEqual(frame(Buffer.concat([split.subarray(30), message('metadata', '{}').subarray(0, 14)])), ['contentBlockDelta']);
  });

  test('a prelude whose lengths cannot be a message stops the framing instead of misreading what follows', () => {
    const frame = eventStreamFramer();
    const bad = Buffer.alloc(16);
    bad.writeUInt32BE(8, 0);
    assert.deepEqual(frame(Buffer.concat([bad, message('messageStart', '{}')])), []);
    assert.deepEqual(frame(message('messageStop', '{}')), []);
  });
});

describe('messageArrival', () => {
  test('the time of the oldest message of the type the SDK yielded, dropping those before it; now when the tap never saw it', () => {
    const tap = newTap(undefined, () => 999);
    tap.messages.push({ type: 'messageStart', t: 1 }, { type: 'contentBlockDelta', t: 2 }, { type: 'contentBlockDelta', t: 3 }, { type: 'metadata', t: 4 });
    assert.equal(messageArrival(tap, 'contentBlockDelta'), 2);
    assert.equal(messageArrival(tap, 'contentBlockDelta'), 3);
    assert.equal(messageArrival(tap, 'messageStop'), 999);
    assert.equal(messageArrival(tap, 'metadata'), 4);
    assert.deepEqual(tap.messages, []);
  });
});
