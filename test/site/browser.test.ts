// The status site in a real browser: Debian's chromium driven by playwright-core (never a
// downloaded browser). Every page loads from disk with no console error and no request
// leaving the site, the KPI numbers on the page equal the store's (the published scenario's on
// the overview; agent runs' too), another scenario's rows leave the overview as it was, tables
// sort, filter and fit 1280 px without scrolling sideways, every chart with data shows a mark
// per series, the compare page shows the chosen models, pages fit a phone's width, and the
// ingest server serves the same pages under /site/.
// Set SITE_SCREENSHOTS=DIR to keep a screenshot of every page there.
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { loadConfig } from '../../lib/config.ts';
import { createIngestHandler, listenIngest, type IngestServer } from '../../lib/ingest/handler.ts';
import { silentLogger } from '../../lib/log.ts';
import { withSite } from '../../lib/site/serve.ts';
import { generateSite } from '../../lib/site/write.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { KpiRow, KpiSummary, Store } from '../../lib/store/store.ts';
import { makeError, makeMetric } from '../fixtures.ts';
import { NOW, seedMany, seedStore } from './seed.ts';

const CHROMIUM = '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}: browser tests skipped (apt-get install chromium)`;
const screenshots = process.env.SITE_SCREENSHOTS;

describe('status site in chromium', { skip, timeout: 180_000 }, () => {
  let dir: string;
  let site: string;
  let store: Store;
  let context: BrowserContext;
  let server: IngestServer;
  let published: KpiSummary;
  const HOUR = 3_600_000;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llm-bench-browser-'));
    site = join(dir, 'site');
    store = openSqliteStore(join(dir, 'store.sqlite'));
    await seedStore(store);
    await seedMany(store);
    await generateSite(store, site, NOW);
    published = await store.metricKpis({ since: new Date(NOW.getTime() - 72 * HOUR), until: NOW }, { scenario: 'cloud-default-v1' });
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1280, height: 900 },
    });
    const config = loadConfig({ env: { INGEST_ALLOW_NO_KEY: 'true' }, dotenvPath: false });
    server = await listenIngest(withSite(createIngestHandler({ store, config, logger: silentLogger }), site), {
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 1024,
      logger: silentLogger,
    });
    if (screenshots) mkdirSync(screenshots, { recursive: true });
  });

  after(async () => {
    await context?.close();
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Opens a page and records console errors, page errors and every request it makes. */
  async function open(url: string, viewport?: { width: number; height: number }) {
    const page = await context.newPage();
    if (viewport) await page.setViewportSize(viewport);
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(url, { waitUntil: 'load' });
    return { page, errors, requests };
  }

  async function shoot(page: Page, name: string) {
    if (screenshots) await page.screenshot({ path: join(screenshots, `${name.replace(/[^A-Za-z0-9.-]+/g, '_')}.png`), fullPage: true });
  }

  const pages = () =>
    readdirSync(site, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.html'))
      .map((e) => join(e.parentPath, e.name).slice(site.length + 1));

  test('every page loads from disk with no console error and no request leaving the site', async () => {
    const all = pages();
    assert.ok(all.length >= 8, `pages: ${all.join(', ')}`);
    for (const name of all) {
      const { page, errors, requests } = await open(`file://${site}/${name}`);
      assert.deepEqual(errors, [], `${name}: console errors`);
      assert.deepEqual(requests.filter((u) => !u.startsWith(`file://${site}/`)), [], `${name}: requests outside the site`);
      // Every link stays inside the site and points at a page that exists.
      const links = await page.$$eval('a[href]', (as) => as.map((a) => new URL(a.getAttribute('href')!, document.baseURI).href));
      for (const href of links) {
        assert.ok(href.startsWith(`file://${site}/`), `${name}: link ${href} leaves the site`);
        assert.ok(existsSync(decodeURIComponent(href.slice('file://'.length).split('#')[0]!)), `${name}: link ${href} is broken`);
      }
      await shoot(page, name);
      await page.close();
    }
  });

  /** What the site shows of a store row: the store's KPIs already leave aborted calls out (its contract tests that). */
  function counted(r: KpiRow): { runs: number; success_rate: number | null } {
    return { runs: r.runs, success_rate: r.success_rate };
  }

  test('the overview shows the store\'s published-scenario KPIs of the last 72 hours, cards and providers, raw and formatted', async () => {
    const { page } = await open(`file://${site}/index.html`);
    const cards = await page.$$eval('#kpis [data-kpi]', (cs) =>
      cs.map((c) => [c.getAttribute('data-kpi'), c.getAttribute('data-value'), c.querySelector('.v')?.textContent] as const),
    );
    const o = published.overall;
    // Large enough that every percentile shown differs from its neighbours, so a card showing
    // the wrong one cannot pass.
    for (const m of [o.time_to_first_token, o.tokens_per_second]) assert.ok(m.p50 !== m.p95 && m.p95 !== m.p99, JSON.stringify(m));
    const { runs, success_rate } = counted(o);
    const want: Record<string, [number | null, string]> = {
      runs: [runs, String(runs)],
      success_rate: [success_rate, `${(success_rate! * 100).toFixed(1)}%`],
      ttft_p50: [o.time_to_first_token.p50, `${o.time_to_first_token.p50!.toFixed(3)} s`],
      ttft_p95: [o.time_to_first_token.p95, `${o.time_to_first_token.p95!.toFixed(3)} s`],
      ttft_p99: [o.time_to_first_token.p99, `${o.time_to_first_token.p99!.toFixed(3)} s`],
      tps_p50: [o.tokens_per_second.p50, o.tokens_per_second.p50!.toFixed(1)],
      tps_p95: [o.tokens_per_second.p95, o.tokens_per_second.p95!.toFixed(1)],
      tps_p99: [o.tokens_per_second.p99, o.tokens_per_second.p99!.toFixed(1)],
      total_p50: [o.total_time.p50, `${o.total_time.p50!.toFixed(3)} s`],
      decode_p50: [o.decode_tokens_per_second.p50, o.decode_tokens_per_second.p50!.toFixed(1)],
    };
    assert.deepEqual(
      cards.map(([k]) => k),
      Object.keys(want),
    );
    const seen = new Map(cards.map(([k, v, text]) => [k, { v, text }]));
    for (const [kpi, [raw, text]] of Object.entries(want)) {
      assert.equal(Number(seen.get(kpi)?.v), raw, `${kpi} raw`);
      assert.equal(seen.get(kpi)?.text, text, `${kpi} shown`);
    }
    assert.ok(o.failures > 0, 'the window has failures besides the aborted calls');
    const header = await page.$$eval('#providers thead th', (ths) => ths.map((t) => t.textContent));
    const rows = await page.$$eval('#providers tbody tr', (trs) => trs.map((r) => Array.from((r as HTMLTableRowElement).cells).map((c) => c.getAttribute('data-v'))));
    const col = (name: string) => header.indexOf(name);
    assert.deepEqual(rows.map((r) => r[0]), published.providers.map((p) => p.provider));
    for (const [i, p] of published.providers.entries()) {
      const row = rows[i]!;
      const c = counted(p);
      assert.equal(Number(row[col('runs')]), c.runs, `${p.provider} runs`);
      assert.equal(Number(row[col('success')]), c.success_rate, `${p.provider} success`);
      assert.equal(Number(row[col('TTFT p50 s')]), p.time_to_first_token.p50);
      assert.equal(Number(row[col('TTFT p95 s')]), p.time_to_first_token.p95);
      assert.equal(Number(row[col('tok/s p50')]), p.tokens_per_second.p50);
      assert.equal(Number(row[col('tok/s p95')]), p.tokens_per_second.p95);
    }
    await page.close();
  });

  test('another scenario\'s rows, however extreme, leave the overview\'s cards, charts and tables as they were', async () => {
    const other = join(dir, 'other');
    const probe = openSqliteStore(join(dir, 'probe.sqlite'));
    await seedStore(probe);
    await seedMany(probe);
    // The case: a 512-token scenario on mock:instant, plus failures of it and a model
    // that ran only that scenario.
    for (let h = 0.5; h < 70; h += 3) {
      await probe.insertMetric(makeMetric({ provider: 'mock', model_name: 'instant', run_ts: new Date(NOW.getTime() - h * HOUR), tokens_per_second: 235_979.6, time_to_first_token: 0.0001, benchmark_profile_id: 'probe-long-v1', mock: true }));
      await probe.insertMetric(makeMetric({ provider: 'groq', model_name: 'llama-3.1-8b-instant', run_ts: new Date(NOW.getTime() - h * HOUR), tokens_per_second: 9e6, time_to_first_token: 40, benchmark_profile_id: 'probe-long-v1' }));
      await probe.insertError({ ...makeError({ provider: 'groq', model_name: 'llama-3.1-8b-instant', ts: new Date(NOW.getTime() - h * HOUR - 60_000) }), benchmark_profile_id: 'probe-long-v1' });
    }
    await generateSite(probe, other, NOW);
    await probe.close();
    const parts = async (root: string) => {
      const { page } = await open(`file://${root}/index.html`);
      const html = await page.$$eval('#kpis, #providers, #latency-speed, #provider-legend, #trend-tps, #trend-ttft, #success-strip, #latest', (es) => es.map((e) => e.outerHTML));
      await page.close();
      return html;
    };
    const [before, after] = [await parts(site), await parts(other)];
    assert.equal(before.length, 8);
    assert.deepEqual(after, before);
  });

  test('the models table shows the store\'s 7-day KPIs of every model and scenario', async () => {
    const kpis7d = await store.metricKpis({ since: new Date(NOW.getTime() - 7 * 86_400_000), until: NOW });
    const { page } = await open(`file://${site}/models.html`);
    const header = await page.$$eval('#models thead th', (ths) => ths.map((t) => t.textContent));
    const rows = await page.$$eval('#models tbody tr', (trs) => trs.map((r) => Array.from((r as HTMLTableRowElement).cells).map((c) => c.getAttribute('data-v'))));
    const col = (name: string) => header.indexOf(name);
    assert.equal(rows.length, kpis7d.models.length);
    for (const [i, k] of kpis7d.models.entries()) {
      const row = rows[i]!;
      assert.deepEqual([row[col('provider')], row[col('model')], row[col('scenario')]], [k.provider, k.model_name, k.scenario]);
      const c = counted(k);
      assert.equal(Number(row[col('runs')]), c.runs);
      const same = (cell: string | null | undefined, v: number | null) => assert.equal(cell === '' ? null : Number(cell), v, `${k.model_name}`);
      same(row[col('success')], c.success_rate);
      same(row[col('TTFT p50')], k.time_to_first_token.p50);
      same(row[col('TTFT p95')], k.time_to_first_token.p95);
      same(row[col('tok/s p50')], k.tokens_per_second.p50);
      same(row[col('tok/s p95')], k.tokens_per_second.p95);
    }
    await page.close();
  });

  test('the models table sorts by a numeric column both ways, unknown values last, and filters', async () => {
    const { page } = await open(`file://${site}/models.html`);
    const column = await page.$$eval('#models thead th', (ths) => ths.findIndex((t) => t.textContent === 'tok/s p50'));
    const values = () =>
      page.$$eval(`#models tbody tr`, (rows, i) => rows.map((r) => (r as HTMLTableRowElement).cells[i]!.getAttribute('data-v')), column);
    const numbers = (vs: Array<string | null>) => vs.filter((v) => v !== '').map(Number);
    await page.click(`#models thead th:nth-child(${column + 1})`);
    const desc = await values();
    assert.deepEqual(numbers(desc), [...numbers(desc)].sort((a, b) => b - a));
    assert.equal(desc.at(-1), '', 'a model with failures only sorts last');
    await page.click(`#models thead th:nth-child(${column + 1})`);
    const asc = await values();
    assert.deepEqual(numbers(asc), [...numbers(asc)].sort((a, b) => a - b));
    assert.equal(asc.at(-1), '', 'unknown stays last either way');
    assert.equal(await page.getAttribute(`#models thead th:nth-child(${column + 1})`, 'aria-sort'), 'ascending');

    await page.fill('input[data-filter=models]', 'groq');
    const visible = await page.$$eval('#models tbody tr', (rows) => rows.filter((r) => !(r as HTMLElement).hidden).map((r) => (r as HTMLTableRowElement).cells[0]!.textContent));
    assert.ok(visible.length > 1);
    assert.deepEqual(visible, visible.map(() => 'groq'));
    await page.close();
  });

  test('the agent-runs page shows the store\'s agent KPIs: 24-hour cards and a 7-day row per automation and scenario', async () => {
    // The seeded day has simulated runs beside measured ones: the cards count the measured.
    const day = await store.agentRunKpis({ since: new Date(NOW.getTime() - 86_400_000), until: NOW }, { mock: false });
    const week = await store.agentRunKpis({ since: new Date(NOW.getTime() - 7 * 86_400_000), until: NOW });
    const { page } = await open(`file://${site}/agents.html`);
    const cards = new Map(
      (await page.$$eval('#agent-kpis [data-kpi]', (cs) => cs.map((c) => [c.getAttribute('data-kpi'), c.getAttribute('data-value'), c.querySelector('.v')?.textContent] as const))).map(
        ([k, v, text]) => [k, { v, text }],
      ),
    );
    const o = day.overall;
    assert.ok(o.runs > 0 && o.failed > 0, 'the seeded day has completed and failed agent runs');
    assert.equal(Number(cards.get('agent_runs')?.v), o.runs);
    assert.equal(cards.get('agent_success_rate')?.text, `${(o.success_rate! * 100).toFixed(1)}%`);
    for (const [kpi, value] of [
      ['agent_duration_p50', o.total_duration_ms.p50],
      ['agent_duration_p95', o.total_duration_ms.p95],
      ['agent_duration_p99', o.total_duration_ms.p99],
      ['agent_progress_p50', o.time_to_first_progress_ms.p50],
      ['agent_progress_p99', o.time_to_first_progress_ms.p99],
    ] as const) {
      assert.equal(Number(cards.get(kpi)?.v), value, `${kpi} raw`);
      assert.equal(cards.get(kpi)?.text, `${(value! / 1000).toFixed(1)} s`, `${kpi} shown`);
    }
    const header = await page.$$eval('#agents thead th', (ths) => ths.map((t) => t.textContent));
    const rows = await page.$$eval('#agents tbody tr', (trs) => trs.map((r) => Array.from((r as HTMLTableRowElement).cells).map((c) => c.getAttribute('data-v'))));
    const col = (name: string) => header.indexOf(name);
    assert.equal(rows.length, week.groups.length);
    for (const [i, g] of week.groups.entries()) {
      const row = rows[i]!;
      assert.deepEqual([row[col('automation')], row[col('scenario')], Number(row[col('runs')])], [g.automation, g.scenario, g.runs]);
      const same = (cell: string | null | undefined, v: number | null) => assert.equal(cell === '' ? null : Number(cell), v, `${g.automation}`);
      same(row[col('success')], g.success_rate);
      same(row[col('dur p50')], g.total_duration_ms.p50);
      same(row[col('dur p95')], g.total_duration_ms.p95);
      same(row[col('prog p50')], g.time_to_first_progress_ms.p50);
    }
    // Simulated runs are marked in both tables, and only they are.
    for (const table of ['#agents', '#agent-runs']) {
      const cell = table === '#agents' ? 0 : 1;
      const marks = await page.$$eval(
        `${table} tbody tr`,
        (trs, i) => trs.map((r) => [r.classList.contains('mock'), r.querySelector('.mock-badge') !== null, (r as HTMLTableRowElement).cells[i]!.getAttribute('data-v')] as const),
        cell,
      );
      assert.ok(marks.length > 0);
      for (const [marked, badge, automation] of marks) assert.deepEqual([marked, badge], [automation === 'mock-steps-4', automation === 'mock-steps-4'], `${table} ${automation}`);
    }
    await page.close();
  });

  test('the scenarios page lists every scenario of the store and marks the published one', async () => {
    const scenarios = await store.listScenarios();
    const { page } = await open(`file://${site}/scenarios.html`);
    const rows = await page.$$eval('#scenario-list tbody tr', (trs) => trs.map((r) => [(r as HTMLTableRowElement).cells[0]!.getAttribute('data-v'), r.querySelector('.pub-badge') !== null]));
    assert.deepEqual(rows, scenarios.map((s) => [s.scenario_id, s.scenario_id === 'cloud-default-v1']));
    await page.close();
  });

  test('mock rows are visibly marked', async () => {
    const { page } = await open(`file://${site}/models.html`);
    const rows = await page.$$eval('#models tbody tr', (trs) =>
      trs.map((r) => [(r as HTMLTableRowElement).cells[0]!.getAttribute('data-v'), r.classList.contains('mock'), r.querySelector('.mock-badge') !== null]),
    );
    assert.deepEqual(
      rows.filter(([, marked, badge]) => marked || badge),
      rows.filter(([provider]) => provider === 'mock'),
    );
    assert.deepEqual(rows.filter(([provider]) => provider === 'mock').map(([, marked, badge]) => [marked, badge]), [[true, true], [true, true]]);
    const badge = await page.$eval('#models tbody tr.mock .mock-badge', (b) => getComputedStyle(b).backgroundColor);
    assert.notEqual(badge, 'rgba(0, 0, 0, 0)');
    await page.close();
  });

  test('at 1280 px no table box scrolls sideways, on any page', async () => {
    for (const name of pages()) {
      const { page } = await open(`file://${site}/${name}`);
      const wide = await page.$$eval('table', (ts) =>
        ts.map((t) => t.parentElement!).filter((box) => box.scrollWidth > box.clientWidth).map((box) => `${box.firstElementChild!.id}: ${box.scrollWidth} > ${box.clientWidth}`),
      );
      assert.deepEqual(wide, [], name);
      await page.close();
    }
  });

  test('every chart with data shows a visible mark for each of its series', async () => {
    const model = pages().find((p) => p.includes('llama-3.3-70b-versatile'))!;
    for (const name of ['index.html', 'compare.html', model, ...pages().filter((p) => p.startsWith('models/')).slice(0, 4)]) {
      const { page } = await open(`file://${site}/${name}`);
      const charts = await page.$$eval('svg.chart, svg.strip, svg.dist', (svgs) =>
        svgs.map((svg) => {
          const box = svg.getBoundingClientRect();
          // A distribution is one series: its box and median.
          const series = svg.classList.contains('dist') ? [svg] : Array.from(svg.querySelectorAll('g.series, a[data-series]')).filter((g) => getComputedStyle(g).display !== 'none');
          return {
            label: svg.getAttribute('aria-label'),
            empty: /no (data|successful run)/.test(svg.textContent ?? ''),
            cells: svg.querySelectorAll('rect:not(.none)').length,
            series: series.map((g) => {
              // A mark: a painted shape or line with some extent, inside the chart.
              const marks = Array.from(g.querySelectorAll(g === svg ? '.box, .med' : 'path, circle, rect, polygon')).filter((m) => {
                const r = m.getBoundingClientRect();
                const style = getComputedStyle(m);
                const painted = m.tagName === 'path' || m.tagName === 'line' ? style.stroke !== 'none' && parseFloat(style.strokeWidth) > 0 : style.fill !== 'none';
                return painted && (r.width > 0 || r.height > 0) && r.left >= box.left - 4 && r.right <= box.right + 4 && r.top >= box.top - 4 && r.bottom <= box.bottom + 4;
              });
              return { name: g.getAttribute('data-series') ?? g.getAttribute('aria-label'), marks: marks.length, visible: (g as SVGGraphicsElement).checkVisibility({ opacityProperty: true }) };
            }),
          };
        }),
      );
      assert.ok(charts.length > 0, `${name} has charts`);
      for (const c of charts) {
        if (c.label?.startsWith('Success rate')) {
          assert.ok(c.cells > 0, `${name}: the success strip has days`);
          continue;
        }
        if (c.empty) continue;
        assert.ok(c.series.length > 0, `${name}: ${c.label} has data but no series`);
        for (const s of c.series) assert.ok(s.visible && s.marks > 0, `${name}: ${c.label}: series ${s.name} has no visible mark`);
      }
      await page.close();
    }
  });

  test('the compare page shows the chosen models, at most five, and the choice survives in the address', async () => {
    const { page, errors } = await open(`file://${site}/compare.html`);
    const shown = () => page.$$eval('#compare-ttft g.series', (gs) => gs.filter((g) => getComputedStyle(g).display !== 'none').map((g) => g.getAttribute('data-key')));
    const defaults = await shown();
    assert.equal(defaults.length, 5, 'five models without a choice');
    for (const box of await page.$$('#picker input:checked')) await box.uncheck();
    assert.deepEqual(await shown(), []);
    await page.check('#picker input[value="cerebras/llama-3.3-70b"]');
    await page.check('#picker input[value="anthropic/claude-sonnet-4"]');
    const chosen = ['cerebras/llama-3.3-70b', 'anthropic/claude-sonnet-4'];
    assert.deepEqual((await shown()).sort(), [...chosen].sort());
    assert.deepEqual(await page.$$eval('#compare-tps g.series', (gs) => gs.filter((g) => getComputedStyle(g).display !== 'none').map((g) => g.getAttribute('data-key')).sort()), [...chosen].sort());
    assert.deepEqual(await page.$$eval('#compare-legend li', (lis) => lis.map((l) => l.textContent)), chosen);
    // Both lines drawn in different colours.
    const colors = await page.$$eval('#compare-ttft g.series', (gs) => gs.filter((g) => getComputedStyle(g).display !== 'none').map((g) => getComputedStyle(g).color));
    assert.equal(new Set(colors).size, 2);
    const url = page.url();
    assert.match(url, /#cerebras%2Fllama-3\.3-70b&anthropic%2Fclaude-sonnet-4$/);
    // Five at most: a sixth box cannot be ticked.
    const rest = await page.$$('#picker input[type=checkbox]:not(:checked)');
    for (const box of rest.slice(0, 3)) await box.check();
    assert.equal((await shown()).length, 5);
    assert.ok(await rest[3]!.isDisabled());
    assert.deepEqual(errors, []);
    await page.close();
    const again = await open(url);
    assert.deepEqual(
      (await again.page.$$eval('#compare-ttft g.series', (gs) => gs.filter((g) => getComputedStyle(g).display !== 'none').map((g) => g.getAttribute('data-key')))).sort(),
      [...chosen].sort(),
      'opened from the address, the same models',
    );
    await again.page.close();
  });

  test('pages fit a phone: nothing wider than the screen but the scrolling tables', async () => {
    for (const name of ['index.html', 'models.html', 'compare.html', 'runs.html', 'failures.html', 'scenarios.html', 'agents.html', pages().find((p) => p.startsWith('models/'))!]) {
      const { page, errors } = await open(`file://${site}/${name}`, { width: 390, height: 844 });
      assert.deepEqual(errors, []);
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${name} is ${width}px wide at 390px`);
      await shoot(page, `phone-${name}`);
      await page.close();
    }
  });

  test('behind the ingest server (INGEST_SERVE_SITE) the pages load the same, with no request to anywhere else', async () => {
    const { page, errors, requests } = await open(`${server.url}/site/`);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith(`${server.url}/site/`)), []);
    await page.click('nav a[href="models.html"]');
    await page.waitForURL(`${server.url}/site/models.html`);
    assert.equal(await page.title(), 'Models · llm-bench');
    await page.click('nav a[href="agents.html"]');
    await page.waitForURL(`${server.url}/site/agents.html`);
    assert.ok((await page.$$('#agents tbody tr')).length > 0, 'the agent runs page, served');
    assert.deepEqual(errors, []);
    assert.deepEqual(requests.filter((u) => !u.startsWith(`${server.url}/site/`)), []);
    await page.close();
  });
});
