import assert from 'node:assert/strict';
import { BenchError } from '../../lib/errors.ts';
import { after, before, describe, test } from 'node:test';
import { loadConfig, type Config } from '../../lib/config.ts';
import { systemClock, type SweepClock } from '../../lib/bench/clock.ts';
import { percentiles } from '../../lib/bench/measure.ts';
import { capResult, runAgent, runTimeoutMs, type AgentTarget } from '../../lib/tinyfish/run.ts';
import { RESULT_CAP_BYTES } from '../../lib/store/documents.ts';
import { FAKE_TINYFISH_KEY, startTinyFishServer, successfulRun, type PlannedEvent, type RunPlan, type TinyFishFakeServer } from '../fakes/tinyfish-server.ts';

// Each test names its plan in the goal; the fake plays the plan registered under that goal.
const plans = new Map<string, RunPlan>();
let server: TinyFishFakeServer;
/** A test's virtual clock: the fake sets it to each event's planned time just before writing it. */
let virtual = 0;
before(async () => {
  server = await startTinyFishServer((req) => plans.get(req.body?.goal ?? '') ?? successfulRun(), { onSend: (_type, atMs) => (virtual = atMs) });
});
after(() => server.close());

function config(env: Record<string, string> = {}): Config {
  return loadConfig({
    env: { RUNNER_NAME: 'test-runner', TINYFISH_API_KEY: FAKE_TINYFISH_KEY, TINYFISH_BASE_URL: server.baseUrl, ...env },
    dotenvPath: false,
  });
}

let n = 0;
async function run(plan: RunPlan, o: { env?: Record<string, string>; misc?: Record<string, unknown>; clock?: SweepClock } = {}) {
  const goal = `plan ${++n}`;
  plans.set(goal, plan);
  const target: AgentTarget = { automation: 'pricing-page', misc: { url: 'https://example.com/pricing', goal, ...o.misc }, scenarioId: 'agent-default-v1', inputs: {} };
  const doc = await runAgent(target, { config: config(o.env), clock: o.clock ?? systemClock, sweepSignal: new AbortController().signal, sweepStartedAt: null });
  return { doc, sent: server.sent[server.requests.length - 1]!, request: server.requests[server.requests.length - 1]! };
}

const heartbeats = (fromMs: number, toMs: number, everyMs: number): PlannedEvent[] =>
  Array.from({ length: Math.floor((toMs - fromMs) / everyMs) }, (_, i) => ({ atMs: fromMs + (i + 1) * everyMs, type: 'HEARTBEAT' as const }));

describe('TinyFish runs against the fake server', () => {
  test('each time is read from the clock when its event arrives: time to STARTED, to the first PROGRESS, the total and the gaps match the wire', async () => {
    // The clock is virtual and follows the wire: the fake sets it to each event's planned
    // time just before writing it, so a reading taken when an event arrives equals that
    // event's time exactly, and any reading taken elsewhere (before parsing, after
    // processing, at the wrong event) would not. (Wall-clock accuracy: npm run bench:tinyfish.)
    virtual = 0;
    const clock: SweepClock = { ...systemClock, now: () => virtual };
    const { doc, request } = await run(successfulRun({ startMs: 100, steps: 3, stepMs: 50, result: { plans: ['Free', 'Pro'] } }), { clock });
    assert.equal(doc.status, 'completed', doc.error ?? '');
    // STARTED at 100, STREAMING_URL at 125, PROGRESS at 150, 200, 250, COMPLETE at 300.
    assert.deepEqual([doc.time_to_started_ms, doc.time_to_first_progress_ms, doc.total_duration_ms], [100, 150, 300]);
    assert.deepEqual(doc.inter_event_ms, percentiles([25, 25, 50, 50, 50]));
    assert.equal(doc.progress_events, 3);
    assert.equal(doc.event_count, 6);
    assert.match(doc.tinyfish_run_id ?? '', /^run_/);
    assert.deepEqual(doc.result, { plans: ['Free', 'Pro'] });
    assert.equal(doc.result_truncated, false);
    assert.equal(doc.tinyfish_status, 'COMPLETED');
    assert.deepEqual([doc.error, doc.error_kind, doc.mock, doc.endpoint], [null, null, false, 'run-sse']);
    assert.equal(request.path, '/v1/automation/run-sse');
    assert.equal(request.headers['x-api-key'], FAKE_TINYFISH_KEY);
    assert.deepEqual(request.body, { url: 'https://example.com/pricing', goal: request.body!.goal });
  });

  // Heartbeats every 50 ms against a 500 ms stall limit: only a pause of 450 ms could fire it
  // (a 10 ms timer fired up to 143 ms late with the load average at 5-9, README Testing); the quiet run
  // below is silent for 710 ms.
  test('heartbeats reset the stall watch: a quiet run that keeps sending HEARTBEAT completes', async () => {
    const plan: RunPlan = { events: [{ atMs: 10, type: 'STARTED' }, ...heartbeats(10, 700, 50), { atMs: 720, type: 'COMPLETE', status: 'COMPLETED' }] };
    const { doc } = await run(plan, { env: { TINYFISH_STALL_TIMEOUT_MS: '500' } });
    assert.equal(doc.status, 'completed', doc.error ?? '');
    assert.equal(doc.event_count, 15);
  });

  test('an SSE comment line resets the stall watch too', async () => {
    const comments = heartbeats(10, 700, 50).map((e) => ({ ...e, comment: true }));
    const { doc } = await run({ events: [{ atMs: 10, type: 'STARTED' }, ...comments, { atMs: 720, type: 'COMPLETE', status: 'COMPLETED' }] }, { env: { TINYFISH_STALL_TIMEOUT_MS: '500' } });
    assert.equal(doc.status, 'completed', doc.error ?? '');
  });

  test('the same quiet run without heartbeats stalls: status timeout, saying so', async () => {
    const plan: RunPlan = { events: [{ atMs: 10, type: 'STARTED' }, { atMs: 720, type: 'COMPLETE', status: 'COMPLETED' }] };
    const { doc } = await run(plan, { env: { TINYFISH_STALL_TIMEOUT_MS: '500' } });
    assert.equal(doc.status, 'timeout');
    assert.equal(doc.error_kind, 'timeout');
    assert.match(doc.error ?? '', /stalled: no event for 0\.5 s \(1 events so far\)/);
  });

  test('a run longer than its timeout is timeout, even while heartbeats keep it alive', async () => {
    const plan: RunPlan = { events: [{ atMs: 10, type: 'STARTED' }, ...heartbeats(10, 2000, 100)], hold: true };
    const { doc } = await run(plan, { misc: { timeout_seconds: 1 } });
    assert.equal(doc.status, 'timeout');
    assert.equal(doc.error_kind, 'timeout');
    assert.match(doc.error ?? '', /did not complete within its timeout of 1 s/);
    assert.ok(doc.time_to_started_ms !== null);
  });

  test('an ERROR event is a failure of the run', async () => {
    const { doc } = await run({ events: [{ atMs: 10, type: 'STARTED' }, { atMs: 20, type: 'PROGRESS' }, { atMs: 30, type: 'ERROR', error: 'Browser session crashed' }] });
    assert.equal(doc.status, 'failed');
    assert.equal(doc.error_kind, 'run_failed');
    assert.match(doc.error ?? '', /sent ERROR: Browser session crashed/);
    assert.equal(doc.progress_events, 1);
  });

  test('a key in TinyFish\'s error text is not stored (the message reaches the pages and the mail)', async () => {
    const { doc } = await run({ events: [{ atMs: 10, type: 'STARTED' }, { atMs: 20, type: 'ERROR', error: 'proxy refused api_key=sk-proj-abcdefghijklmnop0123456789' }] });
    assert.match(doc.error ?? '', /sent ERROR: proxy refused/);
    assert.doesNotMatch(doc.error ?? '', /abcdefghijklmnop0123456789/);
  });

  test('an ERROR event naming a cause we classify everywhere keeps that kind', async () => {
    const { doc } = await run({ events: [{ atMs: 10, type: 'ERROR', error: 'Insufficient credits on this account' }] });
    assert.equal(doc.status, 'failed');
    assert.equal(doc.error_kind, 'billing');
  });

  test('a COMPLETE with status FAILED is a failure of the run, with TinyFish\'s message', async () => {
    const { doc } = await run({ events: [{ atMs: 10, type: 'STARTED' }, { atMs: 20, type: 'COMPLETE', status: 'FAILED', error: 'Target page returned 503' }] });
    assert.equal(doc.status, 'failed');
    assert.equal(doc.error_kind, 'run_failed');
    assert.equal(doc.tinyfish_status, 'FAILED');
    assert.match(doc.error ?? '', /ended FAILED: Target page returned 503/);
  });

  test('a 401 is auth, with the status recorded and no key in the message', async () => {
    const { doc } = await run(successfulRun(), { env: { TINYFISH_API_KEY: 'tf-wrong-key-987654' } });
    assert.equal(doc.status, 'failed');
    assert.equal(doc.error_kind, 'auth');
    assert.equal(doc.http_status, 401);
    assert.match(doc.error ?? '', /HTTP 401/);
    assert.ok(!(doc.error ?? '').includes('tf-wrong-key-987654'));
  });

  for (const [status, kind] of [[402, 'billing'], [429, 'rate_limit'], [500, 'transient_provider']] as const) {
    test(`an HTTP ${status} is ${kind}`, async () => {
      const { doc } = await run({ status, events: [] });
      assert.deepEqual([doc.status, doc.error_kind, doc.http_status], ['failed', kind, status]);
    });
  }

  test('a stream that ends without COMPLETE is a provider failure', async () => {
    const { doc } = await run({ events: [{ atMs: 10, type: 'STARTED' }] });
    assert.deepEqual([doc.status, doc.error_kind], ['failed', 'transient_provider']);
    assert.match(doc.error ?? '', /ended without COMPLETE/);
  });

  test('without TINYFISH_API_KEY a run fails as auth before any request', async () => {
    const before = server.requests.length;
    const target: AgentTarget = { automation: 'a', misc: { url: 'https://example.com', goal: 'x' }, scenarioId: 's', inputs: {} };
    const doc = await runAgent(target, {
      config: loadConfig({ env: { TINYFISH_BASE_URL: server.baseUrl }, dotenvPath: false }),
      clock: systemClock,
      sweepSignal: new AbortController().signal,
      sweepStartedAt: null,
    });
    assert.deepEqual([doc.status, doc.error_kind], ['failed', 'auth']);
    assert.match(doc.error ?? '', /TINYFISH_API_KEY is not set/);
    assert.equal(server.requests.length, before);
  });

  test('an automation can ask for the synchronous endpoint: one answer, no events, the same result', async () => {
    const { doc, request } = await run(successfulRun({ steps: 2, result: { price: 20 } }), { misc: { endpoint: 'run' } });
    assert.equal(request.path, '/v1/automation/run');
    assert.equal(doc.status, 'completed', doc.error ?? '');
    assert.equal(doc.endpoint, 'run');
    assert.deepEqual(doc.result, { price: 20 });
    assert.equal(doc.time_to_started_ms, null);
    assert.match(doc.tinyfish_run_id ?? '', /^run_/);
  });

  test('the synchronous endpoint\'s FAILED answer is a failure of the run', async () => {
    const { doc } = await run({ events: [{ atMs: 10, type: 'COMPLETE', status: 'FAILED', error: 'Login wall' }] }, { misc: { endpoint: 'run' } });
    assert.deepEqual([doc.status, doc.error_kind], ['failed', 'run_failed']);
    assert.match(doc.error ?? '', /Login wall/);
  });

  test('a result over 64 KiB is stored cut, with result_truncated', async () => {
    const { doc } = await run(successfulRun({ result: { rows: 'x'.repeat(RESULT_CAP_BYTES + 100) } }));
    assert.equal(doc.status, 'completed');
    assert.equal(doc.result_truncated, true);
    assert.equal(typeof doc.result, 'string');
    assert.equal(Buffer.byteLength(doc.result as string), RESULT_CAP_BYTES);
  });

  test('an automation without a goal fails before any request, saying what is missing', async () => {
    const before = server.requests.length;
    const doc = await runAgent(
      { automation: 'nogoal', misc: { url: 'https://example.com' }, scenarioId: 's', inputs: {} },
      { config: config(), clock: systemClock, sweepSignal: new AbortController().signal, sweepStartedAt: null },
    );
    assert.deepEqual([doc.status, doc.error_kind], ['failed', 'hard_capability']);
    assert.match(doc.error ?? '', /goal must be a non-empty string/);
    assert.equal(server.requests.length, before);
  });

  test('the operator\'s stop (SIGTERM) cuts a run short as aborted, not as a timeout or TinyFish\'s failure', async () => {
    const sweep = new AbortController();
    const goal = 'held';
    plans.set(goal, { events: [{ atMs: 10, type: 'STARTED' }], hold: true });
    setTimeout(() => sweep.abort(new Error('SIGTERM')), 100);
    const doc = await runAgent(
      { automation: 'held', misc: { url: 'https://example.com', goal }, scenarioId: 's', inputs: {} },
      { config: config(), clock: systemClock, sweepSignal: sweep.signal, sweepStartedAt: null },
    );
    assert.deepEqual([doc.status, doc.error_kind], ['failed', 'aborted']);
    assert.match(doc.error ?? '', /cut short: sweep aborted \(SIGTERM\)/);
  });

  test('the sweep deadline cuts a run short as a timeout, in the deadline\'s words', async () => {
    const sweep = new AbortController();
    const goal = 'held-to-deadline';
    plans.set(goal, { events: [{ atMs: 10, type: 'STARTED' }], hold: true });
    setTimeout(() => sweep.abort(new BenchError('aborted at the sweep deadline (1 s after the sweep started)', { kind: 'timeout', stage: 'timeout' })), 100);
    const doc = await runAgent(
      { automation: 'held', misc: { url: 'https://example.com', goal }, scenarioId: 's', inputs: {} },
      { config: config(), clock: systemClock, sweepSignal: sweep.signal, sweepStartedAt: null },
    );
    assert.deepEqual([doc.status, doc.error_kind], ['timeout', 'timeout']);
    assert.equal(doc.error, 'aborted at the sweep deadline (1 s after the sweep started)');
  });
});

describe('limits of a TinyFish run', () => {
  const target = (misc: Record<string, unknown>, inputs: Record<string, unknown> = {}): AgentTarget => ({ automation: 'pricing-page', misc, scenarioId: 's', inputs });
  const cfg = loadConfig({ env: { RUNNER_NAME: 'test-runner', TINYFISH_RUN_TIMEOUT_MS: '180000' }, dotenvPath: false });

  test("a run's limit, which the sweep checks against its deadline, is timeout_seconds (the scenario's first), else TINYFISH_RUN_TIMEOUT_MS", () => {
    assert.equal(runTimeoutMs(target({ timeout_seconds: 90 }), cfg), 90_000);
    assert.equal(runTimeoutMs(target({ timeout_seconds: 90 }, { timeout_seconds: 600 }), cfg), 600_000);
    assert.equal(runTimeoutMs(target({}), cfg), 180_000);
  });

  test('a result of exactly 64 KiB of JSON is stored whole; one byte more is cut', () => {
    const fits = 'x'.repeat(RESULT_CAP_BYTES - 2);
    assert.deepEqual(capResult(fits), { result: fits, truncated: false });
    assert.equal(capResult(`${fits}x`).truncated, true);
  });
});
