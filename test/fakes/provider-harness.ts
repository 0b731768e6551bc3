// What every provider adapter test puts around the adapter under test: a request with an
// injected fake clock, the events read to the end with the error that ended them, lookups by
// event type, the checks on event times that hold for every provider, and fake servers that
// live for one test or for the whole file.
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach } from 'node:test';
import type { ProviderRequest, StreamEvent } from '../../lib/bench/provider-stream.ts';
import type { FakeServer } from './scenario.ts';
import { startWireServer, type WireCase, type WireServer } from './wire-server.ts';

export const STORY_PROMPT = 'Tell a long and happy story about the history of the world.';

export interface FakeClock {
  now: () => number;
  /** Every reading handed out, in order. */
  issued: number[];
}

/** A clock that advances by one on every read, so each t shows which read produced it. */
export function fakeClock(): FakeClock {
  const issued: number[] = [];
  return {
    issued,
    now: () => {
      issued.push(issued.length + 1);
      return issued.length;
    },
  };
}

export type TestRequest = ProviderRequest & { clock: FakeClock };

/**
 * A request for the story prompt with a 64-token budget and temperature 0.1, timed by a fresh
 * fakeClock (returned as `clock`); `fields` names the provider, model and config and may
 * replace any default.
 */
export function providerRequest(fields: Pick<ProviderRequest, 'provider' | 'modelId' | 'config'> & Partial<ProviderRequest>): TestRequest {
  const clock = fakeClock();
  return {
    misc: {},
    prompt: STORY_PROMPT,
    maxTokens: 64,
    temperature: 0.1,
    signal: new AbortController().signal,
    now: clock.now,
    clock,
    ...fields,
  };
}

export interface Collected {
  events: StreamEvent[];
  /** What the stream (or onEvent) threw; null when it ended cleanly. */
  error: unknown;
}

/**
 * Reads a stream to its end and returns the events with the error that ended it, so a test can
 * check what arrived before a failure. `onEvent` sees each event as it arrives (to abort
 * mid-stream, say); what it throws ends the reading, as a caller that stops reading would.
 */
export async function collect(stream: AsyncIterable<StreamEvent>, o: { onEvent?: (e: StreamEvent) => void } = {}): Promise<Collected> {
  const events: StreamEvent[] = [];
  try {
    for await (const e of stream) {
      events.push(e);
      o.onEvent?.(e);
    }
    return { events, error: null };
  } catch (error) {
    return { events, error };
  }
}

/** The event types in order, without `connection` (whether a socket was reused is tested on its own). */
export function types(events: StreamEvent[]): string[] {
  return events.filter((e) => e.type !== 'connection').map((e) => e.type);
}

export function ofType<T extends StreamEvent['type']>(events: StreamEvent[], type: T): Array<Extract<StreamEvent, { type: T }>> {
  return events.filter((e): e is Extract<StreamEvent, { type: T }> => e.type === type);
}

/** The single event of this type; fails the test when there are none or several. */
export function only<T extends StreamEvent['type']>(events: StreamEvent[], type: T): Extract<StreamEvent, { type: T }> {
  const found = ofType(events, type);
  assert.equal(found.length, 1, `exactly one ${type} event`);
  return found[0]!;
}

/** The deltas of the text (default) or reasoning events, in order. */
export function texts(events: StreamEvent[], type: 'text' | 'reasoning' = 'text'): string[] {
  return events.flatMap((e) => (e.type === type ? [e.text] : []));
}

/**
 * Event times never go back, except the finish: it carries the time of the chunk that held the
 * finish reason (generate_time ends there, SPEC 5), which a later usage-only chunk may follow.
 */
export function assertNonDecreasing(events: StreamEvent[]): void {
  const ordered = events.filter((e) => e.type !== 'finish');
  for (let i = 1; i < ordered.length; i++) {
    assert.ok(ordered[i]!.t >= ordered[i - 1]!.t, `t decreases at event ${i} (${ordered[i]!.type})`);
  }
  for (const f of events.filter((e) => e.type === 'finish')) {
    assert.ok(ordered.some((e) => e.t >= f.t) || ordered.length === 0, 'the finish time is one of the stream\'s times');
  }
}

/** Every t is a reading of this clock (not the adapter's own), and none goes back. */
export function assertClockTimes(events: StreamEvent[], clock: FakeClock): void {
  for (const e of events) assert.ok(clock.issued.includes(e.t), `${e.type}.t ${e.t} comes from the injected clock`);
  assertNonDecreasing(events);
}

/** The JSON body of the server's i-th request; fails the test when that request was not made. */
export function requestBody(server: FakeServer, i = 0): Record<string, unknown> {
  const r = server.requests[i];
  assert.ok(r, `request ${i} was made`);
  return r.body as Record<string, unknown>;
}

/**
 * Returns `track`, which hands back the server it is given and closes it after the test that
 * started it (an afterEach hook registered here): for tests that each start their own server.
 */
export function trackServers(): <S extends FakeServer>(server: Promise<S>) => Promise<S> {
  const servers: FakeServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (pending) => {
    const server = await pending;
    servers.push(server);
    return server;
  };
}

/**
 * Returns `wire`, which starts test/fakes/wire-server.ts playing one case (exact bytes) for
 * every request and closes it after the test: for streams a provider's own fake never sends.
 */
export function trackWireServers(): (c: WireCase, o?: { http2?: boolean }) => Promise<WireServer> {
  const servers: WireServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.close()));
  });
  return async (c, o = {}) => {
    const server = await startWireServer(() => c, o);
    servers.push(server);
    return server;
  };
}

/**
 * One server for the whole file: started before the first test, closed after the last, its
 * recorded requests cleared before each test. The returned object reads through to it, so it
 * can be held before the server exists.
 */
export function serveFile(start: () => Promise<FakeServer>): FakeServer {
  let server: FakeServer | undefined;
  const started = (): FakeServer => {
    assert.ok(server, 'the file server has started');
    return server;
  };
  before(async () => {
    server = await start();
  });
  after(async () => {
    await server?.close();
  });
  beforeEach(() => {
    started().requests.length = 0;
  });
  return {
    get baseUrl() {
      return started().baseUrl;
    },
    get requests() {
      return started().requests;
    },
    close: () => started().close(),
  };
}
