import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { CHAT_TEMPLATE_TOKENS, createDailyBudget, sweepCostOptions, worstCaseUsd } from '../../lib/bench/budget.ts';
import { systemClock, type SweepClock } from '../../lib/bench/clock.ts';
import { createPriceBook } from '../../lib/bench/cost.ts';
import type { SweepModel } from '../../lib/bench/due.ts';
import { formatResultLine, formatSummary } from '../../lib/bench/output.ts';
import { runSweep, type SweepResult } from '../../lib/bench/sweep.ts';
import type { Store } from '../../lib/store/store.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { fixedAnswer } from '../fakes/fixed-answer.ts';

// Output at $1000 per million tokens and free input: a call of 64 tokens costs $0.064, and
// its worst case (BENCH_MAX_TOKENS=64) is the same $0.064. A $0.20 budget holds three calls.
const PRICE = { input: 0, output: 1000 };
const CALL_USD = 0.064;
const models = (n: number): SweepModel[] =>
  Array.from({ length: n }, (_, i) => ({ provider: 'groq', modelId: `m${i + 1}`, misc: { price: PRICE } }));

/** A clock standing at `iso` (plus the real time passing), so rows and the budget's day follow it. */
function clockAt(iso: string): SweepClock {
  const offset = Date.parse(iso) - performance.now();
  return { ...systemClock, wallNow: () => offset + performance.now() };
}

async function sweepAt(store: Store, iso: string, o: { limitUsd?: number; concurrency?: number; models?: SweepModel[] } = {}): Promise<SweepResult> {
  const clock = clockAt(iso);
  const config = loadConfig({ env: { RUNNER_NAME: 't', BENCH_MAX_TOKENS: '64', BENCH_DAILY_BUDGET_USD: String(o.limitUsd ?? 0.2) }, dotenvPath: false });
  return runSweep({
    config,
    sink: store,
    clock,
    force: true,
    concurrency: o.concurrency ?? 1,
    loadProvider: async () => fixedAnswer({ inputTokens: 10, outputTokens: 64 }),
    models: o.models ?? models(5),
    ...(await sweepCostOptions(config, store, { wallNow: clock.wallNow })),
  });
}

const outcomes = (r: SweepResult) => Object.fromEntries(r.results.map((x) => [x.modelId, x.outcome]));

describe('daily budget', () => {
  test('the worst case is every prompt byte a token plus the template, and the whole output budget', () => {
    const usd = worstCaseUsd({ input: 2, output: 10 }, { prompt: 'héllo', maxTokens: 100 });
    assert.equal(usd, ((6 + CHAT_TEMPLATE_TOKENS) * 2 + 100 * 10) / 1e6);
  });

  test('stops the call that would pass the limit and every call after it that day, then starts again the next day', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const first = await sweepAt(store, '2026-11-20T09:00:00Z');
      assert.deepEqual(outcomes(first), { m1: 'ok', m2: 'ok', m3: 'ok', m4: 'skipped_budget', m5: 'skipped_budget' });
      const m4 = first.results.find((r) => r.modelId === 'm4')!;
      assert.match(m4.skipReason!, /daily budget: its worst case \$0\.064 on top of \$0\.192 spent today \(UTC\) would pass BENCH_DAILY_BUDGET_USD=0\.2/);
      assert.match(formatResultLine(m4), /^groq\/m4: skipped, not started: daily budget/);
      assert.equal(first.summary.skippedBudget, 2);
      assert.match(formatSummary(first.summary), /3 ok, 0 failed.*, 2 skipped for the daily budget/);

      // A later sweep the same day (a new process: it learns the day's spend from the store).
      const later = await sweepAt(store, '2026-11-20T23:59:00Z');
      assert.deepEqual(Object.values(outcomes(later)), Array(5).fill('skipped_budget'));
      const today = await store.spendByDay({ since: new Date('2026-11-20T00:00:00Z'), until: new Date('2026-11-21T00:00:00Z') });
      assert.equal(today.length, 1);
      assert.ok(today[0]!.cost_usd <= 0.2 && Math.abs(today[0]!.cost_usd - 3 * CALL_USD) < 1e-12, String(today[0]!.cost_usd));

      const nextDay = await sweepAt(store, '2026-11-21T00:00:30Z');
      assert.deepEqual(outcomes(nextDay), { m1: 'ok', m2: 'ok', m3: 'ok', m4: 'skipped_budget', m5: 'skipped_budget' });
    } finally {
      await store.close();
    }
  });

  test('calls running side by side reserve their worst case, so together they never pass the limit', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const r = await sweepAt(store, '2026-11-20T09:00:00Z', { concurrency: 5 });
      assert.equal(r.summary.ok, 3);
      assert.equal(r.summary.skippedBudget, 2);
    } finally {
      await store.close();
    }
  });

  test('a model whose price is unknown is not started while a budget is set, and the line says how to price it', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const r = await sweepAt(store, '2026-11-20T09:00:00Z', {
        models: [{ provider: 'groq', modelId: 'unpriced', misc: {} }, { provider: 'groq', modelId: 'bad-price', misc: { price: { input: 1 } } }, ...models(1)],
      });
      assert.deepEqual(outcomes(r), { unpriced: 'skipped_budget', 'bad-price': 'skipped_budget', m1: 'ok' });
      assert.match(r.results.find((x) => x.modelId === 'unpriced')!.skipReason!, /price unknown, so its cost cannot be held to BENCH_DAILY_BUDGET_USD=0\.2: give it a price with misc\.price/);
      assert.match(r.results.find((x) => x.modelId === 'bad-price')!.skipReason!, /price unknown \(misc\.price\.output must be a number/);
    } finally {
      await store.close();
    }
  });

  test('without BENCH_DAILY_BUDGET_USD there is no budget; a remote runner (no store) is warned that only its sweep counts', async () => {
    const none = await sweepCostOptions({ cost: { dailyBudgetUsd: null, promTextfile: null } }, null);
    assert.equal(none.budget, undefined);
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => warnings.push(m) };
    const remote = await sweepCostOptions({ cost: { dailyBudgetUsd: 1, promTextfile: null } }, null, { logger });
    assert.ok(remote.budget);
    assert.match(warnings.join('\n'), /counts only this sweep's calls on a remote runner/);
  });

  test("a call does not start when the day's spend cannot be read, and the next call asks again", async () => {
    let asked = 0;
    const budget = createDailyBudget({
      limitUsd: 1,
      prices: createPriceBook([]),
      spentOn: async () => {
        if (++asked === 1) throw new Error('database is locked');
        return 0;
      },
      wallNow: () => Date.parse('2026-11-20T09:00:00Z'),
    });
    const refused = await budget.admit(models(1)[0]!, { prompt: '', maxTokens: 10 });
    assert.deepEqual(refused, { ok: false, reason: "cannot read today's spend, so BENCH_DAILY_BUDGET_USD cannot be checked: database is locked" });
    assert.equal((await budget.admit(models(1)[0]!, { prompt: '', maxTokens: 10 })).ok, true);
    assert.equal(asked, 2);
  });

  test("a failed call keeps its worst case in the sweep's spend (its cost is unknown)", async () => {
    const budget = createDailyBudget({ limitUsd: 0.1, prices: createPriceBook([]), spentOn: null, wallNow: () => Date.parse('2026-11-20T09:00:00Z') });
    const model = models(1)[0]!;
    const call = { prompt: '', maxTokens: 40 }; // worst case $0.04
    const a = await budget.admit(model, call);
    assert.ok(a.ok);
    budget.settle(a.ticket, null);
    const b = await budget.admit(model, call);
    assert.ok(b.ok);
    budget.settle(b.ticket, 0.001);
    // $0.04 + $0.001 spent: another $0.04 fits, a third does not.
    assert.ok((await budget.admit(model, call)).ok);
    assert.equal((await budget.admit(model, call)).ok, false);
  });
});
