// The error rows (SPEC 4.2), and the health report's reads of them alone.
import type { ErrorDoc } from '../documents.ts';
import type { ErrorsStore, FingerprintSummary, InsertResult, KindCount, LastError, TimeWindow } from '../store.ts';
import { NOT_ABORTED, inWindow, insertDoc, refuseMock, stripAll, type MongoContext } from './connection.ts';

export function mongoErrors(ctx: MongoContext): ErrorsStore {
  const c = ctx.c;
  const errors: ErrorsStore = {
    async insertError(doc: ErrorDoc): Promise<InsertResult> {
      refuseMock(doc);
      return insertDoc(c.errors, doc);
    },

    async lastErrors(filter: { provider?: string } = {}): Promise<LastError[]> {
      const rows = await c.errors
        .aggregate([
          { $match: filter.provider ? { provider: filter.provider } : {} },
          { $sort: { ts: -1 } },
          {
            $group: {
              _id: { provider: '$provider', model_name: '$model_name' },
              ts: { $first: '$ts' },
              message: { $first: '$message' },
              error_kind: { $first: '$error_kind' },
            },
          },
        ])
        .toArray();
      return rows.map((r) => ({ provider: r._id.provider, model_name: r._id.model_name, ts: r.ts, message: r.message, error_kind: r.error_kind }));
    },

    async recentErrors(provider: string, modelName: string, limit: number): Promise<ErrorDoc[]> {
      const q = { provider, model_name: modelName };
      return stripAll<ErrorDoc>(await c.errors.find(q, { sort: { ts: -1 }, limit }).toArray());
    },

    async countErrors(filter: { provider?: string } = {}): Promise<number> {
      return c.errors.countDocuments(filter.provider ? { provider: filter.provider } : {});
    },

    async errorsByKind(w: TimeWindow): Promise<KindCount[]> {
      const rows = await c.errors
        .aggregate([
          { $match: { ...inWindow('ts', w), ...NOT_ABORTED } },
          { $group: { _id: { provider: '$provider', error_kind: '$error_kind' }, count: { $sum: 1 } } },
          { $sort: { count: -1, '_id.provider': 1, '_id.error_kind': 1 } },
        ])
        .toArray();
      return rows.map((r) => ({ provider: r._id.provider, error_kind: r._id.error_kind, count: r.count }));
    },

    async newFingerprints(w: TimeWindow): Promise<FingerprintSummary[]> {
      const seen = await c.errors
        .aggregate([{ $match: { ...inWindow('ts', w), ...NOT_ABORTED } }, { $group: { _id: '$fingerprint' } }])
        .toArray();
      if (seen.length === 0) return [];
      const rows = await c.errors
        .aggregate([
          { $match: { fingerprint: { $in: seen.map((r) => r._id) }, ts: { $lt: w.until } } },
          { $sort: { ts: 1 } },
          {
            $group: {
              _id: '$fingerprint',
              provider: { $first: '$provider' },
              model_name: { $first: '$model_name' },
              stage: { $first: '$stage' },
              error_kind: { $first: '$error_kind' },
              first_seen: { $first: '$ts' },
              count: { $sum: 1 },
              sample_message: { $first: '$message' },
            },
          },
          { $match: { first_seen: { $gte: w.since } } },
          { $sort: { first_seen: 1 } },
        ])
        .toArray();
      return rows.map(({ _id, ...r }) => ({ fingerprint: _id, ...r }) as FingerprintSummary);
    },
  };
  return errors;
}
