// SPEC 17: models a sweep does not start because of BENCH_DAILY_BUDGET_USD "are skipped and
// said so in the journal and the health mail". A sweep with a tiny budget against the mock
// provider records the skip in the store (not as an error: the dashboard would count it as a
// provider failure); the health report, its text and HTML, and `health-check --dry-run` list it
// beside the day's spend against the budget.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sweepCostOptions } from '../../lib/bench/budget.ts';
import type { SweepModel } from '../../lib/bench/due.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import { loadConfig } from '../../lib/config.ts';
import { ruleBasedAssessment } from '../../lib/health/assessment.ts';
import { collectHealthReport } from '../../lib/health/report.ts';
import { renderHealthHtml, renderHealthText } from '../../lib/health/render.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { runScript } from '../scripts/run-script.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-budget-skips-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// $1000 per million output tokens: one mock call of 64 tokens has a worst case of $0.064, so a
// $0.10 budget lets the first call start and not the second.
const PRICE = { input: 0, output: 1000 };
const BUDGET = '0.1';
const env = { RUNNER_NAME: 'budget-test', BENCH_MAX_TOKENS: '64', BENCH_DAILY_BUDGET_USD: BUDGET };

async function tinyBudgetSweep(store: Store, models: SweepModel[]) {
  const config = loadConfig({ env, dotenvPath: false });
  return runSweep({ config, sink: store, models, force: true, concurrency: 1, loadProvider, ...(await sweepCostOptions(config, store)) });
}

describe('budget skips reach the health mail', () => {
  test('on sqlite: the skipped model is recorded once per sweep, not as an error, and listed in the text and HTML mail with the day\'s spend', async () => {
    const store = openSqliteStore(join(dir, 'report.sqlite'));
    try {
      const models: SweepModel[] = ['instant', 'instant-2'].map((modelId) => ({ provider: 'mock', modelId, misc: { price: PRICE } }));
      const r = await tinyBudgetSweep(store, models);
      assert.deepEqual(
        r.results.map((x) => [x.modelId, x.outcome]),
        [
          ['instant', 'ok'],
          ['instant-2', 'skipped_budget'],
        ],
      );
      const now = new Date(Date.now() + 1000);
      const skips = await store.sweepSkips({ since: new Date(now.getTime() - 86_400_000), until: now });
      assert.deepEqual(
        skips.map((s) => [s.provider, s.model_id, s.runner, s.daily_budget_usd]),
        [['mock', 'instant-2', 'budget-test', 0.1]],
      );
      assert.match(skips[0]!.reason, /daily budget: its worst case \$0\.064/);
      assert.equal(await store.countErrors(), 0, 'a skip is not a provider failure');

      const report = await collectHealthReport(store, { now, sweepPeriodMinutes: 30, dailyBudgetUsd: 0.1 });
      assert.deepEqual(
        report.budget_skips?.map((s) => [`${s.provider}/${s.model_id}`, s.skips]),
        [['mock/instant-2', 1]],
      );
      const assessment = ruleBasedAssessment(report, 'no key in this test');
      assert.deepEqual([assessment.overall_status, assessment.rules.reasons], ['warning', ['1 model not started for the daily budget']]);
      const text = renderHealthText(report, assessment);
      assert.match(text, /Skipped for the daily budget \(BENCH_DAILY_BUDGET_USD=0\.1; spent today \$0\.0\d+ of \$0\.1\)/);
      assert.match(text, /mock\/instant-2 +cloud-default-v1 +1 /);
      const html = renderHealthHtml(report, ruleBasedAssessment(report, 'no key in this test'));
      assert.match(html, /<h3[^>]*>Skipped for the daily budget/);
      assert.match(html, /<td[^>]*>mock\/instant-2<\/td>/);
    } finally {
      await store.close();
    }
  });

  test('on the MongoDB stand-in: a skip is stored in its own collection and read back by the report', async () => {
    const c = mingoCollections();
    const store = await createMongoStore(c, { location: 'memory' });
    const t = new Date();
    await store.insertSweepSkip({
      provider: 'groq',
      model_id: 'llama-3.3-70b-versatile',
      scenario_id: 'cloud-default-v1',
      reason: 'price unknown, so its cost cannot be held to BENCH_DAILY_BUDGET_USD=5',
      skipped_at: t,
      sweep_started_at: t,
      runner: 'r',
      daily_budget_usd: 5,
    });
    assert.equal(c.sweepSkips.docs.length, 1);
    assert.equal(c.errors.docs.length, 0);
    const report = await collectHealthReport(store, { now: new Date(t.getTime() + 1000), sweepPeriodMinutes: 30, dailyBudgetUsd: 5 });
    assert.equal(report.budget_skips?.[0]?.last_reason, 'price unknown, so its cost cannot be held to BENCH_DAILY_BUDGET_USD=5');
  });

  test('health-check --dry-run lists the model a budget sweep skipped', async () => {
    const db = join(dir, 'script.sqlite');
    const store = openSqliteStore(db);
    try {
      await tinyBudgetSweep(store, ['instant', 'instant-2'].map((modelId) => ({ provider: 'mock', modelId, misc: { price: PRICE } })));
    } finally {
      await store.close();
    }
    const run = await runScript('health-check.ts', ['--dry-run'], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: dir,
        LLM_BENCH_DB: db,
        NOTIFY_EMAIL: 'ops@example.org',
        MAIL_FROM: 'bench@example.org',
        OPENAI_API_KEY: '',
        MONGODB_URI: '',
        BENCH_DAILY_BUDGET_USD: BUDGET,
      },
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /Skipped for the daily budget \(BENCH_DAILY_BUDGET_USD=0\.1; spent today \$0\.0\d+ of \$0\.1\)/);
    assert.match(run.stdout, /mock\/instant-2 .*daily budget: its worst case \$0\.064/);
  });
});
