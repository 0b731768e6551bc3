import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseModelList, partitionDue, type SweepModel, type SweepScenario } from '../../lib/bench/due.ts';

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

  test("a scenario's pair is due by the scenario's interval, with the same minute of slack", () => {
    const scenario: SweepScenario = { kind: 'llm', id: 'hourly', intervalMinutes: 60, prompt: 'p', maxTokens: 64, temperature: 0.1, cacheDefeatNonce: null };
    const { due, fresh } = partitionDue(
      [m('edge', { scenario, lastSweepStartedAt: ago(59.5) }), m('recent', { scenario, lastSweepStartedAt: ago(40) })],
      { freshMinutes: 30, wallNow: now, force: false },
    );
    assert.deepEqual(due.map((d) => d.modelId), ['edge'], 'the timer that started the last sweep an hour ago may fire a few seconds early');
    assert.equal(fresh[0]!.reason, 'measured by a sweep that started 40 min ago (hourly is due every 60 min)');
  });
});

describe('parseModelList', () => {
  test('with one --provider, provider:model entries lose their prefix and Bedrock ids keep their colons', () => {
    assert.deepEqual(parseModelList(['bedrock:us.anthropic.claude-3-5-haiku-20241022-v1:0', 'meta.llama3-8b-instruct-v1:0'], ['bedrock']), [
      { provider: 'bedrock', modelId: 'us.anthropic.claude-3-5-haiku-20241022-v1:0' },
      { provider: 'bedrock', modelId: 'meta.llama3-8b-instruct-v1:0' },
    ]);
  });
});
