// SPEC 18: where the model that answered a catalog id changed, the model page's charts carry a
// vertical mark with the new model's name: from two real sweeps against a fake whose `model`
// changes between them, and, looked at in chromium, over a week with the change in its middle.
// Set SITE_SCREENSHOTS=DIR to keep the screenshot there (the brief's: /work/screens).
/// <reference lib="dom" />
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import { loadConfig } from '../../lib/config.ts';
import { renderSite } from '../../lib/site/build.ts';
import { collectSiteData, modelPageName } from '../../lib/site/data.ts';
import { modelChangeMarks } from '../../lib/site/models.ts';
import { generateSite } from '../../lib/site/write.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeMetric } from '../fixtures.ts';
import { groqBaseUrl, startOpenAIServer } from '../fakes/openai-server.ts';
import { scheduleChunks } from '../fakes/scenario.ts';

const HOUR = 3_600_000;
const CHROMIUM = '/usr/bin/chromium';

describe('model-change marks on the model page (SPEC 18)', () => {
  test('each served model first seen after the first is a mark at that time, in bucket units', () => {
    const since = Date.parse('2026-11-21T12:00:00.000Z');
    const served = (name: string, hoursIn: number) => ({
      provider: 'openai',
      model_name: 'gpt-4o',
      served_model: name,
      first_seen: new Date(since + hoursIn * HOUR),
      last_seen: new Date(since + (hoursIn + 10) * HOUR),
      runs: 20,
      median_tokens_per_second: 90,
    });
    // Given out of order: the marks follow first_seen, the first model is no change.
    const marks = modelChangeMarks([served('gpt-4o-2024-11-20', 90), served('gpt-4o-2024-08-06', 0), served('gpt-4o-2025-01-01', 120)], { since, bucketMs: 3 * HOUR });
    assert.deepEqual(marks.map((m) => [m.at, m.label]), [[30, '→ gpt-4o-2024-11-20'], [40, '→ gpt-4o-2025-01-01']]);
    assert.match(marks[0]!.title, /2026-11-25T06:00Z \(20 runs\)/);
    assert.deepEqual(modelChangeMarks([served('gpt-4o-2024-08-06', 0)], { since, bucketMs: 3 * HOUR }), []);
  });

  // Not about the saturated mark: a loaded test machine must not leave either row out.
  const SATURATION_OFF = Number.POSITIVE_INFINITY;
  test('two sweeps against a fake whose `model` changes between them: both charts of the model page mark the new name', async () => {
    let served = 'llama-3.3-70b-versatile-0801';
    const fake = await startOpenAIServer(() => ({ ...scheduleChunks({ ttftMs: 10, tokensPerSecond: 2000, tokensPerChunk: 4, tokens: 64 }), finishReason: 'stop', servedModel: served }));
    const store = openSqliteStore(':memory:');
    try {
      const config = loadConfig({ env: { RUNNER_NAME: 'test', GROQ_API_KEY: 'gsk-test', GROQ_BASE_URL: groqBaseUrl(fake) }, dotenvPath: false });
      const models = [{ provider: 'groq' as const, modelId: 'llama-3.3-70b-versatile', misc: {}, lastSuccessAt: null }];
      assert.equal((await runSweep({ config, sink: store, models, loadProvider, force: true, saturatedLagMs: SATURATION_OFF })).summary.ok, 1);
      served = 'llama-3.3-70b-versatile-1120';
      assert.equal((await runSweep({ config, sink: store, models, loadProvider, force: true, saturatedLagMs: SATURATION_OFF })).summary.ok, 1);

      const files = renderSite(await collectSiteData(store, new Date(Date.now() + 60_000)));
      const page = files.get(modelPageName('groq', 'llama-3.3-70b-versatile'))!;
      const marks = [...page.matchAll(/<g class="mark"><title>([^<]*)<\/title>.*?<text[^>]*>([^<]*)<\/text><\/g>/g)].map((m) => m[2]);
      assert.deepEqual(marks, ['→ llama-3.3-70b-versatile-1120', '→ llama-3.3-70b-versatile-1120'], 'one mark on each chart, the new name only');
      assert.match(page, /dashed line<\/span>: another model answered from then on/);
    } finally {
      await store.close();
      await fake.close();
    }
  });

  test('a model answered by one model throughout has no mark', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const now = new Date();
      for (let h = 1; h < 20; h++) await store.insertMetric({ ...makeMetric({ run_ts: new Date(now.getTime() - h * HOUR) }), served_model: 'llama-3.3-70b-versatile-0801' });
      const page = renderSite(await collectSiteData(store, now)).get(modelPageName('groq', 'llama-3.3-70b-versatile'))!;
      assert.doesNotMatch(page, /class="mark"/);
      assert.doesNotMatch(page, /another model answered/);
    } finally {
      await store.close();
    }
  });

  const skip = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM}`;
  test('in chromium: the mark stands at the change inside both charts, its name readable', { skip, timeout: 120_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-bench-mark-'));
    const store = openSqliteStore(join(dir, 'store.sqlite'));
    // The test's now, on the hour.
    const now = new Date(Math.floor(Date.now() / HOUR) * HOUR);
    const change = now.getTime() - 70 * HOUR;
    const { chromium } = await import('playwright-core');
    const context = await chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1280, height: 900 },
    });
    after(async () => {
      await context.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
    // A week of hourly runs; the alias moves to a slower snapshot 70 hours before now.
    for (let h = 1; h < 167; h++) {
      const t = now.getTime() - h * HOUR;
      const after = t >= change;
      const generate_time = after ? 1.0 + (h % 5) * 0.02 : 0.6 + (h % 5) * 0.02;
      await store.insertMetric({
        ...makeMetric({ provider: 'openai', model_name: 'gpt-4o', run_ts: new Date(t), generate_time, time_to_first_token: after ? 0.42 : 0.31 }),
        served_model: after ? 'gpt-4o-2024-11-20' : 'gpt-4o-2024-08-06',
      });
    }
    const site = join(dir, 'site');
    await generateSite(store, site, now);
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`file://${site}/${modelPageName('openai', 'gpt-4o')}`, { waitUntil: 'load' });
    const seen = await page.$$eval('svg.chart', (charts) =>
      charts.map((svg) => {
        const box = svg.getBoundingClientRect();
        const mark = svg.querySelector('g.mark');
        const line = mark?.querySelector('line')?.getBoundingClientRect();
        const text = mark?.querySelector('text');
        const tb = text?.getBoundingClientRect();
        return {
          label: text?.textContent ?? null,
          // Where the line stands across the chart's width, and whether its label is inside the chart.
          at: line ? (line.left - box.left) / box.width : null,
          inside: !!tb && tb.left >= box.left && tb.right <= box.right && tb.top >= box.top && tb.bottom <= box.bottom,
          visible: !!text && getComputedStyle(text).visibility === 'visible' && tb!.width > 0,
        };
      }),
    );
    assert.deepEqual(errors, []);
    assert.equal(seen.length, 2);
    for (const s of seen) {
      assert.equal(s.label, '→ gpt-4o-2024-11-20');
      assert.ok(s.inside && s.visible, JSON.stringify(s));
      // 70 hours before the end of a 168-hour week, less the chart's margins: about 0.55 of its width.
      assert.ok(s.at! > 0.45 && s.at! < 0.65, `mark at ${s.at}`);
    }
    const out = process.env.SITE_SCREENSHOTS;
    if (out) {
      mkdirSync(out, { recursive: true });
      await (await page.$('.charts'))!.screenshot({ path: join(out, 'model-change-marker.png') });
      await page.screenshot({ path: join(out, 'model-change-page.png'), fullPage: true });
    }
  });
});
