// Moving history in and out of MongoDB (SPEC 4.0). Lines are parsed as canonical Extended JSON
// (relaxed: false), so an int64, a double and an ObjectId stay what they were, and _ids are kept.
// A batch is one unordered bulkWrite of upserts that only ever $setOnInsert: what the collection
// holds already is never overwritten, and a batch written twice (an import resumed after a
// kill between its rows and its progress) adds nothing the second time.
import { BSON, type AnyBulkWriteOperation, type Document } from 'mongodb';
import { isMockDocument, MOCK_ON_MONGODB } from '../collection-rules.ts';
import { NATURAL_KEYS, notJson, problemOf, rowKey } from '../exchange-lines.ts';
import type { BadLine, ExchangeCollection, ExchangeStore, ImportBatchResult, ImportLine, ImportProgress } from '../exchange-store.ts';
import { firstLine, type CollectionLike, type MongoContext } from './connection.ts';

const DUPLICATE_KEY = 11000;
// About 64 KiB of lines per write, the size that measured best exporting from SQLite (sqlite/exchange.ts).
const CHUNK_CHARS = 1 << 16;

/** The write error of one operation of a bulkWrite, as the driver's MongoBulkWriteError lists them. */
interface WriteError {
  index: number;
  code: number;
  errmsg?: string;
}

/**
 * The upsert that stores doc unless its identity is held: a natural key for the collections
 * that have one; else run_id, else _id, else a hash of the line (then also its _id).
 */
function upsertOf(collection: ExchangeCollection, doc: Document, text: string): AnyBulkWriteOperation {
  const natural = NATURAL_KEYS[collection];
  let filter: Document;
  let insert = doc;
  if (natural) filter = Object.fromEntries(natural.map((k) => [k, doc[k]]));
  else if (typeof doc.run_id === 'string' && doc.run_id !== '') filter = { run_id: doc.run_id };
  else if (doc._id !== undefined) {
    // _id comes from the filter; the server refuses it in $setOnInsert beside it.
    const { _id, ...rest } = doc;
    filter = { _id };
    insert = rest;
  } else filter = { _id: rowKey(doc, text) };
  return { updateOne: { filter, update: { $setOnInsert: insert }, upsert: true } };
}

/** A progress record's filter: its _id is the source path (a string, where the driver's types expect an ObjectId). */
const byId = (source: string) => ({ _id: source }) as Document;

export function mongoExchange(ctx: MongoContext): ExchangeStore {
  const c = ctx.c;
  const COLLECTIONS: Record<ExchangeCollection, CollectionLike> = {
    metrics: c.metrics,
    probe: c.probe,
    errors: c.errors,
    models: c.models,
    providerCatalog: c.providerCatalog,
    openrouterCatalog: c.openrouterCatalog,
    modelHealth: c.modelHealth,
    scenarios: c.scenarios,
    agentRuns: c.agentRuns,
    sweepSkips: c.sweepSkips,
  };

  return {
    async exportCollection(collection: ExchangeCollection, write: (chunk: string) => Promise<void>): Promise<number> {
      // Natural order, as mongoexport reads without --sort: no sort to hold in memory.
      let n = 0;
      let chunk = '';
      for await (const doc of COLLECTIONS[collection].find({})) {
        chunk += `${BSON.EJSON.stringify(doc, { relaxed: true })}\n`;
        n++;
        if (chunk.length >= CHUNK_CHARS) {
          await write(chunk);
          chunk = '';
        }
      }
      if (chunk) await write(chunk);
      return n;
    },

    async importBatch(collection: ExchangeCollection, lines: ImportLine[], progress: ImportProgress & { done: boolean }): Promise<ImportBatchResult> {
      const ops: AnyBulkWriteOperation[] = [];
      const opLines: number[] = [];
      const bad: BadLine[] = [];
      for (const { line, text } of lines) {
        let doc: Document;
        try {
          doc = BSON.EJSON.parse(text, { relaxed: false }) as Document;
        } catch (err) {
          bad.push({ line, reason: notJson(err) });
          continue;
        }
        const problem = problemOf(collection, doc) ?? (isMockDocument(doc as { provider: string; mock?: boolean }) ? MOCK_ON_MONGODB : null);
        if (problem) {
          bad.push({ line, reason: problem });
          continue;
        }
        ops.push(upsertOf(collection, doc, text));
        opLines.push(line);
      }
      let added = 0;
      let present = 0;
      if (ops.length > 0) {
        try {
          const r = await COLLECTIONS[collection].bulkWrite(ops, { ordered: false });
          added = r.upsertedCount;
          present = ops.length - added;
        } catch (err) {
          const e = err as { writeErrors?: WriteError[] | WriteError; writeConcernError?: unknown; result?: { upsertedCount: number } };
          const writeErrors = e.writeErrors === undefined ? [] : Array.isArray(e.writeErrors) ? e.writeErrors : [e.writeErrors];
          // Not a verdict on some documents (the connection, the write concern): the import stops
          // and, run again, carries on from its last recorded batch.
          if (writeErrors.length === 0 || e.writeConcernError || !e.result) throw err;
          added = e.result.upsertedCount;
          // A duplicate key: the row's identity is held under another of the collection's unique
          // keys (an _id matched with another run_id): it is there, and left as it is.
          const refused = writeErrors.filter((w) => w.code !== DUPLICATE_KEY);
          for (const w of refused) bad.push({ line: opLines[w.index]!, reason: `MongoDB refused it: ${firstLine({ message: w.errmsg ?? `code ${w.code}` })}` });
          present = ops.length - added - refused.length;
        }
      }
      bad.sort((a, b) => a.line - b.line);
      // After the rows: a kill in between makes a resumed import write this batch again, which
      // adds nothing (MongoDB has no transaction across collections without a replica set).
      if (progress.done) await c.importProgress.deleteOne(byId(progress.source));
      else {
        const { source, ...record } = progress;
        const { done: _done, ...kept } = { ...record, bad: progress.bad + bad.length, updated_at: new Date() };
        await c.importProgress.updateOne(byId(source), { $set: kept }, { upsert: true });
      }
      return { added, present, bad };
    },

    async importProgress(source: string): Promise<ImportProgress | null> {
      const r = await c.importProgress.findOne(byId(source));
      if (!r) return null;
      return { source, collection: r.collection, size: r.size, mtimeMs: r.mtimeMs, offset: r.offset, line: r.line, bad: r.bad };
    },
  };
}
