// A small store for the site and runs tests: real providers and a mock one, a model id with
// characters HTML and file names care about, failures with messages, and rows inside and
// outside the 24-hour and 7-day windows; scenarios of both kinds, and agent runs (measured and
// simulated) with a failure message HTML cares about.
import type { Store } from '../../lib/store/store.ts';
import { builtinScenarios } from '../../lib/models/scenarios.ts';
import { makeAgentRun, makeError, makeMetric, makeModel, makeScenario } from '../fixtures.ts';

export const NOW = new Date('2026-11-28T12:00:00.000Z');
export const ODD_MODEL = 'meta-llama/Llama<3.3>&"70B":v1';
const HOUR = 3_600_000;

export const AGENT_SCENARIO = 'agent-pricing-v1';
export const AUTOMATION = 'pricing-page';
export const MOCK_AUTOMATION = 'mock-steps-4';

export async function seedStore(store: Store, now = NOW): Promise<void> {
  const ago = (hours: number) => new Date(now.getTime() - hours * HOUR);
  await store.insertModel(makeModel({ provider: 'groq', model_id: 'llama-3.3-70b-versatile', display_name: 'Llama 3.3 70B on Groq' }));
  // groq: every 3 hours for 7 days, tokens/s rising a little; TTFT null once.
  for (let h = 1; h < 7 * 24; h += 3) {
    await store.insertMetric(
      makeMetric({
        provider: 'groq',
        model_name: 'llama-3.3-70b-versatile',
        run_ts: ago(h),
        tokens_per_second: 200 + (h % 24),
        time_to_first_token: h === 4 ? null : 0.2 + (h % 5) / 100,
        generate_time: 0.5,
      }),
    );
  }
  for (let h = 2; h < 7 * 24; h += 12) {
    await store.insertMetric(makeMetric({ provider: 'together', model_name: ODD_MODEL, run_ts: ago(h), tokens_per_second: 80 + h / 10, time_to_first_token: 0.6 }));
  }
  await store.insertMetric(makeMetric({ provider: 'together', model_name: ODD_MODEL, run_ts: ago(5), tokens_per_second: 50, benchmark_profile_id: 'cloud-long-v1' }));
  for (let h = 1; h < 30; h += 6) {
    await store.insertMetric(makeMetric({ provider: 'mock', model_name: 'ttft-150ms-tps-120', run_ts: ago(h), tokens_per_second: 120, time_to_first_token: 0.15, mock: true }));
  }
  await store.insertError(makeError({ provider: 'groq', model_name: 'llama-3.3-70b-versatile', ts: ago(2), error_kind: 'rate_limit', message: 'Cannot stream groq/llama-3.3-70b-versatile: HTTP 429 rate limited' }));
  await store.insertError(
    makeError({ provider: 'anthropic', model_name: 'claude-gone', ts: ago(3), error_kind: 'hard_model', http_status: 404, message: 'Cannot stream anthropic/claude-gone: HTTP 404 <model> not found' }),
  );
  await store.insertError(makeError({ provider: 'mock', model_name: 'fail-429-retry-200ms', ts: ago(1), error_kind: 'rate_limit', message: 'HTTP 429 (simulated)' }));
  // Outside every window.
  await store.insertMetric(makeMetric({ provider: 'groq', model_name: 'old-model', run_ts: ago(24 * 30), tokens_per_second: 1 }));
  await seedAgents(store, now);
}

async function seedAgents(store: Store, now: Date): Promise<void> {
  const ago = (hours: number) => new Date(now.getTime() - hours * HOUR);
  for (const doc of builtinScenarios(ago(24 * 30))) await store.insertScenario(doc);
  await store.insertScenario(
    makeScenario({
      scenario_id: AGENT_SCENARIO,
      kind: 'agent',
      description: 'The pricing page of an example shop, every 6 hours',
      inputs: { url: 'https://example.com/pricing', goal: 'List every plan with its monthly price' },
      interval_minutes: 360,
      targets: { type: 'models', models: [{ provider: 'tinyfish', model_id: AUTOMATION }, { provider: 'tinyfish', model_id: MOCK_AUTOMATION }] },
    }),
  );
  await store.insertModel(makeModel({ provider: 'tinyfish', model_id: AUTOMATION, display_name: 'Pricing page', misc: { url: 'https://example.com/pricing', goal: 'List every plan' } }));
  // pricing-page: every 6 hours for 7 days, 30..57 s, first progress 2..4.7 s; a failure and a timeout.
  for (let h = 3, i = 0; h < 7 * 24; h += 6, i++) {
    const failed = h === 9;
    const timeout = h === 33;
    await store.insertAgentRun(
      makeAgentRun({
        automation: AUTOMATION,
        scenario_id: AGENT_SCENARIO,
        started_at: ago(h),
        status: failed ? 'failed' : timeout ? 'timeout' : 'completed',
        total_duration_ms: timeout ? 300_000 : 30_000 + (i % 10) * 3000,
        time_to_first_progress_ms: failed || timeout ? null : 2000 + (i % 10) * 300,
        error: failed ? 'TinyFish reported FAILED: <button> "Buy" & price not found' : timeout ? 'No COMPLETE event within 300 s' : null,
        error_kind: failed ? 'run_failed' : timeout ? 'timeout' : null,
        result: failed || timeout ? null : { plans: [{ name: 'Pro', price: 20 }] },
      }),
    );
  }
  // The demo's simulated automation: every 4 hours of the last day.
  for (let h = 2; h < 24; h += 4) {
    await store.insertAgentRun(makeAgentRun({ automation: MOCK_AUTOMATION, scenario_id: AGENT_SCENARIO, started_at: ago(h), total_duration_ms: 2200, time_to_first_progress_ms: 450, mock: true, runner: 'demo' }));
  }
}

/** Models of seedMany: provider, model, typical TTFT (s) and tokens/s. */
export const MANY_MODELS = [
  ['groq', 'llama-3.1-8b-instant', 0.12, 750],
  ['groq', 'qwen/qwen3-32b', 0.25, 400],
  ['openai', 'gpt-4o-mini', 0.45, 90],
  ['openai', 'gpt-4.1', 0.6, 70],
  ['anthropic', 'claude-sonnet-4', 0.9, 60],
  ['cerebras', 'llama-3.3-70b', 0.2, 1800],
  ['deepinfra', 'meta-llama/Meta-Llama-3.1-70B-Instruct', 0.35, 45],
] as const;
/**
 * seedMany's calls stopped by the operator (hours ago, provider, model), all of the published
 * scenario and inside its 72 hours.
 */
export const ABORTED = [
  [2.2, 'groq', 'llama-3.1-8b-instant'],
  [2.2, 'openai', 'gpt-4o-mini'],
  [30, 'anthropic', 'claude-sonnet-4'],
  [1.1, 'openai', 'gpt-gone'],
] as const;
/** A model of seedMany whose every counted call failed (and one aborted call). */
export const FAILING_MODEL = ['openai', 'gpt-gone'] as const;

/**
 * Thirty days of the published scenario for several providers, every 2 hours per model, with
 * values spread so that every percentile the site shows differs from its neighbours; failures,
 * calls stopped by the operator (aborted) and a model that never succeeds.
 */
export async function seedMany(store: Store, now = NOW): Promise<void> {
  const ago = (hours: number) => new Date(now.getTime() - hours * HOUR);
  for (const [m, [provider, model, ttft, tps]] of MANY_MODELS.entries()) {
    for (let h = 1 + m / 7, i = 0; h < 30 * 24; h += 2, i++) {
      // A spread from 0.6x to 2.2x, different for every run of the window (i * 37 mod 101).
      const k = ((i * 37 + m * 11) % 101) / 100;
      const slow = 0.6 + 1.6 * k ** 3;
      await store.insertMetric(
        makeMetric({ provider, model_name: model, run_ts: ago(h), time_to_first_token: ttft * slow, tokens_per_second: tps / slow, generate_time: 64 / (tps / slow) + ttft * slow }),
      );
      if (i % 9 === 4) await store.insertError(makeError({ provider, model_name: model, ts: ago(h + 0.5), error_kind: i % 2 ? 'timeout' : 'transient_provider', message: `Cannot stream ${provider}/${model}: HTTP 503 upstream overloaded, try again later (request id req_${i}abcdef0123456789)` }));
    }
  }
  for (let h = 3; h < 60; h += 8) {
    await store.insertError(makeError({ provider: FAILING_MODEL[0], model_name: FAILING_MODEL[1], ts: ago(h), error_kind: 'hard_model', http_status: 404, message: 'Cannot stream openai/gpt-gone: HTTP 404 The model `gpt-gone` does not exist or you do not have access to it.' }));
  }
  for (const [h, provider, model] of ABORTED) {
    await store.insertError(makeError({ provider, model_name: model, ts: ago(h), error_kind: 'aborted', http_status: null, stage: 'generate', message: 'sweep aborted (SIGTERM)' }));
  }
}
