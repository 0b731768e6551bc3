// Which models a sweep runs (SPEC 8): the explicit list or the catalog, filtered by provider,
// paired with the enabled scenarios whose targets they are, and of those pairs the ones that
// are due (no success within the scenario's interval).
import { createHash, randomBytes } from 'node:crypto';
import { UsageError } from '../cli.ts';
import { PROVIDERS, isProviderName, type Config, type ProviderName } from '../config.ts';
import { silentLogger, type Logger } from '../log.ts';
import { PUBLISHED_SCENARIO_ID, type LlmScenarioInputs, type ModelDoc, type ScenarioDoc, type ScenarioSuccess } from '../store/documents.ts';
import type { Store } from '../store/store.ts';

/** What a pair's calls send: an LLM scenario's prompt and budget, or an agent scenario's inputs. */
export type SweepScenario =
  | {
      kind: 'llm';
      id: string;
      intervalMinutes: number;
      prompt: string;
      maxTokens: number;
      temperature: number;
      /** A random nonce the prompt starts with (the scenario defeats prompt caches), else null. */
      cacheDefeatNonce: string | null;
      /** A generated prompt of this many tokens, with its own nonce, for every call (SPEC 19); absent or null: the prompt as written. */
      inputTokens?: number | null;
      /** Calls started together as one group, each with a nonce of its own (SPEC 19); absent: 1. */
      parallel?: number;
      /** Due once per interval at a random time within it. */
      jitter?: boolean;
    }
  | {
      kind: 'agent';
      id: string;
      intervalMinutes: number;
      /** Runs at a time in the TinyFish lane. */
      concurrency: number;
      /** Overrides of the automation's misc. */
      inputs: Record<string, unknown>;
      jitter?: boolean;
    };

export interface SweepModel {
  provider: ProviderName;
  modelId: string;
  /** The model's quirks (omit_temperature, region, …), passed to the adapter. */
  misc?: Record<string, unknown>;
  /** When this model last produced a successful row. */
  lastSuccessAt?: Date | null;
  /** When the sweep that produced that row started; the freshness rule compares this (else lastSuccessAt). */
  lastSweepStartedAt?: Date | null;
  /**
   * The scenario this pair runs, whose interval decides freshness. Absent: the config's
   * profile (BENCH_PROMPT, …) and FRESH_MINUTES, as for a remote runner without the store.
   */
  scenario?: SweepScenario;
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
    const s = model.scenario;
    if (s?.jitter) {
      const slot = jitterSlot(s.id, s.intervalMinutes, o.wallNow);
      if (!o.force && last && last.getTime() >= slot) {
        fresh.push({ model, reason: `measured at ${last.toISOString()}, since its interval's random start ${new Date(slot).toISOString()} (${s.id} runs once every ${s.intervalMinutes} min at a random time)` });
      } else due.push(model);
      continue;
    }
    const windowMs = s ? s.intervalMinutes * 60_000 - FRESH_SLACK_MS : freshMs;
    if (!o.force && last && o.wallNow - last.getTime() < windowMs) {
      const ago = Math.round((o.wallNow - last.getTime()) / 60_000);
      const rule = s ? `${s.id} is due every ${s.intervalMinutes} min` : `FRESH_MINUTES=${o.freshMinutes}`;
      fresh.push({ model, reason: `measured by a sweep that started ${ago} min ago (${rule})` });
    } else {
      due.push(model);
    }
  }
  return { due, fresh };
}

/**
 * The latest random start of a jittered scenario at or before `wallNow`: each interval (counted
 * from the epoch) starts it once at an offset drawn from the scenario's id and the interval's
 * number, so every sweep process draws the same time without remembering it. A start no sweep
 * reached (the sweeps run every 30 minutes) is made up by the next one.
 */
export function jitterSlot(scenarioId: string, intervalMinutes: number, wallNow: number): number {
  const intervalMs = intervalMinutes * 60_000;
  const startOf = (n: number) => {
    const draw = createHash('sha256').update(`${scenarioId}\u0000${n}`).digest().readUInt32BE(0) / 2 ** 32;
    return n * intervalMs + Math.floor(draw * intervalMs);
  };
  const n = Math.floor(wallNow / intervalMs);
  return startOf(n) <= wallNow ? startOf(n) : startOf(n - 1);
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
  const models = await catalogModels(store, options);
  const last = new Map((await store.lastSuccesses()).map((s) => [`${s.provider}\u0000${s.model_name}`, s]));
  return models.map((m) => {
    const l = last.get(`${m.provider}\u0000${m.modelId}`);
    return { ...m, lastSuccessAt: l?.ts ?? null, lastSweepStartedAt: l?.sweep_started_at ?? null };
  });
}

/** The explicit list (with the catalog's quirks where it has them) or the store's benchmarked models, filtered to `providers`. */
async function catalogModels(
  store: Pick<Store, 'listModels' | 'getModel'>,
  options: { explicit: Array<{ provider: ProviderName; modelId: string }> | null; providers: ProviderName[] },
): Promise<SweepModel[]> {
  const wanted = (p: string) => isWanted(p, options.providers);
  if (options.explicit) {
    const models: SweepModel[] = [];
    for (const e of options.explicit.filter((m) => wanted(m.provider))) {
      // An explicit model the catalog knows still gets its quirks.
      const doc = await store.getModel(e.provider, e.modelId);
      models.push({ ...e, misc: doc?.misc ?? {} });
    }
    return models;
  }
  const docs = await store.listModels({ benchmarkedOnly: true });
  return docs
    .filter((d) => isProviderName(d.provider) && wanted(d.provider))
    .map((d) => ({ provider: d.provider as ProviderName, modelId: d.model_id, misc: d.misc ?? {} }));
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
  // Agent runs cost money and are due by their scenario's interval; both are in the store, which
  // a remote runner does not have. Refused here, not recorded as one error per automation.
  if (options.providers.includes('tinyfish') || options.explicit?.some((m) => m.provider === 'tinyfish')) {
    throw new UsageError('TinyFish automations run where the store is (their agent scenarios, inputs and intervals are documents there), not on a remote runner (INGEST_API_URL set)');
  }
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

/** The scenario a pair runs, from its document; an llm scenario that defeats caches gets a fresh nonce. */
export function sweepScenario(doc: ScenarioDoc): SweepScenario {
  if (doc.kind === 'agent') {
    return {
      kind: 'agent',
      id: doc.scenario_id,
      intervalMinutes: doc.interval_minutes,
      concurrency: doc.concurrency,
      inputs: doc.inputs as Record<string, unknown>,
      ...(doc.jitter ? { jitter: true } : {}),
    };
  }
  const i = doc.inputs as LlmScenarioInputs;
  return {
    kind: 'llm',
    id: doc.scenario_id,
    intervalMinutes: doc.interval_minutes,
    prompt: i.prompt,
    maxTokens: i.max_tokens,
    temperature: i.temperature,
    cacheDefeatNonce: i.cache_defeat ? randomBytes(6).toString('hex') : null,
    inputTokens: i.input_tokens ?? null,
    ...(i.parallel && i.parallel > 1 ? { parallel: i.parallel } : {}),
    ...(doc.jitter ? { jitter: true } : {}),
  };
}

/** True when the scenario targets this model (TinyFish automations belong to agent scenarios only). */
export function isTarget(doc: ScenarioDoc, m: { provider: string; modelId: string }): boolean {
  if ((doc.kind === 'agent') !== (m.provider === 'tinyfish')) return false;
  const t = doc.targets;
  if (t.type === 'all') return true;
  if (t.type === 'providers') return t.providers.includes(m.provider);
  return t.models.some((x) => x.provider === m.provider && x.model_id === m.modelId);
}

/**
 * Every (scenario, model) pair: each scenario over the models it targets, with the pair's
 * last success. The published scenario's pairs come first, so a sweep cut by its deadline
 * has measured what the dashboard shows.
 */
export function scenarioPairs(models: SweepModel[], scenarios: ScenarioDoc[], successes: ScenarioSuccess[]): SweepModel[] {
  const last = new Map(successes.map((s) => [`${s.scenario_id}\u0000${s.provider}\u0000${s.model_name}`, s]));
  const ordered = [...scenarios].sort((a, b) => Number(b.scenario_id === PUBLISHED_SCENARIO_ID) - Number(a.scenario_id === PUBLISHED_SCENARIO_ID) || a.scenario_id.localeCompare(b.scenario_id));
  const pairs: SweepModel[] = [];
  for (const doc of ordered) {
    for (const m of models) {
      if (!isTarget(doc, m)) continue;
      const l = last.get(`${doc.scenario_id}\u0000${m.provider}\u0000${m.modelId}`);
      pairs.push({ ...m, scenario: sweepScenario(doc), lastSuccessAt: l?.ts ?? null, lastSweepStartedAt: l?.sweep_started_at ?? null });
    }
  }
  return pairs;
}

/**
 * The pairs a sweep should run: the scenarios given (the enabled ones, or those named with
 * --scenario) over the explicit list or the store's benchmarked models, filtered to
 * `providers`; with each pair's last success within the longest interval.
 */
export async function pairsFromStore(
  store: Pick<Store, 'listModels' | 'getModel' | 'lastScenarioSuccesses'>,
  options: {
    scenarios: ScenarioDoc[];
    explicit: Array<{ provider: ProviderName; modelId: string }> | null;
    providers: ProviderName[];
    wallNow: number;
  },
): Promise<SweepModel[]> {
  const models = await catalogModels(store, options);
  const longest = Math.max(0, ...options.scenarios.map((s) => s.interval_minutes));
  const successes = await store.lastScenarioSuccesses(new Date(options.wallNow - longest * 60_000));
  return scenarioPairs(models, options.scenarios, successes);
}

export interface CallInputs {
  profileId: string;
  prompt: string;
  maxTokens: number;
  temperature: number;
  nonce: string | null;
  /** The generated prompt's length in tokens; the prompt itself is built per call (buildLongPrompt). */
  inputTokens: number | null;
}

/**
 * What one call of this pair sends and records: its llm scenario's inputs (the prompt led by
 * the cache-defeating nonce when there is one), or the config's profile for a pair without one.
 * An input-length scenario's prompt is not here: call.ts builds it for each call.
 */
export function callInputs(model: SweepModel, profile: Config['bench']['profile']): CallInputs {
  const s = model.scenario;
  if (s?.kind !== 'llm') return { profileId: s?.id ?? profile.id, prompt: profile.prompt, maxTokens: profile.maxTokens, temperature: profile.temperature, nonce: null, inputTokens: null };
  // Calls of a parallel group each get a nonce of their own, so no two share a prompt.
  const nonce = s.parallel && s.parallel > 1 && !s.inputTokens ? randomBytes(6).toString('hex') : s.cacheDefeatNonce;
  const prompt = nonce ? `[${nonce}] ${s.prompt}` : s.prompt;
  return { profileId: s.id, prompt, maxTokens: s.maxTokens, temperature: s.temperature, nonce, inputTokens: s.inputTokens ?? null };
}
