// TinyFish agent runs (SPEC 4.6) and their KPIs (SPEC 16).
import type { SQLInputValue } from 'node:sqlite';
import type { AgentRunDoc } from '../documents.ts';
import type { AgentKpiFilter, AgentKpiSummary, AgentRunFilter, AgentRunsStore, InsertResult, TimeWindow } from '../store.ts';
import { agentFailure, groupAgentRuns, summarizeAgentGroups, type AgentRunValues } from '../kpis.ts';
import { decodeDoc, encodeDoc, ms, type SqliteConnection } from './connection.ts';
import { AGENT_DURATION, AGENT_FIRST_PROGRESS, AGENT_MOCK } from './schema.ts';

export function sqliteAgentRuns(c: SqliteConnection): AgentRunsStore {
  const agentRuns: AgentRunsStore = {
    async insertAgentRun(doc: AgentRunDoc): Promise<InsertResult> {
      const r = c.stmt(
        `INSERT INTO agent_runs (run_id, automation, scenario_id, started_at, status, doc)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (run_id) DO NOTHING`,
      ).run(doc.run_id, doc.automation, doc.scenario_id, ms(doc.started_at), doc.status, encodeDoc(doc));
      return r.changes === 1 ? 'stored' : 'duplicate';
    },

    async recentAgentRuns(filter: AgentRunFilter = {}): Promise<AgentRunDoc[]> {
      const where: string[] = [];
      const params: SQLInputValue[] = [];
      const add = (sql: string, v: SQLInputValue) => {
        where.push(sql);
        params.push(v);
      };
      if (filter.automation) add('automation = ?', filter.automation);
      if (filter.scenario_id) add('scenario_id = ?', filter.scenario_id);
      if (filter.status) add('status = ?', filter.status);
      if (filter.since) add('started_at >= ?', ms(filter.since));
      if (filter.until) add('started_at < ?', ms(filter.until));
      const runs = c.docs<AgentRunDoc>(
        `SELECT ${filter.withoutResult ? `json_remove(doc, '$.result') AS doc` : 'doc'} FROM agent_runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY started_at DESC LIMIT ?`,
        ...params,
        filter.limit ?? 100,
      );
      return filter.withoutResult ? runs.map((r) => ({ ...r, result: null })) : runs;
    },

    async lastAgentRuns(filter: { automation?: string } = {}): Promise<AgentRunDoc[]> {
      // The bare column doc comes from the row holding MAX(started_at) (SQLite's documented behaviour).
      return c.all<{ doc: string; t: number }>(
        `SELECT doc, MAX(started_at) AS t FROM agent_runs ${filter.automation ? 'WHERE automation = ?' : ''}
         GROUP BY automation, scenario_id ORDER BY automation, scenario_id`,
        ...(filter.automation ? [filter.automation] : []),
      ).map((r) => decodeDoc<AgentRunDoc>(r.doc));
    },

    async agentRunKpis(w: TimeWindow, filter: AgentKpiFilter = {}): Promise<AgentKpiSummary> {
      // One range read of agent_runs_kpi (index only, no document), grouped in one pass; then the
      // documents of the groups' newest failures alone, for their messages.
      const where = ['started_at >= ?', 'started_at < ?'];
      const params: SQLInputValue[] = [ms(w.since), ms(w.until)];
      if (filter.automation !== undefined) {
        where.push('automation = ?');
        params.push(filter.automation);
      }
      if (filter.scenario !== undefined) {
        where.push('scenario_id = ?');
        params.push(filter.scenario);
      }
      if (filter.mock !== undefined) {
        // json_extract gives JSON true and false as 1 and 0.
        where.push(`${AGENT_MOCK} = ?`);
        params.push(filter.mock ? 1 : 0);
      }
      const read = c.stmt(
        `SELECT id, automation, scenario_id, started_at, status, ${AGENT_MOCK}, ${AGENT_DURATION}, ${AGENT_FIRST_PROGRESS}
         FROM agent_runs INDEXED BY agent_runs_kpi WHERE ${where.join(' AND ')}`,
      );
      read.setReturnArrays(true);
      let rows: Array<[number, string, string, number, AgentRunValues['status'], number | null, number | null, number | null]>;
      try {
        rows = read.all(...params) as unknown as typeof rows;
      } finally {
        read.setReturnArrays(false);
      }
      const groups = groupAgentRuns(
        (function* () {
          for (const r of rows) {
            yield { id: r[0], automation: r[1], scenario: r[2], started_at: r[3], status: r[4], mock: r[5] === 1, total_duration_ms: r[6], time_to_first_progress_ms: r[7] };
          }
        })(),
      );
      const ids = groups.flatMap((g) => (g.newest_failure ? [g.newest_failure.id] : []));
      const failures = new Map(
        ids.length === 0
          ? []
          : c.all<{ id: number; doc: string }>(`SELECT id, doc FROM agent_runs WHERE id IN (${ids.map(() => '?').join(',')})`, ...ids).map((r) => {
              const d = decodeDoc<AgentRunDoc>(r.doc);
              return [r.id, agentFailure(d)] as const;
            }),
      );
      return summarizeAgentGroups(groups.map((g) => ({ ...g, newest_failure: g.newest_failure ? failures.get(g.newest_failure.id)! : null })));
    },

    async getAgentRun(runId: string): Promise<AgentRunDoc | null> {
      return c.docs<AgentRunDoc>('SELECT doc FROM agent_runs WHERE run_id = ?', runId)[0] ?? null;
    },
  };
  return agentRuns;
}
