// The portal's locales: en-US and zh-CN have exactly the same keys, no empty values, and every literal
// t('key') in the portal source exists.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

const SRC = resolve(import.meta.dirname, '..', '..', 'portal', 'src');
type Tree = { [k: string]: string | Tree };

function flatten(tree: Tree, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else flatten(v, key, out);
  }
  return out;
}
const load = (lang: string) => flatten(JSON.parse(readFileSync(join(SRC, 'locales', lang, 'translation.json'), 'utf8')) as Tree);

function sources(dir: string, out: string[] = []): string[] {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (/\.tsx?$/.test(f)) out.push(p);
  }
  return out;
}

test('en-US and zh-CN have identical key sets and no empty values', () => {
  const en = load('en-US');
  const zh = load('zh-CN');
  assert.ok(en.size > 200, `only ${en.size} keys`);
  assert.deepEqual([...zh.keys()].sort(), [...en.keys()].sort());
  for (const [lang, m] of [['en-US', en], ['zh-CN', zh]] as const) for (const [k, v] of m) assert.ok(v.trim() !== '', `${lang} ${k} is empty`);
  // zh-CN is really translated: most values differ from English and contain CJK characters.
  const cjk = [...zh.values()].filter((v) => /[\u4e00-\u9fff]/.test(v)).length;
  assert.ok(cjk / zh.size > 0.8, `only ${cjk} of ${zh.size} zh-CN strings are Chinese`);
});

test('every literal t() key used by the portal exists (plural keys via _one/_other)', () => {
  const en = load('en-US');
  const missing: string[] = [];
  for (const file of sources(SRC)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/\bt\(\s*'([a-zA-Z0-9_.-]+)'/g)) {
      const k = m[1];
      if (!en.has(k) && !en.has(`${k}_other`)) missing.push(`${file.slice(SRC.length + 1)}: ${k}`);
    }
  }
  assert.deepEqual(missing, []);
});
