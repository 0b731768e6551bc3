// A local stand-in for Vertex AI's Gemini streaming endpoint:
// POST /{v1|v1beta1}/projects/{p}/locations/{l}/publishers/google/models/{model}:streamGenerateContent?alt=sse
// Each SSE event is `data: <GenerateContentResponse JSON>`; the last one carries finishReason
// (STOP / MAX_TOKENS) and usageMetadata. Thinking arrives as parts with `thought: true`.
// Errors use Google's shape {error: {code, message, status}}.
import { randomUUID } from 'node:crypto';
import { startSseServer } from './anthropic-server.ts';
import type { SseRoute } from './anthropic-server.ts';
import type { ChunkPlan, FakeServer, RecordedRequest, ScenarioFor } from './scenario.ts';

const GEMINI_PATH =
  /^\/(v1|v1beta1)\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/google\/models\/([^/:]+):streamGenerateContent$/;

const GOOGLE_ERRORS: Record<number, [string, string]> = {
  400: ['INVALID_ARGUMENT', 'Request contains an invalid argument.'],
  401: [
    'UNAUTHENTICATED',
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
  ],
  403: ['PERMISSION_DENIED', "Permission 'aiplatform.endpoints.predict' denied on resource (or it may not exist)."],
  404: ['NOT_FOUND', 'Publisher Model was not found or your project does not have access to it.'],
  429: [
    'RESOURCE_EXHAUSTED',
    'Resource exhausted. Please try again later. Please refer to https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.',
  ],
  500: ['INTERNAL', 'Internal error encountered.'],
  503: ['UNAVAILABLE', 'The service is currently unavailable.'],
};

/** Google's JSON error body for an HTTP status. */
export function googleErrorBody(status: number, req?: RecordedRequest): unknown {
  const [code, message] = GOOGLE_ERRORS[status] ?? (status >= 500 ? GOOGLE_ERRORS[500]! : GOOGLE_ERRORS[400]!);
  const model = req ? GEMINI_PATH.exec(req.path.split('?')[0] ?? '')?.[4] : undefined;
  const text = status === 404 && model ? `Publisher Model \`${model}\` was not found or your project does not have access to it.` : message;
  return { error: { code: status, message: text, status: code } };
}

/**
 * The body of a 429 for a quota with a per-minute window, in Google's error model: QuotaFailure
 * names the quota and google.rpc.RetryInfo says when to retry (a protobuf duration), with Vertex's
 * wording of a quota message. Google's error model carries RetryInfo on quota errors (the Gemini
 * API always sends it); Vertex's usual 429 (shared capacity, googleErrorBody) has no details.
 * Neither sends a Retry-After or rate-limit header.
 */
export function googleQuotaErrorBody(retryDelay: string): unknown {
  return {
    error: {
      code: 429,
      message: 'Quota exceeded for aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model with base model: gemini-2.5-flash. Please submit a quota increase request.',
      status: 'RESOURCE_EXHAUSTED',
      details: [
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [{ quotaMetric: 'aiplatform.googleapis.com/generate_content_requests_per_minute_per_project_per_base_model', quotaId: 'GenerateRequestsPerMinutePerProjectPerBaseModel' }],
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
      ],
    },
  };
}

export const geminiRoute: SseRoute = {
  match(method, path) {
    const m = method === 'POST' ? GEMINI_PATH.exec(path) : null;
    return m ? { model: decodeURIComponent(m[4]!) } : null;
  },
  errorBody: googleErrorBody,
  encoder(scenario, _req, match) {
    const responseId = randomUUID().replace(/-/g, '').slice(0, 22);
    const createTime = new Date().toISOString();
    const modelVersion = scenario.servedModel ?? match.model ?? 'gemini';
    const event = (candidate: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ candidates: [candidate], ...extra, modelVersion, createTime, responseId })}\n\n`;
    const parts = (plan: ChunkPlan) => [
      ...(plan.reasoning ? [{ text: plan.reasoning, thought: true }] : []),
      ...(plan.text ? [{ text: plan.text }] : []),
    ];
    const usage = scenario.usage ?? null;
    return {
      // Vertex sends nothing before the first candidate and has no keep-alive event.
      head: () => null,
      ping: null,
      chunk: (plan) => event({ content: { role: 'model', parts: parts(plan) } }),
      malformed: (plan) => {
        const full = event({ content: { role: 'model', parts: parts(plan) } }).trimEnd();
        return `${full.slice(0, full.length - 20)}\n\n`;
      },
      tail() {
        const reasoning = usage?.reasoning ?? 0;
        const candidates = usage ? usage.output - reasoning : 0;
        // Google's JSON omits zero counts (proto3), so a budget spent on thinking has no
        // candidatesTokenCount at all.
        const usageMetadata = usage
          ? {
              promptTokenCount: usage.input,
              ...(candidates > 0 ? { candidatesTokenCount: candidates } : {}),
              totalTokenCount: usage.input + usage.output,
              ...(reasoning > 0 ? { thoughtsTokenCount: reasoning } : {}),
              ...(usage.cached ? { cachedContentTokenCount: usage.cached } : {}),
              trafficType: 'ON_DEMAND',
              promptTokensDetails: [{ modality: 'TEXT', tokenCount: usage.input }],
              ...(candidates > 0 ? { candidatesTokensDetails: [{ modality: 'TEXT', tokenCount: candidates }] } : {}),
            }
          : undefined;
        const finishReason = scenario.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP';
        return event({ content: { role: 'model' }, finishReason }, usageMetadata ? { usageMetadata } : {});
      },
    };
  },
};

/** Vertex AI's Gemini streamGenerateContent on a local port; baseUrl goes in VERTEX_BASE_URL. */
export function startGeminiServer(scenarioFor: ScenarioFor): Promise<FakeServer> {
  return startSseServer(scenarioFor, [geminiRoute]);
}
