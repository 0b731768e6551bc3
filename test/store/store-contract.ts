// One contract for every Store backend: SQLite, the MongoDB backend over the mingo stand-in,
// and a real MongoDB server when MONGODB_TEST_URI is set. A record written through one
// backend and read back has the same fields and types as through any other.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ModelDoc, ModelHealthDoc } from '../../lib/store/documents.ts';
import type { Store } from '../../lib/store/store.ts';
import { summarizeAgentRuns } from '../../lib/tinyfish/stats.ts';
import { makeAgentRun, makeError, makeMetric, makeModel, makeScenario } from '../fixtures.ts';

const day = (iso: string) => new Date(`${iso}T00:00:00.000Z`);
const at = (iso: string) => new Date(iso);

export interface ContractOptions {
  /** A real MongoDB 7.0+ answers $percentile approximately: compare percentiles within 5%. */
  approximatePercentiles?: boolean;
}

export function storeContract(name: string, open: () => Promise<Store>, options: ContractOptions = {}): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });
    /** Percentiles: exact, or within 5% of a server's estimate. */
    const close = (actual: number | null, expected: number) => {
      assert.ok(actual !== null, `expected ${expected}, got null`);
      if (options.approximatePercentiles) assert.ok(Math.abs(actual - expected) <= 0.05 * Math.abs(expected), `${actual} not within 5% of ${expected}`);
      else assert.equal(actual, expected);
    };

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

    test('an error reads back whole, with its date as a date', async () => {
      const e = makeError({ provider: 'errrt', model_name: 'm', http_status: null, error_kind: 'network' });
      await store.insertError(e);
      const [back] = await store.recentErrors('errrt', 'm', 1);
      assert.deepEqual(back, e);
      assert.ok(back!.ts instanceof Date);
    });

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

    test('last success and last error per model', async () => {
      const p = 'last';
      await store.insertMetric(makeMetric({ provider: p, model_name: 'a', run_ts: at('2026-11-20T01:00:00Z') }));
      await store.insertMetric(
        makeMetric({ provider: p, model_name: 'a', run_ts: at('2026-11-20T03:00:00Z'), sweep_started_at: at('2026-11-20T02:59:30Z') }),
      );
      await store.insertMetric(makeMetric({ provider: p, model_name: 'b', run_ts: at('2026-11-20T02:00:00Z') }));
      await store.insertError(makeError({ provider: p, model_name: 'a', ts: at('2026-11-20T04:00:00Z'), message: 'newest' }));
      await store.insertError(makeError({ provider: p, model_name: 'a', ts: at('2026-11-20T00:00:00Z'), message: 'oldest' }));
      const ok = (await store.lastSuccesses({ provider: p })).sort((x, y) => x.model_name.localeCompare(y.model_name));
      assert.deepEqual(ok, [
        { provider: p, model_name: 'a', ts: at('2026-11-20T03:00:00Z'), sweep_started_at: at('2026-11-20T02:59:30Z') },
        { provider: p, model_name: 'b', ts: at('2026-11-20T02:00:00Z'), sweep_started_at: null },
      ]);
      const bad = await store.lastErrors({ provider: p });
      assert.equal(bad.length, 1);
      assert.equal(bad[0]!.message, 'newest');
      assert.deepEqual(bad[0]!.ts, at('2026-11-20T04:00:00Z'));
    });

    describe('windowed reports', () => {
      const w = { since: day('2026-10-10'), until: day('2026-10-11') };
      const p = 'rep';
      before(async () => {
        // In the window: model a 3 successes + 1 error; model b 2 errors only; provider rep2 1 error.
        for (const [i, tps] of [10, 30, 20].entries()) {
          await store.insertMetric(
            makeMetric({ provider: p, model_name: 'a', run_ts: at(`2026-10-10T0${i + 1}:00:00Z`), tokens_per_second: tps, time_to_first_token: i === 1 ? null : 0.5 }),
          );
        }
        await store.insertError(makeError({ provider: p, model_name: 'a', ts: at('2026-10-10T05:00:00Z'), error_kind: 'timeout', message: 'a timed out' }));
        await store.insertError(makeError({ provider: p, model_name: 'b', ts: at('2026-10-10T06:00:00Z'), error_kind: 'hard_model', message: 'b gone early' }));
        await store.insertError(makeError({ provider: p, model_name: 'b', ts: at('2026-10-10T07:00:00Z'), error_kind: 'hard_model', message: 'b gone late' }));
        await store.insertError(makeError({ provider: 'rep2', model_name: 'z', ts: at('2026-10-10T08:00:00Z'), error_kind: 'auth', message: 'bad key' }));
        // A call cut short by SIGTERM says nothing about the provider: no report below counts it.
        await store.insertError(makeError({ provider: p, model_name: 'c', ts: at('2026-10-10T09:00:00Z'), error_kind: 'aborted', message: 'aborted by SIGTERM' }));
        // Outside the window (before and at the end bound).
        await store.insertMetric(makeMetric({ provider: p, model_name: 'a', run_ts: at('2026-10-09T23:59:59Z'), tokens_per_second: 1000 }));
        await store.insertMetric(makeMetric({ provider: p, model_name: 'a', run_ts: day('2026-10-11'), tokens_per_second: 1000 }));
        // A fingerprint seen before the window is not new; the one of 'a timed out' is.
        await store.insertError(makeError({ provider: p, model_name: 'b', ts: at('2026-10-01T00:00:00Z'), error_kind: 'hard_model', message: 'b gone early' }));
        // A provider measured only after the window.
        await store.insertMetric(makeMetric({ provider: 'rep3', model_name: 'later', run_ts: at('2026-10-12T00:00:00Z') }));
      });

      test('models and providers measured only outside the window are left out of the reports', async () => {
        assert.equal((await store.countsByProvider(w)).some((r) => r.provider === 'rep3'), false);
        assert.equal((await store.metricSamples(w)).some((r) => r.provider === 'rep3'), false);
        assert.equal((await store.dailyMedians(w)).some((r) => r.provider === 'rep3'), false);
      });

      test('daily medians count only the part of a day inside the window', async () => {
        const rows = (await store.dailyMedians({ since: at('2026-10-10T01:30:00Z'), until: at('2026-10-10T03:00:00Z') })).filter((r) => r.provider === p);
        assert.deepEqual(rows, [{ provider: p, day: '2026-10-10', median_tokens_per_second: 30, count: 1 }]);
      });

      test('successes and errors per provider', async () => {
        const rows = (await store.countsByProvider(w)).filter((r) => r.provider.startsWith('rep'));
        assert.deepEqual(rows, [
          { provider: 'rep', successes: 3, errors: 3 },
          { provider: 'rep2', successes: 0, errors: 1 },
        ]);
      });

      test('errors by provider and kind', async () => {
        const rows = (await store.errorsByKind(w)).filter((r) => r.provider.startsWith('rep'));
        assert.deepEqual(rows, [
          { provider: 'rep', error_kind: 'hard_model', count: 2 },
          { provider: 'rep', error_kind: 'timeout', count: 1 },
          { provider: 'rep2', error_kind: 'auth', count: 1 },
        ]);
      });

      test('errors by model, most first, with successes and the latest message', async () => {
        const rows = (await store.errorsByModel(w)).filter((r) => r.provider.startsWith('rep'));
        assert.deepEqual(
          rows.map((r) => [r.provider, r.model_name, r.errors, r.successes, r.last_message, r.last_error_kind]),
          [
            ['rep', 'b', 2, 0, 'b gone late', 'hard_model'],
            ['rep', 'a', 1, 3, 'a timed out', 'timeout'],
            ['rep2', 'z', 1, 0, 'bad key', 'auth'],
          ],
        );
        assert.ok(rows[0]!.last_error_ts instanceof Date);
        assert.deepEqual(rows[0]!.last_error_ts, at('2026-10-10T07:00:00Z'));
      });

      test('errors by model count each error kind in the window', async () => {
        const rows = (await store.errorsByModel(w)).filter((r) => r.provider.startsWith('rep'));
        assert.deepEqual(
          rows.map((r) => [r.provider, r.model_name, r.error_kinds]),
          [
            ['rep', 'b', { hard_model: 2 }],
            ['rep', 'a', { timeout: 1 }],
            ['rep2', 'z', { auth: 1 }],
          ],
        );
      });

      test('fingerprints first seen in the window', async () => {
        const rows = (await store.newFingerprints(w)).filter((r) => r.provider.startsWith('rep'));
        assert.deepEqual(
          rows.map((r) => [r.model_name, r.sample_message, r.count]).sort(),
          [
            ['a', 'a timed out', 1],
            ['b', 'b gone late', 1],
            ['z', 'bad key', 1],
          ],
        );
        assert.ok(rows.every((r) => r.first_seen instanceof Date && r.fingerprint.length === 64));
      });

      test('tokens/s and TTFT samples per model, nulls left out', async () => {
        const rows = (await store.metricSamples(w)).filter((r) => r.provider === p);
        assert.equal(rows.length, 1);
        assert.deepEqual([...rows[0]!.tokens_per_second].sort((a, b) => a - b), [10, 20, 30]);
        assert.deepEqual(rows[0]!.time_to_first_token, [0.5, 0.5]);
      });

      test('daily median tokens/s per provider', async () => {
        const rows = (await store.dailyMedians({ since: day('2026-10-09'), until: day('2026-10-12') })).filter((r) => r.provider === p);
        assert.deepEqual(rows, [
          { provider: p, day: '2026-10-09', median_tokens_per_second: 1000, count: 1 },
          { provider: p, day: '2026-10-10', median_tokens_per_second: 20, count: 3 },
          { provider: p, day: '2026-10-11', median_tokens_per_second: 1000, count: 1 },
        ]);
      });
    });

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

    test('ping answers on a reachable store', async () => {
      await store.ping();
    });

    describe('SPEC 4.1 collection rules and SPEC 4.7 model health', () => {
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

      test('model activity: last success and error, 24 h counts, and the failures since the last success', async () => {
        const p = 'act';
        const since = at('2026-08-02T00:00:00Z');
        await store.insertMetric(makeMetric({ provider: p, model_name: 'recovering', run_ts: at('2026-08-01T12:00:00Z') }));
        await store.insertMetric(makeMetric({ provider: p, model_name: 'recovering', run_ts: at('2026-08-02T06:00:00Z') }));
        await store.insertError(makeError({ provider: p, model_name: 'recovering', ts: at('2026-08-02T05:00:00Z') }));
        await store.insertMetric(makeMetric({ provider: p, model_name: 'failing', run_ts: at('2026-08-01T10:00:00Z') }));
        for (const h of ['01', '02', '03']) {
          await store.insertError(makeError({ provider: p, model_name: 'failing', ts: at(`2026-08-02T${h}:00:00Z`), error_kind: 'hard_model', message: `gone ${h}` }));
        }
        await store.insertError(makeError({ provider: p, model_name: 'failing', ts: at('2026-08-01T20:00:00Z'), error_kind: 'timeout', message: 'slow' }));
        await store.insertError(makeError({ provider: p, model_name: 'never', ts: at('2026-08-01T09:00:00Z'), error_kind: 'auth', message: 'no key' }));
        await store.insertError(makeError({ provider: p, model_name: 'never', ts: at('2026-08-02T09:00:00Z'), error_kind: 'auth', message: 'no key' }));
        const rows = (await store.modelActivity(since)).filter((r) => r.provider === p).sort((a, b) => a.model_name.localeCompare(b.model_name));
        assert.deepEqual(rows, [
          {
            provider: p,
            model_name: 'failing',
            last_success_at: at('2026-08-01T10:00:00Z'),
            last_error_at: at('2026-08-02T03:00:00Z'),
            last_error_kind: 'hard_model',
            successes_since: 0,
            failures_since: 3,
            failures_after_last_success: 4,
          },
          {
            provider: p,
            model_name: 'never',
            last_success_at: null,
            last_error_at: at('2026-08-02T09:00:00Z'),
            last_error_kind: 'auth',
            successes_since: 0,
            failures_since: 1,
            failures_after_last_success: 2,
          },
          {
            provider: p,
            model_name: 'recovering',
            last_success_at: at('2026-08-02T06:00:00Z'),
            last_error_at: at('2026-08-02T05:00:00Z'),
            last_error_kind: 'rate_limit',
            successes_since: 1,
            failures_since: 1,
            failures_after_last_success: 0,
          },
        ]);
      });

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

    // --- Scenarios and agent runs (SPEC 4.5, 4.6) ---

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

    test('agent runs: read back whole, duplicates refused, filtered newest first, and the newest per (scenario, automation)', async () => {
      const t = (min: number) => new Date(Date.parse('2026-11-20T10:00:00.000Z') + min * 60_000);
      const r1 = makeAgentRun({ automation: 'ar-a', scenario_id: 's1', started_at: t(0) });
      const r2 = makeAgentRun({ automation: 'ar-a', scenario_id: 's1', started_at: t(30), status: 'failed', error: 'boom', error_kind: 'unknown', result: null });
      const r3 = makeAgentRun({ automation: 'ar-a', scenario_id: 's2', started_at: t(10), status: 'timeout', error_kind: 'timeout' });
      const r4 = makeAgentRun({ automation: 'ar-b', scenario_id: 's1', started_at: t(20) });
      for (const r of [r1, r2, r3, r4]) assert.equal(await store.insertAgentRun(r), 'stored');
      assert.equal(await store.insertAgentRun(r1), 'duplicate');
      const ids = (runs: Array<{ run_id: string }>) => runs.map((r) => r.run_id);
      assert.deepEqual(await store.recentAgentRuns({ automation: 'ar-a', limit: 1 }), [r2]);
      assert.deepEqual(ids(await store.recentAgentRuns({ automation: 'ar-a' })), ids([r2, r3, r1]));
      assert.deepEqual(ids(await store.recentAgentRuns({ automation: 'ar-a', scenario_id: 's1', status: 'completed' })), ids([r1]));
      assert.deepEqual(ids(await store.recentAgentRuns({ since: t(10), until: t(30) }).then((rs) => rs.filter((r) => r.automation.startsWith('ar-')))), ids([r4, r3]));
      // withoutResult: the same runs, whole but for a result read as null.
      assert.notEqual(r1.result, null);
      assert.deepEqual(await store.recentAgentRuns({ automation: 'ar-a', withoutResult: true }), [r2, r3, r1].map((r) => ({ ...r, result: null })));
      const last = (await store.lastAgentRuns()).filter((r) => r.automation.startsWith('ar-'));
      assert.deepEqual(ids(last), ids([r2, r3, r4]));
      assert.deepEqual(ids(await store.lastAgentRuns({ automation: 'ar-b' })), ids([r4]));
      assert.ok(last[0]!.started_at instanceof Date && last[0]!.sweep_started_at instanceof Date);
    });

    test('the newest success per (scenario, provider, model) since a date, from metrics and completed agent runs', async () => {
      const t = (min: number) => new Date(Date.parse('2031-01-01T00:00:00.000Z') + min * 60_000);
      const legacy = makeMetric({ provider: 'sp', model_name: 'm', run_ts: t(5) });
      delete (legacy as Partial<typeof legacy>).benchmark_profile_id;
      await store.insertMetric(makeMetric({ provider: 'sp', model_name: 'm', run_ts: t(-100), benchmark_profile_id: 'long' }));
      await store.insertMetric(makeMetric({ provider: 'sp', model_name: 'm', run_ts: t(0), sweep_started_at: t(-1) }));
      await store.insertMetric(legacy);
      await store.insertMetric(makeMetric({ provider: 'sp', model_name: 'm', run_ts: t(3), benchmark_profile_id: 'long', sweep_started_at: t(2) }));
      await store.insertAgentRun(makeAgentRun({ automation: 'sp-auto', scenario_id: 'agent', started_at: t(1), sweep_started_at: t(1) }));
      await store.insertAgentRun(makeAgentRun({ automation: 'sp-auto', scenario_id: 'agent', started_at: t(4), status: 'failed' }));
      const got = (await store.lastScenarioSuccesses(t(-10))).filter((s) => s.model_name === 'm' || s.model_name === 'sp-auto');
      assert.deepEqual(got, [
        { scenario_id: 'agent', provider: 'tinyfish', model_name: 'sp-auto', ts: t(1), sweep_started_at: t(1) },
        { scenario_id: 'cloud-default-v1', provider: 'sp', model_name: 'm', ts: t(5), sweep_started_at: null },
        { scenario_id: 'long', provider: 'sp', model_name: 'm', ts: t(3), sweep_started_at: t(2) },
      ]);
      assert.deepEqual((await store.lastScenarioSuccesses(t(6))).filter((s) => s.model_name === 'm'), []);
    });

    // ---- KPIs and runs (SPEC 16) ----
    describe('KPIs and runs', () => {
      const w = { since: day('2026-09-15'), until: day('2026-09-16') };
      const minute = (i: number) => new Date(w.since.getTime() + i * 60_000);
      const ids: { metric: string; error: string } = { metric: '', error: '' };
      before(async () => {
        // kpi/a, published scenario: 100 successes with tokens/s 1..100 (TTFT null on the last), 1 failure.
        for (let i = 1; i <= 100; i++) {
          await store.insertMetric(
            makeMetric({
              provider: 'kpi',
              model_name: 'a',
              run_ts: minute(i),
              tokens_per_second: i,
              generate_time: i / 10,
              decode_tokens_per_second: i * 2,
              time_to_first_token: i === 100 ? null : i / 100,
            }),
          );
        }
        await store.insertError(makeError({ provider: 'kpi', model_name: 'a', ts: minute(101), error_kind: 'timeout', message: 'a timed out' }));
        // kpi/a, a second scenario: 2 successes, 1 failure.
        for (const [i, tps] of [[200, 10], [201, 20]] as const) {
          const m = makeMetric({ provider: 'kpi', model_name: 'a', run_ts: minute(i), tokens_per_second: tps, benchmark_profile_id: 'cloud-long-v1' });
          if (i === 201) ids.metric = m.run_id;
          await store.insertMetric(m);
        }
        const longError = { ...makeError({ provider: 'kpi', model_name: 'a', ts: minute(202), message: 'long one failed' }), benchmark_profile_id: 'cloud-long-v1' };
        ids.error = longError.run_id;
        await store.insertError(longError);
        // kpi/b: failures only.
        await store.insertError(makeError({ provider: 'kpi', model_name: 'b', ts: minute(300), error_kind: 'hard_model', message: 'b is gone' }));
        await store.insertError(makeError({ provider: 'kpi', model_name: 'b', ts: minute(301), error_kind: 'hard_model', message: 'b is still gone' }));
        // Outside the window.
        await store.insertMetric(makeMetric({ provider: 'kpi', model_name: 'a', run_ts: day('2026-09-16'), tokens_per_second: 1000 }));
        await store.insertError(makeError({ provider: 'kpi', model_name: 'a', ts: at('2026-09-14T23:59:59Z') }));
      });

      test('KPIs per model and scenario: runs, success rate and nearest-rank p50/p95/p99, nulls left out', async () => {
        const { models } = await store.metricKpis(w, { provider: 'kpi' });
        assert.deepEqual(
          models.map((r) => [r.model_name, r.scenario, r.runs, r.successes, r.failures]),
          [
            ['a', 'cloud-default-v1', 101, 100, 1],
            ['a', 'cloud-long-v1', 3, 2, 1],
            ['b', 'cloud-default-v1', 2, 0, 2],
          ],
        );
        const a = models[0]!;
        assert.equal(a.success_rate, 100 / 101);
        close(a.tokens_per_second.p50, 50);
        close(a.tokens_per_second.p95, 95);
        close(a.tokens_per_second.p99, 99);
        close(a.time_to_first_token.p50, 0.5);
        close(a.time_to_first_token.p99, 0.99);
        close(a.total_time.p95, 9.5);
        close(a.decode_tokens_per_second.p50, 100);
        assert.deepEqual(a.last_success, minute(100));
        assert.ok(a.last_success instanceof Date);
      });

      test('a model with failures only has a success rate of 0 and null percentiles, never 0', async () => {
        const { models } = await store.metricKpis(w, { provider: 'kpi', model: 'b' });
        assert.equal(models.length, 1);
        assert.equal(models[0]!.success_rate, 0);
        assert.deepEqual(models[0]!.tokens_per_second, { p50: null, p95: null, p99: null });
        assert.equal(models[0]!.last_success, null);
      });

      test('the provider and overall rows pool every value of the window, not the models\' percentiles', async () => {
        const { overall, providers } = await store.metricKpis(w, { provider: 'kpi' });
        assert.deepEqual(providers.map((r) => [r.provider, r.runs, r.successes, r.failures]), [['kpi', 106, 102, 4]]);
        // tokens/s 1..100 plus 10 and 20: the 51st, 97th and 101st of 102 sorted values.
        close(providers[0]!.tokens_per_second.p50, 49);
        close(providers[0]!.tokens_per_second.p95, 95);
        close(providers[0]!.tokens_per_second.p99, 99);
        assert.deepEqual({ ...overall, provider: 'kpi' }, providers[0]);
      });

      test('KPIs filter by scenario', async () => {
        const { overall, models } = await store.metricKpis(w, { provider: 'kpi', scenario: 'cloud-long-v1' });
        assert.deepEqual(models.map((r) => [r.model_name, r.scenario, r.successes, r.failures]), [['a', 'cloud-long-v1', 2, 1]]);
        close(overall.tokens_per_second.p50, 10);
        close(overall.tokens_per_second.p99, 20);
      });

      test('recent runs mix successes and failures newest first, with filters and a limit', async () => {
        const runs = await store.recentRuns({ provider: 'kpi', since: w.since, until: w.until, limit: 4 });
        assert.deepEqual(
          runs.map((r) => [r.outcome, r.ts.toISOString()]),
          [
            ['failed', minute(301).toISOString()],
            ['failed', minute(300).toISOString()],
            ['failed', minute(202).toISOString()],
            ['ok', minute(201).toISOString()],
          ],
        );
        const ok = await store.recentRuns({ provider: 'kpi', model: 'a', scenario: 'cloud-long-v1', outcome: 'ok', limit: 10 });
        assert.deepEqual(ok.map((r) => (r.outcome === 'ok' ? r.metric.tokens_per_second : null)), [20, 10]);
        const failed = await store.recentRuns({ provider: 'kpi', outcome: 'failed', since: w.since, until: w.until, limit: 10 });
        assert.deepEqual(failed.map((r) => (r.outcome === 'failed' ? r.error.message : null)), ['b is still gone', 'b is gone', 'long one failed', 'a timed out']);
      });

      test('one run in full by run_id, success or failure; an unknown id is null', async () => {
        const ok = await store.getRun(ids.metric);
        assert.equal(ok?.outcome, 'ok');
        assert.equal(ok?.outcome === 'ok' && ok.metric.tokens_per_second, 20);
        const failed = await store.getRun(ids.error);
        assert.equal(failed?.outcome === 'failed' && failed.error.message, 'long one failed');
        assert.equal(await store.getRun('no-such-run'), null);
      });

      test('chart points of one model and scenario, oldest first', async () => {
        const points = await store.metricPoints(w, { provider: 'kpi', model: 'a', scenario: 'cloud-long-v1' });
        assert.deepEqual(points, [
          { provider: 'kpi', model_name: 'a', scenario: 'cloud-long-v1', run_ts: minute(200), time_to_first_token: 0.25, tokens_per_second: 10 },
          { provider: 'kpi', model_name: 'a', scenario: 'cloud-long-v1', run_ts: minute(201), time_to_first_token: 0.25, tokens_per_second: 20 },
        ]);
        assert.equal((await store.metricPoints(w, { provider: 'kpi' })).length, 102);
      });
    });

    // ---- Agent-run KPIs (SPEC 16) ----
    describe('agent-run KPIs', () => {
      const w = { since: day('2026-08-10'), until: day('2026-08-11') };
      const minute = (i: number) => new Date(w.since.getTime() + i * 60_000);
      const failedId = { value: '' };
      before(async () => {
        // ak-a/s1: 20 completed (1..20 s, first progress 0.1..1.9 s and none on the last), a timeout, then 2 failures.
        for (let i = 1; i <= 20; i++) {
          await store.insertAgentRun(
            makeAgentRun({ automation: 'ak-a', scenario_id: 's1', started_at: minute(i), total_duration_ms: i * 1000, time_to_first_progress_ms: i === 20 ? null : i * 100 }),
          );
        }
        const failed = (i: number, status: 'failed' | 'timeout', message: string) =>
          makeAgentRun({ automation: 'ak-a', scenario_id: 's1', started_at: minute(i), status, total_duration_ms: 300_000, error: message, error_kind: status === 'timeout' ? 'timeout' : 'run_failed', result: null });
        await store.insertAgentRun(failed(30, 'timeout', 'no COMPLETE within 300 s'));
        await store.insertAgentRun(failed(31, 'failed', 'the first failure'));
        const newest = failed(32, 'failed', 'the page changed');
        failedId.value = newest.run_id;
        await store.insertAgentRun(newest);
        // ak-a/s2: a timeout only.
        await store.insertAgentRun(makeAgentRun({ automation: 'ak-a', scenario_id: 's2', started_at: minute(40), status: 'timeout', error: 'stalled', error_kind: 'timeout', result: null }));
        // ak-b/s1: 3 completed.
        for (const [i, ms] of [[50, 50_000], [51, 60_000], [52, 70_000]] as const) {
          await store.insertAgentRun(makeAgentRun({ automation: 'ak-b', scenario_id: 's1', started_at: minute(i), total_duration_ms: ms }));
        }
        // Outside the window.
        await store.insertAgentRun(makeAgentRun({ automation: 'ak-a', scenario_id: 's1', started_at: day('2026-08-11'), total_duration_ms: 999_999 }));
      });

      test('per automation and scenario: outcomes, success rate and nearest-rank p50/p95/p99 of completed runs', async () => {
        const { groups } = await store.agentRunKpis(w);
        assert.deepEqual(
          groups.map((g) => [g.provider, g.automation, g.scenario, g.mock, g.runs, g.completed, g.failed, g.timeouts]),
          [
            ['tinyfish', 'ak-a', 's1', false, 23, 20, 2, 1],
            ['tinyfish', 'ak-a', 's2', false, 1, 0, 0, 1],
            ['tinyfish', 'ak-b', 's1', false, 3, 3, 0, 0],
          ],
        );
        const a = groups[0]!;
        assert.equal(a.success_rate, 20 / 23);
        close(a.total_duration_ms.p50, 10_000);
        close(a.total_duration_ms.p95, 19_000);
        close(a.total_duration_ms.p99, 20_000);
        close(a.time_to_first_progress_ms.p50, 1000);
        close(a.time_to_first_progress_ms.p99, 1900);
        assert.deepEqual([a.last_started, a.last_completed], [minute(32), minute(20)]);
        assert.deepEqual(a.last_failure, { run_id: failedId.value, started_at: minute(32), status: 'failed', error_kind: 'run_failed', error: 'the page changed' });
        close(groups[2]!.total_duration_ms.p50, 60_000);
        close(groups[2]!.total_duration_ms.p99, 70_000);
        assert.equal(groups[2]!.last_failure, null);
      });

      test('a group with no completed run has a success rate of 0 and null percentiles, never 0', async () => {
        const { groups } = await store.agentRunKpis(w, { scenario: 's2' });
        assert.equal(groups.length, 1);
        assert.equal(groups[0]!.success_rate, 0);
        assert.deepEqual(groups[0]!.total_duration_ms, { p50: null, p95: null, p99: null });
        assert.deepEqual(groups[0]!.time_to_first_progress_ms, { p50: null, p95: null, p99: null });
        assert.equal(groups[0]!.last_completed, null);
        assert.equal(groups[0]!.last_failure?.status, 'timeout');
      });

      test('the overall row pools every completed run of the window, and filters narrow it', async () => {
        const { overall } = await store.agentRunKpis(w);
        assert.deepEqual([overall.automation, overall.scenario, overall.runs, overall.completed, overall.failed, overall.timeouts], [null, null, 27, 23, 2, 2]);
        // 1..20 s and 50, 60, 70 s: the 12th, 22nd and 23rd of 23.
        close(overall.total_duration_ms.p50, 12_000);
        close(overall.total_duration_ms.p95, 60_000);
        close(overall.total_duration_ms.p99, 70_000);
        assert.equal(overall.last_failure?.error, 'stalled', 'the newest failure of any group');
        const failure = await store.getAgentRun(overall.last_failure!.run_id);
        assert.equal(failure?.error, 'stalled');
        assert.ok(failure.started_at instanceof Date);
        assert.equal(await store.getAgentRun('no-such-run'), null);
        const b = await store.agentRunKpis(w, { automation: 'ak-b' });
        assert.deepEqual(b.groups.map((g) => [g.automation, g.scenario]), [['ak-b', 's1']]);
        assert.equal(b.overall.runs, 3);
        assert.equal((await store.agentRunKpis(w, { mock: false })).overall.runs, 27, 'every run here was measured');
        assert.equal((await store.agentRunKpis(w, { mock: true })).overall.runs, 0);
        const none = await store.agentRunKpis({ since: day('2020-01-01'), until: day('2020-01-02') });
        assert.deepEqual([none.groups, none.overall.runs, none.overall.success_rate, none.overall.total_duration_ms.p50], [[], 0, null, null]);
      });

      test('the health report\'s summary (lib/tinyfish/stats.ts) gives the same percentiles as the store', { skip: options.approximatePercentiles ? 'the server estimates its percentiles' : false }, async () => {
        const stats = summarizeAgentRuns(await store.recentAgentRuns({ since: w.since, until: w.until, limit: 1000 }));
        const { groups } = await store.agentRunKpis(w);
        assert.deepEqual(
          stats.map((s) => [s.automation, s.scenario_id, s.runs, s.p50_duration_ms, s.p95_duration_ms, s.p50_first_progress_ms]),
          groups.map((g) => [g.automation, g.scenario, g.runs, g.total_duration_ms.p50, g.total_duration_ms.p95, g.time_to_first_progress_ms.p50]),
        );
      });
    });

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

const day0 = (iso: string) => new Date(`${iso}T00:00:00.000Z`);
