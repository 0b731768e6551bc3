// Builders for complete, valid documents, so tests state only the fields they care about.
import { randomUUID } from 'node:crypto';
import type { AgentRunDoc, ErrorDoc, MetricDoc, ModelDoc, ScenarioDoc } from '../lib/store/documents.ts';
import { buildErrorDoc } from '../lib/errors.ts';
import type { HealthReport } from '../lib/health/report.ts';
import type { SweepModel } from '../lib/bench/due.ts';

export function makeMetric(overrides: Partial<MetricDoc> = {}): MetricDoc {
  const run_ts = overrides.run_ts ?? new Date('2026-11-20T10:00:00.000Z');
  const generate_time = overrides.generate_time ?? 1.6;
  const output_tokens = overrides.output_tokens ?? 64;
  const tps = output_tokens / generate_time;
  return {
    provider: 'groq',
    model_name: 'llama-3.3-70b-versatile',
    run_ts,
    gen_ts: new Date(run_ts.getTime() + generate_time * 1000),
    tokens_per_second: tps,
    generate_time,
    time_to_first_token: 0.25,
    output_tokens,
    requested_tokens: 64,
    generated_tokens_per_second: tps,
    visible_tokens_per_second: tps,
    temperature: 0.1,
    misc: {},
    times_between_tokens: [0.02, 0.021, 0.019],
    metrics_schema_version: 2,
    run_id: randomUUID(),
    generated_output_tokens: output_tokens,
    visible_output_tokens: output_tokens,
    reasoning_tokens: null,
    input_tokens: 14,
    cached_input_tokens: null,
    total_tokens: 78,
    token_source: 'provider_usage',
    request_mode: 'openai_chat_stream',
    ttft_available: true,
    time_to_first_byte: 0.2,
    time_to_first_reasoning_token: null,
    decode_tokens_per_second: 47.5,
    chunk_count: 64,
    inter_chunk_ms: { p50: 20, p90: 22, p99: 30, max: 31 },
    provider_latency_ms: null,
    finish_reason: 'length',
    response_id: 'chatcmpl-1',
    attempts_count: 1,
    max_output_tokens_attempted: 64,
    reasoning_effort: null,
    validation_policy: 'visible_nonzero',
    benchmark_profile_id: 'cloud-default-v1',
    runner: 'test',
    ...overrides,
  };
}

export function makeError(overrides: Partial<ErrorDoc> = {}): ErrorDoc {
  const base = buildErrorDoc({
    provider: overrides.provider ?? 'groq',
    model_name: overrides.model_name ?? 'llama-3.3-70b-versatile',
    ts: overrides.ts ?? new Date('2026-11-20T10:00:00.000Z'),
    stage: overrides.stage ?? 'generate',
    error_kind: overrides.error_kind ?? 'rate_limit',
    message: overrides.message ?? 'Cannot stream groq/llama-3.3-70b-versatile: HTTP 429 rate limited',
    http_status: overrides.http_status ?? 429,
    run_id: overrides.run_id ?? randomUUID(),
    benchmark_profile_id: 'cloud-default-v1',
    runner: 'test',
  });
  return { ...base, ...(overrides.fingerprint ? { fingerprint: overrides.fingerprint } : {}) };
}

export function makeModel(overrides: Partial<ModelDoc> = {}): ModelDoc {
  return {
    provider: 'groq',
    model_id: 'llama-3.3-70b-versatile',
    enabled: true,
    deprecated: false,
    created_at: new Date('2026-11-01T00:00:00.000Z'),
    ...overrides,
  };
}

/**
 * A daily report with nothing wrong, generated 2026-11-20 08:00Z over the day before: one
 * provider (alpha) with 48 successful calls, a day of 30-minute sweeps.
 */
export function makeHealthReport(overrides: Partial<HealthReport> = {}): HealthReport {
  const generated_at = new Date('2026-11-20T08:00:00.000Z');
  return {
    generated_at,
    window: { since: new Date('2026-11-19T08:00:00.000Z'), until: generated_at, days: 1 },
    baseline: { since: new Date('2026-11-12T08:00:00.000Z'), until: new Date('2026-11-19T08:00:00.000Z') },
    sweep_period_minutes: 30,
    stale_after_minutes: 90,
    totals: { successes: 48, errors: 0, error_rate: 0 },
    providers: [{ provider: 'alpha', successes: 48, errors: 0, error_rate: 0 }],
    errors_by_kind: [],
    failing_models: [],
    only_errors: [],
    new_fingerprints: [],
    stale_models: [],
    regressions: [],
    sparklines: [],
    suggested_commands: [],
    ...overrides,
  };
}

/** The scenario of a sweep pair as lib/bench/due.ts builds it: the upstream prompt, 64 tokens, a nonce when it defeats caches. */
export function sweepScenario(id: string, nonce: string | null): NonNullable<SweepModel['scenario']> {
  return {
    kind: 'llm',
    id,
    intervalMinutes: 30,
    prompt: 'Tell a long and happy story about the history of the world.',
    maxTokens: 64,
    temperature: 0.1,
    cacheDefeatNonce: nonce,
  };
}

export function makeScenario(overrides: Partial<ScenarioDoc> = {}): ScenarioDoc {
  return {
    scenario_id: 'probe-long-v1',
    description: 'A longer answer',
    kind: 'llm',
    inputs: { prompt: 'Tell a long and happy story about the history of the world.', max_tokens: 512, temperature: 0.1 },
    interval_minutes: 360,
    concurrency: 1,
    targets: { type: 'all' },
    enabled: true,
    created_at: new Date('2026-11-01T00:00:00.000Z'),
    updated_at: new Date('2026-11-01T00:00:00.000Z'),
    ...overrides,
  };
}

export function makeAgentRun(overrides: Partial<AgentRunDoc> = {}): AgentRunDoc {
  const started_at = overrides.started_at ?? new Date('2026-11-20T10:00:00.000Z');
  const total = overrides.total_duration_ms ?? 42_000;
  return {
    run_id: randomUUID(),
    provider: 'tinyfish',
    automation: 'pricing-page',
    scenario_id: 'agent-default-v1',
    started_at,
    finished_at: new Date(started_at.getTime() + total),
    status: 'completed',
    total_duration_ms: total,
    time_to_started_ms: 350,
    time_to_first_progress_ms: 2100,
    progress_events: 7,
    event_count: 12,
    inter_event_ms: { p50: 3000, p90: 6000, p99: 9000, max: 9100 },
    tinyfish_run_id: 'run_123',
    endpoint: 'run-sse',
    tinyfish_status: 'COMPLETED',
    result: { plans: [{ name: 'Pro', price: 20 }] },
    result_truncated: false,
    error: null,
    error_kind: null,
    http_status: null,
    runner: 'test',
    mock: false,
    sweep_started_at: started_at,
    ...overrides,
  };
}
