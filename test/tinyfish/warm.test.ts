// The TinyFish lane's warm-up: the real client, run.ts and fetch rehearsed against a canned
// stream on 127.0.0.1 before a sweep's first run, never against TinyFish (or its fake here),
// and only when a run will really use the client.
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../lib/config.ts';
import { warmAgentLane } from '../../lib/tinyfish/warm.ts';
import { FAKE_TINYFISH_KEY, startTinyFishServer, successfulRun, type TinyFishFakeServer } from '../fakes/tinyfish-server.ts';

let server: TinyFishFakeServer;
const origins: string[] = [];
const onRequest = (message: unknown) => void origins.push(String((message as { request: { origin: unknown } }).request.origin));
before(async () => {
  server = await startTinyFishServer(() => successfulRun());
  subscribe('undici:request:create', onRequest);
});
after(async () => {
  unsubscribe('undici:request:create', onRequest);
  await server.close();
});

test('warms the client with local rehearsals once per process, only when a run is real, never calling TinyFish', async () => {
  const config = loadConfig({ env: { TINYFISH_API_KEY: FAKE_TINYFISH_KEY, TINYFISH_BASE_URL: server.baseUrl }, dotenvPath: false });
  const signal = new AbortController().signal;
  // Simulated runs use no fetch: nothing to warm.
  await warmAgentLane(['mock-steps-2'], config, signal);
  await warmAgentLane(['pricing-page'], loadConfig({ env: { TINYFISH_MOCK_MODE: 'true' }, dotenvPath: false }), signal);
  assert.deepEqual(origins, []);

  await warmAgentLane(['mock-steps-2', 'pricing-page'], config, signal);
  assert.equal(origins.length, 3, 'three rehearsals');
  assert.ok(origins.every((o) => /^http:\/\/127\.0\.0\.1:\d+$/.test(o) && o !== server.baseUrl), origins.join(', '));
  assert.equal(server.requests.length, 0, 'TinyFish (here its fake) is never called');

  await warmAgentLane(['pricing-page'], config, signal);
  assert.equal(origins.length, 3, 'once per process');
});
