// What each sweep measured of the runner and of the way to each provider (SPEC 18), read by the
// health mail and `runs -- sweeps`. Its table is BENCH_SWEEPS_SCHEMA in schema.ts.
import type { BenchSweepDoc } from '../documents.ts';
import type { BenchSweepsStore, TimeWindow } from '../store.ts';
import { encodeDoc, ms, type SqliteConnection } from './connection.ts';

export function sqliteBenchSweeps(c: SqliteConnection): BenchSweepsStore {
  return {
    async insertBenchSweep(doc: BenchSweepDoc): Promise<void> {
      c.stmt('INSERT INTO bench_sweeps (sweep_id, started_at, doc) VALUES (?, ?, ?)').run(doc.sweep_id, ms(doc.started_at), encodeDoc(doc));
    },

    async benchSweeps(w: TimeWindow, limit = 1000): Promise<BenchSweepDoc[]> {
      return c.docs<BenchSweepDoc>(
        'SELECT doc FROM bench_sweeps WHERE started_at >= ? AND started_at < ? ORDER BY started_at DESC, id DESC LIMIT ?',
        ms(w.since),
        ms(w.until),
        limit,
      );
    },
  };
}
