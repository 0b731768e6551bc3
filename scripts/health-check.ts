// The daily health check (SPEC 10), started by llm-health-check.timer; and, with
// --failed-unit, the mail that llm-health-check-failure@.service sends when any unit fails.
// Thin: parses arguments, then lib/health/report.ts collects, lib/health/assessment.ts
// assesses, lib/health/render.ts renders and lib/mail.ts sends.
import { hostname } from 'node:os';
import { UsageError, parseArgsOrUsage, runMain } from '../lib/cli.ts';
import { loadConfig } from '../lib/config.ts';
import { assessHealth } from '../lib/health/assessment.ts';
import { collectHealthReport, collectUnitFailure, isUnitName } from '../lib/health/report.ts';
import { createLogger, registerSecrets } from '../lib/log.ts';
import { mailRecipient, renderDryRun, sendMail } from '../lib/mail.ts';
import { renderHealthMail, renderUnitFailureMail, type RenderedMail } from '../lib/health/render.ts';
import { openStore } from '../lib/store/open-store.ts';

const USAGE = `Usage: health-check.ts [--days N] [--dry-run [--html]] [--to ADDR] [--json]
       health-check.ts --failed-unit UNIT [--dry-run [--html]] [--to ADDR]

  --days N            report window in days, more than 0 and at most 365 (default 1; 0.5 is 12 hours)
  --dry-run           print the mail's text instead of sending it
  --html              with --dry-run: print the mail's HTML part instead (e.g. > mail.html)
  --to ADDR           send to ADDR instead of NOTIFY_EMAIL
  --json              print the report and assessment as JSON on stdout instead of mailing
  --failed-unit UNIT  mail "[CRITICAL] <host> UNIT failed" with the unit's last journal lines`;

const OPTIONS = {
  days: { type: 'string' },
  'dry-run': { type: 'boolean' },
  to: { type: 'string' },
  json: { type: 'boolean' },
  html: { type: 'boolean' },
  'failed-unit': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

async function main(): Promise<number> {
  const { values, positionals } = parseArgsOrUsage({ options: OPTIONS, allowPositionals: true, strict: true }, USAGE);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`Unexpected argument '${positionals[0]}'.`, USAGE);
  const days = values.days === undefined ? 1 : Number(values.days);
  if (!Number.isFinite(days) || days <= 0 || days > 365) {
    throw new UsageError(`--days must be a number of days more than 0 and at most 365, e.g. 1 or 0.5 (got ${JSON.stringify(values.days)})`);
  }
  const to = values.to?.trim();
  if (values.to !== undefined && !/^[^\s@,]+@[^\s@,]+(\s*,\s*[^\s@,]+@[^\s@,]+)*$/.test(to ?? '')) {
    throw new UsageError(`--to must be an e-mail address or a comma-separated list of them (got ${JSON.stringify(values.to)})`);
  }
  const unit = values['failed-unit'];
  if (unit !== undefined && !isUnitName(unit)) throw new UsageError(`--failed-unit must be a systemd unit name such as llm-bench.service (got ${JSON.stringify(unit)})`);
  if (unit !== undefined && values.json) throw new UsageError('--json prints the daily report; it does not go with --failed-unit');
  if (values.html && !values['dry-run']) throw new UsageError('--html goes with --dry-run: it prints the mail\'s HTML part instead of sending the mail');

  // The failure notice never opens the store, so a wrong LLM_BENCH_DB (perhaps what failed) must not stop it.
  const config = loadConfig({ storeFolderMustExist: unit === undefined });
  registerSecrets(config.secrets);
  // With --json, stdout carries the JSON alone: log lines go to stderr.
  const log = createLogger({
    level: config.log.level,
    underSystemd: config.log.underSystemd,
    ...(values.json ? { write: (_level, line) => process.stderr.write(`${line}\n`) } : {}),
  });
  // --json is a way to read the report: it mails nothing, so it needs no recipient.
  const dryRun = values['dry-run'] === true || values.json === true;
  // A missing recipient is known before any work: fail at once (exit 2), naming NOTIFY_EMAIL.
  const recipient = dryRun ? null : mailRecipient(config, { to });

  const now = new Date();
  let mail: RenderedMail;
  if (unit !== undefined) {
    mail = renderUnitFailureMail(await collectUnitFailure(unit, { host: hostname() }), now);
  } else {
    const store = await openStore(config);
    let report;
    try {
      report = await collectHealthReport(store, { now, days, sweepPeriodMinutes: config.bench.sweepPeriodMinutes, dailyBudgetUsd: config.cost.dailyBudgetUsd, retention: config.retention });
    } finally {
      await store.close();
    }
    const assessment = await assessHealth(report, config);
    if (assessment.missing_reason) log.warn('LLM assessment missing: %s', assessment.missing_reason);
    mail = renderHealthMail(report, assessment);
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ subject: mail.subject, status: assessment.overall_status, assessment, report }, null, 2)}\n`);
    }
  }

  if (dryRun) {
    if (values.html) process.stdout.write(`${mail.html.trimEnd()}\n`);
    else if (!values.json) {
      // The text part only: the HTML (tens of KB of inline styles) is for mail clients.
      const { html: _html, ...textOnly } = mail;
      process.stdout.write(renderDryRun(config, { ...textOnly, ...(to ? { to } : {}) }));
    }
    return 0;
  }
  await sendMail(config, { ...mail, to: recipient! });
  log.info('Sent "%s" to %s', mail.subject, recipient);
  return 0;
}

await runMain(main);
