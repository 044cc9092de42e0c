// /api/v2.0: Harbor's management API. JSON bodies, Harbor's error envelope, X-Request-Id, and HTTP Basic
// authentication (portal sessions come later). Handlers parse, authorize with AccessPolicy and call services.
import type { FastifyInstance } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import { csrfHook } from '../portal-session.ts';
import { robotRoutes } from './robots.ts';
import { logIfUnexpected, sendHarborError } from '../errors.ts';
import { userRoutes } from './users.ts';
import { projectRoutes } from './projects.ts';
import { gcRoutes } from './gc.ts';
import { purgeAuditRoutes } from './purge-audit.ts';
import { jobServiceRoutes } from './jobservice.ts';
import { quotaRoutes } from './quotas.ts';
import { repositoryRoutes } from './repositories.ts';
import { artifactRoutes } from './artifacts.ts';
import { labelRoutes } from './labels.ts';
import { registryRoutes } from './registries.ts';
import { replicationRoutes } from './replication.ts';
import { configurationRoutes } from './configurations.ts';
import { iconRoutes } from './icons.ts';
import { userGroupRoutes } from './usergroups.ts';
import { ldapRoutes } from './ldap.ts';
import { auditLogRoutes } from './audit-logs.ts';
import { webhookRoutes } from './webhooks.ts';
import { immutableRoutes } from './immutable.ts';
import { trustedKeyRoutes } from './trusted-keys.ts';
import { retentionRoutes } from './retention.ts';
import { systemRoutes, versionRoute } from './system.ts';
import { scannerRoutes } from './scanners.ts';
import { oidcRoutes } from './oidc.ts';
import { API_PREFIX, ApiAuth, type ApiDeps } from './context.ts';
import { parseGoBool } from './query.ts';

/**
 * Harbor decodes bodies with Go's encoding/json: an empty body with `Content-Type: application/json` is no body
 * (swagger clients send the header on DELETE and body-less POST/PUT), a `null` member is the same as an absent
 * one, and unknown members are ignored. `__proto__` members are dropped so a body can never reach a prototype.
 */
export function parseApiJson(text: string): unknown {
  if (text.trim() === '') return undefined;
  return JSON.parse(text, function (this: unknown, key: string, v: unknown) {
    if (key === '__proto__') return undefined;
    return v === null && this !== null && typeof this === 'object' && !Array.isArray(this) ? undefined : v;
  });
}


// Harbor's oidc_cli middleware: an OIDC user's CLI secret is accepted on the registry and on these API calls only
// (what docker, podman and replication need), never as a general API password.
const CLI_API: readonly [string, RegExp][] = [
  ['POST', /^\/api\/v2\.0\/projects$/],
  ['GET', /^\/api\/v2\.0\/(projects|systeminfo|labels)$/],
  ['GET', /^\/api\/v2\.0\/projects\/.*\/repositories(\/.*\/artifacts)?$/],
  ['DELETE', /^\/api\/v2\.0\/projects\/.*\/repositories\/.*\/artifacts\/.*\/tags\/.*$/],
];
const cliApiAllowed = (method: string, url: string): boolean => {
  const path = url.split('?')[0].replace(/\/+$/, '');
  return CLI_API.some(([m, re]) => m === method && re.test(path));
};

export async function apiRoutes(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const auth = new ApiAuth(
    deps.auth,
    deps.sessions,
    async (req, username) => cliApiAllowed(req.method, req.url) || !(await deps.oidc.handles(username)),
    // Harbor's idtoken middleware (oidc_auth only): an ID token of the provider as a bearer token.
    async (token) => {
      const u = await deps.oidc.userFromIdToken(token);
      return u ? { kind: 'user', id: u.id, username: u.username, sysadmin: u.sysadmin || !!u.adminRoleInAuth } : null;
    },
  );
  // X-Request-Id: set on every route by http/server.ts.
  // Cookie sessions: CSRF token echoed, unsafe methods without it refused (Basic-auth calls are not affected).
  app.addHook('onRequest', csrfHook(deps.sessions));
  // Wrong credentials are a 401 before the body is validated (a 400 would answer an unauthenticated caller).
  app.addHook('preValidation', async (req) => {
    if (req.headers.authorization) await auth.principal(req);
  });
  // NUL is in no name, id or filter value (and PostgreSQL refuses it in text parameters): refuse it up front.
  app.addHook('preHandler', async (req) => {
    if (/%00/.test(req.raw.url ?? '')) throw ApiErrors.badRequest('NUL is not allowed in the URL');
  });
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseApiJson(body as string));
    } catch {
      done(ApiErrors.badRequest('invalid JSON body'), undefined);
    }
  });
  // Query booleans as Go's strconv.ParseBool reads them (True, FALSE, 1, t …): normalized before the schema
  // validates them, only for parameters the route's schema declares boolean.
  app.addHook('preValidation', async (req) => {
    const props = (req.routeOptions.schema?.querystring as { properties?: Record<string, { type?: string }> } | undefined)?.properties;
    const query = req.query as Record<string, unknown> | undefined;
    if (!props || !query) return;
    for (const [k, v] of Object.entries(query)) {
      if (props[k]?.type !== 'boolean' || typeof v !== 'string') continue;
      const b = parseGoBool(v);
      if (b !== null) query[k] = String(b);
    }
  });
  app.setErrorHandler(async (err, req, reply) => {
    logIfUnexpected(req, err);
    return sendHarborError(reply, err);
  });
  // Response schemas document the API (openapi.ts); replies are plain JSON.stringify, so a schema can
  // never drop or coerce a field a Harbor client needs.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  await app.register(async (scope) => userRoutes(scope, deps, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => projectRoutes(scope, deps, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => robotRoutes(scope, deps, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => gcRoutes(scope, deps.jobs, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => purgeAuditRoutes(scope, deps.jobs, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => jobServiceRoutes(scope, { jobs: deps.jobs, policy: deps.policy }, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => quotaRoutes(scope, deps.quotas, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => repositoryRoutes(scope, { ...deps, ...deps.artifactDomain }, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => artifactRoutes(scope, { ...deps, ...deps.artifactDomain }, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => labelRoutes(scope, { ...deps, ...deps.artifactDomain }, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => immutableRoutes(scope, { ...deps, ...deps.artifactDomain }, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => trustedKeyRoutes(scope, { ...deps, trustedKeys: deps.trustedKeys }, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => registryRoutes(scope, deps.registries, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => retentionRoutes(scope, deps, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => replicationRoutes(scope, { replication: deps.replication, registries: deps.registries }, auth), { prefix: API_PREFIX });
  app.addHook('onClose', async () => deps.artifactDomain.pulls.close());
  await app.register(async (scope) => configurationRoutes(scope, deps.configs, auth), { prefix: API_PREFIX });
  await app.register(iconRoutes, { prefix: API_PREFIX });
  await app.register(async (scope) => auditLogRoutes(scope, { audit: deps.auditQueries, policy: deps.policy, projects: deps.projects }, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => systemRoutes(scope, { config: deps.config, system: deps.system, policy: deps.policy, projects: deps.projects }, auth), { prefix: API_PREFIX });
  await app.register(versionRoute);
  await app.register(async (scope) => userGroupRoutes(scope, deps.groups, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => ldapRoutes(scope, deps, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => oidcRoutes(scope, deps, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => webhookRoutes(scope, deps, auth), { prefix: API_PREFIX });
  await app.register(async (scope) => scannerRoutes(scope, { ...deps, ...deps.artifactDomain }, auth), { prefix: API_PREFIX });
}
