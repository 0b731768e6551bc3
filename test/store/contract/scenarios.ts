// ScenariosStore (SPEC 4.5).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeScenario } from '../../fixtures.ts';
import { contractStore, type OpenStore } from './context.ts';

export function scenariosContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: scenarios`, () => {
    const store = contractStore(open);

    test('scenarios: insert, duplicate, read back whole, update, filter by enabled and kind, remove', async () => {
      const a = makeScenario({ scenario_id: 'sc-a', targets: { type: 'models', models: [{ provider: 'groq', model_id: 'm1' }] } });
      const b = makeScenario({ scenario_id: 'sc-b', kind: 'agent', inputs: { goal: 'find the price' }, enabled: false, targets: { type: 'all' } });
      assert.equal(await store.insertScenario(a), 'stored');
      assert.equal(await store.insertScenario(a), 'duplicate');
      await store.insertScenario(b);
      assert.deepEqual(await store.getScenario('sc-a'), a);
      assert.ok((await store.getScenario('sc-a'))!.created_at instanceof Date);
      const t = new Date('2026-11-21T00:00:00.000Z');
      assert.equal(await store.updateScenario('sc-b', { enabled: true, interval_minutes: 90, updated_at: t }), true);
      assert.equal(await store.updateScenario('nope', { enabled: true }), false);
      const mine = (docs: Array<{ scenario_id: string }>) => docs.map((d) => d.scenario_id).filter((id) => id.startsWith('sc-'));
      assert.deepEqual(mine(await store.listScenarios()), ['sc-a', 'sc-b']);
      assert.deepEqual(mine(await store.listScenarios({ kind: 'agent', enabledOnly: true })), ['sc-b']);
      assert.equal((await store.getScenario('sc-b'))!.interval_minutes, 90);
      assert.deepEqual((await store.getScenario('sc-b'))!.updated_at, t);
      assert.equal(await store.removeScenario('sc-a'), true);
      assert.equal(await store.removeScenario('sc-a'), false);
      assert.equal(await store.getScenario('sc-a'), null);
    });
  });
}
