import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { createIngestHandler, type IngestHandler, type IngestResponse } from '../../lib/ingest/handler.ts';
import { parseMetricPayload, parseTimestamp } from '../../lib/ingest/schema.ts';
import { createLogger, registerSecrets, silentLogger, type Logger } from '../../lib/log.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeModel } from '../fixtures.ts';
import { ago, makeError, makeMetric, upstreamTs } from './recent-fixtures.ts';

const KEY = 'ingest-test-key-5f1c2a';
const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-ingest-handler-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const RUN_TS = ago();

/** What the upstream Python runner posts: its run config merged with its metrics (SPEC 9). */
function upstreamPayload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    provider: 'bedrock',
    model_name: 'us.anthropic.claude-3-5-haiku-20241022-v1:0',
    run_ts: upstreamTs(RUN_TS),
    temperature: 0.1,
    misc: { region: 'us-east-1' },
    tokens_per_second: 40,
    time_to_first_token: 0.5,
    output_tokens: 64,
    generate_time: 1.6,
    times_between_tokens: [0.02, 0.04, 0.03],
    requested_tokens: 64,
    ...overrides,
  };
}

function request(method: string, url: string, body: unknown = '', headers: Record<string, string> = { 'x-api-key': KEY }) {
  return { method, url, headers, body: typeof body === 'string' ? body : JSON.stringify(body) };
}

function parse(res: IngestResponse): Record<string, unknown> {
  assert.match(res.headers['content-type'] ?? '', /^application\/json/);
  return JSON.parse(res.body) as Record<string, unknown>;
}

async function counts(store: Store): Promise<[number, number]> {
  return [await store.countMetrics(), await store.countErrors()];
}

/** A store whose chosen methods are replaced; everything else goes to the real one. */
function withOverrides(store: Store, overrides: Partial<Record<keyof Store, (...args: never[]) => unknown>>): Store {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop in overrides) return overrides[prop as keyof Store];
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLogger({ level: 'debug', write: (_l, line) => lines.push(line) }), { lines });
}

const backends: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(join(dir, `h-${Math.random().toString(36).slice(2)}.sqlite`))],
  ['mongodb (mingo stand-in)', async () => createMongoStore(mingoCollections(), { location: 'memory' })],
];

for (const [backend, open] of backends) {
  describe(`ingest handler on ${backend}`, () => {
    let store: Store;
    let handler: IngestHandler;
    beforeEach(async () => {
      store = await open();
      await store.insertModel(makeModel());
      await store.insertModel(makeModel({ provider: 'bedrock', model_id: 'us.anthropic.claude-3-5-haiku-20241022-v1:0', misc: { region: 'us-east-1' } }));
      await store.insertModel(makeModel({ model_id: 'off-model', enabled: false, disabled_reason: 'retired upstream' }));
      await store.insertModel(makeModel({ model_id: 'old-model', deprecated: true }));
      handler = createIngestHandler({ store, config, logger: silentLogger });
    });

    test('POST /ingest stores a complete SPEC 4.1 document as sent and answers accepted', async () => {
      const doc = makeMetric({ raw_finish_reason: 'length' });
      const res = await handler(request('POST', '/ingest', doc));
      assert.equal(res.status, 200);
      assert.deepEqual(parse(res), { status: 'accepted', run_id: doc.run_id });
      const [back] = await store.recentMetrics(doc.provider, doc.model_name, 5);
      assert.deepEqual(back, doc);
    });

    test('the upstream Python runner payload is accepted and stored as a complete SPEC 4.1 document', async () => {
      const res = await handler(request('POST', '/ingest', upstreamPayload()));
      assert.equal(res.status, 200);
      assert.equal(parse(res).status, 'accepted');
      const [m] = await store.recentMetrics('bedrock', 'us.anthropic.claude-3-5-haiku-20241022-v1:0', 5);
      assert.ok(m);
      assert.ok(m.run_ts instanceof Date && m.gen_ts instanceof Date);
      assert.equal(m.run_ts.toISOString(), RUN_TS.toISOString());
      assert.equal(m.gen_ts.getTime(), RUN_TS.getTime() + 1600);
      assert.equal(m.generated_tokens_per_second, 40);
      assert.equal(m.metrics_schema_version, 2);
      assert.equal(typeof m.run_id, 'string');
      assert.ok(m.run_id.length > 10);
      assert.equal(m.runner, 'ingest');
      assert.equal(m.benchmark_profile_id, 'cloud-default-v1');
      assert.deepEqual(m.misc, { region: 'us-east-1' });
      assert.equal(m.ttft_available, true);
      assert.equal(m.generated_output_tokens, 64);
      assert.equal(m.max_output_tokens_attempted, 64);
      // Derived from times_between_tokens: 3 gaps, 4 deltas, spanning 0.09 s.
      assert.equal(m.chunk_count, 4);
      assert.ok(Math.abs(m.decode_tokens_per_second! - 63 / 0.09) < 1e-6);
      assert.equal(m.inter_chunk_ms.max, 40);
      assert.ok(Math.abs(m.inter_chunk_ms.p50! - 30) < 1e-9);
      // What nothing in the payload tells is unknown: null, never 0.
      for (const field of [
        'visible_tokens_per_second',
        'visible_output_tokens',
        'reasoning_tokens',
        'input_tokens',
        'cached_input_tokens',
        'total_tokens',
        'token_source',
        'request_mode',
        'time_to_first_byte',
        'time_to_first_reasoning_token',
        'provider_latency_ms',
        'finish_reason',
        'response_id',
        'attempts_count',
        'reasoning_effort',
        'validation_policy',
      ] as const) {
        assert.equal(m[field], null, `${field} is null`);
      }
    });

    test('the same upstream payload posted twice is stored once (its run_id comes from its content)', async () => {
      const first = parse(await handler(request('POST', '/ingest', upstreamPayload())));
      const second = parse(await handler(request('POST', '/ingest', upstreamPayload())));
      const other = parse(await handler(request('POST', '/ingest', upstreamPayload({ generate_time: 1.7 }))));
      assert.deepEqual([first.status, second.status, other.status], ['accepted', 'duplicate', 'accepted']);
      assert.equal(second.run_id, first.run_id);
      assert.equal(await store.countMetrics(), 2);
    });

    test('a run_id already stored answers duplicate with 200 and stores nothing more', async () => {
      const doc = makeMetric();
      await handler(request('POST', '/ingest', doc));
      const res = await handler(request('POST', '/ingest', { ...doc, tokens_per_second: 99 }));
      assert.equal(res.status, 200);
      assert.equal(parse(res).status, 'duplicate');
      assert.equal(await store.countMetrics(), 1);
      const [back] = await store.recentMetrics(doc.provider, doc.model_name, 5);
      assert.equal(back?.tokens_per_second, doc.tokens_per_second);
    });

    for (const [model, code] of [
      ['not-in-catalog', 'model_unknown'],
      ['off-model', 'model_disabled'],
      ['old-model', 'model_deprecated'],
    ] as const) {
      test(`a result for a model that is ${code.slice(6)} is rejected with 422 and not stored`, async () => {
        const metric = await handler(request('POST', '/ingest', makeMetric({ model_name: model })));
        const error = await handler(request('POST', '/ingest/error', makeError({ model_name: model })));
        for (const res of [metric, error]) {
          assert.equal(res.status, 422);
          const body = parse(res);
          assert.equal(body.status, 'rejected');
          assert.equal(body.code, code);
          assert.match(String(body.reason), new RegExp(model));
        }
        assert.deepEqual(await counts(store), [0, 0]);
      });
    }

    test('a result is judged by the handler\'s clock: a year on (past 2027-11-21), one from an hour before that clock is stored, one from today refused as too old', async () => {
      const later = Math.max(Date.now(), Date.parse('2027-11-21T00:00:00Z')) + 30 * 86_400_000;
      const h = createIngestHandler({ store, config, logger: silentLogger, clock: () => later });
      const fresh = await h(request('POST', '/ingest', makeMetric({ run_ts: ago(3_600_000, later) })));
      assert.deepEqual([fresh.status, parse(fresh).status], [200, 'accepted'], fresh.body);
      const today = await h(request('POST', '/ingest', makeMetric({ run_ts: ago() })));
      assert.equal(today.status, 400);
      assert.match(String((parse(today).error as { message: string }).message), /more than 366 days in the past/);
      const batch = await h(request('POST', '/ingest/batch', { items: [{ type: 'error', doc: makeError({ ts: ago(60_000, later) }) }] }));
      assert.equal((parse(batch).counts as { accepted: number }).accepted, 1);
    });

    test('key-shaped strings anywhere in a stored document are redacted; the run_id is kept', async () => {
      const doc = makeMetric({
        misc: { note: `echoed ${KEY} by a proxy`, nested: [{ header: 'Authorization: Bearer abcdefghijklmnop' }], api_key: 'plain-value-1', region: 'us-east-1' },
        raw_usage: [{ openai: 'sk-proj-abcdefghijklmnopqrstuvwxyz' }],
        response_id: 'resp sk-ant-abcdefghijklmnopqrst',
      });
      const res = await handler(request('POST', '/ingest', doc));
      assert.deepEqual([res.status, parse(res).run_id], [200, doc.run_id]);
      const [m] = await store.recentMetrics(doc.provider, doc.model_name, 1);
      const stored = JSON.stringify(m);
      for (const secret of [KEY, 'abcdefghijklmnop', 'plain-value-1']) assert.ok(!stored.includes(secret), secret);
      assert.deepEqual(m!.misc.region, 'us-east-1', 'other fields as sent');
      assert.equal(m!.misc.api_key, '***');
      assert.match(String(m!.misc.note), /^echoed \*\*\* by a proxy$/);
      assert.equal(m!.run_id, doc.run_id);
    });

    test('POST /ingest/error stores the error with its fingerprint recomputed and its message redacted', async () => {
      const doc = makeError({ message: 'HTTP 429 for key sk-proj-abcdefghijklmnopqrstuvwxyz', fingerprint: 'forged' });
      const { fingerprint: _f, normalized_message: _n, ...sent } = doc;
      const res = await handler(request('POST', '/ingest/error', { ...sent, fingerprint: 'forged' }));
      assert.equal(res.status, 200);
      assert.equal(parse(res).status, 'accepted');
      const [e] = await store.recentErrors(doc.provider, doc.model_name, 5);
      assert.ok(e);
      assert.ok(e.ts instanceof Date);
      assert.doesNotMatch(e.message, /abcdefghijklmnop/);
      assert.match(e.fingerprint, /^[0-9a-f]{64}$/);
      assert.notEqual(e.fingerprint, 'forged');
      assert.equal(e.run_id, doc.run_id);
    });

    test('an error posted without error_kind is classified from its HTTP status', async () => {
      const { error_kind: _k, ...rest } = makeError({ http_status: 429, message: 'Too many requests' });
      assert.equal((await handler(request('POST', '/ingest/error', rest))).status, 200);
      const [e] = await store.recentErrors(rest.provider, rest.model_name, 1);
      assert.equal(e?.error_kind, 'rate_limit');
    });

    test('POST /ingest/batch answers per item and stores only what is valid and enabled', async () => {
      const dup = makeMetric();
      await store.insertMetric(dup);
      const items = [
        { type: 'metric', doc: makeMetric() },
        { type: 'error', doc: makeError() },
        { type: 'metric', doc: dup },
        { type: 'metric', doc: makeMetric({ model_name: 'off-model' }) },
        { type: 'metric', doc: { ...makeMetric(), run_ts: 'not a date' } },
        { type: 'nonsense', doc: {} },
      ];
      const res = await handler(request('POST', '/ingest/batch', { items }));
      assert.equal(res.status, 200);
      const body = parse(res) as { results: Array<{ index: number; status: string; error?: { field: string } }>; counts: unknown };
      assert.deepEqual(
        body.results.map((r) => [r.index, r.status]),
        [
          [0, 'accepted'],
          [1, 'accepted'],
          [2, 'duplicate'],
          [3, 'rejected'],
          [4, 'invalid'],
          [5, 'invalid'],
        ],
      );
      assert.equal(body.results[4]?.error?.field, 'run_ts');
      assert.equal(body.results[5]?.error?.field, 'type');
      assert.deepEqual(body.counts, { accepted: 2, duplicate: 1, rejected: 1, invalid: 2, failed: 0 });
      assert.deepEqual(await counts(store), [2, 1]);
    });

    test('a batch whose store fails part-way answers 503 and says which items were stored', async () => {
      let calls = 0;
      const failing = withOverrides(store, {
        insertMetric: async (doc: MetricDoc) => {
          calls += 1;
          if (calls > 1) throw new Error(`connection pool closed for mongodb://bench:${KEY}@db`);
          return store.insertMetric(doc);
        },
      });
      const h = createIngestHandler({ store: failing, config, logger: silentLogger });
      const items = [1, 2, 3].map(() => ({ type: 'metric', doc: makeMetric() }));
      const res = await h(request('POST', '/ingest/batch', { items }));
      assert.equal(res.status, 503);
      const body = parse(res) as { results: Array<{ status: string }> };
      assert.deepEqual(
        body.results.map((r) => r.status),
        ['accepted', 'failed', 'failed'],
      );
      assert.equal(calls, 2, 'the store is not tried again for every item left');
      assert.doesNotMatch(res.body, new RegExp(KEY), "the driver's message stays in the journal");
      assert.equal(await store.countMetrics(), 1);
    });

    test('GET /runner-config lists the enabled, not deprecated models of the provider with their misc', async () => {
      const res = await handler(request('GET', '/runner-config?provider=bedrock'));
      assert.equal(res.status, 200);
      const body = parse(res) as { models: Array<Record<string, unknown>> };
      assert.deepEqual(
        body.models.map((m) => [m.provider, m.model_id, m.misc]),
        [['bedrock', 'us.anthropic.claude-3-5-haiku-20241022-v1:0', { region: 'us-east-1' }]],
      );
      const groq = parse(await handler(request('GET', '/runner-config?provider=groq'))) as { models: Array<{ model_id: string }> };
      assert.deepEqual(
        groq.models.map((m) => m.model_id),
        ['llama-3.3-70b-versatile'],
      );
    });
  });
}

describe('ingest handler: bad input is refused with a 4xx naming the field, and nothing is stored', () => {
  let store: Store;
  let handler: IngestHandler;
  beforeEach(async () => {
    store = openSqliteStore(join(dir, `bad-${Math.random().toString(36).slice(2)}.sqlite`));
    await store.insertModel(makeModel());
    handler = createIngestHandler({ store, config, logger: silentLogger });
  });

  const good = () => JSON.parse(JSON.stringify(makeMetric())) as Record<string, unknown>;
  const cases: Array<{ name: string; req: () => ReturnType<typeof request>; status: number; code: string; field?: string }> = [
    { name: 'no API key', req: () => request('POST', '/ingest', good(), {}), status: 401, code: 'unauthorized' },
    { name: 'a wrong API key', req: () => request('POST', '/ingest', good(), { 'x-api-key': `${KEY}x` }), status: 401, code: 'unauthorized' },
    { name: 'a wrong bearer token', req: () => request('POST', '/ingest', good(), { authorization: 'Bearer nope' }), status: 401, code: 'unauthorized' },
    { name: 'malformed JSON', req: () => request('POST', '/ingest', '{"provider": "groq",'), status: 400, code: 'invalid_json' },
    { name: 'a JSON array instead of an object', req: () => request('POST', '/ingest', [good()]), status: 400, code: 'invalid_body' },
    { name: 'a number where a string belongs', req: () => request('POST', '/ingest', { ...good(), model_name: 42 }), status: 400, code: 'invalid_field', field: 'model_name' },
    { name: '{"$gt": ""} as a model name', req: () => request('POST', '/ingest', { ...good(), model_name: { $gt: '' } }), status: 400, code: 'invalid_field', field: 'model_name' },
    { name: 'a run_ts that is not a date', req: () => request('POST', '/ingest', { ...good(), run_ts: 'yesterday' }), status: 400, code: 'invalid_field', field: 'run_ts' },
    { name: 'a run_ts on a day that does not exist', req: () => request('POST', '/ingest', { ...good(), run_ts: '2026-02-30 10:00:00' }), status: 400, code: 'invalid_field', field: 'run_ts' },
    { name: 'a missing tokens_per_second', req: () => request('POST', '/ingest', { ...good(), tokens_per_second: undefined }), status: 400, code: 'missing_field', field: 'tokens_per_second' },
    { name: 'tokens_per_second of 0 (a failure, not a metric)', req: () => request('POST', '/ingest', { ...good(), tokens_per_second: 0 }), status: 400, code: 'invalid_field', field: 'tokens_per_second' },
    { name: 'zero output tokens (nothing was measured)', req: () => request('POST', '/ingest', { ...good(), output_tokens: 0 }), status: 400, code: 'invalid_field', field: 'output_tokens' },
    { name: 'a fractional token count', req: () => request('POST', '/ingest', { ...good(), output_tokens: 63.5 }), status: 400, code: 'invalid_field', field: 'output_tokens' },
    { name: 'a string inside times_between_tokens', req: () => request('POST', '/ingest', { ...good(), times_between_tokens: [0.1, 'x'] }), status: 400, code: 'invalid_field', field: 'times_between_tokens[1]' },
    { name: 'a Mongo operator key inside misc', req: () => request('POST', '/ingest', { ...good(), misc: { region: { $where: '1' } } }), status: 400, code: 'invalid_field', field: 'misc.region.$where' },
    { name: 'a run_id that is not a plain identifier', req: () => request('POST', '/ingest', { ...good(), run_id: '../../etc/passwd' }), status: 400, code: 'invalid_field', field: 'run_id' },
    { name: 'an error with an unknown stage', req: () => request('POST', '/ingest/error', { ...makeError(), stage: 'lunch' }), status: 400, code: 'invalid_field', field: 'stage' },
    { name: 'an error whose ts is not a date', req: () => request('POST', '/ingest/error', { ...makeError(), ts: 12345 }), status: 400, code: 'invalid_field', field: 'ts' },
    { name: 'a batch without items', req: () => request('POST', '/ingest/batch', { docs: [] }), status: 400, code: 'missing_field', field: 'items' },
    { name: 'GET /runner-config without a provider', req: () => request('GET', '/runner-config'), status: 400, code: 'invalid_query', field: 'provider' },
    { name: 'an unknown route', req: () => request('POST', '/ingest/metrics', good()), status: 404, code: 'not_found' },
    { name: 'a wrong method', req: () => request('GET', '/ingest'), status: 405, code: 'method_not_allowed' },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.status} ${c.code}`, async () => {
      const before = await counts(store);
      const res = await handler(c.req());
      assert.equal(res.status, c.status);
      const body = parse(res) as { error: { code: string; field: string | null; message: string } };
      assert.equal(body.error.code, c.code);
      assert.equal(body.error.field, c.field ?? null);
      assert.equal(typeof body.error.message, 'string');
      if (c.field) assert.match(body.error.message, new RegExp(c.field.replace(/[$[\].]/g, '\\$&')));
      assert.deepEqual(await counts(store), before);
    });
  }

  test('the same document with the right key is accepted (the cases above fail for their own reason)', async () => {
    assert.equal((await handler(request('POST', '/ingest', good()))).status, 200);
    assert.equal((await handler(request('POST', '/ingest', good(), { authorization: `Bearer ${KEY}` }))).status, 200);
    assert.equal(await store.countMetrics(), 2);
  });

  test('a wrong method names the allowed ones in Allow', async () => {
    const res = await handler(request('DELETE', '/ingest/batch'));
    assert.equal(res.headers.allow, 'POST');
  });

  test('with no key configured the handler refuses everyone unless INGEST_ALLOW_NO_KEY is set', async () => {
    const noKey = loadConfig({ env: {}, dotenvPath: false });
    const closed = createIngestHandler({ store, config: noKey, logger: silentLogger });
    assert.equal((await closed(request('POST', '/ingest', good(), {}))).status, 401);
    const open = createIngestHandler({ store, config: loadConfig({ env: { INGEST_ALLOW_NO_KEY: 'true' }, dotenvPath: false }), logger: silentLogger });
    assert.equal((await open(request('POST', '/ingest', good(), {}))).status, 200);
  });
});

describe('ingest handler: failures, health and caching', () => {
  test('a store that throws answers 503 store_unavailable; the secret in its message reaches neither the answer nor the log', async () => {
    registerSecrets([KEY]);
    const store = withOverrides(openSqliteStore(':memory:'), {
      listModels: async () => [makeModel()],
      insertMetric: async () => {
        throw new Error(`auth failed for mongodb://bench:${KEY}@db.example`);
      },
    });
    const logger = capturingLogger();
    const h = createIngestHandler({ store, config, logger });
    const res = await h(request('POST', '/ingest', makeMetric()));
    assert.equal(res.status, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.deepEqual(JSON.parse(res.body), { error: { code: 'store_unavailable', field: null, message: 'the store is unavailable; retry later' } });
    assert.equal(logger.lines.length, 1);
    assert.match(logger.lines[0]!, /store call failed/);
    assert.doesNotMatch(logger.lines.join('\n') + res.body, new RegExp(KEY));
  });

  test('an unexpected error is logged and answered with a plain 500 without a stack', async () => {
    const store = withOverrides(openSqliteStore(':memory:'), {
      listModels: async () => [makeModel()],
      insertMetric: async () => 'maybe',
    });
    const logger = capturingLogger();
    const h = createIngestHandler({ store, config, logger });
    const res = await h(request('POST', '/ingest', makeMetric()));
    assert.equal(res.status, 500);
    assert.deepEqual(JSON.parse(res.body), { error: { code: 'internal_error', field: null, message: 'internal error' } });
    assert.equal(logger.lines.length, 1);
    assert.match(logger.lines[0]!, /store answered maybe/);
  });

  test('GET /health answers 200 when the store answers and 503 when it does not, without a key', async () => {
    const store = openSqliteStore(':memory:');
    const ok = createIngestHandler({ store, config, logger: silentLogger });
    const up = await ok(request('GET', '/health', '', {}));
    assert.equal(up.status, 200);
    assert.deepEqual(JSON.parse(up.body), { status: 'ok', store: 'sqlite' });
    const down = createIngestHandler({
      store: withOverrides(store, { ping: async () => Promise.reject(new Error('unreachable')) }),
      config,
      logger: silentLogger,
    });
    const res = await down(request('GET', '/health', '', {}));
    assert.equal(res.status, 503);
    assert.deepEqual(JSON.parse(res.body), { status: 'unavailable', store: 'sqlite' });
    const hung = createIngestHandler({
      store: withOverrides(store, { ping: () => new Promise<void>(() => {}) }),
      config,
      logger: silentLogger,
      healthTimeoutMs: 20,
    });
    assert.equal((await hung(request('GET', '/health', '', {}))).status, 503);
  });

  test('the enabled-models lookup is cached for modelsCacheMs, and a model enabled meanwhile is accepted at once', async () => {
    const real = openSqliteStore(':memory:');
    await real.insertModel(makeModel());
    let listCalls = 0;
    const store = withOverrides(real, {
      listModels: async (filter?: Parameters<Store['listModels']>[0]) => {
        listCalls += 1;
        return real.listModels(filter);
      },
    });
    let t = 0;
    const h = createIngestHandler({ store, config, logger: silentLogger, now: () => t, modelsCacheMs: 5000 });
    for (let i = 0; i < 5; i++) assert.equal((await h(request('POST', '/ingest', makeMetric()))).status, 200);
    assert.equal(listCalls, 1);

    await real.insertModel(makeModel({ model_id: 'new-model' }));
    assert.equal((await h(request('POST', '/ingest', makeMetric({ model_name: 'new-model' })))).status, 200);

    await real.updateModel('groq', 'llama-3.3-70b-versatile', { enabled: false });
    t = 4000;
    assert.equal((await h(request('POST', '/ingest', makeMetric()))).status, 200, 'still cached');
    t = 10_000;
    assert.equal((await h(request('POST', '/ingest', makeMetric()))).status, 422, 'cache expired: disabled now');
  });

  test('warning lines are capped per minute and the rest counted, so a flood of bad requests does not flood the journal', async () => {
    const logger = capturingLogger();
    let t = 0;
    const h = createIngestHandler({ store: openSqliteStore(':memory:'), config, logger, now: () => t });
    for (let i = 0; i < 30; i++) await h(request('POST', '/ingest', '{', {}));
    assert.equal(logger.lines.length, 20);
    assert.equal(h.stats().suppressedLogLines, 10);
    assert.equal(h.stats().unauthorized, 30);
    t = 61_000;
    await h(request('POST', '/ingest', '{', {}));
    assert.equal(logger.lines.length, 21);
  });
});

describe('ingest schema', () => {
  test('timestamps are read as ISO 8601 or the upstream "YYYY-MM-DD HH:MM:SS" form, in UTC when no offset is given', () => {
    const iso = (s: string) => parseTimestamp(s)?.toISOString() ?? null;
    assert.equal(iso('2026-11-20 10:00:00'), '2026-11-20T10:00:00.000Z');
    assert.equal(iso('2026-11-20T10:00:00Z'), '2026-11-20T10:00:00.000Z');
    assert.equal(iso('2026-11-20T10:00:00.123456'), '2026-11-20T10:00:00.123Z');
    assert.equal(iso('2026-11-20T12:30:00+02:30'), '2026-11-20T10:00:00.000Z');
    assert.equal(iso('2026-11-20T05:00:00-0500'), '2026-11-20T10:00:00.000Z');
    for (const bad of ['2026-11-20', '20/11/2026 10:00:00', '2026-13-01 00:00:00', '2026-02-29 00:00:00', '2026-11-20 24:00:00', 'now', '']) {
      assert.equal(iso(bad), null, bad);
    }
    assert.equal(iso('2028-02-29 00:00:00'), '2028-02-29T00:00:00.000Z');
  });

  test('a row whose lag passed the threshold is marked saturated on arrival, except the mock’s (its chunks are made in the runner’s own loop)', () => {
    const lagged = parseMetricPayload(upstreamPayload({ client_lag_ms: 40 }));
    assert.ok(lagged.ok);
    assert.deepEqual(lagged.value.evidence, { saturated: true });
    const mock = parseMetricPayload(upstreamPayload({ provider: 'mock', model_name: 'ttft-100ms-tps-200', mock: true, client_lag_ms: 40 }));
    assert.ok(mock.ok);
    assert.equal(mock.value.client_lag_ms, 40);
    assert.equal(mock.value.evidence, undefined);
  });

  test('fields sent explicitly as null stay null rather than being derived', () => {
    const r = parseMetricPayload({ ...upstreamPayload(), decode_tokens_per_second: null, chunk_count: null, time_to_first_token: null });
    assert.ok(r.ok);
    assert.equal(r.value.decode_tokens_per_second, null);
    assert.equal(r.value.chunk_count, null);
    assert.equal(r.value.ttft_available, false);
  });

  test('a payload without times_between_tokens derives no chunk statistics', () => {
    const { times_between_tokens: _t, ...rest } = upstreamPayload();
    const r = parseMetricPayload(rest);
    assert.ok(r.ok);
    assert.deepEqual(r.value.times_between_tokens, []);
    assert.equal(r.value.chunk_count, null);
    assert.equal(r.value.decode_tokens_per_second, null);
    assert.deepEqual(r.value.inter_chunk_ms, { p50: null, p90: null, p99: null, max: null });
  });
});
