// The metric rows: metrics_cloud_v2 and the probe collection (SPEC 4.1), and the health
// report's reads of them alone.
import type { Document } from 'mongodb';
import type { MetricDoc } from '../documents.ts';
import { metricsCollectionFor, type MetricsCollection } from '../collection-rules.ts';
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
import { COUNTED, PUBLISHED, TTFT, inWindow, insertDoc, readMetrics, refuseMock, serverOrFallback, type CollectionLike, type MongoContext } from './connection.ts';
import { medianOf } from '../kpis.ts';

export function mongoMetrics(ctx: MongoContext): MetricsStore {
  const c = ctx.c;

  function collectionOf(collection: MetricsCollection = 'published'): CollectionLike {
    return collection === 'probe' ? c.probe : c.metrics;
  }

  // Money is money whatever the scenario: published and probe rows are both summed.
  async function spend(key: Document, w: TimeWindow): Promise<Array<{ key: Document } & Omit<DailySpend, 'day' | 'provider'>>> {
    // $sum skips what is not a number, so rows without cost_usd (or with null) add nothing.
    const priced = { $cond: [{ $isNumber: '$cost_usd' }, 1, 0] };
    const pipeline = [
      { $match: inWindow('run_ts', w) },
      { $group: { _id: key, cost_usd: { $sum: '$cost_usd' }, priced_calls: { $sum: priced }, calls: { $sum: 1 } } },
    ];
    const merged = new Map<string, { key: Document; cost_usd: number; priced_calls: number; calls: number }>();
    for (const collection of [c.metrics, c.probe]) {
      for (const r of await collection.aggregate(pipeline).toArray()) {
        const id = JSON.stringify(Object.keys(key).map((k) => r._id[k]));
        const m = merged.get(id) ?? { key: r._id, cost_usd: 0, priced_calls: 0, calls: 0 };
        m.cost_usd += r.cost_usd;
        m.priced_calls += r.priced_calls;
        m.calls += r.calls;
        merged.set(id, m);
      }
    }
    const rows = [...merged.values()].sort((a, b) => {
      for (const k of Object.keys(key)) if (a.key[k] !== b.key[k]) return a.key[k] < b.key[k] ? -1 : 1;
      return 0;
    });
    return rows.map((r) => ({ key: r.key, cost_usd: r.cost_usd, priced_calls: r.priced_calls, unpriced_calls: r.calls - r.priced_calls }));
  }

  const metrics: MetricsStore = {
    async insertMetric(doc: MetricDoc): Promise<InsertResult> {
      refuseMock(doc);
      return insertDoc(collectionOf(metricsCollectionFor(doc.benchmark_profile_id)), doc);
    },

    async lastSuccesses(filter: { provider?: string } = {}): Promise<LastSuccess[]> {
      return metrics.lastSuccessesIn(filter);
    },

    async lastSuccessesIn(filter: MetricsScope & { provider?: string }): Promise<LastSuccess[]> {
      const rows = await collectionOf(filter.collection)
        .aggregate([
          { $match: { ...(filter.provider ? { provider: filter.provider } : {}), ...PUBLISHED } },
          { $sort: { provider: 1, model_name: 1, run_ts: -1 } },
          {
            $group: {
              _id: { provider: '$provider', model_name: '$model_name' },
              ts: { $first: '$run_ts' },
              sweep_started_at: { $first: { $ifNull: ['$sweep_started_at', null] } },
            },
          },
        ])
        .toArray();
      return rows.map((r) => ({ provider: r._id.provider, model_name: r._id.model_name, ts: r.ts, sweep_started_at: r.sweep_started_at ?? null }));
    },

    async recentMetrics(provider: string, modelName: string, limit: number): Promise<MetricDoc[]> {
      const q = { provider, model_name: modelName, ...PUBLISHED };
      return readMetrics(await c.metrics.find(q, { sort: { run_ts: -1 }, limit }).toArray());
    },

    async countMetrics(filter: { provider?: string } = {}): Promise<number> {
      return metrics.countMetricsIn(filter);
    },

    async countMetricsIn(filter: MetricsScope & { provider?: string }): Promise<number> {
      return collectionOf(filter.collection).countDocuments(filter.provider ? { provider: filter.provider } : {});
    },

    async recentMetricsIn(scope: MetricsScope & { provider: string; modelName: string; limit: number }): Promise<MetricDoc[]> {
      const q = { provider: scope.provider, model_name: scope.modelName };
      return readMetrics(await collectionOf(scope.collection).find(q, { sort: { run_ts: -1 }, limit: scope.limit }).toArray());
    },

    async metricSamples(w: TimeWindow): Promise<MetricSamples[]> {
      const rows = await c.metrics
        .aggregate([
          // Regression tests leave marked rows out, as the KPIs do (SPEC 18).
          { $match: { ...inWindow('run_ts', w), ...COUNTED } },
          {
            $group: {
              _id: { provider: '$provider', model_name: '$model_name' },
              tps: { $push: '$tokens_per_second' },
              ttft: { $push: TTFT },
            },
          },
          { $sort: { '_id.provider': 1, '_id.model_name': 1 } },
        ])
        .toArray();
      // $push skips missing fields but keeps explicit nulls; TTFT is null when no text came.
      const numbers = (xs: unknown[]) => xs.filter((x): x is number => typeof x === 'number');
      return rows.map((r) => ({
        provider: r._id.provider,
        model_name: r._id.model_name,
        tokens_per_second: numbers(r.tps),
        time_to_first_token: numbers(r.ttft),
      }));
    },

    async dailyMedians(w: TimeWindow): Promise<DailyMedian[]> {
      const match = { ...inWindow('run_ts', w), tokens_per_second: { $type: 'number' }, ...PUBLISHED };
      const key = { provider: '$provider', day: { $dateToString: { format: '%Y-%m-%d', date: '$run_ts' } } };
      const rows = await serverOrFallback(
        ctx,
        // MongoDB 7.0+: the median in the server.
        () =>
          c.metrics
            .aggregate([
              { $match: match },
              { $group: { _id: key, median: { $median: { input: '$tokens_per_second', method: 'approximate' } }, count: { $sum: 1 } } },
            ])
            .toArray(),
        // Before 7.0: a day's values come here (one provider-day at a time in memory is what the
        // SQLite store holds too).
        async () =>
          (await c.metrics.aggregate([{ $match: match }, { $group: { _id: key, values: { $push: '$tokens_per_second' } } }]).toArray()).map(
            (r) => ({ _id: r._id, median: medianOf(r.values as number[]), count: (r.values as number[]).length }),
          ),
      );
      return rows
        .map((r) => ({ provider: r._id.provider, day: r._id.day, median_tokens_per_second: r.median, count: r.count }))
        .sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
    },

    async spendByDay(w: TimeWindow): Promise<DailySpend[]> {
      const rows = await spend({ provider: '$provider', day: { $dateToString: { format: '%Y-%m-%d', date: '$run_ts' } } }, w);
      return rows.map(({ key, ...r }) => ({ provider: key.provider, day: key.day, ...r }));
    },

    async spendByModel(w: TimeWindow): Promise<ModelSpend[]> {
      const rows = await spend({ provider: '$provider', model_name: '$model_name' }, w);
      return rows.map(({ key, ...r }) => ({ provider: key.provider, model_name: key.model_name, ...r }));
    },
  };
  return metrics;
}
