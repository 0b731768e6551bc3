// The error rows (SPEC 4.2), and the health report's reads of them alone.
import type { ErrorDoc } from '../documents.ts';
import type { ErrorsStore, FingerprintSummary, InsertResult, KindCount, LastError, TimeWindow } from '../store.ts';
import { encodeDoc, ms, type SqliteConnection } from './connection.ts';

export function sqliteErrors(c: SqliteConnection): ErrorsStore {
  const errors: ErrorsStore = {
    async insertError(doc: ErrorDoc): Promise<InsertResult> {
      const r = c.stmt(
        `INSERT INTO errors (run_id, provider, model_name, ts, stage, error_kind, fingerprint, message, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
      ).run(
        doc.run_id,
        doc.provider,
        doc.model_name,
        ms(doc.ts),
        doc.stage,
        doc.error_kind,
        doc.fingerprint,
        doc.message,
        encodeDoc(doc),
      );
      return r.changes === 1 ? 'stored' : 'duplicate';
    },

    async lastErrors(filter: { provider?: string } = {}): Promise<LastError[]> {
      // SQLite returns the other columns from the row holding MAX() (documented bare-column behaviour).
      const rows = c.all<{ provider: string; model_name: string; ts: number; message: string; error_kind: string }>(
        `SELECT provider, model_name, MAX(ts) AS ts, message, error_kind FROM errors
         ${filter.provider ? 'WHERE provider = ?' : ''} GROUP BY provider, model_name`,
        ...(filter.provider ? [filter.provider] : []),
      );
      return rows.map((r) => ({ ...r, ts: new Date(r.ts) }) as LastError);
    },

    async recentErrors(provider: string, modelName: string, limit: number): Promise<ErrorDoc[]> {
      return c.docs<ErrorDoc>(
        'SELECT doc FROM errors WHERE provider = ? AND model_name = ? ORDER BY ts DESC LIMIT ?',
        provider,
        modelName,
        limit,
      );
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
      const rows = c.all<Omit<FingerprintSummary, 'first_seen'> & { first_seen: number }>(
        `SELECT fingerprint, provider, model_name, stage, error_kind, MIN(ts) AS first_seen, COUNT(*) AS count,
                message AS sample_message
         FROM errors
         WHERE fingerprint IN (SELECT DISTINCT fingerprint FROM errors WHERE ts >= ? AND ts < ? AND error_kind != 'aborted') AND ts < ?
         GROUP BY fingerprint HAVING MIN(ts) >= ?
         ORDER BY first_seen`,
        ms(w.since),
        ms(w.until),
        ms(w.until),
        ms(w.since),
      );
      return rows.map((r) => ({ ...r, first_seen: new Date(r.first_seen) }));
    },
  };
  return errors;
}
