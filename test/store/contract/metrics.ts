// MetricsStore: rows read back whole, one per run_id, published apart from probe rows, and spend.
import assert from 'node:assert/strict';
import { describe, before, test } from 'node:test';
import { makeError, makeMetric } from '../../fixtures.ts';
import { at, contractStore, day, day0, type OpenStore } from './context.ts';

export function metricsContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: metrics`, () => {
    const store = contractStore(open);

    test('a metric reads back with the SPEC 4.1 fields and types, dates as dates', async () => {
      const m = makeMetric({ provider: 'rt', model_name: 'roundtrip', misc: { omit_temperature: true, nested: { a: [1, 2] } } });
      assert.equal(await store.insertMetric(m), 'stored');
      const [back] = await store.recentMetrics('rt', 'roundtrip', 5);
      assert.ok(back);
      assert.ok(back.run_ts instanceof Date && back.gen_ts instanceof Date);
      assert.deepEqual(back, m);
      assert.equal(back.time_to_first_token, 0.25);
      assert.equal(back.reasoning_tokens, null);
      assert.equal(back.metrics_schema_version, 2);
    });

    test('inserting the same run_id twice stores one row and reports the second as a duplicate', async () => {
      const m = makeMetric({ provider: 'dup', model_name: 'x' });
      assert.equal(await store.insertMetric(m), 'stored');
      assert.equal(await store.insertMetric({ ...m, tokens_per_second: 999 }), 'duplicate');
      assert.equal(await store.countMetrics({ provider: 'dup' }), 1);
      const e = makeError({ provider: 'dup' });
      assert.equal(await store.insertError(e), 'stored');
      assert.equal(await store.insertError(e), 'duplicate');
      assert.equal(await store.countErrors({ provider: 'dup' }), 1);
    });

    describe('spend (SPEC 17)', () => {
      // Days of their own (2031), so no other test's rows fall in these windows.
      before(async () => {
        const rows: Array<[string, string, string, number | null | undefined]> = [
          ['sp', 'a', '2031-03-01T00:00:00Z', 0.5],
          ['sp', 'a', '2031-03-01T23:59:59Z', 0.25],
          ['sp', 'b', '2031-03-01T12:00:00Z', null],
          ['sp', 'b', '2031-03-01T13:00:00Z', undefined],
          ['sp', 'a', '2031-03-02T01:00:00Z', 1],
          ['sp2', 'c', '2031-03-02T02:00:00Z', 0.125],
          // Outside every window below (the end bound is exclusive).
          ['sp', 'a', '2031-03-03T00:00:00Z', 100],
        ];
        for (const [provider, model_name, ts, cost] of rows) {
          const m = makeMetric({ provider, model_name, run_ts: at(ts) });
          await store.insertMetric(cost === undefined ? m : { ...m, cost_usd: cost });
        }
      });

      test('spend per provider per UTC day sums cost_usd and counts the rows without one apart', async () => {
        assert.deepEqual(await store.spendByDay({ since: day('2031-03-01'), until: day('2031-03-03') }), [
          { provider: 'sp', day: '2031-03-01', cost_usd: 0.75, priced_calls: 2, unpriced_calls: 2 },
          { provider: 'sp', day: '2031-03-02', cost_usd: 1, priced_calls: 1, unpriced_calls: 0 },
          { provider: 'sp2', day: '2031-03-02', cost_usd: 0.125, priced_calls: 1, unpriced_calls: 0 },
        ]);
      });

      test('spend per model counts only rows inside the window, and a window without rows is empty', async () => {
        assert.deepEqual(await store.spendByModel({ since: at('2031-03-01T12:00:00Z'), until: day('2031-03-03') }), [
          { provider: 'sp', model_name: 'a', cost_usd: 1.25, priced_calls: 2, unpriced_calls: 0 },
          { provider: 'sp', model_name: 'b', cost_usd: 0, priced_calls: 0, unpriced_calls: 2 },
          { provider: 'sp2', model_name: 'c', cost_usd: 0.125, priced_calls: 1, unpriced_calls: 0 },
        ]);
        assert.deepEqual(await store.spendByDay({ since: day('2031-04-01'), until: day('2031-04-02') }), []);
      });
    });

    test('a row of another profile goes to the probe collection, which no published read sees', async () => {
      const p = 'probe-rt';
      const published = makeMetric({ provider: p, model_name: 'm', run_ts: at('2026-09-01T10:00:00Z') });
      const probe = makeMetric({ provider: p, model_name: 'm', run_ts: at('2026-09-01T11:00:00Z'), benchmark_profile_id: 'cloud-long-v1' });
      assert.equal(await store.insertMetric(published), 'stored');
      assert.equal(await store.insertMetric(probe), 'stored');
      assert.equal(await store.insertMetric(probe), 'duplicate', 'probe rows are idempotent by run_id too');
      assert.equal(await store.countMetrics({ provider: p }), 1);
      assert.deepEqual(await store.recentMetrics(p, 'm', 10), [published]);
      assert.deepEqual((await store.lastSuccesses({ provider: p })).map((r) => r.ts), [published.run_ts]);
      const sept1 = { since: day0('2026-09-01'), until: day0('2026-09-02') };
      assert.deepEqual((await store.countsByProvider(sept1)).find((r) => r.provider === p), { provider: p, successes: 1, errors: 0 });
      assert.deepEqual((await store.metricSamples(sept1)).find((r) => r.provider === p)?.tokens_per_second, [published.tokens_per_second]);
      assert.equal((await store.dailyMedians(sept1)).find((r) => r.provider === p)?.count, 1);
      assert.equal((await store.modelActivity(sept1.since)).find((r) => r.provider === p)?.successes_since, 1);
      // Asked for, the probe rows are there, whole.
      assert.equal(await store.countMetricsIn({ provider: p, collection: 'probe' }), 1);
      assert.deepEqual(await store.recentMetricsIn({ provider: p, modelName: 'm', limit: 10, collection: 'probe' }), [probe]);
      assert.deepEqual((await store.lastSuccessesIn({ provider: p, collection: 'probe' })).map((r) => r.ts), [probe.run_ts]);
      assert.equal(await store.countMetricsIn({ provider: p }), 1, 'the default scope is the published rows');
    });
  });
}
