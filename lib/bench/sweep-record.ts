// A sweep's record of itself (SPEC 18), kept in bench_sweeps: the runner's own added delay from
// the loopback calibration stream (calibration.ts), and each lane's connection timings from its
// warm-up (connection-probe.ts). Nothing here can fail the sweep: a figure that cannot be taken
// is null with its reason, and a record that cannot be written is a journal line.
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Config } from '../config.ts';
import { classifyError } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { BenchSweepDoc, LaneConnection, SweepCalibration } from '../store/documents.ts';
import { prepareCalibration, type Calibration } from './calibration.ts';
import { laneOrigin, probeLanes } from './connection-probe.ts';
import type { ProviderStream, WarmRequest } from './provider-stream.ts';

export interface SweepRecorder {
  /** Notes the host a warmed lane calls (call after its warm-up). */
  laneWarmed(stream: ProviderStream, req: WarmRequest): void;
  /** The calibration's own warm-up (server, client, one rehearsal), run beside the lanes'. */
  warm: Promise<void>;
  /** Times the way to every noted host; run after the warm-ups, before the first measured call. */
  probe(): Promise<void>;
  /** Starts the calibration stream, beside the lanes' first calls. */
  lanesStarted(): void;
  /** Waits for the calibration and writes the record through `insert`; the record, or null when none was written. */
  finish(insert: ((doc: BenchSweepDoc) => Promise<void>) | undefined, o: { startedAt: Date; finishedAt: Date }): Promise<BenchSweepDoc | null>;
}

/**
 * The recorder of one sweep. `calibrate`: whether to run the calibration (a mock-only sweep
 * measures nothing a calibration could speak for, and would load the chat SDK for it alone);
 * `probe`: whether to time the lanes' hosts.
 */
export function sweepRecorder(o: { config: Config; signal: AbortSignal; logger: Logger; calibrate: boolean; probe: boolean }): SweepRecorder {
  const targets: Array<{ provider: string; origin: string }> = [];
  let connections: LaneConnection[] = [];
  const calibration: Promise<Calibration> | null = o.calibrate ? prepareCalibration({ config: o.config, signal: o.signal }) : null;
  let run: Promise<SweepCalibration> | null = null;
  return {
    laneWarmed(stream, req) {
      if (!o.probe) return;
      const origin = laneOrigin(stream, req);
      if (origin) targets.push({ provider: req.provider, origin });
    },
    warm: calibration ? calibration.then(() => {}) : Promise.resolve(),
    async probe() {
      // In provider order, whichever lane finished its warm-up first.
      targets.sort((a, b) => (a.provider < b.provider ? -1 : a.provider > b.provider ? 1 : a.origin < b.origin ? -1 : 1));
      connections = await probeLanes(targets, { signal: o.signal });
    },
    lanesStarted() {
      run = calibration ? calibration.then((c) => c.run()) : null;
    },
    async finish(insert, times) {
      const figures = run ? await run : null;
      await (await calibration)?.close();
      const doc: BenchSweepDoc = {
        sweep_id: randomUUID(),
        started_at: times.startedAt,
        finished_at: times.finishedAt,
        runner: o.config.bench.runner,
        host: hostname(),
        calibration: figures,
        connections,
      };
      if (!insert) return null;
      try {
        await insert(doc);
        return doc;
      } catch (err) {
        o.logger.warn(`Cannot record the sweep's calibration and connection timings: ${classifyError(err).detail}`);
        return null;
      }
    },
  };
}
