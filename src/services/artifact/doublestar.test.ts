import assert from 'node:assert/strict';
import test from 'node:test';
import { doublestar, isValidPattern } from './doublestar.ts';

const m = (p: string, s: string) => doublestar(p)(s);

test('* stays within a path component, ** crosses them', () => {
  assert.equal(m('*', 'nginx'), true);
  assert.equal(m('*', 'team/nginx'), false);
  assert.equal(m('**', 'team/nginx'), true);
  assert.equal(m('**', 'nginx'), true);
  assert.equal(m('team/*', 'team/nginx'), true);
  assert.equal(m('team/*', 'team/a/nginx'), false);
  assert.equal(m('team/**', 'team/a/nginx'), true);
  assert.equal(m('**/nginx', 'nginx'), true);
  assert.equal(m('**/nginx', 'a/b/nginx'), true);
  assert.equal(m('a/**/b', 'a/b'), true);
  assert.equal(m('a/**/b', 'a/x/y/b'), true);
  assert.equal(m('a/**/b', 'a/x/y/c'), false);
});

test('tags: prefixes, suffixes, ? and classes; anchored', () => {
  assert.equal(m('v1.*', 'v1.2.3'), true);
  assert.equal(m('v1.*', 'v10'), false);
  assert.equal(m('v1.*', 'xv1.2'), false);
  assert.equal(m('*-release', 'v2-release'), true);
  assert.equal(m('?.0', '1.0'), true);
  assert.equal(m('?.0', '10.0'), false);
  assert.equal(m('v[0-9]', 'v7'), true);
  assert.equal(m('v[!0-9]', 'v7'), false);
  assert.equal(m('v[^0-9]', 'vx'), true);
  assert.equal(m('a.b', 'aXb'), false, 'a dot is literal');
  assert.equal(m('\\*', '*'), true);
  assert.equal(m('\\*', 'x'), false);
});

test('{a,b} alternatives, nested, with wildcards', () => {
  assert.equal(m('{latest,stable}', 'latest'), true);
  assert.equal(m('{latest,stable}', 'stable'), true);
  assert.equal(m('{latest,stable}', 'dev'), false);
  assert.equal(m('v{1,2}.*', 'v2.5'), true);
  assert.equal(m('v{1,2}.*', 'v3.5'), false);
  assert.equal(m('{prod/**,release-*}', 'prod/a/b'), true);
  assert.equal(m('{prod/**,release-*}', 'release-1'), true);
  assert.equal(m('{a,{b,c}x}', 'cx'), true);
  assert.equal(m('x{,y}', 'x'), true);
});

test('an empty pattern matches everything; malformed patterns are refused', () => {
  assert.equal(m('', 'anything/at/all'), true);
  for (const p of ['{a,b', '[abc', 'a\\', '[]']) assert.equal(isValidPattern(p), false, p);
  for (const p of ['**', '{a,b}', '[a-z]*', 'release-?']) assert.equal(isValidPattern(p), true, p);
});

test('no backtracking blow-up: many wildcards against a long name stay fast', () => {
  const t0 = performance.now();
  assert.equal(m('*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(128)), false);
  assert.equal(m('**a**a**a**a**a**a**a**a**b', 'a/'.repeat(120)), false);
  assert.ok(performance.now() - t0 < 500, `${performance.now() - t0} ms`);
  assert.equal(isValidPattern('{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}'), false, 'over 256 alternatives');
});
