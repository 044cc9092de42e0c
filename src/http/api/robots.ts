// /api/v2.0/robots: Harbor's v2 robot accounts (Robot, RobotCreate, RobotCreated, RobotSec shapes), plus the
// project-scoped listing GET /projects/{project_name_or_id}/robots. Only the documented fields of a body are
// read; the rules (who may grant what) live in RobotService.
import type { FastifyInstance, FastifySchema } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { RobotField } from '../../repositories/robot-repository.ts';
import type { ProjectService } from '../../services/project/project-service.ts';
import type { AccessPolicy } from '../../services/auth/access-policy.ts';
import type { RobotService, RobotView } from '../../services/auth/robot-service.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { API_PREFIX, bodyObject, headerFlag, isoTime, pathId, queryOf, type ApiAuth } from './context.ts';

const ERRORS = { type: 'object', properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } };
// Only the statuses Harbor's swagger documents for each operation (test/contract checks it).
const errs = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ERRORS]));
const ACCESS = { type: 'object', properties: { resource: { type: 'string' }, action: { type: 'string' }, effect: { type: 'string' } } };
const PERMISSION = { type: 'object', properties: { kind: { type: 'string' }, namespace: { type: 'string' }, access: { type: 'array', items: ACCESS } } };
const ROBOT = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    description: { type: 'string' },
    secret: { type: 'string' },
    level: { type: 'string' },
    duration: { type: 'integer' },
    editable: { type: 'boolean' },
    disable: { type: 'boolean' },
    expires_at: { type: 'integer' },
    permissions: { type: 'array', items: PERMISSION },
    creator_type: { type: 'string' },
    creator_ref: { type: 'integer' },
    creation_time: { type: 'string', format: 'date-time' },
    update_time: { type: 'string', format: 'date-time' },
  },
};
const ROBOT_CREATE = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    description: { type: 'string' },
    secret: { type: 'string' },
    level: { type: 'string', enum: ['system', 'project'] },
    disable: { type: 'boolean' },
    duration: { type: 'integer' },
    permissions: { type: 'array', items: PERMISSION },
  },
};
const ROBOT_CREATED = {
  type: 'object',
  properties: { id: { type: 'integer' }, name: { type: 'string' }, secret: { type: 'string' }, creation_time: { type: 'string' }, expires_at: { type: 'integer' } },
};
const ID_PARAMS = { type: 'object', properties: { robot_id: { type: 'integer' } }, required: ['robot_id'] };
const LIST_QUERY = {
  type: 'object',
  properties: { q: { type: 'string' }, sort: { type: 'string' }, page: { type: 'integer' }, page_size: { type: 'integer' } },
};
/** A route schema with Harbor's operationId and tags (for the generated OpenAPI document). */
const doc = (s: Record<string, unknown>): FastifySchema => s;
// The service checks every field strictly (no coercion of "true" or "30"); schemas document the API.
const noValidation = () => () => true;

const ROBOT_Q = {
  Level: { type: 'string' },
  ProjectID: { type: 'int' },
  name: { type: 'string', fuzzy: true },
} as const;
const Q_FIELD: Record<keyof typeof ROBOT_Q, RobotField> = { Level: 'level', ProjectID: 'project_id', name: 'name' };
const ROBOT_SORT: readonly RobotField[] = ['name', 'id', 'creation_time', 'expires_at'];

/** Harbor's `Robot` (never the secret or its hash). expires_at is Unix seconds, -1 for never. */
export function robotResp(v: RobotView) {
  const r = v.robot;
  return {
    id: r.id,
    name: v.fullName,
    description: r.description,
    level: r.level,
    duration: r.duration,
    editable: true,
    disable: r.disabled,
    expires_at: r.expiresAt === -1 ? -1 : Math.floor(r.expiresAt / 1000),
    permissions: v.permissions,
    // Harbor 2.13+: who created the robot as the security context's kind ("local" user or "robot") and its id;
    // the name (`creator`) is not part of Harbor's Robot.
    creator_type: r.creatorType,
    creator_ref: r.creatorRef,
    creation_time: isoTime(r.createdAt),
    update_time: isoTime(r.updatedAt),
  };
}

function listQuery(q: URLSearchParams) {
  const page = parsePage(q);
  const parsed = parseQ(q.get('q'), ROBOT_Q);
  const where: Partial<Record<RobotField, NonNullable<(typeof parsed)[keyof typeof parsed]>>> = {};
  for (const [k, c] of Object.entries(parsed) as [keyof typeof ROBOT_Q, NonNullable<(typeof parsed)[keyof typeof parsed]>][]) where[Q_FIELD[k]] = c;
  return { page, query: { where, sort: parseSort(q.get('sort'), ROBOT_SORT), limit: page.limit, offset: page.offset } };
}

export async function robotRoutes(app: FastifyInstance, deps: { robots: RobotService; projects: ProjectService; policy: AccessPolicy }, auth: ApiAuth): Promise<void> {
  const { robots, projects } = deps;

  app.post('/robots', {
    schema: doc({ operationId: 'CreateRobot', tags: ['robot'], summary: 'Create a robot account (the secret is shown only in this response).', body: ROBOT_CREATE, response: { 201: ROBOT_CREATED, ...errs(400, 401, 403, 404, 500) } }),
    validatorCompiler: noValidation,
  }, async (req, reply) => {
    const caller = await auth.principal(req);
    const b = bodyObject(req);
    const { robot, fullName, secret } = await robots.create(caller, {
      name: b.name,
      description: b.description,
      secret: b.secret,
      level: b.level,
      disable: b.disable,
      duration: b.duration,
      permissions: b.permissions,
    });
    return reply
      .code(201)
      .header('Location', `${API_PREFIX}/robots/${robot.id}`)
      .header('Cache-Control', 'no-store')
      .send({ id: robot.id, name: fullName, secret, creation_time: isoTime(robot.createdAt), expires_at: robot.expiresAt === -1 ? -1 : Math.floor(robot.expiresAt / 1000) });
  });

  app.get('/robots', {
    schema: doc({ operationId: 'ListRobot', tags: ['robot'], summary: 'List robot accounts (q: Level, ProjectID, name; non-admins must give ProjectID).', querystring: LIST_QUERY, response: { 200: { type: 'array', items: ROBOT }, ...errs(400, 404, 500) } }),
    validatorCompiler: noValidation,
  }, async (req, reply) => {
    const caller = await auth.principal(req);
    const { page, query } = listQuery(queryOf(req));
    const r = await robots.list(caller, query);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(robotResp);
  });

  app.get<{ Params: { robot_id: string } }>('/robots/:robot_id', {
    schema: doc({ operationId: 'GetRobotByID', tags: ['robot'], summary: 'Get a robot account.', params: ID_PARAMS, response: { 200: ROBOT, ...errs(401, 403, 404, 500) } }),
    validatorCompiler: noValidation,
  }, async (req) => {
    const id = pathId(req.params.robot_id, 'robot id');
    return robotResp(await robots.get(await auth.principal(req), id));
  });

  app.put<{ Params: { robot_id: string } }>('/robots/:robot_id', {
    schema: doc({ operationId: 'UpdateRobot', tags: ['robot'], summary: 'Update description, duration, disable and permissions of a robot account.', params: ID_PARAMS, body: ROBOT, response: { 200: { type: 'null' }, ...errs(400, 401, 403, 404, 500) } }),
    validatorCompiler: noValidation,
  }, async (req, reply) => {
    const id = pathId(req.params.robot_id, 'robot id');
    const caller = await auth.principal(req);
    const b = bodyObject(req);
    await robots.update(caller, id, { description: b.description, disable: b.disable, duration: b.duration, permissions: b.permissions });
    return reply.send();
  });

  app.patch<{ Params: { robot_id: string } }>('/robots/:robot_id', {
    schema: doc({ operationId: 'RefreshSec', tags: ['robot'], summary: 'Refresh the secret of a robot account (empty secret: generate one).', params: ID_PARAMS, body: { type: 'object', properties: { secret: { type: 'string' } } }, response: { 200: { type: 'object', properties: { secret: { type: 'string' } } }, ...errs(400, 401, 403, 404, 500) } }),
    validatorCompiler: noValidation,
  }, async (req, reply) => {
    const id = pathId(req.params.robot_id, 'robot id');
    const caller = await auth.principal(req);
    const secret = await robots.refreshSecret(caller, id, bodyObject(req).secret);
    return reply.header('Cache-Control', 'no-store').send({ secret });
  });

  app.delete<{ Params: { robot_id: string } }>('/robots/:robot_id', {
    schema: doc({ operationId: 'DeleteRobot', tags: ['robot'], summary: 'Delete a robot account.', params: ID_PARAMS, response: { 200: { type: 'null' }, ...errs(400, 401, 403, 404, 500) } }),
    validatorCompiler: noValidation,
  }, async (req, reply) => {
    const id = pathId(req.params.robot_id, 'robot id');
    await robots.remove(await auth.principal(req), id);
    return reply.send();
  });

  // Harbor's project-scoped listing (the v1 API's path), answering v2 Robot objects.
  app.get<{ Params: { ref: string } }>('/projects/:ref/robots', {
    schema: doc({
      operationId: 'ListProjectRobots',
      tags: ['robot'],
      summary: "List the robot accounts of a project (robot:list on it).",
      params: { type: 'object', properties: { ref: { type: 'string' } } },
      querystring: LIST_QUERY,
      response: { 200: { type: 'array', items: ROBOT }, ...errs(400, 401, 403, 404, 500) },
    }),
    validatorCompiler: noValidation,
  }, async (req, reply) => {
    const caller = await auth.principal(req);
    if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
    const project = await projects.find(req.params.ref, headerFlag(req, 'X-Is-Resource-Name'));
    if (!project || !(await deps.policy.can(caller, project, 'self:read'))) throw ApiErrors.notFound(`project ${req.params.ref.slice(0, 255)} not found`);
    const { page, query } = listQuery(queryOf(req));
    const r = await robots.listOfProject(caller, project, query);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(robotResp);
  });
}
