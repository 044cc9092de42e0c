// /api/v2.0 repositories: per project and global lists, get, description update, delete (with every artifact).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RepositoryField } from '../../repositories/artifact-query-repository.ts';
import type { RepositoryService } from '../../services/artifact/repository-service.ts';
import { actorOf, EMPTY, errs, PAGE_QS, paged, plainJson, projectFor, REPOSITORY_SCHEMA, repoParam } from './artifact-access.ts';
import { bodyObject, queryOf, type ApiAuth, type ApiDeps } from './context.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';

const REPO_Q = {
  name: { type: 'string', fuzzy: true, union: true },
  project_id: { type: 'int', union: true },
  creation_time: { type: 'int', range: true },
  update_time: { type: 'int', range: true },
} as const;
const REPO_SORT: readonly RepositoryField[] = ['name', 'creation_time', 'update_time', 'pull_count', 'id'];

type Req = FastifyRequest<{ Params: { project_name: string; repository_name: string } }>;
const PARAMS = {
  type: 'object',
  properties: { project_name: { type: 'string' }, repository_name: { type: 'string' } },
  required: ['project_name', 'repository_name'],
};

export async function repositoryRoutes(app: FastifyInstance, deps: ApiDeps & { repos: RepositoryService }, auth: ApiAuth): Promise<void> {
  plainJson(app);
  const { repos, policy } = deps;

  const listQuery = (req: FastifyRequest) => {
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), REPO_Q);
    return { page, query: { where, sort: parseSort(q.get('sort'), REPO_SORT), limit: page.limit, offset: page.offset } };
  };

  app.get(
    '/repositories',
    {
      schema: {
        operationId: 'listAllRepositories',
        tags: ['repository'],
        summary: 'List all authorized repositories',
        querystring: { type: 'object', properties: PAGE_QS },
        response: { 200: paged(REPOSITORY_SCHEMA), ...errs(400, 500) },
      },
    },
    async (req, reply) => {
      const caller = await auth.principal(req);
      const { page, query } = listQuery(req);
      const scope =
        caller.kind === 'user' && caller.sysadmin ? ({ all: true } as const) : { all: false as const, projectIds: await policy.projectIdsOf(caller) };
      const r = await repos.list(scope, query);
      setPageHeaders(reply, req.raw.url ?? '', r.total, page);
      return r.items;
    },
  );

  app.get(
    '/projects/:project_name/repositories',
    {
      schema: {
        operationId: 'listRepositories',
        tags: ['repository'],
        summary: 'List repositories',
        params: { type: 'object', properties: { project_name: { type: 'string' } }, required: ['project_name'] },
        querystring: { type: 'object', properties: PAGE_QS },
        response: { 200: paged(REPOSITORY_SCHEMA), ...errs(400, 401, 403, 404, 500) },
      },
    },
    async (req: FastifyRequest<{ Params: { project_name: string } }>, reply) => {
      const { project } = await projectFor(deps, auth, req, req.params.project_name, 'repository:list');
      const { page, query } = listQuery(req);
      query.where.project_id = { op: 'eq', value: project.id };
      const r = await repos.list({ all: true }, query);
      setPageHeaders(reply, req.raw.url ?? '', r.total, page);
      return r.items;
    },
  );

  app.get(
    '/projects/:project_name/repositories/:repository_name',
    {
      schema: {
        operationId: 'getRepository',
        tags: ['repository'],
        summary: 'Get repository',
        params: PARAMS,
        response: { 200: REPOSITORY_SCHEMA, ...errs(400, 401, 403, 404, 500) },
      },
    },
    async (req: Req) => {
      const { project } = await projectFor(deps, auth, req, req.params.project_name, 'repository:read');
      return repos.get(project, repoParam(req.params.repository_name));
    },
  );

  app.put(
    '/projects/:project_name/repositories/:repository_name',
    {
      schema: {
        operationId: 'updateRepository',
        tags: ['repository'],
        summary: 'Update repository',
        params: PARAMS,
        // Harbor's Repository: only `description` is applied; every other field is read-only and ignored.
        body: { type: 'object', properties: REPOSITORY_SCHEMA.properties },
        response: { 200: EMPTY, ...errs(400, 401, 403, 404, 500) },
      },
    },
    async (req: Req, reply) => {
      const { project, caller } = await projectFor(deps, auth, req, req.params.project_name, 'repository:update');
      await repos.updateDescription(actorOf(caller), project, repoParam(req.params.repository_name), bodyObject(req).description);
      return reply.send();
    },
  );

  app.delete(
    '/projects/:project_name/repositories/:repository_name',
    {
      schema: {
        operationId: 'deleteRepository',
        tags: ['repository'],
        summary: 'Delete repository',
        params: PARAMS,
        response: { 200: EMPTY, ...errs(400, 401, 403, 404, 412, 500) },
      },
    },
    async (req: Req, reply) => {
      const { project, caller } = await projectFor(deps, auth, req, req.params.project_name, 'repository:delete');
      await repos.remove(actorOf(caller), project, repoParam(req.params.repository_name));
      return reply.send();
    },
  );
}
