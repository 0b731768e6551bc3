// Operator CLI for the models collection (SPEC 12). Thin: parses arguments, calls lib/models/admin.ts.
import { UsageError, parseArgsOrUsage, runMain } from '../lib/cli.ts';
import { loadConfig } from '../lib/config.ts';
import { isBenchmarked, type ModelDoc } from '../lib/store/documents.ts';
import { registerSecrets } from '../lib/log.ts';
import {
  addModel,
  deprecateModel,
  disableModel,
  enableModel,
  listModelRows,
  parseMisc,
  showModel,
  undeprecateModel,
  type ModelRow,
} from '../lib/models/admin.ts';
import {
  addScenario,
  editScenario,
  formatAgentRunLine,
  formatScenario,
  formatScenarioList,
  listScenarios,
  removeScenario,
  setScenarioEnabled,
  showScenario,
  type ScenarioOptions,
} from '../lib/models/scenarios.ts';
import { formatAgentRunStats } from '../lib/tinyfish/stats.ts';
import { openStore } from '../lib/store/open-store.ts';
import { formatPrice, formatUsd } from '../lib/bench/cost.ts';
import type { Store } from '../lib/store/store.ts';

const USAGE = `Usage: models.ts <command> [options]

  list [--provider P] [--all] [--json]    models we benchmark (--all: also disabled and deprecated)
  show P ID [--json]                      one model with its recent results and errors
  add P ID [--display-name N] [--disabled] [--misc JSON] [--force]
  enable P ID
  disable P ID --reason R
  deprecate P ID [--successor M] [--date YYYY-MM-DD]
  undeprecate P ID                        undo deprecate: benchmark it again (if enabled)

  scenario list [--json]                  what each sweep sends, how often, to which targets
  scenario show ID [--json]               one scenario, its pairs measured lately, its recent agent runs
  scenario add ID [--kind llm|agent] [--description D] [--interval MIN] [--targets T] [--disabled] [--force]
               llm:   [--prompt P] [--max-tokens N] [--temperature T] [--cache-defeat]
               agent: [--inputs JSON] [--concurrency N]
  scenario edit ID [the options of add; --no-cache-defeat]
  scenario enable ID | disable ID | remove ID

  TinyFish automations are models of provider tinyfish:
    add tinyfish pricing-page --misc '{"url":"https://example.com","goal":"List the pricing plans"}'
  --targets is all, providers (groq,openai) or models (groq:llama-3.3-70b-versatile,tinyfish:pricing-page);
  models must be in the catalog (--force: one you are about to add). --interval is whole minutes, 30 or more.`;

const OPTIONS = {
  provider: { type: 'string' },
  all: { type: 'boolean' },
  json: { type: 'boolean' },
  'display-name': { type: 'string' },
  disabled: { type: 'boolean' },
  force: { type: 'boolean' },
  misc: { type: 'string' },
  reason: { type: 'string' },
  successor: { type: 'string' },
  date: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  // scenario add / edit
  kind: { type: 'string' },
  description: { type: 'string' },
  prompt: { type: 'string' },
  'max-tokens': { type: 'string' },
  temperature: { type: 'string' },
  'cache-defeat': { type: 'boolean' },
  interval: { type: 'string' },
  concurrency: { type: 'string' },
  targets: { type: 'string' },
  inputs: { type: 'string' },
} as const;

async function main(): Promise<number> {
  const { values, positionals } = parseArgsOrUsage({ options: OPTIONS, allowPositionals: true, allowNegative: true, strict: true }, USAGE);
  const [command, provider, modelId, ...extra] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!command) throw new UsageError('Give a command.', USAGE);
  if (command === 'scenario') return scenarioCommand(positionals.slice(1), values);
  const needsTarget = ['show', 'add', 'enable', 'disable', 'deprecate', 'undeprecate'].includes(command);
  if (!needsTarget && command !== 'list') throw new UsageError(`Unknown command '${command}'.`, USAGE);
  if (needsTarget && (!provider || !modelId || extra.length > 0)) {
    throw new UsageError(`${command} takes a provider and a model id, e.g. models.ts ${command} groq llama-3.3-70b-versatile`);
  }
  const misc = parseMisc(values.misc);

  const config = loadConfig();
  registerSecrets(config.secrets);
  const store = await openStore(config);
  try {
    return await run(store, command, provider!, modelId!, { ...values, misc });
  } finally {
    await store.close();
  }
}

async function run(
  store: Store,
  command: string,
  provider: string,
  modelId: string,
  o: { provider?: string; all?: boolean; json?: boolean; 'display-name'?: string; disabled?: boolean; force?: boolean; misc?: Record<string, unknown>; reason?: string; successor?: string; date?: string },
): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  switch (command) {
    case 'list': {
      const rows = await listModelRows(store, { provider: o.provider, all: o.all });
      if (o.json) out(JSON.stringify(rows, null, 2));
      else {
        // With nothing enabled, suggesting `add` would be refused as a duplicate when the
        // models are there, only disabled or deprecated: point at those instead.
        const hidden = rows.length === 0 && !o.all ? (await listModelRows(store, { provider: o.provider, all: true })).length : 0;
        out(formatList(rows, Boolean(o.all), hidden));
      }
      return 0;
    }
    case 'show': {
      const shown = await showModel(store, provider, modelId);
      if (o.json) out(JSON.stringify(shown, null, 2));
      else out(formatShow(shown, provider, modelId));
      return 0;
    }
    case 'add': {
      const m = await addModel(store, provider, modelId, {
        displayName: o['display-name'],
        disabled: o.disabled,
        force: o.force,
        misc: o.misc,
      });
      out(`Added ${m.provider}/${m.model_id} (${m.enabled ? 'enabled: the next sweep benchmarks it' : 'disabled'})`);
      return 0;
    }
    case 'enable': {
      const { changed } = await enableModel(store, provider, modelId);
      out(changed ? `Enabled ${provider}/${modelId}: the next sweep benchmarks it` : `${provider}/${modelId} is already enabled; nothing changed`);
      return 0;
    }
    case 'disable': {
      const { model, changed } = await disableModel(store, provider, modelId, o.reason ?? '');
      out(
        changed
          ? `Disabled ${provider}/${modelId}: ${model.disabled_reason}`
          : `${provider}/${modelId} is already disabled${model.disabled_at ? ` since ${model.disabled_at.toISOString().slice(0, 10)}` : ''}` +
              `${model.disabled_reason ? ` (${model.disabled_reason})` : ''}; nothing changed, the reason is kept`,
      );
      return 0;
    }
    case 'undeprecate': {
      const { model, changed } = await undeprecateModel(store, provider, modelId);
      if (!changed) out(`${provider}/${modelId} is not deprecated; nothing changed`);
      else if (model.enabled) out(`Undeprecated ${provider}/${modelId}: the next sweep benchmarks it`);
      else out(`Undeprecated ${provider}/${modelId}; it is still disabled (${model.disabled_reason ?? 'no reason'}): npm run models -- enable ${provider} ${modelId}`);
      return 0;
    }
    case 'deprecate': {
      const m = await deprecateModel(store, provider, modelId, { successor: o.successor, date: o.date });
      out(`Deprecated ${provider}/${modelId}${m.successor_model ? ` (successor: ${m.successor_model})` : ''}`);
      return 0;
    }
  }
  throw new UsageError(`Unknown command '${command}'`);
}

const SCENARIO_COMMANDS = ['list', 'show', 'add', 'edit', 'enable', 'disable', 'remove'];

/** `models.ts scenario …`: the scenarios collection (SPEC 4.5), actions in lib/models/scenarios.ts. */
async function scenarioCommand(args: string[], values: ReturnType<typeof parseArgsOrUsage<{ options: typeof OPTIONS; allowPositionals: true; allowNegative: true; strict: true }>>['values']): Promise<number> {
  const [sub, id, ...extra] = args;
  if (!sub || !SCENARIO_COMMANDS.includes(sub)) {
    throw new UsageError(`scenario needs one of ${SCENARIO_COMMANDS.join(', ')}, e.g. models.ts scenario list`);
  }
  if (sub !== 'list' && (!id || extra.length > 0)) throw new UsageError(`scenario ${sub} takes a scenario id, e.g. models.ts scenario ${sub} cloud-long-v1`);
  const options: ScenarioOptions = {
    kind: values.kind,
    description: values.description,
    prompt: values.prompt,
    maxTokens: values['max-tokens'],
    temperature: values.temperature,
    cacheDefeat: values['cache-defeat'],
    interval: values.interval,
    concurrency: values.concurrency,
    targets: values.targets,
    inputs: values.inputs,
    disabled: values.disabled,
    force: values.force,
  };
  const config = loadConfig();
  registerSecrets(config.secrets);
  const store = await openStore(config);
  const out = (s: string) => process.stdout.write(`${s}\n`);
  try {
    switch (sub) {
      case 'list': {
        const all = await listScenarios(store);
        out(values.json ? JSON.stringify(all, null, 2) : formatScenarioList(all));
        return 0;
      }
      case 'show': {
        const view = await showScenario(store, id!);
        out(values.json ? JSON.stringify(view, null, 2) : formatScenario(view));
        return 0;
      }
      case 'add': {
        const s = await addScenario(store, id!, options);
        out(values.json ? JSON.stringify(s, null, 2) : `Added scenario ${s.scenario_id} (${s.kind}, ${s.enabled ? 'enabled: the next sweep runs its due pairs' : 'disabled'})`);
        return 0;
      }
      case 'edit': {
        const s = await editScenario(store, id!, options);
        out(values.json ? JSON.stringify(s, null, 2) : `Changed scenario ${s.scenario_id}`);
        return 0;
      }
      case 'enable':
      case 'disable': {
        const s = await setScenarioEnabled(store, id!, sub === 'enable');
        out(values.json ? JSON.stringify(s, null, 2) : `${sub === 'enable' ? 'Enabled' : 'Disabled'} scenario ${s.scenario_id}`);
        return 0;
      }
      default:
        await removeScenario(store, id!);
        out(values.json ? JSON.stringify({ removed: id }) : `Removed scenario ${id} (its results stay)`);
        return 0;
    }
  } finally {
    await store.close();
  }
}

function ago(d: Date | null, now = Date.now()): string {
  if (!d) return 'never';
  const minutes = Math.round((now - d.getTime()) / 60_000);
  if (minutes < 60) return `${minutes}m ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)}h ago`;
  return `${Math.round(minutes / 1440)}d ago`;
}

function state(m: ModelDoc): string {
  if (isBenchmarked(m)) return 'enabled';
  if (m.deprecated) return m.successor_model ? `deprecated → ${m.successor_model}` : 'deprecated';
  return m.disabled_reason ? `disabled: ${m.disabled_reason}` : 'disabled';
}

function formatList(rows: ModelRow[], all: boolean, hidden = 0): string {
  if (rows.length === 0) {
    if (hidden > 0) {
      return `No enabled models; ${hidden} ${hidden === 1 ? 'is' : 'are'} disabled or deprecated: see ${hidden === 1 ? 'it' : 'them'} with --all, ` +
        'then npm run models -- enable P ID (or undeprecate P ID), or add another model: npm run models -- add P ID';
    }
    return 'No models yet. Add one: npm run models -- add openai gpt-4o-mini';
  }
  const table = rows.map((r) => [
    r.model.provider,
    r.model.model_id,
    state(r.model),
    `ok ${ago(r.lastSuccess)}`,
    shortPrice(r),
    `24h ${spend24h(r.spend24h ?? null)}`,
    r.lastError ? `error ${ago(r.lastError.ts)} ${r.lastError.error_kind}: ${r.lastError.message.slice(0, 80)}` : '',
  ]);
  const widths = [0, 1, 2, 3, 4, 5].map((i) => Math.max(...table.map((row) => row[i]!.length)));
  const lines = table.map((row) => row.map((cell, i) => (i < 6 ? cell.padEnd(widths[i]!) : cell)).join('  ').trimEnd());
  if (rows.some((r) => r.price?.source === 'openrouter')) {
    lines.push("* OpenRouter's price for the model (this provider may charge otherwise): set misc.price for its own");
  }
  return lines.join('\n');
}

// SPEC 17: "$0.59/$0.79" (in/out per million tokens, * when from the OpenRouter catalog).
function shortPrice(r: ModelRow): string {
  if (!r.price) return 'price ?';
  return `$${Number(r.price.input.toPrecision(4))}/$${Number(r.price.output.toPrecision(4))}${r.price.source === 'openrouter' ? '*' : ''}`;
}

function spend24h(s: ModelRow['spend24h'] | null): string {
  if (!s) return '$0';
  return `${formatUsd(s.cost_usd)}${s.unpriced_calls ? ` +${s.unpriced_calls} unpriced` : ''}`;
}

function formatShow(s: Awaited<ReturnType<typeof showModel>>, provider: string, modelId: string): string {
  const m = s.model;
  const lines = m
    ? [
        `${m.provider}/${m.model_id}${m.display_name ? ` (${m.display_name})` : ''}: ${state(m)}`,
        `  added ${m.created_at.toISOString()}${m.disabled_at ? `, disabled ${m.disabled_at.toISOString()}` : ''}`,
      ]
    : [`${provider}/${modelId}: not in the models catalog (results from ad-hoc runs such as bench-once --models)`];
  if (m?.misc && Object.keys(m.misc).length) lines.push(`  misc ${JSON.stringify(m.misc)}`);
  lines.push(`  price ${formatPrice(s.price)}; last 24 h ${spend24h(s.spend24h)} over ${(s.spend24h?.priced_calls ?? 0) + (s.spend24h?.unpriced_calls ?? 0)} call(s)`);
  // A TinyFish automation's results are agent runs, not metrics.
  if (s.agentRuns) {
    lines.push(`Agent runs, last 7 days:${s.agentStats!.length ? '' : ' none'}`);
    for (const st of s.agentStats!) lines.push(`  ${st.scenario_id}: ${formatAgentRunStats(st)}`);
    lines.push(`Recent agent runs (${s.agentRuns.length}):`);
    for (const r of s.agentRuns) lines.push(`  ${formatAgentRunLine(r)}`);
    return lines.join('\n');
  }
  lines.push(`Recent results (${s.metrics.length}):`);
  for (const r of s.metrics) {
    // Seconds, as in the stored rows, the sweep's lines and the dashboard.
    const ttft = r.time_to_first_token === null ? '–' : `${r.time_to_first_token.toFixed(3)} s`;
    lines.push(`  ${r.run_ts.toISOString()}  TTFT ${ttft}  ${r.tokens_per_second.toFixed(1)} tok/s  ${r.output_tokens} tokens`);
  }
  lines.push(`Recent errors (${s.errors.length}):`);
  for (const e of s.errors) lines.push(`  ${e.ts.toISOString()}  ${e.stage}/${e.error_kind}  ${e.message.slice(0, 160)}`);
  return lines.join('\n');
}

await runMain(main);
