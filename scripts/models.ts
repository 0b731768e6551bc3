// Operator CLI for the models collection (SPEC 12). Thin: parses arguments, calls lib/models/admin.ts.
import { UsageError, parseArgsOrUsage, runMain } from '../lib/cli.ts';
import { loadConfig } from '../lib/config.ts';
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
} from '../lib/models/admin.ts';
import {
  addScenario,
  editScenario,
  formatScenario,
  formatScenarioCost,
  formatScenarioList,
  listScenarios,
  removeScenario,
  setScenarioEnabled,
  scenarioDailyCost,
  showScenario,
  type ScenarioOptions,
} from '../lib/models/scenarios.ts';
import { openStore } from '../lib/store/open-store.ts';
import { formatModelList, formatModelShow } from '../lib/models/format.ts';
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
                      [--input-tokens N]  a generated prompt of N tokens, unique per call
                      [--parallel N]      N calls to each model started together
               both:  [--jitter]  once per interval at a random time within it
               agent: [--inputs JSON] [--concurrency N]
  scenario edit ID [the options of add; --no-cache-defeat; --input-tokens 0 for the prompt again; --no-jitter]
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
  'input-tokens': { type: 'string' },
  parallel: { type: 'string' },
  jitter: { type: 'boolean' },
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
        out(formatModelList(rows, { hidden, now: Date.now() }));
      }
      return 0;
    }
    case 'show': {
      const shown = await showModel(store, provider, modelId);
      if (o.json) out(JSON.stringify(shown, null, 2));
      else out(formatModelShow(shown, provider, modelId));
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
    inputTokens: values['input-tokens'],
    parallel: values.parallel,
    jitter: values.jitter,
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
        out(values.json ? JSON.stringify(view, null, 2) : formatScenario(view, config.cost.dailyBudgetUsd));
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
        const cost = sub === 'enable' ? await scenarioDailyCost(store, s) : null;
        const line = `${sub === 'enable' ? 'Enabled' : 'Disabled'} scenario ${s.scenario_id}${cost ? `\n${formatScenarioCost(cost, config.cost.dailyBudgetUsd)}` : ''}`;
        out(values.json ? JSON.stringify(cost ? { ...s, cost } : s, null, 2) : line);
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

await runMain(main);
