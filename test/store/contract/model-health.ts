// ModelHealthStore: one document per model, replaced on every write.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ModelHealthDoc } from '../../../lib/store/documents.ts';
import { at, contractStore, type OpenStore } from './context.ts';

export function modelHealthContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: model health`, () => {
    const store = contractStore(open);

    test('model health: one document per model, replaced on every write, dates as dates', async () => {
      const doc: ModelHealthDoc = {
        provider: 'mh',
        model_id: 'a',
        enabled: true,
        cadence_seconds: 1800,
        last_success_at: at('2026-07-01T10:00:00Z'),
        last_attempt_at: at('2026-07-01T10:00:00Z'),
        last_error_at: null,
        last_error_kind: null,
        consecutive_failures: 0,
        successes_24h: 3,
        failures_24h: 0,
        staleness_seconds: 60,
        freshness_status: 'fresh',
        updated_at: at('2026-07-01T10:01:00Z'),
      };
      await store.upsertModelHealth([doc, { ...doc, model_id: 'b', freshness_status: 'never_run', last_success_at: null, staleness_seconds: null }]);
      await store.upsertModelHealth([{ ...doc, freshness_status: 'stale', staleness_seconds: 3000, updated_at: at('2026-07-01T10:51:00Z') }]);
      const rows = await store.listModelHealth({ provider: 'mh' });
      assert.deepEqual(rows.map((r) => [r.model_id, r.freshness_status, r.staleness_seconds]), [
        ['a', 'stale', 3000],
        ['b', 'never_run', null],
      ]);
      assert.deepEqual(rows[0], { ...doc, freshness_status: 'stale', staleness_seconds: 3000, updated_at: at('2026-07-01T10:51:00Z') });
    });
  });
}
