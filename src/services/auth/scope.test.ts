import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScopes } from './scope.ts';

test('one scope: type, name, actions', () => {
  assert.deepEqual(parseScopes(['repository:library/nginx:pull,push']), [{ type: 'repository', name: 'library/nginx', actions: ['pull', 'push'] }]);
  assert.deepEqual(parseScopes(['repository:library/nginx:pull']), [{ type: 'repository', name: 'library/nginx', actions: ['pull'] }]);
  assert.deepEqual(parseScopes(['registry:catalog:*']), [{ type: 'registry', name: 'catalog', actions: ['*'] }]);
});

test('a name with a host:port prefix keeps its colons', () => {
  assert.deepEqual(parseScopes(['repository:localhost:5000/library/nginx:pull']), [
    { type: 'repository', name: 'localhost:5000/library/nginx', actions: ['pull'] },
  ]);
  assert.deepEqual(parseScopes(['repository:reg.example.com:443/a/b:pull,push,delete']), [
    { type: 'repository', name: 'reg.example.com:443/a/b', actions: ['pull', 'push', 'delete'] },
  ]);
});

test('several scopes in one parameter (space-separated) and across parameters', () => {
  assert.deepEqual(parseScopes(['repository:a/b:pull repository:c/d:push,pull', 'repository:h:1/e/f:pull']), [
    { type: 'repository', name: 'a/b', actions: ['pull'] },
    { type: 'repository', name: 'c/d', actions: ['push', 'pull'] },
    { type: 'repository', name: 'h:1/e/f', actions: ['pull'] },
  ]);
  // Extra spaces are ignored.
  assert.deepEqual(parseScopes(['  repository:a/b:pull   repository:c/d:pull ']).map((s) => s.name), ['a/b', 'c/d']);
});

test('empty action lists and malformed scopes', () => {
  assert.deepEqual(parseScopes(['repository:a/b:']), [{ type: 'repository', name: 'a/b', actions: [] }]);
  assert.deepEqual(parseScopes(['repository:a/b:pull,,push,']), [{ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }]);
  assert.deepEqual(parseScopes(['', ' ', 'repository', 'repository:a/b', 'nocolon']), []);
  assert.deepEqual(parseScopes([]), []);
});

test('at most 64 scopes are taken from a request', () => {
  const many = Array.from({ length: 100 }, (_, i) => `repository:p/r${i}:pull`).join(' ');
  const out = parseScopes([many]);
  assert.equal(out.length, 64);
  assert.equal(out[63].name, 'p/r63');
});
