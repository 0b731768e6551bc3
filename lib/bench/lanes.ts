// Lanes (SPEC 8): providers run side by side; within a provider, `concurrency` calls at a time,
// so provider rate limits hold. Each provider's adapter is loaded once, and only when the
// provider has a due model.
import type { ProviderName } from '../config.ts';
import { collectWarmUpGarbage } from './clock.ts';
import type { ProviderStream } from './provider-stream.ts';

export interface LaneOptions<M extends { provider: ProviderName }> {
  /** Calls at a time within one provider (at least 1). */
  concurrency: number;
  loadProvider: (name: ProviderName) => Promise<ProviderStream>;
  /** Once aborted, models not yet started are handed to `skip` instead of `run`. */
  signal: AbortSignal;
  run: (model: M, stream: Promise<ProviderStream>) => Promise<void>;
  skip: (model: M) => void;
  /**
   * Warms a model's provider (SDK loaded, client built, connection open). Every lane is warmed
   * before any lane's first measured call, so no warm-up runs beside a call being timed.
   */
  warm?: (model: M, stream: Promise<ProviderStream>) => Promise<void>;
  /** Another lane's warm-up (the TinyFish lane's), finished with these before the collection and the settle. */
  alsoWarm?: Promise<void>;
  /**
   * Runs once every warm-up is done and before the collection and the settle: work that must
   * not share the loop with the warm-ups' loading (the connection probes time the network).
   */
  afterWarm?: () => Promise<void>;
  /** Called once every lane is warm and settled, before the first measured call (another lane may start then). */
  onWarmed?: () => void;
}

const SETTLE_MS = 50;

/** Groups models by provider, keeping their order within each provider. */
export function groupByProvider<M extends { provider: ProviderName }>(models: M[]): Map<ProviderName, M[]> {
  const lanes = new Map<ProviderName, M[]>();
  for (const m of models) {
    const lane = lanes.get(m.provider);
    if (lane) lane.push(m);
    else lanes.set(m.provider, [m]);
  }
  return lanes;
}

/** Runs every model through its provider's lane; resolves when all lanes are done. Never rejects for a model. */
export async function runLanes<M extends { provider: ProviderName }>(models: M[], o: LaneOptions<M>): Promise<void> {
  const concurrency = Math.max(1, o.concurrency);
  const lanes = [...groupByProvider(models)].map(([provider, lane]) => {
    const stream = o.loadProvider(provider);
    stream.catch(() => {}); // Each model records the load failure itself.
    return { lane, stream };
  });
  // Adapters warm once per host, so warming every model costs one warm-up per lane and region.
  const warm = o.warm;
  if (warm || o.alsoWarm) {
    await Promise.all([...lanes.flatMap(({ lane, stream }) => lane.map((m) => warm?.(m, stream).catch(() => {}))), o.alsoWarm?.catch(() => {})]);
    await o.afterWarm?.().catch(() => {});
    // The warm-up's garbage collected and the runtime's deferred work (background compilation)
    // done before the first clock starts: measured on loopback, the first call of a lane read
    // 3–15 ms late without these, within ~1 ms of the later calls with them.
    collectWarmUpGarbage();
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  }
  o.onWarmed?.();
  await Promise.all(
    lanes.map(async ({ lane, stream }) => {
      let next = 0;
      const worker = async () => {
        while (next < lane.length) {
          const model = lane[next++]!;
          if (o.signal.aborted) o.skip(model);
          else await o.run(model, stream);
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, lane.length) }, worker));
    }),
  );
}
