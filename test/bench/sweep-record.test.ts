// SPEC 18: each sweep records the runner's own added delay (a loopback calibration stream whose
// send times are known) and each lane's connection timings (DNS, connect, TLS, first byte).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { prepareCalibration } from '../../lib/bench/calibration.ts';
import { laneOrigin, probeConnection } from '../../lib/bench/connection-probe.ts';
import { streamMock } from '../../lib/bench/providers/mock.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import type { SweepModel } from '../../lib/bench/due.ts';
import { loadConfig, type ProviderName } from '../../lib/config.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { startBedrockServer } from '../fakes/bedrock-server.ts';
import { groqBaseUrl, startOpenAIServer } from '../fakes/openai-server.ts';
import { scheduleChunks } from '../fakes/scenario.ts';
import { setEnv } from '../set-env.ts';

const listen = async (server: Server): Promise<number> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
};
const close = (server: Server) => {
  server.closeAllConnections();
  return new Promise<void>((resolve) => server.close(() => resolve()));
};
const model = (provider: ProviderName, modelId: string): SweepModel => ({ provider, modelId, misc: {}, lastSuccessAt: null });

describe('lane connection timings', () => {
  let dir: string;
  let cert: string;
  let key: string;
  before(() => {
    // A self-signed certificate for 127.0.0.1, made for this run only.
    dir = mkdtempSync(join(tmpdir(), 'llm-bench-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
    key = readFileSync(join(dir, 'key.pem'), 'utf8');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('plain http to an address: no lookup, no TLS; connect and first byte timed', async () => {
    const server = createHttpServer((_req, res) => res.writeHead(404).end());
    const port = await listen(server);
    try {
      const r = await probeConnection('groq', `http://127.0.0.1:${port}`, { signal: AbortSignal.timeout(5000) });
      assert.equal(r.error, null);
      assert.equal(r.dns_s, null);
      assert.equal(r.tls_s, null);
      assert.ok(r.connect_s !== null && r.connect_s >= 0 && r.connect_s < 5);
      assert.ok(r.first_byte_s !== null && r.first_byte_s >= 0 && r.first_byte_s < 5);
    } finally {
      await close(server);
    }
  });

  test('https: the TLS handshake is timed apart from the connect, and a name is looked up', async () => {
    let handshakes = 0;
    const server = createHttpsServer({ cert, key }, (_req, res) => res.writeHead(401).end());
    server.on('secureConnection', () => (handshakes += 1));
    const port = await listen(server);
    try {
      const r = await probeConnection('anthropic', `https://localhost:${port}`, { signal: AbortSignal.timeout(5000), ca: cert });
      assert.equal(r.error, null);
      assert.equal(handshakes, 1);
      assert.ok(r.dns_s !== null && r.dns_s >= 0);
      assert.ok(r.connect_s !== null && r.connect_s >= 0);
      assert.ok(r.tls_s !== null && r.tls_s > 0);
      assert.ok(r.first_byte_s !== null && r.first_byte_s >= 0);
      // Without the certificate trusted, the probe says so and keeps what it timed.
      const refused = await probeConnection('anthropic', `https://127.0.0.1:${port}`, { signal: AbortSignal.timeout(5000) });
      assert.match(refused.error ?? '', /self.signed|certificate/i);
      assert.ok(refused.connect_s !== null);
      assert.equal(refused.first_byte_s, null);
    } finally {
      await close(server);
    }
  });

  test('a host that refuses or never answers is a recorded failure, not a thrown one', async () => {
    const server = createHttpServer();
    const port = await listen(server);
    await close(server);
    const refused = await probeConnection('groq', `http://127.0.0.1:${port}`, { signal: AbortSignal.timeout(5000) });
    assert.match(refused.error ?? '', /ECONNREFUSED/);
    assert.equal(refused.connect_s, null);

    const silent = createHttpServer(() => {}); // accepts, never answers
    const silentPort = await listen(silent);
    try {
      const r = await probeConnection('groq', `http://127.0.0.1:${silentPort}`, { signal: new AbortController().signal, timeoutMs: 200 });
      assert.equal(r.error, 'timed out');
      assert.ok(r.connect_s !== null);
      assert.equal(r.first_byte_s, null);
    } finally {
      await close(silent);
    }
  });

  test("a lane's origin: the adapter's host where a region picks it, else the configured base URL; none for the mock", async () => {
    const config = loadConfig({ env: { AWS_REGION: 'eu-west-1', GROQ_API_KEY: 'gsk-test', VERTEX_PROJECT: 'bench-proj' }, dotenvPath: false });
    const req = (provider: ProviderName, modelId: string, misc: Record<string, unknown> = {}) => ({ provider, modelId, misc, config, signal: new AbortController().signal });
    assert.equal(laneOrigin(await loadProvider('groq'), req('groq', 'llama')), 'https://api.groq.com');
    assert.equal(laneOrigin(await loadProvider('bedrock'), req('bedrock', 'us.anthropic.claude-opus-4-v1:0')), 'https://bedrock-runtime.us-west-2.amazonaws.com');
    assert.equal(laneOrigin(await loadProvider('bedrock'), req('bedrock', 'amazon.nova-lite-v1:0')), 'https://bedrock-runtime.eu-west-1.amazonaws.com');
    assert.equal(laneOrigin(await loadProvider('vertex'), req('vertex', 'claude-sonnet-4', { region: 'us-east5' })), 'https://us-east5-aiplatform.googleapis.com');
    assert.equal(laneOrigin(streamMock, req('mock', 'fast')), null);
    // A lane that cannot call its host (no key, no project) is not probed: its calls fail before they leave.
    assert.equal(laneOrigin(await loadProvider('openai'), req('openai', 'gpt-4o')), null);
    const bare = loadConfig({ env: {}, dotenvPath: false });
    assert.equal(laneOrigin(await loadProvider('vertex'), { ...req('vertex', 'gemini-2.5-flash'), config: bare }), null);
  });
});

describe('loopback calibration', () => {
  test('measures a stream of known send times with measure.ts: true TTFT at least the plan, added delay not negative', async () => {
    const config = loadConfig({ env: {}, dotenvPath: false });
    const calibration = await prepareCalibration({ config, signal: new AbortController().signal, plan: { ttftMs: 50, gapMs: 5, chunks: 20 } });
    try {
      const c = await calibration.run();
      assert.equal(c.error, null);
      // The server writes its first chunk no earlier than 50 ms after the request arrived.
      assert.ok(c.ttft_true_s! >= 0.05, `true TTFT ${c.ttft_true_s}`);
      // Same clock on both sides: a chunk cannot be read before it was written.
      assert.ok(c.ttft_added_s! >= 0 && c.chunk_delay_p50_s! >= 0 && c.chunk_delay_max_s! >= c.chunk_delay_p50_s!);
      assert.ok(Math.abs(c.ttft_measured_s! - c.ttft_true_s! - c.ttft_added_s!) < 1e-9);
      // 19 tokens after the first, planned 5 ms apart (200 tokens/s); the truth is the writes, not the plan.
      assert.ok(c.decode_true_tps! > 100 && c.decode_true_tps! < 400, `true decode ${c.decode_true_tps}`);
      assert.ok(c.decode_measured_tps! > 0 && Number.isFinite(c.decode_error_pct!));
    } finally {
      await calibration.close();
    }
  });

  test('the first chunk is never written before the plan says, though a timer may fire up to 1 ms early', async () => {
    // With a bare setTimeout about one short plan in four came early (87 of 300 runs).
    const calibration = await prepareCalibration({ config: loadConfig({ env: {}, dotenvPath: false }), signal: new AbortController().signal, plan: { ttftMs: 5, gapMs: 1, chunks: 2 } });
    try {
      const early: number[] = [];
      for (let i = 0; i < 40; i++) {
        const c = await calibration.run();
        assert.equal(c.error, null);
        if (c.ttft_true_s! < 0.005) early.push(c.ttft_true_s!);
      }
      assert.deepEqual(early, []);
    } finally {
      await calibration.close();
    }
  });

  test('a calibration stopped by the sweep reports why instead of throwing', async () => {
    const stop = new AbortController();
    const calibration = await prepareCalibration({ config: loadConfig({ env: {}, dotenvPath: false }), signal: stop.signal, plan: { ttftMs: 5000, gapMs: 5, chunks: 5 } });
    try {
      const running = calibration.run();
      setTimeout(() => stop.abort(new Error('SIGTERM')), 50);
      const c = await running;
      assert.match(c.error ?? '', /SIGTERM|abort/i);
      assert.equal(c.ttft_added_s, null);
    } finally {
      await calibration.close();
    }
  });
});

describe('a sweep records itself in bench_sweeps', () => {
  test('a sweep of two lanes over http: one calibration, each host probed once with TLS null', async () => {
    const scenario = () => ({ ...scheduleChunks({ ttftMs: 20, tokensPerSecond: 2000, tokensPerChunk: 4, tokens: 64 }), finishReason: 'stop' as const });
    const chat = await startOpenAIServer(scenario);
    const bedrock = await startBedrockServer(scenario);
    const store = openSqliteStore(':memory:');
    // The AWS SDK reads its credentials from the environment itself.
    const savedEnv = setEnv({ AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST', AWS_SECRET_ACCESS_KEY: 'test-secret', AWS_SESSION_TOKEN: undefined, AWS_PROFILE: undefined });
    try {
      const config = loadConfig({
        env: { RUNNER_NAME: 'test-runner', GROQ_API_KEY: 'gsk-test', GROQ_BASE_URL: groqBaseUrl(chat), AWS_ENDPOINT_URL_BEDROCK_RUNTIME: bedrock.baseUrl },
        dotenvPath: false,
      });
      const before = new Date(Date.now() - 1000);
      const { summary, sweep } = await runSweep({
        config,
        sink: store,
        models: [model('groq', 'llama-a'), model('groq', 'llama-b'), model('bedrock', 'meta.llama3-8b-instruct-v1:0')],
        loadProvider,
      });
      assert.equal(summary.ok, 3, JSON.stringify(summary.errorsByKind));
      const [stored] = await store.benchSweeps({ since: before, until: new Date(Date.now() + 1000) });
      assert.ok(stored && sweep);
      assert.deepEqual(stored, sweep);
      assert.equal(stored.runner, 'test-runner');
      assert.ok(stored.host.length > 0);
      assert.equal(stored.calibration?.error, null);
      assert.ok(stored.calibration!.ttft_added_s! >= 0 && stored.calibration!.ttft_true_s! >= 0.1);
      const byProvider = Object.fromEntries(stored.connections.map((c) => [c.provider, c]));
      assert.deepEqual(stored.connections.map((c) => c.provider).sort(), ['bedrock', 'groq']);
      assert.equal(byProvider.groq!.origin, new URL(chat.baseUrl).origin);
      assert.equal(byProvider.bedrock!.origin, bedrock.baseUrl.replace(/\/$/, ''));
      for (const c of stored.connections) {
        assert.equal(c.error, null, `${c.provider}: ${c.error}`);
        assert.equal(c.tls_s, null);
        assert.equal(c.dns_s, null);
        assert.ok(c.connect_s !== null && c.first_byte_s !== null);
      }
      // The probe's own GET of the root reached each fake once, besides the lanes' calls.
      assert.equal(chat.requests.filter((r) => r.method === 'GET' && r.path === '/').length, 1);
    } finally {
      setEnv(savedEnv);
      await store.close();
      await chat.close();
      await bedrock.close();
    }
  });

  test("a sink that keeps no sweep record (the remote runner's) gets no calibration and no probe", async () => {
    const chat = await startOpenAIServer(() => ({ ...scheduleChunks({ ttftMs: 5, tokensPerSecond: 2000, tokensPerChunk: 4, tokens: 64 }), finishReason: 'stop' as const }));
    const store = openSqliteStore(':memory:');
    try {
      const sink = { insertMetric: store.insertMetric.bind(store), insertError: store.insertError.bind(store), insertAgentRun: store.insertAgentRun.bind(store) };
      const config = loadConfig({ env: { GROQ_API_KEY: 'gsk-test', GROQ_BASE_URL: groqBaseUrl(chat) }, dotenvPath: false });
      const { summary, sweep } = await runSweep({ config, sink, models: [model('groq', 'llama-a')], loadProvider });
      assert.equal(summary.ok, 1);
      assert.equal(sweep, null);
      assert.deepEqual(chat.requests.filter((r) => r.path === '/'), []);
    } finally {
      await store.close();
      await chat.close();
    }
  });

  test('a mock-only sweep records its sweep without a calibration or connections', async () => {
    const store = openSqliteStore(':memory:');
    try {
      const { sweep } = await runSweep({ config: loadConfig({ env: {}, dotenvPath: false }), sink: store, models: [model('mock', 'instant')], loadProvider: async () => streamMock });
      assert.ok(sweep);
      assert.equal(sweep.calibration, null);
      assert.deepEqual(sweep.connections, []);
    } finally {
      await store.close();
    }
  });
});
