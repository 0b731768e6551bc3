// TinyFish's automation API (SPEC 15), timed the way the LLM adapters are: the monotonic clock
// is read when a chunk arrives, before it is parsed.
//
// Wire format (docs.mino.ai API reference and TinyFish's generated SDK types):
//   POST {base}/v1/automation/run-sse   header X-API-Key, body {url, goal, browser_profile?, proxy_config?}
//     → text/event-stream of `data: {json}` events, `type` one of
//       STARTED {runId}, STREAMING_URL {runId, streamingUrl}, PROGRESS {runId, purpose},
//       HEARTBEAT {}, COMPLETE {runId, status: COMPLETED|FAILED|CANCELLED, resultJson?, error?},
//       ERROR {message or error}; each with an ISO `timestamp`.
//   POST {base}/v1/automation/run       the same body → one JSON object
//       {run_id, status: COMPLETED|FAILED, result, error: {message}|null, started_at, finished_at, num_of_steps}
import type { Config } from '../config.ts';
import { BenchError } from '../errors.ts';
import type { AutomationRequest } from './automation.ts';

/** One event as TinyFish sends it (fields we read; the rest is kept as sent). */
export interface TinyFishEvent {
  type: string;
  runId?: string;
  purpose?: string;
  status?: string;
  streamingUrl?: string;
  resultJson?: unknown;
  error?: unknown;
  message?: string;
  timestamp?: string;
  [key: string]: unknown;
}

/** What a run's stream yields, each stamped with the monotonic clock when its chunk arrived. */
export type AgentStreamItem =
  /** The response headers arrived. */
  | { kind: 'response'; t: number; status: number }
  /** One event (for the synchronous endpoint: its answer as a COMPLETE event). */
  | { kind: 'event'; t: number; event: TinyFishEvent }
  /** An SSE comment line: no event, but the connection is alive (resets the stall watch). */
  | { kind: 'keepalive'; t: number };

export interface AgentStreamOptions {
  signal: AbortSignal;
  /** Monotonic clock in milliseconds. */
  now: () => number;
}

/** Streams one automation run: the real API, or the mock (lib/tinyfish/mock.ts). */
export type AgentStream = (req: AutomationRequest, o: AgentStreamOptions) => AsyncIterable<AgentStreamItem>;

/** An HTTP error answer, shaped like the SDKs' errors so classifyError reads its status and Retry-After. */
class TinyFishHttpError extends Error {
  override name = 'TinyFishHttpError';
  constructor(
    message: string,
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(message);
  }
}

/**
 * The real client over `config.providers.tinyfish`.
 * Each run throws BenchError (auth) without a key, TinyFishHttpError on an HTTP error answer,
 * BenchError (transient_provider) when a 200 is not what the endpoint promises.
 */
export function tinyfishStream(config: Config['providers']['tinyfish']): AgentStream {
  return async function* run(req, o) {
    if (!config.apiKey) {
      throw new BenchError('TINYFISH_API_KEY is not set: set it in .env, or try TINYFISH_MOCK_MODE=true', { kind: 'auth', stage: 'load_provider' });
    }
    const body = {
      url: req.url,
      goal: req.goal,
      ...(req.browser_profile ? { browser_profile: req.browser_profile } : {}),
      ...(req.proxy_config ? { proxy_config: req.proxy_config } : {}),
    };
    const url = `${config.baseUrl}/v1/automation/${req.endpoint}`;
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'X-API-Key': config.apiKey,
        'Content-Type': 'application/json',
        Accept: req.endpoint === 'run-sse' ? 'text/event-stream' : 'application/json',
      },
      body: JSON.stringify(body),
      signal: o.signal,
    });
    const t = o.now();
    if (!res.ok) {
      const text = (await res.text().catch(() => '')).replace(/\s+/g, ' ').slice(0, 300);
      throw new TinyFishHttpError(`POST ${url}: HTTP ${res.status}${text ? ` ${text}` : ''}`, res.status, res.headers);
    }
    yield { kind: 'response', t, status: res.status };
    if (req.endpoint === 'run') {
      yield { kind: 'event', t: o.now(), event: completeFromSync(await res.json()) };
      return;
    }
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      await res.body?.cancel().catch(() => {});
      throw new BenchError(`POST ${url} answered HTTP ${res.status} with ${type || 'no content type'}, not an event stream`, { kind: 'transient_provider' });
    }
    yield* readEvents(res.body!, o);
  };
}

/** Parses an event stream (SSE) into items, one per `data:` event or comment line. */
export async function* readEvents(body: ReadableStream<Uint8Array>, o: AgentStreamOptions): AsyncGenerator<AgentStreamItem> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let data: string[] = [];
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const t = o.now();
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) !== -1) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (data.length > 0) yield { kind: 'event', t, event: parseEvent(data.join('\n')) };
          data = [];
        } else if (line.startsWith(':')) {
          yield { kind: 'keepalive', t };
        } else if (line.startsWith('data:')) {
          data.push(line.slice(5).replace(/^ /, ''));
        }
        // `event:`, `id:` and `retry:` lines carry nothing TinyFish uses: the type is inside the JSON.
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function parseEvent(text: string): TinyFishEvent {
  try {
    const v = JSON.parse(text) as unknown;
    if (v && typeof v === 'object' && typeof (v as { type?: unknown }).type === 'string') return v as TinyFishEvent;
  } catch {
    // fall through: an event we cannot read is reported as one, not dropped
  }
  return { type: 'UNREADABLE', raw: text.slice(0, 500) };
}

/** The synchronous endpoint's answer as the COMPLETE event the stream would have ended with. */
function completeFromSync(body: unknown): TinyFishEvent {
  const b = (body ?? {}) as Record<string, unknown>;
  const error = b.error as { message?: unknown } | string | null | undefined;
  return {
    type: 'COMPLETE',
    ...(typeof b.run_id === 'string' ? { runId: b.run_id } : {}),
    status: typeof b.status === 'string' ? b.status : 'UNKNOWN',
    resultJson: b.result ?? null,
    ...(error ? { error: typeof error === 'string' ? error : String(error.message ?? JSON.stringify(error)) } : {}),
    ...(typeof b.num_of_steps === 'number' ? { num_of_steps: b.num_of_steps } : {}),
  };
}
