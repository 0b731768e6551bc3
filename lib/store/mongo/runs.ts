// Reads over successes and errors together: the health report's counts per provider and
// model, model health's activity, dueness's last success per scenario, and the KPIs, runs and
// chart points of SPEC 16.
import type { Document } from 'mongodb';
import type { ErrorKind, ScenarioSuccess } from '../documents.ts';
import { PUBLISHED_SCENARIO_ID } from '../documents.ts';
import {
  DEFAULT_SCENARIO,
  type KpiRow,
  type KpiSummary,
  type MarkedRuns,
  type NearLimit,
  type ServedModel,
  type MetricPoint,
  type ModelActivity,
  type ModelErrorSummary,
  type KpiPercentiles,
  type ProviderCounts,
  type RunFilter,
  type RunQuery,
  type RunRecord,
  type RunsStore,
  type TimeWindow,
} from '../store.ts';
import { byKey, emptyKpiRow, medianOf, summarizeGroups, withoutInterval, withRates, type GroupFailures, type GroupValues } from '../kpis.ts';
import {
  COUNTED,
  MARKED,
  ERROR_KIND,
  NOT_ABORTED,
  PUBLISHED,
  TTFT,
  inWindow,
  readErrors,
  readMetrics,
  serverOrFallback,
  type CollectionLike,
  type MongoCollections,
  type MongoContext,
} from './connection.ts';
import type { KindFailures } from '../rollups.ts';
import { mongoErrors } from './errors.ts';
import { mongoMetrics } from './metrics.ts';

export function mongoRuns(ctx: MongoContext): RunsStore {
  const c = ctx.c;
  const metricsStore = mongoMetrics(ctx);
  const errorsStore = mongoErrors(ctx);

  async function serverKpis(match: Document, failures: GroupFailures[]): Promise<KpiSummary> {
    // MongoDB 7.0+: $percentile in the server, at the three levels at once.
    const level = (id: Document | null) =>
      c.metrics
        .aggregate([
          { $match: match },
          {
            $group: {
              _id: id,
              n: { $sum: 1 },
              last: { $max: '$run_ts' },
              ...Object.fromEntries(
                Object.entries(KPI_FIELDS).map(([name, field]) => [name, { $percentile: { input: field, p: [0.5, 0.95, 0.99], method: 'approximate' } }]),
              ),
            },
          },
        ])
        .toArray();
    const [models, providers, overall] = await Promise.all([level({ ...GROUP_KEY }), level({ provider: '$provider' }), level(null)]);
    const row = (r: Document | undefined, key: Pick<KpiRow, 'provider' | 'model_name' | 'scenario'>, failed: number): KpiRow => {
      const base = { ...emptyKpiRow(key), successes: r?.n ?? 0, failures: failed, last_success: r?.last ?? null };
      if (!r) return withRates(base);
      // $percentile gives no order statistics, so no interval: null, never a guess (SPEC 18).
      const p = (v: unknown): KpiPercentiles => {
        const [p50 = null, p95 = null, p99 = null] = Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : null)) : [];
        return withoutInterval({ p50, p95, p99 });
      };
      return withRates({
        ...base,
        time_to_first_token: p(r.time_to_first_token),
        total_time: p(r.total_time),
        tokens_per_second: p(r.tokens_per_second),
        decode_tokens_per_second: p(r.decode_tokens_per_second),
      });
    };
    const sum = (pick: (f: GroupFailures) => boolean) => failures.filter(pick).reduce((n, f) => n + f.failures, 0);
    const modelRows = models.map((r) =>
      row(r, { provider: r._id.provider, model_name: r._id.model_name, scenario: r._id.scenario }, sum((f) => f.provider === r._id.provider && f.model_name === r._id.model_name && f.scenario === r._id.scenario)),
    );
    for (const f of failures) {
      if (!modelRows.some((m) => m.provider === f.provider && m.model_name === f.model_name && m.scenario === f.scenario)) {
        modelRows.push(row(undefined, { provider: f.provider, model_name: f.model_name, scenario: f.scenario }, f.failures));
      }
    }
    const providerNames = new Set([...providers.map((r) => r._id.provider as string), ...failures.map((f) => f.provider)]);
    return {
      overall: row(overall[0], { provider: null, model_name: null, scenario: null }, sum(() => true)),
      providers: [...providerNames]
        .map((p) => row(providers.find((r) => r._id.provider === p), { provider: p, model_name: null, scenario: null }, sum((f) => f.provider === p)))
        .sort(byKey),
      models: modelRows.sort(byKey),
    };
  }

  const runs: RunsStore = {
    async nearLimit(w: TimeWindow, share: number): Promise<NearLimit[]> {
      // The smaller share of the requests or tokens budget left; 2 when the headers said neither.
      const ratio = (left: string, limit: string) => ({
        $cond: [
          { $and: [{ $isNumber: `$rate_limit.${left}` }, { $isNumber: `$rate_limit.${limit}` }, { $gt: [`$rate_limit.${limit}`, 0] }] },
          { $divide: [`$rate_limit.${left}`, `$rate_limit.${limit}`] },
          2,
        ],
      });
      const pipeline = (ts: string) => [
        { $match: { ...inWindow(ts, w), rate_limit: { $type: 'object' } } },
        { $project: { provider: 1, ts: `$${ts}`, s: { $min: [ratio('requests_remaining', 'requests_limit'), ratio('tokens_remaining', 'tokens_limit')] } } },
        { $match: { s: { $lte: share } } },
        { $group: { _id: '$provider', rows: { $sum: 1 }, lowest: { $min: '$s' }, last: { $max: '$ts' } } },
      ];
      const parts = [
        ...(await c.metrics.aggregate(pipeline('run_ts')).toArray()),
        ...(await c.probe.aggregate(pipeline('run_ts')).toArray()),
        ...(await c.errors.aggregate(pipeline('ts')).toArray()),
      ];
      const byProvider = new Map<string, NearLimit>();
      for (const r of parts) {
        const p = byProvider.get(r._id);
        if (!p) byProvider.set(r._id, { provider: r._id, rows: r.rows, lowest_share: r.lowest, last_at: r.last });
        else Object.assign(p, { rows: p.rows + r.rows, lowest_share: Math.min(p.lowest_share, r.lowest), last_at: r.last > p.last_at ? r.last : p.last_at });
      }
      return [...byProvider.values()].sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : 0));
    },

    async servedModels(w: TimeWindow): Promise<ServedModel[]> {
      const rows = await c.metrics
        .aggregate([
          { $match: { ...inWindow('run_ts', w), ...COUNTED, served_model: { $type: 'string' } } },
          {
            $group: {
              _id: { provider: '$provider', model_name: '$model_name', served: '$served_model' },
              first: { $min: '$run_ts' },
              last: { $max: '$run_ts' },
              runs: { $sum: 1 },
              tps: { $push: '$tokens_per_second' },
            },
          },
        ])
        .toArray();
      const out = rows.map(
        (r): ServedModel => ({
          provider: r._id.provider,
          model_name: r._id.model_name,
          served_model: r._id.served,
          first_seen: r.first,
          last_seen: r.last,
          runs: r.runs,
          median_tokens_per_second: medianOf((r.tps as unknown[]).filter((x): x is number => typeof x === 'number')),
        }),
      );
      // As SQLite orders them: provider, model, then the first seen.
      const key = (s: ServedModel) => `${s.provider}\u0000${s.model_name}`;
      return out.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.first_seen.getTime() - b.first_seen.getTime()));
    },

    async markedRuns(w: TimeWindow): Promise<MarkedRuns[]> {
      const pipeline = [
        { $match: { ...inWindow('run_ts', w), ...MARKED } },
        {
          $group: {
            _id: { provider: '$provider', model_name: '$model_name' },
            cache_hits: { $sum: { $cond: [{ $eq: ['$evidence.cache_hit', true] }, 1, 0] } },
            saturated: { $sum: { $cond: [{ $eq: ['$evidence.saturated', true] }, 1, 0] } },
          },
        },
      ];
      const rows = [...(await c.metrics.aggregate(pipeline).toArray()), ...(await c.probe.aggregate(pipeline).toArray())];
      const byModel = new Map<string, MarkedRuns>();
      for (const r of rows) {
        const k = `${r._id.provider}\u0000${r._id.model_name}`;
        const m = byModel.get(k) ?? byModel.set(k, { provider: r._id.provider, model_name: r._id.model_name, cache_hits: 0, saturated: 0 }).get(k)!;
        m.cache_hits += r.cache_hits;
        m.saturated += r.saturated;
      }
      // In code-point order, as SQLite's ORDER BY sorts.
      const key = (m: MarkedRuns) => `${m.provider}\u0000${m.model_name}`;
      return [...byModel.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    },

    async modelActivity(since: Date): Promise<ModelActivity[]> {
      const key = { provider: '$provider', model_name: '$model_name' };
      const countSince = (c: CollectionLike, match: Document) => c.aggregate([{ $match: match }, { $group: { _id: key, n: { $sum: 1 } } }]).toArray();
      const [successes, errors, recentOk, recentBad] = await Promise.all([
        metricsStore.lastSuccesses(),
        errorsStore.lastErrors(),
        countSince(c.metrics, { run_ts: { $gte: since }, ...PUBLISHED }),
        countSince(c.errors, { ts: { $gte: since }, ...NOT_ABORTED }),
      ]);
      const byModel = new Map<string, ModelActivity>();
      const entry = (provider: string, model_name: string): ModelActivity => {
        const k = `${provider}\u0000${model_name}`;
        let a = byModel.get(k);
        if (!a) {
          a = {
            provider,
            model_name,
            last_success_at: null,
            last_error_at: null,
            last_error_kind: null,
            successes_since: 0,
            failures_since: 0,
            failures_after_last_success: 0,
          };
          byModel.set(k, a);
        }
        return a;
      };
      for (const s of successes) entry(s.provider, s.model_name).last_success_at = s.ts;
      for (const e of errors) Object.assign(entry(e.provider, e.model_name), { last_error_at: e.ts, last_error_kind: e.error_kind });
      for (const r of recentOk) entry(r._id.provider, r._id.model_name).successes_since = r.n;
      for (const r of recentBad) entry(r._id.provider, r._id.model_name).failures_since = r.n;
      // Only models whose newest error is newer than their newest success have a run of
      // failures to count, so one query over those few, not over every model.
      const failing = [...byModel.values()].filter((a) => a.last_error_at && (!a.last_success_at || a.last_error_at > a.last_success_at));
      if (failing.length > 0) {
        const rows = await c.errors
          .aggregate([
            {
              $match: {
                $or: failing.map((a) => ({
                  provider: a.provider,
                  model_name: a.model_name,
                  ...(a.last_success_at ? { ts: { $gt: a.last_success_at } } : {}),
                })),
                ...NOT_ABORTED,
              },
            },
            { $group: { _id: key, n: { $sum: 1 } } },
          ])
          .toArray();
        for (const r of rows) entry(r._id.provider, r._id.model_name).failures_after_last_success = r.n;
      }
      return [...byModel.values()];
    },

    async countsByProvider(w: TimeWindow): Promise<ProviderCounts[]> {
      const count = (c: CollectionLike, field: string, extra: Document = {}) =>
        c.aggregate([{ $match: { ...inWindow(field, w), ...extra } }, { $group: { _id: '$provider', n: { $sum: 1 } } }]).toArray();
      const [ok, bad] = await Promise.all([count(c.metrics, 'run_ts', PUBLISHED), count(c.errors, 'ts', NOT_ABORTED)]);
      const byProvider = new Map<string, ProviderCounts>();
      const entry = (p: string) => byProvider.get(p) ?? byProvider.set(p, { provider: p, successes: 0, errors: 0 }).get(p)!;
      for (const r of ok) entry(r._id).successes = r.n;
      for (const r of bad) entry(r._id).errors = r.n;
      return [...byProvider.values()].sort((a, b) => a.provider.localeCompare(b.provider));
    },

    async errorsByModel(w: TimeWindow): Promise<ModelErrorSummary[]> {
      const key = { provider: '$provider', model_name: '$model_name' };
      const modelKey = (r: Document) => `${r._id.provider}\u0000${r._id.model_name}`;
      const [errors, successes, kinds] = await Promise.all([
        c.errors
          .aggregate([
            { $match: { ...inWindow('ts', w), ...NOT_ABORTED } },
            { $sort: { ts: -1 } },
            {
              $group: {
                _id: key,
                errors: { $sum: 1 },
                last_error_ts: { $first: '$ts' },
                last_message: { $first: '$message' },
                last_error_kind: { $first: ERROR_KIND },
                last_stage: { $first: '$stage' },
              },
            },
          ])
          .toArray(),
        c.metrics.aggregate([{ $match: { ...inWindow('run_ts', w), ...PUBLISHED } }, { $group: { _id: key, n: { $sum: 1 } } }]).toArray(),
        c.errors
          .aggregate([
            { $match: { ...inWindow('ts', w), ...NOT_ABORTED } },
            { $group: { _id: { provider: '$provider', model_name: '$model_name', error_kind: ERROR_KIND }, n: { $sum: 1 } } },
          ])
          .toArray(),
      ]);
      const ok = new Map(successes.map((r) => [modelKey(r), r.n as number]));
      const byKind = new Map<string, Partial<Record<ErrorKind, number>>>();
      for (const r of kinds) {
        const k = modelKey(r);
        byKind.set(k, { ...byKind.get(k), [r._id.error_kind]: r.n });
      }
      return errors
        .map((r) => ({
          provider: r._id.provider,
          model_name: r._id.model_name,
          errors: r.errors,
          successes: ok.get(modelKey(r)) ?? 0,
          last_error_ts: r.last_error_ts,
          last_message: r.last_message,
          last_error_kind: r.last_error_kind,
          last_stage: r.last_stage,
          error_kinds: byKind.get(modelKey(r)) ?? {},
        }))
        .sort((a, b) => b.errors - a.errors || a.provider.localeCompare(b.provider) || a.model_name.localeCompare(b.model_name));
    },

    async lastScenarioSuccesses(since: Date): Promise<ScenarioSuccess[]> {
      // Only rows since `since` (the run_ts index): dueness needs nothing older. Rows from before
      // scenarios existed have no benchmark_profile_id and count as the published scenario's.
      const newest = (c: CollectionLike, match: Document, key: Document, field: string) =>
        c
          .aggregate([
            { $match: match },
            { $sort: { [field]: -1 } },
            { $group: { _id: key, ts: { $first: `$${field}` }, sweep_started_at: { $first: { $ifNull: ['$sweep_started_at', null] } } } },
          ])
          .toArray();
      const metricKey = { scenario_id: { $ifNull: ['$benchmark_profile_id', PUBLISHED_SCENARIO_ID] }, provider: '$provider', model_name: '$model_name' };
      // Published and probe rows: SPEC 4.1 sends every other scenario to the probe collection.
      const [metrics, probe, runs] = await Promise.all([
        newest(c.metrics, { run_ts: { $gte: since }, ...PUBLISHED }, metricKey, 'run_ts'),
        newest(c.probe, { run_ts: { $gte: since }, ...PUBLISHED }, metricKey, 'run_ts'),
        newest(
          c.agentRuns,
          { started_at: { $gte: since }, status: 'completed' },
          { scenario_id: '$scenario_id', provider: 'tinyfish', model_name: '$automation' },
          'started_at',
        ),
      ]);
      return [...metrics, ...probe, ...runs]
        .map((r) => ({
          scenario_id: r._id.scenario_id,
          provider: r._id.provider,
          model_name: r._id.model_name,
          ts: r.ts,
          sweep_started_at: r.sweep_started_at ?? null,
        }))
        .sort((a, b) => a.scenario_id.localeCompare(b.scenario_id) || a.provider.localeCompare(b.provider) || a.model_name.localeCompare(b.model_name));
    },

    async metricKpis(w: TimeWindow, filter: RunFilter = {}): Promise<KpiSummary> {
      const match = { ...inWindow('run_ts', w), ...runMatch(filter), ...COUNTED };
      const failures = await readKpiFailures(c, w, filter);
      // Rows of every scenario but the published one are in the probe collection (SPEC 4.1). The
      // server's $percentile sees one collection, so with probe rows in the window the values
      // come to us from both (exact, and the groups of the two never overlap).
      const probeRows = await c.probe.countDocuments(match);
      const fallback = async () => summarizeGroups(await readKpiGroups(c, w, filter, { probe: probeRows > 0 }), failures);
      if (probeRows > 0) return fallback();
      return serverOrFallback(ctx, () => serverKpis(match, failures), fallback);
    },

    async recentRuns(query: RunQuery): Promise<RunRecord[]> {
      const window = (field: string) =>
        query.since || query.until ? { [field]: { ...(query.since ? { $gte: query.since } : {}), ...(query.until ? { $lt: query.until } : {}) } } : {};
      const [ok, failed] = await Promise.all([
        query.outcome === 'failed'
          ? []
          : Promise.all(
              [c.metrics, c.probe].map((c) =>
                c.find({ ...window('run_ts'), ...runMatch(query), ...PUBLISHED }, { sort: { run_ts: -1 }, limit: query.limit }).toArray(),
              ),
            ).then((parts) => parts.flat()),
        query.outcome === 'ok' ? [] : c.errors.find({ ...window('ts'), ...runMatch(query) }, { sort: { ts: -1 }, limit: query.limit }).toArray(),
      ]);
      const runs: RunRecord[] = [
        ...readMetrics(ok).map((metric): RunRecord => ({ outcome: 'ok', ts: metric.run_ts, metric })),
        ...readErrors(failed).map((error): RunRecord => ({ outcome: 'failed', ts: error.ts, error })),
      ];
      return runs.sort((a, b) => b.ts.getTime() - a.ts.getTime()).slice(0, query.limit);
    },

    async getRun(runId: string): Promise<RunRecord | null> {
      // Upstream rows have no run_id: they are known by their _id (rowId).
      const byId = await idFilter(runId);
      const metric = (await c.metrics.findOne(byId)) ?? (await c.probe.findOne(byId));
      if (metric) return { outcome: 'ok', ts: metric.run_ts, metric: readMetrics([metric])[0]! };
      const error = await c.errors.findOne(byId);
      return error ? { outcome: 'failed', ts: error.ts, error: readErrors([error])[0]! } : null;
    },

    async metricPoints(w: TimeWindow, filter: RunFilter = {}): Promise<MetricPoint[]> {
      const pipeline = [
          { $match: { ...inWindow('run_ts', w), ...runMatch(filter), ...PUBLISHED } },
          {
            $project: {
              _id: 0,
              provider: 1,
              model_name: 1,
              scenario: GROUP_KEY.scenario,
              run_ts: 1,
              time_to_first_token: { $ifNull: [TTFT, null] },
              tokens_per_second: 1,
            },
          },
          { $sort: { provider: 1, model_name: 1, scenario: 1, run_ts: 1 } },
        ];
      // Published and probe rows (SPEC 4.1); a group's rows are all in one of the two.
      const key = (p: Document) => `${p.provider}\u0000${p.model_name}\u0000${p.scenario}`;
      const rows = [...(await c.metrics.aggregate(pipeline).toArray()), ...(await c.probe.aggregate(pipeline).toArray())].sort((a, b) =>
        key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a.run_ts.getTime() - b.run_ts.getTime(),
      );
      return rows as MetricPoint[];
    },
  };
  return runs;
}

/** A KPI group: rows without benchmark_profile_id belong to the published profile. */
export const GROUP_KEY = {
  provider: '$provider',
  model_name: '$model_name',
  scenario: { $ifNull: ['$benchmark_profile_id', DEFAULT_SCENARIO] },
} as const;
const KPI_FIELDS = {
  time_to_first_token: TTFT,
  total_time: '$generate_time',
  tokens_per_second: '$tokens_per_second',
  decode_tokens_per_second: '$decode_tokens_per_second',
} as const;

/** A run id, or (upstream rows have none) a MongoDB _id as 24 hex digits or as stored. */
async function idFilter(runId: string): Promise<Document> {
  const ids: unknown[] = [runId];
  if (/^[0-9a-f]{24}$/i.test(runId)) {
    const { ObjectId } = await import('mongodb');
    ids.push(new ObjectId(runId));
  }
  return { $or: [{ run_id: runId }, { run_id: { $exists: false }, _id: { $in: ids } }] };
}

export function runMatch(filter: RunFilter): Document {
  const q: Document = {};
  if (filter.provider !== undefined) q.provider = filter.provider;
  if (filter.model !== undefined) q.model_name = filter.model;
  if (filter.scenario !== undefined) {
    // null matches a missing field: the rows from before benchmark_profile_id.
    q.benchmark_profile_id = filter.scenario === DEFAULT_SCENARIO ? { $in: [DEFAULT_SCENARIO, null] } : filter.scenario;
  }
  return q;
}

/**
 * Each (provider, model, scenario) group's KPI values in the window, computed here (exact, on
 * any server): metricKpis before MongoDB 7.0 and the daily rollups. Upstream's probes and
 * shadows are left out, its TTFT 0 is none, a row without a profile is the published one's.
 */
export async function readKpiGroups(c: MongoCollections, w: TimeWindow, filter: RunFilter = {}, o: { probe?: boolean } = {}): Promise<GroupValues[]> {
  const pipeline = [
    { $match: { ...inWindow('run_ts', w), ...runMatch(filter), ...COUNTED } },
    {
      $group: {
        _id: { ...GROUP_KEY },
        n: { $sum: 1 },
        last: { $max: '$run_ts' },
        ...Object.fromEntries(Object.entries(KPI_FIELDS).map(([name, field]) => [name, { $push: field }])),
      },
    },
  ];
  const rows = [...(await c.metrics.aggregate(pipeline).toArray()), ...(o.probe !== false ? await c.probe.aggregate(pipeline).toArray() : [])];
  // $push keeps explicit nulls (TTFT is null when no text came): leave them out.
  const numbers = (xs: unknown[]) => xs.filter((x): x is number => typeof x === 'number');
  return rows.map(
    (r): GroupValues => ({
      provider: r._id.provider,
      model_name: r._id.model_name,
      scenario: r._id.scenario,
      successes: r.n,
      last_success: r.last ?? null,
      time_to_first_token: numbers(r.time_to_first_token),
      total_time: numbers(r.total_time),
      tokens_per_second: numbers(r.tokens_per_second),
      decode_tokens_per_second: numbers(r.decode_tokens_per_second),
    }),
  );
}

/** Failures per group in the window (an aborted call, the operator's stop, is none), and per error_kind when asked. */
export async function readKpiFailures(c: MongoCollections, w: TimeWindow, filter?: RunFilter): Promise<GroupFailures[]>;
export async function readKpiFailures(c: MongoCollections, w: TimeWindow, filter: RunFilter, byKind: true): Promise<KindFailures[]>;
export async function readKpiFailures(c: MongoCollections, w: TimeWindow, filter: RunFilter = {}, byKind = false): Promise<GroupFailures[] | KindFailures[]> {
  const rows = await c.errors
    .aggregate([
      { $match: { ...inWindow('ts', w), ...runMatch(filter), ...NOT_ABORTED } },
      { $group: { _id: { ...GROUP_KEY, ...(byKind ? { error_kind: ERROR_KIND } : {}) }, n: { $sum: 1 } } },
    ])
    .toArray();
  return rows.map((r) => ({ ...r._id, failures: r.n }));
}
