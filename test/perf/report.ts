// bench:report: how long the full daily report takes on a big embedded store, and how much
// memory it needs. Seeds 1,000,000 metrics and 100,000 errors into a temp SQLite file (raw
// rows in one transaction, in the store's own schema), then times every section of the
// report (no LLM, no mail) in a fresh child process so its peak RSS is the report's alone.
// Targets: under 5 s and under 300 MB.
//
//   node --import tsx test/perf/report.ts [--metrics N] [--errors N] [--models N] [--days D] [--keep]
//
// --days is the span of history the rows are spread over (default 52: 400 models measured
// every 30 minutes make a million rows in 52 days). --days 8 puts every row inside the
// report's window and baseline, the worst case.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { ruleBasedAssessment } from '../../lib/health/assessment.ts';
import { collectHealthReport } from '../../lib/health/report.ts';
import { renderHealthMail } from '../../lib/health/render.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { gaussian, seededRandom } from '../fakes/random.ts';
import { makeMetric } from '../fixtures.ts';
import { finishSeeding, openForSeeding, randomModels, rowWriter, seedErrorRows } from './seed-rows.ts';

const { values } = parseArgs({
  options: {
    metrics: { type: 'string', default: '1000000' },
    errors: { type: 'string', default: '100000' },
    models: { type: 'string', default: '400' },
    days: { type: 'string', default: '52' },
    keep: { type: 'boolean', default: false },
    measure: { type: 'string' },
    now: { type: 'string' },
  },
});

const PROVIDERS = ['openai', 'anthropic', 'groq', 'together', 'deepinfra', 'fireworks', 'cerebras', 'bedrock'];
const DAY_MS = 86_400_000;

if (values.measure) {
  await measure(values.measure, new Date(values.now!));
} else {
  await main();
}

async function main(): Promise<void> {
  const nMetrics = Number(values.metrics);
  const nErrors = Number(values.errors);
  const nModels = Number(values.models);
  const days = Number(values.days);
  const dir = mkdtempSync(join(tmpdir(), 'llm-bench-bench-report-'));
  const path = join(dir, 'bench.sqlite');
  const now = new Date();
  try {
    const t0 = performance.now();
    seed(path, { nMetrics, nErrors, nModels, days, now });
    const seedSeconds = (performance.now() - t0) / 1000;
    const size = statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0);
    console.log(`seeded ${nMetrics.toLocaleString('en')} metrics and ${nErrors.toLocaleString('en')} errors for ${nModels} models over ${days} days in ${seedSeconds.toFixed(1)} s (${(size / 1e6).toFixed(0)} MB on disk)`);
    const child = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', path, '--now', now.toISOString()], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    if (child.status !== 0) process.exitCode = 1;
  } finally {
    if (values.keep) console.log(`kept ${path}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

function seed(path: string, o: { nMetrics: number; nErrors: number; nModels: number; days: number; now: Date }): void {
  const db = openForSeeding(path);
  const random = seededRandom(1);
  // One model in fifty got 30% slower during the last day: the regression section has work.
  const models = randomModels(o.nModels, PROVIDERS, random).map((m) => ({ ...m, slowed: m.i % 50 === 7 }));
  const end = o.now.getTime();
  const span = o.days * DAY_MS;
  const rows = rowWriter(db);
  db.exec('BEGIN');
  for (const m of models) rows.model(m.provider, m.model, new Date(end - span));
  for (let i = 0; i < o.nMetrics; i++) {
    const m = models[i % models.length]!;
    const ts = Math.floor(end - random() * span);
    const recent = end - ts < DAY_MS;
    const tps = m.tps * (m.slowed && recent ? 0.7 : 1) * Math.exp(0.1 * gaussian(random));
    const ttft = m.ttft * Math.exp(0.2 * gaussian(random));
    rows.metric(metricDoc(m.provider, m.model, new Date(ts), tps, ttft));
  }
  seedErrorRows(db, { n: o.nErrors, models, end, span, random });
  finishSeeding(db);
}

/** A metric row as a sweep writes it; the rest of the document is the fixture's. */
function metricDoc(provider: string, model: string, runTs: Date, tps: number, ttft: number): MetricDoc {
  const generate_time = 64 / tps + ttft;
  return makeMetric({
    provider,
    model_name: model,
    run_ts: runTs,
    generate_time,
    output_tokens: 64,
    tokens_per_second: tps,
    generated_tokens_per_second: tps,
    visible_tokens_per_second: tps,
    time_to_first_token: ttft,
    time_to_first_byte: ttft * 0.9,
    decode_tokens_per_second: tps * 1.1,
    times_between_tokens: [],
    chunk_count: 40,
    inter_chunk_ms: { p50: 10, p90: 14, p99: 30, max: 41 },
    response_id: null,
    runner: 'bench',
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
