// An in-memory stand-in for the MongoDB driver's Collection, evaluating the real query,
// update and aggregation syntax with mingo. No MongoDB server can run on the development
// machines, so the Mongo backend's queries are tested through this. It enforces unique
// indexes (with partialFilterExpression) like the server, answering duplicate-key errors
// with code 11000.
import { randomUUID } from 'node:crypto';
import { Query, aggregate, update } from 'mingo';
import { BSON, type AnyBulkWriteOperation, type Document } from 'mongodb';
import type { CollectionLike, MongoCollections } from '../../lib/store/mongo/connection.ts';

interface UniqueIndex {
  keys: string[];
  partial: Document | null;
}

/**
 * A deep copy that keeps BSON values (ObjectId, Long, Decimal128, …) as the driver hands them
 * out: structuredClone would turn them into plain objects. They are immutable, so shared.
 */
function clone<T>(doc: T): T {
  if (doc === null || typeof doc !== 'object') return doc;
  if ('_bsontype' in doc) return doc;
  if (doc instanceof Date) return new Date(doc) as T;
  if (Array.isArray(doc)) return doc.map(clone) as T;
  const proto = Object.getPrototypeOf(doc);
  if (proto !== Object.prototype && proto !== null) return structuredClone(doc);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc)) out[k] = clone(v);
  return out as T;
}

/**
 * What the server stores and a read gets back of a document written through the driver: BSON
 * encoded and decoded, so an Int32 or Double from Extended JSON comes back a number.
 */
function asStored(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc));
}

/** An _id as a Set key: its type and its text (an ObjectId's is its hex). */
function idKey(id: unknown): string {
  return `${typeof id}:${String(id)}`;
}

/** Where an upsert that finds nothing starts: the filter's equality fields (not its operators). */
function upsertSeed(filter: Document): Document {
  const seed: Document = {};
  for (const [k, v] of Object.entries(filter)) {
    const operator = v !== null && typeof v === 'object' && !('_bsontype' in v) && !(v instanceof Date) && Object.keys(v).some((o) => o.startsWith('$'));
    if (!k.startsWith('$') && !operator) seed[k] = v;
  }
  return seed;
}

export class MingoCollection implements CollectionLike {
  docs: Document[] = [];
  readonly indexes: Array<{ keys: Document; options: Document }> = [];
  #unique: UniqueIndex[] = [];

  #violates(doc: Document, ignore?: Document): boolean {
    return this.#unique.some(({ keys, partial }) => {
      if (partial && !new Query(partial).test(doc)) return false;
      return this.docs.some(
        (other) =>
          other !== ignore &&
          (!partial || new Query(partial).test(other)) &&
          keys.every((k) => JSON.stringify(other[k]) === JSON.stringify(doc[k])),
      );
    });
  }

  async insertOne(doc: Document): Promise<{ insertedId: unknown }> {
    return this.#insert(doc, new Set(doc._id === undefined ? [] : this.docs.map((d) => idKey(d._id))));
  }

  /** Inserts a copy of doc; ids holds the idKey of every stored _id (only a caller's own _id can collide). */
  #insert(doc: Document, ids: Set<string>): { insertedId: unknown } {
    const copy = clone(doc);
    const given = copy._id === undefined ? null : idKey(copy._id);
    copy._id ??= randomUUID();
    if ((given !== null && ids.has(given)) || this.#violates(copy)) throw Object.assign(new Error('E11000 duplicate key error'), { code: 11000 });
    this.docs.push(copy);
    if (given !== null) ids.add(given);
    return { insertedId: copy._id };
  }

  async findOne(filter: Document): Promise<Document | null> {
    const q = new Query(filter);
    const found = this.docs.find((d) => q.test(d));
    return found ? clone(found) : null;
  }

  find(filter: Document, options: { sort?: Document; limit?: number } = {}): { toArray(): Promise<Document[]> } & AsyncIterable<Document> {
    let cursor = new Query(filter).find<Document>(this.docs);
    if (options.sort) cursor = cursor.sort(options.sort as Record<string, 1 | -1>);
    if (options.limit) cursor = cursor.limit(options.limit);
    const out = cursor.all().map(clone);
    return {
      toArray: async () => out,
      async *[Symbol.asyncIterator]() {
        yield* out;
      },
    };
  }

  /**
   * The upserts of exchange.ts only: updateOne with upsert and $setOnInsert, unordered. Like the
   * driver, a duplicate key fails that operation alone and the call throws at the end with
   * writeErrors and the result of the others.
   */
  async bulkWrite(operations: AnyBulkWriteOperation[], _options: { ordered: boolean }): Promise<{ upsertedCount: number; matchedCount: number }> {
    const result = { upsertedCount: 0, matchedCount: 0 };
    const writeErrors: Array<{ index: number; code: number; errmsg: string }> = [];
    // The _ids once per call, not a scan per operation: upstream rows are found by _id.
    const ids = new Set(this.docs.map((d) => idKey(d._id)));
    for (const [index, op] of operations.entries()) {
      if (!('updateOne' in op) || !op.updateOne.upsert) throw new Error('the stand-in bulkWrite does upserting updateOne only');
      const { filter, update: modifier } = op.updateOne as { filter: Document; update: Document };
      const byId = Object.keys(filter).length === 1 && filter._id !== undefined;
      const q = new Query(filter);
      if (byId ? ids.has(idKey(filter._id)) : this.docs.some((d) => q.test(d))) {
        result.matchedCount++;
        continue;
      }
      // The server puts _id first, then the filter's fields, then the update's in their order.
      const { _id, ...fields } = { ...upsertSeed(filter), ...(modifier.$setOnInsert ?? {}) };
      try {
        this.#insert(asStored(_id === undefined ? fields : { _id, ...fields }), ids);
        result.upsertedCount++;
      } catch (err) {
        writeErrors.push({ index, code: (err as { code: number }).code, errmsg: (err as Error).message });
      }
    }
    if (writeErrors.length > 0) throw Object.assign(new Error(`E11000 duplicate key error (${writeErrors.length} operations)`), { code: 11000, writeErrors, result });
    return result;
  }

  async updateOne(filter: Document, modifier: Document, options: { upsert?: boolean } = {}) {
    const q = new Query(filter);
    const target = this.docs.find((d) => q.test(d));
    if (target) {
      const { $setOnInsert: _ignored, ...rest } = modifier;
      const next = clone(target);
      update(next, rest);
      if (this.#violates(next, target)) throw Object.assign(new Error('E11000 duplicate key error'), { code: 11000 });
      Object.assign(target, next);
      return { matchedCount: 1, modifiedCount: 1, upsertedCount: 0 };
    }
    if (!options.upsert) return { matchedCount: 0, modifiedCount: 0, upsertedCount: 0 };
    // Upsert: start from the equality fields of the filter, then apply $set and $setOnInsert.
    const seed: Document = {};
    for (const [k, v] of Object.entries(filter)) if (!k.startsWith('$') && (v === null || typeof v !== 'object')) seed[k] = v;
    const { $setOnInsert, ...rest } = modifier;
    update(seed, { ...rest, $set: { ...(rest.$set ?? {}), ...($setOnInsert ?? {}) } });
    await this.insertOne(seed);
    return { matchedCount: 0, modifiedCount: 0, upsertedCount: 1 };
  }

  /** Operators this "server" does not know, answered as MongoDB before 7.0 answers (asServerBefore70). */
  unknownOperators: string[] = [];

  aggregate(pipeline: Document[]): { toArray(): Promise<Document[]> } {
    const text = JSON.stringify(pipeline);
    const unknown = this.unknownOperators.find((op) => text.includes(`"${op}"`));
    if (unknown) {
      const err = Object.assign(new Error(`unknown group operator '${unknown}'`), { code: 15952 });
      return { toArray: () => Promise.reject(err) };
    }
    const out = aggregate(this.docs, pipeline).map(clone);
    return { toArray: async () => out };
  }

  async countDocuments(filter: Document): Promise<number> {
    const q = new Query(filter);
    return this.docs.filter((d) => q.test(d)).length;
  }

  async deleteOne(filter: Document): Promise<{ deletedCount: number }> {
    const q = new Query(filter);
    const i = this.docs.findIndex((d) => q.test(d));
    if (i === -1) return { deletedCount: 0 };
    this.docs.splice(i, 1);
    return { deletedCount: 1 };
  }

  async deleteMany(filter: Document): Promise<{ deletedCount: number }> {
    const q = new Query(filter);
    const before = this.docs.length;
    this.docs = this.docs.filter((d) => !q.test(d));
    return { deletedCount: before - this.docs.length };
  }

  async updateMany(filter: Document, modifier: Document): Promise<{ modifiedCount: number }> {
    const q = new Query(filter);
    let modified = 0;
    for (const d of this.docs.filter((x) => q.test(x))) {
      update(d, modifier);
      modified++;
    }
    return { modifiedCount: modified };
  }

  async createIndex(keys: Document, options: Document = {}): Promise<string> {
    this.indexes.push({ keys, options });
    if (options.unique) {
      this.#unique.push({ keys: Object.keys(keys), partial: (options.partialFilterExpression as Document) ?? null });
    }
    return String(options.name ?? Object.keys(keys).join('_'));
  }
}

/**
 * The collections as a MongoDB server before 7.0 (5.0 and 6.x are supported) answers: it has
 * no $percentile and no $median. mingo knows $median but sorts numbers as strings (its $median
 * of 1, 2, 10 is 10), so no test may lean on it: tests of computed figures run this way.
 */
export function asServerBefore70<C extends Record<string, MingoCollection>>(c: C): C {
  for (const col of Object.values(c)) col.unknownOperators = ['$percentile', '$median'];
  return c;
}

export function mingoCollections(): { [K in keyof MongoCollections]: MingoCollection } {
  return {
    metrics: new MingoCollection(),
    errors: new MingoCollection(),
    models: new MingoCollection(),
    openrouterCatalog: new MingoCollection(),
    providerCatalog: new MingoCollection(),
    probe: new MingoCollection(),
    modelHealth: new MingoCollection(),
    scenarios: new MingoCollection(),
    agentRuns: new MingoCollection(),
    sweepSkips: new MingoCollection(),
    benchSweeps: new MingoCollection(),
    ingestHealth: new MingoCollection(),
    migrations: new MingoCollection(),
    importProgress: new MingoCollection(),
    rollups: new MingoCollection(),
    rollupDays: new MingoCollection(),
  };
}
