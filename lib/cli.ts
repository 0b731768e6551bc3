// The one place that turns a script's outcome into a one-line message and an exit code:
// 0 done, 1 the run failed, 2 bad usage or configuration.
import { ConfigError } from './config.ts';
import { redact } from './log.ts';

/** Bad arguments or a refused request: exit 2 with this message. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function exitCodeFor(err: unknown): 1 | 2 {
  if (err instanceof UsageError || err instanceof ConfigError) return 2;
  // node:util parseArgs throws TypeErrors with these codes for unknown or malformed flags.
  const code = (err as { code?: string }).code ?? '';
  if (code.startsWith('ERR_PARSE_ARGS')) return 2;
  return 1;
}

/**
 * The embedded store needs node:sqlite, which Node 24 has without flags; older Nodes fail
 * later with an obscure module error, so say it up front.
 * @throws UsageError on Node older than 24.
 */
export function requireNode24(version = process.versions.node): void {
  const major = Number(version.split('.')[0]);
  if (major < 24) {
    throw new UsageError(
      `llm-bench needs Node.js 24 or newer (this is ${version}). Install it beside the system one: ` +
        'npm install --prefix ~/node24 node@24 && export PATH=~/node24/node_modules/.bin:$PATH',
    );
  }
}

/**
 * Runs a script's main function and exits with its code (0 when it returns nothing). A
 * thrown error is printed as one redacted line (the config's list of problems stays a list).
 */
export async function runMain(main: () => Promise<number | void>): Promise<void> {
  let code: number;
  try {
    requireNode24();
    code = (await main()) ?? 0;
  } catch (err) {
    code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    // The one read of process.env outside config.ts: the config itself may be what failed,
    // and the journal still needs the error priority to make `journalctl -p err` show it.
    const prefix = process.env.JOURNAL_STREAM ? '<3>' : '';
    process.stderr.write(`${prefix}${redact(message).replace(/\n(?!  -)/g, ' ')}\n`);
  }
  process.exitCode = code;
}
