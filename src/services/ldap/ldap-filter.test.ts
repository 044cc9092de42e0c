// Harbor's normalizeFilter (pkg/ldap/filter.go): a configured filter without outer parentheses is wrapped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeFilter } from './ldap-service.ts';

test('normalizeFilter wraps a bare filter, trims, keeps a parenthesized one and the empty string', () => {
  assert.equal(normalizeFilter('objectClass=person'), '(objectClass=person)');
  assert.equal(normalizeFilter('  uid=alice '), '(uid=alice)');
  assert.equal(normalizeFilter('(objectClass=person)'), '(objectClass=person)');
  assert.equal(normalizeFilter(' (&(a=b)(c=d)) '), '(&(a=b)(c=d))');
  assert.equal(normalizeFilter('&(a=b)(c=d)'), '(&(a=b)(c=d))');
  assert.equal(normalizeFilter(''), '');
  assert.equal(normalizeFilter('   '), '');
});
