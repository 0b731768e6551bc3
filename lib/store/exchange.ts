// Moving history between the stores (SPEC 4.0): every collection out to, and in from, the files
// a MongoDB user already has, mongoexport's Extended JSON lines (relaxed: {"$date": "…Z"},
// {"$oid": "…"}, one document per line), one file per collection named after its configured
// MongoDB collection (metrics_cloud_v2.json, …). So `mongoexport --collection metrics_cloud_v2
// --out metrics_cloud_v2.json` imports into SQLite, and an export from SQLite goes into
// mongoimport or into another store's import.
//
// Files are read and written as streams, a batch at a time, waiting on each write: memory is
// bounded however many rows (README, bench:import). An import keeps its progress in the target store with its rows, so
// one stopped anywhere carries on where it stopped; rows are only ever added when absent, so
// importing twice adds nothing. Export only reads; import writes only to the target store.
import { once } from 'node:events';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Config } from '../config.ts';
import { EXCHANGE_COLLECTIONS, type BadLine, type ExchangeCollection, type ExchangeStore, type ImportLine, type ImportProgress } from './exchange-store.ts';

/** The configured MongoDB name of each collection (config.store.collections), which names its file. */
export type CollectionNames = Record<ExchangeCollection, string>;

/** The file names of the collections, from config.store.collections. */
export function collectionNames(collections: Config['store']['collections']): CollectionNames {
  return Object.fromEntries(EXCHANGE_COLLECTIONS.map((c) => [c, collections[c]])) as CollectionNames;
}

/** A file that cannot be imported or exported as asked (exit 2 in scripts/store.ts). */
export class ExchangeUsageError extends Error {
  override name = 'ExchangeUsageError';
}

/** Lines per batch: one SQLite transaction or one bulkWrite each. */
export const DEFAULT_BATCH = 1000;

export interface FileLine extends ImportLine {
  /** Byte offset just after this line (and its newline) in the file. */
  end: number;
}

/**
 * The lines of a file from a byte offset on, with their numbers and where each ends, read a
 * chunk at a time as the caller asks for them. A \r before the newline is not part of the line.
 */
export async function* readLines(path: string, from: { offset: number; line: number } = { offset: 0, line: 0 }): AsyncGenerator<FileLine> {
  let offset = from.offset;
  let line = from.line;
  let rest: Buffer | null = null;
  for await (const chunk of createReadStream(path, { start: from.offset, highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    const buf: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      offset += nl + 1 - start;
      yield { line: ++line, text: buf.toString('utf8', start, end), end: offset };
      start = nl + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : null;
  }
  if (rest) yield { line: ++line, text: rest.toString('utf8').replace(/\r$/, ''), end: offset + rest.length };
}

export interface FileImport {
  file: string;
  collection: ExchangeCollection;
  /** Lines read in this run (a resumed import reads only the rest). */
  lines: number;
  added: number;
  present: number;
  /** Bad lines of the whole import, those found before a resume included. */
  bad: number;
  /** The line after which this run carried on, or null when it read the file from its start. */
  resumedAfterLine: number | null;
}

export interface ImportOptions {
  batchSize?: number;
  /** Called with each bad line as it is found (the rest of the file is still imported). */
  onBadLine?: (file: string, bad: BadLine) => void;
  /** Called after each stored batch with the counts so far and the line reached. */
  onBatch?: (sofar: FileImport, line: number) => void;
}

/**
 * Imports one file of Extended JSON lines into collection, resuming a recorded unfinished
 * import of the same file (same path, size and mtime).
 * @throws what the store throws (the import can be run again: it resumes).
 */
export async function importFile(store: ExchangeStore, file: string, collection: ExchangeCollection, o: ImportOptions = {}): Promise<FileImport> {
  const source = resolve(file);
  const st = statSync(source);
  const saved = await store.importProgress(source);
  const resume = saved && saved.collection === collection && saved.size === st.size && saved.mtimeMs === st.mtimeMs ? saved : null;
  const progress: ImportProgress = { source, collection, size: st.size, mtimeMs: st.mtimeMs, offset: resume?.offset ?? 0, line: resume?.line ?? 0, bad: resume?.bad ?? 0 };
  const result: FileImport = { file, collection, lines: 0, added: 0, present: 0, bad: progress.bad, resumedAfterLine: resume ? resume.line : null };
  const batchSize = o.batchSize ?? DEFAULT_BATCH;
  let batch: ImportLine[] = [];
  const flush = async (done: boolean) => {
    const r = await store.importBatch(collection, batch, { ...progress, done });
    result.added += r.added;
    result.present += r.present;
    result.bad += r.bad.length;
    progress.bad += r.bad.length;
    for (const b of r.bad) o.onBadLine?.(file, b);
    batch = [];
    o.onBatch?.(result, progress.line);
  };
  for await (const l of readLines(source, progress)) {
    result.lines++;
    progress.offset = l.end;
    progress.line = l.line;
    if (l.text.trim() !== '') batch.push({ line: l.line, text: l.text });
    if (batch.length >= batchSize) await flush(false);
  }
  await flush(true);
  return result;
}

/** The collection a file is named after (`<configured name>.json`), or null. */
export function collectionOfFile(file: string, names: CollectionNames): ExchangeCollection | null {
  const name = basename(file).replace(/\.json$/, '');
  return EXCHANGE_COLLECTIONS.find((c) => names[c] === name) ?? null;
}

/**
 * The files an import of path reads: path itself when it is a file (its collection from
 * `collection`, else its name), or each `<collection name>.json` in the directory, in the
 * order models, metrics, … (EXCHANGE_COLLECTIONS). Other files of the directory are left out
 * and listed in skipped.
 * @throws ExchangeUsageError when path is missing, or a file's collection cannot be told.
 */
export function importPlan(
  path: string,
  names: CollectionNames,
  collection?: ExchangeCollection,
): { files: Array<{ file: string; collection: ExchangeCollection }>; skipped: string[] } {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) throw new ExchangeUsageError(`Nothing to import at ${path}: no such file or directory`);
  const known = EXCHANGE_COLLECTIONS.map((c) => `${names[c]}.json`).join(', ');
  if (st.isFile()) {
    const c = collection ?? collectionOfFile(path, names);
    if (!c) throw new ExchangeUsageError(`Cannot tell the collection of ${path}: name it after one (${known}) or give --collection`);
    return { files: [{ file: path, collection: c }], skipped: [] };
  }
  if (collection) throw new ExchangeUsageError(`--collection goes with one file, not a directory (${path})`);
  const entries = readdirSync(path).sort();
  const files = EXCHANGE_COLLECTIONS.flatMap((c) => (entries.includes(`${names[c]}.json`) ? [{ file: join(path, `${names[c]}.json`), collection: c }] : []));
  const taken = new Set(files.map((f) => basename(f.file)));
  if (files.length === 0) throw new ExchangeUsageError(`No collection file in ${path}: expected some of ${known}`);
  return { files, skipped: entries.filter((e) => !taken.has(e)) };
}

export interface FileExport {
  file: string;
  collection: ExchangeCollection;
  rows: number;
  bytes: number;
}

/**
 * Writes each collection to `<dir>/<name>.json`, through `<name>.json.partial` renamed when
 * complete, so a stopped export never leaves a file that looks whole.
 * @throws ExchangeUsageError when a file it would write exists already; what the store throws.
 */
export async function exportCollections(
  store: ExchangeStore,
  dir: string,
  names: CollectionNames,
  collections: readonly ExchangeCollection[] = EXCHANGE_COLLECTIONS,
): Promise<FileExport[]> {
  const files = collections.map((collection) => ({ collection, file: join(dir, `${names[collection]}.json`) }));
  const existing = files.filter((f) => existsSync(f.file)).map((f) => f.file);
  if (existing.length > 0) throw new ExchangeUsageError(`Not overwriting ${existing.join(', ')}: export into an empty directory`);
  mkdirSync(dir, { recursive: true });
  const out: FileExport[] = [];
  for (const { collection, file } of files) {
    const partial = `${file}.partial`;
    const ws = createWriteStream(partial);
    const failed = new Promise<never>((_, reject) => ws.once('error', reject));
    failed.catch(() => {});
    try {
      const rows = await store.exportCollection(collection, async (chunk) => {
        if (!ws.write(chunk)) await Promise.race([once(ws, 'drain'), failed]);
      });
      ws.end();
      await Promise.race([once(ws, 'finish'), failed]);
      renameSync(partial, file);
      out.push({ file, collection, rows, bytes: statSync(file).size });
    } catch (err) {
      ws.destroy();
      rmSync(partial, { force: true });
      throw err;
    }
  }
  return out;
}
