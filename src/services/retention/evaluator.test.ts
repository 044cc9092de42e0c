// Table test of the retention evaluator over a generated repository: every template (with Harbor's parameter
// defaults too), tag selectors (matches/excludes, untagged extras), label selectors, repository scope, the
// union of several rules, disabled rules — each row checks the exact kept set.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateRepository, type Candidate, type RetentionRule, type RetentionSelector } from './evaluator.ts';

const NOW = 1_800_000_000;
const DAY = 86_400;

/**
 * a0..a11: a<i> pushed i days ago (tag v<i>; a3 also `latest`), pulled (11 - i) * 2 days ago for even i, never
 * for odd i; a6, a7 labelled `keep`; a4 labelled `keep,qa`; u0, u1 untagged, pushed 0.5 and 20 days ago, u1
 * pulled 1 day ago.
 */
function repository(): Candidate[] {
  const out: Candidate[] = [];
  for (let i = 0; i < 12; i++) {
    out.push({
      digest: `a${i}`,
      tags: i === 3 ? ['v3', 'latest'] : [`v${i}`],
      labels: i === 6 || i === 7 ? ['keep'] : i === 4 ? ['keep', 'qa'] : [],
      pushedTime: NOW - i * DAY,
      pulledTime: i % 2 === 0 ? NOW - (11 - i) * 2 * DAY : 0,
    });
  }
  out.push({ digest: 'u0', tags: [], labels: [], pushedTime: NOW - DAY / 2, pulledTime: 0 });
  out.push({ digest: 'u1', tags: [], labels: [], pushedTime: NOW - 20 * DAY, pulledTime: NOW - DAY });
  return out;
}

const ds = (decoration: string, pattern: string, extras?: string): RetentionSelector => ({ kind: 'doublestar', decoration, pattern, ...(extras ? { extras } : {}) });
const rule = (template: string, n?: number, tags: RetentionSelector[] = [ds('matches', '**')], o: { repo?: RetentionSelector[]; disabled?: boolean } = {}): RetentionRule => ({
  action: 'retain',
  template,
  disabled: o.disabled ?? false,
  params: n === undefined ? {} : { [template]: n },
  tag_selectors: tags,
  scope_selectors: { repository: o.repo ?? [ds('repoMatches', '**')] },
});
const all = repository().map((c) => c.digest);
const except = (...d: string[]) => all.filter((x) => !d.includes(x));

// Pull times: a0 22d, a2 18d, a4 14d, a6 10d, a8 6d, a10 2d ago; u1 1d; others never.
const TABLE: { name: string; rules: RetentionRule[]; kept: string[]; repo?: string }[] = [
  { name: 'latestPushedK 3 (untagged in scope by default for matches)', rules: [rule('latestPushedK', 3)], kept: ['a0', 'u0', 'a1'] },
  { name: 'latestPushedK default is 10', rules: [rule('latestPushedK')], kept: ['a0', 'u0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'] },
  { name: 'latestPushedK 0 retains nothing: everything goes', rules: [rule('latestPushedK', 0)], kept: [] },
  { name: 'latestPulledN 2', rules: [rule('latestPulledN', 2)], kept: ['u1', 'a10'] },
  { name: 'nDaysSinceLastPush 5 (>= cutoff)', rules: [rule('nDaysSinceLastPush', 5)], kept: ['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'u0'] },
  { name: 'nDaysSinceLastPush default 30 keeps all', rules: [rule('nDaysSinceLastPush')], kept: all },
  { name: 'nDaysSinceLastPull 10 (>= cutoff; never pulled is out)', rules: [rule('nDaysSinceLastPull', 10)], kept: ['a6', 'a8', 'a10', 'u1'] },
  { name: 'lastXDays 5 (pushed strictly after the cutoff)', rules: [rule('lastXDays', 5)], kept: ['a0', 'a1', 'a2', 'a3', 'a4', 'u0'] },
  { name: 'latestActiveK 3 (max of push and pull)', rules: [rule('latestActiveK', 3)], kept: ['a0', 'u0', 'a1'] },
  { name: 'latestActiveK 4: u1 active 1 day ago', rules: [rule('latestActiveK', 4)], kept: ['a0', 'u0', 'a1', 'u1'] },
  { name: 'always', rules: [rule('always')], kept: all },
  { name: 'nothing', rules: [rule('nothing')], kept: [] },
  { name: 'tag matches v1* (untagged out via extras)', rules: [rule('always', undefined, [ds('matches', 'v1*', '{"untagged":false}')])], kept: ['a1', 'a10', 'a11'] },
  { name: 'tag matches v1* (untagged in by default)', rules: [rule('always', undefined, [ds('matches', 'v1*')])], kept: ['a1', 'a10', 'a11', 'u0', 'u1'] },
  // Harbor's excludes: untagged artifacts are selected unless extras says {"untagged":true} (exclude them too).
  { name: 'tag excludes v* (a3 has latest; untagged selected by default)', rules: [rule('always', undefined, [ds('excludes', 'v*')])], kept: ['a3', 'u0', 'u1'] },
  { name: 'tag excludes v* with untagged:true excludes untagged', rules: [rule('always', undefined, [ds('excludes', 'v*', '{"untagged":true}')])], kept: ['a3'] },
  { name: 'label withLabels keep', rules: [rule('always', undefined, [ds('matches', '**'), { kind: 'label', decoration: 'withLabels', pattern: 'keep' }])], kept: ['a4', 'a6', 'a7'] },
  { name: 'label withLabels keep,qa (all of them)', rules: [rule('always', undefined, [{ kind: 'label', decoration: 'withLabels', pattern: 'keep,qa' }])], kept: ['a4'] },
  {
    name: 'label withoutLabels keep, latestPushedK 2',
    rules: [rule('latestPushedK', 2, [ds('matches', '**', '{"untagged":false}'), { kind: 'label', decoration: 'withoutLabels', pattern: 'keep' }])],
    kept: ['a0', 'a1'],
  },
  { name: 'union of two rules', rules: [rule('latestPushedK', 1), rule('always', undefined, [ds('matches', 'latest')])], kept: ['a0', 'a3', 'u0', 'u1'] },
  { name: 'a disabled rule retains nothing but does not put the repository in scope', rules: [rule('always', undefined, undefined, { disabled: true }), rule('latestPushedK', 1)], kept: ['a0'] },
  { name: 'repository excluded: left alone', rules: [rule('nothing', undefined, undefined, { repo: [ds('repoExcludes', 'app/**')] })], kept: all, repo: 'app/web' },
  { name: 'repository matched by name pattern', rules: [rule('nothing', undefined, undefined, { repo: [ds('repoMatches', 'app/*')] })], kept: [], repo: 'app/web' },
  { name: 'only the rules selecting the repository apply', rules: [rule('always', undefined, undefined, { repo: [ds('repoMatches', 'other')] }), rule('latestPushedK', 2, undefined, { repo: [ds('repoMatches', 'app/**')] })], kept: ['a0', 'u0'], repo: 'app/web' },
];

for (const row of TABLE) {
  test(`retention evaluator: ${row.name}`, () => {
    const v = evaluateRepository(row.rules, row.repo ?? 'repo', repository(), NOW);
    const kept = v.inScope ? v.retained.map((c) => c.digest) : all;
    assert.deepEqual(new Set(kept), new Set(row.kept));
    if (v.inScope) assert.deepEqual(new Set(v.deleted.map((c) => c.digest)), new Set(except(...row.kept)));
    else assert.equal(v.deleted.length, 0);
  });
}

test('retention evaluator: 100,000 tags in one repository evaluate quickly', () => {
  const big: Candidate[] = Array.from({ length: 100_000 }, (_, i) => ({ digest: `d${i}`, tags: [`t${i}`], labels: [], pushedTime: NOW - i, pulledTime: i % 3 ? NOW - i * 2 : 0 }));
  const start = performance.now();
  const v = evaluateRepository([rule('latestPushedK', 10), rule('nDaysSinceLastPull', 1, [ds('matches', 't1*')])], 'repo', big, NOW);
  const ms = performance.now() - start;
  assert.ok(v.retained.length > 10);
  assert.equal(v.retained.length + v.deleted.length, 100_000);
  assert.ok(ms < 10_000, `took ${ms} ms`);
});
