import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError, describeError, exitCodeFor, requireNode24 } from '../lib/cli.ts';
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

  test('a MongoDB server error (numeric code) is a failed run showing the driver\'s own message and code', () => {
    // What the driver throws: a MongoServerError with a number, not a Node ERR_ string.
    const denied = Object.assign(new Error('not authorized on llm-bench to execute command { aggregate: "metrics_cloud_v2" }'), { code: 13 });
    assert.equal(exitCodeFor(denied), 1);
    assert.equal(describeError(denied), 'not authorized on llm-bench to execute command { aggregate: "metrics_cloud_v2" } (code 13)');
    const duplicate = Object.assign(new Error('E11000 duplicate key error collection: llm-bench.models'), { code: 11000 });
    assert.equal(describeError(duplicate), 'E11000 duplicate key error collection: llm-bench.models');
    assert.equal(exitCodeFor(Object.assign(new Error('x'), { code: null })), 1);
  });

  test('an older Node is refused with the npm script that runs the project\'s own Node 24', () => {
    assert.throws(
      () => requireNode24('20.20.2', '/srv/llm-bench/scripts/bench-once.ts'),
      (err: unknown) =>
        err instanceof UsageError &&
        err.message.includes('(this is 20.20.2)') &&
        err.message.includes('npm run bench -- [arguments]') &&
        err.message.includes('./node_modules/.bin/node --import tsx scripts/bench-once.ts'),
    );
    requireNode24('24.0.0');
    requireNode24('25.1.0');
  });
});
