// Deterministic matching between OpenRouter ids and the ids each provider uses for the same
// model, by reducing both to one comparison key. Only differences that never distinguish two
// models are dropped (case, org prefix, date and version suffixes, routing tags, serving
// suffixes, '.' vs '-'); sizes, version numbers and variant words (mini, lite, thinking,
// preview, turbo without instruct) are kept, so 8b never meets 70b nor 3.1 meets 3.3.

// Words the hosts append to the same weights: Groq's `-versatile` / `-instant`, Fireworks'
// `-basic`, Together's `-tput`, Hugging Face's `-hf`, quantisation tags, aliases' `-latest`, and `instruct`,
// which OpenRouter and the hosts use inconsistently for the chat-tuned model they all serve.
const SERVING_WORDS = new Set(['instruct', 'versatile', 'instant', 'basic', 'tput', 'hf', 'latest', 'fp8', 'fp16', 'bf16']);

// Bedrock's cross-region inference profile prefixes.
const BEDROCK_GEO = /^(us|eu|apac|ap|ca|jp|au|us-gov|global)\./;

/**
 * The comparison key of a model id, e.g. `claude-sonnet-4` for `anthropic/claude-sonnet-4`,
 * `claude-sonnet-4-20250514` and (provider bedrock) `us.anthropic.claude-sonnet-4-20250514-v1:0`;
 * `llama-3-3-70b` for `meta-llama/llama-3.3-70b-instruct`, `llama-3.3-70b-versatile` and
 * `accounts/fireworks/models/llama-v3p3-70b-instruct`. The provider decides only whether
 * Bedrock's `geo.vendor.model-vN:M` form is unpacked.
 */
export function modelKey(modelId: string, provider?: string): string {
  let s = modelId.trim().toLowerCase();
  // Fireworks `accounts/<account>/models/<name>`, Vertex `publishers/<p>/models/<name>`,
  // OpenRouter / Together / DeepInfra `<org>/<name>`: the name is the last segment.
  s = s.slice(s.lastIndexOf('/') + 1);
  if (provider === 'bedrock') {
    s = s.replace(BEDROCK_GEO, '');
    // The vendor (`anthropic.`, `meta.`, `amazon.`, `openai.`…), when a model name follows.
    s = s.replace(/^[a-z0-9-]+\.(?=[a-z])/, '');
    // The version: `-v1:0`, `-v2:0:200k` (context variants), `-1:0` (OpenAI's gpt-oss).
    if (/:[a-z0-9]+$/.test(s)) s = s.replace(/(:[a-z0-9]+)+$/, '').replace(/-v?\d+$/, '');
  } else {
    // OpenRouter's routing variants: `:free`, `:beta`, `:thinking`, `:extended`, `:nitro`…
    s = s.replace(/:[a-z0-9-]+$/, '');
  }
  // Release dates: `-20250514`, Vertex's `@20250514`, OpenAI's `-2024-08-06`. Short version
  // stamps such as Qwen's `-2507` or DeepSeek's `-0324` name different weights and stay.
  s = s.replace(/[-_@]20\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=$|[-_:@])/g, '');
  s = s.replace(/-20\d{2}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(?=$|-)/g, '');
  // Punctuation: `3.3`, `3_3` and `3-3` are the same; Fireworks writes `3p3` (and `2p5`).
  s = s.replace(/[._\s@]+/g, '-').replace(/(\d)p(\d)/g, '$1-$2');
  // A first version's `-v1` (OpenRouter's `amazon/nova-pro-v1` is Bedrock's `amazon.nova-pro-v1:0`,
  // whose `-v1:0` went above); `-v0-1` against `-v0-3` stays.
  s = s.replace(/-v1$/, '');

  const tokens: string[] = [];
  for (const t of s.split('-')) {
    if (!t) continue;
    // `llama3` / `qwen2` / `r1` against `llama-3` / `qwen-2` / `r-1`; Fireworks' `v3` in `llama-v3`.
    const m = /^([a-z]+)(\d+)$/.exec(t);
    if (m && m[1] === 'v') tokens.push(m[2]!);
    else if (m) tokens.push(m[1]!, m[2]!);
    else tokens.push(t);
  }
  // Together's `-Instruct-Turbo` is its FP8 serving of the instruct model; `gpt-4-turbo` is not `gpt-4`.
  const instruct = tokens.includes('instruct');
  const kept = tokens.filter((t) => !SERVING_WORDS.has(t) && !(instruct && t === 'turbo'));
  // Together's older `Meta-Llama-3.1-…` names against everyone's `llama-3.1-…`.
  if (kept[0] === 'meta' && kept[1] === 'llama') kept.shift();
  return kept.join('-');
}

/** What matching needs of an OpenRouter catalog entry. */
export interface OpenRouterLike {
  openrouter_id: string;
}

/**
 * Indexes OpenRouter entries by comparison key. When several share a key (`x`, `x:free`,
 * `x:thinking`), the plain id wins, then the shortest, then the first in alphabetical order,
 * so the choice never depends on the order the catalog came in.
 */
export function indexOpenRouter<T extends OpenRouterLike>(entries: readonly T[]): Map<string, T> {
  const index = new Map<string, T>();
  for (const e of entries) {
    const key = modelKey(e.openrouter_id);
    if (!key) continue;
    const current = index.get(key);
    if (!current || preferred(e.openrouter_id, current.openrouter_id)) index.set(key, e);
  }
  return index;
}

function preferred(a: string, b: string): boolean {
  const tagA = a.includes(':');
  const tagB = b.includes(':');
  if (tagA !== tagB) return !tagA;
  if (a.length !== b.length) return a.length < b.length;
  return a < b;
}

/** The OpenRouter entry for a provider's model id, or null when none matches. */
export function matchOpenRouter<T extends OpenRouterLike>(index: Map<string, T>, model: { provider: string; id: string }): T | null {
  const key = modelKey(model.id, model.provider);
  return key ? (index.get(key) ?? null) : null;
}

/** True when two ids (each with its provider, or 'openrouter') name the same model. */
export function sameModel(a: { provider: string; id: string }, b: { provider: string; id: string }): boolean {
  const ka = modelKey(a.id, a.provider);
  return ka !== '' && ka === modelKey(b.id, b.provider);
}
