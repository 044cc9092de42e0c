// /api/v2.0/system/purgeaudit: Harbor's audit log purge endpoints (schedule, history, log, stop), system
// admins only; the shared handlers are in system-jobs.ts.
import type { FastifyInstance } from 'fastify';
import { JobType, type JobService } from '../../services/jobs/job-service.ts';
import { InvalidPurgeAuditParamsError, parsePurgeAuditParams } from '../../services/audit/audit-purge-job.ts';
import { systemJobRoutes } from './system-jobs.ts';
import type { ApiAuth } from './context.ts';

export async function purgeAuditRoutes(app: FastifyInstance, jobs: JobService, auth: ApiAuth): Promise<void> {
  await systemJobRoutes(app, jobs, auth, {
    base: '/system/purgeaudit',
    jobType: JobType.PURGE_AUDIT_LOG,
    label: 'audit log purge',
    parseParams: (raw) => ({ ...parsePurgeAuditParams(raw) }),
    invalidParams: InvalidPurgeAuditParamsError,
    api: {
      tag: 'purge',
      idParam: 'purge_id',
      ops: { history: 'getPurgeHistory', get: 'getPurgeJob', stop: 'stopPurge', log: 'getPurgeJobLog', getSchedule: 'getPurgeSchedule', createSchedule: 'createPurgeSchedule', updateSchedule: 'updatePurgeSchedule' },
      createErrors: [400, 401, 403, 500],
    },
  });
}
