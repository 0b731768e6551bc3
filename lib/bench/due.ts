// Which models a sweep runs (SPEC 8): the explicit list or the catalog, filtered by provider,
// and of those the ones that are due (no fresh success).
import { UsageError } from '../cli.ts';
import { PROVIDERS, isProviderName, type ProviderName } from '../config.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { ModelDoc } from '../store/documents.ts';
import type { Store } from '../store/store.ts';

export interface SweepModel {
  provider: ProviderName;
  modelId: string;
  /** The model's quirks (omit_temperature, region, …), passed to the adapter. */
  misc?: Record<string, unknown>;
  /** When this model last produced a successful row. */
  lastSuccessAt?: Date | null;
  /** When the sweep that produced that row started; the freshness rule compares this (else lastSuccessAt). */
  lastSweepStartedAt?: Date | null;
}

const FRESH_SLACK_MS = 60_000;

/**
 * Splits models into those due now and those still fresh, with why each fresh one is skipped.
 * Fresh means measured by a sweep that started less than FRESH_MINUTES ago. Sweep starts, not
 * call times: with the timer every 30 minutes and FRESH_MINUTES=30, a model measured 20
 * minutes into the last sweep is due again now. The minute of slack absorbs timer jitter.
 */
export function partitionDue(
  models: SweepModel[],
  o: { freshMinutes: number; wallNow: number; force: boolean },
): { due: SweepModel[]; fresh: Array<{ model: SweepModel; reason: string }> } {
  const freshMs = o.freshMinutes * 60_000 - FRESH_SLACK_MS;
  const due: SweepModel[] = [];
  const fresh: Array<{ model: SweepModel; reason: string }> = [];
  for (const model of models) {
    const last = model.lastSweepStartedAt ?? model.lastSuccessAt;
    if (!o.force && last && o.wallNow - last.getTime() < freshMs) {
      const ago = Math.round((o.wallNow - last.getTime()) / 60_000);
      fresh.push({ model, reason: `measured by a sweep that started ${ago} min ago (FRESH_MINUTES=${o.freshMinutes})` });
    } else {
      due.push(model);
    }
  }
  return { due, fresh };
}

/**
 * Parses model list entries ("provider:model", or bare ids when exactly one provider is given).
 * @throws UsageError naming the entry that cannot be read.
 */
export function parseModelList(entries: string[], providers: ProviderName[]): Array<{ provider: ProviderName; modelId: string }> {
  return entries.map((entry) => {
    const colon = entry.indexOf(':');
    const prefix = colon > 0 ? entry.slice(0, colon) : null;
    // Bedrock ids contain colons too (anthropic.claude-…-v1:0): only a known provider name is a prefix.
    if (prefix !== null && isProviderName(prefix)) return { provider: prefix, modelId: entry.slice(colon + 1) };
    if (providers.length === 1) return { provider: providers[0]!, modelId: entry };
    // A word before the colon was meant as a provider; a Bedrock id's prefix has dots.
    if (prefix !== null && /^[a-z][a-z0-9_-]*$/i.test(prefix)) {
      throw new UsageError(`Unknown provider '${prefix}' in ${JSON.stringify(entry)}: use one of ${PROVIDERS.join(', ')}`);
    }
    throw new UsageError(
      `Model ${JSON.stringify(entry)} has no provider: write it as provider:model (e.g. groq:${entry}) or give exactly one --provider`,
    );
  });
}

/** True when no providers were named, or p is one of them. */
function isWanted(p: string, providers: ProviderName[]): boolean {
  return providers.length === 0 || (providers as string[]).includes(p);
}

/**
 * The models a sweep should run, with their quirks and last success: the explicit list when
 * given (a runner without the catalog, or a one-off), else every enabled, non-deprecated model
 * in the store; either filtered to `providers` when any are given.
 */
export async function modelsFromStore(
  store: Pick<Store, 'listModels' | 'getModel' | 'lastSuccesses'>,
  options: { explicit: Array<{ provider: ProviderName; modelId: string }> | null; providers: ProviderName[] },
): Promise<SweepModel[]> {
  const wanted = (p: string) => isWanted(p, options.providers);
  let models: SweepModel[];
  if (options.explicit) {
    models = [];
    for (const e of options.explicit.filter((m) => wanted(m.provider))) {
      // An explicit model the catalog knows still gets its quirks.
      const doc = await store.getModel(e.provider, e.modelId);
      models.push({ ...e, misc: doc?.misc ?? {} });
    }
  } else {
    const docs = await store.listModels({ benchmarkedOnly: true });
    models = docs
      .filter((d) => isProviderName(d.provider) && wanted(d.provider))
      .map((d) => ({ provider: d.provider as ProviderName, modelId: d.model_id, misc: d.misc ?? {} }));
  }
  const last = new Map((await store.lastSuccesses()).map((s) => [`${s.provider}\u0000${s.model_name}`, s]));
  return models.map((m) => {
    const l = last.get(`${m.provider}\u0000${m.modelId}`);
    return { ...m, lastSuccessAt: l?.ts ?? null, lastSweepStartedAt: l?.sweep_started_at ?? null };
  });
}

/**
 * The models a remote runner should run (it has no store): the explicit list when given, with
 * quirks from the ingest server's runner-config where it has them, else the server's enabled
 * models for each of `providers`. No last-success times: freshness needs the database, so a
 * remote runner benchmarks every model it is given.
 * @throws UsageError when neither models nor providers say what to run.
 */
export async function modelsFromRunnerConfig(
  runnerConfig: (provider: string) => Promise<ModelDoc[]>,
  options: {
    explicit: Array<{ provider: ProviderName; modelId: string }> | null;
    providers: ProviderName[];
    logger?: Logger;
  },
): Promise<SweepModel[]> {
  const wanted = (p: string) => isWanted(p, options.providers);
  if (options.explicit) {
    const explicit = options.explicit.filter((m) => wanted(m.provider));
    const quirks = new Map<string, Record<string, unknown>>();
    for (const provider of new Set(explicit.map((m) => m.provider))) {
      try {
        for (const doc of await runnerConfig(provider)) quirks.set(`${provider}\u0000${doc.model_id}`, doc.misc ?? {});
      } catch (err) {
        // The list is explicit, so the sweep can run without the server: its results are
        // spooled. Only the models' quirks are missing.
        (options.logger ?? silentLogger).warn(`Running without the models' quirks: ${(err as Error).message}`);
      }
    }
    return explicit.map((m) => ({ ...m, misc: quirks.get(`${m.provider}\u0000${m.modelId}`) ?? {}, lastSuccessAt: null }));
  }
  if (options.providers.length === 0) {
    throw new UsageError('A remote runner (INGEST_API_URL set) needs --provider P or --models/BENCHMARK_MODELS to know what to run');
  }
  const models: SweepModel[] = [];
  for (const provider of options.providers) {
    for (const doc of await runnerConfig(provider)) {
      models.push({ provider, modelId: doc.model_id, misc: doc.misc ?? {}, lastSuccessAt: null });
    }
  }
  return models;
}
