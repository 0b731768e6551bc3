// CatalogsStore: upserts keep first_seen_at and move last_seen_at.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { at, contractStore, type OpenStore } from './context.ts';

export function catalogsContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: catalogs`, () => {
    const store = contractStore(open);

    test('catalog upserts keep first_seen_at and move last_seen_at', async () => {
      const t1 = at('2026-11-01T07:00:00Z');
      const t2 = at('2026-11-02T07:00:00Z');
      const or = {
        openrouter_id: 'meta-llama/llama-3.3-70b-instruct',
        name: 'Llama 3.3 70B',
        org: 'meta-llama',
        pricing: { prompt: 1e-7, completion: 3e-7 },
        context_length: 131072,
        created: at('2024-12-06T00:00:00Z'),
      };
      assert.deepEqual(await store.upsertOpenRouterCatalog([or], t1), { inserted: 1, updated: 0 });
      assert.deepEqual(await store.upsertOpenRouterCatalog([{ ...or, name: 'Llama 3.3 70B Instruct' }], t2), { inserted: 0, updated: 1 });
      const [o] = await store.listOpenRouterCatalog();
      assert.deepEqual(o, { ...or, name: 'Llama 3.3 70B Instruct', first_seen_at: t1, last_seen_at: t2 });

      const pc = { provider: 'groq', model_id: 'llama-3.3-70b-versatile', name: null, raw: { id: 'llama-3.3-70b-versatile', owned_by: 'Meta' } };
      await store.upsertProviderCatalog([pc], t1);
      await store.upsertProviderCatalog([pc, { ...pc, model_id: 'new-one' }], t2);
      const rows = await store.listProviderCatalog({ provider: 'groq' });
      assert.deepEqual(
        rows.map((r) => [r.model_id, r.first_seen_at.toISOString(), r.last_seen_at.toISOString()]),
        [
          ['llama-3.3-70b-versatile', t1.toISOString(), t2.toISOString()],
          ['new-one', t2.toISOString(), t2.toISOString()],
        ],
      );
      assert.deepEqual(rows[0]!.raw, pc.raw);
    });
  });
}
