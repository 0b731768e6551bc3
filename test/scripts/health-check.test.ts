// scripts/health-check.ts as the timer runs it: a child process on a temp SQLite file,
// mailing through a fake sendmail script (which saves argv and stdin), no OpenAI key. Then
// the mail it renders (lib/health/render.ts), section by section.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScript, type ScriptRun } from './run-script.ts';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Assessment } from '../../lib/health/assessment.ts';
import { ruleBasedAssessment } from '../../lib/health/assessment.ts';
import type { HealthReport } from '../../lib/health/report.ts';
import { healthSubject, renderHealthMail, renderUnitFailureMail } from '../../lib/health/render.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeError, makeHealthReport, makeMetric, makeModel } from '../fixtures.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-health-check-'));
const DB = join(dir, 'bench.sqlite');
const BIN = join(dir, 'bin');
after(() => rmSync(dir, { recursive: true, force: true }));

const SENT_ARGV = join(dir, 'sendmail.argv');
const SENT_STDIN = join(dir, 'sendmail.stdin');

function writeScript(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}`);
  chmodSync(path, 0o755);
  return path;
}
const SENDMAIL_OK = writeScript(join(dir, 'sendmail-ok'), `printf '%s\\n' "$@" > "${SENT_ARGV}"\ncat > "${SENT_STDIN}"\nexit 0\n`);
const SENDMAIL_FAIL = writeScript(join(dir, 'sendmail-fail'), `printf '%s\\n' "$@" > "${SENT_ARGV}"\ncat > /dev/null\nexit 1\n`);

function sent(): { argv: string[]; raw: string } | null {
  if (!existsSync(SENT_ARGV)) return null;
  return { argv: readFileSync(SENT_ARGV, 'utf8').trimEnd().split('\n'), raw: existsSync(SENT_STDIN) ? readFileSync(SENT_STDIN, 'utf8') : '' };
}

/** The decoded text of each MIME part by content type. */
function mimeParts(raw: string): Record<string, string> {
  const boundary = /boundary="?([^";\r\n]+)"?/.exec(raw)?.[1];
  assert.ok(boundary, 'a multipart message');
  const out: Record<string, string> = {};
  for (const part of raw.split(`--${boundary}`).slice(1, -1)) {
    const split = part.replace(/^\r?\n/, '').search(/\r?\n\r?\n/);
    const head = part.replace(/^\r?\n/, '').slice(0, split);
    const body = part.replace(/^\r?\n/, '').slice(split).trim();
    const type = /^Content-Type: ([^;\r\n]+)/im.exec(head)![1]!;
    const encoding = /^Content-Transfer-Encoding: (\S+)/im.exec(head)?.[1] ?? '7bit';
    out[type] =
      encoding === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
        : encoding === 'quoted-printable'
          ? body.replace(/=\r?\n/g, '').replace(/(=[0-9A-F]{2})+/g, (m) => Buffer.from(m.replace(/=/g, ''), 'hex').toString('utf8'))
          : body;
  }
  return out;
}

const BASE_ENV = {
  PATH: process.env.PATH ?? '/usr/bin:/bin',
  HOME: process.env.HOME ?? dir,
  LLM_BENCH_DB: DB,
  SENDMAIL_PATH: SENDMAIL_OK,
  NOTIFY_EMAIL: 'ops@example.org',
  MAIL_FROM: 'bench@clifford.example',
  // Empty is unset, and wins over any .env in the working tree: no real API call, no Mongo.
  OPENAI_API_KEY: '',
  MONGODB_URI: '',
};

function run(args: string[], env: Record<string, string> = {}): Promise<ScriptRun> {
  return runScript('health-check.ts', args, { cwd: ROOT, env: { ...BASE_ENV, ...env } });
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

before(async () => {
  const store = openSqliteStore(DB);
  const now = Date.now();
  for (let i = 0; i < 6; i++) {
    await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'llama-3.3-70b-versatile', run_ts: new Date(now - (i + 1) * 30 * 60_000) }));
  }
  await store.insertError(
    makeError({ provider: 'openai', model_name: 'gpt-4o-mini', ts: new Date(now - 3_600_000), error_kind: 'auth', http_status: 401, message: 'Incorrect API key provided' }),
  );
  await store.insertModel(makeModel({ provider: 'groq', model_id: 'llama-3.3-70b-versatile' }));
  await store.insertModel(makeModel({ provider: 'openai', model_id: 'gpt-4o-mini' }));
  await store.close();
});
beforeEach(() => {
  rmSync(SENT_ARGV, { force: true });
  rmSync(SENT_STDIN, { force: true });
});

describe('health-check script', () => {
  it('mails the report through sendmail to NOTIFY_EMAIL, with a text and an HTML part, and exits 0', async () => {
    const r = await run([]);
    assert.equal(r.code, 0, r.stderr);
    const mail = sent();
    assert.ok(mail, 'sendmail was run');
    assert.deepEqual(mail.argv, ['-i', '-f', 'bench@clifford.example', 'ops@example.org']);
    // An auth error makes the rule-based status critical.
    assert.match(mail.raw, new RegExp(`^Subject: \\[CRITICAL\\] llm-bench health ${today()}$`, 'm'));
    const parts = mimeParts(mail.raw);
    assert.deepEqual(Object.keys(parts).sort(), ['text/html', 'text/plain']);
    assert.match(parts['text/plain']!, /LLM assessment missing: OPENAI_API_KEY is not set/);
    assert.match(parts['text/plain']!, /^ +groq +6 +0 +0\.0%$/m);
    assert.match(parts['text/plain']!, /openai\/gpt-4o-mini .*generate\/auth: Incorrect API key provided/);
    assert.match(parts['text/html']!, /<table/);
    assert.match(parts['text/html']!, /openai\/gpt-4o-mini/);
    assert.match(r.stdout, /Sent "\[CRITICAL\] llm-bench health .*" to ops@example\.org/);
  });

  it('sends to --to instead of NOTIFY_EMAIL', async () => {
    const r = await run(['--to', 'oncall@example.org']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(sent()!.argv.slice(3), ['oncall@example.org']);
  });

  it('exits 1 with a one-line message when sendmail fails, so OnFailure= fires', async () => {
    const r = await run([], { SENDMAIL_PATH: SENDMAIL_FAIL });
    assert.equal(r.code, 1);
    assert.notEqual(sent(), null, 'sendmail was tried');
    const lines = r.stderr.trimEnd().split('\n');
    assert.match(lines.at(-1)!, new RegExp(`^Cannot send mail to ops@example\\.org via sendmail ${SENDMAIL_FAIL}: Sendmail exited with code 1$`));
  });

  it('exits 2 naming NOTIFY_EMAIL when there is no recipient, sending nothing', async () => {
    const r = await run([], { NOTIFY_EMAIL: '' });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /NOTIFY_EMAIL is not set/);
    assert.equal(sent(), null);
  });

  it('--dry-run prints the mail and sends nothing, even without NOTIFY_EMAIL', async () => {
    const r = await run(['--dry-run'], { NOTIFY_EMAIL: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sent(), null);
    assert.match(r.stdout, /^From: bench@clifford\.example\nTo: \(nobody: NOTIFY_EMAIL is not set\)\nSubject: \[CRITICAL\] llm-bench health /);
    assert.match(r.stdout, /Successes and errors per provider/);
    assert.doesNotMatch(r.stdout, /<html|HTML part/i, 'the text part only');
  });

  it('--dry-run --html prints the HTML part alone; --html without --dry-run is refused', async () => {
    const r = await run(['--dry-run', '--html'], { NOTIFY_EMAIL: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^<!doctype html>/);
    assert.match(r.stdout, /<\/html>\n$/);
    assert.equal(sent(), null);
    const alone = await run(['--html']);
    assert.equal(alone.code, 2);
    assert.match(alone.stderr, /--html goes with --dry-run/);
  });

  it('--json alone needs no NOTIFY_EMAIL and sends no mail', async () => {
    const r = await run(['--json'], { NOTIFY_EMAIL: '' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).status, 'critical');
    assert.equal(sent(), null);
  });

  it('--days 0 is refused with the range it accepts; a fraction of a day is accepted', async () => {
    const zero = await run(['--days', '0', '--json']);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--days must be a number of days more than 0 and at most 365, e\.g\. 1 or 0\.5 \(got "0"\)/);
    const half = await run(['--days', '0.5', '--json']);
    assert.equal(half.code, 0, half.stderr);
    assert.equal(JSON.parse(half.stdout).report.window.days, 0.5);
  });

  it('--json prints the report and assessment as JSON alone on stdout', async () => {
    const r = await run(['--json', '--dry-run', '--days', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(sent(), null);
    const out = JSON.parse(r.stdout);
    assert.equal(out.status, 'critical');
    assert.match(out.subject, /^\[CRITICAL\] llm-bench health /);
    assert.equal(out.report.window.days, 2);
    assert.deepEqual(out.report.providers, [
      { provider: 'groq', successes: 6, errors: 0, error_rate: 0 },
      { provider: 'openai', successes: 0, errors: 1, error_rate: 1 },
    ]);
    assert.equal(out.assessment.source, 'rules');
    assert.equal(out.assessment.missing_reason, 'OPENAI_API_KEY is not set');
    assert.match(r.stderr, /LLM assessment missing/);
  });

  it('exits 2 on bad usage', async () => {
    for (const args of [['--days', '0'], ['--days', 'soon'], ['--frobnicate'], ['--to', 'not-an-address'], ['--failed-unit', '--help']]) {
      const r = await run(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.equal(sent(), null);
  });

  it('exits 1 when the store cannot be reached', async () => {
    const r = await run(['--dry-run'], { MONGODB_URI: 'mongodb://127.0.0.1:1/?directConnection=true', MONGODB_CONNECT_TIMEOUT_MS: '300' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot connect to MongoDB at 127\.0\.0\.1:1/);
  });
});

describe('health-check --failed-unit', () => {
  // A journalctl stand-in first on PATH; the store is unreachable on purpose, since this mode must not need it.
  function journalctl(body: string): Record<string, string> {
    mkdirSync(BIN, { recursive: true });
    writeScript(join(BIN, 'journalctl'), body);
    return { PATH: `${BIN}:${BASE_ENV.PATH}`, LLM_BENCH_DB: '/proc/no-such-dir/bench.sqlite' };
  }

  it('mails [CRITICAL] <host> UNIT failed with the unit\'s last journal lines', async () => {
    const env = journalctl(`[ "$*" = "-u llm-bench.service -n 50 --no-pager" ] || exit 3\necho 'Nov 20 08:00:01 clifford node[42]: <3>Cannot open SQLite store'\necho 'Nov 20 08:00:01 clifford systemd[1]: llm-bench.service: Failed with result exit-code.'\n`);
    const r = await run(['--failed-unit', 'llm-bench.service'], env);
    assert.equal(r.code, 0, r.stderr);
    const mail = sent()!;
    assert.match(mail.raw, new RegExp(`^Subject: \\[CRITICAL\\] ${hostname().replace(/[.]/g, '\\.')} llm-bench\\.service failed$`, 'm'));
    const text = mimeParts(mail.raw)['text/plain']!;
    assert.match(text, /Last 2 journal lines:\nNov 20 08:00:01 clifford node\[42\]: <3>Cannot open SQLite store\nNov 20 08:00:01 clifford systemd\[1\]: llm-bench.service: Failed with result exit-code\./);
  });

  it('still mails, with a note, when the journal cannot be read', async () => {
    const env = journalctl(`echo 'Failed to get journal access: Permission denied' >&2\nexit 1\n`);
    const r = await run(['--failed-unit', 'llm-discovery.service'], env);
    assert.equal(r.code, 0, r.stderr);
    const text = mimeParts(sent()!.raw)['text/plain']!;
    assert.match(text, /journal unavailable: Failed to get journal access: Permission denied/);
  });
});

describe('the health mail', () => {
  const NOW = new Date('2026-11-20T08:00:00.000Z');
  function report(overrides: Partial<HealthReport> = {}): HealthReport {
    return makeHealthReport({
      totals: { successes: 10, errors: 0, error_rate: 0 },
      providers: [{ provider: 'groq', successes: 10, errors: 0, error_rate: 0 }],
      ...overrides,
    });
  }
  const failing = (i: number, message = `error ${i}`) => ({
    provider: 'groq',
    model_name: `m${i}`,
    errors: 40 - i,
    successes: 1,
    last_error_ts: NOW,
    last_message: message,
    last_error_kind: 'rate_limit' as const,
    last_stage: 'generate',
    error_kinds: { rate_limit: 40 - i },
  });

  it('tags the subject [CRITICAL], [URGENT] or [INFO] by status, dated by the report', () => {
    assert.equal(healthSubject('critical', NOW), '[CRITICAL] llm-bench health 2026-11-20');
    assert.equal(healthSubject('warning', NOW), '[URGENT] llm-bench health 2026-11-20');
    assert.equal(healthSubject('healthy', NOW), '[INFO] llm-bench health 2026-11-20');
    assert.equal(renderHealthMail(report(), ruleBasedAssessment(report(), 'x')).subject, '[INFO] llm-bench health 2026-11-20');
  });

  it('escapes provider messages in the HTML part and keeps them as they are in the text part', () => {
    const r = report({ failing_models: [failing(1, 'bad <script>alert("x")</script> & more')] });
    const mail = renderHealthMail(r, ruleBasedAssessment(r, 'OPENAI_API_KEY is not set'));
    assert.match(mail.text, /bad <script>alert\("x"\)<\/script> & more/);
    assert.doesNotMatch(mail.html, /<script>/);
    assert.match(mail.html, /bad &lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt; &amp; more/);
  });

  it('shows the 25 most failing models and says how many more there are', () => {
    const r = report({ failing_models: Array.from({ length: 30 }, (_, i) => failing(i)) });
    const { text, html } = renderHealthMail(r, ruleBasedAssessment(r, 'x'));
    assert.match(text, /groq\/m24 /);
    assert.doesNotMatch(text, /groq\/m25 /);
    assert.match(text, /… and 5 more \(run with --json for all\)/);
    assert.match(html, /… and 5 more/);
  });

  it('shows the LLM assessment, and the suggested commands once', () => {
    const command = `npm run models -- disable groq old --reason 'retired'`;
    const r = report({ suggested_commands: [{ command, why: 'groq/old: 3 hard_model errors and no success in the window' }] });
    const assessment: Assessment = {
      source: 'llm',
      model: 'gpt-4o-mini',
      missing_reason: null,
      rules: { status: 'warning', reasons: ['1 model with only errors'] },
      overall_status: 'warning',
      summary: 'groq/old was retired.',
      models_likely_deprecated: [{ provider: 'groq', model: 'old', reason: '404 since Tuesday' }],
      code_fixes_needed: ['Send max_completion_tokens to o-series models'],
      provider_issues: [{ provider: 'groq', issue: 'rate limits at 08:00' }],
      recommended_actions: [command, 'Check the groq quota'],
    };
    const { subject, text } = renderHealthMail(r, assessment);
    assert.equal(subject, '[URGENT] llm-bench health 2026-11-20');
    assert.match(text, /Assessment by gpt-4o-mini: warning\n {2}groq\/old was retired\./);
    assert.match(text, /Provider issue, groq: rate limits at 08:00/);
    assert.match(text, /Likely deprecated, groq\/old: 404 since Tuesday/);
    assert.match(text, /Code fix needed: Send max_completion_tokens to o-series models/);
    assert.match(text, /Recommended: Check the groq quota/);
    assert.equal(text.split(command).length - 1, 1, 'the command appears once');
  });

  it('shows each regression with how much worse, the sample counts, and each sparkline', () => {
    const r = report({
      regressions: [
        { provider: 'groq', model_name: 'slow', metric: 'tokens_per_second', baseline_median: 250, current_median: 175, worse_pct: 30, current_samples: 48, baseline_samples: 336, p_value: 1e-12 },
      ],
      sparklines: [
        {
          provider: 'groq',
          sparkline: '▇█ ▇▇▇▅',
          days: ['14', '15', '16', '17', '18', '19', '20'].map((d, i) => ({ day: `2026-11-${d}`, median_tokens_per_second: i === 2 ? null : 200, count: i === 2 ? 0 : 48 })),
        },
      ],
    });
    const { text } = renderHealthMail(r, ruleBasedAssessment(r, 'x'));
    assert.match(text, /groq\/slow +tokens\/s +175 tok\/s +250 tok\/s +30% +48 vs 336 +<0\.0001/);
    assert.match(text, /\(2026-11-14 to 2026-11-20, a gap is a day without data\)/);
    assert.match(text, /groq +▇█ ▇▇▇▅ +200 \(11-20\) +200 to 200/);
  });

  it('renders the unit failure mail with the journal lines, or the note when there are none', () => {
    const mail = renderUnitFailureMail({ unit: 'llm-bench.service', host: 'clifford', journal: ['line <1>', 'line 2'], journal_note: null }, NOW);
    assert.equal(mail.subject, '[CRITICAL] clifford llm-bench.service failed');
    assert.match(mail.text, /^llm-bench\.service failed on clifford \(reported 2026-11-20 08:00Z\)\.\nSee: journalctl -u llm-bench\.service -n 200 --no-pager\n\nLast 2 journal lines:\nline <1>\nline 2\n$/);
    assert.match(mail.html, /line &lt;1&gt;/);
    const bare = renderUnitFailureMail({ unit: 'x.service', host: 'h', journal: [], journal_note: 'journal unavailable: journalctl is not installed' }, NOW);
    assert.match(bare.text, /Journal:\njournal unavailable: journalctl is not installed\n$/);
  });
});
