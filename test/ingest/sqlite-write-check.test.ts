// GET /health on SQLite says 200 only when a write can succeed (issue 24): a store file, WAL
// or SHM file, or folder this process cannot write, and a read-only file system, each answer
// 503, where the store's own ping (BEGIN IMMEDIATE, ROLLBACK) still passed.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { checkSqliteWritable } from '../../lib/ingest/sqlite-write-check.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeModel } from '../fixtures.ts';

const root = mkdtempSync(join(tmpdir(), 'llm-bench-write-check-'));
chmodSync(root, 0o755);
after(() => rmSync(root, { recursive: true, force: true }));
const child = new URL('./write-check-child.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');
const asRoot = process.getuid?.() === 0;
// Root writes through any file mode: the child runs as nobody then, as the service runs as its own user.
const NOBODY = 65534;

function run(how: string): { health: number; write: number; reopened: boolean } {
  const dir = join(root, how);
  mkdirSync(dir);
  if (asRoot) chownSync(dir, NOBODY, NOBODY);
  const r = spawnSync(process.execPath, ['--import', tsx, child, join(dir, 'store.sqlite'), how], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '' },
    ...(asRoot ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { health: number; write: number; reopened: boolean };
}

describe('GET /health on SQLite checks what a write needs', () => {
  test('a writable store answers 200 and takes the write', () => {
    assert.deepEqual(run('none'), { health: 200, write: 200, reopened: false });
  });

  test('a store file opened read-only answers 503, as every write does (the ping alone said 200)', () => {
    assert.deepEqual(run('file'), { health: 503, write: 503, reopened: true });
  });

  for (const how of ['folder', 'wal', 'shm']) {
    test(`a read-only ${how === 'folder' ? 'store folder' : `${how.toUpperCase()} file`} answers 503`, () => {
      assert.equal(run(how).health, 503);
    });
  }

  test('a store on a file system mounted read-only fails the check (the kernel remounts a failing disk so)', async (t) => {
    // A remount under open files is refused as busy, except by the kernel itself (errors=remount-ro);
    // a read-only bind mount of the store's folder is the same file system seen read-only.
    const src = join(root, 'mount-src');
    const ro = join(root, 'mount-ro');
    mkdirSync(src);
    mkdirSync(ro);
    const seed = openSqliteStore(join(src, 'store.sqlite'));
    await seed.insertModel(makeModel());
    try {
      execFileSync('mount', ['--bind', src, ro], { stdio: 'ignore' });
    } catch {
      await seed.close();
      t.skip('cannot bind-mount here (needs root with CAP_SYS_ADMIN): the read-only file system case is not checked');
      return;
    }
    try {
      execFileSync('mount', ['-o', 'remount,bind,ro', ro], { stdio: 'ignore' });
      await checkSqliteWritable(join(src, 'store.sqlite'));
      await assert.rejects(checkSqliteWritable(join(ro, 'store.sqlite')), /read-only file system/);
    } finally {
      execFileSync('umount', [ro]);
      await seed.close();
    }
  });
});
