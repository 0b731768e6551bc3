// SweepSkipsStore (SPEC 17).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { at, contractStore, day, type OpenStore } from './context.ts';

export function sweepSkipsContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: sweep skips`, () => {
    const store = contractStore(open);

    // SPEC 17: models a sweep did not start for the daily budget, for the health mail.
    test('sweep skips read back whole, newest first, within the window only', async () => {
      const skip = (iso: string, model_id: string) => ({
        provider: 'skips',
        model_id,
        scenario_id: 'cloud-default-v1',
        reason: 'daily budget: its worst case $0.064 on top of $0.192 spent today (UTC) would pass BENCH_DAILY_BUDGET_USD=0.2',
        skipped_at: at(iso),
        sweep_started_at: at('2026-11-20T09:00:00.000Z'),
        runner: 'test',
        daily_budget_usd: 0.2,
      });
      await store.insertSweepSkip(skip('2026-11-20T09:00:01.000Z', 'a'));
      await store.insertSweepSkip(skip('2026-11-20T09:00:02.000Z', 'b'));
      await store.insertSweepSkip(skip('2026-11-21T09:00:00.000Z', 'a'));
      const inDay = await store.sweepSkips({ since: day('2026-11-20'), until: day('2026-11-21') });
      assert.deepEqual(inDay, [skip('2026-11-20T09:00:02.000Z', 'b'), skip('2026-11-20T09:00:01.000Z', 'a')]);
      assert.equal((await store.sweepSkips({ since: day('2026-11-20'), until: day('2026-11-22') })).length, 3);
    });
  });
}
