// The status site (SPEC 16): renders every page and JSON file in memory from what data.ts
// read; write.ts puts them on disk atomically.
import type { RunRecord } from '../store/store.ts';
import { isMockRun } from '../runs/format.ts';
import { agentRunsJson, agentsPage, scenariosJson, scenariosPage } from './agents.ts';
import { comparePage } from './compare.ts';
import { PUBLISHED, modelKey, modelPageName, uniqueModels, type SiteData } from './data.ts';
import { groupPoints, modelPage, modelsPage } from './models.ts';
import { overviewPage } from './overview.ts';
import { failuresPage, runsPage } from './runs.ts';
import { workloadsPage } from './workloads.ts';

/** Renders every file of the site: relative path → contents. */
export function renderSite(data: SiteData): Map<string, string> {
  const files = new Map<string, string>();
  const pointsByModel = groupPoints(data.points);
  files.set('index.html', overviewPage(data));
  files.set('models.html', modelsPage(data, pointsByModel));
  files.set('compare.html', comparePage(data, pointsByModel));
  files.set('runs.html', runsPage(data));
  files.set('failures.html', failuresPage(data));
  files.set('scenarios.html', scenariosPage(data));
  files.set('agents.html', agentsPage(data));
  files.set('workloads.html', workloadsPage(data));
  for (const m of uniqueModels(data.kpis7d)) {
    files.set(modelPageName(m.provider, m.model), modelPage(data, m.provider, m.model, pointsByModel.get(modelKey(m.provider, m.model)) ?? []));
  }
  const json = (v: unknown) => `${JSON.stringify(v)}\n`;
  files.set('json/published-72h.json', json({ scenario: PUBLISHED, since: data.published.since, until: data.published.until, aborted: data.pubAborted, ...data.pub }));
  files.set('json/provider-days.json', json({ scenario: PUBLISHED, days: data.trendDays, providers: data.trend }));
  files.set('json/kpis-24h.json', json({ since: data.day.since, until: data.day.until, ...data.kpis24h }));
  files.set('json/kpis-7d.json', json({ since: data.week.since, until: data.week.until, ...data.kpis7d }));
  files.set('json/runs.json', json(data.runs.map(runJson)));
  files.set('json/failures.json', json(data.failures.map(runJson)));
  files.set('json/aborted.json', json(data.aborted));
  files.set('json/scenarios.json', json(scenariosJson(data)));
  files.set('json/agent-runs.json', json(agentRunsJson(data)));
  files.set('json/workloads.json', json({ since: data.published.since, until: data.published.until, models: data.workloads, groups: data.groups }));
  return files;
}

function runJson(r: RunRecord) {
  return { outcome: r.outcome, mock: isMockRun(r), ...(r.outcome === 'ok' ? r.metric : r.error) };
}
