// wire.ts's clock (SPEC 5: read when a chunk arrives, before parsing): a body chunk is timed when
// the socket delivers it, however late the SDK asks for it; the request's send time is taken
// from fetch's own report; Bedrock's event stream is timed per message, by its last byte.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
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
