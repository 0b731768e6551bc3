// npm run test:mutation [-- --concurrency 2] [--module PART]… [--list] [--min-score 90]
// Plants each mutant of test/mutation/mutants.ts in a scratch copy of the working tree, runs
// the tests that reach its module, and prints what survived, what is stale, and the score per
// module and overall. Exit 0 when the score is at least --min-score, 1 when below or when a
// module's tests fail without any mutant, 2 on bad usage.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatReport, judge, makeScratch, plant, removeScratch, runTests, score, type ModuleMutants, type MutantResult } from './harness.ts';
import { MODULES } from './mutants.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function usage(message: string): never {
  console.error(`${message}\nusage: npm run test:mutation -- [--concurrency N] [--module PART]… [--list] [--min-score PERCENT]`);
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      concurrency: { type: 'string', default: '2' },
      module: { type: 'string', multiple: true, default: [] },
      list: { type: 'boolean', default: false },
      'min-score': { type: 'string', default: '90' },
    },
  }).values;
} catch (err) {
  usage((err as Error).message);
}
const concurrency = Number(args.concurrency);
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > availableParallelism()) {
  usage(`--concurrency must be a whole number from 1 to ${availableParallelism()} (got ${args.concurrency})`);
}
const minScore = Number(args['min-score']);
if (!Number.isFinite(minScore)) usage(`--min-score must be a number (got ${args['min-score']})`);

const selected = MODULES.filter((m) => args.module.length === 0 || args.module.some((p) => m.module.includes(p)));
if (selected.length === 0) usage(`no module matches ${args.module.join(', ')}`);

// --list: every mutant, and whether it can still be planted in the working tree, without running anything.
if (args.list) {
  for (const m of selected) {
    console.log(`${m.module}  (${m.tests.join(' ')})`);
    const source = existsSync(`${root}/${m.module}`) ? readFileSync(`${root}/${m.module}`, 'utf8') : null;
    m.mutants.forEach((x, i) => {
      const planted = source === null ? { ok: false, reason: 'module not found' } : plant(source, x);
      const state = x.equivalent ? `  [equivalent: ${x.equivalent}]` : planted.ok ? '' : `  [STALE: ${planted.reason}]`;
      console.log(`  #${i + 1} ${x.bug}${state}`);
    });
  }
  process.exit(0);
}

// A module whose file or tests are gone is reported with its mutants as stale, not run.
const runnable: ModuleMutants[] = [];
const results: MutantResult[] = [];
for (const m of selected) {
  const missing = [m.module, ...m.tests].filter((f) => !existsSync(`${root}/${f}`));
  if (missing.length === 0) runnable.push(m);
  else m.mutants.forEach((mutant, i) => results.push({ module: m.module, index: i + 1, mutant, verdict: 'stale', note: `missing ${missing.join(', ')}`, ms: 0 }));
}

const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' })
  .split('\0')
  .filter((f) => f && !f.startsWith('node_modules/'));
const scratches = await Promise.all(Array.from({ length: concurrency }, () => makeScratch(root, files)));
const cleanup = () => Promise.all(scratches.map(removeScratch));
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(130));
  });
}

/** Runs `jobs` over the scratch copies, one job per copy at a time. */
async function pool<T>(jobs: Array<(dir: string) => Promise<T>>): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  await Promise.all(
    scratches.map(async (dir) => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!(dir);
      }
    }),
  );
  return out;
}

const started = Date.now();
try {
  // The unmutated tests must pass, or a failure says nothing about a mutant; their time sets the limit.
  const baselines = await pool(
    runnable.map((m) => async (dir) => {
      const r = await runTests(dir, m.tests, 600_000);
      console.log(`baseline ${m.module}: ${r.outcome} in ${(r.ms / 1000).toFixed(1)} s${r.firstFailure ? ` (${r.firstFailure})` : ''}`);
      return { module: m, ...r };
    }),
  );
  const baselineFailures = baselines.filter((b) => b.outcome !== 'passed').map((b) => ({ module: b.module.module, note: `${b.outcome}: ${b.firstFailure}` }));
  const judged = baselines.filter((b) => b.outcome === 'passed');
  const total = judged.reduce((n, b) => n + b.module.mutants.length, 0);
  let done = 0;
  const jobs = judged.flatMap((b) =>
    b.module.mutants.map((_, i) => async (dir: string) => {
      // Several times the clean run: a loaded machine slows both, and a mutant that loops is cut.
      const r = await judge(dir, b.module, i + 1, Math.max(30_000, 3 * b.ms + 10_000));
      done += 1;
      const secs = r.ms ? ` ${(r.ms / 1000).toFixed(1)} s` : '';
      console.log(`[${done}/${total}] ${r.verdict.padEnd(10)} ${r.module} #${r.index}: ${r.mutant.bug}${secs}${r.verdict === 'killed' && r.note ? ` ← ${r.note}` : r.verdict === 'stale' ? ` (${r.note})` : ''}`);
      return r;
    }),
  );
  results.push(...(await pool(jobs)));
  results.sort((a, b) => MODULES.findIndex((m) => m.module === a.module) - MODULES.findIndex((m) => m.module === b.module) || a.index - b.index);
  console.log(formatReport(results, baselineFailures));
  const s = score(results);
  console.log(`\n${new Date().toISOString().slice(0, 10)}, ${((Date.now() - started) / 60_000).toFixed(1)} min, --concurrency ${concurrency}`);
  process.exitCode = baselineFailures.length > 0 || (s.percent !== null && s.percent < minScore) ? 1 : 0;
} finally {
  await cleanup();
}
