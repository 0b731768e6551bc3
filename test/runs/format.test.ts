import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { csv, formatAgentKpis, formatAgentRun, formatAgentRuns, formatKpis, formatRun, formatRuns, textTable } from '../../lib/runs/format.ts';
import { agentFailure, emptyKpiRow, groupAgentRuns, summarizeAgentGroups, withRates } from '../../lib/store/kpis.ts';
import type { KpiSummary, RunRecord } from '../../lib/store/store.ts';
import { makeAgentRun, makeError, makeMetric } from '../fixtures.ts';

const w = { since: new Date('2026-11-27T12:00:00Z'), until: new Date('2026-11-28T12:00:00Z') };

function summary(): KpiSummary {
  const model = withRates({
    ...emptyKpiRow({ provider: 'groq', model_name: 'm', scenario: 'cloud-default-v1' }),
    successes: 3,
    failures: 1,
    tokens_per_second: { p50: 100, p95: 150.25, p99: 160, p50_ci: null },
  });
  const failing = withRates({ ...emptyKpiRow({ provider: 'groq', model_name: 'gone', scenario: 'cloud-default-v1' }), failures: 2 });
  const provider = withRates({ ...model, model_name: null, scenario: null, failures: 3 });
  return { overall: { ...provider, provider: null }, providers: [provider], models: [failing, model] };
}

describe('runs formatting', () => {
  test('CSV follows RFC 4180: quotes, doubled quotes, CRLF, empty for unknown', () => {
    assert.equal(csv(['a', 'b', 'c'], [['x,y', 'say "hi"', null], ['line\nbreak', 1.5, 'plain']]), 'a,b,c\r\n"x,y","say ""hi""",\r\n"line\nbreak",1.5,plain\r\n');
  });

  test('the text table aligns numbers right and text left', () => {
    assert.equal(textTable(['name', 'n'], [['a', '1'], ['bbb', '100']], new Set([1])), 'name    n\n----  ---\na       1\nbbb   100');
  });

  test('KPIs: unknown percentiles print as "-" in the table and empty in CSV, never 0', () => {
    const table = formatKpis(summary(), w, 'table');
    assert.match(table, /groq\s+gone\s+cloud-default-v1\s+2\s+0\.0%\s+- \/ - \/ -/);
    assert.match(table, /\(all\)\s+\(all\)\s+\(all\)\s+6\s+50\.0%/);
    const lines = formatKpis(summary(), w, 'csv').split('\r\n');
    assert.equal(lines[1], 'groq,gone,cloud-default-v1,2,0,2,0,,,,,,,,,,,,,,,,,,,,,');
    assert.ok(lines[2]!.startsWith('groq,m,cloud-default-v1,4,3,1,0.75,,'));
    assert.ok(lines[2]!.includes(',100,150.25,160,'));
    const json = JSON.parse(formatKpis(summary(), w, 'json'));
    assert.equal(json.models[0].tokens_per_second.p50, null);
    assert.equal(json.since, '2026-11-27T12:00:00.000Z');
  });

  test('KPIs: each p50 shows its 95 % interval, "too few runs" below the minimum count, and the interval in CSV and JSON', () => {
    const base = summary();
    const model = { ...base.models[1]!, time_to_first_token: { p50: 0.41, p95: 0.6, p99: 0.7, p50_ci: { low: 0.38, high: 0.45 } } };
    const few = { ...model, model_name: 'few', tokens_per_second: { p50: 90, p95: 95, p99: 99, p50_ci: null } };
    const s: KpiSummary = { ...base, models: [model, few] };
    const table = formatKpis(s, w, 'table');
    assert.match(table, /groq\s+m\s+cloud-default-v1\s+4\s+75\.0%\s+0\.410 \/ 0\.600 \/ 0\.700\s+0\.380–0\.450\s/);
    assert.match(table, /groq\s+few\s+.*90\.0 \/ 95\.0 \/ 99\.0\s+too few runs\s/);
    assert.match(table, /"too few runs": p50 from fewer than 6 runs/);
    const lines = formatKpis(s, w, 'csv').split('\r\n');
    assert.ok(lines[0]!.endsWith(',ttft_s_p50_low,ttft_s_p50_high,total_s_p50_low,total_s_p50_high,tok_s_p50_low,tok_s_p50_high,decode_tok_s_p50_low,decode_tok_s_p50_high'));
    assert.ok(lines[1]!.endsWith(',0.38,0.45,,,,,,'));
    assert.deepEqual(JSON.parse(formatKpis(s, w, 'json')).models[0].time_to_first_token.p50_ci, { low: 0.38, high: 0.45 });
  });

  test('runs list a success with its numbers and a failure with its kind and message, each with its run id in a column of its own, mock marked', () => {
    const runs: RunRecord[] = [
      { outcome: 'failed', ts: new Date('2026-11-28T11:00:00Z'), error: makeError({ provider: 'mock', model_name: 'x', ts: new Date('2026-11-28T11:00:00Z'), message: 'HTTP 429\n  simulated' }) },
      { outcome: 'ok', ts: new Date('2026-11-28T10:00:00Z'), metric: makeMetric({ run_ts: new Date('2026-11-28T10:00:00Z'), time_to_first_token: null }) },
    ];
    const table = formatRuns(runs, 'table');
    assert.match(table.split('\n')[0]!, /^time \(UTC\)\s+run_id\s+provider\s+model\s+scenario\s+outcome\s+TTFT s\s+tok\/s\s+error$/);
    assert.match(table, new RegExp(`2026-11-28 11:00:00  ${runs[0]!.outcome === 'failed' && runs[0]!.error.run_id}\\s+mock \\(mock\\)\\s+x\\s+cloud-default-v1\\s+failed\\s+-\\s+-  rate_limit: HTTP 429 simulated`));
    assert.match(table, /2026-11-28 10:00:00  [0-9a-f-]{36}\s+groq\s+llama-3\.3-70b-versatile\s+cloud-default-v1\s+ok\s+-\s+40\.0$/m);
    const lines = formatRuns(runs, 'csv').split('\r\n');
    assert.equal(lines[0], 'ts,run_id,provider,model,scenario,outcome,mock,ttft_s,total_s,tok_s,decode_tok_s,error_kind,message');
    assert.ok(lines[1]!.includes(',failed,true,,,,,rate_limit,"HTTP 429\n  simulated"'));
    assert.equal(formatRuns([], 'table'), 'No runs match.\n');
  });

  test('rows the Python system wrote (no run_id, no benchmark_profile_id, no error_kind) list and show without a crash', () => {
    const metric: Partial<ReturnType<typeof makeMetric>> & { _id?: string } = { ...makeMetric({ run_ts: new Date('2026-11-28T10:00:00Z') }), _id: '6650c0ffee0000000000abcd' };
    delete metric.run_id;
    delete metric.benchmark_profile_id;
    const error: Partial<ReturnType<typeof makeError>> = makeError({ ts: new Date('2026-11-28T11:00:00Z') });
    delete error.run_id;
    delete error.benchmark_profile_id;
    delete error.error_kind;
    const runs = [
      { outcome: 'failed', ts: error.ts!, error },
      { outcome: 'ok', ts: metric.run_ts!, metric },
    ] as RunRecord[];
    const table = formatRuns(runs, 'table');
    assert.match(table, /2026-11-28 11:00:00  -\s+groq\s+\S+\s+cloud-default-v1\s+failed .* unknown: /);
    assert.match(table, /2026-11-28 10:00:00  6650c0ffee0000000000abcd\s+groq\s+\S+\s+cloud-default-v1\s+ok\b/);
    assert.equal(JSON.parse(formatRuns(runs, 'json'))[1].run_id, '6650c0ffee0000000000abcd');
    assert.match(formatRun(runs[1]!, 'table'), /^benchmark_profile_id\s+cloud-default-v1$/m);
    assert.match(formatRun(runs[0]!, 'table'), /^run_id\s+null$/m);
  });

  test('an aborted call (the sweep was stopped) is listed as aborted, apart from failures', () => {
    const error = makeError({ error_kind: 'aborted', message: 'Cannot stream groq/x: aborted by the operator: sweep aborted (SIGTERM)' });
    const run: RunRecord = { outcome: 'failed', ts: error.ts, error };
    assert.match(formatRuns([run], 'table'), /\saborted\s.*aborted: Cannot stream/);
    assert.equal(JSON.parse(formatRuns([run], 'json'))[0].outcome, 'aborted');
    assert.match(formatRun(run, 'table'), /^Aborted \(the sweep was stopped/);
  });

  test('one run in full lists every field of its document', () => {
    const metric = makeMetric();
    const text = formatRun({ outcome: 'ok', ts: metric.run_ts, metric }, 'table');
    for (const key of Object.keys(metric)) assert.match(text, new RegExp(`^${key} `, 'm'));
    assert.match(text, /^run_ts\s+2026-11-20T10:00:00\.000Z$/m);
    assert.match(text, /^inter_chunk_ms\s+\{"p50":20/m);
  });

  test('agent-run KPIs: durations in seconds, a group without completed runs as "-", the newest failure with its message', () => {
    const runs = [
      makeAgentRun({ automation: 'shop', scenario_id: 'agent-v1', total_duration_ms: 41_500, time_to_first_progress_ms: 2100 }),
      makeAgentRun({ automation: 'shop', scenario_id: 'agent-v1', status: 'failed', error: 'TinyFish reported FAILED:\n no price', error_kind: 'run_failed' }),
      makeAgentRun({ automation: 'mock-fast', scenario_id: 'agent-v1', status: 'timeout', error: 'stalled', error_kind: 'timeout', mock: true }),
    ];
    const groups = groupAgentRuns(runs.map((r) => ({ ...r, scenario: r.scenario_id, started_at: r.started_at.getTime() })));
    const agents = summarizeAgentGroups(groups.map((g) => ({ ...g, newest_failure: g.newest_failure && agentFailure({ ...g.newest_failure, started_at: new Date(g.newest_failure.started_at) }) })));
    const table = formatAgentKpis(agents, w, 'table');
    assert.match(table, /mock-fast \(mock\)\s+agent-v1\s+1\s+0\.0%\s+0\s+1\s+- \/ - \/ -\s+- \/ - \/ -\s+2026-11-20 10:00 timeout: stalled/);
    assert.match(table, /shop\s+agent-v1\s+2\s+50\.0%\s+1\s+0\s+41\.5 \/ 41\.5 \/ 41\.5\s+2\.1 \/ 2\.1 \/ 2\.1\s+2026-11-20 10:00 run_failed: TinyFish reported FAILED: no price/);
    const lines = formatAgentKpis(agents, w, 'csv').split('\r\n');
    assert.ok(lines[0]!.startsWith('provider,automation,scenario,mock,runs,completed,failed,timeouts,success_rate,'));
    assert.ok(lines[1]!.startsWith('tinyfish,mock-fast,agent-v1,true,1,0,0,1,0,'), lines[1]!);
    assert.ok(lines[1]!.includes(',,,,,,,'), 'unknown percentiles are empty');
    assert.equal(JSON.parse(formatKpis(summary(), w, 'json', summaryOf())).agent_runs.groups.length, 1);
    assert.match(formatAgentKpis({ ...agents, groups: [] }, w, 'table'), /No agent runs in the window/);

    function summaryOf() {
      return summarizeAgentGroups(groups.slice(0, 1).map((g) => ({ ...g, newest_failure: null })));
    }
  });

  test('agent runs list with status, seconds and the error; one agent run in full', () => {
    const ok = makeAgentRun({ started_at: new Date('2026-11-28T10:00:00Z'), total_duration_ms: 42_000, time_to_first_progress_ms: null });
    const bad = makeAgentRun({ started_at: new Date('2026-11-28T11:00:00Z'), status: 'failed', error: 'blocked by a captcha', error_kind: 'run_failed', mock: true });
    const table = formatAgentRuns([bad, ok], 'table');
    assert.match(table, new RegExp(`2026-11-28 11:00:00  ${bad.run_id}\\s+pricing-page \\(mock\\)\\s+agent-default-v1\\s+failed\\s+42\\.0\\s+2\\.1  run_failed: blocked by a captcha`));
    assert.match(table, new RegExp(`2026-11-28 10:00:00  ${ok.run_id}\\s+pricing-page\\s+agent-default-v1\\s+completed\\s+42\\.0\\s+-$`, 'm'));
    const json = JSON.parse(formatAgentRuns([ok], 'json'));
    assert.deepEqual([json[0].duration_s, json[0].first_progress_s, json[0].status], [42, null, 'completed']);
    assert.equal(formatAgentRuns([], 'table'), 'No agent runs match.\n');
    const full = formatAgentRun(bad, 'table');
    assert.match(full, /^Agent run failed \(simulated: mock TinyFish run\)\n/);
    assert.match(full, /^inter_event_ms\s+\{"p50":3000/m);
  });
});
