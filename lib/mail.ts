// Mail for the health check and discovery (SPEC 10): through the local sendmail interface
// (msmtp on the server) by default, or SMTP when SMTP_URL is set, via nodemailer. There is
// no built-in address: no recipient is a configuration error naming NOTIFY_EMAIL, and a
// mail that cannot be sent is an error, so the calling unit fails and OnFailure= fires.
import nodemailer from 'nodemailer';
import type { SendMailOptions } from 'nodemailer';
import { ConfigError, redactUrl } from './config.ts';
import type { Config } from './config.ts';
import { redact } from './log.ts';

export interface MailMessage {
  subject: string;
  text: string;
  html?: string;
  /** Overrides NOTIFY_EMAIL (one address or a comma-separated list). */
  to?: string;
}

/** What sendMail needs from a nodemailer transporter; tests may pass their own. */
export interface MailTransport {
  sendMail(mail: SendMailOptions): Promise<unknown>;
}

/** A mail that could not be handed over; the message names the recipient and the route. */
export class MailError extends Error {
  override name = 'MailError';
}

// sendmail has no timeout of its own in nodemailer: an msmtp stuck on an unreachable relay
// would hold the run until systemd's TimeoutStartSec. Fail sooner, with a clear message.
const SEND_TIMEOUT_MS = 120_000;

/**
 * The recipient: message.to, else NOTIFY_EMAIL.
 * @throws ConfigError naming NOTIFY_EMAIL when neither is set.
 */
export function mailRecipient(config: Config, message: Pick<MailMessage, 'to'>): string {
  const to = message.to?.trim() || config.mail.notifyEmail;
  if (!to) throw new ConfigError(['NOTIFY_EMAIL is not set: set it (or pass --to) to say where the mail goes']);
  return to;
}

/** How mail leaves this machine, for messages (no password). */
export function mailRoute(config: Config): string {
  return config.mail.smtpUrl ? `SMTP ${redactUrl(config.mail.smtpUrl)}` : `sendmail ${config.mail.sendmailPath}`;
}

/**
 * Sends a mail with a plain-text part and, when given, an HTML part, from MAIL_FROM.
 * @throws ConfigError when there is no recipient (NOTIFY_EMAIL unset and no message.to).
 * @throws MailError when the transport refuses or fails (sendmail exits non-zero, SMTP error, timeout).
 */
export async function sendMail(
  config: Config,
  message: { subject: string; text: string; html?: string; to?: string },
  options: { transport?: MailTransport } = {},
): Promise<void> {
  const to = mailRecipient(config, message);
  const transport = options.transport ?? createTransport(config);
  const mail: SendMailOptions = {
    from: config.mail.from,
    to,
    subject: message.subject,
    text: message.text,
    ...(message.html ? { html: message.html } : {}),
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      transport.sendMail(mail),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${SEND_TIMEOUT_MS / 1000} s`)), SEND_TIMEOUT_MS);
        timer.unref();
      }),
    ]);
  } catch (err) {
    const why = redact(String((err as Error)?.message ?? err)).replace(/\s+/g, ' ').trim();
    throw new MailError(`Cannot send mail to ${to} via ${mailRoute(config)}: ${why}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

function createTransport(config: Config): MailTransport {
  if (config.mail.smtpUrl) {
    return nodemailer.createTransport({
      url: config.mail.smtpUrl,
      connectionTimeout: 30_000,
      greetingTimeout: 30_000,
      socketTimeout: 60_000,
    });
  }
  // msmtp's sendmail interface reads the message on stdin; nodemailer passes -i -f FROM TO.
  return nodemailer.createTransport({ sendmail: true, path: config.mail.sendmailPath, newline: 'unix' });
}

/**
 * The mail as --dry-run prints it: the envelope, the subject, the text part and the HTML
 * part. A missing recipient is shown, not thrown, so a dry run works before NOTIFY_EMAIL is set.
 */
export function renderDryRun(config: Config, message: MailMessage): string {
  const to = message.to?.trim() || config.mail.notifyEmail || '(nobody: NOTIFY_EMAIL is not set)';
  const lines = [
    `From: ${config.mail.from}`,
    `To: ${to}`,
    `Subject: ${message.subject}`,
    `Via: ${mailRoute(config)} (dry run: not sent)`,
    '',
    message.text.trimEnd(),
  ];
  if (message.html) lines.push('', `----- HTML part (${Buffer.byteLength(message.html)} bytes) -----`, message.html.trimEnd());
  return `${lines.join('\n')}\n`;
}
