import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { partitionDue, type SweepModel } from '../../lib/bench/due.ts';

const now = Date.parse('2026-11-20T12:00:00Z');
const ago = (min: number) => new Date(now - min * 60_000);
const m = (modelId: string, extra: Partial<SweepModel> = {}): SweepModel => ({ provider: 'groq', modelId, ...extra });

describe('partitionDue', () => {
  test('a model measured by a sweep that started within FRESH_MINUTES (less a minute of slack) is fresh, with why', () => {
    const { due, fresh } = partitionDue(
      [m('fresh', { lastSuccessAt: ago(10) }), m('old', { lastSuccessAt: ago(40) }), m('never'), m('edge', { lastSuccessAt: ago(29.5) })],
      { freshMinutes: 30, wallNow: now, force: false },
    );
    assert.deepEqual(due.map((d) => d.modelId), ['old', 'never', 'edge']);
    assert.deepEqual(fresh.map((f) => f.model.modelId), ['fresh']);
    assert.equal(fresh[0]!.reason, 'measured by a sweep that started 10 min ago (FRESH_MINUTES=30)');
  });

  test('the start of the sweep that measured a model wins over the time of its row', () => {
    const { due } = partitionDue([m('a', { lastSuccessAt: ago(5), lastSweepStartedAt: ago(35) })], { freshMinutes: 30, wallNow: now, force: false });
    assert.equal(due.length, 1);
  });

  test('force makes every model due, keeping their order', () => {
    const models = [m('b', { lastSuccessAt: ago(1) }), m('a', { lastSuccessAt: ago(2) })];
    const { due, fresh } = partitionDue(models, { freshMinutes: 30, wallNow: now, force: true });
    assert.deepEqual(due, models);
    assert.deepEqual(fresh, []);
  });
});
