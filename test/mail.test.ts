// lib/mail.ts through nodemailer's real transports: a fake sendmail script (what msmtp's
// sendmail interface receives: argv and the message on stdin) and a minimal SMTP server.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../lib/config.ts';
import { MailError, renderDryRun, sendMail } from '../lib/mail.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-mail-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A sendmail stand-in that saves its argv (one per line) and stdin, then exits with `code`. */
function fakeSendmail(name: string, code = 0): { path: string; argv: () => string[] | null; stdin: () => string } {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\nprintf '%s\\n' "$@" > "${path}.argv"\ncat > "${path}.stdin"\n${code ? `echo "sendmail: cannot connect to relay" >&2\n` : ''}exit ${code}\n`);
  chmodSync(path, 0o755);
  return {
    path,
    argv: () => (existsSync(`${path}.argv`) ? readFileSync(`${path}.argv`, 'utf8').trimEnd().split('\n') : null),
    stdin: () => readFileSync(`${path}.stdin`, 'utf8'),
  };
}

const MESSAGE = { subject: '[INFO] llm-bench health 2026-11-20', text: 'All providers healthy.\n', html: '<p>All providers <b>healthy</b>.</p>' };

describe('sendMail through sendmail', () => {
  it('hands sendmail a message with a text and an HTML part, from MAIL_FROM to NOTIFY_EMAIL', async () => {
    const sm = fakeSendmail('ok');
    const config = loadConfig({ env: { SENDMAIL_PATH: sm.path, NOTIFY_EMAIL: 'ops@example.org', MAIL_FROM: 'bench@clifford.example' }, dotenvPath: false });
    await sendMail(config, MESSAGE);
    assert.deepEqual(sm.argv(), ['-i', '-f', 'bench@clifford.example', 'ops@example.org']);
    const raw = sm.stdin();
    assert.match(raw, /^From: bench@clifford\.example$/m);
    assert.match(raw, /^To: ops@example\.org$/m);
    assert.match(raw, /^Subject: \[INFO\] llm-bench health 2026-11-20$/m);
    assert.match(raw, /^Content-Type: multipart\/alternative;/m);
    assert.match(raw, /^Content-Type: text\/plain; charset=utf-8\n(?:.+\n)*\nAll providers healthy\./m);
    assert.match(raw, /^Content-Type: text\/html; charset=utf-8\n(?:.+\n)*\n<p>All providers <b>healthy<\/b>\.<\/p>/m);
  });

  it('sends to message.to instead of NOTIFY_EMAIL, a list to each address', async () => {
    const sm = fakeSendmail('to');
    const config = loadConfig({ env: { SENDMAIL_PATH: sm.path, NOTIFY_EMAIL: 'ops@example.org', MAIL_FROM: 'bench@h.example' }, dotenvPath: false });
    await sendMail(config, { ...MESSAGE, to: 'a@example.org, b@example.org' });
    assert.deepEqual(sm.argv(), ['-i', '-f', 'bench@h.example', 'a@example.org', 'b@example.org']);
  });

  it('refuses to send without a recipient, naming NOTIFY_EMAIL, and runs nothing', async () => {
    const sm = fakeSendmail('nobody');
    const config = loadConfig({ env: { SENDMAIL_PATH: sm.path }, dotenvPath: false });
    await assert.rejects(sendMail(config, MESSAGE), (err: Error) => err instanceof ConfigError && /NOTIFY_EMAIL is not set/.test(err.message));
    assert.equal(sm.argv(), null);
  });

  it('fails with a MailError naming the recipient and the route when sendmail exits 1', async () => {
    const sm = fakeSendmail('fails', 1);
    const config = loadConfig({ env: { SENDMAIL_PATH: sm.path, NOTIFY_EMAIL: 'ops@example.org' }, dotenvPath: false });
    await assert.rejects(sendMail(config, MESSAGE), (err: Error) => {
      assert.ok(err instanceof MailError);
      assert.match(err.message, new RegExp(`^Cannot send mail to ops@example\\.org via sendmail ${sm.path}: .*1`));
      return true;
    });
    assert.notEqual(sm.argv(), null, 'sendmail was run');
  });

  it('fails with a MailError when the sendmail program does not exist', async () => {
    const config = loadConfig({ env: { SENDMAIL_PATH: join(dir, 'no-such-sendmail'), NOTIFY_EMAIL: 'ops@example.org' }, dotenvPath: false });
    await assert.rejects(sendMail(config, MESSAGE), (err: Error) => err instanceof MailError && /ENOENT/.test(err.message));
  });

  it('passes from, to, subject and both parts to an injected transport', async () => {
    const sent: unknown[] = [];
    const config = loadConfig({ env: { NOTIFY_EMAIL: 'ops@example.org', MAIL_FROM: 'bench@h.example' }, dotenvPath: false });
    await sendMail(config, MESSAGE, { transport: { sendMail: async (m) => sent.push(m) } });
    assert.deepEqual(sent, [{ from: 'bench@h.example', to: 'ops@example.org', subject: MESSAGE.subject, text: MESSAGE.text, html: MESSAGE.html }]);
  });
});

describe('sendMail through SMTP when SMTP_URL is set', () => {
  let server: Server;
  let port: number;
  let sessions: Array<{ commands: string[]; data: string }>;
  // What the server answers to RCPT TO; 550 to test a refusal.
  let rcptReply: string;

  before(async () => {
    // Just enough of RFC 5321 for nodemailer: greeting, EHLO, MAIL, RCPT, DATA, QUIT.
    server = createServer((socket) => {
      const session = { commands: [] as string[], data: '' };
      sessions.push(session);
      let buffer = '';
      let inData = false;
      socket.write('220 fake.smtp ESMTP\r\n');
      socket.on('data', (chunk) => {
        buffer += chunk.toString('utf8');
        for (;;) {
          if (inData) {
            const end = buffer.indexOf('\r\n.\r\n');
            if (end < 0) return;
            session.data = buffer.slice(0, end);
            buffer = buffer.slice(end + 5);
            inData = false;
            socket.write('250 2.0.0 queued\r\n');
            continue;
          }
          const nl = buffer.indexOf('\r\n');
          if (nl < 0) return;
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(nl + 2);
          session.commands.push(line);
          const verb = line.slice(0, 4).toUpperCase();
          if (verb === 'EHLO') socket.write('250-fake.smtp\r\n250 8BITMIME\r\n');
          else if (verb === 'MAIL') socket.write('250 2.1.0 ok\r\n');
          else if (verb === 'RCPT') socket.write(`${rcptReply}\r\n`);
          else if (verb === 'DATA') {
            inData = true;
            socket.write('354 go ahead\r\n');
          } else if (verb === 'QUIT') socket.end('221 bye\r\n');
          else socket.write('502 5.5.2 not implemented\r\n');
        }
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    sessions = [];
    rcptReply = '250 2.1.5 ok';
  });

  it('delivers the message over SMTP with both parts', async () => {
    const config = loadConfig({ env: { SMTP_URL: `smtp://127.0.0.1:${port}`, NOTIFY_EMAIL: 'ops@example.org', MAIL_FROM: 'bench@h.example' }, dotenvPath: false });
    await sendMail(config, MESSAGE);
    assert.equal(sessions.length, 1);
    const { commands, data } = sessions[0]!;
    assert.ok(commands.includes('MAIL FROM:<bench@h.example>'), commands.join(' | '));
    assert.ok(commands.includes('RCPT TO:<ops@example.org>'), commands.join(' | '));
    assert.match(data, /^Subject: \[INFO\] llm-bench health 2026-11-20\r$/m);
    assert.match(data, /text\/plain/);
    assert.match(data, /text\/html/);
  });

  it('fails with a MailError that names the SMTP host but not its password when the server refuses', async () => {
    rcptReply = '550 5.1.1 mailbox unavailable';
    const config = loadConfig({ env: { SMTP_URL: `smtp://bench:s3cret-pass@127.0.0.1:${port}`, NOTIFY_EMAIL: 'ops@example.org' }, dotenvPath: false });
    await assert.rejects(sendMail(config, MESSAGE), (err: Error) => {
      assert.ok(err instanceof MailError);
      assert.match(err.message, new RegExp(`^Cannot send mail to ops@example\\.org via SMTP smtp://bench:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*550`));
      assert.doesNotMatch(err.message, /s3cret-pass/);
      return true;
    });
  });
});

describe('renderDryRun', () => {
  it('shows the envelope, the subject and both parts', () => {
    const config = loadConfig({ env: { NOTIFY_EMAIL: 'ops@example.org', MAIL_FROM: 'bench@h.example', SENDMAIL_PATH: '/usr/bin/msmtp' }, dotenvPath: false });
    const out = renderDryRun(config, MESSAGE);
    assert.equal(
      out,
      [
        'From: bench@h.example',
        'To: ops@example.org',
        'Subject: [INFO] llm-bench health 2026-11-20',
        'Via: sendmail /usr/bin/msmtp (dry run: not sent)',
        '',
        'All providers healthy.',
        '',
        `----- HTML part (${MESSAGE.html.length} bytes) -----`,
        MESSAGE.html,
        '',
      ].join('\n'),
    );
  });

  it('shows a missing recipient instead of failing, and message.to when given', () => {
    const config = loadConfig({ env: {}, dotenvPath: false });
    assert.match(renderDryRun(config, MESSAGE), /^To: \(nobody: NOTIFY_EMAIL is not set\)$/m);
    assert.match(renderDryRun(config, { ...MESSAGE, to: 'x@example.org' }), /^To: x@example\.org$/m);
  });
});
