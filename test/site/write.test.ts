import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { refreshSite, writeSiteFiles } from '../../lib/site/write.ts';
import type { Logger } from '../../lib/log.ts';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { NOW, seedStore } from './seed.ts';

const root = mkdtempSync(join(tmpdir(), 'llm-bench-site-write-'));
after(() => rmSync(root, { recursive: true, force: true }));

function recordingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const log = (level: string) => (m: string) => lines.push(`${level} ${m}`);
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

describe('writing the site', () => {
  test('writes every file, replaces the old ones, removes pages that are gone and leaves foreign files alone', async () => {
    const dir = join(root, 'a');
    await writeSiteFiles(dir, new Map([['index.html', 'one'], ['models/x.html', 'x'], ['models/y.html', 'y'], ['json/runs.json', '[]']]));
    writeFileSync(join(dir, 'README.txt'), 'mine');
    const r = await writeSiteFiles(dir, new Map([['index.html', 'two'], ['models/x.html', 'x2']]));
    assert.deepEqual(r, { dir, files: 2, bytes: 5, removed: 2 });
    assert.equal(readFileSync(join(dir, 'index.html'), 'utf8'), 'two');
    assert.deepEqual(readdirSync(join(dir, 'models')), ['x.html']);
    assert.equal(readFileSync(join(dir, 'README.txt'), 'utf8'), 'mine');
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), [], 'no temporary folder left');
  });

  test('refuses a path that is not a site page, and leaves the old site whole', async () => {
    const dir = join(root, 'b');
    await writeSiteFiles(dir, new Map([['index.html', 'old']]));
    await assert.rejects(writeSiteFiles(dir, new Map([['index.html', 'new'], ['../escape.html', 'x']])), /not a site page/);
    assert.equal(readFileSync(join(dir, 'index.html'), 'utf8'), 'old');
    assert.equal(existsSync(join(root, 'escape.html')), false);
  });

  test('a temporary folder left by a writer that died is removed once it is an hour old', async () => {
    const dir = join(root, 'c');
    mkdirSync(join(dir, '.tmp-old'), { recursive: true });
    mkdirSync(join(dir, '.tmp-recent'), { recursive: true });
    const twoHoursAgo = new Date(Date.now() - 2 * 3_600_000);
    utimesSync(join(dir, '.tmp-old'), twoHoursAgo, twoHoursAgo);
    await writeSiteFiles(dir, new Map([['index.html', 'x']]));
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('.')), ['.tmp-recent'], 'a writer may still be using the recent one');
  });

  test('after a sweep: the site is written from the store and one line says where', async () => {
    const store = openSqliteStore(':memory:');
    await seedStore(store);
    const logger = recordingLogger();
    const r = await refreshSite(store, join(root, 'd'), logger, NOW);
    assert.ok(r && r.files >= 8);
    assert.equal(logger.lines.length, 1);
    assert.match(logger.lines[0]!, /^info Status site: \d+ files \(\d+ KiB\) written to .*\/d in \d+\.\d\d s$/);
    await store.close();
  });

  test('a site that cannot be written is logged as an error, not thrown: the sweep\'s results are already stored', async () => {
    const store = openSqliteStore(':memory:');
    const blocker = join(root, 'not-a-dir');
    writeFileSync(blocker, 'a file where the folder should be');
    const logger = recordingLogger();
    assert.equal(await refreshSite(store, join(blocker, 'site'), logger, NOW), null);
    assert.match(logger.lines[0]!, /^error Cannot write the status site to .*not-a-dir\/site: /);
    await store.close();
  });
});
