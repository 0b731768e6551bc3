// Every entry point, started by a Node older than 24 the way the README's commands would be
// with the system's node, must print the version message and exit 2: never a SyntaxError from
// a Node-24-only import linked before the check could run. Needs such a Node: the machine's
// /usr/bin/node (Debian 12 and Ubuntu 24.04 ship 18 or 20), or LLM_BENCH_OLD_NODE.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const SCRIPTS = readdirSync(join(REPO, 'scripts')).filter((f) => f.endsWith('.ts')).sort();

function oldNode(): { path: string; version: string } | null {
  const path = process.env.LLM_BENCH_OLD_NODE ?? '/usr/bin/node';
  if (!existsSync(path)) return null;
  const version = spawnSync(path, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  return Number(version.split('.')[0]) < 24 ? { path, version } : null;
}

describe('entry points on a Node older than 24', () => {
  const node = oldNode();

  test('the entry points are the seven the version message knows', () => {
    assert.deepEqual(SCRIPTS, ['bench-once.ts', 'demo.ts', 'discovery.ts', 'health-check.ts', 'ingest-server.ts', 'models.ts', 'runs.ts', 'store.ts']);
  });

  for (const script of SCRIPTS) {
    test(`node --import tsx scripts/${script} prints the version message and exits 2`, (t) => {
      if (!node) {
        t.skip('no Node older than 24 at /usr/bin/node (set LLM_BENCH_OLD_NODE to one)');
        return;
      }
      const result = spawnSync(node.path, ['--import', 'tsx', `scripts/${script}`, '--help'], {
        cwd: REPO,
        encoding: 'utf8',
        timeout: 60_000,
      });
      assert.equal(result.stderr.trim().split('\n').length, 1, `more than one line on ${node.version}:\n${result.stderr}`);
      assert.match(result.stderr, new RegExp(`needs Node\\.js 24 or newer \\(this is ${node.version.replaceAll('.', '\\.')}\\)`));
      assert.match(result.stderr, /npm run \S+ -- \[arguments\]/);
      assert.equal(result.stdout, '');
      assert.equal(result.status, 2);
    });
  }
});
