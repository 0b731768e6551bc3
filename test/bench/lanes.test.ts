import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ProviderName } from '../../lib/config.ts';
import { groupByProvider, runLanes } from '../../lib/bench/lanes.ts';
import type { ProviderStream } from '../../lib/bench/provider-stream.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));
const noStream: ProviderStream = async function* () {};
type M = { provider: ProviderName; id: string };
const models: M[] = [
  { provider: 'groq', id: 'g1' },
  { provider: 'openai', id: 'o1' },
  { provider: 'groq', id: 'g2' },
  { provider: 'groq', id: 'g3' },
  { provider: 'openai', id: 'o2' },
];

describe('lanes', () => {
  test('groups by provider, keeping the order within each', () => {
    const lanes = groupByProvider(models);
    assert.deepEqual([...lanes.keys()], ['groq', 'openai']);
    assert.deepEqual(lanes.get('groq')!.map((x) => x.id), ['g1', 'g2', 'g3']);
  });

  test('providers run side by side, at most `concurrency` calls at a time within one, each adapter loaded once', async () => {
    const loads: string[] = [];
    const running = new Map<string, number>();
    const peak = new Map<string, number>();
    const order: string[] = [];
    await runLanes(models, {
      concurrency: 2,
      signal: new AbortController().signal,
      loadProvider: async (p) => (loads.push(p), noStream),
      skip: () => assert.fail('nothing is skipped'),
      run: async (model) => {
        const n = (running.get(model.provider) ?? 0) + 1;
        running.set(model.provider, n);
        peak.set(model.provider, Math.max(peak.get(model.provider) ?? 0, n));
        order.push(`start ${model.id}`);
        await tick();
        await tick();
        running.set(model.provider, running.get(model.provider)! - 1);
      },
    });
    assert.deepEqual(loads.sort(), ['groq', 'openai']);
    assert.equal(peak.get('groq'), 2);
    assert.equal(peak.get('openai'), 2);
    // Both lanes started before either finished: they run side by side.
    assert.deepEqual(order.slice(0, 4).sort(), ['start g1', 'start g2', 'start o1', 'start o2']);
  });

  test('once the signal aborts, the models not yet started are skipped, not run', async () => {
    const ac = new AbortController();
    const ran: string[] = [];
    const skipped: string[] = [];
    await runLanes(models, {
      concurrency: 1,
      signal: ac.signal,
      loadProvider: async () => noStream,
      skip: (model) => skipped.push(model.id),
      run: async (model) => {
        ran.push(model.id);
        await tick();
        if (model.id === 'g1') ac.abort();
      },
    });
    assert.deepEqual(ran.sort(), ['g1', 'o1']);
    assert.deepEqual(skipped.sort(), ['g2', 'g3', 'o2']);
  });

  test('an adapter that cannot load is handed to every model of its lane, and no rejection escapes', async () => {
    const seen: string[] = [];
    await runLanes(models.filter((x) => x.provider === 'groq'), {
      concurrency: 1,
      signal: new AbortController().signal,
      loadProvider: async () => {
        throw new Error('cannot load');
      },
      skip: () => assert.fail('nothing is skipped'),
      run: async (model, stream) => {
        await assert.rejects(stream, /cannot load/);
        seen.push(model.id);
      },
    });
    assert.deepEqual(seen, ['g1', 'g2', 'g3']);
  });

  test('every lane is warmed before any lane runs its first call, and a failed warm-up does not stop the lane', async () => {
    const log: string[] = [];
    await runLanes(models, {
      concurrency: 1,
      signal: new AbortController().signal,
      loadProvider: async () => noStream,
      skip: () => assert.fail('nothing is skipped'),
      warm: async (model) => {
        await tick();
        log.push(`warm ${model.id}`);
        if (model.id === 'o1') throw new Error('no connection');
      },
      run: async (model) => void log.push(`run ${model.id}`),
    });
    const firstRun = log.findIndex((l) => l.startsWith('run'));
    assert.equal(log.slice(0, firstRun).length, models.length, 'all five warmed first');
    assert.deepEqual(log.slice(firstRun).sort(), ['run g1', 'run g2', 'run g3', 'run o1', 'run o2']);
  });

  test('another lane\'s warm-up (TinyFish\'s) finishes with these before any call, and onWarmed comes before the first call', async () => {
    const log: string[] = [];
    const agentWarm = (async () => {
      for (let i = 0; i < 5; i++) await tick();
      log.push('warm agent lane');
    })();
    await runLanes(models.slice(0, 2), {
      concurrency: 1,
      signal: new AbortController().signal,
      loadProvider: async () => noStream,
      skip: () => assert.fail('nothing is skipped'),
      warm: async (model) => void log.push(`warm ${model.id}`),
      alsoWarm: agentWarm,
      onWarmed: () => log.push('warmed'),
      run: async (model) => void log.push(`run ${model.id}`),
    });
    assert.deepEqual(log.slice(0, 4).sort(), ['warm agent lane', 'warm g1', 'warm o1', 'warmed'].sort());
    assert.equal(log[3], 'warmed');
    assert.deepEqual(log.slice(4).sort(), ['run g1', 'run o1']);
    // With no lane of its own (a sweep of agent runs only), the other lane is still warmed and told.
    const alone: string[] = [];
    await runLanes([], { concurrency: 1, signal: new AbortController().signal, loadProvider: async () => noStream, skip: () => {}, run: async () => {}, alsoWarm: (async () => void alone.push('warm agent lane'))(), onWarmed: () => alone.push('warmed') });
    assert.deepEqual(alone, ['warm agent lane', 'warmed']);
  });

  test('afterWarm runs once every warm-up is done and before onWarmed and any call; its failure stops nothing', async () => {
    const log: string[] = [];
    await runLanes(models.slice(0, 2), {
      concurrency: 1,
      signal: new AbortController().signal,
      loadProvider: async () => noStream,
      skip: () => assert.fail('nothing is skipped'),
      warm: async (model) => {
        await tick();
        log.push(`warm ${model.id}`);
      },
      afterWarm: async () => {
        log.push('probe');
        throw new Error('probe failed');
      },
      onWarmed: () => log.push('warmed'),
      run: async (model) => void log.push(`run ${model.id}`),
    });
    assert.deepEqual(log.slice(0, 2).sort(), ['warm g1', 'warm o1']);
    assert.deepEqual(log.slice(2, 4), ['probe', 'warmed']);
    assert.deepEqual(log.slice(4).sort(), ['run g1', 'run o1']);
  });
});
