// The error rows (SPEC 4.2), and the health report's reads of them alone.
import type { ErrorDoc } from '../documents.ts';
import type { ErrorsStore, FingerprintSummary, InsertResult, KindCount, LastError, TimeWindow } from '../store.ts';
import type { Document } from 'mongodb';
import { findNewErrors, type ErrorSignature, type SignatureQuery } from '../new-errors.ts';
import { ERROR_KIND, NOT_ABORTED, inWindow, insertDoc, readErrors, refuseMock, type MongoContext } from './connection.ts';

export function mongoErrors(ctx: MongoContext): ErrorsStore {
  const c = ctx.c;

  async function errorSignatures(q: SignatureQuery): Promise<ErrorSignature[]> {
    const match: Document = { ts: { ...(q.since ? { $gte: q.since } : {}), $lt: q.until }, ...NOT_ABORTED };
    if (q.models) match.$or = q.models.map((m) => ({ provider: m.provider, model_name: m.model_name }));
    const hasFingerprint = { $eq: [{ $type: '$fingerprint' }, 'string'] };
    const rows = await c.errors
      .aggregate([
        { $match: match },
        {
          $group: {
            _id: {
              provider: '$provider',
              model_name: '$model_name',
              stage: { $ifNull: ['$stage', null] },
              error_kind: { $ifNull: ['$error_kind', null] },
              http_status: { $ifNull: ['$http_status', null] },
              fingerprint: { $ifNull: ['$fingerprint', null] },
              ours: { $eq: [{ $type: '$run_id' }, 'string'] },
              // Rows from before upstream's taxonomy have no fingerprint: their message tells them apart.
              message: { $cond: [hasFingerprint, null, { $ifNull: ['$message', ''] }] },
            },
            first_seen: { $min: '$ts' },
            count: { $sum: 1 },
            sample: { $first: '$message' },
          },
        },
      ])
      .toArray();
    return rows.map((r) => ({ ...r._id, message: typeof r.sample === 'string' ? r.sample : '', first_seen: r.first_seen, count: r.count }));
  }

  async function fingerprintsSeenBefore(fingerprints: string[], before: Date): Promise<Set<string>> {
    const rows = await c.errors.aggregate([{ $match: { fingerprint: { $in: fingerprints }, ts: { $lt: before } } }, { $group: { _id: '$fingerprint' } }]).toArray();
    return new Set(rows.map((r) => r._id as string));
  }

  const errors: ErrorsStore = {
    async insertError(doc: ErrorDoc): Promise<InsertResult> {
      refuseMock(doc);
      return insertDoc(c.errors, doc);
    },

    async lastErrors(filter: { provider?: string } = {}): Promise<LastError[]> {
      const rows = await c.errors
        .aggregate([
          { $match: { ...(filter.provider ? { provider: filter.provider } : {}), ...NOT_ABORTED } },
          { $sort: { ts: -1 } },
          {
            $group: {
              _id: { provider: '$provider', model_name: '$model_name' },
              ts: { $first: '$ts' },
              message: { $first: '$message' },
              error_kind: { $first: ERROR_KIND },
            },
          },
        ])
        .toArray();
      return rows.map((r) => ({ provider: r._id.provider, model_name: r._id.model_name, ts: r.ts, message: r.message, error_kind: r.error_kind }));
    },

    async recentErrors(provider: string, modelName: string, limit: number): Promise<ErrorDoc[]> {
      const q = { provider, model_name: modelName };
      return readErrors(await c.errors.find(q, { sort: { ts: -1 }, limit }).toArray());
    },

    async countErrors(filter: { provider?: string } = {}): Promise<number> {
      return c.errors.countDocuments(filter.provider ? { provider: filter.provider } : {});
    },

    async errorsByKind(w: TimeWindow): Promise<KindCount[]> {
      const rows = await c.errors
        .aggregate([
          { $match: { ...inWindow('ts', w), ...NOT_ABORTED } },
          { $group: { _id: { provider: '$provider', error_kind: ERROR_KIND }, count: { $sum: 1 } } },
          { $sort: { count: -1, '_id.provider': 1, '_id.error_kind': 1 } },
        ])
        .toArray();
      return rows.map((r) => ({ provider: r._id.provider, error_kind: r._id.error_kind, count: r.count }));
    },

    async newFingerprints(w: TimeWindow): Promise<FingerprintSummary[]> {
      return findNewErrors({ errorSignatures, fingerprintsSeenBefore }, w);
    },
  };
  return errors;
}
