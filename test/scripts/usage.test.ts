// What every entry script does with its arguments before any work: --help prints its usage
// and exits 0; an option it does not know, or an option without its value, is its own one-line
// message plus its usage, exit 2, and nothing is done; a reader that closes the pipe early
// (`| head`) ends it quietly with exit 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { runScript, scriptPath } from './run-script.ts';

const SCRIPTS = ['bench-once.ts', 'demo.ts', 'discovery.ts', 'health-check.ts', 'ingest-server.ts', 'models.ts', 'runs.ts', 'store.ts'];
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-usage-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const TSX = import.meta.resolve('tsx');

function env(): Record<string, string | undefined> {
  const { NODE_TEST_CONTEXT: _runner, ...rest } = process.env;
  return { ...rest, LLM_BENCH_DB: '', MONGODB_URI: '', JOURNAL_STREAM: '', SITE_DIR: '' };
}

/** Node's own parseArgs wording, which talks about parseArgs instead of the script. */
const NODE_WORDING = /place it at the end of the command|ambiguous|Did you forget|positional arguments|TypeError|at .*\.ts:\d+/;

describe('every script', () => {
  for (const script of SCRIPTS) {
    test(`${script} --help prints its usage and exits 0 without touching the store`, async () => {
      const cwd = mkdtempSync(join(dir, 'help-'));
      const r = await runScript(script, ['--help'], { cwd, env: env() });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`^Usage: ${script.replace('.', '\\.')}`));
      assert.equal(existsSync(join(cwd, 'data')), false, 'nothing written');
    });

    test(`${script} --bogus is one line of its own plus its usage, exit 2, nothing done`, async () => {
      const cwd = mkdtempSync(join(dir, 'bogus-'));
      const r = await runScript(script, ['--bogus'], { cwd, env: env() });
      assert.equal(r.code, 2);
      const [first, blank, usage] = r.stderr.split('\n');
      assert.equal(first, 'Unknown option --bogus.');
      assert.equal(blank, '');
      assert.match(usage!, new RegExp(`^Usage: ${script.replace('.', '\\.')}`));
      assert.doesNotMatch(r.stderr, NODE_WORDING);
      assert.equal(r.stdout, '');
      assert.equal(existsSync(join(cwd, 'data')), false, 'the demo did not run');
    });

    test(`${script} --help into a pipe its reader already closed ends quietly with exit 0`, async () => {
      const child = spawn(process.execPath, ['--import', TSX, scriptPath(script), '--help'], { cwd: dir, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      // Closed before the script writes a byte: its first write fails with EPIPE.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      assert.equal(code, 0, stderr);
      assert.equal(stderr, '');
    });
  }

  test('an option without its value (or with a negative number as it) is named, with the way to write it', async () => {
    const r = await runScript('models.ts', ['scenario', 'add', 'x', '--max-tokens', '-5'], { cwd: dir, env: env() });
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n')[0], 'Option --max-tokens needs a value (one that starts with a dash is written --max-tokens=-VALUE).');
    assert.doesNotMatch(r.stderr, NODE_WORDING);
    const list = await runScript('runs.ts', ['list', '--limit'], { cwd: dir, env: env() });
    assert.equal(list.code, 2);
    assert.match(list.stderr, /^Option --limit needs a value/);
  });

  test('a store path in a folder that does not exist is refused (exit 2, naming it), not created', async () => {
    const missing = join(dir, 'nonexistent', 'deep', 'x.sqlite');
    const r = await runScript('models.ts', ['list'], { cwd: dir, env: { ...env(), LLM_BENCH_DB: missing } });
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`LLM_BENCH_DB is in a folder that does not exist, ${join(dir, 'nonexistent', 'deep')}`));
    assert.equal(existsSync(join(dir, 'nonexistent')), false);
  });

  test('models frobnicate prints the usage as its lines, not squashed onto one', async () => {
    const r = await runScript('models.ts', ['frobnicate'], { cwd: dir, env: env() });
    assert.equal(r.code, 2);
    const lines = r.stderr.split('\n');
    assert.equal(lines[0], "Unknown command 'frobnicate'.");
    assert.ok(lines.includes('Usage: models.ts <command> [options]'), r.stderr);
    assert.ok(lines.some((l) => /^ {2}list \[--provider P\]/.test(l)), 'each command on its own line');
  });
});
