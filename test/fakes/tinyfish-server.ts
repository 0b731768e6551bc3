// A fake TinyFish automation API on 127.0.0.1, port 0, in TinyFish's wire format (see
// lib/tinyfish/client.ts for the format and where it comes from):
//   POST /v1/automation/run-sse  → text/event-stream of `data: {json}` events (STARTED,
//        STREAMING_URL, PROGRESS, HEARTBEAT, COMPLETE, ERROR), each with an ISO timestamp
//   POST /v1/automation/run      → one JSON answer {run_id, status, result, error, started_at, finished_at, num_of_steps}
// A wrong X-API-Key gets 401 with TinyFish's error shape. What each run plays is planned per
// request from its body (url and goal), and each event's send time is recorded, so tests can
// compare measured timings against the wire.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closedSignal, readBody, sleepUntil } from './openai-server.ts';

export interface PlannedEvent {
  /** Milliseconds after the request arrived when this event is written. */
  atMs: number;
  type: 'STARTED' | 'STREAMING_URL' | 'PROGRESS' | 'HEARTBEAT' | 'COMPLETE' | 'ERROR';
  purpose?: string;
  /** COMPLETE only: COMPLETED, FAILED or CANCELLED. */
  status?: string;
  resultJson?: unknown;
  /** COMPLETE (FAILED) or ERROR: the message. */
  error?: string;
  /** Write an SSE comment line (`: keep-alive`) instead of an event. */
  comment?: boolean;
}

export interface RunPlan {
  /** Answer with this HTTP status (401, 402, 429, 500, …) and TinyFish's error body instead. */
  status?: number;
  events: PlannedEvent[];
  /** After the last event keep the connection open without writing (a stalled or endless run). */
  hold?: boolean;
}

export interface TinyFishRequest {
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: { url?: string; goal?: string; browser_profile?: string; proxy_config?: unknown } | null;
  arrivedAt: number;
}

export interface TinyFishFakeServer {
  /** For TINYFISH_BASE_URL (without /v1, as the real base https://agent.tinyfish.ai). */
  baseUrl: string;
  requests: TinyFishRequest[];
  /** performance.now() in this process just after each event (or comment) was written, per request in order. */
  sent: Array<Array<{ type: string; at: number }>>;
  close(): Promise<void>;
}

export const FAKE_TINYFISH_KEY = 'tf-test-key-0123456789';

/** A typical successful run: STARTED, STREAMING_URL half a step later, `steps` PROGRESS events `stepMs` apart, COMPLETE. */
export function successfulRun(o: { startMs?: number; steps?: number; stepMs?: number; result?: unknown } = {}): RunPlan {
  const start = o.startMs ?? 20;
  const step = o.stepMs ?? 20;
  const steps = o.steps ?? 3;
  const events: PlannedEvent[] = [
    { atMs: start, type: 'STARTED' },
    { atMs: start + step / 2, type: 'STREAMING_URL' },
  ];
  for (let i = 1; i <= steps; i++) events.push({ atMs: start + i * step, type: 'PROGRESS', purpose: `Step ${i}` });
  events.push({ atMs: start + (steps + 1) * step, type: 'COMPLETE', status: 'COMPLETED', resultJson: o.result ?? { ok: true } });
  return { events };
}

export interface TinyFishServerOptions {
  apiKey?: string;
  /** Called just before each event (or comment) is written, with its planned time: a test's virtual clock follows the wire. */
  onSend?: (type: string, atMs: number) => void;
}

export async function startTinyFishServer(planFor: (req: TinyFishRequest) => RunPlan, o: TinyFishServerOptions = {}): Promise<TinyFishFakeServer> {
  const apiKey = o.apiKey ?? FAKE_TINYFISH_KEY;
  const requests: TinyFishRequest[] = [];
  const sent: TinyFishFakeServer['sent'] = [];
  const stopping = new AbortController();
  const server = createServer((req, res) => {
    void handle(req, res).catch(() => res.destroy());
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const arrivedAt = performance.now();
    let body: TinyFishRequest['body'] = null;
    try {
      body = raw ? JSON.parse(raw) : null;
    } catch {
      body = null;
    }
    const path = (req.url ?? '/').split('?')[0]!;
    const recorded: TinyFishRequest = { path, headers: { ...req.headers }, body, arrivedAt };
    requests.push(recorded);
    const times: Array<{ type: string; at: number }> = [];
    sent.push(times);
    res.socket?.setNoDelay(true);

    if (req.method !== 'POST' || (path !== '/v1/automation/run-sse' && path !== '/v1/automation/run')) {
      return json(res, 404, { error: { code: 'NOT_FOUND', message: `No route ${req.method} ${path}` } });
    }
    if (req.headers['x-api-key'] !== apiKey) {
      return json(res, 401, { error: { code: 'UNAUTHORIZED', message: 'Invalid or missing API key' } });
    }
    if (!body || typeof body.url !== 'string' || typeof body.goal !== 'string' || !body.goal) {
      return json(res, 400, { error: { code: 'INVALID_INPUT', message: 'url and goal are required' } });
    }
    const plan = planFor(recorded);
    if (plan.status && plan.status !== 200) {
      const messages: Record<number, string> = { 402: 'Insufficient credits', 429: 'Rate limit exceeded', 500: 'Internal server error' };
      return json(res, plan.status, { error: { code: `HTTP_${plan.status}`, message: messages[plan.status] ?? 'Request failed' } });
    }
    const stop = AbortSignal.any([stopping.signal, closedSignal(res)]);
    const runId = `run_${Math.random().toString(36).slice(2, 12)}`;
    const stamp = () => new Date().toISOString();

    if (path === '/v1/automation/run') {
      // The synchronous endpoint: nothing until the run is over.
      const last = plan.events.at(-1);
      if (last) await sleepUntil(arrivedAt + last.atMs, stop);
      if (stop.aborted) return;
      const end = plan.events.find((e) => e.type === 'COMPLETE' || e.type === 'ERROR');
      const ok = end?.type === 'COMPLETE' && end.status === 'COMPLETED';
      return json(res, 200, {
        run_id: runId,
        status: ok ? 'COMPLETED' : 'FAILED',
        result: ok ? (end.resultJson ?? null) : null,
        error: ok ? null : { message: end?.error ?? 'Run failed' },
        started_at: new Date(Date.now() - (last?.atMs ?? 0)).toISOString(),
        finished_at: stamp(),
        num_of_steps: plan.events.filter((e) => e.type === 'PROGRESS').length,
      });
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    for (const e of plan.events) {
      await sleepUntil(arrivedAt + e.atMs, stop);
      if (stop.aborted) return;
      o.onSend?.(e.comment ? 'comment' : e.type, e.atMs);
      if (e.comment) {
        res.write(': keep-alive\n\n');
      } else {
        const payload: Record<string, unknown> = { type: e.type, timestamp: stamp() };
        if (e.type !== 'HEARTBEAT') payload.runId = runId;
        if (e.type === 'STREAMING_URL') payload.streamingUrl = `https://stream.example.invalid/session/${runId}`;
        if (e.type === 'PROGRESS') payload.purpose = e.purpose ?? 'Working';
        if (e.type === 'COMPLETE') {
          payload.status = e.status ?? 'COMPLETED';
          payload.resultJson = e.resultJson ?? null;
          if (e.error) payload.error = e.error;
        }
        if (e.type === 'ERROR') payload.message = e.error ?? 'Run failed';
        res.write(`data: ${JSON.stringify(payload)}\n\n`);
      }
      times.push({ type: e.comment ? 'comment' : e.type, at: performance.now() });
    }
    if (plan.hold) {
      await new Promise<void>((resolve) => (stop.aborted ? resolve() : stop.addEventListener('abort', () => resolve(), { once: true })));
      return;
    }
    res.end();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    sent,
    async close() {
      stopping.abort();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

