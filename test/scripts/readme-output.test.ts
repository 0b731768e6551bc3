// The README's machine-readable commands, run as a reader would paste them: every line of a
// bash block that runs `npm run … --json` or `--csv` (not a synopsis with [options]) goes
// through a real shell and npm in a checkout of the project, and what it wrote must parse.
// npm prints a banner on stdout before a script's output unless -s: a README line without it
// would hand the reader something that is not JSON.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const README = readFileSync(join(REPO, 'README.md'), 'utf8');

/** The README's runnable npm lines that ask for JSON or CSV, as written (a trailing # comment dropped). */
function machineReadableLines(): string[] {
  const blocks = [...README.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks
    .flatMap((b) => b.split('\n'))
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => /^npm run\b/.test(l) && /\s--(json|csv)\b/.test(l) && !l.includes('['));
}

/** RFC 4180 rows (quoted cells may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(cell), (cell = '');
    else if (c === '\r' && text[i + 1] === '\n') {
      row.push(cell);
      rows.push(row);
      (row = []), (cell = ''), i++;
    } else cell += c;
  }
  assert.equal(cell + row.join(''), '', 'the CSV ends with CRLF');
  return rows;
}

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-readme-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The environment of someone who cloned the repo: no test runner marker, no keys, no database server. */
function cloneEnv(): Record<string, string | undefined> {
  const { NODE_TEST_CONTEXT: _runner, ...env } = process.env;
  return { ...env, MONGODB_URI: '', LLM_BENCH_DB: '', SITE_DIR: '', PROM_TEXTFILE: '', OPENAI_API_KEY: '', JOURNAL_STREAM: '' };
}

function sh(line: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Under `npm test` the npm running it is first on PATH; run directly, the system's.
  const child = spawn('bash', ['-c', line], { cwd, env: cloneEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

const NPM_MISSING = spawnSync('npm', ['--version']).error ? 'npm is not on PATH' : false;

describe('the README\'s --json and --csv commands, through npm as written', { skip: NPM_MISSING }, () => {
  const lines = machineReadableLines();
  // A checkout: the project's files, its node_modules, no .env, the default ./data/ store.
  const checkout = join(dir, 'llm-bench');
  before(async () => {
    spawnSync('mkdir', ['-p', checkout]);
    for (const f of ['package.json', 'node_modules', 'scripts', 'lib', 'tsconfig.json']) symlinkSync(join(REPO, f), join(checkout, f));
    const demo = await sh('npm run -s demo > /dev/null', checkout);
    assert.equal(demo.code, 0, demo.stderr);
  });

  test('the README shows several, each with npm run -s so no banner precedes the output', () => {
    assert.ok(lines.length >= 5, lines.join('\n'));
    for (const line of lines) assert.match(line, /^npm run -s /, `${line}: npm's banner would come first`);
  });

  for (const line of ['npm run models -- list | head -2', 'npm run demo | head']) {
    test(`${line}: the reader stopping early ends the script quietly, exit 0`, async () => {
      const r = await sh(`${line}; exit \${PIPESTATUS[0]}`, checkout);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stderr, /EPIPE|Error|\n\s+at /);
    });
  }

  for (const line of machineReadableLines()) {
    test(line, async () => {
      const r = await sh(line, checkout);
      assert.equal(r.code, 0, r.stderr);
      const file = /\s>\s*(\S+)$/.exec(line)?.[1];
      const out = file ? readFileSync(join(checkout, file), 'utf8') : r.stdout;
      if (/\s--csv\b/.test(line)) {
        const rows = parseCsv(out);
        assert.ok(rows.length >= 2, 'a header and rows');
        assert.ok(rows.every((row) => row.length === rows[0]!.length), 'every row has the header\'s columns');
        assert.match(rows[0]!.join(','), /^[a-z_]+(,[a-z0-9_]+)+$/);
      } else {
        const parsed: unknown = JSON.parse(out);
        assert.ok(parsed !== null && typeof parsed === 'object');
      }
    });
  }
});
