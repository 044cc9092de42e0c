// /api/v2.0 system endpoints: /ping, /health, /systeminfo, /systeminfo/volumes, /statistics, /search, and
// /api/version (outside /api/v2.0). Anonymous callers may ping, read health, the login-page part of systeminfo,
// and search public projects.
import { readFile } from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.ts';
import { ApiErrors } from '../../errors.ts';
import type { Visibility } from '../../repositories/project-repository.ts';
import type { AccessPolicy } from '../../services/auth/access-policy.ts';
import type { Principal } from '../../services/auth/principal.ts';
import type { ProjectService } from '../../services/project/project-service.ts';
import type { SystemService } from '../../services/system/system-service.ts';
import { queryOf, type ApiAuth } from './context.ts';
import { presentProject } from './presenters/project.ts';

/** Most projects and most repositories one search returns. */
const SEARCH_LIMIT = 100;

const ERRORS = { type: 'object', properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } };
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ERRORS]));
const s = { type: 'string' };
const b = { type: 'boolean' };
const i = { type: 'integer' };
const obj = (properties: Record<string, unknown>) => ({ type: 'object', properties });

const GENERAL_INFO = obj({
  banner_message: s,
  current_time: { type: 'string', format: 'date-time' },
  registry_url: s,
  external_url: s,
  auth_mode: s,
  primary_auth_mode: b,
  project_creation_restriction: s,
  self_registration: b,
  has_ca_root: b,
  harbor_version: s,
  registry_storage_provider_name: s,
  read_only: b,
  notification_enable: b,
  oidc_provider_name: s,
});
const STATISTIC = obj(
  Object.fromEntries(
    ['private_project_count', 'private_repo_count', 'public_project_count', 'public_repo_count', 'total_project_count', 'total_repo_count', 'total_storage_consumption'].map((k) => [k, i]),
  ),
);
const SEARCH = obj({
  project: {
    type: 'array',
    items: obj({
      project_id: i,
      owner_id: i,
      name: s,
      creation_time: s,
      update_time: s,
      deleted: b,
      togglable: b,
      current_user_role_id: i,
      current_user_role_ids: { type: ['array', 'null'], items: i },
      repo_count: i,
      metadata: { type: 'object', additionalProperties: s },
    }),
  },
  repository: {
    type: 'array',
    items: obj({ project_id: i, project_name: s, project_public: b, repository_name: s, pull_count: i, artifact_count: i }),
  },
});

/** The public base URL: configured, or derived from the request (as /v2 challenges do). */
function baseUrl(config: Config, req: FastifyRequest): string {
  if (config.http.externalUrl) return config.http.externalUrl;
  const proto = (req.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0].trim() || req.protocol;
  const host = String(req.headers.host ?? 'localhost').replace(/[^A-Za-z0-9.:\[\]-]/g, '');
  return `${proto === 'https' ? 'https' : 'http'}://${host}`;
}

export async function systemRoutes(
  app: FastifyInstance,
  deps: { config: Config; system: SystemService; policy: AccessPolicy; projects: ProjectService },
  auth: ApiAuth,
): Promise<void> {
  const { config, system, policy, projects } = deps;

  const visibility = async (caller: Principal): Promise<Visibility> =>
    caller.kind === 'user' && caller.sysadmin ? { all: true } : { all: false, memberOf: await policy.projectIdsOf(caller) };

  app.get(
    '/ping',
    {
      schema: {
        operationId: 'getPing',
        tags: ['ping'],
        summary: 'Ping Harbor to check if the API server is alive.',
        produces: ['text/plain'],
        response: { 200: { type: 'string' } },
      },
    },
    async (_req, reply) => reply.header('Content-Type', 'text/plain; charset=utf-8').send('Pong'),
  );

  app.get(
    '/health',
    {
      schema: {
        operationId: 'getHealth',
        tags: ['health'],
        summary: 'Check the status of Harbor components',
        response: {
          200: obj({ status: s, components: { type: 'array', items: obj({ name: s, status: s, error: s }) } }),
          ...errors(500),
        },
      },
    },
    async () => system.health(),
  );

  app.get(
    '/systeminfo',
    {
      schema: { operationId: 'getSystemInfo', tags: ['systeminfo'], summary: 'Get general system info', response: { 200: GENERAL_INFO, ...errors(500) } },
    },
    async (req) => {
      // A wrong password is still a 401 (as everywhere); anonymous callers get the login-page fields only.
      const caller = await auth.principal(req);
      return system.info(caller.kind === 'user', baseUrl(config, req));
    },
  );

  app.get(
    '/systeminfo/volumes',
    {
      schema: {
        operationId: 'getVolumes',
        tags: ['systeminfo'],
        summary: 'Get system volume info (total/free size).',
        response: { 200: obj({ storage: { type: 'array', items: obj({ total: i, free: i }) } }), ...errors(401, 403, 404, 500) },
      },
    },
    async (req) => {
      await auth.sysadmin(req);
      return { storage: [await system.volumes()] };
    },
  );

  app.get(
    '/systeminfo/getcert',
    {
      schema: { operationId: 'getCert', tags: ['systeminfo'], summary: 'Get default root certificate.', produces: ['application/octet-stream'], response: { ...errors(404, 500) } },
    },
    async (_req, reply) => {
      // Like Harbor: anyone may fetch the CA; a missing file is a 404 rather than an empty download.
      const path = config.http.caCertFile;
      let body: Buffer;
      try {
        if (!path) throw new Error('unset');
        body = await readFile(path);
      } catch {
        throw ApiErrors.notFound(`cert not found in path: ${path || '(http.ca_cert_file not configured)'}`);
      }
      return reply.header('content-type', 'application/octet-stream').header('content-disposition', 'attachment; filename=ca.crt').send(body);
    },
  );

  app.get(
    '/statistics',
    {
      schema: {
        operationId: 'getStatistic',
        tags: ['statistic'],
        summary: 'Get the statistic information about the projects and repositories',
        response: { 200: STATISTIC, ...errors(401, 500) },
      },
    },
    async (req) => {
      // Any authenticated caller (robots too: they see the public counts).
      const me = await auth.principal(req);
      if (me.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      return system.statistics(me.kind === 'user' && me.sysadmin ? { all: true } : { all: false, memberOf: await policy.projectIdsOf(me) });
    },
  );

  app.get(
    '/search',
    {
      schema: {
        operationId: 'search',
        tags: ['search'],
        summary: 'Search for projects and repositories',
        querystring: { type: 'object', properties: { q: { type: 'string', description: 'Search parameter for project and repository name.' } } },
        response: { 200: SEARCH, ...errors(500) },
      },
    },
    async (req) => {
      const caller = await auth.principal(req);
      const text = queryOf(req).get('q');
      if (text === null) throw ApiErrors.badRequest('q is required');
      if (text.length > 255) throw ApiErrors.badRequest('q is too long');
      const v = await visibility(caller);
      const where = text ? { name: { op: 'like' as const, value: text } } : {};
      const found = (await projects.list(v, { where, sort: [], limit: SEARCH_LIMIT, offset: 0 })).items;
      const repoCounts = await system.repositoryCounts(found.map((p) => p.id));
      const project = [];
      for (const p of found) {
        const roles = caller.kind === 'user' ? await policy.rolesIn(caller, p) : [];
        project.push(presentProject(p, { roles, repoCount: repoCounts.get(p.id) ?? 0, metadata: await projects.metadata(p) }));
      }
      const scope = v.all ? ({ all: true } as const) : { all: false as const, memberOf: v.memberOf };
      const repository = (await system.searchRepositories(scope, text, SEARCH_LIMIT)).map((r) => ({
        project_id: r.projectId,
        project_name: r.projectName,
        project_public: r.projectPublic,
        repository_name: r.name,
        pull_count: 0,
        artifact_count: r.artifactCount,
      }));
      return { project, repository };
    },
  );
}

/** GET /api/version (outside /api/v2.0): the API version Harbor's clients negotiate. */
export async function versionRoute(app: FastifyInstance): Promise<void> {
  app.get('/api/version', { schema: { hide: true, response: { 200: obj({ version: s }) } } }, async () => ({ version: 'v2.0' }));
}
