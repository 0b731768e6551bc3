import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { systemClock } from '../../lib/bench/clock.ts';
import { isMockAutomation, parseMockAutomationId } from '../../lib/tinyfish/mock.ts';
import { UsageError } from '../../lib/cli.ts';
import { isMockRun, refuseMockRunsInMongo, runAgent } from '../../lib/tinyfish/run.ts';

const misc = { url: 'https://example.com', goal: 'Find the price' };
const config = (env: Record<string, string> = {}) => loadConfig({ env: { RUNNER_NAME: 'test-runner', ...env }, dotenvPath: false });
const run = (automation: string, env: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
  runAgent({ automation, misc: { ...misc, ...extra }, scenarioId: 's', inputs: {} }, { config: config(env), clock: systemClock, sweepSignal: new AbortController().signal, sweepStartedAt: null });

describe('simulated TinyFish runs', () => {
  test('a mock automation id describes the run', () => {
    assert.deepEqual(parseMockAutomationId('mock-start-1s-steps-6-step-250ms-heartbeat-100ms-fail'), {
      startMs: 1000, steps: 6, stepMs: 250, heartbeatMs: 100, fail: true, error: false, httpStatus: null, hang: false,
    });
    assert.equal(parseMockAutomationId('mock-http-402').httpStatus, 402);
    assert.equal(parseMockAutomationId('pricing-page').steps, 4, 'a real automation id under TINYFISH_MOCK_MODE runs the default simulation');
    assert.throws(() => parseMockAutomationId('mock-steps-x'), /steps wants an integer/);
    assert.throws(() => parseMockAutomationId('mock-wobble'), /unknown part "wobble" \(see lib\/tinyfish\/mock\.ts/);
    assert.equal(isMockAutomation('mock-fail'), true);
    assert.equal(isMockAutomation('mockingbird'), false);
  });

  test('a mock run streams STARTED, PROGRESS and COMPLETE with its timings, and is marked mock', async () => {
    const doc = await run('mock-start-20ms-steps-3-step-10ms');
    assert.equal(doc.status, 'completed', doc.error ?? '');
    assert.equal(doc.mock, true);
    assert.equal(doc.progress_events, 3);
    // Never earlier than the plan (a bare timer can fire up to 1 ms early).
    assert.ok(doc.time_to_started_ms! >= 20 && doc.time_to_first_progress_ms! >= doc.time_to_started_ms! + 10, JSON.stringify(doc));
    assert.ok(doc.total_duration_ms >= 60);
    assert.match(doc.tinyfish_run_id ?? '', /^mock_/);
  });

  test('TINYFISH_MOCK_MODE simulates any automation, without a key', async () => {
    assert.equal(isMockRun('pricing-page', config({ TINYFISH_MOCK_MODE: 'true' })), true);
    assert.equal(isMockRun('pricing-page', config()), false);
    const doc = await run('pricing-page', { TINYFISH_MOCK_MODE: 'true' }, { timeout_seconds: 5 });
    assert.equal(doc.status, 'completed', doc.error ?? '');
    assert.equal(doc.mock, true);
  });

  test('mock failures are classified like real ones', async () => {
    const [auth, failed, error] = await Promise.all([run('mock-http-401'), run('mock-steps-1-step-5ms-fail'), run('mock-steps-1-step-5ms-error')]);
    assert.deepEqual([auth.status, auth.error_kind, auth.http_status], ['failed', 'auth', 401]);
    assert.deepEqual([failed.status, failed.error_kind, failed.tinyfish_status], ['failed', 'run_failed', 'FAILED']);
    assert.deepEqual([error.status, error.error_kind], ['failed', 'run_failed']);
  });

  test('a hanging mock run with heartbeats is cut at its timeout', async () => {
    const doc = await run('mock-start-10ms-heartbeat-50ms-hang', {}, { timeout_seconds: 1 });
    assert.deepEqual([doc.status, doc.error_kind], ['timeout', 'timeout']);
  });

  test('a mock automation asking for the synchronous endpoint answers once, without events', async () => {
    const doc = await run('mock-start-10ms-steps-2-step-10ms', {}, { endpoint: 'run' });
    assert.deepEqual([doc.status, doc.endpoint, doc.time_to_started_ms], ['completed', 'run', null]);
  });
});

describe('simulated runs and MongoDB', () => {
  test('simulated runs are refused for MongoDB with exit 2 (a UsageError), and allowed on SQLite', () => {
    assert.throws(() => refuseMockRunsInMongo('mongodb', ['pricing-page', 'mock-fail'], config()), (err: unknown) => err instanceof UsageError && /Refusing to write simulated TinyFish runs \(mock-fail\) to MongoDB/.test(err.message));
    assert.throws(() => refuseMockRunsInMongo('mongodb', ['pricing-page'], config({ TINYFISH_MOCK_MODE: 'true' })), /\(pricing-page; TINYFISH_MOCK_MODE=true\)/);
    refuseMockRunsInMongo('mongodb', ['pricing-page'], config());
    refuseMockRunsInMongo('sqlite', ['mock-fail'], config());
  });
});
