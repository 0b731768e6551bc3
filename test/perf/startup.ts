// npm run bench:startup — how long does a one-model sweep take from exec to exit, and what
// does it load? Runs the real script (`node --import tsx scripts/bench-once.ts --models
// mock:instant --force`) on a temporary SQLite file, repeatedly, and prints the median wall
// time (target < 1 s). One extra run records every module the process resolves (a
// module.registerHooks resolve hook) and fails if any provider SDK, the MongoDB driver or the
// tokenizer was loaded: a mock sweep must load none of them.
//
// Usage: node --import tsx test/perf/startup.ts [--runs 10]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const SCRIPT = new URL('../../scripts/bench-once.ts', import.meta.url).pathname;
const TSX = import.meta.resolve('tsx');
const HEAVY = ['openai', '@anthropic-ai/sdk', '@anthropic-ai/vertex-sdk', '@aws-sdk/', '@smithy/', '@google/genai', 'google-auth-library', 'mongodb', 'gpt-tokenizer'];

// Appends every resolved module URL to $MODULE_LOG.
const HOOK =
  'data:text/javascript,' +
  encodeURIComponent(
    'import{registerHooks}from"node:module";import{appendFileSync}from"node:fs";' +
      'registerHooks({resolve(s,c,n){const r=n(s,c);appendFileSync(process.env.MODULE_LOG,r.url+"\\n");return r}});',
  );

const { values } = parseArgs({ options: { runs: { type: 'string', default: '10' } } });
const runs = Number(values.runs);
const dir = mkdtempSync(join(tmpdir(), 'llm-bench-startup-'));
const env = { PATH: process.env.PATH ?? '', LLM_BENCH_DB: join(dir, 'startup.sqlite'), MODULE_LOG: join(dir, 'modules.log') };

function once(extra: string[] = []): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [...extra, '--import', TSX, SCRIPT, '--models', 'mock:instant', '--force'], { cwd: dir, env, encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`bench-once exited ${r.status}: ${r.stderr}`);
  return ms;
}

try {
  once(); // warm the tsx transform cache, as every run after the first on a server finds it
  const times = Array.from({ length: runs }, () => once()).sort((a, b) => a - b);
  const median = times[Math.floor((times.length - 1) / 2)]! / 2 + times[Math.ceil((times.length - 1) / 2)]! / 2;
  console.log(`bench-once --models mock:instant --force, ${runs} runs (exec to exit):`);
  console.log(`  median ${median.toFixed(0)} ms, min ${times[0]!.toFixed(0)} ms, max ${times.at(-1)!.toFixed(0)} ms  (target < 1000 ms: ${median < 1000 ? 'met' : 'NOT MET'})`);

  once(['--import', HOOK]);
  const packages = new Set(
    readFileSync(env.MODULE_LOG, 'utf8')
      .split('\n')
      .map((url) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1])
      .filter((p): p is string => Boolean(p)),
  );
  const heavy = [...packages].filter((p) => HEAVY.some((h) => (h.endsWith('/') ? p.startsWith(h) : p === h)));
  console.log(`  packages loaded: ${[...packages].sort().join(', ')}`);
  if (heavy.length > 0) {
    console.log(`  FAIL: a mock sweep loaded ${heavy.join(', ')}`);
    process.exitCode = 1;
  } else {
    console.log('  no provider SDK, MongoDB driver or tokenizer loaded');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
