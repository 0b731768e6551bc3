import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../lib/config.ts';

describe('status site settings', () => {
  test('SITE_DIR defaults to ./data/site, resolved; the ingest server does not serve it unless asked', () => {
    const config = loadConfig({ env: {}, dotenvPath: false });
    assert.equal(config.site.dir, resolve('data/site'));
    assert.equal(config.site.serveFromIngest, false);
  });

  test('SITE_DIR and INGEST_SERVE_SITE are read; a bad INGEST_SERVE_SITE is named with its value', () => {
    const config = loadConfig({ env: { SITE_DIR: '/var/lib/llm-bench/site', INGEST_SERVE_SITE: 'true' }, dotenvPath: false });
    assert.equal(config.site.dir, '/var/lib/llm-bench/site');
    assert.equal(config.site.serveFromIngest, true);
    assert.throws(
      () => loadConfig({ env: { INGEST_SERVE_SITE: 'sometimes' }, dotenvPath: false }),
      (err: Error) => err instanceof ConfigError && /INGEST_SERVE_SITE must be true or false \(got "sometimes"\)/.test(err.message),
    );
  });
});
