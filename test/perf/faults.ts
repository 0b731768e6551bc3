// Fault and attack figures of the ingest server (npm run bench:faults), the slow half of
// test/ingest/faults.test.ts: the real server script in its own process, on loopback, with
// the SQLite store, put through what issue 13 found. Prints what it measured; asserts nothing.
//
//   1. another process holds the SQLite write lock for 5 s: how long /health takes to answer
//      meanwhile, and with what;
//   2. 300 unauthenticated connections each announcing a 1 MiB body: the server's RSS;
//   3. 1,100 idle connections from one address (127.0.0.2): how long a runner on another
//      address (127.0.0.1) waits for its answer;
//   4. /runner-config asked for 20,000 distinct providers: answers and RSS;
//   5. a result with 200,000 gaps between tokens: how long its answer takes;
//   6. 300 wrong keys and 300 oversized bodies: how many journal lines they cost.
//
//   node --import tsx test/perf/faults.ts
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeMetric, makeModel } from '../fixtures.ts';
import { startIngestServer } from './ingest-server-process.ts';

const KEY = 'bench-faults-key-0123456789abcdef0123';
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-faults-'));
const db = join(dir, 'faults.sqlite');
const seed = openSqliteStore(db);
await seed.insertModel(makeModel());
await seed.close();

const server = await startIngestServer(dir, { INGEST_API_KEY: KEY, INGEST_PORT: '0', LLM_BENCH_DB: db });
const { child, url } = server;
const port = Number(new URL(url).port);
const before = loadavg();

function rssMiB(): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

async function status(path: string, init: RequestInit = {}): Promise<number> {
  try {
    const res = await fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(20_000) });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

const post = (path: string, body: string, key = KEY) =>
  status(path, { method: 'POST', body, headers: { 'x-api-key': key, 'content-type': 'application/json' } });
const serverLines = () => server.output().split('\n').filter(Boolean).length;
const f1 = (n: number) => n.toFixed(1);

// 1. The lock.
{
  const other = new DatabaseSync(db);
  other.exec('BEGIN IMMEDIATE');
  const answers: Array<[number, number]> = [];
  const until = performance.now() + 5000;
  const write = timed(() => post('/ingest', JSON.stringify({ ...makeMetric(), run_ts: new Date().toISOString(), gen_ts: undefined })));
  while (performance.now() < until) answers.push(await timed(() => status('/health')));
  other.exec('ROLLBACK');
  other.close();
  const [writeStatus, writeMs] = await write;
  const slowest = Math.max(...answers.map(([, ms]) => ms));
  const codes = [...new Set(answers.map(([s]) => s))].join('/');
  console.log(`1. write lock held 5 s by another process: ${answers.length} /health answers (${codes}), slowest ${f1(slowest)} ms; a POST meanwhile: ${writeStatus} after ${f1(writeMs)} ms`);
}

// 2. Unauthenticated bodies.
{
  const rss0 = rssMiB();
  const sockets: Socket[] = [];
  let answered = 0;
  for (let i = 0; i < 300; i++) {
    const s = connect({ port, host: '127.0.0.1', localAddress: `127.0.1.${1 + (i % 200)}` });
    s.on('error', () => {});
    s.on('data', () => (answered += 1));
    s.write(`POST /ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${1024 * 1024}\r\n\r\n`);
    s.write(Buffer.alloc(512 * 1024, 0x20));
    sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 2000));
  console.log(`2. 300 unauthenticated connections announcing 1 MiB bodies (512 KiB sent each): RSS ${f1(rss0)} → ${f1(rssMiB())} MiB; answered before their bodies: ${answered}`);
  for (const s of sockets) s.destroy();
}

// 3. A connection flood from one address.
{
  const flood: Socket[] = [];
  for (let i = 0; i < 1100; i++) {
    const s = connect({ port, host: '127.0.0.1', localAddress: '127.0.0.2' });
    s.on('error', () => {});
    flood.push(s);
  }
  await new Promise((r) => setTimeout(r, 1000));
  const open = flood.filter((s) => !s.destroyed && !s.closed).length;
  const [code, ms] = await timed(() => status('/runner-config?provider=groq', { headers: { 'x-api-key': KEY } }));
  console.log(`3. 1,100 idle connections from 127.0.0.2 (${open} still open after 1 s): a runner on 127.0.0.1 got ${code} in ${f1(ms)} ms`);
  for (const s of flood) s.destroy();
}

// 4. Providers.
{
  const rss0 = rssMiB();
  const codes = new Map<number, number>();
  for (let i = 0; i < 20_000; i++) {
    const c = await status(`/runner-config?provider=p${i}-${'x'.repeat(40)}`, { headers: { 'x-api-key': KEY } });
    codes.set(c, (codes.get(c) ?? 0) + 1);
  }
  console.log(`4. /runner-config for 20,000 distinct providers: answers ${JSON.stringify(Object.fromEntries(codes))}; RSS ${f1(rss0)} → ${f1(rssMiB())} MiB`);
}

// 5. Gaps.
{
  const doc = { ...JSON.parse(JSON.stringify(makeMetric())), run_ts: new Date().toISOString(), gen_ts: undefined, times_between_tokens: new Array(200_000).fill(0.01) };
  const body = JSON.stringify(doc);
  const [code, ms] = await timed(() => post('/ingest', body));
  console.log(`5. a result with 200,000 gaps (${f1(body.length / 1024)} KiB): ${code} in ${f1(ms)} ms`);
}

// 6. Journal lines.
{
  const lines0 = serverLines();
  for (let i = 0; i < 300; i++) await post('/ingest', '{}', `wrong-key-${i}-000000000000`);
  const lines1 = serverLines();
  const big = 'x'.repeat(1024 * 1024 + 1);
  for (let i = 0; i < 300; i++) await post('/ingest', big);
  console.log(`6. 300 wrong keys: ${lines1 - lines0} journal lines; 300 oversized bodies: ${serverLines() - lines1} journal lines (20 warning lines a minute in all)`);
}

child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));
console.log(`   the server wrote ${serverLines()} lines in all; its summary: ${server.output().split('\n').find((l) => l.includes('Ingest in the last')) ?? '(none)'}`);
rmSync(dir, { recursive: true, force: true });
console.log(`machine: ${availableParallelism()} cores, load average ${before.map((n) => n.toFixed(2)).join(' ')} before, ${loadavg().map((n) => n.toFixed(2)).join(' ')} after`);
