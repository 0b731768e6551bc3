// bench_model_health (SPEC 4.7): after every sweep, one document per catalog model saying how
// fresh its published numbers are. The public dashboard reads it for its freshness badges.
// Computed from what is stored, not from the sweep's own results, so models measured by a
// remote runner (posted through the ingest server) get their badges from the same sweep.
import type { FreshnessStatus, ModelDoc, ModelHealthDoc } from '../store/documents.ts';
import { isBenchmarked } from '../store/documents.ts';
import type { ModelActivity, Store } from '../store/store.ts';

const DAY_MS = 86_400_000;
// As upstream's scheduler judged it: a model is stale once its last success is older than
// one and a half sweep periods (it missed a sweep), critical past three.
const STALE_PERIODS = 1.5;
const CRITICAL_PERIODS = 3;

export interface ModelHealthOptions {
  now: Date;
  /** The sweep period (SWEEP_PERIOD_MINUTES) in seconds. */
  cadenceSeconds: number;
}

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
  const key = (provider: string, model: string) => `${provider}\u0000${model}`;
  const byModel = new Map(activity.map((a) => [key(a.provider, a.model_name), a]));
  return models.map((m) => {
    const a = byModel.get(key(m.provider, m.model_id));
    const lastSuccess = a?.last_success_at ?? null;
    const lastError = a?.last_error_at ?? null;
    const benchmarked = isBenchmarked(m);
    return {
      provider: m.provider,
      model_id: m.model_id,
      enabled: benchmarked,
      cadence_seconds: options.cadenceSeconds,
      last_success_at: lastSuccess,
      last_attempt_at: lastSuccess && lastError ? (lastSuccess > lastError ? lastSuccess : lastError) : (lastSuccess ?? lastError),
      last_error_at: lastError,
      last_error_kind: a?.last_error_kind ?? null,
      consecutive_failures: a?.failures_after_last_success ?? 0,
      successes_24h: a?.successes_since ?? 0,
      failures_24h: a?.failures_since ?? 0,
      ...freshnessOf(benchmarked, lastSuccess, options),
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
  const docs = buildModelHealth(catalog, activity, options);
  await store.upsertModelHealth(docs);
  return docs;
}
