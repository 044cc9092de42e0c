// The house rules for imports, checked on every run: no import cycles in the server or the portal, and the layers
// only point downwards (http → services → repositories → db). A cycle or an upward import fails with the files
// named, so it is fixed where it starts instead of growing into the 17-file circle issue #12 found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (/\.tsx?$/.test(e.name) && !/\.(test|d)\.tsx?$/.test(e.name) && !/\.fixture\.ts$/.test(e.name)) out.push(p);
  }
  return out;
}

/** Imports, re-exports and dynamic imports (type-only ones included: they tie the modules' designs together all the same). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+['"](\.{1,2}\/[^'"]+)['"]/gms)) out.push(resolve(dirname(file), m[1]));
  for (const m of text.matchAll(/^\s*import\s+['"](\.{1,2}\/[^'"]+)['"]/gm)) out.push(resolve(dirname(file), m[1]));
  // lazy routes (`import('./x.tsx')`) close a circle as surely as static ones
  for (const m of text.matchAll(/\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g)) out.push(resolve(dirname(file), m[1]));
  return out;
}

function graph(dirs: string[]): Map<string, string[]> {
  const files = dirs.flatMap((d) => sourceFiles(join(ROOT, d)));
  const known = new Set(files);
  const g = new Map<string, string[]>();
  for (const f of files) g.set(f, importsOf(f).filter((t) => known.has(t)));
  return g;
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (g.get(v) ?? []).includes(v)) out.push(scc.map((f) => relative(ROOT, f)).sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return out;
}

test('no import cycles in src/ or portal/src/', () => {
  for (const dirs of [['src'], ['portal/src']]) {
    const found = cycles(graph(dirs));
    assert.deepEqual(found, [], `import cycles in ${dirs}:\n${found.map((c) => `  ${c.length} files: ${c.join(' → ')}`).join('\n')}`);
  }
});

test('layers only import downwards: repositories and db never import services or http; services never import http', () => {
  const g = graph(['src']);
  const layer = (f: string) => relative(join(ROOT, 'src'), f).split('/')[0];
  const forbidden: Record<string, string[]> = { db: ['services', 'http', 'repositories'], repositories: ['services', 'http'], services: ['http'], domain: ['services', 'http', 'repositories', 'db'] };
  const bad: string[] = [];
  for (const [from, tos] of g) {
    for (const to of tos) if (forbidden[layer(from)]?.includes(layer(to))) bad.push(`${relative(ROOT, from)} imports ${relative(ROOT, to)}`);
  }
  assert.deepEqual(bad, []);
});
