import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { UsageError } from '../../lib/cli.ts';
import {
  CATALOG_PROVIDERS,
  addCommand,
  buildDiscoveryReport,
  buildDiscoveryStats,
  catalogRefusal,
  formatDiscoveryReport,
  formatDiscoveryStats,
  type DiscoveryReport,
} from '../../lib/discovery/report.ts';
import type { OpenRouterEntry, ProviderCatalogEntry } from '../../lib/store/documents.ts';
import { checkModelId } from '../../lib/models/rules.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import {
  anthropicModel,
  bedrockFoundationModel,
  bedrockProfile,
  groqModel,
  openAIModel,
  togetherModel,
  vertexModel,
} from '../fakes/catalog-servers.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeModel } from '../fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-discovery-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const NOW = new Date('2026-11-23T07:00:00Z');
const OLD = new Date('2026-10-01T07:00:00Z');
const RECENT = new Date('2026-11-20T07:00:00Z');

function or(id: string, o: { prompt: number | null; completion: number | null; context: number | null }): OpenRouterEntry {
  return { openrouter_id: id, name: id, org: id.split('/')[0]!, pricing: { prompt: o.prompt, completion: o.completion }, context_length: o.context, created: null };
}
/** A provider catalog entry from a raw model object, its id taken from where that provider puts it. */
function entry(provider: string, raw: Record<string, unknown>, name: string | null = null): ProviderCatalogEntry {
  const id = (raw.id ?? raw.modelId ?? raw.inferenceProfileId ?? String(raw.name).split('/').at(-1)) as string;
  return { provider, model_id: id, name, raw };
}

/** A store as a few daily fetches would leave it, plus the models we already benchmark. */
async function seed(store: Store): Promise<void> {
  await store.upsertOpenRouterCatalog(
    [
      or('anthropic/claude-sonnet-4', { prompt: 0.000003, completion: 0.000015, context: 200000 }),
      or('meta-llama/llama-3.3-70b-instruct', { prompt: 0.00000013, completion: 0.0000004, context: 131072 }),
      or('meta-llama/llama-3.3-70b-instruct:free', { prompt: 0, completion: 0, context: 65536 }),
      or('openai/gpt-4o-mini', { prompt: 0.00000015, completion: 0.0000006, context: 128000 }),
    ],
    OLD,
  );
  await store.upsertOpenRouterCatalog(
    [
      or('openai/gpt-5.1', { prompt: 0.00000125, completion: 0.00001, context: 400000 }),
      or('moonshotai/kimi-k3', { prompt: 0.0000006, completion: 0.0000025, context: null }),
      or('openrouter/auto', { prompt: null, completion: null, context: 2000000 }),
      or('google/gemini-2.5-flash-image', { prompt: 0.0000003, completion: 0.0000025, context: 32768 }),
    ],
    RECENT,
  );
  await store.upsertProviderCatalog(
    [
      entry('openai', openAIModel('gpt-4o-mini')),
      entry('openai', openAIModel('gpt-4o-mini-2024-07-18')),
      entry('openai', openAIModel('text-embedding-3-small')),
      entry('openai', openAIModel('gpt-4.1')),
      entry('anthropic', anthropicModel('claude-3-haiku-20240307', { displayName: 'Claude Haiku 3' }), 'Claude Haiku 3'),
    ],
    OLD,
  );
  await store.upsertProviderCatalog(
    [
      entry('openai', openAIModel('gpt-5.1')),
      entry('openai', openAIModel('gpt-5.1-2025-11-13')),
      entry('openai', openAIModel('o4-mini')),
      entry('openai', openAIModel('tts-2')),
      entry('openai', openAIModel('davinci-002')),
      entry('anthropic', anthropicModel('claude-sonnet-4-20250514', { displayName: 'Claude Sonnet 4' }), 'Claude Sonnet 4'),
      entry('groq', groqModel('llama-3.3-70b-versatile')),
      entry('groq', groqModel('meta-llama/llama-guard-4-12b')),
      entry('groq', groqModel('whisper-large-v3')),
      entry('groq', groqModel('openai/gpt-oss-120b')),
      entry('groq', groqModel('mistral-saba-24b', { active: false })),
      entry('together', togetherModel('meta-llama/Llama-3.3-70B-Instruct-Turbo'), 'Llama 3.3 70B'),
      entry('together', togetherModel('BAAI/bge-large-en-v1.5', { type: 'embedding' })),
      entry('together', togetherModel('black-forest-labs/FLUX.1-schnell', { type: 'image' })),
      entry('together', togetherModel('meta-llama/Meta-Llama-3-70B', { type: 'language' })),
      entry('bedrock', bedrockFoundationModel('anthropic.claude-sonnet-4-20250514-v1:0', { inference: ['INFERENCE_PROFILE'] })),
      entry('bedrock', bedrockFoundationModel('amazon.nova-premier-v1:0', { inference: ['INFERENCE_PROFILE'] })),
      entry('bedrock', bedrockFoundationModel('amazon.titan-embed-text-v2:0', { output: ['EMBEDDING'] })),
      entry('bedrock', bedrockFoundationModel('cohere.command-r-v1:0', { lifecycle: 'LEGACY' })),
      entry('bedrock', bedrockProfile('us.anthropic.claude-sonnet-4-20250514-v1:0', { name: 'US Claude Sonnet 4' }), 'US Claude Sonnet 4'),
      entry('bedrock', bedrockProfile('global.anthropic.claude-sonnet-4-20250514-v1:0', { name: 'Global Claude Sonnet 4' }), 'Global Claude Sonnet 4'),
      entry('bedrock', bedrockProfile('us.meta.llama3-1-8b-instruct-v1:0', { name: 'US Meta Llama 3.1 8B Instruct' })),
      entry('vertex', vertexModel('gemini-2.5-flash')),
      entry('vertex', vertexModel('gemini-live-2.5-flash')),
      entry('vertex', vertexModel('gemma-3-27b-it')),
      entry('vertex', vertexModel('imagen-4.0-generate-001')),
      entry('vertex', vertexModel('gemini-1.5-pro', { launchStage: 'DEPRECATED' })),
    ],
    RECENT,
  );
  await store.insertModel(makeModel({ provider: 'groq', model_id: 'llama-3.3-70b-versatile' }));
  await store.insertModel(makeModel({ provider: 'openai', model_id: 'GPT-4o-mini' }));
  await store.insertModel(makeModel({ provider: 'anthropic', model_id: 'claude-3-haiku-20240307', enabled: false, disabled_reason: 'retired' }));
  await store.insertModel(makeModel({ provider: 'openai', model_id: 'gpt-3.5-turbo', enabled: false, deprecated: true }));
}

/** provider → [model id, OpenRouter id, $/M prompt, $/M completion, context] of each listed model. */
function summary(groups: DiscoveryReport['newModels']) {
  return Object.fromEntries(
    groups.map((g) => [
      g.provider,
      g.models.map((c) => [c.modelId, c.openrouter?.id ?? null, c.openrouter?.promptPerMillion ?? null, c.openrouter?.completionPerMillion ?? null, c.openrouter?.contextLength ?? null]),
    ]),
  );
}

const backends: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(join(dir, `${Math.random()}.sqlite`))],
  ['mongodb (mingo)', () => createMongoStore(mingoCollections(), { location: 'memory' })],
];

for (const [name, open] of backends) {
  describe('discovery report before any fetch', () => {
  test('says no catalog was fetched yet and how to fetch, instead of "Nothing new"', async () => {
    const store = openSqliteStore(join(dir, 'never-fetched.sqlite'));
    try {
      const report = await buildDiscoveryReport(store, { now: NOW });
      assert.deepEqual(report.neverFetched, ['openrouter', ...CATALOG_PROVIDERS]);
      const { text } = formatDiscoveryReport(report);
      assert.match(text, /^No catalog has been fetched yet: run npm run discovery -- fetch first/m);
      assert.doesNotMatch(text, /Nothing new/);
      const groq = formatDiscoveryReport(await buildDiscoveryReport(store, { now: NOW, provider: 'groq' })).text;
      assert.match(groq, /^No catalog has been fetched yet for groq: run npm run discovery -- fetch first/m);
    } finally {
      await store.close();
    }
  });
});

describe(`discovery report on ${name}`, () => {
    test('lists exactly the new benchmarkable models, grouped by provider, with OpenRouter price and context', async () => {
      const store = await open();
      try {
        await seed(store);
        const report = await buildDiscoveryReport(store, { now: NOW });
        assert.deepEqual(summary(report.newModels), {
          openai: [
            ['gpt-5.1', 'openai/gpt-5.1', 1.25, 10, 400000],
            ['o4-mini', null, null, null, null],
          ],
          anthropic: [['claude-sonnet-4-20250514', 'anthropic/claude-sonnet-4', 3, 15, 200000]],
          groq: [['openai/gpt-oss-120b', null, null, null, null]],
          together: [['meta-llama/Llama-3.3-70B-Instruct-Turbo', 'meta-llama/llama-3.3-70b-instruct', 0.13, 0.4, 131072]],
          bedrock: [['us.anthropic.claude-sonnet-4-20250514-v1:0', 'anthropic/claude-sonnet-4', 3, 15, 200000]],
          vertex: [['gemini-2.5-flash', null, null, null, null]],
        });
        assert.deepEqual(summary(report.notYetBenchmarked), { openai: [['gpt-4.1', null, null, null, null]] });
        assert.deepEqual(
          report.openRouterOnly.models.map((m) => [m.id, m.promptPerMillion, m.completionPerMillion, m.contextLength]),
          [['moonshotai/kimi-k3', 0.6, 2.5, null]],
        );
        assert.equal(report.newCount, 8);
        // gpt-4o-mini-2024-07-18 is a snapshot of the benchmarked gpt-4o-mini.
        assert.equal(report.variantCount, 1);
        assert.equal(report.refusedCount, 18);

        const openai = report.newModels.find((g) => g.provider === 'openai')!;
        assert.deepEqual(openai.models[0]!.alsoListedAs, ['gpt-5.1-2025-11-13']);
        assert.equal(openai.catalogFirstFetchedAt, null);
        assert.deepEqual(report.newModels.find((g) => g.provider === 'groq')!.catalogFirstFetchedAt, RECENT);
        const bedrock = report.newModels.find((g) => g.provider === 'bedrock')!.models[0]!;
        assert.deepEqual(bedrock.alsoListedAs, ['global.anthropic.claude-sonnet-4-20250514-v1:0']);
        assert.equal(bedrock.command, "npm run models -- add bedrock us.anthropic.claude-sonnet-4-20250514-v1:0 --display-name 'US Claude Sonnet 4'");
      } finally {
        await store.close();
      }
    });

    test('the text has a ready add command and price per model and none of the refused ids', async () => {
      const store = await open();
      try {
        await seed(store);
        const { subject, text } = formatDiscoveryReport(await buildDiscoveryReport(store, { now: NOW }));
        assert.equal(subject, '[INFO] llm-bench discovery: 8 new models');
        assert.match(text, /^7 new models in provider catalogs to consider, 1 new on OpenRouter only\.$/m);
        assert.match(text, /^ {4}npm run models -- add anthropic claude-sonnet-4-20250514 --display-name 'Claude Sonnet 4'$/m);
        assert.match(text, /^ {4}npm run models -- add together meta-llama\/Llama-3\.3-70B-Instruct-Turbo --display-name 'Llama 3\.3 70B'$/m);
        assert.match(text, /^ {4}npm run models -- add openai gpt-5\.1$/m);
        assert.match(text, /openrouter anthropic\/claude-sonnet-4: \$3\.00 \/ \$15\.00 per M tokens \(prompt \/ completion\), 200,000 context/);
        assert.match(text, /openrouter meta-llama\/llama-3\.3-70b-instruct: \$0\.13 \/ \$0\.40 per M tokens/);
        assert.match(text, /moonshotai\/kimi-k3: \$0\.60 \/ \$2\.50 per M tokens \(prompt \/ completion\), context unknown/);
        assert.match(text, /^ {4}openrouter: no matching entry$/m);
        assert.match(text, /== Not benchmarked yet, in the catalogs since before 2026-11-16 ==\n\nopenai \(1\)\n {2}gpt-4\.1/);
        assert.match(text, /Left out: 18 that cannot be benchmarked .*; 1 other id of a model we already have/);
        for (const refused of [
          'text-embedding-3-small',
          'tts-2',
          'davinci-002',
          'llama-guard',
          'whisper',
          'mistral-saba',
          'bge-large',
          'FLUX',
          'Meta-Llama-3-70B',
          'nova-premier',
          'titan-embed',
          'command-r',
          'gemini-live',
          'gemma-3',
          'imagen',
          'gemini-1.5-pro',
          'openrouter/auto',
          'gemini-2.5-flash-image',
          'llama3-1-8b',
          'gpt-4o-mini-2024',
        ]) {
          assert.ok(!text.includes(refused), `${refused} must not be in the report`);
        }
        // The un-prefixed Bedrock Anthropic id is refused; only the us. profile is proposed.
        assert.doesNotMatch(text, /(^|\s)anthropic\.claude/m);
      } finally {
        await store.close();
      }
    });

    test('--provider, --max and --days narrow the report', async () => {
      const store = await open();
      try {
        await seed(store);
        const bedrock = await buildDiscoveryReport(store, { now: NOW, provider: 'bedrock' });
        assert.deepEqual(bedrock.newModels.map((g) => g.provider), ['bedrock']);
        assert.equal(bedrock.openRouterOnly.total, 0);
        assert.equal(bedrock.newCount, 1);

        const capped = await buildDiscoveryReport(store, { now: NOW, max: 1 });
        const openai = capped.newModels.find((g) => g.provider === 'openai')!;
        assert.deepEqual([openai.models.length, openai.total], [1, 2]);
        assert.equal(capped.newCount, 8, 'the count is before --max');
        assert.match(formatDiscoveryReport(capped).text, /^ {2}… and 1 more: discovery\.ts report --provider openai --max 2$/m);

        const lastDay = await buildDiscoveryReport(store, { now: NOW, days: 1 });
        assert.equal(lastDay.newCount, 0);
        assert.equal(lastDay.newModels.length, 0);
        const { subject, text } = formatDiscoveryReport(lastDay);
        assert.equal(subject, '[INFO] llm-bench discovery: 0 new models');
        assert.match(text, /Nothing new: no catalog model first seen in the window that we do not benchmark\./);
        assert.match(text, /== Not benchmarked yet, in the catalogs since before 2026-11-22 ==/);
        // The fixture fetched some catalogs only: the others are named, not counted as "nothing new".
        assert.ok(lastDay.neverFetched.length > 0 && !lastDay.neverFetched.includes('openrouter') && !lastDay.neverFetched.includes('openai'), String(lastDay.neverFetched));
        assert.match(text, new RegExp(`^Never fetched \\(no entry stored; a provider without its key is skipped by fetch\\): ${lastDay.neverFetched.join(', ')}\\.$`, 'm'));

        await assert.rejects(buildDiscoveryReport(store, { now: NOW, provider: 'nosuch' }), (e) => e instanceof UsageError && /Providers with a catalog: openai, /.test(e.message));
        await assert.rejects(buildDiscoveryReport(store, { now: NOW, provider: 'mock' }), UsageError);
        await assert.rejects(buildDiscoveryReport(store, { now: NOW, days: 0 }), UsageError);
        await assert.rejects(buildDiscoveryReport(store, { now: NOW, max: 1.5 }), UsageError);
      } finally {
        await store.close();
      }
    });

    test('stats: catalog size, new this week, models rows by state, last fetch, per provider', async () => {
      const store = await open();
      try {
        await seed(store);
        const stats = await buildDiscoveryStats(store, { now: NOW });
        const row = (p: string) => {
          const r = stats.find((s) => s.provider === p)!;
          return [r.catalog, r.newThisWeek, r.models, r.enabled, r.disabled, r.deprecated, r.lastFetched?.toISOString() ?? null];
        };
        assert.deepEqual(stats.map((s) => s.provider), ['openrouter', 'openai', 'anthropic', 'groq', 'together', 'bedrock', 'vertex']);
        assert.deepEqual(row('openrouter'), [8, 4, 0, 0, 0, 0, RECENT.toISOString()]);
        assert.deepEqual(row('openai'), [9, 5, 2, 1, 0, 1, RECENT.toISOString()]);
        assert.deepEqual(row('anthropic'), [2, 1, 1, 0, 1, 0, RECENT.toISOString()]);
        assert.deepEqual(row('groq'), [5, 5, 1, 1, 0, 0, RECENT.toISOString()]);
        const table = formatDiscoveryStats(stats).split('\n');
        assert.match(table[0]!, /^provider\s+catalog\s+new 7d\s+models\s+enabled\s+disabled\s+deprecated\s+last fetched$/);
        assert.match(table[1]!, /^openrouter\s+8\s+4\s+–\s+–\s+–\s+–\s+2026-11-20 07:00$/);
        assert.match(table[2]!, /^openai\s+9\s+5\s+2\s+1\s+0\s+1\s+2026-11-20 07:00$/);
      } finally {
        await store.close();
      }
    });
  });
}

describe('catalogRefusal', () => {
  test('uses model-rules and the provider\'s own catalog metadata', () => {
    const cases: Array<[string, string, unknown, RegExp | null]> = [
      ['openai', 'gpt-4o-transcribe', openAIModel('gpt-4o-transcribe'), /speech-to-text/],
      ['together', 'Qwen/Qwen2.5-72B-Instruct-Turbo', togetherModel('Qwen/Qwen2.5-72B-Instruct-Turbo'), null],
      ['together', 'mistralai/Mixtral-8x7B-v0.1', togetherModel('mistralai/Mixtral-8x7B-v0.1', { type: 'language' }), /Together lists it as a language model/],
      ['groq', 'gemma2-9b-it', groqModel('gemma2-9b-it', { active: false }), /inactive/],
      ['bedrock', 'amazon.nova-pro-v1:0', bedrockFoundationModel('amazon.nova-pro-v1:0'), null],
      ['bedrock', 'amazon.nova-premier-v1:0', bedrockFoundationModel('amazon.nova-premier-v1:0', { inference: ['INFERENCE_PROFILE'] }), /inference profile id/],
      ['bedrock', 'mistral.mistral-large-2402-v1:0', bedrockFoundationModel('mistral.mistral-large-2402-v1:0', { streaming: false }), /does not stream/],
      ['bedrock', 'us.amazon.nova-premier-v1:0', bedrockProfile('us.amazon.nova-premier-v1:0', { name: 'US Nova Premier' }), null],
      ['bedrock', 'us.deepseek.r1-v1:0', bedrockProfile('us.deepseek.r1-v1:0', { name: 'US DeepSeek-R1', status: 'INACTIVE' }), /INACTIVE/],
      ['bedrock', 'us.meta.llama3-2-90b-instruct-v1:0', bedrockProfile('us.meta.llama3-2-90b-instruct-v1:0', { name: 'US Llama 3.2 90B' }), null],
      ['vertex', 'gemini-2.5-pro', vertexModel('gemini-2.5-pro'), null],
      ['vertex', 'gemma-3-27b-it', vertexModel('gemma-3-27b-it'), /not a Gemini model/],
      ['fireworks', 'accounts/fireworks/models/deepseek-v3', { name: 'accounts/fireworks/models/deepseek-v3', state: 'UPLOADING' }, /UPLOADING/],
      ['cerebras', 'llama-3.3-70b', null, null],
    ];
    for (const [provider, model_id, raw, expected] of cases) {
      const why = catalogRefusal({ provider, model_id, raw });
      if (expected) assert.match(why ?? '', expected, `${provider}/${model_id}`);
      else assert.equal(why, null, `${provider}/${model_id}`);
    }
  });

  test('model-rules additions: embedding families, Gemini Live, completions-only and computer-use models are refused', () => {
    for (const id of ['BAAI/bge-m3', 'intfloat/e5-large-v2', 'intfloat/multilingual-e5-large', 'thenlper/gte-large', 'sentence-transformers/all-MiniLM-L6-v2']) {
      assert.match(checkModelId('deepinfra', id)?.reason ?? '', /embedding/, id);
    }
    for (const id of ['gemini-live-2.5-flash-preview', 'gemini-2.0-flash-live-001']) assert.match(checkModelId('vertex', id)?.reason ?? '', /realtime/, id);
    for (const id of ['davinci-002', 'babbage-002', 'gpt-3.5-turbo-instruct', 'gpt-3.5-turbo-instruct-0914']) {
      assert.match(checkModelId('openai', id)?.reason ?? '', /completions-only/, id);
    }
    assert.match(checkModelId('openai', 'computer-use-preview')?.reason ?? '', /computer-use/);
    for (const id of ['gpt-3.5-turbo', 'deliverance-7b', 'olive-13b', 'gemma-2-9b-it', 'qwen3-235b-a22b', 'Qwen/Qwen2.5-72B-Instruct-Turbo', 'mixtral-8x7b-32768']) {
      assert.equal(checkModelId('groq', id), null, id);
    }
  });
});

describe('addCommand', () => {
  test('quotes only what the shell would split', () => {
    assert.equal(addCommand('fireworks', 'accounts/fireworks/models/llama-v3p3-70b-instruct'), 'npm run models -- add fireworks accounts/fireworks/models/llama-v3p3-70b-instruct');
    assert.equal(addCommand('anthropic', 'claude-opus-4-1-20250805', "Claude's Opus 4.1"), "npm run models -- add anthropic claude-opus-4-1-20250805 --display-name 'Claude'\\''s Opus 4.1'");
    assert.equal(addCommand('openai', 'gpt-5.1', 'gpt-5.1'), 'npm run models -- add openai gpt-5.1');
  });
});
