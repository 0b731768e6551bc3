// bench-once as a remote runner (SPEC 9): with INGEST_API_URL set, results go to the ingest
// server instead of a database; what cannot be delivered is spooled and delivered next run.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { createIngestHandler, listenIngest, type IngestServer } from '../../lib/ingest/handler.ts';
import { silentLogger } from '../../lib/log.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { makeModel } from '../fixtures.ts';

const KEY = 'remote-runner-test-key-42';
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-remote-'));
const spoolDir = join(dir, 'spool');
const script = new URL('../../scripts/bench-once.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');

function benchOnce(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', tsx, script, ...args], {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        INGEST_API_KEY: KEY,
        INGEST_SPOOL_DIR: spoolDir,
        // Never a database on the runner: a store write would mean remote mode was ignored.
        LLM_BENCH_DB: join(dir, 'must-not-exist', 'runner.sqlite'),
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `http://127.0.0.1:${port}`;
}

const spooled = () => readdirSync(spoolDir).filter((f) => f.endsWith('.json'));

describe('bench-once with INGEST_API_URL', () => {
  let store: Store;
  let server: IngestServer;
  before(async () => {
    store = openSqliteStore(join(dir, 'server.sqlite'));
    await store.insertModel(makeModel({ provider: 'mock', model_id: 'instant' }));
    await store.insertModel(makeModel({ provider: 'mock', model_id: 'instant-chunk-4' }));
    await store.insertModel(makeModel({ provider: 'mock', model_id: 'fail-500' }));
    const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
    server = await listenIngest(createIngestHandler({ store, config, logger: silentLogger }), {
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024 * 1024,
      logger: silentLogger,
    });
  });
  after(async () => {
    await server.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('takes its models from GET /runner-config and posts every result, success and error, to the server', async () => {
    const r = await benchOnce(['--provider', 'mock', '--json'], { INGEST_API_URL: server.url });
    assert.equal(r.code, 0, r.stderr);
    const { summary } = JSON.parse(r.stdout);
    assert.deepEqual([summary.ok, summary.failed], [2, 1]);
    assert.equal(await store.countMetrics({ provider: 'mock' }), 2);
    assert.equal(await store.countErrors({ provider: 'mock' }), 1);
    const [metric] = await store.recentMetrics('mock', 'instant-chunk-4', 1);
    assert.equal(metric!.mock, true);
    assert.ok(metric!.run_ts instanceof Date);
  });

  test('a remote runner needs --provider or a model list', async () => {
    const r = await benchOnce([], { INGEST_API_URL: server.url });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /needs --provider P or --models/);
  });

  test('a remote runner refuses TinyFish automations: their scenarios and intervals are in the store', async () => {
    for (const args of [['--provider', 'tinyfish'], ['--models', 'mock:instant,tinyfish:pricing-page']]) {
      const r = await benchOnce(args, { INGEST_API_URL: server.url });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /TinyFish automations run where the store is/);
    }
  });

  test('a runner whose key is refused (401) exits 1 saying so, and keeps its results in the spool', async () => {
    const ownSpool = join(dir, 'refused-spool');
    for (const args of [['--models', 'mock:instant', '--force'], ['--provider', 'mock']]) {
      const r = await benchOnce(args, { INGEST_API_URL: server.url, INGEST_API_KEY: 'not-the-right-key-0000', INGEST_SPOOL_DIR: ownSpool });
      assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /HTTP 401/);
      assert.doesNotMatch(r.stdout + r.stderr, /not-the-right-key/);
    }
    assert.equal(readdirSync(ownSpool).filter((f) => f.endsWith('.json')).length, 1, 'the measured result waits in the spool');
  });

  test('results that cannot be delivered are spooled, then delivered at the start of the next run', async () => {
    const before = await store.countMetrics({ provider: 'mock' });
    // A port nothing listens on: the server is down.
    const down = await benchOnce(['--models', 'mock:instant,mock:instant-chunk-4', '--force'], { INGEST_API_URL: await closedPortUrl() });
    assert.equal(down.code, 0, down.stderr);
    assert.equal(spooled().length, 2);
    assert.equal(await store.countMetrics({ provider: 'mock' }), before);

    const up = await benchOnce(['--models', 'mock:instant'], { INGEST_API_URL: server.url });
    assert.equal(up.code, 0, up.stderr);
    const said = (up.stdout + up.stderr).split('\n').filter((l) => /\bdelivered\b/.test(l));
    assert.equal(said.length, 1, `one spool summary: ${said.join(' | ')}`);
    assert.match(said[0]!, /^Spool \S+: 2 delivered, 0 refused \(moved to rejected\/\), 0 remaining$/);
    assert.equal(spooled().length, 0);
    assert.equal(await store.countMetrics({ provider: 'mock' }), before + 3);
  });
});
