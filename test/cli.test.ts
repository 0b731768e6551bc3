import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError, exitCodeFor, requireNode24 } from '../lib/cli.ts';
import { ConfigError } from '../lib/config.ts';
import { StoreError } from '../lib/store/store.ts';

describe('cli exit codes', () => {
  test('bad usage and bad configuration are 2, a failed run is 1', () => {
    assert.equal(exitCodeFor(new UsageError('x')), 2);
    assert.equal(exitCodeFor(new ConfigError(['FRESH_MINUTES must be a number'])), 2);
    assert.equal(exitCodeFor(Object.assign(new TypeError('Unknown option'), { code: 'ERR_PARSE_ARGS_UNKNOWN_OPTION' })), 2);
    assert.equal(exitCodeFor(new StoreError('Cannot connect to MongoDB at db:27017')), 1);
    assert.equal(exitCodeFor(new Error('boom')), 1);
  });

  test('an older Node is refused with how to get Node 24', () => {
    assert.throws(() => requireNode24('20.20.2'), (err: unknown) => err instanceof UsageError && /npm install --prefix ~\/node24 node@24/.test(err.message));
    requireNode24('24.0.0');
    requireNode24('25.1.0');
  });
});
