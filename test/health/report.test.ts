// The daily report collected from seeded stores, on both backends (SQLite in a temp file and
// the MongoDB backend over the mingo stand-in): each section shows exactly what was seeded.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { SATURATED_LAG_MS } from '../../lib/bench/loop-lag.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { MetricDoc } from '../../lib/store/documents.ts';
import { ruleBasedAssessment } from '../../lib/health/assessment.ts';
import { renderHealthHtml, renderHealthText } from '../../lib/health/render.ts';
import {
  collectHealthReport,
  collectSpend,
  collectUnitFailure,
  isUnitName,
  shellQuote,
  sparkline,
  type HealthReport,
} from '../../lib/health/report.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';
import { makeError, makeMetric, makeModel } from '../fixtures.ts';
import { lognormalSamples, seededRandom } from '../fakes/random.ts';

const NOW = new Date('2026-11-20T08:00:00.000Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (iso: string) => new Date(iso);
const ago = (ms: number) => new Date(NOW.getTime() - ms);

/** n tokens/s and TTFT samples around the given medians, tokens/s drawn first. */
function speeds(random: () => number, o: { tps: number; ttft: number; sigma: number; n: number }): { tps: number[]; ttft: number[] } {
  return {
    tps: lognormalSamples(random, { median: o.tps, sigma: o.sigma, n: o.n }),
    ttft: lognormalSamples(random, { median: o.ttft, sigma: o.sigma, n: o.n }),
  };
}

function exactMedian(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

interface Backend {
  store: Store;
  /** Many metrics at once (the mingo stand-in checks uniqueness per insert, which is quadratic). */
  bulkMetrics(docs: MetricDoc[]): Promise<void>;
}

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-health-report-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BACKENDS: Array<[string, () => Promise<Backend>]> = [
  [
    'sqlite',
    async () => {
      const store = openSqliteStore(join(dir, `${randomUUID()}.sqlite`));
      return {
        store,
        bulkMetrics: async (docs) => {
          for (const d of docs) await store.insertMetric(d);
        },
      };
    },
  ],
  [
    'mongodb (mingo stand-in)',
    async () => {
      const c = mingoCollections();
      const store = await createMongoStore(c, { location: 'memory' });
      return {
        store,
        bulkMetrics: async (docs) => {
          c.metrics.docs.push(...docs.map((d) => ({ ...structuredClone(d), _id: randomUUID() })));
        },
      };
    },
  ],
];

/** Window samples every 30 minutes back from 07:45; baseline samples every 4 h from the baseline's start. */
function series(provider: string, model: string, values: { tps: number[]; ttft: number[] }, place: 'window' | 'baseline'): MetricDoc[] {
  return values.tps.map((tps, k) =>
    makeMetric({
      provider,
      model_name: model,
      run_ts: place === 'window' ? ago(15 * MIN + k * 30 * MIN) : new Date(NOW.getTime() - 8 * DAY + HOUR + k * 4 * HOUR),
      tokens_per_second: tps,
      time_to_first_token: values.ttft[k]!,
    }),
  );
}

const random = seededRandom(42);
const steady = speeds(random, { tps: 100, ttft: 0.3, sigma: 0.05, n: 40 });
const steadyNow = speeds(random, { tps: 100, ttft: 0.3, sigma: 0.05, n: 12 });
const slowBefore = speeds(random, { tps: 100, ttft: 0.3, sigma: 0.05, n: 40 });
const slowNow = speeds(random, { tps: 70, ttft: 0.3, sigma: 0.05, n: 12 });
const laggyBefore = speeds(random, { tps: 100, ttft: 0.3, sigma: 0.05, n: 40 });
const laggyNow = speeds(random, { tps: 100, ttft: 0.6, sigma: 0.05, n: 12 });
const fewBefore = speeds(random, { tps: 100, ttft: 0.3, sigma: 0.05, n: 40 });
const fewNow = speeds(random, { tps: 70, ttft: 0.3, sigma: 0.05, n: 4 });
const GONE_MESSAGE = "The model 'gone' has been retired; use gone-2";

async function seed(b: Backend): Promise<void> {
  const { store } = b;
  await b.bulkMetrics([
    ...series('anthropic', 'steady', steady, 'baseline'),
    ...series('anthropic', 'steady', steadyNow, 'window'),
    ...series('anthropic', 'slow', slowBefore, 'baseline'),
    ...series('anthropic', 'slow', slowNow, 'window'),
    ...series('anthropic', 'laggy', laggyBefore, 'baseline'),
    ...series('anthropic', 'laggy', laggyNow, 'window'),
    ...series('anthropic', 'few', fewBefore, 'baseline'),
    ...series('anthropic', 'few', fewNow, 'window'),
  ]);
  // anthropic/gone succeeded three days ago, then only hard_model errors.
  await store.insertMetric(makeMetric({ provider: 'anthropic', model_name: 'gone', run_ts: at('2026-11-17T10:00:00Z') }));
  for (const h of [1, 2, 3]) {
    await store.insertError(makeError({ provider: 'anthropic', model_name: 'gone', ts: ago(h * HOUR), error_kind: 'hard_model', http_status: 404, message: GONE_MESSAGE }));
  }
  for (const h of [4, 5]) {
    await store.insertError(makeError({ provider: 'anthropic', model_name: 'steady', ts: ago(h * HOUR), error_kind: 'rate_limit', message: 'HTTP 429 rate limited' }));
  }
  // bedrock/mixed: only errors, of two kinds, so no disable command is suggested.
  await store.insertError(makeError({ provider: 'bedrock', model_name: 'mixed', ts: ago(6 * HOUR), error_kind: 'hard_model', http_status: 404, message: 'mixed not found' }));
  await store.insertError(makeError({ provider: 'bedrock', model_name: 'mixed', ts: ago(2 * HOUR), error_kind: 'timeout', http_status: null, message: 'mixed timed out' }));
  await store.insertError(makeError({ provider: 'bedrock', model_name: 'keyless', ts: ago(7 * HOUR), error_kind: 'auth', http_status: 401, message: 'invalid api key' }));
  // bedrock/old-error: a success 2 h ago (stale at 90 min) and an error whose fingerprint is old.
  await store.insertMetric(makeMetric({ provider: 'bedrock', model_name: 'old-error', run_ts: ago(2 * HOUR) }));
  const oldMessage = { provider: 'bedrock', model_name: 'old-error', error_kind: 'transient_provider' as const, http_status: 503, message: 'overloaded' };
  await store.insertError(makeError({ ...oldMessage, ts: at('2026-11-15T10:00:00Z') }));
  await store.insertError(makeError({ ...oldMessage, ts: at('2026-11-18T20:00:00Z') }));
  await store.insertError(makeError({ ...oldMessage, ts: ago(3 * HOUR) }));
  // spark/m: one known value per day for the sparkline (none on 11-15).
  const daily: Array<[string, number[]]> = [
    ['2026-11-13T12:00:00Z', [500]],
    ['2026-11-14T12:00:00Z', [10]],
    ['2026-11-16T12:00:00Z', [20, 30, 40]],
    ['2026-11-17T12:00:00Z', [40]],
    ['2026-11-18T12:00:00Z', [80]],
    ['2026-11-19T12:00:00Z', [60]],
    ['2026-11-20T06:00:00Z', [80]],
  ];
  for (const [ts, values] of daily) {
    for (const [i, v] of values.entries()) {
      await store.insertMetric(makeMetric({ provider: 'spark', model_name: 'm', run_ts: new Date(at(ts).getTime() + i * MIN), tokens_per_second: v }));
    }
  }

  for (const id of ['steady', 'slow', 'laggy', 'few', 'gone']) await store.insertModel(makeModel({ provider: 'anthropic', model_id: id }));
  for (const id of ['mixed', 'keyless', 'old-error']) await store.insertModel(makeModel({ provider: 'bedrock', model_id: id }));
  await store.insertModel(makeModel({ provider: 'bedrock', model_id: 'fresh-new', created_at: ago(30 * MIN) }));
  await store.insertModel(makeModel({ provider: 'bedrock', model_id: 'disabled', enabled: false }));
  await store.insertModel(makeModel({ provider: 'bedrock', model_id: 'retired', deprecated: true }));
}

for (const [name, open] of BACKENDS) {
  describe(`health report on ${name}`, () => {
    let backend: Backend;
    let report: HealthReport;
    before(async () => {
      backend = await open();
      await seed(backend);
      report = await collectHealthReport(backend.store, { now: NOW, sweepPeriodMinutes: 30 });
    });
    after(async () => {
      await backend.store.close();
    });

    it('covers the last day, against the 7 days before it', () => {
      assert.deepEqual(report.window, { since: at('2026-11-19T08:00:00Z'), until: NOW, days: 1 });
      assert.deepEqual(report.baseline, { since: at('2026-11-12T08:00:00Z'), until: at('2026-11-19T08:00:00Z') });
      assert.equal(report.stale_after_minutes, 90);
    });

    it('counts successes and errors per provider, with the error rate', () => {
      assert.deepEqual(report.providers, [
        { provider: 'anthropic', successes: 40, errors: 5, error_rate: 5 / 45 },
        { provider: 'bedrock', successes: 1, errors: 4, error_rate: 0.8 },
        { provider: 'spark', successes: 2, errors: 0, error_rate: 0 },
      ]);
      assert.deepEqual(report.totals, { successes: 43, errors: 9, error_rate: 9 / 52 });
    });

    it('counts errors by provider and kind, most first', () => {
      assert.deepEqual(
        report.errors_by_kind.map((k) => [k.provider, k.error_kind, k.count]),
        [
          ['anthropic', 'hard_model', 3],
          ['anthropic', 'rate_limit', 2],
          ['bedrock', 'auth', 1],
          ['bedrock', 'hard_model', 1],
          ['bedrock', 'timeout', 1],
          ['bedrock', 'transient_provider', 1],
        ],
      );
    });

    it('lists the failing models per provider and model, most errors first, with the latest message', () => {
      assert.deepEqual(
        report.failing_models.map((m) => [`${m.provider}/${m.model_name}`, m.errors, m.successes, m.last_error_kind, m.last_message, m.error_kinds]),
        [
          ['anthropic/gone', 3, 0, 'hard_model', GONE_MESSAGE, { hard_model: 3 }],
          ['anthropic/steady', 2, 12, 'rate_limit', 'HTTP 429 rate limited', { rate_limit: 2 }],
          ['bedrock/mixed', 2, 0, 'timeout', 'mixed timed out', { hard_model: 1, timeout: 1 }],
          ['bedrock/keyless', 1, 0, 'auth', 'invalid api key', { auth: 1 }],
          ['bedrock/old-error', 1, 1, 'transient_provider', 'overloaded', { transient_provider: 1 }],
        ],
      );
      assert.deepEqual(report.failing_models[0]!.last_error_ts, ago(HOUR));
    });

    it('lists the models with only errors in the window, per provider and model', () => {
      assert.deepEqual(
        report.only_errors.map((m) => `${m.provider}/${m.model_name}`),
        ['anthropic/gone', 'bedrock/mixed', 'bedrock/keyless'],
      );
    });

    it('lists the error fingerprints first seen in the window, not the ones seen before', () => {
      assert.deepEqual(
        report.new_fingerprints.map((f) => [`${f.provider}/${f.model_name}`, `${f.stage}/${f.error_kind}`, f.count, f.first_seen.toISOString(), f.sample_message]),
        [
          ['bedrock/keyless', 'generate/auth', 1, ago(7 * HOUR).toISOString(), 'invalid api key'],
          ['bedrock/mixed', 'generate/hard_model', 1, ago(6 * HOUR).toISOString(), 'mixed not found'],
          ['anthropic/steady', 'generate/rate_limit', 2, ago(5 * HOUR).toISOString(), 'HTTP 429 rate limited'],
          ['anthropic/gone', 'generate/hard_model', 3, ago(3 * HOUR).toISOString(), GONE_MESSAGE],
          ['bedrock/mixed', 'generate/timeout', 1, ago(2 * HOUR).toISOString(), 'mixed timed out'],
        ],
      );
    });

    it('lists enabled models without a success for 3 sweep periods, never-run ones included, new, disabled and deprecated ones not', () => {
      assert.deepEqual(
        report.stale_models.map((s) => [`${s.provider}/${s.model_id}`, s.last_success?.toISOString() ?? null]),
        [
          ['bedrock/keyless', null],
          ['bedrock/mixed', null],
          ['anthropic/gone', '2026-11-17T10:00:00.000Z'],
          ['bedrock/old-error', ago(2 * HOUR).toISOString()],
        ],
      );
    });

    it('flags the model made 30% slower and the one whose TTFT doubled, with percentages and sample counts', () => {
      const expectedSlow = ((exactMedian(slowBefore.tps) - exactMedian(slowNow.tps)) / exactMedian(slowBefore.tps)) * 100;
      const expectedLaggy = ((exactMedian(laggyNow.ttft) - exactMedian(laggyBefore.ttft)) / exactMedian(laggyBefore.ttft)) * 100;
      assert.deepEqual(
        report.regressions.map((r) => [`${r.provider}/${r.model_name}`, r.metric, r.current_samples, r.baseline_samples]),
        [
          ['anthropic/laggy', 'time_to_first_token', 12, 40],
          ['anthropic/slow', 'tokens_per_second', 12, 40],
        ],
      );
      const [laggy, slow] = report.regressions;
      assert.ok(Math.abs(slow!.worse_pct - expectedSlow) < 1e-9 && expectedSlow > 25 && expectedSlow < 35, `slow: ${slow!.worse_pct}`);
      assert.ok(Math.abs(laggy!.worse_pct - expectedLaggy) < 1e-9 && expectedLaggy > 80, `laggy: ${laggy!.worse_pct}`);
      assert.equal(slow!.baseline_median, exactMedian(slowBefore.tps));
      assert.equal(slow!.current_median, exactMedian(slowNow.tps));
      assert.ok(slow!.p_value < 0.0025);
    });

    it('draws a 7-day sparkline of median tokens/s per provider, with a gap for a day without data', () => {
      const spark = report.sparklines.find((s) => s.provider === 'spark')!;
      assert.deepEqual(
        spark.days.map((d) => [d.day, d.median_tokens_per_second, d.count]),
        [
          ['2026-11-14', 10, 1],
          ['2026-11-15', null, 0],
          ['2026-11-16', 30, 3],
          ['2026-11-17', 40, 1],
          ['2026-11-18', 80, 1],
          ['2026-11-19', 60, 1],
          ['2026-11-20', 80, 1],
        ],
      );
      assert.equal(spark.sparkline, '▁ ▃▄█▆█');
      assert.deepEqual(report.sparklines.map((s) => s.provider), ['anthropic', 'bedrock', 'spark']);
      assert.equal(report.sparklines.find((s) => s.provider === 'anthropic')!.sparkline.length, 7);
    });

    it('suggests a copy-paste disable command for the model with only hard_model errors, and only for it', () => {
      assert.deepEqual(report.suggested_commands, [
        {
          command: `npm run models -- disable anthropic gone --reason 'hard_model errors only since 2026-11-19: The model '\\''gone'\\'' has been retired; use gone-2'`,
          why: 'anthropic/gone: 3 hard_model errors and no success in the window',
        },
      ]);
      // Pasted into a shell, the reason arrives as one argument, quotes and semicolon intact.
      const args = report.suggested_commands[0]!.command.replace(/^npm run models -- /, '');
      const argv = execFileSync('/bin/sh', ['-c', `printf '%s\\n' ${args}`], { encoding: 'utf8' }).trimEnd().split('\n');
      assert.deepEqual(argv, ['disable', 'anthropic', 'gone', '--reason', `hard_model errors only since 2026-11-19: ${GONE_MESSAGE}`]);
    });

    it('widens the window with days', async () => {
      const wide = await collectHealthReport(backend.store, { now: NOW, days: 2, sweepPeriodMinutes: 30 });
      assert.deepEqual(wide.window.since, at('2026-11-18T08:00:00Z'));
      assert.deepEqual(wide.baseline, { since: at('2026-11-11T08:00:00Z'), until: at('2026-11-18T08:00:00Z') });
      assert.equal(wide.providers.find((p) => p.provider === 'bedrock')!.errors, 5);
    });
  });

  describe(`speed regressions on ${name} with noise only`, () => {
    it('flags at most 2% of 200 models whose window and baseline come from the same distribution', async () => {
      const backend = await open();
      const noise = seededRandom(7);
      const docs: MetricDoc[] = [];
      let naive = 0;
      for (let m = 0; m < 200; m++) {
        const before = speeds(noise, { tps: 150, ttft: 0.5, sigma: 0.4, n: 30 });
        const now = speeds(noise, { tps: 150, ttft: 0.5, sigma: 0.4, n: 10 });
        if (exactMedian(now.tps) <= 0.8 * exactMedian(before.tps) || exactMedian(now.ttft) >= 1.2 * exactMedian(before.ttft)) naive++;
        docs.push(...series('noise', `m${m}`, before, 'baseline'), ...series('noise', `m${m}`, now, 'window'));
      }
      await backend.bulkMetrics(docs);
      const report = await collectHealthReport(backend.store, { now: NOW, sweepPeriodMinutes: 30 });
      await backend.store.close();
      assert.equal(report.providers[0]!.successes, 2000, 'every window sample was read');
      assert.ok(naive >= 40, `a 20% median rule alone would flag many (${naive})`);
      const flagged = new Set(report.regressions.map((r) => r.model_name));
      assert.ok(flagged.size <= 4, `at most 2% flagged, got ${flagged.size}: ${JSON.stringify(report.regressions)}`);
    });
  });
}

describe('sparkline', () => {
  it('scales from 0 to the largest value, so equal days are full blocks and a gap is a space', () => {
    assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), '▁▂▃▄▅▆▇█');
    assert.equal(sparkline([50, 50, null, 50]), '██ █');
    assert.equal(sparkline([null, null]), '  ');
    assert.equal(sparkline([0, 0]), '▁▁');
    assert.equal(sparkline([70, 100]), '▆█');
  });
});

describe('shellQuote', () => {
  it('leaves safe words alone and single-quotes the rest', () => {
    assert.equal(shellQuote('us.anthropic.claude-3-5-sonnet-20241022-v2:0'), 'us.anthropic.claude-3-5-sonnet-20241022-v2:0');
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's $HOME `x`"), `'it'\\''s $HOME \`x\`'`);
  });
});

describe('collectUnitFailure', () => {
  it('keeps the journal lines of the unit, asking journalctl for the last 50', async () => {
    const calls: string[][] = [];
    const failure = await collectUnitFailure('llm-bench.service', {
      host: 'clifford',
      run: async (file, args) => {
        calls.push([file, ...args]);
        return { stdout: 'Nov 20 08:00:01 clifford node[1]: <3>sweep failed\nNov 20 08:00:02 clifford systemd[1]: llm-bench.service: Failed\n' };
      },
    });
    assert.deepEqual(calls, [['journalctl', '-u', 'llm-bench.service', '-n', '50', '--no-pager']]);
    assert.deepEqual(failure, {
      unit: 'llm-bench.service',
      host: 'clifford',
      journal: ['Nov 20 08:00:01 clifford node[1]: <3>sweep failed', 'Nov 20 08:00:02 clifford systemd[1]: llm-bench.service: Failed'],
      journal_note: null,
    });
  });

  it('says so when the journal has no entries (journalctl exits 0 with "-- No entries --")', async () => {
    const failure = await collectUnitFailure('x.service', {
      host: 'h',
      run: async () => ({ stdout: '-- No entries --\n', stderr: 'No journal files were found.\n' }),
    });
    assert.deepEqual(failure.journal, []);
    assert.equal(failure.journal_note, 'journalctl -u x.service returned no entries (No journal files were found.)');
  });

  it('notes why when journalctl fails or is missing, without throwing', async () => {
    const failed = await collectUnitFailure('x.service', {
      host: 'h',
      run: async () => {
        throw Object.assign(new Error('Command failed'), { code: 1, stderr: 'Failed to get journal access: Permission denied' });
      },
    });
    assert.equal(failed.journal_note, 'journal unavailable: Failed to get journal access: Permission denied');
    const missing = await collectUnitFailure('x.service', {
      host: 'h',
      run: async () => {
        throw Object.assign(new Error('spawn journalctl ENOENT'), { code: 'ENOENT' });
      },
    });
    assert.equal(missing.journal_note, 'journal unavailable: journalctl is not installed');
  });

  it('accepts systemd unit names and refuses anything else', () => {
    assert.ok(isUnitName('llm-bench.service'));
    assert.ok(isUnitName('llm-health-check-failure@llm-bench.service.service'));
    assert.ok(!isUnitName('--help'));
    assert.ok(!isUnitName('llm-bench'));
    assert.ok(!isUnitName('a b.service'));
  });
});

describe('spend in the health report (SPEC 17)', () => {
  const seed: Array<[string, string, number | null]> = [
    ['groq', '2026-11-20T07:00:00Z', 1],
    ['groq', '2026-11-20T07:30:00Z', null],
    ['groq', '2026-11-10T12:00:00Z', 2],
    ['openai', '2026-11-19T12:00:00Z', 0.5],
    // Last month, and after the report's end: in neither figure.
    ['groq', '2026-10-31T23:00:00Z', 100],
    ['groq', '2026-11-20T08:00:00Z', 100],
  ];
  let store: Store;
  before(async () => {
    store = openSqliteStore(':memory:');
    for (const [provider, ts, cost] of seed) await store.insertMetric({ ...makeMetric({ provider, model_name: 'm', run_ts: at(ts) }), cost_usd: cost });
  });
  after(() => store.close());

  it('shows spend per provider per day, the month so far and its projection at the pace so far', async () => {
    const spend = await collectSpend(store, { until: NOW, dailyBudgetUsd: 5 });
    assert.deepEqual(spend.days, [
      { provider: 'groq', day: '2026-11-20', cost_usd: 1, priced_calls: 1, unpriced_calls: 1 },
      { provider: 'openai', day: '2026-11-19', cost_usd: 0.5, priced_calls: 1, unpriced_calls: 0 },
    ]);
    assert.equal(spend.month.month, '2026-11');
    assert.equal(spend.month.spent_usd, 3.5);
    assert.equal(spend.month.unpriced_calls, 1);
    // 19 days and 8 hours of a 30-day month have passed.
    const scale = 30 / (19 + 8 / 24);
    assert.ok(Math.abs(spend.month.projected_usd - 3.5 * scale) < 1e-9, String(spend.month.projected_usd));
    assert.deepEqual(spend.month.providers.map((p) => [p.provider, p.spent_usd]), [['groq', 3], ['openai', 0.5]]);

    const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30, dailyBudgetUsd: 5 });
    const text = renderHealthText(report, ruleBasedAssessment(report, 'test'));
    assert.match(text, /Spend per provider by day \(USD, UTC days; BENCH_DAILY_BUDGET_USD=5\)/);
    assert.match(text, /^ {2}provider +11-14 +11-15 +11-16 +11-17 +11-18 +11-19 +11-20$/m);
    assert.match(text, /^ {2}groq +- +- +- +- +- +- +\$1\.00$/m);
    assert.match(text, /^ {2}openai +- +- +- +- +- +\$0\.5000 +-$/m);
    assert.match(text, /^ {2}all +- +- +- +- +- +\$0\.5000 +\$1\.00$/m);
    assert.match(text, /2026-11 so far: \$3\.50, projected \$5\.43 for the month at this pace\./);
    assert.match(text, /1 successful call this month has no known cost \(no price: set misc.price or run discovery\) and is not in these figures/);
  });
});

/** Runs fn on a fresh SQLite store and a fresh MongoDB stand-in, each closed after it. */
async function onEachBackend(fn: (store: Store, name: string) => Promise<void>): Promise<void> {
  for (const [name, open] of [['sqlite', () => openSqliteStore(':memory:')], ['mongodb (mingo)', () => createMongoStore(mingoCollections(), { location: 'memory' })]] as const) {
    const store = await open();
    try {
      await fn(store, name);
    } finally {
      await store.close();
    }
  }
}

describe('rows left out by their evidence in the health report (SPEC 18)', () => {
  it('names the providers that served cached prefixes despite the nonce, with each model\'s count; says nothing when none did', async () => {
    await onEachBackend(async (store, name) => {
    const quiet = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
    assert.doesNotMatch(renderHealthText(quiet, ruleBasedAssessment(quiet, 'test')), /cached prefixes/, name);
    const hit = (provider: string, minutes: number): MetricDoc => ({
      ...makeMetric({ provider, model_name: 'm', run_ts: ago(minutes * MIN), cached_input_tokens: 2048 }),
      cache_defeat_nonce: 'n',
      evidence: { cache_hit: true },
    });
    await store.insertMetric(hit('anthropic', 10));
    await store.insertMetric(hit('anthropic', 20));
    await store.insertMetric(hit('openai', 30));
    await store.insertMetric(hit('groq', 60 * 30)); // before the window
    await store.insertMetric(makeMetric({ provider: 'together', model_name: 'm', run_ts: ago(10 * MIN), cached_input_tokens: 0 }));
    const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
    const text = renderHealthText(report, ruleBasedAssessment(report, 'test'));
    assert.match(text, /^Served cached prefixes \(anthropic, openai\): rows left out of the published numbers$/m, name);
    assert.match(text, /^ {2}anthropic\/m +2$/m, name);
    assert.match(text, /^ {2}openai\/m +1$/m, name);
    // A cache hit is no saturated run.
    assert.doesNotMatch(text, /runner was saturated/, name);
    });
  });

  it('says how many rows were measured while the runner was saturated and on which lanes, in text and HTML; says nothing when none were', async () => {
    await onEachBackend(async (store, name) => {
    const quiet = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
    assert.doesNotMatch(renderHealthText(quiet, ruleBasedAssessment(quiet, 'test')), /saturated/, name);
    const late = (provider: string, model: string, minutes: number): MetricDoc => ({
      ...makeMetric({ provider, model_name: model, run_ts: ago(minutes * MIN) }),
      client_lag_ms: 12.5,
      evidence: { saturated: true },
    });
    await store.insertMetric(late('groq', 'llama', 10));
    await store.insertMetric(late('groq', 'llama', 40));
    await store.insertMetric(late('groq', 'qwen', 70));
    await store.insertMetric(late('bedrock', 'claude', 100));
    await store.insertMetric(late('vertex', 'gemini', 60 * 30)); // before the window
    await store.insertMetric({ ...makeMetric({ provider: 'openai', model_name: 'g', run_ts: ago(10 * MIN) }), client_lag_ms: 0.6 });
    const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
    const assessment = ruleBasedAssessment(report, 'test');
    const text = renderHealthText(report, assessment);
    assert.match(text, new RegExp(`^Measured while the runner was saturated: 4 rows on 2 lanes \\(bedrock, groq\\), their figures possibly read late by the runner itself, by more than TTFT's ${SATURATED_LAG_MS} ms or the speeds' 1 % allow; left out of the published numbers$`, 'm'), name);
    assert.match(text, /^ {2}bedrock +1 +claude \(1\)$/m, name);
    assert.match(text, /^ {2}groq +3 +llama \(2\), qwen \(1\)$/m, name);
    // Neither the row before the window nor the unmarked one is in the section.
    const section = text.slice(text.indexOf('Measured while the runner was saturated'));
    assert.doesNotMatch(section.split('\n\n')[0]!, /vertex|gemini|openai/, name);
    const html = renderHealthHtml(report, assessment);
    assert.match(html, /Measured while the runner was saturated: 4 rows on 2 lanes \(bedrock, groq\)/, name);
    assert.match(html, /<td[^>]*>groq<\/td>\s*<td[^>]*>3<\/td>\s*<td[^>]*>llama \(2\), qwen \(1\)<\/td>/, name);
    });
  });
});

describe('model swaps in the health report (SPEC 18)', () => {
  it('says which catalog id is served by another model since when, with tokens/s before and after; an unchanged or merely alternating-before-the-window model is no item', async () => {
    await onEachBackend(async (store, name) => {
    const served = (model: string, servedModel: string, at: Date, tps: number): MetricDoc => ({ ...makeMetric({ provider: 'openai', model_name: model, run_ts: at, tokens_per_second: tps }), served_model: servedModel });
    // gpt-4o: the old snapshot over the baseline (tokens/s 90, 100, 110), the new one in the window (50, 60, 70, 80).
    for (const [d, tps] of [[5, 90], [4, 100], [3, 110]] as const) await store.insertMetric(served('gpt-4o', 'gpt-4o-2024-08-06', ago(d * DAY), tps));
    for (const [h, tps] of [[20, 50], [10, 60], [5, 70], [1, 80]] as const) await store.insertMetric(served('gpt-4o', 'gpt-4o-2024-11-20', ago(h * HOUR), tps));
    // A row marked a cache hit does not count toward either side.
    await store.insertMetric({ ...served('gpt-4o', 'gpt-4o-2024-11-20', ago(2 * HOUR), 9000), cache_defeat_nonce: 'n', cached_input_tokens: 10, evidence: { cache_hit: true } });
    // gpt-4o-mini: the same snapshot throughout.
    for (const d of [3, 0.5]) await store.insertMetric(served('gpt-4o-mini', 'gpt-4o-mini-2024-07-18', ago(d * DAY), 200));
    // o3: swapped before the window (already told in an earlier mail), the same since.
    await store.insertMetric(served('o3', 'o3-2025-01-31', ago(6 * DAY), 80));
    for (const d of [4, 0.5]) await store.insertMetric(served('o3', 'o3-2025-04-16', ago(d * DAY), 90));
    const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
    assert.deepEqual(
      report.model_changes?.map((c) => [c.model_name, c.served_model, c.since, c.previous_model, c.tokens_per_second_before, c.tokens_per_second_after]),
      [['gpt-4o', 'gpt-4o-2024-11-20', ago(20 * HOUR), 'gpt-4o-2024-08-06', 100, 65]],
      name,
    );
    const text = renderHealthText(report, ruleBasedAssessment(report, 'test'));
    assert.match(text, /openai\/gpt-4o served by gpt-4o-2024-11-20 since 2026-11-19 12:00Z \(before: gpt-4o-2024-08-06\); tokens\/s 100 before, 65\.0 after/, name);
    assert.doesNotMatch(text, /gpt-4o-mini served by/, name);
    });
  });
});

describe('keys near their rate limit in the health report (SPEC 18)', () => {
  it('flags a provider whose headers left at most a tenth of its requests or tokens, from successes and 429s, with the lowest share; a comfortable key is not flagged', async () => {
    await onEachBackend(async (store, name) => {
    const limits = (requests: number, tokens: number) => ({ requests_limit: 1000, requests_remaining: requests, tokens_limit: 30000, tokens_remaining: tokens, retry_after_s: null });
    await store.insertMetric({ ...makeMetric({ provider: 'groq', model_name: 'm', run_ts: ago(3 * HOUR) }), rate_limit: limits(900, 2400) });
    await store.insertMetric({ ...makeMetric({ provider: 'groq', model_name: 'm', run_ts: ago(2 * HOUR) }), rate_limit: limits(50, 29000) });
    await store.insertError({ ...makeError({ provider: 'anthropic', model_name: 'c', ts: ago(HOUR), error_kind: 'rate_limit' }), rate_limit: { ...limits(0, 100), retry_after_s: 7 } });
    await store.insertMetric({ ...makeMetric({ provider: 'openai', model_name: 'g', run_ts: ago(HOUR) }), rate_limit: limits(990, 29000) });
    // Near the limit, but before the window.
    await store.insertMetric({ ...makeMetric({ provider: 'openai', model_name: 'g', run_ts: ago(3 * DAY) }), rate_limit: limits(1, 1) });
    const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
    assert.deepEqual(
      report.near_limit?.map((n) => [n.provider, n.rows, n.lowest_share, n.last_at]),
      [
        ['anthropic', 1, 0, ago(HOUR)],
        ['groq', 2, 0.05, ago(2 * HOUR)],
      ],
      name,
    );
    const text = renderHealthText(report, ruleBasedAssessment(report, 'test'));
    assert.match(text, /^Keys near their rate limit \(at most 10 % of requests or tokens left\)$/m, name);
    assert.match(text, /^ {2}groq +2 +5\.0% +2026-11-20 06:00Z$/m, name);
    assert.doesNotMatch(text.slice(text.indexOf('Keys near their rate limit')), /^ {2}openai /m, name);
    });
  });
});

describe('stale models in the health report', () => {
  it('a model measured 85 minutes ago is not stale with a 30-minute sweep (3 periods), one measured 95 minutes ago is', async () => {
    const store = openSqliteStore(join(dir, `${randomUUID()}.sqlite`));
    try {
      for (const [id, minutes] of [['inside', 85], ['outside', 95]] as const) {
        await store.insertModel(makeModel({ provider: 'anthropic', model_id: id }));
        await store.insertMetric(makeMetric({ provider: 'anthropic', model_name: id, run_ts: ago(minutes * MIN) }));
      }
      const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
      assert.deepEqual(report.stale_models.map((s) => s.model_id), ['outside']);
    } finally {
      await store.close();
    }
  });
});

describe('storage in the health report (SPEC 20)', () => {
  it('shows the store\'s size, rows a day and its size a year from now, computed from its own counts, and the retention set', async () => {
    const store = openSqliteStore(':memory:');
    const now = new Date('2026-11-20T08:00:00Z');
    // 7 rows a day over the last week: 1 a day.
    for (let d = 0; d < 7; d++) await store.insertMetric(makeMetric({ provider: 'st', model_name: 'm', run_ts: new Date(now.getTime() - (d + 0.5) * 86_400_000) }));
    const report = await collectHealthReport(store, { now, sweepPeriodMinutes: 30, retention: { gapsDays: 30, rowsDays: null, includeDashboard: false } });
    await store.close();
    const f = report.storage!.footprint;
    assert.deepEqual([f.rows, f.rows_per_day], [7, 1]);
    assert.equal(f.projected_bytes_in_a_year, f.bytes! + 365 * (f.bytes! / 7));
    const text = renderHealthText(report, ruleBasedAssessment(report, 'test'));
    assert.match(text, /^Storage$/m);
    assert.match(text, /1 rows a day over the last 7 days: about [\d.]+ [kMG]B in a year at this pace, before retention; retention: per-chunk gaps kept 30 days\./);
  });
});
