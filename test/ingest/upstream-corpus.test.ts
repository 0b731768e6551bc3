// The upstream Python runner's real posts (test/ingest/upstream-corpus/, one file per provider
// and request mode) through the ingest handler, on SQLite and the MongoDB stand-in: every one
// accepted once, stored as sent, a duplicate the second time (SPEC 9); and the SPEC 4.1
// collection rules as the ingest server applies them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { createIngestHandler, type IngestHandler, type IngestResponse } from '../../lib/ingest/handler.ts';
import { parseTimestamp } from '../../lib/ingest/schema.ts';
import { silentLogger } from '../../lib/log.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeModel } from '../fixtures.ts';
import { ago, upstreamTs } from './recent-fixtures.ts';

const KEY = 'corpus-test-key-9d2e';
const config = loadConfig({ env: { INGEST_API_KEY: KEY }, dotenvPath: false });
const CORPUS = new URL('./upstream-corpus/', import.meta.url).pathname;

type Payload = Record<string, unknown> & { provider: string; model_name: string };

// The corpus was recorded on 2026-11-20 (its last post at 12:00 UTC); its times are moved as
// a whole to end an hour before the test's now, as the server judges them against its clock.
const SHIFT_MS = ago().getTime() - Date.parse('2026-11-20T12:00:00Z');
/** A recorded upstream time ("2026-11-20 10:00:00"), moved to the test's now. */
function shifted(recorded: string): string {
  return upstreamTs(new Date(parseTimestamp(recorded)!.getTime() + SHIFT_MS));
}

function load(kind: 'metrics' | 'errors'): Array<[string, Payload]> {
  const dir = join(CORPUS, kind);
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => {
      const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Payload;
      for (const field of ['run_ts', 'gen_ts', 'ts']) if (typeof p[field] === 'string') p[field] = shifted(p[field] as string);
      return [f, p];
    });
}

const metrics = load('metrics');
const errors = load('errors');

// As upstream's http_output posts: JSON body, X-API-Key header.
function post(handler: IngestHandler, path: string, body: unknown): Promise<IngestResponse> {
  return handler({ method: 'POST', url: path, headers: { 'x-api-key': KEY, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

function answer(res: IngestResponse): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>;
}

/** What upstream's log_http counts as delivered: a 2xx whose body does not say "rejected". */
function upstreamSuccess(res: IngestResponse): boolean {
  return res.status >= 200 && res.status < 300 && answer(res).status !== 'rejected';
}

// The fields SPEC 9 says are stored as sent.
const AS_SENT = [
  'token_source',
  'request_mode',
  'validation_policy',
  'reasoning_effort',
  'response_status',
  'visible_text_empty',
  'max_output_tokens_attempted',
  'time_to_64_visible_tokens_seconds',
  'finish_reason',
  'response_id',
  'output_tokens',
  'requested_tokens',
  'reasoning_tokens',
  'visible_output_tokens',
  'time_to_first_token',
  'times_between_tokens',
  'misc',
] as const;

test('the corpus covers every provider and request mode the upstream runner posts, with the SPEC 9 values', () => {
  const modes = new Set(metrics.map(([, p]) => p.request_mode));
  const sources = new Set(metrics.map(([, p]) => p.token_source));
  assert.deepEqual(
    [...new Set(metrics.map(([, p]) => p.provider))].sort(),
    ['anthropic', 'bedrock', 'cerebras', 'deepinfra', 'fireworks', 'groq', 'openai', 'openrouter', 'together', 'vertex'],
  );
  for (const mode of ['anthropic_messages_stream', 'bedrock_converse_stream', 'together_chat_completions_stream_reasoning_disabled']) {
    assert.ok(modes.has(mode), mode);
  }
  for (const source of ['provider_usage_output_tokens', 'provider_usage_output_tokens_with_tiktoken_visible_split', 'tiktoken_visible_fallback_zero_usage']) {
    assert.ok(sources.has(source), source);
  }
  assert.deepEqual(new Set(metrics.map(([, p]) => p.validation_policy)), new Set(['strict_pm10', 'visible_nonzero']));
  for (const [file, p] of metrics) {
    assert.match(String(p.run_ts), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, file);
    assert.match(String(p.gen_ts), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, file);
    assert.equal('run_id' in p, false, `${file}: upstream sends no run_id`);
  }
});

const backends: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(':memory:')],
  ['mongodb (mingo stand-in)', async () => createMongoStore(mingoCollections(), { location: 'memory' })],
];

for (const [backend, open] of backends) {
  describe(`upstream runner corpus on ${backend}`, () => {
    let store: Store;
    let handler: IngestHandler;
    beforeEach(async () => {
      store = await open();
      const models = new Set([...metrics, ...errors].map(([, p]) => `${p.provider}\u0000${p.model_name}`));
      for (const m of models) {
        const [provider, model_id] = m.split('\u0000') as [string, string];
        await store.insertModel(makeModel({ provider, model_id }));
      }
      handler = createIngestHandler({ store, config, logger: silentLogger });
    });

    test('every metrics post is accepted, stored as sent, and a second post of it is a duplicate', async () => {
      for (const [file, payload] of metrics) {
        const first = await post(handler, '/ingest', payload);
        assert.equal(first.status, 200, `${file}: ${first.body}`);
        assert.equal(answer(first).status, 'accepted', file);
        assert.ok(upstreamSuccess(first), file);
        const again = await post(handler, '/ingest', payload);
        assert.deepEqual([again.status, answer(again).status, answer(again).run_id], [200, 'duplicate', answer(first).run_id], file);
        assert.ok(upstreamSuccess(again), `${file}: the runner must not retry a duplicate forever`);

        const [row] = await store.recentMetrics(payload.provider, payload.model_name, 10);
        assert.ok(row, file);
        for (const field of AS_SENT) {
          if (field in payload) assert.deepEqual(row[field], payload[field], `${file}: ${field}`);
        }
        assert.deepEqual(row.run_ts, parseTimestamp(String(payload.run_ts)), `${file}: run_ts`);
        assert.deepEqual(row.gen_ts, parseTimestamp(String(payload.gen_ts)), `${file}: gen_ts`);
        assert.equal(row.run_ts.toISOString().slice(0, 19), String(payload.run_ts).replace(' ', 'T'), `${file}: a zone-less time is UTC`);
        assert.equal(row.benchmark_profile_id, 'cloud-default-v1', file);
        assert.equal('output_text' in row, false, `${file}: the answer's text is not stored`);
      }
      assert.equal(await store.countMetrics(), metrics.length);
      assert.equal(await store.countMetricsIn({ collection: 'probe' }), 0, 'upstream rows are of the published profile');
    });

    test('every error post is accepted once and a duplicate the second time, its kind kept or classified', async () => {
      for (const [file, payload] of errors) {
        const first = await post(handler, '/ingest/error', payload);
        assert.deepEqual([first.status, answer(first).status], [200, 'accepted'], `${file}: ${first.body}`);
        const again = await post(handler, '/ingest/error', payload);
        assert.deepEqual([again.status, answer(again).status], [200, 'duplicate'], file);
      }
      assert.equal(await store.countErrors(), errors.length);
      const [overloaded] = await store.recentErrors('anthropic', 'claude-haiku-4-5-20251001', 1);
      assert.equal(overloaded?.error_kind, 'transient_provider');
      assert.deepEqual(overloaded?.ts, new Date(Date.parse('2026-11-20T10:05:03Z') + SHIFT_MS));
      assert.doesNotMatch(overloaded?.normalized_message ?? '', /req_011CSHoEeqs5C35K2UUqR7Fy/);
    });

    test('wording nobody foresaw is stored as sent; only its length is bounded', async () => {
      const [, base] = metrics.find(([f]) => f === 'bedrock-converse-stream.json')!;
      const novel = {
        ...base,
        run_ts: shifted('2026-11-20 11:00:00'),
        token_source: 'provider_usage_output_tokens_with_some_future_split_v3',
        request_mode: 'bedrock_converse_stream_reasoning_disabled_latency_optimized',
        validation_policy: 'strict_pm5',
        reasoning_effort: 'xhigh',
        response_status: 'completed_with_warnings',
      };
      const res = await post(handler, '/ingest', novel);
      assert.deepEqual([res.status, answer(res).status], [200, 'accepted'], res.body);
      const [row] = await store.recentMetrics(base.provider, base.model_name, 1);
      assert.deepEqual(
        [row?.token_source, row?.request_mode, row?.validation_policy, row?.reasoning_effort, row?.response_status],
        [novel.token_source, novel.request_mode, novel.validation_policy, novel.reasoning_effort, novel.response_status],
      );
      const long = await post(handler, '/ingest', { ...novel, run_ts: shifted('2026-11-20 11:30:00'), token_source: 'x'.repeat(129) });
      assert.equal(long.status, 400);
      assert.deepEqual(answer(long).error, { code: 'invalid_field', field: 'token_source', message: 'token_source: Too big: expected string to have <=128 characters' });
    });

    test('an error kind this project does not know is classified here instead of refused', async () => {
      const [, base] = errors.find(([f]) => f === 'anthropic-overloaded.json')!;
      const res = await post(handler, '/ingest/error', { ...base, ts: shifted('2026-11-20 12:00:00'), error_kind: 'provider_overloaded_v2' });
      assert.deepEqual([res.status, answer(res).status], [200, 'accepted'], res.body);
      const [row] = await store.recentErrors('anthropic', 'claude-haiku-4-5-20251001', 1);
      assert.equal(row?.error_kind, 'transient_provider', 'HTTP 529 in the message');
    });

    test('a row of another profile posted to the ingest server lands in the probe collection', async () => {
      const [, base] = metrics.find(([f]) => f === 'anthropic-messages-stream.json')!;
      const res = await post(handler, '/ingest', { ...base, benchmark_profile_id: 'cloud-long-v1', run_id: 'long-1' });
      assert.deepEqual([res.status, answer(res).status], [200, 'accepted'], res.body);
      assert.equal(await store.countMetrics(), 0);
      assert.equal(await store.countMetricsIn({ collection: 'probe' }), 1);
      assert.equal((await post(handler, '/ingest', { ...base, benchmark_profile_id: 'cloud-long-v1', run_id: 'long-1' })).status, 200);
      assert.equal(await store.countMetricsIn({ collection: 'probe' }), 1, 'idempotent in the probe collection too');
    });

    test(`a simulated (mock) row posted to the ingest server is ${backend === 'sqlite' ? 'stored: SQLite is for trials' : 'refused with 422 naming why'}`, async () => {
      await store.insertModel(makeModel({ provider: 'groq', model_id: 'sim' })).catch(() => undefined);
      const [, base] = metrics.find(([f]) => f === 'groq-chat-completions.json')!;
      const marked = { ...base, model_name: 'sim', mock: true };
      const res = await post(handler, '/ingest', marked);
      if (store.kind === 'mongodb') {
        assert.equal(res.status, 422);
        assert.deepEqual(
          { status: answer(res).status, code: answer(res).code },
          { status: 'rejected', code: 'mock_refused' },
        );
        assert.match(String(answer(res).reason), /^groq\/sim: simulated \(mock\) results never go to MongoDB/);
        assert.equal(upstreamSuccess(res), false);
        const batch = await post(handler, '/ingest/batch', { items: [{ type: 'error', doc: { provider: 'mock', model_name: 'instant', ts: shifted('2026-11-20 10:00:00'), stage: 'generate', message: 'x' } }] });
        assert.equal((answer(batch).results as Array<{ code: string }>)[0]?.code, 'mock_refused');
        assert.deepEqual([await store.countMetrics(), await store.countErrors()], [0, 0]);
      } else {
        assert.deepEqual([res.status, answer(res).status], [200, 'accepted'], res.body);
      }
    });
  });
}
