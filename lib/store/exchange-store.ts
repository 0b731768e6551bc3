// The part of the store that moves history in and out (SPEC 4.0, "Moving history"), which
// Store extends: each backend implements it in its exchange.ts; lib/store/exchange.ts reads and
// writes the files around it. Kept apart from store.ts, the collections' own interfaces.

/**
 * The collections history moves in and out of (SPEC 4.0, "Moving history"), by their
 * MongoCollections names; each travels as one file of Extended JSON lines named after its
 * configured MongoDB collection name (lib/store/exchange.ts).
 */
export const EXCHANGE_COLLECTIONS = [
  'models',
  'metrics',
  'probe',
  'errors',
  'scenarios',
  'agentRuns',
  'providerCatalog',
  'openrouterCatalog',
  'modelHealth',
  'sweepSkips',
] as const;
export type ExchangeCollection = (typeof EXCHANGE_COLLECTIONS)[number];

/** One line of an import file: its 1-based number in the file and its text, without the newline. */
export interface ImportLine {
  line: number;
  text: string;
}
/** How far the import of one source file has come, kept in the target store beside its rows. */
export interface ImportProgress {
  /** The file's absolute path. */
  source: string;
  collection: ExchangeCollection;
  /** Size and mtime of the file when its import began: a changed file is read again from its start. */
  size: number;
  mtimeMs: number;
  /** Byte offset just after the last line stored, and that line's number. */
  offset: number;
  line: number;
  /** Bad lines found so far. */
  bad: number;
}
export interface BadLine {
  line: number;
  /** What is wrong with it, e.g. "missing provider", "run_ts is not a date (got \"2026-05-07\")". */
  reason: string;
}
export interface ImportBatchResult {
  /** Rows the target did not hold and now does. */
  added: number;
  /** Rows whose identity the target already held: left as they were. */
  present: number;
  bad: BadLine[];
}

/** Moving every collection's documents in and out as Extended JSON lines (lib/store/exchange.ts). */
export interface ExchangeStore {
  /**
   * Hands every document of the collection to write as relaxed Extended JSON lines (mongoexport's
   * format), in stored order, awaiting each chunk; reads only.
   * @returns the number of documents.
   */
  exportCollection(collection: ExchangeCollection, write: (chunk: string) => Promise<void>): Promise<number>;
  /**
   * Stores the lines' documents the target does not hold yet (by run_id, else _id, else a hash of
   * the line; natural keys for models, catalogs, model health and scenarios), never overwriting,
   * and records progress with them in one transaction (SQLite) or right after (MongoDB), its bad
   * count plus this batch's; progress.done removes the record instead. A line that is not a
   * storable document is returned as bad and the rest stored.
   */
  importBatch(collection: ExchangeCollection, lines: ImportLine[], progress: ImportProgress & { done: boolean }): Promise<ImportBatchResult>;
  /** The recorded progress of an unfinished import of source, or null. */
  importProgress(source: string): Promise<ImportProgress | null>;
}
