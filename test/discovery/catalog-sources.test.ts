import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { CATALOG_SOURCES, fetchProviderCatalog, runCatalogFetch, skipReason } from '../../lib/discovery/catalog-sources.ts';
import { fireworksApiRoot } from '../../lib/discovery/catalogs/fireworks.ts';
import { fetchOpenRouterCatalog } from '../../lib/discovery/catalogs/openrouter.ts';
import { loadConfig, type Config } from '../../lib/config.ts';
import { BenchError } from '../../lib/errors.ts';
import { createLogger } from '../../lib/log.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import {
  FAKE_KEYS,
  anthropicModel,
  bedrockFoundationModel,
  bedrockProfile,
  deepInfraModel,
  fireworksModel,
  groqModel,
  openAIModel,
  openRouterModel,
  startCatalogServer,
  togetherModel,
  vertexModel,
  type CatalogFake,
  type CatalogFakeSource,
} from '../fakes/catalog-servers.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';

const awsCredentials = async () => ({ accessKeyId: FAKE_KEYS.awsAccessKeyId, secretAccessKey: FAKE_KEYS.awsSecretAccessKey });

let fake: CatalogFake;
let config: Config;
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-catalog-'));

before(async () => {
  fake = await startCatalogServer();
  config = loadConfig({ env: fake.env, dotenvPath: false });
});
after(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  for (const k of Object.keys(fake.plans)) delete fake.plans[k as CatalogFakeSource];
  fake.requests.length = 0;
});

function ids(entries: Array<{ model_id: string }>): string[] {
  return entries.map((e) => e.model_id);
}

async function rejection(p: Promise<unknown>): Promise<BenchError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof BenchError, `expected a BenchError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected the fetch to fail');
}

describe('catalog fetchers against each provider\'s list shape', () => {
  test('OpenRouter: prices become numbers per token, "-1" (variable) becomes null, created becomes a Date, org is the id prefix', async () => {
    fake.plans.openrouter = {
      models: [
        openRouterModel('anthropic/claude-sonnet-4', { name: 'Anthropic: Claude Sonnet 4', prompt: '0.000003', completion: '0.000015', context: 200000, created: 1747930371 }),
        openRouterModel('openrouter/auto', { prompt: '-1', completion: '-1', context: 2000000 }),
        openRouterModel('meta-llama/llama-3.3-70b-instruct:free', { prompt: '0', completion: '0', context: null }),
        { name: 'an entry without an id is skipped' },
      ],
    };
    const entries = await fetchOpenRouterCatalog(config);
    assert.deepEqual(entries, [
      {
        openrouter_id: 'anthropic/claude-sonnet-4',
        name: 'Anthropic: Claude Sonnet 4',
        org: 'anthropic',
        pricing: { prompt: 0.000003, completion: 0.000015 },
        context_length: 200000,
        created: new Date(1747930371 * 1000),
      },
      {
        openrouter_id: 'openrouter/auto',
        name: 'openrouter/auto',
        org: 'openrouter',
        pricing: { prompt: null, completion: null },
        context_length: 2000000,
        created: new Date(1747267200 * 1000),
      },
      {
        openrouter_id: 'meta-llama/llama-3.3-70b-instruct:free',
        name: 'meta-llama/llama-3.3-70b-instruct:free',
        org: 'meta-llama',
        pricing: { prompt: 0, completion: 0 },
        context_length: null,
        created: new Date(1747267200 * 1000),
      },
    ]);
    assert.equal(fake.requests[0]!.headers.authorization, undefined, 'OpenRouter needs no key');
  });

  test('OpenAI, Groq, DeepInfra, Cerebras: data[] with the bearer key; raw kept; Together: a bare array with display names', async () => {
    fake.plans.openai = { models: [openAIModel('gpt-4o-mini'), openAIModel('gpt-4o-mini-2024-07-18')] };
    fake.plans.groq = { models: [groqModel('llama-3.3-70b-versatile'), groqModel('openai/gpt-oss-120b', { ownedBy: 'OpenAI' })] };
    fake.plans.deepinfra = { models: [deepInfraModel('meta-llama/Llama-3.3-70B-Instruct-Turbo')] };
    fake.plans.cerebras = { models: [openAIModel('llama-3.3-70b', 'Meta'), openAIModel('qwen-3-235b-a22b-instruct-2507', 'Qwen')] };
    fake.plans.together = { models: [togetherModel('meta-llama/Llama-3.3-70B-Instruct-Turbo', { displayName: 'Meta Llama 3.3 70B Instruct Turbo' })] };

    assert.deepEqual(ids(await fetchProviderCatalog('openai', config)), ['gpt-4o-mini', 'gpt-4o-mini-2024-07-18']);
    const groq = await fetchProviderCatalog('groq', config);
    assert.deepEqual(ids(groq), ['llama-3.3-70b-versatile', 'openai/gpt-oss-120b']);
    assert.deepEqual(groq[0], { provider: 'groq', model_id: 'llama-3.3-70b-versatile', name: null, raw: groqModel('llama-3.3-70b-versatile') });
    assert.deepEqual(ids(await fetchProviderCatalog('deepinfra', config)), ['meta-llama/Llama-3.3-70B-Instruct-Turbo']);
    assert.deepEqual(ids(await fetchProviderCatalog('cerebras', config)), ['llama-3.3-70b', 'qwen-3-235b-a22b-instruct-2507']);
    const together = await fetchProviderCatalog('together', config);
    assert.equal(together[0]!.name, 'Meta Llama 3.3 70B Instruct Turbo');
    assert.equal((together[0]!.raw as { type: string }).type, 'chat');

    const auth = Object.fromEntries(fake.requests.map((r) => [r.source, r.headers.authorization]));
    assert.deepEqual(auth, {
      openai: `Bearer ${FAKE_KEYS.openai}`,
      groq: `Bearer ${FAKE_KEYS.groq}`,
      deepinfra: `Bearer ${FAKE_KEYS.deepinfra}`,
      cerebras: `Bearer ${FAKE_KEYS.cerebras}`,
      together: `Bearer ${FAKE_KEYS.together}`,
    });
  });

  test('Anthropic: follows has_more / last_id → after_id across pages, with x-api-key and anthropic-version', async () => {
    fake.plans.anthropic = {
      pageSize: 2,
      models: [
        anthropicModel('claude-opus-4-1-20250805', { displayName: 'Claude Opus 4.1' }),
        anthropicModel('claude-opus-4-20250514', { displayName: 'Claude Opus 4' }),
        anthropicModel('claude-sonnet-4-20250514', { displayName: 'Claude Sonnet 4' }),
        anthropicModel('claude-3-5-haiku-20241022', { displayName: 'Claude Haiku 3.5' }),
        anthropicModel('claude-3-haiku-20240307', { displayName: 'Claude Haiku 3' }),
      ],
    };
    const entries = await fetchProviderCatalog('anthropic', config);
    assert.deepEqual(ids(entries), [
      'claude-opus-4-1-20250805',
      'claude-opus-4-20250514',
      'claude-sonnet-4-20250514',
      'claude-3-5-haiku-20241022',
      'claude-3-haiku-20240307',
    ]);
    assert.equal(entries[2]!.name, 'Claude Sonnet 4');
    assert.deepEqual(
      fake.requests.map((r) => r.query.after_id ?? null),
      [null, 'claude-opus-4-20250514', 'claude-3-5-haiku-20241022'],
    );
    for (const r of fake.requests) {
      assert.equal(r.headers['x-api-key'], FAKE_KEYS.anthropic);
      assert.equal(r.headers['anthropic-version'], '2023-06-01');
    }
  });

  test('Fireworks: the management API beside the inference base URL, serverless models only, pageToken / nextPageToken pages', async () => {
    fake.plans.fireworks = {
      pageSize: 2,
      models: [
        fireworksModel('llama-v3p3-70b-instruct', { displayName: 'Llama 3.3 70B Instruct' }),
        fireworksModel('deepseek-v3'),
        fireworksModel('qwen3-235b-a22b'),
      ],
    };
    const entries = await fetchProviderCatalog('fireworks', config);
    assert.deepEqual(ids(entries), [
      'accounts/fireworks/models/llama-v3p3-70b-instruct',
      'accounts/fireworks/models/deepseek-v3',
      'accounts/fireworks/models/qwen3-235b-a22b',
    ]);
    assert.equal(entries[0]!.name, 'Llama 3.3 70B Instruct');
    assert.deepEqual(
      fake.requests.map((r) => [r.path, r.query.filter, r.query.pageToken ?? null]),
      [
        ['/fireworks/v1/accounts/fireworks/models', 'supports_serverless=true', null],
        ['/fireworks/v1/accounts/fireworks/models', 'supports_serverless=true', 'tok+/2=='],
      ],
    );
    assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${FAKE_KEYS.fireworks}`);
  });

  test('fireworksApiRoot maps the documented inference base URL to the management API', () => {
    assert.equal(fireworksApiRoot('https://api.fireworks.ai/inference/v1'), 'https://api.fireworks.ai/v1');
    assert.equal(fireworksApiRoot('http://127.0.0.1:8080/fw/inference/v1/'), 'http://127.0.0.1:8080/fw/v1');
    assert.equal(fireworksApiRoot('https://proxy.example/openai'), 'https://proxy.example/v1');
  });

  test('Bedrock: foundation models and paged inference profiles, each request SigV4-signed (tokens with + / = survive signing)', async () => {
    fake.plans.bedrock = {
      pageSize: 1,
      models: [
        bedrockFoundationModel('anthropic.claude-sonnet-4-20250514-v1:0', { name: 'Claude Sonnet 4', inference: ['INFERENCE_PROFILE'] }),
        bedrockFoundationModel('amazon.nova-pro-v1:0', { name: 'Nova Pro' }),
      ],
      profiles: [
        bedrockProfile('us.anthropic.claude-sonnet-4-20250514-v1:0', { name: 'US Claude Sonnet 4' }),
        bedrockProfile('us.meta.llama3-3-70b-instruct-v1:0', { name: 'US Meta Llama 3.3 70B Instruct' }),
      ],
    };
    const entries = await fetchProviderCatalog('bedrock', config, { awsCredentials });
    assert.deepEqual(ids(entries), [
      'anthropic.claude-sonnet-4-20250514-v1:0',
      'amazon.nova-pro-v1:0',
      'us.anthropic.claude-sonnet-4-20250514-v1:0',
      'us.meta.llama3-3-70b-instruct-v1:0',
    ]);
    assert.equal(entries[2]!.name, 'US Claude Sonnet 4');
    assert.ok('inferenceProfileArn' in (entries[2]!.raw as object));
    assert.deepEqual(
      fake.requests.map((r) => [r.path, r.query.nextToken ?? null]),
      [
        ['/bedrock/foundation-models', null],
        ['/bedrock/inference-profiles', null],
        ['/bedrock/inference-profiles', 'tok+/1=='],
      ],
    );
  });

  test('Bedrock with a wrong secret key: the fake recomputes the signature and refuses it (auth, 403)', async () => {
    const wrong = async () => ({ accessKeyId: FAKE_KEYS.awsAccessKeyId, secretAccessKey: 'not-the-secret-0123456789' });
    const err = await rejection(fetchProviderCatalog('bedrock', config, { awsCredentials: wrong }));
    assert.equal(err.kind, 'auth');
    assert.equal(err.httpStatus, 403);
    assert.match(err.message, /GET http:\/\/127\.0\.0\.1:\d+\/bedrock\/foundation-models: HTTP 403 The security token included in the request is invalid\./);
  });

  test('Bedrock without any credential source: a one-line auth error, not a crash', async () => {
    const none = async () => {
      throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
    };
    const err = await rejection(fetchProviderCatalog('bedrock', config, { awsCredentials: none }));
    assert.equal(err.kind, 'auth');
    assert.match(err.message, /^no AWS credentials found \(Could not load credentials from any providers\)$/);
  });

  test('Vertex: Google publisher models by short id, pageToken pages, bearer token and x-goog-user-project', async () => {
    const vconfig = loadConfig({ env: { ...fake.env, VERTEX_PROJECT: 'bench-project' }, dotenvPath: false });
    fake.plans.vertex = { pageSize: 2, models: [vertexModel('gemini-2.5-flash'), vertexModel('gemini-2.5-pro'), vertexModel('imagen-4.0-generate-001')] };
    const entries = await fetchProviderCatalog('vertex', vconfig);
    assert.deepEqual(ids(entries), ['gemini-2.5-flash', 'gemini-2.5-pro', 'imagen-4.0-generate-001']);
    assert.deepEqual(fake.requests.map((r) => r.query.pageToken ?? null), [null, 'tok+/2==']);
    assert.equal(fake.requests[0]!.headers.authorization, `Bearer ${FAKE_KEYS.vertex}`);
    assert.equal(fake.requests[0]!.headers['x-goog-user-project'], 'bench-project');
  });

  test('an empty list is an empty catalog for every source (Google\'s `{}` included)', async () => {
    assert.deepEqual(await fetchOpenRouterCatalog(config), []);
    for (const source of CATALOG_SOURCES) {
      if (source === 'openrouter') continue;
      assert.deepEqual(await fetchProviderCatalog(source, config, { awsCredentials }), [], source);
    }
  });
});

describe('catalog fetch failures are one classified line', () => {
  test('401 with the provider\'s error body → auth, the provider\'s message, never the key', async () => {
    fake.plans.anthropic = { fail: 'unauthorized' };
    const a = await rejection(fetchProviderCatalog('anthropic', config));
    assert.equal(a.kind, 'auth');
    assert.equal(a.httpStatus, 401);
    assert.match(a.message, /\/anthropic\/v1\/models: HTTP 401 authentication_error: invalid x-api-key$/);

    const bad = loadConfig({ env: { ...fake.env, GROQ_API_KEY: 'gsk_wrongwrongwrong0123' }, dotenvPath: false });
    const g = await rejection(fetchProviderCatalog('groq', bad));
    assert.equal(g.kind, 'auth');
    assert.match(g.message, /HTTP 401 invalid_request_error: Incorrect API key provided/);
    assert.doesNotMatch(g.message, /gsk_wrong/);

    fake.plans.vertex = { fail: 'unauthorized' };
    assert.match((await rejection(fetchProviderCatalog('vertex', config))).message, /HTTP 401 UNAUTHENTICATED: Request had invalid authentication credentials/);
  });

  test('500 → transient_provider; an HTML error page → named as such with its title; broken JSON → invalid JSON', async () => {
    fake.plans.openai = { fail: 'server_error' };
    const e500 = await rejection(fetchProviderCatalog('openai', config));
    assert.equal(e500.kind, 'transient_provider');
    assert.match(e500.message, /HTTP 500 server_error: The server had an error/);

    fake.plans.together = { fail: 'html' };
    const html = await rejection(fetchProviderCatalog('together', config));
    assert.equal(html.kind, 'transient_provider');
    assert.match(html.message, /\/together\/v1\/models: HTTP 502 an HTML page \("502 Bad Gateway"\)$/);

    fake.plans.openrouter = { fail: 'bad_json' };
    const json = await rejection(fetchOpenRouterCatalog(config));
    assert.match(json.message, /\/openrouter\/api\/v1\/models: answered invalid JSON \(HTTP 200, \d+ bytes: /);
  });

  test('a failure on the second page fails the source (a half catalog is not stored as whole)', async () => {
    fake.plans.fireworks = { pageSize: 1, models: [fireworksModel('deepseek-v3'), fireworksModel('qwen3-235b-a22b')], fail: 'server_error', failAfter: 1 };
    const err = await rejection(fetchProviderCatalog('fireworks', config));
    assert.equal(err.kind, 'transient_provider');
    assert.deepEqual(fake.requests.map((r) => r.query.pageToken ?? null), [null, 'tok+/1==']);
  });

  test('connection refused → network; no answer within the time limit → timeout', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = loadConfig({ env: { ...fake.env, CEREBRAS_BASE_URL: `http://127.0.0.1:${port}/v1` }, dotenvPath: false });
    const net = await rejection(fetchProviderCatalog('cerebras', refused));
    assert.equal(net.kind, 'network');
    assert.match(net.message, new RegExp(`GET http://127\\.0\\.0\\.1:${port}/v1/models: `));

    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const hanging = loadConfig({
        env: { ...fake.env, CEREBRAS_BASE_URL: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1` },
        dotenvPath: false,
      });
      const slow = await rejection(fetchProviderCatalog('cerebras', hanging, { timeoutMs: 50 }));
      assert.equal(slow.kind, 'timeout');
      assert.match(slow.message, /no answer within 50 ms/);
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

describe('skipReason', () => {
  test('a provider without credentials is skipped with the variable to set; OpenRouter never is', () => {
    const bare = loadConfig({ env: {}, dotenvPath: false });
    assert.equal(skipReason('openrouter', bare), null);
    assert.equal(skipReason('groq', bare), 'GROQ_API_KEY is not set');
    assert.equal(skipReason('vertex', bare), 'VERTEX_ACCESS_TOKEN is not set');
    assert.match(skipReason('bedrock', bare)!, /^no AWS credentials configured/);
    assert.equal(skipReason('bedrock', loadConfig({ env: { AWS_PROFILE: 'bench' }, dotenvPath: false })), null);
  });
});

const backends: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(join(dir, `${Math.random()}.sqlite`))],
  ['mongodb (mingo)', () => createMongoStore(mingoCollections(), { location: 'memory' })],
];

for (const [name, open] of backends) {
  describe(`runCatalogFetch on ${name}`, () => {
    test('two runs: fetched/new per source, first_seen_at kept, last_seen_at moved, skipped and failed sources reported', async () => {
      const store = await open();
      try {
        const lines: string[] = [];
        const log = createLogger({ write: (level, line) => lines.push(`${level} ${line}`) });
        const partial = loadConfig({ env: { ...fake.env, TOGETHER_API_KEY: '', CEREBRAS_API_KEY: '' }, dotenvPath: false });
        const day1 = new Date('2026-11-20T07:00:00Z');
        const day2 = new Date('2026-11-21T07:00:00Z');
        fake.plans.openrouter = { models: [openRouterModel('openai/gpt-4o-mini'), openRouterModel('anthropic/claude-sonnet-4')] };
        fake.plans.openai = { models: [openAIModel('gpt-4o-mini')] };
        fake.plans.anthropic = { fail: 'unauthorized' };
        fake.plans.groq = { models: [groqModel('llama-3.3-70b-versatile')] };

        const run1 = await runCatalogFetch(store, partial, { now: () => day1, log, awsCredentials });
        assert.equal(run1.allFailed, false);
        assert.deepEqual(
          run1.results.map((r) => (r.status === 'fetched' ? `${r.source} ${r.fetched}/${r.new}` : `${r.source} ${r.status}`)),
          ['openrouter 2/2', 'openai 1/1', 'anthropic failed', 'groq 1/1', 'together skipped', 'deepinfra 0/0', 'fireworks 0/0', 'cerebras skipped', 'bedrock 0/0', 'vertex 0/0'],
        );
        assert.ok(lines.includes('info groq: fetched 1, new 1'));
        assert.ok(lines.includes('info together: skipped: TOGETHER_API_KEY is not set'));
        assert.ok(lines.some((l) => /^warn anthropic: failed \(auth\): GET .*HTTP 401/.test(l)), lines.join('\n'));

        fake.plans.openai = { models: [openAIModel('gpt-4o-mini'), openAIModel('gpt-4.1')] };
        fake.plans.anthropic = { models: [anthropicModel('claude-sonnet-4-20250514', { displayName: 'Claude Sonnet 4' })] };
        const run2 = await runCatalogFetch(store, partial, { now: () => day2, awsCredentials });
        const openai = run2.results.find((r) => r.source === 'openai');
        assert.deepEqual(openai, { source: 'openai', status: 'fetched', fetched: 2, new: 1 });

        const catalog = await store.listProviderCatalog({ provider: 'openai' });
        const byId = Object.fromEntries(catalog.map((d) => [d.model_id, d]));
        assert.deepEqual(byId['gpt-4o-mini']!.first_seen_at, day1);
        assert.deepEqual(byId['gpt-4o-mini']!.last_seen_at, day2);
        assert.deepEqual(byId['gpt-4.1']!.first_seen_at, day2);
        assert.deepEqual(byId['gpt-4.1']!.raw, openAIModel('gpt-4.1'));
        const or = await store.listOpenRouterCatalog();
        assert.deepEqual(
          or.map((d) => [d.openrouter_id, d.first_seen_at.toISOString(), d.last_seen_at.toISOString()]),
          [
            ['anthropic/claude-sonnet-4', day1.toISOString(), day2.toISOString()],
            ['openai/gpt-4o-mini', day1.toISOString(), day2.toISOString()],
          ],
        );
        assert.deepEqual((await store.listProviderCatalog({ provider: 'anthropic' })).map((d) => d.first_seen_at), [day2]);
      } finally {
        await store.close();
      }
    });

    test('allFailed only when every attempted source failed', async () => {
      const store = await open();
      try {
        const onlyOpenRouter = loadConfig({
          env: { OPENROUTER_BASE_URL: fake.env.OPENROUTER_BASE_URL!, OPENAI_API_KEY: FAKE_KEYS.openai, OPENAI_BASE_URL: fake.env.OPENAI_BASE_URL! },
          dotenvPath: false,
        });
        fake.plans.openrouter = { fail: 'html' };
        fake.plans.openai = { fail: 'server_error' };
        assert.equal((await runCatalogFetch(store, onlyOpenRouter)).allFailed, true);
        fake.plans.openai = { models: [openAIModel('gpt-4o')] };
        assert.equal((await runCatalogFetch(store, onlyOpenRouter)).allFailed, false);
      } finally {
        await store.close();
      }
    });
  });
}
