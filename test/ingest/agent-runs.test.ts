// Agent runs from remote runners (SPEC 4.6, 9): POST /ingest/agent-run and `agent_run` items in
// /ingest/batch, through the real HTTP server, on SQLite and the MongoDB stand-in; and the
// remote runner's sink, which delivers them or spools them like metrics and errors.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { systemClock } from '../../lib/bench/clock.ts';
import { createRemoteRunner } from '../../lib/ingest/client.ts';
import { createIngestHandler, listenIngest, type IngestServer } from '../../lib/ingest/handler.ts';
import { silentLogger } from '../../lib/log.ts';
import { capResult, runAgent } from '../../lib/tinyfish/run.ts';
import type { AgentRunDoc } from '../../lib/store/documents.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeModel } from '../fixtures.ts';
import { makeAgentRun, makeMetric } from './recent-fixtures.ts';

const KEY = 'agent-run-ingest-key-7a3f90';
const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-ingest-agent-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const backends: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(join(dir, `a-${Math.random().toString(36).slice(2)}.sqlite`))],
  ['mongodb (mingo stand-in)', async () => createMongoStore(mingoCollections(), { location: 'memory' })],
];

/** A store with the automation `pricing-page` and a chat model enabled, served over HTTP on port 0. */
async function serve(store: Store): Promise<IngestServer> {
  await store.insertModel(makeModel({ provider: 'tinyfish', model_id: 'pricing-page', misc: { url: 'https://example.org', goal: 'find the prices' } }));
  await store.insertModel(makeModel({ provider: 'tinyfish', model_id: 'retired-flow', enabled: false }));
  await store.insertModel(makeModel());
  const handler = createIngestHandler({ store, config, logger: silentLogger });
  return listenIngest(handler, { host: '127.0.0.1', port: 0, maxBodyBytes: 1024 * 1024, logger: silentLogger });
}

/** Runs fn against a fresh store served over HTTP, then closes both. */
async function withServer(open: () => Promise<Store>, fn: (store: Store, server: IngestServer) => Promise<void>): Promise<void> {
  const store = await open();
  const server = await serve(store);
  try {
    await fn(store, server);
  } finally {
    await server.close();
    await store.close();
  }
}

async function post(server: IngestServer, path: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A recent run (the server bounds dates to the last year), as lib/tinyfish/run.ts builds it. */
function run(overrides: Partial<AgentRunDoc> = {}): AgentRunDoc {
  return makeAgentRun({ started_at: new Date(Date.now() - 3_600_000), scenario_id: 'agent-default-v1', automation: 'pricing-page', ...overrides });
}

for (const [backend, open] of backends) {
  describe(`agent runs through the ingest server on ${backend}`, () => {
    test('POST /ingest/agent-run stores the run as sent, once per run_id', async () => {
      await withServer(open, async (store, server) => {
        const doc = run({ status: 'failed', error: 'TinyFish reported FAILED', error_kind: 'run_failed', tinyfish_status: 'FAILED', result: null });
        const first = await post(server, '/ingest/agent-run', doc);
        assert.equal(first.status, 200, JSON.stringify(first.json));
        assert.deepEqual(first.json, { status: 'accepted', run_id: doc.run_id });
        const again = await post(server, '/ingest/agent-run', doc);
        assert.deepEqual(again.json, { status: 'duplicate', run_id: doc.run_id });
        const stored = await store.recentAgentRuns({});
        assert.equal(stored.length, 1);
        assert.deepEqual(stored[0], doc);
      });
    });

    test('a bad field is a 400 naming it; an automation the catalog does not have enabled is a 422', async () => {
      await withServer(open, async (store, server) => {
        const bad = await post(server, '/ingest/agent-run', { ...run(), status: 'maybe' });
        assert.equal(bad.status, 400);
        assert.equal((bad.json.error as { field: string }).field, 'status');
        const noId = await post(server, '/ingest/agent-run', { ...run(), run_id: undefined });
        assert.equal((noId.json.error as { field: string }).field, 'run_id');
        const huge = await post(server, '/ingest/agent-run', { ...run(), result: 'x'.repeat(70 * 1024) });
        assert.equal((huge.json.error as { field: string }).field, 'result');
        // A clock gone wrong on the runner: a run that ended before it began measured nothing.
        const started = new Date(Date.now() - 3_600_000);
        const backwards = await post(server, '/ingest/agent-run', run({ started_at: started, finished_at: new Date(started.getTime() - 1000) }));
        assert.equal(backwards.status, 400);
        assert.equal((backwards.json.error as { field: string }).field, 'finished_at');
        const off = await post(server, '/ingest/agent-run', run({ automation: 'retired-flow' }));
        assert.equal(off.status, 422);
        assert.equal(off.json.code, 'model_disabled');
        const unknown = await post(server, '/ingest/agent-run', run({ automation: 'nowhere' }));
        assert.equal(unknown.json.code, 'model_unknown');
        assert.equal((await store.recentAgentRuns({})).length, 0);
      });
    });

    test('what run.ts stores arrives whole: a result cut at 64 KiB, a post with only SPEC 4.6 fields; a key in the error never does', async () => {
      await withServer(open, async (store, server) => {
        // A scraped result over the cap is its JSON text cut at 64 KiB (capResult): full of quotes,
        // so its own JSON is larger than 64 KiB, and the server must measure the string itself.
        const { result, truncated } = capResult({ items: Array.from({ length: 3000 }, (_, i) => ({ name: `item "${i}"`, price: i })) });
        assert.ok(truncated);
        const cut = run({ result, result_truncated: true });
        const r = await post(server, '/ingest/agent-run', cut);
        assert.equal(r.status, 200, JSON.stringify(r.json));
        assert.equal((await store.getAgentRun(cut.run_id))?.result, result);

        const secret = run({ status: 'failed', error: 'Run of pricing-page sent ERROR: upstream said Authorization: Bearer sk-proj-abcdefghijklmnop0123456789', error_kind: 'run_failed' });
        assert.equal((await post(server, '/ingest/agent-run', secret)).status, 200);
        const stored = await store.getAgentRun(secret.run_id);
        assert.doesNotMatch(stored!.error!, /sk-proj-abcdefghijklmnop0123456789/);
        assert.match(stored!.error!, /upstream said/);

        const { event_count: _count, endpoint: _endpoint, ...specShaped } = run();
        const bare = await post(server, '/ingest/agent-run', specShaped);
        assert.equal(bare.status, 200, JSON.stringify(bare.json));
        const read = await store.getAgentRun(specShaped.run_id);
        assert.deepEqual([read?.event_count, read?.endpoint], [null, 'run-sse']);

        const future = await post(server, '/ingest/agent-run', run({ finished_at: new Date('9999-01-01T00:00:00Z') }));
        assert.equal((future.json.error as { field: string }).field, 'finished_at');
      });
    });

    test('a run of a mock automation id is simulated even when the post leaves mock out', async () => {
      await withServer(open, async (store, server) => {
        await store.insertModel(makeModel({ provider: 'tinyfish', model_id: 'mock-steps-4', misc: { url: 'https://example.org', goal: 'simulate' } }));
        const { mock: _mock, ...doc } = run({ automation: 'mock-steps-4' });
        const r = await post(server, '/ingest/agent-run', doc);
        if (store.kind === 'mongodb') assert.equal(r.json.code, 'mock_refused');
        else assert.equal((await store.getAgentRun(doc.run_id))?.mock, true);
      });
    });

    test('a simulated run is refused with a 422 on MongoDB and stored on SQLite', async () => {
      await withServer(open, async (store, server) => {
        const r = await post(server, '/ingest/agent-run', run({ mock: true }));
        if (store.kind === 'mongodb') {
          assert.equal(r.status, 422);
          assert.equal(r.json.code, 'mock_refused');
        } else {
          assert.equal(r.status, 200);
        }
      });
    });

    test('/ingest/batch takes agent_run items beside metric items, each answered in order', async () => {
      await withServer(open, async (store, server) => {
        const a = run();
        const m = makeMetric({ run_ts: new Date(Date.now() - 60_000) });
        const r = await post(server, '/ingest/batch', {
          items: [
            { type: 'metric', doc: m },
            { type: 'agent_run', doc: a },
            { type: 'agent_run', doc: a },
            { type: 'agent_run', doc: { ...run(), started_at: 'yesterday' } },
          ],
        });
        assert.equal(r.status, 200, JSON.stringify(r.json));
        const statuses = (r.json.results as Array<{ status: string }>).map((x) => x.status);
        assert.deepEqual(statuses, ['accepted', 'accepted', 'duplicate', 'invalid']);
        assert.equal((await store.recentAgentRuns({})).length, 1);
        assert.equal(await store.countMetrics(), 1);
      });
    });
  });
}

describe('agent runs built by lib/tinyfish/run.ts', () => {
  test('a completed and a failed simulated run are stored through POST /ingest/agent-run field for field (SQLite keeps mock runs)', async () => {
    await withServer(
      async () => openSqliteStore(join(dir, `real-${Math.random().toString(36).slice(2)}.sqlite`)),
      async (store, server) => {
        for (const automation of ['mock-start-10ms-steps-2-step-10ms', 'mock-fail-start-10ms-steps-1-step-10ms']) {
          await store.insertModel(makeModel({ provider: 'tinyfish', model_id: automation, misc: { url: 'https://example.org', goal: 'find the prices' } }));
          const doc = await runAgent(
            { automation, misc: { url: 'https://example.org', goal: 'find the prices' }, scenarioId: 'agent-default-v1', inputs: {} },
            { config, clock: systemClock, sweepSignal: new AbortController().signal, sweepStartedAt: new Date() },
          );
          const r = await post(server, '/ingest/agent-run', doc);
          assert.equal(r.status, 200, JSON.stringify(r.json));
          const [stored] = await store.recentAgentRuns({ automation });
          assert.deepEqual(stored, doc);
        }
        assert.deepEqual((await store.recentAgentRuns({})).map((d) => d.status).sort(), ['completed', 'failed']);
      },
    );
  });
});

describe('the remote runner sends agent runs', () => {
  test('delivers through POST /ingest/agent-run; spools while the server is away, then flushes the spool in a batch', async () => {
    const store = openSqliteStore(join(dir, 'client.sqlite'));
    const server = await serve(store);
    const spoolDir = mkdtempSync(join(dir, 'spool-'));
    const runnerFor = (url: string) =>
      createRemoteRunner(loadConfig({ env: { INGEST_API_URL: url, INGEST_API_KEY: KEY, INGEST_SPOOL_DIR: spoolDir }, dotenvPath: false }), { logger: silentLogger });
    try {
      const direct = run();
      assert.equal(await runnerFor(server.url).sink.insertAgentRun(direct), 'stored');

      // Nothing listens on port 9 of the loopback: the run is kept in the spool.
      const later = run();
      const away = runnerFor('http://127.0.0.1:9');
      assert.equal(await away.sink.insertAgentRun(later), 'stored');
      assert.deepEqual(readdirSync(spoolDir).filter((n) => n.endsWith('.json')), [`agent_run-${later.run_id}.json`]);

      const flushed = await runnerFor(server.url).flushSpool();
      assert.deepEqual(flushed, { delivered: 1, dropped: 0, remaining: 0 });
      const stored = await store.recentAgentRuns({ limit: 10 });
      assert.deepEqual(new Set(stored.map((s) => s.run_id)), new Set([direct.run_id, later.run_id]));
      assert.deepEqual(stored.find((s) => s.run_id === later.run_id), later);
    } finally {
      await server.close();
      await store.close();
    }
  });
});
