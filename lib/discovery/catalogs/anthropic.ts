// Anthropic's `GET /v1/models`, paged with has_more / last_id → after_id.
import type { Config } from '../../config.ts';
import type { ProviderCatalogEntry } from '../../store/documents.ts';
import { BenchError } from '../../errors.ts';
import { MAX_PAGES, encodeQuery, getJson, isRecord, shapeError, str, type CatalogHttpOptions } from './http.ts';

/** The API version Anthropic requires in every request (the one the SDK sends too). */
const ANTHROPIC_VERSION = '2023-06-01';
/** The largest page Anthropic allows. */
const PAGE_LIMIT = 1000;

/**
 * Lists every Anthropic model, following the pages.
 * @throws BenchError when a call fails, the answer is not `{data: [...]}`, or the pages do
 *   not end.
 */
export async function listAnthropicModels(config: Config, options: CatalogHttpOptions = {}): Promise<ProviderCatalogEntry[]> {
  const { apiKey, baseUrl } = config.providers.anthropic;
  const headers = { 'x-api-key': apiKey ?? '', 'anthropic-version': ANTHROPIC_VERSION };
  const entries = new Map<string, ProviderCatalogEntry>();
  let afterId: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Record<string, string> = { limit: String(PAGE_LIMIT) };
    if (afterId) query.after_id = afterId;
    const url = `${baseUrl}/v1/models?${encodeQuery(query)}`;
    const body = await getJson(url, { ...options, headers });
    if (!isRecord(body) || !Array.isArray(body.data)) throw shapeError(url, 'an object with a data array');
    for (const item of body.data) {
      if (!isRecord(item)) continue;
      const id = str(item.id);
      if (id && !entries.has(id)) entries.set(id, { provider: 'anthropic', model_id: id, name: str(item.display_name), raw: item });
    }
    const next = str(body.last_id);
    if (body.has_more !== true) return [...entries.values()];
    if (!next || next === afterId) throw shapeError(url, 'a new last_id with has_more: true');
    afterId = next;
  }
  throw new BenchError(`Anthropic /v1/models still had more pages after ${MAX_PAGES}`, { kind: 'unknown' });
}
