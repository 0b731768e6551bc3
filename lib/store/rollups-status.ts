// What `runs.ts rollups` does and says (SPEC 20): which days have rollups, the store's size and
// where it is heading in a year, compaction guidance, and the rebuild and full retention on
// demand. The health mail shows the same size lines.
import { DAY_MS, type RetentionSettings } from './rollups.ts';
import type { RetentionResult, RollupDay, Store, StoreFootprint } from './store.ts';

export interface RollupsCommand {
  now: Date;
  /** Recompute the rollups of the days since then (null: since the oldest raw row). */
  rebuild: { since: Date | null } | null;
  /** Apply the retention settings in full, not a sweep's slice. */
  prune: boolean;
  retention: RetentionSettings;
}

export interface RollupsOutcome {
  rebuilt: RollupDay[] | null;
  rebuild_seconds: number | null;
  retention: RetentionResult | null;
  /** Days with stored rollups, oldest and newest. */
  days: { count: number; first: string | null; last: string | null };
  footprint: StoreFootprint;
}

/**
 * Runs the command against the store.
 * @throws what the store throws.
 */
export async function runRollupsCommand(store: Pick<Store, 'rebuildRollups' | 'rollupDays' | 'applyRetention' | 'storeFootprint'>, o: RollupsCommand): Promise<RollupsOutcome> {
  let rebuilt: RollupDay[] | null = null;
  let seconds: number | null = null;
  if (o.rebuild) {
    const t0 = performance.now();
    rebuilt = await store.rebuildRollups({ since: o.rebuild.since ?? new Date(0), until: o.now }, o.now);
    seconds = (performance.now() - t0) / 1000;
  }
  const retention = o.prune ? await store.applyRetention({ now: o.now, ...o.retention, limit: Number.POSITIVE_INFINITY }) : null;
  const all = await store.rollupDays({ since: new Date(0), until: new Date(o.now.getTime() + DAY_MS) });
  return {
    rebuilt,
    rebuild_seconds: seconds,
    retention,
    days: { count: all.length, first: all[0]?.day ?? null, last: all.at(-1)?.day ?? null },
    footprint: await store.storeFootprint(o.now),
  };
}

export function formatRollupsOutcome(r: RollupsOutcome, o: { kind: 'sqlite' | 'mongodb'; location: string; retention: RetentionSettings }): string {
  const lines: string[] = [];
  if (r.rebuilt) {
    const rows = r.rebuilt.reduce((n, d) => n + d.cells, 0);
    const span = r.rebuilt.length ? ` (${r.rebuilt[0]!.day} to ${r.rebuilt.at(-1)!.day})` : '';
    lines.push(`Rebuilt the rollups of ${count(r.rebuilt.length)} day(s)${span} from the raw rows: ${count(rows)} rows in ${r.rebuild_seconds!.toFixed(1)} s.`);
  }
  if (r.retention) lines.push(`Retention: dropped the per-chunk gaps of ${count(r.retention.gaps_dropped)} row(s), removed ${count(r.retention.rows_deleted)} row(s).`);
  lines.push(r.days.count ? `Rollups stored for ${count(r.days.count)} day(s), ${r.days.first} to ${r.days.last}.` : 'No rollups stored yet: run with --rebuild, or let a sweep write today\'s.');
  lines.push(...footprintLines(r.footprint, o));
  return `${lines.join('\n')}\n`;
}

/** The store's size, its growth, and what to do about it: for the CLI and the health mail. */
export function footprintLines(f: StoreFootprint, o: { kind: 'sqlite' | 'mongodb'; location: string; retention: RetentionSettings }): string[] {
  const retention = [
    o.retention.gapsDays !== null ? `per-chunk gaps kept ${o.retention.gapsDays} days` : null,
    o.retention.rowsDays !== null ? `raw rows kept ${o.retention.rowsDays} days` : null,
  ].filter(Boolean);
  const kept = retention.length ? `retention: ${retention.join(', ')}` : 'no retention set: BENCH_RAW_RETENTION_DAYS and BENCH_ROW_RETENTION_DAYS are unset';
  if (f.bytes === null) {
    return [`${count(f.rows)} raw rows, ${count(Math.round(f.rows_per_day))} a day over the last 7 days; ${kept}. Sizes: db.stats() in mongosh.`];
  }
  const lines = [
    `Store ${o.location}: ${bytes(f.bytes)} in use, ${count(f.rows)} raw rows, ${f.bytes_per_row === null ? '-' : `${Math.round(f.bytes_per_row)} B`} per row (indexes and rollups included).`,
    `Growth: ${count(Math.round(f.rows_per_day))} rows a day over the last 7 days: about ${f.projected_bytes_in_a_year === null ? '-' : bytes(f.projected_bytes_in_a_year)} in a year at this pace, before retention; ${kept}.`,
  ];
  // SQLite reuses freed pages but never shrinks the file by itself.
  if (f.free_bytes !== null && f.free_bytes > 0.1 * f.bytes) {
    lines.push(
      `${bytes(f.free_bytes)} of free pages: to give them back, stop the timers and run sqlite3 ${o.location} 'VACUUM' (needs free disk the size of the file).`,
    );
  }
  return lines;
}

function count(n: number): string {
  return n.toLocaleString('en');
}

function bytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(1)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(0)} MB` : `${(n / 1e3).toFixed(0)} kB`;
}
