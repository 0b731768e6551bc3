// npm run bench:sweep — does a full sweep fit its slot, in little memory?
//
// 200 models over the nine real providers, each call 1–3 s long, served by the fake servers
// (a child process, so this process's peak RSS is the runner's own) through the real
// adapters, the real runner and a real SQLite store. Prints the sweep's total time against
// the longest single provider's serial time (the sum of its calls: providers run side by
// side, so the sweep cannot be shorter; target <= 1.2x) and the peak RSS (target < 200 MB; < 250 MB
// with --workloads).
// A provider whose fake does not exist yet is simulated by the mock provider with the same
// timings, and says so. TinyFish automation runs (agent scenarios) join the mix in their own
// lane against the fake TinyFish server (--agents N runs, the same call lengths; 0 for none).
//
// Beside the peak RSS it prints what the peak was made of (the JS heap V8 had committed, its
// young generation, the heap in use) and the heap still in use after the sweep and a full GC:
// that figure stays flat as --models grows unless something is kept per call.
//
// --workloads adds SPEC 19's workloads beside the published pairs: for every model a 1k, a 10k
// and a 100k-token generated prompt (the fake adds 10 ms of prefill per 1,000 tokens) and a
// group of 10 parallel calls. It prints whether each lane measured its published pairs first.
//
// Usage: node --import tsx test/perf/sweep.ts [--models 200] [--agents 20] [--min-ms 1000] [--max-ms 3000] [--provider P]... [--workloads]
// (BENCH_SWEEP_TRACE=1 prints a memory sample every second.)
import { fork } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig, type ProviderName } from '../../lib/config.ts';
import type { ProviderRequest, ProviderStream, StreamEvent } from '../../lib/bench/provider-stream.ts';
import { streamMock } from '../../lib/bench/providers/mock.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { SATURATED_LAG_MS, SPEED_WAIT_SHARE } from '../../lib/bench/loop-lag.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { type SweepModel } from '../../lib/bench/due.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import type { FakeServer, RecordedRequest } from '../fakes/scenario.ts';
import { scheduleChunks } from '../fakes/scenario.ts';

const PROVIDERS: ProviderName[] = ['openai', 'anthropic', 'groq', 'together', 'deepinfra', 'fireworks', 'cerebras', 'bedrock', 'vertex'];
const FAKE_OF: Record<string, string> = { openai: 'openai-server.ts', anthropic: 'anthropic-server.ts', bedrock: 'bedrock-server.ts', gemini: 'gemini-server.ts' };
const TINYFISH_KEY = 'tf-bench-key-0123456789';
const fakeExists = (name: string) => existsSync(new URL(`../fakes/${FAKE_OF[name]}`, import.meta.url));

/** The call's length is in the model id (`…-dur1850ms`), so every fake can plan it from the request alone. */
function scenarioFor(req: RecordedRequest) {
  const body = JSON.stringify(req.body);
  const dur = Number(/dur(\d+)ms/.exec(`${req.path} ${body.slice(0, 2000)}`)?.[1] ?? 1000);
  const tokens = 64;
  // A generated prompt is about 4.9 characters a token: 10 ms of prefill per 1,000 tokens.
  const prefillMs = body.length > 2000 ? (body.length / 4.9 / 1000) * 10 : 0;
  const { chunks, usage } = scheduleChunks({ ttftMs: dur * 0.25 + prefillMs, tokens, tokensPerSecond: (tokens - 1) / ((dur * 0.75) / 1000), tokensPerChunk: 1 });
  return { chunks, usage, finishReason: 'length' as const };
}

/** The fake servers' process: starts every fake that exists and reports the base URLs. */
async function serve(): Promise<void> {
  const servers: FakeServer[] = [];
  const urls: Record<string, string> = {};
  if (fakeExists('openai')) {
    const { startOpenAIServer, groqBaseUrl } = await import('../fakes/openai-server.ts');
    const s = await startOpenAIServer(scenarioFor);
    servers.push(s);
    urls.openai = s.baseUrl;
    urls.groq = groqBaseUrl(s);
  }
  if (fakeExists('anthropic')) {
    const s = await (await import('../fakes/anthropic-server.ts')).startAnthropicServer(scenarioFor);
    servers.push(s);
    urls.anthropic = s.baseUrl;
  }
  if (fakeExists('bedrock')) {
    const s = await (await import('../fakes/bedrock-server.ts')).startBedrockServer(scenarioFor);
    servers.push(s);
    urls.bedrock = s.baseUrl;
  }
  if (fakeExists('gemini')) {
    const s = await (await import('../fakes/gemini-server.ts')).startGeminiServer(scenarioFor);
    servers.push(s);
    urls.gemini = s.baseUrl;
  }
  {
    // Each run's length is in its goal (`dur1850ms`): STARTED at a tenth, four PROGRESS events, COMPLETE at the end.
    const { startTinyFishServer } = await import('../fakes/tinyfish-server.ts');
    const s = await startTinyFishServer(
      (req) => {
      const dur = Number(/dur(\d+)ms/.exec(req.body?.goal ?? '')?.[1] ?? 1000);
      const at = (f: number) => Math.round(dur * f);
      return {
        events: [
          { atMs: at(0.1), type: 'STARTED' },
          ...[0.3, 0.5, 0.7, 0.9].map((f, i) => ({ atMs: at(f), type: 'PROGRESS' as const, purpose: `step ${i + 1}` })),
          { atMs: dur, type: 'COMPLETE', status: 'COMPLETED', resultJson: { ok: true } },
        ],
      };
      },
      { apiKey: TINYFISH_KEY },
    );
    servers.push({ baseUrl: s.baseUrl, requests: [], close: () => s.close() });
    urls.tinyfish = s.baseUrl;
  }
  process.send!(urls);
  process.on('message', async () => {
    await Promise.all(servers.map((s) => s.close()));
    process.exit(0);
  });
}

/** A model id each provider's adapter routes as an ordinary chat model. */
function modelId(provider: ProviderName, i: number, durMs: number): string {
  const tag = `bench-${String(i).padStart(3, '0')}-dur${durMs}ms`;
  if (provider === 'openai') return `gpt-4o-${tag}`;
  if (provider === 'anthropic') return `claude-${tag}`;
  if (provider === 'bedrock') return `us.anthropic.claude-${tag}-v1:0`;
  if (provider === 'vertex') return `gemini-${tag}`;
  return `llama-${tag}`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      models: { type: 'string', default: '200' },
      agents: { type: 'string', default: '20' },
      'min-ms': { type: 'string', default: '1000' },
      'max-ms': { type: 'string', default: '3000' },
      provider: { type: 'string', multiple: true },
      workloads: { type: 'boolean', default: false },
    },
  });
  const providers = values.provider ? PROVIDERS.filter((p) => values.provider!.includes(p)) : PROVIDERS;
  if (providers.length === 0) throw new Error(`--provider must name some of ${PROVIDERS.join(', ')}`);
  const count = Number(values.models);
  const agents = Number(values.agents);
  const minMs = Number(values['min-ms']);
  const maxMs = Number(values['max-ms']);
  const rssBefore = process.memoryUsage().rss;

  const child = fork(new URL(import.meta.url).pathname, ['--serve'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const urls = await new Promise<Record<string, string>>((resolve) => child.once('message', (m) => resolve(m as Record<string, string>)));
  const compat = ['groq', 'together', 'deepinfra', 'fireworks', 'cerebras'];
  const env: Record<string, string> = {
    RUNNER_NAME: 'bench',
    BENCH_CALL_TIMEOUT_MS: '30000',
    BENCH_STALL_TIMEOUT_MS: '10000',
    FRESH_MINUTES: '0',
    TINYFISH_API_KEY: TINYFISH_KEY,
    TINYFISH_BASE_URL: urls.tinyfish!,
  };
  const served = new Set<ProviderName>();
  if (urls.openai) {
    Object.assign(env, { OPENAI_API_KEY: 'sk-bench-0123456789', OPENAI_BASE_URL: urls.openai });
    served.add('openai');
    for (const p of compat) {
      Object.assign(env, { [`${p.toUpperCase()}_API_KEY`]: `${p}-bench-key-0123`, [`${p.toUpperCase()}_BASE_URL`]: p === 'groq' ? urls.groq! : urls.openai });
      served.add(p as ProviderName);
    }
  }
  if (urls.anthropic) {
    Object.assign(env, { ANTHROPIC_API_KEY: 'sk-ant-bench-0123456789', ANTHROPIC_BASE_URL: urls.anthropic });
    served.add('anthropic');
  }
  if (urls.bedrock) {
    // The AWS SDK reads its credentials from the environment itself.
    const aws = { AWS_ACCESS_KEY_ID: 'AKIDBENCHBENCHBENC', AWS_SECRET_ACCESS_KEY: 'bench-secret', AWS_ENDPOINT_URL_BEDROCK_RUNTIME: urls.bedrock };
    Object.assign(process.env, aws, { AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' });
    delete process.env.AWS_PROFILE;
    Object.assign(env, aws);
    served.add('bedrock');
  }
  if (urls.gemini) {
    Object.assign(env, { VERTEX_PROJECT: 'bench-proj', VERTEX_ACCESS_TOKEN: 'ya29.bench-token-0123456789', VERTEX_BASE_URL: urls.gemini });
    served.add('vertex');
  }
  const config = loadConfig({ env, dotenvPath: false });
  for (const p of PROVIDERS) if (!served.has(p)) console.log(`(${p}: no fake server yet, simulated by the mock provider with the same timings)`);

  // Deterministic call lengths, round-robin over the providers.
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const models: SweepModel[] = Array.from({ length: count }, (_, i) => {
    const provider = providers[i % providers.length]!;
    const dur = Math.round(minMs + rand() * (maxMs - minMs));
    return { provider, modelId: modelId(provider, i, dur), misc: {} };
  });
  const llm = [...models];
  if (values.workloads) {
    const workload = (id: string, extra: { inputTokens?: number; parallel?: number }): SweepModel['scenario'] => ({
      kind: 'llm', id, intervalMinutes: 180, prompt: 'Tell a long and happy story about the history of the world.', maxTokens: 64, temperature: 0.1, cacheDefeatNonce: null, ...extra,
    });
    for (const s of [workload('input-1k-v1', { inputTokens: 1000 }), workload('input-10k-v1', { inputTokens: 10_000 }), workload('input-100k-v1', { inputTokens: 100_000 }), workload('parallel-10-daily-v1', { parallel: 10 })]) {
      for (const m of llm) models.push({ ...m, scenario: s });
    }
  }
  // Start order per provider: every published pair should start before the lane's first workload call.
  const starts = new Map<string, string[]>();
  const onStart = (m: SweepModel) => starts.set(m.provider, [...(starts.get(m.provider) ?? []), m.scenario?.id ?? 'published']);
  for (let i = 0; i < agents; i++) {
    const dur = Math.round(minMs + rand() * (maxMs - minMs));
    models.push({
      provider: 'tinyfish',
      modelId: `bench-automation-${String(i).padStart(3, '0')}`,
      misc: { url: 'https://example.com', goal: `bench dur${dur}ms` },
      scenario: { kind: 'agent', id: 'bench-agent', intervalMinutes: 0, concurrency: 1, inputs: {} },
    });
  }

  // The time each provider had a call in flight: with one call at a time per lane, the sum of its
  // calls' wall times; a parallel group's calls count once, for the group's wall time.
  const serial = new Map<string, number>();
  const busy = new Map<string, { calls: number; since: number }>();
  // The adapter's warm-up and origin kept, so the lanes warm as a real sweep's do (without them
  // every lane's first call loaded and compiled its SDK while the others' clocks ran).
  const timed = (provider: ProviderName, stream: ProviderStream): ProviderStream =>
    Object.assign(
      async function* (req: ProviderRequest): AsyncGenerator<StreamEvent> {
        const state = busy.get(provider) ?? { calls: 0, since: 0 };
        busy.set(provider, state);
        if (state.calls++ === 0) state.since = performance.now();
        try {
          yield* stream(req);
        } finally {
          if (--state.calls === 0) serial.set(provider, (serial.get(provider) ?? 0) + performance.now() - state.since);
        }
      },
      { warm: stream.warm, origin: stream.origin },
    );
  const loader = async (name: ProviderName): Promise<ProviderStream> => {
    if (served.has(name)) return timed(name, await loadProvider(name));
    return timed(name, (req) => {
      const dur = Number(/dur(\d+)ms/.exec(req.modelId)?.[1] ?? 1000);
      return streamMock({ ...req, modelId: `ttft-${Math.round(dur * 0.25)}ms-tps-${(63 / (dur * 0.75)) * 1000}` });
    });
  };

  const dir = mkdtempSync(join(tmpdir(), 'llm-bench-sweep-'));
  const store = openSqliteStore(join(dir, 'bench.sqlite'));
  try {
    console.log(`Sweep of ${count} models${values.workloads ? ' (each with the 1k, 10k and 100k-token and 10-parallel workloads)' : ''} over ${providers.length} providers${agents ? ` and ${agents} TinyFish agent runs` : ''}, calls ${minMs}-${maxMs} ms, ${config.bench.concurrencyPerProvider} call(s) at a time per provider …`);
    const t0 = performance.now();
    const memory = sampleMemory();
    const gcs = watchGc();
    const { summary, results } = await runSweep({ config, models, sink: store, loadProvider: loader, force: true, onStart });
    // The TinyFish lane's serial time: its runs one after another (concurrency 1).
    const agentRuns = results.flatMap((r) => (r.agentRun ? [r.agentRun] : []));
    if (agentRuns.length) serial.set('tinyfish', agentRuns.reduce((a, r) => a + r.total_duration_ms, 0));
    const peak = memory.stop();
    const gcWork = gcs.stop();
    const total = performance.now() - t0;
    const retained = await heapAfterFullGc();
    const stored = (await store.countMetrics()) + (await store.recentAgentRuns({ limit: 1_000_000 })).length;
    const [slowest, slowestMs] = [...serial].sort((a, b) => b[1] - a[1])[0]!;
    const ratio = total / slowestMs;
    const peakMb = (process.resourceUsage().maxRSS * 1024) / 2 ** 20;
    // Issue 27 allows the workloads (100k-token prompts in flight) 250 MB.
    const rssTarget = values.workloads ? 250 : 200;
    console.log(`\n${summary.ok} ok, ${summary.failed} failed (${JSON.stringify(summary.errorsByKind)}), ${stored} rows stored`);
    for (const p of providers) console.log(`  ${p.padEnd(10)} serial ${(serial.get(p)! / 1000).toFixed(1)} s${served.has(p) ? '' : ' (mock)'}`);
    if (agentRuns.length) console.log(`  ${'tinyfish'.padEnd(10)} serial ${(serial.get('tinyfish')! / 1000).toFixed(1)} s (${agentRuns.length} agent runs, fake TinyFish server)`);
    console.log(`\nTotal sweep time        ${(total / 1000).toFixed(1)} s`);
    console.log(`Longest provider serial ${(slowestMs / 1000).toFixed(1)} s (${slowest})`);
    console.log(`Ratio                   ${ratio.toFixed(3)}x  (target <= 1.2x: ${ratio <= 1.2 ? 'met' : 'NOT MET'})`);
    if (values.workloads) {
      const late = [...starts].filter(([, ids]) => ids.lastIndexOf('published') > ids.findIndex((id) => id !== 'published'));
      console.log(`Published pairs first   ${late.length === 0 ? 'yes, in every lane' : `NO in ${late.map(([p]) => p).join(', ')}`}`);
    }
    console.log(`Peak RSS                ${peakMb.toFixed(0)} MB (before the sweep ${(rssBefore / 2 ** 20).toFixed(0)} MB; target < ${rssTarget} MB: ${peakMb < rssTarget ? 'met' : 'NOT MET'})`);
    console.log(
      `  at the largest sample  ${mb(peak.atMaxRss.rss)} MB: JS heap committed ${mb(peak.atMaxRss.heapTotal)} MB (young generation ${mb(peak.atMaxRss.youngGeneration)} MB), in use ${mb(peak.atMaxRss.heapUsed)} MB, external ${mb(peak.atMaxRss.external)} MB`,
    );
    console.log(`Peak JS heap used       ${mb(peak.heapUsed)} MB, committed ${mb(peak.heapTotal)} MB (sampled every ${SAMPLE_MS} ms)`);
    console.log(`JS heap in use after the sweep and a full GC ${mb(retained)} MB (the SDKs' code and data plus the sweep's results)`);
    console.log(
      `GC pauses in the sweep   ${gcWork.major.count} full collections, ${gcWork.major.ms.toFixed(0)} ms (longest ${gcWork.major.longest.toFixed(0)} ms); ${gcWork.minor.count} scavenges, ${gcWork.minor.ms.toFixed(0)} ms; incremental marking ${gcWork.incremental.ms.toFixed(0)} ms`,
    );
    // SPEC 18: how the sweep's own rows were marked by the runner's lag (the threshold in
    // lib/bench/loop-lag.ts), and how many other thresholds would have marked, at this concurrency.
    const lags = results.flatMap((r) => (typeof r.metric?.client_lag_ms === 'number' ? [r.metric.client_lag_ms] : [])).sort((a, b) => a - b);
    if (lags.length) {
      const q = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))]!.toFixed(2);
      const marked = results.filter((r) => r.metric?.evidence?.saturated).length;
      const share = (n: number) => `${n} (${((n / lags.length) * 100).toFixed(1)} %)`;
      console.log(`Client lag per row      median ${q(0.5)} ms, p90 ${q(0.9)} ms, p99 ${q(0.99)} ms, max ${q(1)} ms over ${lags.length} rows`);
      console.log(
        `Rows marked saturated   ${share(marked)} (the first token's wait over ${SATURATED_LAG_MS} ms, or a wait at the first or last token over ${SPEED_WAIT_SHARE * 100} % of the decode span and ${SATURATED_LAG_MS / 2} ms); ` +
          `client_lag_ms alone over ${[2, 5, 10, 20, 50].map((t) => `${t} ms would mark ${share(lags.filter((l) => l > t).length)}`).join(', ')}`,
      );
    }
    if (summary.failed > 0) process.exitCode = 1;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    child.send('close');
  }
}

const SAMPLE_MS = 250;
const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(0);

interface MemorySample {
  rss: number;
  heapTotal: number;
  heapUsed: number;
  external: number;
  /** Committed bytes of V8's young generation (new space), which V8 grows under allocation. */
  youngGeneration: number;
}

/** Samples this process's memory until stop(); returns the peaks and the sample with the largest RSS. */
function sampleMemory(): { stop(): { heapUsed: number; heapTotal: number; atMaxRss: MemorySample } } {
  let heapUsed = 0;
  let heapTotal = 0;
  let atMaxRss: MemorySample = { rss: 0, heapTotal: 0, heapUsed: 0, external: 0, youngGeneration: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    heapUsed = Math.max(heapUsed, m.heapUsed);
    heapTotal = Math.max(heapTotal, m.heapTotal);
    if (m.rss > atMaxRss.rss) {
      const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
      atMaxRss = { rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, youngGeneration: young };
    }
    return m;
  };
  let n = 0;
  const timer = setInterval(() => {
    const m = sample();
    if (process.env.BENCH_SWEEP_TRACE && ++n % (1000 / SAMPLE_MS) === 0) {
      console.log(`  rss ${mb(m.rss)} MB, heap used ${mb(m.heapUsed)} of ${mb(m.heapTotal)} MB, external ${mb(m.external)} MB`);
    }
  }, SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { heapUsed, heapTotal, atMaxRss };
    },
  };
}

interface GcWork {
  count: number;
  ms: number;
  longest: number;
}

/**
 * The main thread's garbage collection pauses until stop(), by kind: the GC work that can land
 * inside a timed stream (the marking V8 does on its helper threads is not in them).
 */
function watchGc(): { stop(): Record<'major' | 'minor' | 'incremental', GcWork> } {
  const work = { major: { count: 0, ms: 0, longest: 0 }, minor: { count: 0, ms: 0, longest: 0 }, incremental: { count: 0, ms: 0, longest: 0 } };
  const kindOf = (kind: number) =>
    kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR ? work.major : kind === perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL ? work.incremental : kind === perfConstants.NODE_PERFORMANCE_GC_MINOR ? work.minor : null;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const w = kindOf((entry as unknown as { detail: { kind: number } }).detail.kind);
      if (!w) continue;
      w.count += 1;
      w.ms += entry.duration;
      w.longest = Math.max(w.longest, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop() {
      observer.disconnect();
      return work;
    },
  };
}

/** The JS heap in use after a full collection: what the process still holds, garbage aside. */
async function heapAfterFullGc(): Promise<number> {
  // gc() without --expose-gc on the command line, so `npm run bench:sweep` needs no extra flag.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  // What FinalizationRegistry callbacks (undici's, AbortSignal.any's) release goes in a second pass.
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc();
  return process.memoryUsage().heapUsed;
}

if (process.argv.includes('--serve')) await serve();
else await main();
