// Model discovery (SPEC 11). Thin: parses arguments, calls lib/discovery/catalog-sources.ts and
// lib/discovery/report.ts. Started daily by llm-discovery.service (fetch, then report --email).
import { UsageError, parseArgsOrUsage, runMain } from '../lib/cli.ts';
import { CATALOG_SOURCES, isCatalogSource, runCatalogFetch } from '../lib/discovery/catalog-sources.ts';
import { loadConfig, type Config } from '../lib/config.ts';
import {
  DEFAULT_REPORT_DAYS,
  DEFAULT_REPORT_MAX,
  buildDiscoveryReport,
  buildDiscoveryStats,
  formatDiscoveryReport,
  formatDiscoveryStats,
} from '../lib/discovery/report.ts';
import { createLogger, registerSecrets, type Logger } from '../lib/log.ts';
import { sendMail } from '../lib/mail.ts';
import { openStore } from '../lib/store/open-store.ts';
import type { Store } from '../lib/store/store.ts';

const USAGE = `Usage: discovery.ts <command> [options]

  fetch [--provider P]     read OpenRouter's model list and each configured provider's
                           list-models endpoint into the catalogs (P: ${CATALOG_SOURCES.join(', ')})
  report [--days N] [--provider P] [--max N] [--email]
                           catalog models first seen in the last N days (default ${DEFAULT_REPORT_DAYS}) that we
                           do not benchmark, then older ones never benchmarked, each with a
                           models.ts add command; at most N per provider and section (default
                           ${DEFAULT_REPORT_MAX}); --email mails it instead of printing it, and sends
                           nothing when nothing is new
  stats                    catalog size, new this week and models per provider`;

const OPTIONS = {
  provider: { type: 'string' },
  days: { type: 'string' },
  max: { type: 'string' },
  email: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<number> {
  const { values, positionals } = parseArgsOrUsage({ options: OPTIONS, allowPositionals: true, strict: true }, USAGE);
  const [command, ...extra] = positionals;
  if (values.help || !command) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  if (!['fetch', 'report', 'stats'].includes(command)) throw new UsageError(`Unknown command '${command}'.`, USAGE);
  if (extra.length > 0) throw new UsageError(`Unexpected argument '${extra[0]}'.`, USAGE);
  if (command !== 'report' && (values.days || values.max || values.email)) {
    throw new UsageError(`--days, --max and --email belong to report.`, USAGE);
  }
  if (command === 'stats' && values.provider) throw new UsageError(`stats takes no --provider.`, USAGE);
  if (command === 'fetch' && values.provider && !isCatalogSource(values.provider)) {
    throw new UsageError(`Unknown catalog '${values.provider}'. Catalogs: ${CATALOG_SOURCES.join(', ')}`);
  }
  const days = values.days === undefined ? undefined : positive('--days', values.days);
  const max = values.max === undefined ? undefined : positive('--max', values.max, { integer: true });

  const config = loadConfig();
  registerSecrets(config.secrets);
  const log = createLogger({ level: config.log.level, underSystemd: config.log.underSystemd });
  const store = await openStore(config);
  const ctx = { store, config, log };
  try {
    if (command === 'fetch') return await fetchCommand(ctx, values.provider);
    if (command === 'stats') {
      process.stdout.write(`${formatDiscoveryStats(await buildDiscoveryStats(store))}\n`);
      return 0;
    }
    return await reportCommand(ctx, { days, max, provider: values.provider ?? null, email: Boolean(values.email) });
  } finally {
    await store.close();
  }
}

interface Context {
  store: Store;
  config: Config;
  log: Logger;
}

function positive(flag: string, raw: string, { integer = false } = {}): number {
  const n = Number(raw);
  if (!raw.trim() || !Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag} must be a positive ${integer ? 'integer' : 'number'} (got ${JSON.stringify(raw)})`);
  }
  return n;
}

async function fetchCommand({ store, config, log }: Context, only: string | undefined): Promise<number> {
  const { results, allFailed } = await runCatalogFetch(store, config, {
    log,
    ...(only && isCatalogSource(only) ? { only: [only] } : {}),
  });
  const count = (s: string) => results.filter((r) => r.status === s).length;
  const fresh = results.reduce((n, r) => n + (r.status === 'fetched' ? r.new : 0), 0);
  if (count('fetched') + count('failed') === 0) {
    log.error('Nothing to fetch: %s is not configured', only);
    return 2;
  }
  const summary = `${count('fetched')} fetched (${fresh} new models), ${count('failed')} failed, ${count('skipped')} skipped`;
  if (allFailed) {
    log.error('Discovery fetch failed: every catalog it tried failed (%s)', summary);
    return 1;
  }
  log.info('Discovery fetch done: %s', summary);
  return 0;
}

async function reportCommand(
  { store, config, log }: Context,
  o: { days?: number; max?: number; provider: string | null; email: boolean },
): Promise<number> {
  const report = await buildDiscoveryReport(store, { days: o.days, max: o.max, provider: o.provider });
  const mail = formatDiscoveryReport(report);
  if (!o.email) {
    process.stdout.write(mail.text);
    return 0;
  }
  // The timer runs this daily: a "nothing new" mail every morning would teach the reader to
  // ignore these mails, so none is sent then.
  if (report.newCount === 0) {
    log.info('Nothing new in the last %s days: no mail sent', report.days);
    return 0;
  }
  await sendMail(config, { subject: mail.subject, text: mail.text });
  log.info('Mailed "%s" to %s', mail.subject, config.mail.notifyEmail);
  return 0;
}

await runMain(main);
