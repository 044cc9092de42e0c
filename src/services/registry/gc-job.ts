// Garbage collection as a GARBAGE_COLLECTION job (Harbor's GC job): parameters delete_untagged, dry_run and
// workers (1-10, as Harbor's handler); progress lines in the task log; stop through the job's abort signal; the results (Harbor's
// freed_space, purged_blobs, purged_manifests) merged into the execution's extra attributes.
import { JobType, type JobContext, type JobParams, type JobService } from '../jobs/job-service.ts';
import type { GcProgress, GcService } from './gc-service.ts';

export const GC_MAX_WORKERS = 10;

export interface GcJobParams {
  delete_untagged: boolean;
  dry_run: boolean;
  workers: number;
}

export class InvalidGcParamsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidGcParamsError';
  }
}

/** Validates Harbor's GC parameters (missing ones take defaults); throws InvalidGcParamsError. */
export function parseGcParams(raw: unknown): GcJobParams {
  if (raw === undefined || raw === null) raw = {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidGcParamsError('parameters must be an object');
  const p = raw as Record<string, unknown>;
  const bool = (k: string): boolean => {
    const v = p[k];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') throw new InvalidGcParamsError(`${k} must be a boolean`);
    return v;
  };
  let workers = 1;
  if (p.workers !== undefined && p.workers !== null) {
    const w = p.workers;
    if (typeof w !== 'number' || !Number.isInteger(w)) throw new InvalidGcParamsError('workers should be integer format');
    // Harbor's text (handler/gc.go), so scripts matching on it keep working.
    if (w < 1 || w > GC_MAX_WORKERS) throw new InvalidGcParamsError(`Error: Invalid number of workers:${w}. Workers must be greater than 0 and less than or equal to ${GC_MAX_WORKERS}.`);
    workers = w;
  }
  return { delete_untagged: bool('delete_untagged'), dry_run: bool('dry_run'), workers };
}

const PERCENT: Record<GcProgress['phase'], number> = { manifests: 10, links: 30, blobs: 60, orphans: 90, done: 100 };
const mb = (n: number) => (n / 1024 / 1024).toFixed(2);

/** The handler: runs GcService with the job's parameters. */
export function gcJobHandler(gc: GcService): (ctx: JobContext) => Promise<JobParams> {
  return async (ctx) => {
    // Parameters were validated on submit; a stored schedule from an older version falls back to defaults.
    let params: GcJobParams;
    try {
      params = parseGcParams(ctx.params);
    } catch {
      params = { delete_untagged: false, dry_run: false, workers: 1 };
    }
    const tag = params.dry_run ? '[DRY RUN] ' : '';
    ctx.log(`${tag}garbage collection started: delete_untagged=${params.delete_untagged} dry_run=${params.dry_run} workers=${params.workers}`);
    let lastPhase = '';
    let lastLog = 0;
    const report = await gc.run({
      dryRun: params.dry_run,
      deleteUntagged: params.delete_untagged,
      workers: params.workers,
      signal: ctx.signal,
      onProgress: (p) => {
        ctx.progress(PERCENT[p.phase]);
        const now = Date.now();
        // A line per phase change and at most one a second within a phase.
        if (p.phase === lastPhase && now - lastLog < 1000) return;
        lastPhase = p.phase;
        lastLog = now;
        ctx.log(
          `${tag}${p.phase}: ${p.manifestsDeleted} manifests, ${p.linksDeleted} repository links, ${p.blobsDeleted} blobs (${p.orphanFilesDeleted} orphan files), ${p.bytesFreed} bytes`,
        );
      },
    });
    const verb = params.dry_run ? 'would delete' : 'deleted';
    ctx.log(
      `${tag}${report.stopped ? 'stopped' : 'finished'} in ${report.durationMs} ms: ${verb} ${report.manifestsDeleted} untagged manifests, ${report.linksDeleted} repository links, ${report.blobsDeleted} blobs (${report.orphanFilesDeleted} orphan files)`,
    );
    ctx.log(`${tag}${params.dry_run ? 'would free' : 'freed'} ${report.bytesFreed} bytes (${mb(report.bytesFreed)} MB)`);
    if (params.delete_untagged && report.untaggedKeptByGrace > 0) {
      ctx.log(
        `${tag}kept ${report.untaggedKeptByGrace} untagged manifests younger than the grace period of ${report.graceMs / 1000} s (registry.gc_grace): the grace protects pushes in flight, whose manifests are untagged until the tag or the index referencing them arrives; they are deleted by a GC after that age`,
      );
    }
    return {
      ...params,
      freed_space: report.bytesFreed,
      purged_blobs: report.blobsDeleted,
      purged_manifests: report.manifestsDeleted,
      purged_links: report.linksDeleted,
      purged_orphan_files: report.orphanFilesDeleted,
      ...(params.delete_untagged ? { untagged_kept_in_grace: report.untaggedKeptByGrace, gc_grace_seconds: report.graceMs / 1000 } : {}),
    };
  };
}

/** Registers the GARBAGE_COLLECTION job type on this process's job service. */
export function registerGcJob(jobs: JobService, gc: GcService): void {
  jobs.register(JobType.GARBAGE_COLLECTION, gcJobHandler(gc), { retainExecutions: 50 });
}
