// TinyFish agent runs (SPEC 4.6) and their KPIs (SPEC 16).
import type { Document } from 'mongodb';
import type { AgentRunDoc } from '../documents.ts';
import {
  StoreError,
  type AgentFailure,
  type AgentKpiFilter,
  type AgentKpiRow,
  type AgentKpiSummary,
  type AgentRunFilter,
  type AgentRunsStore,
  type InsertResult,
  type Percentiles,
  type TimeWindow,
} from '../store.ts';
import { agentFailure, groupAgentRuns, summarizeAgentGroups } from '../kpis.ts';
import { inWindow, insertDoc, serverOrFallback, strip, stripAll, type MongoContext } from './connection.ts';

export function mongoAgentRuns(ctx: MongoContext): AgentRunsStore {
  const c = ctx.c;

  async function serverAgentKpis(match: Document): Promise<AgentKpiSummary> {
    // MongoDB 7.0+: $percentile over the completed runs ($percentile skips the nulls the
    // other runs give it), per group and overall; the newest failure of each group apart.
    const done = { $eq: ['$status', 'completed'] };
    const ofCompleted = (field: string) => ({ $percentile: { input: { $cond: [done, field, null] }, p: [0.5, 0.95, 0.99], method: 'approximate' } });
    const level = (id: Document | null) =>
      c.agentRuns
        .aggregate([
          { $match: match },
          {
            $group: {
              _id: id,
              completed: { $sum: { $cond: [done, 1, 0] } },
              failed: { $sum: { $cond: [{ $eq: ['$status', 'failed'] }, 1, 0] } },
              timeouts: { $sum: { $cond: [{ $eq: ['$status', 'timeout'] }, 1, 0] } },
              last_started: { $max: '$started_at' },
              last_completed: { $max: { $cond: [done, '$started_at', null] } },
              mock: { $max: { $eq: ['$mock', true] } },
              total_duration_ms: ofCompleted('$total_duration_ms'),
              time_to_first_progress_ms: ofCompleted('$time_to_first_progress_ms'),
            },
          },
        ])
        .toArray();
    const key = { automation: '$automation', scenario: '$scenario_id', mock: { $eq: ['$mock', true] } };
    const [groups, overall, failures] = await Promise.all([
      level(key),
      level(null),
      c.agentRuns
        .aggregate([
          { $match: { ...match, status: { $ne: 'completed' } } },
          { $sort: { started_at: -1 } },
          { $group: { _id: key, doc: { $first: '$$ROOT' } } },
        ])
        .toArray(),
    ]);
    const keyOf = (k: Document) => `${k.automation}\u0000${k.scenario}\u0000${k.mock === true}`;
    const newest = new Map(failures.map((f) => [keyOf(f._id), agentFailure(f.doc as AgentRunDoc)]));
    const p = (v: unknown): Percentiles => {
      const [p50 = null, p95 = null, p99 = null] = Array.isArray(v) ? v.map((x) => (typeof x === 'number' ? x : null)) : [];
      return { p50, p95, p99 };
    };
    const row = (r: Document, automation: string | null, scenario: string | null, lastFailure: AgentFailure | null): AgentKpiRow => {
      const runs = r.completed + r.failed + r.timeouts;
      return {
        provider: 'tinyfish',
        automation,
        scenario,
        mock: r.mock === true,
        runs,
        completed: r.completed,
        failed: r.failed,
        timeouts: r.timeouts,
        success_rate: runs > 0 ? r.completed / runs : null,
        last_started: r.last_started ?? null,
        last_completed: r.last_completed ?? null,
        total_duration_ms: p(r.total_duration_ms),
        time_to_first_progress_ms: p(r.time_to_first_progress_ms),
        last_failure: lastFailure,
      };
    };
    const rows = groups
      .map((g) => row(g, g._id.automation, g._id.scenario, newest.get(keyOf(g._id)) ?? null))
      .sort((a, b) => (a.automation! < b.automation! ? -1 : a.automation! > b.automation! ? 1 : a.scenario! < b.scenario! ? -1 : a.scenario! > b.scenario! ? 1 : Number(a.mock) - Number(b.mock)));
    const newestOverall = [...newest.values()].sort((a, b) => b.started_at.getTime() - a.started_at.getTime())[0] ?? null;
    const all = overall[0] ? row(overall[0], null, null, newestOverall) : summarizeAgentGroups([]).overall;
    return { overall: all, groups: rows };
  }

  // Before 7.0: the few fields the KPIs need come here and are grouped like SQLite's.
  async function fallbackAgentKpis(match: Document): Promise<AgentKpiSummary> {
    // (Never the result, up to 64 KiB a run.)
    const docs = await c.agentRuns
      .aggregate([
        { $match: match },
        { $project: { _id: 0, run_id: 1, automation: 1, scenario_id: 1, started_at: 1, status: 1, mock: 1, total_duration_ms: 1, time_to_first_progress_ms: 1, error: 1, error_kind: 1 } },
      ])
      .toArray();
    const groups = groupAgentRuns(
      docs.map((d) => ({
        ...(d as unknown as AgentRunDoc),
        scenario: d.scenario_id as string,
        mock: d.mock === true,
        started_at: (d.started_at as Date).getTime(),
        total_duration_ms: typeof d.total_duration_ms === 'number' ? d.total_duration_ms : null,
        time_to_first_progress_ms: typeof d.time_to_first_progress_ms === 'number' ? d.time_to_first_progress_ms : null,
      })),
    );
    return summarizeAgentGroups(
      groups.map((g) => ({ ...g, newest_failure: g.newest_failure ? agentFailure({ ...g.newest_failure, started_at: new Date(g.newest_failure.started_at) }) : null })),
    );
  }

  const agentRuns: AgentRunsStore = {
    async insertAgentRun(doc: AgentRunDoc): Promise<InsertResult> {
      // Simulated runs never reach MongoDB (SPEC 4.1): the dashboard and KPIs read it.
      if (doc.mock) throw new StoreError(`Refusing to store the simulated TinyFish run of ${doc.automation} in MongoDB: mock runs belong in the SQLite store`);
      return insertDoc(c.agentRuns, doc);
    },

    async recentAgentRuns(filter: AgentRunFilter = {}): Promise<AgentRunDoc[]> {
      const q: Document = {};
      if (filter.automation) q.automation = filter.automation;
      if (filter.scenario_id) q.scenario_id = filter.scenario_id;
      if (filter.status) q.status = filter.status;
      if (filter.since || filter.until) {
        q.started_at = { ...(filter.since ? { $gte: filter.since } : {}), ...(filter.until ? { $lt: filter.until } : {}) };
      }
      const runs = stripAll<AgentRunDoc>(
        await c.agentRuns.find(q, { sort: { started_at: -1 }, limit: filter.limit ?? 100, ...(filter.withoutResult ? { projection: { result: 0 } } : {}) }).toArray(),
      );
      return filter.withoutResult ? runs.map((r) => ({ ...r, result: null })) : runs;
    },

    async lastAgentRuns(filter: { automation?: string } = {}): Promise<AgentRunDoc[]> {
      const rows = await c.agentRuns
        .aggregate([
          { $match: filter.automation ? { automation: filter.automation } : {} },
          { $sort: { started_at: -1 } },
          { $group: { _id: { automation: '$automation', scenario_id: '$scenario_id' }, doc: { $first: '$$ROOT' } } },
          { $sort: { '_id.automation': 1, '_id.scenario_id': 1 } },
        ])
        .toArray();
      return rows.map((r) => strip<AgentRunDoc>(r.doc)!);
    },

    async agentRunKpis(w: TimeWindow, filter: AgentKpiFilter = {}): Promise<AgentKpiSummary> {
      const match: Document = { ...inWindow('started_at', w) };
      if (filter.automation !== undefined) match.automation = filter.automation;
      if (filter.scenario !== undefined) match.scenario_id = filter.scenario;
      if (filter.mock !== undefined) match.mock = filter.mock ? true : { $ne: true };
      return serverOrFallback(ctx, () => serverAgentKpis(match), () => fallbackAgentKpis(match));
    },

    async getAgentRun(runId: string): Promise<AgentRunDoc | null> {
      return strip<AgentRunDoc>(await c.agentRuns.findOne({ run_id: runId }));
    },
  };
  return agentRuns;
}
