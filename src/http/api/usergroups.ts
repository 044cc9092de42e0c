// /api/v2.0/usergroups: Harbor's user groups (sysadmin; the search used by the member picker needs a login only).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { UserGroup, UserGroupField } from '../../repositories/user-group-repository.ts';
import type { UserGroupService } from '../../services/usergroup/user-group-service.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { API_PREFIX, bodyObject, pathId, queryOf, type ApiAuth } from './context.ts';

const ERRORS = { type: 'object', properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } };
// Only the statuses Harbor's swagger documents for each operation (test/contract checks it).
const errs = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ERRORS]));
const USER_GROUP = {
  type: 'object',
  properties: {
    id: { type: 'integer', description: 'The ID of the user group' },
    group_name: { type: 'string', description: 'The name of the user group' },
    group_type: { type: 'integer', description: 'The group type, 1 for LDAP group, 2 for HTTP group, 3 for OIDC group.' },
    ldap_group_dn: { type: 'string', description: 'The DN of the LDAP group if group type is 1 (LDAP group).' },
  },
};
const SEARCH_ITEM = { type: 'object', properties: { id: { type: 'integer' }, group_name: { type: 'string' }, group_type: { type: 'integer' } } };
const PAGE = {
  page: { type: 'integer', default: 1 },
  page_size: { type: 'integer', maximum: 100, default: 10 },
};
const ID_PARAMS = { type: 'object', properties: { group_id: { type: 'integer', description: 'Group ID' } }, required: ['group_id'] };
const GROUP_Q = {
  group_name: { type: 'string', fuzzy: true },
  group_type: { type: 'int', union: true },
  ldap_group_dn: { type: 'string' },
  id: { type: 'int', union: true },
} as const;
const GROUP_SORT: readonly UserGroupField[] = ['group_name', 'group_type', 'id'];

export const userGroupResp = (g: UserGroup) => ({ id: g.id, group_name: g.name, group_type: g.type, ldap_group_dn: g.ldapDn });

type IdReq = FastifyRequest<{ Params: { group_id: string | number } }>;

export async function userGroupRoutes(app: FastifyInstance, groups: UserGroupService, auth: ApiAuth): Promise<void> {
  app.get('/usergroups', {
    schema: {
      operationId: 'listUserGroups',
      tags: ['usergroup'],
      summary: 'Get all user groups information (sysadmin).',
      querystring: { type: 'object', properties: { ...PAGE, q: { type: 'string' }, sort: { type: 'string' }, ldap_group_dn: { type: 'string' }, group_name: { type: 'string' } } },
      response: { 200: { type: 'array', items: USER_GROUP }, ...errs(401, 403, 500) },
    },
  }, async (req, reply) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), GROUP_Q);
    const name = q.get('group_name');
    if (name) where.group_name = { op: 'like', value: name.slice(0, 255) };
    const dn = q.get('ldap_group_dn');
    if (dn) where.ldap_group_dn = { op: 'eq', value: dn.slice(0, 1024) };
    const r = await groups.list({ where, sort: parseSort(q.get('sort'), GROUP_SORT), limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(userGroupResp);
  });

  app.post('/usergroups', {
    schema: {
      operationId: 'createUserGroup',
      tags: ['usergroup'],
      summary: 'Create a user group (group_type 1 = LDAP with ldap_group_dn, checked in the directory; 2 = HTTP; 3 = OIDC).',
      body: { type: 'object', properties: { group_name: { type: 'string' }, group_type: { type: 'integer' }, ldap_group_dn: { type: 'string' } } },
      response: { 201: { type: 'null' }, ...errs(400, 401, 403, 409, 500) },
    },
  }, async (req, reply) => {
    const me = await auth.sysadmin(req);
    const b = bodyObject(req);
    const g = await groups.create(me.username, { group_name: b.group_name, group_type: b.group_type, ldap_group_dn: b.ldap_group_dn });
    return reply.code(201).header('Location', `${API_PREFIX}/usergroups/${g.id}`).send();
  });

  app.get('/usergroups/search', {
    schema: {
      operationId: 'searchUserGroups',
      tags: ['usergroup'],
      summary: 'Search groups by groupname (any logged-in user, for adding group members).',
      querystring: { type: 'object', properties: { ...PAGE, groupname: { type: 'string' } }, required: ['groupname'] },
      response: { 200: { type: 'array', items: SEARCH_ITEM }, ...errs(401, 500) },
    },
  }, async (req, reply) => {
    await auth.user(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const name = q.get('groupname');
    if (!name || name.length > 255) throw ApiErrors.badRequest('groupname is required');
    const r = await groups.list({ where: { group_name: { op: 'like', value: name } }, sort: [{ field: 'group_name', desc: false }], limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map((g) => ({ id: g.id, group_name: g.name, group_type: g.type }));
  });

  app.get('/usergroups/:group_id', {
    schema: { operationId: 'getUserGroup', tags: ['usergroup'], summary: 'Get user group information.', params: ID_PARAMS, response: { 200: USER_GROUP, ...errs(400, 401, 403, 404, 500) } },
  }, async (req: IdReq) => {
    await auth.sysadmin(req);
    return userGroupResp(await groups.get(pathId(String(req.params.group_id), 'group id')));
  });

  app.put('/usergroups/:group_id', {
    schema: {
      operationId: 'updateUserGroup',
      tags: ['usergroup'],
      summary: 'Update the name of a user group (type and DN cannot change).',
      params: ID_PARAMS,
      body: USER_GROUP,
      response: { 200: { type: 'null' }, ...errs(400, 401, 403, 404, 500) },
    },
  }, async (req: IdReq, reply) => {
    const me = await auth.sysadmin(req);
    await groups.rename(me.username, pathId(String(req.params.group_id), 'group id'), { group_name: bodyObject(req).group_name });
    return reply.send();
  });

  app.delete('/usergroups/:group_id', {
    schema: { operationId: 'deleteUserGroup', tags: ['usergroup'], summary: 'Delete a user group (and its project memberships).', params: ID_PARAMS, response: { 200: { type: 'null' }, ...errs(400, 401, 403, 500) } },
  }, async (req: IdReq, reply) => {
    const me = await auth.sysadmin(req);
    await groups.remove(me.username, pathId(String(req.params.group_id), 'group id'));
    return reply.send();
  });
}
