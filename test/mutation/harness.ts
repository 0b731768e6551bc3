// The mutation harness (issue 29): plants one small, realistic bug at a time in a scratch copy
// of the tree, runs the tests that reach the mutated module, and records whether they noticed.
// StrykerJS drives this suite too (tap runner, tsx), but it generates about 8,400 mutants over
// these modules, mostly in log text, which takes hours on the project's 2-core machine; this
// list plants the bugs users would notice, and runs in minutes (README, Testing).
import { spawn } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** One planted bug: `find` (exactly once in the module, unless `occurrence` picks one) becomes `replace`. */
export interface Mutant {
  find: string;
  replace: string;
  /** What a user would see break, in one line. */
  bug: string;
  /** 1-based, when `find` occurs more than once on purpose. */
  occurrence?: number;
  /** Set when the mutant changes no behaviour: why, in one line. It is listed, not run. */
  equivalent?: string;
}

/** A module, the test files that reach it, and its mutants. */
export interface ModuleMutants {
  module: string;
  tests: string[];
  mutants: Mutant[];
}

export type Verdict = 'killed' | 'timeout' | 'survived' | 'equivalent' | 'stale';

export interface MutantResult {
  module: string;
  /** 1-based index within the module's list, stable for --only. */
  index: number;
  mutant: Mutant;
  verdict: Verdict;
  /** For stale: why the mutant could not be planted; for killed: the first failing test. */
  note: string;
  ms: number;
}

/**
 * The module's text with the mutant planted, or why it cannot be: the snippet no longer
 * matches (the code moved on; the list must follow) or matches more often than it says.
 */
export function plant(source: string, m: Mutant): { ok: true; text: string } | { ok: false; reason: string } {
  const at: number[] = [];
  for (let i = source.indexOf(m.find); i >= 0; i = source.indexOf(m.find, i + 1)) at.push(i);
  if (at.length === 0) return { ok: false, reason: 'snippet not found' };
  if (m.occurrence === undefined && at.length > 1) return { ok: false, reason: `snippet found ${at.length} times; say which occurrence` };
  const pos = at[(m.occurrence ?? 1) - 1];
  if (pos === undefined) return { ok: false, reason: `occurrence ${m.occurrence} asked, snippet found ${at.length} times` };
  if (m.replace === m.find) return { ok: false, reason: 'replacement equals the snippet' };
  return { ok: true, text: source.slice(0, pos) + m.replace + source.slice(pos + m.find.length) };
}

/** Killed and timed-out mutants over those that were run (equivalent and stale ones are not). */
export function score(results: Array<Pick<MutantResult, 'verdict'>>): { detected: number; run: number; percent: number | null } {
  const run = results.filter((r) => r.verdict === 'killed' || r.verdict === 'timeout' || r.verdict === 'survived').length;
  const detected = results.filter((r) => r.verdict === 'killed' || r.verdict === 'timeout').length;
  return { detected, run, percent: run === 0 ? null : (100 * detected) / run };
}

/** The terminal report: survivors and stale mutants spelled out, then the score per module and overall. */
export function formatReport(results: MutantResult[], baselineFailures: Array<{ module: string; note: string }>): string {
  const lines: string[] = [];
  const label = (r: MutantResult) => `${r.module} #${r.index}: ${r.mutant.bug}`;
  const section = (title: string, rows: string[]) => {
    if (rows.length === 0) return;
    lines.push('', `${title} (${rows.length})`, ...rows.map((r) => `  ${r}`));
  };
  section('SURVIVED: no test noticed', results.filter((r) => r.verdict === 'survived').map(label));
  section(
    'STALE: not planted, the list must follow the code',
    results.filter((r) => r.verdict === 'stale').map((r) => `${label(r)} (${r.note})`),
  );
  section('Modules not judged: their tests fail without any mutant', baselineFailures.map((b) => `${b.module}: ${b.note}`));
  section('Equivalent (not run)', results.filter((r) => r.verdict === 'equivalent').map((r) => `${label(r)}: ${r.mutant.equivalent}`));

  const modules = [...new Set(results.map((r) => r.module))];
  const header = ['module', 'score', 'killed', 'timeout', 'survived', 'equivalent', 'stale'];
  const rows = modules.map((m) => row(m, results.filter((r) => r.module === m)));
  rows.push(row('overall', results));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  lines.push('', fmt(header), fmt(widths.map((w) => '-'.repeat(w))), ...rows.slice(0, -1).map(fmt), fmt(widths.map((w) => '-'.repeat(w))), fmt(rows.at(-1)!));
  return lines.join('\n');
}

function row(name: string, rs: MutantResult[]): string[] {
  const n = (v: Verdict) => String(rs.filter((r) => r.verdict === v).length);
  const s = score(rs);
  const pct = s.percent === null ? '-' : `${s.percent.toFixed(1)} % (${s.detected}/${s.run})`;
  return [name, pct, n('killed'), n('timeout'), n('survived'), n('equivalent'), n('stale')];
}

/**
 * A copy of the working tree (tracked and untracked files, ignored ones left out) under the
 * system's temp directory, with node_modules linked: mutants are planted there, so a crash or
 * ^C never leaves one in the working tree.
 */
export async function makeScratch(root: string, files: string[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llm-bench-mutation-'));
  for (const f of files) {
    await mkdir(dirname(join(dir, f)), { recursive: true });
    await cp(join(root, f), join(dir, f), { preserveTimestamps: true }).catch((err: NodeJS.ErrnoException) => {
      // Deleted in the working tree but still in the index.
      if (err.code !== 'ENOENT') throw err;
    });
  }
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

export async function removeScratch(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Runs test files under `node --import tsx --test` in `dir`; a run past timeoutMs is killed with its children. */
export function runTests(
  dir: string,
  files: string[],
  timeoutMs: number,
): Promise<{ outcome: 'passed' | 'failed' | 'timeout'; ms: number; firstFailure: string }> {
  const start = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
      cwd: dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (b: Buffer) => {
      out = (out + b.toString()).slice(-200_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Test files may leave servers or children behind when a mutant breaks their cleanup.
      killGroup(child.pid);
      const ms = performance.now() - start;
      if (timedOut) return resolve({ outcome: 'timeout', ms, firstFailure: '' });
      resolve({ outcome: code === 0 ? 'passed' : 'failed', ms, firstFailure: firstFailure(out) });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** The name of the first failing test in node:test's spec output. */
export function firstFailure(output: string): string {
  // eslint-disable-next-line no-control-regex
  const plain = output.replace(/\u001b\[[0-9;]*m/g, '');
  const m = /^\s*✖ (.+?)(?: \(\d[\d.]*ms\))?$/m.exec(plain);
  return m ? m[1]!.trim() : '';
}

/** Reads the module, plants the mutant, runs the tests, and puts the module back whatever happens. */
export async function judge(
  dir: string,
  mod: ModuleMutants,
  index: number,
  timeoutMs: number,
): Promise<MutantResult> {
  const mutant = mod.mutants[index - 1]!;
  const base = { module: mod.module, index, mutant, ms: 0 };
  if (mutant.equivalent) return { ...base, verdict: 'equivalent', note: mutant.equivalent };
  const path = join(dir, mod.module);
  let source: string;
  try {
    source = await readFile(path, 'utf8');
  } catch {
    return { ...base, verdict: 'stale', note: 'module not found' };
  }
  const planted = plant(source, mutant);
  if (!planted.ok) return { ...base, verdict: 'stale', note: planted.reason };
  await writeFile(path, planted.text);
  try {
    const r = await runTests(dir, mod.tests, timeoutMs);
    const verdict: Verdict = r.outcome === 'passed' ? 'survived' : r.outcome === 'failed' ? 'killed' : 'timeout';
    return { ...base, verdict, note: r.firstFailure, ms: r.ms };
  } finally {
    await writeFile(path, source);
  }
}
