// OpenRouter's public model list (no key needed): the market-wide catalog that gives the
// discovery report its prices and context lengths.
import type { Config } from '../../config.ts';
import type { OpenRouterEntry } from '../../store/documents.ts';
import { getJson, isRecord, shapeError, str, type CatalogHttpOptions } from './http.ts';

/**
 * Fetches `GET {OPENROUTER_BASE_URL}/models`: `data[]` of {id, name, created (unix seconds),
 * context_length, pricing {prompt, completion} as strings of USD per token}.
 * @throws BenchError when the call fails or the answer has no `data` array.
 */
export async function fetchOpenRouterCatalog(config: Config, options: CatalogHttpOptions = {}): Promise<OpenRouterEntry[]> {
  const url = `${config.providers.openrouter.baseUrl}/models`;
  const body = await getJson(url, options);
  if (!isRecord(body) || !Array.isArray(body.data)) throw shapeError(url, 'an object with a data array');
  const entries = new Map<string, OpenRouterEntry>();
  for (const item of body.data) {
    const entry = toEntry(item);
    if (entry && !entries.has(entry.openrouter_id)) entries.set(entry.openrouter_id, entry);
  }
  return [...entries.values()];
}

function toEntry(item: unknown): OpenRouterEntry | null {
  if (!isRecord(item)) return null;
  const id = str(item.id);
  if (!id) return null;
  const pricing = isRecord(item.pricing) ? item.pricing : {};
  const slash = id.indexOf('/');
  return {
    openrouter_id: id,
    name: str(item.name) ?? id,
    org: slash > 0 ? id.slice(0, slash) : '',
    pricing: { prompt: price(pricing.prompt), completion: price(pricing.completion) },
    context_length: positiveInt(item.context_length),
    created: typeof item.created === 'number' && item.created > 0 ? new Date(item.created * 1000) : null,
  };
}

/**
 * USD per token, or null when unknown. OpenRouter quotes "-1" for routers whose price depends
 * on the model they pick (openrouter/auto): that is not a price. "0" is a real price (free).
 */
function price(v: unknown): number | null {
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  if (typeof v === 'string' && !v.trim()) return null;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : null;
}

function positiveInt(v: unknown): number | null {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null;
}
