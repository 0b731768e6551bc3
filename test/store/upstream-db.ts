// A corpus of the documents the upstream Python system (cipher982/llm-benchmarks) wrote to the
// operator's MongoDB, built from its code at three points in time (SPEC 4.0,
// ../shared/upstream-documents.md), dated relative to the test's now:
//   JAN    = 7036671 (2026-01-18): api/llm_bench/logging.py log_mongo (core fields only),
//            api/bench_headless.py _log_error_mongo (taxonomy fields, upstream fingerprint)
//   LEGACY = fc6d24e (2026-05-07): logging.py OPTIONAL_METRIC_FIELDS (schema v2 fields)
//   HEAD   = c262e68 (2026-08-06): scheduler/runner.py log_success_mongo (sample_role,
//            benchmark_profile_id, protocol_version, attempt_group, attempt; probe and shadow
//            rows to metrics_cloud_probe), ops/admission.py (status probing/probation/rejected)
//   PRE    = 1b6a82b (2025-08-26): bench_headless.py _log_error_mongo before the taxonomy
//            (provider, model_name, ts, stage, message, traceback only)
//   scripts/seed_model.js: a model with `added_at` and no `created_at` or `deprecated`.
// Each document says which of these it follows in `corpusShape` of the returned entry (never in
// the document itself). Values are chosen so that string order and numeric order differ
// (9.5, 10.25, 100.5 …), so a store that sorts numbers as text is caught.
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../fakes/random.ts';

export type Doc = Record<string, unknown>;
export type Shape = 'JAN' | 'LEGACY' | 'HEAD' | 'PRE' | 'SEED' | 'BRIDGE';

export interface UpstreamDb {
  models: Doc[];
  /** metrics_cloud_v2 */
  metrics: Doc[];
  /** metrics_cloud_probe (HEAD: sample_role probe or shadow) */
  probe: Doc[];
  /** errors_cloud */
  errors: Doc[];
  provider_catalog: Doc[];
  openrouter_catalog: Doc[];
  /** Which code wrote each document, by its _id. */
  shapes: Map<string, Shape>;
}

const DAY = 86_400_000;

/** Upstream's ops/error_taxonomy.py normalize_error_message and fingerprint (HEAD). */
export function upstreamNormalize(message: string): string {
  return message
    .trim()
    .toLowerCase()
    .replace(/\b(request[_ -]?id|activityid)\b\s*[:=]\s*['"]?[a-z0-9-]{8,}['"]?/gi, 'request_id=<redacted>')
    .replace(/\s+/g, ' ')
    .slice(0, 2000);
}
export function upstreamFingerprint(provider: string, model: string, stage: string, kind: string, normalized: string): string {
  return createHash('sha256').update(`${provider}\n${model}\n${stage}\n${kind}\n${normalized}`).digest('hex');
}

/** The catalogue: every lifecycle state upstream wrote, and providers we have no adapter for. */
export const CORPUS_MODELS = {
  /** created_at, all three metric eras, recurring errors. */
  gpt4oMini: { provider: 'openai', model_id: 'gpt-4o-mini' },
  /** LEGACY and HEAD rows, pre-taxonomy errors. */
  haiku: { provider: 'anthropic', model_id: 'claude-3-5-haiku-20241022' },
  /** seed_model.js: added_at, no created_at, no deprecated. */
  seeded: { provider: 'groq', model_id: 'llama-3.3-70b-versatile' },
  /** HEAD admission: probing, never admitted; only probe rows (profile cloud-default-v1). */
  probing: { provider: 'fireworks', model_id: 'accounts/fireworks/models/qwen3-235b-a22b' },
  /** HEAD admission: probation (published provisionally); published and probe rows. */
  probation: { provider: 'cerebras', model_id: 'llama3.1-8b' },
  /** HEAD admission: rejected, disabled_class hard_model, recheck_after. */
  rejected: { provider: 'deepinfra', model_id: 'Qwen/QwQ-32B-Preview' },
  /** Deprecated, deprecation_date as a Date (older dashboards wrote Dates). */
  deprecated: { provider: 'openai', model_id: 'gpt-4-0613' },
  /** Bedrock through the bridge: no benchmark_profile_id on its rows. */
  bedrock: { provider: 'bedrock', model_id: 'us.anthropic.claude-opus-4-5-20251101-v1:0' },
  /** Shadow rows of a reasoning profile beside published ones. */
  vertex: { provider: 'vertex', model_id: 'gemini-2.5-flash' },
  /** JAN rows with time_to_first_token 0: no visible token (reasoning spent the budget). */
  reasoning: { provider: 'openai', model_id: 'o4-mini' },
  /** A discovery candidate (promotion_*), not enabled. */
  candidate: { provider: 'together', model_id: 'moonshotai/Kimi-K2-Instruct' },
  /** Disabled by the operator with a disabled_class. */
  retired: { provider: 'groq', model_id: 'mixtral-8x7b-32768' },
  /** Providers with no adapter here: listed and shown, never benchmarked. */
  anyscale: { provider: 'anyscale', model_id: 'meta-llama/Llama-2-70b-chat-hf' },
  azure: { provider: 'azure', model_id: 'gpt-4o' },
  lambda: { provider: 'lambda', model_id: 'hermes3-405b' },
  openrouter: { provider: 'openrouter', model_id: 'meta-llama/llama-3.1-8b-instruct' },
} as const;

/** The error that recurs: seen 30 days ago and again in the last day (never "new"). */
export const RECURRING_MESSAGE =
  "RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o-mini on tokens per min (TPM): Limit 200000, Used 199876, Requested 412.', 'type': 'tokens', 'code': 'rate_limit_exceeded'}} request_id: 8f2c1d9e-77aa-4b1c";
/** The error first seen in the last day (the one "new" fingerprint). */
export const NEW_MESSAGE = "NotFoundError: Error code: 404 - {'error': {'message': 'The model `gpt-4o-mini-2024-07-18` has been deprecated', 'code': 'model_not_found'}}";

/**
 * Builds the operator's database as the Python system left it: `days` days of history up to
 * `now`, a run every `everyHours` hours per benchmarked model.
 */
export function buildUpstreamDb(now: Date, options: { days?: number; everyHours?: number; seed?: number } = {}): UpstreamDb {
  const days = options.days ?? 60;
  const everyHours = options.everyHours ?? 6;
  const random = seededRandom(options.seed ?? 20260807);
  const shapes = new Map<string, Shape>();
  let counter = 0;
  // ObjectId-shaped hex ids (what pymongo's insert_one adds), increasing with insertion.
  const id = (shape: Shape, t: number): string => {
    const hex = Math.floor(t / 1000).toString(16).padStart(8, '0') + (counter++).toString(16).padStart(16, '0');
    shapes.set(hex, shape);
    return hex;
  };
  const ago = (ms: number) => new Date(now.getTime() - ms);
  const M = CORPUS_MODELS;

  const models: Doc[] = [
    { ...M.gpt4oMini, enabled: true, deprecated: false, created_at: ago(400 * DAY), display_name: 'GPT-4o mini' },
    { ...M.haiku, enabled: true, deprecated: false, created_at: ago(380 * DAY), display_name: 'Claude 3.5 Haiku' },
    { ...M.seeded, enabled: true, added_at: ago(300 * DAY) },
    {
      ...M.probing, enabled: false, deprecated: false, created_at: ago(2 * DAY), status: 'probing',
      admission_started_at: ago(2 * DAY), source: 'provider_catalog',
    },
    {
      ...M.probation, enabled: true, deprecated: false, created_at: ago(20 * DAY), status: 'probation', source: 'provider_catalog',
      admission_started_at: ago(20 * DAY), promoted_at: ago(18 * DAY),
      admission_evidence: { successes: 2, windows: 2, first_success: ago(20 * DAY), last_success: ago(18 * DAY) },
    },
    {
      ...M.rejected, enabled: false, deprecated: false, created_at: ago(40 * DAY), status: 'rejected', disabled_class: 'hard_model',
      disabled_reason: 'admission: 2 definitive failures (hard_model)', disabled_at: ago(37 * DAY), disabled_by: 'admission',
      recheck_after: new Date(now.getTime() - 7 * DAY + 30 * DAY),
    },
    {
      ...M.deprecated, enabled: false, deprecated: true, created_at: ago(700 * DAY), display_name: 'GPT-4 (0613)',
      deprecation_date: new Date(Date.UTC(2025, 5, 6)), successor_model: 'gpt-4o', deprecation_reason: 'OpenAI retired the snapshot',
    },
    { ...M.bedrock, enabled: true, deprecated: false, created_at: ago(200 * DAY), misc: { omit_temperature: true } },
    { ...M.vertex, enabled: true, deprecated: false, created_at: ago(150 * DAY) },
    { ...M.reasoning, enabled: true, deprecated: false, created_at: ago(250 * DAY) },
    {
      ...M.candidate, enabled: false, deprecated: false, created_at: ago(3 * DAY), promotion_status: 'candidate',
      promotion_source: 'openrouter', promotion_openrouter_id: 'moonshotai/kimi-k2', promotion_confidence: 0.92,
      promotion_reasoning: 'same weights, provider serves serverless', promotion_reviewed_at: ago(3 * DAY),
    },
    {
      ...M.retired, enabled: false, deprecated: false, created_at: ago(600 * DAY), disabled_class: 'provider_retired',
      disabled_reason: 'Groq retired Mixtral', disabled_at: ago(100 * DAY), disabled_by: 'operator',
    },
    { ...M.anyscale, enabled: true, deprecated: false, created_at: ago(900 * DAY) },
    { ...M.azure, enabled: false, deprecated: false, created_at: ago(500 * DAY), disabled_reason: 'no Azure key any more' },
    { ...M.lambda, enabled: true, deprecated: false, created_at: ago(320 * DAY), imported_from: 'api' },
    { ...M.openrouter, enabled: true, deprecated: false, created_at: ago(330 * DAY), canonical_id: 'llama-3.1-8b-instruct' },
  ].map((m: Doc) => ({ _id: id(m.added_at ? 'SEED' : 'HEAD', now.getTime()), ...m }));

  const metrics: Doc[] = [];
  const probe: Doc[] = [];
  const errors: Doc[] = [];

  // Per-model speed: string order differs from numeric order across models and within each.
  const speed: Record<string, { tps: number; ttft: number }> = {
    'openai/gpt-4o-mini': { tps: 95.5, ttft: 0.45 },
    'anthropic/claude-3-5-haiku-20241022': { tps: 52.25, ttft: 0.62 },
    'groq/llama-3.3-70b-versatile': { tps: 310.5, ttft: 0.18 },
    'cerebras/llama3.1-8b': { tps: 1850.5, ttft: 0.21 },
    'fireworks/accounts/fireworks/models/qwen3-235b-a22b': { tps: 9.75, ttft: 1.9 },
    'bedrock/us.anthropic.claude-opus-4-5-20251101-v1:0': { tps: 41.5, ttft: 1.35 },
    'vertex/gemini-2.5-flash': { tps: 205.25, ttft: 0.38 },
    'openai/o4-mini': { tps: 120.5, ttft: 2.4 },
    'anyscale/meta-llama/Llama-2-70b-chat-hf': { tps: 25.5, ttft: 0.9 },
  };
  const jitter = (v: number) => Number((v * (0.55 + random() * 0.9)).toFixed(4));

  /** One metric row in the shape of the era its run_ts falls in (or the one asked). */
  function metric(provider: string, model_name: string, t: number, shape: Shape, extra: Doc = {}): Doc {
    const s = speed[`${provider}/${model_name}`]!;
    const tps = jitter(s.tps);
    const output_tokens = 64;
    const generate_time = Number((output_tokens / tps).toFixed(6));
    const ttft = jitter(s.ttft);
    const run_ts = new Date(Math.floor(t / 1000) * 1000); // "%Y-%m-%d %H:%M:%S": whole seconds
    const gen_ts = new Date(Math.floor((t + generate_time * 1000) / 1000) * 1000);
    const core: Doc = {
      _id: id(shape, t),
      run_ts,
      model_name,
      temperature: 0.1,
      gen_ts,
      requested_tokens: 64,
      output_tokens,
      generate_time,
      tokens_per_second: Number((output_tokens / generate_time).toFixed(6)),
      misc: {},
      provider,
      time_to_first_token: ttft,
      times_between_tokens: Array.from({ length: 8 }, () => Number((random() * 0.04).toFixed(5))),
    };
    if (shape === 'JAN') return { ...core, ...extra };
    const v2: Doc = {
      ...core,
      metrics_schema_version: 2,
      generated_output_tokens: output_tokens,
      visible_output_tokens: output_tokens,
      reasoning_tokens: null,
      cached_input_tokens: 0,
      input_tokens: 19,
      total_tokens: 83,
      generated_tokens_per_second: core.tokens_per_second,
      visible_tokens_per_second: core.tokens_per_second,
      token_source: 'provider_usage_output_tokens',
      request_mode: provider === 'anthropic' ? 'anthropic_messages_stream' : provider === 'bedrock' ? 'bedrock_converse_stream' : 'openai_chat_completions_stream',
      ttft_available: true,
      finish_reason: 'length',
      response_id: `resp-${counter}`,
      max_output_tokens_attempted: 64,
      validation_policy: 'strict_pm10',
    };
    if (shape === 'LEGACY' || shape === 'BRIDGE') return { ...v2, ...extra };
    return {
      ...v2,
      sample_role: 'published',
      benchmark_profile_id: 'cloud-default-v1',
      protocol_version: 1,
      attempt_group: `${provider}:${model_name}`,
      attempt: 1,
      ...extra,
    };
  }
  const eraOf = (t: number): Shape => (now.getTime() - t > (2 * days * DAY) / 3 ? 'JAN' : now.getTime() - t > (days * DAY) / 3 ? 'LEGACY' : 'HEAD');

  const start = now.getTime() - days * DAY;
  const step = everyHours * 3_600_000;
  for (let t = start + 600_000; t < now.getTime() - 60_000; t += step) {
    const era = eraOf(t);
    metrics.push(metric('openai', 'gpt-4o-mini', t + 1000, era));
    metrics.push(metric('groq', 'llama-3.3-70b-versatile', t + 2000, era));
    metrics.push(metric('vertex', 'gemini-2.5-flash', t + 3000, era));
    if (era !== 'JAN') metrics.push(metric('anthropic', 'claude-3-5-haiku-20241022', t + 4000, era));
    // Bedrock's remote lane posted through the bridge, which never set benchmark_profile_id.
    metrics.push(metric('bedrock', 'us.anthropic.claude-opus-4-5-20251101-v1:0', t + 5000, 'BRIDGE', { misc: { omit_temperature: true } }));
    // o4-mini: in JAN the 64-token budget often went to reasoning and no visible token came;
    // the runner wrote time_to_first_token 0 (no ttft_available field then).
    const noVisible = era === 'JAN' && random() < 0.5;
    metrics.push(
      metric('openai', 'o4-mini', t + 6000, era, noVisible ? { time_to_first_token: 0 } : era === 'JAN' ? {} : { reasoning_tokens: 30, reasoning_effort: 'low' }),
    );
    if (era === 'HEAD') {
      // Shadow rows of the reasoning profile (never published).
      probe.push(metric('vertex', 'gemini-2.5-flash', t + 7000, 'HEAD', { sample_role: 'shadow', benchmark_profile_id: 'cloud-reasoning-v1', attempt_group: `shadow:vertex:gemini-2.5-flash:${t}` }));
    }
  }
  // The probation model: probes during admission (20 to 18 days ago), published since.
  for (let t = now.getTime() - 20 * DAY; t < now.getTime() - 60_000; t += step) {
    const admitted = t > now.getTime() - 18 * DAY;
    const row = metric('cerebras', 'llama3.1-8b', t + 8000, 'HEAD', admitted ? {} : { sample_role: 'probe', attempt_group: `probe:cerebras:llama3.1-8b:${t}` });
    (admitted ? metrics : probe).push(row);
    // The probing model has only probes, with the published profile's id (SPEC 4.0).
    if (t > now.getTime() - 2 * DAY) {
      probe.push(metric('fireworks', 'accounts/fireworks/models/qwen3-235b-a22b', t + 9000, 'HEAD', { sample_role: 'probe', attempt_group: `probe:fireworks:${t}` }));
    }
  }
  // Anyscale: rows from when upstream still had that provider, long ago.
  for (let i = 0; i < 5; i++) metrics.push(metric('anyscale', 'meta-llama/Llama-2-70b-chat-hf', now.getTime() - (days + 30 + i) * DAY, 'JAN'));

  // ---- errors_cloud ----
  function upstreamError(provider: string, model_name: string, t: number, stage: string, message: string, kind: string, extra: Doc = {}): Doc {
    const normalized = upstreamNormalize(message);
    const status = /error code:\s*(\d{3})/i.exec(message);
    return {
      _id: id('LEGACY', t),
      provider,
      model_name,
      ts: new Date(t),
      stage,
      message,
      error_kind: kind,
      http_status: status ? Number(status[1]) : null,
      provider_error_code: null,
      normalized_message: normalized,
      fingerprint: upstreamFingerprint(provider, model_name, stage, kind, normalized),
      ...extra,
    };
  }
  // Pre-taxonomy rows (no error_kind, no fingerprint, no normalized_message).
  for (let i = 0; i < 6; i++) {
    const t = now.getTime() - (days - i) * DAY;
    errors.push({
      _id: id('PRE', t),
      provider: 'anthropic',
      model_name: 'claude-3-5-haiku-20241022',
      ts: new Date(t),
      stage: 'generate',
      message: "APIStatusError: {'type': 'error', 'error': {'type': 'overloaded_error', 'message': 'Overloaded'}}",
      traceback: 'Traceback (most recent call last):\n  File "api/bench_headless.py", line 301, in run_one\n',
    });
  }
  errors.push({ _id: id('PRE', now.getTime() - 50 * DAY), provider: 'groq', model_name: 'llama-3.3-70b-versatile', ts: ago(50 * DAY), stage: 'validate', message: 'empty metrics' });
  // The recurring rate limit: 30 days ago and in the last day, same words, another request id.
  errors.push(upstreamError('openai', 'gpt-4o-mini', now.getTime() - 30 * DAY, 'generate', RECURRING_MESSAGE, 'rate_limit'));
  errors.push(upstreamError('openai', 'gpt-4o-mini', now.getTime() - 5 * 3_600_000, 'generate', RECURRING_MESSAGE.replace('8f2c1d9e-77aa-4b1c', '11aa22bb-33cc-44dd'), 'rate_limit'));
  // The new one.
  errors.push(upstreamError('openai', 'gpt-4o-mini', now.getTime() - 3 * 3_600_000, 'generate', NEW_MESSAGE, 'hard_model'));
  // HEAD: a scheduler timeout, a reaper lease expiry, an LLM-reclassified unknown.
  errors.push(upstreamError('vertex', 'gemini-2.5-flash', now.getTime() - 10 * DAY, 'timeout', 'benchmark timed out after 120s', 'timeout'));
  errors.push(upstreamError('vertex', 'gemini-2.5-flash', now.getTime() - 9 * DAY, 'timeout', 'lease expired', 'timeout'));
  errors.push(
    upstreamError('deepinfra', 'Qwen/QwQ-32B-Preview', now.getTime() - 38 * DAY, 'generate', 'BadRequestError: model is only available on a dedicated endpoint', 'hard_model', { reclassified_by: 'llm' }),
  );
  // The Bedrock bridge's own stages.
  errors.push(upstreamError('bedrock', 'us.anthropic.claude-opus-4-5-20251101-v1:0', now.getTime() - 12 * DAY, 'load_provider', 'ValidationException: The provided model identifier is invalid.', 'unknown'));
  errors.push(upstreamError('bedrock', 'us.anthropic.claude-opus-4-5-20251101-v1:0', now.getTime() - 2 * DAY, 'ingest', 'ingest failed: HTTP status: 503', 'transient_provider'));

  // ---- catalogs ----
  const provider_catalog: Doc[] = [
    { _id: id('HEAD', now.getTime()), provider: 'openai', model_id: 'gpt-4o-mini', name: 'gpt-4o-mini', first_seen_at: ago(300 * DAY), last_seen_at: ago(DAY), in_our_db: true },
    { _id: id('HEAD', now.getTime()), provider: 'fireworks', model_id: 'accounts/fireworks/models/qwen3-235b-a22b', name: 'Qwen3 235B', first_seen_at: ago(3 * DAY), last_seen_at: ago(DAY), in_our_db: true },
    { _id: id('HEAD', now.getTime()), provider: 'vertex', model_id: 'gemini-2.5-flash', name: 'gemini-2.5-flash', first_seen_at: ago(100 * DAY), last_seen_at: ago(DAY), raw: { versionId: '001', launchStage: 'GA' } },
    { _id: id('HEAD', now.getTime()), provider: 'groq', model_id: 'openai/gpt-oss-120b', name: 'gpt-oss-120b', first_seen_at: ago(DAY), last_seen_at: ago(DAY) },
  ];
  const openrouter_catalog: Doc[] = [
    {
      _id: id('HEAD', now.getTime()), openrouter_id: 'openai/gpt-4o-mini', name: 'OpenAI: GPT-4o-mini', org: 'openai',
      pricing: { prompt: 1.5e-7, completion: 6e-7 }, context_length: 128000, created: new Date(Date.UTC(2024, 6, 18)),
      first_seen_at: ago(200 * DAY), last_seen_at: ago(DAY), matched_provider: 'openai', matched_model_id: 'gpt-4o-mini', match_confidence: 1, match_reasoning: 'exact',
    },
    {
      _id: id('HEAD', now.getTime()), openrouter_id: 'moonshotai/kimi-k2', name: 'MoonshotAI: Kimi K2', org: 'moonshotai',
      pricing: { prompt: 6e-7, completion: 2.5e-6 }, context_length: 0, created: null,
      first_seen_at: ago(5 * DAY), last_seen_at: ago(DAY), matched_provider: null, matched_model_id: null, match_confidence: null, match_reasoning: null,
    },
  ];
  return { models, metrics, probe, errors, provider_catalog, openrouter_catalog, shapes };
}

/** The rows a published figure may use (SPEC 4.0): not probe or shadow. */
export function isPublished(doc: Doc): boolean {
  return doc.sample_role !== 'probe' && doc.sample_role !== 'shadow';
}

/** A row's TTFT as published (SPEC 4.0): exactly 0 without ttft_available true is "none". */
export function publishedTtft(doc: Doc): number | null {
  const v = doc.time_to_first_token;
  if (typeof v !== 'number') return null;
  return v === 0 && doc.ttft_available !== true ? null : v;
}

/**
 * The database as `mongoexport --collection X --out X.json` writes it: one file per collection,
 * one relaxed Extended JSON document per line (`{"$oid": …}` ids, `{"$date": …}` dates).
 */
export async function writeMongoexport(db: UpstreamDb, dir: string): Promise<void> {
  const { BSON } = await import('mongodb');
  const { EJSON, ObjectId } = BSON;
  const files: Record<string, Doc[]> = {
    models: db.models,
    metrics_cloud_v2: db.metrics,
    metrics_cloud_probe: db.probe,
    errors_cloud: db.errors,
    provider_catalog: db.provider_catalog,
    openrouter_catalog: db.openrouter_catalog,
  };
  for (const [name, docs] of Object.entries(files)) {
    const lines = docs.map((d) => EJSON.stringify({ ...d, _id: new ObjectId(String(d._id)) }, { relaxed: true }));
    writeFileSync(join(dir, `${name}.json`), `${lines.join('\n')}\n`);
  }
}

// ---- the expected figures, from the corpus ----

/** Nearest-rank percentile over numbers sorted as numbers. */
export function rank(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}
export const inside = (t: unknown, w: { since: Date; until: Date }) => t instanceof Date && t >= w.since && t < w.until;
const scenarioOf = (d: Doc) => (typeof d.benchmark_profile_id === 'string' ? d.benchmark_profile_id : 'cloud-default-v1');

/** KPIs per (provider, model, scenario) in the window, sorted, as the plain computation gives them. */
export function expectedKpis(db: UpstreamDb, w: { since: Date; until: Date }) {
  const groups = new Map<string, { key: [string, string, string]; ttft: number[]; tps: number[]; ok: number; failed: number }>();
  const group = (provider: string, model: string, scenario: string) => {
    const k = JSON.stringify([provider, model, scenario]);
    if (!groups.has(k)) groups.set(k, { key: [provider, model, scenario], ttft: [], tps: [], ok: 0, failed: 0 });
    return groups.get(k)!;
  };
  for (const d of [...db.metrics, ...db.probe].filter((d) => isPublished(d) && inside(d.run_ts, w))) {
    const g = group(d.provider as string, d.model_name as string, scenarioOf(d));
    g.ok++;
    g.tps.push(d.tokens_per_second as number);
    const ttft = publishedTtft(d);
    if (ttft !== null) g.ttft.push(ttft);
  }
  for (const e of db.errors.filter((e) => inside(e.ts, w))) group(e.provider as string, e.model_name as string, scenarioOf(e)).failed++;
  return [...groups.values()]
    .sort((a, b) => (JSON.stringify(a.key) < JSON.stringify(b.key) ? -1 : 1))
    .map((g) => [...g.key, g.ok, g.failed, rank(g.ttft, 50), rank(g.ttft, 95), rank(g.tps, 50), rank(g.tps, 99)]);
}

