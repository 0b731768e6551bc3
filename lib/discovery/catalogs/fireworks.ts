// Fireworks' model list lives on its management API (`https://api.fireworks.ai/v1/...`), not
// under the OpenAI-compatible inference base URL (`https://api.fireworks.ai/inference/v1`)
// the benchmark uses; its /models there lists only what the account has deployed.
import type { Config } from '../../config.ts';
import type { ProviderCatalogEntry } from '../../store/documents.ts';
import { BenchError } from '../../errors.ts';
import { MAX_PAGES, encodeQuery, getJson, isRecord, shapeError, str, type CatalogHttpOptions } from './http.ts';

/** The largest page Fireworks allows. */
const PAGE_SIZE = 200;

/**
 * The management API root for an inference base URL: `…/inference/v1` becomes `…/v1` on the
 * same origin (FIREWORKS_BASE_URL thus points discovery at a proxy or a test server too).
 */
export function fireworksApiRoot(inferenceBaseUrl: string): string {
  const u = new URL(inferenceBaseUrl);
  const path = u.pathname.replace(/\/+$/, '');
  const root = path.endsWith('/inference/v1') ? path.slice(0, -'/inference/v1'.length) : '';
  return `${u.origin}${root}/v1`;
}

/**
 * Lists the models of the public `fireworks` account that run serverless (priced per token):
 * the others need a dedicated deployment, so benchmarking them would only record
 * "dedicated endpoint" errors. Model ids are the full `accounts/fireworks/models/…` names,
 * which is what the inference API takes.
 * @throws BenchError when a call fails, the answer is not `{models: [...]}`, or the pages do
 *   not end.
 */
export async function listFireworksModels(config: Config, options: CatalogHttpOptions = {}): Promise<ProviderCatalogEntry[]> {
  const { apiKey, baseUrl } = config.providers.fireworks;
  const root = fireworksApiRoot(baseUrl);
  const entries = new Map<string, ProviderCatalogEntry>();
  let pageToken: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Record<string, string> = { filter: 'supports_serverless=true', pageSize: String(PAGE_SIZE) };
    if (pageToken) query.pageToken = pageToken;
    const url = `${root}/accounts/fireworks/models?${encodeQuery(query)}`;
    const body = await getJson(url, { ...options, headers: { authorization: `Bearer ${apiKey ?? ''}` } });
    // Fireworks leaves out empty repeated fields: an empty list comes back as `{}`.
    if (!isRecord(body) || (body.models !== undefined && !Array.isArray(body.models))) {
      throw shapeError(url, 'an object with a models array');
    }
    for (const item of (body.models as unknown[] | undefined) ?? []) {
      if (!isRecord(item)) continue;
      const id = str(item.name);
      if (id && !entries.has(id)) entries.set(id, { provider: 'fireworks', model_id: id, name: str(item.displayName), raw: item });
    }
    const next = str(body.nextPageToken);
    if (!next) return [...entries.values()];
    if (next === pageToken) throw shapeError(url, 'a new nextPageToken');
    pageToken = next;
  }
  throw new BenchError(`Fireworks model list still had more pages after ${MAX_PAGES}`, { kind: 'unknown' });
}
