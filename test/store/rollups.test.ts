// Daily rollups (SPEC 20) beyond the contract: on the operator's upstream database (the three
// shapes of test/store/upstream-db.ts, probes and shadows, errors before the taxonomy) the
// rollups equal the plain computation; on MongoDB, retention leaves the collections the public
// dashboard reads alone unless asked; the long-window definition's pieces.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { DAY_MS, daysOf, refreshRollups, utcDay, weightedMedian } from '../../lib/store/rollups.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { asServerBefore70, mingoCollections, type MingoCollection } from '../fakes/mingo-collection.ts';
import { makeError, makeMetric } from '../fixtures.ts';
import { assertRollupsEqual, referenceRollups } from './contract/rollups.ts';
import { buildUpstreamDb, type Doc } from './upstream-db.ts';

describe('daily rollups on the operator\'s upstream database (MongoDB before 7.0)', () => {
  test('stored and raw-computed rollups equal the plain computation with the reading rules applied', async () => {
    const now = new Date();
    const db = buildUpstreamDb(now, { days: 30 });
    const c = asServerBefore70(mingoCollections());
    const load = async (col: MingoCollection, docs: Doc[]) => {
      for (const d of docs) await col.insertOne(d);
    };
    await load(c.metrics, db.metrics);
    await load(c.probe, db.probe);
    await load(c.errors, db.errors);
    const store = await createMongoStore(c, { location: 'memory' });
    const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
    const w = { since: new Date(today - 40 * DAY_MS), until: now };
    const inside = (t: unknown) => t instanceof Date && t >= w.since && t < w.until;
    const metrics = [...db.metrics, ...db.probe].filter((d) => inside(d.run_ts));
    const errors = db.errors.filter((e) => inside(e.ts));
    const expected = referenceRollups(metrics, errors, () => 'raw');
    assert.ok(expected.some((r) => r.failures_by_kind.unknown), 'the corpus has errors from before the taxonomy');
    assert.ok(db.probe.some((d) => d.sample_role === 'shadow') && db.metrics.some((d) => d.time_to_first_token === 0 && d.ttft_available !== true));
    assertRollupsEqual(await store.dailyRollups(w), expected);

    await store.rebuildRollups(w, now);
    const todayDay = utcDay(today);
    assertRollupsEqual(await store.dailyRollups(w), referenceRollups(metrics, errors, (day) => (day === todayDay ? 'raw' : 'rollup')));
    assert.ok(c.rollups.docs.length > 0);
  });
});

describe('retention on MongoDB', () => {
  test('by default only the probe collection is pruned: metrics_cloud_v2 and errors_cloud, which the dashboard reads, are left whole', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    const now = new Date();
    const old = new Date(Math.floor(now.getTime() / DAY_MS) * DAY_MS - 60 * DAY_MS + 3_600_000);
    await store.insertMetric(makeMetric({ run_ts: old }));
    await store.insertMetric(makeMetric({ run_ts: old, benchmark_profile_id: 'cloud-long-v1' }));
    await store.insertError(makeError({ ts: old }));
    await store.rebuildRollups({ since: old, until: new Date(old.getTime() + 1) }, now);
    const published = structuredClone(c.metrics.docs);
    const errors = structuredClone(c.errors.docs);
    const policy = { now, gapsDays: 30, rowsDays: 31, limit: Number.POSITIVE_INFINITY };

    assert.deepEqual(await store.applyRetention({ ...policy, includeDashboard: false }), { gaps_dropped: 1, rows_deleted: 1 });
    assert.deepEqual([c.metrics.docs, c.errors.docs, c.probe.docs.length], [published, errors, 0]);

    assert.deepEqual(await store.applyRetention({ ...policy, includeDashboard: true }), { gaps_dropped: 1, rows_deleted: 2 });
    assert.deepEqual([c.metrics.docs.length, c.errors.docs.length], [0, 0]);
  });
});

describe('long-window pieces', () => {
  test('the weighted median is the smallest value with half the weight at or below it, sorting numbers as numbers', () => {
    assert.equal(weightedMedian([{ value: 10.25, weight: 1 }, { value: 9.5, weight: 1 }, { value: 100.5, weight: 1 }]), 10.25);
    assert.equal(weightedMedian([{ value: 1, weight: 1 }, { value: 2, weight: 3 }]), 2);
    assert.equal(weightedMedian([{ value: 1, weight: 2 }, { value: 2, weight: 2 }]), 1);
    assert.equal(weightedMedian([{ value: 5, weight: 0 }]), null);
  });

  test('a window is split into UTC days, the partial ends marked', () => {
    const since = new Date('2026-11-01T12:00:00Z');
    const until = new Date('2026-11-03T00:00:00Z');
    assert.deepEqual(
      daysOf({ since, until }).map((d) => [d.day, d.whole, d.part.since.toISOString(), d.part.until.toISOString()]),
      [
        ['2026-11-01', false, '2026-11-01T12:00:00.000Z', '2026-11-02T00:00:00.000Z'],
        ['2026-11-02', true, '2026-11-02T00:00:00.000Z', '2026-11-03T00:00:00.000Z'],
      ],
    );
  });
});

describe('refreshRollups after a sweep', () => {
  test('recomputes today, and yesterday too shortly after midnight or while no rollup covers it; then bounded retention', async () => {
    const store = openSqliteStore(':memory:');
    const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
    await store.insertMetric(makeMetric({ provider: 'sw', run_ts: new Date(today - 3_600_000) }));
    const off = { gapsDays: null, rowsDays: null, includeDashboard: false };
    const days = async (hour: number) => (await refreshRollups(store, { now: new Date(today + hour * 3_600_000), retention: off })).days.map((d) => d.day);
    const [yesterday, todayDay] = [utcDay(today - DAY_MS), utcDay(today)];
    assert.deepEqual(await days(1), [yesterday, todayDay]);
    assert.deepEqual(await days(12), [todayDay], 'yesterday is covered by then');
    const { retention } = await refreshRollups(store, { now: new Date(today + 12 * 3_600_000), retention: { ...off, gapsDays: 1 }, limit: 10 });
    assert.deepEqual(retention, { gaps_dropped: 0, rows_deleted: 0 }, 'a row of yesterday is not older than a day');
    await store.close();
  });
});
