// What the sweeps recorded of themselves (bench_sweeps, SPEC 18), summed up for the operator:
// the runner's own added delay from each sweep's loopback calibration, and each lane host's
// connection timings, with the hosts whose set-up stood out. Read by `runs -- sweeps` and by
// the health mail's Runner section.
import type { BenchSweepDoc } from '../store/documents.ts';
import { medianOf } from '../store/kpis.ts';
import { csv, fixed, textTable, type OutputFormat } from './format.ts';

/**
 * A probe's set-up (connect + TLS) stands out when it took more than OUTLIER_FACTOR times its
 * host's median over the window and OUTLIER_FLOOR_MS more than it: a handshake that is three
 * times slower than usual and slower by a tenth of a second is something a TTFT of that sweep
 * carries; jitter of a few milliseconds on a 20 ms set-up is not.
 */
export const OUTLIER_FACTOR = 3;
export const OUTLIER_FLOOR_MS = 100;

export interface LaneSummary {
  provider: string;
  origin: string;
  probes: number;
  /** Probes that stopped short (no such host, refused, timed out, …). */
  failures: number;
  last_error: string | null;
  /** Medians over the window's probes, in ms; null where none had the figure. */
  dns_ms: number | null;
  connect_ms: number | null;
  tls_ms: number | null;
  first_byte_ms: number | null;
  /** Probes whose connect + TLS stood out (see OUTLIER_FACTOR), and the slowest set-up seen. */
  outliers: number;
  worst_setup_ms: number | null;
  worst_at: Date | null;
}

export interface RunnerSummary {
  sweeps: number;
  /** Sweeps whose calibration ran, and those whose calibration failed (its error kept). */
  calibrated: number;
  calibration_failures: number;
  last_calibration_error: string | null;
  /** The runner's own share of a TTFT (measured − true), ms: median and worst over the sweeps. */
  ttft_added_ms_p50: number | null;
  ttft_added_ms_max: number | null;
  /** Where the worst was: when and on which runner and host. */
  worst: { started_at: Date; runner: string; host: string } | null;
  /** Decode speed error of the calibration stream, %: median and the largest in size (signed). */
  decode_error_pct_p50: number | null;
  decode_error_pct_worst: number | null;
  /** The largest delay of one chunk between its write and its reading, ms. */
  chunk_delay_ms_max: number | null;
  lanes: LaneSummary[];
}

const ms = (s: number | null | undefined): number | null => (s === null || s === undefined ? null : s * 1000);
const known = (values: Array<number | null>): number[] => values.filter((v): v is number => v !== null);

/** Sums up the sweeps (any order). */
export function summarizeSweeps(sweeps: BenchSweepDoc[]): RunnerSummary {
  const ran = sweeps.filter((s) => s.calibration && s.calibration.error === null);
  const failed = sweeps.filter((s) => s.calibration && s.calibration.error !== null).sort((a, b) => b.started_at.getTime() - a.started_at.getTime());
  const added = ran.flatMap((s) => (s.calibration!.ttft_added_s === null ? [] : [{ s, v: s.calibration!.ttft_added_s * 1000 }]));
  const worst = added.reduce<(typeof added)[number] | null>((a, b) => (a === null || b.v > a.v ? b : a), null);
  const decode = known(ran.map((s) => s.calibration!.decode_error_pct));
  const worstDecode = decode.reduce<number | null>((a, b) => (a === null || Math.abs(b) > Math.abs(a) ? b : a), null);
  const delays = known(ran.map((s) => ms(s.calibration!.chunk_delay_max_s)));
  return {
    sweeps: sweeps.length,
    calibrated: ran.length,
    calibration_failures: failed.length,
    last_calibration_error: failed[0]?.calibration?.error ?? null,
    ttft_added_ms_p50: medianOf(added.map((a) => a.v)),
    ttft_added_ms_max: worst?.v ?? null,
    worst: worst ? { started_at: worst.s.started_at, runner: worst.s.runner, host: worst.s.host } : null,
    decode_error_pct_p50: medianOf(decode),
    decode_error_pct_worst: worstDecode,
    chunk_delay_ms_max: delays.length ? Math.max(...delays) : null,
    lanes: summarizeLanes(sweeps),
  };
}

function summarizeLanes(sweeps: BenchSweepDoc[]): LaneSummary[] {
  const byOrigin = new Map<string, Array<{ at: Date; c: BenchSweepDoc['connections'][number] }>>();
  for (const s of sweeps) for (const c of s.connections ?? []) (byOrigin.get(c.origin) ?? byOrigin.set(c.origin, []).get(c.origin)!).push({ at: s.started_at, c });
  return [...byOrigin.entries()]
    .map(([origin, probes]): LaneSummary => {
      const failures = probes.filter((p) => p.c.error !== null).sort((a, b) => b.at.getTime() - a.at.getTime());
      const setup = probes.flatMap((p) => (p.c.connect_s === null ? [] : [{ at: p.at, v: (p.c.connect_s + (p.c.tls_s ?? 0)) * 1000 }]));
      const median = medianOf(setup.map((p) => p.v));
      const outliers = median === null ? [] : setup.filter((p) => p.v > OUTLIER_FACTOR * median && p.v > median + OUTLIER_FLOOR_MS);
      const slowest = setup.reduce<(typeof setup)[number] | null>((a, b) => (a === null || b.v > a.v ? b : a), null);
      return {
        provider: probes[0]!.c.provider,
        origin,
        probes: probes.length,
        failures: failures.length,
        last_error: failures[0]?.c.error ?? null,
        dns_ms: medianOf(known(probes.map((p) => ms(p.c.dns_s)))),
        connect_ms: medianOf(known(probes.map((p) => ms(p.c.connect_s)))),
        tls_ms: medianOf(known(probes.map((p) => ms(p.c.tls_s)))),
        first_byte_ms: medianOf(known(probes.map((p) => ms(p.c.first_byte_s)))),
        outliers: outliers.length,
        worst_setup_ms: slowest?.v ?? null,
        worst_at: slowest?.at ?? null,
      };
    })
    .sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : a.origin < b.origin ? -1 : 1));
}

/** A lane host the health mail names: a probe failed or a set-up stood out. */
export function stoodOut(l: LaneSummary): boolean {
  return l.failures > 0 || l.outliers > 0;
}

const signed = (v: number, digits: number) => `${v >= 0 ? '+' : ''}${v.toFixed(digits)}`;
const minute = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')}Z`;

/** The health mail's Runner section, as lines; none when no sweep recorded itself. */
export function runnerLines(r: RunnerSummary): string[] {
  if (r.sweeps === 0) return [];
  const lines: string[] = [];
  if (r.calibrated > 0) {
    const where = r.worst ? ` (sweep of ${minute(r.worst.started_at)} on ${r.worst.runner}, ${r.worst.host})` : '';
    lines.push(
      `Added by the runner to a TTFT (loopback calibration, ${r.calibrated} of ${r.sweeps} sweeps): ${signed(r.ttft_added_ms_p50!, 2)} ms median, ${signed(r.ttft_added_ms_max!, 2)} ms worst${where}; ` +
        `decode speed error ${r.decode_error_pct_p50 === null ? '-' : `${signed(r.decode_error_pct_p50, 2)} %`} median, ${r.decode_error_pct_worst === null ? '-' : `${signed(r.decode_error_pct_worst, 2)} %`} worst; ` +
        `one chunk read at most ${fixed(r.chunk_delay_ms_max, 2)} ms after it was sent`,
    );
  } else {
    lines.push(`No sweep of the ${r.sweeps} ran a calibration stream (a sweep of the mock alone runs none)`);
  }
  if (r.calibration_failures > 0) lines.push(`The calibration failed in ${r.calibration_failures} sweeps (last: ${r.last_calibration_error})`);
  const out = r.lanes.filter(stoodOut);
  for (const l of out) {
    const parts: string[] = [];
    if (l.outliers > 0) parts.push(`connect + TLS ${fixed(l.worst_setup_ms, 0)} ms at worst (${minute(l.worst_at!)}) against ${fixed(medianSetup(l), 0)} ms median, ${l.outliers} of ${l.probes} probes slow`);
    if (l.failures > 0) parts.push(`probe failed in ${l.failures} of ${l.probes} sweeps (last: ${l.last_error})`);
    lines.push(`${l.provider} ${l.origin}: ${parts.join('; ')}`);
  }
  if (r.lanes.length > 0 && out.length === 0) {
    lines.push(`Connection set-up (connect + TLS, median): ${r.lanes.map((l) => `${l.provider} ${fixed(medianSetup(l), 0)} ms`).join(', ')}; none stood out`);
  }
  return lines;
}

/** The median connect plus the median TLS (TLS absent on plain http). */
function medianSetup(l: LaneSummary): number | null {
  return l.connect_ms === null ? null : l.connect_ms + (l.tls_ms ?? 0);
}

const SWEEP_HEADER = ['started', 'runner', 'host', 'ttft_added_ms', 'decode_err_pct', 'chunk_delay_max_ms', 'lanes', 'slowest_setup_ms', 'slowest_lane', 'problems'];

/** `runs -- sweeps`: one line per sweep, newest first, then (table) the hosts over the window. */
export function formatSweeps(sweeps: BenchSweepDoc[], format: OutputFormat): string {
  if (format === 'json') return `${JSON.stringify(sweeps, null, 2)}\n`;
  const rows = sweeps.map((s) => {
    const c = s.calibration;
    const setups = (s.connections ?? []).flatMap((l) => (l.connect_s === null ? [] : [{ l, v: (l.connect_s + (l.tls_s ?? 0)) * 1000 }]));
    const slowest = setups.reduce<(typeof setups)[number] | null>((a, b) => (a === null || b.v > a.v ? b : a), null);
    const problems = [...(c?.error ? [`calibration: ${c.error}`] : []), ...(s.connections ?? []).filter((l) => l.error).map((l) => `${l.provider}: ${l.error}`)];
    return [
      s.started_at.toISOString(),
      s.runner,
      s.host,
      c?.ttft_added_s ?? null,
      c?.decode_error_pct ?? null,
      ms(c?.chunk_delay_max_s),
      (s.connections ?? []).length,
      slowest?.v ?? null,
      slowest?.l.provider ?? null,
      problems.join('; ') || null,
    ] as const;
  });
  // Microseconds are the finest figure a timer here gives: no float noise in the file.
  const us = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  if (format === 'csv') return csv(SWEEP_HEADER, rows.map((r) => [r[0], r[1], r[2], us(r[3] === null ? null : r[3] * 1000), us(r[4]), us(r[5]), r[6], us(r[7]), r[8], r[9]]));
  if (sweeps.length === 0) return 'No sweep recorded itself in this window.\n';
  const table = textTable(
    ['started (UTC)', 'runner', 'host', 'TTFT added ms', 'decode err %', 'chunk max ms', 'lanes', 'slowest set-up ms', 'problems'],
    rows.map((r) => [
      minute(new Date(r[0])),
      r[1],
      r[2],
      r[3] === null ? '-' : signed(r[3] * 1000, 2),
      r[4] === null ? '-' : signed(r[4], 2),
      fixed(r[5], 2),
      String(r[6]),
      r[7] === null ? '-' : `${r[7].toFixed(0)} (${r[8]})`,
      r[9] ?? '',
    ]),
    new Set([3, 4, 5, 6]),
  );
  const lanes = summarizeSweeps(sweeps).lanes;
  const hosts = textTable(
    ['provider', 'origin', 'probes', 'failed', 'DNS ms', 'connect ms', 'TLS ms', 'first byte ms', 'slow set-ups'],
    lanes.map((l) => [l.provider, l.origin, String(l.probes), String(l.failures), fixed(l.dns_ms, 1), fixed(l.connect_ms, 1), fixed(l.tls_ms, 1), fixed(l.first_byte_ms, 1), String(l.outliers)]),
    new Set([2, 3, 4, 5, 6, 7, 8]),
  );
  return `${table}\n\nHosts over these sweeps (medians):\n${lanes.length ? hosts : 'none probed'}\n`;
}
