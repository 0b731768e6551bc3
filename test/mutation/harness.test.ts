// The mutation harness's own rules: a mutant whose snippet no longer matches is reported stale
// (never planted somewhere else, never silently skipped), and equivalent or stale mutants do
// not count toward the score.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { firstFailure, formatReport, plant, score, type MutantResult } from './harness.ts';

describe('plant', () => {
  const source = 'if (a > b) return a;\nif (a > b) return b;\n';

  test('replaces the one occurrence of the snippet', () => {
    assert.deepEqual(plant('x >= 1', { find: '>=', replace: '>', bug: 'b' }), { ok: true, text: 'x > 1' });
  });

  test('refuses a snippet that no longer matches, or matches more often than it says', () => {
    assert.deepEqual(plant(source, { find: 'a < b', replace: 'a <= b', bug: 'b' }), { ok: false, reason: 'snippet not found' });
    assert.equal(plant(source, { find: 'a > b', replace: 'a >= b', bug: 'b' }).ok, false);
    assert.deepEqual(plant(source, { find: 'a > b', replace: 'a >= b', bug: 'b', occurrence: 2 }), {
      ok: true,
      text: 'if (a > b) return a;\nif (a >= b) return b;\n',
    });
    assert.equal(plant(source, { find: 'a > b', replace: 'a >= b', bug: 'b', occurrence: 3 }).ok, false);
  });
});

describe('score and report', () => {
  const r = (module: string, verdict: MutantResult['verdict'], index = 1): MutantResult => ({
    module,
    index,
    verdict,
    note: verdict === 'stale' ? 'snippet not found' : '',
    ms: 0,
    mutant: { find: 'a', replace: 'b', bug: `${verdict} bug`, ...(verdict === 'equivalent' ? { equivalent: 'same output' } : {}) },
  });
  const results = [r('lib/a.ts', 'killed', 1), r('lib/a.ts', 'timeout', 2), r('lib/a.ts', 'survived', 3), r('lib/b.ts', 'equivalent', 1), r('lib/b.ts', 'stale', 2)];

  test('counts killed and timed-out mutants over those run; equivalent and stale ones are left out', () => {
    assert.deepEqual(score(results), { detected: 2, run: 3, percent: (100 * 2) / 3 });
    assert.equal(score(results.filter((x) => x.module === 'lib/b.ts')).percent, null);
  });

  test('names every survivor and stale mutant, and gives the score per module and overall', () => {
    const text = formatReport(results, []);
    assert.match(text, /SURVIVED: no test noticed \(1\)\n {2}lib\/a\.ts #3: survived bug/);
    assert.match(text, /STALE: not planted, the list must follow the code \(1\)\n {2}lib\/b\.ts #2: stale bug \(snippet not found\)/);
    assert.match(text, /^lib\/a\.ts +66\.7 % \(2\/3\) +1 +1 +1 +0 +0$/m);
    assert.match(text, /^lib\/b\.ts +- +0 +0 +0 +1 +1$/m);
    assert.match(text, /^overall +66\.7 % \(2\/3\)/m);
  });
});

test("firstFailure reads the first failing test's name from the spec reporter", () => {
  const out = '▶ suite\n  ✔ passes (1.2ms)\n  \u001b[31m✖ a 429 is billing (0.5ms)\u001b[39m\n  ✖ another (2ms)\n';
  assert.equal(firstFailure(out), 'a 429 is billing');
});
