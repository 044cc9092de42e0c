import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_PROJECT_POLICIES, PUBLIC_PROJECT_POLICIES, projectPolicies, repositoryActionsOf, rolePolicies, highestRole, Roles } from './rbac.ts';

const actions = (opts: Parameters<typeof projectPolicies>[0]) => [...repositoryActionsOf(projectPolicies(opts))].sort();

test('repository actions per role (Harbor rbac_role.go)', () => {
  assert.deepEqual(actions({ sysadmin: false, roles: [Roles.ProjectAdmin], isPublic: false }), ['delete', 'pull', 'push']);
  assert.deepEqual(actions({ sysadmin: false, roles: [Roles.Maintainer], isPublic: false }), ['delete', 'pull', 'push']);
  assert.deepEqual(actions({ sysadmin: false, roles: [Roles.Developer], isPublic: false }), ['pull', 'push']);
  assert.deepEqual(actions({ sysadmin: false, roles: [Roles.Guest], isPublic: false }), ['pull']);
  assert.deepEqual(actions({ sysadmin: false, roles: [Roles.LimitedGuest], isPublic: false }), ['pull']);
  assert.deepEqual(actions({ sysadmin: false, roles: [], isPublic: false }), []);
  assert.deepEqual(actions({ sysadmin: false, roles: [], isPublic: true }), ['pull']);
  assert.deepEqual(actions({ sysadmin: true, roles: [], isPublic: false }), ['delete', 'pull', 'push']);
});

test('several roles give the union', () => {
  const u = projectPolicies({ sysadmin: false, roles: [Roles.LimitedGuest, Roles.Developer], isPublic: false });
  for (const p of rolePolicies(Roles.Developer)) assert.ok(u.has(p), p);
  assert.ok(!u.has('member:create'));
  assert.equal(highestRole([Roles.LimitedGuest, Roles.Developer, Roles.Maintainer]), Roles.Maintainer);
  assert.equal(highestRole([]), 0);
});

test('the narrower roles hold subsets, and only ProjectAdmin manages members and metadata', () => {
  const chain = [Roles.ProjectAdmin, Roles.Maintainer, Roles.Developer, Roles.Guest, Roles.LimitedGuest];
  for (let i = 1; i < chain.length; i++) for (const p of rolePolicies(chain[i])) assert.ok(rolePolicies(chain[i - 1]).has(p), `${chain[i - 1]} lacks ${p}`);
  for (const p of ['member:create', 'member:update', 'member:delete', 'metadata:create', 'metadata:update', 'metadata:delete', 'self:update', 'self:delete'] as const) {
    assert.ok(rolePolicies(Roles.ProjectAdmin).has(p));
    for (const r of chain.slice(1)) assert.ok(!rolePolicies(r).has(p), `${r} must not hold ${p}`);
  }
  assert.ok(rolePolicies(Roles.Maintainer).has('metadata:read'));
  assert.ok(!rolePolicies(Roles.Developer).has('metadata:read'));
  assert.ok(!rolePolicies(Roles.LimitedGuest).has('member:list'));
  assert.ok(rolePolicies(Roles.Guest).has('member:list'));
  for (const p of PUBLIC_PROJECT_POLICIES) assert.ok(ALL_PROJECT_POLICIES.has(p), p);
  assert.ok(!PUBLIC_PROJECT_POLICIES.includes('repository:push'));
});
