// What a line of an import file must hold to be stored, and which row it is (SPEC 4.0, "Moving
// history"). Each backend parses a line its own way (SQLite keeps the text as it came, MongoDB
// needs its BSON types) and then asks the same questions here, so a line refused by one backend
// is refused by the other for the same reason.
import { createHash } from 'node:crypto';
import type { ExchangeCollection } from './exchange-store.ts';
import { rowId } from './upstream.ts';

type FieldType = 'string' | 'date' | 'number or null';

// What the store's own readers (and SQLite's columns) cannot do without. Upstream rows lack
// run_id, benchmark_profile_id, error_kind and fingerprint (upstream-documents.md): not required.
const METRIC: Array<[string, FieldType]> = [
  ['provider', 'string'],
  ['model_name', 'string'],
  ['run_ts', 'date'],
  ['tokens_per_second', 'number or null'],
  ['time_to_first_token', 'number or null'],
  ['cost_usd', 'number or null'],
];
const REQUIRED: Record<ExchangeCollection, Array<[string, FieldType]>> = {
  metrics: METRIC,
  probe: METRIC,
  errors: [
    ['provider', 'string'],
    ['model_name', 'string'],
    ['ts', 'date'],
    ['stage', 'string'],
    ['message', 'string'],
  ],
  models: [
    ['provider', 'string'],
    ['model_id', 'string'],
  ],
  providerCatalog: [
    ['provider', 'string'],
    ['model_id', 'string'],
  ],
  openrouterCatalog: [['openrouter_id', 'string']],
  modelHealth: [
    ['provider', 'string'],
    ['model_id', 'string'],
  ],
  scenarios: [
    ['scenario_id', 'string'],
    ['kind', 'string'],
  ],
  agentRuns: [
    ['run_id', 'string'],
    ['automation', 'string'],
    ['scenario_id', 'string'],
    ['started_at', 'date'],
    ['status', 'string'],
  ],
  sweepSkips: [['skipped_at', 'date']],
};

/**
 * The fields that name a document of these collections (their unique indexes); the other
 * collections' rows are named by rowKey.
 */
export const NATURAL_KEYS: Partial<Record<ExchangeCollection, string[]>> = {
  models: ['provider', 'model_id'],
  providerCatalog: ['provider', 'model_id'],
  modelHealth: ['provider', 'model_id'],
  openrouterCatalog: ['openrouter_id'],
  scenarios: ['scenario_id'],
};

const BSON_NUMBERS = new Set(['Int32', 'Double', 'Long']);

/** A number as a parsed line holds it (a JS number, or EJSON's Int32, Double or Long), else undefined. */
export function numberOf(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  const bson = v as { _bsontype?: string; valueOf?: () => unknown } | null;
  if (bson && typeof bson === 'object' && BSON_NUMBERS.has(bson._bsontype ?? '')) return Number(bson.valueOf!());
  return undefined;
}

function shown(v: unknown): string {
  if (v instanceof Date) return 'an invalid date';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Why doc cannot be stored in collection (e.g. "missing provider", "run_ts is not a date (got …)"), or null. */
export function problemOf(collection: ExchangeCollection, doc: unknown): string | null {
  if (Array.isArray(doc)) return 'a JSON array, not one document per line (mongoexport without --jsonArray writes lines)';
  if (doc === null || typeof doc !== 'object') return 'not a document (a JSON object)';
  const d = doc as Record<string, unknown>;
  for (const [field, type] of REQUIRED[collection]) {
    const v = d[field];
    if (type === 'number or null') {
      if (v === undefined || v === null || numberOf(v) !== undefined) continue;
      return `${field} is not a number (got ${shown(v)})`;
    }
    if (v === undefined || v === null) return `missing ${field}`;
    if (type === 'string' && (typeof v !== 'string' || v === '')) return `${field} is not a non-empty string (got ${shown(v)})`;
    if (type === 'date' && !(v instanceof Date && !Number.isNaN(v.getTime()))) return `${field} is not a date (got ${shown(v)})`;
  }
  return null;
}

/**
 * The identity of a row without a natural key: the id readers know it by (rowId: its run_id,
 * else its _id as hex, as upstream rows have no run_id), else a hash of the line, as
 * `sha256:<hex>`.
 */
export function rowKey(doc: Record<string, unknown>, text: string): string {
  return rowId(doc) ?? `sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** "not JSON (…)" for a line JSON.parse refuses, in the words of the parser. */
export function notJson(err: unknown): string {
  return `not JSON (${(err as Error).message.split('\n')[0]})`;
}
