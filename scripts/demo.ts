// `npm run demo`: the whole pipeline with no keys. Adds a few simulated (mock) models and a
// simulated TinyFish automation with an agent scenario to the embedded store, runs one forced
// sweep of them through the real runner, prints the scenarios and the results.
import { UsageError, parseArgsOrUsage, runMain } from '../lib/cli.ts';
import { loadConfig } from '../lib/config.ts';
import { createLogger, registerSecrets } from '../lib/log.ts';
import { loadProvider } from '../lib/bench/providers/registry.ts';
import { openStore } from '../lib/store/open-store.ts';
import { pairsFromStore } from '../lib/bench/due.ts';
import { runSweep, sweepFailure, type ModelResult } from '../lib/bench/sweep.ts';
import { refreshModelHealth } from '../lib/bench/model-health.ts';
import { sweepCostOptions } from '../lib/bench/budget.ts';
import { addScenario, ensureBuiltinScenarios, formatScenarioList } from '../lib/models/scenarios.ts';
import { PUBLISHED_SCENARIO_ID } from '../lib/store/documents.ts';
import { refreshSite } from '../lib/site/write.ts';

// Model ids of the mock provider describe the simulation (grammar in lib/bench/providers/mock.ts).
const DEMO_MODELS: Array<{ id: string; name: string }> = [
  { id: 'ttft-150ms-tps-120', name: 'Demo: steady, token by token' },
  { id: 'ttft-400ms-tps-60-chunk-2', name: 'Demo: slow start, two tokens per event' },
  { id: 'ttft-80ms-tps-900-chunk-8', name: 'Demo: fast, eight tokens per event' },
  { id: 'reasoning-32-ttft-300ms-tps-200', name: 'Demo: thinks before it answers' },
  { id: 'fail-429-retry-200ms', name: 'Demo: always rate limited' },
];

// A simulated TinyFish automation (grammar in lib/tinyfish/mock.ts) and the agent scenario that runs it.
const DEMO_AUTOMATION = 'mock-start-300ms-steps-4-step-400ms';
const DEMO_AGENT_SCENARIO = 'demo-agent-v1';

const USAGE = `Usage: demo.ts

Adds five simulated (mock) models and a simulated TinyFish automation to the embedded store
(LLM_BENCH_DB, default ./data/llm-bench.sqlite), runs one forced sweep of them, prints the
results and writes the status site (SITE_DIR). No keys, no network. Refused with MONGODB_URI set.`;

async function main(): Promise<number> {
  // No options but --help: anything else is refused before the demo writes a row.
  const { values } = parseArgsOrUsage({ options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  registerSecrets(config.secrets);
  if (config.store.mongodbUri) {
    // The dashboard reads MongoDB: simulated rows do not belong there.
    throw new UsageError(
      'The demo writes simulated results, so it runs on the embedded SQLite store only, not on the MongoDB ' +
        'set in MONGODB_URI. Run it with MONGODB_URI unset: MONGODB_URI= npm run demo',
    );
  }
  const logger = createLogger({ level: config.log.level, underSystemd: config.log.underSystemd });
  const store = await openStore(config);
  try {
    for (const m of DEMO_MODELS) {
      if (!(await store.getModel('mock', m.id))) {
        await store.insertModel({ provider: 'mock', model_id: m.id, display_name: m.name, enabled: true, deprecated: false, created_at: new Date(), misc: {} });
        logger.info(`Added mock/${m.id} (${m.name})`);
      }
    }
    if (!(await store.getModel('tinyfish', DEMO_AUTOMATION))) {
      const misc = { url: 'https://example.com/pricing', goal: 'Find the pricing page and list every plan with its monthly price' };
      await store.insertModel({ provider: 'tinyfish', model_id: DEMO_AUTOMATION, display_name: 'Demo: a simulated browser agent', enabled: true, deprecated: false, created_at: new Date(), misc });
      logger.info(`Added tinyfish/${DEMO_AUTOMATION} (a simulated TinyFish automation)`);
    }
    await ensureBuiltinScenarios(store);
    if (!(await store.getScenario(DEMO_AGENT_SCENARIO))) {
      await addScenario(store, DEMO_AGENT_SCENARIO, { kind: 'agent', description: 'Demo: the simulated automation every hour', interval: '60', targets: `tinyfish:${DEMO_AUTOMATION}` });
    }
    const scenarios = [(await store.getScenario(PUBLISHED_SCENARIO_ID))!, (await store.getScenario(DEMO_AGENT_SCENARIO))!];
    process.stdout.write(`\nScenarios (npm run models -- scenario list):\n${formatScenarioList(await store.listScenarios())}\n`);
    const explicit = [...DEMO_MODELS.map((m) => ({ provider: 'mock' as const, modelId: m.id })), { provider: 'tinyfish' as const, modelId: DEMO_AUTOMATION }];
    const models = await pairsFromStore(store, { scenarios, explicit, providers: [], wallNow: Date.now() });
    process.stdout.write(`\nBenchmarking ${DEMO_MODELS.length} simulated models (${PUBLISHED_SCENARIO_ID}) and one simulated TinyFish automation (${DEMO_AGENT_SCENARIO}) into ${store.location} …\n\n`);
    const { results, summary } = await runSweep({
      config,
      models,
      sink: store,
      loadProvider,
      logger,
      force: true,
      // Simulated models have no rate limits to respect: run them all at once.
      concurrency: models.length,
      // Priced as a sweep prices them (mock is a known $0), so the mail's spend section is true.
      ...(await sweepCostOptions(config, store, { logger })),
    });
    await refreshModelHealth(store, { now: new Date(), cadenceSeconds: config.bench.sweepPeriodMinutes * 60 });
    process.stdout.write(`${resultsTable(results)}\n\n`);
    // The status site, as the timer's sweep writes it: the demo says where to open it.
    const site = await refreshSite(store, config.site.dir, logger);
    if (site) process.stdout.write(`Status site: open file://${site.dir}/index.html in a browser (npm run runs -- site rewrites it)\n\n`);
    process.stdout.write(
      [
        `${summary.ok} ok, ${summary.failed} failed in ${(summary.durationMs / 1000).toFixed(1)} s. Results are stored in ${store.location}.`,
        '',
        'Next steps:',
        '  npm run models -- list                      the models the timer will benchmark',
        '  npm run bench -- --force                    one sweep of every enabled model',
        '  npm run models -- add openai gpt-4o-mini    a real model (then set OPENAI_API_KEY in .env)',
        '  npm run models -- disable mock <id> --reason "demo done"   stop benchmarking a demo model',
        `  npm run models -- show tinyfish ${DEMO_AUTOMATION}   the automation's runs: success rate, p50/p95`,
        '  npm run models -- scenario add long-v1 --max-tokens 512 --interval 360   a second LLM scenario',
        '  npm run runs -- kpis                        p50/p95/p99 and success rates from the shell',
        '',
      ].join('\n'),
    );
    const failure = sweepFailure(summary);
    if (failure) throw new Error(`The demo sweep failed: ${failure}`);
    return 0;
  } finally {
    await store.close();
  }
}

function resultsTable(results: ModelResult[]): string {
  const num = (v: number | null | undefined, digits: number) => (v === null || v === undefined ? '-' : v.toFixed(digits));
  const agent = (r: ModelResult) => {
    const a = r.agentRun!;
    return a.status === 'completed'
      ? `completed in ${num(a.total_duration_ms / 1000, 1)} s: STARTED after ${num(a.time_to_started_ms === null ? null : a.time_to_started_ms / 1000, 2)} s, ${a.progress_events} steps`
      : `${a.error_kind}: ${a.error}`;
  };
  const rows = results.map((r) => [
    r.provider,
    r.modelId,
    r.scenarioId ?? '-',
    num(r.metric?.time_to_first_token, 3),
    num(r.metric?.tokens_per_second, 1),
    num(r.metric?.decode_tokens_per_second, 1),
    r.agentRun ? agent(r) : r.outcome === 'ok' ? 'ok' : r.error ? `${r.error.error_kind}: ${r.error.message.replace(/^Cannot stream [^:]+: /, '')}` : r.outcome,
  ]);
  const header = ['provider', 'model', 'scenario', 'TTFT s', 'tokens/s', 'decode tok/s', 'outcome'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([3, 4, 5]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

await runMain(main);
