// Scenarios (SPEC 4.5).
import type { Document } from 'mongodb';
import type { ScenarioDoc } from '../documents.ts';
import type { InsertResult, ScenariosStore, ScenarioPatch } from '../store.ts';
import { insertDoc, strip, stripAll, type MongoContext } from './connection.ts';

export function mongoScenarios(ctx: MongoContext): ScenariosStore {
  const c = ctx.c;
  const scenarios: ScenariosStore = {
    async listScenarios(filter: { enabledOnly?: boolean; kind?: string } = {}): Promise<ScenarioDoc[]> {
      const q: Document = {};
      if (filter.enabledOnly) q.enabled = true;
      if (filter.kind) q.kind = filter.kind;
      return stripAll<ScenarioDoc>(await c.scenarios.find(q, { sort: { scenario_id: 1 } }).toArray());
    },

    async getScenario(scenarioId: string): Promise<ScenarioDoc | null> {
      return strip<ScenarioDoc>(await c.scenarios.findOne({ scenario_id: scenarioId }));
    },

    async insertScenario(doc: ScenarioDoc): Promise<InsertResult> {
      return insertDoc(c.scenarios, doc);
    },

    async updateScenario(scenarioId: string, patch: ScenarioPatch): Promise<boolean> {
      const r = await c.scenarios.updateOne({ scenario_id: scenarioId }, { $set: patch });
      return r.matchedCount === 1;
    },

    async removeScenario(scenarioId: string): Promise<boolean> {
      const r = await c.scenarios.deleteOne({ scenario_id: scenarioId });
      return r.deletedCount === 1;
    },
  };
  return scenarios;
}
