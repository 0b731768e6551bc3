// bench:site: how long the status site and the KPI queries take on a big embedded store.
//   1. The site for 200 models × 30 days (the overview's daily medians and success strip), one
//      run every 30 minutes (288,000 metric rows, a tenth of them another scenario's, in the
//      probe table as the store puts them) and 28,800 errors: generation (read, render, atomic
//      write) under 2 s; page weight under 1 MB.
//   2. KPIs (p50/p95/p99 of four measures per model, scenario, provider and overall) over
//      1,000,000 metric rows and 100,000 errors, every row inside the window (the worst case):
//      under 1 s.
// Both stores also hold 2,000 TinyFish agent runs of the last 7 days (agents.html, the
// agent-run KPIs), a tenth of them failed or timed out, a tenth simulated.
// Each measurement runs in a fresh child process on a temp SQLite file seeded with raw rows in
// the store's own schema (the KPI columns filled by its trigger), so nothing is cached.
//
//   node --import tsx test/perf/site.ts [--models N] [--kpi-rows N] [--kpi-errors N] [--agent-runs N] [--keep]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateSite } from '../../lib/site/write.ts';
import { encodeDoc } from '../../lib/store/sqlite/connection.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { gaussian, seededRandom } from '../fakes/random.ts';
import { makeAgentRun, makeMetric } from '../fixtures.ts';
import { finishSeeding, openForSeeding, randomModels, rowWriter, seedErrorRows } from './seed-rows.ts';

const { values } = parseArgs({
  options: {
    models: { type: 'string', default: '200' },
    'kpi-rows': { type: 'string', default: '1000000' },
    'kpi-errors': { type: 'string', default: '100000' },
    'agent-runs': { type: 'string', default: '2000' },
    keep: { type: 'boolean', default: false },
    measure: { type: 'string' },
    path: { type: 'string' },
    now: { type: 'string' },
  },
});

const PROVIDERS = ['openai', 'anthropic', 'groq', 'together', 'deepinfra', 'fireworks', 'cerebras', 'bedrock', 'mock'];
const DAY_MS = 86_400_000;
const HALF_HOUR_MS = 1_800_000;
/** The site's store spans the overview's 30 days of daily medians. */
const SITE_DAYS = 30;

if (values.measure === 'site') await measureSite(values.path!, new Date(values.now!));
else if (values.measure === 'kpis') await measureKpis(values.path!, new Date(values.now!));
else await main();

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'llm-bench-bench-site-'));
  const now = new Date();
  const nModels = Number(values.models);
  let failed = false;
  try {
    // 1. The site: every model every 30 minutes for 30 days, one error per ten runs.
    const sitePath = join(dir, 'site.sqlite');
    const perModel = Math.floor((SITE_DAYS * DAY_MS) / HALF_HOUR_MS);
    let t0 = performance.now();
    const site = seed(sitePath, { nModels, nMetrics: nModels * perModel, nErrors: Math.round((nModels * perModel) / 10), days: SITE_DAYS, now, everyHalfHour: true });
    console.log(
      `seeded ${site.metrics.toLocaleString('en')} metrics, ${site.errors.toLocaleString('en')} errors and ${site.agentRuns.toLocaleString('en')} agent runs for ${nModels} models over ${SITE_DAYS} days in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    failed = child('site', sitePath, now) || failed;

    // 2. KPIs over a million rows, all inside the 7-day window.
    const kpiPath = join(dir, 'kpis.sqlite');
    t0 = performance.now();
    const kpi = seed(kpiPath, { nModels, nMetrics: Number(values['kpi-rows']), nErrors: Number(values['kpi-errors']), days: 7, now, everyHalfHour: false });
    const size = statSync(kpiPath).size;
    console.log(`seeded ${kpi.metrics.toLocaleString('en')} metrics and ${kpi.errors.toLocaleString('en')} errors in ${((performance.now() - t0) / 1000).toFixed(1)} s (${(size / 1e6).toFixed(0)} MB on disk)`);
    failed = child('kpis', kpiPath, now) || failed;
  } finally {
    if (values.keep) console.log(`kept ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
  console.log(`load average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} cores`);
  if (failed) process.exitCode = 1;
}

function child(measure: string, path: string, now: Date): boolean {
  console.log(`load average before ${measure}: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--measure', measure, '--path', path, '--now', now.toISOString()], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return r.status !== 0;
}

function seed(
  path: string,
  o: { nModels: number; nMetrics: number; nErrors: number; days: number; now: Date; everyHalfHour: boolean },
): { metrics: number; errors: number; agentRuns: number } {
  const db = openForSeeding(path);
  const random = seededRandom(15);
  const models = randomModels(o.nModels, PROVIDERS, random);
  const end = o.now.getTime();
  const span = o.days * DAY_MS;
  // Rows of another scenario go to the probe table, as the store's insertMetric sends them.
  const rows = rowWriter(db);
  db.exec('BEGIN');
  for (const m of models) rows.model(m.provider, m.model, new Date(end - span));
  for (let i = 0; i < o.nMetrics; i++) {
    const m = models[i % models.length]!;
    const ts = o.everyHalfHour ? end - 60_000 - Math.floor(i / models.length) * HALF_HOUR_MS : Math.floor(end - 1 - random() * span);
    const tps = m.tps * Math.exp(0.1 * gaussian(random));
    const ttft = m.ttft * Math.exp(0.2 * gaussian(random));
    const doc = makeMetric({
      provider: m.provider,
      model_name: m.model,
      run_ts: new Date(ts),
      generate_time: 64 / tps + ttft,
      tokens_per_second: tps,
      generated_tokens_per_second: tps,
      visible_tokens_per_second: tps,
      time_to_first_token: ttft,
      decode_tokens_per_second: tps * 1.1,
      benchmark_profile_id: i % 10 === 9 ? 'cloud-long-v1' : 'cloud-default-v1',
      times_between_tokens: [],
      runner: 'bench',
      ...(m.provider === 'mock' ? { mock: true } : {}),
    });
    rows.metric(doc);
  }
  // Errors at random times: the window's end is excluded, as a query's `until` is.
  seedErrorRows(db, { n: o.nErrors, models, end: end - 1, span, random });
  const agentRuns = Number(values['agent-runs']);
  seedAgentRuns(db, { n: agentRuns, end: end - 1, span: 7 * DAY_MS, random });
  finishSeeding(db);
  return { metrics: o.nMetrics, errors: o.nErrors, agentRuns };
}

/** n agent runs of 10 automations × 2 scenarios at random times: 7% failed, 3% timed out, 10% simulated. */
function seedAgentRuns(db: ReturnType<typeof openForSeeding>, o: { n: number; end: number; span: number; random: () => number }): void {
  const insert = db.prepare('INSERT INTO agent_runs (run_id, automation, scenario_id, started_at, status, doc) VALUES (?, ?, ?, ?, ?, ?)');
  for (let i = 0; i < o.n; i++) {
    const r = o.random();
    const status = r < 0.07 ? 'failed' : r < 0.1 ? 'timeout' : 'completed';
    const mock = i % 10 === 0;
    const doc = makeAgentRun({
      automation: mock ? 'mock-steps-4' : `automation-${i % 10}`,
      scenario_id: Math.floor(i / 10) % 2 ? 'agent-pricing-v1' : 'agent-search-v1',
      started_at: new Date(Math.floor(o.end - o.random() * o.span)),
      status,
      total_duration_ms: status === 'timeout' ? 300_000 : Math.round(20_000 * Math.exp(0.4 * gaussian(o.random))),
      time_to_first_progress_ms: status === 'completed' ? Math.round(2000 * Math.exp(0.3 * gaussian(o.random))) : null,
      error: status === 'completed' ? null : status === 'timeout' ? 'No COMPLETE event within 300 s' : 'TinyFish reported FAILED: the page did not load',
      error_kind: status === 'completed' ? null : status === 'timeout' ? 'timeout' : 'run_failed',
      mock,
    });
    insert.run(doc.run_id, doc.automation, doc.scenario_id, doc.started_at.getTime(), doc.status, encodeDoc(doc));
  }
}

async function measureSite(path: string, now: Date): Promise<void> {
  const siteDir = join(path, '..', 'site');
  // CPU time beside wall time: on a shared machine the wall time says as much about the others.
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const store = openSqliteStore(path);
  const r = await generateSite(store, siteDir, now);
  await store.close();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const sizes = readdirSync(siteDir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => ({ name: join(e.parentPath, e.name).slice(siteDir.length + 1), bytes: statSync(join(e.parentPath, e.name)).size }));
  const pages = sizes.filter((s) => s.name.endsWith('.html')).sort((a, b) => b.bytes - a.bytes);
  const kb = (n: number) => `${(n / 1024).toFixed(0)} KiB`;
  const heaviest = pages[0]!;
  console.log(
    `site: ${seconds.toFixed(2)} s (CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s) for ${r.files} files (target < 2 s); heaviest page ${heaviest.name} ${kb(heaviest.bytes)} (target < 1 MB; a page loads nothing else), ` +
      `a model page ${kb(pages.find((p) => p.name.startsWith('models/'))!.bytes)}, all ${pages.length} pages ${kb(pages.reduce((n, p) => n + p.bytes, 0))}, JSON ${kb(sizes.filter((s) => s.name.endsWith('.json')).reduce((n, s) => n + s.bytes, 0))}`,
  );
  if (seconds >= 2 || heaviest.bytes >= 1024 * 1024) process.exitCode = 1;
}

async function measureKpis(path: string, now: Date): Promise<void> {
  const store = openSqliteStore(path);
  const week = { since: new Date(now.getTime() - 7 * DAY_MS), until: now };
  const day = { since: new Date(now.getTime() - DAY_MS), until: now };
  const time = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const t0 = performance.now();
    const v = await f();
    return [v, (performance.now() - t0) / 1000];
  };
  const [all, allSeconds] = await time(() => store.metricKpis(week));
  const [, daySeconds] = await time(() => store.metricKpis(day));
  const [, providerSeconds] = await time(() => store.metricKpis(week, { provider: 'groq' }));
  const [, runsSeconds] = await time(() => store.recentRuns({ since: week.since, limit: 100 }));
  const [agents, agentSeconds] = await time(() => store.agentRunKpis(week));
  await store.close();
  console.log(
    `kpis: ${allSeconds.toFixed(2)} s over ${all.overall.successes.toLocaleString('en')} successes and ${all.overall.failures.toLocaleString('en')} failures ` +
      `(${all.models.length} model/scenario groups, every row in the window; target < 1 s); last day ${daySeconds.toFixed(2)} s; one provider ${providerSeconds.toFixed(2)} s; ` +
      `latest 100 runs ${runsSeconds.toFixed(3)} s; agent-run KPIs ${agentSeconds.toFixed(3)} s over ${agents.overall.runs.toLocaleString('en')} runs (${agents.groups.length} groups)`,
  );
  if (allSeconds >= 1) process.exitCode = 1;
}
