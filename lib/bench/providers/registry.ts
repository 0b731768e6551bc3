// Provider name → stream function. Each adapter is imported only when a sweep asks for it,
// so a sweep of mock or Groq models never loads the AWS, Google or Anthropic SDKs (start-up
// time and memory on a small server).
// A namespace import: a named import of this Node 22.14+ export would fail at link time on an
// older Node, before the entry script's friendly version check (lib/cli.ts) could run.
import * as nodeModule from 'node:module';
import type { ProviderName } from '../../config.ts';
import { BenchError } from '../../errors.ts';
import type { ProviderStream } from '../provider-stream.ts';

// tsx turns source maps on for every module, node_modules included: each SDK file's .map is
// then read and kept as it loads, and the first formatted stack (@google/genai releasing its
// reader on the first Gemini call) parses them for good: ~20 MB of live heap and ~40 MB of a
// sweep's peak RSS. Our own .ts files keep their maps, so our stack traces stay right.
if (process.sourceMapsEnabled) nodeModule.setSourceMapsSupport?.(true, { nodeModules: false, generatedCode: false });

const LOADERS: Record<ProviderName, () => Promise<ProviderStream>> = {
  openai: async () => (await import('./openai.ts')).streamOpenAI,
  anthropic: async () => (await import('./anthropic.ts')).streamAnthropic,
  groq: loadCompatible,
  together: loadCompatible,
  deepinfra: loadCompatible,
  fireworks: loadCompatible,
  cerebras: loadCompatible,
  bedrock: async () => (await import('./bedrock.ts')).streamBedrock,
  vertex: async () => (await import('./vertex.ts')).streamVertex,
  mock: async () => (await import('./mock.ts')).streamMock,
  // TinyFish runs browser automations, not chat calls: the sweep runs them through
  // lib/tinyfish/run.ts for the pairs of an agent scenario, never through a chat stream.
  tinyfish: async () => {
    throw new BenchError('tinyfish automations run only as pairs of an agent scenario (models.ts scenario add … --kind agent), not as chat models', {
      kind: 'hard_capability',
      stage: 'load_provider',
    });
  },
};

async function loadCompatible(): Promise<ProviderStream> {
  return (await import('./openai-compatible.ts')).streamOpenAICompatible;
}

/**
 * The stream function of a provider, its module (and SDK) loaded on first use.
 * @throws BenchError with stage load_provider when the module or its SDK cannot be loaded.
 */
export async function loadProvider(name: ProviderName): Promise<ProviderStream> {
  const load = LOADERS[name];
  if (!load) throw new BenchError(`Cannot load provider ${String(name)}: unknown provider`, { kind: 'hard_capability', stage: 'load_provider' });
  try {
    return await load();
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new BenchError(`Cannot load provider ${name}: ${detail}`, { kind: 'unknown', stage: 'load_provider', cause: err });
  }
}
