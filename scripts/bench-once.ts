// One sweep (SPEC 8): benchmark every due model once, record each result, exit. Started by
// llm-bench.timer every 30 minutes. Thin: arguments and wiring here, the work in lib/bench/sweep.ts.
import { UsageError, parseArgsOrUsage, runMain } from '../lib/cli.ts';
import { PROVIDERS, isProviderName, loadConfig, type ProviderName } from '../lib/config.ts';
import { LEVEL_RANK, createLogger, registerSecrets } from '../lib/log.ts';
import { loadProvider } from '../lib/bench/providers/registry.ts';
import { createRemoteRunner } from '../lib/ingest/client.ts';
import { openStore } from '../lib/store/open-store.ts';
import { modelsFromRunnerConfig, pairsFromStore, parseModelList, type SweepModel } from '../lib/bench/due.ts';
import { createLiveLine, formatResultLine, formatSummary, formatSweepStart, resultToJson } from '../lib/bench/output.ts';
import { ensureBuiltinScenarios } from '../lib/models/scenarios.ts';
import type { ScenarioDoc } from '../lib/store/documents.ts';
import type { Store } from '../lib/store/store.ts';
import { refuseMockRunsInMongo } from '../lib/tinyfish/run.ts';
import { runSweep, sweepFailure } from '../lib/bench/sweep.ts';
import { refreshModelHealth } from '../lib/bench/model-health.ts';
import { MOCK_ON_MONGODB } from '../lib/store/collection-rules.ts';
import { sweepCostOptions } from '../lib/bench/budget.ts';
import { writeSweepTextfile } from '../lib/bench/prometheus.ts';
import { refreshSite } from '../lib/site/write.ts';
import { recordOutputFailure } from '../lib/bench/sweep-outputs.ts';
import { refreshRollups } from '../lib/store/rollups.ts';

const USAGE = `Usage: bench-once.ts [--provider P]... [--models M,M] [--scenario ID]... [--force] [--json] [--concurrency N]

  --provider P      only this provider (repeatable, or a comma list)
  --models M,M      benchmark these instead of the store's enabled models: provider:model,
                    or bare ids with a single --provider (default: BENCHMARK_MODELS)
  --scenario ID     only this scenario (repeatable; runs it even when disabled). Default: every
                    enabled scenario (models.ts scenario list), each over its targets
  --force           also pairs with a success within their scenario's interval
  --json            print the results as JSON on stdout (log lines go to stderr)
  --concurrency N   calls at a time per provider (default: BENCH_PROVIDER_CONCURRENCY)

With INGEST_API_URL set this is a remote runner: results are posted to the ingest server (and
spooled in INGEST_SPOOL_DIR when it cannot be reached), models come from --models or the
server's runner-config for each --provider, and the calls use the BENCH_PROMPT profile (the
scenarios live in the store).`;

const OPTIONS = {
  provider: { type: 'string', multiple: true },
  models: { type: 'string' },
  scenario: { type: 'string', multiple: true },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const list = (values: string[]) => values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);

async function main(): Promise<number> {
  const { values } = parseArgsOrUsage({ options: OPTIONS, strict: true, allowPositionals: false }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  registerSecrets(config.secrets);

  const providers = list(values.provider ?? []).map((p): ProviderName => {
    if (!isProviderName(p)) throw new UsageError(`Unknown provider '${p}': use one of ${PROVIDERS.join(', ')}`);
    return p;
  });
  let concurrency: number | undefined;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) {
      throw new UsageError(`--concurrency must be an integer from 1 to 64 (got '${values.concurrency}')`);
    }
  }
  const explicitEntries = values.models !== undefined ? list([values.models]) : config.bench.models;
  const explicit = explicitEntries.length > 0 ? parseModelList(explicitEntries, providers) : null;
  // SPEC 4.1: the dashboard publishes MongoDB, so simulated models are refused there up front.
  const explicitMock = config.store.mongodbUri && !config.ingest.apiUrl ? explicit?.find((m) => m.provider === 'mock') : undefined;
  if (explicitMock) throw new UsageError(`Refusing to benchmark mock/${explicitMock.modelId} into MongoDB (MONGODB_URI is set): ${MOCK_ON_MONGODB}`);

  const progress = createLiveLine({
    enabled: process.stderr.isTTY === true && !config.log.underSystemd,
    write: (text) => process.stderr.write(text),
    columns: () => process.stderr.columns || 80,
    now: () => performance.now(),
  });
  const logger = createLogger({
    level: config.log.level,
    underSystemd: config.log.underSystemd,
    write: (level, line) => progress.around(() => (values.json || LEVEL_RANK[level] >= LEVEL_RANK.warn ? process.stderr : process.stdout).write(`${line}\n`)),
  });

  // A remote runner (INGEST_API_URL) has no database: results go to the ingest server, and
  // what could not be delivered last time is delivered first.
  const remote = config.ingest.apiUrl ? createRemoteRunner(config, { logger }) : null;
  const store = remote ? null : await openStore(config);
  const controller = new AbortController();
  // systemd stops a unit with SIGTERM (TimeoutStartSec, shutdown): abort the calls in flight
  // and record them, rather than dying with results unwritten.
  // Ctrl-C under npm reaches the script twice (the terminal signals npm and node, and npm
  // forwards it): the first one stops the sweep, the rest are the same stop.
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    logger.warn(`Received ${signal}: stopping the sweep (calls in flight are recorded as aborted)`);
    controller.abort(new Error(signal));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    let models: SweepModel[];
    if (remote) {
      // flushSpool says what it delivered in its own one line.
      await remote.flushSpool();
      if (values.scenario) throw new UsageError('--scenario needs the store: scenarios are documents there, and a remote runner (INGEST_API_URL set) has none');
      models = await modelsFromRunnerConfig(remote.runnerConfig, { explicit, providers, logger });
    } else {
      await store!.ping();
      const scenarios = await chooseScenarios(store!, list(values.scenario ?? []));
      models = await pairsFromStore(store!, { scenarios, explicit, providers, wallNow: Date.now() });
      refuseMockRunsInMongo(store!.kind, models.filter((m) => m.provider === 'tinyfish').map((m) => m.modelId), config);
      if (store!.kind === 'mongodb' && models.some((m) => m.provider === 'mock')) {
        // Mock models added to MongoDB before they were refused there: left out, said once.
        logger.warn(`Skipping the mock models in ${store!.location}: ${MOCK_ON_MONGODB}`);
        models = models.filter((m) => m.provider !== 'mock');
      }
    }
    if (models.length === 0) {
      const where = remote ? `the ingest server's runner-config` : store!.location;
      logger.warn(
        explicit
          ? 'No models to benchmark: none of the given models matches --provider'
          : `No enabled models in ${where}${providers.length ? ` for ${providers.join(', ')}` : ''}: add one with npm run models -- add <provider> <model>`,
      );
    }
    if (models.length > 0) {
      logger.info(formatSweepStart(models, { deadlineMs: config.bench.sweepDeadlineMs, force: values.force ?? false, freshMinutes: config.bench.freshMinutes }));
    }
    const cost = await sweepCostOptions(config, store, { logger });
    progress.start(models.length);
    const sweepStartedAt = new Date();
    const { results, summary } = await runSweep({
      ...cost,
      config,
      models,
      sink: remote ? remote.sink : store!,
      loadProvider,
      logger,
      force: values.force ?? false,
      ...(concurrency !== undefined ? { concurrency } : {}),
      signal: controller.signal,
      onStart: (m) => progress.started(`${m.provider}/${m.modelId}`),
      onResult: (r) => {
        progress.finished(`${r.provider}/${r.modelId}`);
        const line = formatResultLine(r);
        if (r.outcome === 'failed') logger.warn(line);
        else logger.info(line);
      },
    });
    progress.stop();
    // SPEC 20: the day's rollups and bounded retention; derived data, so a failure is logged and the sweep stands.
    if (store) await refreshRollups(store, { now: new Date(), retention: config.retention }).catch((err: Error) => logger.error(`Cannot update the daily rollups in ${store.location}: ${err.message}`));
    // The status site (SPEC 16), rewritten from the store after every sweep; a runner without a store has none.
    // Neither output fails the sweep (the results are stored): the journal and the health mail say it.
    const outputFailure = { sweepStartedAt, runner: config.bench.runner, logger };
    // refreshSite says a failed write at error level; for the sweep it is a warning (exit 0),
    // and the same line goes to the health mail.
    let siteFailure: string | null = null;
    const siteLogger = { ...logger, error: (line: string) => logger.warn((siteFailure = line)) };
    if (store && !(await refreshSite(store, config.site.dir, siteLogger))) {
      await recordOutputFailure(store, 'status-site', siteFailure ?? `Cannot write the status site to ${config.site.dir}`, { ...outputFailure, now: new Date() });
    }
    logger.info(formatSummary(summary));
    if (summary.skippedDeadline > 0 && !controller.signal.aborted) {
      logger.warn(
        `${summary.skippedDeadline} model(s) were not started before the sweep deadline (BENCH_SWEEP_DEADLINE_MS=${config.bench.sweepDeadlineMs}): ` +
          'raise BENCH_PROVIDER_CONCURRENCY or the deadline, or benchmark fewer models',
      );
    }
    if (summary.skippedBudget > 0) {
      logger.warn(`${summary.skippedBudget} model(s) were not started: BENCH_DAILY_BUDGET_USD=${config.cost.dailyBudgetUsd} (see their lines for why)`);
    }
    // The textfile is for monitoring: a failed write is logged, and the sweep's exit code stands
    // (llm_bench_sweep_end_timestamp_seconds going stale is what an alert sees).
    if (config.cost.promTextfile) {
      const path = config.cost.promTextfile;
      await writeSweepTextfile(path, { results, summary, history: store, scenario: config.bench.profile.id, finishedAt: new Date() }).catch(async (err: Error) => {
        const message = `Cannot write PROM_TEXTFILE ${path}: ${err.message}`;
        logger.warn(message);
        await recordOutputFailure(store, 'prom-textfile', message, { ...outputFailure, now: new Date() });
      });
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ summary, results: results.map(resultToJson) })}\n`);
    if (store) {
      // SPEC 4.7: the dashboard's freshness badges, for every catalog model, after every sweep.
      try {
        await refreshModelHealth(store, { now: new Date(), cadenceSeconds: config.bench.sweepPeriodMinutes * 60 });
      } catch (err) {
        logger.error(`Cannot write bench_model_health to ${store.location}: ${(err as Error).message}`);
        return 1;
      }
    }
    // Nothing is lost (the results wait in the spool), but no run will deliver until the key is fixed.
    const refused = remote?.keyRefused();
    if (refused) {
      logger.error(`The ingest server refused this runner's INGEST_API_KEY (HTTP ${refused}): results are kept in ${config.ingest.spoolDir} until it is fixed`);
      return 1;
    }
    const failure = sweepFailure(summary);
    if (failure) {
      logger.error(`Sweep failed: ${failure}`);
      return 1;
    }
    return 0;
  } finally {
    progress.stop();
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await (remote ?? store)?.close();
  }
}

/**
 * The scenarios to run: those named with --scenario (even when disabled), else every enabled one.
 * @throws UsageError naming an unknown scenario and the ones there are.
 */
async function chooseScenarios(store: Store, named: string[]): Promise<ScenarioDoc[]> {
  await ensureBuiltinScenarios(store);
  if (named.length === 0) return store.listScenarios({ enabledOnly: true });
  const found: ScenarioDoc[] = [];
  for (const id of named) {
    const s = await store.getScenario(id);
    if (!s) throw new UsageError(`No scenario ${id}. Scenarios: ${(await store.listScenarios()).map((x) => x.scenario_id).join(', ')}`);
    found.push(s);
  }
  return found;
}

await runMain(main);
