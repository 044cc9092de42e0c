// /api/v2.0/system/gc: Harbor's garbage collection endpoints (GCHistory, schedule as GCHistory/ScheduleObj),
// system admins only; the shared schedule/history/log/stop handlers are in system-jobs.ts.
import type { FastifyInstance } from 'fastify';
import { JobType, type JobService } from '../../services/jobs/job-service.ts';
import { InvalidGcParamsError, parseGcParams } from '../../services/registry/gc-job.ts';
import { systemJobRoutes } from './system-jobs.ts';
import type { ApiAuth } from './context.ts';

export async function gcRoutes(app: FastifyInstance, jobs: JobService, auth: ApiAuth): Promise<void> {
  await systemJobRoutes(app, jobs, auth, {
    base: '/system/gc',
    jobType: JobType.GARBAGE_COLLECTION,
    label: 'garbage collection',
    parseParams: (raw) => ({ ...parseGcParams(raw) }),
    invalidParams: InvalidGcParamsError,
    api: {
      tag: 'gc',
      idParam: 'gc_id',
      ops: { history: 'getGCHistory', get: 'getGC', stop: 'stopGC', log: 'getGCLog', getSchedule: 'getGCSchedule', createSchedule: 'createGCSchedule', updateSchedule: 'updateGCSchedule' },
      createErrors: [400, 401, 403, 409, 500],
    },
  });
}
