// The ingest server (SPEC 9), run by llm-bench-ingest.service: accepts results from remote
// runners over HTTP and writes them to the store. Stays up until SIGTERM/SIGINT, then stops
// accepting, lets requests in flight finish, closes the store and exits 0.
// Exit codes: 0 stopped cleanly, 1 could not run (store unreachable, port taken), 2 bad usage
// or configuration.
import { parseArgsOrUsage, runMain } from '../lib/cli.ts';
import { ConfigError, ingestServerChecks, loadConfig } from '../lib/config.ts';
import { createIngestHandler, formatStatsDelta, listenIngest } from '../lib/ingest/handler.ts';
import { createLogger, registerSecrets } from '../lib/log.ts';
import { openStore } from '../lib/store/open-store.ts';
import { withSite } from '../lib/site/serve.ts';

// Accepted requests are not logged one by one (a busy runner would fill the journal); this
// summary line says what happened instead, when anything did.
const SUMMARY_EVERY_MINUTES = 10;

const USAGE = `Usage: ingest-server.ts
Listens on INGEST_HOST:INGEST_PORT and writes results posted by remote runners to the store.
Requires INGEST_API_KEY (or INGEST_ALLOW_NO_KEY=true for a local test).`;

async function main(): Promise<number> {
  const { values } = parseArgsOrUsage({ options: { help: { type: 'boolean', short: 'h' } }, allowPositionals: false }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const config = loadConfig();
  registerSecrets(config.secrets);
  const logger = createLogger(config.log);
  const ingest = config.ingest;
  const checks = ingestServerChecks(config);
  if (checks.problems.length > 0) throw new ConfigError(checks.problems);
  for (const line of checks.warnings) logger.warn(line);
  const store = await openStore(config);

  const ingestHandler = createIngestHandler({ store, config, logger });
  // INGEST_SERVE_SITE=true: the status site too, read-only under /site/ (lib/site/serve.ts).
  const handler = config.site.serveFromIngest ? withSite(ingestHandler, config.site.dir) : ingestHandler;
  let server;
  try {
    server = await listenIngest(handler, {
      host: ingest.host,
      port: ingest.port,
      maxBodyBytes: ingest.maxBodyBytes,
      logger,
      maxConnections: ingest.maxConnections,
      maxConnectionsPerAddress: ingest.maxConnectionsPerAddress,
      trustedProxies: ingest.trustedProxies,
    });
  } catch (err) {
    await store.close();
    throw new Error(`Cannot listen on ${ingest.host}:${ingest.port}: ${(err as Error).message}`, { cause: err });
  }
  // Taken before the line saying it listens: whoever waits for that line may stop it at once.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  logger.info(
    `Ingest server listening on ${server.url} (store ${store.location}, body cap ${ingest.maxBodyBytes} bytes${ingest.apiKey ? '' : ', NO API KEY: local test only'}` +
      `${ingest.trustedProxies.length ? `, client addresses forwarded by ${ingest.trustedProxies.join(', ')}` : ''}` +
      `${config.site.serveFromIngest ? `, status site ${config.site.dir} at ${server.url}/site/` : ''})`,
  );

  let last = handler.stats();
  let lastAt = Date.now();
  const summary = () => {
    const current = handler.stats();
    const line = formatStatsDelta(last, current, Math.max(1, Math.round((Date.now() - lastAt) / 60_000)));
    if (line) logger.info(line);
    last = current;
    lastAt = Date.now();
  };
  const timer = setInterval(summary, SUMMARY_EVERY_MINUTES * 60_000);
  timer.unref();

  const signal = await stopped;
  logger.info(`Ingest server stopping (${signal}): finishing requests in flight`);
  clearInterval(timer);
  await server.close();
  summary();
  await store.close();
  logger.info('Ingest server stopped');
  return 0;
}

await runMain(main);
