// Vertex AI Model Garden's list of Google's publisher models (Gemini and the rest), paged with
// pageToken / nextPageToken.
import type { Config } from '../../config.ts';
import type { ProviderCatalogEntry } from '../../store/documents.ts';
import { BenchError } from '../../errors.ts';
import { MAX_PAGES, encodeQuery, getJson, isRecord, shapeError, str, type CatalogHttpOptions } from './http.ts';

const PAGE_SIZE = 100;

/**
 * The aiplatform endpoint Google documents for a location (the same rule as
 * lib/bench/providers/vertex.ts, which keeps its copy private).
 */
function vertexRoot(location: string): string {
  if (location === 'global') return 'https://aiplatform.googleapis.com';
  if (location === 'us' || location === 'eu') return `https://aiplatform.${location}.rep.googleapis.com`;
  return `https://${location}-aiplatform.googleapis.com`;
}

/**
 * Lists `publishers/google/models` with VERTEX_ACCESS_TOKEN as the bearer token. Model ids are
 * the short names (`gemini-2.5-flash`), as the Vertex provider takes them.
 * @throws BenchError when a call fails, the answer is not `{publisherModels: [...]}`, or the
 *   pages do not end.
 */
export async function listVertexModels(config: Config, options: CatalogHttpOptions = {}): Promise<ProviderCatalogEntry[]> {
  const v = config.providers.vertex;
  const root = v.baseUrl ?? vertexRoot(v.location);
  const headers: Record<string, string> = { authorization: `Bearer ${v.accessToken ?? ''}` };
  // Bills the quota to the configured project rather than the token's default one.
  if (v.project) headers['x-goog-user-project'] = v.project;
  const entries = new Map<string, ProviderCatalogEntry>();
  let pageToken: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Record<string, string> = { pageSize: String(PAGE_SIZE) };
    if (pageToken) query.pageToken = pageToken;
    const url = `${root}/v1beta1/publishers/google/models?${encodeQuery(query)}`;
    const body = await getJson(url, { ...options, headers });
    // Google's JSON leaves out empty repeated fields: an empty list comes back as `{}`.
    if (!isRecord(body) || (body.publisherModels !== undefined && !Array.isArray(body.publisherModels))) {
      throw shapeError(url, 'an object with a publisherModels array');
    }
    for (const item of (body.publisherModels as unknown[] | undefined) ?? []) {
      if (!isRecord(item)) continue;
      const name = str(item.name);
      const id = name ? name.slice(name.lastIndexOf('/') + 1) : null;
      if (id && !entries.has(id)) entries.set(id, { provider: 'vertex', model_id: id, name: null, raw: item });
    }
    const next = str(body.nextPageToken);
    if (!next) return [...entries.values()];
    if (next === pageToken) throw shapeError(url, 'a new nextPageToken');
    pageToken = next;
  }
  throw new BenchError(`Vertex publisher model list still had more pages after ${MAX_PAGES}`, { kind: 'unknown' });
}
