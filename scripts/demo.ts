// `npm run demo`: the whole pipeline with no keys. Adds a few simulated (mock) models to the
// embedded store, runs one forced sweep of them through the real runner, prints the results.
import { UsageError, runMain } from '../lib/cli.ts';
import { loadConfig } from '../lib/config.ts';
import { createLogger, registerSecrets } from '../lib/log.ts';
import { loadProvider } from '../lib/bench/providers/registry.ts';
import { openStore } from '../lib/store/open-store.ts';
import { type SweepModel } from '../lib/bench/due.ts';
import { runSweep, sweepFailure, type ModelResult } from '../lib/bench/sweep.ts';
import { refreshSite } from '../lib/site/write.ts';

// Model ids of the mock provider describe the simulation (grammar in lib/bench/providers/mock.ts).
const DEMO_MODELS: Array<{ id: string; name: string }> = [
  { id: 'ttft-150ms-tps-120', name: 'Demo: steady, token by token' },
  { id: 'ttft-400ms-tps-60-chunk-2', name: 'Demo: slow start, two tokens per event' },
  { id: 'ttft-80ms-tps-900-chunk-8', name: 'Demo: fast, eight tokens per event' },
  { id: 'reasoning-32-ttft-300ms-tps-200', name: 'Demo: thinks before it answers' },
  { id: 'fail-429-retry-200ms', name: 'Demo: always rate limited' },
];

async function main(): Promise<number> {
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
    const models: SweepModel[] = [];
    for (const m of DEMO_MODELS) {
      const existing = await store.getModel('mock', m.id);
      if (!existing) {
        await store.insertModel({ provider: 'mock', model_id: m.id, display_name: m.name, enabled: true, deprecated: false, created_at: new Date(), misc: {} });
        logger.info(`Added mock/${m.id} (${m.name})`);
      }
      models.push({ provider: 'mock', modelId: m.id, misc: existing?.misc ?? {} });
    }
    process.stdout.write(`\nBenchmarking ${models.length} simulated models into ${store.location} …\n\n`);
    const { results, summary } = await runSweep({
      config,
      models,
      sink: store,
      loadProvider,
      logger,
      force: true,
      // Simulated models have no rate limits to respect: run them all at once.
      concurrency: models.length,
    });
    process.stdout.write(`${resultsTable(results)}\n\n`);
    // The status site, as the timer's sweep writes it: the demo says where to open it.
    const site = await refreshSite(store, config.site.dir, logger);
    if (site) process.stdout.write(`Status site: open file://${site.dir}/index.html in a browser (npm run runs -- site rewrites it)\n\n`);
    process.stdout.write(
      [
        `${summary.ok} ok, ${summary.failed} failed in ${(summary.durationMs / 1000).toFixed(1)} s. Results are stored in ${store.location}.`,
        '',
        'Next steps:',
        '  npx tsx scripts/models.ts list                      the models the timer will benchmark',
        '  npm run runs -- kpis                                p50/p95/p99 and success rates from the shell',
        '  npx tsx scripts/bench-once.ts --force               one sweep of every enabled model',
        '  npx tsx scripts/models.ts add openai gpt-4o-mini    a real model (then set OPENAI_API_KEY in .env)',
        '  npx tsx scripts/models.ts disable mock <id> --reason "demo done"   stop benchmarking a demo model',
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
  const rows = results.map((r) => [
    r.provider,
    r.modelId,
    num(r.metric?.time_to_first_token, 3),
    num(r.metric?.tokens_per_second, 1),
    num(r.metric?.decode_tokens_per_second, 1),
    r.outcome === 'ok' ? 'ok' : r.error ? `${r.error.error_kind}: ${r.error.message.replace(/^Cannot stream [^:]+: /, '')}` : r.outcome,
  ]);
  const header = ['provider', 'model', 'TTFT s', 'tokens/s', 'decode tok/s', 'outcome'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const numeric = new Set([2, 3, 4]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

await runMain(main);
