// The kinds of result the ingest API takes (SPEC 4.1, 4.2, 4.6, 9) and where each is posted,
// shared by the server (handler.ts, schema.ts) and the remote runner's client (client.ts). No
// runtime imports: the client is loaded by every bench-once start.
import type { AgentRunDoc, ErrorDoc, MetricDoc } from '../store/documents.ts';

export const RESULT_TYPES = ['metric', 'error', 'agent_run'] as const;
export type ResultType = (typeof RESULT_TYPES)[number];
export type ResultDoc = MetricDoc | ErrorDoc | AgentRunDoc;

/** Where a result of each type is posted on its own; POST /ingest/batch names the type per item. */
export const RESULT_PATHS: Record<ResultType, string> = { metric: '/ingest', error: '/ingest/error', agent_run: '/ingest/agent-run' };

/** The catalog entry a result is of: a model's name, or an agent run's automation (SPEC 15). */
export function resultModel(doc: ResultDoc): string {
  return 'automation' in doc ? doc.automation : doc.model_name;
}
