// /api/v2.0/users: local accounts (Harbor's UserResp / UserCreationReq / UserProfile / PasswordReq shapes).
// Only the documented fields of each body are read: anything else (sysadmin_flag, has_admin_role, role ids)
// in a create or profile body is ignored (CVE-2019-16097).
import type { FastifyInstance } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { User, UserField } from '../../repositories/user-repository.ts';
import { ALL_PROJECT_POLICIES, SYSTEM_POLICIES, type Policy } from '../../services/auth/rbac.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { API_PREFIX, bodyObject, isoTime, pathId, queryOf, type ApiAuth, type ApiDeps } from './index.ts';

export function userResp(u: User) {
  return {
    user_id: u.id,
    username: u.username,
    email: u.email ?? '',
    realname: u.realname,
    comment: u.comment,
    sysadmin_flag: u.sysadmin,
    admin_role_in_auth: false,
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

export async function userRoutes(app: FastifyInstance, deps: ApiDeps, auth: ApiAuth): Promise<void> {
  const { users, projects, policy, configs } = deps;

  app.post('/users', async (req, reply) => {
    const caller = await auth.principal(req);
    const isAdmin = caller.kind === 'user' && caller.sysadmin;
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

  app.get('/users', async (req, reply) => {
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

  // Harbor's member picker. Non-admins need the exact username and get no emails (CVE-2019-3990).
  app.get('/users/search', async (req, reply) => {
    const me = await auth.user(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const username = q.get('username');
    if (!username || username.length > 255) throw ApiErrors.badRequest('username is required');
    const where: Parameters<typeof users.list>[0]['where'] = { username: me.sysadmin ? { op: 'like', value: username } : { op: 'eq', value: username } };
    const r = await users.list({ where, sort: [{ field: 'username', desc: false }], limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map((u) => ({ user_id: u.id, username: u.username }));
  });

  app.get('/users/current', async (req) => {
    const me = await auth.user(req);
    return userResp(await users.get(me.id));
  });

  app.get('/users/current/permissions', async (req) => {
    const caller = await auth.principal(req);
    const q = queryOf(req);
    const scope = q.get('scope') ?? '/';
    const relative = q.get('relative') === 'true';
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

  app.get<{ Params: { id: string } }>('/users/:id', async (req) => {
    const id = pathId(req.params.id, 'user id');
    await selfOrAdmin(req, id);
    return userResp(await users.get(id));
  });

  app.put<{ Params: { id: string } }>('/users/:id', async (req, reply) => {
    const id = pathId(req.params.id, 'user id');
    const me = await selfOrAdmin(req, id);
    const b = bodyObject(req);
    await users.updateProfile(me.username, id, { email: b.email, realname: b.realname, comment: b.comment });
    return reply.send();
  });

  app.delete<{ Params: { id: string } }>('/users/:id', async (req, reply) => {
    const id = pathId(req.params.id, 'user id');
    const me = await auth.sysadmin(req);
    if (me.id === id) throw ApiErrors.forbidden('you cannot delete yourself');
    await users.remove(me.username, id);
    return reply.send();
  });

  app.put<{ Params: { id: string } }>('/users/:id/password', async (req, reply) => {
    const id = pathId(req.params.id, 'user id');
    const me = await selfOrAdmin(req, id);
    const b = bodyObject(req);
    // A sysadmin resets another user's password without the old one; everyone else, themselves included, needs it.
    await users.changePassword(me.username, id, b.old_password, b.new_password, me.sysadmin && me.id !== id);
    return reply.send();
  });

  app.put<{ Params: { id: string } }>('/users/:id/sysadmin', async (req, reply) => {
    const id = pathId(req.params.id, 'user id');
    const me = await auth.sysadmin(req);
    if (me.id === id) throw ApiErrors.forbidden('you cannot change your own sysadmin flag');
    await users.setSysadmin(me.username, id, bodyObject(req).sysadmin_flag);
    return reply.send();
  });
}
