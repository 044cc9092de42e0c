// /api/v2.0/replication/policies and /replication/executions: Harbor's `replication` tag (handler/replication.go),
// system admins only. Executions and tasks are the job service's (vendor REPLICATION) in Harbor's shapes.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ReplicationService } from '../../services/replication/replication-service.ts';
import type { ReplicationPolicyRow } from '../../repositories/replication-policy-repository.ts';
import type { RegistryService } from '../../services/replication/registry-service.ts';
import type { Execution, Task } from '../../services/jobs/job-service.ts';
import { ApiErrors } from '../../errors.ts';
import { API_PREFIX, bodyObject, isoTime, pathId, queryOf, type ApiAuth } from './context.ts';
import { parsePage, setPageHeaders } from './query.ts';
import { registryView } from './registries.ts';
import { int, op, pageQuery, str } from './schemas.ts';

const TAG = 'replication';
const ID = { id: int('The ID') };
const S = {
  listPolicies: op({ operationId: 'listReplicationPolicies', tag: TAG, summary: 'List replication policies', query: { ...pageQuery({ q: true }), name: str('Deprecated, use `q` instead.') }, ok: {}, errors: [401, 403, 500] }),
  createPolicy: op({ operationId: 'createReplicationPolicy', tag: TAG, summary: 'Create a replication policy', ok: {}, errors: [400, 401, 403, 409, 500] }),
  getPolicy: op({ operationId: 'getReplicationPolicy', tag: TAG, summary: 'Get the specific replication policy', params: ID, ok: {}, errors: [401, 403, 500] }),
  updatePolicy: op({ operationId: 'updateReplicationPolicy', tag: TAG, summary: 'Update the replication policy', params: ID, ok: {}, errors: [400, 401, 403, 404, 409, 500] }),
  deletePolicy: op({ operationId: 'deleteReplicationPolicy', tag: TAG, summary: 'Delete the specific replication policy', params: ID, ok: {}, errors: [401, 403, 404, 412, 500] }),
  start: op({ operationId: 'startReplication', tag: TAG, summary: 'Start one replication execution', ok: {}, errors: [400, 401, 403, 500] }),
  listExecutions: op({ operationId: 'listReplicationExecutions', tag: TAG, summary: 'List replication executions', query: { ...pageQuery(), policy_id: int('The ID of the policy that the executions belong to.') }, ok: {}, errors: [401, 403, 500] }),
  getExecution: op({ operationId: 'getReplicationExecution', tag: TAG, summary: 'Get the specific replication execution', params: ID, ok: {}, errors: [401, 403, 404, 500] }),
  stop: op({ operationId: 'stopReplication', tag: TAG, summary: 'Stop the specific replication execution', params: ID, ok: {}, errors: [401, 403, 404, 500] }),
  tasks: op({ operationId: 'listReplicationTasks', tag: TAG, summary: 'List replication tasks for a specific execution', params: ID, query: pageQuery(), ok: {}, errors: [401, 403, 500] }),
  peer: op({ operationId: 'GetReplicationPeer', tag: TAG, summary: "This Berth's instance id (Berth extension, anti-entropy)", ok: {}, errors: [401, 403, 500] }),
  peerHashes: op({ operationId: 'ListReplicationPeerTagHashes', tag: TAG, summary: "Each repository's tag→digest hash (Berth extension, anti-entropy)", ok: {}, errors: [401, 403, 500] }),
  peerTags: op({ operationId: 'ListReplicationPeerTags', tag: TAG, summary: "A repository's tags with digests and push times (Berth extension, anti-entropy)", query: { repository: str('The full repository name') }, ok: {}, errors: [400, 401, 403, 500] }),
  log: op({ operationId: 'getReplicationLog', tag: TAG, summary: 'Get the log of the specific replication task', params: { id: int(), task_id: int() }, ok: {}, errors: [401, 403, 404, 500] }),
};

/** Harbor's execution statuses for replication (job service Running/Success/Error → InProgress/Succeed/Failed). */
const STATUS: Record<string, string> = { Pending: 'InProgress', Running: 'InProgress', Success: 'Succeed', Error: 'Failed', Stopped: 'Stopped' };
const TASK_STATUS: Record<string, string> = { Pending: 'Pending', Running: 'InProgress', Success: 'Succeed', Error: 'Failed', Stopped: 'Stopped' };
const TRIGGER: Record<string, string> = { manual: 'manual', schedule: 'scheduled', event: 'event_based' };

type Req = FastifyRequest<{ Params: { id?: string; task_id?: string } }>;

export async function replicationRoutes(app: FastifyInstance, deps: { replication: ReplicationService; registries: RegistryService }, auth: ApiAuth): Promise<void> {
  const { replication } = deps;
  const registry = async (id: number) => {
    if (id === 0) return null;
    const r = await deps.registries.get(id).catch(() => null);
    if (!r) return { id };
    return registryView(r);
  };
  const policyView = async (p: ReplicationPolicyRow) => ({
    id: p.id,
    name: p.name,
    description: p.description,
    src_registry: await registry(p.srcRegistryId),
    dest_registry: await registry(p.destRegistryId),
    dest_namespace: p.destNamespace,
    dest_namespace_replace_count: p.destNamespaceReplaceCount,
    trigger: p.trigger,
    filters: p.filters,
    replicate_deletion: p.replicateDeletion,
    deletion: p.replicateDeletion,
    override: p.override,
    enabled: p.enabled,
    speed: p.speed,
    copy_by_chunk: p.copyByChunk,
    single_active_replication: p.singleActiveReplication,
    // Berth extension (Harbor clients ignore it); absent in Harbor's one-way mode, as Harbor's shape has it.
    ...(p.mode ? { mode: p.mode } : {}),
    creation_time: isoTime(p.createdAt),
    update_time: isoTime(p.updatedAt),
  });
  const executionView = async (e: Execution) => ({
    id: e.id,
    policy_id: e.vendorId,
    status: STATUS[e.status] ?? e.status,
    status_text: e.statusMessage,
    trigger: TRIGGER[e.trigger] ?? e.trigger,
    start_time: isoTime(e.startTime),
    ...(e.endTime ? { end_time: isoTime(e.endTime) } : {}),
    ...(await replication.counts(e.id)),
  });
  const taskView = (t: Task) => {
    const p = t.params as { src_repo: string; dst_repo: string; digest: string; tags: string[]; operation: string };
    const ref = p.tags.length ? `[${p.tags.join(',')}]` : p.digest;
    return {
      id: t.id,
      execution_id: t.executionId,
      resource_type: 'artifact',
      src_resource: `${p.src_repo}:${ref}`,
      dst_resource: `${p.dst_repo}:${ref}`,
      job_id: String(t.id),
      status: TASK_STATUS[t.status] ?? t.status,
      operation: p.operation,
      start_time: isoTime(t.startTime ?? t.creationTime),
      ...(t.endTime ? { end_time: isoTime(t.endTime) } : {}),
    };
  };

  app.get('/replication/policies', { schema: S.listPolicies }, async (req, reply) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const qn = /^name=~?(.*)$/.exec(q.get('q') ?? '')?.[1];
    const r = await replication.listPolicies({ name: q.get('name') ?? qn ?? undefined, limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return Promise.all(r.items.map(policyView));
  });
  app.post('/replication/policies', { schema: S.createPolicy }, async (req, reply) => {
    const caller = await auth.sysadmin(req);
    const id = await replication.createPolicy(caller.username, bodyObject(req));
    return reply.code(201).header('Location', `${API_PREFIX}/replication/policies/${id}`).send();
  });
  app.get('/replication/policies/:id', { schema: S.getPolicy }, async (req: Req) => {
    await auth.sysadmin(req);
    return policyView(await replication.getPolicy(pathId(req.params.id)));
  });
  app.put('/replication/policies/:id', { schema: S.updatePolicy }, async (req: Req, reply) => {
    const caller = await auth.sysadmin(req);
    await replication.updatePolicy(caller.username, pathId(req.params.id), bodyObject(req));
    return reply.code(200).send();
  });
  app.delete('/replication/policies/:id', { schema: S.deletePolicy }, async (req: Req, reply) => {
    const caller = await auth.sysadmin(req);
    await replication.deletePolicy(caller.username, pathId(req.params.id));
    return reply.code(200).send();
  });
  app.post('/replication/executions', { schema: S.start }, async (req, reply) => {
    await auth.sysadmin(req);
    const id = Number(bodyObject(req).policy_id);
    if (!Number.isInteger(id) || id <= 0) throw ApiErrors.badRequest('invalid policy_id');
    const ex = await replication.start(id);
    return reply.code(201).header('Location', `${API_PREFIX}/replication/executions/${ex}`).send();
  });
  app.get('/replication/executions', { schema: S.listExecutions }, async (req, reply) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const pid = q.get('policy_id');
    const r = await replication.listExecutions({ policyId: pid ? Number(pid) : undefined, limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return Promise.all(r.items.map(executionView));
  });
  app.get('/replication/executions/:id', { schema: S.getExecution }, async (req: Req) => {
    await auth.sysadmin(req);
    return executionView(await replication.execution(pathId(req.params.id)));
  });
  app.put('/replication/executions/:id', { schema: S.stop }, async (req: Req, reply) => {
    await auth.sysadmin(req);
    await replication.stop(pathId(req.params.id));
    return reply.code(200).send();
  });
  app.get('/replication/executions/:id/tasks', { schema: S.tasks }, async (req: Req, reply) => {
    await auth.sysadmin(req);
    const tasks = await replication.tasks(pathId(req.params.id));
    const page = parsePage(queryOf(req));
    setPageHeaders(reply, req.raw.url ?? '', tasks.length, page);
    return tasks.slice(page.offset, page.offset + page.limit).map(taskView);
  });
  // Berth-to-Berth anti-entropy (docs/architecture.md): what a peer's cycle compares. System admins, as the rest.
  app.get('/replication/peer', { schema: S.peer }, async (req) => {
    await auth.sysadmin(req);
    return { instance_id: await replication.instanceId() };
  });
  app.get('/replication/peer/tag-hashes', { schema: S.peerHashes }, async (req) => {
    await auth.sysadmin(req);
    return replication.peerTagHashes();
  });
  app.get('/replication/peer/tags', { schema: S.peerTags }, async (req) => {
    await auth.sysadmin(req);
    const repo = queryOf(req).get('repository');
    if (!repo) throw ApiErrors.badRequest('the repository query parameter is required');
    return (await replication.peerTagStates(repo)).map((t) => ({ tag: t.tag, digest: t.digest, push_time: t.pushTime }));
  });
  app.get('/replication/executions/:id/tasks/:task_id/log', { schema: S.log }, async (req: Req, reply) => {
    await auth.sysadmin(req);
    const text = await replication.taskLog(pathId(req.params.id), pathId(req.params.task_id, 'task_id'));
    return reply.type('text/plain; charset=utf-8').send(text);
  });
}
