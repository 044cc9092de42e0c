// /api/v2.0/system/gc: Harbor's garbage collection endpoints (GCHistory, schedule as GCHistory/ScheduleObj),
// system admins only. A Manual schedule queues a GARBAGE_COLLECTION job now; Hourly/Daily/Weekly/Custom store
// the schedule; None removes it.
import type { FastifyInstance } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import {
  cronForHarborSchedule,
  harborScheduleType,
  JobType,
  type Execution,
  type HarborScheduleType,
  type JobService,
} from '../../services/jobs/job-service.ts';
import { InvalidGcParamsError, parseGcParams } from '../../services/registry/gc-job.ts';
import { parsePage, setPageHeaders } from './query.ts';
import { API_PREFIX, bodyObject, isoTime, pathId, queryOf, type ApiAuth } from './index.ts';

const SCHEDULE_TYPES: readonly string[] = ['Hourly', 'Daily', 'Weekly', 'Custom', 'Manual', 'None'];

function gcHistory(ex: Execution) {
  const kind = ex.trigger.toUpperCase();
  return {
    id: ex.id,
    job_name: JobType.GARBAGE_COLLECTION,
    job_kind: kind,
    job_parameters: JSON.stringify(ex.extraAttrs),
    schedule: { type: kind },
    job_status: ex.status,
    deleted: false,
    creation_time: isoTime(ex.startTime),
    update_time: isoTime(ex.updateTime),
  };
}

function parseScheduleBody(body: Record<string, unknown>): { type: HarborScheduleType; cron: string; params: ReturnType<typeof parseGcParams> } {
  const s = body.schedule;
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw ApiErrors.badRequest('schedule is required');
  const { type, cron } = s as Record<string, unknown>;
  if (typeof type !== 'string' || !SCHEDULE_TYPES.includes(type))
    throw ApiErrors.badRequest(`schedule.type must be one of ${SCHEDULE_TYPES.join(', ')}`);
  if (cron !== undefined && cron !== null && typeof cron !== 'string') throw ApiErrors.badRequest('schedule.cron must be a string');
  if (typeof cron === 'string' && cron.length > 256) throw ApiErrors.badRequest('schedule.cron is too long');
  try {
    return { type: type as HarborScheduleType, cron: typeof cron === 'string' ? cron : '', params: parseGcParams(body.parameters) };
  } catch (e) {
    if (e instanceof InvalidGcParamsError) throw ApiErrors.badRequest(e.message);
    throw e;
  }
}

export async function gcRoutes(app: FastifyInstance, jobs: JobService, auth: ApiAuth): Promise<void> {
  const gcExecution = async (idText: string | undefined): Promise<Execution> => {
    const id = pathId(idText, 'gc_id');
    const ex = await jobs.getExecution(id);
    if (!ex || ex.vendorType !== JobType.GARBAGE_COLLECTION) throw ApiErrors.notFound(`garbage collection ${id} not found`);
    return ex;
  };

  /** Manual: queues a run and returns its id; otherwise stores or removes the schedule and returns null. */
  const kick = async (body: Record<string, unknown>): Promise<number | null> => {
    const { type, cron, params } = parseScheduleBody(body);
    if (type === 'Manual') {
      const running = await jobs.listExecutions({ vendorType: JobType.GARBAGE_COLLECTION, limit: 5 });
      if (running.some((e) => e.status === 'Pending' || e.status === 'Running'))
        throw ApiErrors.conflict('a garbage collection is already pending or running');
      const ex = await jobs.submit(JobType.GARBAGE_COLLECTION, { ...params }, 'manual', { extraAttrs: { ...params } });
      return ex.id;
    }
    const expr = cronForHarborSchedule(type, cron || undefined);
    if (expr === null) await jobs.unschedule(JobType.GARBAGE_COLLECTION);
    else await jobs.schedule(JobType.GARBAGE_COLLECTION, expr, { ...params });
    return null;
  };

  app.post('/system/gc/schedule', async (req, reply) => {
    await auth.sysadmin(req);
    const id = await kick(bodyObject(req));
    if (id !== null) reply.header('Location', `${API_PREFIX}/system/gc/${id}`);
    return reply.code(201).send();
  });

  app.put('/system/gc/schedule', async (req, reply) => {
    await auth.sysadmin(req);
    await kick(bodyObject(req));
    return reply.code(200).send();
  });

  app.get('/system/gc/schedule', async (req) => {
    await auth.sysadmin(req);
    const s = await jobs.getSchedule(JobType.GARBAGE_COLLECTION);
    if (!s) return {};
    const type = harborScheduleType(s.cron);
    return {
      id: s.id,
      job_name: '',
      job_kind: type,
      job_parameters: JSON.stringify(s.params),
      parameters: s.params,
      schedule: { type, cron: s.cron, next_scheduled_time: s.nextRunAt === null ? null : isoTime(s.nextRunAt) },
      job_status: s.enabled ? 'Scheduled' : 'Disabled',
      deleted: false,
      creation_time: isoTime(s.creationTime),
      update_time: isoTime(s.updateTime),
    };
  });

  app.get('/system/gc', async (req, reply) => {
    await auth.sysadmin(req);
    const page = parsePage(queryOf(req));
    const [total, items] = await Promise.all([
      jobs.countExecutions({ vendorType: JobType.GARBAGE_COLLECTION }),
      jobs.listExecutions({ vendorType: JobType.GARBAGE_COLLECTION, limit: page.limit, offset: page.offset }),
    ]);
    setPageHeaders(reply, req.raw.url ?? '', total, page);
    return items.map(gcHistory);
  });

  app.get<{ Params: { gc_id: string } }>('/system/gc/:gc_id', async (req) => {
    await auth.sysadmin(req);
    return gcHistory(await gcExecution(req.params.gc_id));
  });

  app.get<{ Params: { gc_id: string } }>('/system/gc/:gc_id/log', async (req, reply) => {
    await auth.sysadmin(req);
    const ex = await gcExecution(req.params.gc_id);
    const text = await jobs.getExecutionLogText(ex.id);
    return reply.code(200).header('Content-Type', 'text/plain; charset=utf-8').send(text);
  });

  app.put<{ Params: { gc_id: string } }>('/system/gc/:gc_id', async (req, reply) => {
    await auth.sysadmin(req);
    const ex = await gcExecution(req.params.gc_id);
    await jobs.stop(ex.id);
    return reply.code(200).send();
  });
}
