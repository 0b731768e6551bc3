// bench:import: moving a big history through the real command. Writes a mongoexport-style file
// of upstream metric rows (HEAD and LEGACY shapes, 63 full-precision token gaps each, as the
// Python runner wrote them; no run_id) in a temp dir, imports it into a fresh SQLite file with
// `scripts/store.ts import`, exports it back with `scripts/store.ts export`, and prints for each
// direction the rows per second and the child's RSS sampled every 200 ms (flat memory means the
// same RSS a quarter of the way through as at the end), the file sizes, and the comparison of
// what went out with what came in: line for line, byte for byte, and where a line differs,
// field by field with the order of fields aside.
//
//   node --import tsx test/perf/import.ts [--rows N] [--keep]
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { readLines } from '../../lib/store/exchange.ts';
import { seededRandom } from '../fakes/random.ts';
import { scriptPath } from '../scripts/run-script.ts';
import { upstreamMetricLine } from '../store/exchange-fixtures.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } } });
const ROWS = Number(values.rows);
const MiB = 2 ** 20;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

/** Writes ROWS lines, one run every 30 s back from now, oldest first. */
async function writeInput(file: string): Promise<void> {
  const random = seededRandom(22);
  const ws = createWriteStream(file);
  const start = Date.now() - ROWS * 30_000;
  let chunk = '';
  for (let i = 0; i < ROWS; i++) {
    chunk += `${upstreamMetricLine(i, start + i * 30_000 + (i % 1000), random)}\n`;
    if (chunk.length > MiB) {
      if (!ws.write(chunk)) await once(ws, 'drain');
      chunk = '';
    }
  }
  ws.end(chunk);
  await once(ws, 'finish');
}

function rssOf(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** Runs scripts/store.ts with args, sampling its RSS; the wall time and the samples. */
async function run(args: string[], env: Record<string, string>): Promise<{ seconds: number; rss: number[]; stdout: string }> {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), scriptPath('store.ts'), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const rss: number[] = [];
  const sampler = setInterval(() => {
    const r = rssOf(child.pid!);
    if (r !== null) rss.push(r);
  }, 200);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearInterval(sampler);
  if (code !== 0) throw new Error(`store.ts ${args.join(' ')} exited ${code}:\n${stdout}`);
  return { seconds: (performance.now() - t0) / 1000, rss, stdout };
}

/** The RSS a quarter, half and three quarters of the way through, at the end, and the peak. */
function rssLine(rss: number[]): string {
  const at = (f: number) => mib(rss[Math.min(rss.length - 1, Math.floor(rss.length * f))] ?? 0);
  return `RSS at 25/50/75/100% of the run ${at(0.25)} / ${at(0.5)} / ${at(0.75)} / ${at(0.999)}, peak ${mib(Math.max(...rss))} (${rss.length} samples)`;
}

/** Keys sorted at every level: two documents that differ only in field order become equal. */
function canonical(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(canonical);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical((v as Record<string, unknown>)[k])]));
  return v;
}

/** Line by line: identical bytes, equal with field order aside, or different. */
async function compare(a: string, b: string): Promise<{ lines: number; identical: number; reordered: number; different: number; firstDifference: string | null }> {
  const out = { lines: 0, identical: 0, reordered: 0, different: 0, firstDifference: null as string | null };
  const left = readLines(a);
  const right = readLines(b);
  for (;;) {
    const [l, r] = await Promise.all([left.next(), right.next()]);
    if (l.done && r.done) return out;
    out.lines++;
    const lt = l.done ? null : l.value.text;
    const rt = r.done ? null : r.value.text;
    if (lt === rt) out.identical++;
    else if (lt !== null && rt !== null && JSON.stringify(canonical(JSON.parse(lt))) === JSON.stringify(canonical(JSON.parse(rt)))) out.reordered++;
    else {
      out.different++;
      out.firstDifference ??= `line ${out.lines}:\n  in:  ${lt?.slice(0, 300)}\n  out: ${rt?.slice(0, 300)}`;
    }
  }
}

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-bench-import-'));
try {
  console.log(`bench:import: ${ROWS.toLocaleString('en')} upstream metric rows; ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(2)}, Node ${process.version}`);
  mkdirSync(join(dir, 'in'));
  const input = join(dir, 'in', 'metrics_cloud_v2.json');
  let t = performance.now();
  await writeInput(input);
  console.log(`input:  ${input}: ${mib(statSync(input).size)} (${(statSync(input).size / ROWS).toFixed(0)} bytes a row), written in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const sqlite = join(dir, 'bench.sqlite');
  const imported = await run(['import', input, '--sqlite', sqlite], {});
  const dbBytes = statSync(sqlite).size + (statSync(`${sqlite}-wal`, { throwIfNoEntry: false })?.size ?? 0);
  console.log(`import: ${imported.seconds.toFixed(1)} s, ${(ROWS / imported.seconds).toFixed(0)} rows/s; ${rssLine(imported.rss)}; SQLite file ${mib(dbBytes)}`);
  console.log(`        ${imported.stdout.split('\n').find((l) => l.includes('lines read'))}`);

  const out = join(dir, 'out');
  const exported = await run(['export', '--out', out, '--sqlite', sqlite, '--collection', 'metrics_cloud_v2'], {});
  const output = join(out, 'metrics_cloud_v2.json');
  console.log(`export: ${exported.seconds.toFixed(1)} s, ${(ROWS / exported.seconds).toFixed(0)} rows/s; ${rssLine(exported.rss)}; output ${mib(statSync(output).size)}`);

  t = performance.now();
  const c = await compare(input, output);
  console.log(
    `compare: ${c.lines.toLocaleString('en')} lines: ${c.identical.toLocaleString('en')} byte for byte, ${c.reordered} equal with field order aside, ${c.different} different` +
      `; files ${statSync(input).size === statSync(output).size ? 'of equal size' : 'of different sizes'} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );
  if (c.firstDifference) console.log(`first difference at ${c.firstDifference}`);
  if (c.different > 0) process.exitCode = 1;
} finally {
  if (values.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
