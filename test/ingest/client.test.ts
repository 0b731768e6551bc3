import assert from 'node:assert/strict';
import { watch } from 'node:fs';
import { mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import type { AddressInfo } from 'node:net';
import { loadConfig } from '../../lib/config.ts';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { BenchError } from '../../lib/errors.ts';
import { createIngestHandler, listenIngest, wrapIngestHandler, type IngestHandler, type IngestRequest, type IngestServer } from '../../lib/ingest/handler.ts';
import { createRemoteRunner, spoolFileName, type RemoteRunnerOptions } from '../../lib/ingest/client.ts';
import { createLogger, silentLogger } from '../../lib/log.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { makeModel } from '../fixtures.ts';
import { makeError, makeMetric } from './recent-fixtures.ts';

const KEY = 'ingest-client-test-key-31';
const root = mkdtempSync(join(tmpdir(), 'llm-bench-ingest-client-'));
after(() => rmSync(root, { recursive: true, force: true }));

let store: Store;
let handler: IngestHandler;
let server: IngestServer;
/** Items received by POST /ingest/batch, over the whole file. */
let batchItemsSeen = 0;
/** The size in bytes of every POST /ingest/batch body received, over the whole file. */
const batchBodyBytes: number[] = [];

before(async () => {
  store = openSqliteStore(join(root, 'client.sqlite'));
  await store.insertModel(makeModel());
  await store.insertModel(makeModel({ model_id: 'off-model', enabled: false }));
  await store.insertModel(makeModel({ provider: 'bedrock', model_id: 'us.meta.llama3-2-1b-instruct-v1:0', misc: { region: 'us-west-2' } }));
  const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
  handler = createIngestHandler({ store, config, logger: silentLogger });
  const counting = wrapIngestHandler(handler, async (req: IngestRequest) => {
    if (req.url === '/ingest/batch') {
      batchItemsSeen += (JSON.parse(String(req.body)) as { items: unknown[] }).items.length;
      batchBodyBytes.push(Buffer.byteLength(req.body));
    }
    return handler(req);
  });
  server = await listenIngest(counting, { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024, logger: silentLogger });
});
after(async () => {
  await server.close();
  await store.close();
});

let spoolDir: string;
beforeEach(() => {
  spoolDir = mkdtempSync(join(root, 'spool-'));
});

function runnerFor(url: string, env: Record<string, string> = {}, options: RemoteRunnerOptions = {}) {
  const config = loadConfig({
    env: { INGEST_API_URL: url, INGEST_API_KEY: KEY, INGEST_SPOOL_DIR: spoolDir, ...env },
    dotenvPath: false,
  });
  return createRemoteRunner(config, { logger: silentLogger, ...options });
}

function spooled(): string[] {
  return readdirSync(spoolDir).filter((n) => n.endsWith('.json')).sort();
}

function rejected(): string[] {
  try {
    return readdirSync(join(spoolDir, 'rejected')).sort();
  } catch {
    return [];
  }
}

/** A stand-in server answering every request with `respond`; counts hits. */
async function stub(respond: (req: IncomingMessage, res: ServerResponse) => void) {
  let hits = 0;
  const s = createServer((req, res) => {
    hits += 1;
    req.resume();
    req.on('end', () => respond(req, res));
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  return {
    url,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        s.closeAllConnections();
        s.close(() => resolve());
      }),
  };
}

/** A URL where nothing listens: connections are refused. */
async function closedPortUrl(): Promise<string> {
  const s = await stub(() => {});
  await s.close();
  return s.url;
}

async function storedRunIds(): Promise<Set<string>> {
  const rows = await store.recentMetrics('groq', 'llama-3.3-70b-versatile', 100_000);
  return new Set(rows.map((r) => r.run_id));
}

describe('remote runner sink', () => {
  test('delivers a metric and an error to the ingest server: stored, then duplicate, nothing spooled', async () => {
    const runner = runnerFor(server.url);
    const m = makeMetric();
    assert.equal(await runner.sink.insertMetric(m), 'stored');
    assert.equal(await runner.sink.insertMetric(m), 'duplicate');
    assert.equal(await runner.sink.insertError(makeError()), 'stored');
    assert.ok((await storedRunIds()).has(m.run_id));
    const [back] = (await store.recentMetrics(m.provider, m.model_name, 100)).filter((r) => r.run_id === m.run_id);
    assert.deepEqual(back, m, 'dates travel as ISO strings and come back as the same Dates');
    assert.deepEqual(spooled(), []);
    await runner.close();
  });

  test('an INGEST_API_URL ending in /ingest (the upstream runner form) reaches the same endpoints', async () => {
    const runner = runnerFor(`${server.url}/ingest`);
    assert.equal(await runner.sink.insertMetric(makeMetric()), 'stored');
    assert.equal((await runner.runnerConfig('groq')).length, 1);
  });

  test('a 503 answer spools the result atomically as one file named by run_id and still answers stored', async () => {
    const down = await stub((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":{"code":"store_unavailable"}}'));
    const lines: string[] = [];
    const runner = runnerFor(down.url, {}, { logger: createLogger({ write: (_l, line) => lines.push(line) }) });
    const m = makeMetric();
    assert.equal(await runner.sink.insertMetric(m), 'stored');
    assert.equal(down.hits(), 1, 'no retry loop inside the sink: the spool is the retry');
    assert.deepEqual(spooled(), [`metric-${m.run_id}.json`]);
    const entry = JSON.parse(readFileSync(join(spoolDir, `metric-${m.run_id}.json`), 'utf8'));
    assert.equal(entry.type, 'metric');
    assert.equal(entry.doc.run_id, m.run_id);
    assert.equal(entry.doc.run_ts, m.run_ts.toISOString());
    assert.match(entry.reason, /HTTP 503/);
    assert.equal(lines.length, 1);
    assert.match(lines[0]!, /Cannot deliver the metric .* HTTP 503.*kept in/);
    await down.close();
  });

  test('a refused connection spools metrics and errors; a refused connection is not an error for the sweep', async () => {
    const runner = runnerFor(await closedPortUrl());
    const m = makeMetric();
    const e = makeError();
    assert.equal(await runner.sink.insertMetric(m), 'stored');
    assert.equal(await runner.sink.insertError(e), 'stored');
    assert.deepEqual(spooled(), [`error-${e.run_id}.json`, `metric-${m.run_id}.json`].sort());
  });

  test('a server that does not answer within timeoutMs is a spooled result, and close() waits for it', async () => {
    const hung = await stub(() => {});
    const runner = runnerFor(hung.url, {}, { timeoutMs: 100 });
    const m = makeMetric();
    const pending = runner.sink.insertMetric(m);
    await runner.close();
    assert.deepEqual(spooled(), [`metric-${m.run_id}.json`], 'the spool file exists once close() resolved');
    assert.equal(await pending, 'stored');
    await hung.close();
  });

  test('a 2xx that is not an ingest answer (a proxy page) is not taken as delivered', async () => {
    const proxy = await stub((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>login</html>'));
    const runner = runnerFor(proxy.url);
    await runner.sink.insertMetric(makeMetric());
    assert.equal(spooled().length, 1);
    await proxy.close();
  });

  test('a wrong key (401) spools the result instead of losing it, and the warning points at INGEST_API_KEY', async () => {
    const lines: string[] = [];
    const runner = runnerFor(server.url, { INGEST_API_KEY: 'not-the-key' }, { logger: createLogger({ write: (_l, line) => lines.push(line) }) });
    assert.equal(await runner.sink.insertMetric(makeMetric()), 'stored');
    assert.equal(spooled().length, 1);
    assert.match(lines.join('\n'), /HTTP 401.*check INGEST_API_KEY/);
    const flushed = await runner.flushSpool();
    assert.deepEqual(flushed, { delivered: 0, dropped: 0, remaining: 1 });
    assert.deepEqual(await runnerFor(server.url).flushSpool(), { delivered: 1, dropped: 0, remaining: 0 });
  });

  // A proxy's rate limit answers with its own page, not our JSON; so does a crashed server behind it.
  for (const [status, what] of [
    [429, 'a 429 from the server or a proxy in front of it'],
    [500, 'a plain HTTP 500 (a server or proxy that failed)'],
  ] as const) {
    test(`${what} keeps the result in the spool, never in rejected/, and it is delivered later`, async () => {
      const failing = await stub((_req, res) => res.writeHead(status, { 'content-type': 'text/html', 'retry-after': '30' }).end(`<html>${status}</html>`));
      const m = makeMetric();
      try {
        const runner = runnerFor(failing.url);
        assert.equal(await runner.sink.insertMetric(m), 'stored');
        assert.deepEqual([spooled(), rejected()], [[`metric-${m.run_id}.json`], []]);
        assert.deepEqual(await runner.flushSpool(), { delivered: 0, dropped: 0, remaining: 1 }, `a ${status} on the batch stops the flush`);
        assert.deepEqual(rejected(), []);
      } finally {
        await failing.close();
      }
      assert.deepEqual(await runnerFor(server.url).flushSpool(), { delivered: 1, dropped: 0, remaining: 0 });
      assert.ok((await storedRunIds()).has(m.run_id));
    });
  }

  test('a result the server rejects for good throws a BenchError (stage ingest) and is kept in rejected/, not spooled', async () => {
    const runner = runnerFor(server.url);
    const m = makeMetric({ model_name: 'off-model' });
    await assert.rejects(runner.sink.insertMetric(m), (err: unknown) => {
      assert.ok(err instanceof BenchError);
      assert.equal(err.stage, 'ingest');
      assert.equal(err.httpStatus, 422);
      assert.match(err.message, /off-model is disabled/);
      return true;
    });
    assert.deepEqual(spooled(), []);
    assert.deepEqual(rejected(), [`metric-${m.run_id}.json`]);
    const kept = JSON.parse(readFileSync(join(spoolDir, 'rejected', `metric-${m.run_id}.json`), 'utf8'));
    assert.match(kept.rejected_reason, /disabled/);
  });

  test('spool files appear whole: each is written to a temp name and renamed, never modified under its own name', async (t) => {
    const events: Array<[string, string]> = [];
    const watcher = watch(spoolDir, (type, name) => events.push([type, String(name)]));
    t.after(() => watcher.close());
    const runner = runnerFor(await closedPortUrl());
    const docs = Array.from({ length: 5 }, () => makeMetric({ misc: { padding: 'x'.repeat(200_000) } }));
    await Promise.all(docs.map((d) => runner.sink.insertMetric(d)));
    // inotify delivers events in order: once the sentinel's event arrives, all earlier ones have.
    await new Promise<void>((resolve) => {
      const check = () => (events.some(([, n]) => n === 'sentinel') ? resolve() : setTimeout(check, 5));
      writeFileSync(join(spoolDir, 'sentinel'), '');
      check();
    });
    const finals = new Set(docs.map((d) => `metric-${d.run_id}.json`));
    assert.deepEqual(
      events.filter(([type, n]) => finals.has(n) && type === 'change'),
      [],
      'no final file was ever written in place',
    );
    assert.ok(events.some(([type, n]) => type === 'change' && n.startsWith('.tmp-')), 'the watcher saw the temp files being written');
    assert.ok(docs.every((d) => events.some(([type, n]) => type === 'rename' && n === `metric-${d.run_id}.json`)));
    assert.deepEqual(
      readdirSync(spoolDir).filter((n) => n.startsWith('.tmp-')),
      [],
      'no temp file is left behind',
    );
  });

  test('a run_id that is not a safe file name is spooled under a hash of it', () => {
    assert.equal(spoolFileName('metric', 'abc-123'), 'metric-abc-123.json');
    assert.match(spoolFileName('error', '../../x'), /^error-h-[0-9a-f]{40}\.json$/);
    assert.notEqual(spoolFileName('error', '../../x'), spoolFileName('error', '../../y'));
  });

  test('without INGEST_API_URL the remote runner cannot be built (a configuration error naming the variable)', () => {
    const config = loadConfig({ env: {}, dotenvPath: false });
    assert.throws(() => createRemoteRunner(config), /INGEST_API_URL is not set/);
  });
});

describe('flushSpool', () => {
  async function spoolWhileDown(docs: Array<{ type: 'metric' | 'error'; doc: unknown }>) {
    const runner = runnerFor(await closedPortUrl());
    for (const d of docs) {
      if (d.type === 'metric') await runner.sink.insertMetric(d.doc as MetricDoc);
      else await runner.sink.insertError(d.doc as ReturnType<typeof makeError>);
    }
    assert.equal(spooled().length, docs.length);
  }

  test('delivers spooled results in batches and removes each file once acknowledged', async () => {
    const metrics = Array.from({ length: 5 }, () => makeMetric());
    const error = makeError();
    await spoolWhileDown([...metrics.map((doc) => ({ type: 'metric' as const, doc })), { type: 'error', doc: error }]);
    const seen = batchItemsSeen;
    const result = await runnerFor(server.url, {}, { batchSize: 2 }).flushSpool();
    assert.deepEqual(result, { delivered: 6, dropped: 0, remaining: 0 });
    assert.equal(batchItemsSeen - seen, 6);
    assert.deepEqual(spooled(), []);
    const ids = await storedRunIds();
    assert.ok(metrics.every((m) => ids.has(m.run_id)));
    assert.equal((await store.recentErrors(error.provider, error.model_name, 1000)).filter((e) => e.run_id === error.run_id).length, 1);
  });

  test('a result already stored (its answer was lost) counts as delivered: redelivery is harmless', async () => {
    const m = makeMetric();
    await store.insertMetric(m);
    await spoolWhileDown([{ type: 'metric', doc: m }]);
    assert.deepEqual(await runnerFor(server.url).flushSpool(), { delivered: 1, dropped: 0, remaining: 0 });
    assert.equal((await store.recentMetrics(m.provider, m.model_name, 100_000)).filter((r) => r.run_id === m.run_id).length, 1);
  });

  test('results refused for good are moved to rejected/ and never retried; the rest are delivered', async () => {
    const good = makeMetric();
    const off = makeMetric({ model_name: 'off-model' });
    await spoolWhileDown([
      { type: 'metric', doc: good },
      { type: 'metric', doc: off },
    ]);
    writeFileSync(join(spoolDir, 'metric-garbage.json'), '{"type": "metric", "doc"');
    const runner = runnerFor(server.url);
    assert.deepEqual(await runner.flushSpool(), { delivered: 1, dropped: 2, remaining: 0 });
    assert.deepEqual(rejected(), ['metric-garbage.json', `metric-${off.run_id}.json`].sort());
    const seen = batchItemsSeen;
    assert.deepEqual(await runner.flushSpool(), { delivered: 0, dropped: 0, remaining: 0 });
    assert.equal(batchItemsSeen, seen, 'nothing is sent again');
  });

  test('with the server unreachable, every file stays for the next run', async () => {
    await spoolWhileDown([{ type: 'metric', doc: makeMetric() }, { type: 'metric', doc: makeMetric() }]);
    assert.deepEqual(await runnerFor(await closedPortUrl()).flushSpool(), { delivered: 0, dropped: 0, remaining: 2 });
    assert.equal(spooled().length, 2);
  });

  test('when the server\'s store fails part-way (503 with per-item results), only the acknowledged files are removed', async () => {
    let inserts = 0;
    const flaky = new Proxy(store, {
      get(target, prop) {
        if (prop === 'insertMetric') {
          return async (doc: MetricDoc) => {
            inserts += 1;
            if (inserts > 1) throw new Error('primary stepped down');
            return target.insertMetric(doc);
          };
        }
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
    const flakyServer = await listenIngest(createIngestHandler({ store: flaky, config, logger: silentLogger }), {
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024 * 1024,
      logger: silentLogger,
    });
    await spoolWhileDown([1, 2, 3].map(() => ({ type: 'metric' as const, doc: makeMetric() })));
    assert.deepEqual(await runnerFor(flakyServer.url).flushSpool(), { delivered: 1, dropped: 0, remaining: 2 });
    await flakyServer.close();
    assert.deepEqual(await runnerFor(server.url).flushSpool(), { delivered: 2, dropped: 0, remaining: 0 });
  });

  test('no spool batch is larger than batchBytes, counted in bytes with text that is not ASCII', async () => {
    // 3 bytes a character in UTF-8: counted in characters, a batch would be 3 times its cap.
    const docs = Array.from({ length: 12 }, () => makeMetric({ misc: { note: '測'.repeat(400) } }));
    await spoolWhileDown(docs.map((doc) => ({ type: 'metric' as const, doc })));
    const from = batchBodyBytes.length;
    assert.deepEqual(await runnerFor(server.url, {}, { batchBytes: 4096 }).flushSpool(), { delivered: 12, dropped: 0, remaining: 0 });
    const sizes = batchBodyBytes.slice(from);
    assert.ok(sizes.length >= 6, `12 results of ~1.8 KB need at least 6 batches (got ${sizes.join(', ')})`);
    for (const size of sizes) assert.ok(size <= 4096, `a batch of ${size} bytes`);
  });

  test('a batch larger than the server\'s body cap is split; a single result larger than the cap is refused for good', async () => {
    const small = await listenIngest(handler, { host: '127.0.0.1', port: 0, maxBodyBytes: 8 * 1024, logger: silentLogger });
    const fits = Array.from({ length: 6 }, () => makeMetric({ misc: { padding: 'x'.repeat(2000) } }));
    const huge = makeMetric({ misc: { padding: 'x'.repeat(20_000) } });
    await spoolWhileDown([...fits, huge].map((doc) => ({ type: 'metric' as const, doc })));
    assert.deepEqual(await runnerFor(small.url).flushSpool(), { delivered: 6, dropped: 1, remaining: 0 });
    assert.deepEqual(rejected(), [`metric-${huge.run_id}.json`]);
    await small.close();
  });

  test('two runners flushing the same spool at once deliver each result once', async () => {
    const docs = Array.from({ length: 40 }, () => makeMetric());
    await spoolWhileDown(docs.map((doc) => ({ type: 'metric' as const, doc })));
    const seen = batchItemsSeen;
    const [a, b] = await Promise.all([runnerFor(server.url, {}, { batchSize: 5 }).flushSpool(), runnerFor(server.url, {}, { batchSize: 5 }).flushSpool()]);
    assert.equal(a.delivered + b.delivered, 40);
    assert.equal(batchItemsSeen - seen, 40, 'no result was sent twice');
    assert.deepEqual(spooled(), []);
    const ids = await storedRunIds();
    assert.ok(docs.every((d) => ids.has(d.run_id)));
  });

  test('a lock left by a dead process is taken over; a lock held by a live one is respected', async () => {
    await spoolWhileDown([{ type: 'metric', doc: makeMetric() }]);
    const lock = join(spoolDir, '.flush.lock');
    writeFileSync(lock, `${process.pid}@${hostname()}`);
    assert.deepEqual(await runnerFor(server.url).flushSpool(), { delivered: 0, dropped: 0, remaining: 1 });
    // pid 2^22 + 1 is above Linux's pid_max ceiling, so no process has it.
    writeFileSync(lock, `${2 ** 22 + 1}@${hostname()}`);
    assert.deepEqual(await runnerFor(server.url).flushSpool(), { delivered: 1, dropped: 0, remaining: 0 });
    assert.deepEqual(readdirSync(spoolDir).filter((n) => n.startsWith('.')), [], 'the lock is released');
  });

  test('temp files left by a writer that died mid-write are ignored, and removed once an hour old', async () => {
    await spoolWhileDown([{ type: 'metric', doc: makeMetric() }]);
    const fresh = join(spoolDir, '.tmp-1-fresh');
    const stale = join(spoolDir, '.tmp-1-stale');
    writeFileSync(fresh, '{"type":"metr');
    writeFileSync(stale, '{"type":"metr');
    const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
    utimesSync(stale, twoHoursAgo, twoHoursAgo);
    assert.deepEqual(await runnerFor(server.url).flushSpool(), { delivered: 1, dropped: 0, remaining: 0 });
    assert.deepEqual(readdirSync(spoolDir).filter((n) => n.startsWith('.tmp-')), ['.tmp-1-fresh']);
  });
});

describe('runnerConfig', () => {
  test('returns the enabled models of the provider with misc and real Dates', async () => {
    const models = await runnerFor(server.url).runnerConfig('bedrock');
    assert.equal(models.length, 1);
    assert.equal(models[0]!.model_id, 'us.meta.llama3-2-1b-instruct-v1:0');
    assert.deepEqual(models[0]!.misc, { region: 'us-west-2' });
    assert.ok(models[0]!.created_at instanceof Date);
    assert.equal(models[0]!.created_at.toISOString(), '2026-11-01T00:00:00.000Z');
  });

  test('a wrong key is an auth BenchError; an unreachable server a network one', async () => {
    await assert.rejects(runnerFor(server.url, { INGEST_API_KEY: 'wrong-key' }).runnerConfig('groq'), (err: unknown) => {
      assert.ok(err instanceof BenchError);
      assert.deepEqual([err.kind, err.stage, err.httpStatus], ['auth', 'ingest', 401]);
      return true;
    });
    await assert.rejects(runnerFor(await closedPortUrl()).runnerConfig('groq'), (err: unknown) => {
      assert.ok(err instanceof BenchError);
      assert.deepEqual([err.kind, err.stage], ['network', 'ingest']);
      return true;
    });
  });
});
