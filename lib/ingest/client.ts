// The remote runner's side of SPEC 9: a result sink that posts to the ingest server, a local
// spool for what cannot be delivered now, and the runner config read from the server.
//
// Nothing measured is lost: a result the server does not acknowledge (network error,
// timeout, 5xx, 408, 429, and also 401/403/404, which mean this runner's key or URL is wrong,
// not that the result is) is written to the spool directory, one file per result, atomically
// (temp file, fsync, rename, fsync of the directory), and the sink still answers 'stored' so
// the sweep goes on. flushSpool() delivers the spool with POST /ingest/batch and deletes a
// file only once the server acknowledged it (accepted or duplicate). A result the server
// refuses for good (any other 4xx: invalid, model not enabled, too large) is moved to
// `rejected/` inside the spool directory, with the reason, for the operator to read; it is
// never retried. run_id makes redelivery harmless, so a result delivered whose answer was
// lost is simply reported as a duplicate next time.
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, stat, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { ConfigError, type Config } from '../config.ts';
import type { AgentRunDoc, ErrorDoc, MetricDoc, ModelDoc } from '../store/documents.ts';
import { deprecationDay } from '../store/documents.ts';
import { BenchError, classifyError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { InsertResult } from '../store/store.ts';
import { RESULT_PATHS, RESULT_TYPES, resultModel, type ResultDoc, type ResultType } from './routes.ts';

export interface FlushResult {
  /** Spooled results the server acknowledged (accepted or duplicate); their files are gone. */
  delivered: number;
  /** Spooled results the server refused for good; moved to rejected/. */
  dropped: number;
  /** Results still in the spool (the server could not be reached, or another process is flushing). */
  remaining: number;
}

export interface RemoteRunner {
  sink: {
    insertMetric(doc: MetricDoc): Promise<InsertResult>;
    insertError(doc: ErrorDoc): Promise<InsertResult>;
    /** TinyFish automation runs (SPEC 4.6), through POST /ingest/agent-run. */
    insertAgentRun(doc: AgentRunDoc): Promise<InsertResult>;
  };
  /**
   * The enabled, not deprecated models of a provider, with their misc.
   * @throws BenchError (stage ingest) when the server cannot be reached or refuses.
   */
  runnerConfig(provider: string): Promise<ModelDoc[]>;
  /** Delivers spooled results. Never throws for delivery problems: they leave files in place. */
  flushSpool(): Promise<FlushResult>;
  /** Waits for sink calls in flight (and their spool writes) to finish. */
  close(): Promise<void>;
  /**
   * 401 or 403 when the server refused this runner's key (or URL) at any request so far, else
   * null: every result is then kept in the spool, and the run has failed even though nothing
   * was lost.
   */
  keyRefused(): number | null;
}

export interface RemoteRunnerOptions {
  logger?: Logger;
  fetch?: typeof fetch;
  /** Wall clock in ms, for spool timestamps. */
  now?: () => number;
  /** Time limit of each HTTP request (default 15 s). */
  timeoutMs?: number;
  /** Most results per POST /ingest/batch (default 100). */
  batchSize?: number;
  /** Largest JSON body per batch, kept under the server's INGEST_MAX_BODY_BYTES (default 512 KiB). */
  batchBytes?: number;
}


interface SpoolEntry {
  type: ResultType;
  doc: Record<string, unknown>;
  spooled_at: string;
  reason: string;
}

type Delivery =
  | { kind: 'acked'; status: InsertResult }
  | { kind: 'retry'; reason: string; httpStatus: number | null }
  | { kind: 'refused'; reason: string; httpStatus: number | null };

interface BatchItemAnswer {
  index: number;
  status: 'accepted' | 'duplicate' | 'rejected' | 'invalid' | 'failed';
  reason?: string;
  error?: { message?: string };
}

const LOCK_NAME = '.flush.lock';
const REJECTED_DIR = 'rejected';
// A temp file this old belongs to a writer that died between write and rename.
const STALE_TEMP_MS = 60 * 60_000;
// The flusher touches its lock before every request, and a request takes at most the request
// timeout: a lock untouched for four timeouts, and at least this long, belongs to a flusher
// that is gone.
const MIN_LOCK_STALE_MS = 2 * 60_000;

/**
 * Builds the remote runner for INGEST_API_URL. The URL may be the server's base
 * (`https://ingest.example`) or, as the upstream Python runner had it, the /ingest endpoint.
 * @throws ConfigError when INGEST_API_URL is not set.
 */
export function createRemoteRunner(config: Config, options: RemoteRunnerOptions = {}): RemoteRunner {
  const apiUrl = config.ingest.apiUrl;
  if (!apiUrl) throw new ConfigError(['INGEST_API_URL is not set: the remote runner needs the ingest server URL']);
  const base = apiUrl.replace(/\/+$/, '').replace(/\/ingest$/, '');
  const apiKey = config.ingest.apiKey;
  const spoolDir = config.ingest.spoolDir;
  const logger = options.logger ?? silentLogger;
  const fetchFn = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const batchSize = Math.max(1, options.batchSize ?? 100);
  const batchBytes = Math.max(1024, options.batchBytes ?? 512 * 1024);
  const pending = new Set<Promise<unknown>>();
  let keyRefused: number | null = null;

  function track<T>(p: Promise<T>): Promise<T> {
    pending.add(p);
    const done = () => pending.delete(p);
    p.then(done, done);
    return p;
  }

  async function request(method: 'GET' | 'POST', path: string, body?: string): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (apiKey) headers['x-api-key'] = apiKey;
    const res = await fetchFn(`${base}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (res.status === 401 || res.status === 403) keyRefused = res.status;
    return res;
  }

  async function deliver(type: ResultType, doc: ResultDoc): Promise<Delivery> {
    let res: Response;
    let text: string;
    try {
      res = await request('POST', RESULT_PATHS[type], JSON.stringify(doc));
      text = await res.text();
    } catch (err) {
      return { kind: 'retry', reason: classifyError(err).detail, httpStatus: null };
    }
    const answer = parseJson(text) as { status?: unknown; reason?: unknown; error?: { message?: unknown } } | null;
    if (res.ok) {
      if (answer?.status === 'accepted') return { kind: 'acked', status: 'stored' };
      if (answer?.status === 'duplicate') return { kind: 'acked', status: 'duplicate' };
      if (answer?.status === 'rejected') return { kind: 'refused', reason: String(answer.reason ?? 'rejected'), httpStatus: res.status };
      // A 2xx that is not our server's answer (a proxy's page): not an acknowledgement.
      return { kind: 'retry', reason: `HTTP ${res.status} without an ingest answer`, httpStatus: res.status };
    }
    const reason = `HTTP ${res.status}${describeAnswer(answer)}`;
    return isRetryable(res.status) ? { kind: 'retry', reason, httpStatus: res.status } : { kind: 'refused', reason, httpStatus: res.status };
  }

  async function insert(type: ResultType, doc: ResultDoc): Promise<InsertResult> {
    const target = `${type.replace('_', ' ')} ${doc.run_id} of ${doc.provider}/${resultModel(doc)}`;
    const d = await deliver(type, doc);
    if (d.kind === 'acked') return d.status;
    const entry: SpoolEntry = {
      type,
      doc: JSON.parse(JSON.stringify(doc)) as Record<string, unknown>,
      spooled_at: new Date(now()).toISOString(),
      reason: d.reason,
    };
    if (d.kind === 'refused') {
      await quarantine(spoolFileName(type, doc.run_id), entry, d.reason);
      throw new BenchError(`Ingest server refused the ${target}: ${d.reason}`, {
        kind: 'unknown',
        stage: 'ingest',
        httpStatus: d.httpStatus,
      });
    }
    let path: string;
    try {
      path = await writeSpool(spoolFileName(type, doc.run_id), entry);
    } catch (err) {
      throw new BenchError(`Cannot deliver the ${target} (${d.reason}) nor spool it to ${spoolDir}: ${(err as Error).message}`, {
        kind: 'unknown',
        stage: 'ingest',
        cause: err,
      });
    }
    const hint = d.httpStatus === 401 || d.httpStatus === 403 ? ' (check INGEST_API_KEY)' : d.httpStatus === 404 ? ' (check INGEST_API_URL)' : '';
    logger.warn(`Cannot deliver the ${target} to ${base}: ${d.reason}${hint}; kept in ${path} for the next run`);
    return 'stored';
  }

  async function writeSpool(name: string, entry: SpoolEntry): Promise<string> {
    await mkdir(spoolDir, { recursive: true, mode: 0o700 });
    const path = join(spoolDir, name);
    await writeFileAtomic(path, JSON.stringify(entry));
    return path;
  }

  async function quarantine(name: string, entry: SpoolEntry, reason: string): Promise<void> {
    const dir = join(spoolDir, REJECTED_DIR);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(join(dir, name), JSON.stringify({ ...entry, rejected_at: new Date(now()).toISOString(), rejected_reason: reason }));
  }

  async function runnerConfig(provider: string): Promise<ModelDoc[]> {
    const what = `the runner config for ${provider} from ${base}`;
    let res: Response;
    let text: string;
    try {
      res = await request('GET', `/runner-config?provider=${encodeURIComponent(provider)}`);
      text = await res.text();
    } catch (err) {
      const c = classifyError(err);
      throw new BenchError(`Cannot read ${what}: ${c.detail}`, { kind: c.kind, stage: 'ingest', cause: err });
    }
    const answer = parseJson(text) as { models?: unknown } | null;
    if (!res.ok || !Array.isArray(answer?.models)) {
      const c = classifyError(Object.assign(new Error(text), { status: res.status }));
      throw new BenchError(`Cannot read ${what}: HTTP ${res.status}${describeAnswer(answer)}`, {
        kind: res.ok ? 'unknown' : c.kind,
        stage: 'ingest',
        httpStatus: res.status,
      });
    }
    return (answer.models as Array<Record<string, unknown>>).map(reviveModel);
  }

  async function flushSpool(): Promise<FlushResult> {
    const result: FlushResult = { delivered: 0, dropped: 0, remaining: 0 };
    const names = await spooledNames();
    if (names.length === 0) return result;
    const lock = await acquireLock(join(spoolDir, LOCK_NAME), {
      now,
      staleMs: Math.max(MIN_LOCK_STALE_MS, 4 * timeoutMs),
      onBreak: (why) => logger.warn(`Spool ${spoolDir}: broke a stale flush lock (${why}); delivering the spool`),
    });
    if (!lock) {
      logger.info(`Spool ${spoolDir}: another process is delivering it; ${names.length} results left for it`);
      return { ...result, remaining: names.length };
    }
    try {
      await removeStaleTemps();
      let stopped: string | null = null;
      const counter = { unreadable: 0 };
      heartbeat = lock.heartbeat;
      for await (const group of batches(await spooledNames(), counter)) {
        const outcome = await deliverBatch(group);
        result.delivered += outcome.delivered;
        result.dropped += outcome.dropped;
        if (outcome.stop) {
          stopped = outcome.stop;
          break;
        }
      }
      result.dropped += counter.unreadable;
      result.remaining = (await spooledNames()).length;
      const line = `Spool ${spoolDir}: ${result.delivered} delivered, ${result.dropped} refused (moved to ${REJECTED_DIR}/), ${result.remaining} remaining`;
      if (stopped) logger.warn(`${line}; stopped: ${stopped}`);
      else logger.info(line);
      return result;
    } finally {
      heartbeat = async () => {};
      await lock.release();
    }
  }

  /** Touches the flush lock while this process holds it: before every request of a flush. */
  let heartbeat: () => Promise<void> = async () => {};

  interface Spooled {
    name: string;
    entry: SpoolEntry;
    json: string;
  }

  /**
   * Reads the files a batch at a time (a long outage can leave many) and yields batches under
   * batchSize items and batchBytes. A file that is not a spool entry is moved to rejected/
   * and counted in counter.unreadable.
   */
  async function* batches(names: string[], counter: { unreadable: number }): AsyncGenerator<Spooled[]> {
    let current: Spooled[] = [];
    // The body is {"items":[a,b,…]}: the envelope, then each item and a comma, in UTF-8 bytes.
    const envelope = Buffer.byteLength('{"items":[]}');
    let bytes = envelope;
    for (const name of names) {
      let entry: SpoolEntry;
      try {
        entry = JSON.parse(await readFile(join(spoolDir, name), 'utf8')) as SpoolEntry;
        if (!(RESULT_TYPES as readonly string[]).includes(entry.type) || !entry.doc || typeof entry.doc !== 'object') throw new Error('not a spool entry');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // delivered by someone else meanwhile
        logger.error(`Spool file ${name} is unreadable (${(err as Error).message}); moved to ${REJECTED_DIR}/`);
        await moveToRejected(name);
        counter.unreadable += 1;
        continue;
      }
      const json = JSON.stringify({ type: entry.type, doc: entry.doc });
      const size = Buffer.byteLength(json) + (current.length > 0 ? 1 : 0);
      if (current.length > 0 && (current.length >= batchSize || bytes + size > batchBytes)) {
        yield current;
        current = [];
        bytes = envelope;
      }
      current.push({ name, entry, json });
      bytes += Buffer.byteLength(json) + (current.length > 1 ? 1 : 0);
    }
    if (current.length > 0) yield current;
  }

  async function deliverBatch(group: Spooled[]): Promise<{ delivered: number; dropped: number; stop: string | null }> {
    let res: Response;
    let text: string;
    await heartbeat();
    try {
      res = await request('POST', '/ingest/batch', `{"items":[${group.map((s) => s.json).join(',')}]}`);
      text = await res.text();
    } catch (err) {
      return { delivered: 0, dropped: 0, stop: classifyError(err).detail };
    }
    const answer = parseJson(text) as { results?: BatchItemAnswer[]; error?: { message?: unknown } } | null;
    if (res.status === 413 && group.length > 1) {
      // Larger than the server's cap as a whole: try the items in halves.
      const half = Math.ceil(group.length / 2);
      const a = await deliverBatch(group.slice(0, half));
      if (a.stop) return a;
      const b = await deliverBatch(group.slice(half));
      return { delivered: a.delivered + b.delivered, dropped: a.dropped + b.dropped, stop: b.stop };
    }
    const results = answer?.results;
    if (!Array.isArray(results) || results.length !== group.length) {
      const reason = `HTTP ${res.status}${describeAnswer(answer)}`;
      if (!isRetryable(res.status) && res.status !== 200 && group.length === 1) {
        // One result the server refuses outright (e.g. 413 on its own): it will never pass.
        await quarantine(group[0]!.name, group[0]!.entry, reason);
        await removeSpooled(group[0]!.name);
        logger.warn(`Spooled ${group[0]!.name} refused by the ingest server: ${reason}; moved to ${REJECTED_DIR}/`);
        return { delivered: 0, dropped: 1, stop: null };
      }
      return { delivered: 0, dropped: 0, stop: reason };
    }
    let delivered = 0;
    let dropped = 0;
    for (const [i, s] of group.entries()) {
      const r = results[i]!;
      if (r.status === 'accepted' || r.status === 'duplicate') {
        await removeSpooled(s.name);
        delivered += 1;
      } else if (r.status === 'rejected' || r.status === 'invalid') {
        const reason = r.status === 'rejected' ? String(r.reason ?? 'rejected') : String(r.error?.message ?? 'invalid');
        await quarantine(s.name, s.entry, reason);
        await removeSpooled(s.name);
        logger.warn(`Spooled ${s.name} refused by the ingest server: ${reason}; moved to ${REJECTED_DIR}/`);
        dropped += 1;
      }
      // 'failed': the server's store failed on it; it stays for the next flush.
    }
    return { delivered, dropped, stop: res.ok ? null : `HTTP ${res.status}${describeAnswer(answer)}` };
  }

  async function spooledNames(): Promise<string[]> {
    try {
      return (await readdir(spoolDir)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
  }

  async function removeSpooled(name: string): Promise<void> {
    await unlink(join(spoolDir, name)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  async function moveToRejected(name: string): Promise<void> {
    await mkdir(join(spoolDir, REJECTED_DIR), { recursive: true, mode: 0o700 });
    await rename(join(spoolDir, name), join(spoolDir, REJECTED_DIR, name));
  }

  async function removeStaleTemps(): Promise<void> {
    for (const name of await readdir(spoolDir)) {
      if (!name.startsWith('.tmp-')) continue;
      const path = join(spoolDir, name);
      const info = await stat(path).catch(() => null);
      if (info && now() - info.mtimeMs > STALE_TEMP_MS) await unlink(path).catch(() => {});
    }
  }

  return {
    sink: {
      insertMetric: (doc) => track(insert('metric', doc)),
      insertError: (doc) => track(insert('error', doc)),
      insertAgentRun: (doc) => track(insert('agent_run', doc)),
    },
    runnerConfig: (provider) => track(runnerConfig(provider)),
    flushSpool: () => track(flushSpool()),
    close: async () => {
      await Promise.allSettled([...pending]);
    },
    keyRefused: () => keyRefused,
  };
}

/** 408, 429 and 5xx are the server's trouble; 401, 403 and 404 are this runner's key or URL. Neither is the result's fault. */
function isRetryable(status: number): boolean {
  return status >= 500 || status === 408 || status === 429 || status === 401 || status === 403 || status === 404;
}

/** The spool file of a result: its type and run_id, or a hash when the run_id is not a safe file name. */
export function spoolFileName(type: ResultType, runId: string): string {
  const safe = /^[A-Za-z0-9][A-Za-z0-9._-]{0,150}$/.test(runId) ? runId : `h-${createHash('sha256').update(runId).digest('hex').slice(0, 40)}`;
  return `${type}-${safe}.json`;
}

/**
 * Writes a file so that readers see either nothing or the whole of it: a temp file (a
 * dotfile, which the spool ignores) is written and fsynced, then renamed over the target,
 * and the directory is fsynced so the rename survives a power loss.
 * @throws the file system error; the temp file is removed first.
 */
export async function writeFileAtomic(path: string, data: string): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, `.tmp-${process.pid}-${randomUUID()}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
    await handle.close();
    await rename(temp, path);
  } catch (err) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw err;
  }
  const dirHandle = await open(dir, 'r');
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

/**
 * One flusher per spool directory at a time, across processes: a lock file naming its
 * owner (host, pid, the process's start time, a token), created whole (written to a temp
 * file, then hard-linked into place, which fails if the lock exists) so nobody ever reads a
 * half-written lock, and touched before every batch as a heartbeat. A lock is broken (with
 * a journal line) when its heartbeat is older than staleMs, whoever holds it (another host,
 * a process frozen for good), or at once when its owner on this host is dead or its pid now
 * belongs to a process started at another time (reused after a crash or a reboot). Two
 * processes breaking the same stale lock at the same instant could both flush; run_id makes
 * that harmless (the second delivery is a duplicate).
 */
async function acquireLock(
  path: string,
  options: { now: () => number; staleMs: number; onBreak: (why: string) => void },
): Promise<{ release(): Promise<void>; heartbeat(): Promise<void> } | null> {
  const owner = JSON.stringify({
    host: hostname(),
    pid: process.pid,
    started_at: new Date(Date.now() - process.uptime() * 1000).toISOString(),
    start_ticks: processStartTicks(process.pid),
    token: randomUUID(),
  });
  for (let attempt = 0; attempt < 2; attempt++) {
    const temp = join(dirname(path), `.tmp-lock-${process.pid}-${randomUUID()}`);
    await writeFile(temp, owner, { mode: 0o600 });
    try {
      await link(temp, path);
      const beat = async () => {
        const t = new Date(options.now());
        await utimes(path, t, t).catch(() => {});
      };
      await beat();
      return {
        heartbeat: beat,
        release: async () => {
          const current = await readFile(path, 'utf8').catch(() => null);
          if (current === owner) await unlink(path).catch(() => {});
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = await readFile(path, 'utf8').catch(() => null);
      const info = await stat(path).catch(() => null);
      if (holder === null || info === null) continue; // released meanwhile
      const why = lockStaleness(holder, options.now() - info.mtimeMs, options.staleMs);
      if (why === null) return null;
      options.onBreak(why);
      await unlink(path).catch(() => {});
    } finally {
      await unlink(temp).catch(() => {});
    }
  }
  return null;
}

/** Why a lock is stale, or null when its holder may still be flushing. */
function lockStaleness(holder: string, heartbeatAgeMs: number, staleMs: number): string | null {
  const owner = parseLockOwner(holder);
  const who = owner ? `pid ${owner.pid} on ${owner.host}` : `unreadable owner ${JSON.stringify(holder.slice(0, 80))}`;
  if (heartbeatAgeMs > staleMs) return `${who}, no heartbeat for ${Math.round(heartbeatAgeMs / 1000)} s`;
  if (!owner) return who;
  // Another host's process cannot be checked (a spool on shared storage): its heartbeat decides.
  if (owner.host !== hostname()) return null;
  try {
    process.kill(owner.pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return `${who}, which is not running`;
  }
  const ticks = processStartTicks(owner.pid);
  if (owner.startTicks !== null && ticks !== null && ticks !== owner.startTicks) return `${who}, a pid now used by another process`;
  return null;
}

/** The lock's owner: the JSON this version writes, or the `pid@host` of earlier versions. */
function parseLockOwner(text: string): { host: string; pid: number; startTicks: string | null } | null {
  const old = /^(\d+)@(.*)$/.exec(text.trim());
  if (old) return { pid: Number(old[1]), host: old[2]!, startTicks: null };
  const j = parseJson(text) as { host?: unknown; pid?: unknown; start_ticks?: unknown } | null;
  if (typeof j?.host !== 'string' || typeof j.pid !== 'number' || !Number.isInteger(j.pid) || j.pid <= 0) return null;
  return { host: j.host, pid: j.pid, startTicks: typeof j.start_ticks === 'string' ? j.start_ticks : null };
}

/**
 * When a process started, in clock ticks since boot (field 22 of /proc/<pid>/stat), so a
 * pid reused by a later process is told apart; null where there is no /proc.
 */
function processStartTicks(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function describeAnswer(answer: unknown): string {
  const a = answer as { reason?: unknown; error?: { message?: unknown } } | null;
  const message = a?.error?.message ?? a?.reason;
  return typeof message === 'string' && message ? `: ${message.slice(0, 300)}` : '';
}

function reviveModel(raw: Record<string, unknown>): ModelDoc {
  const date = (v: unknown): Date | null => (typeof v === 'string' ? new Date(v) : null);
  return {
    ...(raw as unknown as ModelDoc),
    created_at: date(raw.created_at) ?? (raw.created_at as Date),
    ...(raw.disabled_at !== undefined ? { disabled_at: date(raw.disabled_at) } : {}),
    ...(raw.deprecation_date !== undefined ? { deprecation_date: deprecationDay(raw.deprecation_date) } : {}),
  };
}
