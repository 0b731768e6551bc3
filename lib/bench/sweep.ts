// The sweep (SPEC 8): benchmark every due model once and record each result as soon as it is
// known. The parts live beside it: which models are due (due.ts), lanes and concurrency
// (lanes.ts), one call with its retries, timeouts and stall watch (call.ts), and what is
// printed (output.ts). The sweep has a deadline below the timer period.
//
// The edges are injected: where results go (`sink`: the store, or the remote runner's HTTP
// sink), which models to run, the provider loader, the clocks and the logger.
import { randomUUID } from 'node:crypto';
import type { Config, ProviderName } from '../config.ts';
import { BenchError, buildErrorDoc, classifyError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { AgentErrorKind, AgentRunDoc, BenchSweepDoc, ErrorDoc, MetricDoc, SweepSkipDoc } from '../store/documents.ts';
import type { InsertResult } from '../store/store.ts';
import { runAgent, runTimeoutMs } from '../tinyfish/run.ts';
import { warmAgentLane } from '../tinyfish/warm.ts';
import type { BudgetTicket, DailyBudget } from './budget.ts';
import { benchmarkModel, describeAbort, warmUp } from './call.ts';
import { seconds, systemClock, type SweepClock } from './clock.ts';
import { costOf, type PriceBook } from './cost.ts';
import { callInputs, partitionDue, type SweepModel } from './due.ts';
import { runLanes } from './lanes.ts';
import type { ProviderStream } from './provider-stream.ts';
import { sweepRecorder } from './sweep-record.ts';

// 'aborted': the call was in flight when the operator or systemd stopped the sweep (SIGINT,
// SIGTERM); it says nothing about the provider (SPEC 5). 'skipped_stopped': not started for that
// stop, as 'skipped_deadline' is not started for the sweep's own deadline.
export type Outcome = 'ok' | 'failed' | 'aborted' | 'skipped_fresh' | 'skipped_deadline' | 'skipped_stopped' | 'skipped_budget' | 'skipped_context';

export interface ModelResult {
  provider: ProviderName;
  modelId: string;
  outcome: Outcome;
  /** The metrics document (also present for a validation failure, which is recorded as an error). */
  metric: MetricDoc | null;
  /** The error recorded for a failed call. */
  error: ErrorDoc | null;
  /** Calls made, retries included (0 when skipped). */
  attempts: number;
  /** Why the model was skipped. */
  skipReason: string | null;
  /** The result could not be written: the message of the failed write. */
  writeError: string | null;
  /** The scenario of this pair (null for a pair without one: a remote runner's config profile). */
  scenarioId?: string | null;
  /** A TinyFish automation run (agent scenario): its agent_runs document. */
  agentRun?: AgentRunDoc | null;
}

/** Where results go. A store satisfies it; so does the remote runner's HTTP sink. Both throw on a failed write. */
export interface ResultSink {
  insertMetric(doc: MetricDoc): Promise<InsertResult>;
  insertError(doc: ErrorDoc): Promise<InsertResult>;
  /** Agent runs (SPEC 4.6); the remote runner's sink posts them to /ingest/agent-run. */
  insertAgentRun(doc: AgentRunDoc): Promise<InsertResult>;
  /** Models not started for BENCH_DAILY_BUDGET_USD (SPEC 17), for the health mail; a sink without it (the remote runner's) leaves them to the journal. */
  insertSweepSkip?(doc: SweepSkipDoc): Promise<void>;
  /** The sweep's calibration and lane connection timings (SPEC 18); a sink without it (the remote runner's) leaves them out. */
  insertBenchSweep?(doc: BenchSweepDoc): Promise<void>;
  /**
   * Holds off the sink's own housekeeping that would stop the thread while calls stream (SQLite's
   * checkpoint: 20–25 ms once every ~200 rows), until resumeCheckpoints once no call is in flight.
   */
  pauseCheckpoints?(): Promise<void>;
  resumeCheckpoints?(): Promise<void>;
}

export interface SweepSummary {
  /** Models given to the sweep. */
  models: number;
  /** Models that were called. */
  ran: number;
  ok: number;
  /** Calls that failed (the provider's failures; aborted calls are not among them). */
  failed: number;
  /** Calls in flight when the sweep was stopped (SIGINT, SIGTERM). */
  aborted: number;
  skippedFresh: number;
  skippedDeadline: number;
  /** Models not started because the sweep was stopped. */
  skippedStopped: number;
  /** Models not started because the call would have passed BENCH_DAILY_BUDGET_USD. */
  skippedBudget: number;
  /** Pairs not started because the prompt and the answer do not fit the model's context window (SPEC 19). */
  skippedContext: number;
  writeFailures: number;
  errorsByKind: Partial<Record<AgentErrorKind, number>>;
  durationMs: number;
  /** The sweep deadline passed or the sweep was aborted. */
  interrupted: boolean;
  /** Why the sweep was stopped from outside (options.signal's reason, e.g. "SIGTERM"), or null. */
  stoppedBy: string | null;
}

export interface SweepResult {
  results: ModelResult[];
  summary: SweepSummary;
  /** What the sweep recorded of itself (bench_sweeps), when it ran anything and the sink took it. */
  sweep?: BenchSweepDoc | null;
}

export interface SweepOptions {
  config: Config;
  models: SweepModel[];
  sink: ResultSink;
  loadProvider: (name: ProviderName) => Promise<ProviderStream>;
  logger?: Logger;
  clock?: SweepClock;
  /** Benchmark models even when they have a fresh success. */
  force?: boolean;
  /** Calls at a time within one provider; defaults to config.bench.concurrencyPerProvider. */
  concurrency?: number;
  /** Aborts the whole sweep (SIGTERM): calls in flight are aborted and recorded, the rest skipped. */
  signal?: AbortSignal;
  /** Called as each model's result is known and written, in completion order. */
  onResult?: (result: ModelResult) => void;
  /** Called as each call starts. */
  onStart?: (model: SweepModel) => void;
  /** Prices every metric row's cost_usd (cost.ts); without it cost_usd is null. */
  prices?: PriceBook;
  /** BENCH_DAILY_BUDGET_USD (budget.ts): a call that would pass it is skipped, not started. */
  budget?: DailyBudget;
  /** The lag above which a row is marked saturated (loop-lag.ts's SATURATED_LAG_MS); tests that are not about the mark raise it. */
  saturatedLagMs?: number;
}

/**
 * Runs one sweep. Never throws for a model's failure: each is recorded through the sink and
 * returned. A sink that throws is logged, recorded as a stage `log` error where possible and
 * counted in summary.writeFailures.
 */
export async function runSweep(options: SweepOptions): Promise<SweepResult> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const bench = config.bench;
  const started = clock.now();
  const results: ModelResult[] = [];
  let writeFailures = 0;

  // The deadline aborts calls in flight with a reason the error document can state.
  const deadline = new AbortController();
  const deadlineTimer = setTimeout(
    () =>
      deadline.abort(
        new BenchError(`aborted at the sweep deadline (${seconds(bench.sweepDeadlineMs)} s after the sweep started)`, {
          kind: 'timeout',
          stage: 'timeout',
        }),
      ),
    bench.sweepDeadlineMs,
  );
  const sweepSignal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;

  const finish = (result: ModelResult) => {
    results.push(result);
    options.onResult?.(result);
  };
  // A model a lane did not start: the operator's stop, or the sweep's own deadline.
  const notStarted = (model: SweepModel) =>
    finish(
      options.signal?.aborted
        ? skipped(model, 'skipped_stopped', `not started: ${describeAbort(options.signal.reason)}`)
        : skipped(model, 'skipped_deadline', `not started: ${describeAbort(sweepSignal.reason)}`),
    );

  const wallNow = clock.wallNow();
  const sweepStartedAt = new Date(wallNow);
  const { due, fresh } = partitionDue(options.models, { freshMinutes: bench.freshMinutes, wallNow, force: options.force ?? false });
  for (const f of fresh) finish(skipped(f.model, 'skipped_fresh', f.reason));

  const write = async (model: SweepModel, doc: ResultDoc): Promise<string | null> => {
    const error = await writeResult(options.sink, model, doc, { clock, logger, config });
    if (error) writeFailures += 1;
    return error;
  };

  // TinyFish automation runs (agent scenarios) run in a lane of their own beside the providers',
  // warmed with theirs and started once every lane is warm: no warm-up (SDK loading, the
  // collection of its garbage) runs beside a run being timed, and the first run does not pay
  // the process's first fetch.
  const llmDue: SweepModel[] = [];
  for (const m of due) {
    if (m.scenario?.kind === 'agent') continue;
    const tooLong = contextShortfall(m, options.prices);
    if (tooLong) finish(skipped(m, 'skipped_context', `not started: ${tooLong}`));
    else llmDue.push(m);
  }
  const agentDue = due.filter((m) => m.scenario?.kind === 'agent');
  // SPEC 18: the runner's own added delay and each lane's connection timings, per sweep, where
  // the sink keeps them (the remote runner's does not: it measures neither).
  const recording = typeof options.sink.insertBenchSweep === 'function';
  const recorder = sweepRecorder({ config, signal: sweepSignal, logger, calibrate: recording && llmDue.some((m) => m.provider !== 'mock'), probe: recording });
  let warmed = () => {};
  const allWarm = new Promise<void>((resolve) => (warmed = resolve));
  // Housekeeping, so a failure only says so: the results are written either way.
  const housekeeping = (what: string, step: (() => Promise<void>) | undefined) =>
    step?.call(options.sink).catch((err) => logger.warn(`Cannot ${what} the store's checkpoints: ${classifyError(err).detail}`));
  await housekeeping('pause', options.sink.pauseCheckpoints);
  const agentLane = allWarm.then(() =>
    runAgentLane(agentDue, { config, clock, sweepSignal, sweepStartedAt, deadlineAt: started + bench.sweepDeadlineMs, write, finish, notStarted, onStart: options.onStart }),
  );
  try {
    await runLanes(llmDue, {
      alsoWarm: Promise.all([agentDue.length > 0 ? warmAgentLane(agentDue.map((m) => m.modelId), config, sweepSignal) : undefined, recorder.warm]).then(() => {}),
      afterWarm: () => recorder.probe(),
      onWarmed: () => {
        recorder.lanesStarted();
        warmed();
      },
      concurrency: options.concurrency ?? bench.concurrencyPerProvider,
      loadProvider: options.loadProvider,
      signal: sweepSignal,
      skip: notStarted,
      warm: async (model, stream) => {
        const s = await stream;
        await warmUp(s, model, { config, sweepSignal, logger });
        recorder.laneWarmed(s, { provider: model.provider, modelId: model.modelId, misc: model.misc ?? {}, config, signal: sweepSignal });
      },
      run: async (model, stream) => {
        // A workload's long call is planned like an agent run: not started unless its time limit ends before the deadline.
        if (isWorkload(model)) {
          const late = pastDeadline(bench.callTimeoutMs, started + bench.sweepDeadlineMs - clock.now(), 'a call');
          if (late) return finish(skipped(model, 'skipped_deadline', late));
        }
        // A parallel group (SPEC 19) is admitted whole or not at all, and holds one slot of the lane.
        const size = model.scenario?.kind === 'llm' ? (model.scenario.parallel ?? 1) : 1;
        const tickets: BudgetTicket[] = [];
        for (let i = 0; options.budget && i < size; i++) {
          const admission = await options.budget.admit(model, callInputs(model, bench.profile));
          if (!admission.ok) {
            for (const t of tickets) options.budget.settle(t, 0);
            const reason = size > 1 ? `${admission.reason} (call ${i + 1} of a group of ${size})` : admission.reason;
            await recordBudgetSkip(options.sink, model, reason, { clock, logger, config, sweepStartedAt });
            return finish(skipped(model, 'skipped_budget', `not started: ${reason}`));
          }
          tickets.push(admission.ticket);
        }
        const group = size > 1 ? { parallel_group_id: randomUUID(), parallel_size: size } : null;
        options.onStart?.(model);
        await Promise.all(
          Array.from({ length: size }, async (_, i) => {
            const call = await benchmarkModel(model, stream, { config, clock, sweepSignal, sweepStartedAt, logger, saturatedLagMs: options.saturatedLagMs });
            if (call.metric) {
              call.metric.cost_usd = costOf(call.metric, options.prices?.priceOf(model) ?? null);
              if (group) Object.assign(call.metric, group);
            }
            // A failed call of the group says so too, so the group's failures can be counted.
            if (group && call.error) Object.assign(call.error, group);
            if (tickets[i]) options.budget!.settle(tickets[i]!, call.metric?.cost_usd ?? null);
            const writeError = await write(model, call.outcome === 'ok' ? { metric: call.metric } : { error: call.error });
            finish({ ...base(model), ...call, outcome: call.error?.error_kind === 'aborted' ? 'aborted' : call.outcome, writeError });
          }),
        );
      },
    });
  } finally {
    // Whatever happened to the LLM lanes, the agent lane runs (or records its pairs as not started).
    warmed();
    await agentLane;
    clearTimeout(deadlineTimer);
    await housekeeping('resume', options.sink.resumeCheckpoints);
  }

  const sweep =
    due.length > 0
      ? await recorder.finish(options.sink.insertBenchSweep?.bind(options.sink), { startedAt: sweepStartedAt, finishedAt: new Date(clock.wallNow()) })
      : null;
  const summary = summarize(results, { models: options.models.length, writeFailures, durationMs: clock.now() - started });
  summary.interrupted = sweepSignal.aborted;
  summary.stoppedBy = options.signal?.aborted ? describeStop(options.signal.reason) : null;
  return { results, summary, sweep };
}

/**
 * The TinyFish lane: each due (agent scenario, automation) pair runs through lib/tinyfish/run.ts,
 * as many at once as the largest concurrency among their scenarios (TinyFish's limit, not a
 * chat provider's). A run lasts minutes and costs money, so one whose timeout would pass the
 * sweep deadline is not started: it would only be cut short and recorded as a timeout.
 * Never rejects: each run is recorded through `write` and handed to `finish`.
 */
async function runAgentLane(
  pairs: SweepModel[],
  o: {
    config: Config;
    clock: SweepClock;
    sweepSignal: AbortSignal;
    sweepStartedAt: Date;
    /** The sweep deadline on the monotonic clock. */
    deadlineAt: number;
    write: (model: SweepModel, doc: ResultDoc) => Promise<string | null>;
    finish: (result: ModelResult) => void;
    notStarted: (model: SweepModel) => void;
    onStart?: (model: SweepModel) => void;
  },
): Promise<void> {
  const concurrency = Math.max(1, ...pairs.map((m) => (m.scenario?.kind === 'agent' ? m.scenario.concurrency : 1)));
  await runLanes(pairs, {
    concurrency,
    // Agent runs have no chat stream: the lane's loader is never read.
    loadProvider: async () => {
      throw new BenchError('agent runs have no chat stream', { kind: 'hard_capability', stage: 'load_provider' });
    },
    signal: o.sweepSignal,
    skip: o.notStarted,
    run: async (model) => {
      const scenario = model.scenario as Extract<SweepModel['scenario'], { kind: 'agent' }>;
      const target = { automation: model.modelId, misc: model.misc ?? {}, scenarioId: scenario.id, inputs: scenario.inputs };
      const late = pastDeadline(runTimeoutMs(target, o.config), o.deadlineAt - o.clock.now(), 'a run');
      if (late) return o.finish(skipped(model, 'skipped_deadline', late));
      o.onStart?.(model);
      const agentRun = await runAgent(target, { config: o.config, clock: o.clock, sweepSignal: o.sweepSignal, sweepStartedAt: o.sweepStartedAt });
      const writeError = await o.write(model, { agentRun });
      const outcome = agentRun.status === 'completed' ? 'ok' : agentRun.error_kind === 'aborted' ? 'aborted' : 'failed';
      o.finish({ ...base(model), outcome, attempts: 1, agentRun, writeError });
    },
  });
}

type ResultDoc = { metric: MetricDoc } | { error: ErrorDoc } | { agentRun: AgentRunDoc };

/**
 * Writes one result. On failure logs it, records a stage `log` error where the sink still
 * takes one, and returns the message; null when stored.
 */

async function writeResult(
  sink: ResultSink,
  model: SweepModel,
  doc: ResultDoc,
  o: { clock: SweepClock; logger: Logger; config: Config },
): Promise<string | null> {
  const target = `${model.provider}/${model.modelId}`;
  try {
    let status: InsertResult;
    if ('metric' in doc) status = await sink.insertMetric(doc.metric);
    else if ('error' in doc) status = await sink.insertError(doc.error);
    else status = await sink.insertAgentRun(doc.agentRun);
    const runId = 'metric' in doc ? doc.metric.run_id : 'error' in doc ? doc.error.run_id : doc.agentRun.run_id;
    if (status === 'duplicate') o.logger.warn(`Result of ${target} was already stored (run_id ${runId})`);
    return null;
  } catch (err) {
    const c = classifyError(err);
    const message = `Cannot store the result of ${target}: ${c.detail}`;
    o.logger.error(message);
    try {
      await sink.insertError(
        buildErrorDoc({
          provider: model.provider,
          model_name: model.modelId,
          ts: new Date(o.clock.wallNow()),
          stage: 'log',
          error_kind: c.kind,
          message,
          http_status: c.httpStatus,
          run_id: randomUUID(),
          benchmark_profile_id: model.scenario?.id ?? o.config.bench.profile.id,
          runner: o.config.bench.runner,
        }),
      );
    } catch (again) {
      o.logger.error(`Cannot record the failed write of ${target} either: ${classifyError(again).detail}`);
    }
    return message;
  }
}

/**
 * Records a model the daily budget kept from starting, where the health mail reads it (SPEC 17).
 * Never throws: the skip is in the journal whatever happens here, so a failed write is a warning.
 */
async function recordBudgetSkip(
  sink: ResultSink,
  model: SweepModel,
  reason: string,
  o: { clock: SweepClock; logger: Logger; config: Config; sweepStartedAt: Date },
): Promise<void> {
  if (!sink.insertSweepSkip) return;
  try {
    await sink.insertSweepSkip({
      provider: model.provider,
      model_id: model.modelId,
      scenario_id: model.scenario?.id ?? o.config.bench.profile.id,
      reason,
      skipped_at: new Date(o.clock.wallNow()),
      sweep_started_at: o.sweepStartedAt,
      runner: o.config.bench.runner,
      daily_budget_usd: o.config.cost.dailyBudgetUsd,
    });
  } catch (err) {
    o.logger.warn(`Cannot record that ${model.provider}/${model.modelId} was skipped for the daily budget: ${classifyError(err).detail}`);
  }
}

/** Counts results into a summary (interrupted false; the sweep sets it). */
export function summarize(results: ModelResult[], o: { models: number; writeFailures: number; durationMs: number }): SweepSummary {
  const summary: SweepSummary = {
    models: o.models,
    ran: 0,
    ok: 0,
    failed: 0,
    aborted: 0,
    skippedFresh: 0,
    skippedDeadline: 0,
    skippedStopped: 0,
    skippedBudget: 0,
    skippedContext: 0,
    writeFailures: o.writeFailures,
    errorsByKind: {},
    durationMs: o.durationMs,
    interrupted: false,
    stoppedBy: null,
  };
  for (const r of results) {
    if (r.outcome === 'ok') summary.ok += 1;
    if (r.outcome === 'failed') summary.failed += 1;
    if (r.outcome === 'aborted') summary.aborted += 1;
    if (r.outcome === 'skipped_fresh') summary.skippedFresh += 1;
    if (r.outcome === 'skipped_deadline') summary.skippedDeadline += 1;
    if (r.outcome === 'skipped_stopped') summary.skippedStopped += 1;
    if (r.outcome === 'skipped_budget') summary.skippedBudget += 1;
    if (r.outcome === 'skipped_context') summary.skippedContext += 1;
    const kind = r.outcome === 'failed' ? (r.error?.error_kind ?? r.agentRun?.error_kind) : null;
    if (kind) summary.errorsByKind[kind] = (summary.errorsByKind[kind] ?? 0) + 1;
  }
  summary.ran = summary.ok + summary.failed + summary.aborted;
  return summary;
}

function base(model: SweepModel): ModelResult {
  return {
    provider: model.provider,
    modelId: model.modelId,
    outcome: 'ok',
    metric: null,
    error: null,
    attempts: 0,
    skipReason: null,
    writeError: null,
    scenarioId: model.scenario?.id ?? null,
    agentRun: null,
  };
}

function skipped(model: SweepModel, outcome: Exclude<Outcome, 'ok' | 'failed' | 'aborted'>, reason: string): ModelResult {
  return { ...base(model), outcome, skipReason: reason };
}

/** Why a call or run whose time limit would pass the sweep deadline is not started, or null when it fits. */
function pastDeadline(limitMs: number, leftMs: number, what: string): string | null {
  if (limitMs <= leftMs) return null;
  return `not started: ${what} may take ${seconds(limitMs)} s and the sweep deadline is ${seconds(Math.max(0, leftMs))} s away`;
}

/**
 * A pair of a workload scenario (SPEC 19: long prompts, parallel groups), whose calls may take
 * their whole time limit; the published scenario's short calls run until the deadline aborts them.
 */
function isWorkload(model: SweepModel): boolean {
  return model.scenario?.kind === 'llm' && (!!model.scenario.inputTokens || (model.scenario.parallel ?? 1) > 1);
}

/**
 * Why a pair's prompt and answer cannot fit the model's context window (misc.context_window, else
 * the OpenRouter catalog's context_length), or null when they fit or the window is unknown.
 */
function contextShortfall(model: SweepModel, prices: PriceBook | undefined): string | null {
  const s = model.scenario;
  if (s?.kind !== 'llm' || !s.inputTokens) return null;
  const window = prices?.contextOf?.(model) ?? null;
  if (window === null || s.inputTokens + s.maxTokens <= window) return null;
  return `a ${s.inputTokens}-token prompt and ${s.maxTokens} output tokens do not fit its ${window}-token context window`;
}

/**
 * Why a sweep counts as not having run (exit 1), or null when it ran. Model failures alone are
 * data; calls aborted by a stop are not failures, so a stopped sweep fails only on a lost result.
 */
export function sweepFailure(summary: SweepSummary): string | null {
  if (summary.writeFailures > 0) return `${summary.writeFailures} result(s) could not be stored`;
  if (summary.stoppedBy) return null;
  if (summary.failed > 0 && summary.ok === 0) return `every call failed (${summary.failed} of ${summary.failed})`;
  return null;
}

/** The stop's name from an abort reason: bench-once aborts with new Error('SIGTERM'). */
function describeStop(reason: unknown): string {
  if (reason instanceof Error) return reason.message || 'stop';
  return typeof reason === 'string' && reason ? reason : 'stop';
}
