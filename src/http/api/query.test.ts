import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../../errors.ts';
import { linkHeader, parsePage, parseQ, parseSort } from './query.ts';

const q = (s: string) => new URLSearchParams(s);

test('parsePage: defaults 1/10, page below 1 is 1, page_size 0 unpaginated, at most 100, garbage refused', () => {
  assert.deepEqual(parsePage(q('')), { page: 1, pageSize: 10, limit: 10, offset: 0 });
  assert.deepEqual(parsePage(q('page=3&page_size=100')), { page: 3, pageSize: 100, limit: 100, offset: 200 });
  assert.deepEqual(parsePage(q('page=0&page_size=5')), { page: 1, pageSize: 5, limit: 5, offset: 0 });
  assert.deepEqual(parsePage(q('page=-1')), { page: 1, pageSize: 10, limit: 10, offset: 0 });
  assert.deepEqual(parsePage(q('page=4&page_size=0')), { page: 1, pageSize: 0, limit: Number.MAX_SAFE_INTEGER, offset: 0 });
  assert.equal(linkHeader('/api/v2.0/projects', q('page_size=0'), 500, 1, 0), null);
  for (const bad of ['page_size=101', 'page=1.5', 'page=abc', 'page_size=1e2', 'page=%00', 'page_size=9999999999'])
    assert.throws(() => parsePage(q(bad)), ApiError, bad);
});

test("linkHeader: Harbor's format, keys sorted and Go-escaped, ' , ' between links", () => {
  assert.equal(linkHeader('/api/v2.0/projects', q('page=1&page_size=10'), 5, 1, 10), null);
  assert.equal(linkHeader('/api/v2.0/projects', q(''), 25, 1, 10), '</api/v2.0/projects?page=2&page_size=10>; rel="next"');
  assert.equal(
    linkHeader('/api/v2.0/projects', q('page=2&page_size=10&name=a b*&q=name=~x'), 25, 2, 10),
    '</api/v2.0/projects?name=a+b%2A&page=1&page_size=10&q=name%3D~x>; rel="prev" , </api/v2.0/projects?name=a+b%2A&page=3&page_size=10&q=name%3D~x>; rel="next"',
  );
  assert.equal(linkHeader('/x', q(''), 25, 3, 10), '</x?page=2&page_size=10>; rel="prev"');
  // a page past the end has no prev link either (Harbor: (page-1)*size < total)
  assert.equal(linkHeader('/x', q(''), 25, 5, 10), null);
});

const FIELDS = { name: { type: 'string', fuzzy: true, union: true }, id: { type: 'int', range: true }, public: { type: 'bool' } } as const;

test('parseQ: exact, fuzzy, range and union on allow-listed fields', () => {
  assert.deepEqual(parseQ('name=abc', FIELDS), { name: { op: 'eq', value: 'abc' } });
  assert.deepEqual(parseQ('name=~"a,b",public=true', FIELDS), { name: { op: 'like', value: 'a,b' }, public: { op: 'eq', value: 1 } });
  assert.deepEqual(parseQ('id=[1~5]', FIELDS), { id: { op: 'range', min: 1, max: 5 } });
  assert.deepEqual(parseQ('id=[~5]', FIELDS), { id: { op: 'range', min: null, max: 5 } });
  assert.deepEqual(parseQ('name={a b}', FIELDS), { name: { op: 'in', values: ['a', 'b'] } });
  assert.deepEqual(parseQ('', FIELDS), {});
  assert.deepEqual(parseQ(null, FIELDS), {});
});

test('parseQ: keys outside the allow-list are ignored as Harbor does, so they never filter (CVE-2025-30086, CVE-2019-19026)', () => {
  for (const ignored of ['password=~a', 'salt=x', 'owner__password=x', '__proto__=x', 'constructor=x', 'password__icontains=a'])
    assert.deepEqual({ ...parseQ(ignored, FIELDS) }, {}, ignored);
  assert.deepEqual(parseQ('name__icontains=ab', FIELDS), { name: { op: 'like', value: 'ab' } }, "Harbor's __icontains");
  assert.deepEqual(parseQ('name__exact=ab', FIELDS), { name: { op: 'eq', value: 'ab' } }, "Harbor's __exact");
});

test('parseQ: bad syntax, a wrong operator or value on an allow-listed field → 400', () => {
  for (const bad of [
    'id__gte=1',
    'id=~1',
    'public=~t',
    'name=[a~b]',
    'id=abc',
    'public=yes',
    'name=(a b)',
    'name',
    '=x',
    'name=a,name=b',
    'id=[1~2~3]',
    'id=[1~2',
    'id={1 2',
    'name="a,id=1',
    'id=1]),name=x',
  ])
    assert.throws(() => parseQ(bad, FIELDS), ApiError, bad);
});

test('parseSort: allow-listed fields, optional leading minus; anything else is ignored (Harbor)', () => {
  assert.deepEqual(parseSort('name,-id', ['name', 'id']), [
    { field: 'name', desc: false },
    { field: 'id', desc: true },
  ]);
  assert.deepEqual(parseSort(null, ['name']), []);
  for (const odd of ['password', 'name desc', 'name;DROP TABLE x', '--name', '(select 1)']) assert.deepEqual(parseSort(odd, ['name', 'id']), [], odd);
  assert.deepEqual(parseSort('name,', ['name', 'id']), [{ field: 'name', desc: false }]);
  assert.deepEqual(parseSort('password,-id', ['name', 'id']), [{ field: 'id', desc: true }]);
});
