// Audit log purge as a PURGE_AUDIT_LOG job (Harbor's purge audit job): parameters audit_retention_hour (rows
// older than that are deleted), include_event_types (optional, comma-separated: only those operations or
// `<operation>_<resource_type>` events) and dry_run (count only). The count is logged and returned as `purged`.
import { JobType, PermanentJobError, type JobContext, type JobParams, type JobService } from '../jobs/job-service.ts';
import type { AuditLogRepository } from '../../repositories/audit-log-repository.ts';

/** 100 years: a larger retention is refused rather than overflowing the cut-off. */
export const MAX_AUDIT_RETENTION_HOURS = 876_000;

export interface PurgeAuditParams {
  audit_retention_hour: number;
  /** Comma-separated event types ('' = all). */
  include_event_types: string;
  dry_run: boolean;
}

export class InvalidPurgeAuditParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidPurgeAuditParamsError';
  }
}

const EVENT_TYPE = /^[a-z][a-z0-9_]{0,63}$/;

/** Validates the parameters; throws InvalidPurgeAuditParamsError. */
export function parsePurgeAuditParams(raw: unknown): PurgeAuditParams {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidPurgeAuditParamsError('parameters must be an object');
  const p = raw as Record<string, unknown>;
  const h = p.audit_retention_hour;
  if (typeof h !== 'number' || !Number.isInteger(h) || h < 1 || h > MAX_AUDIT_RETENTION_HOURS)
    throw new InvalidPurgeAuditParamsError(`audit_retention_hour must be an integer from 1 to ${MAX_AUDIT_RETENTION_HOURS}`);
  const d = p.dry_run;
  if (d !== undefined && d !== null && typeof d !== 'boolean') throw new InvalidPurgeAuditParamsError('dry_run must be a boolean');
  let types: string[] = [];
  const t = p.include_event_types;
  if (t !== undefined && t !== null) {
    if (typeof t === 'string') types = t.split(',');
    else if (Array.isArray(t) && t.every((x) => typeof x === 'string')) types = t as string[];
    else throw new InvalidPurgeAuditParamsError('include_event_types must be a comma-separated string');
    types = [...new Set(types.map((x) => x.trim().toLowerCase()).filter((x) => x !== ''))];
    if (types.length > 100) throw new InvalidPurgeAuditParamsError('include_event_types lists too many event types');
    for (const x of types) if (!EVENT_TYPE.test(x)) throw new InvalidPurgeAuditParamsError(`invalid event type: ${x.slice(0, 64)}`);
  }
  return { audit_retention_hour: h, include_event_types: types.join(','), dry_run: d === true };
}

/** The handler: deletes (or counts, on a dry run) the audit rows older than the retention. */
export function purgeAuditJobHandler(logs: AuditLogRepository, now: () => number = Date.now): (ctx: JobContext) => Promise<JobParams> {
  return async (ctx) => {
    let params: PurgeAuditParams;
    try {
      params = parsePurgeAuditParams(ctx.params);
    } catch (e) {
      throw new PermanentJobError(`invalid parameters: ${(e as Error).message}`);
    }
    const tag = params.dry_run ? '[DRY RUN] ' : '';
    const before = now() - params.audit_retention_hour * 3_600_000;
    const eventTypes = params.include_event_types ? params.include_event_types.split(',') : [];
    ctx.log(
      `${tag}audit log purge started: retention ${params.audit_retention_hour} h (rows before ${new Date(before).toISOString()}), event types ${eventTypes.length ? eventTypes.join(',') : 'all'}`,
    );
    const purged = await logs.purgeAuditLogs({ before, eventTypes, dryRun: params.dry_run });
    ctx.progress(100);
    ctx.log(`${tag}${params.dry_run ? 'would purge' : 'purged'} ${purged} audit log rows`);
    return { ...params, purged };
  };
}

/** Registers the PURGE_AUDIT_LOG job type on this process's job service. */
export function registerPurgeAuditJob(jobs: JobService, logs: AuditLogRepository): void {
  jobs.register(JobType.PURGE_AUDIT_LOG, purgeAuditJobHandler(logs), { retainExecutions: 50 });
}
