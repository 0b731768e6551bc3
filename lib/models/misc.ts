// The quirks a model's `misc` may hold: the keys the adapters read, with their types and the
// providers whose adapters read them. `models.ts add --misc` is checked against this table, so
// a typo (`omit_temprature`) or a wrong value (`region: "nowhere"`) is refused when the model is
// added, not found at 3 a.m. as a call that silently ignored it. An adapter that learns a new
// key registers it here (registerMiscKey), next to the code that reads it.
import { checkMiscPrice } from '../bench/cost.ts';
import { COMPAT_BASE_URLS } from '../config.ts';

export interface MiscKey {
  /** The value's type in words, for messages ("true or false", "a region name such as us-west-2"). */
  type: string;
  /** Whether the value is acceptable for this provider. */
  valid: (value: unknown, provider: string) => boolean;
  /** The providers whose adapters read the key. */
  providers: readonly string[];
  /** What the key does, one line. */
  description: string;
}

const COMPAT = Object.keys(COMPAT_BASE_URLS);
// Every real provider's adapter honours omit_temperature; mock reads no misc at all.
const ALL_REAL = ['openai', 'anthropic', ...COMPAT, 'bedrock', 'vertex'];

const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: unknown) => typeof v === 'string' && v.trim() !== '';

const KEYS = new Map<string, MiscKey>();

/**
 * Adds a key to the table (for modules that bring their own quirks, e.g. a new provider).
 * @throws Error when the key is already registered: two meanings for one key is a bug.
 */
export function registerMiscKey(name: string, key: MiscKey): void {
  if (KEYS.has(name)) throw new Error(`misc key ${name} is already registered`);
  KEYS.set(name, key);
}

registerMiscKey('omit_temperature', {
  type: 'true or false',
  valid: (v) => typeof v === 'boolean',
  providers: ALL_REAL,
  description: 'send no temperature (models that refuse one)',
});
registerMiscKey('price', {
  // Read by lib/bench/cost.ts (SPEC 17): overrides the OpenRouter catalog's price.
  type: 'an object {"input": USD, "output": USD} per million tokens',
  valid: (v) => checkMiscPrice(v) === null,
  providers: ALL_REAL,
  description: 'the price per million input and output tokens, for cost_usd and the budget',
});
registerMiscKey('region', {
  // Bedrock's adapter accepts exactly this shape (lib/bench/providers/bedrock.ts); Vertex
  // locations are the same shape without the last dash (us-central1, europe-west4) or global.
  type: 'a region name such as us-west-2 (Bedrock) or us-east5 (Vertex)',
  valid: (v, provider) =>
    typeof v === 'string' && (provider === 'bedrock' ? /^[a-z]{2}(-[a-z]+)+-\d+$/ : /^([a-z]{2,}(-[a-z]+)+\d+|global)$/).test(v),
  providers: ['bedrock', 'vertex'],
  description: 'the region (Bedrock) or location (Vertex) to call',
});
registerMiscKey('additional_model_request_fields', {
  type: 'a JSON object',
  valid: isObject,
  providers: ['bedrock'],
  description: "passed as ConverseStream's additionalModelRequestFields",
});
registerMiscKey('max_tokens_param', {
  type: '"max_tokens" or "max_completion_tokens"',
  valid: (v) => v === 'max_tokens' || v === 'max_completion_tokens',
  providers: [...COMPAT, 'vertex'],
  description: 'which parameter carries the token budget (chat completions)',
});
registerMiscKey('reasoning', {
  type: 'true or false',
  valid: (v) => typeof v === 'boolean',
  providers: ['openai'],
  description: "treat the model as a reasoning model (or not), whatever its id's family",
});
registerMiscKey('reasoning_effort', {
  type: 'a string such as "low" (passed through as written)',
  valid: nonEmptyString,
  providers: ['openai'],
  description: 'reasoning effort for reasoning models (default low)',
});
registerMiscKey('thinking_budget', {
  type: 'a whole number of tokens, 0 or more',
  valid: (v) => Number.isInteger(v) && (v as number) >= 0,
  providers: ['vertex'],
  description: 'Gemini thinking tokens (0 turns thinking off where the model allows)',
});

/** The registered keys, sorted. */
export function miscKeys(): string[] {
  return [...KEYS.keys()].sort();
}

/** Every problem with a model's misc for its provider, one sentence each; empty when fine. */
export function miscProblems(provider: string, misc: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const [name, value] of Object.entries(misc)) {
    const key = KEYS.get(name);
    if (!key) {
      const near = closest(name, [...KEYS.keys()]);
      const known = miscKeys().filter((k) => KEYS.get(k)!.providers.includes(provider));
      problems.push(
        `unknown key ${name}${near ? `: did you mean ${near}?` : ''} (${provider} understands ${known.length ? known.join(', ') : 'no misc keys'})`,
      );
    } else if (!key.providers.includes(provider)) {
      problems.push(`${name} is read only for ${key.providers.join(', ')}, not ${provider}`);
    } else if (!key.valid(value, provider)) {
      problems.push(`${name} must be ${key.type} (got ${JSON.stringify(value)})`);
    }
  }
  return problems;
}

/** The known key nearest to name within an edit distance of 3, or null. */
function closest(name: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestDistance = 4;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
