// One TinyFish automation run (SPEC 15) into an agent_runs document (SPEC 4.6): under a total
// timeout and a stall timeout (any event, heartbeats and SSE comments included, resets it),
// within the sweep's deadline. A run that fails in any way is a classified document, never a
// throw. No retries: a run costs money and lasts minutes, and the pair is due again next sweep.
import { randomUUID } from 'node:crypto';
import { UsageError } from '../cli.ts';
import type { Config } from '../config.ts';
import { BenchError, classifyError } from '../errors.ts';
import { RESULT_CAP_BYTES, type AgentErrorKind, type AgentRunDoc, type AgentRunStatus } from '../store/documents.ts';
import { describeAbort } from '../bench/call.ts';
import { redact } from '../log.ts';
import { seconds, type SweepClock } from '../bench/clock.ts';
import { percentiles } from '../bench/measure.ts';
import { automationRequest, type AutomationRequest } from './automation.ts';
import { tinyfishStream, type AgentStream, type AgentStreamItem, type TinyFishEvent } from './client.ts';
import { isMockAutomation, mockAgentStream } from './mock.ts';

/** One (agent scenario, automation) pair to run. */
export interface AgentTarget {
  /** The automation's catalog id (model_id of provider tinyfish). */
  automation: string;
  /** The automation's misc: url, goal and defaults. */
  misc: Record<string, unknown>;
  scenarioId: string;
  /** The scenario's overrides of the automation's misc. */
  inputs: Record<string, unknown>;
}

export interface AgentRunContext {
  config: Config;
  clock: SweepClock;
  /** Aborted at the sweep deadline or by SIGTERM. */
  sweepSignal: AbortSignal;
  sweepStartedAt: Date | null;
  /** Overrides the client (tests); by default the mock for mock runs, else the real API. */
  stream?: AgentStream;
}

/** True when this automation's runs are simulated (TINYFISH_MOCK_MODE or a `mock-` id). */
export function isMockRun(automation: string, config: Config): boolean {
  return config.providers.tinyfish.mockMode || isMockAutomation(automation);
}

/**
 * Simulated runs never reach MongoDB (SPEC 4.1): the dashboard and the KPIs read it.
 * @throws UsageError (exit 2) naming the simulated automations, when the store is MongoDB.
 */
export function refuseMockRunsInMongo(storeKind: 'sqlite' | 'mongodb', automations: string[], config: Config): void {
  if (storeKind !== 'mongodb') return;
  const mocks = [...new Set(automations.filter((a) => isMockRun(a, config)))];
  if (mocks.length === 0) return;
  throw new UsageError(
    `Refusing to write simulated TinyFish runs (${mocks.join(', ')}${config.providers.tinyfish.mockMode ? '; TINYFISH_MOCK_MODE=true' : ''}) to MongoDB: ` +
      'try them on the SQLite store (MONGODB_URI unset), or stop them with models.ts disable tinyfish <id> --reason …',
  );
}

/** The limit of one run: the automation's timeout_seconds, else TINYFISH_RUN_TIMEOUT_MS. */
export function runTimeoutMs(target: AgentTarget, config: Config): number {
  const t = target.inputs.timeout_seconds ?? target.misc.timeout_seconds;
  return typeof t === 'number' && t > 0 ? t * 1000 : config.providers.tinyfish.runTimeoutMs;
}

/** Runs one automation and measures it. Never throws. */
export async function runAgent(target: AgentTarget, ctx: AgentRunContext): Promise<AgentRunDoc> {
  const { config, clock } = ctx;
  const mock = isMockRun(target.automation, config);
  const t0 = clock.now();
  const startedWall = clock.wallNow();
  const seen = { started: null as number | null, firstProgress: null as number | null, progress: 0, events: [] as number[], runId: null as string | null };

  const doc = (fields: {
    status: AgentRunStatus;
    endpoint: 'run-sse' | 'run';
    complete?: TinyFishEvent | null;
    error?: string | null;
    kind?: AgentErrorKind | null;
    httpStatus?: number | null;
    /** When the run's last event (COMPLETE, ERROR) arrived; else now. */
    endT?: number;
  }): AgentRunDoc => {
    const total = (fields.endT ?? clock.now()) - t0;
    const gaps = seen.events.slice(1).map((t, i) => t - seen.events[i]!);
    const { result, truncated } = capResult(fields.complete?.resultJson ?? null);
    return {
      run_id: randomUUID(),
      provider: 'tinyfish',
      automation: target.automation,
      scenario_id: target.scenarioId,
      started_at: new Date(startedWall),
      finished_at: new Date(startedWall + total),
      status: fields.status,
      total_duration_ms: total,
      time_to_started_ms: seen.started === null ? null : seen.started - t0,
      time_to_first_progress_ms: seen.firstProgress === null ? null : seen.firstProgress - t0,
      progress_events: seen.progress,
      event_count: seen.events.length,
      inter_event_ms: percentiles(gaps),
      tinyfish_run_id: seen.runId,
      endpoint: fields.endpoint,
      tinyfish_status: typeof fields.complete?.status === 'string' ? fields.complete.status : null,
      result,
      result_truncated: truncated,
      // TinyFish's own words and our messages about them: no key may reach a page or the mail.
      error: fields.error === undefined || fields.error === null ? null : redact(fields.error),
      error_kind: fields.kind ?? null,
      http_status: fields.httpStatus ?? null,
      runner: config.bench.runner,
      mock,
      sweep_started_at: ctx.sweepStartedAt,
    };
  };

  let request: AutomationRequest;
  try {
    request = automationRequest(target.automation, target.misc, target.inputs);
  } catch (err) {
    return doc({ status: 'failed', endpoint: 'run-sse', error: (err as Error).message, kind: 'hard_capability' });
  }
  const stream = ctx.stream ?? (mock ? mockAgentStream(target.automation) : tinyfishStream(config.providers.tinyfish));
  const timeoutMs = request.timeoutMs ?? config.providers.tinyfish.runTimeoutMs;
  const stallMs = config.providers.tinyfish.stallTimeoutMs;
  const name = `tinyfish/${target.automation}`;

  const limits = new AbortController();
  const timeoutError = () => new BenchError(`Run of ${name} did not complete within its timeout of ${seconds(timeoutMs)} s`, { kind: 'timeout', stage: 'timeout' });
  const callTimer = setTimeout(() => limits.abort(timeoutError()), timeoutMs);
  const stallTimer = setTimeout(
    () => limits.abort(new BenchError(`Run of ${name} stalled: no event for ${seconds(stallMs)} s (${seen.events.length} events so far)`, { kind: 'timeout', stage: 'timeout' })),
    stallMs,
  );
  const signal = AbortSignal.any([ctx.sweepSignal, limits.signal]);
  let onAbort: (() => void) | null = null;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});

  let iterator: AsyncIterator<AgentStreamItem> | null = null;
  try {
    iterator = stream(request, { signal, now: clock.now })[Symbol.asyncIterator]();
    for (;;) {
      const pending = iterator.next();
      pending.catch(() => {});
      const next = await Promise.race([pending, aborted]);
      if (next.done) break;
      stallTimer.refresh();
      const item = next.value;
      if (item.kind !== 'event') continue;
      const ev = item.event;
      seen.events.push(item.t);
      if (typeof ev.runId === 'string') seen.runId ??= ev.runId;
      if (ev.type === 'STARTED') seen.started ??= item.t;
      if (ev.type === 'PROGRESS') {
        seen.progress += 1;
        seen.firstProgress ??= item.t;
      }
      if (ev.type === 'COMPLETE') {
        iterator.return?.().catch(() => {});
        if (ev.status === 'COMPLETED') return doc({ status: 'completed', endpoint: request.endpoint, complete: ev, endT: item.t });
        const why = typeof ev.error === 'string' && ev.error ? ev.error : `TinyFish reported status ${String(ev.status)}`;
        return doc({ status: 'failed', endpoint: request.endpoint, complete: ev, error: `Run of ${name} ended ${String(ev.status)}: ${why}`, kind: 'run_failed', endT: item.t });
      }
      if (ev.type === 'ERROR') {
        iterator.return?.().catch(() => {});
        const message = errorText(ev);
        // An ERROR may name a cause we classify everywhere (credits, rate limits); otherwise it is the run's own failure.
        const c = classifyError(new Error(message));
        return doc({ status: 'failed', endpoint: request.endpoint, error: `Run of ${name} sent ERROR: ${message}`, kind: c.kind === 'unknown' ? 'run_failed' : c.kind, endT: item.t });
      }
    }
    return doc({ status: 'failed', endpoint: request.endpoint, error: `The event stream of ${name} ended without COMPLETE`, kind: 'transient_provider' });
  } catch (err) {
    if (signal.aborted) {
      iterator?.return?.().catch(() => {});
      const reason = signal.reason;
      // Our own limits (the sweep deadline) are timeouts; anything else is the operator's or
      // systemd's stop (SIGINT, SIGTERM), which says nothing about TinyFish (SPEC 5).
      if (reason instanceof BenchError) return doc({ status: 'timeout', endpoint: request.endpoint, error: reason.message, kind: 'timeout' });
      return doc({ status: 'failed', endpoint: request.endpoint, error: `Run of ${name} cut short: ${describeAbort(reason)}`, kind: 'aborted' });
    }
    const c = classifyError(err);
    return doc({ status: 'failed', endpoint: request.endpoint, error: `Cannot run ${name}: ${c.detail}`, kind: c.kind, httpStatus: c.httpStatus });
  } finally {
    clearTimeout(callTimer);
    clearTimeout(stallTimer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

function errorText(ev: TinyFishEvent): string {
  if (typeof ev.message === 'string' && ev.message) return ev.message;
  if (typeof ev.error === 'string' && ev.error) return ev.error;
  const nested = (ev.error as { message?: unknown } | undefined)?.message;
  return typeof nested === 'string' && nested ? nested : 'no message';
}

/** The result as stored: whole when its JSON fits RESULT_CAP_BYTES, else its JSON text cut there. */
export function capResult(result: unknown): { result: unknown; truncated: boolean } {
  if (result === null || result === undefined) return { result: null, truncated: false };
  const text = JSON.stringify(result);
  if (Buffer.byteLength(text) <= RESULT_CAP_BYTES) return { result, truncated: false };
  return { result: Buffer.from(text).subarray(0, RESULT_CAP_BYTES).toString('utf8'), truncated: true };
}
