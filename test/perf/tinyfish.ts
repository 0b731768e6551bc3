// npm run bench:tinyfish — how closely are TinyFish runs timed?
//
// Runs automations through the real client (lib/tinyfish/client.ts) and lib/tinyfish/run.ts
// against the fake TinyFish server in the same process, so both read the same monotonic
// clock. Each run plays STARTED, STREAMING_URL, PROGRESS events and HEARTBEATs at random gaps
// (20–300 ms), then COMPLETE. The truth is the time the fake finished writing each event;
// printed: the error of each event's arrival time, and of the run's time to STARTED, time to
// the first PROGRESS and total duration (target: within 5 ms).
//
// With --sweep: the runs go through a whole sweep (runSweep, an agent scenario, beside three
// mock LLM lanes) in this fresh process, each STARTED planned 150 ms after the request
// arrives; printed: each run's time to STARTED minus those 150 ms, the first run of the sweep
// apart from the later ones (the first run must not pay the process's first fetch).
//
// Usage: node --import tsx test/perf/tinyfish.ts [--runs 20] [--seed 7] [--sweep]
import { parseArgs } from 'node:util';
import { loadConfig } from '../../lib/config.ts';
import { systemClock, type SweepClock } from '../../lib/bench/clock.ts';
import { tinyfishStream, type AgentStream, type AgentStreamItem } from '../../lib/tinyfish/client.ts';
import { runAgent } from '../../lib/tinyfish/run.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import type { SweepModel } from '../../lib/bench/due.ts';
import type { AgentRunDoc } from '../../lib/store/documents.ts';
import { FAKE_TINYFISH_KEY, startTinyFishServer, type PlannedEvent, type RunPlan } from '../fakes/tinyfish-server.ts';

const TARGET_MS = 5;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '20' }, seed: { type: 'string', default: '7' }, sweep: { type: 'boolean' } } });
  const runs = Number(values.runs);
  if (values.sweep) return sweepMode(Math.min(runs, 10));
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

const STARTED_AT_MS = 150;

async function sweepMode(runs: number): Promise<void> {
  const server = await startTinyFishServer(() => ({
    events: [
      { atMs: STARTED_AT_MS, type: 'STARTED' },
      { atMs: STARTED_AT_MS + 20, type: 'PROGRESS', purpose: 'step 1' },
      { atMs: STARTED_AT_MS + 40, type: 'COMPLETE', status: 'COMPLETED', resultJson: { ok: true } },
    ],
  }));
  const config = loadConfig({ env: { TINYFISH_API_KEY: FAKE_TINYFISH_KEY, TINYFISH_BASE_URL: server.baseUrl, RUNNER_NAME: 'bench' }, dotenvPath: false });
  const llm = { kind: 'llm' as const, id: 'bench-llm', intervalMinutes: 30, prompt: 'p', maxTokens: 64, temperature: 0.1, cacheDefeatNonce: null };
  const agent = { kind: 'agent' as const, id: 'bench-agent', intervalMinutes: 360, concurrency: 1, inputs: {} };
  const models: SweepModel[] = [
    ...['ttft-40ms-tps-400', 'ttft-60ms-tps-300', 'ttft-80ms-tps-200'].map((id) => ({ provider: 'mock' as const, modelId: id, scenario: llm })),
    ...Array.from({ length: runs }, (_, i) => ({ provider: 'tinyfish' as const, modelId: `bench-${i}`, misc: { url: 'https://example.com', goal: `run ${i}` }, scenario: agent })),
  ];
  const agentRuns: AgentRunDoc[] = [];
  const sink = {
    insertMetric: async () => 'stored' as const,
    insertError: async () => 'stored' as const,
    insertAgentRun: async (d: AgentRunDoc) => (agentRuns.push(d), 'stored' as const),
  };
  try {
    console.log(`One sweep: ${runs} TinyFish runs one at a time (STARTED planned ${STARTED_AT_MS} ms after each request arrives) beside 3 mock LLM lanes, in a fresh process …`);
    await runSweep({ config, models, sink, loadProvider, force: true });
  } finally {
    await server.close();
  }
  agentRuns.sort((a, b) => a.started_at.getTime() - b.started_at.getTime());
  const late = agentRuns.map((d) => d.time_to_started_ms! - STARTED_AT_MS);
  console.log(`\nTime to STARTED minus ${STARTED_AT_MS} ms, in the order the runs started:`);
  console.log(`  first run   ${late[0]!.toFixed(1)} ms`);
  console.log(`  later runs  ${late.slice(1).map((x) => x.toFixed(1)).join(', ')} ms`);
}

await main();
