// Which model catalogs discovery reads, whether each is configured, and the fetch run that
// reads them all into the store (SPEC 11). One source's failure never stops the others.
import { PROVIDERS, type Config, type ProviderName } from '../config.ts';
import type { ErrorKind, OpenRouterEntry, ProviderCatalogEntry } from '../store/documents.ts';
import { classifyError } from '../errors.ts';
import { silentLogger, type Logger } from '../log.ts';
import type { Store, UpsertCounts } from '../store/store.ts';
import { listAnthropicModels } from './catalogs/anthropic.ts';
import { listBedrockModels, type AwsCredentialsProvider } from './catalogs/bedrock.ts';
import { listFireworksModels } from './catalogs/fireworks.ts';
import type { CatalogHttpOptions } from './catalogs/http.ts';
import { listOpenAICompatibleModels } from './catalogs/openai-compatible.ts';
import { fetchOpenRouterCatalog } from './catalogs/openrouter.ts';
import { listVertexModels } from './catalogs/vertex.ts';

/** Every catalog, in the order they are fetched and printed. */
export type CatalogSource = 'openrouter' | Exclude<ProviderName, 'mock' | 'tinyfish'>;
export const CATALOG_SOURCES: readonly CatalogSource[] = [
  'openrouter',
  // Every real provider has a model list; the mock has nothing to discover, and TinyFish
  // automations are the operator's own (url + goal), not a vendor catalog.
  ...PROVIDERS.filter((p): p is Exclude<ProviderName, 'mock' | 'tinyfish'> => p !== 'mock' && p !== 'tinyfish'),
];

export function isCatalogSource(name: string): name is CatalogSource {
  return (CATALOG_SOURCES as readonly string[]).includes(name);
}

export interface CatalogFetchOptions extends CatalogHttpOptions {
  /** Bedrock's AWS credentials; defaults to the AWS SDK's default chain. */
  awsCredentials?: AwsCredentialsProvider;
}

/** Why a source cannot be fetched with this configuration, or null when it can. */
export function skipReason(source: CatalogSource, config: Config): string | null {
  switch (source) {
    case 'openrouter':
      return null; // public, no key needed
    case 'bedrock':
      return config.providers.bedrock.hasCredentials
        ? null
        : 'no AWS credentials configured (AWS_ACCESS_KEY_ID, AWS_PROFILE, AWS_WEB_IDENTITY_TOKEN_FILE, container credentials or BEDROCK_USE_INSTANCE_ROLE=true)';
    case 'vertex':
      return config.providers.vertex.accessToken ? null : 'VERTEX_ACCESS_TOKEN is not set';
    default:
      return config.providers[source].apiKey ? null : `${source.toUpperCase()}_API_KEY is not set`;
  }
}

/**
 * Fetches one provider's catalog (every page).
 * @throws BenchError, classified, with a one-line message naming the URL and the problem.
 */
export function fetchProviderCatalog(
  source: Exclude<CatalogSource, 'openrouter'>,
  config: Config,
  options: CatalogFetchOptions = {},
): Promise<ProviderCatalogEntry[]> {
  switch (source) {
    case 'anthropic':
      return listAnthropicModels(config, options);
    case 'fireworks':
      return listFireworksModels(config, options);
    case 'bedrock':
      return listBedrockModels(config, { ...options, ...(options.awsCredentials ? { credentials: options.awsCredentials } : {}) });
    case 'vertex':
      return listVertexModels(config, options);
    default:
      return listOpenAICompatibleModels(source, config, options);
  }
}

export type SourceResult =
  | { source: CatalogSource; status: 'skipped'; reason: string }
  | { source: CatalogSource; status: 'failed'; kind: ErrorKind; message: string }
  | { source: CatalogSource; status: 'fetched'; fetched: number; new: number };

export interface FetchRunOptions extends CatalogFetchOptions {
  /** Stamped as first_seen_at / last_seen_at. */
  now?: () => Date;
  /** Only these sources (default: all). */
  only?: readonly CatalogSource[];
  log?: Logger;
}

export interface FetchRunResult {
  results: SourceResult[];
  /** True when at least one source was attempted and every attempted source failed. */
  allFailed: boolean;
}

/**
 * Fetches every configured catalog side by side and upserts each into the store, logging one
 * line per source ("groq: fetched 21, new 2", "anthropic: failed: …", "vertex: skipped: …").
 * A source that fails is logged and reported; it does not stop the others.
 * @throws whatever the store throws when an upsert fails (a lost write is never swallowed).
 */
export async function runCatalogFetch(store: Store, config: Config, options: FetchRunOptions = {}): Promise<FetchRunResult> {
  const log = options.log ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const sources = options.only ?? CATALOG_SOURCES;
  const attempts = sources.map((source) => {
    const reason = skipReason(source, config);
    if (reason) return { source, reason, fetching: null };
    const fetching: Promise<OpenRouterEntry[] | ProviderCatalogEntry[]> =
      source === 'openrouter' ? fetchOpenRouterCatalog(config, options) : fetchProviderCatalog(source, config, options);
    // Settled here so an early rejection is never "unhandled" while an earlier source is awaited.
    return { source, reason: null, fetching: fetching.then((entries) => ({ entries }), (error: unknown) => ({ error })) };
  });

  const results: SourceResult[] = [];
  for (const a of attempts) {
    if (!a.fetching) {
      log.info('%s: skipped: %s', a.source, a.reason);
      results.push({ source: a.source, status: 'skipped', reason: a.reason! });
      continue;
    }
    const outcome = await a.fetching;
    if ('error' in outcome) {
      const c = classifyError(outcome.error);
      log.warn('%s: failed (%s): %s', a.source, c.kind, c.detail);
      results.push({ source: a.source, status: 'failed', kind: c.kind, message: c.detail });
      continue;
    }
    const counts: UpsertCounts =
      a.source === 'openrouter'
        ? await store.upsertOpenRouterCatalog(outcome.entries as OpenRouterEntry[], now())
        : await store.upsertProviderCatalog(outcome.entries as ProviderCatalogEntry[], now());
    log.info('%s: fetched %d, new %d', a.source, outcome.entries.length, counts.inserted);
    results.push({ source: a.source, status: 'fetched', fetched: outcome.entries.length, new: counts.inserted });
  }
  const attempted = results.filter((r) => r.status !== 'skipped');
  return { results, allFailed: attempted.length > 0 && attempted.every((r) => r.status === 'failed') };
}
