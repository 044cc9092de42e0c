import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../errors.ts';
import { digestOf, isValidTag, MAX_NAME_LENGTH, parseAlgorithm, parseDigest, projectOf, validateName } from './digest.ts';

const H64 = '0123456789abcdef'.repeat(4);
const H128 = H64 + H64;

const isCode = (code: string) => (e: unknown) => e instanceof RegistryError && e.code === code;

test('parseDigest accepts well-formed sha256 and sha512 digests', () => {
  assert.deepEqual(parseDigest(`sha256:${H64}`), { algorithm: 'sha256', hex: H64, value: `sha256:${H64}` });
  assert.deepEqual(parseDigest(`sha512:${H128}`), { algorithm: 'sha512', hex: H128, value: `sha512:${H128}` });
});

test('parseDigest refuses everything else with DIGEST_INVALID', () => {
  const bad: unknown[] = [
    undefined,
    null,
    '',
    H64,
    `sha256:`,
    `:${H64}`,
    `sha256:${H64.toUpperCase()}`,
    `sha256:${H64.slice(0, 63)}A`,
    `SHA256:${H64}`,
    `sha256:${H64.slice(1)}`,
    `sha256:${H64}0`,
    `sha256:${H128}`,
    `sha512:${H64}`,
    `md5:${H64.slice(0, 32)}`,
    `sha384:${'a'.repeat(96)}`,
    `sha256:${'g'.repeat(64)}`,
    `sha256:../${H64.slice(3)}`,
    `sha256:${H64}/../../x`,
    `sha256:${H64}\n`,
    ` sha256:${H64}`,
    `sha256: ${H64.slice(1)}`,
    `sha256:${'a'.repeat(200)}`,
    'x'.repeat(10_000),
    `sha256+b64u:${H64}`,
  ];
  for (const d of bad) assert.throws(() => parseDigest(d as string), isCode('DIGEST_INVALID'), JSON.stringify(d));
});

test('digestOf and parseAlgorithm', () => {
  assert.equal(digestOf(Buffer.from('')), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.match(digestOf(Buffer.from('x'), 'sha512'), /^sha512:[0-9a-f]{128}$/);
  assert.equal(parseDigest(digestOf(Buffer.from('abc'))).algorithm, 'sha256');
  assert.equal(parseAlgorithm(undefined), 'sha256');
  assert.equal(parseAlgorithm(''), 'sha256');
  assert.equal(parseAlgorithm('sha512'), 'sha512');
  assert.throws(() => parseAlgorithm('md5'), isCode('DIGEST_INVALID'));
});

test('validateName follows the distribution-spec grammar', () => {
  const good = [
    'a',
    'library/nginx',
    'a__b',
    'a_b',
    'a.b',
    'a-b',
    'a--b',
    'a---b',
    'a/b/c/d',
    'project/sub.repo_x-y/z9',
    '0/1',
    'a'.repeat(MAX_NAME_LENGTH),
    'p/' + 'b'.repeat(MAX_NAME_LENGTH - 2),
  ];
  for (const n of good) assert.doesNotThrow(() => validateName(n), n);
  const bad = [
    '',
    'a___b',
    'a..b',
    'a._b',
    '.a',
    'a.',
    '-a',
    'a-',
    '_a',
    'a_',
    'A',
    'library/Nginx',
    'a//b',
    '/a',
    'a/',
    'a/../b',
    '../a',
    'a/./b',
    'a b',
    'a:b',
    'a@b',
    'a\nb',
    'a'.repeat(MAX_NAME_LENGTH + 1),
    'p/' + 'b'.repeat(MAX_NAME_LENGTH - 1),
    'ü',
  ];
  for (const n of bad) assert.throws(() => validateName(n), isCode('NAME_INVALID'), JSON.stringify(n));
  assert.equal(MAX_NAME_LENGTH, 255);
});

test('validateName stays fast on pathological input (no catastrophic backtracking)', () => {
  const t = Date.now();
  for (const n of ['a-'.repeat(127) + '!', 'a.'.repeat(127) + '_', 'a__'.repeat(85) + '-', ('a' + '-'.repeat(50)).repeat(5) + '.'])
    assert.throws(() => validateName(n), isCode('NAME_INVALID'));
  assert.ok(Date.now() - t < 500);
});

test('isValidTag: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}', () => {
  for (const t of ['latest', 'v1.2.3', 'V1', '_x', '1', 'a-b_c.d', 'x'.repeat(128), 'sha256-' + H64.slice(0, 60)]) assert.ok(isValidTag(t), t);
  for (const t of ['', '.x', '-x', 'x'.repeat(129), 'a:b', 'a/b', 'a b', 'a@b', `sha256:${H64}`, 'tag\n', 'ä']) assert.ok(!isValidTag(t), JSON.stringify(t));
});

test('projectOf: the first path component', () => {
  assert.equal(projectOf('library/nginx'), 'library');
  assert.equal(projectOf('a/b/c'), 'a');
  assert.equal(projectOf('nginx'), '');
});
