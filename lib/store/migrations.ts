// Rewrites of the operator's documents (SPEC 4.0), only when asked (`npm run store -- migrate`),
// after a dry run, recorded so that `--revert` puts every field back. The readers already read
// every older shape; a migration only brings stored values into the shape the public dashboard
// expects. Each backend supplies the few primitives below; the rules live here once.
import { randomUUID } from 'node:crypto';
import { deprecationDay } from './documents.ts';
import type { FieldChange, MigrationBatch, MigrationsStore } from './store.ts';
import { plural } from '../plural.ts';

/** What a backend does for a migration: read the raw documents, swap one value, keep batches. */
export interface MigrationBackend {
  /** Models as stored, without the readers' reinterpretation (readModel). */
  rawModels(): Promise<Array<Record<string, unknown>>>;
  /** Sets model.field to `to` only when it still equals `from`; @returns whether it did. */
  swapModelField(change: Pick<FieldChange, 'provider' | 'model_id' | 'field'>, from: unknown, to: unknown): Promise<boolean>;
  saveBatch(batch: MigrationBatch): Promise<void>;
  getBatch(batchId: string): Promise<MigrationBatch | null>;
  listBatches(): Promise<MigrationBatch[]>;
}

/**
 * The fields to rewrite: a `deprecation_date` stored as a Date (written by older dashboards),
 * which the dashboard's public API prints as `{}` (its schema says String), becomes `YYYY-MM-DD`.
 */
export function planMigrations(models: Array<Record<string, unknown>>): FieldChange[] {
  const changes: FieldChange[] = [];
  for (const m of models) {
    if (m.deprecation_date instanceof Date) {
      changes.push({
        provider: String(m.provider),
        model_id: String(m.model_id),
        field: 'deprecation_date',
        before: m.deprecation_date,
        after: deprecationDay(m.deprecation_date),
      });
    }
  }
  return changes.sort((a, b) => a.provider.localeCompare(b.provider) || a.model_id.localeCompare(b.model_id));
}

export function migrationsStore(b: MigrationBackend): MigrationsStore {
  return {
    async pendingMigrations() {
      return planMigrations(await b.rawModels());
    },
    async applyMigration(changes, at) {
      // The batch is recorded first, with every change asked for: a crash part-way leaves a
      // record that --revert can use (a field not yet changed is simply left alone).
      const batch: MigrationBatch = { batch_id: `${at.toISOString().slice(0, 19).replace(/[-:]/g, '')}Z-${randomUUID().slice(0, 8)}`, applied_at: at, reverted_at: null, changes };
      await b.saveBatch(batch);
      const made: FieldChange[] = [];
      for (const c of changes) if (await b.swapModelField(c, c.before, c.after)) made.push(c);
      const done = { ...batch, changes: made };
      await b.saveBatch(done);
      return done;
    },
    async revertMigration(batchId, at) {
      const batch = await b.getBatch(batchId);
      if (!batch) return null;
      for (const c of batch.changes) await b.swapModelField(c, c.after, c.before);
      const reverted = { ...batch, reverted_at: at };
      await b.saveBatch(reverted);
      return reverted;
    },
    listMigrations() {
      return b.listBatches();
    },
  };
}

function show(v: unknown): string {
  return v instanceof Date ? `Date ${v.toISOString()}` : JSON.stringify(v);
}

/** The dry run's listing: one line per field, or a line saying there is nothing to do. */
export function formatChanges(changes: FieldChange[]): string {
  if (changes.length === 0) return 'Nothing to migrate: every stored value is already in the shape the dashboard reads.\n';
  return `${changes.map((c) => `${c.provider}/${c.model_id}: ${c.field} ${show(c.before)} -> ${show(c.after)}`).join('\n')}\n`;
}

/** `migrate --list`: each batch, newest first. */
export function formatBatches(batches: MigrationBatch[]): string {
  if (batches.length === 0) return 'No migration was ever applied to this store.\n';
  return `${batches
    .map((b) => `${b.batch_id}  applied ${b.applied_at.toISOString()}  ${plural(b.changes.length, "field")}${b.reverted_at ? `  reverted ${b.reverted_at.toISOString()}` : ''}`)
    .join('\n')}\n`;
}
