// One contract for every Store backend: SQLite, the MongoDB backend over the mingo stand-in,
// and a real MongoDB server when MONGODB_TEST_URI is set. A record written through one
// backend and read back has the same fields and types as through any other.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Store } from '../../lib/store/store.ts';
import { makeAgentRun, makeError, makeMetric, makeModel, makeScenario } from '../fixtures.ts';

const day = (iso: string) => new Date(`${iso}T00:00:00.000Z`);
const at = (iso: string) => new Date(iso);

export function storeContract(name: string, open: () => Promise<Store>): void {
  describe(`${name} store contract`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.close();
    });

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

    test('ping answers on a reachable store', async () => {
      await store.ping();
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
  });
}
