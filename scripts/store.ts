// Moving history between stores and files (SPEC 4.0): export every collection as mongoexport's
// Extended JSON lines, import such files (or a mongoexport dump) into the store; and converting an
// older SQLite file to compact rows (issue 28). Thin: arguments and the choice of store here, the
// work in lib/store/exchange.ts and lib/store/sqlite/compact-file.ts.
import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { UsageError, parseArgsOrUsage, runMain } from '../lib/cli.ts';
import { loadConfig, type Config } from '../lib/config.ts';
import { registerSecrets } from '../lib/log.ts';
import { ExchangeUsageError, collectionNames, collectionOfFile, exportCollections, importFile, importPlan, type CollectionNames } from '../lib/store/exchange.ts';
import { openStore } from '../lib/store/open-store.ts';
import { EXCHANGE_COLLECTIONS, type ExchangeCollection } from '../lib/store/exchange-store.ts';
import { formatBatches, formatChanges } from '../lib/store/migrations.ts';
import type { Store } from '../lib/store/store.ts';
import { plural } from '../lib/plural.ts';

const USAGE = `Usage: store.ts export --out DIR [--collection NAME]... [--sqlite PATH | --mongodb-uri URI]
       store.ts import PATH [--collection NAME] [--sqlite PATH | --mongodb-uri URI]
       store.ts migrate [--apply | --revert BATCH | --list] [--sqlite PATH | --mongodb-uri URI]
       store.ts compact [--sqlite PATH] [--no-vacuum]

  export  write every collection (or those named) to DIR/<collection>.json as mongoexport's
          Extended JSON lines; reads only. DIR must not hold those files yet
  import  read PATH, a directory of <collection>.json files (a mongoexport dump or an export of
          this command) or one such file, into the store. Adds only the rows the store does not
          hold (by run_id, else _id, else the whole line; models, catalogs, model health and
          scenarios by their keys), never overwrites; run again after a stop, it carries on
          where it stopped. A bad line is reported as FILE:LINE and skipped (exit 1 at the end)
  migrate rewrites stored values the readers only reinterpret (a Date deprecation_date, which
          the dashboard's API prints as {}). Alone: a dry run listing each change. --apply makes
          them and records them as a batch; --revert BATCH puts that batch's values back;
          --list shows the batches. Nothing else ever rewrites the operator's documents
  compact SQLite only: converts the metric and error rows an older version wrote (JSON text)
          to compact rows, keeping every row and id (each document reads back the same), then
          VACUUMs the file (gives back the pages retention or the conversion freed; needs free
          disk the size of the file) and prints its size before and after. Stop the timers
          first (systemctl stop llm-bench.timer llm-bench-ingest.service): it holds the write lock

  The store is the configured one (MONGODB_URI set: MongoDB, else LLM_BENCH_DB), unless:
  --sqlite PATH       the SQLite file at PATH
  --mongodb-uri URI   the MongoDB at URI (database MONGODB_DB)
  --collection NAME   a collection by its configured MongoDB name (by default metrics_cloud_v2,
                      metrics_cloud_probe, errors_cloud, models, scenarios, agent_runs,
                      provider_catalog, openrouter_catalog, bench_model_health, sweep_skips)`;

const OPTIONS = {
  out: { type: 'string' },
  collection: { type: 'string', multiple: true },
  sqlite: { type: 'string' },
  'mongodb-uri': { type: 'string' },
  apply: { type: 'boolean' },
  revert: { type: 'string' },
  list: { type: 'boolean' },
  'no-vacuum': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

// Bad lines printed per file; the rest are counted.
const SHOWN_BAD_LINES = 20;
const PROGRESS_EVERY_MS = 10_000;

function collectionNamed(name: string, names: CollectionNames): ExchangeCollection {
  const c = collectionOfFile(`${name}.json`, names);
  if (!c) throw new UsageError(`Unknown collection '${name}': one of ${EXCHANGE_COLLECTIONS.map((k) => names[k]).join(', ')}`);
  return c;
}

/**
 * The store the command reads or writes. A SQLite file that an export would read must exist:
 * opening a mistyped path would create an empty store and export nothing.
 */
async function openTarget(config: Config, values: Values, mustExist: boolean): Promise<Store> {
  const uri = values['mongodb-uri'] ?? (values.sqlite === undefined ? config.store.mongodbUri : null);
  if (uri) {
    if (!/^mongodb(\+srv)?:\/\//.test(uri)) throw new UsageError('--mongodb-uri must start with mongodb:// or mongodb+srv://');
    return openStore({ ...config, store: { ...config.store, mongodbUri: uri } });
  }
  const path = values.sqlite ?? config.store.sqlitePath;
  if (mustExist && !existsSync(path)) throw new UsageError(`No SQLite store at ${path}: nothing to export`);
  return openStore({ ...config, store: { ...config.store, mongodbUri: null, sqlitePath: path } });
}

async function runExport(config: Config, values: Values, args: string[]): Promise<number> {
  if (args.length !== 0) throw new UsageError('export takes no PATH: give the directory as --out DIR');
  if (values.out === undefined) throw new UsageError('export needs --out DIR');
  const names = collectionNames(config.store.collections);
  const collections = values.collection?.map((n) => collectionNamed(n, names));
  const store = await openTarget(config, values, true);
  try {
    const started = performance.now();
    const files = await exportCollections(store, values.out, names, collections);
    for (const f of files) process.stdout.write(`${f.file}: ${f.rows} documents, ${f.bytes} bytes\n`);
    const rows = files.reduce((n, f) => n + f.rows, 0);
    process.stdout.write(`Exported ${rows} documents from ${store.location} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  } finally {
    await store.close();
  }
  return 0;
}

async function runImport(config: Config, values: Values, args: string[]): Promise<number> {
  if (args.length !== 1) throw new UsageError('import takes one PATH, a directory or a file: see store.ts --help');
  if (values.out !== undefined) throw new UsageError('--out goes with export');
  if ((values.collection?.length ?? 0) > 1) throw new UsageError('import takes at most one --collection (for one file)');
  const names = collectionNames(config.store.collections);
  const collection = values.collection?.[0] === undefined ? undefined : collectionNamed(values.collection[0], names);
  const plan = importPlan(args[0]!, names, collection);
  for (const s of plan.skipped) process.stdout.write(`Skipping ${s}: not named after a collection\n`);
  const store = await openTarget(config, values, false);
  let bad = 0;
  try {
    for (const { file, collection: c } of plan.files) {
      let shown = 0;
      let said = performance.now();
      const r = await importFile(store, file, c, {
        onBadLine: (f, b) => {
          if (shown++ < SHOWN_BAD_LINES) process.stderr.write(`${f}:${b.line}: ${b.reason}\n`);
        },
        // A line now and then, so a long import is seen to move (and where to look if stopped).
        onBatch: (sofar, line) => {
          if (performance.now() - said < PROGRESS_EVERY_MS) return;
          said = performance.now();
          process.stdout.write(`${file}: at line ${line}, ${sofar.added} added so far\n`);
        },
      });
      if (shown > SHOWN_BAD_LINES) process.stderr.write(`${file}: ${shown - SHOWN_BAD_LINES} more bad lines not shown\n`);
      bad += r.bad;
      const resumed = r.resumedAfterLine === null ? '' : `, resumed after line ${r.resumedAfterLine}`;
      process.stdout.write(
        `${file} -> ${names[c]}: ${r.lines} lines read${resumed}, ${r.added} added, ${r.present} already there, ${r.bad} bad\n`,
      );
    }
    process.stdout.write(`Imported into ${store.location}${bad > 0 ? `; ${bad} bad lines were skipped (see above)` : ''}\n`);
  } finally {
    await store.close();
  }
  return bad > 0 ? 1 : 0;
}

async function runMigrate(config: Config, values: Values, args: string[]): Promise<number> {
  if (args.length !== 0) throw new UsageError('migrate takes no PATH');
  if ([values.apply, values.revert !== undefined, values.list].filter(Boolean).length > 1) {
    throw new UsageError('Give one of --apply, --revert BATCH and --list');
  }
  const store = await openTarget(config, values, true);
  try {
    const now = new Date();
    if (values.list) {
      process.stdout.write(formatBatches(await store.listMigrations()));
      return 0;
    }
    if (values.revert !== undefined) {
      const batch = await store.revertMigration(values.revert, now);
      if (!batch) throw new UsageError(`No migration batch '${values.revert}' in ${store.location} (store.ts migrate --list)`);
      process.stdout.write(`Reverted batch ${batch.batch_id} in ${store.location}: ${plural(batch.changes.length, 'field')} put back\n`);
      return 0;
    }
    const changes = await store.pendingMigrations();
    process.stdout.write(formatChanges(changes));
    if (!values.apply || changes.length === 0) {
      if (changes.length > 0) process.stdout.write(`Dry run: nothing was written. To make these changes: npm run store -- migrate --apply\n`);
      return 0;
    }
    const batch = await store.applyMigration(changes, now);
    process.stdout.write(
      `Applied batch ${batch.batch_id} to ${store.location}: ${plural(batch.changes.length, 'field')} rewritten. To undo: npm run store -- migrate --revert ${batch.batch_id}\n`,
    );
    return 0;
  } finally {
    await store.close();
  }
}

async function runCompact(config: Config, values: Values, args: string[]): Promise<number> {
  if (args.length !== 0) throw new UsageError('compact takes no PATH: give the file as --sqlite PATH');
  if (values['mongodb-uri'] !== undefined || (values.sqlite === undefined && config.store.mongodbUri)) {
    throw new UsageError('compact is for the SQLite store: MongoDB keeps its documents as they are (give --sqlite PATH for a file)');
  }
  const path = values.sqlite ?? config.store.sqlitePath;
  if (!existsSync(path)) throw new UsageError(`No SQLite store at ${path}: nothing to compact`);
  const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;
  // Loaded here: node:sqlite is not there on the Node versions the entry point refuses first.
  const { compactFile } = await import('../lib/store/sqlite/compact-file.ts');
  const r = compactFile(path, {
    vacuum: !values['no-vacuum'],
    onTable: (table, rows) => process.stdout.write(`${table}: ${plural(rows, 'row')} converted to compact rows\n`),
  });
  if (r.tables.length === 0) process.stdout.write(`${path}: every metric and error row is already compact\n`);
  for (const t of r.tables) if (t.compact < t.rows) process.stdout.write(`${t.table}: ${plural(t.rows - t.compact, 'row')} kept as JSON text (no compact form reads back exactly)\n`);
  process.stdout.write(`${path}: ${mb(r.bytesBefore)} before, ${mb(r.bytesAfter)} after${r.vacuumed ? '' : ' (not vacuumed: the freed pages are reused, the file does not shrink)'}\n`);
  return 0;
}

// One entry per subcommand, each given the config, the options and its own arguments.
const COMMANDS: Record<string, (config: Config, values: Values, args: string[]) => Promise<number>> = {
  export: runExport,
  import: runImport,
  migrate: runMigrate,
  compact: runCompact,
};

async function main(): Promise<number> {
  const { values, positionals } = parseArgsOrUsage({ options: OPTIONS, strict: true, allowPositionals: true }, USAGE);
  const [command, ...args] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`Unknown command '${command}': use ${Object.keys(COMMANDS).join(' or ')} (store.ts --help)`);
  if (values.sqlite !== undefined && values['mongodb-uri'] !== undefined) throw new UsageError('Give --sqlite or --mongodb-uri, not both');
  const config = loadConfig();
  registerSecrets([...config.secrets, ...(values['mongodb-uri'] ? [values['mongodb-uri']] : [])]);
  try {
    return await run(config, values, args);
  } catch (err) {
    if (err instanceof ExchangeUsageError) throw new UsageError(err.message);
    throw err;
  }
}

await runMain(main);
