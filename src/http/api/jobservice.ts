// /api/v2.0/jobservice and /api/v2.0/schedules: Harbor's job service monitor (worker pools, workers, queues
// with stop/pause/resume, stop a running job, a job's log) and the schedule list. Authorized on the system
// resource jobservice-monitor (list for reads, stop for actions): system admins, and system robots granted it;
// GET /schedules/all/paused only needs a login, as in Harbor.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { Policy } from '../../services/auth/rbac.ts';
import type { AccessPolicy } from '../../services/auth/access-policy.ts';
import { ALL, type JobService, type QueueAction, type Worker, type WorkerPool } from '../../services/jobs/job-service.ts';
import { isoTime, queryOf, type ApiAuth } from './context.ts';
import { parsePage, setPageHeaders } from './query.ts';
import { bodyOf, bool, dateTime, EMPTY, int, obj, op, PAGED, pageQuery, str, TEXT } from './schemas.ts';

const WORKER_POOL = obj({
  pid: int('the process id of jobservice'),
  worker_pool_id: str('the id of the worker pool'),
  start_at: { ...dateTime, description: 'The start time of the work pool' },
  heartbeat_at: { ...dateTime, description: 'The heartbeat time of the work pool' },
  concurrency: int('The concurrency of the work pool'),
  host: str('The host of the work pool'),
});
const WORKER = obj({
  id: str('the id of the worker'),
  pool_id: str('the id of the worker pool'),
  job_name: str('the name of the running job in the worker'),
  job_id: str('the id of the running job in the worker'),
  start_at: { ...dateTime, description: 'The start time of the worker' },
  check_in: str('the checkin of the running job in the worker'),
  checkin_at: { ...dateTime, description: 'The checkin time of the worker' },
});
const JOB_QUEUE = obj({
  job_type: str('The type of the job queue'),
  count: int('The count of jobs in the job queue'),
  latency: int('The latency the job queue (seconds)'),
  paused: bool('The paused status of the job queue'),
});
const SCHEDULE_TASK = obj({
  id: int('the id of the Schedule task'),
  vendor_type: str('the vendor type of the current schedule task'),
  vendor_id: int('the vendor id of the current task'),
  cron: str('the cron of the current schedule task'),
  update_time: { ...dateTime, description: 'the update time of the schedule task' },
});
// The action is checked by the handler (Harbor's 400 "the action is not supported"), not by an enum here.
const ACTION_REQUEST = bodyOf('ActionRequest', { action: str('The action of the request, should be stop, pause or resume') });

const pathString = (name: string, description: string) => ({ [name]: { type: 'string', description } });

const S = {
  pools: op({ operationId: 'getWorkerPools', tag: 'jobservice', summary: 'Get worker pools', ok: { 200: { type: 'array', items: WORKER_POOL } }, errors: [401, 403, 500] }),
  workers: op({
    operationId: 'getWorkers',
    tag: 'jobservice',
    summary: 'Get workers',
    params: pathString('pool_id', "The name of the pool. 'all' stands for all pools"),
    ok: { 200: { type: 'array', items: WORKER } },
    errors: [401, 403, 404, 500],
  }),
  stop: op({ operationId: 'stopRunningJob', tag: 'jobservice', summary: 'Stop running job', params: pathString('job_id', 'The id of the job.'), ok: { 200: EMPTY() }, errors: [401, 403, 404, 500] }),
  log: op({
    operationId: 'actionGetJobLog',
    tag: 'jobservice',
    summary: 'Get job log by job id',
    params: pathString('job_id', 'The id of the job.'),
    ok: { 200: TEXT('The job log (text/plain)') },
    errors: [401, 403, 404, 500],
  }),
  queues: op({ operationId: 'listJobQueues', tag: 'jobservice', summary: 'list job queues', ok: { 200: { type: 'array', items: JOB_QUEUE } }, errors: [401, 403, 404, 500] }),
  action: op({
    operationId: 'actionPendingJobs',
    tag: 'jobservice',
    summary: 'stop and clean, pause, resume pending jobs in the queue',
    params: pathString('job_type', "The type of the job. 'all' stands for all job types"),
    body: ACTION_REQUEST,
    ok: { 200: EMPTY() },
    errors: [401, 403, 404, 422, 500],
  }),
  schedules: op({ operationId: 'listSchedules', tag: 'schedule', summary: 'List schedules', query: pageQuery(), ok: { 200: PAGED(SCHEDULE_TASK) }, errors: [400, 401, 403, 404, 500] }),
  paused: op({
    operationId: 'getSchedulePaused',
    tag: 'schedule',
    summary: 'Get scheduler paused status',
    params: pathString('job_type', "The type of the job. 'all' stands for all job types, current only support query with all"),
    ok: { 200: obj({ paused: bool('if the scheduler is paused') }) },
    errors: [400, 401, 403, 404, 500],
  }),
};

const ACTIONS: readonly QueueAction[] = ['stop', 'pause', 'resume'];

function pool(p: WorkerPool) {
  return { pid: p.pid, worker_pool_id: p.id, start_at: isoTime(p.startTime), heartbeat_at: isoTime(p.heartbeatAt), concurrency: p.concurrency, host: p.host };
}

function worker(w: Worker) {
  // An idle worker has only its ids (Harbor omits the empty job fields).
  if (!w.job) return { id: w.id, pool_id: w.poolId };
  const j = w.job;
  return {
    id: w.id,
    pool_id: w.poolId,
    job_name: j.name,
    job_id: j.id,
    ...(j.startTime !== null ? { start_at: isoTime(j.startTime) } : {}),
    check_in: j.checkIn,
    checkin_at: isoTime(j.checkInAt),
  };
}

export async function jobServiceRoutes(app: FastifyInstance, deps: { jobs: JobService; policy: AccessPolicy }, auth: ApiAuth): Promise<void> {
  const { jobs, policy } = deps;
  /** jobservice-monitor:<action> at system scope: 401 anonymous, 403 without it. */
  const require = async (req: FastifyRequest, action: 'list' | 'stop'): Promise<void> => {
    const me = await auth.principal(req);
    if (me.kind === 'anonymous') throw ApiErrors.unauthorized('unauthorized');
    const p: Policy = `jobservice-monitor:${action}`;
    if (!policy.canSystem(me, p)) throw ApiErrors.forbidden(`${p} is required (system admins hold it)`);
  };
  type P<K extends string> = { Params: Record<K, string> };

  app.get('/jobservice/pools', { schema: S.pools }, async (req) => {
    await require(req, 'list');
    return (await jobs.listWorkerPools()).map(pool);
  });

  app.get<P<'pool_id'>>('/jobservice/pools/:pool_id/workers', { schema: S.workers }, async (req) => {
    await require(req, 'list');
    return (await jobs.listWorkers(req.params.pool_id)).map(worker);
  });

  app.put<P<'job_id'>>('/jobservice/jobs/:job_id', { schema: S.stop }, async (req, reply) => {
    await require(req, 'stop');
    await jobs.stopJob(req.params.job_id);
    return reply.code(200).send();
  });

  app.get<P<'job_id'>>('/jobservice/jobs/:job_id/log', { schema: S.log }, async (req, reply) => {
    await require(req, 'list');
    const text = await jobs.getJobLogText(req.params.job_id);
    return reply.code(200).header('Content-Type', 'text/plain; charset=utf-8').send(text);
  });

  app.get('/jobservice/queues', { schema: S.queues }, async (req) => {
    await require(req, 'list');
    return (await jobs.listQueues()).map((q) => ({ job_type: q.jobType, count: q.count, latency: q.latencySeconds, paused: q.paused }));
  });

  app.put<P<'job_type'>>('/jobservice/queues/:job_type', { schema: S.action }, async (req, reply) => {
    await require(req, 'stop');
    const body = req.body as { action?: unknown } | undefined;
    const action = typeof body?.action === 'string' ? body.action.toLowerCase() : '';
    if (!ACTIONS.includes(action as QueueAction)) throw ApiErrors.badRequest('the action is not supported');
    await jobs.queueAction(req.params.job_type, action as QueueAction);
    return reply.code(200).send();
  });

  app.get('/schedules', { schema: S.schedules }, async (req, reply) => {
    await require(req, 'list');
    const page = parsePage(queryOf(req));
    const [total, items] = await Promise.all([jobs.countSchedules(), jobs.listSchedulesPage(page.limit, page.offset)]);
    setPageHeaders(reply, req.raw.url ?? '', total, page);
    return items.map((s) => ({ id: s.id, vendor_type: s.vendorType, vendor_id: s.vendorId, cron: s.cron, update_time: isoTime(s.updateTime) }));
  });

  app.get<P<'job_type'>>('/schedules/:job_type/paused', { schema: S.paused }, async (req) => {
    const me = await auth.principal(req);
    if (me.kind === 'anonymous') throw ApiErrors.unauthorized('unauthorized');
    if (req.params.job_type.toLowerCase() !== ALL) throw ApiErrors.badRequest("job_type can only be 'all'");
    return { paused: await jobs.schedulerPaused() };
  });
}
