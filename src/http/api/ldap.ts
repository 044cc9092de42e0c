// /api/v2.0/ldap: ping the directory, search users and groups, import users (sysadmin only).
import type { FastifyInstance } from 'fastify';
import type { LdapService } from '../../services/ldap/ldap-service.ts';
import type { LdapAuthenticator } from '../../services/ldap/ldap-authenticator.ts';
import { ApiErrors } from '../../errors.ts';
import { bodyObject, queryOf, type ApiAuth } from './context.ts';

const ERRORS = { type: 'object', properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } };
const errs = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ERRORS]));
const LDAP_CONF = {
  type: 'object',
  properties: {
    ldap_url: { type: 'string' },
    ldap_search_dn: { type: 'string' },
    ldap_search_password: { type: 'string', description: 'Omitted: the stored password, for the stored URL and search DN only' },
    ldap_base_dn: { type: 'string' },
    ldap_filter: { type: 'string' },
    ldap_uid: { type: 'string' },
    ldap_scope: { type: 'integer' },
    ldap_connection_timeout: { type: 'integer' },
    ldap_verify_cert: { type: 'boolean' },
  },
};
const LDAP_USER = { type: 'object', properties: { username: { type: 'string' }, realname: { type: 'string' }, email: { type: 'string' } } };
const LDAP_GROUP = { type: 'object', properties: { group_name: { type: 'string' }, group_type: { type: 'integer' }, ldap_group_dn: { type: 'string' } } };
const FAILED = { type: 'array', items: { type: 'object', properties: { uid: { type: 'string' }, error: { type: 'string' } } } };

export async function ldapRoutes(app: FastifyInstance, deps: { ldap: LdapService; ldapAuth: LdapAuthenticator }, auth: ApiAuth): Promise<void> {
  const { ldap, ldapAuth } = deps;

  app.post('/ldap/ping', {
    schema: {
      operationId: 'pingLdap',
      tags: ['Ldap'],
      summary: 'Ping the LDAP service with the given settings, or the stored ones when the body is empty.',
      body: LDAP_CONF,
      response: { 200: { type: 'object', properties: { success: { type: 'boolean' }, message: { type: 'string' } } }, ...errs(400, 401, 403, 500) },
    },
    // Types are checked strictly by the service; the schema documents the body.
    validatorCompiler: () => () => true,
  }, async (req) => {
    await auth.sysadmin(req);
    const b = req.body === undefined || req.body === null || req.body === '' ? null : bodyObject(req);
    return ldap.ping(b);
  });

  app.get('/ldap/users/search', {
    schema: {
      operationId: 'searchLdapUser',
      tags: ['Ldap'],
      summary: 'Search the LDAP users whose uid attribute equals username.',
      querystring: { type: 'object', properties: { username: { type: 'string' } } },
      response: { 200: { type: 'array', items: LDAP_USER }, ...errs(400, 401, 403, 500) },
    },
  }, async (req) => {
    await auth.sysadmin(req);
    const users = await ldap.searchUsers(queryOf(req).get('username') ?? '');
    return users.map((u) => ({ username: u.username, realname: u.realname, email: u.email }));
  });

  app.post('/ldap/users/import', {
    schema: {
      operationId: 'importLdapUser',
      tags: ['Ldap'],
      summary: 'Create local users for the given LDAP uids; 404 with the list of the ones that failed.',
      body: { type: 'object', properties: { ldap_uid_list: { type: 'array', items: { type: 'string' } } }, required: ['ldap_uid_list'] },
      response: { 200: { type: 'null' }, 404: FAILED, ...errs(400, 401, 403, 500) },
    },
    validatorCompiler: () => () => true,
  }, async (req, reply) => {
    const me = await auth.sysadmin(req);
    const failed = await ldapAuth.importUsers(me.username, bodyObject(req).ldap_uid_list);
    if (failed.length) return reply.code(404).send(failed);
    return reply.send();
  });

  app.get('/ldap/groups/search', {
    schema: {
      operationId: 'searchLdapGroup',
      tags: ['Ldap'],
      summary: 'Search LDAP groups by name (group attribute) or by DN.',
      querystring: { type: 'object', properties: { groupname: { type: 'string' }, groupdn: { type: 'string' } } },
      response: { 200: { type: 'array', items: LDAP_GROUP }, ...errs(400, 401, 403, 500) },
    },
  }, async (req) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const name = q.get('groupname') ?? '';
    const dn = q.get('groupdn') ?? '';
    if (!name && !dn) throw ApiErrors.badRequest('groupname or groupdn is required');
    const groups = await ldap.searchGroups(name, dn);
    return groups.map((g) => ({ group_name: g.name, group_type: 1, ldap_group_dn: g.dn }));
  });
}
