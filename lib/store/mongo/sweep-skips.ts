// Models a sweep did not start for the daily budget (SPEC 17), read by the health mail.
import type { SweepSkipDoc } from '../documents.ts';
import type { SweepSkipsStore, TimeWindow } from '../store.ts';
import { inWindow, refuseMock, stripAll, type MongoContext } from './connection.ts';

export function mongoSweepSkips(ctx: MongoContext): SweepSkipsStore {
  const c = ctx.c;
  const sweepSkips: SweepSkipsStore = {
    async insertSweepSkip(doc: SweepSkipDoc): Promise<void> {
      refuseMock(doc);
      await c.sweepSkips.insertOne({ ...doc });
    },

    async sweepSkips(w: TimeWindow, limit = 1000): Promise<SweepSkipDoc[]> {
      return stripAll<SweepSkipDoc>(await c.sweepSkips.find(inWindow('skipped_at', w), { sort: { skipped_at: -1 }, limit }).toArray());
    },
  };
  return sweepSkips;
}
