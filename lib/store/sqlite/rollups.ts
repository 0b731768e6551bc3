// Daily rollups (SPEC 20) in the SQLite file: the daily_rollups table (one row of columns per day
// and group), rollup_days (which days were rolled up, and when), and retention over the raw rows.
// A day's rollups come from the KPI reads of runs.ts, so the reading rules are theirs.
import type { SQLInputValue } from 'node:sqlite';
import {
  DAY_MS,
  coversDay,
  daysToRebuild,
  forEachDailyRollup,
  readDailyRollups,
  rollupsOfDay,
  utcDay,
  type DayParts,
  type GroupCost,
  type RollupSource,
} from '../rollups.ts';
import type { DailyRollup, RetentionPolicy, RollupPercentiles, RetentionResult, RollupDay, RollupsStore, RunFilter, StoreFootprint, TimeWindow } from '../store.ts';
import { ms, type SqliteConnection } from './connection.ts';
import { readKpiFailures, readKpiGroups } from './runs.ts';
import { codecOf, rowColumns } from './compact.ts';
import { KPI_TABLES, ROLLUP_MEASURE_COLUMNS, UNPUBLISHED, metricSql } from './schema.ts';
import { inWriteTransaction } from './metric-rows.ts';

/** Rows a retention statement touches at once, so no transaction holds the write lock for long. */
const RETENTION_BATCH = 5_000;
const RAW_TABLES = [...KPI_TABLES, 'errors'] as const;
const TS_COLUMN = { metrics: 'run_ts', metrics_probe: 'run_ts', errors: 'ts' } as const;

export function sqliteRollups(c: SqliteConnection): RollupsStore {
  const source: RollupSource = {
    rawDay: async (w, filter) => rawDay(c, w, filter),
    async stored(from: string, to: string, filter: RunFilter, each: (r: DailyRollup) => void): Promise<void> {
      const where = ['day >= ?', 'day <= ?'];
      const params: SQLInputValue[] = [from, to];
      for (const [column, value] of [['provider', filter.provider], ['model_name', filter.model], ['scenario', filter.scenario]] as const) {
        if (value === undefined) continue;
        where.push(`${column} = ?`);
        params.push(value);
      }
      // Rows as arrays, one at a time: node:sqlite's row objects are large and slow to make (a
      // year of them, read with all(), took 360 MB and most of the time).
      const read = c.db.prepare(`SELECT ${COLUMNS.join(', ')} FROM daily_rollups WHERE ${where.join(' AND ')}`);
      read.setReturnArrays(true);
      for (const r of read.iterate(...params)) each(fromColumns(r as unknown as Array<string | number | null>));
    },
    days: async (from, to) => rollupDays(c, from, to),
  };

  return {
    async rebuildRollups(w: TimeWindow, now: Date): Promise<RollupDay[]> {
      const written: RollupDay[] = [];
      // No day before the oldest raw row has anything to roll up.
      const oldest = Math.min(...RAW_TABLES.map((t) => c.all<{ t: number | null }>(`SELECT MIN(${TS_COLUMN[t]}) AS t FROM ${t}`)[0]!.t ?? Infinity));
      if (!Number.isFinite(oldest)) return written;
      const kept = new Set(rollupDays(c, utcDay(ms(w.since)), utcDay(ms(w.until))).filter((d) => d.raw_rows_removed).map((d) => d.day));
      for (const d of daysToRebuild({ since: new Date(Math.max(ms(w.since), oldest)), until: w.until }, now)) {
        if (kept.has(d.day)) continue;
        // Read and written in one transaction: the day's rows are read as one snapshot, and a
        // reader sees the old rollups or the new ones, never half of each.
        inTransaction(c, () => {
          const rows = rollupsOfDay(d.day, rawDay(c, d.whole, {}), 'rollup');
          c.stmt('DELETE FROM daily_rollups WHERE day = ?').run(d.day);
          const insert = c.stmt(`INSERT INTO daily_rollups (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
          for (const r of rows) {
            const columns = toColumns(r);
            insert.run(...COLUMNS.map((k) => columns[k]!));
          }
          c.stmt('INSERT OR REPLACE INTO rollup_days (day, computed_at, cells) VALUES (?, ?, ?)').run(d.day, ms(now), rows.length);
          written.push({ day: d.day, computed_at: now, cells: rows.length, raw_rows_removed: false });
        });
      }
      return written;
    },

    dailyRollups: (w: TimeWindow, filter?: RunFilter) => readDailyRollups(source, w, filter),
    eachDailyRollup: (w, filter, each) => forEachDailyRollup(source, w, filter, each),

    async rollupDays(w: TimeWindow): Promise<RollupDay[]> {
      return rollupDays(c, utcDay(ms(w.since)), utcDay(ms(w.until) - 1));
    },

    async applyRetention(policy: RetentionPolicy): Promise<RetentionResult> {
      // The embedded store has no public dashboard reading it: includeDashboard changes nothing here.
      let gaps = 0;
      let rows = 0;
      if (policy.gapsDays !== null) {
        const cutoff = ms(policy.now) - policy.gapsDays * DAY_MS;
        for (const table of KPI_TABLES) gaps += dropGaps(c, table, cutoff, policy.limit);
      }
      if (policy.rowsDays !== null) rows = deleteCoveredRows(c, ms(policy.now) - policy.rowsDays * DAY_MS, policy.limit);
      return { gaps_dropped: gaps, rows_deleted: rows };
    },

    async storeFootprint(now: Date): Promise<StoreFootprint> {
      const pragma = (name: string) => c.all<Record<string, number>>(`PRAGMA ${name}`)[0]![name]!;
      const pageSize = pragma('page_size');
      const bytes = (pragma('page_count') - pragma('freelist_count')) * pageSize;
      const weekAgo = ms(now) - 7 * DAY_MS;
      let rows = 0;
      let recent = 0;
      for (const table of RAW_TABLES) {
        rows += c.count(table);
        recent += c.all<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE ${TS_COLUMN[table]} >= ? AND ${TS_COLUMN[table]} < ?`, weekAgo, ms(now))[0]!.n;
      }
      const perRow = rows > 0 ? bytes / rows : null;
      const perDay = recent / 7;
      return {
        bytes,
        free_bytes: pragma('freelist_count') * pageSize,
        rows,
        rows_per_day: perDay,
        bytes_per_row: perRow,
        projected_bytes_in_a_year: perRow === null ? null : bytes + 365 * perDay * perRow,
      };
    },
  };
}

/** A day's parts from the raw rows of a window inside it. */
function rawDay(c: SqliteConnection, w: TimeWindow, filter: RunFilter): DayParts {
  // A day without a row (before the history began, a gap) costs one index probe per table,
  // not a walk over every group: a year's window may hold many.
  const any = RAW_TABLES.some((t) => c.all(`SELECT 1 FROM ${t} WHERE ${TS_COLUMN[t]} >= ? AND ${TS_COLUMN[t]} < ? LIMIT 1`, ms(w.since), ms(w.until)).length > 0);
  if (!any) return { groups: [], failures: [], costs: [] };
  return { groups: readKpiGroups(c, w, filter), failures: readKpiFailures(c, w, filter, true), costs: readCosts(c, w, filter) };
}

/** What each group's successes in the window cost: only priced rows read their document (for the scenario). */
function readCosts(c: SqliteConnection, w: TimeWindow, filter: RunFilter): GroupCost[] {
  const out: GroupCost[] = [];
  for (const table of KPI_TABLES) {
    const params: SQLInputValue[] = [ms(w.since), ms(w.until)];
    if (filter.provider !== undefined) params.push(filter.provider);
    if (filter.model !== undefined) params.push(filter.model);
    const rows = metricSql(c, table).spendRows({ scenario: true, priced: true, provider: filter.provider !== undefined, model: filter.model !== undefined });
    const outer = [`scenario != '${UNPUBLISHED}'`];
    if (filter.scenario !== undefined) (outer.push('scenario = ?'), params.push(filter.scenario));
    out.push(
      ...c.all<GroupCost>(
        `SELECT provider, model_name, scenario, SUM(cost_usd) AS cost_usd, COUNT(*) AS priced_calls FROM (${rows} LIMIT -1) WHERE ${outer.join(' AND ')} GROUP BY provider, model_name, scenario`,
        ...params,
      ),
    );
  }
  return out;
}

/** A file from before rollups, opened read-only, has no rollup tables: it has no rollups, and every day is read raw. */
function hasRollups(c: SqliteConnection): boolean {
  return c.all("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'daily_rollups'").length > 0;
}

function rollupDays(c: SqliteConnection, from: string, to: string): RollupDay[] {
  if (!hasRollups(c)) return [];
  return c
    .all<{ day: string; computed_at: number; cells: number; raw_rows_removed: number }>(
      'SELECT day, computed_at, cells, raw_rows_removed FROM rollup_days WHERE day >= ? AND day <= ? ORDER BY day',
      from,
      to,
    )
    .map((r) => ({ day: r.day, computed_at: new Date(r.computed_at), cells: r.cells, raw_rows_removed: r.raw_rows_removed === 1 }));
}

/** Runs fn in one write transaction, rolled back when it throws. */
function inTransaction(c: SqliteConnection, fn: () => void): void {
  c.db.exec('BEGIN IMMEDIATE');
  try {
    fn();
    c.db.exec('COMMIT');
  } catch (err) {
    if (c.db.isTransaction) c.db.exec('ROLLBACK');
    throw err;
  }
}

function state(c: SqliteConnection, key: string): number | null {
  return c.all<{ value: number }>('SELECT value FROM store_state WHERE key = ?', key)[0]?.value ?? null;
}

/**
 * Drops times_between_tokens from the table's rows with run_ts before the cutoff, oldest first,
 * at most `limit`. Where it got to is kept (store_state), so each sweep goes on from there
 * instead of reading every old row again.
 */
function dropGaps(c: SqliteConnection, table: (typeof KPI_TABLES)[number], cutoff: number, limit: number): number {
  const key = `gaps_dropped_until:${table}`;
  let from = state(c, key) ?? 0;
  let dropped = 0;
  let left = limit;
  while (left > 0 && from < cutoff) {
    const batch = c.all<{ id: number; run_ts: number }>(
      `SELECT id, run_ts FROM ${table} INDEXED BY ${table}_spend WHERE run_ts >= ? AND run_ts < ? ORDER BY run_ts LIMIT ?`,
      from,
      cutoff,
      Math.min(left, RETENTION_BATCH),
    );
    // A full batch may stop inside a millisecond: go on from its last run_ts (its rows, already
    // done, are passed over by the json_type test). A short one reached the cutoff.
    const next = batch.length === Math.min(left, RETENTION_BATCH) ? batch.at(-1)!.run_ts : cutoff;
    inWriteTransaction(c.db, () => {
      if (metricSql(c, table).compact) dropped += dropCompactGaps(c, table, batch);
      else {
        const update = c.stmt(
          `UPDATE ${table} SET doc = json_remove(doc, '$.times_between_tokens') WHERE id = ? AND json_type(doc, '$.times_between_tokens') IS NOT NULL`,
        );
        for (const r of batch) dropped += Number(update.run(r.id).changes);
      }
      c.stmt('INSERT OR REPLACE INTO store_state (key, value) VALUES (?, ?)').run(key, next);
    });
    left -= batch.length;
    if (next === from) break;
    from = next;
  }
  return dropped;
}

/**
 * dropGaps over a compact table: each row's document read, its gaps removed and written back in
 * the form insertMetricRow would give it (JSON text rows stay text, by json_remove as above).
 */
function dropCompactGaps(c: SqliteConnection, table: (typeof KPI_TABLES)[number], batch: Array<{ id: number }>): number {
  const m = metricSql(c, table);
  const read = c.stmt(`SELECT ${m.docColumns()} FROM ${table} WHERE id = ?`);
  const codec = codecOf(c.db);
  let dropped = 0;
  for (const { id } of batch) {
    const row = read.get(id)!;
    if (typeof row.doc === 'string') {
      dropped += Number(
        c.stmt(`UPDATE ${table} SET doc = json_remove(doc, '$.times_between_tokens') WHERE id = ? AND json_type(doc, '$.times_between_tokens') IS NOT NULL`).run(id).changes,
      );
      continue;
    }
    const cols = rowColumns('metric', row);
    const blob = row.doc as Uint8Array;
    const doc = codec.decode<Record<string, unknown>>(blob, cols);
    if (!('times_between_tokens' in doc)) continue;
    delete doc.times_between_tokens;
    // Its dates written as its text wrote them (an imported line's style).
    const text = codec.textLike(blob, doc);
    c.stmt(`UPDATE ${table} SET doc = ? WHERE id = ?`).run(codec.encode(doc, cols, text) ?? text, id);
    dropped++;
  }
  return dropped;
}

/** Deletes raw rows older than the cutoff on days whose stored rollups cover them, oldest first, at most `limit` per table. */
function deleteCoveredRows(c: SqliteConnection, cutoff: number, limit: number): number {
  const days = rollupDays(c, '0000-00-00', utcDay(cutoff)).filter((d) => coversDay(d) && Date.parse(`${d.day}T00:00:00Z`) + DAY_MS <= cutoff);
  let deleted = 0;
  for (const table of RAW_TABLES) {
    let left = limit;
    const ts = TS_COLUMN[table];
    for (const d of days) {
      const start = Date.parse(`${d.day}T00:00:00Z`);
      while (left > 0) {
        let n = 0;
        inTransaction(c, () => {
          n = Number(
            c
              .stmt(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${ts} >= ? AND ${ts} < ? LIMIT ?)`)
              .run(start, start + DAY_MS, Math.min(left, RETENTION_BATCH)).changes,
          );
        });
        deleted += n;
        left -= n;
        if (n > 0) c.stmt('UPDATE rollup_days SET raw_rows_removed = 1 WHERE day = ?').run(d.day);
        if (n < RETENTION_BATCH) break;
      }
      if (left <= 0) break;
    }
  }
  return deleted;
}

type RollupColumns = Record<string, string | number | null>;
const PERCENTILES = ['p50', 'p90', 'p95', 'p99'] as const;
const COLUMNS = [
  ...['day', 'provider', 'model_name', 'scenario', 'successes', 'failures', 'failures_by_kind', 'last_success'],
  ...ROLLUP_MEASURE_COLUMNS.flatMap(([, col]) => [`${col}_n`, ...PERCENTILES.map((p) => `${col}_${p}`)]),
  ...['cost_usd', 'priced_calls'],
];
const COLUMN_INDEX = new Map(COLUMNS.map((name, i) => [name, i]));

/** A rollup as daily_rollups' columns, in a fixed order. */
function toColumns(r: DailyRollup): RollupColumns {
  const out: RollupColumns = {
    day: r.day,
    provider: r.provider,
    model_name: r.model_name,
    scenario: r.scenario,
    successes: r.successes,
    failures: r.failures,
    failures_by_kind: JSON.stringify(r.failures_by_kind),
    last_success: r.last_success ? ms(r.last_success) : null,
  };
  for (const [m, col] of ROLLUP_MEASURE_COLUMNS) {
    out[`${col}_n`] = r[m].n;
    for (const p of PERCENTILES) out[`${col}_${p}`] = r[m][p];
  }
  out.cost_usd = r.cost_usd;
  out.priced_calls = r.priced_calls;
  return out;
}

/** A row of COLUMNS' values back into a rollup. */
function fromColumns(v: Array<string | number | null>): DailyRollup {
  const at = (name: string) => v[COLUMN_INDEX.get(name)!]!;
  const measure = (col: string): RollupPercentiles => ({
    n: at(`${col}_n`) as number,
    p50: at(`${col}_p50`) as number | null,
    p90: at(`${col}_p90`) as number | null,
    p95: at(`${col}_p95`) as number | null,
    p99: at(`${col}_p99`) as number | null,
  });
  const successes = at('successes') as number;
  const failures = at('failures') as number;
  const last = at('last_success') as number | null;
  return {
    day: at('day') as string,
    provider: at('provider') as string,
    model_name: at('model_name') as string,
    scenario: at('scenario') as string,
    runs: successes + failures,
    successes,
    failures,
    failures_by_kind: JSON.parse(at('failures_by_kind') as string),
    last_success: last === null ? null : new Date(last),
    time_to_first_token: measure('ttft'),
    total_time: measure('total'),
    tokens_per_second: measure('tps'),
    decode_tokens_per_second: measure('decode'),
    cost_usd: at('cost_usd') as number,
    priced_calls: at('priced_calls') as number,
    source: 'rollup',
  };
}
