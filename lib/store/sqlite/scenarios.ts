// Scenarios (SPEC 4.5): enabled and kind are columns, the rest is the document.
import type { SQLInputValue } from 'node:sqlite';
import type { ScenarioDoc } from '../documents.ts';
import type { InsertResult, ScenariosStore, ScenarioPatch } from '../store.ts';
import { encodeDoc, type SqliteConnection } from './connection.ts';

export function sqliteScenarios(c: SqliteConnection): ScenariosStore {
  const scenarios: ScenariosStore = {
    async listScenarios(filter: { enabledOnly?: boolean; kind?: string } = {}): Promise<ScenarioDoc[]> {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      if (filter.enabledOnly) where.push('enabled = 1');
      if (filter.kind) {
        where.push('kind = ?');
        params.push(filter.kind);
      }
      return c.docs<ScenarioDoc>(`SELECT doc FROM scenarios ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY scenario_id`, ...params);
    },

    async getScenario(scenarioId: string): Promise<ScenarioDoc | null> {
      return c.docs<ScenarioDoc>('SELECT doc FROM scenarios WHERE scenario_id = ?', scenarioId)[0] ?? null;
    },

    async insertScenario(doc: ScenarioDoc): Promise<InsertResult> {
      const r = c.stmt('INSERT INTO scenarios (scenario_id, enabled, kind, doc) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING').run(
        doc.scenario_id,
        doc.enabled ? 1 : 0,
        doc.kind,
        encodeDoc(doc),
      );
      return r.changes === 1 ? 'stored' : 'duplicate';
    },

    async updateScenario(scenarioId: string, patch: ScenarioPatch): Promise<boolean> {
      c.db.exec('BEGIN IMMEDIATE');
      try {
        const current = await scenarios.getScenario(scenarioId);
        if (!current) {
          c.db.exec('ROLLBACK');
          return false;
        }
        const next: ScenarioDoc = { ...current, ...patch };
        c.stmt('UPDATE scenarios SET enabled = ?, kind = ?, doc = ? WHERE scenario_id = ?').run(
          next.enabled ? 1 : 0,
          next.kind,
          encodeDoc(next),
          scenarioId,
        );
        c.db.exec('COMMIT');
        return true;
      } catch (err) {
        if (c.db.isTransaction) c.db.exec('ROLLBACK');
        throw err;
      }
    },

    async removeScenario(scenarioId: string): Promise<boolean> {
      return c.stmt('DELETE FROM scenarios WHERE scenario_id = ?').run(scenarioId).changes === 1;
    },
  };
  return scenarios;
}
