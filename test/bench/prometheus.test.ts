import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { collectSeries, escapeLabel, renderTextfile, writeFileAtomically, writeSweepTextfile, type ModelSeries } from '../../lib/bench/prometheus.ts';
import { summarize, type ModelResult } from '../../lib/bench/sweep.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeError, makeMetric } from '../fixtures.ts';

const FINISHED = new Date('2026-11-20T10:05:00Z');

function result(o: Partial<ModelResult> & Pick<ModelResult, 'provider' | 'modelId' | 'outcome'>): ModelResult {
  return { metric: null, error: null, attempts: o.outcome === 'ok' || o.outcome === 'failed' ? 1 : 0, skipReason: null, writeError: null, ...o };
}

const okMetric = makeMetric({ provider: 'groq', model_name: 'llama-3.3-70b-versatile', run_ts: new Date('2026-11-20T10:01:00Z'), time_to_first_token: 0.25, decode_tokens_per_second: 512.5, cost_usd: 0.0000523 });
const RESULTS: ModelResult[] = [
  result({ provider: 'groq', modelId: 'llama-3.3-70b-versatile', outcome: 'ok', metric: okMetric }),
  result({ provider: 'openai', modelId: 'gpt-4o-mini', outcome: 'failed', error: makeError({ provider: 'openai', model_name: 'gpt-4o-mini', ts: new Date('2026-11-20T10:02:00Z') }) }),
  result({ provider: 'together', modelId: 'odd "name"\\with\nnewline', outcome: 'skipped_budget', skipReason: 'daily budget' }),
];

type Parsed = ReturnType<typeof parsePrometheusTextFormat>;
const family = (parsed: Parsed, name: string) => {
  const f = parsed.find((x) => x.name === name);
  assert.ok(f, `no family ${name}`);
  return f;
};
const sample = (parsed: Parsed, name: string, labels: Record<string, string>) =>
  family(parsed, name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;

describe('Prometheus textfile', () => {
  test('parses back with a real parser of the text format: per-model gauges, sweep figures, labels escaped', async () => {
    const series = await collectSeries(RESULTS, null, 'cloud-default-v1');
    const summary = summarize(RESULTS, { models: 4, writeFailures: 0, durationMs: 12_345 });
    summary.skippedFresh = 1; // the fourth model
    const parsed = parsePrometheusTextFormat(renderTextfile(series, { summary, finishedAt: FINISHED }));

    const groq = { provider: 'groq', model: 'llama-3.3-70b-versatile', scenario: 'cloud-default-v1' };
    assert.equal(sample(parsed, 'llm_bench_time_to_first_token_seconds', groq), '0.25');
    assert.equal(Number(sample(parsed, 'llm_bench_output_tokens_per_second', groq)), okMetric.tokens_per_second);
    assert.equal(sample(parsed, 'llm_bench_decode_tokens_per_second', groq), '512.5');
    assert.equal(sample(parsed, 'llm_bench_last_call_success', groq), '1');
    assert.equal(sample(parsed, 'llm_bench_last_success_timestamp_seconds', groq), String(Date.parse('2026-11-20T10:01:00Z') / 1000));
    assert.equal(sample(parsed, 'llm_bench_last_call_cost_usd', groq), '0.0000523');

    const openai = { provider: 'openai', model: 'gpt-4o-mini' };
    assert.equal(sample(parsed, 'llm_bench_last_call_success', openai), '0');
    // Never succeeded: no TTFT, no last-success time (unknown is left out, not 0).
    assert.equal(sample(parsed, 'llm_bench_time_to_first_token_seconds', openai), undefined);
    assert.equal(sample(parsed, 'llm_bench_last_success_timestamp_seconds', openai), undefined);
    // A model skipped before its first call has nothing to report: no sample at all.
    assert.equal(sample(parsed, 'llm_bench_last_call_success', { provider: 'together' }), undefined);

    assert.equal(sample(parsed, 'llm_bench_sweep_duration_seconds', {}), '12.345');
    assert.equal(sample(parsed, 'llm_bench_sweep_models_due', {}), '3');
    const byOutcome = Object.fromEntries(family(parsed, 'llm_bench_sweep_models').metrics.map((m) => [m.labels!.outcome, m.value]));
    assert.deepEqual(byOutcome, { ok: '1', failed: '1', skipped_fresh: '1', aborted: '0', skipped_deadline: '0', skipped_stopped: '0', skipped_budget: '1', skipped_context: '0' });
    assert.equal(sample(parsed, 'llm_bench_sweep_end_timestamp_seconds', {}), String(FINISHED.getTime() / 1000));

    for (const f of parsed) {
      assert.equal(f.type, 'GAUGE', f.name);
      assert.match(f.name, /^llm_bench_[a-z_]+$/);
      assert.doesNotMatch(f.name, /_total$/, 'gauges never end in _total');
      assert.ok(f.help.length > 0, `${f.name} has HELP`);
    }
  });

  test('models skipped because their context window is too small are counted as skipped_context', async () => {
    const tooLong = (modelId: string) =>
      result({ provider: 'groq', modelId, outcome: 'skipped_context', scenarioId: 'input-100k-v1', skipReason: 'not started: a 100000-token prompt and 256 output tokens do not fit its 8192-token context window' });
    const results = [RESULTS[0]!, tooLong('llama-3.1-8b-instant'), tooLong('gemma2-9b-it')];
    const summary = summarize(results, { models: 3, writeFailures: 0, durationMs: 1000 });
    const parsed = parsePrometheusTextFormat(renderTextfile(await collectSeries(results, null, 'cloud-default-v1'), { summary, finishedAt: FINISHED }));
    assert.equal(sample(parsed, 'llm_bench_sweep_models', { outcome: 'skipped_context' }), '2');
    assert.equal(sample(parsed, 'llm_bench_sweep_models', { outcome: 'ok' }), '1');
    assert.equal(sample(parsed, 'llm_bench_sweep_models_due', {}), '3');
  });

  test('label values with quotes, backslashes and newlines survive the round trip', () => {
    const odd = 'odd "name"\\with\nnewline';
    assert.equal(escapeLabel(odd), 'odd \\"name\\"\\\\with\\nnewline');
    const s: ModelSeries = { provider: 'together', model: odd, scenario: 'x', lastMetric: null, lastErrorAt: new Date() };
    const parsed = parsePrometheusTextFormat(renderTextfile([s], { summary: summarize([], { models: 0, writeFailures: 0, durationMs: 0 }), finishedAt: FINISHED }));
    assert.equal(family(parsed, 'llm_bench_last_call_success').metrics[0]!.labels!.model, odd);
  });

  test("the store fills in fresh models and each scenario's own latest rows; this sweep's newer results win", async () => {
    const store = openSqliteStore(':memory:');
    try {
      const at = (iso: string) => new Date(iso);
      await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'fresh', run_ts: at('2026-11-20T09:40:00Z'), time_to_first_token: 0.5 }));
      await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'fresh', run_ts: at('2026-11-20T09:45:00Z'), time_to_first_token: 9, benchmark_profile_id: 'long-512' }));
      await store.insertError(makeError({ provider: 'groq', model_name: 'fresh', ts: at('2026-11-20T09:30:00Z') }));
      const series = await collectSeries(
        [result({ provider: 'groq', modelId: 'fresh', outcome: 'skipped_fresh' }), RESULTS[0]!],
        store,
        'cloud-default-v1',
      );
      const fresh = series.find((s) => s.model === 'fresh')!;
      assert.equal(fresh.scenario, 'cloud-default-v1');
      assert.equal(fresh.lastMetric?.time_to_first_token, 0.5);
      assert.deepEqual(fresh.lastErrorAt, at('2026-11-20T09:30:00Z'));
      // The groq result was never written to this store: the sweep's own result stands.
      assert.equal(series.find((s) => s.model === 'llama-3.3-70b-versatile')!.lastMetric, okMetric);
    } finally {
      await store.close();
    }
  });

  test('an aborted call (the operator stopped the sweep) is not a failed last call, in this sweep or in the store', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const at = (iso: string) => new Date(iso);
      await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'm', run_ts: at('2026-11-20T09:00:00Z') }));
      await store.insertError(makeError({ provider: 'groq', model_name: 'm', ts: at('2026-11-20T09:30:00Z'), error_kind: 'aborted', message: 'stopped by SIGTERM' }));
      const aborted = makeError({ provider: 'groq', model_name: 'n', ts: at('2026-11-20T10:00:00Z'), error_kind: 'aborted', message: 'stopped by SIGTERM' });
      const series = await collectSeries(
        [result({ provider: 'groq', modelId: 'm', outcome: 'skipped_fresh' }), result({ provider: 'groq', modelId: 'n', outcome: 'failed', error: aborted })],
        store,
        'cloud-default-v1',
      );
      assert.deepEqual(series.map((s) => [s.model, s.lastErrorAt, s.lastMetric?.run_ts ?? null]), [
        ['m', null, at('2026-11-20T09:00:00Z')],
        ['n', null, null],
      ]);
      const parsed = parsePrometheusTextFormat(renderTextfile(series, { summary: summarize([], { models: 2, writeFailures: 0, durationMs: 0 }), finishedAt: at('2026-11-20T10:05:00Z') }));
      assert.equal(sample(parsed, 'llm_bench_last_call_success', { provider: 'groq', model: 'm', scenario: 'cloud-default-v1' }), '1');
    } finally {
      await store.close();
    }
  });

  describe('atomic rewrite', () => {
    let dir: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'llm-bench-prom-'));
    });
    after(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    test('a reader reading while the file is rewritten many times only ever sees a whole version', async () => {
      const path = join(dir, 'llm-bench.prom');
      // Two versions of very different sizes (a torn write shows as a mix or a truncation).
      const big = Array.from({ length: 4000 }, (_, i) => `llm_bench_x{model="m${i}"} ${i}`).join('\n') + '\n';
      const small = 'llm_bench_x{model="only"} 1\n';
      await writeFile(path, small);
      let writing = true;
      const seen = { big: 0, small: 0, torn: 0 };
      const reader = (async () => {
        while (writing) {
          const text = await readFile(path, 'utf8');
          if (text === big) seen.big++;
          else if (text === small) seen.small++;
          else seen.torn++;
        }
      })();
      for (let i = 0; i < 300; i++) await writeFileAtomically(path, i % 2 ? small : big);
      writing = false;
      await reader;
      assert.equal(seen.torn, 0, JSON.stringify(seen));
      assert.ok(seen.big + seen.small > 0, 'the reader read');
      // No temporary files are left behind.
      assert.deepEqual(await readdir(dir), ['llm-bench.prom']);
    });

    test('the file is readable by other users (node_exporter) even under the unit\'s UMask=0077', async () => {
      const path = join(dir, 'mode.prom');
      const previous = process.umask(0o077);
      try {
        await writeFileAtomically(path, 'x 1\n');
      } finally {
        process.umask(previous);
      }
      assert.equal((await stat(path)).mode & 0o777, 0o644);
    });

    test('a directory that does not exist fails the write and leaves nothing behind', async () => {
      await assert.rejects(writeFileAtomically(join(dir, 'missing', 'x.prom'), 'x 1\n'), { code: 'ENOENT' });
    });

    test('writeSweepTextfile writes the parsed-back file at the given path', async () => {
      const path = join(dir, 'sweep.prom');
      await writeSweepTextfile(path, { results: RESULTS, summary: summarize(RESULTS, { models: 3, writeFailures: 0, durationMs: 1000 }), history: null, scenario: 'cloud-default-v1', finishedAt: FINISHED });
      const parsed = parsePrometheusTextFormat(await readFile(path, 'utf8'));
      assert.equal(sample(parsed, 'llm_bench_sweep_duration_seconds', {}), '1');
    });
  });
});
