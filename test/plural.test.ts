import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plural } from '../lib/plural.ts';

test('plural says one of a thing in the singular and any other count, 0 included, in the plural', () => {
  assert.equal(plural(1, 'failure'), '1 failure');
  assert.equal(plural(0, 'failure'), '0 failures');
  assert.equal(plural(2, 'run'), '2 runs');
  assert.equal(plural(1, 'success', 'successes'), '1 success');
  assert.equal(plural(3, 'success', 'successes'), '3 successes');
});
