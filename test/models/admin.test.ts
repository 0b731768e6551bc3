import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { UsageError } from '../../lib/cli.ts';
import { addModel, deprecateModel, disableModel, enableModel, listModelRows, parseMisc, showModel, undeprecateModel } from '../../lib/models/admin.ts';
import { miscKeys, miscProblems, registerMiscKey } from '../../lib/models/misc.ts';
import { checkModelId } from '../../lib/models/rules.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeError, makeMetric } from '../fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-admin-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const usage = (pattern: RegExp) => (err: unknown) => err instanceof UsageError && pattern.test(err.message);

const backends: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(join(dir, `${Math.random()}.sqlite`))],
  ['mongodb (mingo)', async () => createMongoStore(mingoCollections(), { location: 'memory' })],
];

for (const [name, open] of backends) {
  describe(`model administration on ${name}`, () => {
    test('add stores an enabled model with created_at; list shows it with last success and last error', async () => {
      const store = await open();
      const now = new Date('2026-11-23T10:00:00Z');
      const m = await addModel(store, 'groq', 'llama-3.3-70b-versatile', { displayName: 'Llama 3.3 70B', now, misc: { omit_temperature: true } });
      assert.deepEqual(m, {
        provider: 'groq',
        model_id: 'llama-3.3-70b-versatile',
        enabled: true,
        deprecated: false,
        created_at: now,
        display_name: 'Llama 3.3 70B',
        misc: { omit_temperature: true },
      });
      await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'llama-3.3-70b-versatile', run_ts: new Date('2026-11-23T09:00:00Z') }));
      await store.insertError(makeError({ provider: 'groq', model_name: 'llama-3.3-70b-versatile', ts: new Date('2026-11-23T09:30:00Z'), message: 'HTTP 429' }));
      const [row] = await listModelRows(store);
      assert.deepEqual(row!.lastSuccess, new Date('2026-11-23T09:00:00Z'));
      assert.equal(row!.lastError?.message, 'HTTP 429');
      await store.close();
    });

    test('add refuses case-insensitive duplicates even with --force, naming the existing id', async () => {
      const store = await open();
      await addModel(store, 'groq', 'Llama-3.3-70b-versatile');
      await assert.rejects(addModel(store, 'groq', 'llama-3.3-70B-VERSATILE', { force: true }), usage(/already exists as groq\/Llama-3\.3-70b-versatile/));
      // Same id under another provider is a different model.
      await addModel(store, 'together', 'Llama-3.3-70b-versatile');
      await store.close();
    });

    test('add refuses ruled-out ids unless forced, and unknown providers always', async () => {
      const store = await open();
      await assert.rejects(addModel(store, 'bedrock', 'anthropic.claude-3-haiku-20240307-v1:0'), usage(/us\.anthropic\.claude-3-haiku-20240307-v1:0/));
      await assert.rejects(addModel(store, 'openai', 'text-embedding-3-small'), usage(/embedding model.*--force/));
      await assert.rejects(addModel(store, 'nosuch', 'x'), usage(/Known providers: openai, anthropic/));
      const forced = await addModel(store, 'openai', 'text-embedding-3-small', { force: true });
      assert.equal(forced.enabled, true);
      await store.close();
    });

    test('disable needs a reason and records it; enable clears it; deprecate records successor and date', async () => {
      const store = await open();
      await addModel(store, 'openai', 'gpt-4o-mini');
      await assert.rejects(disableModel(store, 'openai', 'gpt-4o-mini', ' '), usage(/--reason/));
      const when = new Date('2026-11-23T12:00:00Z');
      const { model: d } = await disableModel(store, 'openai', 'gpt-4o-mini', 'retired', when);
      assert.deepEqual([d.enabled, d.disabled_reason, d.disabled_at], [false, 'retired', when]);
      assert.equal((await listModelRows(store)).length, 0, 'a disabled model is not listed without --all');
      assert.equal((await listModelRows(store, { all: true })).length, 1);
      const { model: e } = await enableModel(store, 'openai', 'gpt-4o-mini');
      assert.deepEqual([e.enabled, e.disabled_reason, e.disabled_at], [true, null, null]);
      const dep = await deprecateModel(store, 'openai', 'gpt-4o-mini', { successor: 'gpt-5-mini', date: '2026-12-01' });
      assert.deepEqual([dep.deprecated, dep.successor_model, dep.deprecation_date], [true, 'gpt-5-mini', '2026-12-01']);
      assert.equal((await listModelRows(store)).length, 0, 'a deprecated model is not benchmarked');
      await assert.rejects(deprecateModel(store, 'openai', 'gpt-4o-mini', { date: 'soon' }), usage(/YYYY-MM-DD/));
      await assert.rejects(deprecateModel(store, 'openai', 'gpt-4o-mini', { date: '2026-02-30' }), usage(/YYYY-MM-DD/));
      await assert.rejects(deprecateModel(store, 'openai', 'gpt-4o-mini', { date: '2026-12-01T10:00:00Z' }), usage(/YYYY-MM-DD/));
      await store.close();
    });

    test(`a mock model ${name === 'sqlite' ? 'can be added to SQLite' : 'is refused on MongoDB, saying why'}`, async () => {
      const store = await open();
      if (store.kind === 'mongodb') {
        await assert.rejects(addModel(store, 'mock', 'instant'), usage(/Refusing to add mock\/instant: simulated \(mock\) results never go to MongoDB/));
        assert.equal(await store.getModel('mock', 'instant'), null);
      } else {
        assert.equal((await addModel(store, 'mock', 'instant')).provider, 'mock');
      }
      await store.close();
    });

    test('a simulated id that does not parse is refused at add, in the parser\'s words, even with --force', async () => {
      const store = await open();
      const misc = { url: 'https://example.com', goal: 'List the plans' };
      await assert.rejects(addModel(store, 'tinyfish', 'mock-stepz-3', { misc, force: true }), usage(/^Refusing to add tinyfish\/mock-stepz-3: Unknown mock automation id "mock-stepz-3": .*stepz/));
      await addModel(store, 'tinyfish', 'mock-steps-3', { misc });
      // Not a mock id: an automation of the operator's own naming.
      await addModel(store, 'tinyfish', 'mockingbird-pricing', { misc });
      if (store.kind === 'sqlite') {
        await assert.rejects(addModel(store, 'mock', 'ttft-abc', { force: true }), usage(/^Refusing to add mock\/ttft-abc: Unknown mock model id "ttft-abc": ttft wants a duration/));
        await addModel(store, 'mock', 'ttft-20ms-tps-200');
      }
      assert.deepEqual((await store.listModels({})).map((m) => m.model_id).sort(), [...(store.kind === 'sqlite' ? ['ttft-20ms-tps-200'] : []), 'mock-steps-3', 'mockingbird-pricing'].sort());
    });

    test('enabling an enabled model and disabling a disabled one change nothing and say so; the first reason is kept', async () => {
      const store = await open();
      await addModel(store, 'openai', 'gpt-4o-mini');
      assert.equal((await enableModel(store, 'openai', 'gpt-4o-mini')).changed, false);
      const first = new Date('2026-11-23T12:00:00Z');
      assert.equal((await disableModel(store, 'openai', 'gpt-4o-mini', 'retired', first)).changed, true);
      const again = await disableModel(store, 'openai', 'gpt-4o-mini', 'something else', new Date('2026-11-24T12:00:00Z'));
      assert.equal(again.changed, false);
      assert.deepEqual([again.model.disabled_reason, again.model.disabled_at], ['retired', first]);
      assert.equal((await store.getModel('openai', 'gpt-4o-mini'))!.disabled_reason, 'retired');
      await store.close();
    });

    test('enable refuses a deprecated model with the undeprecate command; undeprecate benchmarks it again', async () => {
      const store = await open();
      await addModel(store, 'openai', 'gpt-4o');
      await deprecateModel(store, 'openai', 'gpt-4o', { successor: 'gpt-5', date: '2026-12-31' });
      await assert.rejects(enableModel(store, 'openai', 'gpt-4o'), usage(/is deprecated \(successor: gpt-5\).*npm run models -- undeprecate openai gpt-4o/));
      assert.equal((await listModelRows(store)).length, 0);
      const back = await undeprecateModel(store, 'openai', 'gpt-4o');
      assert.equal(back.changed, true);
      assert.deepEqual([back.model.deprecated, back.model.successor_model ?? null, back.model.deprecation_date ?? null], [false, null, null]);
      assert.deepEqual((await listModelRows(store)).map((r) => r.model.model_id), ['gpt-4o']);
      assert.equal((await undeprecateModel(store, 'openai', 'gpt-4o')).changed, false);
      await store.close();
    });

    test('show works for a model with stored results that is not in the catalog, and refuses one with neither', async () => {
      const store = await open();
      // A groq model, not mock: MongoDB refuses mock rows (SPEC 4.1).
      await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'ad-hoc', run_ts: new Date('2026-11-23T09:00:00Z') }));
      const shown = await showModel(store, 'groq', 'ad-hoc');
      assert.equal(shown.model, null);
      assert.equal(shown.metrics.length, 1);
      await assert.rejects(showModel(store, 'groq', 'never-run'), usage(/No model groq\/never-run/));
      await assert.rejects(showModel(store, 'foo', 'bar'), usage(/Unknown provider 'foo'. Known providers: openai/));
      await store.close();
    });

    test('add checks --misc against the quirks the adapters read, with their types', async () => {
      const store = await open();
      await assert.rejects(
        addModel(store, 'openai', 'gpt-4o', { misc: { omit_temprature: true } }),
        usage(/--misc unknown key omit_temprature: did you mean omit_temperature\?/),
      );
      await assert.rejects(addModel(store, 'bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0', { misc: { region: 'nowhere' } }), usage(/region must be a region name/));
      await assert.rejects(addModel(store, 'groq', 'llama-3.3-70b-versatile', { misc: { region: 'us-west-2' } }), usage(/region is read only for bedrock, vertex, not groq/));
      assert.equal(await store.getModel('openai', 'gpt-4o'), null, 'nothing is stored when refused');
      const ok = await addModel(store, 'bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0', { misc: { region: 'us-west-2', omit_temperature: true } });
      assert.deepEqual(ok.misc, { region: 'us-west-2', omit_temperature: true });
      await store.close();
    });

    test('commands on a missing model suggest the case-insensitive match', async () => {
      const store = await open();
      await addModel(store, 'groq', 'Qwen-QwQ-32b');
      await assert.rejects(enableModel(store, 'groq', 'qwen-qwq-32b'), usage(/Did you mean Qwen-QwQ-32b/));
      await assert.rejects(showModel(store, 'groq', 'nothing'), usage(/npm run models -- list --provider groq --all/));
      await store.close();
    });
  });
}

describe('model rules (SPEC 5)', () => {
  test('Bedrock prefixes: us.anthropic., us.meta. for Llama 3.2+, meta. for 3.1 and older; others as they are', () => {
    assert.equal(checkModelId('bedrock', 'us.anthropic.claude-opus-4-5-20251101-v1:0'), null);
    assert.equal(checkModelId('bedrock', 'anthropic.claude-opus-4-5-20251101-v1:0')?.suggestion, 'us.anthropic.claude-opus-4-5-20251101-v1:0');
    assert.equal(checkModelId('bedrock', 'meta.llama4-maverick-17b-instruct-v1:0')?.suggestion, 'us.meta.llama4-maverick-17b-instruct-v1:0');
    assert.equal(checkModelId('bedrock', 'meta.llama3-2-90b-instruct-v1:0')?.suggestion, 'us.meta.llama3-2-90b-instruct-v1:0');
    assert.equal(checkModelId('bedrock', 'us.meta.llama3-1-70b-instruct-v1:0')?.suggestion, 'meta.llama3-1-70b-instruct-v1:0');
    assert.equal(checkModelId('bedrock', 'meta.llama3-1-70b-instruct-v1:0'), null);
    assert.equal(checkModelId('bedrock', 'us.meta.llama4-maverick-17b-instruct-v1:0'), null);
    for (const id of ['mistral.mistral-large-2402-v1:0', 'cohere.command-r-plus-v1:0', 'amazon.nova-pro-v1:0']) assert.equal(checkModelId('bedrock', id), null, id);
    assert.match(checkModelId('bedrock', 'amazon.nova-canvas-v1:0')!.reason, /image/);
  });

  test('what not to benchmark: embeddings, TTS, speech-to-text, image and video, realtime and audio', () => {
    const refused = ['text-embedding-3-large', 'tts-1-hd', 'gpt-4o-mini-tts', 'whisper-large-v3', 'gpt-4o-transcribe', 'dall-e-3', 'sora-2', 'gpt-image-1', 'imagen-4.0-generate-001', 'gpt-4o-realtime-preview', 'gpt-4o-audio-preview', 'llama-guard-4-12b', 'compound-beta', 'veo-3.0-generate-001'];
    for (const id of refused) assert.ok(checkModelId('openai', id), `${id} should be refused`);
    const allowed = ['gpt-4o-mini', 'gpt-5', 'o3-mini', 'llama-3.3-70b-versatile', 'claude-sonnet-4-20250514', 'gemini-2.5-flash', 'qwen-3-235b-a22b-instruct-2507', 'deepseek-r1-distill-llama-70b', 'accounts/fireworks/models/llama-v3p3-70b-instruct'];
    for (const id of allowed) assert.equal(checkModelId('groq', id), null, `${id} should be allowed`);
  });

  test('misc values are checked by type and provider', () => {
    assert.deepEqual(miscProblems('vertex', { region: 'us-east5', thinking_budget: 0, max_tokens_param: 'max_completion_tokens' }), []);
    assert.deepEqual(miscProblems('vertex', { region: 'europe-west4' }), []);
    assert.deepEqual(miscProblems('bedrock', { region: 'ap-southeast-1', additional_model_request_fields: { top_k: 5 } }), []);
    assert.deepEqual(miscProblems('bedrock', { region: 'us-east5' }), ['region must be a region name such as us-west-2 (Bedrock) or us-east5 (Vertex) (got "us-east5")']);
    assert.deepEqual(miscProblems('vertex', { thinking_budget: -1 }), ['thinking_budget must be a whole number of tokens, 0 or more (got -1)']);
    assert.deepEqual(miscProblems('groq', { omit_temperature: 'yes' }), ['omit_temperature must be true or false (got "yes")']);
    assert.deepEqual(miscProblems('groq', { max_tokens_param: 'max_tokenz' }), ['max_tokens_param must be "max_tokens" or "max_completion_tokens" (got "max_tokenz")']);
    assert.match(miscProblems('mock', { omit_temperature: true })[0]!, /not mock/);
    assert.match(miscProblems('groq', { colour: 'red' })[0]!, /^unknown key colour \(groq understands max_tokens_param, omit_temperature, price\)$/);
  });

  test('another module can register a key (e.g. a new provider\'s), once', () => {
    assert.ok(!miscKeys().includes('test_only_goal'));
    assert.match(miscProblems('tinyfish', { test_only_goal: 'x' })[0]!, /unknown key/);
    registerMiscKey('test_only_goal', { type: 'a string', valid: (v) => typeof v === 'string', providers: ['tinyfish'], description: 'test' });
    assert.deepEqual(miscProblems('tinyfish', { test_only_goal: 'find the price' }), []);
    assert.deepEqual(miscProblems('tinyfish', { test_only_goal: 3 }), ['test_only_goal must be a string (got 3)']);
    assert.throws(() => registerMiscKey('test_only_goal', { type: 'x', valid: () => true, providers: [], description: '' }), /already registered/);
  });

  test('--misc must be a JSON object and says so', () => {
    assert.deepEqual(parseMisc('{"region":"us-west-2"}'), { region: 'us-west-2' });
    assert.equal(parseMisc(undefined), undefined);
    assert.throws(() => parseMisc('[1]'), usage(/JSON object/));
    assert.throws(() => parseMisc('{oops'), usage(/JSON object/));
  });
});

for (const [name, open] of backends) {
  describe(`price and spend in list and show on ${name} (SPEC 17)`, () => {
    test('list and show give the price (misc.price, else the OpenRouter catalog, else null) and the last 24 hours of spend', async () => {
      const store = await open();
      const now = new Date();
      const seen = new Date('2026-11-01T00:00:00Z');
      await store.upsertOpenRouterCatalog(
        [{ openrouter_id: 'meta-llama/llama-3.3-70b-instruct', name: 'Llama', org: 'meta-llama', pricing: { prompt: 1.2e-7, completion: 3e-7 }, context_length: null, created: null }],
        seen,
      );
      await addModel(store, 'groq', 'llama-3.3-70b-versatile', { now });
      await addModel(store, 'groq', 'own-price', { now, misc: { price: { input: 1, output: 2 } }, force: true });
      await addModel(store, 'groq', 'unpriced-7b', { now, force: true });
      const hour = 3_600_000;
      await store.insertMetric({ ...makeMetric({ provider: 'groq', model_name: 'own-price', run_ts: new Date(now.getTime() - hour) }), cost_usd: 0.25 });
      await store.insertMetric({ ...makeMetric({ provider: 'groq', model_name: 'own-price', run_ts: new Date(now.getTime() - 2 * hour) }), cost_usd: null });
      // Older than 24 hours: not in the figure.
      await store.insertMetric({ ...makeMetric({ provider: 'groq', model_name: 'own-price', run_ts: new Date(now.getTime() - 25 * hour) }), cost_usd: 100 });

      const rows = new Map((await listModelRows(store, { now })).map((r) => [r.model.model_id, r]));
      assert.equal(rows.get('llama-3.3-70b-versatile')!.price?.source, 'openrouter');
      assert.deepEqual(rows.get('own-price')!.price, { input: 1, output: 2, source: 'misc' });
      assert.equal(rows.get('unpriced-7b')!.price, null);
      assert.deepEqual(rows.get('own-price')!.spend24h, { provider: 'groq', model_name: 'own-price', cost_usd: 0.25, priced_calls: 1, unpriced_calls: 1 });
      assert.equal(rows.get('unpriced-7b')!.spend24h, null);

      const shown = await showModel(store, 'groq', 'own-price');
      assert.equal(shown.price?.source, 'misc');
      assert.equal(shown.spend24h?.cost_usd, 0.25);
      await store.close();
    });
  });
}
