// The layout rules of lib/ (STYLE "Folders are jobs"): no import cycle anywhere in lib/ and
// scripts/, counting type imports and dynamic imports, and a job folder imports another job's
// folder only through the few edges listed here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** Every relative import of each file (static, type-only, re-export or dynamic), as repository paths. */
export function importGraph(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const spec = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)'(\.{1,2}\/[^']+)'/g;
  for (const file of files) {
    const src = readFileSync(join(ROOT, file), 'utf8');
    const deps = [...src.matchAll(spec)].map((m) => relative(ROOT, resolve(ROOT, dirname(file), m[1]!)));
    graph.set(file, [...new Set(deps)]);
  }
  return graph;
}

/** One cycle per strongly connected component with more than one file (or a self-import). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let n = 0;
  const visit = (v: string) => {
    index.set(v, n);
    low.set(v, n++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe('import graph', () => {
  it('finds a cycle when there is one (the checker itself works)', () => {
    const g = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    assert.deepEqual(findCycles(g), [['a.ts', 'b.ts', 'c.ts']]);
  });

  it('has no import cycle in lib/ and scripts/, type and dynamic imports included', () => {
    const graph = importGraph([...tsFiles('lib'), ...tsFiles('scripts')]);
    assert.ok(graph.size > 30, `read ${graph.size} files`);
    for (const deps of graph.values()) for (const d of deps) assert.ok(graph.has(d) || !d.startsWith('lib/'), `unresolved import ${d}`);
    assert.deepEqual(findCycles(graph), []);
  });

  it('keeps lib/ in folders per job, with only config, log, cli, errors, mail and plural at its top', () => {
    const top = readdirSync(join(ROOT, 'lib'), { withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
    assert.deepEqual(top, ['cli.ts', 'config.ts', 'errors.ts', 'log.ts', 'mail.ts', 'plural.ts']);
  });
});
