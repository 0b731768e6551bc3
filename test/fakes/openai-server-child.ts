// The OpenAI fake in a process of its own, for tests that block the client's thread: a fake in
// the same thread would stop sending while it is blocked, so its send times would no longer be
// the truth the client's figures are compared with. Scenarios by the request's `model`, from
// the JSON in argv[2]; prints its base URL on one line; closes when stdin ends.
//
// Usage (from a test): spawn(process.execPath, ['--import', 'tsx', <this file>, JSON.stringify({ model: scenario })])
import { startOpenAIServer } from './openai-server.ts';
import type { FakeScenario } from './scenario.ts';

const byModel = JSON.parse(process.argv[2] ?? '{}') as Record<string, FakeScenario>;
const server = await startOpenAIServer((req) => byModel[String((req.body as { model?: unknown })?.model)] ?? { chunks: [], status: 404 });
process.stdout.write(`${server.baseUrl}\n`);
process.stdin.resume();
process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
