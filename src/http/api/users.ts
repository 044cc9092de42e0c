// /api/v2.0/users: local accounts (Harbor's UserResp / UserCreationReq / UserProfile / PasswordReq shapes).
// Only the documented fields of each body are read: anything else (sysadmin_flag, has_admin_role, role ids)
// in a create or profile body is ignored (CVE-2019-16097).
import type { FastifyInstance } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { User, UserField } from '../../repositories/user-repository.ts';
import { ALL_PROJECT_POLICIES, ROBOT_SYSTEM_GRANTABLE, SYSTEM_POLICIES, type Policy } from '../../services/auth/rbac.ts';
import { ROBOT_GRANTABLE } from '../../services/auth/robot-service.ts';
import { parseGoBool, parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { bodyOf, bool, CREATED, dateTime, EMPTY, int, obj, op, PAGED, pageQuery, str } from './schemas.ts';
import { API_PREFIX, bodyObject, isoTime, pathId, queryOf, type ApiAuth, type ApiDeps } from './context.ts';

export function userResp(u: User) {
  return {
    user_id: u.id,
    username: u.username,
    email: u.email ?? '',
    realname: u.realname,
    // Harbor's UserResp.comment is omitempty: an empty comment is no key at all.
    ...(u.comment ? { comment: u.comment } : {}),
    sysadmin_flag: u.sysadmin,
    admin_role_in_auth: !!u.adminRoleInAuth,
    creation_time: isoTime(u.createdAt),
    update_time: isoTime(u.updatedAt),
  };
}

const USER_Q = { username: { type: 'string', fuzzy: true }, email: { type: 'string', fuzzy: true }, user_id: { type: 'int', union: true } } as const;
const USER_SORT: readonly UserField[] = ['username', 'email', 'user_id', 'creation_time'];

const policyList = (policies: Iterable<Policy>, prefix: string) =>
  [...policies].map((p) => {
    const i = p.lastIndexOf(':');
    return { resource: prefix + p.slice(0, i), action: p.slice(i + 1) };
  });

// ---- schemas (Harbor's UserResp, UserCreationReq, UserProfile, PasswordReq, UserSysAdminFlag, Permission)

const TAG = 'user';
const UID = { user_id: int('The ID of the user') };
const USER_RESP = obj({
  email: str(),
  realname: str(),
  comment: str(),
  user_id: { type: 'integer', format: 'int' },
  username: str(),
  sysadmin_flag: bool(),
  admin_role_in_auth: bool('indicate the admin privilege is grant by authenticator (LDAP), is always false unless it is the current login user'),
  creation_time: { ...dateTime, description: 'The creation time of the user.' },
  update_time: { ...dateTime, description: 'The update time of the user.' },
  oidc_user_meta: obj({
    id: { type: 'integer', format: 'int', description: 'the ID of the OIDC info record' },
    user_id: { type: 'integer', format: 'int', description: 'the ID of the user' },
    subiss: str('the concatenation of sub and issuer in the ID token'),
    secret: str('the secret of the OIDC user that can be used for CLI to push/pull artifacts'),
    creation_time: { ...dateTime, description: 'The creation time of the OIDC user info record.' },
    update_time: { ...dateTime, description: 'The update time of the OIDC user info record.' },
  }),
});
const PERMISSION = obj({ resource: str('The permission resoruce'), action: str('The permission action') });
const S = {
  createUser: op({
    operationId: 'createUser',
    tag: TAG,
    summary: 'Create a local user.',
    description: 'Creates a user (system admins, or anyone when self-registration is on). Only these fields are read: sysadmin_flag and role fields are ignored.',
    body: bodyOf('UserCreationReq', { email: str(), realname: str(), comment: str(), password: str(), username: str() }),
    ok: { 201: CREATED },
    errors: [400, 401, 403, 409, 500],
  }),
  listUsers: op({ operationId: 'listUsers', tag: TAG, summary: 'List users', query: pageQuery({ q: true, sort: true }), ok: { 200: PAGED(USER_RESP) }, errors: [401, 403, 500] }),
  searchUsers: op({
    operationId: 'searchUsers',
    tag: TAG,
    summary: 'Search users by username',
    query: { ...pageQuery(), username: str('Username for filtering results.') },
    queryRequired: ['username'],
    ok: { 200: PAGED(obj({ user_id: { type: 'integer', format: 'int', description: 'The ID of the user.' }, username: str() })) },
    errors: [401, 500],
  }),
  getCurrentUserInfo: op({ operationId: 'getCurrentUserInfo', tag: TAG, summary: 'Get current user info.', ok: { 200: USER_RESP }, errors: [401, 500] }),
  getCurrentUserPermissions: op({
    operationId: 'getCurrentUserPermissions',
    tag: TAG,
    summary: 'Get current user permissions.',
    query: { scope: str("The scope for the permission, e.g. /project/1"), relative: bool('If true, the resources in the response are relative to the scope') },
    ok: { 200: { type: 'array', items: PERMISSION } },
    errors: [401, 500],
  }),
  getUser: op({ operationId: 'getUser', tag: TAG, summary: "Get a user's profile.", params: UID, ok: { 200: USER_RESP }, errors: [401, 403, 404, 500] }),
  updateUserProfile: op({
    operationId: 'updateUserProfile',
    tag: TAG,
    summary: "Update user's profile.",
    params: UID,
    body: bodyOf('UserProfile', { email: str(), realname: str(), comment: str() }),
    ok: { 200: EMPTY() },
    errors: [400, 401, 403, 404, 500],
  }),
  deleteUser: op({ operationId: 'deleteUser', tag: TAG, summary: 'Mark a registered user as be removed.', params: UID, ok: { 200: EMPTY() }, errors: [401, 403, 404, 500] }),
  updateUserPassword: op({
    operationId: 'updateUserPassword',
    tag: TAG,
    summary: 'Change the password on a user that already exists.',
    params: UID,
    body: bodyOf('PasswordReq', { old_password: str('The user\'s existing password.'), new_password: str('New password for marking as to be updated.') }),
    ok: { 200: EMPTY() },
    errors: [400, 401, 403, 500],
  }),
  getPermissions: op({
    operationId: 'getPermissions',
    tag: 'permissions',
    summary: 'Get system or project level permissions info.',
    description:
      'The permissions a robot account can be granted (Harbor\'s robot permission catalog): project scope for system and project admins, system scope (namespace /) for system admins only.',
    ok: { 200: obj({ system: { type: 'array', items: PERMISSION }, project: { type: 'array', items: PERMISSION } }) },
    errors: [401, 403, 500],
  }),
  setCliSecret: op({
    operationId: 'setCliSecret',
    tag: TAG,
    summary: 'Set CLI secret for a user.',
    description:
      'The user themself or a system admin; only in oidc_auth mode (412 otherwise) and for users onboarded through OIDC. An empty secret generates one. The old secret stops working (within a minute on every process).',
    params: UID,
    body: bodyOf('OIDCCliSecretReq', { secret: str('The new secret') }),
    ok: { 200: EMPTY() },
    errors: [400, 401, 403, 404, 412, 500],
  }),
  setUserSysAdmin: op({
    operationId: 'setUserSysAdmin',
    tag: TAG,
    summary: 'Update a registered user to change to be an administrator of Harbor.',
    params: UID,
    body: bodyOf('UserSysAdminFlag', { sysadmin_flag: bool('true-admin, false-not admin.') }),
    ok: { 200: EMPTY() },
    errors: [401, 403, 404, 500],
  }),
};

export async function userRoutes(app: FastifyInstance, deps: ApiDeps, auth: ApiAuth): Promise<void> {
  const { users, projects, policy, configs, oidc } = deps;

  /** Harbor's UserResp, with oidc_user_meta in oidc_auth (the CLI secret only for the user themself). */
  const withOidc = async (u: User, self: boolean) => {
    const r: Record<string, unknown> = userResp(u);
    if (u.username !== 'admin' && (await configs.get('auth_mode')) === 'oidc_auth') {
      const meta = await oidc.userMeta(u.id, self);
      if (meta) r.oidc_user_meta = meta;
    }
    return r;
  };

  app.post('/users', { schema: S.createUser }, async (req, reply) => {
    const caller = await auth.principal(req);
    const isAdmin = caller.kind === 'user' && caller.sysadmin;
    // As Harbor: local accounts exist only in db_auth mode (ldap_auth creates them at the first login).
    if ((await configs.get('auth_mode')) !== 'db_auth') throw ApiErrors.forbidden('local users can be created only in db_auth mode');
    if (!isAdmin && !(await configs.get('self_registration'))) {
      if (caller.kind !== 'user') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.forbidden('only system admins can create users');
    }
    const b = bodyObject(req);
    const u = await users.create(caller.kind === 'user' ? caller.username : '', {
      username: b.username,
      password: b.password,
      email: b.email,
      realname: b.realname,
      comment: b.comment,
    });
    return reply.code(201).header('Location', `${API_PREFIX}/users/${u.id}`).send();
  });

  app.get('/users', { schema: S.listUsers }, async (req, reply) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), USER_Q);
    // Harbor's legacy filters
    for (const k of ['username', 'email'] as const) {
      const v = q.get(k);
      if (v) where[k] = { op: 'like', value: v.slice(0, 255) };
    }
    const r = await users.list({ where, sort: parseSort(q.get('sort'), USER_SORT), limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(userResp);
  });

  // Harbor's member picker: a partial (substring) match on the username for every logged-in user, as Harbor's
  // FuzzyMatchValue; only user_id and username are answered, never emails (CVE-2019-3990).
  app.get('/users/search', { schema: S.searchUsers }, async (req, reply) => {
    await auth.user(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const username = q.get('username');
    if (!username || username.length > 255) throw ApiErrors.badRequest('username is required');
    const where: Parameters<typeof users.list>[0]['where'] = { username: { op: 'like', value: username } };
    const r = await users.list({ where, sort: [{ field: 'username', desc: false }], limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map((u) => ({ user_id: u.id, username: u.username }));
  });

  app.get('/users/current', { schema: S.getCurrentUserInfo }, async (req) => {
    const me = await auth.user(req);
    return withOidc(await users.get(me.id), true);
  });

  // Harbor's robot permission catalog: system admins and project admins (of any project) only.
  app.get('/permissions', { schema: S.getPermissions }, async (req) => {
    const me = await auth.user(req);
    let allowed = me.sysadmin;
    if (!allowed) {
      for (const id of (await policy.projectIdsOf(me)).slice(0, 1000)) {
        const p = await projects.find(String(id), false);
        if (p && (await policy.can(me, p, 'robot:create'))) {
          allowed = true;
          break;
        }
      }
    }
    if (!allowed) throw ApiErrors.forbidden('only admins (system and project) can access permissions');
    // As Harbor: project admins never see the system permissions.
    return { system: me.sysadmin ? policyList([...ROBOT_SYSTEM_GRANTABLE].sort(), '') : [], project: policyList([...ROBOT_GRANTABLE].sort(), '') };
  });

  app.get('/users/current/permissions', { schema: S.getCurrentUserPermissions }, async (req) => {
    const caller = await auth.principal(req);
    const q = queryOf(req);
    const scope = q.get('scope') ?? '/';
    const relative = parseGoBool(q.get('relative') ?? '') === true;
    const m = /^\/project\/([0-9]{1,15})$/.exec(scope);
    if (m) {
      const p = await projects.find(m[1], false);
      if (!p) return [];
      const policies = await policy.policiesOn(caller, p);
      if (!policies.has('self:read')) return [];
      return policyList(policies, relative ? '' : `${scope}/`);
    }
    if (scope !== '/' && scope !== '') throw ApiErrors.badRequest('unsupported scope');
    if (caller.kind !== 'user') return [];
    if (caller.sysadmin) return policyList([...SYSTEM_POLICIES, ...ALL_PROJECT_POLICIES], relative ? '' : '/');
    return (await configs.get('project_creation_restriction')) === 'everyone' ? policyList(['project:create'], relative ? '' : '/') : [];
  });

  /** The user `id`, which the caller must be (or a sysadmin); 403 before revealing whether it exists. */
  const selfOrAdmin = async (req: Parameters<ApiAuth['user']>[0], id: number) => {
    const me = await auth.user(req);
    if (!me.sysadmin && me.id !== id) throw ApiErrors.forbidden('not allowed to access this user');
    return me;
  };

  app.get<{ Params: { user_id: number } }>('/users/:user_id', { schema: S.getUser }, async (req) => {
    const id = pathId(String(req.params.user_id), 'user id');
    const me = await selfOrAdmin(req, id);
    // An admin reading another user's profile does not get that user's CLI secret (Harbor shows it; Berth does not).
    return withOidc(await users.get(id), me.id === id);
  });

  app.put<{ Params: { user_id: number } }>('/users/:user_id', { schema: S.updateUserProfile }, async (req, reply) => {
    const id = pathId(String(req.params.user_id), 'user id');
    const me = await selfOrAdmin(req, id);
    const b = bodyObject(req);
    await users.updateProfile(me.username, id, { email: b.email, realname: b.realname, comment: b.comment });
    return reply.send();
  });

  app.delete<{ Params: { user_id: number } }>('/users/:user_id', { schema: S.deleteUser }, async (req, reply) => {
    const id = pathId(String(req.params.user_id), 'user id');
    const me = await auth.sysadmin(req);
    if (me.id === id) throw ApiErrors.forbidden('you cannot delete yourself');
    await users.remove(me.username, id);
    return reply.send();
  });

  app.put<{ Params: { user_id: number } }>('/users/:user_id/password', { schema: S.updateUserPassword }, async (req, reply) => {
    const id = pathId(String(req.params.user_id), 'user id');
    const me = await selfOrAdmin(req, id);
    const b = bodyObject(req);
    const source = (await users.get(id)).authSource;
    if (source === 'ldap') throw ApiErrors.forbidden('the password of an LDAP user is managed in the directory');
    // An OIDC user has no password here: the provider checks it, the CLI secret stands in for docker.
    if (source === 'oidc') throw ApiErrors.forbidden('the password of an OIDC user is managed by the OIDC provider');
    // A sysadmin resets another user's password without the old one; everyone else, themselves included, needs it.
    await users.changePassword(me.username, id, b.old_password, b.new_password, me.sysadmin && me.id !== id);
    return reply.send();
  });

  // Harbor's setCliSecret: 412 outside oidc_auth, then the user themself or a sysadmin.
  app.put<{ Params: { user_id: number } }>('/users/:user_id/cli_secret', { schema: S.setCliSecret }, async (req, reply) => {
    const id = pathId(String(req.params.user_id), 'user id');
    const mode = await configs.get('auth_mode');
    if (mode !== 'oidc_auth') {
      await selfOrAdmin(req, id);
      await users.get(id);
      throw ApiErrors.precondition(`unable to update CLI secret under authmode: ${mode}`);
    }
    const me = await selfOrAdmin(req, id);
    const b = req.body === undefined ? {} : bodyObject(req);
    const username = await oidc.setCliSecret(me.username, id, b.secret ?? '');
    await deps.auth.invalidateUser(username);
    return reply.send();
  });

  app.put<{ Params: { user_id: number } }>('/users/:user_id/sysadmin', { schema: S.setUserSysAdmin }, async (req, reply) => {
    const id = pathId(String(req.params.user_id), 'user id');
    const me = await auth.sysadmin(req);
    if (me.id === id) throw ApiErrors.forbidden('you cannot change your own sysadmin flag');
    await users.setSysadmin(me.username, id, bodyObject(req).sysadmin_flag);
    return reply.send();
  });
}
