// npm run bench:tinyfish — how closely are TinyFish runs timed?
//
// Runs automations through the real client (lib/tinyfish/client.ts) and lib/tinyfish/run.ts
// against the fake TinyFish server in the same process, so both read the same monotonic
// clock. Each run plays STARTED, STREAMING_URL, PROGRESS events and HEARTBEATs at random gaps
// (20–300 ms), then COMPLETE. The truth is the time the fake finished writing each event;
// printed: the error of each event's arrival time, and of the run's time to STARTED, time to
// the first PROGRESS and total duration (target: within 5 ms).
//
// Usage: node --import tsx test/perf/tinyfish.ts [--runs 20] [--seed 7]
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lib/config.ts';
import { systemClock, type SweepClock } from '../../lib/bench/clock.ts';
import { tinyfishStream, type AgentStream, type AgentStreamItem } from '../../lib/tinyfish/client.ts';
import { runAgent } from '../../lib/tinyfish/run.ts';
import { FAKE_TINYFISH_KEY, startTinyFishServer, type PlannedEvent, type RunPlan } from '../fakes/tinyfish-server.ts';

const TARGET_MS = 5;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, seed: { type: 'string', default: '7' } } });
  const runs = Number(values.runs);
  let seed = Number(values.seed);
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

  const plans = new Map<string, RunPlan>();
  const server = await startTinyFishServer((req) => plans.get(req.body?.goal ?? '')!);
  const config = loadConfig({ env: { TINYFISH_API_KEY: FAKE_TINYFISH_KEY, TINYFISH_BASE_URL: server.baseUrl, RUNNER_NAME: 'bench' }, dotenvPath: false });
  const arrival: number[] = [];
  const fields: Record<'time to STARTED' | 'time to first PROGRESS' | 'total duration', number[]> = {
    'time to STARTED': [],
    'time to first PROGRESS': [],
    'total duration': [],
  };
  try {
    console.log(`${runs} TinyFish runs against the fake server (same process), gaps 20-300 ms, heartbeats between …`);
    for (let r = 0; r < runs; r++) {
      const events: PlannedEvent[] = [];
      let at = 0;
      const next = () => (at += Math.round(20 + rand() * 280));
      events.push({ atMs: next(), type: 'STARTED' }, { atMs: next(), type: 'STREAMING_URL' });
      const steps = 3 + Math.floor(rand() * 6);
      for (let i = 0; i < steps; i++) {
        if (rand() < 0.4) events.push({ atMs: next(), type: 'HEARTBEAT' });
        events.push({ atMs: next(), type: 'PROGRESS', purpose: `step ${i + 1}` });
      }
      events.push({ atMs: next(), type: 'COMPLETE', status: 'COMPLETED', resultJson: { ok: true } });
      const goal = `bench run ${r}`;
      plans.set(goal, { events });

      const reads: number[] = [];
      const clock: SweepClock = { ...systemClock, now: () => (reads.push(performance.now()), reads.at(-1)!) };
      const items: AgentStreamItem[] = [];
      const real = tinyfishStream(config.providers.tinyfish);
      const recording: AgentStream = async function* (req, o) {
        for await (const item of real(req, o)) {
          items.push(item);
          yield item;
        }
      };
      const doc = await runAgent(
        { automation: 'bench', misc: { url: 'https://example.com', goal }, scenarioId: 'bench', inputs: {} },
        { config, clock, sweepSignal: new AbortController().signal, sweepStartedAt: null, stream: recording },
      );
      if (doc.status !== 'completed') throw new Error(`run ${r} ended ${doc.status}: ${doc.error}`);
      const sent = server.sent.at(-1)!;
      const received = items.filter((i): i is Extract<AgentStreamItem, { kind: 'event' }> => i.kind === 'event');
      if (received.length !== sent.length) throw new Error(`run ${r}: ${received.length} events received, ${sent.length} sent`);
      received.forEach((item, i) => arrival.push(item.t - sent[i]!.at));
      const t0 = reads[0]!;
      const sentAt = (type: string) => sent.find((s) => s.type === type)!.at - t0;
      fields['time to STARTED'].push(doc.time_to_started_ms! - sentAt('STARTED'));
      fields['time to first PROGRESS'].push(doc.time_to_first_progress_ms! - sentAt('PROGRESS'));
      fields['total duration'].push(doc.total_duration_ms - sentAt('COMPLETE'));
    }
  } finally {
    await server.close();
  }
  let met = true;
  const line = (name: string, errors: number[]) => {
    const abs = errors.map(Math.abs).sort((a, b) => a - b);
    const q = (p: number) => abs[Math.min(abs.length - 1, Math.ceil(p * abs.length) - 1)]!;
    met &&= q(1) <= TARGET_MS;
    console.log(`  ${name.padEnd(24)} n ${String(abs.length).padStart(4)}  median ${q(0.5).toFixed(2)} ms  p99 ${q(0.99).toFixed(2)} ms  max ${q(1).toFixed(2)} ms`);
  };
  console.log('\nMeasured minus sent (absolute error):');
  line('each event\'s arrival', arrival);
  for (const [name, errors] of Object.entries(fields)) line(name, errors);
  console.log(`\nTarget: every error within ${TARGET_MS} ms: ${met ? 'met' : 'NOT MET'}`);
  if (!met) process.exitCode = 1;
}

await main();
