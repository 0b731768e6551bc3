import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../lib/config.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-config-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('config', () => {
  test('defaults give the embedded store, the upstream prompt and the documented provider base URLs', () => {
    const c = loadConfig({ env: {}, dotenvPath: false });
    assert.equal(c.store.mongodbUri, null);
    assert.match(c.store.sqlitePath, /data\/llm-bench\.sqlite$/);
    assert.equal(c.store.collections.metrics, 'metrics_cloud_v2');
    assert.equal(c.store.collections.errors, 'errors_cloud');
    assert.equal(c.bench.profile.prompt, 'Tell a long and happy story about the history of the world.');
    assert.deepEqual([c.bench.profile.maxTokens, c.bench.profile.temperature, c.bench.profile.id], [64, 0.1, 'cloud-default-v1']);
    assert.equal(c.bench.freshMinutes, 30);
    assert.equal(c.providers.groq.baseUrl, 'https://api.groq.com/openai/v1');
    assert.equal(c.providers.openrouter.baseUrl, 'https://openrouter.ai/api/v1');
    assert.deepEqual([c.ingest.host, c.ingest.port, c.ingest.maxBodyBytes], ['127.0.0.1', 8080, 1048576]);
    assert.equal(c.mail.notifyEmail, null, 'no built-in recipient');
  });

  test('empty values are unset, and the object is frozen all the way down', () => {
    const c = loadConfig({ env: { FRESH_MINUTES: '', GROQ_API_KEY: '  ', MONGODB_COLLECTION_CLOUD: 'm2' }, dotenvPath: false });
    assert.equal(c.bench.freshMinutes, 30);
    assert.equal(c.providers.groq.apiKey, null);
    assert.equal(c.store.collections.metrics, 'm2');
    assert.ok(Object.isFrozen(c.providers.groq) && Object.isFrozen(c.store.collections));
    assert.throws(() => {
      (c.bench as { freshMinutes: number }).freshMinutes = 1;
    }, TypeError);
  });

  test('every bad value is reported at once, naming the variable and the value it got', () => {
    assert.throws(
      () =>
        loadConfig({
          env: { FRESH_MINUTES: 'abc', INGEST_PORT: '99999', GROQ_BASE_URL: 'not a url', MONGODB_URI: 'postgres://x', INGEST_ALLOW_NO_KEY: 'maybe' },
          dotenvPath: false,
        }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.problems.length, 5);
        assert.match(err.message, /FRESH_MINUTES must be a number between 0 and 100000 \(got "abc"\)/);
        assert.match(err.message, /INGEST_PORT must be an integer between 0 and 65535 \(got "99999"\)/);
        assert.match(err.message, /GROQ_BASE_URL must be an http\(s\) URL/);
        assert.match(err.message, /MONGODB_URI must start with mongodb:\/\//);
        assert.match(err.message, /INGEST_ALLOW_NO_KEY must be true or false/);
        return true;
      },
    );
  });

  test('an LLM_BENCH_DB whose folder does not exist is refused naming the path, not created; the default ./data/ is', () => {
    const missing = join(dir, 'nonexistent', 'deep', 'x.sqlite');
    assert.throws(
      () => loadConfig({ env: { LLM_BENCH_DB: missing }, dotenvPath: false }),
      (err: unknown) => err instanceof ConfigError && err.problems.length === 1 && err.problems[0]!.startsWith(`LLM_BENCH_DB is in a folder that does not exist, ${join(dir, 'nonexistent', 'deep')} (got "${missing}")`),
    );
    assert.equal(loadConfig({ env: { LLM_BENCH_DB: join(dir, 'x.sqlite') }, dotenvPath: false }).store.sqlitePath, join(dir, 'x.sqlite'));
    // The default's folder is made on first use (a fresh clone has no ./data yet), set or not.
    const cwd = process.cwd();
    process.chdir(mkdtempSync(join(dir, 'fresh-clone-')));
    try {
      assert.match(loadConfig({ env: {}, dotenvPath: false }).store.sqlitePath, /data\/llm-bench\.sqlite$/);
      assert.match(loadConfig({ env: { LLM_BENCH_DB: './data/other.sqlite' }, dotenvPath: false }).store.sqlitePath, /data\/other\.sqlite$/);
    } finally {
      process.chdir(cwd);
    }
    // With MongoDB, or on a remote runner, the file is never opened.
    assert.equal(loadConfig({ env: { LLM_BENCH_DB: missing, INGEST_API_URL: 'https://ingest.example.com' }, dotenvPath: false }).store.sqlitePath, missing);
    assert.equal(loadConfig({ env: { LLM_BENCH_DB: missing, MONGODB_URI: 'mongodb://db:27017' }, dotenvPath: false }).store.mongodbUri, 'mongodb://db:27017');
  });

  test('a .env file is read under the environment, which wins', () => {
    const path = join(dir, '.env');
    writeFileSync(path, 'FRESH_MINUTES=45\nRUNNER_NAME=from-file\nGROQ_API_KEY=gsk_fromfile123\n');
    const c = loadConfig({ env: { RUNNER_NAME: 'from-env' }, dotenvPath: path });
    assert.deepEqual([c.bench.freshMinutes, c.bench.runner, c.providers.groq.apiKey], [45, 'from-env', 'gsk_fromfile123']);
    assert.ok(c.secrets.includes('gsk_fromfile123'));
  });

  test('secrets are collected for redaction: API keys, tokens and passwords inside URLs', () => {
    const c = loadConfig({
      env: { OPENAI_API_KEY: 'sk-test-abcdef123456', MONGODB_URI: 'mongodb://u:mongo-pass-99@db:27017/', AWS_SECRET_ACCESS_KEY: 'awssecretvalue', INGEST_API_KEY: 'ingest-key-1234' },
      dotenvPath: false,
    });
    for (const s of ['sk-test-abcdef123456', 'mongo-pass-99', 'awssecretvalue', 'ingest-key-1234']) assert.ok(c.secrets.includes(s), s);
  });

  test('BENCH_DAILY_BUDGET_USD and PROM_TEXTFILE are unset by default, read when set, and a non-.prom textfile is refused', () => {
    assert.deepEqual(loadConfig({ env: {}, dotenvPath: false }).cost, { dailyBudgetUsd: null, promTextfile: null });
    const c = loadConfig({ env: { BENCH_DAILY_BUDGET_USD: '2.5', PROM_TEXTFILE: '/var/lib/node_exporter/llm-bench.prom' }, dotenvPath: false });
    assert.deepEqual(c.cost, { dailyBudgetUsd: 2.5, promTextfile: '/var/lib/node_exporter/llm-bench.prom' });
    assert.throws(
      () => loadConfig({ env: { BENCH_DAILY_BUDGET_USD: '-1', PROM_TEXTFILE: '/tmp/llm-bench.txt' }, dotenvPath: false }),
      (err: ConfigError) => err.problems.some((p) => p.startsWith('BENCH_DAILY_BUDGET_USD must be')) && err.problems.some((p) => /PROM_TEXTFILE must end in \.prom/.test(p)),
    );
  });
});
