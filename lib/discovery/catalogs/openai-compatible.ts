// OpenAI's `GET /models` and the same endpoint on the OpenAI-compatible hosts (Groq,
// Together, DeepInfra, Cerebras), each under the base URL the benchmark uses.
import type { Config } from '../../config.ts';
import type { ProviderCatalogEntry } from '../../store/documents.ts';
import { getJson, isRecord, shapeError, str, type CatalogHttpOptions } from './http.ts';

export type OpenAIListProvider = 'openai' | 'groq' | 'together' | 'deepinfra' | 'cerebras';

/**
 * Lists a provider's models with its API key as a bearer token. The answer is
 * `{"object":"list","data":[{id, …}]}`, except Together, whose /models returns a bare array.
 * These endpoints are not paginated: one answer holds the whole list.
 * @throws BenchError when the call fails or the answer has neither shape.
 */
export async function listOpenAICompatibleModels(
  provider: OpenAIListProvider,
  config: Config,
  options: CatalogHttpOptions = {},
): Promise<ProviderCatalogEntry[]> {
  const { apiKey, baseUrl } = config.providers[provider];
  const url = `${baseUrl}/models`;
  const body = await getJson(url, { ...options, headers: { authorization: `Bearer ${apiKey ?? ''}` } });
  const items = Array.isArray(body) ? body : isRecord(body) && Array.isArray(body.data) ? body.data : null;
  if (!items) throw shapeError(url, 'an object with a data array (or, from Together, an array)');
  const entries = new Map<string, ProviderCatalogEntry>();
  for (const item of items) {
    if (!isRecord(item)) continue;
    const id = str(item.id);
    if (!id || entries.has(id)) continue;
    // Together names its models (display_name); OpenAI, Groq, DeepInfra and Cerebras do not.
    entries.set(id, { provider, model_id: id, name: str(item.display_name) ?? str(item.name), raw: item });
  }
  return [...entries.values()];
}
