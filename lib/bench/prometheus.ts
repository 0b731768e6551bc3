// The sweep's figures for Prometheus (SPEC 17, PROM_TEXTFILE): a file in the text exposition
// format for node_exporter's textfile collector, rewritten after each sweep. node_exporter
// reads the file whenever it is scraped, so it is written beside itself and renamed over the
// old one: a scrape sees the old file or the new one, never half of one.
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { ErrorDoc, MetricDoc } from '../store/documents.ts';
import type { Store } from '../store/store.ts';
import type { ModelResult, SweepSummary } from './sweep.ts';

/** Rows of each model read back to find its latest of one scenario among others. */
const HISTORY_ROWS = 50;

type LastMetric = Pick<MetricDoc, 'run_ts' | 'time_to_first_token' | 'tokens_per_second' | 'decode_tokens_per_second' | 'cost_usd'>;

/** The latest state of one (provider, model, scenario). */
export interface ModelSeries {
  provider: string;
  model: string;
  /** The benchmark profile (scenario) id. */
  scenario: string;
  /** The latest successful row, or null when none is known. */
  lastMetric: LastMetric | null;
  /** When the latest failed call was recorded, or null. */
  lastErrorAt: Date | null;
}

export interface SweepFigures {
  summary: SweepSummary;
  finishedAt: Date;
}

/** Where earlier results are read (the store); null for a remote runner, which knows only this sweep. */
export type History = Pick<Store, 'recentMetrics' | 'recentErrors'> | null;

/**
 * One series per (provider, model, scenario) the sweep was given, fresh and skipped ones too:
 * the latest row of each kind, from this sweep's results and the store, whichever is newer.
 * @throws what the store throws.
 */
export async function collectSeries(results: ModelResult[], history: History, defaultScenario: string): Promise<ModelSeries[]> {
  const series = new Map<string, ModelSeries>();
  for (const r of results) {
    const scenario = r.metric?.benchmark_profile_id ?? r.error?.benchmark_profile_id ?? defaultScenario;
    const key = JSON.stringify([r.provider, r.modelId, scenario]);
    const s = series.get(key) ?? { provider: r.provider, model: r.modelId, scenario, lastMetric: null, lastErrorAt: null };
    series.set(key, s);
    // A validation failure carries a metric but was recorded as an error: only the error counts.
    if (r.outcome === 'ok' && r.metric) s.lastMetric = newerMetric(s.lastMetric, r.metric);
    // An aborted call (the operator stopped the sweep) says nothing about the provider (SPEC 18).
    if (r.outcome === 'failed' && r.error && r.error.error_kind !== 'aborted') s.lastErrorAt = newerDate(s.lastErrorAt, r.error.ts);
  }
  if (history) {
    for (const s of series.values()) {
      const ofScenario = <T extends MetricDoc | ErrorDoc>(rows: T[]) => rows.find((row) => row.benchmark_profile_id === s.scenario) ?? null;
      const metric = ofScenario(await history.recentMetrics(s.provider, s.model, HISTORY_ROWS));
      const error = ofScenario((await history.recentErrors(s.provider, s.model, HISTORY_ROWS)).filter((e) => e.error_kind !== 'aborted'));
      if (metric) s.lastMetric = newerMetric(s.lastMetric, metric);
      if (error) s.lastErrorAt = newerDate(s.lastErrorAt, error.ts);
    }
  }
  return [...series.values()].sort((a, b) => cmp(a.provider, b.provider) || cmp(a.model, b.model) || cmp(a.scenario, b.scenario));
}

interface Family {
  name: string;
  help: string;
  samples: Array<{ labels: Record<string, string>; value: number | null | undefined }>;
}

/**
 * The textfile: per (provider, model, scenario) the latest TTFT, tokens/s, decode speed,
 * success, last success time and cost; per sweep its duration, counts and end time. All
 * gauges (a value each sweep replaces, never a running count). A value that is unknown is
 * left out rather than written as 0.
 */
export function renderTextfile(series: ModelSeries[], sweep: SweepFigures): string {
  const labels = (s: ModelSeries) => ({ provider: s.provider, model: s.model, scenario: s.scenario });
  const perModel = (name: string, help: string, value: (s: ModelSeries) => number | null | undefined): Family => ({
    name,
    help,
    samples: series.map((s) => ({ labels: labels(s), value: value(s) })),
  });
  const m = sweep.summary;
  const families: Family[] = [
    perModel('llm_bench_time_to_first_token_seconds', 'Seconds to the first visible token in the latest successful call.', (s) => s.lastMetric?.time_to_first_token),
    perModel('llm_bench_output_tokens_per_second', 'Output tokens per second of the latest successful call, request to end of stream.', (s) => s.lastMetric?.tokens_per_second),
    perModel('llm_bench_decode_tokens_per_second', 'Output tokens per second once generation started, in the latest successful call.', (s) => s.lastMetric?.decode_tokens_per_second),
    perModel('llm_bench_last_call_success', '1 when the latest call succeeded, 0 when it failed.', (s) =>
      s.lastMetric || s.lastErrorAt ? (s.lastMetric && (!s.lastErrorAt || s.lastMetric.run_ts >= s.lastErrorAt) ? 1 : 0) : null,
    ),
    perModel('llm_bench_last_success_timestamp_seconds', 'Unix time the latest successful call started.', (s) => (s.lastMetric ? s.lastMetric.run_ts.getTime() / 1000 : null)),
    perModel('llm_bench_last_call_cost_usd', 'Cost in US dollars of the latest successful call, at the model price.', (s) => s.lastMetric?.cost_usd),
    { name: 'llm_bench_sweep_duration_seconds', help: 'Duration of the latest sweep.', samples: [{ labels: {}, value: m.durationMs / 1000 }] },
    { name: 'llm_bench_sweep_models_due', help: 'Models the latest sweep found due (given, less the fresh ones).', samples: [{ labels: {}, value: m.models - m.skippedFresh }] },
    {
      name: 'llm_bench_sweep_models',
      help: 'Models of the latest sweep by outcome.',
      samples: (
        [
          ['ok', m.ok],
          ['failed', m.failed],
          ['skipped_fresh', m.skippedFresh],
          ['aborted', m.aborted],
          ['skipped_deadline', m.skippedDeadline],
          ['skipped_stopped', m.skippedStopped],
          ['skipped_budget', m.skippedBudget],
          // A prompt and answer longer than the model's context window (SPEC 19).
          ['skipped_context', m.skippedContext],
        ] as const
      ).map(([outcome, value]) => ({ labels: { outcome }, value })),
    },
    { name: 'llm_bench_sweep_end_timestamp_seconds', help: 'Unix time the latest sweep ended.', samples: [{ labels: {}, value: sweep.finishedAt.getTime() / 1000 }] },
  ];
  const lines: string[] = [];
  for (const f of families) {
    const samples = f.samples.filter((s): s is { labels: Record<string, string>; value: number } => typeof s.value === 'number' && Number.isFinite(s.value));
    if (samples.length === 0) continue;
    lines.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} gauge`);
    for (const s of samples) lines.push(`${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}

function formatLabels(labels: Record<string, string>): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

/** Label values escape backslash, double quote and line feed (the exposition format's rules). */
export function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(v: number): string {
  // Shortest round-trip form; exponents ("1e-7") are valid in the format.
  return String(v);
}

/**
 * Replaces the file at path with text: written to a temporary file in the same directory
 * (a rename is atomic only within one file system), flushed, then renamed over it. The
 * temporary name does not end in .prom, so node_exporter never reads it. The file is 0644.
 * @throws the file system's error (no such directory, no permission); no temporary file is left.
 */
export async function writeFileAtomically(path: string, text: string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const file = await open(tmp, 'wx', 0o644);
    try {
      // node_exporter runs as another user, and the bench unit's UMask=0077 would make the
      // file 0600: set the mode itself (fchmod ignores the umask). It holds no secret.
      await file.chmod(0o644);
      await file.writeFile(text, 'utf8');
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/**
 * Writes the sweep's textfile (bench-once, after each sweep when PROM_TEXTFILE is set).
 * @throws what the store or the file system throws.
 */
export async function writeSweepTextfile(
  path: string,
  o: { results: ModelResult[]; summary: SweepSummary; history: History; scenario: string; finishedAt: Date },
): Promise<void> {
  const series = await collectSeries(o.results, o.history, o.scenario);
  await writeFileAtomically(path, renderTextfile(series, { summary: o.summary, finishedAt: o.finishedAt }));
}

function newerMetric(a: LastMetric | null, b: LastMetric): LastMetric {
  return a && a.run_ts >= b.run_ts ? a : b;
}

function newerDate(a: Date | null, b: Date): Date {
  return a && a >= b ? a : b;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
