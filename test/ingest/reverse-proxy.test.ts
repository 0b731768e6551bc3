// The ingest server behind a real reverse proxy (issue 24): Debian's nginx, started here on
// 127.0.0.1 with the README's proxy settings, in front of a server with INGEST_TRUSTED_PROXIES
// naming it. Runners are told apart by their own addresses (127.0.0.2, 127.0.0.3: all of
// 127/8 is this machine), so limits, wrong-key throttling and log lines are per runner, not
// per proxy; a forwarding header from anyone but the proxy is ignored.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { createIngestHandler, listenIngest, type IngestServer } from '../../lib/ingest/handler.ts';
import { createLogger, type Level } from '../../lib/log.ts';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { makeModel } from '../fixtures.ts';
import { makeMetric } from './recent-fixtures.ts';

const NGINX = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' }).stdout.trim().split('\n')[0] || null;
const KEY = 'reverse-proxy-test-key-7c1e4b';
const RUNNER_A = '127.0.0.2';
const RUNNER_B = '127.0.0.3';
const PER_RUNNER = 2;

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Resolves once something accepts connections on port, or rejects when the process exits first. */
async function accepting(port: number, proc: ChildProcess, log: () => string): Promise<void> {
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`nginx exited with ${proc.exitCode}: ${log()}`);
    const up = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One request from a runner's own address; resolves with the status and the JSON answer. */
function send(
  url: string,
  options: { from: string; method?: string; path: string; key?: string; body?: unknown; headers?: Record<string, string> },
): Promise<{ status: number; headers: IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const req = request(
      `${url}${options.path}`,
      {
        method: options.method ?? (body ? 'POST' : 'GET'),
        localAddress: options.from,
        agent: false,
        headers: { 'content-type': 'application/json', ...(options.key ? { 'x-api-key': options.key } : {}), ...options.headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('the ingest server behind nginx', { skip: NGINX ? false : 'nginx is not installed (apt-get install nginx-light): the reverse-proxy test did not run' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'llm-bench-proxy-'));
  const lines: Array<{ level: Level; line: string }> = [];
  let store: Store;
  let server: IngestServer;
  let nginx: ChildProcess;
  let proxyUrl: string;
  // Results whose misc says hold wait here until released, so requests stay in flight.
  let release: () => void = () => {};
  let held = new Promise<void>((resolve) => (release = resolve));

  before(async () => {
    store = openSqliteStore(join(dir, 'proxy.sqlite'));
    await store.insertModel(makeModel());
    const gated = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'insertMetric') {
          return async (doc: MetricDoc) => {
            if (doc.misc?.hold) await held;
            return target.insertMetric(doc);
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const config = loadConfig({ env: { INGEST_API_KEY: KEY, INGEST_TRUSTED_PROXIES: '127.0.0.1' }, dotenvPath: false });
    const logger = createLogger({ level: 'debug', write: (level, line) => lines.push({ level, line }) });
    server = await listenIngest(createIngestHandler({ store: gated, config, logger }), {
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1 << 20,
      logger,
      maxConnectionsPerAddress: PER_RUNNER,
      trustedProxies: config.ingest.trustedProxies,
    });
    const port = await freePort();
    for (const sub of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, sub));
    // The README's nginx snippet, with the paths a test needs.
    writeFileSync(
      join(dir, 'nginx.conf'),
      `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 2m;
    location / {
      proxy_pass ${server.url};
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
    }
  }
}
`,
    );
    nginx = spawn(NGINX!, ['-p', dir, '-e', join(dir, 'error.log'), '-c', join(dir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    nginx.stderr!.on('data', (d) => (output += d));
    await accepting(port, nginx, () => output);
    proxyUrl = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    release();
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('wrong keys are throttled per runner, and the log names the runner, not the proxy', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await send(proxyUrl, { from: RUNNER_A, path: '/runner-config?provider=groq', key: `wrong-${i}-000000000000` })).status);
    assert.deepEqual(statuses, [...new Array(10).fill(401), 429]);
    assert.equal((await send(proxyUrl, { from: RUNNER_B, path: '/runner-config?provider=groq', key: 'wrong-b-000000000000' })).status, 401, 'runner B has its own allowance');
    assert.equal((await send(proxyUrl, { from: RUNNER_A, path: '/runner-config?provider=groq', key: KEY })).status, 200, 'the right key always passes');
    const refused = lines.filter((l) => /missing or wrong API key/.test(l.line));
    assert.ok(refused.some((l) => l.line.includes(`from ${RUNNER_A}:`)) && refused.some((l) => l.line.includes(`from ${RUNNER_B}:`)), refused.map((l) => l.line).join('\n'));
    assert.ok(!refused.some((l) => l.line.includes('from 127.0.0.1:')), 'no line names the proxy');
  });

  test('requests in flight are limited per runner: one runner at its limit does not hold back another', async () => {
    const holding = [0, 1].map(() => send(proxyUrl, { from: RUNNER_A, path: '/ingest', key: KEY, body: makeMetric({ misc: { hold: true } }) }));
    // Once both are in flight, a third from runner A is refused (until then it is simply stored).
    let third = 0;
    for (let i = 0; i < 200 && third !== 429; i++) {
      third = (await send(proxyUrl, { from: RUNNER_A, path: '/ingest', key: KEY, body: makeMetric() })).status;
      if (third !== 429) await new Promise((r) => setTimeout(r, 10));
    }
    assert.equal(third, 429, 'a third request from runner A while two are in flight');
    const other = await send(proxyUrl, { from: RUNNER_B, path: '/ingest', key: KEY, body: makeMetric() });
    assert.deepEqual([other.status, JSON.parse(other.body).status], [200, 'accepted']);
    release();
    for (const r of await Promise.all(holding)) assert.deepEqual([r.status, JSON.parse(r.body).status], [200, 'accepted']);
    held = Promise.resolve();
    assert.ok(lines.some((l) => l.line.includes(`more than ${PER_RUNNER} requests in flight from ${RUNNER_A}`)));
  });

  test('a spoofed X-Forwarded-For is ignored: sent through the proxy, and sent straight from an untrusted address', async () => {
    const through = await send(proxyUrl, { from: RUNNER_B, path: '/ingest', key: 'wrong-spoof-0000000000', body: makeMetric(), headers: { 'x-forwarded-for': '10.9.9.9' } });
    assert.equal(through.status, 401);
    const direct = await send(server.url, { from: '127.0.0.5', path: '/ingest', key: 'wrong-spoof-0000000000', body: makeMetric(), headers: { 'x-forwarded-for': '10.9.9.9', forwarded: 'for=10.9.9.9' } });
    assert.equal(direct.status, 401);
    const spoofed = lines.filter((l) => /POST \/ingest from .*missing or wrong API key/.test(l.line));
    assert.ok(spoofed.some((l) => l.line.includes(`from ${RUNNER_B}:`)), 'through the proxy: the runner, not its claim');
    assert.ok(spoofed.some((l) => l.line.includes('from 127.0.0.5:')), 'straight: the peer, not its claim');
    assert.ok(!lines.some((l) => l.line.includes('10.9.9.9')), 'the spoofed address is never used');
  });
});
