// Day one on the operator's upstream database, through the real scripts (issue 22): the corpus
// (test/store/upstream-db.ts) as mongoexport writes it, imported into SQLite by `store import`,
// then what an operator types first. MongoDB runs the same readers in
// test/store/upstream-db.test.ts (no server here).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CORPUS_MODELS, NEW_MESSAGE, buildUpstreamDb, expectedKpis, writeMongoexport } from '../store/upstream-db.ts';
import { runScript } from './run-script.ts';

const dir = mkdtempSync(join(tmpdir(), 'llm-bench-day-one-'));
const dump = join(dir, 'dump');
const env = { PATH: process.env.PATH ?? '', LLM_BENCH_DB: join(dir, 'store.sqlite'), SITE_DIR: join(dir, 'site') };
const run = (name: string, ...args: string[]) => runScript(name, args, { cwd: dir, env });
const NOW = new Date();
const DB = buildUpstreamDb(NOW);
after(() => rmSync(dir, { recursive: true, force: true }));

describe('day one on an upstream database, through the scripts', () => {
  before(async () => {
    rmSync(dump, { recursive: true, force: true });
    (await import('node:fs')).mkdirSync(dump);
    await writeMongoexport(DB, dump);
    const imported = await run('store.ts', 'import', dump);
    assert.equal(imported.code, 0, imported.stderr);
  });

  test('a second import adds nothing', async () => {
    const again = await run('store.ts', 'import', dump);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, / [1-9]\d* added/);
  });

  test('models list --all shows every model, providers without an adapter as such, lifecycle fields; show works on added_at and no-adapter models', async () => {
    const list = await run('models.ts', 'list', '--all');
    assert.equal(list.code, 0, list.stderr);
    for (const m of DB.models) assert.ok(list.stdout.includes(String(m.model_id)), `${m.model_id} listed`);
    assert.match(list.stdout, /anyscale .*no adapter/);
    assert.match(list.stdout, /status rejected, disabled class hard_model/);
    assert.match(list.stdout, /status probation/);
    const seeded = await run('models.ts', 'show', CORPUS_MODELS.seeded.provider, CORPUS_MODELS.seeded.model_id);
    assert.equal(seeded.code, 0, seeded.stderr);
    assert.match(seeded.stdout, new RegExp(`added +${(DB.models.find((m) => m.model_id === CORPUS_MODELS.seeded.model_id)!.added_at as Date).toISOString().slice(0, 10)}`));
    const anyscale = await run('models.ts', 'show', CORPUS_MODELS.anyscale.provider, CORPUS_MODELS.anyscale.model_id);
    assert.equal(anyscale.code, 0, anyscale.stderr);
  });

  test('health-check --dry-run: the one new error, no model without an adapter stale, nothing undefined', async () => {
    const r = await run('health-check.ts', '--dry-run');
    assert.equal(r.code, 0, r.stderr);
    const fresh = r.stdout.slice(r.stdout.indexOf('New error fingerprints'), r.stdout.indexOf('Stale models'));
    assert.ok(fresh.includes(NEW_MESSAGE.slice(0, 60)), fresh);
    assert.ok(!fresh.includes('Rate limit reached'), 'the recurring rate limit reported as new');
    assert.doesNotMatch(r.stdout, /\bundefined\b|anyscale\/|lambda\//);
  });

  test('runs kpis --json: 7 days equal the plain computation, 60 days (read through the daily rollups) count the same runs; runs list and show by _id work', async () => {
    const kpis = async (days: string) => {
      const k = await run('runs.ts', 'kpis', '--days', days, '--json');
      assert.equal(k.code, 0, k.stderr);
      const out = JSON.parse(k.stdout) as { since: string; until: string; models: Array<Record<string, any>> };
      return { w: { since: new Date(out.since), until: new Date(out.until) }, models: out.models };
    };
    const week = await kpis('7');
    assert.deepEqual(
      week.models.map((m) => [m.provider, m.model_name, m.scenario, m.successes, m.failures, m.time_to_first_token.p50, m.time_to_first_token.p95, m.tokens_per_second.p50, m.tokens_per_second.p99]),
      expectedKpis(DB, week.w),
    );
    // Over more than 8 days percentiles come from the daily rollups (README: History over years);
    // the counts are exact sums.
    const long = await kpis('60');
    assert.deepEqual(
      long.models.map((m) => [m.provider, m.model_name, m.scenario, m.successes, m.failures]),
      expectedKpis(DB, long.w).map((row) => row.slice(0, 5)),
    );
    const list = await run('runs.ts', 'list', '--limit', '50');
    assert.equal(list.code, 0, list.stderr);
    assert.doesNotMatch(list.stdout, /\bundefined\b|\bnull\b/);
    const pre = DB.errors.find((e) => !e.error_kind)!;
    const show = await run('runs.ts', 'show', String(pre._id));
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /error_kind +unknown/);
  });

  test('runs site: no page for the model upstream never admitted, and no page prints undefined', async () => {
    const r = await run('runs.ts', 'site');
    assert.equal(r.code, 0, r.stderr);
    const pages = readdirSync(env.SITE_DIR, { recursive: true }).map(String).filter((f) => f.endsWith('.html'));
    assert.ok(pages.length > 3);
    for (const p of pages) assert.doesNotMatch(readFileSync(join(env.SITE_DIR, p), 'utf8'), /\bundefined\b/, p);
    assert.ok(!pages.some((p) => p.includes('qwen3-235b')));
  });

  test('store migrate: a dry run lists the Date deprecation_date and writes nothing; --apply and --revert', async () => {
    const dry = await run('store.ts', 'migrate');
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /openai\/gpt-4-0613: deprecation_date Date 2025-06-06T00:00:00.000Z -> "2025-06-06"/);
    assert.match(dry.stdout, /Dry run: nothing was written/);
    assert.match((await run('store.ts', 'migrate')).stdout, /gpt-4-0613/);
    const applied = await run('store.ts', 'migrate', '--apply');
    assert.equal(applied.code, 0, applied.stderr);
    const batch = /Applied batch (\S+)/.exec(applied.stdout)?.[1];
    assert.ok(batch, applied.stdout);
    assert.match((await run('store.ts', 'migrate')).stdout, /Nothing to migrate/);
    const reverted = await run('store.ts', 'migrate', '--revert', batch);
    assert.equal(reverted.code, 0, reverted.stderr);
    assert.match((await run('store.ts', 'migrate')).stdout, /gpt-4-0613/);
    assert.match((await run('store.ts', 'migrate', '--list')).stdout, new RegExp(`${batch}.*reverted`));
  });
});
