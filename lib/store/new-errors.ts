// Which errors are new (SPEC 10: "new error fingerprints"), the same on both backends. Our
// fingerprint is a hash of provider, model, stage, kind and the normalised message; upstream's
// rows carry another scheme (other separator and normaliser) or, before its taxonomy, none. So
// an error is known when history holds:
//   - a row with the same fingerprint of ours (recomputed for upstream rows, ourFingerprint);
//   - an upstream row of the same model and stage with the same normalised message, whatever
//     its kind (upstream's classifier changed over time and an LLM reclassified old rows);
//   - for a row of ours, an upstream row of the same model, stage, kind and HTTP status: the
//     two systems word the same failure differently (Python's exception text, our message).
import { normalizeMessage } from '../errors.ts';
import type { ErrorKind } from './documents.ts';
import type { FingerprintSummary, TimeWindow } from './store.ts';
import { ourFingerprint } from './upstream.ts';

/** Error rows grouped by what tells one error from another (aborted calls left out). */
export interface ErrorSignature {
  provider: string;
  model_name: string;
  stage: string | null;
  error_kind: string | null;
  http_status: number | null;
  /** The stored fingerprint: ours on rows with a run_id; upstream's, or none, on theirs. */
  fingerprint: string | null;
  /** The rows carry a run_id: this project wrote them. */
  ours: boolean;
  /** One of the group's messages (the group's rows share their normalised message). */
  message: string;
  first_seen: Date;
  count: number;
}

export interface SignatureQuery {
  since?: Date;
  until: Date;
  /** Only these models. */
  models?: Array<{ provider: string; model_name: string }>;
}

/** What a backend answers for findNewErrors. */
export interface ErrorSignatureSource {
  errorSignatures(q: SignatureQuery): Promise<ErrorSignature[]>;
  /** Which of these fingerprints a row stored before `before` carries (an index lookup). */
  fingerprintsSeenBefore(fingerprints: string[], before: Date): Promise<Set<string>>;
}

/** Errors whose first occurrence ever falls inside the window, oldest first. */
export async function findNewErrors(source: ErrorSignatureSource, w: TimeWindow): Promise<FingerprintSummary[]> {
  const current = await source.errorSignatures({ since: w.since, until: w.until });
  if (current.length === 0) return [];
  const keyed = current.map((s) => ({ s, key: ourFingerprint({ ...s, run_id: s.ours ? 'ours' : undefined }) }));
  const seen = await source.fingerprintsSeenBefore([...new Set(keyed.map((k) => k.key))], w.since);
  let candidates = keyed.filter((k) => !seen.has(k.key));
  if (candidates.length > 0) {
    const models = uniqueModels(candidates.map((k) => k.s));
    const history = await source.errorSignatures({ until: w.since, models });
    const known = new Set<string>();
    for (const h of history) {
      known.add(`fp\u0000${ourFingerprint({ ...h, run_id: h.ours ? 'ours' : undefined })}`);
      if (h.ours) continue;
      known.add(`msg\u0000${h.provider}\u0000${h.model_name}\u0000${h.stage}\u0000${normalizeMessage(h.message)}`);
      known.add(`kind\u0000${h.provider}\u0000${h.model_name}\u0000${h.stage}\u0000${h.error_kind ?? 'unknown'}\u0000${h.http_status}`);
    }
    candidates = candidates.filter(
      ({ s, key }) =>
        !known.has(`fp\u0000${key}`) &&
        !known.has(`msg\u0000${s.provider}\u0000${s.model_name}\u0000${s.stage}\u0000${normalizeMessage(s.message)}`) &&
        !(s.ours && known.has(`kind\u0000${s.provider}\u0000${s.model_name}\u0000${s.stage}\u0000${s.error_kind ?? 'unknown'}\u0000${s.http_status}`)),
    );
  }
  // Several stored groups can share one key of ours (an upstream fingerprint and ours for the
  // same error): one entry each, its first occurrence and all its rows.
  const byKey = new Map<string, FingerprintSummary>();
  for (const { s, key } of candidates) {
    const entry = byKey.get(key);
    if (!entry) {
      byKey.set(key, {
        fingerprint: key,
        provider: s.provider,
        model_name: s.model_name,
        stage: s.stage ?? 'generate',
        error_kind: (s.error_kind ?? 'unknown') as ErrorKind,
        first_seen: s.first_seen,
        count: s.count,
        sample_message: s.message,
      });
      continue;
    }
    entry.count += s.count;
    if (s.first_seen < entry.first_seen) Object.assign(entry, { first_seen: s.first_seen, sample_message: s.message });
  }
  return [...byKey.values()].sort((a, b) => a.first_seen.getTime() - b.first_seen.getTime());
}

function uniqueModels(xs: Array<{ provider: string; model_name: string }>): Array<{ provider: string; model_name: string }> {
  const out = new Map<string, { provider: string; model_name: string }>();
  for (const { provider, model_name } of xs) out.set(`${provider}\u0000${model_name}`, { provider, model_name });
  return [...out.values()];
}
