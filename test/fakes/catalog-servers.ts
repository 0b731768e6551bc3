// One local server that answers every catalog discovery reads, each under its own path
// prefix and in its provider's documented shape:
// - OpenRouter  GET /openrouter/api/v1/models            {data: [...]}, no auth
// - OpenAI      GET /openai/v1/models                    {object: "list", data: [...]}
// - Groq        GET /groq/openai/v1/models               (same shape)
// - DeepInfra   GET /deepinfra/v1/openai/models          (same shape)
// - Cerebras    GET /cerebras/v1/models                  (same shape)
// - Together    GET /together/v1/models                  a bare array
// - Anthropic   GET /anthropic/v1/models                 {data, has_more, first_id, last_id}, limit + after_id
// - Fireworks   GET /fireworks/v1/accounts/fireworks/models  {models, nextPageToken, totalSize}, pageSize + pageToken
// - Bedrock     GET /bedrock/foundation-models           {modelSummaries}, SigV4
//               GET /bedrock/inference-profiles          {inferenceProfileSummaries, nextToken}, maxResults + nextToken
// - Vertex      GET /vertex/v1beta1/publishers/google/models  {publisherModels, nextPageToken}, pageSize + pageToken
// Credentials are checked as each provider does (bearer key, x-api-key + anthropic-version,
// a SigV4 signature recomputed from the request received) and refused with the provider's
// error body. A plan can make a source fail: 401, 500, an HTML error page, or broken JSON.
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';

export type CatalogFakeSource =
  | 'openrouter'
  | 'openai'
  | 'anthropic'
  | 'groq'
  | 'together'
  | 'deepinfra'
  | 'fireworks'
  | 'cerebras'
  | 'bedrock'
  | 'vertex';

export type FailMode = 'unauthorized' | 'server_error' | 'html' | 'bad_json';

export interface SourcePlan {
  /** The provider's raw model objects (Bedrock: the foundation models). */
  models?: unknown[];
  /** Bedrock only: the inference profiles. */
  profiles?: unknown[];
  /** The largest page the fake hands out, whatever the client asks (default: no limit). */
  pageSize?: number;
  fail?: FailMode;
  /** With `fail`: answer this many requests normally first (a failure on a later page). */
  failAfter?: number;
}

export interface CatalogRequest {
  source: CatalogFakeSource;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
}

export interface CatalogFake {
  origin: string;
  /** Base URLs and credentials for every source, to pass to loadConfig or a child process. */
  env: Record<string, string>;
  /** What each source answers; change between runs. A source without a plan answers an empty list. */
  plans: Partial<Record<CatalogFakeSource, SourcePlan>>;
  requests: CatalogRequest[];
  close(): Promise<void>;
}

export const FAKE_KEYS = {
  openai: 'sk-fake-openai-0123456789',
  anthropic: 'sk-ant-fake-0123456789',
  groq: 'gsk_fake0123456789abcdef',
  together: 'fake-together-0123456789',
  deepinfra: 'fake-deepinfra-0123456789',
  fireworks: 'fw_fake0123456789abcdef',
  cerebras: 'csk-fake0123456789abcdef',
  vertex: 'ya29.fake-vertex-token-0123456789',
  awsAccessKeyId: 'AKIAFAKEFAKEFAKEFAKE',
  awsSecretAccessKey: 'fake/secret/key/0123456789abcdefghijklmn',
} as const;

const REGION = 'us-east-1';

const ROUTES: Array<[string, CatalogFakeSource]> = [
  ['/openrouter/api/v1/models', 'openrouter'],
  ['/openai/v1/models', 'openai'],
  ['/anthropic/v1/models', 'anthropic'],
  ['/groq/openai/v1/models', 'groq'],
  ['/together/v1/models', 'together'],
  ['/deepinfra/v1/openai/models', 'deepinfra'],
  ['/cerebras/v1/models', 'cerebras'],
  ['/fireworks/v1/accounts/fireworks/models', 'fireworks'],
  ['/bedrock/foundation-models', 'bedrock'],
  ['/bedrock/inference-profiles', 'bedrock'],
  ['/vertex/v1beta1/publishers/google/models', 'vertex'],
];

export async function startCatalogServer(): Promise<CatalogFake> {
  const plans: CatalogFake['plans'] = {};
  const requests: CatalogRequest[] = [];
  const server = createServer((req, res) => {
    handle(req, res, plans, requests).catch((err: unknown) => {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`fake crashed: ${String(err)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const env: Record<string, string> = {
    OPENROUTER_BASE_URL: `${origin}/openrouter/api/v1`,
    OPENAI_BASE_URL: `${origin}/openai/v1`,
    ANTHROPIC_BASE_URL: `${origin}/anthropic`,
    GROQ_BASE_URL: `${origin}/groq/openai/v1`,
    TOGETHER_BASE_URL: `${origin}/together/v1`,
    DEEPINFRA_BASE_URL: `${origin}/deepinfra/v1/openai`,
    CEREBRAS_BASE_URL: `${origin}/cerebras/v1`,
    FIREWORKS_BASE_URL: `${origin}/fireworks/inference/v1`,
    AWS_ENDPOINT_URL_BEDROCK: `${origin}/bedrock`,
    VERTEX_BASE_URL: `${origin}/vertex`,
    AWS_REGION: REGION,
    OPENAI_API_KEY: FAKE_KEYS.openai,
    ANTHROPIC_API_KEY: FAKE_KEYS.anthropic,
    GROQ_API_KEY: FAKE_KEYS.groq,
    TOGETHER_API_KEY: FAKE_KEYS.together,
    DEEPINFRA_API_KEY: FAKE_KEYS.deepinfra,
    FIREWORKS_API_KEY: FAKE_KEYS.fireworks,
    CEREBRAS_API_KEY: FAKE_KEYS.cerebras,
    VERTEX_ACCESS_TOKEN: FAKE_KEYS.vertex,
    AWS_ACCESS_KEY_ID: FAKE_KEYS.awsAccessKeyId,
    AWS_SECRET_ACCESS_KEY: FAKE_KEYS.awsSecretAccessKey,
  };
  return {
    origin,
    env,
    plans,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

// Requests answered per plan object, for failAfter.
const answered = new WeakMap<SourcePlan, number>();

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  plans: CatalogFake['plans'],
  requests: CatalogRequest[],
): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://fake');
  const route = ROUTES.find(([path]) => path === url.pathname);
  if (!route || req.method !== 'GET') {
    json(res, { error: { message: `no route ${req.method} ${url.pathname}`, type: 'invalid_request_error' } }, { status: 404 });
    return;
  }
  const source = route[1];
  const query = Object.fromEntries(url.searchParams);
  requests.push({ source, method: req.method, path: url.pathname, query, headers: { ...req.headers } });
  const plan = plans[source] ?? {};
  const served = (answered.get(plan) ?? 0) + 1;
  answered.set(plan, served);
  const fail = plan.fail && served > (plan.failAfter ?? 0) ? plan.fail : null;

  const authProblem = await checkAuth(source, req, url);
  if (authProblem || fail === 'unauthorized') {
    unauthorized(res, { source, why: authProblem });
    return;
  }
  if (fail === 'server_error') {
    serverError(res, source);
    return;
  }
  if (fail === 'html') {
    // What a CDN in front of an API answers when the origin is down.
    res.writeHead(502, { 'content-type': 'text/html; charset=UTF-8' });
    res.end('<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>\n');
    return;
  }
  if (fail === 'bad_json') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"object":"list","data":[{"id":"gpt-4o","object":"mod');
    return;
  }
  const models = plan.models ?? [];
  const cap = plan.pageSize ?? Number.MAX_SAFE_INTEGER;
  switch (source) {
    case 'openrouter':
      json(res, { data: models });
      return;
    case 'together':
      json(res, models);
      return;
    case 'openai':
    case 'groq':
    case 'deepinfra':
    case 'cerebras':
      json(res, { object: 'list', data: models });
      return;
    case 'anthropic': {
      const limit = Math.min(Number(query.limit ?? 20), cap);
      const ids = models.map((m) => (m as { id: string }).id);
      const start = query.after_id ? ids.indexOf(query.after_id) + 1 : 0;
      const page = models.slice(start, start + limit) as Array<{ id: string }>;
      json(res, {
        data: page,
        has_more: start + limit < models.length,
        first_id: page[0]?.id ?? null,
        last_id: page.at(-1)?.id ?? null,
      });
      return;
    }
    case 'fireworks': {
      const { page, next } = paginate(models, { token: query.pageToken, size: Math.min(Number(query.pageSize ?? 50), cap) });
      // Fireworks answers the filter it was given; this fake holds only serverless models.
      json(res, { models: page, nextPageToken: next ?? '', totalSize: models.length });
      return;
    }
    case 'vertex': {
      const { page, next } = paginate(models, { token: query.pageToken, size: Math.min(Number(query.pageSize ?? 100), cap) });
      // Google's JSON leaves out empty fields: an empty list is `{}`, the last page has no token.
      json(res, { ...(page.length ? { publisherModels: page } : {}), ...(next ? { nextPageToken: next } : {}) });
      return;
    }
    case 'bedrock': {
      if (url.pathname.endsWith('/foundation-models')) {
        json(res, { modelSummaries: models });
        return;
      }
      const { page, next } = paginate(plan.profiles ?? [], { token: query.nextToken, size: Math.min(Number(query.maxResults ?? 1000), cap) });
      json(res, { inferenceProfileSummaries: page, ...(next ? { nextToken: next } : {}) });
      return;
    }
  }
}

// Opaque page tokens with the characters real ones carry ('+', '/', '='), so a client that
// does not encode them is caught.
function paginate(items: unknown[], { token, size }: { token: string | undefined; size: number }): { page: unknown[]; next: string | null } {
  const start = token ? Number(/^tok\+\/(\d+)==$/.exec(token)?.[1] ?? NaN) : 0;
  if (!Number.isInteger(start)) throw new Error(`bad page token ${JSON.stringify(token)}`);
  const page = items.slice(start, start + size);
  return { page, next: start + size < items.length ? `tok+/${start + size}==` : null };
}

function json(res: ServerResponse, body: unknown, { status = 200, headers = {} as Record<string, string> } = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

const BEARER: Partial<Record<CatalogFakeSource, string>> = {
  openai: FAKE_KEYS.openai,
  groq: FAKE_KEYS.groq,
  together: FAKE_KEYS.together,
  deepinfra: FAKE_KEYS.deepinfra,
  cerebras: FAKE_KEYS.cerebras,
  fireworks: FAKE_KEYS.fireworks,
  vertex: FAKE_KEYS.vertex,
};

/** Why the request's credentials are refused, or null when they are right. */
async function checkAuth(source: CatalogFakeSource, req: IncomingMessage, url: URL): Promise<string | null> {
  if (source === 'openrouter') return null;
  if (source === 'anthropic') {
    if (header(req, 'x-api-key') !== FAKE_KEYS.anthropic) return 'invalid x-api-key';
    if (!header(req, 'anthropic-version')) return 'anthropic-version header is required';
    return null;
  }
  if (source === 'bedrock') return checkSigV4(req, url);
  return header(req, 'authorization') === `Bearer ${BEARER[source]}` ? null : 'bad bearer token';
}

class Sha256 {
  #h;
  constructor(secret?: SourceData) {
    const bytes = (d: SourceData) => (typeof d === 'string' ? Buffer.from(d) : Buffer.from(d as ArrayBuffer));
    this.#h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(d: SourceData): void {
    this.#h.update(typeof d === 'string' ? Buffer.from(d) : new Uint8Array(d as ArrayBuffer));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#h.digest());
  }
}

/** Recomputes the SigV4 signature of the request as received and compares it with the one sent. */
async function checkSigV4(req: IncomingMessage, url: URL): Promise<string | null> {
  const auth = header(req, 'authorization');
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `no SigV4 authorization header (got ${JSON.stringify(auth.slice(0, 40))})`;
  const [, keyId, , region, service, signedHeaders] = m;
  if (keyId !== FAKE_KEYS.awsAccessKeyId) return 'UnrecognizedClientException';
  if (region !== REGION || service !== 'bedrock') return `wrong credential scope ${region}/${service}`;
  const amzDate = header(req, 'x-amz-date');
  const signingDate = new Date(amzDate.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'));
  const headers: Record<string, string> = {};
  for (const h of signedHeaders!.split(';')) headers[h] = header(req, h);
  const signer = new SignatureV4({
    service: 'bedrock',
    region: REGION,
    credentials: { accessKeyId: FAKE_KEYS.awsAccessKeyId, secretAccessKey: FAKE_KEYS.awsSecretAccessKey },
    sha256: Sha256,
  });
  const [hostname, port] = headers.host!.split(':');
  const expected = await signer.sign(
    {
      method: req.method ?? 'GET',
      protocol: 'http:',
      hostname: hostname!,
      ...(port ? { port: Number(port) } : {}),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers,
    },
    { signingDate },
  );
  return expected.headers.authorization === auth ? null : 'InvalidSignatureException';
}

function unauthorized(res: ServerResponse, { source, why }: { source: CatalogFakeSource; why: string | null }): void {
  switch (source) {
    case 'anthropic':
      json(res, { type: 'error', error: { type: 'authentication_error', message: why ?? 'invalid x-api-key' } }, { status: 401 });
      return;
    case 'bedrock':
      json(res, { message: 'The security token included in the request is invalid.' }, {
        status: 403,
        headers: {
          'x-amzn-errortype': `${why === 'InvalidSignatureException' ? why : 'UnrecognizedClientException'}:http://internal.amazon.com/coral/com.amazon.coral.service/`,
        },
      });
      return;
    case 'vertex':
      json(res, {
        error: {
          code: 401,
          message: 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
          status: 'UNAUTHENTICATED',
        },
      }, { status: 401 });
      return;
    default:
      json(res, {
        error: { message: 'Incorrect API key provided: ***. You can find your API key in your dashboard.', type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
      }, { status: 401 });
  }
}

function serverError(res: ServerResponse, source: CatalogFakeSource): void {
  switch (source) {
    case 'anthropic':
      json(res, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } }, { status: 500 });
      return;
    case 'bedrock':
      json(res, { message: 'Internal server error' }, { status: 500, headers: { 'x-amzn-errortype': 'InternalServerException' } });
      return;
    case 'vertex':
      json(res, { error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } }, { status: 500 });
      return;
    default:
      json(res, {
        error: { message: 'The server had an error while processing your request. Sorry about that!', type: 'server_error', param: null, code: null },
      }, { status: 500 });
  }
}

// Raw model objects in each provider's documented shape, with realistic defaults.

export function openRouterModel(
  id: string,
  o: { name?: string; prompt?: string; completion?: string; context?: number | null; created?: number } = {},
): Record<string, unknown> {
  return {
    id,
    canonical_slug: id,
    name: o.name ?? id,
    created: o.created ?? 1747267200,
    description: `${id} on OpenRouter`,
    context_length: o.context === undefined ? 131072 : o.context,
    architecture: { modality: 'text->text', input_modalities: ['text'], output_modalities: ['text'], tokenizer: 'Other' },
    pricing: { prompt: o.prompt ?? '0.000001', completion: o.completion ?? '0.000002', request: '0', image: '0', web_search: '0', internal_reasoning: '0' },
    top_provider: { context_length: o.context ?? 131072, max_completion_tokens: 16384, is_moderated: false },
    per_request_limits: null,
    supported_parameters: ['max_tokens', 'temperature', 'stop'],
  };
}

export function openAIModel(id: string, ownedBy = 'system'): Record<string, unknown> {
  return { id, object: 'model', created: 1721172741, owned_by: ownedBy };
}

export function groqModel(id: string, o: { active?: boolean; ownedBy?: string; contextWindow?: number } = {}): Record<string, unknown> {
  return {
    id,
    object: 'model',
    created: 1733447754,
    owned_by: o.ownedBy ?? 'Meta',
    active: o.active ?? true,
    context_window: o.contextWindow ?? 131072,
    public_apps: null,
    max_completion_tokens: 32768,
  };
}

export function togetherModel(id: string, o: { type?: string; displayName?: string; context?: number } = {}): Record<string, unknown> {
  return {
    id,
    object: 'model',
    created: 1733461861,
    type: o.type ?? 'chat',
    running: false,
    display_name: o.displayName ?? id.split('/').at(-1),
    organization: id.split('/')[0],
    link: `https://huggingface.co/${id}`,
    license: 'other',
    context_length: o.context ?? 131072,
    config: { chat_template: null, stop: ['<|eot_id|>'], bos_token: null, eos_token: null },
    pricing: { hourly: 0, input: 0.88, output: 0.88, base: 0, finetune: 0 },
  };
}

export function deepInfraModel(id: string, context = 131072): Record<string, unknown> {
  return {
    id,
    object: 'model',
    created: 1733443200,
    owned_by: 'deepinfra',
    root: id,
    parent: null,
    metadata: { description: `${id} on DeepInfra`, context_length: context, max_tokens: context, pricing: { input_tokens: 0.23, output_tokens: 0.4 }, tags: [] },
  };
}

export function anthropicModel(id: string, { displayName = id, createdAt = '2025-05-22T00:00:00Z' } = {}): Record<string, unknown> {
  return { type: 'model', id, display_name: displayName, created_at: createdAt };
}

export function fireworksModel(
  shortName: string,
  o: { displayName?: string; state?: string; kind?: string; contextLength?: number } = {},
): Record<string, unknown> {
  return {
    name: `accounts/fireworks/models/${shortName}`,
    displayName: o.displayName ?? shortName,
    description: '',
    createTime: '2024-12-06T17:43:21.123456Z',
    state: o.state ?? 'READY',
    status: { code: 'OK', message: '' },
    kind: o.kind ?? 'HF_BASE_MODEL',
    public: true,
    contextLength: o.contextLength ?? 131072,
    supportsImageInput: false,
    supportsTools: true,
    baseModelDetails: { worldSize: 0, checkpointFormat: 'HUGGINGFACE', parameterCount: '70553706496', moe: false, tunable: true, modelType: 'llama' },
    deployedModelRefs: [],
    calibrated: false,
    tunable: true,
    supportsLora: true,
    useHfApplyChatTemplate: false,
    updateTime: '2025-03-01T00:00:00Z',
  };
}

export function bedrockFoundationModel(
  modelId: string,
  o: { name?: string; provider?: string; inference?: string[]; output?: string[]; streaming?: boolean; lifecycle?: 'ACTIVE' | 'LEGACY' } = {},
): Record<string, unknown> {
  return {
    modelArn: `arn:aws:bedrock:${REGION}::foundation-model/${modelId}`,
    modelId,
    modelName: o.name ?? modelId,
    providerName: o.provider ?? modelId.split('.')[0],
    inputModalities: ['TEXT'],
    outputModalities: o.output ?? ['TEXT'],
    responseStreamingSupported: o.streaming ?? true,
    customizationsSupported: [],
    inferenceTypesSupported: o.inference ?? ['ON_DEMAND'],
    modelLifecycle: { status: o.lifecycle ?? 'ACTIVE' },
  };
}

export function bedrockProfile(id: string, { name = id, status = 'ACTIVE' } = {}): Record<string, unknown> {
  const model = id.replace(/^[a-z]+\./, '');
  return {
    inferenceProfileName: name,
    description: `Routes requests to ${name} in us-east-1, us-east-2 and us-west-2.`,
    createdAt: '2025-05-22T00:00:00Z',
    updatedAt: '2025-05-22T00:00:00Z',
    inferenceProfileArn: `arn:aws:bedrock:${REGION}:123456789012:inference-profile/${id}`,
    models: ['us-east-1', 'us-east-2', 'us-west-2'].map((r) => ({ modelArn: `arn:aws:bedrock:${r}::foundation-model/${model}` })),
    inferenceProfileId: id,
    status,
    type: 'SYSTEM_DEFINED',
  };
}

export function vertexModel(id: string, o: { launchStage?: string; versionId?: string } = {}): Record<string, unknown> {
  return {
    name: `publishers/google/models/${id}`,
    versionId: o.versionId ?? '001',
    openSourceCategory: 'PROPRIETARY',
    launchStage: o.launchStage ?? 'GA',
    publisherModelTemplate: `projects/{project}/locations/{location}/publishers/google/models/${id}@001`,
  };
}
