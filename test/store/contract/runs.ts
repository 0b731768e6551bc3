// RunsStore, and the reads of metrics and errors the health report makes: last success and
// error, windowed reports, model activity, the newest success per scenario, KPIs and runs.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { makeAgentRun, makeError, makeMetric } from '../../fixtures.ts';
import { at, contractStore, day, percentileCheck, referenceMedianInterval, type ContractOptions, type OpenStore } from './context.ts';

export function runsContract(name: string, open: OpenStore, options: ContractOptions): void {
  describe(`${name} store contract: runs`, () => {
    const store = contractStore(open);
    const close = percentileCheck(options);

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

      test('each p50 carries its distribution-free 95 % interval where the values are read, null on the server path', async () => {
        const { models, providers } = await store.metricKpis(w, { provider: 'kpi' });
        const [a, long] = models;
        if (options.approximatePercentiles) {
          // $percentile hands back no order statistics: no interval rather than a guess.
          assert.equal(a!.tokens_per_second.p50_ci, null);
          return;
        }
        // 1..100: "100" sorts before "11" as a string; the interval is of the numbers.
        const tps = Array.from({ length: 100 }, (_, i) => i + 1);
        assert.deepEqual(a!.tokens_per_second.p50_ci, referenceMedianInterval(tps));
        assert.deepEqual(a!.time_to_first_token.p50_ci, referenceMedianInterval(tps.slice(0, 99).map((i) => i / 100)));
        assert.deepEqual(providers[0]!.tokens_per_second.p50_ci, referenceMedianInterval([...tps, 10, 20]));
        // Two runs: a p50 but too few runs for any interval.
        assert.equal(long!.tokens_per_second.p50_ci, null);
        assert.notEqual(long!.tokens_per_second.p50, null);
      });

      test('a model with failures only has a success rate of 0 and null percentiles, never 0', async () => {
        const { models } = await store.metricKpis(w, { provider: 'kpi', model: 'b' });
        assert.equal(models.length, 1);
        assert.equal(models[0]!.success_rate, 0);
        assert.deepEqual(models[0]!.tokens_per_second, { p50: null, p95: null, p99: null, p50_ci: null });
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

      test("a provider's and the overall last success are its newest model's, whichever model is listed first", async () => {
        // 'aa' sorts first and succeeded first; 'zz' succeeded last.
        await store.insertMetric(makeMetric({ provider: 'kpi-last', model_name: 'aa', run_ts: minute(10) }));
        await store.insertMetric(makeMetric({ provider: 'kpi-last', model_name: 'zz', run_ts: minute(200) }));
        await store.insertMetric(makeMetric({ provider: 'kpi-last', model_name: 'mm', run_ts: minute(50) }));
        const { overall, providers } = await store.metricKpis(w, { provider: 'kpi-last' });
        assert.deepEqual(providers.map((r) => [r.provider, r.last_success]), [['kpi-last', minute(200)]]);
        assert.deepEqual(overall.last_success, minute(200));
      });

      test('a row marked by its evidence (a cache hit) is kept and listed, but left out of the KPIs and counted as marked', async () => {
        for (let i = 0; i < 3; i++) await store.insertMetric(makeMetric({ provider: 'kpi-cache', model_name: 'm', run_ts: minute(30 + i), tokens_per_second: 10 + i }));
        const hit = { ...makeMetric({ provider: 'kpi-cache', model_name: 'm', run_ts: minute(40), tokens_per_second: 5000, cached_input_tokens: 1024 }), cache_defeat_nonce: 'n1', evidence: { cache_hit: true as const } };
        await store.insertMetric(hit);
        const probeHit = { ...makeMetric({ provider: 'kpi-cache', model_name: 'm', run_ts: minute(41), benchmark_profile_id: 'cloud-long-v1' }), evidence: { cache_hit: true as const } };
        await store.insertMetric(probeHit);
        const { overall, models } = await store.metricKpis(w, { provider: 'kpi-cache' });
        assert.equal(overall.successes, 3);
        assert.deepEqual(models.map((r) => [r.scenario, r.successes]), [['cloud-default-v1', 3]]);
        close(overall.tokens_per_second.p99, 12);
        assert.equal((await store.getRun(hit.run_id))?.outcome, 'ok');
        assert.ok((await store.recentRuns({ provider: 'kpi-cache', limit: 10 })).some((r) => r.outcome === 'ok' && r.metric.run_id === hit.run_id));
        assert.deepEqual(
          (await store.markedRuns(w)).filter((m) => m.provider === 'kpi-cache'),
          [{ provider: 'kpi-cache', model_name: 'm', cache_hits: 2, saturated: 0 }],
        );
        // The regression tests' samples leave it out too.
        const samples = (await store.metricSamples(w)).find((x) => x.provider === 'kpi-cache')!;
        assert.deepEqual([...samples.tokens_per_second].sort((a, b) => a - b), [10, 11, 12]);
        assert.deepEqual((await store.markedRuns({ since: minute(42), until: w.until })).filter((m) => m.provider === 'kpi-cache'), []);
      });

      test('a row measured while the runner was saturated is kept and listed, but left out of the KPIs and regression samples, and counted per mark', async () => {
        for (let i = 0; i < 3; i++) {
          await store.insertMetric({ ...makeMetric({ provider: 'kpi-lag', model_name: 'm', run_ts: minute(30 + i), tokens_per_second: 10 + i }), client_lag_ms: 0.4 });
        }
        const late = { ...makeMetric({ provider: 'kpi-lag', model_name: 'm', run_ts: minute(40), tokens_per_second: 5000 }), client_lag_ms: 38.5, evidence: { saturated: true as const } };
        await store.insertMetric(late);
        // Both marks on one row: counted once in the KPIs' absence, once under each mark.
        const both = {
          ...makeMetric({ provider: 'kpi-lag', model_name: 'n', run_ts: minute(41), tokens_per_second: 4000, cached_input_tokens: 512 }),
          cache_defeat_nonce: 'n2',
          client_lag_ms: 9,
          evidence: { cache_hit: true as const, saturated: true as const },
        };
        await store.insertMetric(both);
        const probeLate = { ...makeMetric({ provider: 'kpi-lag', model_name: 'm', run_ts: minute(42), benchmark_profile_id: 'cloud-long-v1' }), evidence: { saturated: true as const } };
        await store.insertMetric(probeLate);
        const { overall, models } = await store.metricKpis(w, { provider: 'kpi-lag' });
        assert.equal(overall.successes, 3);
        assert.deepEqual(models.map((r) => [r.model_name, r.scenario, r.successes]), [['m', 'cloud-default-v1', 3]]);
        close(overall.tokens_per_second.p99, 12);
        const listed = await store.recentRuns({ provider: 'kpi-lag', limit: 10 });
        for (const row of [late, both, probeLate]) {
          assert.ok(listed.some((r) => r.outcome === 'ok' && r.metric.run_id === row.run_id), `${row.model_name} listed`);
        }
        const shown = await store.getRun(late.run_id);
        assert.equal(shown?.outcome === 'ok' && shown.metric.client_lag_ms, 38.5);
        assert.deepEqual(
          (await store.markedRuns(w)).filter((m) => m.provider === 'kpi-lag'),
          [
            { provider: 'kpi-lag', model_name: 'm', cache_hits: 0, saturated: 2 },
            { provider: 'kpi-lag', model_name: 'n', cache_hits: 1, saturated: 1 },
          ],
        );
        const samples = (await store.metricSamples(w)).find((x) => x.provider === 'kpi-lag' && x.model_name === 'm')!;
        assert.deepEqual([...samples.tokens_per_second].sort((a, b) => a - b), [10, 11, 12]);
        assert.equal((await store.metricSamples(w)).find((x) => x.provider === 'kpi-lag' && x.model_name === 'n'), undefined);
      });

      test('an aborted call (the operator stopped the sweep) is neither a success nor a failure in the KPIs', async () => {
        await store.insertMetric(makeMetric({ provider: 'kpi-stop', model_name: 'm', run_ts: minute(20) }));
        await store.insertError(makeError({ provider: 'kpi-stop', model_name: 'm', ts: minute(21), error_kind: 'rate_limit', message: 'HTTP 429' }));
        await store.insertError(makeError({ provider: 'kpi-stop', model_name: 'm', ts: minute(22), error_kind: 'aborted', message: 'stopped by SIGTERM' }));
        await store.insertError(makeError({ provider: 'kpi-stop', model_name: 'only-stopped', ts: minute(23), error_kind: 'aborted', message: 'stopped by SIGTERM' }));
        const { overall, models } = await store.metricKpis(w, { provider: 'kpi-stop' });
        assert.deepEqual(models.map((r) => [r.model_name, r.runs, r.successes, r.failures, r.success_rate]), [['m', 2, 1, 1, 0.5]]);
        assert.deepEqual([overall.runs, overall.failures], [2, 1]);
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

  });
}
