// /api/v2.0/retentions: Harbor's tag retention API (handler/retention.go), all 10 operations of the `Retention`
// swagger tag. Authenticated callers only; RBAC on tag-retention of the policy's project (read, create, update,
// delete, list; triggering and stopping need update). A missing policy is a 404 on GET and a 400 elsewhere, as
// Harbor's handler wraps the lookup error so.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { Policy } from '../../services/auth/rbac.ts';
import type { RetentionPolicyRow } from '../../repositories/retention-repository.ts';
import { parsePolicy, policyView, RETENTION_METADATA, type RetentionService } from '../../services/retention/retention-service.ts';
import { actorOf, plainJson, projectFor } from './artifact-access.ts';
import { API_PREFIX, bodyObject, pathId, queryOf, type ApiAuth, type ApiDeps } from './context.ts';
import { parsePage, setPageHeaders } from './query.ts';
import { bool, CREATED, EMPTY, int, mapOf, obj, op, pageQuery, str, TEXT } from './schemas.ts';

const TAG = 'Retention';
const SELECTOR = obj({ kind: str(), decoration: str(), pattern: str(), extras: str() });
const RULE = obj({
  id: int(),
  priority: int(),
  disabled: bool(),
  action: str(),
  template: str(),
  // Harbor declares object values but takes any JSON (the portal sends numbers).
  params: { type: 'object' },
  tag_selectors: { type: 'array', items: SELECTOR },
  scope_selectors: mapOf({ type: 'array', items: SELECTOR }),
});
const POLICY = obj({
  id: int(),
  algorithm: str(),
  rules: { type: 'array', items: RULE },
  trigger: obj({ kind: str(), settings: { type: 'object' }, references: { type: 'object' } }),
  scope: obj({ level: str(), ref: int() }),
});
const EXECUTION = obj({ id: int(), policy_id: int(), start_time: str(), end_time: str(), status: str(), trigger: str(), dry_run: bool() });
const TASK = obj({
  id: int(),
  execution_id: int(),
  repository: str(),
  job_id: str(),
  status: str(),
  status_code: int(),
  status_revision: int(),
  start_time: str(),
  end_time: str(),
  total: int(),
  retained: int(),
});
const META_SEL = obj({ display_text: str(), kind: str(), decorations: { type: 'array', items: str() } });
const METADATA = obj({
  templates: { type: 'array', items: obj({ rule_template: str(), display_text: str(), action: str(), params: { type: 'array', items: obj({ type: str(), unit: str(), required: bool() }) } }) },
  scope_selectors: { type: 'array', items: META_SEL },
  tag_selectors: { type: 'array', items: META_SEL },
});
const ID = { id: int('Retention ID.') };
const EID = { ...ID, eid: int('Retention execution ID.') };
const TID = { ...EID, tid: int('Retention execution task ID.') };
const LIST = (items: ReturnType<typeof obj>) => ({ type: 'array', items });
const S = {
  metadata: op({ operationId: 'getRentenitionMetadata', tag: TAG, summary: 'Get Retention Metadatas', ok: { 200: METADATA }, errors: [401, 500] }),
  create: op({ operationId: 'createRetention', tag: TAG, summary: 'Create Retention Policy', body: POLICY, ok: { 201: CREATED }, errors: [400, 401, 403, 500] }),
  get: op({ operationId: 'getRetention', tag: TAG, summary: 'Get Retention Policy', params: ID, ok: { 200: POLICY }, errors: [401, 403, 500] }),
  update: op({ operationId: 'updateRetention', tag: TAG, summary: 'Update Retention Policy', params: ID, body: POLICY, ok: { 200: EMPTY() }, errors: [401, 403, 500] }),
  remove: op({ operationId: 'deleteRetention', tag: TAG, summary: 'Delete Retention Policy', params: ID, ok: { 200: EMPTY() }, errors: [401, 403, 500] }),
  trigger: op({ operationId: 'triggerRetentionExecution', tag: TAG, summary: 'Trigger a Retention Execution', params: ID, body: obj({ dry_run: bool() }), ok: { 201: CREATED }, errors: [401, 403, 500] }),
  executions: op({ operationId: 'listRetentionExecutions', tag: TAG, summary: 'Get Retention executions', params: ID, query: pageQuery(), ok: { 200: LIST(EXECUTION) }, errors: [401, 403, 500] }),
  operate: op({ operationId: 'operateRetentionExecution', tag: TAG, summary: 'Stop a Retention execution', params: EID, body: obj({ action: str() }), ok: { 200: EMPTY() }, errors: [401, 403, 500] }),
  tasks: op({ operationId: 'listRetentionTasks', tag: TAG, summary: 'Get Retention tasks', params: EID, query: pageQuery(), ok: { 200: LIST(TASK) }, errors: [401, 403, 500] }),
  log: op({ operationId: 'getRetentionTaskLog', tag: TAG, summary: 'Get Retention job task log', params: TID, ok: { 200: TEXT('The task log (text/plain)') }, errors: [401, 403, 500] }),
};

type Req = FastifyRequest<{ Params: { id?: string; eid?: string; tid?: string } }>;
type Action = 'read' | 'create' | 'update' | 'delete' | 'list';

export async function retentionRoutes(app: FastifyInstance, deps: ApiDeps & { retention: RetentionService }, auth: ApiAuth): Promise<void> {
  plainJson(app);
  const { retention } = deps;
  const access = (req: Req, projectId: number, action: Action) => projectFor(deps, auth, req, String(projectId), `tag-retention:${action}` as Policy, false);
  /** The policy of the path and the caller's right on its project. */
  /** Harbor's Prepare: RequireAuthenticated (users and robots). */
  const authenticated = async (req: Req) => {
    if ((await auth.principal(req)).kind === 'anonymous') throw ApiErrors.unauthorized('unauthorized');
  };
  const policyFor = async (req: Req, action: Action, missing: 'notFound' | 'badRequest' = 'badRequest') => {
    await authenticated(req);
    const id = pathId(req.params.id, 'retention id');
    const row: RetentionPolicyRow | null = await retention.find(id);
    if (!row) throw missing === 'notFound' ? ApiErrors.notFound(`retention policy ${id} not found`) : ApiErrors.badRequest(`retention policy ${id} not found`);
    const { caller } = await access(req, row.projectId, action);
    return { row, caller };
  };

  app.get('/retentions/metadatas', { schema: S.metadata }, async (req: Req) => {
    await authenticated(req);
    return RETENTION_METADATA;
  });

  app.post('/retentions', { schema: S.create }, async (req: Req, reply) => {
    await authenticated(req);
    const policy = parsePolicy(bodyObject(req));
    // A scope naming no project is Harbor's 400, not a 404.
    if (!(await deps.projects.find(String(policy.scope.ref), false))) throw ApiErrors.badRequest(`invalid Project id ${policy.scope.ref}`);
    const { caller } = await access(req, policy.scope.ref, 'create');
    const id = await retention.create(actorOf(caller), policy);
    return reply.code(201).header('Location', `${API_PREFIX}/retentions/${id}`).send();
  });

  app.get('/retentions/:id', { schema: S.get }, async (req: Req) => {
    const { row } = await policyFor(req, 'read', 'notFound');
    return policyView(row);
  });

  app.put('/retentions/:id', { schema: S.update }, async (req: Req, reply) => {
    const policy = parsePolicy({ ...bodyObject(req), scope: { level: 'project', ref: 1 } });
    const { row, caller } = await policyFor(req, 'update');
    await retention.update(actorOf(caller), row, policy);
    return reply.code(200).send();
  });

  app.delete('/retentions/:id', { schema: S.remove }, async (req: Req, reply) => {
    const { row, caller } = await policyFor(req, 'delete');
    await retention.remove(actorOf(caller), row);
    return reply.code(200).send();
  });

  app.post('/retentions/:id/executions', { schema: S.trigger }, async (req: Req, reply) => {
    const { row, caller } = await policyFor(req, 'update');
    const body = bodyObject(req);
    if (body.dry_run !== undefined && typeof body.dry_run !== 'boolean') throw ApiErrors.badRequest('dry_run must be a boolean');
    const ex = await retention.trigger(actorOf(caller), row, body.dry_run === true);
    return reply.code(201).header('Location', `${API_PREFIX}/retentions/${row.id}/executions/${ex.id}`).send();
  });

  app.get('/retentions/:id/executions', { schema: S.executions }, async (req: Req, reply) => {
    const { row } = await policyFor(req, 'list');
    const page = parsePage(queryOf(req));
    const r = await retention.listExecutions(row, page);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items;
  });

  app.patch('/retentions/:id/executions/:eid', { schema: S.operate }, async (req: Req, reply) => {
    const body = bodyObject(req);
    if (body.action !== 'stop') throw ApiErrors.badRequest("action should be 'stop'");
    const { row } = await policyFor(req, 'update');
    await retention.stop(row, pathId(req.params.eid, 'execution id'));
    return reply.code(200).send();
  });

  app.get('/retentions/:id/executions/:eid/tasks', { schema: S.tasks }, async (req: Req, reply) => {
    const { row } = await policyFor(req, 'list');
    const page = parsePage(queryOf(req));
    const r = await retention.listTasks(row, pathId(req.params.eid, 'execution id'), page);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items;
  });

  app.get('/retentions/:id/executions/:eid/tasks/:tid', { schema: S.log }, async (req: Req, reply) => {
    const { row } = await policyFor(req, 'read');
    const text = await retention.taskLog(row, pathId(req.params.eid, 'execution id'), pathId(req.params.tid, 'task id'));
    return reply.code(200).header('Content-Type', 'text/plain; charset=utf-8').send(text);
  });
}
