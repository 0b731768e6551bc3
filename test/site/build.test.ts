import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { collectSiteData, modelPageName, renderSite } from '../../lib/site/build.ts';
import { bucketPercentile, lineChart, sparkline } from '../../lib/site/svg.ts';
import { openSqliteStore } from '../../lib/store/sqlite-store.ts';
import type { Store } from '../../lib/store/store.ts';
import { NOW, ODD_MODEL, seedStore } from './seed.ts';

describe('status site pages', () => {
  let store: Store;
  let files: Map<string, string>;
  before(async () => {
    store = openSqliteStore(':memory:');
    await seedStore(store);
    files = renderSite(await collectSiteData(store, NOW));
  });
  after(() => store.close());

  test('the site has the overview, models, runs and failures pages, a page per model of the last 7 days, and JSON beside them', () => {
    const names = [...files.keys()].sort();
    assert.deepEqual(names.filter((n) => !n.startsWith('models/')), [
      'failures.html',
      'index.html',
      'json/failures.json',
      'json/kpis-24h.json',
      'json/kpis-7d.json',
      'json/runs.json',
      'models.html',
      'runs.html',
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
    assert.match(row, /<td data-v="" class="n">–<\/td>/);
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

  test('a gap breaks the line, a lone point still shows, and no data draws no sparkline', () => {
    assert.equal(sparkline([null, null], 'x'), '');
    const svg = sparkline([1, 2, null, 4], 'x');
    assert.match(svg, /d="M0 14\.5h0L33\.3 10M100 1h0"/);
    const chart = lineChart({ title: 'T', unit: 's', p50: [null, null], p95: [null, null], days: [], digits: 1 });
    assert.match(chart, /no data in these 7 days/);
  });
});
