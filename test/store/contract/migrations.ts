// MigrationsStore (SPEC 4.0): nothing in the operator's documents is rewritten unless asked; a
// dry run says what would change; a migration is recorded and can be put back.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelDoc } from '../../../lib/store/documents.ts';
import { makeModel } from '../../fixtures.ts';
import { at, contractStore, type OpenStore } from './context.ts';

export function migrationsContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: migrations`, () => {
    const store = contractStore(open);

    test('a Date deprecation_date: read as YYYY-MM-DD, rewritten only by an applied migration, put back by its revert', async () => {
      const old = new Date('2025-06-06T00:00:00.000Z');
      // What an older dashboard wrote: a Date where the schema says String.
      await store.insertModel({ ...makeModel({ provider: 'mig', model_id: 'old', deprecated: true }), deprecation_date: old as unknown as string });
      await store.insertModel({ ...makeModel({ provider: 'mig', model_id: 'new', deprecated: true }), deprecation_date: '2026-01-31' });
      assert.equal((await store.getModel('mig', 'old'))?.deprecation_date, '2025-06-06');

      const plan = (await store.pendingMigrations()).filter((c) => c.provider === 'mig');
      assert.deepEqual(plan, [{ provider: 'mig', model_id: 'old', field: 'deprecation_date', before: old, after: '2025-06-06' }]);
      // The dry run wrote nothing: the plan is the same when asked again.
      assert.deepEqual((await store.pendingMigrations()).filter((c) => c.provider === 'mig'), plan);

      const batch = await store.applyMigration(plan, at('2026-12-01T08:00:00.000Z'));
      assert.deepEqual(batch.changes, plan);
      assert.deepEqual((await store.pendingMigrations()).filter((c) => c.provider === 'mig'), []);
      // An operator's edit after the plan is not overwritten by a second apply of the same plan.
      assert.deepEqual((await store.applyMigration(plan, at('2026-12-01T08:01:00.000Z'))).changes, []);

      const reverted = await store.revertMigration(batch.batch_id, at('2026-12-01T09:00:00.000Z'));
      assert.deepEqual(reverted?.reverted_at, at('2026-12-01T09:00:00.000Z'));
      assert.deepEqual((await store.pendingMigrations()).filter((c) => c.provider === 'mig'), plan);
      assert.equal(await store.revertMigration('no-such-batch', at('2026-12-01T09:00:00.000Z')), null);
      const listed = await store.listMigrations();
      assert.equal(listed[listed.length - 1]?.batch_id, batch.batch_id);
      // The other model was never touched.
      assert.equal((await store.getModel('mig', 'new') as ModelDoc).deprecation_date, '2026-01-31');
    });
  });
}
