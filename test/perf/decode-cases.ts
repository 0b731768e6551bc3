// The decode cases of issue #11 through the real SDKs, adapters and benchmarkModel against the
// adversarial fake: the true rate from the fake's send times, the old formula
// (output_tokens − 1) / (last delta − first delta) over the same stream, and SPEC 5's
// decode_tokens_per_second, as README table rows.
//
// Usage: node --import tsx test/perf/decode-cases.ts
import { benchmarkModel } from '../../lib/bench/call.ts';
import { systemClock } from '../../lib/bench/clock.ts';
import { loadProvider } from '../../lib/bench/providers/registry.ts';
import { loadConfig } from '../../lib/config.ts';
import { bedrock, chat, gemini, responses, sse, startWireServer, trueDecodeRate } from '../fakes/wire-server.ts';
Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'x', AWS_EC2_METADATA_DISABLED: 'true', AWS_CONFIG_FILE: '/nonexistent', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent' });
const toks = (n: number) => ' tok'.repeat(n);
const vis = (n: number, from: number, gap: number, enc: any, k = 1) => Array.from({ length: n }, (_, i) => ({ atMs: from + i * gap, data: enc(toks(k)), visible: k }));
const incomplete = sse({ type: 'response.incomplete', sequence_number: 3, response: { id: 'r0', object: 'response', status: 'incomplete', incomplete_details: { reason: 'max_output_tokens' }, output: [], usage: { input_tokens: 14, output_tokens: 128, output_tokens_details: { reasoning_tokens: 128 }, total_tokens: 142 } } }, 'response.incomplete');
const cases: any[] = [
  ['OpenAI Responses, 200 hidden reasoning + 16 visible at 50/s', 'openai', 'gpt-4o-mini', false, () => ({ writes: [{ atMs: 5, data: responses.created }, ...vis(16, 300, 20, responses.text), { atMs: 620, data: responses.completed(216, 200) }] }), {}],
  ['chat, 4 chunks x 16 tokens 100 ms apart', 'groq', 'llama', false, () => ({ writes: [...vis(4, 50, 100, (t: string) => chat.delta({ content: t }), 16), { atMs: 360, data: chat.delta({}, 'stop') + chat.usage(64) + chat.done }] }), {}],
  ['Gemini, thoughtsTokenCount 200 + 16 visible at 50/s', 'vertex', 'gemini-2.5-flash', false, () => ({ writes: [...vis(16, 300, 20, (t: string) => gemini.chunk([{ text: t }])), { atMs: 620, data: gemini.chunk([], { finish: 'STOP', candidates: 16, thoughts: 200 }) }] }), {}],
  ['Bedrock, hidden reasoning in outputTokens + 16 visible at 50/s', 'bedrock', 'us.deepseek.r1-v1:0', true, () => ({ writes: [{ atMs: 5, data: bedrock.start() }, ...vis(16, 300, 20, bedrock.text), { atMs: 620, data: bedrock.end(216) }] }), { BENCH_MAX_TOKENS: '216' }],
  ['OpenAI budget retry, then 200 hidden + 16 visible at 50/s', 'openai', 'gpt-5-mini', false, (_: any, i: number) => i === 0 ? { writes: [{ atMs: 5, data: responses.created }, { atMs: 50, data: incomplete }] } : { writes: [{ atMs: 5, data: responses.created }, ...vis(16, 200, 20, responses.text), { atMs: 520, data: responses.completed(216, 200) }] }, {}],
];
const envOf: any = {
  openai: (u: string) => ({ OPENAI_API_KEY: 'sk', OPENAI_BASE_URL: `${u}/v1` }),
  groq: (u: string) => ({ GROQ_API_KEY: 'g', GROQ_BASE_URL: `${u}/openai/v1` }),
  vertex: (u: string) => ({ VERTEX_PROJECT: 'p', VERTEX_ACCESS_TOKEN: 'ya29.t', VERTEX_BASE_URL: u }),
  bedrock: (u: string) => ({ AWS_ENDPOINT_URL_BEDROCK_RUNTIME: u }),
};
console.log('| stream | true decode tokens/s | before | after | visible tokens |\n|---|---|---|---|---|');
for (const [label, provider, modelId, h2, caseFor, env] of cases) {
  const server = await startWireServer(caseFor, { http2: h2 });
  const config = loadConfig({ env: { RUNNER_NAME: 'ba', ...envOf[provider](server.baseUrl), ...env }, dotenvPath: false });
  const r = await benchmarkModel({ provider, modelId }, loadProvider(provider), { config, clock: { ...systemClock, sleep: async () => {} }, sweepSignal: new AbortController().signal, sweepStartedAt: new Date() });
  const m: any = r.metric;
  const span = m.times_between_tokens.reduce((a: number, b: number) => a + b, 0);
  const truth = trueDecodeRate(server.exchanges.at(-1)!);
  console.log(`| ${label} | ${truth.toFixed(1)} | ${((m.output_tokens - 1) / span).toFixed(1)} | ${m.decode_tokens_per_second.toFixed(1)} | ${m.visible_output_tokens} |`);
  await server.close();
}
