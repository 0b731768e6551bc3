// bench:report: how long the full daily report takes on a big embedded store, and how much
// memory it needs. Seeds 1,000,000 metrics and 100,000 errors into a temp SQLite file (raw
// rows in the store's own schema, in time order as sweeps write them, each with its per-chunk
// gaps), then times every section of the report (no LLM, no mail) in a fresh child process so
// its peak RSS is the report's alone. Targets: under 5 s and under 300 MB. Then the daily
// rollups (SPEC 20): a rebuild of every day from the raw rows, KPIs over one year through them
// (target under 2 s) beside the exact 7-day read, and the file's bytes per metric row
// (indexes included), each with the load average (the machine may be shared).
//
//   node --import tsx test/perf/report.ts [--metrics N] [--errors N] [--models N] [--days D] [--keep] [--path FILE]
//
// --days is the span of history the rows are spread over (default 52: 400 models measured
// every 30 minutes make a million rows in 52 days). --days 8 puts every row inside the
// report's window and baseline, the worst case. --path measures a file kept by an earlier
// run (--keep) instead of seeding one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { ruleBasedAssessment } from '../../lib/health/assessment.ts';
import { collectHealthReport } from '../../lib/health/report.ts';
import { renderHealthMail } from '../../lib/health/render.ts';
import { SWEEP_RETENTION_LIMIT, refreshRollups, windowKpis } from '../../lib/store/rollups.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { gaussian, seededRandom } from '../fakes/random.ts';
import { makeMetric } from '../fixtures.ts';
import { percentiles } from '../../lib/bench/measure.ts';
import { finishSeeding, openForSeeding, randomModels, rowWriter, seedErrorRows } from './seed-rows.ts';

const { values } = parseArgs({
  options: {
    metrics: { type: 'string', default: '1000000' },
    errors: { type: 'string', default: '100000' },
    models: { type: 'string', default: '400' },
    days: { type: 'string', default: '52' },
    keep: { type: 'boolean', default: false },
    path: { type: 'string' },
    measure: { type: 'string' },
    what: { type: 'string', default: 'report' },
    seed: { type: 'string' },
    now: { type: 'string' },
  },
});

const PROVIDERS = ['openai', 'anthropic', 'groq', 'together', 'deepinfra', 'fireworks', 'cerebras', 'bedrock'];
const DAY_MS = 86_400_000;
const BASE62 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

if (values.seed) {
  seed(values.seed, { nMetrics: Number(values.metrics), nErrors: Number(values.errors), nModels: Number(values.models), days: Number(values.days), now: new Date(values.now!) });
} else if (values.measure) {
  if (values.what === 'report') await measure(values.measure, new Date(values.now!));
  else await measureRollups(values.measure, new Date(values.now!), values.what!);
} else {
  await main();
}

async function main(): Promise<void> {
  const nMetrics = Number(values.metrics);
  const nErrors = Number(values.errors);
  const nModels = Number(values.models);
  const days = Number(values.days);
  const dir = values.path ? null : mkdtempSync(join(tmpdir(), 'llm-bench-bench-report-'));
  const path = values.path ?? join(dir!, 'bench.sqlite');
  // A kept file's history ends at its newest row.
  const now = values.path ? newestRow(path) : new Date();
  try {
    if (!values.path) {
      const t0 = performance.now();
      // Seeded in a child: Linux carries a process's peak RSS across exec, so children spawned
      // by a process that seeded with a big page cache would report its peak, not their own.
      const seeding = spawnSync(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--seed', path, '--now', now.toISOString(), '--metrics', String(nMetrics), '--errors', String(nErrors), '--models', String(nModels), '--days', String(days)],
        { cwd: fileURLToPath(new URL('../..', import.meta.url)), stdio: ['ignore', 'inherit', 'inherit'] },
      );
      if (seeding.status !== 0) throw new Error('seeding failed');
      const seedSeconds = (performance.now() - t0) / 1000;
      const size = statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);
      console.log(`seeded ${nMetrics.toLocaleString('en')} metrics and ${nErrors.toLocaleString('en')} errors for ${nModels} models over ${days} days in ${seedSeconds.toFixed(1)} s (${(size / 1e6).toFixed(0)} MB on disk; ${load()})`);
    }
    // Each measurement in a fresh process, so each peak RSS is its own.
    // retention last: it changes the file.
    for (const what of ['report', 'rebuild', 'sweep', 'kpis', 'retention']) {
      const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', path, '--what', what, '--now', now.toISOString()], {
        cwd: fileURLToPath(new URL('../..', import.meta.url)),
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      if (child.status !== 0) process.exitCode = 1;
    }
    bytesPerRow(path);
  } finally {
    if (values.keep || !dir) console.log(`kept ${path}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function newestRow(path: string): Date {
  const db = new DatabaseSync(path, { readOnly: true });
  const { t } = db.prepare('SELECT MAX(run_ts) AS t FROM metrics').get() as { t: number };
  db.close();
  return new Date(t + 1);
}

function load(): string {
  return `load average ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`;
}

function seed(path: string, o: { nMetrics: number; nErrors: number; nModels: number; days: number; now: Date }): void {
  const db = openForSeeding(path);
  // Enough page cache that the indexes' insertion points stay in memory.
  db.exec('PRAGMA cache_size = -1000000');
  const random = seededRandom(1);
  // One model in fifty got 30% slower during the last day: the regression section has work.
  const models = randomModels(o.nModels, PROVIDERS, random).map((m) => ({ ...m, slowed: m.i % 50 === 7 }));
  const end = o.now.getTime();
  const span = o.days * DAY_MS;
  const rows = rowWriter(db);
  db.exec('BEGIN');
  for (const m of models) rows.model(m.provider, m.model, new Date(end - span));
  // In time order, every model in turn, as sweeps write them: the time indexes are appended to,
  // not split at random (random order made a 10-million-row seed take hours).
  for (let i = 0; i < o.nMetrics; i++) {
    const m = models[i % models.length]!;
    const ts = Math.floor(end - span + ((i + random()) / o.nMetrics) * span);
    const recent = end - ts < DAY_MS;
    const tps = m.tps * (m.slowed && recent ? 0.7 : 1) * Math.exp(0.1 * gaussian(random));
    const ttft = m.ttft * Math.exp(0.2 * gaussian(random));
    rows.metric(metricDoc(m.provider, m.model, new Date(ts), tps, ttft, uuidFrom(random), random));
    if (i % 200_000 === 199_999) {
      db.exec('COMMIT');
      db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
      db.exec('BEGIN');
    }
  }
  seedErrorRows(db, { n: o.nErrors, models, end, span, random });
  finishSeeding(db);
}

/** A random UUID (v4 layout) drawn from the seeded generator, as call.ts's randomUUID() gives each run. */
function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(random() * 4)]!;
  const h = hex.join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * A metric row as a sweep writes it (lib/bench/measure.ts): every field it sets, times as full
 * doubles, the gaps in whole microseconds, a provider's response id, rate-limit headers and raw
 * usage; the rest of the document is the fixture's.
 */
function metricDoc(provider: string, model: string, runTs: Date, tps: number, ttft: number, runId: string, random: () => number): MetricDoc {
  const generate_time = 64 / tps + ttft;
  // 40 chunks: 39 gaps, as measured in milliseconds, written in whole microseconds (seconds).
  const gap = ((generate_time - ttft) / 39) * 1000;
  const gapsMs = Array.from({ length: 39 }, () => gap * (0.5 + random()));
  const remaining = Math.floor(random() * 1000);
  return makeMetric({
    run_id: runId,
    cost_usd: 64 * 0.6e-6 + 14 * 0.15e-6,
    provider,
    model_name: model,
    run_ts: runTs,
    generate_time,
    output_tokens: 64,
    tokens_per_second: 64 / generate_time,
    generated_tokens_per_second: 64 / generate_time,
    visible_tokens_per_second: 64 / generate_time,
    time_to_first_token: ttft,
    time_to_first_byte: ttft * (0.8 + 0.1 * random()),
    decode_tokens_per_second: 63 / (generate_time - ttft),
    times_between_tokens: gapsMs.map((g) => Math.round(g * 1000) / 1e6),
    chunk_count: 40,
    inter_chunk_ms: percentiles(gapsMs),
    raw_finish_reason: 'length',
    response_id: `chatcmpl-${Array.from({ length: 29 }, () => BASE62[Math.floor(random() * 62)]).join('')}`,
    runner: 'bench',
    sweep_started_at: new Date(runTs.getTime() - Math.floor(random() * 60_000)),
    raw_usage: [{ prompt_tokens: 14, completion_tokens: 64, total_tokens: 78, prompt_tokens_details: { cached_tokens: 0 } }],
    served_model: model,
    rate_limit: { requests_limit: 1000, requests_remaining: remaining, tokens_limit: 200_000, tokens_remaining: remaining * 200, retry_after_s: null },
    time_to_64_visible_tokens_seconds: generate_time,
    connection_reused: random() < 0.9,
  });
}
async function measure(path: string, now: Date): Promise<void> {
  const rssBefore = process.memoryUsage().rss;
  const t0 = performance.now();
  const store = openSqliteStore(path);
  const report = await collectHealthReport(store, { now, sweepPeriodMinutes: 30 });
  await store.close();
  const mail = renderHealthMail(report, ruleBasedAssessment(report, 'benchmark: no LLM'));
  const seconds = (performance.now() - t0) / 1000;
  const peakMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `report: ${seconds.toFixed(2)} s (target < 5 s), peak RSS ${peakMb.toFixed(0)} MB (target < 300 MB; ${(rssBefore / 1e6).toFixed(0)} MB before the report, Node and tsx included)`,
  );
  console.log(
    `sections: ${report.providers.length} providers, ${report.totals.successes.toLocaleString('en')} successes and ${report.totals.errors.toLocaleString('en')} errors in the window, ` +
      `${report.failing_models.length} failing models, ${report.new_fingerprints.length} new fingerprints, ${report.stale_models.length} stale, ` +
      `${report.regressions.length} regressions, ${report.sparklines.length} sparklines; mail ${mail.text.length} + ${mail.html.length} characters`,
  );
  console.log(`load average while measuring: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`);
  if (seconds >= 5 || peakMb >= 300) process.exitCode = 1;
}

/** One rollup figure: a rebuild of all history, a sweep's refresh, KPIs over a year against 7 days raw, or a sweep's retention slice. */
async function measureRollups(path: string, now: Date, what: string): Promise<void> {
  const store = openSqliteStore(path);
  const peak = () => `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`;
  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const r = await f();
    return [r, (performance.now() - t0) / 1000];
  };
  try {
    if (what === 'rebuild') {
      const [days, s] = await timed(() => store.rebuildRollups({ since: new Date(0), until: now }, now));
      console.log(`rollups --rebuild: ${days.length} days, ${days.reduce((n, d) => n + d.cells, 0).toLocaleString('en')} rollup rows in ${s.toFixed(1)} s, ${peak()}; ${load()}`);
    } else if (what === 'sweep') {
      const [, s] = await timed(() => refreshRollups(store, { now, retention: { gapsDays: null, rowsDays: null, includeDashboard: false } }));
      console.log(`a sweep's rollup refresh (today${now.getTime() % DAY_MS < 3 * 3_600_000 ? ' and yesterday' : ''}): ${s.toFixed(2)} s, ${peak()}; ${load()}`);
    } else if (what === 'retention') {
      for (const [name, policy] of [['gaps', { gapsDays: 90, rowsDays: null }], ['rows', { gapsDays: null, rowsDays: 400 }]] as const) {
        const [r, s] = await timed(() => store.applyRetention({ now, ...policy, includeDashboard: false, limit: SWEEP_RETENTION_LIMIT }));
        console.log(`a sweep's retention slice (${name}, at most ${SWEEP_RETENTION_LIMIT.toLocaleString('en')} per table): ${JSON.stringify(r)} in ${s.toFixed(2)} s, ${peak()}; ${load()}`);
      }
    } else {
      const year = { since: new Date(now.getTime() - 365 * DAY_MS), until: now };
      const [summary, s] = await timed(() => windowKpis(store, year));
      console.log(`kpis over 365 days through the rollups: ${s.toFixed(2)} s (target < 2 s) for ${summary.models.length} groups, ${summary.overall.runs.toLocaleString('en')} runs, ${peak()}; ${load()}`);
      const week = { since: new Date(now.getTime() - 7 * DAY_MS), until: now };
      const [w, s7] = await timed(() => windowKpis(store, week));
      console.log(`kpis over 7 days, exact from the raw rows: ${s7.toFixed(2)} s for ${w.overall.runs.toLocaleString('en')} runs, ${peak()}; ${load()}`);
      if (s >= 2) process.exitCode = 1;
    }
  } finally {
    await store.close();
  }
}

/** The file's size over its metric rows, indexes (and rollups) included, from its page counts. */
function bytesPerRow(path: string): void {
  const db = new DatabaseSync(path, { readOnly: true });
  const one = (sql: string) => Object.values(db.prepare(sql).get() as Record<string, number>)[0]!;
  const bytes = (one('PRAGMA page_count') - one('PRAGMA freelist_count')) * one('PRAGMA page_size');
  const metrics = one('SELECT COUNT(*) FROM metrics');
  const errors = one('SELECT COUNT(*) FROM errors');
  db.close();
  console.log(
    `store: ${(bytes / 1e9).toFixed(2)} GB for ${metrics.toLocaleString('en')} metric rows (per-chunk gaps kept) and ${errors.toLocaleString('en')} errors: ` +
      `${Math.round(bytes / metrics)} B per metric row (file over metric rows, indexes included; target <= 500 B), ${Math.round(bytes / (metrics + errors))} B per row of either; ${load()}`,
  );
}
