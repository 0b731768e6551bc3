// The metric rows: the published table and the probe one (SPEC 4.1), and the reads of one
// model's range of tokens/s and TTFT that the health report makes over them.
import type { MetricDoc } from '../documents.ts';
import { metricsCollectionFor } from '../collection-rules.ts';
import type {
  DailyMedian,
  DailySpend,
  InsertResult,
  LastSuccess,
  MetricSamples,
  MetricsScope,
  MetricsStore,
  ModelSpend,
  TimeWindow,
} from '../store.ts';
import { encodeDoc, ms, type SqliteConnection } from './connection.ts';
import { inWriteTransaction, insertMetricRow } from './metric-rows.ts';
import { METRICS_TABLE, metricSql, unmarkedRows } from './schema.ts';
import { medianOf } from '../kpis.ts';
import { readMetric } from '../upstream.ts';

type LastSuccessRow = { provider: string; model_name: string; ts: number; sweep: string | null };
function toLastSuccess(r: LastSuccessRow): LastSuccess {
  return { provider: r.provider, model_name: r.model_name, ts: new Date(r.ts), sweep_started_at: r.sweep ? new Date(r.sweep) : null };
}
const DAY_MS = 86_400_000;

// Every (provider, model_name) that has metrics, by a loose index scan: one index seek per
// model however long the history, where DISTINCT would read every row. The report's
// queries then read each model's time range from metrics_model_speed: contiguous,
// index-only and already grouped, so SQLite never sorts a week of rows into groups (a
// GROUP BY or window function over 875,000 rows took 1.5 to 7 s; this takes a fraction).
export const METRIC_MODELS = `k(provider, model_name) AS (
  SELECT * FROM (SELECT provider, model_name FROM metrics ORDER BY provider, model_name LIMIT 1)
  UNION ALL
  SELECT m.provider, m.model_name FROM k JOIN metrics m ON m.id = COALESCE(
    (SELECT id FROM metrics WHERE provider = k.provider AND model_name > k.model_name ORDER BY provider, model_name LIMIT 1),
    (SELECT id FROM metrics WHERE provider > k.provider ORDER BY provider, model_name LIMIT 1))
)`;
export const MODEL_RANGE = 'provider = k.provider AND model_name = k.model_name AND run_ts >= ? AND run_ts < ?';

export function sqliteMetrics(c: SqliteConnection): MetricsStore {
  // Read from the spend indexes alone (addSpendColumns). Money is money whatever the scenario:
  // published and probe rows are both summed.
  function spend<K extends object>(key: string, groupBy: string, w: TimeWindow): Array<K & Omit<DailySpend, 'day'>> {
    return c.all<K & Omit<DailySpend, 'day'>>(
      `SELECT provider, ${key}, TOTAL(cost_usd) AS cost_usd, COUNT(cost_usd) AS priced_calls, COUNT(*) - COUNT(cost_usd) AS unpriced_calls
       FROM (${metricSql(c, 'metrics').spendRows()} UNION ALL ${metricSql(c, 'metrics_probe').spendRows()})
       GROUP BY ${groupBy} ORDER BY ${groupBy}`,
      ms(w.since),
      ms(w.until),
      ms(w.since),
      ms(w.until),
    );
  }

  const metrics: MetricsStore = {
    async insertMetric(doc: MetricDoc): Promise<InsertResult> {
      const table = METRICS_TABLE[metricsCollectionFor(doc.benchmark_profile_id)];
      const stored = inWriteTransaction(c.db, () => insertMetricRow(c.db, table, doc as unknown as Record<string, unknown>, encodeDoc(doc), doc.run_id));
      return stored === 1 ? 'stored' : 'duplicate';
    },

    async lastSuccesses(filter: { provider?: string } = {}): Promise<LastSuccess[]> {
      // Per model, its newest row by one index seek, and that row's sweep start from the document.
      const rows = c.all<LastSuccessRow>(
        `WITH RECURSIVE ${METRIC_MODELS}
         SELECT k.provider, k.model_name, m.run_ts AS ts, ${metricSql(c, 'metrics').field('sweep_started_at.$date', 'm')} AS sweep
         FROM k JOIN metrics m ON m.id = (
           SELECT id FROM metrics WHERE provider = k.provider AND model_name = k.model_name ORDER BY run_ts DESC LIMIT 1)
         ${filter.provider ? 'WHERE k.provider = ?' : ''}`,
        ...(filter.provider ? [filter.provider] : []),
      );
      return rows.map(toLastSuccess);
    },

    async recentMetrics(provider: string, modelName: string, limit: number): Promise<MetricDoc[]> {
      return metrics.recentMetricsIn({ provider, modelName, limit });
    },

    async countMetrics(filter: { provider?: string } = {}): Promise<number> {
      return c.count('metrics', filter.provider);
    },

    async countMetricsIn(scope: MetricsScope & { provider?: string }): Promise<number> {
      return c.count(scope.collection === 'probe' ? 'metrics_probe' : 'metrics', scope.provider);
    },

    async lastSuccessesIn(scope: MetricsScope & { provider?: string }): Promise<LastSuccess[]> {
      if (scope.collection !== 'probe') return metrics.lastSuccesses(scope);
      // The probe table is small: a plain GROUP BY (SQLite's bare columns come from the MAX() row).
      const rows = c.all<LastSuccessRow>(
        `SELECT provider, model_name, MAX(run_ts) AS ts, ${metricSql(c, 'metrics_probe').field('sweep_started_at.$date')} AS sweep
         FROM metrics_probe ${scope.provider ? 'WHERE provider = ?' : ''} GROUP BY provider, model_name`,
        ...(scope.provider ? [scope.provider] : []),
      );
      return rows.map(toLastSuccess);
    },

    async recentMetricsIn(scope: MetricsScope & { provider: string; modelName: string; limit: number }): Promise<MetricDoc[]> {
      const table = METRICS_TABLE[scope.collection ?? 'published'];
      return c.rowDocs<MetricDoc>('metric', 
        `SELECT ${metricSql(c, table).docColumns()} FROM ${table} WHERE provider = ? AND model_name = ? ORDER BY run_ts DESC LIMIT ?`,
        scope.provider,
        scope.modelName,
        scope.limit,
      ).map(readMetric);
    },

    async metricSamples(w: TimeWindow): Promise<MetricSamples[]> {
      const rows = c.stmt(
        `WITH RECURSIVE ${METRIC_MODELS}
         SELECT provider, model_name, (
           SELECT json_array(COUNT(*),
                    json_group_array(tokens_per_second) FILTER (WHERE tokens_per_second IS NOT NULL),
                    json_group_array(time_to_first_token) FILTER (WHERE time_to_first_token IS NOT NULL))
           FROM metrics WHERE ${MODEL_RANGE}${unmarkedRows(c, 'metrics')}) AS v
         FROM k ORDER BY provider, model_name`,
      ).iterate(ms(w.since), ms(w.until)) as Iterable<{ provider: string; model_name: string; v: string }>;
      // Row by row, so a week of samples is never held twice (as JSON text and as numbers).
      const out: MetricSamples[] = [];
      for (const r of rows) {
        const [n, tps, ttft] = JSON.parse(r.v) as [number, number[], number[]];
        if (n > 0) out.push({ provider: r.provider, model_name: r.model_name, tokens_per_second: tps, time_to_first_token: ttft });
      }
      return out;
    },

    async dailyMedians(w: TimeWindow): Promise<DailyMedian[]> {
      // One row per (UTC day, model), days outermost (CROSS JOIN keeps that order), so each
      // provider's day arrives as consecutive rows and only one day's values are held at a time.
      // SQLite has no median aggregate: the median is taken here.
      const rows = c.stmt(
        `WITH RECURSIVE days(d) AS (SELECT ? UNION ALL SELECT d + 1 FROM days WHERE d < ?), ${METRIC_MODELS}
         SELECT days.d AS day, k.provider AS provider, (
           SELECT json_group_array(tokens_per_second) FROM metrics
           WHERE provider = k.provider AND model_name = k.model_name AND tokens_per_second IS NOT NULL
             AND run_ts >= max(days.d * ${DAY_MS}, ?) AND run_ts < min((days.d + 1) * ${DAY_MS}, ?)) AS v
         FROM days CROSS JOIN k`,
      ).iterate(
        Math.floor(ms(w.since) / DAY_MS),
        Math.floor((ms(w.until) - 1) / DAY_MS),
        ms(w.since),
        ms(w.until),
      ) as Iterable<{ day: number; provider: string; v: string }>;
      const out: DailyMedian[] = [];
      let current: { day: number; provider: string } | null = null;
      let values: number[] = [];
      const flush = () => {
        if (!current || values.length === 0) return;
        out.push({
          provider: current.provider,
          day: new Date(current.day * DAY_MS).toISOString().slice(0, 10),
          median_tokens_per_second: medianOf(values)!,
          count: values.length,
        });
      };
      for (const r of rows) {
        if (!current || r.day !== current.day || r.provider !== current.provider) {
          flush();
          current = { day: r.day, provider: r.provider };
          values = [];
        }
        for (const v of JSON.parse(r.v) as number[]) values.push(v);
      }
      flush();
      return out.sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : a.day < b.day ? -1 : 1));
    },

    async spendByDay(w: TimeWindow): Promise<DailySpend[]> {
      const rows = spend<{ d: number }>(`run_ts / ${DAY_MS} AS d`, 'provider, d', w);
      return rows.map(({ d, ...r }) => ({ ...r, day: new Date(d * DAY_MS).toISOString().slice(0, 10) }));
    },

    async spendByModel(w: TimeWindow): Promise<ModelSpend[]> {
      return spend<{ model_name: string }>('model_name', 'provider, model_name', w);
    },
  };
  return metrics;
}
