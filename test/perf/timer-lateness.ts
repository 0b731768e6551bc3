// How late a 10 ms timer fires on this machine right now: the margin a test with a time limit
// (a stall watch, a deadline) must leave. Run it beside the load you care about, e.g. during
// `npm test` or `npm run test:mutation`.
//
// Usage: node --import tsx test/perf/timer-lateness.ts [--seconds 60]
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' } } });
const seconds = Number(values.seconds);
if (!(seconds > 0)) {
  console.error(`--seconds must be a positive number (got ${values.seconds})`);
  process.exit(2);
}

const before = loadavg()[0]!;
const late: number[] = [];
const end = performance.now() + seconds * 1000;
while (performance.now() < end) {
  const due = performance.now() + 10;
  await sleep(10);
  late.push(performance.now() - due);
}
late.sort((a, b) => a - b);
const at = (p: number) => late[Math.min(late.length - 1, Math.floor(p * late.length))]!.toFixed(1);
console.log(
  `${late.length} timers of 10 ms over ${seconds} s: late by p50 ${at(0.5)} ms, p99 ${at(0.99)} ms, p99.9 ${at(0.999)} ms, max ${late.at(-1)!.toFixed(1)} ms; ` +
    `load average ${before.toFixed(1)} before, ${loadavg()[0]!.toFixed(1)} after`,
);
