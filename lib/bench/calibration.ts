// The runner measuring itself (SPEC 18): inside each sweep, one chat stream from a server on
// 127.0.0.1 in this process, whose send times are known, read by the same client code and the
// same lib/bench/measure.ts as every provider's call. What measurement reads minus the truth is
// what the runner itself adds to a TTFT and a decode speed while the sweep runs.
//
// The truth is the moment each chunk was handed to the socket (performance.now() right after
// res.write), not the schedule: the server shares the event loop with the sweep, so a busy loop
// delays its writes too, and only the delay after a write is the client's. Loopback delivery
// itself is a few microseconds.
//
// The stream goes through the OpenAI-compatible chat reader (openai SDK), the wire format of
// five of the nine lanes, whatever lanes the sweep runs, so sweeps compare with each other. It
// is rehearsed once during the warm-up (a first run compiles the SDK's stream code, ~5 ms
// slower), and measured while the lanes run, beside the first calls of every lane.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Config } from '../config.ts';
import { classifyError } from '../errors.ts';
import type { SweepCalibration } from '../store/documents.ts';
import { monotonicNow, sleepUntil } from './clock.ts';
import { buildMetric, clockStart } from './measure.ts';
import type { ProviderRequest, StreamEvent } from './provider-stream.ts';

/** The calibration stream: a first chunk after TTFT_MS, then one token every GAP_MS (100 tokens/s), like a short real answer. */
export interface CalibrationPlan {
  ttftMs: number;
  gapMs: number;
  chunks: number;
}

export const CALIBRATION_PLAN: CalibrationPlan = { ttftMs: 100, gapMs: 10, chunks: 40 };
const REHEARSAL_PLAN: CalibrationPlan = { ttftMs: 0, gapMs: 0, chunks: 3 };
const RUN_TIMEOUT_MS = 10_000;
const ERROR_CHARS = 200;

/** One token in o200k (and every tokenizer measure.ts might load), so each chunk is one token. */
const TOKEN = ' world';

export interface Calibration {
  /** Runs the measured stream. Never throws: a failure is the result's `error`. */
  run(): Promise<SweepCalibration>;
  close(): Promise<void>;
}

/**
 * Starts the loopback server, loads the chat client and rehearses one short stream. Never
 * throws: a calibration that cannot start runs as one whose `run` reports why.
 */
export async function prepareCalibration(o: { config: Config; signal: AbortSignal; plan?: CalibrationPlan }): Promise<Calibration> {
  const plan = o.plan ?? CALIBRATION_PLAN;
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  let read: ((plan: CalibrationPlan) => Promise<SweepCalibration>) | null = null;
  let failure: string | null = null;
  try {
    server = await startServer();
    const { createOpenAIClient, streamChatCompletions } = await import('./providers/openai-compatible.ts');
    const client = createOpenAIClient('calibration', `${server.url}/v1`);
    const state = server.state;
    read = async (p) => {
      state.plan = p;
      state.writes = [];
      const signal = AbortSignal.any([o.signal, AbortSignal.timeout(RUN_TIMEOUT_MS)]);
      const req: ProviderRequest = {
        provider: 'groq',
        modelId: 'calibration',
        misc: {},
        prompt: 'calibration',
        maxTokens: p.chunks,
        temperature: null,
        signal,
        now: monotonicNow,
        config: o.config,
      };
      const events: StreamEvent[] = [];
      const startT = performance.now();
      for await (const ev of streamChatCompletions(client, req, { mode: 'calibration_chat_stream' })) events.push(ev);
      return figures(events, state.writes, { startT, endT: performance.now() });
    };
    await read(REHEARSAL_PLAN);
  } catch (err) {
    failure = describe(err);
  }
  return {
    async run() {
      if (!read) return calibrationFailure(failure ?? 'the calibration did not start');
      try {
        return await read(plan);
      } catch (err) {
        return calibrationFailure(describe(o.signal.aborted ? o.signal.reason : err));
      }
    },
    async close() {
      await server?.close();
    },
  };
}

/** The figures of one run: the recording measured as any call is, against the server's writes. */
async function figures(events: StreamEvent[], writes: number[], times: { startT: number; endT: number }): Promise<SweepCalibration> {
  const metric = await buildMetric(
    { events, ...times },
    { provider: 'groq', modelId: 'calibration', runId: 'calibration', profileId: 'calibration', runner: 'calibration', wallOffsetMs: 0, fallbackMaxTokens: writes.length },
  );
  const request = events.find((e) => e.type === 'request');
  const arrivals = events.filter((e) => e.type === 'text').map((e) => e.t);
  if (!request || writes.length === 0 || arrivals.length === 0) return calibrationFailure(`the stream carried no text (${arrivals.length} text events, ${writes.length} writes)`);
  // The truth starts where measurement's clock does: when the request went to the socket.
  const ttftTrue = (writes[0]! - clockStart(events)!) / 1000;
  const ttftMeasured = metric.time_to_first_token;
  const span = (writes[writes.length - 1]! - writes[0]!) / 1000;
  const decodeTrue = writes.length > 1 && span > 0 ? (writes.length - 1) / span : null;
  const decodeMeasured = metric.decode_tokens_per_second;
  // Each write carries one text chunk and the SDK yields one event for it, so they pair by index.
  const delays = arrivals.slice(0, writes.length).map((t, i) => (t - writes[i]!) / 1000).sort((a, b) => a - b);
  return {
    ttft_true_s: ttftTrue,
    ttft_measured_s: ttftMeasured,
    ttft_added_s: ttftMeasured === null ? null : ttftMeasured - ttftTrue,
    decode_true_tps: decodeTrue,
    decode_measured_tps: decodeMeasured,
    decode_error_pct: decodeTrue !== null && decodeMeasured !== null ? ((decodeMeasured - decodeTrue) / decodeTrue) * 100 : null,
    chunk_delay_p50_s: delays[Math.floor((delays.length - 1) / 2)] ?? null,
    chunk_delay_max_s: delays[delays.length - 1] ?? null,
    error: null,
  };
}

/** A calibration that has no figures, with why. */
export function calibrationFailure(error: string): SweepCalibration {
  return {
    ttft_true_s: null,
    ttft_measured_s: null,
    ttft_added_s: null,
    decode_true_tps: null,
    decode_measured_tps: null,
    decode_error_pct: null,
    chunk_delay_p50_s: null,
    chunk_delay_max_s: null,
    error: error.slice(0, ERROR_CHARS),
  };
}

function describe(err: unknown): string {
  return classifyError(err).detail;
}

/** One chat-completions SSE event. */
const event = (choices: unknown[], extra: Record<string, unknown> = {}) =>
  `data: ${JSON.stringify({ id: 'calibration', object: 'chat.completion.chunk', created: 0, model: 'calibration', choices, ...extra })}\n\n`;
const delta = (d: Record<string, unknown>, finish: string | null = null) => [{ index: 0, delta: d, finish_reason: finish }];

/**
 * The loopback server: every POST plays `plan`, each text chunk its own write, stamped in
 * `writes` (performance.now() after the write).
 */
async function startServer(): Promise<{ url: string; state: { plan: CalibrationPlan; writes: number[] }; close(): Promise<void> }> {
  const state = { plan: CALIBRATION_PLAN, writes: [] as number[] };
  // Stops the writes still planned when the server closes.
  const stop = new AbortController();
  // The plan promises the first chunk no earlier than ttftMs after the request arrived, which a
  // bare timer does not keep (sleepUntil).
  const at = (due: number, fn: () => void) => void sleepUntil(due, stop.signal).then(fn, () => {});
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const plan = state.plan;
      const arrived = performance.now();
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      // The headers go at once, as the providers send them: the client has its response (and
      // the SDK its stream) before the first chunk, whose delay is then the reading alone.
      res.flushHeaders();
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i < plan.chunks) {
          res.write(event(delta(i === 0 ? { role: 'assistant', content: TOKEN } : { content: TOKEN })));
          state.writes.push(performance.now());
          i += 1;
          // Each write is scheduled from the request's arrival, so a late timer does not push the rest back.
          at(arrived + plan.ttftMs + i * plan.gapMs, next);
          return;
        }
        res.end(
          event(delta({}, 'stop')) + event([], { usage: { prompt_tokens: 1, completion_tokens: plan.chunks, total_tokens: plan.chunks + 1 } }) + 'data: [DONE]\n\n',
        );
      };
      at(arrived + plan.ttftMs, next);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // Never hold the process open once the sweep is done.
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    state,
    close: async () => {
      stop.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
