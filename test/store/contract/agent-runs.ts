// AgentRunsStore (SPEC 4.6): runs read back and filtered, and their KPIs (SPEC 16).
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { summarizeAgentRuns } from '../../../lib/tinyfish/stats.ts';
import { makeAgentRun } from '../../fixtures.ts';
import { contractStore, day, percentileCheck, type ContractOptions, type OpenStore } from './context.ts';

export function agentRunsContract(name: string, open: OpenStore, options: ContractOptions): void {
  describe(`${name} store contract: agent runs`, () => {
    const store = contractStore(open);
    const close = percentileCheck(options);

    test('agent runs: read back whole, duplicates refused, filtered newest first, and the newest per (scenario, automation)', async () => {
      const t = (min: number) => new Date(Date.parse('2026-11-20T10:00:00.000Z') + min * 60_000);
      const r1 = makeAgentRun({ automation: 'ar-a', scenario_id: 's1', started_at: t(0) });
      const r2 = makeAgentRun({ automation: 'ar-a', scenario_id: 's1', started_at: t(30), status: 'failed', error: 'boom', error_kind: 'unknown', result: null });
      const r3 = makeAgentRun({ automation: 'ar-a', scenario_id: 's2', started_at: t(10), status: 'timeout', error_kind: 'timeout' });
      const r4 = makeAgentRun({ automation: 'ar-b', scenario_id: 's1', started_at: t(20) });
      for (const r of [r1, r2, r3, r4]) assert.equal(await store.insertAgentRun(r), 'stored');
      assert.equal(await store.insertAgentRun(r1), 'duplicate');
      const ids = (runs: Array<{ run_id: string }>) => runs.map((r) => r.run_id);
      assert.deepEqual(await store.recentAgentRuns({ automation: 'ar-a', limit: 1 }), [r2]);
      assert.deepEqual(ids(await store.recentAgentRuns({ automation: 'ar-a' })), ids([r2, r3, r1]));
      assert.deepEqual(ids(await store.recentAgentRuns({ automation: 'ar-a', scenario_id: 's1', status: 'completed' })), ids([r1]));
      assert.deepEqual(ids(await store.recentAgentRuns({ since: t(10), until: t(30) }).then((rs) => rs.filter((r) => r.automation.startsWith('ar-')))), ids([r4, r3]));
      // withoutResult: the same runs, whole but for a result read as null.
      assert.notEqual(r1.result, null);
      assert.deepEqual(await store.recentAgentRuns({ automation: 'ar-a', withoutResult: true }), [r2, r3, r1].map((r) => ({ ...r, result: null })));
      const last = (await store.lastAgentRuns()).filter((r) => r.automation.startsWith('ar-'));
      assert.deepEqual(ids(last), ids([r2, r3, r4]));
      assert.deepEqual(ids(await store.lastAgentRuns({ automation: 'ar-b' })), ids([r4]));
      assert.ok(last[0]!.started_at instanceof Date && last[0]!.sweep_started_at instanceof Date);
    });

    // ---- Agent-run KPIs (SPEC 16) ----
    describe('agent-run KPIs', () => {
      const w = { since: day('2026-08-10'), until: day('2026-08-11') };
      const minute = (i: number) => new Date(w.since.getTime() + i * 60_000);
      const failedId = { value: '' };
      before(async () => {
        // ak-a/s1: 20 completed (1..20 s, first progress 0.1..1.9 s and none on the last), a timeout, then 2 failures.
        for (let i = 1; i <= 20; i++) {
          await store.insertAgentRun(
            makeAgentRun({ automation: 'ak-a', scenario_id: 's1', started_at: minute(i), total_duration_ms: i * 1000, time_to_first_progress_ms: i === 20 ? null : i * 100 }),
          );
        }
        const failed = (i: number, status: 'failed' | 'timeout', message: string) =>
          makeAgentRun({ automation: 'ak-a', scenario_id: 's1', started_at: minute(i), status, total_duration_ms: 300_000, error: message, error_kind: status === 'timeout' ? 'timeout' : 'run_failed', result: null });
        await store.insertAgentRun(failed(30, 'timeout', 'no COMPLETE within 300 s'));
        await store.insertAgentRun(failed(31, 'failed', 'the first failure'));
        const newest = failed(32, 'failed', 'the page changed');
        failedId.value = newest.run_id;
        await store.insertAgentRun(newest);
        // ak-a/s2: a timeout only.
        await store.insertAgentRun(makeAgentRun({ automation: 'ak-a', scenario_id: 's2', started_at: minute(40), status: 'timeout', error: 'stalled', error_kind: 'timeout', result: null }));
        // ak-b/s1: 3 completed.
        for (const [i, ms] of [[50, 50_000], [51, 60_000], [52, 70_000]] as const) {
          await store.insertAgentRun(makeAgentRun({ automation: 'ak-b', scenario_id: 's1', started_at: minute(i), total_duration_ms: ms }));
        }
        // Outside the window.
        await store.insertAgentRun(makeAgentRun({ automation: 'ak-a', scenario_id: 's1', started_at: day('2026-08-11'), total_duration_ms: 999_999 }));
      });

      test('per automation and scenario: outcomes, success rate and nearest-rank p50/p95/p99 of completed runs', async () => {
        const { groups } = await store.agentRunKpis(w);
        assert.deepEqual(
          groups.map((g) => [g.provider, g.automation, g.scenario, g.mock, g.runs, g.completed, g.failed, g.timeouts]),
          [
            ['tinyfish', 'ak-a', 's1', false, 23, 20, 2, 1],
            ['tinyfish', 'ak-a', 's2', false, 1, 0, 0, 1],
            ['tinyfish', 'ak-b', 's1', false, 3, 3, 0, 0],
          ],
        );
        const a = groups[0]!;
        assert.equal(a.success_rate, 20 / 23);
        close(a.total_duration_ms.p50, 10_000);
        close(a.total_duration_ms.p95, 19_000);
        close(a.total_duration_ms.p99, 20_000);
        close(a.time_to_first_progress_ms.p50, 1000);
        close(a.time_to_first_progress_ms.p99, 1900);
        assert.deepEqual([a.last_started, a.last_completed], [minute(32), minute(20)]);
        assert.deepEqual(a.last_failure, { run_id: failedId.value, started_at: minute(32), status: 'failed', error_kind: 'run_failed', error: 'the page changed' });
        close(groups[2]!.total_duration_ms.p50, 60_000);
        close(groups[2]!.total_duration_ms.p99, 70_000);
        assert.equal(groups[2]!.last_failure, null);
      });

      test('a group with no completed run has a success rate of 0 and null percentiles, never 0', async () => {
        const { groups } = await store.agentRunKpis(w, { scenario: 's2' });
        assert.equal(groups.length, 1);
        assert.equal(groups[0]!.success_rate, 0);
        assert.deepEqual(groups[0]!.total_duration_ms, { p50: null, p95: null, p99: null });
        assert.deepEqual(groups[0]!.time_to_first_progress_ms, { p50: null, p95: null, p99: null });
        assert.equal(groups[0]!.last_completed, null);
        assert.equal(groups[0]!.last_failure?.status, 'timeout');
      });

      test('the overall row pools every completed run of the window, and filters narrow it', async () => {
        const { overall } = await store.agentRunKpis(w);
        assert.deepEqual([overall.automation, overall.scenario, overall.runs, overall.completed, overall.failed, overall.timeouts], [null, null, 27, 23, 2, 2]);
        // 1..20 s and 50, 60, 70 s: the 12th, 22nd and 23rd of 23.
        close(overall.total_duration_ms.p50, 12_000);
        close(overall.total_duration_ms.p95, 60_000);
        close(overall.total_duration_ms.p99, 70_000);
        assert.equal(overall.last_failure?.error, 'stalled', 'the newest failure of any group');
        const failure = await store.getAgentRun(overall.last_failure!.run_id);
        assert.equal(failure?.error, 'stalled');
        assert.ok(failure.started_at instanceof Date);
        assert.equal(await store.getAgentRun('no-such-run'), null);
        const b = await store.agentRunKpis(w, { automation: 'ak-b' });
        assert.deepEqual(b.groups.map((g) => [g.automation, g.scenario]), [['ak-b', 's1']]);
        assert.equal(b.overall.runs, 3);
        assert.equal((await store.agentRunKpis(w, { mock: false })).overall.runs, 27, 'every run here was measured');
        assert.equal((await store.agentRunKpis(w, { mock: true })).overall.runs, 0);
        const none = await store.agentRunKpis({ since: day('2020-01-01'), until: day('2020-01-02') });
        assert.deepEqual([none.groups, none.overall.runs, none.overall.success_rate, none.overall.total_duration_ms.p50], [[], 0, null, null]);
      });

      test('the health report\'s summary (lib/tinyfish/stats.ts) gives the same percentiles as the store', { skip: options.approximatePercentiles ? 'the server estimates its percentiles' : false }, async () => {
        const stats = summarizeAgentRuns(await store.recentAgentRuns({ since: w.since, until: w.until, limit: 1000 }));
        const { groups } = await store.agentRunKpis(w);
        assert.deepEqual(
          stats.map((s) => [s.automation, s.scenario_id, s.runs, s.p50_duration_ms, s.p95_duration_ms, s.p50_first_progress_ms]),
          groups.map((g) => [g.automation, g.scenario, g.runs, g.total_duration_ms.p50, g.total_duration_ms.p95, g.time_to_first_progress_ms.p50]),
        );
      });
    });

  });
}
