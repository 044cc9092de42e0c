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
import type { Condition } from '../../repositories/list-query.ts';
import type { ExecutionField } from '../../services/jobs/job-service.ts';
import { parseTime } from './audit-logs.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { API_PREFIX, bodyObject, isoTime, pathId, queryOf, type ApiAuth } from './context.ts';
import { bodyOf, bool, CREATED, dateTime, EMPTY, int, obj, op, PAGED, pageQuery, SCHEDULE_OBJ, str, TEXT } from './schemas.ts';

const SCHEDULE_TYPES: readonly string[] = ['Hourly', 'Daily', 'Weekly', 'Custom', 'Manual', 'None', 'Schedule'];

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
  /** Harbor's tag, path parameter name and operationIds for this job's endpoints. */
  api: {
    tag: string;
    idParam: string;
    ops: { history: string; get: string; stop: string; log: string; getSchedule: string; createSchedule: string; updateSchedule: string };
    /** Error statuses Harbor documents for createXSchedule. */
    createErrors: readonly number[];
  };
}

/** Harbor's GCHistory / ExecHistory. */
const HISTORY = obj({
  id: int('the id of the job.'),
  job_name: str('the job name.'),
  job_kind: str('the job kind.'),
  job_parameters: str('the job parameters (JSON).'),
  schedule: SCHEDULE_OBJ,
  job_status: str('the status of the job.'),
  deleted: bool('if the job is deleted.'),
  creation_time: { ...dateTime, description: 'the creation time of the job.' },
  update_time: { ...dateTime, description: 'the update time of the job.' },
});
/** Harbor's Schedule body: id, status and times are read-only and removed. */
const SCHEDULE_BODY = bodyOf('Schedule', {
  schedule: obj({
    type: { type: 'string', enum: ['Hourly', 'Daily', 'Weekly', 'Custom', 'Manual', 'None', 'Schedule'] },
    cron: { type: ['string', 'null'], description: 'A cron expression, a time-based job scheduler' },
    next_scheduled_time: { type: ['string', 'null'], description: 'read-only, ignored' },
  }),
  parameters: { type: 'object', description: 'The parameters of the job', additionalProperties: true },
});

function jobSchemas(spec: SystemJobSpec) {
  const { tag, idParam, ops, createErrors } = spec.api;
  const id = { [idParam]: { type: 'integer', format: 'int64', description: `The ID of the ${spec.label} job` } };
  return {
    createSchedule: op({ operationId: ops.createSchedule, tag, summary: `Create a ${spec.label} schedule (type Manual runs one now)`, body: SCHEDULE_BODY, ok: { 201: CREATED }, errors: createErrors }),
    updateSchedule: op({ operationId: ops.updateSchedule, tag, summary: `Update the ${spec.label} schedule`, body: SCHEDULE_BODY, ok: { 200: EMPTY() }, errors: [400, 401, 403, 500] }),
    getSchedule: op({ operationId: ops.getSchedule, tag, summary: `Get the ${spec.label} schedule`, ok: { 200: HISTORY }, errors: [401, 403, 500] }),
    history: op({ operationId: ops.history, tag, summary: `Get the ${spec.label} history`, query: pageQuery({ q: true, sort: true }), ok: { 200: PAGED(HISTORY) }, errors: [401, 403, 500] }),
    get: op({ operationId: ops.get, tag, summary: `Get a ${spec.label} job's status`, params: id, ok: { 200: HISTORY }, errors: [401, 403, 404, 500] }),
    log: op({ operationId: ops.log, tag, summary: `Get a ${spec.label} job's log`, params: id, ok: { 200: TEXT('The job log (text/plain)') }, errors: [400, 401, 403, 404, 500] }),
    stop: op({ operationId: ops.stop, tag, summary: `Stop a running ${spec.label} job`, params: id, ok: { 200: EMPTY() }, errors: [401, 403, 404, 500] }),
  };
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

/**
 * History `q` keys: Harbor filters on its execution columns (id, status, trigger, start_time, update_time, end_time)
 * and its portal sends `id=~N`; the names the history answer shows (job_status, job_kind, creation_time) are accepted
 * too, for the same columns. Harbor ignores other keys; Berth answers 400, as on every list endpoint.
 */
const HISTORY_Q = {
  id: { type: 'string', fuzzy: true, union: true, range: true },
  status: { type: 'string', union: true },
  job_status: { type: 'string', union: true },
  trigger: { type: 'string', union: true },
  job_kind: { type: 'string', union: true },
  start_time: { type: 'string', range: true },
  creation_time: { type: 'string', range: true },
  update_time: { type: 'string', range: true },
  end_time: { type: 'string', range: true },
} as const;
type HistoryKey = keyof typeof HISTORY_Q;
const HISTORY_COLUMN: Record<HistoryKey, ExecutionField> = {
  id: 'id',
  status: 'status',
  job_status: 'status',
  trigger: 'trigger',
  job_kind: 'trigger',
  start_time: 'start_time',
  creation_time: 'start_time',
  update_time: 'update_time',
  end_time: 'end_time',
};
const HISTORY_SORT: readonly HistoryKey[] = ['id', 'status', 'job_status', 'trigger', 'job_kind', 'start_time', 'creation_time', 'update_time', 'end_time'];

function idValue(v: string | number): number {
  const s = String(v);
  if (!/^[0-9]{1,15}$/.test(s)) throw ApiErrors.badRequest('id must be an integer');
  return Number(s);
}

/** Harbor's history q into execution conditions: times parsed as audit-log times, triggers to Berth's lower case. */
export function historyWhere(raw: string | null): Partial<Record<ExecutionField, Condition>> {
  const parsed = parseQ(raw, HISTORY_Q) as Partial<Record<HistoryKey, Condition>>;
  const out: Partial<Record<ExecutionField, Condition>> = {};
  for (const [key, c] of Object.entries(parsed) as [HistoryKey, Condition][]) {
    let field = HISTORY_COLUMN[key];
    let cond: Condition = c;
    if (field === 'id') {
      if (c.op === 'like') {
        field = 'id_text';
        if (!/^[0-9]{1,15}$/.test(c.value)) throw ApiErrors.badRequest('id must be an integer');
      } else if (c.op === 'eq') cond = { op: 'eq', value: idValue(c.value) };
      else if (c.op === 'in') cond = { op: 'in', values: c.values.map(idValue) };
      else if (c.op === 'range') cond = { op: 'range', min: c.min === null ? null : idValue(c.min), max: c.max === null ? null : idValue(c.max) };
    } else if (field === 'trigger') {
      const lower = (v: string | number) => String(v).toLowerCase();
      if (c.op === 'eq') cond = { op: 'eq', value: lower(c.value) };
      else if (c.op === 'in') cond = { op: 'in', values: c.values.map(lower) };
    } else if (field.endsWith('_time')) {
      if (c.op === 'range') cond = { op: 'range', min: c.min === null ? null : parseTime(c.min, false, key), max: c.max === null ? null : parseTime(c.max, true, key) };
      else if (c.op === 'eq') cond = { op: 'range', min: parseTime(c.value, false, key), max: parseTime(c.value, true, key) };
    }
    if (out[field]) throw ApiErrors.badRequest(`${key} is given twice`);
    out[field] = cond;
  }
  return out;
}

function parseScheduleBody(spec: SystemJobSpec, body: Record<string, unknown>): { type: HarborScheduleType; cron: string; params: JobParams } {
  const s = body.schedule;
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw ApiErrors.badRequest('schedule is required');
  const { type, cron } = s as Record<string, unknown>;
  if (typeof type !== 'string' || !SCHEDULE_TYPES.includes(type))
    // Name the value received, so a near miss ('manual', 'Manual ') is visible next to the accepted list.
    throw ApiErrors.badRequest(`schedule.type ${JSON.stringify(type ?? null)} is invalid: it must be one of ${SCHEDULE_TYPES.join(', ')}`);
  if (cron !== undefined && cron !== null && typeof cron !== 'string') throw ApiErrors.badRequest('schedule.cron must be a string');
  if (typeof cron === 'string' && cron.length > 256) throw ApiErrors.badRequest('schedule.cron is too long');
  // None only removes the schedule: its parameters are not needed.
  if (type === 'None') return { type, cron: '', params: {} };
  try {
    // Harbor's ScheduleObj also lists 'Schedule': any type but Manual/None stores the given cron, i.e. Custom.
    return { type: type === 'Schedule' ? 'Custom' : (type as HarborScheduleType), cron: typeof cron === 'string' ? cron : '', params: spec.parseParams(body.parameters) };
  } catch (e) {
    if (e instanceof spec.invalidParams) throw ApiErrors.badRequest(e.message);
    throw e;
  }
}

export async function systemJobRoutes(app: FastifyInstance, jobs: JobService, auth: ApiAuth, spec: SystemJobSpec): Promise<void> {
  const { base, jobType } = spec;
  const S = jobSchemas(spec);
  const idParam = spec.api.idParam;
  type IdReq = { Params: Record<string, number> };
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

  app.post(`${base}/schedule`, { schema: S.createSchedule }, async (req, reply) => {
    await auth.sysadmin(req);
    const id = await kick(bodyObject(req));
    if (id !== null) reply.header('Location', `${API_PREFIX}${base}/${id}`);
    return reply.code(201).send();
  });

  app.put(`${base}/schedule`, { schema: S.updateSchedule }, async (req, reply) => {
    await auth.sysadmin(req);
    await kick(bodyObject(req));
    return reply.code(200).send();
  });

  app.get(`${base}/schedule`, { schema: S.getSchedule }, async (req) => {
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

  app.get(base, { schema: S.history }, async (req, reply) => {
    await auth.sysadmin(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const where = historyWhere(q.get('q'));
    // Harbor's default order is start_time descending; Berth's id order is the same and breaks ties.
    const sort = parseSort(q.get('sort'), HISTORY_SORT).map((s) => ({ field: HISTORY_COLUMN[s.field], desc: s.desc }));
    const [total, items] = await Promise.all([
      jobs.countExecutions({ vendorType: jobType, where }),
      jobs.listExecutions({ vendorType: jobType, where, sort, limit: page.limit, offset: page.offset }),
    ]);
    setPageHeaders(reply, req.raw.url ?? '', total, page);
    return items.map((ex) => history(spec, ex));
  });

  app.get<IdReq>(`${base}/:${idParam}`, { schema: S.get }, async (req) => {
    await auth.sysadmin(req);
    return history(spec, await execution(String(req.params[idParam])));
  });

  app.get<IdReq>(`${base}/:${idParam}/log`, { schema: S.log }, async (req, reply) => {
    await auth.sysadmin(req);
    const ex = await execution(String(req.params[idParam]));
    const text = await jobs.getExecutionLogText(ex.id);
    return reply.code(200).header('Content-Type', 'text/plain; charset=utf-8').send(text);
  });

  app.put<IdReq>(`${base}/:${idParam}`, { schema: S.stop }, async (req, reply) => {
    await auth.sysadmin(req);
    const ex = await execution(String(req.params[idParam]));
    await jobs.stop(ex.id);
    return reply.code(200).send();
  });
}
