// BenchSweepsStore (SPEC 18): each sweep's calibration and lane connection timings.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BenchSweepDoc } from '../../../lib/store/documents.ts';
import { at, contractStore, day, type OpenStore } from './context.ts';

export function benchSweepsContract(name: string, open: OpenStore): void {
  describe(`${name} store contract: bench sweeps`, () => {
    const store = contractStore(open);

    test('sweeps read back whole (nulls, nested timings, dates), newest first, within the window only', async () => {
      const sweep = (id: string, iso: string): BenchSweepDoc => ({
        sweep_id: id,
        started_at: at(iso),
        finished_at: new Date(at(iso).getTime() + 95_000),
        runner: 'clifford',
        host: 'clifford.example',
        calibration: {
          ttft_true_s: 0.2012,
          ttft_measured_s: 0.2019,
          ttft_added_s: 0.0007,
          decode_true_tps: 100.4,
          decode_measured_tps: 100.1,
          decode_error_pct: -0.3,
          chunk_delay_p50_s: 0.0004,
          chunk_delay_max_s: 0.0031,
          error: null,
        },
        connections: [
          { provider: 'groq', origin: 'https://api.groq.com', dns_s: 0.012, connect_s: 0.021, tls_s: 0.034, first_byte_s: 0.08, error: null },
          { provider: 'bedrock', origin: 'https://bedrock-runtime.us-east-1.amazonaws.com', dns_s: null, connect_s: null, tls_s: null, first_byte_s: null, error: 'getaddrinfo ENOTFOUND' },
        ],
      });
      await store.insertBenchSweep(sweep('s1', '2026-11-20T09:00:00.000Z'));
      await store.insertBenchSweep({ ...sweep('s2', '2026-11-20T09:30:00.000Z'), calibration: null, connections: [] });
      await store.insertBenchSweep(sweep('s3', '2026-11-21T09:00:00.000Z'));
      const inDay = await store.benchSweeps({ since: day('2026-11-20'), until: day('2026-11-21') });
      assert.deepEqual(inDay, [{ ...sweep('s2', '2026-11-20T09:30:00.000Z'), calibration: null, connections: [] }, sweep('s1', '2026-11-20T09:00:00.000Z')]);
      assert.ok(inDay[1]!.started_at instanceof Date);
      assert.equal((await store.benchSweeps({ since: day('2026-11-20'), until: day('2026-11-22') }, 2)).length, 2);
    });
  });
}
