// Error classification (SPEC 7): once, where the error is caught, from the structured error
// first (HTTP status on the SDK error, AWS exception name, abort/timeout, socket error code)
// and from the message only as a fallback.
import { createHash } from 'node:crypto';
import type { ErrorDoc, ErrorKind, ErrorStage } from './store/documents.ts';
import { redact } from './log.ts';

export interface BenchErrorOptions {
  kind: ErrorKind;
  stage?: ErrorStage;
  httpStatus?: number | null;
  retryAfterMs?: number | null;
  cause?: unknown;
}

/** An error this project raises itself, already classified. */
export class BenchError extends Error {
  override name = 'BenchError';
  readonly kind: ErrorKind;
  readonly stage: ErrorStage | null;
  readonly httpStatus: number | null;
  readonly retryAfterMs: number | null;
  constructor(message: string, options: BenchErrorOptions) {
    super(message, { cause: options.cause });
    this.kind = options.kind;
    this.stage = options.stage ?? null;
    this.httpStatus = options.httpStatus ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

export interface Classified {
  kind: ErrorKind;
  httpStatus: number | null;
  /** From Retry-After / retry-after-ms when the provider sent one. */
  retryAfterMs: number | null;
  /** The error's own message, secrets redacted, one line. */
  detail: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

const AWS_KINDS: Record<string, ErrorKind> = {
  ThrottlingException: 'rate_limit',
  TooManyRequestsException: 'rate_limit',
  ServiceQuotaExceededException: 'rate_limit',
  AccessDeniedException: 'auth',
  UnrecognizedClientException: 'auth',
  ExpiredTokenException: 'auth',
  InvalidSignatureException: 'auth',
  CredentialsProviderError: 'auth',
  ProfileNotFound: 'auth',
  ResourceNotFoundException: 'hard_model',
  ModelNotReadyException: 'transient_provider',
  ServiceUnavailableException: 'transient_provider',
  InternalServerException: 'transient_provider',
  ModelStreamErrorException: 'transient_provider',
  ModelErrorException: 'transient_provider',
  ModelTimeoutException: 'timeout',
};

// OpenAI-style error codes (also used by the OpenAI-compatible hosts) for in-stream errors.
const STREAM_ERROR_CODES = new Map<string, ErrorKind>([
  ['server_error', 'transient_provider'],
  ['rate_limit_exceeded', 'rate_limit'],
  ['model_not_found', 'hard_model'],
  ['invalid_api_key', 'auth'],
  ['vector_store_timeout', 'timeout'],
]);

// Message fallbacks, most specific first.
const MESSAGE_RULES: Array<[RegExp, ErrorKind]> = [
  [/insufficient[_ ](credits|funds|balance|quota)|payment required|billing|credit balance/i, 'billing'],
  [/on-demand throughput isn.t supported|dedicated endpoint|end of (its )?life|decommissioned|deprecated and (is )?no longer|model[_ ]not[_ ]found|does not exist|no such model|unknown model|invalid model|model identifier is invalid|is not available|not found/i, 'hard_model'],
  [/unsupported (parameter|value)|not supported|does not support|only supported in|use the .* (api|endpoint)|is not a chat model|requires? (the )?responses api/i, 'hard_capability'],
  [/rate[_ ]?limit|too many requests|throttl|quota exceeded|exceeded your current quota|resource[_ ]exhausted/i, 'rate_limit'],
  [/invalid (x-)?api[_ -]?key|incorrect api key|unauthori[sz]ed|authentication|permission denied|forbidden|credentials|profile.*not (be )?found|security token/i, 'auth'],
  [/overloaded|temporarily unavailable|service unavailable|internal server error|bad gateway|gateway timeout|try again later|upstream/i, 'transient_provider'],
  [/timed? ?out|timeout|deadline exceeded/i, 'timeout'],
  [/econnrefused|econnreset|enotfound|eai_again|socket hang up|network|fetch failed|connection (error|reset|refused|closed)/i, 'network'],
];

/** Classifies any thrown value. Never throws. */
export function classifyError(err: unknown): Classified {
  const detail = oneLine(redact(describe(err)));
  if (err instanceof BenchError) {
    return { kind: err.kind, httpStatus: err.httpStatus, retryAfterMs: err.retryAfterMs, detail };
  }
  const e = (err ?? {}) as Record<string, unknown>;
  const httpStatus = statusOf(e);
  const retryAfterMs = retryAfterOf(e);
  const byMessage = MESSAGE_RULES.find(([re]) => re.test(detail))?.[1] ?? null;
  const kind = structuredKind(e, httpStatus, byMessage) ?? byMessage ?? 'unknown';
  return { kind, httpStatus, retryAfterMs, detail };
}

function structuredKind(e: Record<string, unknown>, status: number | null, byMessage: ErrorKind | null): ErrorKind | null {
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  const errorType = nestedErrorCode(e);
  if (name === 'TimeoutError' || name === 'APIConnectionTimeoutError') return 'timeout';
  if (name === 'AbortError' || name === 'APIUserAbortError') return 'timeout';
  if (code === 'insufficient_quota' || errorType === 'insufficient_quota') return 'billing';
  // Errors sent inside an open stream have no HTTP status, only the provider's error code:
  // OpenAI Responses `error` / `response.failed` events, chat chunks carrying `{"error": …}`.
  const streamedKind = status === null ? (STREAM_ERROR_CODES.get(code) ?? STREAM_ERROR_CODES.get(errorType ?? '')) : undefined;
  if (streamedKind) return streamedKind;
  if (status !== null) {
    if (status === 401 || status === 403) return 'auth';
    if (status === 402) return 'billing';
    if (status === 429) return byMessage === 'billing' ? 'billing' : 'rate_limit';
    if (status === 404 || status === 410) return 'hard_model';
    if (status === 408) return 'timeout';
    if (status >= 500) return byMessage === 'hard_model' ? 'hard_model' : 'transient_provider';
    if (status === 400 || status === 422) {
      if (byMessage === 'hard_model' || byMessage === 'hard_capability' || byMessage === 'billing') return byMessage;
      return 'hard_capability';
    }
  }
  const awsKind = AWS_KINDS[name];
  if (awsKind) {
    // Bedrock reports un-prefixed Anthropic ids as a ValidationException-free
    // ResourceNotFound on some regions and AccessDenied on others; the message decides then.
    return awsKind === 'auth' && byMessage === 'hard_model' ? 'hard_model' : awsKind;
  }
  if (name === 'ValidationException') return byMessage === 'hard_model' ? 'hard_model' : 'hard_capability';
  for (const c of causeChain(e)) {
    const cc = (c as { code?: unknown }).code;
    if (typeof cc === 'string' && NETWORK_CODES.has(cc)) return 'network';
  }
  if (name === 'APIConnectionError') return 'network';
  return null;
}

function statusOf(e: Record<string, unknown>): number | null {
  const candidates = [e.status, e.statusCode, (e.$metadata as { httpStatusCode?: unknown } | undefined)?.httpStatusCode];
  for (const c of candidates) {
    if (typeof c === 'number' && Number.isInteger(c) && c >= 100 && c <= 599) return c;
  }
  return null;
}

function nestedErrorCode(e: Record<string, unknown>): string | null {
  const inner = e.error as { code?: unknown; type?: unknown } | undefined;
  const v = inner?.code ?? inner?.type;
  return typeof v === 'string' ? v : null;
}

function retryAfterOf(e: Record<string, unknown>): number | null {
  const headers = e.headers as Headers | Record<string, string> | undefined;
  if (!headers) return null;
  const get = (k: string): string | null =>
    typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get(k)
      : ((headers as Record<string, string>)[k] ?? null);
  return parseRetryAfter(get('retry-after-ms'), get('retry-after'));
}

/** Parses Retry-After (seconds or an HTTP date) or retry-after-ms into milliseconds. */
export function parseRetryAfter(ms: string | null, value: string | null, now = Date.now()): number | null {
  if (ms && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

function* causeChain(e: unknown): Generator<unknown> {
  let cur: unknown = e;
  for (let i = 0; cur && i < 6; i++) {
    yield cur;
    cur = (cur as { cause?: unknown }).cause;
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const parts = [err.message || err.name];
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof Error && cause.message && !err.message.includes(cause.message)) parts.push(cause.message);
    return parts.join(': ');
  }
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 4000);
}

/** Lowercased, request ids redacted, whitespace collapsed, at most 2000 characters (SPEC 4.2). */
export function normalizeMessage(message: string): string {
  return message
    .toLowerCase()
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/g, '<id>')
    .replace(/\b(req|request|msg|chatcmpl|resp|gen|run)[_-][a-z0-9_-]{6,}/g, '<id>')
    .replace(/\b[0-9a-f]{16,}\b/g, '<id>')
    .replace(/(request[ _-]?id["']?\s*[:=]?\s*["']?)[a-z0-9_-]{6,}/g, '$1<id>')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 2000);
}

export function errorFingerprint(parts: {
  provider: string;
  model_name: string;
  stage: string;
  error_kind: string;
  normalized_message: string;
}): string {
  return createHash('sha256')
    .update([parts.provider, parts.model_name, parts.stage, parts.error_kind, parts.normalized_message].join('\u0000'))
    .digest('hex');
}

/** Builds an errors_cloud document; the message is redacted here whatever the caller passed. */
export function buildErrorDoc(fields: {
  provider: string;
  model_name: string;
  ts: Date;
  stage: ErrorStage;
  error_kind: ErrorKind;
  message: string;
  http_status: number | null;
  run_id: string;
  benchmark_profile_id: string;
  runner: string;
}): ErrorDoc {
  const message = redact(fields.message);
  const normalized_message = normalizeMessage(message);
  return {
    ...fields,
    message,
    normalized_message,
    fingerprint: errorFingerprint({ ...fields, normalized_message }),
  };
}
