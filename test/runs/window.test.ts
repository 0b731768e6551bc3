import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseSince, runWindow } from '../../lib/runs/window.ts';

const now = new Date('2026-11-28T12:00:00.000Z');

describe('run windows', () => {
  test('--since takes an age in minutes, hours or days, or a UTC date', () => {
    assert.deepEqual(parseSince('90m', now), new Date('2026-11-28T10:30:00.000Z'));
    assert.deepEqual(parseSince('24h', now), new Date('2026-11-27T12:00:00.000Z'));
    assert.deepEqual(parseSince('7d', now), new Date('2026-11-21T12:00:00.000Z'));
    assert.deepEqual(parseSince('2026-11-27', now), new Date('2026-11-27T00:00:00.000Z'));
    assert.deepEqual(parseSince('2026-11-27T08:00Z', now), new Date('2026-11-27T08:00:00.000Z'));
  });

  test('--since refuses what is neither, naming the value', () => {
    for (const bad of ['yesterday', '7', '7w', '2026-13-45', '']) assert.throws(() => parseSince(bad, now), new RegExp(`'${bad}'`));
  });

  test('the window ends now: --since, else --days, else the default; both at once is refused', () => {
    assert.deepEqual(runWindow({ now, defaultDays: 1 }), { since: new Date('2026-11-27T12:00:00.000Z'), until: now });
    assert.deepEqual(runWindow({ days: '7', now, defaultDays: 1 }).since, new Date('2026-11-21T12:00:00.000Z'));
    assert.deepEqual(runWindow({ since: '1h', now, defaultDays: 1 }).since, new Date('2026-11-28T11:00:00.000Z'));
    assert.throws(() => runWindow({ since: '1h', days: '2', now, defaultDays: 1 }), /not both/);
    assert.throws(() => runWindow({ days: '0', now, defaultDays: 1 }), /positive/);
  });
});
