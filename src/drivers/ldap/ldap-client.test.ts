import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dnIsUnder, escapeFilterValue, isDn, LdaptsDriver, normalizeDn } from './ldap-client.ts';

test('escapeFilterValue: RFC 4515 special characters and controls become \\XX; the rest is kept', () => {
  assert.equal(escapeFilterValue('alice'), 'alice');
  assert.equal(escapeFilterValue('*'), '\\2a');
  assert.equal(escapeFilterValue(')(uid=*'), '\\29\\28uid=\\2a');
  assert.equal(escapeFilterValue('\\00'), '\\5c00');
  assert.equal(escapeFilterValue('a\u0000b'), 'a\\00b');
  assert.equal(escapeFilterValue('admin)(|(uid=*'), 'admin\\29\\28|\\28uid=\\2a');
  assert.equal(escapeFilterValue('Jürgen ñ'), 'Jürgen ñ');
  assert.equal(escapeFilterValue('tab\there\x7f'), 'tab\\09here\\7f');
});

test('normalizeDn / dnIsUnder / isDn', () => {
  assert.equal(normalizeDn('CN=Devs, OU=Groups,DC=Example,DC=Test'), 'cn=devs,ou=groups,dc=example,dc=test');
  assert.equal(normalizeDn('cn=a\\, b,dc=x'), 'cn=a\\, b,dc=x');
  assert.ok(dnIsUnder('cn=devs,ou=groups,dc=example,dc=test', 'OU=Groups, DC=example,DC=test'));
  assert.ok(dnIsUnder('ou=groups,dc=example,dc=test', 'ou=groups,dc=example,dc=test'));
  assert.ok(!dnIsUnder('cn=x,ou=othergroups,dc=example,dc=test', 'ou=groups,dc=example,dc=test'));
  assert.ok(isDn('cn=devs,ou=groups,dc=example,dc=test'));
  assert.ok(isDn('CN=A\\, B,DC=x'));
  for (const bad of ['', 'devs', 'cn=a,,dc=x', 'cn=a\u0000', 'cn=', 42, null]) assert.ok(!isDn(bad), String(bad));
});

test('an empty password is refused before anything is sent (no anonymous-bind bypass)', async () => {
  // Port 1 on loopback: a real connection attempt would fail with "unavailable", not with invalid credentials.
  const conn = new LdaptsDriver().connect({ url: 'ldap://127.0.0.1:1', timeoutMs: 1000, verifyCert: true });
  await assert.rejects(conn.bind('uid=alice,dc=example,dc=test', ''), (e: Error & { kind?: string }) => e.kind === 'invalid_credentials');
  await assert.rejects(conn.bind('uid=alice,dc=example,dc=test', 'x'), (e: Error & { kind?: string }) => e.kind === 'unavailable');
  await conn.close();
});
