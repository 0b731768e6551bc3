// Load benchmark of the ingest server (npm run bench:ingest): the real server script, in its
// own process, on loopback with the embedded SQLite store, posted valid metrics documents
// with a distinct run_id each by autocannon. Prints accepted req/s, latency percentiles and
// failure counts; asserts nothing. Targets on the 2-core development machine: ≥ 2,000
// accepted/s, p99 < 25 ms, no 5xx.
//
//   node --import tsx test/perf/ingest-load.ts [--duration 30] [--connections 16]
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeMetric, makeModel } from '../fixtures.ts';
import { startIngestServer } from './ingest-server-process.ts';

// autocannon ships no type declarations; this is the part of its API used here.
interface Histogram {
  average: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}
interface AutocannonResult {
  duration: number;
  latency: Histogram;
  requests: Histogram & { total: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  statusCodeStats: Record<string, { count: number }>;
}
interface AutocannonRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}
type Autocannon = (options: {
  url: string;
  connections: number;
  duration: number;
  requests: Array<
    AutocannonRequest & {
      setupRequest?: (req: AutocannonRequest) => AutocannonRequest;
      onResponse?: (status: number, body: string) => void;
    }
  >;
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '30' },
    connections: { type: 'string', default: '16' },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const KEY = 'bench-ingest-key-000000';
const MODELS = ['llama-3.3-70b-versatile', 'llama-3.1-8b-instant', 'qwen-qwq-32b', 'gemma2-9b-it'];

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-ingest-load-'));
const db = join(dir, 'load.sqlite');
const seed = openSqliteStore(db);
for (const id of MODELS) await seed.insertModel(makeModel({ model_id: id }));
await seed.close();

const server = await startIngestServer(dir, { INGEST_API_KEY: KEY, INGEST_PORT: '0', LLM_BENCH_DB: db });
const { child, url, exited } = server;

// One template, with run_id and run_ts replaced per request: building a fresh document per
// request in this process would measure the load generator rather than the server.
const template = JSON.stringify(makeMetric({ run_id: '__RUN_ID__', runner: 'bench-load' }));
let sent = 0;
let accepted = 0;
let duplicate = 0;
const other = new Map<number, number>();
const started = Date.now();
const before = loadavg();

const result = await autocannon({
  url,
  connections,
  duration,
  requests: [
    {
      method: 'POST',
      path: '/ingest',
      headers: { 'content-type': 'application/json', 'x-api-key': KEY },
      setupRequest: (req) => {
        sent += 1;
        const model = MODELS[sent % MODELS.length]!;
        const body = template
          .replace('__RUN_ID__', `load-${started}-${sent}`)
          .replace('"llama-3.3-70b-versatile"', JSON.stringify(model))
          .replace('2026-11-20T10:00:00.000Z', new Date(started + sent).toISOString());
        return { ...req, body };
      },
      onResponse: (status, body) => {
        if (status === 200 && body.includes('"accepted"')) accepted += 1;
        else if (status === 200 && body.includes('"duplicate"')) duplicate += 1;
        else other.set(status, (other.get(status) ?? 0) + 1);
      },
    },
  ],
});
const after = loadavg();

child.kill('SIGTERM');
const code = await exited;
const check = openSqliteStore(db);
const stored = await check.countMetrics();
await check.close();
rmSync(dir, { recursive: true, force: true });

const fiveXX = Object.entries(result.statusCodeStats)
  .filter(([s]) => Number(s) >= 500)
  .reduce((n, [, v]) => n + Number(v.count), 0);
const f = (n: number) => n.toFixed(2);
console.log(`ingest load: ${duration} s, ${connections} connections, POST /ingest with a distinct run_id each, SQLite store`);
console.log(`  machine: ${availableParallelism()} cores, load average ${before.map(f).join(' ')} before, ${after.map(f).join(' ')} after`);
console.log(`  accepted:        ${accepted} (${(accepted / result.duration).toFixed(0)} /s)  [target ≥ 2000 /s]`);
console.log(`  latency:         p50 ${result.latency.p50} ms, p90 ${result.latency.p90} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms  [target p99 < 25 ms]`);
console.log(`  non-2xx:         ${result.non2xx} (5xx: ${fiveXX})  [target 5xx = 0]`);
console.log(`  other answers:   ${JSON.stringify(Object.fromEntries(other))}, duplicates ${duplicate}, errors ${result.errors}, timeouts ${result.timeouts}`);
console.log(`  stored rows:     ${stored} (accepted ${accepted})`);
console.log(`  server exit:     ${code}; its last line: ${server.output().trim().split('\n').at(-1)}`);
