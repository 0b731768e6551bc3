// The ingest server as a service on the internet (issue 13): keys checked on the headers,
// timeouts, connection limits, throttled wrong keys, graceful 413, bounded input, and the
// start-up checks on keys, hosts and URLs.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError, PROVIDERS, ingestServerChecks, loadConfig } from '../../lib/config.ts';
import { createIngestHandler, listenIngest, wrapIngestHandler, type IngestHandler, type IngestServer } from '../../lib/ingest/handler.ts';
import { withSite } from '../../lib/site/serve.ts';
import { createRemoteRunner } from '../../lib/ingest/client.ts';
import { parseErrorPayload, parseMetricPayload } from '../../lib/ingest/schema.ts';
import { createLogger, silentLogger, type Level } from '../../lib/log.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { postChunked } from '../fakes/chunked-upload.ts';
import { makeModel } from '../fixtures.ts';
import { makeError, makeMetric } from './recent-fixtures.ts';

const KEY = 'ingest-hardening-test-key-0b6f2d93a1';
const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
const root = mkdtempSync(join(tmpdir(), 'llm-bench-ingest-hardening-'));
after(() => rmSync(root, { recursive: true, force: true }));

function capturingLogger() {
  const lines: Array<{ level: Level; line: string }> = [];
  return Object.assign(createLogger({ level: 'debug', write: (level, line) => lines.push({ level, line }) }), { lines });
}

/** Sends raw bytes and collects everything the server answers until it closes the connection. */
function raw(url: string, bytes: string): Promise<string> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(bytes);
  });
}

/** POSTs headers only (no body) from a given local address, and resolves with the status line once answered. */
function headersOnly(url: string, headers: Record<string, string>, localAddress: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/ingest`, { method: 'POST', headers, localAddress }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

// Issue 24: serving the site must not switch the header checks off, so they run both ways.
for (const serveSite of [false, true]) {
  describe(`the HTTP layer${serveSite ? ' with INGEST_SERVE_SITE=true' : ''}`, () => {
    let store: Store;
    let handler: IngestHandler;
    let server: IngestServer;
    let logger: ReturnType<typeof capturingLogger>;
    let bodyReads = 0;
    before(async () => {
      store = openSqliteStore(join(root, `http-${serveSite}.sqlite`));
      await store.insertModel(makeModel());
      logger = capturingLogger();
      const siteDir = join(root, 'site');
      mkdirSync(siteDir, { recursive: true });
      writeFileSync(join(siteDir, 'index.html'), '<!doctype html><title>status</title>');
      const ingest = createIngestHandler({ store, config, logger });
      handler = serveSite ? withSite(ingest, siteDir) : ingest;
      const counting = wrapIngestHandler(handler, async (req) => {
        bodyReads += 1;
        return handler(req);
      });
      server = await listenIngest(counting, {
        host: '127.0.0.1',
        port: 0,
        maxBodyBytes: 4096,
        logger,
        headersTimeoutMs: 300,
        maxConnectionsPerAddress: 40,
        lingerMs: 200,
      });
    });
    after(async () => {
      await server.close();
      await store.close();
    });

    test('an unauthenticated POST declaring a large body and sending none is answered 401 at once', async () => {
      const before = bodyReads;
      const status = await headersOnly(server.url, { 'content-type': 'application/json', 'content-length': '1000000' }, '127.0.0.1');
      assert.equal(status, 401);
      assert.equal(bodyReads, before, 'the handler never waited for a body');
    });

    test('a body of exactly INGEST_MAX_BODY_BYTES is stored, sized or chunked; one byte more is a 413', async () => {
      const exact = (extra: number) => {
        const doc = JSON.stringify({ ...makeMetric(), misc: { pad: '' } });
        return doc.replace('"pad":""', `"pad":"${'p'.repeat(4096 + extra - Buffer.byteLength(doc))}"`);
      };
      const body = exact(0);
      assert.equal(Buffer.byteLength(body), 4096);
      const sized = await fetch(`${server.url}/ingest`, { method: 'POST', headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body });
      assert.deepEqual([sized.status, ((await sized.json()) as { status: string }).status], [200, 'accepted']);
      const chunked = await fetch(`${server.url}/ingest`, {
        method: 'POST',
        headers: { 'x-api-key': KEY, 'content-type': 'application/json' },
        body: new Blob([exact(0)]).stream(),
        duplex: 'half',
      } as RequestInit);
      assert.deepEqual([chunked.status, ((await chunked.json()) as { status: string }).status], [200, 'accepted']);
      for (const over of [exact(1), new Blob([exact(1)]).stream()]) {
        const res = await fetch(`${server.url}/ingest`, { method: 'POST', headers: { 'x-api-key': KEY }, body: over, duplex: 'half' } as RequestInit);
        assert.equal(res.status, 413);
        await res.arrayBuffer();
      }
    });

    test('100 oversized unauthenticated requests from 100 addresses write at most 20 warning lines', async () => {
      const warnings = logger.lines.filter((l) => l.level === 'warn').length;
      const stats = handler.stats();
      for (let i = 0; i < 100; i++) {
        const status = await headersOnly(server.url, { 'content-length': String(1 << 20) }, `127.0.${10 + Math.floor(i / 200)}.${(i % 200) + 1}`);
        assert.equal(status, 401);
      }
      assert.ok(logger.lines.filter((l) => l.level === 'warn').length - warnings <= 20, 'warning lines are rate-limited');
      assert.ok(handler.stats().suppressedLogLines - stats.suppressedLogLines >= 80, 'the rest are counted for the summary line');
    });

    test('a wrong key with Expect: 100-continue is answered 401 without the go-ahead, so no body is sent', async () => {
      const before = bodyReads;
      const answer = await raw(
        server.url,
        'POST /ingest HTTP/1.1\r\nHost: x\r\nX-API-Key: wrong-key-000000000000\r\nContent-Type: application/json\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n',
      );
      assert.match(answer, /^HTTP\/1\.1 401 /);
      assert.doesNotMatch(answer, /100 Continue/);
      assert.equal(bodyReads, before, 'the handler never saw a body');
    });

    test('a wrong key without Expect is answered from the headers, before the body is read', async () => {
      const before = bodyReads;
      const res = await fetch(`${server.url}/ingest`, { method: 'POST', headers: { 'x-api-key': 'nope-nope-nope-nope' }, body: 'x'.repeat(3000) });
      assert.equal(res.status, 401);
      assert.equal(bodyReads, before);
    });

    test('a chunked upload far over the cap gets its 413, not a connection reset', async () => {
      const result = await postChunked(`${server.url}/ingest/batch`, 8 * 1024 * 1024, { 'x-api-key': KEY });
      assert.equal(result.status, 413);
      assert.equal(JSON.parse(result.body).error.code, 'payload_too_large');
    });

    test('headers that do not arrive within headersTimeout are cut off with 408', async () => {
      const answer = await raw(server.url, 'POST /ingest HTTP/1.1\r\nHost: x\r\n');
      assert.match(answer, /^HTTP\/1\.1 408 /);
    });

    test('wrong keys are throttled per address and their lines name the address; the right key still passes', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 14; i++) {
        const res = await fetch(`${server.url}/runner-config?provider=groq`, { headers: { 'x-api-key': `guess-${i}-0000000000000` } });
        statuses.push(res.status);
        if (res.status === 429) assert.equal(res.headers.get('retry-after'), '60');
        await res.arrayBuffer();
      }
      assert.ok(statuses.includes(401) && statuses.at(-1) === 429, statuses.join(' '));
      assert.ok(logger.lines.some((l) => /missing or wrong API key/.test(l.line) && /127\.0\.0\.1/.test(l.line)));
      const right = await fetch(`${server.url}/runner-config?provider=groq`, { headers: { 'x-api-key': KEY } });
      assert.equal(right.status, 200);
    });

    if (serveSite) {
      test('the site itself is served without a key', async () => {
        const res = await fetch(`${server.url}/site/`);
        assert.equal(res.status, 200);
        assert.match(await res.text(), /<title>status<\/title>/);
      });
    }

    test('connections beyond the per-address limit are refused while the first ones are served', async () => {
      const sockets: Socket[] = [];
      const closed: boolean[] = [];
      for (let i = 0; i < 45; i++) {
        const s = connect(server.port, '127.0.0.1');
        const index = i;
        closed[index] = false;
        s.on('close', () => (closed[index] = true));
        s.on('error', () => {});
        sockets.push(s);
      }
      await Promise.all(sockets.map((s) => new Promise((r) => (s.connecting ? s.once('connect', r).once('close', r) : r(null)))));
      await new Promise((r) => setTimeout(r, 50));
      assert.ok(closed.slice(40).some(Boolean), 'some connection over the limit was closed');
      for (const s of sockets) s.destroy();
    });
  });
}

test('the site wrapper passes on every part of the ingest handler it wraps', async () => {
  const store = openSqliteStore(':memory:');
  const logger = capturingLogger();
  const inner = createIngestHandler({ store, config, logger });
  const wrapped = withSite(inner, root);
  assert.deepEqual(Object.keys(wrapped).sort(), Object.keys(inner).sort());
  const head = { method: 'POST', url: '/ingest', headers: {}, remoteAddress: '192.0.2.7' };
  assert.equal(wrapped.preflight(head)?.status, 401, 'the pre-body key check');
  assert.equal(wrapped.stats().unauthorized, 1, 'the counts are the inner handler\'s');
  wrapped.warn('a line from the HTTP layer');
  assert.ok(logger.lines.some((l) => l.line === 'a line from the HTTP layer'), 'warnings go through the inner handler\'s limiter');
  assert.equal(wrapped.preflight({ method: 'GET', url: '/site/index.html', headers: {} }), null, 'the site needs no key');
  await store.close();
});

describe('the handler', () => {
  test('an address may send a wrong key INGEST_WRONG_KEYS_PER_MINUTE times a minute, each a 401, before it gets 429', () => {
    let t = 0;
    const h = createIngestHandler({ store: openSqliteStore(':memory:'), config, logger: silentLogger, now: () => t });
    const from = (remoteAddress: string) => h.preflight({ method: 'GET', url: '/runner-config?provider=groq', headers: { 'x-api-key': 'wrong-0000000000000' }, remoteAddress })?.status;
    assert.equal(config.ingest.wrongKeysPerMinute, 10, 'the default');
    for (let i = 1; i <= 10; i++) assert.equal(from('192.0.2.1'), 401, `wrong key ${i} of 10`);
    assert.equal(from('192.0.2.1'), 429, 'the 11th in the minute');
    assert.equal(from('192.0.2.2'), 401, 'another address has its own allowance');
    t += 60_000;
    assert.equal(from('192.0.2.1'), 401, 'a minute later the allowance is back');
    const five = createIngestHandler({ store: openSqliteStore(':memory:'), config: loadConfig({ env: { INGEST_API_KEY: KEY, INGEST_WRONG_KEYS_PER_MINUTE: '5' }, dotenvPath: false }), logger: silentLogger, now: () => t });
    const statuses = Array.from({ length: 6 }, () => five.preflight({ method: 'GET', url: '/health?x', headers: {}, remoteAddress: '192.0.2.3' })?.status ?? null);
    assert.deepEqual(statuses, [null, null, null, null, null, null], '/health needs no key');
    const keyed = Array.from({ length: 6 }, () => five.preflight({ method: 'POST', url: '/ingest', headers: {}, remoteAddress: '192.0.2.3' })?.status);
    assert.deepEqual(keyed, [401, 401, 401, 401, 401, 429]);
  });

  let store: Store;
  let handler: IngestHandler;
  before(async () => {
    store = openSqliteStore(join(root, 'handler.sqlite'));
    await store.insertModel(makeModel());
    handler = createIngestHandler({ store, config, logger: silentLogger });
  });
  after(() => store.close());

  test('a headers object reused for another request is routed by the target of that request', async () => {
    const headers = { 'x-api-key': KEY };
    assert.equal(handler.preflight({ method: 'GET', url: '/runner-config?provider=groq', headers }), null);
    const res = await handler({ method: 'GET', url: '/health', headers, body: '' });
    assert.deepEqual(JSON.parse(res.body), { status: 'ok', store: 'sqlite' });
  });

  test('/runner-config refuses an unknown provider with a 400 naming the known ones', async () => {
    const res = await handler({ method: 'GET', url: '/runner-config?provider=nosuch', headers: { 'x-api-key': KEY }, body: '' });
    assert.equal(res.status, 400);
    const message = (JSON.parse(res.body) as { error: { message: string } }).error.message;
    for (const p of PROVIDERS) assert.ok(message.includes(p), p);
  });
});

describe('bounds on what a result may say', () => {
  const now = Date.parse('2026-11-20T12:00:00Z');
  /** A document as it arrives: JSON, dates as strings. */
  const wire = (doc: object, overrides: Record<string, unknown>) => ({ ...(JSON.parse(JSON.stringify(doc)) as object), ...overrides });
  test('run_ts far in the future or older than a year is refused; a clock a minute ahead is fine', () => {
    for (const run_ts of ['9999-01-01T00:00:00Z', '2026-11-20T12:10:00Z', '2024-01-01T00:00:00Z']) {
      const r = parseMetricPayload(wire(makeMetric(), { run_ts }), { now });
      assert.equal(r.ok, false, run_ts);
      if (!r.ok) assert.equal(r.issue.field, 'run_ts');
    }
    assert.equal(parseMetricPayload(wire(makeMetric(), { run_ts: '2026-11-20T12:01:00Z' }), { now }).ok, true);
    assert.equal(parseErrorPayload(wire(makeError(), { ts: '9999-01-01T00:00:00Z' }), { now }).ok, false);
  });

  test('tokens_per_second must be finite and bounded, and the gap array bounded', () => {
    const base = wire(makeMetric(), { run_ts: '2026-11-20T11:00:00Z' });
    assert.equal(parseMetricPayload({ ...base, tokens_per_second: 1e308 }, { now }).ok, false);
    assert.equal(parseMetricPayload({ ...base, decode_tokens_per_second: 1e308 }, { now }).ok, false);
    const gaps = parseMetricPayload({ ...base, times_between_tokens: new Array(300_000).fill(0.01) }, { now });
    assert.equal(gaps.ok, false);
    if (!gaps.ok) assert.equal(gaps.issue.field, 'times_between_tokens');
  });
});

describe('start-up checks', () => {
  const env = (e: Record<string, string>) => loadConfig({ env: e, dotenvPath: false });
  test('the server refuses a key under 16 characters and warns under 32', () => {
    assert.match(ingestServerChecks(env({ INGEST_API_KEY: 'k' })).problems.join(), /at least 16 characters/);
    const mid = ingestServerChecks(env({ INGEST_API_KEY: 'a'.repeat(20) }));
    assert.deepEqual(mid.problems, []);
    assert.match(mid.warnings.join(), /32 or more/);
    assert.deepEqual(ingestServerChecks(env({ INGEST_API_KEY: 'a'.repeat(32) })), { problems: [], warnings: [] });
  });

  test('no-key mode is refused on an address other machines can reach', () => {
    assert.match(ingestServerChecks(env({ INGEST_ALLOW_NO_KEY: 'true', INGEST_HOST: '0.0.0.0' })).problems.join(), /loopback/);
    assert.deepEqual(ingestServerChecks(env({ INGEST_ALLOW_NO_KEY: 'true', INGEST_HOST: '127.0.0.1' })).problems, []);
  });

  test('http:// to an ingest server on another machine is refused; https and loopback are fine', () => {
    assert.throws(() => env({ INGEST_API_URL: 'http://ingest.example.com' }), (err: unknown) => err instanceof ConfigError && /https/.test(err.message));
    env({ INGEST_API_URL: 'https://ingest.example.com' });
    env({ INGEST_API_URL: 'http://127.0.0.1:8080' });
    env({ INGEST_API_URL: 'http://[::1]:8080' });
  });

  test('a secret pasted into another variable is not printed by the config error', () => {
    const secret = 'sk-live-0123456789abcdef';
    assert.throws(
      () => env({ OPENAI_API_KEY: secret, INGEST_PORT: secret }),
      (err: unknown) => err instanceof ConfigError && !err.message.includes(secret) && /INGEST_PORT/.test(err.message),
    );
  });
});

describe('the spool lock', () => {
  test('a lock naming this pid with another start time (pid reused) is broken at once', async () => {
    const store = openSqliteStore(join(root, 'lock.sqlite'));
    await store.insertModel(makeModel());
    const server = await listenIngest(createIngestHandler({ store, config, logger: silentLogger }), {
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1 << 20,
      logger: silentLogger,
    });
    const spoolDir = join(root, 'lock-spool');
    mkdirSync(spoolDir, { recursive: true });
    const doc = makeMetric();
    writeFileSync(join(spoolDir, `metric-${doc.run_id}.json`), JSON.stringify({ type: 'metric', doc, spooled_at: new Date().toISOString(), reason: 't' }));
    // Fresh heartbeat, live pid, but not the process that took the lock.
    writeFileSync(join(spoolDir, '.flush.lock'), JSON.stringify({ host: hostname(), pid: process.pid, start_ticks: '1', token: 't' }));
    const logger = capturingLogger();
    const runner = createRemoteRunner(
      loadConfig({ env: { INGEST_API_URL: server.url, INGEST_API_KEY: KEY, INGEST_SPOOL_DIR: spoolDir }, dotenvPath: false }),
      { logger },
    );
    assert.deepEqual(await runner.flushSpool(), { delivered: 1, dropped: 0, remaining: 0 });
    assert.ok(logger.lines.some((l) => /a pid now used by another process/.test(l.line)));
    assert.deepEqual(readdirSync(spoolDir).filter((n) => n.startsWith('.')), []);
    await server.close();
    await store.close();
  });
});
