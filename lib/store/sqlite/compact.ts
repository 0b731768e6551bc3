// Compact metric and error rows (issue 28, SPEC 20). A document is kept as a small binary value
// instead of JSON text: each object's key list, with the kind of each value (its head: a number,
// a null, a reference to a column, …), is stored once in doc_shapes, and the row names it by
// number and holds only the values' bodies; repeated short strings (request_mode, token_source,
// finish_reason, …) are stored once in doc_strings; a value equal to one of the row's columns
// (provider, run_id, tokens/s, …) is a reference to it; dates are milliseconds from run_ts (an
// error row's ts); integers and short decimals varints; arrays of numbers that are all whole
// multiples of 10^-k (the per-chunk gaps, written in whole microseconds) varints or bit-packed
// integers of that unit; a response id ("chatcmpl-…") its prefix and a base-62 number. A
// document is stored this way only when decoding it gives back exactly its JSON text (encodeDoc,
// or an imported line as it came), so nothing is ever lost: anything else (a line written
// differently, a value this format has no form for) stays JSON text, and the row's `doc` is then
// TEXT, not BLOB.
import type { DatabaseSync, SQLOutputValue, StatementSync } from 'node:sqlite';

/**
 * First byte of every compact document: the format, so a later one can be told apart, which also
 * says how its JSON text writes dates (an imported line keeps its exporter's way):
 * FORMAT + 0 as toISOString (the store's own), + 1 without ".000" when the milliseconds are 0
 * (the MongoDB Node driver's Extended JSON), + 2 without the milliseconds' trailing zeros (Go's
 * mongoexport).
 */
const FORMAT = 1;
const DATE_STYLES = 3;

function dateText(d: Date, style: number): string {
  const iso = d.toISOString();
  if (style === 1) return iso.endsWith('.000Z') ? `${iso.slice(0, -5)}Z` : iso;
  if (style === 2) return iso.replace(/\.?0+Z$/, 'Z');
  return iso;
}

/** The JSON text of a document with its dates written in a style (FORMAT's). */
function textOf(doc: unknown, style: number): string {
  if (style === 0) return encodeText(doc);
  return JSON.stringify(doc, function (this: Record<string, unknown>, key, value) {
    const original = this[key];
    return original instanceof Date ? { $date: dateText(original, style) } : value;
  });
}

// Value heads: a tag, times 16, plus its parameter (DEC's and NUMS's k, COL's column). An
// object's heads are in its shape; an array's elements and the root carry theirs as a byte.
const NULL = 0;
const FALSE = 1;
const TRUE = 2;
const INT = 3; // a varint of the value (parameter 0) or of -1 - the value (parameter 1)
const F64 = 4; // 8 bytes, little-endian
const DEC = 5; // a zigzag varint of value × 10^k
const STR = 6; // varint byte length, UTF-8
const SREF = 7; // varint id in doc_strings
const DATE = 8; // zigzag varint of milliseconds from the row's time (run_ts, ts)
const OBJ = 9; // varint id in doc_shapes, then each key's value body
const ARR = 10; // varint length, then the values
const NUMS = 11; // varint length, then varints of each value × 10^k (k + 8 when none is negative), zigzag ones otherwise
const COL = 12; // the value is the row's column ROW_REFS[kind].columns[parameter]; no body
const OBJI = 13; // an object whose shape is not shared: varint count, then (key as STR body, head byte, body) each
const PACKED = 14; // a string: a dictionary prefix (varint id), then a base-62 tail as varint length in characters, varint byte count, big-endian bytes
const BITS = 15; // non-negative values × 10^k: varint length, a byte of bit width, then each value in that many bits
const head = (tag: number, param = 0) => tag * 16 + param;

// A provider's response id: a short prefix and a long random base-62 tail ("chatcmpl-…", "msg_01…").
const PACKABLE = /^([A-Za-z_-]{0,16}?)([0-9A-Za-z]{12,64})$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function base62Bytes(tail: string): Uint8Array {
  let n = 0n;
  for (const ch of tail) n = n * 62n + BigInt(BASE62.indexOf(ch));
  const hex = n.toString(16);
  return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
}

function base62Text(bytes: Uint8Array, chars: number): string {
  let n = bytes.length ? BigInt(`0x${Buffer.from(bytes).toString('hex')}`) : 0n;
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out.padStart(chars, '0');
}

/**
 * The columns of each kind of row a compact document may refer to, in the order COL numbers them,
 * and the column its dates count from.
 */
export const ROW_REFS = {
  metric: { columns: ['run_id', 'provider', 'model_name', 'tokens_per_second', 'time_to_first_token', 'cost_usd', 'generate_time', 'decode_tps'], time: 'run_ts' },
  error: { columns: ['run_id', 'provider', 'model_name', 'stage', 'error_kind', 'fingerprint', 'message'], time: 'ts' },
} as const;
export type RowKind = keyof typeof ROW_REFS;
/** A row's referenced column values (run_id as text), in ROW_REFS order, and its time in ms. */
export interface RowColumns {
  values: ReadonlyArray<string | number | null>;
  time: number;
}

/** Keys whose strings are unique per row: never worth a dictionary entry. */
const UNIQUE_KEYS = new Set(['run_id', 'response_id', 'cache_defeat_nonce', 'parallel_group_id', 'request_id', 'id', '_id', '$oid', 'message']);
const DICT_MAX_CHARS = 64;
// Bounds on what the dictionaries hold, so a stream of documents with unusual keys or values
// (an upstream import) cannot grow them (and each process's copy) without end: past them a
// key list or string is written in the row.
const MAX_STRINGS = 50_000;
const MAX_SHAPES = 5_000;
const MAX_SCALE = 6;
const POW10 = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000];

/** The scale k (0–6) at which n is an integer x × 10^-k read back exactly, or -1. */
function scaleOf(n: number): number {
  if (!Number.isFinite(n)) return -1;
  for (let k = 0; k <= MAX_SCALE; k++) {
    const m = Math.round(n * POW10[k]!);
    if (Math.abs(m) <= Number.MAX_SAFE_INTEGER && m / POW10[k]! === n) return k;
  }
  return -1;
}

class Writer {
  buf: Uint8Array;
  n = 0;
  #view: DataView;
  constructor(size = 512) {
    this.buf = new Uint8Array(size);
    this.#view = new DataView(this.buf.buffer);
  }
  #room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    const grown = new Uint8Array(Math.max(this.buf.length * 2, this.n + k));
    grown.set(this.buf);
    this.buf = grown;
    this.#view = new DataView(grown.buffer);
  }
  byte(b: number): void {
    this.#room(1);
    this.buf[this.n++] = b;
  }
  /** A non-negative integer up to 2^53, 7 bits a byte (arithmetic, not 32-bit bit operations). */
  varint(v: number): void {
    this.#room(8);
    while (v >= 128) {
      this.buf[this.n++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.buf[this.n++] = v;
  }
  zigzag(v: number): void {
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  f64(v: number): void {
    this.#room(8);
    this.#view.setFloat64(this.n, v, true);
    this.n += 8;
  }
  /** Each value in `width` bits, most significant first, the last byte padded with zeros. */
  bits(values: number[], width: number): void {
    this.#room(Math.ceil((values.length * width) / 8));
    let acc = 0;
    let held = 0;
    for (const v of values) {
      for (let bit = width - 1; bit >= 0; bit--) {
        acc = acc * 2 + (Math.floor(v / 2 ** bit) % 2);
        if (++held === 8) {
          this.buf[this.n++] = acc;
          acc = 0;
          held = 0;
        }
      }
    }
    if (held > 0) this.buf[this.n++] = acc * 2 ** (8 - held);
  }
  bytes(b: Uint8Array): void {
    this.#room(b.length);
    this.buf.set(b, this.n);
    this.n += b.length;
  }
}

class Reader {
  n = 0;
  readonly #view: DataView;
  constructor(readonly buf: Uint8Array) {
    this.#view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  byte(): number {
    if (this.n >= this.buf.length) throw new Error('compact document ends early');
    return this.buf[this.n++]!;
  }
  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      const b = this.byte();
      v += (b & 127) * mul;
      if (b < 128) return v;
      mul *= 128;
    }
  }
  zigzag(): number {
    const v = this.varint();
    return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
  }
  f64(): number {
    const v = this.#view.getFloat64(this.n, true);
    this.n += 8;
    return v;
  }
  take(len: number): Uint8Array {
    if (this.n + len > this.buf.length) throw new Error('compact document ends early');
    const b = this.buf.subarray(this.n, this.n + len);
    this.n += len;
    return b;
  }
  bits(n: number, width: number): number[] {
    const out = new Array<number>(n);
    let pos = 0;
    const bytes = this.take(Math.ceil((n * width) / 8));
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let bit = 0; bit < width; bit++, pos++) v = v * 2 + ((bytes[pos >> 3]! >> (7 - (pos & 7))) & 1);
      out[i] = v;
    }
    return out;
  }
  utf8(len: number): string {
    const s = TEXT.decode(this.buf.subarray(this.n, this.n + len));
    this.n += len;
    return s;
  }
}

const TEXT = new TextDecoder();
const UTF8 = new TextEncoder();

/**
 * The dictionaries of one open database: key lists and strings by id and by value. Loaded on
 * first use and again when an id written by another process is not known yet. New entries are
 * written in the caller's transaction; after a rollback the caller calls forget(), since ids it
 * handed out may then belong to nothing (or, later, to another process's entry).
 */
export class DocCodec {
  #shapes: Array<[string[], number[]]> = [];
  #shapeIds = new Map<string, number>();
  #strings: string[] = [];
  #stringIds = new Map<string, number>();
  #loadedShape = 0;
  #loadedString = 0;
  #stmts = new Map<string, StatementSync>();

  constructor(private readonly db: DatabaseSync) {}

  #stmt(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) this.#stmts.set(sql, (s = this.db.prepare(sql)));
    return s;
  }

  /** Reads the entries added since the last load (by this process or another). */
  #load(): void {
    for (const r of this.#stmt('SELECT id, shape FROM doc_shapes WHERE id > ? ORDER BY id').all(this.#loadedShape) as Array<{ id: number; shape: string }>) {
      this.#shapes[r.id] = JSON.parse(r.shape) as [string[], number[]];
      this.#shapeIds.set(r.shape, r.id);
      this.#loadedShape = r.id;
    }
    for (const r of this.#stmt('SELECT id, text FROM doc_strings WHERE id > ? ORDER BY id').all(this.#loadedString) as Array<{ id: number; text: string }>) {
      this.#strings[r.id] = r.text;
      this.#stringIds.set(r.text, r.id);
      this.#loadedString = r.id;
    }
  }

  #groups = new Map<string, number>();

  /** The gid of a row's (table, provider, model, scenario) group in metric_groups, added when new (in the open write transaction). */
  groupId(table: string, provider: string, model: string, scenario: string): number {
    const key = JSON.stringify([table, provider, model, scenario]);
    let gid = this.#groups.get(key);
    if (gid !== undefined) return gid;
    const args = [table, provider, model, scenario];
    this.#stmt('INSERT OR IGNORE INTO metric_groups (tbl, provider, model_name, scenario) VALUES (?, ?, ?, ?)').run(...args);
    gid = (this.#stmt('SELECT gid FROM metric_groups WHERE tbl = ? AND provider = ? AND model_name = ? AND scenario = ?').get(...args) as { gid: number }).gid;
    this.#groups.set(key, gid);
    return gid;
  }

  /** Drops what was loaded or added: after a rolled-back write, ids handed out may not exist. */
  forget(): void {
    this.#groups.clear();
    this.#shapes = [];
    this.#shapeIds.clear();
    this.#strings = [];
    this.#stringIds.clear();
    this.#loadedShape = 0;
    this.#loadedString = 0;
  }

  /** The id of a key list or string, added (in the open write transaction) when new; null past the bounds. */
  #idOf(kind: 'shape' | 'string', value: string): number | null {
    const ids = kind === 'shape' ? this.#shapeIds : this.#stringIds;
    let id = ids.get(value);
    if (id !== undefined) return id;
    this.#load();
    id = ids.get(value);
    if (id !== undefined) return id;
    if (ids.size >= (kind === 'shape' ? MAX_SHAPES : MAX_STRINGS)) return null;
    const r = this.#stmt(kind === 'shape' ? 'INSERT INTO doc_shapes (shape) VALUES (?)' : 'INSERT INTO doc_strings (text) VALUES (?)').run(value);
    id = Number(r.lastInsertRowid);
    ids.set(value, id);
    if (kind === 'shape') {
      this.#shapes[id] = JSON.parse(value) as [string[], number[]];
      this.#loadedShape = Math.max(this.#loadedShape, id);
    } else {
      this.#strings[id] = value;
      this.#loadedString = Math.max(this.#loadedString, id);
    }
    return id;
  }

  #entry<T>(list: T[], id: number): T {
    if (list[id] === undefined) this.#load();
    const v = list[id];
    if (v === undefined) throw new Error(`compact document names entry ${id}, which the store does not hold`);
    return v;
  }

  /**
   * The compact form of a document whose JSON text (encodeDoc) is `text`, or null when it has
   * none that reads back as exactly that text. Must run inside a write transaction (new
   * dictionary entries are written in it).
   */
  encode(doc: unknown, cols: RowColumns, text: string): Uint8Array | null {
    const w = new Writer();
    w.byte(FORMAT);
    try {
      if (!this.#inline(w, doc, cols, '')) return null;
      const blob = w.buf.slice(0, w.n);
      // The proof that nothing is lost: what readers will get writes the same text, dates
      // written the way the text writes them.
      const decoded = this.decode(blob, cols);
      // The text's own style first: an imported line without ".000Z" is seldom the store's.
      const styles = text.includes('.000Z"') || !text.includes('$date') ? [0, 1, 2] : [1, 2, 0];
      for (const style of styles) {
        if (textOf(decoded, style) !== text) continue;
        blob[0] = FORMAT + style;
        return blob;
      }
      return null;
    } catch {
      return null;
    }
  }

  /** The JSON text a compact document was stored from. */
  text(blob: Uint8Array, cols: RowColumns): string {
    return this.textLike(blob, this.decode(blob, cols));
  }

  /** A document's JSON text with its dates written as a compact one's text writes them (a changed copy of it, say). */
  textLike(blob: Uint8Array, doc: unknown): string {
    return textOf(doc, blob[0]! - FORMAT);
  }

  /** Writes a value's body and gives its head, or null when the value has no compact form. */
  #value(w: Writer, v: unknown, cols: RowColumns, key: string): number | null {
    if (v === null) return head(NULL);
    if (v === true) return head(TRUE);
    if (v === false) return head(FALSE);
    if (typeof v === 'number' || typeof v === 'string') {
      const col = cols.values.findIndex((c) => Object.is(c, v));
      if (col >= 0) return head(COL, col);
    }
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return null;
      const k = scaleOf(v);
      if (k === 0) return v < 0 ? (w.varint(-1 - v), head(INT, 1)) : (w.varint(v), head(INT));
      // Shorter than 8 bytes of float.
      if (k > 0 && Math.abs(v * POW10[k]!) < 2 ** 48) return (w.zigzag(Math.round(v * POW10[k]!)), head(DEC, k));
      return (w.f64(v), head(F64));
    }
    if (typeof v === 'string') {
      const id = v.length <= DICT_MAX_CHARS && !UNIQUE_KEYS.has(key) ? this.#idOf('string', v) : null;
      if (id !== null) return (w.varint(id), head(SREF));
      const packable = PACKABLE.exec(v);
      const prefix = packable ? this.#idOf('string', packable[1]!) : null;
      if (prefix !== null) {
        const bytes = base62Bytes(packable![2]!);
        w.varint(prefix);
        w.varint(packable![2]!.length);
        w.varint(bytes.length);
        w.bytes(bytes);
        return head(PACKED);
      }
      const b = UTF8.encode(v);
      w.varint(b.length);
      w.bytes(b);
      return head(STR);
    }
    if (v instanceof Date) {
      const t = v.getTime();
      if (!Number.isFinite(t)) return null;
      w.zigzag(t - cols.time);
      return head(DATE);
    }
    if (Array.isArray(v)) return this.#array(w, v, cols, key);
    if (typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) return this.#object(w, v as Record<string, unknown>, cols);
    return null;
  }

  #array(w: Writer, a: unknown[], cols: RowColumns, key: string): number | null {
    // All numbers at one scale (the gaps at the runner's microseconds): one head for the lot.
    if (a.length > 1 && a.every((x) => typeof x === 'number')) {
      let k = 0;
      for (const x of a as number[]) {
        const s = scaleOf(x);
        if (s < 0) {
          k = -1;
          break;
        }
        k = Math.max(k, s);
      }
      if (k >= 0) {
        // -0 has no unsigned form (its varint reads back as 0).
        const unsigned = (a as number[]).every((x) => x > 0 || Object.is(x, 0));
        if (unsigned) {
          // Packed in the bits the largest needs, where that is shorter than varints (the gaps: 13–17 bits each).
          const ints = (a as number[]).map((x) => Math.round(x * POW10[k]!));
          const width = Math.max(1, Math.ceil(Math.log2(Math.max(...ints) + 1)));
          const varintBytes = ints.reduce((n, m) => n + Math.max(1, Math.ceil(Math.log2(m + 1) / 7)), 0);
          if (width <= 52 && Math.ceil((ints.length * width) / 8) + 1 < varintBytes) {
            w.varint(ints.length);
            w.byte(width);
            w.bits(ints, width);
            return head(BITS, k);
          }
        }
        w.varint(a.length);
        for (const x of a as number[]) {
          const m = Math.round(x * POW10[k]!);
          if (unsigned) w.varint(m);
          else w.zigzag(m);
        }
        return head(NUMS, unsigned ? k + 8 : k);
      }
    }
    w.varint(a.length);
    for (const x of a) if (!this.#inline(w, x === undefined ? null : x, cols, key)) return null;
    return head(ARR);
  }

  /** A value with its head byte before its body (array elements, OBJI values). */
  #inline(w: Writer, v: unknown, cols: RowColumns, key: string): boolean {
    // The head's byte is reserved, then the body written after it, then the head put in.
    const at = w.n;
    w.byte(0);
    const h = this.#value(w, v, cols, key);
    if (h === null) return false;
    w.buf[at] = h;
    return true;
  }

  #object(w: Writer, o: Record<string, unknown>, cols: RowColumns): number | null {
    // Keys JSON leaves out (undefined, functions) are left out here too.
    const keys = Object.keys(o).filter((k) => o[k] !== undefined && typeof o[k] !== 'function');
    if (keys.includes('__proto__')) return null;
    const body = new Writer(64);
    const heads: number[] = [];
    for (const k of keys) {
      const h = this.#value(body, o[k], cols, k);
      if (h === null) return null;
      heads.push(h);
    }
    const id = this.#idOf('shape', JSON.stringify([keys, heads]));
    if (id !== null) {
      w.varint(id);
      w.bytes(body.buf.subarray(0, body.n));
      return head(OBJ);
    }
    w.varint(keys.length);
    for (const k of keys) {
      const b = UTF8.encode(k);
      w.varint(b.length);
      w.bytes(b);
      if (!this.#inline(w, o[k], cols, k)) return null;
    }
    return head(OBJI);
  }

  /**
   * The value at a path of keys in a compact document, as decode() would give it there, or
   * undefined where there is none; only that value is built: the others are passed over.
   */
  field(blob: Uint8Array, cols: RowColumns, path: string[]): unknown {
    const r = new Reader(blob);
    r.byte();
    let h = r.byte();
    for (const key of path) {
      const tag = h >> 4;
      let keys: readonly string[];
      let heads: readonly number[] | null = null;
      if (tag === OBJ) [keys, heads] = this.#entry(this.#shapes, r.varint());
      else if (tag === OBJI) return (this.#read(r, h, cols) as Record<string, unknown>)?.[key];
      else return undefined;
      const at = keys.indexOf(key);
      if (at < 0) return undefined;
      for (let i = 0; i < at; i++) this.#skip(r, heads[i]!);
      h = heads[at]!;
    }
    return this.#read(r, h, cols);
  }

  /** Passes over a value's body. */
  #skip(r: Reader, h: number): void {
    switch (h >> 4) {
      case INT:
      case DEC:
      case SREF:
      case DATE:
        r.varint();
        return;
      case F64:
        r.take(8);
        return;
      case STR:
        r.take(r.varint());
        return;
      case PACKED:
        r.varint();
        r.varint();
        r.take(r.varint());
        return;
      case BITS: {
        const n = r.varint();
        r.take(Math.ceil((n * r.byte()) / 8));
        return;
      }
      case NUMS:
        for (let n = r.varint(); n > 0; n--) r.varint();
        return;
      case ARR:
        for (let n = r.varint(); n > 0; n--) this.#skip(r, r.byte());
        return;
      case OBJ:
        for (const eh of this.#entry(this.#shapes, r.varint())[1]) this.#skip(r, eh);
        return;
      case OBJI:
        for (let n = r.varint(); n > 0; n--) {
          r.take(r.varint());
          this.#skip(r, r.byte());
        }
        return;
      default:
        // NULL, FALSE, TRUE, COL: no body.
        return;
    }
  }

  /** The document a compact value holds, as decodeDoc gives a JSON one (Dates as Dates). */
  decode<T>(blob: Uint8Array, cols: RowColumns): T {
    const r = new Reader(blob);
    const format = r.byte();
    if (format < FORMAT || format >= FORMAT + DATE_STYLES) throw new Error(`compact document of format ${format}, which this version does not read`);
    return this.#read(r, r.byte(), cols) as T;
  }

  #read(r: Reader, h: number, cols: RowColumns): unknown {
    const tag = h >> 4;
    const param = h & 15;
    switch (tag) {
      case NULL:
        return null;
      case FALSE:
        return false;
      case TRUE:
        return true;
      case INT:
        return param === 1 ? -1 - r.varint() : r.varint();
      case F64:
        return r.f64();
      case DEC:
        return r.zigzag() / POW10[param]!;
      case STR:
        return r.utf8(r.varint());
      case SREF:
        return this.#entry(this.#strings, r.varint());
      case DATE:
        return new Date(cols.time + r.zigzag());
      case COL: {
        const v = cols.values[param] as unknown;
        return v instanceof Uint8Array ? runIdText(v as SQLOutputValue) : (v ?? null);
      }
      case ARR: {
        const n = r.varint();
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = this.#read(r, r.byte(), cols);
        return out;
      }
      case PACKED: {
        const prefix = this.#entry(this.#strings, r.varint());
        const chars = r.varint();
        return prefix + base62Text(r.take(r.varint()), chars);
      }
      case BITS: {
        const unit = POW10[param]!;
        const n = r.varint();
        const width = r.byte();
        return r.bits(n, width).map((m) => m / unit);
      }
      case NUMS: {
        const unit = POW10[param & 7]!;
        const n = r.varint();
        const out = new Array<number>(n);
        for (let i = 0; i < n; i++) out[i] = (param & 8 ? r.varint() : r.zigzag()) / unit;
        return out;
      }
      case OBJ: {
        const [keys, heads] = this.#entry(this.#shapes, r.varint());
        const o: Record<string, unknown> = {};
        for (let i = 0; i < keys.length; i++) o[keys[i]!] = this.#read(r, heads[i]!, cols);
        return dated(o, keys);
      }
      case OBJI: {
        const n = r.varint();
        const keys: string[] = [];
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const k = r.utf8(r.varint());
          keys.push(k);
          o[k] = this.#read(r, r.byte(), cols);
        }
        return dated(o, keys);
      }
      default:
        throw new Error(`compact document has an unknown value head ${h}`);
    }
  }
}

/** As decodeDoc reads JSON: {"$date": ISO} alone is a Date. */
function dated(o: Record<string, unknown>, keys: string[]): unknown {
  return keys.length === 1 && keys[0] === '$date' && typeof o.$date === 'string' ? new Date(o.$date) : o;
}

/** JSON with Dates tagged as {"$date": ISO}: the store's text form of a document (connection.ts re-exports it as encodeDoc). */
export function encodeText(doc: unknown): string {
  return JSON.stringify(doc, function (this: Record<string, unknown>, key, value) {
    const original = this[key];
    return original instanceof Date ? { $date: original.toISOString() } : value;
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A run_id as a compact table keeps it: a lowercase UUID as its 16 bytes, anything else as text. */
export function runIdKey(id: string): string | Uint8Array {
  return UUID.test(id) ? Buffer.from(id.replaceAll('-', ''), 'hex') : id;
}

/** The run_id a key column holds, as text. */
export function runIdText(key: SQLOutputValue): string {
  if (!(key instanceof Uint8Array)) return key as string;
  const h = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The columns a row's document is read from, `doc` first (metricSql().docColumns). */
export function docColumns(kind: RowKind): string[] {
  return ['doc', ...ROW_REFS[kind].columns, ROW_REFS[kind].time];
}

const codecs = new WeakMap<DatabaseSync, DocCodec>();
/** The dictionaries of an open database (one per connection: another process's entries are read as they appear). */
export function codecOf(db: DatabaseSync): DocCodec {
  let codec = codecs.get(db);
  if (!codec) codecs.set(db, (codec = new DocCodec(db)));
  return codec;
}

/** A row read with docColumns(kind), by name, as the columns a compact document refers to. */
export function rowColumns(kind: RowKind, row: Record<string, SQLOutputValue>): RowColumns {
  return {
    values: ROW_REFS[kind].columns.map((c) => (c === 'run_id' ? runIdText(row.run_id!) : (row[c] as string | number | null))),
    time: row[ROW_REFS[kind].time] as number,
  };
}

/**
 * doc_field(path, kind, doc, …: the rest of docColumns(kind) in order): one field of a compact
 * row's document as json_extract would give it from the JSON text ('a.b' for '$.a.b'; a Date's
 * '$date' is its ISO text; true and false are 1 and 0; an object or array is its JSON text), for
 * the few reads that take a field from any document (the health mail's once-a-day reads). Only
 * that field is decoded (a week of rows, decoded whole, took 200 MB and 1.7 s).
 */
export function registerDocField(db: DatabaseSync): void {
  const paths = new Map<string, { keys: string[]; dateText: boolean }>();
  db.function('doc_field', { deterministic: true, varargs: true }, (path: SQLOutputValue, _kind: SQLOutputValue, ...values: SQLOutputValue[]) => {
    let p = paths.get(path as string);
    if (!p) {
      const keys = (path as string).split('.');
      // A Date's "$date" is its text, as json_extract reads {"$date": …} from the JSON.
      const dateText = keys.at(-1) === '$date';
      paths.set(path as string, (p = { keys: dateText ? keys.slice(0, -1) : keys, dateText }));
    }
    // values: docColumns(kind) in order: the document, the referenced columns (run_id first), the time.
    // run_id stays as stored (16 bytes for a UUID): made text only if the field is it (#read's COL).
    const refs = values.slice(1, -1) as Array<string | number | null>;
    let v = codecOf(db).field(values[0] as Uint8Array, { values: refs, time: values.at(-1) as number }, p.keys);
    if (p.dateText) v = v instanceof Date ? v.toISOString() : undefined;
    if (v === undefined || v === null || typeof v === 'string' || typeof v === 'number') return v ?? null;
    if (typeof v === 'boolean') return v ? 1 : 0;
    return encodeText(v);
  });
}
