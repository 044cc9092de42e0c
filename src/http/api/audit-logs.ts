// /api/v2.0 audit logs: Harbor's legacy (/audit-logs, /projects/{project_name}/logs) and extended
// (/auditlog-exts, /projects/{project_name}/auditlog-exts, /auditlog-exts/events) views. System admins read
// everything; other users read the rows of the projects where they hold `log:list` (project admins), as Harbor
// does; anonymous callers get 401. Filters use Harbor's q syntax over allow-listed fields only.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { AuditLogField, AuditScope } from '../../repositories/audit-log-repository.ts';
import type { Condition } from '../../repositories/list-query.ts';
import { AUDIT_EVENT_TYPES, AuditLogService } from '../../services/audit/audit-log-service.ts';
import type { AccessPolicy } from '../../services/auth/access-policy.ts';
import type { ProjectService } from '../../services/project/project-service.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { pageQuery } from './schemas.ts';
import { queryOf, type ApiAuth } from './context.ts';

const AUDIT_Q = {
  operation: { type: 'string', union: true },
  resource: { type: 'string', fuzzy: true },
  resource_type: { type: 'string', union: true },
  username: { type: 'string', fuzzy: true },
  op_time: { type: 'string', range: true },
} as const;
const AUDIT_SORT: readonly AuditLogField[] = ['op_time', 'id', 'username', 'operation', 'resource_type', 'resource'];

/**
 * A q time value: `2006-01-02 15:04:05` or `2006-01-02T15:04:05Z` (UTC unless an offset is given), a date, or
 * epoch seconds. Returns epoch ms, or 400.
 */
export function parseTime(v: string | number, inclusiveEnd: boolean, field = 'op_time'): number {
  const s = String(v).trim();
  if (/^[0-9]{1,12}$/.test(s)) return Number(s) * 1000 + (inclusiveEnd ? 999 : 0);
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?))?(Z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) throw ApiErrors.badRequest(`${field} must be a time such as "2006-01-02 15:04:05"`);
  const t = Date.parse(`${m[1]}T${m[2] ?? '00:00:00'}${m[3] ?? 'Z'}`);
  if (Number.isNaN(t)) throw ApiErrors.badRequest(`${field} must be a valid time`);
  // A bound given to the second (or day) covers the whole second (or day) when it is the upper one.
  if (!inclusiveEnd || /\.\d/.test(m[2] ?? '')) return t;
  return t + (m[2] ? (m[2].length === 5 ? 59_999 : 999) : 86_399_999);
}

function timeCondition(c: Condition): Condition {
  if (c.op === 'range') return { op: 'range', min: c.min === null ? null : parseTime(c.min, false), max: c.max === null ? null : parseTime(c.max, true) };
  if (c.op === 'eq') return { op: 'range', min: parseTime(c.value, false), max: parseTime(c.value, true) };
  throw ApiErrors.badRequest('op_time accepts a time or a range [from~to]');
}

const ERRORS = { type: 'object', properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } } };
const errors = (...codes: number[]) => Object.fromEntries(codes.map((c) => [c, ERRORS]));
const PAGE_QUERY = {
  type: 'object',
  properties: {
    ...pageQuery(),
    q: { type: 'string', description: 'Query string: operation, resource (=~ fuzzy), resource_type, username, op_time=[from~to]' },
    sort: { type: 'string', description: `Sort by ${AUDIT_SORT.join(', ')} (prefix - for descending); default -op_time` },
  },
};
const dt = { type: 'string', format: 'date-time' };
const AUDIT_LOG = {
  type: 'object',
  properties: { id: { type: 'integer' }, username: { type: 'string' }, resource: { type: 'string' }, resource_type: { type: 'string' }, operation: { type: 'string' }, op_time: dt },
};
const AUDIT_LOG_EXT = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    username: { type: 'string' },
    resource: { type: 'string' },
    resource_type: { type: 'string' },
    operation: { type: 'string' },
    operation_description: { type: 'string' },
    operation_result: { type: 'boolean' },
    op_time: dt,
  },
};
const paged = (items: object) => ({
  type: 'array',
  items,
  headers: { 'X-Total-Count': { type: 'integer' }, Link: { type: 'string' } },
});
const PROJECT_PARAMS = { type: 'object', properties: { project_name: { type: 'string' } }, required: ['project_name'] };

type ProjectReq = FastifyRequest<{ Params: { project_name: string } }>;

export async function auditLogRoutes(app: FastifyInstance, deps: { audit: AuditLogService; policy: AccessPolicy; projects: ProjectService }, auth: ApiAuth): Promise<void> {
  const { audit, policy, projects } = deps;

  /** Sysadmin: everything; others: the projects where they hold log:list. */
  const globalScope = async (req: FastifyRequest): Promise<AuditScope> => {
    const me = await auth.principal(req);
    if (me.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
    if (me.kind === 'user' && me.sysadmin) return { all: true };
    // Users: their member projects; robots: the projects their grants name (a `*` grant is not expanded here).
    const candidates =
      me.kind === 'user' ? await policy.projectIdsOf(me) : me.permissions.flatMap((g) => (typeof g.namespace === 'number' ? [g.namespace] : []));
    const ids: number[] = [];
    for (const id of new Set(candidates)) {
      const p = await projects.find(String(id), false);
      if (p && (await policy.can(me, p, 'log:list'))) ids.push(p.id);
    }
    return { all: false, projectIds: ids };
  };

  /** The project in the path, on which the caller must hold log:list (401 anonymous, 404 unseen, 403 otherwise). */
  const projectScope = async (req: ProjectReq): Promise<AuditScope> => {
    const caller = await auth.principal(req);
    const project = await projects.find(req.params.project_name, true);
    const policies = project ? await policy.policiesOn(caller, project) : new Set();
    // Seen: the caller holds something there (a member, a public project, a robot with any grant on it).
    if (!project || policies.size === 0) {
      if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.notFound(`project ${req.params.project_name.slice(0, 255)} not found`);
    }
    if (!policies.has('log:list')) {
      if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.forbidden(`log:list is not allowed on project ${project.name}`);
    }
    return { all: false, projectIds: [project.id] };
  };

  const list = async (req: FastifyRequest, reply: FastifyReply, scope: AuditScope) => {
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), AUDIT_Q) as Partial<Record<AuditLogField, Condition>>;
    if (where.op_time) where.op_time = timeCondition(where.op_time);
    const sort = parseSort(q.get('sort'), AUDIT_SORT);
    const r = await audit.list(scope, { where, sort, limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items;
  };

  app.get(
    '/audit-logs',
    {
      schema: {
        operationId: 'listAuditLogs',
        tags: ['auditlog'],
        summary: 'Get recent logs of projects which the user is a member with project admin role, or return all audit logs for system admin user (deprecated)',
        querystring: PAGE_QUERY,
        response: { 200: paged(AUDIT_LOG), ...errors(400, 401, 500) },
      },
    },
    async (req, reply) => (await list(req, reply, await globalScope(req))).map(AuditLogService.legacy),
  );

  app.get(
    '/auditlog-exts',
    {
      schema: {
        operationId: 'listAuditLogExts',
        tags: ['auditlog'],
        summary: 'Get recent logs of the projects which the user is a member with project_admin role, or return all audit logs for system admin user',
        querystring: PAGE_QUERY,
        response: { 200: paged(AUDIT_LOG_EXT), ...errors(400, 401, 500) },
      },
    },
    async (req, reply) => (await list(req, reply, await globalScope(req))).map(AuditLogService.extended),
  );

  app.get(
    '/auditlog-exts/events',
    {
      schema: {
        operationId: 'listAuditLogEventTypes',
        tags: ['auditlog'],
        summary: 'Get all event types of audit log',
        response: { 200: { type: 'array', items: { type: 'object', properties: { event_type: { type: 'string' } } } }, ...errors(401, 403, 500) },
      },
    },
    async (req) => {
      await auth.sysadmin(req);
      return AUDIT_EVENT_TYPES.map((event_type) => ({ event_type }));
    },
  );

  app.get(
    '/projects/:project_name/logs',
    {
      schema: {
        operationId: 'getLogs',
        tags: ['project'],
        summary: 'Get recent logs of the projects (deprecated)',
        params: PROJECT_PARAMS,
        querystring: PAGE_QUERY,
        response: { 200: paged(AUDIT_LOG), ...errors(400, 401, 500) },
      },
    },
    async (req: ProjectReq, reply) => (await list(req, reply, await projectScope(req))).map(AuditLogService.legacy),
  );

  app.get(
    '/projects/:project_name/auditlog-exts',
    {
      schema: {
        operationId: 'getLogExts',
        tags: ['project'],
        summary: 'Get recent logs of the projects',
        params: PROJECT_PARAMS,
        querystring: PAGE_QUERY,
        response: { 200: paged(AUDIT_LOG_EXT), ...errors(400, 401, 500) },
      },
    },
    async (req: ProjectReq, reply) => (await list(req, reply, await projectScope(req))).map(AuditLogService.extended),
  );
}
