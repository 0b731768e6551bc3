// Models a sweep did not start for the daily budget (SPEC 17), read by the health mail.
import type { SweepSkipDoc } from '../documents.ts';
import type { SweepSkipsStore, TimeWindow } from '../store.ts';
import { encodeDoc, ms, type SqliteConnection } from './connection.ts';

export function sqliteSweepSkips(c: SqliteConnection): SweepSkipsStore {
  const sweepSkips: SweepSkipsStore = {
    async insertSweepSkip(doc: SweepSkipDoc): Promise<void> {
      c.stmt('INSERT INTO sweep_skips (skipped_at, doc) VALUES (?, ?)').run(ms(doc.skipped_at), encodeDoc(doc));
    },

    async sweepSkips(w: TimeWindow, limit = 1000): Promise<SweepSkipDoc[]> {
      return c.docs<SweepSkipDoc>(
        'SELECT doc FROM sweep_skips WHERE skipped_at >= ? AND skipped_at < ? ORDER BY skipped_at DESC, id DESC LIMIT ?',
        ms(w.since),
        ms(w.until),
        limit,
      );
    },
  };
  return sweepSkips;
}
