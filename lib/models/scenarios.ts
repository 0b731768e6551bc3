// What `models.ts scenario …` does (SPEC 4.5): scenarios as documents, managed from the shell
// like models. A scenario says what to send (an LLM prompt, or a TinyFish automation's
// inputs), how often each (scenario, target) pair is due, and to which targets.
// `cloud-default-v1` always exists and is the published one: only its rows reach
// metrics_cloud_v2, which the public dashboard reads.
import { CHAT_TEMPLATE_TOKENS, worstCaseUsd } from '../bench/budget.ts';
import { createPriceBook, formatUsd } from '../bench/cost.ts';
import { isTarget } from '../bench/due.ts';
import { countPromptTokens } from '../bench/prompts.ts';
import { UsageError } from '../cli.ts';
import { DEFAULT_PROMPT, PROVIDERS, isProviderName } from '../config.ts';
import {
  PUBLISHED_SCENARIO_ID,
  type AgentRunDoc,
  type LlmScenarioInputs,
  type ScenarioDoc,
  type ScenarioKind,
  type ScenarioSuccess,
  type ScenarioTargets,
} from '../store/documents.ts';
import type { ScenarioPatch, Store } from '../store/store.ts';
import { validateAutomationMisc } from '../tinyfish/automation.ts';

const CLI = 'npm run models -- scenario';

/**
 * The scenarios every store has. cloud-default-v1 is upstream's benchmark (its prompt, 64
 * tokens, every 30 minutes); cloud-long-v1 is upstream's steady-state profile (512 tokens
 * every 6 hours), shipped disabled because it costs eight times the tokens. The workloads of
 * SPEC 19 ship disabled too, on Artificial Analysis's schedule: prompts of 1k and 10k tokens
 * every 3 hours and 100k weekly, answers of up to 512 tokens (a long answer, and the 500 the
 * end-to-end figure is quoted for), and ten parallel calls once a day at a random time.
 */
export function builtinScenarios(now: Date): ScenarioDoc[] {
  const base = { kind: 'llm' as const, concurrency: 1, targets: { type: 'all' as const }, created_at: now, updated_at: now };
  return [
    {
      ...base,
      scenario_id: PUBLISHED_SCENARIO_ID,
      description: 'The published benchmark: the upstream prompt, 64 tokens, every 30 minutes',
      inputs: { prompt: DEFAULT_PROMPT, max_tokens: 64, temperature: 0.1 },
      interval_minutes: 30,
      enabled: true,
    },
    {
      ...base,
      scenario_id: 'cloud-long-v1',
      description: 'Steady-state speed: the upstream prompt, 512 tokens, every 6 hours (probe collection)',
      inputs: { prompt: DEFAULT_PROMPT, max_tokens: 512, temperature: 0.1 },
      interval_minutes: 360,
      enabled: false,
    },
    ...[1_000, 10_000, 100_000].map((n) => ({
      ...base,
      scenario_id: `input-${n / 1000}k-v1`,
      description: `Long prompts: a generated ${n.toLocaleString('en')}-token prompt, unique per call, up to 512 tokens back, ${n < 100_000 ? 'every 3 hours' : 'weekly'}`,
      inputs: { prompt: DEFAULT_PROMPT, max_tokens: 512, temperature: 0.1, input_tokens: n },
      interval_minutes: n < 100_000 ? 180 : 10_080,
      enabled: false,
    })),
    {
      ...base,
      scenario_id: 'parallel-10-daily-v1',
      description: 'Load: ten calls to each model at once (the upstream prompt, each with a nonce of its own, 512 tokens), daily at a random time',
      inputs: { prompt: DEFAULT_PROMPT, max_tokens: 512, temperature: 0.1, parallel: 10 },
      interval_minutes: 1440,
      jitter: true,
      enabled: false,
    },
  ];
}

/** Creates the built-in scenarios a store does not have yet; never changes one that exists. */
export async function ensureBuiltinScenarios(store: Store, now = new Date()): Promise<void> {
  for (const doc of builtinScenarios(now)) {
    if (!(await store.getScenario(doc.scenario_id))) await store.insertScenario(doc);
  }
}

/** What `scenario add` and `scenario edit` take from the command line (all optional for edit). */
export interface ScenarioOptions {
  kind?: string;
  description?: string;
  prompt?: string;
  maxTokens?: string;
  temperature?: string;
  cacheDefeat?: boolean;
  /** A generated prompt of this many tokens for every call (SPEC 19); "0" on edit goes back to the prompt. */
  inputTokens?: string;
  /** Calls to each model started together (SPEC 19); "1" on edit: single calls again. */
  parallel?: string;
  /** Once per interval at a random time within it. */
  jitter?: boolean;
  interval?: string;
  concurrency?: string;
  /** `all`, a comma list of providers, or a comma list of provider:model. */
  targets?: string;
  /** Agent scenarios: a JSON object overriding the automations' misc (url, goal, timeout_seconds, …). */
  inputs?: string;
  disabled?: boolean;
  /** Accept --targets models that are not in the catalog yet (about to be added). */
  force?: boolean;
  now?: Date;
}

/**
 * The shortest interval: the sweep timer starts a sweep every 30 minutes, so a pair cannot be
 * measured more often, and a shorter interval would promise what no sweep keeps.
 */
export const MIN_INTERVAL_MINUTES = 30;
const MAX_INTERVAL_MINUTES = 525_600;

/** --interval: whole minutes, from the timer's period to a year. */
function parseInterval(raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(v) || v < MIN_INTERVAL_MINUTES || v > MAX_INTERVAL_MINUTES) {
    throw new UsageError(
      `--interval must be a whole number of minutes from ${MIN_INTERVAL_MINUTES} (the sweep timer's period: no pair is measured more often) to ${MAX_INTERVAL_MINUTES} (got ${JSON.stringify(raw)})`,
    );
  }
  return v;
}

/**
 * Refuses --targets models that are not in the catalog (a typo would make a scenario that never
 * runs anything), unless forced for a model about to be added.
 * @throws UsageError naming each missing model and the command that adds it.
 */
async function refuseUnknownTargets(store: Store, targets: ScenarioTargets, force: boolean | undefined): Promise<void> {
  if (targets.type !== 'models' || force) return;
  const missing: string[] = [];
  for (const t of targets.models) if (!(await store.getModel(t.provider, t.model_id))) missing.push(`${t.provider}:${t.model_id}`);
  if (missing.length === 0) return;
  const [provider, ...id] = missing[0]!.split(':');
  throw new UsageError(
    `--targets: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not in the models catalog. ` +
      `Add ${missing.length === 1 ? 'it' : 'them'} first (npm run models -- add ${provider} ${id.join(':')}), or give --force for a model you are about to add`,
  );
}

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * Adds a scenario.
 * @throws UsageError for a bad or taken id and for any bad option, saying what to do instead.
 */
export async function addScenario(store: Store, scenarioId: string, o: ScenarioOptions): Promise<ScenarioDoc> {
  await ensureBuiltinScenarios(store, o.now);
  if (!ID.test(scenarioId)) {
    throw new UsageError(`Scenario id ${JSON.stringify(scenarioId)} must be lowercase letters, digits, '.', '_' or '-' (at most 64), e.g. cloud-512-nocache-v1`);
  }
  const existing = await store.getScenario(scenarioId);
  if (existing) throw new UsageError(`Scenario ${scenarioId} already exists. Change it with: ${CLI} edit ${scenarioId} …`);
  const kind = parseKind(o.kind ?? 'llm');
  const now = o.now ?? new Date();
  const doc: ScenarioDoc = {
    scenario_id: scenarioId,
    description: o.description ?? '',
    kind,
    inputs: kind === 'llm' ? llmInputs(o, null) : agentInputs(o.inputs, {}),
    interval_minutes: o.interval !== undefined ? parseInterval(o.interval) : kind === 'agent' ? 360 : 30,
    concurrency: o.concurrency !== undefined ? parseNumber('--concurrency', o.concurrency, { min: 1, max: 64, integer: true }) : 1,
    targets: o.targets !== undefined ? parseTargets(o.targets, kind) : { type: 'all' },
    enabled: !o.disabled,
    ...(o.jitter ? { jitter: true } : {}),
    created_at: now,
    updated_at: now,
  };
  if (kind === 'llm' && o.inputs !== undefined) throw new UsageError('--inputs is for agent scenarios; an llm scenario takes --prompt, --max-tokens, --temperature, --cache-defeat');
  if (kind === 'agent') refuseLlmOptions(o);
  await refuseUnknownTargets(store, doc.targets, o.force);
  if ((await store.insertScenario(doc)) === 'duplicate') throw new UsageError(`Scenario ${scenarioId} already exists`);
  return doc;
}

/**
 * Changes the given fields of a scenario.
 * @throws UsageError for an unknown scenario, a change of kind, or any bad option.
 */
export async function editScenario(store: Store, scenarioId: string, o: ScenarioOptions): Promise<ScenarioDoc> {
  const current = await requireScenario(store, scenarioId);
  if (o.kind !== undefined && parseKind(o.kind) !== current.kind) {
    throw new UsageError(`A scenario keeps its kind (${scenarioId} is ${current.kind}): add a new scenario instead, e.g. ${CLI} add ${scenarioId}-agent --kind ${o.kind}`);
  }
  const patch: ScenarioPatch = { updated_at: o.now ?? new Date() };
  if (o.description !== undefined) patch.description = o.description;
  if (current.kind === 'llm') {
    if (o.inputs !== undefined) throw new UsageError('--inputs is for agent scenarios; an llm scenario takes --prompt, --max-tokens, --temperature, --cache-defeat');
    if (o.prompt !== undefined || o.maxTokens !== undefined || o.temperature !== undefined || o.cacheDefeat !== undefined || o.inputTokens !== undefined || o.parallel !== undefined) {
      patch.inputs = llmInputs(o, current.inputs as LlmScenarioInputs);
    }
  } else {
    refuseLlmOptions(o);
    if (o.inputs !== undefined) patch.inputs = agentInputs(o.inputs, current.inputs as Record<string, unknown>);
  }
  if (o.interval !== undefined) patch.interval_minutes = parseInterval(o.interval);
  if (o.jitter !== undefined) patch.jitter = o.jitter;
  if (o.concurrency !== undefined) patch.concurrency = parseNumber('--concurrency', o.concurrency, { min: 1, max: 64, integer: true });
  if (o.targets !== undefined) {
    patch.targets = parseTargets(o.targets, current.kind);
    await refuseUnknownTargets(store, patch.targets, o.force);
  }
  if (Object.keys(patch).length === 1) {
    throw new UsageError(`Nothing to change: give e.g. --interval 60, --targets groq,openai, --max-tokens 256 or --description "…"`);
  }
  await store.updateScenario(scenarioId, patch);
  return (await store.getScenario(scenarioId))!;
}

export async function setScenarioEnabled(store: Store, scenarioId: string, enabled: boolean, now = new Date()): Promise<ScenarioDoc> {
  await requireScenario(store, scenarioId);
  await store.updateScenario(scenarioId, { enabled, updated_at: now });
  return (await store.getScenario(scenarioId))!;
}

/**
 * Removes a scenario (its results stay).
 * @throws UsageError for the published scenario, which always exists, and for an unknown id.
 */
export async function removeScenario(store: Store, scenarioId: string): Promise<void> {
  if (scenarioId === PUBLISHED_SCENARIO_ID) {
    throw new UsageError(`${PUBLISHED_SCENARIO_ID} is the published scenario and always exists. To pause it: ${CLI} disable ${PUBLISHED_SCENARIO_ID}`);
  }
  await requireScenario(store, scenarioId);
  await store.removeScenario(scenarioId);
}

export async function listScenarios(store: Store): Promise<ScenarioDoc[]> {
  await ensureBuiltinScenarios(store);
  return store.listScenarios();
}

/** What a scenario's calls cost a day at current prices (llm scenarios; null for agent ones). */
export interface ScenarioCost {
  /** Enabled, benchmarked models it targets. */
  models: number;
  /** Calls per model per day: a day of intervals, times the parallel group. */
  callsPerModelPerDay: number;
  /** USD a day for the models with a price: input as sent, every answer at its max tokens. */
  usdPerDay: number;
  /** USD a day the daily budget reserves for them (each call's worst case, BENCH_DAILY_BUDGET_USD). */
  worstUsdPerDay: number;
  /** Models without a price (misc.price or the OpenRouter catalog): not in the sums, and not started while a budget is set. */
  unpriced: string[];
}

/**
 * What a scenario's calls cost a day at the prices the sweep uses (misc.price, else the stored
 * OpenRouter catalog), over the enabled models it targets, as if every pair ran every interval.
 */
export async function scenarioDailyCost(store: Store, s: ScenarioDoc): Promise<ScenarioCost | null> {
  if (s.kind !== 'llm') return null;
  const i = s.inputs as LlmScenarioInputs;
  const prices = createPriceBook(await store.listOpenRouterCatalog());
  const models = (await store.listModels({ benchmarkedOnly: true })).filter((m) => isTarget(s, { provider: m.provider, modelId: m.model_id }));
  const callsPerModelPerDay = (1440 / s.interval_minutes) * (i.parallel ?? 1);
  // The nonce and brackets a generated or cache-defeating prompt starts with are a few tokens more.
  const inputTokens = (i.input_tokens ?? (await countPromptTokens(i.prompt))) + CHAT_TEMPLATE_TOKENS;
  const cost: ScenarioCost = { models: models.length, callsPerModelPerDay, usdPerDay: 0, worstUsdPerDay: 0, unpriced: [] };
  for (const m of models) {
    const price = prices.priceOf({ provider: m.provider, modelId: m.model_id, misc: m.misc ?? {} });
    if (!price) {
      cost.unpriced.push(`${m.provider}/${m.model_id}`);
      continue;
    }
    cost.usdPerDay += (callsPerModelPerDay * (inputTokens * price.input + i.max_tokens * price.output)) / 1_000_000;
    cost.worstUsdPerDay += callsPerModelPerDay * worstCaseUsd(price, { prompt: i.prompt, maxTokens: i.max_tokens, inputTokens: i.input_tokens ?? null });
  }
  return cost;
}

/** The cost in a line or two, for `scenario show` and `scenario enable`. */
export function formatScenarioCost(c: ScenarioCost, dailyBudgetUsd: number | null = null): string {
  const calls = Number(c.callsPerModelPerDay.toFixed(2));
  const lines = [
    `Cost: about ${formatUsd(c.usdPerDay)} a day at current prices (${c.models} model(s) × ${calls} call(s) a day, every answer at its max tokens); ` +
      `the daily budget reserves up to ${formatUsd(c.worstUsdPerDay)} a day for them`,
  ];
  if (c.unpriced.length > 0) lines.push(`  not counted, no price: ${c.unpriced.join(', ')} (give misc.price, or run discovery for the OpenRouter catalog)`);
  if (dailyBudgetUsd !== null) {
    lines.push(
      c.worstUsdPerDay > dailyBudgetUsd
        ? `  BENCH_DAILY_BUDGET_USD=${dailyBudgetUsd} does not cover a day of them: calls whose worst case does not fit are not started`
        : `  BENCH_DAILY_BUDGET_USD=${dailyBudgetUsd} covers a day of them on its own`,
    );
  }
  return lines.join('\n');
}

export interface ScenarioView {
  scenario: ScenarioDoc;
  published: boolean;
  /** What its calls cost a day at current prices (llm scenarios). */
  cost: ScenarioCost | null;
  /** Pairs with a success within the scenario's interval (not due until it passes). */
  fresh: ScenarioSuccess[];
  /** Agent scenarios: the most recent runs. */
  agentRuns: AgentRunDoc[];
}

export async function showScenario(store: Store, scenarioId: string, o: { now?: Date; limit?: number } = {}): Promise<ScenarioView> {
  const scenario = await requireScenario(store, scenarioId);
  const now = o.now ?? new Date();
  const since = new Date(now.getTime() - scenario.interval_minutes * 60_000);
  const [fresh, agentRuns, cost] = await Promise.all([
    store.lastScenarioSuccesses(since).then((all) => all.filter((s) => s.scenario_id === scenarioId)),
    scenario.kind === 'agent' ? store.recentAgentRuns({ scenario_id: scenarioId, limit: o.limit ?? 10 }) : Promise.resolve([]),
    scenarioDailyCost(store, scenario),
  ]);
  return { scenario, published: scenarioId === PUBLISHED_SCENARIO_ID, fresh, agentRuns, cost };
}

async function requireScenario(store: Store, scenarioId: string): Promise<ScenarioDoc> {
  await ensureBuiltinScenarios(store);
  const s = await store.getScenario(scenarioId);
  if (s) return s;
  const ids = (await store.listScenarios()).map((x) => x.scenario_id);
  throw new UsageError(`No scenario ${scenarioId}. Scenarios: ${ids.join(', ')} (see ${CLI} list)`);
}

function parseKind(kind: string): ScenarioKind {
  if (kind === 'llm' || kind === 'agent') return kind;
  throw new UsageError(`--kind must be llm (a chat prompt to LLM models) or agent (TinyFish automations) (got ${JSON.stringify(kind)})`);
}

function parseNumber(flag: string, raw: string, o: { min: number; max: number; integer?: boolean }): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (o.integer && !Number.isInteger(v)) || v < o.min || v > o.max) {
    throw new UsageError(`${flag} must be ${o.integer ? 'an integer' : 'a number'} from ${o.min} to ${o.max} (got ${JSON.stringify(raw)})`);
  }
  return v;
}

function llmInputs(o: ScenarioOptions, current: LlmScenarioInputs | null): LlmScenarioInputs {
  const prompt = o.prompt ?? current?.prompt ?? DEFAULT_PROMPT;
  if (!prompt.trim()) throw new UsageError('--prompt must not be empty');
  const inputs: LlmScenarioInputs = {
    prompt,
    max_tokens: o.maxTokens !== undefined ? parseNumber('--max-tokens', o.maxTokens, { min: 1, max: 1_000_000, integer: true }) : (current?.max_tokens ?? 64),
    temperature: o.temperature !== undefined ? parseNumber('--temperature', o.temperature, { min: 0, max: 2 }) : (current?.temperature ?? 0.1),
  };
  const cacheDefeat = o.cacheDefeat ?? current?.cache_defeat ?? false;
  if (cacheDefeat) inputs.cache_defeat = true;
  const inputTokens = o.inputTokens !== undefined ? parseInputTokens(o.inputTokens) : (current?.input_tokens ?? 0);
  if (inputTokens > 0) inputs.input_tokens = inputTokens;
  const parallel = o.parallel !== undefined ? parseNumber('--parallel', o.parallel, { min: 1, max: MAX_PARALLEL, integer: true }) : (current?.parallel ?? 1);
  if (parallel > 1) inputs.parallel = parallel;
  return inputs;
}

/** A group larger than this is a load test, not a measurement of one API's answer to a burst. */
const MAX_PARALLEL = 64;

/** The shortest generated prompt: its nonce, framing and question alone are about 20 tokens. */
const MIN_INPUT_TOKENS = 100;
const MAX_INPUT_TOKENS = 2_000_000;

/** --input-tokens: 0 (the scenario's prompt as written) or a prompt length in tokens. */
function parseInputTokens(raw: string): number {
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isInteger(v) || (v !== 0 && (v < MIN_INPUT_TOKENS || v > MAX_INPUT_TOKENS))) {
    throw new UsageError(
      `--input-tokens must be a whole number of tokens from ${MIN_INPUT_TOKENS} to ${MAX_INPUT_TOKENS}, or 0 for the scenario's own prompt (got ${JSON.stringify(raw)})`,
    );
  }
  return v;
}

function refuseLlmOptions(o: ScenarioOptions): void {
  if (o.prompt !== undefined || o.maxTokens !== undefined || o.temperature !== undefined || o.cacheDefeat !== undefined || o.inputTokens !== undefined || o.parallel !== undefined) {
    throw new UsageError(`--prompt, --max-tokens, --temperature, --cache-defeat, --input-tokens and --parallel are for llm scenarios; an agent scenario takes --inputs '{"goal":"…"}'`);
  }
}

function agentInputs(text: string | undefined, current: Record<string, unknown>): Record<string, unknown> {
  if (text === undefined) return current;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = null;
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--inputs must be a JSON object, e.g. '{"goal":"Find the pricing page","timeout_seconds":120}' (got ${JSON.stringify(text)})`);
  }
  const problems = validateAutomationMisc(value as Record<string, unknown>, { partial: true });
  if (problems.length > 0) throw new UsageError(`--inputs: ${problems.join('; ')}`);
  return value as Record<string, unknown>;
}

/**
 * Parses --targets: `all`, providers (`groq,openai`) or models (`groq:llama-3.3-70b-versatile,…`).
 * An agent scenario targets TinyFish automations only; an llm scenario never does.
 */
export function parseTargets(text: string, kind: ScenarioKind): ScenarioTargets {
  const entries = text.split(',').map((s) => s.trim()).filter(Boolean);
  const example = kind === 'agent' ? 'tinyfish:pricing-page' : 'groq:llama-3.3-70b-versatile';
  if (entries.length === 0) throw new UsageError(`--targets must be all, providers (groq,openai) or models (${example})`);
  if (entries.length === 1 && entries[0] === 'all') return { type: 'all' };
  const fits = (p: string) => (kind === 'agent' ? p === 'tinyfish' : p !== 'tinyfish');
  const provider = (p: string): string => {
    if (!isProviderName(p)) throw new UsageError(`--targets: unknown provider '${p}'. Known providers: ${PROVIDERS.join(', ')}`);
    if (!fits(p)) {
      throw new UsageError(
        kind === 'agent' ? `--targets: an agent scenario runs TinyFish automations (tinyfish:<automation>), not ${p} models` : `--targets: tinyfish automations need an agent scenario (--kind agent)`,
      );
    }
    return p;
  };
  const withModel = entries.filter((e) => e.includes(':'));
  if (withModel.length === 0) return { type: 'providers', providers: entries.map(provider) };
  if (withModel.length !== entries.length) throw new UsageError(`--targets mixes providers and provider:model entries; give one or the other (e.g. ${example})`);
  return {
    type: 'models',
    models: entries.map((e) => {
      const i = e.indexOf(':');
      const modelId = e.slice(i + 1);
      if (!modelId) throw new UsageError(`--targets: ${JSON.stringify(e)} has no model id (write provider:model, e.g. ${example})`);
      return { provider: provider(e.slice(0, i)), model_id: modelId };
    }),
  };
}

/** The targets in a line: "all enabled models", "providers groq, openai", "groq/llama…, …". */
export function describeTargets(s: ScenarioDoc): string {
  const t = s.targets;
  const what = s.kind === 'agent' ? 'automations' : 'models';
  if (t.type === 'all') return `all enabled ${what}`;
  if (t.type === 'providers') return `enabled ${what} of ${t.providers.join(', ')}`;
  return t.models.map((m) => `${m.provider}/${m.model_id}`).join(', ');
}

function describeInputs(s: ScenarioDoc): string {
  if (s.kind === 'agent') return Object.keys(s.inputs).length ? `inputs ${JSON.stringify(s.inputs)}` : "each automation's own url and goal";
  const i = s.inputs as LlmScenarioInputs;
  const input = i.input_tokens ? `${i.input_tokens}-token generated prompts (unique per call), ` : '';
  const parallel = i.parallel ? `${i.parallel} calls at once, ` : '';
  return `${parallel}${input}${i.max_tokens} tokens, temperature ${i.temperature}${i.cache_defeat ? ', cache-defeating nonce' : ''}`;
}

export function formatScenarioList(scenarios: ScenarioDoc[]): string {
  const rows = scenarios.map((s) => [
    s.scenario_id,
    s.kind,
    s.enabled ? 'enabled' : 'disabled',
    `every ${s.interval_minutes} min${s.jitter ? ' (random start)' : ''}`,
    describeInputs(s),
    `${describeTargets(s)}${s.scenario_id === PUBLISHED_SCENARIO_ID ? ' (published)' : ''}`,
  ]);
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i < 5 ? c.padEnd(widths[i]!) : c)).join('  ').trimEnd()).join('\n');
}

export function formatScenario(v: ScenarioView, dailyBudgetUsd: number | null = null): string {
  const s = v.scenario;
  const lines = [
    `${s.scenario_id} (${s.kind}, ${s.enabled ? 'enabled' : 'disabled'}${v.published ? ', published: rows go to metrics_cloud_v2' : ', rows go to the probe collection'})`,
    ...(s.description ? [`  ${s.description}`] : []),
    `  every ${s.interval_minutes} min per target${s.jitter ? ' at a random time within the interval' : ''}, ${describeInputs(s)}`,
    `  targets: ${describeTargets(s)}${s.kind === 'agent' ? `, ${s.concurrency} run(s) at a time` : ''}`,
  ];
  if (s.kind === 'llm' && !(s.inputs as LlmScenarioInputs).input_tokens) lines.push(`  prompt: ${JSON.stringify((s.inputs as LlmScenarioInputs).prompt)}`);
  if (v.cost) lines.push(formatScenarioCost(v.cost, dailyBudgetUsd));
  lines.push(`Pairs measured within the last ${s.interval_minutes} min (not due yet): ${v.fresh.length}`);
  for (const f of v.fresh) lines.push(`  ${f.provider}/${f.model_name}  ${f.ts.toISOString()}`);
  if (s.kind === 'agent') {
    lines.push(`Recent runs (${v.agentRuns.length}):`);
    for (const r of v.agentRuns) lines.push(`  ${formatAgentRunLine(r)}`);
  }
  return lines.join('\n');
}

/** One agent run in a line, for `show` and the journal. */
export function formatAgentRunLine(r: AgentRunDoc): string {
  const secs = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  const head = `${r.started_at.toISOString()}  ${r.automation}  ${r.status}${r.mock ? ' (mock)' : ''}  total ${secs(r.total_duration_ms)}`;
  if (r.status === 'completed') return `${head}, STARTED after ${secs(r.time_to_started_ms)}, first progress ${secs(r.time_to_first_progress_ms)}, ${r.progress_events} steps`;
  return `${head}  ${r.error_kind}: ${(r.error ?? '').slice(0, 160)}`;
}

