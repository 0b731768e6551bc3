// Amazon Bedrock's control-plane lists, ListFoundationModels and ListInferenceProfiles, as
// plain HTTPS GETs signed with SigV4. The control-plane client (@aws-sdk/client-bedrock) is
// not a dependency; the runtime client is, and it resolves credentials through the SDK's
// default chain (environment, profile, web identity, container or instance role), so that
// chain is borrowed from it and the request is signed with @smithy/signature-v4, which the
// SDK itself signs with.
import { createHash, createHmac, type Hash as NodeHash, type Hmac } from 'node:crypto';
import { BedrockRuntimeClient } from '@aws-sdk/client-bedrock-runtime';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, SourceData } from '@smithy/types';
import type { Config } from '../../config.ts';
import type { ProviderCatalogEntry } from '../../store/documents.ts';
import { BenchError, classifyError } from '../../errors.ts';
import { MAX_PAGES, encodeQuery, getJson, isRecord, shapeError, str, type CatalogHttpOptions } from './http.ts';

export type AwsCredentialsProvider = () => Promise<AwsCredentialIdentity>;

export interface BedrockCatalogOptions extends CatalogHttpOptions {
  /** Defaults to the AWS SDK's default credential chain. */
  credentials?: AwsCredentialsProvider;
}

/** SHA-256 and HMAC-SHA-256 from node:crypto in the shape the signer takes. */
class NodeSha256 {
  #h: NodeHash | Hmac;
  constructor(secret?: SourceData) {
    this.#h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.#h.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#h.digest());
  }
}

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}

function defaultCredentials(region: string): AwsCredentialsProvider {
  return async () => {
    const client = new BedrockRuntimeClient({ region });
    try {
      return await client.config.credentials();
    } finally {
      client.destroy();
    }
  };
}

/**
 * Lists the foundation models and the (system-defined) inference profiles of the default
 * region. Both go into one catalog: the foundation models' `raw` has `modelArn`, the
 * profiles' `raw` has `inferenceProfileArn`. Anthropic and newer Meta models are invoked
 * through their `us.` profile ids, which only the second list has.
 * @throws BenchError (auth) when no credentials can be found; BenchError when a call fails.
 */
export async function listBedrockModels(config: Config, options: BedrockCatalogOptions = {}): Promise<ProviderCatalogEntry[]> {
  const region = config.providers.bedrock.defaultRegion;
  const endpoint = config.providers.bedrock.controlEndpoint ?? `https://bedrock.${region}.amazonaws.com`;
  let credentials: AwsCredentialIdentity;
  try {
    credentials = await (options.credentials ?? defaultCredentials(region))();
  } catch (err) {
    throw new BenchError(`no AWS credentials found (${classifyError(err).detail})`, { kind: 'auth', cause: err });
  }
  const signer = new SignatureV4({ service: 'bedrock', region, credentials, sha256: NodeSha256 });
  const get = async (path: string, query: Record<string, string>) => {
    const url = new URL(`${endpoint.replace(/\/+$/, '')}${path}`);
    const signed = await signer.sign({
      method: 'GET',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      query,
      headers: { host: url.host, accept: 'application/json' },
    });
    // fetch sets Host itself (to the same url.host that was signed) and refuses to be told.
    const { host: _host, ...headers } = signed.headers;
    const qs = encodeQuery(query);
    return getJson(`${url.origin}${url.pathname}${qs ? `?${qs}` : ''}`, { ...options, headers });
  };

  const entries = new Map<string, ProviderCatalogEntry>();
  // ListFoundationModels is not paginated.
  const models = await get('/foundation-models', {});
  if (!isRecord(models) || !Array.isArray(models.modelSummaries)) {
    throw shapeError(`${endpoint}/foundation-models`, 'an object with a modelSummaries array');
  }
  for (const item of models.modelSummaries) {
    if (!isRecord(item)) continue;
    const id = str(item.modelId);
    if (id && !entries.has(id)) entries.set(id, { provider: 'bedrock', model_id: id, name: str(item.modelName), raw: item });
  }

  let nextToken: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: Record<string, string> = { maxResults: '1000' };
    if (nextToken) query.nextToken = nextToken;
    const profiles = await get('/inference-profiles', query);
    if (!isRecord(profiles) || !Array.isArray(profiles.inferenceProfileSummaries)) {
      throw shapeError(`${endpoint}/inference-profiles`, 'an object with an inferenceProfileSummaries array');
    }
    for (const item of profiles.inferenceProfileSummaries) {
      if (!isRecord(item)) continue;
      const id = str(item.inferenceProfileId);
      if (id && !entries.has(id)) entries.set(id, { provider: 'bedrock', model_id: id, name: str(item.inferenceProfileName), raw: item });
    }
    const next = str(profiles.nextToken);
    if (!next) return [...entries.values()];
    if (next === nextToken) throw shapeError(`${endpoint}/inference-profiles`, 'a new nextToken');
    nextToken = next;
  }
  throw new BenchError(`Bedrock inference profile list still had more pages after ${MAX_PAGES}`, { kind: 'unknown' });
}
