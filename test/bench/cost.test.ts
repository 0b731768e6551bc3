import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { checkMiscPrice, costOf, createPriceBook, formatPrice, formatUsd } from '../../lib/bench/cost.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import type { OpenRouterCatalogDoc } from '../../lib/store/documents.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { fixedAnswer } from '../fakes/fixed-answer.ts';

function catalogEntry(id: string, prompt: number | null, completion: number | null): OpenRouterCatalogDoc {
  const seen = new Date('2026-11-01T00:00:00Z');
  return { openrouter_id: id, name: id, org: id.split('/')[0]!, pricing: { prompt, completion }, context_length: 131072, created: null, first_seen_at: seen, last_seen_at: seen };
}

const CATALOG = [
  catalogEntry('meta-llama/llama-3.3-70b-instruct', 1.2e-7, 3e-7),
  catalogEntry('meta-llama/llama-3.3-70b-instruct:free', 0, 0),
  catalogEntry('openrouter/auto', null, null),
  catalogEntry('mistralai/half-priced', 1e-7, null),
];

describe('prices and cost', () => {
  test('misc.price gives the price in USD per million tokens, and wins over the catalog', () => {
    const book = createPriceBook(CATALOG);
    const price = book.priceOf({ provider: 'groq', modelId: 'llama-3.3-70b-versatile', misc: { price: { input: 0.59, output: 0.79 } } });
    assert.deepEqual(price, { input: 0.59, output: 0.79, source: 'misc' });
    // 14 prompt tokens and 64 generated: (14 × 0.59 + 64 × 0.79) / 1e6.
    assert.equal(costOf({ input_tokens: 14, generated_output_tokens: 64 }, price), (14 * 0.59 + 64 * 0.79) / 1e6);
  });

  test("without misc.price the OpenRouter catalog's price is used, matched as discovery matches, the plain id before :free", () => {
    const price = createPriceBook(CATALOG).priceOf({ provider: 'groq', modelId: 'llama-3.3-70b-versatile' });
    assert.equal(price?.source, 'openrouter');
    assert.equal(price?.openrouterId, 'meta-llama/llama-3.3-70b-instruct');
    assert.ok(Math.abs(price!.input - 0.12) < 1e-12 && Math.abs(price!.output - 0.3) < 1e-12, JSON.stringify(price));
    const cost = costOf({ input_tokens: 1000, generated_output_tokens: 2000 }, price);
    assert.ok(Math.abs(cost! - (1000 * 0.12 + 2000 * 0.3) / 1e6) < 1e-15);
  });

  test('unknown stays null: no match, a catalog entry with a missing price, an invalid misc.price, no input count', () => {
    const book = createPriceBook(CATALOG);
    assert.equal(book.priceOf({ provider: 'groq', modelId: 'no-such-model-9b' }), null);
    assert.equal(book.priceOf({ provider: 'together', modelId: 'mistralai/half-priced' }), null);
    assert.equal(book.priceOf({ provider: 'groq', modelId: 'llama-3.3-70b-versatile', misc: { price: { input: '0.59', output: 0.79 } } }), null);
    assert.equal(costOf({ input_tokens: null, generated_output_tokens: 64 }, { input: 1, output: 1, source: 'misc' }), null);
    assert.equal(costOf({ input_tokens: 10, generated_output_tokens: 64 }, null), null);
    // At a free input price the count does not matter.
    assert.equal(costOf({ input_tokens: null, generated_output_tokens: 64 }, { input: 0, output: 1000, source: 'misc' }), 0.064);
  });

  test('the mock provider costs nothing, a known 0', () => {
    const price = createPriceBook([]).priceOf({ provider: 'mock', modelId: 'mock-fast' });
    assert.equal(costOf({ input_tokens: 10, generated_output_tokens: 64 }, price), 0);
  });

  test('checkMiscPrice accepts {input, output} numbers and names what is wrong otherwise', () => {
    assert.equal(checkMiscPrice({ input: 0, output: 15 }), null);
    assert.match(checkMiscPrice(3)!, /must be an object/);
    assert.match(checkMiscPrice({ input: 1 })!, /misc\.price\.output must be a number.*got nothing/);
    assert.match(checkMiscPrice({ input: -1, output: 1 })!, /misc\.price\.input/);
    assert.match(checkMiscPrice({ input: 1, output: 1, currency: 'EUR' })!, /unknown field\(s\) currency/);
  });

  test('prices and dollars print for a person', () => {
    assert.equal(formatPrice({ input: 0.59, output: 0.79, source: 'misc' }), '$0.59 in / $0.79 out per M tokens (misc.price)');
    assert.equal(formatPrice(null), 'price unknown');
    assert.equal(formatUsd(0.000123456), '$0.000123');
    assert.equal(formatUsd(12.5), '$12.50');
    assert.equal(formatUsd(null), '-');
  });

  test('a sweep stores cost_usd on every metric row: priced from misc.price or the catalog, null when unknown', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const config = loadConfig({ env: { RUNNER_NAME: 't' }, dotenvPath: false });
      await runSweep({
        config,
        sink: store,
        loadProvider: async () => fixedAnswer({ inputTokens: 10, outputTokens: 64 }),
        prices: createPriceBook(CATALOG),
        models: [
          { provider: 'groq', modelId: 'own-price', misc: { price: { input: 1, output: 2 } } },
          { provider: 'groq', modelId: 'llama-3.3-70b-versatile', misc: {} },
          { provider: 'groq', modelId: 'unpriced-7b', misc: {} },
        ],
      });
      const cost = async (model: string) => (await store.recentMetrics('groq', model, 1))[0]?.cost_usd;
      assert.equal(await cost('own-price'), (10 * 1 + 64 * 2) / 1e6);
      assert.ok(Math.abs((await cost('llama-3.3-70b-versatile'))! - (10 * 0.12 + 64 * 0.3) / 1e6) < 1e-15);
      assert.equal(await cost('unpriced-7b'), null);
    } finally {
      await store.close();
    }
  });
});
