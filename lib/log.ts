// One readable line per event, for journalctl. Under systemd (JOURNAL_STREAM set) each line
// carries a syslog priority prefix so `journalctl -p err` and `-p warning` work.
import { format } from 'node:util';

export type Level = 'debug' | 'info' | 'warn' | 'error';

const PRIORITY: Record<Level, number> = { debug: 7, info: 6, warn: 4, error: 3 };
/** Levels in order of severity (debug 0 … error 3). */
export const LEVEL_RANK: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };

// Shapes of credentials that may appear in provider error messages even when we never
// configured them (e.g. a key echoed back by a proxy).
const SECRET_PATTERNS: RegExp[] = [
  /\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{10,}/g,
  /\bgsk_[A-Za-z0-9]{10,}/g,
  /\bfw_[A-Za-z0-9]{10,}/g,
  /\bcsk-[A-Za-z0-9]{10,}/g,
  /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g,
  /\bya29\.[A-Za-z0-9._-]{10,}/g,
  /(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi,
  /((?:api[_-]?key|x-api-key|token|secret|password)["']?\s*[:=]\s*["']?)[^\s"',;&]{6,}/gi,
  /(\/\/[^:/@\s]+:)[^@/\s]+@/g,
];

const knownSecrets = new Set<string>();

/** Registers secret values (from config) so that no log line or message contains them. */
export function registerSecrets(values: Iterable<string>): void {
  for (const v of values) if (v && v.length >= 6) knownSecrets.add(v);
}

/** Removes registered secrets and credential-shaped strings from text. */
export function redact(text: string): string {
  let out = text;
  for (const s of knownSecrets) out = out.split(s).join('***');
  for (const re of SECRET_PATTERNS) {
    out = out.replace(re, (match, prefix?: unknown) =>
      typeof prefix === 'string' && match.startsWith(prefix) ? `${prefix}***` : '***',
    );
  }
  return out;
}

export interface Logger {
  debug(msg: string, ...args: unknown[]): void;
  info(msg: string, ...args: unknown[]): void;
  warn(msg: string, ...args: unknown[]): void;
  error(msg: string, ...args: unknown[]): void;
}

export interface LoggerOptions {
  level?: Level;
  underSystemd?: boolean;
  /** Where lines go; defaults to stdout for debug/info and stderr for warn/error. */
  write?: (level: Level, line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const min = LEVEL_RANK[options.level ?? 'info'];
  const prefix = options.underSystemd ?? false;
  const write =
    options.write ??
    ((level: Level, line: string) => (LEVEL_RANK[level] >= LEVEL_RANK.warn ? process.stderr : process.stdout).write(`${line}\n`));
  const emit = (level: Level, msg: string, args: unknown[]) => {
    if (LEVEL_RANK[level] < min) return;
    // One event, one line: newlines inside a message would split it in the journal.
    const text = redact(format(msg, ...args)).replace(/\r?\n/g, ' | ');
    write(level, prefix ? `<${PRIORITY[level]}>${text}` : text);
  };
  return {
    debug: (m, ...a) => emit('debug', m, a),
    info: (m, ...a) => emit('info', m, a),
    warn: (m, ...a) => emit('warn', m, a),
    error: (m, ...a) => emit('error', m, a),
  };
}

/** A logger that drops everything (tests, libraries called without one). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
