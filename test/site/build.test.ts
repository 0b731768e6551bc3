import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { renderSite } from '../../lib/site/build.ts';
import { collectSiteData, modelPageName } from '../../lib/site/data.ts';
import { bucketPercentile, linearScale, logScale, sparkline, timeChart } from '../../lib/site/svg.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { makeAgentRun, makeError, makeMetric } from '../fixtures.ts';
import { ABORTED, AGENT_SCENARIO, AUTOMATION, MOCK_AUTOMATION, NOW, ODD_MODEL, seedMany, seedStore } from './seed.ts';

describe('status site pages', () => {
  let store: Store;
  let files: Map<string, string>;
  before(async () => {
    store = openSqliteStore(':memory:');
    await seedStore(store);
    files = renderSite(await collectSiteData(store, NOW));
  });
  after(() => store.close());

  test('the site has the overview, models, compare, runs, failures, scenarios and agent-runs pages, a page per model of the last 7 days, and JSON beside them', () => {
    const names = [...files.keys()].sort();
    assert.deepEqual(names.filter((n) => !n.startsWith('models/')), [
      'agents.html',
      'compare.html',
      'failures.html',
      'index.html',
      'json/aborted.json',
      'json/agent-runs.json',
      'json/failures.json',
      'json/kpis-24h.json',
      'json/kpis-7d.json',
      'json/provider-days.json',
      'json/published-72h.json',
      'json/runs.json',
      'json/scenarios.json',
      'json/workloads.json',
      'models.html',
      'runs.html',
      'scenarios.html',
      'workloads.html',
    ]);
    assert.deepEqual(
      names.filter((n) => n.startsWith('models/')),
      [
        modelPageName('anthropic', 'claude-gone'),
        modelPageName('groq', 'llama-3.3-70b-versatile'),
        modelPageName('mock', 'fail-429-retry-200ms'),
        modelPageName('mock', 'ttft-150ms-tps-120'),
        modelPageName('together', ODD_MODEL),
      ].sort(),
      'a model measured only 30 days ago has no page',
    );
  });

  test('model ids and messages are escaped everywhere they appear', () => {
    for (const [name, html] of files) {
      if (!name.endsWith('.html')) continue;
      assert.ok(!html.includes('Llama<3.3>'), `${name} has the raw model id`);
      assert.ok(!html.includes('<model>'), `${name} has a raw message`);
    }
    assert.ok(files.get('models.html')!.includes('meta-llama/Llama&#60;3.3&#62;&#38;&#34;70B&#34;:v1'));
    assert.ok(files.get('failures.html')!.includes('HTTP 404 &#60;model&#62; not found'));
  });

  test('a model with failures only shows "–" for its numbers, never 0', () => {
    const row = files.get('models.html')!.split('<tr').find((r) => r.includes('claude-gone'))!;
    assert.match(row, /<td data-label="TTFT p50" data-v="" class="n">–<\/td>/);
    assert.doesNotMatch(row, />0\.0<\/td>|>0\.000<\/td>/);
  });

  test('every page forbids requests with a Content-Security-Policy and has no external URL', () => {
    for (const [name, html] of files) {
      if (!name.endsWith('.html')) continue;
      assert.match(html, /<meta http-equiv="Content-Security-Policy" content="default-src 'none';/, name);
      assert.doesNotMatch(html, /(?:src|href)="(?:https?:)?\/\//, name);
    }
  });

  test('the JSON files hold the KPIs and runs the pages show', () => {
    const kpis = JSON.parse(files.get('json/kpis-24h.json')!);
    assert.equal(kpis.until, NOW.toISOString());
    assert.equal(kpis.overall.runs, 18);
    const runs = JSON.parse(files.get('json/runs.json')!);
    assert.equal(runs[0].outcome, 'ok');
    assert.ok(runs.some((r: { mock: boolean }) => r.mock));
    const failures = JSON.parse(files.get('json/failures.json')!);
    assert.deepEqual(failures.map((f: { model_name: string }) => f.model_name), ['fail-429-retry-200ms', 'llama-3.3-70b-versatile', 'claude-gone']);
  });

  // ---- scenarios and agent runs ----
  const row = (html: string, id: string) => html.split('<tr').find((r) => r.includes(id))!;

  test('scenarios: every scenario with its kind, schedule, targets, inputs and runs; the published one marked', () => {
    const html = files.get('scenarios.html')!;
    assert.equal(html.split('<tr id="scenario-').length - 1, 7, 'the two upstream profiles, the four shipped workloads and the test\'s own');
    const published = row(html, 'id="scenario-cloud-default-v1"');
    assert.match(published, /pub-badge/);
    assert.match(published, /<td data-label="every" data-v="30" class="n">30 min<br>/);
    assert.match(published, /prompt \d+ chars, max_tokens 64, temperature 0\.1/);
    assert.doesNotMatch(row(html, 'id="scenario-cloud-long-v1"'), /pub-badge/);
    assert.match(row(html, 'id="scenario-input-10k-v1"'), /generated prompt of 10000 tokens, unique per call, max_tokens 512/);
    assert.match(row(html, 'id="scenario-parallel-10-daily-v1"'), /10 calls at once, random start/);
    assert.match(row(html, 'id="scenario-cloud-long-v1"'), /class="off"/, 'disabled');
    const agent = row(html, `id="scenario-${AGENT_SCENARIO}"`);
    assert.match(agent, /<code>https:\/\/example\.com\/pricing<\/code>: List every plan with its monthly price/);
    assert.match(agent, new RegExp(`tinyfish/${AUTOMATION}, tinyfish/${MOCK_AUTOMATION}`));
    // 24 h: 4 measured runs (one failed) and 6 simulated; 7 d: 28 measured and the same 6.
    assert.match(agent, /<td data-label="runs 24 h" data-v="10" class="n">10<\/td><td data-label="success 24 h" data-v="0.9" class="n">90\.0%<\/td><td data-label="runs 7 d" data-v="34" class="n">34<\/td>/);
    const json = JSON.parse(files.get('json/scenarios.json')!);
    assert.deepEqual(json.map((s: { scenario_id: string; published: boolean }) => [s.scenario_id, s.published]), [
      [AGENT_SCENARIO, false],
      ['cloud-default-v1', true],
      ['cloud-long-v1', false],
      ['input-100k-v1', false],
      ['input-10k-v1', false],
      ['input-1k-v1', false],
      ['parallel-10-daily-v1', false],
    ]);
    assert.deepEqual(json[0].runs_7d, { runs: 34, successes: 32, success_rate: 32 / 34 });
  });

  test('agent runs: a row per automation and scenario with p50/p95, sparkline and last failure (escaped); mock rows marked', () => {
    const html = files.get('agents.html')!;
    const measured = row(html, `<td data-v="${AUTOMATION}">`);
    assert.match(measured, /<td data-label="runs" data-v="28" class="n">28<\/td>/);
    assert.match(measured, /<td data-label="dur p50" data-v="42000" class="n">42\.0<\/td><td data-label="dur p95" data-v="57000" class="n">57\.0<\/td><td data-label="prog p50"/);
    assert.match(measured, /<svg class="spark"/);
    assert.match(measured, /run_failed<\/span><br>TinyFish reported FAILED: &#60;button&#62; &#34;Buy&#34; &#38; price not found/);
    assert.ok(!html.includes('<button>'), 'the message is escaped');
    const simulated = row(html, `<td data-v="${MOCK_AUTOMATION}">`);
    assert.match(simulated, /mock-badge/);
    assert.ok(html.includes(`<tr class="mock"><td data-v="${MOCK_AUTOMATION}">`));
    // The cards: the day's 4 measured runs, the 6 simulated ones beside them left out.
    assert.match(html, /<div class="card" data-kpi="agent_runs" data-value="4">/);
    assert.match(html, /The cards count the 4 measured runs; the 6 simulated ones are in the table only/);
    assert.match(html, /The latest 34 runs of the last 7 days/);
    const json = JSON.parse(files.get('json/agent-runs.json')!);
    assert.equal(json.kpis_7d.groups.length, 2);
    assert.equal(json.recent.length, 34);
    assert.ok(!('result' in json.recent[0]), 'results stay in the store');
    assert.match(files.get('index.html')!, /<a href="agents\.html">Agent runs<\/a>/);
  });

  test('without agent runs or scenarios the pages say so, and the overview has no agent section', async () => {
    const empty = openSqliteStore(':memory:');
    const site = renderSite(await collectSiteData(empty, NOW));
    await empty.close();
    assert.match(site.get('agents.html')!, /No agent runs in the last 7 days/);
    assert.match(site.get('agents.html')!, /data-kpi="agent_duration_p50" data-value=""/);
    assert.match(site.get('scenarios.html')!, /No scenarios yet/);
    assert.doesNotMatch(site.get('index.html')!, /id="agent-summary"/);
  });

});

describe('model page names', () => {
  test('are safe in a URL and on any file system, and tell apart ids that differ only in replaced characters', () => {
    const a = modelPageName('together', 'meta-llama/Llama-3.3');
    const b = modelPageName('together', 'meta-llama:Llama-3.3');
    assert.notEqual(a, b);
    for (const name of [a, b, modelPageName('bedrock', 'us.anthropic.claude-3-5-sonnet-20241022-v2:0'), modelPageName('x', '../../etc/passwd')]) {
      assert.match(name, /^models\/[A-Za-z0-9][A-Za-z0-9._-]*\.html$/);
    }
  });
});

describe('charts', () => {
  test('bucket percentiles leave empty buckets null and ignore points outside', () => {
    const points = [
      { t: 0, v: 1 },
      { t: 10, v: 3 },
      { t: 20, v: 2 },
      { t: 35, v: null },
      { t: 45, v: 9 },
      { t: 60, v: 100 },
    ];
    assert.deepEqual(bucketPercentile(points, { since: 0, until: 60, bucketMs: 30, p: 50 }), [2, 9]);
    assert.deepEqual(bucketPercentile(points, { since: 0, until: 120, bucketMs: 30, p: 95 }), [3, 9, 100, null]);
  });

  test('a gap breaks the line, a lone point still shows as a dot, and no data draws no sparkline', () => {
    assert.equal(sparkline([null, null], 'x'), '');
    const svg = sparkline([1, 2, null, 4], 'x');
    assert.match(svg, /d="M2 14L34 10"/);
    assert.match(svg, /<circle cx="98" cy="2" r="1.6"\/>/, 'the point after the gap');
    const chart = timeChart({ title: 'T', caption: '', n: 2, xTicks: [], series: [{ label: 'a', values: [null, null], color: 'red' }], scale: 'linear', empty: 'no data in these 7 days' });
    assert.match(chart, /no data in these 7 days/);
    assert.doesNotMatch(chart, /class="yt"/, 'no y ticks without data');
    const lone = timeChart({ title: 'T', caption: '', n: 5, xTicks: [], series: [{ label: 'a', values: [null, null, 3, null, null], color: 'red' }], scale: 'linear', empty: '' });
    assert.match(lone, /<g class="series" data-series="a"[^>]*><circle /, 'one run is a visible dot');
  });

  test('axis ticks never read alike, whatever the range', () => {
    for (const max of [0.0004, 0.3, 1, 1.2, 7, 64, 99, 1234, 235_979.6]) {
      const labels = linearScale(max).ticks.map((t) => t.label);
      assert.equal(new Set(labels).size, labels.length, `0..${max}: ${labels.join(', ')}`);
      assert.ok(linearScale(max).ticks.at(-1)!.v >= max);
    }
    for (const [min, max] of [[0.05, 2.3], [40, 40], [1, 235_979.6], [0.001, 0.0012]] as const) {
      const s = logScale(min, max);
      const labels = s.ticks.map((t) => t.label);
      assert.equal(new Set(labels).size, labels.length, `${min}..${max}: ${labels.join(', ')}`);
      assert.ok(s.at(min) >= 0 && s.at(max) <= 1 && s.at(min) < s.at(max) + (min === max ? 1 : 0));
    }
    assert.deepEqual(logScale(0.05, 1).ticks.map((t) => t.label), ['0.05', '0.1', '0.2', '0.5', '1']);
  });
});

describe('the published numbers and the runs the site counts', () => {
  let store: Store;
  let files: Map<string, string>;
  const HOUR = 3_600_000;
  const window72h = { since: new Date(NOW.getTime() - 72 * HOUR), until: NOW };
  before(async () => {
    store = openSqliteStore(':memory:');
    await seedStore(store);
    await seedMany(store);
    files = renderSite(await collectSiteData(store, NOW));
  });
  after(() => store.close());

  /** The cards of a page: kpi → raw value. */
  const cards = (html: string) => new Map([...html.matchAll(/data-kpi="([a-z0-9_]+)" data-value="([^"]*)"/g)].map((m) => [m[1]!, m[2] === '' ? null : Number(m[2])]));

  test('the overview cards show each percentile of the published 72 hours under its own name', async () => {
    const o = (await store.metricKpis(window72h, { scenario: 'cloud-default-v1' })).overall;
    const shown = cards(files.get('index.html')!);
    const want = {
      ttft_p50: o.time_to_first_token.p50,
      ttft_p95: o.time_to_first_token.p95,
      ttft_p99: o.time_to_first_token.p99,
      tps_p50: o.tokens_per_second.p50,
      tps_p95: o.tokens_per_second.p95,
      tps_p99: o.tokens_per_second.p99,
      total_p50: o.total_time.p50,
      decode_p50: o.decode_tokens_per_second.p50,
    };
    // Every percentile differs from its neighbours, so a card showing another cannot pass.
    assert.equal(new Set([want.ttft_p50, want.ttft_p95, want.ttft_p99]).size, 3);
    assert.equal(new Set([want.tps_p50, want.tps_p95, want.tps_p99]).size, 3);
    for (const [kpi, value] of Object.entries(want)) assert.equal(shown.get(kpi), value, kpi);
  });

  test('the p50 cards give the store\'s 95 % interval, and a p50 from too few runs is marked on the models page', async () => {
    const o = (await store.metricKpis(window72h, { scenario: 'cloud-default-v1' })).overall;
    const ci = o.time_to_first_token.p50_ci!;
    const ttftCard = files.get('index.html')!.split('<div class="card"').find((c) => c.includes('data-kpi="ttft_p50"'))!;
    assert.ok(ttftCard.includes(`95 % interval ${ci.low.toFixed(3)}–${ci.high.toFixed(3)} s`), ttftCard);
    // The mock model ran 5 times in the last day: a p50, but too few runs for an interval.
    const mockRow = files.get('models.html')!.split('<tr').find((r) => r.includes('ttft-150ms-tps-120'))!;
    assert.match(mockRow, /0\.150 <small class="few"[^>]*>too few runs<\/small>/);
    const groqRow = files.get('models.html')!.split('<tr').find((r) => r.includes('llama-3.3-70b-versatile'))!;
    assert.doesNotMatch(groqRow, /too few runs/);
    assert.match(groqRow, /<span title="95 % interval [0-9.]+–[0-9.]+">/);
  });

  test('each provider\'s published numbers per day equal the store\'s KPIs of that UTC day (aborted calls in none)', async () => {
    const json = JSON.parse(files.get('json/provider-days.json')!) as { days: string[]; providers: Array<{ provider: string; day: string; successes: number; failures: number | null; ttft_p50: number | null; tps_p50: number | null }> };
    assert.equal(json.days.length, 30);
    assert.equal(json.days.at(-1), '2026-11-28');
    for (const day of json.days) {
      const since = new Date(`${day}T00:00:00Z`);
      const until = new Date(Math.min(since.getTime() + 24 * HOUR, NOW.getTime()));
      const kpis = await store.metricKpis({ since, until }, { scenario: 'cloud-default-v1' });
      const shown = json.providers.filter((p) => p.day === day);
      assert.deepEqual(shown.map((p) => p.provider), kpis.providers.map((p) => p.provider), day);
      for (const [j, p] of kpis.providers.entries()) {
        assert.deepEqual(
          shown[j],
          {
            provider: p.provider,
            day,
            successes: p.successes,
            failures: p.failures,
            ttft_p50: p.time_to_first_token.p50,
            tps_p50: p.tokens_per_second.p50,
          },
          `${day} ${p.provider}`,
        );
      }
    }
  });

  test('"with no success at all" counts the models whose every counted call failed, not every model with a failure', async () => {
    // claude-gone, gpt-gone (whose aborted call is not counted either) and the mock's failing model.
    assert.match(files.get('index.html')!, /:\s13 models measured, 3 with no success at all\./);
    const models = (await store.metricKpis(window72h, { scenario: 'cloud-default-v1' })).models;
    assert.ok(models.filter((m) => m.failures > 0 && m.successes > 0).length >= 3, 'other models failed too, and succeeded');
  });

  test('the overview says its window and scenario and counts no aborted call as a run or a failure', async () => {
    const html = files.get('index.html')!;
    assert.match(html, /<h1>The published numbers: the last 72 hours<\/h1>/);
    assert.match(html, /Scenario <b>cloud-default-v1<\/b> \(the one published\) from 2026-11-25 12:00Z to 2026-11-28 12:00Z/);
    const o = (await store.metricKpis(window72h, { scenario: 'cloud-default-v1' })).overall;
    const shown = cards(html);
    // The store's KPIs leave aborted calls out (its contract tests that); the page says them apart.
    assert.equal(shown.get('runs'), o.runs);
    assert.equal(shown.get('success_rate'), o.successes / o.runs);
    assert.match(html, new RegExp(`${o.successes} ok, ${o.failures} failed; 4 stopped by the operator \\(not counted\\)`));
  });

  test('aborted calls are never failures: not in the failures, listed apart on the runs page, not counted on the models page', () => {
    const failures = JSON.parse(files.get('json/failures.json')!) as Array<{ error_kind: string }>;
    assert.ok(failures.length > 0);
    assert.ok(failures.every((f) => f.error_kind !== 'aborted'));
    assert.doesNotMatch(files.get('failures.html')!, /sweep aborted/);
    const runs = files.get('runs.html')!;
    const [listed, apart] = runs.split('<h2>Stopped by the operator</h2>');
    assert.doesNotMatch(listed!, /aborted/);
    assert.equal((apart!.match(/<tr class="r-aborted">/g) ?? []).length, ABORTED.length);
    assert.match(apart!, /4 calls of these 7 days were cut short when the sweep was stopped/);
    // gpt-gone: 8 failures and 1 aborted call in the week, so 8 runs at 0 %.
    const gone = files.get('models.html')!.split('<tr').find((r) => r.includes('>gpt-gone<'))!;
    assert.match(gone, /<td data-label="runs" data-v="8" class="n">8<\/td><td data-label="success" data-v="0" class="n">0\.0%<\/td>/);
    const page = files.get(modelPageName('openai', 'gpt-gone'))!;
    assert.match(page, /Stopped by the operator/);
    assert.match(page, /1 call of these 7 days was cut short/);
  });

  test('a model page charts its published scenario, not the one with fewer runs', () => {
    // The odd together model: 14 published runs in the week and 1 of cloud-long-v1.
    const page = files.get(modelPageName('together', ODD_MODEL))!;
    assert.match(page, /Cards and charts: scenario <b>cloud-default-v1<\/b>/);
    assert.equal(cards(page).get('runs'), 14);
    assert.match(page, /Tokens per second<\/b> \(tokens\/s\) over 14 runs/);
  });

  test('a model without published runs charts the scenario with the most runs', async () => {
    const probes = openSqliteStore(':memory:');
    for (let h = 1; h < 40; h += 4) await probes.insertMetric(makeMetric({ provider: 'groq', model_name: 'probe-only', run_ts: new Date(NOW.getTime() - h * HOUR), benchmark_profile_id: 'probe-many-v1' }));
    for (const h of [2, 9]) await probes.insertMetric(makeMetric({ provider: 'groq', model_name: 'probe-only', run_ts: new Date(NOW.getTime() - h * HOUR), benchmark_profile_id: 'probe-few-v1' }));
    const page = renderSite(await collectSiteData(probes, NOW)).get(modelPageName('groq', 'probe-only'))!;
    await probes.close();
    assert.match(page, /Cards and charts: scenario <b>probe-many-v1<\/b>/);
    assert.equal(cards(page).get('runs'), 10);
  });

  test('each models-page sparkline draws its own scenario\'s runs only', () => {
    const rows = files.get('models.html')!.split('<tr').filter((r) => r.includes('Llama&#60;3.3&#62;'));
    const marks = (row: string) => {
      const svg = /<svg class="spark".*?<\/svg>/.exec(row)![0];
      const d = /d="([^"]*)"/.exec(svg)![1]!;
      return (d.match(/[ML]/g) ?? []).length + (svg.match(/<circle/g) ?? []).length;
    };
    const published = rows.find((r) => r.includes('data-v="cloud-default-v1"'))!;
    const probe = rows.find((r) => r.includes('data-v="cloud-long-v1"'))!;
    assert.equal(marks(published), 14, 'one mark per 6 hours with a published run (every 12 hours)');
    assert.equal(marks(probe), 1, 'the one cloud-long-v1 run');
  });

  test('every count on every page is in the right number', async () => {
    const single = openSqliteStore(':memory:');
    await single.insertMetric(makeMetric({ run_ts: new Date(NOW.getTime() - HOUR) }));
    await single.insertMetric(makeMetric({ run_ts: new Date(NOW.getTime() - 2 * HOUR), benchmark_profile_id: 'cloud-long-v1' }));
    await single.insertError(makeError({ ts: new Date(NOW.getTime() - 3 * HOUR) }));
    await single.insertError(makeError({ ts: new Date(NOW.getTime() - 4 * HOUR), error_kind: 'aborted', message: 'sweep aborted (SIGTERM)' }));
    await single.insertAgentRun(makeAgentRun({ started_at: new Date(NOW.getTime() - HOUR) }));
    const site = [...renderSite(await collectSiteData(single, NOW)), ...files];
    await single.close();
    const wrong = /(?<![\d.,])1 (?:[a-z]+ )?(?:runs|failures|models|calls|successes|scenarios)\b|(?<![\d.,])(?:0|[2-9]|\d{2,}) (?:[a-z]+ )?(?:run|failure|model|call)\b(?![-\w])/;
    for (const [name, html] of site) {
      if (!name.endsWith('.html')) continue;
      const text = html.replace(/<(style|script)>.*?<\/\1>/gs, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');
      assert.doesNotMatch(text, wrong, name);
    }
    const one = site.find(([n]) => n === 'failures.html')![1];
    assert.match(one, /The latest 1 failure with its message/);
  });
});
