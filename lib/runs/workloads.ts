// Derived per model from the workload scenarios (SPEC 19), computed where they are read: TTFT
// at each input length, the seconds each 1,000 input tokens add (a Theil–Sen line through
// TTFT against input tokens), decode speed on long answers beside the 64-token figure, and the
// end-to-end time of a 500-token answer.
import { PUBLISHED_SCENARIO_ID, type MetricDoc } from '../store/documents.ts';
import { csv, fixed, textTable, type OutputFormat } from './format.ts';
import { medianOf as median } from '../store/kpis.ts';

/** Answers at least this long count as long for the decode speed (the 64-token figure's is the published scenario's). */
export const LONG_ANSWER_TOKENS = 256;
const ANSWER_TOKENS = 500;
/** Pairs of points a fit reads at most: Theil–Sen is quadratic, and a window of 30-minute sweeps has far fewer. */
const MAX_FIT_POINTS = 2000;

export interface LineFit {
  /** Seconds of TTFT per 1,000 input tokens. */
  slope_s_per_1k: number;
  /** TTFT of an empty prompt, in seconds (where the line meets zero input). */
  intercept_s: number;
  /** 1 − (squared residuals over squared deviations from the mean): 1 is a perfect line. */
  r2: number;
  /** Median absolute residual, in seconds. */
  median_abs_residual_s: number;
  points: number;
}

export interface ModelWorkload {
  provider: string;
  model_name: string;
  /** Median TTFT per requested input length, shortest first. */
  ttft_by_input: Array<{ input_tokens: number; runs: number; ttft_p50_s: number }>;
  /** null with fewer than two input lengths measured. */
  fit: LineFit | null;
  /** Median decode tokens/s of the published scenario's 64-token answers. */
  decode_64_p50: number | null;
  /** Median decode tokens/s of answers of LONG_ANSWER_TOKENS or more. */
  decode_long_p50: number | null;
  /** Published median TTFT + 500 / decode_long_p50 (else the 64-token decode), in seconds. */
  e2e_500_s: number | null;
}

/**
 * Theil–Sen: the median of the slopes between every pair of points with different x, and the
 * median of y − slope·x. One slow call (a cold start, a queue) moves it far less than least
 * squares. null when fewer than two distinct x.
 */
export function theilSen(points: Array<{ x: number; y: number }>): { slope: number; intercept: number } | null {
  const pts = points.slice(0, MAX_FIT_POINTS);
  const slopes: number[] = [];
  for (let i = 0; i < pts.length; i++) {
    for (let j = i + 1; j < pts.length; j++) {
      const dx = pts[j]!.x - pts[i]!.x;
      if (dx !== 0) slopes.push((pts[j]!.y - pts[i]!.y) / dx);
    }
  }
  const slope = median(slopes);
  if (slope === null) return null;
  return { slope, intercept: median(pts.map((p) => p.y - slope * p.x))! };
}

function fitTtft(rows: MetricDoc[]): LineFit | null {
  const points = rows
    .filter((r) => r.time_to_first_token !== null)
    .map((r) => ({ x: (r.input_tokens ?? r.requested_input_tokens!) / 1000, y: r.time_to_first_token! }));
  const line = theilSen(points);
  if (!line) return null;
  const residuals = points.map((p) => p.y - (line.intercept + line.slope * p.x));
  const mean = points.reduce((s, p) => s + p.y, 0) / points.length;
  const total = points.reduce((s, p) => s + (p.y - mean) ** 2, 0);
  const squared = residuals.reduce((s, r) => s + r ** 2, 0);
  return {
    slope_s_per_1k: line.slope,
    intercept_s: line.intercept,
    r2: total > 0 ? 1 - squared / total : 1,
    median_abs_residual_s: median(residuals.map(Math.abs))!,
    points: points.length,
  };
}

/** Per model, from its rows of every scenario in the window (published and probe). */
export function deriveWorkloads(rows: MetricDoc[]): ModelWorkload[] {
  const byModel = new Map<string, MetricDoc[]>();
  for (const r of rows) {
    const k = `${r.provider}\u0000${r.model_name}`;
    byModel.set(k, [...(byModel.get(k) ?? []), r]);
  }
  const out: ModelWorkload[] = [];
  for (const ms of byModel.values()) {
    // Parallel calls measure load, not the model's own speed.
    const single = ms.filter((r) => !r.parallel_group_id);
    const long = single.filter((r) => r.requested_input_tokens);
    const lengths = [...new Set(long.map((r) => r.requested_input_tokens!))].sort((a, b) => a - b);
    const ttftByInput = lengths.flatMap((n) => {
      const ttfts = long.filter((r) => r.requested_input_tokens === n && r.time_to_first_token !== null).map((r) => r.time_to_first_token!);
      return ttfts.length ? [{ input_tokens: n, runs: ttfts.length, ttft_p50_s: median(ttfts)! }] : [];
    });
    const published = single.filter((r) => r.benchmark_profile_id === PUBLISHED_SCENARIO_ID);
    const decodes = (xs: MetricDoc[]) => median(xs.map((r) => r.decode_tokens_per_second).filter((d): d is number => d !== null && d > 0));
    const decode64 = decodes(published);
    const decodeLong = decodes(single.filter((r) => r.output_tokens >= LONG_ANSWER_TOKENS));
    const ttft = median(published.map((r) => r.time_to_first_token).filter((t): t is number => t !== null));
    const decode = decodeLong ?? decode64;
    out.push({
      provider: ms[0]!.provider,
      model_name: ms[0]!.model_name,
      ttft_by_input: ttftByInput,
      fit: lengths.length >= 2 ? fitTtft(long) : null,
      decode_64_p50: decode64,
      decode_long_p50: decodeLong,
      e2e_500_s: ttft !== null && decode !== null ? ttft + ANSWER_TOKENS / decode : null,
    });
  }
  return out.sort((a, b) => a.provider.localeCompare(b.provider) || a.model_name.localeCompare(b.model_name));
}

export function formatWorkloads(models: ModelWorkload[], format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(models, null, 2)}\n`;
  const lengths = [...new Set(models.flatMap((m) => m.ttft_by_input.map((t) => t.input_tokens)))].sort((a, b) => a - b);
  const header = [
    'provider',
    'model',
    ...lengths.map((n) => `ttft_${n}_s`),
    's_per_1k_input',
    'fit_r2',
    'decode_64_tok_s',
    'decode_long_tok_s',
    'e2e_500_s',
  ];
  const cells = models.map((m) => [
    m.provider,
    m.model_name,
    ...lengths.map((n) => fixed(m.ttft_by_input.find((t) => t.input_tokens === n)?.ttft_p50_s, 3)),
    fixed(m.fit?.slope_s_per_1k, 4),
    fixed(m.fit?.r2, 2),
    fixed(m.decode_64_p50, 1),
    fixed(m.decode_long_p50, 1),
    fixed(m.e2e_500_s, 2),
  ]);
  if (format === 'csv') return csv(header, cells.map((r) => r.map((c) => (c === '-' ? null : c))));
  if (models.length === 0) return 'No workload rows in the window (enable one: npm run models -- scenario enable input-1k-v1)\n';
  return `${textTable(header, cells, new Set(header.map((_, i) => i).filter((i) => i >= 2)))}\n`;
}
