// Raw rows for the perf benchmarks (bench:report, bench:site): written in the store's own
// schema with prepared statements in one transaction, far faster than a store call per row.
import { randomUUID } from 'node:crypto';
import { DatabaseSync } from 'node:sqlite';
import type { ErrorKind, ErrorStage, MetricDoc } from '../../lib/store/documents.ts';
import { buildErrorDoc } from '../../lib/errors.ts';
import { encodeDoc } from '../../lib/store/sqlite/connection.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { insertErrorRow, insertMetricRow } from '../../lib/store/sqlite/metric-rows.ts';
import { METRICS_TABLE } from '../../lib/store/sqlite/schema.ts';
import { metricsCollectionFor } from '../../lib/store/collection-rules.ts';

export interface RowWriter {
  model(provider: string, modelId: string, createdAt: Date): void;
  metric(doc: MetricDoc): void;
}

/** Writes models and metric rows inside the caller's transaction; a metric goes where the store's insertMetric sends it, as it writes it. */
export function rowWriter(db: DatabaseSync): RowWriter {
  const insertModel = db.prepare('INSERT INTO models (provider, model_id, enabled, deprecated, doc) VALUES (?, ?, 1, 0, ?)');
  return {
    model: (provider, modelId, createdAt) =>
      insertModel.run(provider, modelId, encodeDoc({ provider, model_id: modelId, enabled: true, deprecated: false, created_at: createdAt })),
    metric: (doc) =>
      void insertMetricRow(db, METRICS_TABLE[metricsCollectionFor(doc.benchmark_profile_id)], doc as unknown as Record<string, unknown>, encodeDoc(doc), doc.run_id),
  };
}

const ERROR_TEMPLATES: Array<[ErrorKind, ErrorStage, number | null, string]> = [
  ['rate_limit', 'generate', 429, 'Rate limit reached for requests, request id req_%ID'],
  ['transient_provider', 'generate', 503, 'The server is overloaded, please try again later'],
  ['timeout', 'timeout', null, 'No chunk for 30000 ms: stalled'],
  ['hard_model', 'generate', 404, 'The model %MODEL does not exist or you do not have access to it'],
  ['budget_exhausted', 'validate', null, 'No visible text: the token budget ran out while reasoning'],
  ['network', 'generate', null, 'fetch failed: ECONNRESET'],
];

/** n errors of random models and kinds at random times in [end - span, end). */
export function seedErrorRows(
  db: DatabaseSync,
  o: { n: number; models: Array<{ provider: string; model: string }>; end: number; span: number; random: () => number },
): void {
  const { models, random } = o;
  for (let i = 0; i < o.n; i++) {
    const m = models[Math.floor(random() * models.length)]!;
    const [kind, stage, status, template] = ERROR_TEMPLATES[Math.floor(random() * ERROR_TEMPLATES.length)]!;
    const ts = Math.floor(o.end - random() * o.span);
    const doc = buildErrorDoc({
      provider: m.provider,
      model_name: m.model,
      ts: new Date(ts),
      stage,
      error_kind: kind,
      message: template.replace('%ID', randomUUID()).replace('%MODEL', m.model),
      http_status: status,
      run_id: randomUUID(),
      benchmark_profile_id: 'cloud-default-v1',
      runner: 'bench',
    });
    insertErrorRow(db, doc as unknown as Record<string, unknown>, encodeDoc(doc), doc);
  }
}

/** The store creates its schema, indexes and triggers; then a raw connection for fast inserts. */
export function openForSeeding(path: string): DatabaseSync {
  void openSqliteStore(path).close();
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL');
  db.exec('PRAGMA synchronous = OFF');
  return db;
}

export function finishSeeding(db: DatabaseSync): void {
  db.exec('COMMIT');
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
}

/** n models spread over the providers, each with its own typical tokens/s (30–430) and TTFT (0.1–1 s). */
export function randomModels(n: number, providers: string[], random: () => number) {
  return Array.from({ length: n }, (_, i) => ({
    i,
    provider: providers[i % providers.length]!,
    model: `model-${i}`,
    tps: 30 + random() * 400,
    ttft: 0.1 + random() * 0.9,
  }));
}
