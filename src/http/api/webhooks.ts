// /api/v2.0/projects/{project_name_or_id}/webhook/*: Harbor's webhook policy API (handler/webhook.go).
// Per-project RBAC on notification-policy: project admins (and system admins) all, maintainers read, others
// 403, anonymous 401, a project the caller cannot see 404. Deliveries are executions of the WEBHOOK/SLACK job
// types with the policy as vendor (services/webhook/webhook-delivery.ts), one task each.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { Policy } from '../../services/auth/rbac.ts';
import { SLACK_JOB, WEBHOOK_EVENT_TYPES, WEBHOOK_NOTIFY_TYPES, WEBHOOK_PAYLOAD_FORMATS, type WebhookPolicy } from '../../services/webhook/webhook-service.ts';
import type { Execution, Task } from '../../services/jobs/job-service.ts';
import { actorOf, plainJson, projectFor } from './artifact-access.ts';
import { rfc3339 } from '../../time.ts';
import { API_PREFIX, bodyObject, headerFlag, isoTime, pathId, queryOf, type ApiAuth, type ApiDeps } from './context.ts';
import { parsePage, parseQ, setPageHeaders } from './query.ts';
import { bool, CREATED, dateTime, EMPTY, int, obj, op, PAGED, pageQuery, str, TEXT } from './schemas.ts';

type Schema = Record<string, unknown>;

const TAG = 'webhook';
const P = { project_name_or_id: str('The name or id of the project (a name when X-Is-Resource-Name: true)') };
const PP = { ...P, webhook_policy_id: int('The ID of the webhook policy') };
const PE = { ...PP, execution_id: int('Execution ID') };
const PT = { ...PE, task_id: int('Task ID') };
const TARGET = obj({
  type: str('The webhook target notify type.'),
  address: str('The webhook target address.'),
  auth_header: str('The webhook auth header.'),
  skip_cert_verify: bool('Whether or not to skip cert verify.'),
  payload_format: str('The payload format of webhook, by default is Default for http type.'),
});
const POLICY_PROPS: Record<string, Schema> = {
  id: int('The webhook policy ID.'),
  name: str('The name of webhook policy.'),
  description: str('The description of webhook policy.'),
  project_id: int('The project ID of webhook policy.'),
  targets: { type: 'array', items: TARGET },
  event_types: { type: 'array', items: str() },
  creator: str('The creator of the webhook policy.'),
  creation_time: { ...dateTime, description: 'The create time of the webhook policy.' },
  update_time: { ...dateTime, description: 'The update time of the webhook policy.' },
  enabled: bool('Whether the webhook policy is enabled or not.'),
};
const POLICY = obj(POLICY_PROPS, 'The webhook policy object');
// The body is checked by the service (Harbor's messages); the schema only documents it.
const POLICY_BODY: Schema = { ...POLICY, description: 'Properties "targets" and "event_types" needed.' };
const LAST_TRIGGER = obj({
  policy_name: str('The webhook policy name.'),
  enabled: bool('The webhook policy status.'),
  event_type: str('The webhook event type.'),
  creation_time: { ...dateTime, description: 'The creation time of webhook policy.' },
  last_trigger_time: { ...dateTime, description: 'The last trigger time of webhook policy.' },
});
const EVENT_TYPES = obj({
  event_type: { type: 'array', items: str() },
  notify_type: { type: 'array', items: str() },
  payload_formats: { type: 'array', items: obj({ notify_type: str(), formats: { type: 'array', items: str() } }) },
});
const ATTRS = { type: 'object', additionalProperties: true };
const METRICS = obj({
  task_count: int(),
  success_task_count: int(),
  error_task_count: int(),
  pending_task_count: int(),
  running_task_count: int(),
  scheduled_task_count: int(),
  stopped_task_count: int(),
});
const EXECUTION = obj({ id: int(), vendor_type: str(), vendor_id: int(), status: str(), status_message: str(), metrics: METRICS, trigger: str(), extra_attrs: ATTRS, start_time: str(), end_time: str() });
const TASK = obj({ id: int(), execution_id: int(), status: str(), status_message: str(), run_count: int(), extra_attrs: ATTRS, start_time: str(), end_time: str(), creation_time: str(), update_time: str() });
const JOB = obj({ id: int(), policy_id: int(), event_type: str(), notify_type: str(), status: str(), job_detail: str(), creation_time: dateTime, update_time: dateTime });

// 409 (duplicate name) is what Harbor's DAO answers but its swagger does not list; documented as Harbor's.
const S = {
  list: op({ operationId: 'ListWebhookPoliciesOfProject', tag: TAG, summary: 'List project webhook policies.', params: P, query: pageQuery({ q: true, sort: true }), ok: { 200: PAGED(POLICY) }, errors: [400, 401, 403, 500] }),
  create: op({ operationId: 'CreateWebhookPolicyOfProject', tag: TAG, summary: 'Create project webhook policy.', params: P, body: POLICY_BODY, ok: { 201: CREATED }, errors: [400, 401, 403, 500] }),
  get: op({ operationId: 'GetWebhookPolicyOfProject', tag: TAG, summary: 'Get project webhook policy', params: PP, ok: { 200: POLICY }, errors: [400, 401, 403, 404, 500] }),
  update: op({ operationId: 'UpdateWebhookPolicyOfProject', tag: TAG, summary: 'Update webhook policy of a project.', params: PP, body: POLICY_BODY, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 500] }),
  remove: op({ operationId: 'DeleteWebhookPolicyOfProject', tag: TAG, summary: 'Delete webhook policy of a project', params: PP, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 500] }),
  executions: op({ operationId: 'ListExecutionsOfWebhookPolicy', tag: TAG, summary: 'List executions for a specific webhook policy', params: PP, query: pageQuery({ q: true, sort: true }), ok: { 200: PAGED(EXECUTION) }, errors: [400, 401, 403, 404, 500] }),
  tasks: op({ operationId: 'ListTasksOfWebhookExecution', tag: TAG, summary: 'List tasks for a specific webhook execution', params: PE, query: pageQuery({ q: true, sort: true }), ok: { 200: PAGED(TASK) }, errors: [400, 401, 403, 404, 500] }),
  log: op({ operationId: 'GetLogsOfWebhookTask', tag: TAG, summary: 'Get logs for a specific webhook task', params: PT, ok: { 200: TEXT('The log text') }, errors: [400, 401, 403, 404, 500] }),
  lastTrigger: op({ operationId: 'LastTrigger', tag: TAG, summary: 'Get project webhook policy last trigger info', params: P, ok: { 200: { type: 'array', items: LAST_TRIGGER } }, errors: [400, 401, 403, 500] }),
  jobs: op({
    operationId: 'ListWebhookJobs',
    tag: TAG,
    summary: 'List project webhook jobs',
    description: 'Deprecated: use ListExecutionsOfWebhookPolicy.',
    params: P,
    query: { ...pageQuery({ q: true, sort: true }), policy_id: { type: 'integer', format: 'int64', description: 'The policy ID.' }, status: { type: 'array', items: str(), description: 'The status of webhook job.' } },
    queryRequired: ['policy_id'],
    ok: { 200: PAGED(JOB) },
    errors: [400, 401, 403, 500],
  }),
  events: op({ operationId: 'GetSupportedEventTypes', tag: TAG, summary: 'Get supported event types and notify types.', params: P, ok: { 200: EVENT_TYPES }, errors: [401, 403, 500] }),
};

type Req = FastifyRequest<{ Params: { project_name_or_id: string; webhook_policy_id?: string; execution_id?: string; task_id?: string } }>;

const view = (p: WebhookPolicy) => ({
  id: p.id,
  name: p.name,
  description: p.description,
  project_id: p.projectId,
  targets: p.targets,
  event_types: p.eventTypes,
  creator: p.creator,
  creation_time: isoTime(p.createdAt),
  update_time: isoTime(p.updatedAt),
  enabled: p.enabled,
});

// Harbor formats execution and task times as RFC 3339 seconds; an unset end is Go's zero time.

const executionView = (e: Execution & { taskCounts: Record<string, number> }) => {
  const c = (s: string) => e.taskCounts[s] ?? 0;
  return {
    id: e.id,
    vendor_type: e.vendorType,
    vendor_id: e.vendorId,
    status: e.status,
    status_message: e.statusMessage,
    metrics: {
      task_count: Object.values(e.taskCounts).reduce((a, b) => a + b, 0),
      success_task_count: c('Success'),
      error_task_count: c('Error'),
      pending_task_count: c('Pending'),
      running_task_count: c('Running'),
      scheduled_task_count: c('Scheduled'),
      stopped_task_count: c('Stopped'),
    },
    trigger: e.trigger.toUpperCase(),
    extra_attrs: e.extraAttrs,
    start_time: rfc3339(e.startTime),
    end_time: rfc3339(e.endTime),
  };
};

const taskView = (t: Task) => ({
  id: t.id,
  execution_id: t.executionId,
  status: t.status,
  status_message: t.statusMessage,
  run_count: t.runCount,
  // Harbor's task extra_attrs; the delivery parameters (payload, sealed auth header) are not shown here.
  extra_attrs: { event_type: t.params.event_type, address: t.params.address, ...(t.lastError ? { last_error: t.lastError } : {}) },
  creation_time: rfc3339(t.creationTime),
  start_time: rfc3339(t.startTime),
  update_time: rfc3339(t.updateTime),
  end_time: rfc3339(t.endTime),
});

export async function webhookRoutes(app: FastifyInstance, deps: ApiDeps, auth: ApiAuth): Promise<void> {
  plainJson(app);
  const { webhooks } = deps;
  const access = (req: Req, action: 'read' | 'list' | 'create' | 'update' | 'delete') =>
    projectFor(deps, auth, req, req.params.project_name_or_id, `notification-policy:${action}` as Policy, headerFlag(req, 'X-Is-Resource-Name'));
  const policyId = (req: Req) => pathId(req.params.webhook_policy_id, 'webhook policy id');

  app.get('/projects/:project_name_or_id/webhook/policies', { schema: S.list }, async (req: Req, reply) => {
    const { project } = await access(req, 'list');
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), { name: { type: 'string', fuzzy: true } } as const);
    const name = where.name?.op === 'eq' ? { eq: String(where.name.value) } : where.name?.op === 'like' ? { like: String(where.name.value) } : {};
    const r = await webhooks.list(project.id, page.limit, page.offset, name);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(view);
  });

  app.post('/projects/:project_name_or_id/webhook/policies', { schema: S.create }, async (req: Req, reply) => {
    const { project, caller } = await access(req, 'create');
    const id = await webhooks.create(actorOf(caller), project.id, bodyObject(req));
    return reply.code(201).header('Location', `${API_PREFIX}/projects/${encodeURIComponent(req.params.project_name_or_id)}/webhook/policies/${id}`).send();
  });

  app.get('/projects/:project_name_or_id/webhook/policies/:webhook_policy_id', { schema: S.get }, async (req: Req) => {
    const { project } = await access(req, 'read');
    return view(await webhooks.get(project.id, policyId(req)));
  });

  app.put('/projects/:project_name_or_id/webhook/policies/:webhook_policy_id', { schema: S.update }, async (req: Req, reply) => {
    const { project, caller } = await access(req, 'update');
    await webhooks.update(actorOf(caller), project.id, policyId(req), bodyObject(req));
    return reply.code(200).send();
  });

  app.delete('/projects/:project_name_or_id/webhook/policies/:webhook_policy_id', { schema: S.remove }, async (req: Req, reply) => {
    const { project, caller } = await access(req, 'delete');
    await webhooks.remove(actorOf(caller), project.id, policyId(req));
    return reply.code(200).send();
  });

  app.get('/projects/:project_name_or_id/webhook/policies/:webhook_policy_id/executions', { schema: S.executions }, async (req: Req, reply) => {
    const { project } = await access(req, 'list');
    const page = parsePage(queryOf(req));
    const r = await webhooks.executions(project.id, policyId(req), page);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(executionView);
  });
  app.get('/projects/:project_name_or_id/webhook/policies/:webhook_policy_id/executions/:execution_id/tasks', { schema: S.tasks }, async (req: Req, reply) => {
    const { project } = await access(req, 'read');
    const page = parsePage(queryOf(req));
    const tasks = await webhooks.tasks(project.id, policyId(req), pathId(req.params.execution_id, 'execution id'));
    setPageHeaders(reply, req.raw.url ?? '', tasks.length, page);
    return tasks.slice(page.offset, page.offset + page.limit).map(taskView);
  });
  app.get('/projects/:project_name_or_id/webhook/policies/:webhook_policy_id/executions/:execution_id/tasks/:task_id/log', { schema: S.log }, async (req: Req, reply) => {
    const { project } = await access(req, 'read');
    const text = await webhooks.taskLog(project.id, policyId(req), pathId(req.params.execution_id, 'execution id'), pathId(req.params.task_id, 'task id'));
    return reply.type('text/plain; charset=utf-8').send(text);
  });

  app.get('/projects/:project_name_or_id/webhook/lasttrigger', { schema: S.lastTrigger }, async (req: Req) => {
    const { project } = await access(req, 'read');
    const rows = await webhooks.lastTriggers(project.id);
    return rows.map((r) => ({
      policy_name: r.policy.name,
      enabled: r.policy.enabled,
      event_type: r.eventType,
      creation_time: isoTime(r.policy.createdAt),
      // Harbor omits a zero time (never triggered).
      ...(r.lastTrigger !== null ? { last_trigger_time: isoTime(r.lastTrigger) } : {}),
    }));
  });

  // Deprecated in Harbor (jobs are executions now, one task each): the policy's executions in the old shape.
  app.get('/projects/:project_name_or_id/webhook/jobs', { schema: S.jobs }, async (req: Req, reply) => {
    const { project } = await access(req, 'list');
    const q = queryOf(req);
    const page = parsePage(q);
    const raw = q.get('policy_id');
    if (!raw || !/^[0-9]{1,15}$/.test(raw)) throw ApiErrors.badRequest('policy_id is required');
    // Harbor's `status` (an array, csv or repeated): only executions in one of them; none given = all.
    const status = q.getAll('status').flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
    const r = await webhooks.executions(project.id, Number(raw), page, status.length ? status : undefined);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map((e) => ({
      id: e.id,
      policy_id: e.vendorId,
      event_type: String(e.extraAttrs.event_type ?? ''),
      notify_type: e.vendorType === SLACK_JOB ? 'slack' : 'http',
      status: e.status,
      job_detail: String(e.extraAttrs.payload ?? ''),
      creation_time: isoTime(e.startTime),
      update_time: isoTime(e.updateTime),
    }));
  });

  app.get('/projects/:project_name_or_id/webhook/events', { schema: S.events }, async (req: Req) => {
    await access(req, 'read');
    return {
      event_type: [...WEBHOOK_EVENT_TYPES],
      notify_type: [...WEBHOOK_NOTIFY_TYPES],
      // Harbor: only http targets choose a payload format.
      payload_formats: [{ notify_type: 'http', formats: [...WEBHOOK_PAYLOAD_FORMATS] }],
    };
  });
}
