// npm run bench:calibration — does each sweep's loopback calibration (lib/bench/calibration.ts)
// see the runner's own added delay? Runs the calibration stream --n times in each of three
// conditions and prints the added TTFT (measured − true, ms) and decode error (%) it records:
//   idle     nothing else running in this process
//   loop     this thread kept busy: --busy-ms of synchronous work every --every-ms (a sweep
//            whose other streams' parsing holds the event loop, as at nine lanes × four streams)
//   cores    two other processes spinning on both cores (the machine loaded from outside)
// The load average is printed beside the figures.
//
// Usage: npm run bench:calibration -- [--n 20] [--busy-ms 3] [--every-ms 6]
import { fork, type ChildProcess } from 'node:child_process';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { prepareCalibration } from '../../lib/bench/calibration.ts';
import { loadConfig } from '../../lib/config.ts';
import type { SweepCalibration } from '../../lib/store/documents.ts';

if (process.argv[2] === '--spin') {
  // A child that loads one core until it is killed.
  for (;;) Math.sqrt(Math.random());
}

const { values } = parseArgs({ options: { n: { type: 'string', default: '20' }, 'busy-ms': { type: 'string', default: '3' }, 'every-ms': { type: 'string', default: '6' } } });
const n = Number(values.n);
const busyMs = Number(values['busy-ms']);
const everyMs = Number(values['every-ms']);

const config = loadConfig({ env: {}, dotenvPath: false });
const calibration = await prepareCalibration({ config, signal: new AbortController().signal });

async function runs(): Promise<SweepCalibration[]> {
  const out: SweepCalibration[] = [];
  for (let i = 0; i < n; i++) out.push(await calibration.run());
  return out;
}

function report(name: string, list: SweepCalibration[]): void {
  const ok = list.filter((c) => c.error === null);
  const sorted = (v: number[]) => [...v].sort((a, b) => a - b);
  const added = sorted(ok.map((c) => c.ttft_added_s! * 1000));
  const decode = sorted(ok.map((c) => Math.abs(c.decode_error_pct!)));
  const chunk = sorted(ok.map((c) => c.chunk_delay_max_s! * 1000));
  const p = (v: number[], q: number) => (v.length ? v[Math.min(v.length - 1, Math.floor(q * v.length))]!.toFixed(2) : '-');
  console.log(
    `${name.padEnd(6)} runs ${String(ok.length).padStart(3)}/${list.length}  TTFT added ms p50 ${p(added, 0.5)} max ${p(added, 1)}  ` +
      `|decode error| % p50 ${p(decode, 0.5)} max ${p(decode, 1)}  worst chunk delay ms p50 ${p(chunk, 0.5)} max ${p(chunk, 1)}  load ${loadavg()[0]!.toFixed(2)}`,
  );
}

report('idle', await runs());

const burn = setInterval(() => {
  const until = performance.now() + busyMs;
  while (performance.now() < until) Math.sqrt(Math.random());
}, everyMs);
report('loop', await runs());
clearInterval(burn);

const spinners: ChildProcess[] = [0, 1].map(() => fork(new URL(import.meta.url).pathname, ['--spin'], { execArgv: ['--import', 'tsx'], stdio: 'ignore' }));
await new Promise((resolve) => setTimeout(resolve, 1000));
try {
  report('cores', await runs());
} finally {
  for (const s of spinners) s.kill();
  await calibration.close();
}
