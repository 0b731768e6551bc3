// No-loss benchmark of remote delivery (npm run bench:ingest-noloss): a runner delivers 1,000
// results through createRemoteRunner while the ingest server suffers, one after the other:
// a SIGKILL; another process holding the SQLite write lock for 3 s; its SQLite file replaced
// by a fresh copy (taken under that lock, so it holds every acknowledged row); a disk that
// fills up (the server restarted under `ulimit -f`, then restarted without it); a last
// SIGKILL. Results that cannot be delivered go to the spool; after a final flush, every
// run_id must be stored exactly once. Prints the counts; asserts nothing.
//
//   node --import tsx test/perf/ingest-noloss.ts [--results 1000] [--writers 4]
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lib/config.ts';
import { createRemoteRunner, type FlushResult } from '../../lib/ingest/client.ts';
import { createLogger } from '../../lib/log.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeModel } from '../fixtures.ts';
import { makeMetric } from '../ingest/recent-fixtures.ts';

const { values } = parseArgs({
  options: {
    results: { type: 'string', default: '1000' },
    writers: { type: 'string', default: '4' },
    'pace-ms': { type: 'string', default: '10' },
  },
});
const total = Number(values.results);
const writers = Number(values.writers);
// Each writer waits this long between results, so that results keep arriving while the
// server is down, coming back, and up again (a sweep delivers a few results per second).
const paceMs = Number(values['pace-ms']);
const KEY = 'bench-noloss-key-000000';
const MODEL = 'llama-3.3-70b-versatile';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-ingest-noloss-'));
const db = join(dir, 'noloss.sqlite');
const spoolDir = join(dir, 'spool');
const seed = openSqliteStore(db);
await seed.insertModel(makeModel({ model_id: MODEL }));
await seed.close();

// The server must come back on the same port, as a restarted service would.
const port = await new Promise<number>((resolve) => {
  const probe = createServer().listen(0, '127.0.0.1', () => {
    const p = (probe.address() as AddressInfo).port;
    probe.close(() => resolve(p));
  });
});

/** What the servers wrote to stderr (warnings and errors), to count the faults they noticed. */
let serverErrors = '';
const script = fileURLToPath(new URL('../../scripts/ingest-server.ts', import.meta.url));
/** Starts the server; with fileSizeKiB, under a file-size limit (writes past it fail with EFBIG: a full disk). */
function startServer(fileSizeKiB?: number): Promise<ChildProcess> {
  const node = [process.execPath, '--import', import.meta.resolve('tsx'), script].map((a) => `'${a}'`).join(' ');
  // dash's ulimit -f counts 512-byte blocks.
  const command = fileSizeKiB ? `ulimit -f ${fileSizeKiB * 2}; exec ${node}` : `exec ${node}`;
  const child = spawn('/bin/sh', ['-c', command], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', INGEST_API_KEY: KEY, INGEST_PORT: String(port), LLM_BENCH_DB: db },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    serverErrors += d;
  });
  return new Promise((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('listening on')) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening: ${out}`)));
  });
}

function kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Holds the write lock from another process's connection for ms, as a sweep or discovery might. */
async function holdLock(ms: number, during?: () => void): Promise<void> {
  const other = new DatabaseSync(db);
  other.exec('BEGIN IMMEDIATE');
  try {
    during?.();
    await pause(ms);
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
}

/**
 * Replaces the file under the running server with a copy of itself, as an operator restoring
 * a fresh backup would. The copy is taken while the write lock is held, so it holds every row
 * acknowledged so far; what the server writes after the swap must reach the new file.
 */
function replaceFile(): Promise<void> {
  return holdLock(500, () => {
    const copy = `${db}.copy`;
    const reader = new DatabaseSync(db);
    reader.exec(`VACUUM INTO '${copy}'`);
    reader.close();
    renameSync(copy, db);
  });
}

const faultLog: string[] = [];
const faults: Array<[string, () => Promise<void>]> = [
  ['SIGKILL', async () => {
    await kill(server);
    await pause(200);
    server = await startServer();
  }],
  ['write lock held 3 s by another process', () => holdLock(3000)],
  ['file replaced by a copy', replaceFile],
  ['disk full (ulimit -f), then freed', async () => {
    await kill(server, 'SIGTERM');
    const used = [db, `${db}-wal`].reduce((n, f) => n + (statSync(f, { throwIfNoEntry: false })?.size ?? 0), 0);
    server = await startServer(Math.ceil(used / 1024) + 64);
    await pause(2000);
    await kill(server, 'SIGTERM');
    server = await startServer();
  }],
  ['SIGKILL', async () => {
    await kill(server);
    await pause(200);
    server = await startServer();
  }],
];

let spooledBySink = 0;
let warnings = 0;
const logger = createLogger({
  level: 'info',
  write: (level, line) => {
    if (level === 'warn' || level === 'error') warnings += 1;
    if (line.includes('kept in')) spooledBySink += 1;
  },
});
const config = loadConfig({
  env: { INGEST_API_URL: `http://127.0.0.1:${port}`, INGEST_API_KEY: KEY, INGEST_SPOOL_DIR: spoolDir },
  dotenvPath: false,
});
const runner = createRemoteRunner(config, { logger, timeoutMs: 2000 });

const before = loadavg();
const started = performance.now();
let server = await startServer();
// Fault k starts when result (k + 1) / (faults + 1) of the way through is due.
const faultAt = new Map(faults.map((f, k) => [Math.floor((total * (k + 1)) / (faults.length + 1)), f] as const));
const flushes: FlushResult[] = [];
let restarts: Promise<void> = Promise.resolve();
let sinkErrors = 0;
let next = 0;

async function writer(): Promise<void> {
  while (next < total) {
    const i = next++;
    const fault = faultAt.get(i);
    if (fault) {
      // Injected with other writers' requests in flight; then the runner flushes its spool
      // while the writers go on. A fault waits until the server is back from the one before.
      restarts = restarts.then(async () => {
        const t = performance.now();
        await fault[1]();
        faultLog.push(`${fault[0]} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
        flushes.push(await runner.flushSpool());
      });
    }
    const doc = makeMetric({ model_name: MODEL, run_id: `noloss-${i}`, runner: 'bench-noloss' });
    try {
      await runner.sink.insertMetric(doc);
    } catch {
      sinkErrors += 1;
    }
    await new Promise((r) => setTimeout(r, paceMs));
  }
}
await Promise.all(Array.from({ length: writers }, writer));
await restarts;
const final = await runner.flushSpool();
await runner.close();
const elapsed = (performance.now() - started) / 1000;
server.kill('SIGTERM');
await new Promise((r) => server.once('exit', r));

const check = openSqliteStore(db);
const rows = await check.recentMetrics('groq', MODEL, total * 2);
await check.close();
const counts = new Map<string, number>();
for (const r of rows) counts.set(r.run_id, (counts.get(r.run_id) ?? 0) + 1);
const missing = Array.from({ length: total }, (_, i) => `noloss-${i}`).filter((id) => !counts.has(id));
const twice = [...counts.values()].filter((n) => n > 1).length;
const leftInSpool = readdirSync(spoolDir).filter((n) => n.endsWith('.json')).length;
let rejectedFiles = 0;
try {
  rejectedFiles = readdirSync(join(spoolDir, 'rejected')).length;
} catch {
  // no rejected/ folder: nothing was refused
}
rmSync(dir, { recursive: true, force: true });

const sum = (k: keyof FlushResult) => flushes.reduce((n, f) => n + f[k], 0);
console.log(`ingest no-loss: ${total} results, ${writers} writers every ${paceMs} ms, ${elapsed.toFixed(1)} s; faults in order: ${faultLog.join('; ')}`);
console.log(`  machine: ${availableParallelism()} cores, load average ${before.map((n) => n.toFixed(2)).join(' ')} before`);
console.log(`  spooled by the sink (not acknowledged): ${spooledBySink}; sink errors: ${sinkErrors}; warning lines: ${warnings}`);
console.log(`  flushes after restarts: delivered ${sum('delivered')}, dropped ${sum('dropped')} (${flushes.map((f) => JSON.stringify(f)).join(', ')})`);
console.log(`  final flush: delivered ${final.delivered}, dropped ${final.dropped}, remaining ${final.remaining}`);
console.log(`  stored rows: ${rows.length}, distinct run_ids: ${counts.size}, missing: ${missing.length}, stored more than once: ${twice}`);
console.log(`  spool files left: ${leftInSpool}, rejected files: ${rejectedFiles}`);
const noticed = (re: RegExp) => serverErrors.split('\n').filter((l) => re.test(l)).length;
console.log(
  `  server lines: ${noticed(/was replaced/)} file replaced, ${noticed(/locked by another process/)} lock waits given up, ${noticed(/full|EFBIG|too large|disk I\/O/i)} disk full`,
);
console.log(`  every run_id stored exactly once: ${missing.length === 0 && twice === 0 && rows.length === total ? 'yes' : 'NO'}`);
