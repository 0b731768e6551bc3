// Simulated TinyFish runs: no key, no network, no cost, so agent scenarios can be tried (and
// the demo shown) before anyone pays for a browser agent. Used for every automation when
// TINYFISH_MOCK_MODE=true, and for automations whose id starts with `mock-`. Every row they
// produce is marked `mock: true`, and MongoDB refuses them.
//
// A mock automation id describes the run (parts joined by '-', after the leading `mock`):
//
//   start-<D>        time to the STARTED event (default 200ms)
//   steps-<N>        PROGRESS events (default 4)
//   step-<D>         time between events after STARTED (default 500ms)
//   heartbeat-<D>    a HEARTBEAT every D while waiting between events (default none)
//   fail             end with COMPLETE and status FAILED (the run's own failure)
//   error            end with an ERROR event instead of COMPLETE
//   http-<S>         answer HTTP status S before any event (401 auth, 402 billing, 429 rate limit, 500 …)
//   hang             after STARTED send nothing more (a stalled run) until aborted
//
// A duration <D> is `<n>ms` or `<n>s`. Examples: `mock-steps-6-step-2s`, `mock-http-401`,
// `mock-fail`, `mock-start-1s-steps-3-heartbeat-300ms`, `mock-hang`.
import { setTimeout as sleep } from 'node:timers/promises';
import type { AgentStream, AgentStreamItem, TinyFishEvent } from './client.ts';
import { sleepUntil } from '../bench/clock.ts';

export interface MockRunSpec {
  startMs: number;
  steps: number;
  stepMs: number;
  heartbeatMs: number | null;
  fail: boolean;
  error: boolean;
  httpStatus: number | null;
  hang: boolean;
}

const DEFAULTS: MockRunSpec = { startMs: 200, steps: 4, stepMs: 500, heartbeatMs: null, fail: false, error: false, httpStatus: null, hang: false };

export function isMockAutomation(id: string): boolean {
  return /^mock(-|$)/i.test(id);
}

/**
 * The simulation an automation id describes; the defaults for any id that is not a mock id
 * (TINYFISH_MOCK_MODE runs real automations' ids as plain simulated runs).
 * @throws Error naming the part it does not understand.
 */
export function parseMockAutomationId(id: string): MockRunSpec {
  const spec = { ...DEFAULTS };
  if (!isMockAutomation(id)) return spec;
  const parts = id.toLowerCase().split('-').slice(1);
  const bad = (why: string): never => {
    throw new Error(`Unknown mock automation id ${JSON.stringify(id)}: ${why} (see lib/tinyfish/mock.ts for the grammar)`);
  };
  const value = (i: number, key: string) => parts[i + 1] ?? bad(`${key} needs a value`);
  const duration = (raw: string, key: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(raw);
    return m ? Number(m[1]) * (m[2] === 's' ? 1000 : 1) : bad(`${key} wants a duration like 500ms or 2s, got ${JSON.stringify(raw)}`);
  };
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    switch (part) {
      case 'start':
        spec.startMs = duration(value(i++, part), part);
        break;
      case 'step':
        spec.stepMs = duration(value(i++, part), part);
        break;
      case 'heartbeat':
        spec.heartbeatMs = Math.max(1, duration(value(i++, part), part));
        break;
      case 'steps': {
        const n = Number(value(i++, part));
        spec.steps = Number.isInteger(n) && n >= 0 ? n : bad(`steps wants an integer >= 0`);
        break;
      }
      case 'http': {
        const s = Number(value(i++, part));
        spec.httpStatus = Number.isInteger(s) && s >= 400 && s <= 599 ? s : bad(`http wants a status from 400 to 599`);
        break;
      }
      case 'fail':
        spec.fail = true;
        break;
      case 'error':
        spec.error = true;
        break;
      case 'hang':
        spec.hang = true;
        break;
      default:
        bad(`unknown part ${JSON.stringify(part)}`);
    }
  }
  return spec;
}

/** The mock client for one automation id. */
export function mockAgentStream(automation: string): AgentStream {
  return async function* run(req, o): AsyncGenerator<AgentStreamItem> {
    const spec = parseMockAutomationId(automation);
    const runId = `mock_${Math.random().toString(36).slice(2, 10)}`;
    const stamp = () => new Date().toISOString();
    const event = (e: TinyFishEvent): AgentStreamItem => ({ kind: 'event', t: o.now(), event: { ...e, timestamp: stamp() } });
    // Waits ms, yielding a HEARTBEAT every heartbeatMs meanwhile.
    async function* wait(ms: number): AsyncGenerator<AgentStreamItem> {
      const until = performance.now() + ms;
      if (spec.heartbeatMs !== null) {
        for (let beat = performance.now() + spec.heartbeatMs; beat < until; beat += spec.heartbeatMs) {
          await sleepUntil(beat, o.signal);
          yield event({ type: 'HEARTBEAT' });
        }
      }
      await sleepUntil(until, o.signal);
    }
    if (spec.httpStatus !== null) {
      await sleep(Math.min(spec.startMs, 50), undefined, { signal: o.signal });
      throw Object.assign(new Error(`POST mock://tinyfish/v1/automation/${req.endpoint}: HTTP ${spec.httpStatus} (simulated)`), {
        status: spec.httpStatus,
        headers: new Headers(),
      });
    }
    yield { kind: 'response', t: o.now(), status: 200 };
    if (req.endpoint === 'run') {
      // The synchronous endpoint: one answer at the end, no events on the way.
      await sleep(spec.startMs + spec.steps * spec.stepMs, undefined, { signal: o.signal });
      yield event(complete(spec, runId, req.url));
      return;
    }
    yield* wait(spec.startMs);
    yield event({ type: 'STARTED', runId });
    if (spec.hang) {
      await sleep(2 ** 31 - 1, undefined, { signal: o.signal });
      return;
    }
    for (let i = 1; i <= spec.steps; i++) {
      yield* wait(spec.stepMs);
      yield event({ type: 'PROGRESS', runId, purpose: `Simulated step ${i} of ${spec.steps}` });
    }
    yield* wait(spec.stepMs);
    yield event(spec.error ? { type: 'ERROR', runId, message: 'Simulated browser crash' } : complete(spec, runId, req.url));
  };
}

function complete(spec: MockRunSpec, runId: string, url: string): TinyFishEvent {
  return spec.fail
    ? { type: 'COMPLETE', runId, status: 'FAILED', resultJson: null, error: 'Simulated failure: the page never loaded' }
    : { type: 'COMPLETE', runId, status: 'COMPLETED', resultJson: { simulated: true, url, steps: spec.steps } };
}

