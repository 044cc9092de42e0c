// Harbor's role model as data, in one place: project roles, the permission matrix of each role
// (`src/common/rbac/project/rbac_role.go`), what a public project gives everyone (`rbac_util.go`), and the
// system-scope resources a system admin holds (`src/common/rbac/const.go`). Everything else asks this module.
import type { RepositoryAction } from './principal.ts';

import type { RoleId } from '../../repositories/member-repository.ts';
export type { RoleId };
export const Roles = { ProjectAdmin: 1, Developer: 2, Guest: 3, Maintainer: 4, LimitedGuest: 5 } as const;
/** Harbor's role names, as the API shows them (`role_name`). */
export const ROLE_NAMES: Readonly<Record<RoleId, string>> = { 1: 'projectAdmin', 2: 'developer', 3: 'guest', 4: 'maintainer', 5: 'limitedGuest' };
export const ALL_ROLES: readonly RoleId[] = [1, 4, 2, 3, 5];
export const isRoleId = (v: unknown): v is RoleId => v === 1 || v === 2 || v === 3 || v === 4 || v === 5;

/** A `resource:action` pair, e.g. `repository:pull`. */
export type Policy = `${string}:${string}`;

const PA = Roles.ProjectAdmin;
const M = Roles.Maintainer;
const D = Roles.Developer;
const G = Roles.Guest;
const LG = Roles.LimitedGuest;

const expand = (resource: string, actions: string[]): Policy[] => actions.map((a) => `${resource}:${a}` as Policy);

/** Each row: the roles holding these policies. */
const MATRIX: ReadonlyArray<{ roles: readonly RoleId[]; policies: readonly Policy[] }> = [
  {
    roles: [PA, M, D, G, LG],
    policies: [
      'self:read',
      'quota:read',
      ...expand('repository', ['read', 'list', 'pull']),
      'configuration:read',
      'scan:read',
      'sbom:read',
      'scanner:read',
      ...expand('artifact', ['read', 'list']),
      'artifact-addition:read',
      'tag:list',
      'accessory:list',
    ],
  },
  { roles: [PA, M, D, G], policies: [...expand('member', ['read', 'list']), ...expand('label', ['read', 'list']), ...expand('robot', ['read', 'list'])] },
  {
    roles: [PA, M, D],
    policies: [
      ...expand('repository', ['create', 'update', 'push']),
      'artifact:create',
      'tag:create',
      ...expand('artifact-label', ['create', 'delete']),
      ...expand('export-cve', ['create', 'read', 'list']),
      ...expand('tag-retention', ['create', 'read', 'update', 'delete', 'list', 'operate']),
    ],
  },
  {
    roles: [PA, M],
    policies: [
      'metadata:read',
      ...expand('label', ['create', 'update', 'delete']),
      'repository:delete',
      'artifact:delete',
      'tag:delete',
      ...expand('immutable-tag', ['create', 'update', 'delete', 'list']),
      ...expand('notification-policy', ['read', 'list']),
      ...expand('scan', ['create', 'stop']),
      ...expand('sbom', ['create', 'stop']),
    ],
  },
  {
    roles: [PA],
    policies: [
      ...expand('self', ['update', 'delete']),
      ...expand('member', ['create', 'update', 'delete']),
      ...expand('metadata', ['create', 'update', 'delete']),
      'log:list',
      'configuration:update',
      ...expand('robot', ['create', 'update', 'delete']),
      ...expand('notification-policy', ['create', 'update', 'delete']),
      'scanner:create',
      ...expand('preheat-policy', ['create', 'read', 'update', 'delete', 'list']),
    ],
  },
];

/** What every caller, anonymous included, holds on a public project. */
export const PUBLIC_PROJECT_POLICIES: readonly Policy[] = [
  'self:read',
  ...expand('label', ['read', 'list']),
  ...expand('repository', ['list', 'pull']),
  'scan:read',
  'scanner:read',
  'tag:list',
  ...expand('artifact', ['read', 'list']),
  'artifact-addition:read',
  'accessory:list',
];

const BY_ROLE = new Map<RoleId, ReadonlySet<Policy>>(
  ALL_ROLES.map((r) => [r, new Set(MATRIX.filter((row) => row.roles.includes(r)).flatMap((row) => row.policies))]),
);
/** Everything any role holds: what a system admin holds on every project. */
export const ALL_PROJECT_POLICIES: ReadonlySet<Policy> = new Set(MATRIX.flatMap((row) => row.policies));

/** System-scope resources (sysadmin only; system robots later). */
export const SYSTEM_POLICIES: readonly Policy[] = [
  ...expand('audit-log', ['list']),
  ...expand('project', ['list', 'create']),
  ...expand('registry', ['create', 'read', 'update', 'delete', 'list']),
  ...expand('replication', ['create', 'read', 'update', 'delete', 'list']),
  ...expand('replication-policy', ['create', 'read', 'update', 'delete', 'list']),
  ...expand('replication-adapter', ['list']),
  ...expand('scan-all', ['create', 'read', 'update', 'stop']),
  ...expand('system-volumes', ['read']),
  ...expand('garbage-collection', ['create', 'read', 'update', 'stop', 'list']),
  ...expand('purge-audit', ['create', 'read', 'update', 'stop', 'list']),
  ...expand('jobservice-monitor', ['list', 'stop']),
  ...expand('scanner', ['create', 'read', 'update', 'delete', 'list']),
  ...expand('label', ['create', 'read', 'update', 'delete', 'list']),
  ...expand('security-hub', ['read', 'list']),
  ...expand('catalog', ['read']),
  ...expand('quota', ['read', 'update', 'list']),
  ...expand('user', ['create', 'read', 'update', 'delete', 'list']),
  ...expand('user-group', ['create', 'read', 'update', 'delete', 'list']),
  ...expand('ldap-user', ['create', 'list']),
  ...expand('robot', ['create', 'read', 'update', 'delete', 'list']),
];

/**
 * What a system robot may be granted at system scope (kind "system", namespace "/"): Harbor's system policies
 * of the robot permission provider (`rbac.NolimitProvider`, `src/common/rbac/const.go`), as GET /permissions lists.
 */
export const ROBOT_SYSTEM_GRANTABLE: readonly Policy[] = [
  'audit-log:list',
  ...expand('preheat-instance', ['read', 'create', 'delete', 'list', 'update']),
  ...expand('project', ['list', 'create']),
  ...expand('replication-policy', ['read', 'create', 'delete', 'list', 'update']),
  ...expand('replication', ['read', 'create', 'list']),
  'replication-adapter:list',
  ...expand('registry', ['read', 'create', 'delete', 'list', 'update']),
  ...expand('scan-all', ['read', 'update', 'stop', 'create']),
  'system-volumes:read',
  ...expand('garbage-collection', ['read', 'create', 'list', 'update', 'stop']),
  ...expand('purge-audit', ['read', 'create', 'list', 'update', 'stop']),
  ...expand('jobservice-monitor', ['list', 'stop']),
  ...expand('scanner', ['read', 'create', 'delete', 'list', 'update']),
  ...expand('label', ['read', 'create', 'delete', 'update']),
  ...expand('security-hub', ['read', 'list']),
  'catalog:read',
  ...expand('quota', ['read', 'list', 'update']),
  ...expand('robot', ['create', 'read', 'list', 'delete']),
  ...expand('user', ['create', 'read', 'update', 'list', 'delete']),
  ...expand('ldap-user', ['create', 'list']),
  ...expand('user-group', ['create', 'read', 'update', 'list', 'delete']),
];

export function rolePolicies(role: RoleId): ReadonlySet<Policy> {
  return BY_ROLE.get(role) ?? new Set();
}

/** The caller's policies on one project: sysadmin → all; else the union of the roles held, plus public grants. */
export function projectPolicies(opts: { sysadmin: boolean; roles: readonly RoleId[]; isPublic: boolean }): Set<Policy> {
  if (opts.sysadmin) return new Set(ALL_PROJECT_POLICIES);
  const out = new Set<Policy>(opts.isPublic ? PUBLIC_PROJECT_POLICIES : []);
  for (const r of opts.roles) for (const p of rolePolicies(r)) out.add(p);
  return out;
}

/** The registry actions the `repository` policies grant (pull/push/delete), as the token service hands them out. */
export function repositoryActionsOf(policies: ReadonlySet<Policy>): Set<RepositoryAction> {
  const out = new Set<RepositoryAction>();
  for (const a of ['pull', 'push', 'delete'] as const) if (policies.has(`repository:${a}`)) out.add(a);
  return out;
}

/** The role with the highest permission among several (Harbor's `current_user_role_id`): PA > M > D > G > LG. */
export function highestRole(roles: readonly RoleId[]): RoleId | 0 {
  for (const r of ALL_ROLES) if (roles.includes(r)) return r;
  return 0;
}
