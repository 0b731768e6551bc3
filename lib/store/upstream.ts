// Reading rules for documents this project did not write (SPEC 4.0). The operator's MongoDB
// holds years of rows the upstream Python system wrote in three shapes
// (../shared/upstream-documents.md); every reader of either backend sees them through these
// functions, so a rule lives in one place. Nothing here writes: the stored document stays as
// the operator's system left it.
import { errorFingerprint, normalizeMessage } from '../errors.ts';
import { deprecationDay, type ErrorDoc, type MetricDoc, type ModelDoc } from './documents.ts';
import { DEFAULT_SCENARIO } from './store.ts';

/**
 * Upstream's `sample_role` values that were never published: admission probes and shadow runs
 * (HEAD scheduler/runner.py sends them to metrics_cloud_probe, with the published profile's id
 * on probes). Such a row counts nowhere a published figure or freshness is computed.
 */
export const UNPUBLISHED_ROLES = ['probe', 'shadow'] as const;

export function isUnpublishedRole(role: unknown): boolean {
  return role === 'probe' || role === 'shadow';
}

/**
 * A row's TTFT as published. The January 2026 runner wrote `time_to_first_token: 0` when no
 * visible token came (reasoning spent the budget) and had no `ttft_available` field; a 0 from
 * a row that does not say `ttft_available: true` is that "none", not an instant answer.
 */
export function publishedTtft(doc: { time_to_first_token?: unknown; ttft_available?: unknown }): number | null {
  const v = doc.time_to_first_token;
  if (typeof v !== 'number' || !Number.isFinite(v)) return null;
  return v === 0 && doc.ttft_available !== true ? null : v;
}

/** The id a row is known by: its run_id, or (upstream rows have none) its MongoDB `_id` as hex. */
export function rowId(doc: { run_id?: unknown; _id?: unknown }): string | null {
  if (typeof doc.run_id === 'string' && doc.run_id) return doc.run_id;
  const id = doc._id;
  if (id === undefined || id === null) return null;
  if (typeof id === 'object' && typeof (id as { $oid?: unknown }).$oid === 'string') return (id as { $oid: string }).$oid;
  if (typeof id === 'object' && typeof (id as { toHexString?: unknown }).toHexString === 'function') return (id as { toHexString(): string }).toHexString();
  return String(id);
}

/** A metric row as readers see it: published scenario when it has none, upstream's TTFT 0 as none, an id. */
export function readMetric<T extends Partial<MetricDoc>>(doc: T): T {
  const ttft = publishedTtft(doc);
  const id = rowId(doc as { run_id?: unknown; _id?: unknown });
  if (doc.benchmark_profile_id != null && ttft === (doc.time_to_first_token ?? null) && doc.run_id === id && !('_id' in doc)) return doc;
  // The row is known by its run_id from here on: `_id` is left out, as the MongoDB store leaves it.
  const { _id, ...rest } = doc as T & { _id?: unknown };
  return {
    ...rest,
    benchmark_profile_id: doc.benchmark_profile_id ?? DEFAULT_SCENARIO,
    time_to_first_token: ttft,
    ...(id !== null ? { run_id: id } : {}),
  } as T;
}

/**
 * An error row as readers see it: one from before upstream's taxonomy (no error_kind,
 * fingerprint or normalized_message) is `unknown` with its message kept and our fingerprint
 * computed; a missing scenario is the published one; an id from `_id`.
 */
export function readError<T extends Partial<ErrorDoc>>(doc: T): T {
  const complete =
    typeof doc.error_kind === 'string' &&
    typeof doc.fingerprint === 'string' &&
    typeof doc.normalized_message === 'string' &&
    doc.benchmark_profile_id != null &&
    typeof doc.run_id === 'string' &&
    doc.http_status !== undefined &&
    !('_id' in doc);
  if (complete) return doc;
  const message = typeof doc.message === 'string' ? doc.message : '';
  const error_kind = (doc.error_kind ?? 'unknown') as ErrorDoc['error_kind'];
  const stage = (doc.stage ?? 'generate') as ErrorDoc['stage'];
  const normalized_message = doc.normalized_message ?? normalizeMessage(message);
  const id = rowId(doc as { run_id?: unknown; _id?: unknown });
  const { _id, ...rest } = doc as T & { _id?: unknown };
  return {
    ...rest,
    stage,
    message,
    error_kind,
    http_status: doc.http_status ?? null,
    normalized_message,
    fingerprint:
      doc.fingerprint ??
      errorFingerprint({ provider: doc.provider ?? '', model_name: doc.model_name ?? '', stage, error_kind, normalized_message: normalizeMessage(message) }),
    benchmark_profile_id: doc.benchmark_profile_id ?? DEFAULT_SCENARIO,
    ...(id !== null ? { run_id: id } : {}),
  } as T;
}

/**
 * Our fingerprint of an error row whatever wrote it. Ours carry it (a run_id says the row is
 * ours); upstream's scheme differs (another separator and normaliser, and rows from before
 * its taxonomy have none), so for those it is recomputed from the row's own fields.
 */
export function ourFingerprint(doc: {
  run_id?: unknown;
  fingerprint?: unknown;
  provider: string;
  model_name: string;
  stage?: unknown;
  error_kind?: unknown;
  message?: unknown;
}): string {
  if (typeof doc.run_id === 'string' && typeof doc.fingerprint === 'string') return doc.fingerprint;
  return errorFingerprint({
    provider: doc.provider,
    model_name: doc.model_name,
    stage: typeof doc.stage === 'string' ? doc.stage : 'generate',
    error_kind: typeof doc.error_kind === 'string' ? doc.error_kind : 'unknown',
    normalized_message: normalizeMessage(typeof doc.message === 'string' ? doc.message : ''),
  });
}

/**
 * Upstream lifecycle fields a model may carry (HEAD admission, discovery staging, disabling):
 * shown by `models list` and `show`, and kept on every write.
 */
export const UPSTREAM_MODEL_FIELDS = [
  'status',
  'disabled_class',
  'disabled_by',
  'recheck_after',
  'deprecation_reason',
  'admission_started_at',
  'admission_evidence',
  'promoted_at',
  'source',
  'promotion_status',
  'promotion_source',
  'promotion_openrouter_id',
  'promotion_confidence',
  'promotion_reasoning',
  'promotion_reviewed_at',
] as const;

/**
 * A model as readers see it: upstream's seed script wrote `added_at` and no `created_at` or
 * `deprecated`; older dashboards wrote `deprecation_date` as a Date (read as `YYYY-MM-DD`).
 */
export function readModel(doc: ModelDoc): ModelDoc {
  const raw = doc as ModelDoc & { added_at?: unknown };
  return {
    ...doc,
    enabled: doc.enabled === true,
    deprecated: doc.deprecated === true,
    created_at: doc.created_at instanceof Date ? doc.created_at : raw.added_at instanceof Date ? raw.added_at : doc.created_at,
    // Typed as the string we write; a Date is what older writers left.
    ...((doc.deprecation_date as unknown) instanceof Date ? { deprecation_date: deprecationDay(doc.deprecation_date) } : {}),
  };
}
