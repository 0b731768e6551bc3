// What `scripts/models.ts` does, as functions over a Store: the operator's replacement for
// the mongosh one-liners in the seeds. Works the same on both backends.
import { PROVIDERS, isProviderName } from '../config.ts';
import { UsageError } from '../cli.ts';
import { isBenchmarked, type AgentRunDoc, type ErrorDoc, type MetricDoc, type ModelDoc } from '../store/documents.ts';
import { miscProblems } from './misc.ts';
import { validateAutomationMisc } from '../tinyfish/automation.ts';
import { summarizeAgentRuns, type AgentRunStats } from '../tinyfish/stats.ts';
import { checkModelId } from './rules.ts';
import type { ModelSpend, Store } from '../store/store.ts';
import { MOCK_ON_MONGODB } from '../store/collection-rules.ts';
import { createPriceBook, type Price } from '../bench/cost.ts';
import { parseMockModelId } from '../bench/providers/mock.ts';
import { isMockAutomation, parseMockAutomationId } from '../tinyfish/mock.ts';

export interface ModelRow {
  model: ModelDoc;
  lastSuccess: Date | null;
  lastError: { ts: Date; message: string; error_kind: string } | null;
  /** SPEC 17: the model's price (misc.price, else the OpenRouter catalog), null when unknown. */
  price?: Price | null;
  /** SPEC 17: what its rows of the last 24 hours cost; null when it has none. */
  spend24h?: ModelSpend | null;
}

// The README's form: npm runs the project's own Node 24, with no wrapper process in between.
const CLI = 'npm run models --';

/** @throws UsageError naming the known providers. */
export function requireProvider(provider: string): void {
  if (!isProviderName(provider)) {
    throw new UsageError(`Unknown provider '${provider}'. Known providers: ${PROVIDERS.join(', ')}`);
  }
}

/**
 * Like requireProvider, but a provider llm-bench has no adapter for (anyscale, azure, … in an
 * upstream catalog, SPEC 4.0) passes when the catalog has models of it: those are listed and
 * shown, never benchmarked.
 * @throws UsageError naming the known providers.
 */
async function requireListedProvider(store: Store, provider: string): Promise<void> {
  if (isProviderName(provider) || (await store.listModels({ provider })).length > 0) return;
  requireProvider(provider);
}

export async function listModelRows(store: Store, options: { provider?: string; all?: boolean; now?: Date } = {}): Promise<ModelRow[]> {
  if (options.provider) await requireListedProvider(store, options.provider);
  const filter = options.provider ? { provider: options.provider } : {};
  const [models, successes, errors] = await Promise.all([
    store.listModels({ ...filter, benchmarkedOnly: !options.all }),
    store.lastSuccesses(filter),
    store.lastErrors(filter),
  ]);
  const key = (provider: string, model: string) => `${provider}\u0000${model}`;
  const ok = new Map(successes.map((s) => [key(s.provider, s.model_name), s.ts]));
  const bad = new Map(errors.map((e) => [key(e.provider, e.model_name), e]));
  const cost = await costLookup(store, options.now ?? new Date());
  if (!options.provider || options.provider === 'tinyfish') await addAgentRunTimes(store, { ok, bad, key });
  return models.map((model) => {
    const e = bad.get(key(model.provider, model.model_id));
    return {
      model,
      lastSuccess: ok.get(key(model.provider, model.model_id)) ?? null,
      lastError: e ? { ts: e.ts, message: e.message, error_kind: e.error_kind } : null,
      ...cost(model),
    };
  });
}

const DAY_MS = 86_400_000;

/** Each model's price and last-24-hours spend, from one catalog read and one spend query. */
async function costLookup(store: Store, now: Date): Promise<(m: ModelDoc) => { price: Price | null; spend24h: ModelSpend | null }> {
  const prices = createPriceBook(await store.listOpenRouterCatalog());
  const spend = await store.spendByModel({ since: new Date(now.getTime() - DAY_MS), until: now });
  const byModel = new Map(spend.map((s) => [`${s.provider}\u0000${s.model_name}`, s]));
  return (m) => ({
    price: prices.priceOf({ provider: m.provider, modelId: m.model_id, misc: m.misc ?? {} }),
    spend24h: byModel.get(`${m.provider}\u0000${m.model_id}`) ?? null,
  });
}

/**
 * TinyFish automations have agent runs, not metrics: their last completed run (within 30
 * days) and their newest failed run count as last success and last error.
 */
async function addAgentRunTimes(
  store: Store,
  o: { ok: Map<string, Date>; bad: Map<string, { ts: Date; message: string; error_kind: string }>; key: (p: string, m: string) => string },
): Promise<void> {
  const since = new Date(Date.now() - 30 * 86_400_000);
  for (const s of await store.lastScenarioSuccesses(since)) {
    if (s.provider !== 'tinyfish') continue;
    const k = o.key(s.provider, s.model_name);
    if (!o.ok.has(k) || o.ok.get(k)! < s.ts) o.ok.set(k, s.ts);
  }
  for (const r of await store.lastAgentRuns()) {
    if (r.status === 'completed') continue;
    const k = o.key('tinyfish', r.automation);
    const prev = o.bad.get(k);
    if (!prev || prev.ts < r.started_at) o.bad.set(k, { ts: r.started_at, message: r.error ?? r.status, error_kind: r.error_kind ?? r.status });
  }
}

export interface AddOptions {
  displayName?: string | null;
  disabled?: boolean;
  force?: boolean;
  misc?: Record<string, unknown>;
  now?: Date;
}

/**
 * Adds a model.
 * @throws UsageError for an unknown provider, a ruled-out id (unless force) or a
 *   case-insensitive duplicate (never overridden), each saying what to do instead.
 */
/**
 * A simulated model's id is its simulation: one that does not parse would fail every call
 * ("unknown part stepz"), so it is refused here, with the parser's own words, even with --force.
 * @throws UsageError naming the part of the id that is not understood.
 */
function refuseUnparsableMockId(provider: string, modelId: string): void {
  try {
    if (provider === 'mock') parseMockModelId(modelId);
    if (provider === 'tinyfish' && isMockAutomation(modelId)) parseMockAutomationId(modelId);
  } catch (err) {
    throw new UsageError(`Refusing to add ${provider}/${modelId}: ${(err as Error).message}`);
  }
}

export async function addModel(store: Store, provider: string, modelId: string, options: AddOptions = {}): Promise<ModelDoc> {
  requireProvider(provider);
  if (provider === 'mock' && store.kind === 'mongodb') {
    throw new UsageError(`Refusing to add ${provider}/${modelId}: ${MOCK_ON_MONGODB}`);
  }
  if (!modelId.trim() || modelId !== modelId.trim()) {
    throw new UsageError(`Model id ${JSON.stringify(modelId)} is empty or has surrounding spaces`);
  }
  refuseUnparsableMockId(provider, modelId);
  // TinyFish automations are named by the operator (url + goal in misc), not by a vendor:
  // the chat-model rules do not apply, the automation's own fields do.
  if (provider === 'tinyfish') {
    const problems = validateAutomationMisc(options.misc ?? {});
    if (problems.length > 0) {
      throw new UsageError(
        `Refusing to add tinyfish/${modelId}: ${problems.join('; ')}. ` +
          `E.g. ${CLI} add tinyfish ${modelId} --misc '{"url":"https://example.com","goal":"Find the pricing page and list the plans"}'`,
      );
    }
  } else {
    const quirks = miscProblems(provider, options.misc ?? {});
    if (quirks.length > 0) {
      throw new UsageError(`Refusing to add ${provider}/${modelId}: --misc ${quirks.join('; ')}. The keys the adapters read are listed in lib/models/misc.ts.`);
    }
  }
  const refusal = provider === 'tinyfish' ? null : checkModelId(provider, modelId);
  if (refusal && !options.force) {
    const instead = refusal.suggestion
      ? `Use the id ${refusal.suggestion} instead: ${CLI} add ${provider} ${refusal.suggestion}`
      : `Add it anyway with --force if you are sure.`;
    throw new UsageError(`Refusing to add ${provider}/${modelId}: ${refusal.reason}. ${instead}`);
  }
  const existing = await store.findModelsIgnoreCase(provider, modelId);
  if (existing.length > 0) {
    const m = existing[0]!;
    const state = isBenchmarked(m) ? 'enabled' : m.deprecated ? 'deprecated' : 'disabled';
    const hint = state === 'disabled' ? ` To benchmark it again: ${CLI} enable ${provider} ${m.model_id}` : '';
    throw new UsageError(`${provider}/${modelId} already exists as ${provider}/${m.model_id} (${state}).${hint}`);
  }
  const doc: ModelDoc = {
    provider,
    model_id: modelId,
    enabled: !options.disabled,
    deprecated: false,
    created_at: options.now ?? new Date(),
    ...(options.displayName ? { display_name: options.displayName } : {}),
    ...(options.misc && Object.keys(options.misc).length > 0 ? { misc: options.misc } : {}),
    ...(options.disabled ? { disabled_reason: 'added disabled', disabled_at: options.now ?? new Date() } : {}),
  };
  if ((await store.insertModel(doc)) === 'duplicate') {
    // Another process added it between our check and the insert.
    throw new UsageError(`${provider}/${modelId} already exists`);
  }
  return doc;
}

async function requireModel(store: Store, provider: string, modelId: string): Promise<ModelDoc> {
  requireProvider(provider);
  const model = await store.getModel(provider, modelId);
  if (model) return model;
  const similar = await store.findModelsIgnoreCase(provider, modelId);
  const hint = similar.length ? ` Did you mean ${similar.map((m) => m.model_id).join(', ')}?` : ` See: ${CLI} list --provider ${provider} --all`;
  throw new UsageError(`No model ${provider}/${modelId}.${hint}`);
}

/** A state change, and whether it changed anything (the CLI says so when it did not). */
export interface ModelChange {
  model: ModelDoc;
  changed: boolean;
}

/**
 * Benchmarks a disabled model again. A deprecated model stays out of sweeps whatever its
 * enabled flag, so enabling one is refused with the command that brings it back.
 * @throws UsageError for a deprecated model.
 */
export async function enableModel(store: Store, provider: string, modelId: string): Promise<ModelChange> {
  const model = await requireModel(store, provider, modelId);
  if (model.deprecated) {
    const more = model.enabled ? '' : ` (it is also disabled: ${model.disabled_reason ?? 'no reason recorded'}; enable it after)`;
    throw new UsageError(
      `${provider}/${modelId} is deprecated${model.successor_model ? ` (successor: ${model.successor_model})` : ''}, so enabling it would not benchmark it. ` +
        `Bring it back with: ${CLI} undeprecate ${provider} ${modelId}${more}`,
    );
  }
  if (model.enabled) return { model, changed: false };
  await store.updateModel(provider, modelId, { enabled: true, disabled_reason: null, disabled_at: null });
  return { model: (await store.getModel(provider, modelId))!, changed: true };
}

/**
 * Stops benchmarking a model. An already disabled one keeps its reason and date (the first
 * reason is what the next operator needs).
 * @throws UsageError without a reason: the reason is what the next operator reads.
 */
export async function disableModel(store: Store, provider: string, modelId: string, reason: string, now = new Date()): Promise<ModelChange> {
  if (!reason?.trim()) throw new UsageError('disable needs --reason "why", e.g. --reason "retired by provider"');
  const model = await requireModel(store, provider, modelId);
  if (!model.enabled) return { model, changed: false };
  await store.updateModel(provider, modelId, { enabled: false, disabled_reason: reason.trim(), disabled_at: now });
  return { model: (await store.getModel(provider, modelId))!, changed: true };
}

/** Undoes deprecate: clears the flag, the date and the successor. */
export async function undeprecateModel(store: Store, provider: string, modelId: string): Promise<ModelChange> {
  const model = await requireModel(store, provider, modelId);
  if (!model.deprecated) return { model, changed: false };
  await store.updateModel(provider, modelId, { deprecated: false, deprecation_date: null, successor_model: null });
  return { model: (await store.getModel(provider, modelId))!, changed: true };
}

export async function deprecateModel(
  store: Store,
  provider: string,
  modelId: string,
  options: { successor?: string | null; date?: string | null } = {},
): Promise<ModelDoc> {
  await requireModel(store, provider, modelId);
  let deprecationDate: string | null = null;
  if (options.date) {
    // Stored as the YYYY-MM-DD string the dashboard's schema expects (SPEC 4.3), so only a
    // real calendar day in that form is taken.
    const day = /^\d{4}-\d{2}-\d{2}$/.test(options.date) ? new Date(`${options.date}T00:00:00Z`) : null;
    if (!day || Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== options.date) {
      throw new UsageError(`--date ${JSON.stringify(options.date)} is not a date; use YYYY-MM-DD`);
    }
    deprecationDate = options.date;
  }
  await store.updateModel(provider, modelId, {
    deprecated: true,
    deprecation_date: deprecationDate,
    successor_model: options.successor ?? null,
  });
  return (await store.getModel(provider, modelId))!;
}

/** What `models.ts show` prints (lib/models/format.ts). */
export interface ShownModel {
  model: ModelDoc | null;
  metrics: MetricDoc[];
  errors: ErrorDoc[];
  price: Price | null;
  spend24h: ModelSpend | null;
  agentRuns?: AgentRunDoc[];
  agentStats?: AgentRunStats[];
}

/**
 * A model with its recent results and errors. A model that is not in the catalog but has
 * results (an ad-hoc `bench-once --models` run) is shown with model null.
 * @throws UsageError when there is neither a catalog entry nor any result.
 */
export async function showModel(
  store: Store,
  provider: string,
  modelId: string,
  limit = 5,
): Promise<ShownModel> {
  await requireListedProvider(store, provider);
  const [model, metrics, errors] = await Promise.all([
    store.getModel(provider, modelId),
    store.recentMetrics(provider, modelId, limit),
    store.recentErrors(provider, modelId, limit),
  ]);
  // Any model with stored results can be shown; an automation's results are agent runs, so it must be catalogued.
  if (!model && (provider === 'tinyfish' || (metrics.length === 0 && errors.length === 0))) await requireModel(store, provider, modelId);
  // A model outside the catalog (an ad-hoc run) is priced like one with no quirks.
  const priced = model ?? { provider, model_id: modelId, misc: {} };
  const cost = (await costLookup(store, new Date()))(priced as ModelDoc);
  if (provider !== 'tinyfish') return { model, metrics, errors, ...cost };
  // An automation's results are agent runs: its recent ones, and a week of them summed up.
  const week = await store.recentAgentRuns({ automation: modelId, since: new Date(Date.now() - 7 * 86_400_000), limit: 10_000, withoutResult: true });
  const agentRuns = await store.recentAgentRuns({ automation: modelId, limit });
  return { model, metrics, errors, ...cost, agentRuns, agentStats: summarizeAgentRuns(week) };
}

/** Parses --misc: a JSON object of per-model quirks. */
export function parseMisc(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError(`--misc must be a JSON object, e.g. '{"region":"us-west-2"}' (got ${JSON.stringify(text)})`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--misc must be a JSON object, e.g. '{"omit_temperature":true}' (got ${JSON.stringify(text)})`);
  }
  return value as Record<string, unknown>;
}
