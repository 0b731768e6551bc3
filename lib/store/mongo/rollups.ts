// Daily rollups (SPEC 20) in MongoDB: bench_daily_rollups (one document per day and group, as
// DailyRollup), bench_daily_rollup_days (which days were rolled up, and when; where retention
// got to), and retention over the raw rows. A day's rollups come from the KPI reads of
// runs.ts, computed here from the values: servers before 7.0 have no $percentile, and a
// server's approximate one is not a published figure.
import type { Document } from 'mongodb';
import { DAY_MS, coversDay, daysToRebuild, forEachDailyRollup, readDailyRollups, rollupsOfDay, utcDay, type DayParts, type GroupCost, type RollupSource } from '../rollups.ts';
import type { DailyRollup, RetentionPolicy, RetentionResult, RollupDay, RollupsStore, RunFilter, StoreFootprint, TimeWindow } from '../store.ts';
import { PUBLISHED, inWindow, strip, type CollectionLike, type MongoCollections, type MongoContext } from './connection.ts';
import { GROUP_KEY, readKpiFailures, readKpiGroups, runMatch } from './runs.ts';

const RETENTION_BATCH = 5_000;

export function mongoRollups(ctx: MongoContext): RollupsStore {
  const c = ctx.c;
  const rollupDays = async (from: string, to: string): Promise<RollupDay[]> =>
    (await c.rollupDays.find({ day: { $gte: from, $lte: to } }, { sort: { day: 1 } }).toArray()).map((d) => ({
      day: d.day,
      computed_at: d.computed_at,
      cells: d.cells,
      raw_rows_removed: d.raw_rows_removed === true,
    }));
  const source: RollupSource = {
    rawDay: (w, filter) => rawDay(c, w, filter),
    async stored(from: string, to: string, filter: RunFilter, each: (r: DailyRollup) => void): Promise<void> {
      const q: Document = { day: { $gte: from, $lte: to } };
      if (filter.provider !== undefined) q.provider = filter.provider;
      if (filter.model !== undefined) q.model_name = filter.model;
      if (filter.scenario !== undefined) q.scenario = filter.scenario;
      // One document at a time from the cursor: a year of them need not be held.
      for await (const d of c.rollups.find(q)) each(strip<DailyRollup>(d)!);
    },
    days: rollupDays,
  };

  return {
    async rebuildRollups(w: TimeWindow, now: Date): Promise<RollupDay[]> {
      const written: RollupDay[] = [];
      // No day before the oldest raw row has anything to roll up.
      const firsts = await Promise.all(
        ([[c.metrics, 'run_ts'], [c.probe, 'run_ts'], [c.errors, 'ts']] as const).map(async ([col, f]) => (await col.find({ [f]: { $type: 'date' } }, { sort: { [f]: 1 }, limit: 1 }).toArray())[0]?.[f] as Date | undefined),
      );
      const oldest = Math.min(...firsts.map((d) => d?.getTime() ?? Infinity));
      if (!Number.isFinite(oldest)) return written;
      const kept = new Set((await rollupDays(utcDay(w.since.getTime()), utcDay(w.until.getTime()))).filter((d) => d.raw_rows_removed).map((d) => d.day));
      for (const d of daysToRebuild({ since: new Date(Math.max(w.since.getTime(), oldest)), until: w.until }, now)) {
        if (kept.has(d.day)) continue;
        const rows = rollupsOfDay(d.day, await rawDay(c, d.whole, {}), 'rollup');
        // The day stops being covered first, so a reader in between computes it from the raw rows.
        await c.rollupDays.deleteOne({ day: d.day });
        await c.rollups.deleteMany({ day: d.day });
        // The driver adds _id to what it is given: copies, so the rows stay as built.
        for (const r of rows) await c.rollups.insertOne({ ...r });
        await c.rollupDays.updateOne({ day: d.day }, { $set: { computed_at: now, cells: rows.length, raw_rows_removed: false } }, { upsert: true });
        written.push({ day: d.day, computed_at: now, cells: rows.length, raw_rows_removed: false });
      }
      return written;
    },

    dailyRollups: (w: TimeWindow, filter?: RunFilter) => readDailyRollups(source, w, filter),
    eachDailyRollup: (w, filter, each) => forEachDailyRollup(source, w, filter, each),

    rollupDays: (w: TimeWindow) => rollupDays(utcDay(w.since.getTime()), utcDay(w.until.getTime() - 1)),

    async applyRetention(policy: RetentionPolicy): Promise<RetentionResult> {
      // The public dashboard reads metrics_cloud_v2 and errors_cloud: they are pruned only when
      // the operator asked (BENCH_RETENTION_DASHBOARD); the probe rows are ours alone.
      const metrics: Array<[string, CollectionLike]> = [['probe', c.probe], ...(policy.includeDashboard ? [['metrics', c.metrics] as [string, CollectionLike]] : [])];
      let gaps = 0;
      let rows = 0;
      if (policy.gapsDays !== null) {
        const cutoff = new Date(policy.now.getTime() - policy.gapsDays * DAY_MS);
        for (const [name, col] of metrics) gaps += await dropGaps(c, name, col, cutoff, policy.limit);
      }
      if (policy.rowsDays !== null) {
        const cutoff = policy.now.getTime() - policy.rowsDays * DAY_MS;
        const days = (await rollupDays('0000-00-00', utcDay(cutoff))).filter((d) => coversDay(d) && Date.parse(`${d.day}T00:00:00Z`) + DAY_MS <= cutoff);
        const raw: Array<[CollectionLike, string]> = [[c.probe, 'run_ts'], ...(policy.includeDashboard ? ([[c.metrics, 'run_ts'], [c.errors, 'ts']] as Array<[CollectionLike, string]>) : [])];
        for (const [col, field] of raw) {
          let left = policy.limit;
          for (const d of days) {
            const start = Date.parse(`${d.day}T00:00:00Z`);
            while (left > 0) {
              const ids = (await col.find(inWindow(field, { since: new Date(start), until: new Date(start + DAY_MS) }), { limit: Math.min(left, RETENTION_BATCH) }).toArray()).map((x) => x._id);
              if (ids.length === 0) break;
              const n = (await col.deleteMany({ _id: { $in: ids } })).deletedCount;
              rows += n;
              left -= n;
              await c.rollupDays.updateOne({ day: d.day }, { $set: { raw_rows_removed: true } });
            }
            if (left <= 0) break;
          }
        }
      }
      return { gaps_dropped: gaps, rows_deleted: rows };
    },

    async storeFootprint(now: Date): Promise<StoreFootprint> {
      // MongoDB's own sizes (db.stats()) are the operator's to read; the store counts rows.
      const week = { since: new Date(now.getTime() - 7 * DAY_MS), until: now };
      let rows = 0;
      let recent = 0;
      for (const [col, field] of [[c.metrics, 'run_ts'], [c.probe, 'run_ts'], [c.errors, 'ts']] as const) {
        rows += await col.countDocuments({});
        recent += await col.countDocuments(inWindow(field, week));
      }
      return { bytes: null, free_bytes: null, rows, rows_per_day: recent / 7, bytes_per_row: null, projected_bytes_in_a_year: null };
    },
  };
}

async function rawDay(c: MongoCollections, w: TimeWindow, filter: RunFilter): Promise<DayParts> {
  // A day without a row costs one index probe per collection (a year's window may hold many).
  const probes = await Promise.all(([[c.metrics, 'run_ts'], [c.probe, 'run_ts'], [c.errors, 'ts']] as const).map(([col, f]) => col.findOne(inWindow(f, w))));
  if (probes.every((d) => d === null)) return { groups: [], failures: [], costs: [] };
  return { groups: await readKpiGroups(c, w, filter), failures: await readKpiFailures(c, w, filter, true), costs: await readCosts(c, w, filter) };
}

async function readCosts(c: MongoCollections, w: TimeWindow, filter: RunFilter): Promise<GroupCost[]> {
  const pipeline = [
    { $match: { ...inWindow('run_ts', w), ...runMatch(filter), ...PUBLISHED, cost_usd: { $type: 'number' } } },
    { $group: { _id: { ...GROUP_KEY }, cost_usd: { $sum: '$cost_usd' }, priced_calls: { $sum: 1 } } },
  ];
  const rows = [...(await c.metrics.aggregate(pipeline).toArray()), ...(await c.probe.aggregate(pipeline).toArray())];
  return rows.map((r) => ({ ...r._id, cost_usd: r.cost_usd, priced_calls: r.priced_calls }));
}

/**
 * Drops times_between_tokens from rows with run_ts before the cutoff, oldest first, at most
 * `limit`; where it got to is kept, so the next sweep does not read the pruned rows again.
 */
async function dropGaps(c: MongoCollections, name: string, col: CollectionLike, cutoff: Date, limit: number): Promise<number> {
  const key = { state: `gaps_dropped_until:${name}` };
  let from: Date = (await c.rollupDays.findOne(key))?.until ?? new Date(0);
  let dropped = 0;
  let left = limit;
  while (left > 0 && from < cutoff) {
    const size = Math.min(left, RETENTION_BATCH);
    const batch = await col.find({ run_ts: { $gte: from, $lt: cutoff } }, { sort: { run_ts: 1 }, limit: size }).toArray();
    const next: Date = batch.length === size ? batch.at(-1)!.run_ts : cutoff;
    const ids = batch.filter((d) => d.times_between_tokens !== undefined).map((d) => d._id);
    if (ids.length > 0) dropped += (await col.updateMany({ _id: { $in: ids } }, { $unset: { times_between_tokens: '' } })).modifiedCount;
    await c.rollupDays.updateOne(key, { $set: { until: next } }, { upsert: true });
    left -= batch.length;
    if (next.getTime() === from.getTime()) break;
    from = next;
  }
  return dropped;
}
