// RollupsStore (SPEC 20): daily rollups equal the figures computed in plain TypeScript from the
// same raw rows, whether stored or computed when read; a long window's KPIs equal their
// definition; retention removes what it says and nothing else.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { DAY_MS, LONG_WINDOW_DAYS, utcDay, windowKpis } from '../../../lib/store/rollups.ts';
import type { DailyRollup, KpiRow, RollupPercentiles } from '../../../lib/store/store.ts';
import { makeError, makeMetric } from '../../fixtures.ts';
import { contractStore, type OpenStore } from './context.ts';

type Doc = Record<string, unknown>;
const MEASURES = { time_to_first_token: 'time_to_first_token', total_time: 'generate_time', tokens_per_second: 'tokens_per_second', decode_tokens_per_second: 'decode_tokens_per_second' } as const;

/** Nearest-rank percentile over numbers sorted as numbers. */
function rank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
function pct(values: number[]): RollupPercentiles {
  return { n: values.length, p50: rank(values, 50), p90: rank(values, 90), p95: rank(values, 95), p99: rank(values, 99) };
}
const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** The reading rules (SPEC 4.0), written out again here rather than imported from the code under test. */
const ttftOf = (d: Doc) => (d.time_to_first_token === 0 && d.ttft_available !== true ? null : num(d.time_to_first_token));
const scenarioOf = (d: Doc) => (typeof d.benchmark_profile_id === 'string' ? d.benchmark_profile_id : 'cloud-default-v1');

/**
 * The rollups of the rows in plain TypeScript: a row per (provider, model, scenario, UTC day),
 * probe and shadow rows and aborted calls left out, by provider, model, scenario, day.
 */
export function referenceRollups(metrics: Doc[], errors: Doc[], source: (day: string) => DailyRollup['source']): DailyRollup[] {
  const cells = new Map<string, { cell: DailyRollup; values: Record<keyof typeof MEASURES, number[]> }>();
  const cell = (d: Doc, t: Date) => {
    const day = utcDay(t.getTime());
    const key = JSON.stringify([d.provider, d.model_name, scenarioOf(d), day]);
    if (!cells.has(key)) {
      cells.set(key, {
        cell: {
          day,
          provider: d.provider as string,
          model_name: d.model_name as string,
          scenario: scenarioOf(d),
          runs: 0,
          successes: 0,
          failures: 0,
          failures_by_kind: {},
          last_success: null,
          time_to_first_token: pct([]),
          total_time: pct([]),
          tokens_per_second: pct([]),
          decode_tokens_per_second: pct([]),
          cost_usd: 0,
          priced_calls: 0,
          source: source(day),
        },
        values: { time_to_first_token: [], total_time: [], tokens_per_second: [], decode_tokens_per_second: [] },
      });
    }
    return cells.get(key)!;
  };
  for (const d of metrics) {
    if (d.sample_role === 'probe' || d.sample_role === 'shadow') continue;
    const t = d.run_ts as Date;
    const c = cell(d, t);
    c.cell.successes++;
    if (!c.cell.last_success || t > c.cell.last_success) c.cell.last_success = t;
    for (const [m, field] of Object.entries(MEASURES) as Array<[keyof typeof MEASURES, string]>) {
      const v = m === 'time_to_first_token' ? ttftOf(d) : num(d[field]);
      if (v !== null) c.values[m].push(v);
    }
    if (num(d.cost_usd) !== null) {
      c.cell.cost_usd += d.cost_usd as number;
      c.cell.priced_calls++;
    }
  }
  for (const e of errors) {
    const kind = typeof e.error_kind === 'string' ? e.error_kind : 'unknown';
    if (kind === 'aborted') continue;
    const c = cell(e, e.ts as Date);
    c.cell.failures++;
    c.cell.failures_by_kind[kind as keyof DailyRollup['failures_by_kind']] = (c.cell.failures_by_kind[kind as keyof DailyRollup['failures_by_kind']] ?? 0) + 1;
  }
  return [...cells.values()]
    .map(({ cell: c, values }) => ({
      ...c,
      runs: c.successes + c.failures,
      time_to_first_token: pct(values.time_to_first_token),
      total_time: pct(values.total_time),
      tokens_per_second: pct(values.tokens_per_second),
      decode_tokens_per_second: pct(values.decode_tokens_per_second),
    }))
    .sort((a, b) => JSON.stringify([a.provider, a.model_name, a.scenario, a.day]).localeCompare(JSON.stringify([b.provider, b.model_name, b.scenario, b.day])));
}

/** Sums of money compare within a rounding error; everything else exactly. */
export function assertRollupsEqual(actual: DailyRollup[], expected: DailyRollup[]): void {
  const round = (rows: DailyRollup[]) => rows.map((r) => ({ ...r, cost_usd: Math.round(r.cost_usd * 1e9) / 1e9 }));
  assert.deepEqual(round(actual), round(expected));
}

export function rollupsContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: daily rollups`, () => {
    const store = contractStore(open);
    const mine = { provider: 'rollp' };
    const now = new Date();
    const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
    // Four whole days before today, and today up to now.
    const w = { since: new Date(today - 4 * DAY_MS), until: now };
    const metrics: Doc[] = [];
    const errors: Doc[] = [];
    const at = (days: number, minutes: number) => new Date(today - days * DAY_MS + minutes * 60_000);
    // Today's rows lie before now, whatever the hour the test runs at.
    const todayAt = (i: number) => new Date(today + Math.floor(((now.getTime() - today) * (i + 1)) / 9));

    before(async () => {
      // Values whose string order differs from their numeric order (9.5 < 10.25 < 100.5).
      const tps = [9.5, 100.5, 10.25, 55, 7.75, 300.125, 42];
      for (let d = 4; d >= 0; d--) {
        for (const [i, v] of tps.entries()) {
          const run_ts = d === 0 ? todayAt(i) : at(d, 37 * i + 5);
          const m = makeMetric({
            provider: 'rollp',
            model_name: i % 3 === 0 ? 'b' : 'a',
            run_ts,
            tokens_per_second: v * (d + 1),
            generate_time: 64 / (v * (d + 1)) + 0.5,
            time_to_first_token: i === 2 ? null : 0.1 * (i + d),
            decode_tokens_per_second: i === 4 ? null : v * 1.1,
            cost_usd: i === 5 ? null : 0.0001 * (i + 1),
          });
          // Upstream's shapes: a TTFT of 0 without ttft_available is none; no profile is the published one.
          if (i === 1) Object.assign(m, { time_to_first_token: 0, ttft_available: undefined });
          if (i === 3) delete (m as Partial<typeof m>).benchmark_profile_id;
          metrics.push(m as unknown as Doc);
          await store.insertMetric(m);
        }
        // Another scenario (its rows are in the probe collection) and a failures-only model.
        const long = makeMetric({ provider: 'rollp', model_name: 'a', run_ts: d === 0 ? todayAt(7) : at(d, 400), benchmark_profile_id: 'cloud-long-v1', tokens_per_second: 20 + d });
        metrics.push(long as unknown as Doc);
        await store.insertMetric(long);
        // SPEC 18: a row measured while the runner was saturated is in no rollup (nor the reference).
        await store.insertMetric({
          ...makeMetric({ provider: 'rollp', model_name: 'a', run_ts: d === 0 ? todayAt(8) : at(d, 450), tokens_per_second: 9999 }),
          client_lag_ms: 25,
          evidence: { saturated: true },
        });
        for (const [i, kind] of (['rate_limit', 'timeout', 'rate_limit', 'aborted'] as const).entries()) {
          const e = makeError({ provider: 'rollp', model_name: i === 1 ? 'gone' : 'a', ts: d === 0 ? todayAt(i) : at(d, 500 + i), error_kind: kind, message: `${kind} ${d} ${i}` });
          errors.push(e as unknown as Doc);
          await store.insertError(e);
        }
      }
    });

    test('before any rebuild, every day is computed from the raw rows and equals the plain computation', async () => {
      // Other suites may share the store: every read here is of this suite's provider.
      assertRollupsEqual(await store.dailyRollups(w, mine), referenceRollups(metrics, errors, () => 'raw'));
    });

    test('a rebuild stores the rollups of every day the window touches; complete days read them, today stays raw, and the figures are the same', async () => {
      const written = await store.rebuildRollups(w, now);
      assert.deepEqual(written.map((d) => d.day), [4, 3, 2, 1, 0].map((d) => utcDay(today - d * DAY_MS)));
      assert.deepEqual((await store.rollupDays(w)).map((d) => [d.day, d.cells]), written.map((d) => [d.day, d.cells]));
      const rows = await store.dailyRollups(w, mine);
      const todayDay = utcDay(today);
      // The window starts at a day's start, so its first day is whole too.
      assertRollupsEqual(rows, referenceRollups(metrics, errors, (day) => (day === todayDay ? 'raw' : 'rollup')));
      // A filter reads the same rows, stored or raw.
      assertRollupsEqual(await store.dailyRollups(w, { ...mine, model: 'b' }), referenceRollups(metrics.filter((m) => m.model_name === 'b'), [], (day) => (day === todayDay ? 'raw' : 'rollup')));
      assertRollupsEqual(
        await store.dailyRollups(w, { ...mine, scenario: 'cloud-long-v1' }),
        referenceRollups(metrics.filter((m) => m.benchmark_profile_id === 'cloud-long-v1'), [], (day) => (day === todayDay ? 'raw' : 'rollup')),
      );
    });

    test('a window that starts inside a day reads that day from the raw rows in the window, not from its stored rollup', async () => {
      const part = { since: at(2, 100), until: now };
      const inside = (t: unknown) => (t as Date) >= part.since && (t as Date) < part.until;
      const todayDay = utcDay(today);
      const partDay = utcDay(part.since.getTime());
      assertRollupsEqual(
        await store.dailyRollups(part, mine),
        referenceRollups(metrics.filter((m) => inside(m.run_ts)), errors.filter((e) => inside(e.ts)), (day) => (day === todayDay || day === partDay ? 'raw' : 'rollup')),
      );
    });

    test('a stored day is read as stored until it is rebuilt: a late row counts after the rebuild', async () => {
      const late = makeMetric({ provider: 'rollp', model_name: 'late', run_ts: at(3, 60), tokens_per_second: 77 });
      await store.insertMetric(late);
      const lateDay = { since: new Date(today - 3 * DAY_MS), until: new Date(today - 2 * DAY_MS) };
      assert.equal((await store.dailyRollups(lateDay, { model: 'late' })).length, 0, 'the stored rollup of the day is read');
      await store.rebuildRollups(lateDay, now);
      const [row] = await store.dailyRollups(lateDay, { model: 'late' });
      assert.deepEqual([row?.successes, row?.tokens_per_second.p50, row?.source], [1, 77, 'rollup']);
      metrics.push(late as unknown as Doc);
    });

    test(`KPIs over more than ${LONG_WINDOW_DAYS} days equal their definition: the runs-weighted median of the daily percentiles`, async () => {
      const long = { since: new Date(now.getTime() - 20 * DAY_MS), until: now };
      const summary = await windowKpis(store, long, { provider: 'rollp' });
      const cells = referenceRollups(metrics, errors, () => 'raw');
      // The definition, written out: per figure, the cells' own percentiles weighted by their counts.
      const weighted = (pairs: Array<[number, number]>) => {
        const sorted = pairs.filter(([, w]) => w > 0).sort((a, b) => a[0] - b[0]);
        const total = sorted.reduce((n, [, w]) => n + w, 0);
        let seen = 0;
        for (const [v, w] of sorted) if ((seen += w) * 2 >= total) return v;
        return null;
      };
      const expectRow = (group: DailyRollup[]): Omit<KpiRow, 'provider' | 'model_name' | 'scenario'> => {
        const successes = group.reduce((n, c) => n + c.successes, 0);
        const failures = group.reduce((n, c) => n + c.failures, 0);
        const f = (m: keyof typeof MEASURES) => ({
          p50: weighted(group.flatMap((c) => (c[m].p50 === null ? [] : [[c[m].p50!, c[m].n] as [number, number]]))),
          p95: weighted(group.flatMap((c) => (c[m].p95 === null ? [] : [[c[m].p95!, c[m].n] as [number, number]]))),
          p99: weighted(group.flatMap((c) => (c[m].p99 === null ? [] : [[c[m].p99!, c[m].n] as [number, number]]))),
          // Days' rollups hold no order statistics of the whole window: no interval.
          p50_ci: null,
        });
        const lasts = group.map((c) => c.last_success).filter((d): d is Date => d !== null);
        return {
          runs: successes + failures,
          successes,
          failures,
          success_rate: successes + failures > 0 ? successes / (successes + failures) : null,
          last_success: lasts.length ? new Date(Math.max(...lasts.map((d) => d.getTime()))) : null,
          time_to_first_token: f('time_to_first_token'),
          total_time: f('total_time'),
          tokens_per_second: f('tokens_per_second'),
          decode_tokens_per_second: f('decode_tokens_per_second'),
        };
      };
      const { provider: _p, model_name: _m, scenario: _s, ...overall } = summary.overall;
      assert.deepEqual(overall, expectRow(cells));
      const a = summary.models.find((r) => r.model_name === 'a' && r.scenario === 'cloud-default-v1')!;
      const { provider: _p2, model_name: _m2, scenario: _s2, ...aRow } = a;
      assert.deepEqual(aRow, expectRow(cells.filter((c) => c.model_name === 'a' && c.scenario === 'cloud-default-v1')));
      assert.deepEqual(summary.models.find((r) => r.model_name === 'gone')?.runs, errors.filter((e) => e.model_name === 'gone').length, 'a model with failures only is a row');
    });

    test(`a window of ${LONG_WINDOW_DAYS} days or less is read exactly from the raw rows, as before`, async () => {
      const short = { since: new Date(now.getTime() - 7 * DAY_MS), until: now };
      assert.deepEqual(await windowKpis(store, short, { provider: 'rollp' }), await store.metricKpis(short, { provider: 'rollp' }));
    });
  });

  describe(`${name} store contract: retention`, () => {
    const store = contractStore(open);
    const now = new Date();
    const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
    const at = (days: number) => new Date(today - days * DAY_MS + 3_600_000);
    const ids = { old: [] as string[], recent: [] as string[], uncovered: [] as string[], oldErrors: [] as string[] };

    before(async () => {
      // Older than any other suite's rows, so oldest-first reaches these first in a shared store.
      for (const [days, list] of [[3000, ids.old], [2999, ids.old], [10, ids.recent], [4000, ids.uncovered]] as const) {
        for (let i = 0; i < 3; i++) {
          const m = makeMetric({ provider: 'ret', model_name: 'm', run_ts: new Date(at(days).getTime() + i * 60_000) });
          await store.insertMetric(m);
          list.push(m.run_id);
        }
      }
      const e = makeError({ provider: 'ret', model_name: 'm', ts: at(3000) });
      await store.insertError(e);
      ids.oldErrors.push(e.run_id);
      // Rollups for the 3000th, 2999th and 10th days back, not the 4000th.
      for (const d of [3000, 2999, 10]) await store.rebuildRollups({ since: at(d), until: new Date(at(d).getTime() + 1) }, now);
    });

    const policy = (o: { gapsDays?: number; rowsDays?: number; limit?: number }) => ({
      now,
      gapsDays: o.gapsDays ?? null,
      rowsDays: o.rowsDays ?? null,
      includeDashboard: true,
      limit: o.limit ?? Number.POSITIVE_INFINITY,
    });
    const gapsOf = async (runId: string) => {
      const run = await store.getRun(runId);
      return run?.outcome === 'ok' ? (run.metric.times_between_tokens ?? null) : 'gone';
    };

    test('with nothing set, retention removes nothing', async () => {
      assert.deepEqual(await store.applyRetention(policy({})), { gaps_dropped: 0, rows_deleted: 0 });
      for (const id of [...ids.old, ...ids.recent, ...ids.uncovered]) assert.deepEqual(await gapsOf(id), [0.02, 0.021, 0.019]);
    });

    test('BENCH_RAW_RETENTION_DAYS drops the per-chunk gaps of older rows only, at most `limit` rows per sweep, oldest first', async () => {
      // At most 4 per table: other suites sharing the store may have old probe rows.
      assert.deepEqual(await store.applyRetention(policy({ gapsDays: 30, limit: 4 })).then((r) => [r.gaps_dropped >= 4 && r.gaps_dropped <= 8, r.rows_deleted]), [true, 0]);
      // Oldest first: the 4000-day rows, then one of the 3000-day ones.
      assert.deepEqual(await Promise.all([...ids.uncovered, ...ids.old].map(gapsOf)), [null, null, null, null, [0.02, 0.021, 0.019], [0.02, 0.021, 0.019], [0.02, 0.021, 0.019], [0.02, 0.021, 0.019], [0.02, 0.021, 0.019]]);
      // The rest (other suites sharing the store may have old rows too).
      assert.ok((await store.applyRetention(policy({ gapsDays: 30 }))).gaps_dropped >= 5);
      for (const id of ids.old) assert.equal(await gapsOf(id), null);
      for (const id of ids.recent) assert.deepEqual(await gapsOf(id), [0.02, 0.021, 0.019]);
      const run = await store.getRun(ids.old[0]!);
      assert.equal(run?.outcome === 'ok' && run.metric.tokens_per_second > 0, true, 'the rest of the row stays');
    });

    test('BENCH_ROW_RETENTION_DAYS removes older rows only where a rollup covers their day, and the rollups stay', async () => {
      const w = { since: new Date(today - 3001 * DAY_MS), until: new Date(today - 2998 * DAY_MS) };
      const before = await store.dailyRollups(w);
      assert.equal(before.reduce((n, r) => n + r.runs, 0), 7);
      const result = await store.applyRetention(policy({ rowsDays: 31 }));
      assert.deepEqual(result, { gaps_dropped: 0, rows_deleted: 7 });
      for (const id of [...ids.old, ...ids.oldErrors]) assert.equal(await store.getRun(id), null, `${id} removed`);
      for (const id of [...ids.recent, ...ids.uncovered]) assert.notEqual(await store.getRun(id), null, `${id} kept`);
      assert.deepEqual(await store.dailyRollups(w), before, 'the removed rows\' days read the same from their rollups');
      // A rebuild keeps the rollups of days whose raw rows are gone.
      await store.rebuildRollups(w, now);
      assert.deepEqual(await store.dailyRollups(w), before);
      // The first day of the window had no rows: rolled up now, empty.
      assert.deepEqual((await store.rollupDays(w)).map((d) => [d.cells > 0, d.raw_rows_removed]), [[false, false], [true, true], [true, true]]);
    });
  });
}
