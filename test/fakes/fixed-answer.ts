// A provider stream that answers every request the same way, with the usage given: the
// figures cost and budget tests compute from.
import type { ProviderRequest, ProviderStream, StreamEvent } from '../../lib/bench/provider-stream.ts';

export function fixedAnswer(usage: { inputTokens: number | null; outputTokens: number }): ProviderStream {
  return async function* (req: ProviderRequest): AsyncGenerator<StreamEvent> {
    yield { type: 'request', t: req.now(), mode: 'fake', maxTokens: req.maxTokens, temperature: req.temperature, reasoningEffort: null, applied: {} };
    yield { type: 'first_byte', t: req.now() + 1 };
    for (let i = 0; i < 4; i++) yield { type: 'text', t: req.now() + 2 + i, text: ' tok' };
    yield {
      type: 'usage',
      t: req.now() + 10,
      usage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, reasoningTokens: null, cachedInputTokens: null, totalTokens: null, raw: {} },
    };
    yield { type: 'finish', t: req.now() + 10, reason: 'stop', rawReason: 'stop', responseId: 'r1', providerLatencyMs: null };
  };
}
