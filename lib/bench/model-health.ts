// bench_model_health (SPEC 4.7): after every sweep, one document per catalog model saying how
// fresh its published numbers are. The public dashboard reads it for its freshness badges.
// Computed from what is stored, not from the sweep's own results, so models measured by a
// remote runner (posted through the ingest server) get their badges from the same sweep.
import type { AgentRunDoc, FreshnessStatus, ModelDoc, ModelHealthDoc, ScenarioDoc } from '../store/documents.ts';
import { isBenchmarked } from '../store/documents.ts';
import type { ModelActivity, Store } from '../store/store.ts';
import { isTarget } from './due.ts';

const DAY_MS = 86_400_000;
// As upstream's scheduler judged it: a model is stale once its last success is older than
// one and a half sweep periods (it missed a sweep), critical past three.
const STALE_PERIODS = 1.5;
const CRITICAL_PERIODS = 3;

export interface ModelHealthOptions {
  now: Date;
  /** The sweep period (SWEEP_PERIOD_MINUTES) in seconds. */
  cadenceSeconds: number;
  /** A model's own period where it is not the sweep's (TinyFish automations: their agent scenario's interval), by provider\u0000model. */
  cadenceByModel?: Map<string, number>;
}

const key = (provider: string, model: string) => `${provider}\u0000${model}`;

/** The badge for a model: disabled, never_run, fresh, stale or critical, with its staleness in seconds. */
export function freshnessOf(
  benchmarked: boolean,
  lastSuccessAt: Date | null,
  options: ModelHealthOptions,
): { freshness_status: FreshnessStatus; staleness_seconds: number | null } {
  if (!benchmarked) return { freshness_status: 'disabled', staleness_seconds: null };
  if (!lastSuccessAt) return { freshness_status: 'never_run', staleness_seconds: null };
  const staleness = Math.max(0, Math.floor((options.now.getTime() - lastSuccessAt.getTime()) / 1000));
  const status: FreshnessStatus =
    staleness > options.cadenceSeconds * CRITICAL_PERIODS ? 'critical' : staleness > options.cadenceSeconds * STALE_PERIODS ? 'stale' : 'fresh';
  return { freshness_status: status, staleness_seconds: staleness };
}

/** One health document per model of the catalog, from the stored activity of the last 24 hours. */
export function buildModelHealth(models: ModelDoc[], activity: ModelActivity[], options: ModelHealthOptions): ModelHealthDoc[] {
  const byModel = new Map(activity.map((a) => [key(a.provider, a.model_name), a]));
  return models.map((m) => {
    const a = byModel.get(key(m.provider, m.model_id));
    const lastSuccess = a?.last_success_at ?? null;
    const lastError = a?.last_error_at ?? null;
    const benchmarked = isBenchmarked(m);
    const cadence = options.cadenceByModel?.get(key(m.provider, m.model_id)) ?? options.cadenceSeconds;
    return {
      provider: m.provider,
      model_id: m.model_id,
      enabled: benchmarked,
      cadence_seconds: cadence,
      last_success_at: lastSuccess,
      last_attempt_at: lastSuccess && lastError ? (lastSuccess > lastError ? lastSuccess : lastError) : (lastSuccess ?? lastError),
      last_error_at: lastError,
      last_error_kind: a?.last_error_kind ?? null,
      consecutive_failures: a?.failures_after_last_success ?? 0,
      successes_24h: a?.successes_since ?? 0,
      failures_24h: a?.failures_since ?? 0,
      ...freshnessOf(benchmarked, lastSuccess, { ...options, cadenceSeconds: cadence }),
      updated_at: options.now,
    };
  });
}

/**
 * Recomputes and writes every catalog model's health document; returns what it wrote. On
 * MongoDB a mock model (left from before mock models were refused there) is skipped: its
 * document would be a simulated row in front of the dashboard.
 * @throws what the store throws.
 */
export async function refreshModelHealth(store: Store, options: ModelHealthOptions): Promise<ModelHealthDoc[]> {
  const [models, activity] = await Promise.all([
    store.listModels(),
    store.modelActivity(new Date(options.now.getTime() - DAY_MS)),
  ]);
  const catalog = store.kind === 'mongodb' ? models.filter((m) => m.provider !== 'mock') : models;
  const automations = catalog.filter((m) => m.provider === AGENT_PROVIDER);
  let cadenceByModel = options.cadenceByModel;
  if (automations.length > 0) {
    const since = new Date(options.now.getTime() - DAY_MS);
    // Pushed after the metric activity, so it wins over any errors_cloud row of the automation
    // (a failed write of its run is recorded there): buildModelHealth keeps the last per model.
    for (const m of automations) activity.push(await agentRunActivity(store, m.model_id, since));
    cadenceByModel = new Map([...(cadenceByModel ?? []), ...agentCadences(automations, await store.listScenarios({ enabledOnly: true, kind: 'agent' }), options.cadenceSeconds)]);
  }
  const docs = buildModelHealth(catalog, activity, { ...options, ...(cadenceByModel ? { cadenceByModel } : {}) });
  await store.upsertModelHealth(docs);
  return docs;
}

// --- TinyFish automations (SPEC 4.6, 15) ---------------------------------------------------
// An automation has no metric rows: its results are agent runs. A completed run is a success,
// a failed or timed-out one an error. Runs are due by their agent scenario's interval (hours),
// so that interval, not the sweep's, is what their staleness is judged against.

const AGENT_PROVIDER = 'tinyfish';
/** More runs of one automation than this in a day, or since its last success, are not counted (a run lasts minutes). */
const AGENT_RUNS_CAP = 10_000;

/**
 * One automation's activity, read through the store's agent-run queries: a handful of
 * indexed reads per automation, and a catalog holds a few automations, not hundreds.
 * Runs cut short by the operator (error_kind aborted) say nothing about TinyFish and are left
 * out, as aborted calls are for models.
 * @throws what the store throws.
 */
export async function agentRunActivity(store: Pick<Store, 'recentAgentRuns'>, automation: string, since: Date): Promise<ModelActivity> {
  const counted = (runs: AgentRunDoc[]) => runs.filter((r) => r.error_kind !== 'aborted');
  const newest = async (status: AgentRunDoc['status']) => counted(await store.recentAgentRuns({ automation, status, limit: 20, withoutResult: true }))[0] ?? null;
  const [ok, failed, timedOut] = await Promise.all([newest('completed'), newest('failed'), newest('timeout')]);
  const lastError = [failed, timedOut].filter((r): r is AgentRunDoc => r !== null).sort((a, b) => b.started_at.getTime() - a.started_at.getTime())[0] ?? null;
  const recent = counted(await store.recentAgentRuns({ automation, since, limit: AGENT_RUNS_CAP, withoutResult: true }));
  let failuresAfter = 0;
  if (lastError && (!ok || lastError.started_at > ok.started_at)) {
    const afterOk = ok ? counted(await store.recentAgentRuns({ automation, since: ok.started_at, limit: AGENT_RUNS_CAP, withoutResult: true })) : counted(await store.recentAgentRuns({ automation, limit: AGENT_RUNS_CAP, withoutResult: true }));
    failuresAfter = afterOk.filter((r) => r.status !== 'completed' && (!ok || r.started_at > ok.started_at)).length;
  }
  return {
    provider: AGENT_PROVIDER,
    model_name: automation,
    last_success_at: ok?.started_at ?? null,
    last_error_at: lastError?.started_at ?? null,
    last_error_kind: lastError?.error_kind ?? null,
    successes_since: recent.filter((r) => r.status === 'completed').length,
    failures_since: recent.filter((r) => r.status !== 'completed').length,
    failures_after_last_success: failuresAfter,
  };
}

/**
 * Each automation's period in seconds: the shortest interval among the enabled agent
 * scenarios that run it, never shorter than the sweep period (a run is only started by a
 * sweep). An automation no scenario runs keeps the sweep period: nothing will measure it,
 * and its badge goes stale, which is what the operator should see.
 */
export function agentCadences(automations: ModelDoc[], scenarios: ScenarioDoc[], sweepSeconds: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of automations) {
    const intervals = scenarios.filter((s) => s.kind === 'agent' && s.enabled && isTarget(s, { provider: m.provider, modelId: m.model_id })).map((s) => s.interval_minutes * 60);
    if (intervals.length > 0) out.set(key(m.provider, m.model_id), Math.max(sweepSeconds, Math.min(...intervals)));
  }
  return out;
}
