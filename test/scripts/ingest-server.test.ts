import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { createIngestHandler, listenIngest, type IngestServer } from '../../lib/ingest/handler.ts';
import { silentLogger } from '../../lib/log.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { postChunked } from '../fakes/chunked-upload.ts';
import { makeModel } from '../fixtures.ts';
import { makeMetric } from '../ingest/recent-fixtures.ts';

const KEY = 'ingest-server-test-key-77';
const MiB = 1024 * 1024;
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-ingest-server-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function post(url: string, body: string, headers: Record<string, string> = {}) {
  return fetch(url, { method: 'POST', body, headers: { 'x-api-key': KEY, 'content-type': 'application/json', ...headers } });
}

describe('ingest server over node:http', () => {
  let store: Store;
  let server: IngestServer;
  before(async () => {
    store = openSqliteStore(join(dir, 'server.sqlite'));
    await store.insertModel(makeModel());
    const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
    const handler = createIngestHandler({ store, config, logger: silentLogger });
    server = await listenIngest(handler, { host: '127.0.0.1', port: 0, maxBodyBytes: MiB, logger: silentLogger });
  });
  after(async () => {
    await server.close();
    await store.close();
  });

  test('a 2 MiB body is refused with 413 and the JSON error, and nothing is stored', async () => {
    const before = await store.countMetrics();
    const doc = makeMetric({ misc: { padding: 'x'.repeat(2 * MiB) } });
    const res = await post(`${server.url}/ingest`, JSON.stringify(doc));
    assert.equal(res.status, 413);
    assert.deepEqual(await res.json(), { error: { code: 'payload_too_large', field: null, message: `the body exceeds ${MiB} bytes` } });
    assert.equal(await store.countMetrics(), before);
  });

  test('a 2 MiB body sent without content-length is cut off at the cap with 413', async () => {
    const res = await postChunked(`${server.url}/ingest/batch`, 2 * MiB, { 'x-api-key': KEY });
    assert.equal(res.status, 413);
    assert.equal(JSON.parse(res.body).error.code, 'payload_too_large');
  });

  test('a body just under the cap is read whole and handled', async () => {
    const doc = makeMetric();
    const json = JSON.stringify({ ...doc, misc: { padding: '' } });
    const padded = JSON.stringify({ ...doc, misc: { padding: 'x'.repeat(MiB - json.length - 10) } });
    assert.ok(padded.length <= MiB);
    const res = await post(`${server.url}/ingest`, padded);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { status: string }).status, 'accepted');
  });

  test('the answer is JSON with a content-length, over a connection that stays open', async () => {
    const res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.equal(res.headers.get('content-length'), String((await res.text()).length));
    assert.equal(res.headers.get('connection'), 'keep-alive');
  });
});

test('close() lets a request in flight finish, then stops accepting connections', async () => {
  const real = openSqliteStore(join(dir, 'close.sqlite'));
  await real.insertModel(makeModel());
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  const slowInsert = async (doc: MetricDoc) => {
    entered();
    await gate;
    return real.insertMetric(doc);
  };
  const slow = new Proxy(real, {
    get: (target, prop) => (prop === 'insertMetric' ? slowInsert : Reflect.get(target, prop).bind?.(target) ?? Reflect.get(target, prop)),
  });
  const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
  const server = await listenIngest(createIngestHandler({ store: slow, config, logger: silentLogger }), {
    host: '127.0.0.1',
    port: 0,
    maxBodyBytes: MiB,
    logger: silentLogger,
  });
  const inFlight = post(`${server.url}/ingest`, JSON.stringify(makeMetric()));
  await inside;
  let closed = false;
  const closing = server.close().then(() => (closed = true));
  const refused = await fetch(`${server.url}/health`).then(
    () => 'answered',
    () => 'refused',
  );
  assert.equal(refused, 'refused');
  assert.equal(closed, false, 'close() waits while a request is in flight');
  release();
  const res = await inFlight;
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { status: string }).status, 'accepted');
  await closing;
  assert.equal(await real.countMetrics(), 1);
  await real.close();
});

describe('scripts/ingest-server.ts', () => {
  const script = fileURLToPath(new URL('../../scripts/ingest-server.ts', import.meta.url));
  const tsx = import.meta.resolve('tsx');

  function run(env: Record<string, string>) {
    // cwd is an empty directory so that no .env file is read; env is given whole.
    const child = spawn(process.execPath, ['--import', tsx, script], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      child.on('exit', (code) => resolve({ code, stdout, stderr })),
    );
    const listening = new Promise<string>((resolve, reject) => {
      child.stdout.on('data', () => {
        const m = /listening on (http:\/\/\S+)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`exited before listening: ${stderr}`)));
    });
    listening.catch(() => {});
    return { child, exited, listening };
  }

  test('serves on port 0, stores a posted result, and on SIGTERM stops cleanly with exit 0', async () => {
    const db = join(dir, 'smoke.sqlite');
    const seed = openSqliteStore(db);
    await seed.insertModel(makeModel());
    await seed.close();
    const { child, exited, listening } = run({ INGEST_API_KEY: KEY, INGEST_PORT: '0', LLM_BENCH_DB: db });
    const url = await listening;
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const res = await post(`${url}/ingest`, JSON.stringify(makeMetric()));
    assert.deepEqual([res.status, ((await res.json()) as { status: string }).status], [200, 'accepted']);
    assert.equal((await post(`${url}/ingest`, '{', { 'x-api-key': 'wrong' })).status, 401);
    child.kill('SIGTERM');
    const { code, stdout, stderr } = await exited;
    assert.equal(code, 0);
    assert.match(stdout, /Ingest server stopping \(SIGTERM\)/);
    assert.match(stdout, /Ingest in the last \d+ min: 1 accepted, 0 duplicate, 0 rejected, 0 invalid, 1 unauthorized, 0 failed/);
    assert.match(stdout, /Ingest server stopped/);
    assert.match(stderr, /missing or wrong API key/, 'a refused request is logged');
    assert.doesNotMatch(stdout + stderr, new RegExp(KEY));
    const check = openSqliteStore(db);
    assert.equal(await check.countMetrics(), 1);
    await check.close();
  });

  test('refuses to start without INGEST_API_KEY (exit 2, naming the variable)', async () => {
    const { code, stderr } = await run({ INGEST_PORT: '0', LLM_BENCH_DB: join(dir, 'nokey.sqlite') }).exited;
    assert.equal(code, 2);
    assert.match(stderr, /INGEST_API_KEY is not set/);
  });

  test('refuses to start with a key under 16 characters, or without a key on a public address (exit 2)', async () => {
    const short = await run({ INGEST_API_KEY: 'short-key', INGEST_PORT: '0', LLM_BENCH_DB: join(dir, 'short.sqlite') }).exited;
    assert.equal(short.code, 2);
    assert.match(short.stderr, /INGEST_API_KEY must be at least 16 characters/);
    assert.doesNotMatch(short.stderr, /short-key/);
    const open = await run({ INGEST_ALLOW_NO_KEY: 'true', INGEST_HOST: '0.0.0.0', INGEST_PORT: '0', LLM_BENCH_DB: join(dir, 'open.sqlite') }).exited;
    assert.equal(open.code, 2);
    assert.match(open.stderr, /INGEST_HOST must then be a loopback address/);
  });

  test('a key pasted into INGEST_PORT is not printed by the config error', async () => {
    const { code, stderr } = await run({ INGEST_API_KEY: KEY, INGEST_PORT: KEY }).exited;
    assert.equal(code, 2);
    assert.match(stderr, /INGEST_PORT must be an integer/);
    assert.doesNotMatch(stderr, new RegExp(KEY));
  });

  test('behind a proxy: INGEST_TRUSTED_PROXIES is said at start-up, and a bad entry is exit 2 naming it', async () => {
    const db = join(dir, 'proxied.sqlite');
    const { child, exited, listening } = run({ INGEST_API_KEY: KEY, INGEST_PORT: '0', LLM_BENCH_DB: db, INGEST_TRUSTED_PROXIES: '127.0.0.1,fd00::/8' });
    await listening;
    child.kill('SIGTERM');
    const started = await exited;
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /listening on .*client addresses forwarded by 127\.0\.0\.1, fd00::\/8/);
    const bad = await run({ INGEST_API_KEY: KEY, INGEST_PORT: '0', LLM_BENCH_DB: db, INGEST_TRUSTED_PROXIES: 'proxy.example' }).exited;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /INGEST_TRUSTED_PROXIES must list IP addresses or CIDRs.*\(got "proxy\.example"\)/);
  });

  test('exits 2 on a bad INGEST_PORT, naming the variable and the value', async () => {
    const { code, stderr } = await run({ INGEST_API_KEY: KEY, INGEST_PORT: 'eighty' }).exited;
    assert.equal(code, 2);
    assert.match(stderr, /INGEST_PORT must be an integer .* \(got "eighty"\)/);
  });
});
