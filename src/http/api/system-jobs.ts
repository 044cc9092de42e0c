// Harbor's system job endpoints, shared by GC (/system/gc) and the audit log purge (/system/purgeaudit):
// POST/PUT/GET <base>/schedule, GET <base> (history), GET <base>/{id}, GET <base>/{id}/log, PUT <base>/{id}
// (stop); system admins only. A Manual schedule queues a job now; Hourly/Daily/Weekly/Custom store the
// schedule; None removes it.
import type { FastifyInstance } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import {
  cronForHarborSchedule,
  harborScheduleType,
  type Execution,
  type HarborScheduleType,
  type JobParams,
  type JobService,
} from '../../services/jobs/job-service.ts';
import { parsePage, setPageHeaders } from './query.ts';
import { API_PREFIX, bodyObject, isoTime, pathId, queryOf, type ApiAuth } from './index.ts';

const SCHEDULE_TYPES: readonly string[] = ['Hourly', 'Daily', 'Weekly', 'Custom', 'Manual', 'None'];

export interface SystemJobSpec {
  /** Path under /api/v2.0, e.g. '/system/gc'. */
  base: string;
  /** The job type (vendor_type) and Harbor's job_name. */
  jobType: string;
  /** Used in messages: 'garbage collection'. */
  label: string;
  /** Validates `parameters` into the job's params; throws `invalidParams` errors for 400. */
  parseParams(raw: unknown): JobParams;
  invalidParams: new (...args: never[]) => Error;
}

function history(spec: SystemJobSpec, ex: Execution) {
  const kind = ex.trigger.toUpperCase();
  return {
    id: ex.id,
    job_name: spec.jobType,
    job_kind: kind,
    job_parameters: JSON.stringify(ex.extraAttrs),
    schedule: { type: kind },
    job_status: ex.status,
    deleted: false,
    creation_time: isoTime(ex.startTime),
    update_time: isoTime(ex.updateTime),
  };
}

function parseScheduleBody(spec: SystemJobSpec, body: Record<string, unknown>): { type: HarborScheduleType; cron: string; params: JobParams } {
  const s = body.schedule;
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw ApiErrors.badRequest('schedule is required');
  const { type, cron } = s as Record<string, unknown>;
  if (typeof type !== 'string' || !SCHEDULE_TYPES.includes(type))
    throw ApiErrors.badRequest(`schedule.type must be one of ${SCHEDULE_TYPES.join(', ')}`);
  if (cron !== undefined && cron !== null && typeof cron !== 'string') throw ApiErrors.badRequest('schedule.cron must be a string');
  if (typeof cron === 'string' && cron.length > 256) throw ApiErrors.badRequest('schedule.cron is too long');
  // None only removes the schedule: its parameters are not needed.
  if (type === 'None') return { type, cron: '', params: {} };
  try {
    return { type: type as HarborScheduleType, cron: typeof cron === 'string' ? cron : '', params: spec.parseParams(body.parameters) };
  } catch (e) {
    if (e instanceof spec.invalidParams) throw ApiErrors.badRequest(e.message);
    throw e;
  }
}

export async function systemJobRoutes(app: FastifyInstance, jobs: JobService, auth: ApiAuth, spec: SystemJobSpec): Promise<void> {
  const { base, jobType } = spec;
  const execution = async (idText: string | undefined): Promise<Execution> => {
    const id = pathId(idText, 'id');
    const ex = await jobs.getExecution(id);
    if (!ex || ex.vendorType !== jobType) throw ApiErrors.notFound(`${spec.label} ${id} not found`);
    return ex;
  };

  /** Manual: queues a run and returns its id; otherwise stores or removes the schedule and returns null. */
  const kick = async (body: Record<string, unknown>): Promise<number | null> => {
    const { type, cron, params } = parseScheduleBody(spec, body);
    if (type === 'Manual') {
      const running = await jobs.listExecutions({ vendorType: jobType, limit: 5 });
      if (running.some((e) => e.status === 'Pending' || e.status === 'Running'))
        throw ApiErrors.conflict(`a ${spec.label} is already pending or running`);
      const ex = await jobs.submit(jobType, { ...params }, 'manual', { extraAttrs: { ...params } });
      return ex.id;
    }
    const expr = cronForHarborSchedule(type, cron || undefined);
    if (expr === null) await jobs.unschedule(jobType);
    else await jobs.schedule(jobType, expr, { ...params });
    return null;
  };

  app.post(`${base}/schedule`, async (req, reply) => {
    await auth.sysadmin(req);
    const id = await kick(bodyObject(req));
    if (id !== null) reply.header('Location', `${API_PREFIX}${base}/${id}`);
    return reply.code(201).send();
  });

  app.put(`${base}/schedule`, async (req, reply) => {
    await auth.sysadmin(req);
    await kick(bodyObject(req));
    return reply.code(200).send();
  });

  app.get(`${base}/schedule`, async (req) => {
    await auth.sysadmin(req);
    const s = await jobs.getSchedule(jobType);
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

  app.get(base, async (req, reply) => {
    await auth.sysadmin(req);
    const page = parsePage(queryOf(req));
    const [total, items] = await Promise.all([
      jobs.countExecutions({ vendorType: jobType }),
      jobs.listExecutions({ vendorType: jobType, limit: page.limit, offset: page.offset }),
    ]);
    setPageHeaders(reply, req.raw.url ?? '', total, page);
    return items.map((ex) => history(spec, ex));
  });

  app.get<{ Params: { id: string } }>(`${base}/:id`, async (req) => {
    await auth.sysadmin(req);
    return history(spec, await execution(req.params.id));
  });

  app.get<{ Params: { id: string } }>(`${base}/:id/log`, async (req, reply) => {
    await auth.sysadmin(req);
    const ex = await execution(req.params.id);
    const text = await jobs.getExecutionLogText(ex.id);
    return reply.code(200).header('Content-Type', 'text/plain; charset=utf-8').send(text);
  });

  app.put<{ Params: { id: string } }>(`${base}/:id`, async (req, reply) => {
    await auth.sysadmin(req);
    const ex = await execution(req.params.id);
    await jobs.stop(ex.id);
    return reply.code(200).send();
  });
}
