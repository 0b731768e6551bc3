// The TinyFish lane's warm-up, as the LLM lanes are warmed (lib/bench/lanes.ts,
// lib/bench/providers/rehearsal.ts): before any lane's first measured call, runs through the
// real client, lib/tinyfish/run.ts and fetch against a server on 127.0.0.1 answering a canned
// event stream. A process's first fetch loads and compiles undici and its first run compiles
// the event-stream reader, all inside the run's clock: measured with
// `npm run bench:tinyfish -- --sweep`, the first run of a sweep read STARTED ~45 ms later than
// the runs after it. Nothing leaves the machine; once per process.
import type { Config } from '../config.ts';
import { systemClock } from '../bench/clock.ts';
import { serve, sseEvent } from '../bench/providers/rehearsal.ts';
import { isMockAutomation } from './mock.ts';
import { runAgent } from './run.ts';

// As for the LLM lanes' rehearsals: V8 compiles hot code further on later runs.
const REHEARSALS = 3;
const WARM_TIMEOUT_MS = 10_000;

const CANNED = [
  sseEvent({ type: 'STARTED', runId: 'warm-up' }),
  sseEvent({ type: 'PROGRESS', runId: 'warm-up', purpose: 'warm-up' }),
  sseEvent({ type: 'HEARTBEAT' }),
  sseEvent({ type: 'COMPLETE', runId: 'warm-up', status: 'COMPLETED', resultJson: { ok: true } }),
].join('');

let warmed = false;

/**
 * Warms the TinyFish client when any of the automations will run for real (simulated runs use
 * no fetch). Never throws: a failed warm-up only means the first run runs colder.
 */
export async function warmAgentLane(automations: string[], config: Config, signal: AbortSignal): Promise<void> {
  const real = !config.providers.tinyfish.mockMode && automations.some((a) => !isMockAutomation(a));
  if (warmed || !real) return;
  warmed = true;
  const server = await serve({ contentType: 'text/event-stream', body: CANNED });
  const local: Config = {
    ...config,
    providers: { ...config.providers, tinyfish: { ...config.providers.tinyfish, baseUrl: server.url, apiKey: 'warm-up', mockMode: false } },
  };
  const target = { automation: 'warm-up', misc: { url: 'http://127.0.0.1/', goal: 'warm-up' }, scenarioId: 'warm-up', inputs: {} };
  const sweepSignal = AbortSignal.any([signal, AbortSignal.timeout(WARM_TIMEOUT_MS)]);
  try {
    for (let i = 0; i < REHEARSALS && !sweepSignal.aborted; i++) await runAgent(target, { config: local, clock: systemClock, sweepSignal, sweepStartedAt: null });
  } catch {
    // A colder first run, not a failure.
  } finally {
    await server.close();
  }
}
