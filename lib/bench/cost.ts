// What a call costs (SPEC 17). A model's price comes from its misc.price (what the operator
// says this provider charges), else from the OpenRouter catalog discovery keeps, matched by
// discovery's own matcher, else it is unknown: cost_usd is then null, never 0.
import { indexOpenRouter, matchOpenRouter } from '../discovery/model-match.ts';
import type { MetricDoc, OpenRouterCatalogDoc } from '../store/documents.ts';

/** USD per million tokens, and where the figure came from. */
export interface Price {
  input: number;
  output: number;
  /** misc.price; OpenRouter's list price (may differ from this provider's own); the mock (free). */
  source: 'misc' | 'openrouter' | 'mock';
  /** The catalog entry the price was taken from (source openrouter). */
  openrouterId?: string;
}

export interface PricedModel {
  provider: string;
  modelId: string;
  misc?: Record<string, unknown>;
}

export interface PriceBook {
  /** The model's price, or null when none is known. */
  priceOf(model: PricedModel): Price | null;
  /** The model's context window in tokens (misc.context_window, else the catalog's), or null when unknown. */
  contextOf?(model: PricedModel): number | null;
}

const PER_MILLION = 1_000_000;

/**
 * Checks a misc.price value: an object with `input` and `output`, each a finite number of USD
 * per million tokens, 0 or more, and nothing else.
 * @returns a message naming what is wrong, or null when the value is a valid price.
 */
export function checkMiscPrice(value: unknown): string | null {
  const example = 'e.g. {"price":{"input":0.59,"output":0.79}} (USD per million tokens)';
  if (!value || typeof value !== 'object' || Array.isArray(value)) return `misc.price must be an object with input and output, ${example}`;
  const record = value as Record<string, unknown>;
  const extra = Object.keys(record).filter((k) => k !== 'input' && k !== 'output');
  if (extra.length > 0) return `misc.price has unknown field(s) ${extra.join(', ')}: only input and output, ${example}`;
  for (const side of ['input', 'output'] as const) {
    const v = record[side];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      return `misc.price.${side} must be a number of USD per million tokens, 0 or more (got ${JSON.stringify(v) ?? 'nothing'}), ${example}`;
    }
  }
  return null;
}

/**
 * A price book over the OpenRouter catalog as the store keeps it (prices there are USD per
 * token). A catalog entry without both prices gives no price: half a price would make a cost
 * that looks known and is not.
 */
export function createPriceBook(catalog: readonly OpenRouterCatalogDoc[]): PriceBook {
  const index = indexOpenRouter(catalog);
  return {
    priceOf(model) {
      const own = model.misc?.price;
      if (own !== undefined) {
        // An invalid misc.price (models.ts refuses one; a hand-edited row may have it) is
        // unknown rather than silently replaced by the catalog's figure.
        if (checkMiscPrice(own) !== null) return null;
        const p = own as { input: number; output: number };
        return { input: p.input, output: p.output, source: 'misc' };
      }
      // The mock provider's calls are simulated: they cost nothing, which is known.
      if (model.provider === 'mock') return { input: 0, output: 0, source: 'mock' };
      const entry = matchOpenRouter(index, { provider: model.provider, id: model.modelId });
      if (!entry || entry.pricing.prompt === null || entry.pricing.completion === null) return null;
      return {
        input: entry.pricing.prompt * PER_MILLION,
        output: entry.pricing.completion * PER_MILLION,
        source: 'openrouter',
        openrouterId: entry.openrouter_id,
      };
    },
    contextOf(model) {
      const own = model.misc?.context_window;
      if (typeof own === 'number' && Number.isInteger(own) && own > 0) return own;
      if (model.provider === 'mock') return null;
      return matchOpenRouter(index, { provider: model.provider, id: model.modelId })?.context_length ?? null;
    },
  };
}

/**
 * The cost of the tokens a metric row reports, in USD, or null when the price or the input
 * count (at a non-zero input price) is unknown. Output is every generated token (reasoning included: it is billed).
 * Cached input tokens are priced as ordinary input, so a discount makes this an upper bound.
 * Earlier requests inside one call (OpenAI's larger-budget retry) are not in the row's usage
 * and so not in its cost.
 */
export function costOf(metric: Pick<MetricDoc, 'input_tokens' | 'generated_output_tokens'>, price: Price | null): number | null {
  if (!price || !Number.isFinite(metric.generated_output_tokens)) return null;
  // Free input makes the input count irrelevant (the mock reports none).
  const input = price.input === 0 ? 0 : metric.input_tokens === null ? null : metric.input_tokens * price.input;
  return input === null ? null : (input + metric.generated_output_tokens * price.output) / PER_MILLION;
}

/** A price as the operator reads it: "$0.59 in / $0.79 out per M tokens (misc.price)". */
export function formatPrice(price: Price | null): string {
  if (!price) return 'price unknown';
  const where = price.source === 'misc' ? 'misc.price' : price.source === 'mock' ? 'simulated' : `OpenRouter ${price.openrouterId}`;
  return `$${trim(price.input)} in / $${trim(price.output)} out per M tokens (${where})`;
}

/** Dollars with enough digits for a benchmark call's fractions of a cent. */
export function formatUsd(usd: number | null): string {
  if (usd === null) return '-';
  if (usd === 0) return '$0';
  return usd >= 1 ? `$${usd.toFixed(2)}` : `$${usd.toPrecision(3).replace(/\.?0+$/, '')}`;
}

function trim(n: number): string {
  return String(Number(n.toPrecision(6)));
}
