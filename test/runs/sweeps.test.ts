// What the sweeps recorded of themselves, summed up (lib/runs/sweeps.ts, SPEC 18).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { calibrationFailure } from '../../lib/bench/calibration.ts';
import { formatSweeps, runnerLines, summarizeSweeps } from '../../lib/runs/sweeps.ts';
import type { BenchSweepDoc, LaneConnection, SweepCalibration } from '../../lib/store/documents.ts';

const T0 = Date.parse('2026-11-27T00:00:00.000Z');
const HALF_HOUR = 1_800_000;

function calibration(addedMs: number, decodePct: number, chunkMaxMs = addedMs): SweepCalibration {
  return {
    ttft_true_s: 0.1,
    ttft_measured_s: 0.1 + addedMs / 1000,
    ttft_added_s: addedMs / 1000,
    decode_true_tps: 100,
    decode_measured_tps: 100 * (1 + decodePct / 100),
    decode_error_pct: decodePct,
    chunk_delay_p50_s: 0.0002,
    chunk_delay_max_s: chunkMaxMs / 1000,
    error: null,
  };
}
const lane = (provider: string, connectMs: number, tlsMs: number | null, error: string | null = null): LaneConnection => ({
  provider,
  origin: `https://${provider}.example`,
  dns_s: 0.004,
  connect_s: error ? null : connectMs / 1000,
  tls_s: error || tlsMs === null ? null : tlsMs / 1000,
  first_byte_s: error ? null : 0.05,
  error,
});
function sweep(i: number, cal: SweepCalibration | null, connections: LaneConnection[]): BenchSweepDoc {
  return { sweep_id: `s${i}`, started_at: new Date(T0 + i * HALF_HOUR), finished_at: new Date(T0 + i * HALF_HOUR + 90_000), runner: 'clifford', host: 'clifford.example', calibration: cal, connections };
}

const FAILED = calibrationFailure('the calibration did not start');

/** Ten sweeps: steady hosts, but groq's set-up took 480 ms in sweep 7 and bedrock's probe failed in sweep 4. */
function week(): BenchSweepDoc[] {
  return Array.from({ length: 10 }, (_, i) =>
    sweep(i, i === 3 ? FAILED : calibration(0.2 + i * 0.1, i === 5 ? -2.5 : 0.3), [
      lane('groq', i === 7 ? 400 : 20, i === 7 ? 80 : 30),
      i === 4 ? lane('bedrock', 0, 0, 'getaddrinfo ENOTFOUND bedrock.example') : lane('bedrock', 25, 35),
    ]),
  );
}

describe('sweep summaries (SPEC 18)', () => {
  test('the runner: median and worst added TTFT with where it happened, the decode error of largest size, failed calibrations apart', () => {
    const r = summarizeSweeps(week());
    assert.equal(r.sweeps, 10);
    assert.equal(r.calibrated, 9);
    assert.equal(r.calibration_failures, 1);
    assert.equal(r.last_calibration_error, 'the calibration did not start');
    // Added 0.2 + i·0.1 ms for i = 0..9 but 3: median of 0.2, 0.3, 0.4, 0.6, …, 1.1.
    assert.ok(Math.abs(r.ttft_added_ms_p50! - 0.7) < 1e-9, String(r.ttft_added_ms_p50));
    assert.ok(Math.abs(r.ttft_added_ms_max! - 1.1) < 1e-9);
    assert.deepEqual(r.worst, { started_at: new Date(T0 + 9 * HALF_HOUR), runner: 'clifford', host: 'clifford.example' });
    assert.equal(r.decode_error_pct_worst, -2.5);
    assert.equal(r.decode_error_pct_p50, 0.3);
  });

  test('hosts: medians per phase, a set-up three times the median and 100 ms slower stands out, a failed probe is counted with its error', () => {
    const { lanes } = summarizeSweeps(week());
    const groq = lanes.find((l) => l.provider === 'groq')!;
    assert.deepEqual([groq.probes, groq.failures, groq.connect_ms, groq.tls_ms, groq.outliers, Math.round(groq.worst_setup_ms!)], [10, 0, 20, 30, 1, 480]);
    assert.deepEqual(groq.worst_at, new Date(T0 + 7 * HALF_HOUR));
    const bedrock = lanes.find((l) => l.provider === 'bedrock')!;
    assert.deepEqual([bedrock.probes, bedrock.failures, bedrock.outliers, bedrock.last_error], [10, 1, 0, 'getaddrinfo ENOTFOUND bedrock.example']);
    // Jitter of a few ms on a small set-up is not an outlier, however many times the median.
    const jitter = summarizeSweeps(Array.from({ length: 5 }, (_, i) => sweep(i, null, [lane('groq', i === 2 ? 9 : 2, null)])));
    assert.equal(jitter.lanes[0]!.outliers, 0);
    assert.equal(jitter.lanes[0]!.tls_ms, null);
  });

  test("the health mail's lines name the worst sweep, the failed calibrations and only the hosts that stood out", () => {
    const lines = runnerLines(summarizeSweeps(week()));
    assert.equal(lines.length, 4, lines.join('\n'));
    assert.match(lines[0]!, /^Added by the runner to a TTFT \(loopback calibration, 9 of 10 sweeps\): \+0\.70 ms median, \+1\.10 ms worst \(sweep of 2026-11-27 04:30Z on clifford, clifford\.example\); decode speed error \+0\.30 % median, -2\.50 % worst/);
    assert.equal(lines[1], 'The calibration failed in 1 sweeps (last: the calibration did not start)');
    assert.equal(lines[2], 'bedrock https://bedrock.example: probe failed in 1 of 10 sweeps (last: getaddrinfo ENOTFOUND bedrock.example)');
    assert.equal(lines[3], 'groq https://groq.example: connect + TLS 480 ms at worst (2026-11-27 03:30Z) against 50 ms median, 1 of 10 probes slow');
    const calm = runnerLines(summarizeSweeps([sweep(0, calibration(0.3, 0.1), [lane('groq', 20, 30)])]));
    assert.equal(calm[1], 'Connection set-up (connect + TLS, median): groq 50 ms; none stood out');
    assert.deepEqual(runnerLines(summarizeSweeps([])), []);
    assert.match(runnerLines(summarizeSweeps([sweep(0, null, [])]))[0]!, /No sweep of the 1 ran a calibration stream/);
  });

  test('runs -- sweeps: a line per sweep and the hosts as a table, CSV with empty unknowns, JSON whole', () => {
    const sweeps = week().reverse();
    const table = formatSweeps(sweeps, 'table');
    const first = table.split('\n')[2]!;
    assert.match(first, /^2026-11-27 04:30Z\s+clifford\s+clifford\.example\s+\+1\.10\s+\+0\.30\s+1\.10\s+2\s+60 \(bedrock\)/);
    assert.match(table, /calibration: the calibration did not start/);
    assert.match(table, /bedrock: getaddrinfo ENOTFOUND/);
    assert.match(table, /Hosts over these sweeps \(medians\):\nprovider\s+origin/);
    const csvLines = formatSweeps(sweeps, 'csv').trimEnd().split('\r\n');
    assert.equal(csvLines[0], 'started,runner,host,ttft_added_ms,decode_err_pct,chunk_delay_max_ms,lanes,slowest_setup_ms,slowest_lane,problems');
    assert.equal(csvLines.length, 11);
    assert.match(csvLines.find((l) => l.includes('did not start'))!, /^2026-11-27T01:30:00\.000Z,clifford,clifford\.example,,,,2,60,bedrock,calibration: the calibration did not start$/);
    assert.equal(JSON.parse(formatSweeps(sweeps, 'json')).length, 10);
    assert.equal(formatSweeps([], 'table'), 'No sweep recorded itself in this window.\n');
  });
});
