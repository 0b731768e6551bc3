// The README runs every entry point as `npm run <script> -- …`. Each package.json script
// `exec`s node, so the process npm starts is node itself: the SIGTERM that npm forwards to its
// child (systemctl, Ctrl-C, kill <pid of npm>) reaches the script, which shuts down cleanly,
// instead of a `sh -c` that would leave it running.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-npm-scripts-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** This process's environment without the test runner's own marker, which the child must not inherit. */
function childEnv(): Record<string, string | undefined> {
  const { NODE_TEST_CONTEXT: _runner, ...env } = process.env;
  return env;
}

/** The pids of every process below pid. */
function descendants(pid: number): number[] {
  const children = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' }).stdout.trim().split(/\s+/).filter(Boolean).map(Number);
  return children.flatMap((c) => [c, ...descendants(c)]);
}

describe('npm scripts', () => {
  test('every entry point has an npm script that execs node (V8 flags allowed) --import tsx on it', () => {
    const entries = Object.entries(pkg.scripts).filter(([, command]) => / scripts\/[a-z-]+\.ts/.test(command));
    assert.deepEqual(entries.map(([name]) => name).sort(), ['bench', 'demo', 'discovery', 'health-check', 'ingest-server', 'models', 'runs', 'store']);
    for (const [name, command] of entries) assert.match(command, /^exec node (--[a-z-]+(=\S+)? )*--import tsx scripts\/[a-z-]+\.ts$/, name);
  });

  test('every dependency with an install script is decided in allowScripts, so npm 11 has nothing to warn about', () => {
    const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages)
      .filter(([, p]) => p.hasInstallScript)
      .map(([path]) => path.replace(/^.*node_modules\//, ''))
      .sort();
    const policy = (pkg as { allowScripts?: Record<string, boolean> }).allowScripts ?? {};
    assert.deepEqual(Object.keys(policy).sort(), withScripts);
    // Denied: esbuild's postinstall only swaps its JS launcher for the native binary (the API tsx
    // uses finds @esbuild/<platform> itself); protobufjs's only warns about version schemes.
    for (const name of withScripts) assert.equal(policy[name], false, name);
  });

  test('SIGTERM to npm run ingest-server stops the server cleanly', async () => {
    // Under `npm test` npm_execpath is npm's own CLI; run directly, the npm on PATH.
    const [npm, npmArgs] = process.env.npm_execpath ? [process.execPath, [process.env.npm_execpath]] : ['npm', []];
    const child = spawn(npm, [...npmArgs, 'run', '--silent', 'ingest-server'], {
      cwd: REPO,
      env: { ...childEnv(), INGEST_ALLOW_NO_KEY: 'true', INGEST_PORT: '0', INGEST_HOST: '127.0.0.1', LLM_BENCH_DB: join(dir, 'ingest.sqlite'), MONGODB_URI: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    // 'close' comes once every holder of the pipes is gone: npm and the server it started.
    const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
    let server: number[] = [];
    try {
      await new Promise<void>((resolve, reject) => {
        const check = () => (/listening on/.test(output) ? resolve() : undefined);
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        child.on('exit', () => reject(new Error(`npm run ingest-server exited before listening:\n${output}`)));
      });
      server = descendants(child.pid!);
      const children = spawnSync('ps', ['-o', 'args=', '--ppid', String(child.pid)], { encoding: 'utf8' }).stdout.trim();
      assert.match(children, /^node --import tsx scripts\/ingest-server\.ts$/, 'npm runs the server as its child, with no shell between');
      child.kill('SIGTERM');
      // A bound, not a timing assertion: a server left running would hold the pipes for ever.
      let bound: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        closed.then(() => 'closed'),
        new Promise<string>((resolve) => (bound = setTimeout(() => resolve('still running'), 20_000))),
      ]);
      clearTimeout(bound);
      assert.equal(outcome, 'closed', `the server outlived npm:\n${output}`);
      assert.match(output, /Ingest server stopping \(SIGTERM\)/);
      assert.match(output, /Ingest server stopped/);
    } finally {
      // Never leave a server behind when the test failed: end npm's descendants by pid.
      for (const pid of server) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      child.kill('SIGKILL');
    }
  });
});
