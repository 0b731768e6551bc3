// scripts/store.ts as the operator runs it: export and import between SQLite files and
// mongoexport files, what it prints, its exit codes, and an import killed mid-file (SIGKILL)
// that carries on when run again.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openSqliteStore } from '../../lib/store/sqlite/open.ts';
import { makeMetric, makeModel } from '../fixtures.ts';
import { ejsonDate, objectIdHex } from '../store/exchange-fixtures.ts';
import { runScript, scriptPath } from './run-script.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-store-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const env = { PATH: process.env.PATH ?? '', LLM_BENCH_DB: join(dir, 'default.sqlite') };
const store = (args: string[]) => runScript('store.ts', args, { cwd: dir, env });
const NOW = Date.now();

/** A metrics_cloud_v2.json of n short upstream-like rows (no run_id) in a folder of its own. */
function metricsFile(name: string, n: number, extra: string[] = []): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  const lines = Array.from({ length: n }, (_, i) => {
    const t = NOW - (n - i) * 60_000;
    return `{"_id":{"$oid":"${objectIdHex(t, i)}"},"run_ts":${ejsonDate(t)},"model_name":"gpt-4o-mini","provider":"openai","tokens_per_second":${40 + (i % 9)},"time_to_first_token":0.4}`;
  });
  const file = join(folder, 'metrics_cloud_v2.json');
  writeFileSync(file, `${[...lines, ...extra].join('\n')}\n`);
  return file;
}

describe('scripts/store.ts', () => {
  test('export from one SQLite file and import into another: every collection, then again adds nothing', async () => {
    const a = join(dir, 'a.sqlite');
    const s = openSqliteStore(a);
    await s.insertModel(makeModel({ created_at: new Date(NOW - 86_400_000) }));
    for (let i = 0; i < 3; i++) await s.insertMetric(makeMetric({ run_ts: new Date(NOW - i * 60_000) }));
    await s.close();

    const out = join(dir, 'dump');
    const exported = await store(['export', '--out', out, '--sqlite', a]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.match(exported.stdout, /metrics_cloud_v2\.json: 3 documents/);
    assert.match(exported.stdout, /Exported 4 documents from .*a\.sqlite/);
    assert.equal(readdirSync(out).length, 10, 'one file per collection');

    const b = join(dir, 'b.sqlite');
    const first = await store(['import', out, '--sqlite', b]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /metrics_cloud_v2\.json -> metrics_cloud_v2: 3 lines read, 3 added, 0 already there, 0 bad/);
    assert.match(first.stdout, /models\.json -> models: 1 lines read, 1 added/);
    const second = await store(['import', out, '--sqlite', b]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /metrics_cloud_v2\.json -> metrics_cloud_v2: 3 lines read, 0 added, 3 already there, 0 bad/);

    const again = join(dir, 'dump-b');
    assert.equal((await store(['export', '--out', again, '--sqlite', b])).code, 0);
    for (const f of readdirSync(out)) assert.equal(readFileSync(join(again, f), 'utf8'), readFileSync(join(out, f), 'utf8'), f);
  });

  test('a bad line is named by file:line and skipped; the rest is imported and the exit code is 1', async () => {
    const file = metricsFile('bad', 4, ['{"provider":"openai","model_name":"m","run_ts":"2026-05-07 14:00:03"}', '{"model_name":"m"']);
    const r = await store(['import', file]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`${file}:5: run_ts is not a date \\(got "2026-05-07 14:00:03"\\)`));
    assert.match(r.stderr, new RegExp(`${file}:6: not JSON`));
    assert.match(r.stdout, /6 lines read, 4 added, 0 already there, 2 bad/);
    assert.match(r.stdout, /2 bad lines were skipped/);
  });

  test('usage mistakes exit 2 with one line, and an export never creates the SQLite file it was to read', async () => {
    assert.equal((await store(['--help'])).code, 0);
    for (const [args, message] of [
      [[], /Usage: store\.ts export/],
      [['copy'], /Unknown command 'copy': use export or import/],
      [['export'], /export needs --out DIR/],
      [['export', '--out', join(dir, 'x'), '--sqlite', join(dir, 'missing.sqlite')], /No SQLite store at .*missing\.sqlite: nothing to export/],
      [['import', join(dir, 'nowhere')], /Nothing to import at/],
      [['import', join(dir, 'a.sqlite')], /Cannot tell the collection of .*a\.sqlite/],
      [['import', dir, '--sqlite', 'x', '--mongodb-uri', 'mongodb://h'], /Give --sqlite or --mongodb-uri, not both/],
      [['export', '--out', join(dir, 'dump'), '--sqlite', join(dir, 'a.sqlite')], /Not overwriting/],
    ] as Array<[string[], RegExp]>) {
      const r = await store(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout + r.stderr, message);
    }
    assert.equal(existsSync(join(dir, 'missing.sqlite')), false);
  });

  test('an import killed mid-file (SIGKILL) carries on after its last stored batch when run again: each row once', async () => {
    const n = 40_000;
    const file = metricsFile('big', n);
    const target = join(dir, 'killed.sqlite');
    const child = spawn(process.execPath, ['--import', import.meta.resolve('tsx'), scriptPath('store.ts'), 'import', file, '--sqlite', target], {
      cwd: dir,
      env,
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    // Killed as soon as a batch is recorded: where exactly does not matter, the outcome must not.
    let killedAt = 0;
    while (child.exitCode === null && killedAt === 0) {
      await sleep(10);
      if (!existsSync(target)) continue;
      const db = new DatabaseSync(target, { readOnly: true });
      try {
        const row = db.prepare('SELECT line FROM import_progress').get() as { line: number } | undefined;
        if (row) {
          child.kill('SIGKILL');
          killedAt = row.line;
        }
      } catch {
        // The schema is still being created.
      } finally {
        db.close();
      }
    }
    await exited;
    assert.ok(killedAt > 0, 'the import was stopped before it finished');
    const r = await store(['import', file, '--sqlite', target]);
    assert.equal(r.code, 0, r.stderr);
    const resumed = Number(/resumed after line (\d+)/.exec(r.stdout)?.[1]);
    assert.ok(resumed >= killedAt && resumed < n, r.stdout);
    const s = openSqliteStore(target);
    try {
      assert.equal(await s.countMetrics(), n);
    } finally {
      await s.close();
    }
  });
});
