// A store file the process may not write (its permissions, a read-only mount) still serves the
// commands that only read, and a write says the store is read-only (issue 23). Root writes any
// file, so as root the scripts run as `nobody`.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeModel } from '../fixtures.ts';
import { runScript, scriptPath } from './run-script.ts';

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const user = asRoot ? { uid: NOBODY, gid: NOBODY } : {};
// As nobody the checkout itself must be readable (a clone under /root is not).
const readable =
  !asRoot || spawnSync(process.execPath, ['-e', `require('fs').accessSync(${JSON.stringify(scriptPath('models.ts'))})`], user).status === 0;
const skip = readable ? false : 'user nobody cannot read this checkout, so a read-only store cannot be tried as another user here';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-ro-'));
after(() => {
  chmodSync(dir, 0o755);
  rmSync(dir, { recursive: true, force: true });
});

test('a read-only store file: models list works, a change fails saying the store is read-only, and the file is unchanged', { skip }, async () => {
  const db = join(dir, 'store.sqlite');
  const store = openSqliteStore(db);
  await store.insertModel(makeModel({ provider: 'groq', model_id: 'read-only-model' }));
  await store.close();
  chmodSync(db, 0o444);
  chmodSync(dir, 0o555);
  const env = { PATH: process.env.PATH ?? '', LLM_BENCH_DB: db, HOME: dir };
  const list = await runScript('models.ts', ['list'], { cwd: dir, env, ...user });
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /read-only-model/);
  const disable = await runScript('models.ts', ['disable', 'groq', 'read-only-model', '--reason', 'x'], { cwd: dir, env, ...user });
  assert.equal(disable.code, 1);
  assert.match(disable.stderr, /is read-only for this process/);
  chmodSync(dir, 0o755);
  const reopened = openSqliteStore(db);
  assert.equal((await reopened.getModel('groq', 'read-only-model'))?.enabled, true);
  await reopened.close();
});
