// One fresh process, as every sweep is: a five-model lane of one wire format swept against the
// adversarial fake, printing each row's TTFT error against the fake's send-time truth (ms) and
// whether it went out on a connection already open. Run by test/bench/stream-truth.test.ts.
//
// Usage: node --import tsx test/fakes/lane-probe.ts chat|anthropic|bedrock [--cold]
// (--cold: the adapters' warm-up left out, to see what it saves)
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import type { ProviderStream } from '../../lib/bench/provider-stream.ts';
import { runSweep } from '../../lib/bench/sweep.ts';
import { loadConfig, type ProviderName } from '../../lib/config.ts';
import type { ErrorDoc, MetricDoc } from '../../lib/store/documents.ts';
import { anthropic, bedrock, chat, startWireServer, trueTtftMs, type WireWrite } from './wire-server.ts';

const TTFT_MS = 80;
const toks = ' tok';
const visible = (enc: (t: string) => string | Uint8Array): WireWrite[] =>
  Array.from({ length: 4 }, (_, i) => ({ atMs: TTFT_MS + i * 10, data: enc(toks), visible: 1 }));

const LANES: Record<string, { provider: ProviderName; model: (i: number) => string; writes: WireWrite[]; env: (url: string) => Record<string, string> }> = {
  chat: {
    provider: 'groq',
    model: (i) => `llama-${i}`,
    writes: [...visible((t) => chat.delta({ content: t })), { atMs: TTFT_MS + 40, data: chat.delta({}, 'stop') + chat.usage(4) + chat.done }],
    env: (u) => ({ GROQ_API_KEY: 'gsk-test', GROQ_BASE_URL: `${u}/openai/v1` }),
  },
  anthropic: {
    provider: 'anthropic',
    model: (i) => `claude-${i}`,
    writes: [{ atMs: 5, data: anthropic.start }, ...visible((t) => anthropic.text(t)), { atMs: TTFT_MS + 40, data: anthropic.end(4) }],
    env: (u) => ({ ANTHROPIC_API_KEY: 'sk-ant-test', ANTHROPIC_BASE_URL: u }),
  },
  bedrock: {
    provider: 'bedrock',
    model: (i) => `meta.llama3-8b-instruct-v${i}:0`,
    writes: [{ atMs: TTFT_MS, data: bedrock.start() }, ...visible(bedrock.text), { atMs: TTFT_MS + 40, data: bedrock.end(4) }],
    env: (u) => ({ AWS_ENDPOINT_URL_BEDROCK_RUNTIME: u }),
  },
};

function withoutWarmUp(stream: ProviderStream): ProviderStream {
  return (req) => stream(req);
}

const lane = LANES[process.argv[2] ?? ''];
if (!lane) throw new Error(`usage: lane-probe.ts ${Object.keys(LANES).join('|')}`);
// The AWS SDK reads credentials from the environment; never a real profile.
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDTESTTESTTEST', AWS_SECRET_ACCESS_KEY: 'test-secret', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' });
delete process.env.AWS_PROFILE;

const server = await startWireServer(() => ({ writes: lane.writes }), { http2: lane.provider === 'bedrock' });
const config = loadConfig({ env: { RUNNER_NAME: 'lane-probe', BENCH_MAX_TOKENS: '4', ...lane.env(server.baseUrl) }, dotenvPath: false });
const metrics: MetricDoc[] = [];
const errors: string[] = [];
await runSweep({
  config,
  models: Array.from({ length: 5 }, (_, i) => ({ provider: lane.provider, modelId: lane.model(i) })),
  force: true,
  loadProvider: process.argv.includes('--cold') ? async (name) => withoutWarmUp(await loadProvider(name)) : loadProvider,
  sink: {
    insertMetric: async (d: MetricDoc) => {
      metrics.push(d);
      return 'stored';
    },
    insertError: async (d: ErrorDoc) => {
      errors.push(d.message);
      return 'stored';
    },
  } as never,
});
const rows = metrics.map((m) => {
  const ex = server.exchanges.find((e) => (JSON.stringify(e.body) + decodeURIComponent(e.path)).includes(m.model_name));
  return { ttftErrMs: ex && m.time_to_first_token !== null ? m.time_to_first_token * 1000 - trueTtftMs(ex) : null, reused: m.connection_reused ?? null };
});
await server.close();
console.log(JSON.stringify({ firstRequest: server.seen[0] ?? null, rows, errors }));
