// The health mail's Runner section (SPEC 18): the runner's own added delay over the window's
// sweeps and the lane hosts whose connection set-up stood out, read from bench_sweeps on both
// backends, in the text and the HTML mail.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ruleBasedAssessment } from '../../lib/health/assessment.ts';
import { renderHealthHtml, renderHealthText } from '../../lib/health/render.ts';
import { collectHealthReport } from '../../lib/health/report.ts';
import type { BenchSweepDoc } from '../../lib/store/documents.ts';
import { createMongoStore } from '../../lib/store/mongo/open.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import type { Store } from '../../lib/store/store.ts';
import { mingoCollections } from '../fakes/mingo-collection.ts';

const HOUR = 3_600_000;
// The test's now, on the hour (the mail prints times to the minute).
const NOW = new Date(Math.floor(Date.now() / HOUR) * HOUR);
/** A time as the mail prints it. */
const minute = (hoursBefore: number) => `${new Date(NOW.getTime() - hoursBefore * HOUR).toISOString().slice(0, 16).replace('T', ' ')}Z`;

function sweep(hoursAgo: number, addedMs: number, groqSetupMs: number): BenchSweepDoc {
  const started = new Date(NOW.getTime() - hoursAgo * HOUR);
  return {
    sweep_id: `sweep-${hoursAgo}`,
    started_at: started,
    finished_at: new Date(started.getTime() + 60_000),
    runner: 'clifford',
    host: 'clifford.example',
    calibration: {
      ttft_true_s: 0.1,
      ttft_measured_s: 0.1 + addedMs / 1000,
      ttft_added_s: addedMs / 1000,
      decode_true_tps: 100,
      decode_measured_tps: 99.5,
      decode_error_pct: -0.5,
      chunk_delay_p50_s: 0.0003,
      chunk_delay_max_s: addedMs / 1000,
      error: null,
    },
    connections: [
      { provider: 'groq', origin: 'https://api.groq.com', dns_s: 0.003, connect_s: (groqSetupMs * 0.4) / 1000, tls_s: (groqSetupMs * 0.6) / 1000, first_byte_s: 0.04, error: null },
    ],
  };
}

const BACKENDS: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(':memory:')],
  ['mongodb (mingo stand-in)', () => createMongoStore(mingoCollections(), { location: 'memory' })],
];

for (const [name, open] of BACKENDS) {
  describe(`health mail Runner section on ${name}`, () => {
    let store: Store;
    before(async () => {
      store = await open();
    });
    after(() => store.close());

    it("reads the window's sweeps only, says the added delay and names the host whose set-up stood out, in text and HTML", async () => {
      // Sweeps of the last day, one slow groq set-up among them; one older sweep outside the window with a worse delay.
      for (let h = 1; h <= 12; h++) await store.insertBenchSweep(sweep(h, h === 5 ? 2.5 : 0.4, h === 9 ? 650 : 50));
      await store.insertBenchSweep(sweep(30, 40, 50));
      const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
      assert.equal(report.runner?.sweeps, 12);
      assert.equal(report.runner?.ttft_added_ms_max, 2.5);
      const text = renderHealthText(report, ruleBasedAssessment(report, 'test'));
      const section = text.slice(text.indexOf('Runner'));
      assert.match(section, new RegExp(`Added by the runner to a TTFT \\(loopback calibration, 12 of 12 sweeps\\): \\+0\\.40 ms median, \\+2\\.50 ms worst \\(sweep of ${minute(5)} on clifford, clifford\\.example\\)`));
      assert.match(section, new RegExp(`groq https://api\\.groq\\.com: connect \\+ TLS 650 ms at worst \\(${minute(9)}\\) against 50 ms median, 1 of 12 probes slow`));
      const html = renderHealthHtml(report, ruleBasedAssessment(report, 'test'));
      assert.match(html, /Runner/);
      assert.match(html, /connect \+ TLS 650 ms at worst/);
    });
  });
}

describe('health mail without sweeps', () => {
  it('has no Runner section when no sweep recorded itself', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const report = await collectHealthReport(store, { now: NOW, sweepPeriodMinutes: 30 });
      assert.equal(report.runner?.sweeps, 0);
      assert.doesNotMatch(renderHealthText(report, ruleBasedAssessment(report, 'test')), /Runner/);
    } finally {
      await store.close();
    }
  });
});
