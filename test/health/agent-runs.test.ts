// The health report's agent runs section (SPEC 4.6, 10): TinyFish runs in the window per
// (automation, scenario), their success rate, p50/p95 duration and failures.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ruleBasedAssessment, ruleBasedStatus } from '../../lib/health/assessment.ts';
import { collectHealthReport } from '../../lib/health/report.ts';
import { renderHealthText } from '../../lib/health/render.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeAgentRun, makeModel } from '../fixtures.ts';

const NOW = new Date('2026-11-20T08:00:00.000Z');
const ago = (min: number) => new Date(NOW.getTime() - min * 60_000);

describe('health report: agent runs', () => {
  it('sums up the window\'s runs per automation and scenario, shows them in the mail, and never calls an automation stale', async () => {
    const store = openSqliteStore(':memory:');
    await store.insertModel(makeModel({ provider: 'tinyfish', model_id: 'pricing-page', created_at: ago(10 * 24 * 60), misc: { url: 'https://example.com', goal: 'g' } }));
    const runs = [
      makeAgentRun({ started_at: ago(60), total_duration_ms: 40_000 }),
      makeAgentRun({ started_at: ago(120), total_duration_ms: 50_000 }),
      makeAgentRun({ started_at: ago(180), total_duration_ms: 90_000 }),
      makeAgentRun({ started_at: ago(240), status: 'failed', error_kind: 'run_failed', error: 'Run of tinyfish/pricing-page ended FAILED: login wall', result: null }),
      makeAgentRun({ started_at: ago(300), status: 'timeout', error_kind: 'timeout', error: 'did not complete within its timeout of 180 s' }),
      makeAgentRun({ started_at: ago(2 * 24 * 60) }), // outside the window
    ];
    for (const r of runs) await store.insertAgentRun({ ...r, automation: 'pricing-page', scenario_id: 'agent-pricing-v1' });
    const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
    await store.close();

    assert.deepEqual(report.stale_models, []);
    assert.equal(report.agent_runs!.length, 1);
    const a = report.agent_runs![0]!;
    assert.deepEqual([a.automation, a.scenario_id, a.runs, a.completed, a.failed, a.timeouts, a.success_rate], ['pricing-page', 'agent-pricing-v1', 5, 3, 1, 1, 0.6]);
    assert.deepEqual([a.p50_duration_ms, a.p95_duration_ms], [50_000, 90_000]);
    assert.deepEqual(a.failures_by_kind, { run_failed: 1, timeout: 1 });
    assert.match(a.last_failure!.message, /login wall/);

    const text = renderHealthText(report, ruleBasedAssessment(report, 'no key in this test'));
    assert.match(text, /TinyFish agent runs/);
    assert.match(text, /tinyfish\/pricing-page +agent-pricing-v1 +5 +60\.0% +50\.0 s +90\.0 s +run_failed 1, timeout 1/);
  });

  it('rules: TinyFish auth or billing failures are critical, an automation that never completed is a warning', async () => {
    const store = openSqliteStore(':memory:');
    await store.insertAgentRun(makeAgentRun({ automation: 'a', started_at: ago(60), status: 'failed', error_kind: 'run_failed', result: null }));
    await store.insertAgentRun(makeAgentRun({ automation: 'b', started_at: ago(60) }));
    const warned = ruleBasedStatus(await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 }));
    assert.ok(warned.reasons.includes('1 TinyFish automation with no completed run (a in agent-default-v1)'), warned.reasons.join('; '));
    await store.insertAgentRun(makeAgentRun({ automation: 'b', started_at: ago(30), status: 'failed', error_kind: 'auth', http_status: 401, result: null }));
    const critical = ruleBasedStatus(await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 }));
    await store.close();
    assert.equal(critical.status, 'critical');
    assert.ok(critical.reasons.includes('1 auth error from tinyfish/b'), critical.reasons.join('; '));
  });
});
