// The error rows (SPEC 4.2), and the health report's reads of them alone.
import type { ErrorDoc } from '../documents.ts';
import type { ErrorsStore, FingerprintSummary, InsertResult, KindCount, LastError, TimeWindow } from '../store.ts';
import type { SQLInputValue } from 'node:sqlite';
import { findNewErrors, type ErrorSignature, type SignatureQuery } from '../new-errors.ts';
import { readError } from '../upstream.ts';
import { encodeDoc, ms, type SqliteConnection } from './connection.ts';
import { inWriteTransaction, insertErrorRow } from './metric-rows.ts';
import { errorSql } from './schema.ts';

export function sqliteErrors(c: SqliteConnection): ErrorsStore {
  async function errorSignatures(q: SignatureQuery): Promise<ErrorSignature[]> {
    const where = ['ts < ?', "error_kind != 'aborted'"];
    const params: SQLInputValue[] = [ms(q.until)];
    if (q.since) {
      where.push('ts >= ?');
      params.push(ms(q.since));
    }
    if (q.models) {
      where.push(`(provider, model_name) IN (VALUES ${q.models.map(() => '(?, ?)').join(', ')})`);
      for (const m of q.models) params.push(m.provider, m.model_name);
    }
    const rows = c.all<Omit<ErrorSignature, 'first_seen' | 'ours'> & { first_seen: number; ours: number }>(
      `SELECT provider, model_name, stage, error_kind, ${errorSql(c).field('http_status')} AS http_status, fingerprint,
              ${errorSql(c).ours} AS ours, MIN(ts) AS first_seen, COUNT(*) AS count, message
       FROM errors WHERE ${where.join(' AND ')}
       GROUP BY provider, model_name, stage, error_kind, fingerprint, http_status, ours`,
      ...params,
    );
    return rows.map((r) => ({ ...r, ours: r.ours === 1, first_seen: new Date(r.first_seen) }));
  }

  async function fingerprintsSeenBefore(fingerprints: string[], before: Date): Promise<Set<string>> {
    const seen = new Set<string>();
    const stmt = c.stmt('SELECT 1 FROM errors WHERE fingerprint = ? AND ts < ? LIMIT 1');
    for (const f of fingerprints) if (stmt.get(f, ms(before))) seen.add(f);
    return seen;
  }

  const errors: ErrorsStore = {
    async insertError(doc: ErrorDoc): Promise<InsertResult> {
      const stored = inWriteTransaction(c.db, () => insertErrorRow(c.db, doc as unknown as Record<string, unknown>, encodeDoc(doc), doc));
      return stored === 1 ? 'stored' : 'duplicate';
    },

    async lastErrors(filter: { provider?: string } = {}): Promise<LastError[]> {
      // SQLite returns the other columns from the row holding MAX() (documented bare-column behaviour).
      const rows = c.all<{ provider: string; model_name: string; ts: number; message: string; error_kind: string }>(
        `SELECT provider, model_name, MAX(ts) AS ts, message, error_kind FROM errors
         WHERE error_kind != 'aborted' ${filter.provider ? 'AND provider = ?' : ''} GROUP BY provider, model_name`,
        ...(filter.provider ? [filter.provider] : []),
      );
      return rows.map((r) => ({ ...r, ts: new Date(r.ts) }) as LastError);
    },

    async recentErrors(provider: string, modelName: string, limit: number): Promise<ErrorDoc[]> {
      return c
        .rowDocs<ErrorDoc>('error', `SELECT ${errorSql(c).docColumns()} FROM errors WHERE provider = ? AND model_name = ? ORDER BY ts DESC LIMIT ?`, provider, modelName, limit)
        .map(readError);
    },

    async countErrors(filter: { provider?: string } = {}): Promise<number> {
      return c.count('errors', filter.provider);
    },

    async errorsByKind(w: TimeWindow): Promise<KindCount[]> {
      return c.all<KindCount>(
        `SELECT provider, error_kind, COUNT(*) AS count FROM errors WHERE ts >= ? AND ts < ? AND error_kind != 'aborted'
         GROUP BY provider, error_kind ORDER BY count DESC, provider, error_kind`,
        ms(w.since),
        ms(w.until),
      );
    },

    async newFingerprints(w: TimeWindow): Promise<FingerprintSummary[]> {
      return findNewErrors({ errorSignatures, fingerprintsSeenBefore }, w);
    },
  };
  return errors;
}
