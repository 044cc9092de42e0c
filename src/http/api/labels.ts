// /api/v2.0/labels: global labels (scope g, system admins write, any logged-in user reads) and project labels
// (scope p, the project's label policies). A project label the caller cannot see is a 404, never a 403.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { LabelRow, LabelSortField } from '../../repositories/label-repository.ts';
import { labelView } from '../../services/artifact/artifact-service.ts';
import type { LabelService } from '../../services/artifact/label-service.ts';
import type { Principal } from '../../services/auth/principal.ts';
import type { Policy } from '../../services/auth/rbac.ts';
import { actorOf, seesProject, CREATED, EMPTY, errs, LABEL_SCHEMA, PAGE_QS, paged, plainJson } from './artifact-access.ts';
import { API_PREFIX, bodyObject, pathId, queryOf, type ApiAuth, type ApiDeps } from './context.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';

type Req = FastifyRequest<{ Params: { label_id: string } }>;
const ID_PARAMS = { type: 'object', properties: { label_id: { type: 'integer' } }, required: ['label_id'] };
const LABEL_BODY = {
  type: 'object',
  properties: { name: { type: 'string' }, description: { type: 'string' }, color: { type: 'string' }, scope: { type: 'string' }, project_id: { type: 'integer' } },
};

export async function labelRoutes(app: FastifyInstance, deps: ApiDeps & { labels: LabelService }, auth: ApiAuth): Promise<void> {
  plainJson(app);
  const { labels, policy, projects } = deps;

  /** The caller's `label:<action>` on a project label's project; a project the caller cannot see is a 404. */
  const onProject = async (caller: Principal, projectId: number, action: 'read' | 'list' | 'create' | 'update' | 'delete') => {
    const project = await projects.find(String(projectId), false);
    const policies = project ? await policy.policiesOn(caller, project) : new Set<Policy>();
    if (!project || !seesProject(caller, policies)) {
      if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.notFound(`project ${projectId} not found`);
    }
    if (!policies.has(`label:${action}`)) {
      if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.forbidden(`label:${action} is not allowed on project ${project.name}`);
    }
  };
  /** A label the caller may act on: global (read: any user; write: sysadmin), or via its project. */
  const labelFor = async (req: Req, action: 'read' | 'update' | 'delete'): Promise<{ label: LabelRow; caller: Principal }> => {
    const caller = await auth.principal(req);
    const label = await labels.get(pathId(req.params.label_id, 'label id'));
    if (!label) {
      if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.notFound('label not found');
    }
    if (label.scope === 'g') {
      if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      if (action !== 'read' && !(caller.kind === 'user' && caller.sysadmin)) throw ApiErrors.forbidden('only system admins can change global labels');
    } else {
      try {
        await onProject(caller, label.projectId, action);
      } catch (err) {
        // Do not confirm that another project's label id exists.
        if (err instanceof Error && 'code' in err && (err as { code: string }).code === 'NOT_FOUND') throw ApiErrors.notFound('label not found');
        throw err;
      }
    }
    return { label, caller };
  };

  app.get(
    '/labels',
    {
      schema: {
        operationId: 'ListLabels',
        tags: ['label'],
        summary: 'List labels according to the query strings.',
        querystring: { type: 'object', properties: { ...PAGE_QS, name: { type: 'string' }, scope: { type: 'string' }, project_id: { type: 'integer' } } },
        response: { 200: paged(LABEL_SCHEMA), ...errs(400, 401, 500) },
      },
    },
    async (req, reply) => {
      const caller = await auth.principal(req);
      const q = queryOf(req);
      const page = parsePage(q);
      const scope = q.get('scope') || 'g';
      if (scope !== 'g' && scope !== 'p') throw ApiErrors.badRequest('scope must be g or p');
      const where = parseQ(q.get('q'), { name: { type: 'string', fuzzy: true } } as const);
      const sort = parseSort(q.get('sort'), ['name', 'id', 'creation_time', 'update_time'] as readonly LabelSortField[]);
      let projectId: number | undefined;
      if (scope === 'p') {
        const raw = q.get('project_id');
        if (!raw || !/^[0-9]{1,15}$/.test(raw)) throw ApiErrors.badRequest('project_id is required for project labels');
        projectId = Number(raw);
        await onProject(caller, projectId, 'list');
      } else if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      const name = q.get('name');
      const r = await labels.list(
        {
          scope,
          projectId: scope === 'p' ? projectId : 0,
          nameLike: name ? name.slice(0, 255) : where.name?.op === 'like' ? where.name.value : undefined,
          nameEq: where.name?.op === 'eq' ? String(where.name.value) : undefined,
        },
        sort,
        page.limit,
        page.offset,
      );
      setPageHeaders(reply, req.raw.url ?? '', r.total, page);
      return r.items.map(labelView);
    },
  );

  app.post(
    '/labels',
    {
      schema: {
        operationId: 'CreateLabel',
        tags: ['label'],
        summary: 'Post creates a label',
        body: LABEL_BODY,
        response: { 201: CREATED, ...errs(400, 401, 409, 415, 500) },
      },
    },
    async (req, reply) => {
      const caller = await auth.user(req);
      const b = bodyObject(req);
      const scope = b.scope ?? 'g';
      let projectId = 0;
      if (scope === 'g') {
        if (!caller.sysadmin) throw ApiErrors.forbidden('only system admins can create global labels');
      } else if (scope === 'p') {
        if (typeof b.project_id !== 'number' || !Number.isSafeInteger(b.project_id) || b.project_id < 1) throw ApiErrors.badRequest('project_id is required for project labels');
        projectId = b.project_id;
        await onProject(caller, projectId, 'create');
      } else throw ApiErrors.badRequest('scope must be g or p');
      const id = await labels.create(actorOf(caller), scope, projectId, b);
      return reply.code(201).header('Location', `${API_PREFIX}/labels/${id}`).send();
    },
  );

  app.get(
    '/labels/:label_id',
    {
      schema: {
        operationId: 'GetLabelByID',
        tags: ['label'],
        summary: 'Get the label specified by ID.',
        params: ID_PARAMS,
        response: { 200: LABEL_SCHEMA, ...errs(401, 404, 500) },
      },
    },
    async (req: Req) => labelView((await labelFor(req, 'read')).label),
  );

  app.put(
    '/labels/:label_id',
    {
      schema: {
        operationId: 'UpdateLabel',
        tags: ['label'],
        summary: 'Update the label properties.',
        params: ID_PARAMS,
        body: LABEL_BODY,
        response: { 200: EMPTY, ...errs(400, 401, 404, 409, 500) },
      },
    },
    async (req: Req, reply) => {
      const { label, caller } = await labelFor(req, 'update');
      await labels.update(actorOf(caller), label, bodyObject(req));
      return reply.send();
    },
  );

  app.delete(
    '/labels/:label_id',
    {
      schema: {
        operationId: 'DeleteLabel',
        tags: ['label'],
        summary: 'Delete the label specified by ID.',
        params: ID_PARAMS,
        response: { 200: EMPTY, ...errs(400, 401, 404, 500) },
      },
    },
    async (req: Req, reply) => {
      const { label, caller } = await labelFor(req, 'delete');
      await labels.remove(actorOf(caller), label);
      return reply.send();
    },
  );
}
