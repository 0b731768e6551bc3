import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const script = new URL('../../scripts/demo.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');
const demo = (env: Record<string, string> = {}) =>
  spawnSync(process.execPath, ['--import', tsx, script], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });

describe('npm run demo', () => {
  test('shows the scenarios, the simulated models and a simulated TinyFish run', () => {
    const r = demo();
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^cloud-default-v1 +llm +enabled +every 30 min .*\(published\)$/m);
    assert.match(r.stdout, /^demo-agent-v1 +agent +enabled +every 60 min/m);
    assert.match(r.stdout, /^mock +ttft-150ms-tps-120 +cloud-default-v1 +0\.1\d\d/m);
    assert.match(r.stdout, /^tinyfish +mock-start-300ms-steps-4-step-400ms +demo-agent-v1 .* completed in [\d.]+ s: STARTED after 0\.3\d s, 4 steps$/m);
  });

  test('refuses MongoDB: simulated rows never reach the dashboard\'s database', () => {
    const r = demo({ MONGODB_URI: 'mongodb://127.0.0.1:1' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /runs on the embedded SQLite store only/);
  });
});
