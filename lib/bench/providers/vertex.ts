// Google Vertex AI (SPEC 5). One provider, three wire formats, chosen by the model id:
// - gemini-*   → Google's @google/genai SDK, streamGenerateContent (mode vertex_gemini_stream)
// - claude-*   → Anthropic's Vertex SDK, streamRawPredict with Anthropic's SSE events
//                (mode vertex_anthropic_stream), read by the same code as api.anthropic.com
// - Llama and other partner models served "as a service" (ids like
//   meta/llama-4-maverick-17b-128e-instruct-maas) → Vertex's OpenAI-compatible endpoint
//   through the openai SDK (mode vertex_openai_chat_stream)
// Project and location come from config; a model's misc.region overrides the location
// (Claude on Vertex is served from a few regions only, e.g. us-east5). All three paths
// authenticate with the same Google OAuth client: VERTEX_ACCESS_TOKEN as a static bearer
// token when set, otherwise application default credentials.
//
// Each route imports its SDK on first use (the registry's rule, applied within one provider):
// a runner that sweeps only Gemini models never loads the openai or Anthropic SDKs, which
// together hold more memory than @google/genai itself.
import type { GenerateContentResponse, GenerateContentResponseUsageMetadata } from '@google/genai';
import { GoogleAuth, OAuth2Client } from 'google-auth-library';
import type { AuthClient } from 'google-auth-library';
import type { Config } from '../../config.ts';
import { BenchError } from '../../errors.ts';
import { normalizeFinishReason } from '../provider-stream.ts';
import type { ProviderRequest, StreamEvent, Usage, WarmRequest } from '../provider-stream.ts';
import { rehearse, type Canned } from './rehearsal.ts';
import { googleRateLimit, rateLimitFrom, withRateLimit } from '../rate-limit.ts';
import { arrivalTime, headersTime, inTap, newTap, notAStream, tappedFetch, type WireTap } from './wire.ts';

type VertexConfig = Config['providers']['vertex'];
type Family = 'gemini' | 'claude' | 'openapi';

const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/**
 * Streams one call to a Vertex AI model, routed by model id (see the file comment).
 * @throws BenchError (auth, load_provider) when VERTEX_PROJECT is not set or no Google
 *   credentials can be loaded; BenchError (hard_capability, load_provider) for a model id
 *   no route serves; otherwise the SDKs' errors (classifyError reads their status), the
 *   abort reason when req.signal fires, and BenchError for a malformed or truncated stream.
 */
export async function* streamVertex(req: ProviderRequest): AsyncGenerator<StreamEvent> {
  const vertex = req.config.providers.vertex;
  const family = vertexFamily(req.modelId);
  if (family === null) {
    throw new BenchError(
      `Cannot route vertex/${req.modelId}: expected a gemini-*, claude-* or publisher/model (e.g. meta/llama-…-maas) id`,
      { kind: 'hard_capability', stage: 'load_provider' },
    );
  }
  const project = vertex.project;
  if (!project) {
    throw new BenchError('VERTEX_PROJECT is not set (nor GOOGLE_CLOUD_PROJECT)', { kind: 'auth', stage: 'load_provider' });
  }
  const region = regionOf(req.misc);
  const location = region ?? vertex.location;
  const applied: Record<string, unknown> = region ? { region } : {};
  const auth = await vertexAuth(vertex);
  const root = vertex.baseUrl ?? defaultRoot(location);

  if (family === 'gemini') {
    yield* streamGemini(req, { project, location, root, auth, applied });
  } else if (family === 'claude') {
    const [{ AnthropicVertex }, { streamAnthropicMessages }] = await loadRoute('the Anthropic Vertex SDK', () =>
      Promise.all([import('@anthropic-ai/vertex-sdk'), import('./anthropic.ts')]),
    );
    const client = new AnthropicVertex({
      region: location,
      projectId: project,
      authClient: auth.client,
      // Explicit, so the SDK never takes a base URL from its own environment variables.
      baseURL: `${root}/v1`,
      maxRetries: 0,
      logLevel: 'off',
    });
    yield* streamAnthropicMessages(client, req, { mode: 'vertex_anthropic_stream', applied });
  } else {
    const { createOpenAIClient, streamChatCompletions } = await loadRoute('the openai SDK', () => import('./openai-compatible.ts'));
    const baseUrl = `${root}/v1/projects/${encodeURIComponent(project)}/locations/${encodeURIComponent(location)}/endpoints/openapi`;
    yield* streamChatCompletions(createOpenAIClient(auth.token, baseUrl), req, { mode: 'vertex_openai_chat_stream' });
  }
}

/**
 * The rehearsal half of the warm-up (lib/bench/providers/rehearsal.ts) for the model's route:
 * its SDK loaded and its stream code run once, and the Google token fetched, before any clock
 * starts. Vertex has no list-models call on the prediction host, so the connection itself is
 * opened by the first measured call (said in the README).
 */
streamVertex.warm = async (req: WarmRequest): Promise<void> => {
  const family = vertexFamily(req.modelId);
  if (family === null || !req.config.providers.vertex.project) return;
  const canned =
    family === 'gemini'
      ? GEMINI_REHEARSAL
      : family === 'claude'
        ? (await import('./anthropic.ts')).ANTHROPIC_REHEARSAL
        : (await import('./openai-compatible.ts')).CHAT_REHEARSAL;
  await rehearse(`vertex-${family}`, streamVertex, req, canned, (config, url) => ({
    ...config,
    providers: { ...config.providers, vertex: { ...config.providers.vertex, baseUrl: url } },
  }));
};

/** The aiplatform host of the model's location (misc.region, else VERTEX_LOCATION), or VERTEX_BASE_URL; none without a project. */
streamVertex.origin = (req: WarmRequest): string | null => {
  const vertex = req.config.providers.vertex;
  if (!vertex.project) return null;
  return vertex.baseUrl ?? defaultRoot(regionOf(req.misc) ?? vertex.location);
};

/** A model's misc.region, which overrides VERTEX_LOCATION; null when unset. */
function regionOf(misc: Record<string, unknown>): string | null {
  return typeof misc.region === 'string' && misc.region.trim() ? misc.region.trim() : null;
}

const GEMINI_REHEARSAL: Canned = {
  contentType: 'text/event-stream',
  body: `data: ${JSON.stringify({
    candidates: [{ content: { role: 'model', parts: [{ text: 'w', thought: true }, { text: 'w' }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1, thoughtsTokenCount: 1, totalTokenCount: 3 },
  })}\r\n\r\n`,
};

/**
 * A route's SDK, imported on its first call (the module loader keeps it for later calls).
 * @throws BenchError (unknown, load_provider) when the import fails.
 */
async function loadRoute<T>(what: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new BenchError(`Cannot load ${what} for Vertex: ${detail}`, { kind: 'unknown', stage: 'load_provider', cause });
  }
}

/** Which Vertex API serves a model id, or null when none does. */
export function vertexFamily(modelId: string): Family | null {
  const id = modelId.toLowerCase();
  if (id.startsWith('gemini-')) return 'gemini';
  if (id.startsWith('claude-')) return 'claude';
  // Vertex's OpenAI-compatible endpoint names partner models publisher/model.
  if (id.includes('llama') || /^[a-z0-9-]+\/[^/]+$/.test(id)) return 'openapi';
  return null;
}

/** The aiplatform endpoint Google documents for a location. */
function defaultRoot(location: string): string {
  if (location === 'global') return 'https://aiplatform.googleapis.com';
  if (location === 'us' || location === 'eu') return `https://aiplatform.${location}.rep.googleapis.com`;
  return `https://${location}-aiplatform.googleapis.com`;
}

interface VertexAuth {
  client: AuthClient;
  token: string;
}

// Application default credentials are loaded once per process: the client caches and
// refreshes its token, where a new client per call would fetch a new token every call.
let adcClient: Promise<AuthClient> | null = null;

/**
 * The Google OAuth client every path uses, with a token already in hand, so that fetching
 * or refreshing a token happens before the request event and never counts as latency.
 */
async function vertexAuth(vertex: VertexConfig): Promise<VertexAuth> {
  let client: AuthClient;
  if (vertex.accessToken) {
    // A static token: OAuth2Client hands it out as a bearer header and, with no refresh
    // token or expiry, never calls Google.
    const oauth = new OAuth2Client();
    oauth.setCredentials({ access_token: vertex.accessToken });
    client = oauth;
  } else {
    adcClient ??= new GoogleAuth({ scopes: CLOUD_PLATFORM_SCOPE }).getClient();
    try {
      client = await adcClient;
    } catch (cause) {
      adcClient = null;
      throw credentialsError(cause);
    }
  }
  let token: string | null | undefined;
  try {
    token = (await client.getAccessToken()).token;
  } catch (cause) {
    throw credentialsError(cause);
  }
  if (!token) throw credentialsError(null);
  return { client, token };
}

function credentialsError(cause: unknown): BenchError {
  const detail = cause instanceof Error ? `: ${cause.message}` : '';
  return new BenchError(
    `Cannot get a Google access token for Vertex (set VERTEX_ACCESS_TOKEN or application default credentials)${detail}`,
    { kind: 'auth', stage: 'load_provider', cause },
  );
}

async function* streamGemini(
  req: ProviderRequest,
  o: { project: string; location: string; root: string; auth: VertexAuth; applied: Record<string, unknown> },
): AsyncGenerator<StreamEvent> {
  const { GoogleGenAI } = await loadRoute('@google/genai', () => import('@google/genai'));
  const ai = new GoogleGenAI({
    vertexai: true,
    project: o.project,
    location: o.location,
    apiVersion: 'v1',
    googleAuthOptions: { authClient: o.auth.client },
    // Explicit, so the SDK never takes a base URL from its own environment variables.
    // tappedFetch: every byte reaches the stall watch, and the call learns what came back.
    httpOptions: { baseUrl: o.root, fetch: tappedFetch },
  });
  const applied = { ...o.applied };
  if (req.misc.omit_temperature === true) applied.omit_temperature = true;
  const temperature = req.temperature === null || req.misc.omit_temperature === true ? null : req.temperature;
  // Gemini 2.5 models think by default, and thinking tokens count against maxOutputTokens: at
  // the 64-token budget a thinking model can spend it all before any visible text. A model's
  // misc.thinking_budget (0 turns thinking off where the model allows it) says how much.
  const thinkingBudget = typeof req.misc.thinking_budget === 'number' ? req.misc.thinking_budget : null;
  if (thinkingBudget !== null) applied.thinking_budget = thinkingBudget;
  yield {
    type: 'request',
    t: req.now(),
    mode: 'vertex_gemini_stream',
    maxTokens: req.maxTokens,
    temperature,
    reasoningEffort: null,
    applied,
  };
  // @google/genai adds an abort listener to the signal it is given and, once the response has
  // arrived, never removes it (the response "passes to the caller"). On req.signal, which
  // AbortSignal.any keeps alive for the whole sweep while a listener is attached, that kept two
  // signals per Gemini call until the sweep ended. The SDK gets a signal of its own, fed by a
  // listener removed below; aborting it also closes the HTTP stream when the caller stops
  // reading early, where the SDK would only release its reader and leave the body unread.
  const local = new AbortController();
  const forward = () => local.abort(req.signal.reason);
  if (req.signal.aborted) forward();
  else req.signal.addEventListener('abort', forward, { once: true });
  let completed = false;
  try {
    let stream: AsyncIterable<GenerateContentResponse>;
    const tap = newTap(req.onActivity, req.now);
    try {
      stream = await inTap(tap, () => ai.models.generateContentStream({
        model: req.modelId,
        contents: [{ role: 'user', parts: [{ text: req.prompt }] }],
        config: {
          maxOutputTokens: req.maxTokens,
          ...(temperature === null ? {} : { temperature }),
          ...(thinkingBudget === null ? {} : { thinkingConfig: { thinkingBudget } }),
          abortSignal: local.signal,
          // The SDK would otherwise reopen a dropped stream by itself; the runner decides retries.
          automaticContinuation: false,
        },
      }));
      yield { type: 'connection', t: headersTime(tap), reused: !tap.newConnection, rateLimit: rateLimitFrom(tap.headers), sentAt: tap.sentAt };
    } catch (err) {
      req.signal.throwIfAborted();
      // SPEC 18: Vertex sends no rate-limit headers; a 429's body may carry google.rpc.RetryInfo.
      // @google/genai's ApiError message is the error body as JSON text.
      const rateLimit = googleRateLimit(err instanceof Error ? err.message : null) ?? rateLimitFrom(tap.headers);
      throw notAStream(tap, `vertex/${req.modelId}`) ?? withRateLimit(err, rateLimit);
    }
    yield* readGeminiStream(stream, req, tap);
    completed = true;
  } finally {
    req.signal.removeEventListener('abort', forward);
    if (!completed) local.abort();
  }
}

async function* readGeminiStream(stream: AsyncIterable<GenerateContentResponse>, req: ProviderRequest, tap: WireTap): AsyncGenerator<StreamEvent> {
  let first = true;
  let responseId: string | null = null;
  // Gemini says which model answered in every chunk's modelVersion (SPEC 18: model identity).
  let servedModel: string | null = null;
  let finish: { t: number; rawReason: string } | null = null;
  try {
    for await (const chunk of stream) {
      const t = arrivalTime(tap);
      req.onActivity?.();
      if (first) {
        first = false;
        yield { type: 'first_byte', t };
      }
      responseId ??= chunk.responseId ?? null;
      if (typeof chunk.modelVersion === 'string' && chunk.modelVersion) servedModel ??= chunk.modelVersion;
      const candidate = chunk.candidates?.[0];
      for (const part of candidate?.content?.parts ?? []) {
        if (typeof part.text !== 'string' || part.text === '') continue;
        yield part.thought === true ? { type: 'reasoning', t, text: part.text } : { type: 'text', t, text: part.text };
      }
      // A blocked prompt has no candidate, only promptFeedback.blockReason.
      const rawReason = candidate?.finishReason ?? chunk.promptFeedback?.blockReason ?? null;
      if (chunk.usageMetadata) yield { type: 'usage', t, usage: geminiUsage(chunk.usageMetadata, rawReason !== null) };
      if (rawReason !== null) finish = { t, rawReason: String(rawReason) };
    }
  } catch (err) {
    req.signal.throwIfAborted();
    const wrongBody = notAStream(tap, `vertex/${req.modelId}`);
    if (wrongBody) throw wrongBody;
    // The SDK parses each event with JSON.parse and lets the SyntaxError through: the
    // provider sent something that is not JSON.
    if (err instanceof SyntaxError) {
      throw new BenchError(`vertex/${req.modelId} stream sent malformed event data: ${err.message}`, {
        kind: 'transient_provider',
        stage: 'generate',
        cause: err,
      });
    }
    throw err;
  }
  req.signal.throwIfAborted();
  const wrongBody = notAStream(tap, `vertex/${req.modelId}`);
  if (wrongBody) throw wrongBody;
  if (finish === null) {
    throw new BenchError(`vertex/${req.modelId} stream ended without a finish reason`, { kind: 'network', stage: 'generate' });
  }
  yield {
    type: 'finish',
    t: finish.t,
    reason: normalizeFinishReason(finish.rawReason),
    rawReason: finish.rawReason,
    responseId,
    providerLatencyMs: null,
    servedModel,
  };
}

/**
 * Gemini's usage. Output tokens are the visible candidates plus the thinking tokens (both
 * are generated and billed). Google's JSON leaves out counts that are zero (proto3), so on
 * the final chunk a missing count means 0; before it, a missing count is unknown.
 */
export function geminiUsage(u: GenerateContentResponseUsageMetadata, final: boolean): Usage {
  const candidates = count(u.candidatesTokenCount);
  const thoughts = count(u.thoughtsTokenCount);
  const known = final || candidates !== null || thoughts !== null;
  const cached = count(u.cachedContentTokenCount);
  return {
    inputTokens: count(u.promptTokenCount),
    outputTokens: known ? (candidates ?? 0) + (thoughts ?? 0) : null,
    reasoningTokens: known ? (thoughts ?? 0) : null,
    cachedInputTokens: cached ?? (final ? 0 : null),
    totalTokens: count(u.totalTokenCount),
    raw: u,
  };
}

function count(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null;
}
