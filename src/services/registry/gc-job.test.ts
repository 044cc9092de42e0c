// The GARBAGE_COLLECTION job: parameter validation, the handler's log/progress/results, and stop through a
// real JobService (SQLite): the running GC sees its signal aborted and the execution ends Stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDb } from '../../db/sqlite.ts';
import { migrate } from '../../db/migrations.ts';
import { JobRepository } from '../../repositories/job-repository.ts';
import { JobService, JobType, type JobContext } from '../jobs/job-service.ts';
import type { GcOptions, GcReport, GcService } from './gc-service.ts';
import { gcJobHandler, InvalidGcParamsError, parseGcParams, registerGcJob } from './gc-job.ts';

const report = (o: Partial<GcReport> = {}): GcReport => ({
  dryRun: false,
  stopped: false,
  manifestsDeleted: 1,
  linksDeleted: 2,
  blobsDeleted: 3,
  orphanFilesDeleted: 0,
  bytesFreed: 4096,
  untaggedKeptByGrace: 0,
  graceMs: 3600_000,
  durationMs: 5,
  ...o,
});

test('parseGcParams: defaults, types and the 1-10 workers range (Harbor\'s)', () => {
  assert.deepEqual(parseGcParams(undefined), { delete_untagged: false, dry_run: false, workers: 1 });
  assert.deepEqual(parseGcParams({ delete_untagged: true, dry_run: true, workers: 10, other: 'x' }), { delete_untagged: true, dry_run: true, workers: 10 });
  assert.throws(() => parseGcParams({ workers: 11 }), /Invalid number of workers:11\. Workers must be greater than 0 and less than or equal to 10\./);
  for (const bad of [{ workers: 0 }, { workers: 11 }, { workers: 1.5 }, { workers: '2' }, { dry_run: 'true' }, { delete_untagged: 1 }, [], 'x'])
    assert.throws(() => parseGcParams(bad), InvalidGcParamsError, JSON.stringify(bad));
});

test('the handler passes the parameters and the signal, logs progress and returns the results', async () => {
  let seen: GcOptions | undefined;
  const gc = {
    run: async (o: GcOptions) => {
      seen = o;
      o.onProgress?.({ phase: 'links', dryRun: true, manifestsDeleted: 0, linksDeleted: 2, blobsDeleted: 0, orphanFilesDeleted: 0, bytesFreed: 0 });
      o.onProgress?.({ phase: 'blobs', dryRun: true, manifestsDeleted: 0, linksDeleted: 2, blobsDeleted: 3, orphanFilesDeleted: 0, bytesFreed: 4096 });
      return report({ dryRun: true });
    },
  } as unknown as GcService;
  const lines: string[] = [];
  const progress: number[] = [];
  const ac = new AbortController();
  const ctx: JobContext = {
    executionId: 1,
    taskId: 1,
    attempt: 1,
    params: { dry_run: true, delete_untagged: true, workers: 4 },
    signal: ac.signal,
    log: (l) => lines.push(l),
    progress: (p) => progress.push(p),
    heartbeat: async () => {},
  };
  const out = await gcJobHandler(gc)(ctx);
  assert.equal(seen?.dryRun, true);
  assert.equal(seen?.deleteUntagged, true);
  assert.equal(seen?.workers, 4);
  assert.equal(seen?.signal, ac.signal);
  assert.deepEqual(progress, [30, 60]);
  assert.ok(lines.length >= 4 && lines.every((l) => l.startsWith('[DRY RUN] ')), lines.join('\n'));
  assert.match(lines.at(-1)!, /would free 4096 bytes/);
  assert.deepEqual(out, {
    delete_untagged: true,
    dry_run: true,
    workers: 4,
    freed_space: 4096,
    purged_blobs: 3,
    purged_manifests: 1,
    purged_links: 2,
    purged_orphan_files: 0,
    untagged_kept_in_grace: 0,
    gc_grace_seconds: 3600,
  });
});

test('stop aborts a running GC and the execution ends Stopped', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-gcjob-'));
  const db = new SqliteDb(join(dir, 'berth.db'));
  await migrate(db);
  const jobs = new JobService({ repo: new JobRepository(db), maxWorkers: 2, pollMs: 20 });
  let started!: () => void;
  const running = new Promise<void>((r) => (started = r));
  const gc = {
    run: (o: GcOptions) =>
      new Promise<GcReport>((resolve) => {
        started();
        o.signal?.addEventListener('abort', () => resolve(report({ stopped: true, blobsDeleted: 0, bytesFreed: 0 })), { once: true });
      }),
  } as unknown as GcService;
  try {
    registerGcJob(jobs, gc);
    jobs.start();
    const ex = await jobs.submit(JobType.GARBAGE_COLLECTION, { workers: 2 });
    await running;
    await jobs.stop(ex.id);
    let status = '';
    for (let i = 0; i < 200 && status !== 'Stopped'; i++) {
      status = (await jobs.getExecution(ex.id))!.status;
      if (status !== 'Stopped') await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(status, 'Stopped');
    const log = await jobs.getExecutionLogText(ex.id);
    assert.match(log, /garbage collection started/);
    assert.match(log, /stopped/);
  } finally {
    await jobs.close(500);
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
