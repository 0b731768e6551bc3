import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { renderSite } from '../../lib/site/build.ts';
import { collectSiteData, modelPageName } from '../../lib/site/data.ts';
import { bucketPercentile, linearScale, logScale, sparkline, timeChart } from '../../lib/site/svg.ts';
import { openSqliteStore } from '../../lib/store/sqlite-store.ts';
import type { Store } from '../../lib/store/store.ts';
import { AGENT_SCENARIO, AUTOMATION, MOCK_AUTOMATION, NOW, ODD_MODEL, seedStore } from './seed.ts';

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
      'models.html',
      'runs.html',
      'scenarios.html',
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
    assert.equal(html.split('<tr id="scenario-').length - 1, 3);
    const published = row(html, 'id="scenario-cloud-default-v1"');
    assert.match(published, /pub-badge/);
    assert.match(published, /<td data-label="every" data-v="30" class="n">30 min<br>/);
    assert.match(published, /prompt \d+ chars, max_tokens 64, temperature 0\.1/);
    assert.doesNotMatch(row(html, 'id="scenario-cloud-long-v1"'), /pub-badge/);
    assert.match(row(html, 'id="scenario-cloud-long-v1"'), /class="off"/, 'disabled');
    const agent = row(html, `id="scenario-${AGENT_SCENARIO}"`);
    assert.match(agent, /<code>https:\/\/example\.com\/pricing<\/code>: List every plan with its monthly price/);
    assert.match(agent, new RegExp(`tinyfish/${AUTOMATION}, tinyfish/${MOCK_AUTOMATION}`));
    // 24 h: 4 measured runs (one failed) and 6 simulated; 7 d: 28 measured and the same 6.
    assert.match(agent, /<td data-label="runs 24 h" data-v="10" class="n">10<\/td><td data-label="success 24 h" data-v="0.9" class="n">90\.0%<\/td><td data-label="runs 7 d" data-v="34" class="n">34<\/td>/);
    const json = JSON.parse(files.get('json/scenarios.json')!);
    assert.deepEqual(json.map((s: { scenario_id: string; published: boolean }) => [s.scenario_id, s.published]), [[AGENT_SCENARIO, false], ['cloud-default-v1', true], ['cloud-long-v1', false]]);
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
