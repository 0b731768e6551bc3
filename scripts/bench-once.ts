// One sweep (SPEC 8): benchmark every due model once, record each result, exit. Started by
// llm-bench.timer every 30 minutes. Thin: arguments and wiring here, the work in lib/bench/sweep.ts.
import { parseArgs } from 'node:util';
import { UsageError, runMain } from '../lib/cli.ts';
import { PROVIDERS, isProviderName, loadConfig, type ProviderName } from '../lib/config.ts';
import { LEVEL_RANK, createLogger, registerSecrets } from '../lib/log.ts';
import { loadProvider } from '../lib/bench/providers/registry.ts';
import { createRemoteRunner } from '../lib/ingest/client.ts';
import { openStore } from '../lib/store/open-store.ts';
import { modelsFromRunnerConfig, modelsFromStore, parseModelList, type SweepModel } from '../lib/bench/due.ts';
import { formatResultLine, formatSummary, resultToJson } from '../lib/bench/output.ts';
import { runSweep, sweepFailure } from '../lib/bench/sweep.ts';
import { refreshSite } from '../lib/site/write.ts';

const USAGE = `Usage: bench-once.ts [--provider P]... [--models M,M] [--force] [--json] [--concurrency N]

  --provider P      only this provider (repeatable, or a comma list)
  --models M,M      benchmark these instead of the store's enabled models: provider:model,
                    or bare ids with a single --provider (default: BENCHMARK_MODELS)
  --force           also models with a success newer than FRESH_MINUTES
  --json            print the results as JSON on stdout (log lines go to stderr)
  --concurrency N   calls at a time per provider (default: BENCH_PROVIDER_CONCURRENCY)

With INGEST_API_URL set this is a remote runner: results are posted to the ingest server (and
spooled in INGEST_SPOOL_DIR when it cannot be reached), models come from --models or the
server's runner-config for each --provider.`;

const OPTIONS = {
  provider: { type: 'string', multiple: true },
  models: { type: 'string' },
  force: { type: 'boolean' },
  json: { type: 'boolean' },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const list = (values: string[]) => values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);

async function main(): Promise<number> {
  const { values } = parseArgs({ options: OPTIONS, strict: true, allowPositionals: false });
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

  const progress = createProgress(process.stderr.isTTY === true && !config.log.underSystemd);
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
  const onSignal = (signal: NodeJS.Signals) => {
    logger.warn(`Received ${signal}: aborting the sweep`);
    controller.abort(new Error(signal));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    let models: SweepModel[];
    if (remote) {
      const spool = await remote.flushSpool();
      if (spool.delivered + spool.dropped + spool.remaining > 0) {
        logger.info(`Spool: delivered ${spool.delivered}, dropped ${spool.dropped}, ${spool.remaining} still waiting for ${config.ingest.apiUrl}`);
      }
      models = await modelsFromRunnerConfig(remote.runnerConfig, { explicit, providers, logger });
    } else {
      await store!.ping();
      models = await modelsFromStore(store!, { explicit, providers });
    }
    if (models.length === 0) {
      const where = remote ? `the ingest server's runner-config` : store!.location;
      logger.warn(
        explicit
          ? 'No models to benchmark: none of the given models matches --provider'
          : `No enabled models in ${where}${providers.length ? ` for ${providers.join(', ')}` : ''}: add one with scripts/models.ts add <provider> <model>`,
      );
    }
    progress.start(models.length);
    const { results, summary } = await runSweep({
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
    // The status site (SPEC 16), rewritten from the store after every sweep; a runner without a store has none.
    if (store) await refreshSite(store, config.site.dir, logger);
    logger.info(formatSummary(summary));
    if (summary.skippedDeadline > 0 && !controller.signal.aborted) {
      logger.warn(
        `${summary.skippedDeadline} model(s) were not started before the sweep deadline (BENCH_SWEEP_DEADLINE_MS=${config.bench.sweepDeadlineMs}): ` +
          'raise BENCH_PROVIDER_CONCURRENCY or the deadline, or benchmark fewer models',
      );
    }
    if (values.json) process.stdout.write(`${JSON.stringify({ summary, results: results.map(resultToJson) })}\n`);
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

/** A live "[3/40] groq/llama…" line on a terminal; nothing at all otherwise (journal, pipes). */
function createProgress(enabled: boolean) {
  let total = 0;
  let done = 0;
  let active = false;
  const running = new Set<string>();
  const draw = () => {
    if (!active) return;
    const names = [...running].join(', ');
    const text = `[${done}/${total}] ${names ? `running ${names}` : ''}`;
    process.stderr.write(`\r\x1b[K${text.slice(0, (process.stderr.columns || 80) - 1)}`);
  };
  const clear = () => active && process.stderr.write('\r\x1b[K');
  return {
    start(n: number) {
      total = n;
      active = enabled && n > 0;
      draw();
    },
    started(name: string) {
      running.add(name);
      draw();
    },
    finished(name: string) {
      running.delete(name);
      done += 1;
    },
    /** Writes a log line with the progress line moved out of its way. */
    around(write: () => void) {
      clear();
      write();
      draw();
    },
    stop() {
      clear();
      active = false;
    },
  };
}

await runMain(main);
