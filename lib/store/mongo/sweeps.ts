// What each sweep measured of the runner and of the way to each provider (SPEC 18), read by the
// health mail and `runs -- sweeps`. Not read by the public dashboard.
import type { BenchSweepDoc } from '../documents.ts';
import type { BenchSweepsStore, TimeWindow } from '../store.ts';
import { inWindow, stripAll, type MongoContext } from './connection.ts';

export function mongoBenchSweeps(ctx: MongoContext): BenchSweepsStore {
  const c = ctx.c;
  return {
    async insertBenchSweep(doc: BenchSweepDoc): Promise<void> {
      await c.benchSweeps.insertOne({ ...doc });
    },

    async benchSweeps(w: TimeWindow, limit = 1000): Promise<BenchSweepDoc[]> {
      return stripAll<BenchSweepDoc>(await c.benchSweeps.find(inWindow('started_at', w), { sort: { started_at: -1 }, limit }).toArray());
    },
  };
}
