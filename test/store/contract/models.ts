// ModelsStore: insert, look up, update and list models, whatever date shape they were written with.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelDoc } from '../../../lib/store/documents.ts';
import { makeModel } from '../../fixtures.ts';
import { at, contractStore, day0, type OpenStore } from './context.ts';

export function modelsContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: models`, () => {
    const store = contractStore(open);

    test('models: insert, duplicate, case-insensitive lookup, update, and listing of benchmarked ones', async () => {
      const a = makeModel({ provider: 'mp', model_id: 'Model-A', misc: { region: 'us-west-2' } });
      assert.equal(await store.insertModel(a), 'stored');
      assert.equal(await store.insertModel(a), 'duplicate');
      await store.insertModel(makeModel({ provider: 'mp', model_id: 'model-b', enabled: false }));
      await store.insertModel(makeModel({ provider: 'mp', model_id: 'model-c', deprecated: true }));
      await store.insertModel(makeModel({ provider: 'other', model_id: 'model-a' }));
      assert.deepEqual((await store.getModel('mp', 'Model-A'))?.misc, { region: 'us-west-2' });
      assert.equal(await store.getModel('mp', 'model-a'), null);
      assert.deepEqual((await store.findModelsIgnoreCase('mp', 'MODEL-a')).map((m) => m.model_id), ['Model-A']);
      assert.deepEqual((await store.findModelsIgnoreCase('mp', 'model.a')).length, 0, 'ids are not patterns');
      assert.deepEqual(
        (await store.listModels({ provider: 'mp', benchmarkedOnly: true })).map((m) => m.model_id),
        ['Model-A'],
      );
      assert.equal((await store.listModels({ provider: 'mp' })).length, 3);
      const disabledAt = at('2026-11-21T08:00:00.000Z');
      assert.equal(await store.updateModel('mp', 'Model-A', { enabled: false, disabled_reason: 'retired', disabled_at: disabledAt }), true);
      assert.equal(await store.updateModel('mp', 'nope', { enabled: false }), false);
      const updated = await store.getModel('mp', 'Model-A');
      assert.equal(updated?.enabled, false);
      assert.equal(updated?.disabled_reason, 'retired');
      assert.ok(updated?.disabled_at instanceof Date);
      assert.equal(updated?.disabled_at?.getTime(), disabledAt.getTime());
      assert.ok(updated?.created_at instanceof Date);
      assert.deepEqual((await store.listModels({ provider: 'mp', benchmarkedOnly: true })).length, 0);
    });

    test('deprecation_date reads back as YYYY-MM-DD, also from an older Date value', async () => {
      await store.insertModel(makeModel({ provider: 'depr', model_id: 'new', deprecated: true, deprecation_date: '2026-12-01' }));
      // Written before the dashboard's String schema was followed.
      const legacy = { ...makeModel({ provider: 'depr', model_id: 'old', deprecated: true }), deprecation_date: day0('2026-10-15') };
      await store.insertModel(legacy as unknown as ModelDoc);
      assert.equal((await store.getModel('depr', 'new'))?.deprecation_date, '2026-12-01');
      assert.equal((await store.getModel('depr', 'old'))?.deprecation_date, '2026-10-15');
      assert.deepEqual((await store.listModels({ provider: 'depr' })).map((m) => m.deprecation_date), ['2026-12-01', '2026-10-15']);
      assert.equal((await store.findModelsIgnoreCase('depr', 'OLD'))[0]?.deprecation_date, '2026-10-15');
      await store.updateModel('depr', 'old', { successor_model: 'new' });
      assert.equal((await store.getModel('depr', 'old'))?.deprecation_date, '2026-10-15');
    });
  });
}
