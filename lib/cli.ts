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
 * Runs a script's main function and exits with its code (0 when it returns nothing). A
 * thrown error is printed as one redacted line (the config's list of problems stays a list).
 */
export async function runMain(main: () => Promise<number | void>): Promise<void> {
  let code: number;
  try {
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
