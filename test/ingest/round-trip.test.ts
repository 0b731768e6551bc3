// A remote runner's row must arrive with the same fields a local run stores (SPEC 4.1, 9, 17):
// rows built by the real sweep are posted through the real handler and read back, field for
// field, on SQLite and on the MongoDB stand-in.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createPriceBook } from '../../lib/bench/cost.ts';
import type { SweepModel } from '../../lib/bench/due.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import { loadConfig } from '../../lib/config.ts';
import { createIngestHandler, type IngestResponse } from '../../lib/ingest/handler.ts';
import { silentLogger } from '../../lib/log.ts';
import type { ErrorDoc, MetricDoc } from '../../lib/store/documents.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { fixedAnswer } from '../fakes/fixed-answer.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeError, makeModel, sweepScenario } from '../fixtures.ts';

const KEY = 'round-trip-test-key-8d2e61';
const config = loadConfig({ env: { INGEST_API_KEY: KEY, RUNNER_NAME: 'edge-runner-1', BENCH_MAX_TOKENS: '64' }, dotenvPath: false });
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-round-trip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const PRICE = { input: 0.5, output: 1.5 };
/** Metric rows exactly as our sweep builds them: the published scenario and a probe scenario with a cache-defeat nonce, priced. */
async function sweepRows(): Promise<MetricDoc[]> {
  const rows: MetricDoc[] = [];
  const sink = {
    insertMetric: async (doc: MetricDoc) => (rows.push(doc), 'stored' as const),
    insertError: async (_doc: ErrorDoc) => 'stored' as const,
    insertAgentRun: async () => 'stored' as const,
  };
  const models: SweepModel[] = [
    { provider: 'groq', modelId: 'm1', misc: { price: PRICE }, scenario: sweepScenario('cloud-default-v1', null) },
    { provider: 'groq', modelId: 'm1', misc: { price: PRICE }, scenario: sweepScenario('cloud-long-v1', 'n-4f2a9c') },
  ];
  const r = await runSweep({
    config,
    models,
    sink,
    force: true,
    loadProvider: async () => fixedAnswer({ inputTokens: 21, outputTokens: 64 }),
    prices: createPriceBook([]),
  });
  assert.equal(r.summary.ok, 2, JSON.stringify(r.results.map((x) => x.error?.message)));
  return rows;
}

const backends: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(join(dir, `rt-${Math.random().toString(36).slice(2)}.sqlite`))],
  ['mongodb (mingo stand-in)', async () => createMongoStore(mingoCollections(), { location: 'memory' })],
];

type Post = (url: string, doc: unknown) => Promise<IngestResponse>;

/** A fresh store with groq/m1 enabled and the ingest handler over it; `post` sends what the remote runner sends, the JSON of a document (client.ts). */
async function withIngest(open: () => Promise<Store>, fn: (store: Store, post: Post) => Promise<void>): Promise<void> {
  const store = await open();
  try {
    await store.insertModel(makeModel({ provider: 'groq', model_id: 'm1' }));
    const handler = createIngestHandler({ store, config, logger: silentLogger });
    await fn(store, (url, doc) => handler({ method: 'POST', url, headers: { 'x-api-key': KEY }, body: JSON.stringify(doc) }));
  } finally {
    await store.close();
  }
}

for (const [backend, open] of backends) {
  describe(`ingest round trip on ${backend}`, () => {
    test('a row built by our sweep is stored through POST /ingest field for field, cost_usd and cache_defeat_nonce included', async () => {
      const rows = await sweepRows();
      assert.ok(rows.every((r) => typeof r.cost_usd === 'number' && r.cost_usd > 0), 'the sweep priced its rows');
      assert.equal(rows[1]!.cache_defeat_nonce, 'n-4f2a9c');
      await withIngest(open, async (store, post) => {
        for (const row of rows) {
          const res = await post('/ingest', row);
          assert.equal(res.status, 200, res.body);
          const stored = await store.getRun(row.run_id);
          assert.equal(stored?.outcome, 'ok');
          assert.deepEqual(stored.outcome === 'ok' ? stored.metric : null, row);
        }
      });
    });

    test('a cache-defeating row with cached input tokens is marked a cache hit on arrival even when the runner left the mark off; a mark, a served model or a rate limit of another shape is refused', async () => {
      const [, probe] = await sweepRows();
      // A lag below the threshold: this test is about the cache mark alone.
      const { evidence: _, ...unmarked } = { ...probe!, cached_input_tokens: 512, client_lag_ms: 0.5 };
      await withIngest(open, async (store, post) => {
        assert.equal((await post('/ingest', unmarked)).status, 200);
        const stored = await store.getRun(probe!.run_id);
        assert.deepEqual(stored?.outcome === 'ok' ? stored.metric.evidence : null, { cache_hit: true });
        const odd = await post('/ingest', { ...unmarked, run_id: 'other-1', evidence: { cache_hit: true, saturated: 'no' } });
        assert.equal(odd.status, 400, odd.body);
        const falseMark = await post('/ingest', { ...unmarked, run_id: 'other-2', evidence: { cache_hit: false } });
        assert.equal(falseMark.status, 400, falseMark.body);
        const longName = await post('/ingest', { ...unmarked, run_id: 'other-3', served_model: 'x'.repeat(201) });
        assert.equal(longName.status, 400, longName.body);
        const oddLimit = await post('/ingest', { ...unmarked, run_id: 'other-4', rate_limit: { requests_limit: 1, requests_remaining: 1, tokens_limit: null, tokens_remaining: null, retry_after_s: null, note: 'x' } });
        assert.equal(oddLimit.status, 400, oddLimit.body);
      });
    });

    test('a runner\'s lag and saturated mark are kept; a row whose lag passed the threshold is marked on arrival even when the runner left the mark off; other shapes are refused', async () => {
      const [row] = await sweepRows();
      const { evidence: _, ...base } = row!;
      await withIngest(open, async (store, post) => {
        const stored = async (runId: string) => {
          const r = await store.getRun(runId);
          return r?.outcome === 'ok' ? r.metric : null;
        };
        // As the runner sent it: its lag, and its mark (a runner may mark below our threshold).
        assert.equal((await post('/ingest', { ...base, run_id: 'lag-1', client_lag_ms: 1.25, evidence: { saturated: true } })).status, 200);
        assert.deepEqual([(await stored('lag-1'))?.client_lag_ms, (await stored('lag-1'))?.evidence], [1.25, { saturated: true }]);
        // Left off by the runner: marked from its lag.
        assert.equal((await post('/ingest', { ...base, run_id: 'lag-2', client_lag_ms: 40 })).status, 200);
        assert.deepEqual((await stored('lag-2'))?.evidence, { saturated: true });
        // Below the threshold, or not measured (an older runner): nothing marked, nothing invented.
        assert.equal((await post('/ingest', { ...base, run_id: 'lag-3', client_lag_ms: 0.3 })).status, 200);
        assert.deepEqual([(await stored('lag-3'))?.client_lag_ms, (await stored('lag-3'))?.evidence], [0.3, undefined]);
        const { client_lag_ms: __, ...old } = base;
        assert.equal((await post('/ingest', { ...old, run_id: 'lag-4' })).status, 200);
        assert.deepEqual([(await stored('lag-4'))?.client_lag_ms, (await stored('lag-4'))?.evidence], [undefined, undefined]);
        for (const [i, bad] of ([
          { client_lag_ms: -1 },
          { client_lag_ms: '3' },
          { client_lag_ms: null },
          { client_lag_ms: 1e12 },
          { evidence: { saturated: false } },
          { evidence: { saturated: 'yes' } },
          { evidence: { overloaded: true } },
        ] as const).entries()) {
          const res = await post('/ingest', { ...base, run_id: `lag-bad-${i}`, ...bad });
          assert.equal(res.status, 400, `${JSON.stringify(bad)}: ${res.body}`);
          assert.equal(await stored(`lag-bad-${i}`), null);
        }
        // An error row keeps its lag; a bad one is refused.
        const error = { ...makeError({ provider: 'groq', model_name: 'm1', ts: new Date(), error_kind: 'timeout' }), run_id: 'lag-err-1', client_lag_ms: 7.5 };
        assert.equal((await post('/ingest/error', error)).status, 200);
        const storedError = await store.getRun('lag-err-1');
        assert.equal(storedError?.outcome === 'failed' ? storedError.error.client_lag_ms : null, 7.5);
        assert.equal((await post('/ingest/error', { ...error, run_id: 'lag-err-2', client_lag_ms: -3 })).status, 400);
      });
    });

    test('every optional field our runner may write survives the trip with a non-null value', async () => {
      const [row] = await sweepRows();
      const full: MetricDoc = {
        ...row!,
        connection_reused: true,
        time_to_64_visible_tokens_seconds: 1.25,
        cost_usd: 0.000123,
        cache_defeat_nonce: 'n-77aa01',
        raw_finish_reason: 'end_turn',
        provider_latency_ms: 812,
        reasoning_tokens: 3,
        cached_input_tokens: 5,
        mock: false,
        // Our runner marks a cache-defeating row with cached tokens, and one timed while it lagged (SPEC 18).
        evidence: { cache_hit: true, saturated: true },
        client_lag_ms: 6.25,
        served_model: 'm1-2024-11-20',
        served_fingerprint: 'fp_50cad350e4',
        rate_limit: { requests_limit: 1000, requests_remaining: 998, tokens_limit: null, tokens_remaining: null, retry_after_s: null },
        provider_timings: { queue_s: 0.012, prompt_s: 0.002, completion_s: 0.05, total_s: 0.064 },
      };
      await withIngest(open, async (store, post) => {
        const res = await post('/ingest/batch', { items: [{ type: 'metric', doc: full }] });
        assert.equal(res.status, 200, res.body);
        const stored = await store.getRun(full.run_id);
        assert.deepEqual(stored?.outcome === 'ok' ? stored.metric : null, full);
      });
    });

    test('an error document built by our sweep is stored through POST /ingest/error field for field', async () => {
      const errors: ErrorDoc[] = [];
      const r = await runSweep({
        config: loadConfig({ env: { RUNNER_NAME: 'edge-runner-1', BENCH_MAX_ATTEMPTS: '1' }, dotenvPath: false }),
        models: [{ provider: 'groq', modelId: 'm1', misc: {}, scenario: sweepScenario('cloud-long-v1', null) }],
        sink: { insertMetric: async () => 'stored' as const, insertError: async (doc: ErrorDoc) => (errors.push(doc), 'stored' as const), insertAgentRun: async () => 'stored' as const },
        force: true,
        loadProvider: async () =>
          async function* () {
            throw Object.assign(new Error('429 Too Many Requests: rate limited, request id req_8f2c'), {
              status: 429,
              headers: new Headers({ 'x-ratelimit-limit-requests': '30', 'x-ratelimit-remaining-requests': '0', 'retry-after': '3' }),
            });
          },
      });
      assert.equal(r.summary.failed, 1);
      const [error] = errors;
      assert.equal(error?.error_kind, 'rate_limit');
      // SPEC 18: the 429's rate-limit headers travel with the error.
      assert.deepEqual(error.rate_limit, { requests_limit: 30, requests_remaining: 0, tokens_limit: null, tokens_remaining: null, retry_after_s: 3 });
      await withIngest(open, async (store, post) => {
        const res = await post('/ingest/error', error);
        assert.equal(res.status, 200, res.body);
        const stored = await store.getRun(error.run_id);
        assert.deepEqual(stored?.outcome === 'failed' ? stored.error : null, error);
      });
    });

    test('cost_usd must be a number of at least 0 and at most a bound, or null', async () => {
      const [row] = await sweepRows();
      await withIngest(open, async (store, post) => {
        const withCost = (cost: unknown, runId: string) => post('/ingest', { ...row, run_id: runId, cost_usd: cost });
        for (const bad of [-0.01, 1e9, '0.1']) {
          const res = await withCost(bad, `bad-${String(bad)}`);
          assert.equal(res.status, 400, `${String(bad)}: ${res.body}`);
          assert.equal((JSON.parse(res.body) as { error: { field: string } }).error.field, 'cost_usd');
        }
        assert.equal((await withCost(null, 'null-cost')).status, 200);
        const stored = await store.getRun('null-cost');
        assert.equal(stored?.outcome === 'ok' ? stored.metric.cost_usd : 'missing', null);
      });
    });
  });
}
