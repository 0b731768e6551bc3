import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { indexOpenRouter, matchOpenRouter, modelKey, sameModel } from '../../lib/discovery/model-match.ts';

// [OpenRouter id, provider, provider's id]: the same model.
const SAME: Array<[string, string, string]> = [
  ['anthropic/claude-sonnet-4', 'anthropic', 'claude-sonnet-4-20250514'],
  ['anthropic/claude-sonnet-4', 'bedrock', 'us.anthropic.claude-sonnet-4-20250514-v1:0'],
  ['anthropic/claude-sonnet-4', 'vertex', 'claude-sonnet-4@20250514'],
  ['anthropic/claude-3.5-sonnet', 'anthropic', 'claude-3-5-sonnet-20241022'],
  ['anthropic/claude-3.7-sonnet:thinking', 'anthropic', 'claude-3-7-sonnet-20250219'],
  ['anthropic/claude-opus-4.1', 'anthropic', 'claude-opus-4-1-20250805'],
  ['anthropic/claude-3-haiku', 'bedrock', 'anthropic.claude-3-haiku-20240307-v1:0:200k'],
  ['meta-llama/llama-3.3-70b-instruct', 'groq', 'llama-3.3-70b-versatile'],
  ['meta-llama/llama-3.3-70b-instruct', 'together', 'meta-llama/Llama-3.3-70B-Instruct-Turbo'],
  ['meta-llama/llama-3.3-70b-instruct', 'fireworks', 'accounts/fireworks/models/llama-v3p3-70b-instruct'],
  ['meta-llama/llama-3.3-70b-instruct', 'bedrock', 'us.meta.llama3-3-70b-instruct-v1:0'],
  ['meta-llama/llama-3.3-70b-instruct', 'deepinfra', 'meta-llama/Llama-3.3-70B-Instruct'],
  ['meta-llama/llama-3.3-70b-instruct', 'cerebras', 'llama-3.3-70b'],
  ['meta-llama/llama-3.3-70b-instruct:free', 'groq', 'llama-3.3-70b-versatile'],
  ['meta-llama/llama-3.1-8b-instruct', 'groq', 'llama-3.1-8b-instant'],
  ['meta-llama/llama-3.1-70b-instruct', 'together', 'meta-llama/Meta-Llama-3.1-70B-Instruct-Turbo'],
  ['meta-llama/llama-3.1-8b-instruct', 'bedrock', 'meta.llama3-1-8b-instruct-v1:0'],
  ['meta-llama/llama-2-70b-chat', 'together', 'meta-llama/Llama-2-70b-chat-hf'],
  ['openai/gpt-4o-mini', 'openai', 'gpt-4o-mini-2024-07-18'],
  ['openai/gpt-4o', 'openai', 'gpt-4o-2024-08-06'],
  ['openai/chatgpt-4o-latest', 'openai', 'chatgpt-4o-latest'],
  ['openai/gpt-4.1', 'openai', 'gpt-4.1-2025-04-14'],
  ['openai/gpt-oss-120b', 'groq', 'openai/gpt-oss-120b'],
  ['openai/gpt-oss-120b', 'bedrock', 'openai.gpt-oss-120b-1:0'],
  ['openai/gpt-oss-120b', 'fireworks', 'accounts/fireworks/models/gpt-oss-120b'],
  ['google/gemini-2.5-flash', 'vertex', 'gemini-2.5-flash'],
  ['google/gemini-2.0-flash-001', 'vertex', 'gemini-2.0-flash-001'],
  ['google/gemma-3-27b-it', 'deepinfra', 'google/gemma-3-27b-it'],
  ['qwen/qwen-2.5-72b-instruct', 'together', 'Qwen/Qwen2.5-72B-Instruct-Turbo'],
  ['qwen/qwen-2.5-72b-instruct', 'fireworks', 'accounts/fireworks/models/qwen2p5-72b-instruct'],
  ['qwen/qwen3-235b-a22b-2507', 'cerebras', 'qwen-3-235b-a22b-instruct-2507'],
  ['qwen/qwen3-235b-a22b-2507', 'together', 'Qwen/Qwen3-235B-A22B-Instruct-2507-tput'],
  ['deepseek/deepseek-r1', 'together', 'deepseek-ai/DeepSeek-R1'],
  ['deepseek/deepseek-r1', 'fireworks', 'accounts/fireworks/models/deepseek-r1'],
  ['deepseek/deepseek-r1-0528', 'deepinfra', 'deepseek-ai/DeepSeek-R1-0528'],
  ['deepseek/deepseek-r1-distill-llama-70b', 'groq', 'deepseek-r1-distill-llama-70b'],
  ['amazon/nova-pro-v1', 'bedrock', 'amazon.nova-pro-v1:0'],
  ['mistralai/mistral-7b-instruct-v0.3', 'deepinfra', 'mistralai/Mistral-7B-Instruct-v0.3'],
  ['moonshotai/kimi-k2', 'groq', 'moonshotai/kimi-k2'],
];

// Pairs that must NOT match: a different size, version, variant or generation.
const DIFFERENT: Array<[string, string, string]> = [
  ['meta-llama/llama-3.1-8b-instruct', 'groq', 'llama-3.1-70b-versatile'],
  ['meta-llama/llama-3.1-70b-instruct', 'groq', 'llama-3.3-70b-versatile'],
  ['meta-llama/llama-3.2-1b-instruct', 'together', 'meta-llama/Llama-3.2-3B-Instruct-Turbo'],
  ['meta-llama/llama-3.3-70b-instruct', 'fireworks', 'accounts/fireworks/models/llama-v3p1-70b-instruct'],
  ['openai/gpt-4o', 'openai', 'gpt-4o-mini-2024-07-18'],
  ['openai/gpt-4o-mini', 'openai', 'gpt-4o-2024-08-06'],
  ['openai/gpt-4', 'openai', 'gpt-4-turbo'],
  ['openai/o3', 'openai', 'o3-mini'],
  ['openai/o1', 'openai', 'o1-pro'],
  ['openai/gpt-3.5-turbo', 'openai', 'gpt-3.5-turbo-instruct'],
  ['anthropic/claude-sonnet-4', 'anthropic', 'claude-sonnet-4-5-20250929'],
  ['anthropic/claude-3-haiku', 'anthropic', 'claude-3-5-haiku-20241022'],
  ['anthropic/claude-opus-4', 'bedrock', 'us.anthropic.claude-opus-4-1-20250805-v1:0'],
  ['google/gemini-2.5-flash', 'vertex', 'gemini-2.5-flash-lite'],
  ['google/gemini-2.5-flash', 'vertex', 'gemini-2.5-pro'],
  ['google/gemini-2.5-flash', 'vertex', 'gemini-2.0-flash'],
  ['qwen/qwen3-235b-a22b-2507', 'together', 'Qwen/Qwen3-235B-A22B-Thinking-2507'],
  ['qwen/qwen3-235b-a22b', 'cerebras', 'qwen-3-235b-a22b-instruct-2507'],
  ['qwen/qwen-2.5-7b-instruct', 'together', 'Qwen/Qwen2.5-72B-Instruct-Turbo'],
  ['deepseek/deepseek-r1', 'groq', 'deepseek-r1-distill-llama-70b'],
  ['mistralai/mistral-7b-instruct-v0.3', 'deepinfra', 'mistralai/Mistral-7B-Instruct-v0.1'],
  ['mistralai/mistral-7b-instruct-v0.3', 'bedrock', 'mistral.mistral-7b-instruct-v0:2'],
  ['meta-llama/llama-4-maverick', 'groq', 'meta-llama/llama-4-scout-17b-16e-instruct'],
];

describe('OpenRouter ↔ provider id matching', () => {
  for (const [or, provider, id] of SAME) {
    test(`${or} matches ${provider} ${id}`, () => {
      assert.equal(modelKey(id, provider), modelKey(or), `${modelKey(id, provider)} vs ${modelKey(or)}`);
      assert.ok(sameModel({ provider: 'openrouter', id: or }, { provider, id }));
    });
  }
  for (const [or, provider, id] of DIFFERENT) {
    test(`${or} does not match ${provider} ${id}`, () => {
      assert.notEqual(modelKey(id, provider), modelKey(or));
    });
  }

  test('keys are readable: the model name with versions as numbers', () => {
    assert.equal(modelKey('meta-llama/llama-3.3-70b-instruct'), 'llama-3-3-70b');
    assert.equal(modelKey('us.anthropic.claude-sonnet-4-20250514-v1:0', 'bedrock'), 'claude-sonnet-4');
    assert.equal(modelKey('accounts/fireworks/models/llama-v3p3-70b-instruct', 'fireworks'), 'llama-3-3-70b');
  });

  test('Bedrock\'s vendor.model form is only unpacked for bedrock ids', () => {
    // A provider whose ids contain dots must not lose a leading segment.
    assert.equal(modelKey('gemini-2.5-flash', 'vertex'), 'gemini-2-5-flash');
    assert.equal(modelKey('amazon.nova-pro-v1:0', 'bedrock'), 'nova-pro');
  });

  test('the index prefers the plain OpenRouter id over :free / :thinking variants, whatever the order', () => {
    const entries = [
      { openrouter_id: 'meta-llama/llama-3.3-70b-instruct:free', price: 0 },
      { openrouter_id: 'meta-llama/llama-3.3-70b-instruct', price: 0.13 },
      { openrouter_id: 'anthropic/claude-3.7-sonnet:thinking', price: 3 },
      { openrouter_id: 'anthropic/claude-3.7-sonnet', price: 3 },
    ];
    for (const order of [entries, [...entries].reverse()]) {
      const index = indexOpenRouter(order);
      assert.equal(matchOpenRouter(index, { provider: 'groq', id: 'llama-3.3-70b-versatile' })?.openrouter_id, 'meta-llama/llama-3.3-70b-instruct');
      assert.equal(matchOpenRouter(index, { provider: 'anthropic', id: 'claude-3-7-sonnet-20250219' })?.openrouter_id, 'anthropic/claude-3.7-sonnet');
      assert.equal(matchOpenRouter(index, { provider: 'groq', id: 'llama-3.1-8b-instant' }), null);
    }
  });
});
