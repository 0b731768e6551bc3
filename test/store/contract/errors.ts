// ErrorsStore: an error reads back whole.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { makeError } from '../../fixtures.ts';
import { contractStore, type OpenStore } from './context.ts';

export function errorsContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: errors`, () => {
    const store = contractStore(open);

    test('an error reads back whole, with its date as a date', async () => {
      const e = makeError({ provider: 'errrt', model_name: 'm', http_status: null, error_kind: 'network' });
      await store.insertError(e);
      const [back] = await store.recentErrors('errrt', 'm', 1);
      assert.deepEqual(back, e);
      assert.ok(back!.ts instanceof Date);
    });
  });
}
