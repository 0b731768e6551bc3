// Lines as mongoexport writes them (relaxed Extended JSON v2, `_id` first) of the documents the
// upstream Python system wrote (../shared/upstream-documents.md): metrics_cloud_v2 rows of the
// LEGACY (fc6d24e, llm_bench/logging.py log_mongo with the OPTIONAL_METRIC_FIELDS allowlist) and
// HEAD (c262e68, adds sample_role, benchmark_profile_id, protocol_version, attempt_group,
// attempt) shapes, and errors_cloud rows from before the error taxonomy (JAN, 7036671,
// bench_headless._log_error_mongo: no error_kind, no fingerprint). None has a run_id. Built as
// text, so the bench can write a million of them quickly; the formatting is the bson package's
// (a Date without milliseconds as "…:03Z"), so a line parsed and written again is unchanged.

/** mongoexport's (and the bson package's) relaxed date: milliseconds only when not zero. */
export function ejsonDate(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `{"$date":"${ms % 1000 === 0 ? `${iso.slice(0, -5)}Z` : iso}"}`;
}

/** An ObjectId's hex for row i written at ms, as the server makes them: 4 bytes of seconds, then a counter. */
export function objectIdHex(ms: number, i: number): string {
  return Math.floor(ms / 1000).toString(16).padStart(8, '0') + i.toString(16).padStart(16, '0');
}

export const UPSTREAM_MODELS: Array<[provider: string, model: string, requestMode: string]> = [
  ['anthropic', 'claude-3-5-haiku-20241022', 'anthropic_messages_stream'],
  ['openai', 'gpt-4o-mini', 'openai_responses_stream'],
  ['groq', 'llama-3.3-70b-versatile', 'openai_chat_stream'],
  ['bedrock', 'us.anthropic.claude-opus-4-5-20251101-v1:0', 'bedrock_converse_stream'],
  ['together', 'meta-llama/Llama-3.3-70B-Instruct-Turbo', 'openai_chat_stream'],
  ['fireworks', 'accounts/fireworks/models/deepseek-v3', 'openai_chat_stream'],
];

/**
 * Row i of an upstream metrics_cloud_v2 export: HEAD shape for even i, LEGACY for odd, run at
 * runMs; 63 full-precision gaps between tokens, as Python's time differences have them.
 */
export function upstreamMetricLine(i: number, runMs: number, random: () => number): string {
  const [provider, model, mode] = UPSTREAM_MODELS[i % UPSTREAM_MODELS.length]!;
  const genTime = 0.8 + random() * 3;
  const ttft = 0.1 + random() * 0.9;
  const tps = 64 / genTime;
  const gaps = Array.from({ length: 63 }, () => (genTime - ttft) / 63 * (0.5 + random()));
  const head = i % 2 === 0;
  const fields = [
    `"_id":{"$oid":"${objectIdHex(runMs, i)}"}`,
    `"run_ts":${ejsonDate(runMs)}`,
    `"model_name":${JSON.stringify(model)}`,
    '"temperature":0.1',
    `"gen_ts":${ejsonDate(runMs + Math.round(genTime * 1000))}`,
    '"requested_tokens":64',
    '"output_tokens":64',
    `"generate_time":${genTime}`,
    `"tokens_per_second":${tps}`,
    '"misc":{}',
    `"provider":"${provider}"`,
    `"time_to_first_token":${ttft}`,
    `"times_between_tokens":[${gaps.join(',')}]`,
    '"metrics_schema_version":2',
    '"generated_output_tokens":64',
    '"visible_output_tokens":64',
    '"reasoning_tokens":null',
    `"generated_tokens_per_second":${tps}`,
    `"visible_tokens_per_second":${tps}`,
    '"token_source":"provider_usage_output_tokens"',
    `"request_mode":"${mode}"`,
    '"ttft_available":true',
    `"input_tokens":${19 + (i % 7)}`,
    '"cached_input_tokens":0',
    `"finish_reason":"${provider === 'anthropic' ? 'max_tokens' : 'length'}"`,
    `"response_id":"resp_${objectIdHex(runMs, i)}"`,
    '"max_output_tokens_attempted":64',
    `"validation_policy":"${provider === 'anthropic' || provider === 'bedrock' ? 'strict_pm10' : 'visible_nonzero'}"`,
  ];
  if (head) {
    fields.push('"sample_role":"published"', '"benchmark_profile_id":"cloud-default-v1"', '"protocol_version":1');
    fields.push(`"attempt_group":"${provider}:${model}"`, '"attempt":1');
  }
  return `{${fields.join(',')}}`;
}

/** Row i of an upstream errors_cloud export from before the error taxonomy: no error_kind, no fingerprint. */
export function upstreamErrorLine(i: number, tsMs: number): string {
  const [provider, model] = UPSTREAM_MODELS[i % UPSTREAM_MODELS.length]!;
  return (
    `{"_id":{"$oid":"${objectIdHex(tsMs, i)}"},"provider":"${provider}","model_name":${JSON.stringify(model)},` +
    `"ts":${ejsonDate(tsMs)},"stage":"generate","message":"RateLimitError: Error code: 429 - rate limit exceeded (${i})"}`
  );
}
