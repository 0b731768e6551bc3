// Reads over successes and errors together: the health report's counts per provider and
// model, model health's activity, dueness's last success per scenario, and the KPIs, runs and
// chart points of SPEC 16.
import type { SQLInputValue } from 'node:sqlite';
import type { ErrorDoc, MetricDoc, ScenarioSuccess } from '../documents.ts';
import { PUBLISHED_SCENARIO_ID } from '../documents.ts';
import type {
  MarkedRuns,
  NearLimit,
  ServedModel,
  KpiSummary,
  MetricPoint,
  ModelActivity,
  ModelErrorSummary,
  ProviderCounts,
  RunFilter,
  RunQuery,
  RunRecord,
  RunsStore,
  TimeWindow,
} from '../store.ts';
import { medianOf, summarizeGroups, type GroupFailures, type GroupValues } from '../kpis.ts';
import type { KindFailures } from '../rollups.ts';
import { ms, type SqliteConnection } from './connection.ts';
import { METRIC_MODELS, MODEL_RANGE } from './metrics.ts';
import { runIdKey } from './compact.ts';
import { BY_RUN_ID, KPI_COLUMNS, KPI_INDEX, KPI_TABLES, MARKED_TABLE, UNPUBLISHED, errorSql, metricSql, type MetricTable, unmarkedRows } from './schema.ts';
import { readError, readMetric } from '../upstream.ts';

export function sqliteRuns(c: SqliteConnection): RunsStore {
  const runs: RunsStore = {
    async markedRuns(w: TimeWindow): Promise<MarkedRuns[]> {
      if (unmarkedRows(c, 'metrics') === '') return [];
      return c.all<MarkedRuns>(
        `SELECT provider, model_name, COALESCE(SUM(cache_hit = 1), 0) AS cache_hits, COALESCE(SUM(saturated = 1), 0) AS saturated FROM (
           ${KPI_TABLES.map(
             (t) => `SELECT m.provider, m.model_name, ${metricSql(c, t).field('evidence.cache_hit', 'm')} AS cache_hit, ${metricSql(c, t).field('evidence.saturated', 'm')} AS saturated
              FROM ${MARKED_TABLE} k JOIN ${t} m ON m.id = k.id WHERE k.tbl = '${t}' AND m.run_ts >= ? AND m.run_ts < ?`,
           ).join(' UNION ALL ')}
         ) GROUP BY provider, model_name ORDER BY provider, model_name`,
        ...KPI_TABLES.flatMap(() => [ms(w.since), ms(w.until)]),
      );
    },

    async nearLimit(w: TimeWindow, share: number): Promise<NearLimit[]> {
      // Read from the documents over the window (the health mail's one read a day); 2 stands for "not reported".
      const parts = [
        ...KPI_TABLES.map((t) => `SELECT provider, run_ts AS ts, ${shareLeft((f) => metricSql(c, t).field(f))} AS s FROM ${t} WHERE run_ts >= ? AND run_ts < ?`),
        `SELECT provider, ts, ${shareLeft(errorSql(c).field)} AS s FROM errors WHERE ts >= ? AND ts < ?`,
      ];
      return c
        .all<{ provider: string; rows: number; lowest_share: number; last_at: number }>(
          `SELECT provider, COUNT(*) AS rows, MIN(s) AS lowest_share, MAX(ts) AS last_at FROM (${parts.join(' UNION ALL ')})
           WHERE s <= ? GROUP BY provider ORDER BY provider`,
          ...parts.flatMap(() => [ms(w.since), ms(w.until)]),
          share,
        )
        .map((r) => ({ ...r, last_at: new Date(r.last_at) }));
    },

    async servedModels(w: TimeWindow): Promise<ServedModel[]> {
      // Read from the documents over the window (the health mail's one read a day, not a KPI).
      const rows = c.all<{ provider: string; model_name: string; served: string; first: number; last: number; runs: number; tps: string }>(
        // The served model read once per row (LIMIT -1 keeps SQLite from flattening the subquery).
        `SELECT provider, model_name, served, MIN(run_ts) AS first, MAX(run_ts) AS last, COUNT(*) AS runs,
                json_group_array(tokens_per_second) FILTER (WHERE tokens_per_second IS NOT NULL) AS tps
         FROM (SELECT provider, model_name, run_ts, tokens_per_second, ${metricSql(c, 'metrics').servedModel} AS served
               FROM metrics INDEXED BY ${metricSql(c, 'metrics').timeIndex} WHERE run_ts >= ? AND run_ts < ?${unmarkedRows(c, 'metrics')} LIMIT -1)
         WHERE served IS NOT NULL GROUP BY provider, model_name, served ORDER BY provider, model_name, first`,
        ms(w.since),
        ms(w.until),
      );
      return rows.map((r) => ({
        provider: r.provider,
        model_name: r.model_name,
        served_model: r.served,
        first_seen: new Date(r.first),
        last_seen: new Date(r.last),
        runs: r.runs,
        median_tokens_per_second: medianOf(JSON.parse(r.tps) as number[]),
      }));
    },

    async modelActivity(since: Date): Promise<ModelActivity[]> {
      // Models with successes by the loose index scan, models with errors by one pass over the
      // errors index; then per failing model, its errors newer than its last success.
      const rows = c.all<{
        provider: string;
        model_name: string;
        last_success: number | null;
        successes: number;
        last_error: number | null;
        error_kind: string | null;
        failures: number;
        after: number;
      }>(
        `WITH RECURSIVE ${METRIC_MODELS},
         s AS (
           SELECT k.provider, k.model_name,
                  (SELECT MAX(run_ts) FROM metrics WHERE provider = k.provider AND model_name = k.model_name) AS last_success,
                  (SELECT COUNT(*) FROM metrics WHERE provider = k.provider AND model_name = k.model_name AND run_ts >= ?) AS successes
           FROM k
         ),
         e AS (
           SELECT provider, model_name, MAX(ts) AS last_error, error_kind, SUM(ts >= ?) AS failures
           FROM errors WHERE error_kind != 'aborted' GROUP BY provider, model_name
         ),
         a AS (
           SELECT s.provider, s.model_name, s.last_success, s.successes, e.last_error, e.error_kind, COALESCE(e.failures, 0) AS failures
           FROM s LEFT JOIN e ON e.provider = s.provider AND e.model_name = s.model_name
           UNION ALL
           SELECT e.provider, e.model_name, NULL, 0, e.last_error, e.error_kind, e.failures
           FROM e WHERE NOT EXISTS (SELECT 1 FROM s WHERE s.provider = e.provider AND s.model_name = e.model_name)
         )
         SELECT a.*, CASE WHEN a.last_error IS NULL OR a.last_error <= COALESCE(a.last_success, -1) THEN 0 ELSE (
           SELECT COUNT(*) FROM errors WHERE provider = a.provider AND model_name = a.model_name AND ts > COALESCE(a.last_success, -1)
             AND error_kind != 'aborted'
         ) END AS after
         FROM a ORDER BY a.provider, a.model_name`,
        ms(since),
        ms(since),
      );
      return rows.map((r) => ({
        provider: r.provider,
        model_name: r.model_name,
        last_success_at: r.last_success === null ? null : new Date(r.last_success),
        last_error_at: r.last_error === null ? null : new Date(r.last_error),
        last_error_kind: r.error_kind as ModelActivity['last_error_kind'],
        successes_since: r.successes,
        failures_since: r.failures,
        failures_after_last_success: r.after,
      }));
    },

    async countsByProvider(w: TimeWindow): Promise<ProviderCounts[]> {
      return c.all<ProviderCounts>(
        `WITH RECURSIVE ${METRIC_MODELS}, s AS (
           SELECT provider, (SELECT COUNT(*) FROM metrics WHERE ${MODEL_RANGE}) AS n FROM k
         )
         SELECT provider, SUM(s) AS successes, SUM(e) AS errors FROM (
           SELECT provider, SUM(n) AS s, 0 AS e FROM s GROUP BY provider HAVING SUM(n) > 0
           UNION ALL
           SELECT provider, 0, COUNT(*) FROM errors WHERE ts >= ? AND ts < ? AND error_kind != 'aborted' GROUP BY provider
         ) GROUP BY provider ORDER BY provider`,
        ms(w.since),
        ms(w.until),
        ms(w.since),
        ms(w.until),
      );
    },

    async errorsByModel(w: TimeWindow): Promise<ModelErrorSummary[]> {
      const rows = c.all<Omit<ModelErrorSummary, 'last_error_ts' | 'error_kinds'> & { last_error_ts: number; error_kinds: string }>(
        `WITH e AS (
           SELECT provider, model_name, COUNT(*) AS errors, MAX(ts) AS last_error_ts,
                  message AS last_message, error_kind AS last_error_kind, stage AS last_stage
           FROM errors WHERE ts >= ? AND ts < ? AND error_kind != 'aborted' GROUP BY provider, model_name
         ), k AS (
           SELECT provider, model_name, json_group_object(error_kind, n) AS error_kinds FROM (
             SELECT provider, model_name, error_kind, COUNT(*) AS n FROM errors
             WHERE ts >= ? AND ts < ? AND error_kind != 'aborted' GROUP BY provider, model_name, error_kind
           ) GROUP BY provider, model_name
         )
         SELECT e.provider, e.model_name, e.errors, e.last_error_ts, e.last_message, e.last_error_kind, e.last_stage,
                k.error_kinds,
                (SELECT COUNT(*) FROM metrics m WHERE m.provider = e.provider AND m.model_name = e.model_name
                   AND m.run_ts >= ? AND m.run_ts < ?) AS successes
         FROM e JOIN k ON k.provider = e.provider AND k.model_name = e.model_name
         ORDER BY e.errors DESC, e.provider, e.model_name`,
        ms(w.since),
        ms(w.until),
        ms(w.since),
        ms(w.until),
        ms(w.since),
        ms(w.until),
      );
      return rows.map((r) => ({
        provider: r.provider,
        model_name: r.model_name,
        errors: r.errors,
        successes: r.successes,
        last_error_ts: new Date(r.last_error_ts),
        last_message: r.last_message,
        last_error_kind: r.last_error_kind,
        last_stage: r.last_stage,
        error_kinds: JSON.parse(r.error_kinds),
      }));
    },

    async lastScenarioSuccesses(since: Date): Promise<ScenarioSuccess[]> {
      // Published and probe rows (SPEC 4.1 sends every other scenario to metrics_probe), and
      // completed agent runs. Only rows since `since`, through the run_ts index: dueness needs nothing older, and a
      // year of history is never read. Rows from before scenarios existed have no
      // benchmark_profile_id and count as the published scenario's.
      const [published, probe] = [metricSql(c, 'metrics'), metricSql(c, 'metrics_probe')];
      const rows = c.all<{ scenario_id: string; provider: string; model_name: string; ts: number; sweep: string | null }>(
        `SELECT ${published.compact ? published.scenario() : `COALESCE(json_extract(doc, '$.benchmark_profile_id'), '${PUBLISHED_SCENARIO_ID}')`} AS scenario_id, provider, model_name,
                MAX(run_ts) AS ts, ${published.field('sweep_started_at.$date')} AS sweep
         FROM metrics WHERE run_ts >= ? GROUP BY 1, provider, model_name
         UNION ALL
         SELECT * FROM (SELECT ${probe.scenario()} AS scenario_id, provider, model_name,
                MAX(run_ts), ${probe.field('sweep_started_at.$date')}
         FROM metrics_probe WHERE run_ts >= ? GROUP BY 1, provider, model_name) WHERE scenario_id != '${UNPUBLISHED}'
         UNION ALL
         SELECT scenario_id, 'tinyfish', automation, MAX(started_at), json_extract(doc, '$.sweep_started_at."$date"')
         FROM agent_runs WHERE started_at >= ? AND status = 'completed' GROUP BY scenario_id, automation
         ORDER BY 1, 2, 3`,
        ms(since),
        ms(since),
        ms(since),
      );
      return rows.map((r) => ({
        scenario_id: r.scenario_id,
        provider: r.provider,
        model_name: r.model_name,
        ts: new Date(r.ts),
        sweep_started_at: r.sweep ? new Date(r.sweep) : null,
      }));
    },

    async metricKpis(w: TimeWindow, filter: RunFilter = {}): Promise<KpiSummary> {
      return summarizeGroups(readKpiGroups(c, w, filter), readKpiFailures(c, w, filter));
    },

    async recentRuns(query: RunQuery): Promise<RunRecord[]> {
      const part = (table: 'metrics' | 'metrics_probe' | 'errors', tsColumn: string) => {
        const where: string[] = [];
        const params: SQLInputValue[] = [];
        const add = (sql: string, value: SQLInputValue | undefined) => {
          if (value === undefined) return;
          where.push(sql);
          params.push(value);
        };
        add(`${tsColumn} >= ?`, query.since ? ms(query.since) : undefined);
        add(`${tsColumn} < ?`, query.until ? ms(query.until) : undefined);
        add('provider = ?', query.provider);
        add('model_name = ?', query.model);
        const m = table === 'errors' ? errorSql(c) : metricSql(c, table);
        const scenario = typeof m.scenario === 'string' ? m.scenario : m.scenario();
        add(`${scenario} = ?`, query.scenario);
        if (table === 'metrics_probe') where.push(`${scenario} != '${UNPUBLISHED}'`);
        params.push(query.limit);
        const sql = `SELECT ${m.docColumns()} FROM ${table} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${tsColumn} DESC LIMIT ?`;
        return c.rowDocs<MetricDoc & ErrorDoc>(table === 'errors' ? 'error' : 'metric', sql, ...params);
      };
      const ok: RunRecord[] =
        query.outcome === 'failed'
          ? []
          : [...part('metrics', 'run_ts'), ...part('metrics_probe', 'run_ts')].map((m) => ({ outcome: 'ok', ts: m.run_ts, metric: readMetric(m) }));
      const failed: RunRecord[] =
        query.outcome === 'ok' ? [] : part('errors', 'ts').map((e) => ({ outcome: 'failed', ts: e.ts, error: readError(e) }));
      return [...ok, ...failed].sort((a, b) => b.ts.getTime() - a.ts.getTime()).slice(0, query.limit);
    },

    async getRun(runId: string): Promise<RunRecord | null> {
      const byId = (t: MetricTable) => {
        const m = metricSql(c, t);
        return c.rowDocs<MetricDoc>('metric', `SELECT ${m.docColumns()} FROM ${t} WHERE ${m.compact ? BY_RUN_ID : 'run_id = ?1'}`, m.compact ? runIdKey(runId) : runId)[0];
      };
      const metric = byId('metrics') ?? byId('metrics_probe');
      if (metric) return { outcome: 'ok', ts: metric.run_ts, metric: readMetric(metric) };
      const e = errorSql(c);
      const error = c.rowDocs<ErrorDoc>('error', `SELECT ${e.docColumns()} FROM errors WHERE ${e.compact ? BY_RUN_ID : 'run_id = ?1'}`, e.compact ? runIdKey(runId) : runId)[0];
      return error ? { outcome: 'failed', ts: error.ts, error: readError(error) } : null;
    },

    async metricPoints(w: TimeWindow, filter: RunFilter = {}): Promise<MetricPoint[]> {
      const points: MetricPoint[] = [];
      for (const table of KPI_TABLES) {
        const sql = metricSql(c, table);
        const rows = c.all<{ provider: string; model_name: string; scenario: string; run_ts: number; time_to_first_token: number | null; tokens_per_second: number }>(
          `WITH RECURSIVE ${kpiGroups(c, table)}
           SELECT m.provider, m.model_name, g.scenario, m.run_ts, m.time_to_first_token, m.tokens_per_second
           FROM g JOIN ${table} m INDEXED BY ${sql.kpiIndex} ON m.provider = g.provider AND m.model_name = g.model_name
             AND ${sql.compact ? 'm.gid = g.gid' : `${sql.scenario('m')} = g.scenario`} AND m.run_ts >= ? AND m.run_ts < ?
           ${kpiWhere(filter)}
           ORDER BY g.provider, g.model_name, g.scenario, m.run_ts`,
          ms(w.since),
          ms(w.until),
          ...kpiParams(filter),
        );
        for (const r of rows) points.push({ ...r, run_ts: new Date(r.run_ts) });
      }
      const key = (p: MetricPoint) => `${p.provider}\u0000${p.model_name}\u0000${p.scenario}`;
      return points.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.run_ts.getTime() - b.run_ts.getTime()));
    },
  };
  return runs;
}

// Every (provider, model_name, scenario) with metrics: a compact table's from metric_groups
// (with the gid its rows hold; a group whose rows retention removed reads as no rows), a JSON
// one's by a loose scan of the KPI index (one seek per group, as METRIC_MODELS does per model).
const kpiGroups = (c: SqliteConnection, t: MetricTable) => {
  const sql = metricSql(c, t);
  if (sql.compact) return `g(provider, model_name, scenario, gid) AS (SELECT provider, model_name, scenario, gid FROM metric_groups WHERE tbl = '${t}')`;
  const scenario = sql.scenario();
  const index = sql.kpiIndex;
  return `g(provider, model_name, scenario) AS (
  SELECT * FROM (SELECT provider, model_name, ${scenario} FROM ${t} INDEXED BY ${index} ORDER BY provider, model_name, ${scenario} LIMIT 1)
  UNION ALL
  SELECT m.provider, m.model_name, ${sql.scenario('m')} FROM g JOIN ${t} m ON m.id = COALESCE(
    (SELECT id FROM ${t} INDEXED BY ${index} WHERE provider = g.provider AND model_name = g.model_name AND ${scenario} > g.scenario
       ORDER BY provider, model_name, ${scenario} LIMIT 1),
    (SELECT id FROM ${t} INDEXED BY ${index} WHERE provider = g.provider AND model_name > g.model_name
       ORDER BY provider, model_name, ${scenario} LIMIT 1),
    (SELECT id FROM ${t} INDEXED BY ${index} WHERE provider > g.provider ORDER BY provider, model_name, ${scenario} LIMIT 1))
)`;
};

/** The smaller share of the requests or tokens budget a row's rate-limit headers left; 2 when they said neither. */
const shareLeft = (field: (path: string) => string) =>
  `min(coalesce(${field('rate_limit.requests_remaining')} * 1.0 / nullif(${field('rate_limit.requests_limit')}, 0), 2), coalesce(${field('rate_limit.tokens_remaining')} * 1.0 / nullif(${field('rate_limit.tokens_limit')}, 0), 2))`;

/** The groups a filter asks for; never upstream's unpublished probes and shadows. */
function kpiWhere(filter: RunFilter): string {
  const where = [
    `g.scenario != '${UNPUBLISHED}'`,
    filter.provider !== undefined ? 'g.provider = ?' : null,
    filter.model !== undefined ? 'g.model_name = ?' : null,
    filter.scenario !== undefined ? 'g.scenario = ?' : null,
  ].filter(Boolean);
  return `WHERE ${where.join(' AND ')}`;
}

function kpiParams(filter: RunFilter): SQLInputValue[] {
  return [filter.provider, filter.model, filter.scenario].filter((v): v is string => v !== undefined);
}

/**
 * Each (provider, model, scenario) group's KPI values in the window, upstream's probes and
 * shadows left out: what metricKpis and the daily rollups are computed from.
 */
export function readKpiGroups(c: SqliteConnection, w: TimeWindow, filter: RunFilter = {}): GroupValues[] {
  // The groups by a loose index scan, then one index-only range read per group whose values
  // SQLite hands to kpi_collect() straight into Float64Arrays: no JSON, and no row object or
  // array per row (rows as arrays cost 1.5x as much on a million rows; JSON arrays 2x).
  const groups: GroupValues[] = [];
  // A (provider, model, scenario) group lives in one table: its scenario decides which.
  for (const table of KPI_TABLES) {
    const unmarked = unmarkedRows(c, table);
    const sql = metricSql(c, table);
    const keys = c.all<{ provider: string; model_name: string; scenario: string; gid?: number }>(
      `WITH RECURSIVE ${kpiGroups(c, table)} SELECT * FROM g ${kpiWhere(filter)}`,
      ...kpiParams(filter),
    );
    const read = c.stmt(
      `SELECT count(kpi_collect(time_to_first_token, ${sql.generateTime}, tokens_per_second, ${sql.decodeTps})) AS n, max(run_ts) AS last
       FROM ${table} INDEXED BY ${sql.kpiIndex} WHERE provider = ? AND model_name = ? AND ${sql.compact ? 'gid' : sql.scenario()} = ? AND run_ts >= ? AND run_ts < ?${unmarked}`,
    );
    for (const { gid, ...k } of keys) {
      KPI_COLUMNS.reset();
      const { n, last } = read.get(k.provider, k.model_name, gid ?? k.scenario, ms(w.since), ms(w.until)) as { n: number; last: number | null };
      if (n === 0) continue;
      const [ttft, total, tps, decode] = KPI_COLUMNS.take();
      groups.push({
        ...k,
        successes: n,
        last_success: new Date(last!),
        time_to_first_token: ttft!,
        total_time: total!,
        tokens_per_second: tps!,
        decode_tokens_per_second: decode!,
      });
    }
  }
  return groups;
}

/** Failures per group in the window (aborted calls are none), and per error_kind when asked. */
export function readKpiFailures(c: SqliteConnection, w: TimeWindow, filter?: RunFilter): GroupFailures[];
export function readKpiFailures(c: SqliteConnection, w: TimeWindow, filter: RunFilter, byKind: true): KindFailures[];
export function readKpiFailures(c: SqliteConnection, w: TimeWindow, filter: RunFilter = {}, byKind = false): GroupFailures[] | KindFailures[] {
  // An aborted call (the operator stopped the sweep) is neither a success nor a failure.
  const where = ['ts >= ?', 'ts < ?', "error_kind != 'aborted'"];
  const params: SQLInputValue[] = [ms(w.since), ms(w.until)];
  const scenario = errorSql(c).scenario;
  for (const [column, value] of [['provider', filter.provider], ['model_name', filter.model], [scenario, filter.scenario]] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  const kind = byKind ? ', error_kind' : '';
  return c.all<GroupFailures>(
    // LIMIT -1 keeps SQLite from flattening the subquery: flattened, it sorts for the GROUP BY
    // with the expression recomputed from every document (5x slower on 100,000 errors).
    `SELECT provider, model_name, scenario${kind}, COUNT(*) AS failures FROM (
       SELECT provider, model_name, ${scenario} AS scenario${kind} FROM errors INDEXED BY ${KPI_INDEX.errors} WHERE ${where.join(' AND ')} LIMIT -1
     ) GROUP BY provider, model_name, scenario${kind}`,
    ...params,
  );
}
