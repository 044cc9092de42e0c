// The job service: a persistent queue of executions and tasks on the shared database (Harbor's
// execution/task model), a pool of workers in this process, retries with exponential backoff, stop, per-task
// logs and progress, and cron/interval schedules. Several processes may share one database: a task is
// claimed under a lease (SKIP LOCKED on PostgreSQL) that its worker renews while it runs; once a lease
// expires (the process died) any process claims the task again, and a schedule occurrence is fired by exactly
// one process (compare-and-set on next_run_at).
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Queryable } from '../../db/db.ts';
import {
  isFinal,
  type Execution,
  type ExecutionField,
  type ExecutionFilter,
  type JobParams,
  type JobRepository,
  type JobTrigger,
  type Schedule,
  type Task,
  type TaskLogLine,
  type TaskOutcome,
  type WorkerPoolRow,
} from '../../repositories/job-repository.ts';
import { nextOccurrence, validateSchedule } from './schedule-spec.ts';

export type { Execution, ExecutionField, ExecutionFilter, JobParams, JobTrigger, Schedule, Task, TaskLogLine };
export { InvalidScheduleError, cronForHarborSchedule, harborScheduleType, type HarborScheduleType } from './schedule-spec.ts';

/** Job types Harbor knows (vendor_type); any string works. */
export const JobType = {
  GARBAGE_COLLECTION: 'GARBAGE_COLLECTION',
  PURGE_UPLOAD: 'PURGE_UPLOAD',
  PURGE_AUDIT_LOG: 'PURGE_AUDIT_LOG',
} as const;

/** Vendor id of system-wide jobs (GC, purges), as Harbor uses it. */
export const SYSTEM_VENDOR_ID = -1;

/**
 * The queue of schedule occurrences, as Harbor names it: while it is paused no schedule fires (a due occurrence
 * waits and fires once on resume); "stop" skips the occurrences that are due.
 */
export const SCHEDULER_QUEUE = 'SCHEDULER';

/** Harbor's "all" in /jobservice paths (any case). */
export const ALL = 'all';

/** A worker pool of Harbor's job service monitor: one Berth process (its heartbeat row). */
export type WorkerPool = WorkerPoolRow;

/** One worker slot of a pool; job fields are set while it runs a task. */
export interface Worker {
  id: string;
  poolId: string;
  job?: { id: string; name: string; startTime: number | null; checkIn: string; checkInAt: number };
}

export interface JobQueue {
  jobType: string;
  /** Pending tasks (for SCHEDULER: due schedule occurrences not fired yet). */
  count: number;
  /** Seconds the oldest due one has waited. */
  latencySeconds: number;
  paused: boolean;
}

export type QueueAction = 'stop' | 'pause' | 'resume';

export interface JobContext {
  readonly executionId: number;
  readonly taskId: number;
  /** 1 for the first run, 2 for the first retry, ... */
  readonly attempt: number;
  readonly params: JobParams;
  /** Aborted when the execution is stopped, the lease is lost, or the service shuts down. */
  readonly signal: AbortSignal;
  /** Appends a line to the task's log (buffered, written in order). */
  log(line: string): void;
  /** Progress in percent (0–100), shown with the task. */
  progress(percent: number): void;
  /** Renews the lease now (it is also renewed on a timer); rejects when the lease was lost. */
  heartbeat(): Promise<void>;
}

/** The handler's resolved object, if any, is merged into the execution's extra_attrs (e.g. GC results). */
export type JobHandler = (ctx: JobContext) => Promise<JobParams | void>;

export interface JobTypeOptions {
  /** Runs before the task ends in Error (default 1: no retry). */
  maxAttempts?: number;
  /** First retry delay; doubles per attempt (default from the service). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Finished executions kept per type (older ones are deleted with their tasks and logs). */
  retainExecutions?: number;
  /** Count retainExecutions per vendor (e.g. per webhook policy) instead of per type. */
  retainPerVendor?: boolean;
  /** Prune only once this many more than retainExecutions exist (default 0): a frequent type skips a write per run. */
  retainSlack?: number;
  /**
   * Splits an execution into tasks when it is submitted without explicit tasks (a schedule firing): the
   * params of each task (retention: one per repository). Runs with the submitting transaction, if any.
   */
  plan?: (params: JobParams, vendorId: number, q?: Queryable) => Promise<JobParams[]>;
}

/** Thrown by a handler for a failure that retrying cannot fix: the task ends in Error at once. */
/** Most ends of runs one group commit writes (bounds one transaction's length). */
const FINISH_BATCH = 64;

export class PermanentJobError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentJobError';
  }
}

import { JobNotFoundError } from '../../errors.ts';

export { JobNotFoundError };

export interface JobServiceOptions {
  repo: JobRepository;
  /** Concurrently running tasks in this process (config jobservice.max_job_workers). */
  maxWorkers: number;
  /** How often the queue and the schedules are polled (default 1000 ms). */
  pollMs?: number;
  /** Lease of a claimed task; renewed every third of it while the handler runs (default 30 s). */
  leaseMs?: number;
  /** Default first retry delay (default 10 s). */
  backoffMs?: number;
  /** Log lines kept per run of a task (default 10,000). */
  maxLogLines?: number;
  /** Identifies this process in locked_by (default host:pid:random); also its worker pool id. */
  workerId?: string;
  /** How often this process records that its worker pool is alive (default 10 s). */
  heartbeatMs?: number;
  /** Background failures (database unreachable, ...); default: stderr. */
  onError?: (message: string, err: unknown) => void;
}

interface Registered {
  handler: JobHandler;
  opts: Required<Omit<JobTypeOptions, 'retainExecutions' | 'plan'>> & { retainExecutions: number | null; plan: JobTypeOptions['plan'] };
}

interface Running {
  task: Task;
  ac: AbortController;
  /** Why the signal was aborted. */
  reason: 'stop' | 'lost' | 'shutdown' | null;
  done: Promise<void>;
}

/** Extra runs (beyond max_attempts) granted to a task whose worker died mid-run. */
export const LOST_RUNS_ALLOWED = 3;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));

export class JobService {
  private readonly repo: JobRepository;
  private readonly maxWorkers: number;
  private readonly pollMs: number;
  private readonly leaseMs: number;
  private readonly backoffMs: number;
  private readonly maxLogLines: number;
  readonly workerId: string;
  private readonly heartbeatMs: number;
  private readonly startTime = Date.now();
  private lastHeartbeat = 0;
  private lastScheduleCheck = 0;
  private readonly onError: (message: string, err: unknown) => void;
  private readonly types = new Map<string, Registered>();
  /** Handlers running here, by lock token (a task re-claimed after its lease lapsed has a new token). */
  private readonly running = new Map<string, Running>();
  /** Finishes per (job type, vendor) since the last retention check, modulo the type's retainSlack. */
  private readonly retainCounts = new Map<string, number>();
  /** Ends of runs waiting for the next group commit (finishTask). */
  private readonly finishQueue: { item: { taskId: number; lockedBy: string; out: TaskOutcome; log: readonly string[] }; resolve: (done: boolean) => void; reject: (e: unknown) => void }[] = [];
  private finishing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private again = false;
  private started = false;
  private closed = false;

  constructor(o: JobServiceOptions) {
    this.repo = o.repo;
    this.maxWorkers = Math.max(1, o.maxWorkers);
    this.pollMs = o.pollMs ?? 1000;
    this.leaseMs = o.leaseMs ?? 30_000;
    this.backoffMs = o.backoffMs ?? 10_000;
    this.maxLogLines = o.maxLogLines ?? 10_000;
    this.workerId = o.workerId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.heartbeatMs = o.heartbeatMs ?? 10_000;
    this.onError = o.onError ?? ((m, e) => process.stderr.write(`jobservice: ${m}: ${message(e)}\n`));
  }

  /** Registers the handler of a job type; this process then runs tasks of that type. */
  register(type: string, handler: JobHandler, opts: JobTypeOptions = {}): void {
    if (this.types.has(type)) throw new Error(`job type ${type} is already registered`);
    this.types.set(type, {
      handler,
      opts: {
        maxAttempts: Math.max(1, opts.maxAttempts ?? 1),
        backoffMs: opts.backoffMs ?? this.backoffMs,
        maxBackoffMs: opts.maxBackoffMs ?? 3_600_000,
        retainExecutions: opts.retainExecutions ?? null,
        retainPerVendor: opts.retainPerVendor ?? false,
        retainSlack: Math.max(0, opts.retainSlack ?? 0),
        plan: opts.plan,
      },
    });
    this.wake();
  }

  /** Starts polling the queue and the schedules. */
  start(): void {
    if (this.started || this.closed) return;
    this.started = true;
    this.wake();
  }

  /**
   * Queues one execution (with one task) of `type`. Pass `q` to submit inside the caller's transaction: the
   * job then exists exactly when the caller's change commits.
   */
  async submit(
    type: string,
    params: JobParams = {},
    trigger: JobTrigger = 'manual',
    opts: { vendorId?: number; extraAttrs?: JobParams; q?: Queryable; tasks?: readonly JobParams[] } = {},
  ): Promise<Execution> {
    const reg = this.types.get(type);
    const vendorId = opts.vendorId ?? SYSTEM_VENDOR_ID;
    const tasks = opts.tasks ?? (reg?.opts.plan ? await reg.opts.plan(params, vendorId, opts.q) : undefined);
    const ex = await this.repo.saveExecution(
      { vendorType: type, vendorId, trigger, extraAttrs: opts.extraAttrs ?? {}, params, maxAttempts: reg?.opts.maxAttempts ?? 1, tasks },
      opts.q,
    );
    if (!opts.q) this.wake();
    return ex;
  }

  /** Adds tasks of `type` to a running execution (its status then waits for them too). */
  async addTasks(executionId: number, type: string, params: readonly JobParams[]): Promise<void> {
    await this.repo.saveTasks(executionId, type, params, this.types.get(type)?.opts.maxAttempts ?? 1);
    this.wake();
  }

  /**
   * Stops an execution: queued tasks end Stopped now; running ones see their signal aborted (here at once,
   * in another process at its next lease renewal) and end Stopped when their handler returns.
   */
  async stop(executionId: number): Promise<Execution> {
    const ex = await this.repo.findExecution(executionId);
    if (!ex) throw new JobNotFoundError(`execution ${executionId} not found`);
    if (isFinal(ex.status)) return ex;
    const ids = await this.repo.requestStop(executionId);
    for (const id of ids) this.abortLocal(id, 'stop');
    return (await this.repo.findExecution(executionId))!;
  }

  getExecution(id: number): Promise<Execution | null> {
    return this.repo.findExecution(id);
  }
  listExecutions(f: ExecutionFilter & { limit?: number; offset?: number; sort?: { field: ExecutionField; desc: boolean }[] } = {}): Promise<Execution[]> {
    return this.repo.listExecutions(f);
  }
  countExecutions(f: ExecutionFilter = {}): Promise<number> {
    return this.repo.countExecutions(f);
  }
  countTasksByStatus(executionIds: readonly number[]): Promise<Map<number, Record<string, number>>> {
    return this.repo.countTasksByStatus(executionIds);
  }
  listTasks(executionId: number): Promise<Task[]> {
    return this.repo.listTasks(executionId);
  }
  getTask(id: number): Promise<Task | null> {
    return this.repo.findTask(id);
  }
  getTaskLog(taskId: number): Promise<TaskLogLine[]> {
    return this.repo.listTaskLog(taskId);
  }
  /** The log as Harbor serves it: one `<ISO time> [INFO] <line>` per line. */
  async getTaskLogText(taskId: number): Promise<string> {
    return (await this.repo.listTaskLog(taskId)).map((l) => `${new Date(l.createdAt).toISOString()} [INFO] ${l.line}\n`).join('');
  }

  /** The log of every task of an execution, in task order (Harbor's GET /system/gc/{id}/log). */
  async getExecutionLogText(executionId: number): Promise<string> {
    let out = '';
    for (const t of await this.repo.listTasks(executionId)) out += await this.getTaskLogText(t.id);
    return out;
  }

  /** Creates or replaces the schedule of (type, vendorId); `spec` is cron (5 or 6 fields, UTC) or `@every <n>s|m|h`. */
  async schedule(type: string, spec: string, params: JobParams = {}, opts: { vendorId?: number; enabled?: boolean } = {}): Promise<Schedule> {
    validateSchedule(spec);
    const vendorId = opts.vendorId ?? SYSTEM_VENDOR_ID;
    const enabled = opts.enabled ?? true;
    // Re-saving the same expression (every process does so at start) keeps the pending occurrence (the
    // repository decides that atomically).
    const nextRunAt = enabled ? nextOccurrence(spec, Date.now()) : null;
    const s = await this.repo.saveSchedule({ vendorType: type, vendorId, cron: spec, params, enabled, nextRunAt });
    this.wake();
    return s;
  }
  getSchedule(type: string, vendorId = SYSTEM_VENDOR_ID): Promise<Schedule | null> {
    return this.repo.findSchedule(type, vendorId);
  }
  listSchedules(): Promise<Schedule[]> {
    return this.repo.listSchedules();
  }
  unschedule(type: string, vendorId = SYSTEM_VENDOR_ID): Promise<boolean> {
    return this.repo.removeSchedule(type, vendorId);
  }

  /**
   * The queue as Harbor's exporter reports it: pending tasks and how long the next due one has waited (seconds)
   * per job type, tasks running in this process per type (this process is the worker pool), enabled schedules.
   */
  async queueStats(): Promise<{
    queues: { jobType: string; count: number; latencySeconds: number }[];
    running: { jobType: string; count: number }[];
    pool: string;
    scheduled: number;
  }> {
    const now = Date.now();
    const [pending, schedules] = await Promise.all([this.repo.countPendingByType(now), this.repo.listSchedules()]);
    // Every type this process runs is listed, idle ones at 0.
    const running = new Map<string, number>([...this.types.keys()].map((t) => [t, 0]));
    for (const r of this.running.values()) running.set(r.task.jobType, (running.get(r.task.jobType) ?? 0) + 1);
    return {
      queues: pending.map((p) => ({ jobType: p.jobType, count: p.count, latencySeconds: p.oldestDue === null ? 0 : Math.max(0, (now - p.oldestDue) / 1000) })),
      running: [...running].map(([jobType, count]) => ({ jobType, count })),
      pool: this.workerId,
      scheduled: schedules.filter((s) => s.enabled).length,
    };
  }

  // ---- the job service monitor (Harbor's /jobservice) ------------------------------------------------------

  /** A pool whose heartbeat is older than this is gone (its process stopped or died). */
  private get poolStaleMs(): number {
    return Math.max(30_000, 3 * this.heartbeatMs);
  }

  private ownPool(): WorkerPool {
    return { id: this.workerId, host: hostname(), pid: process.pid, concurrency: this.maxWorkers, startTime: this.startTime, heartbeatAt: this.lastHeartbeat || Date.now() };
  }

  /** The worker pools of every live process sharing the database (this one always among them). */
  async listWorkerPools(): Promise<WorkerPool[]> {
    const now = Date.now();
    const rows = await this.repo.listPools(now - this.poolStaleMs);
    const pools = rows.filter((p) => p.id !== this.workerId);
    return this.closed ? pools : [this.ownPool(), ...pools];
  }

  /** The worker slots of one pool, or of all (`all`); a running slot shows its task (job id = task id). */
  async listWorkers(poolId: string): Promise<Worker[]> {
    const pools = await this.listWorkerPools();
    const wanted = poolId.toLowerCase() === ALL ? pools : pools.filter((p) => p.id === poolId);
    if (!wanted.length) throw new JobNotFoundError(`worker pool ${poolId} not found`);
    const out: Worker[] = [];
    for (const p of wanted) {
      const tasks = await this.repo.listRunningTasks(p.id);
      const slots = Math.max(p.concurrency, tasks.length);
      for (let i = 0; i < slots; i++) {
        const t = tasks[i];
        out.push({
          id: `${p.id}#${i + 1}`,
          poolId: p.id,
          ...(t ? { job: { id: String(t.id), name: t.jobType, startTime: t.startTime, checkIn: t.statusMessage, checkInAt: t.updateTime } } : {}),
        });
      }
    }
    return out;
  }

  private async taskOfJobId(jobId: string): Promise<Task> {
    const t = /^[1-9][0-9]{0,14}$/.test(jobId) ? await this.repo.findTask(Number(jobId)) : null;
    if (!t) throw new JobNotFoundError(`job ${jobId} not found`);
    return t;
  }

  /** Stops the job (task) `jobId`, or every running one (`all`); a job that already ended is left as it is. */
  async stopJob(jobId: string): Promise<void> {
    const tasks = jobId.toLowerCase() === ALL ? await this.repo.listRunningTasks() : [await this.taskOfJobId(jobId)];
    for (const t of tasks) if (!isFinal(t.status)) await this.stop(t.executionId);
  }

  /** The log of one job (task), as getTaskLogText. */
  async getJobLogText(jobId: string): Promise<string> {
    return this.getTaskLogText((await this.taskOfJobId(jobId)).id);
  }

  /** Every job type known here: registered in this process, with tasks, with a queue status, and SCHEDULER. */
  private async knownQueues(): Promise<string[]> {
    const types = new Set<string>([SCHEDULER_QUEUE, ...this.types.keys(), ...(await this.repo.knownJobTypes())]);
    return [...types].sort();
  }

  /** One queue per job type: pending count, latency of the oldest due task (seconds), paused. */
  async listQueues(): Promise<JobQueue[]> {
    const now = Date.now();
    const [types, pending, paused, due] = await Promise.all([this.knownQueues(), this.repo.countPendingByType(now), this.repo.pausedJobTypes(), this.repo.listDueSchedules(now, 10_000)]);
    const byType = new Map(pending.map((p) => [p.jobType, p]));
    const latency = (oldest: number | null) => (oldest === null ? 0 : Math.max(0, Math.floor((now - oldest) / 1000)));
    return types.map((jobType) => {
      if (jobType === SCHEDULER_QUEUE) {
        const oldest = due.length ? Math.min(...due.map((s) => s.nextRunAt!)) : null;
        return { jobType, count: due.length + (byType.get(jobType)?.count ?? 0), latencySeconds: latency(oldest), paused: paused.has(jobType) };
      }
      const p = byType.get(jobType);
      return { jobType, count: p?.count ?? 0, latencySeconds: latency(p?.oldestDue ?? null), paused: paused.has(jobType) };
    });
  }

  /**
   * Harbor's queue actions on a job type, or on every known one (`all`): pause (its pending tasks are not started,
   * by any process, until resumed), resume, stop (its pending tasks end Stopped; running ones go on).
   */
  async queueAction(jobType: string, action: QueueAction): Promise<void> {
    const known = await this.knownQueues();
    const upper = jobType.toUpperCase();
    let types: string[];
    if (jobType.toLowerCase() === ALL) types = known;
    else {
      const t = known.find((k) => k === jobType || k === upper);
      if (!t) throw new JobNotFoundError(`job queue ${jobType} not found`);
      types = [t];
    }
    if (action === 'pause') await this.repo.setQueuesPaused(types, true);
    else if (action === 'resume') {
      await this.repo.setQueuesPaused(types, false);
      this.wake();
    } else {
      await this.repo.stopPendingTasks(types.filter((t) => t !== SCHEDULER_QUEUE));
      if (types.includes(SCHEDULER_QUEUE)) await this.skipDueSchedules();
    }
  }

  /** Whether schedules are paused (the SCHEDULER queue; Harbor's GET /schedules/all/paused). */
  schedulerPaused(): Promise<boolean> {
    return this.repo.isQueuePaused(SCHEDULER_QUEUE);
  }

  listSchedulesPage(limit: number, offset: number): Promise<Schedule[]> {
    return this.repo.listSchedulesPage(limit, offset);
  }
  countSchedules(): Promise<number> {
    return this.repo.countSchedules();
  }

  /** Moves each due schedule to its next occurrence without submitting the due one. */
  private async skipDueSchedules(): Promise<void> {
    for (const s of await this.repo.listDueSchedules(Date.now(), 10_000)) {
      await this.repo.fireSchedule(s.id, s.nextRunAt!, (at) => {
        try {
          return nextOccurrence(s.cron, at);
        } catch {
          return null;
        }
      }, async () => true);
    }
  }

  private async heartbeat(): Promise<void> {
    const now = Date.now();
    if (now - this.lastHeartbeat < this.heartbeatMs) return;
    this.lastHeartbeat = now;
    try {
      const p = this.ownPool();
      await this.repo.savePoolHeartbeat({ ...p, heartbeatAt: now });
      // Forget pools silent for a day (processes that died without removing their row).
      if (Math.random() < 0.05) await this.repo.listPools(now, now - 86_400_000);
    } catch (e) {
      this.onError('recording the worker pool heartbeat', e);
    }
  }

  /** Number of tasks this process is running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Stops polling, waits up to `timeoutMs` for running handlers, then aborts the rest and hands their tasks
   * back to the queue (without counting the run) for the next process.
   */
  async close(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.ticking?.catch(() => {});
    const all = () => Promise.all([...this.running.values()].map((r) => r.done));
    await Promise.race([all(), sleep(timeoutMs)]);
    for (const r of [...this.running.values()]) {
      r.reason ??= 'shutdown';
      r.ac.abort(new Error('job service shutting down'));
      await this.repo.releaseTask(r.task.id, r.task.lockedBy!).catch((e) => this.onError(`releasing task ${r.task.id}`, e));
    }
    // Give aborted handlers a moment to return; their results are no longer written (the lock is gone).
    await Promise.race([all(), sleep(200)]);
    if (this.lastHeartbeat) await this.repo.removePool(this.workerId).catch((e) => this.onError('removing the worker pool', e));
  }

  // ---- polling ------------------------------------------------------------------------------------------

  /** Polls now (after the current poll, if one is under way). */
  private wake(): void {
    if (!this.started || this.closed) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.ticking = this.tick().finally(() => {
      this.ticking = null;
      if (this.closed) return;
      if (this.again) {
        this.again = false;
        this.wake();
      } else {
        this.timer = setTimeout(() => this.wake(), this.pollMs);
        this.timer.unref();
      }
    });
  }

  private async tick(): Promise<void> {
    await this.heartbeat();
    // Schedules at most once per poll interval: a busy queue wakes the loop after every finished task (each
    // webhook delivery), and the query would run as often. A due schedule fires at most one interval late.
    const now = Date.now();
    if (now - this.lastScheduleCheck >= this.pollMs) {
      this.lastScheduleCheck = now;
      try {
        await this.fireSchedules();
      } catch (e) {
        this.onError('firing schedules', e);
      }
    }
    if (this.closed) return;
    const free = this.maxWorkers - this.running.size;
    if (free <= 0 || !this.types.size) return;
    let tasks: Task[];
    try {
      tasks = await this.repo.claimTasks([...this.types.keys()], this.workerId, free, this.leaseMs);
    } catch (e) {
      this.onError('claiming tasks', e);
      return;
    }
    for (const t of tasks) this.run(t);
  }

  private async fireSchedules(): Promise<void> {
    const due = await this.repo.listDueSchedules(Date.now());
    if (due.length && (await this.repo.isQueuePaused(SCHEDULER_QUEUE))) return;
    for (const s of due) {
      if (this.closed) return;
      const next = (firedAt: number): number | null => {
        try {
          return nextOccurrence(s.cron, firedAt);
        } catch (e) {
          this.onError(`schedule ${s.id} (${s.vendorType}) has an invalid expression`, e);
          return null;
        }
      };
      const ex = await this.repo.fireSchedule(s.id, s.nextRunAt!, next, (q) =>
        this.submit(s.vendorType, s.params, 'schedule', { vendorId: s.vendorId, q, extraAttrs: { schedule_id: s.id } }),
      );
      if (ex) this.again = true;
    }
  }

  // ---- running one task ---------------------------------------------------------------------------------

  private abortLocal(taskId: number, reason: 'stop' | 'lost'): void {
    for (const r of this.running.values()) {
      if (r.task.id !== taskId || r.ac.signal.aborted) continue;
      r.reason ??= reason;
      r.ac.abort(new Error(reason === 'stop' ? 'job stopped' : 'job lease lost'));
    }
  }

  private run(task: Task): void {
    const entry: Running = { task, ac: new AbortController(), reason: null, done: Promise.resolve() };
    // Still running here under an older claim whose lease lapsed (a stalled event loop): that run lost the task.
    this.abortLocal(task.id, 'lost');
    this.running.set(task.lockedBy!, entry);
    entry.done = this.execute(entry)
      .catch((e) => this.onError(`task ${task.id}`, e))
      .finally(() => {
        this.running.delete(task.lockedBy!);
        this.wake();
      });
  }

  private async execute(entry: Running): Promise<void> {
    const { task, ac } = entry;
    const lock = task.lockedBy!;
    const reg = this.types.get(task.jobType)!;
    if (task.stopRequested) {
      await this.finishTask(task.id, lock, { status: 'Stopped', message: 'stopped' });
      return;
    }
    // Runs whose worker died count as attempts, but a task is re-run up to LOST_RUNS_ALLOWED times beyond
    // max_attempts for that reason (a crash-interrupted GC resumes); a task that keeps killing its process
    // ends in Error instead of looping.
    if (task.runCount > task.maxAttempts + LOST_RUNS_ALLOWED) {
      const msg = `gave up after ${task.runCount - 1} runs whose worker stopped renewing its lease`;
      await this.repo.saveTaskLog(task.id, [msg]);
      await this.finishTask(task.id, lock, { status: 'Error', statusCode: 1, message: msg, error: msg });
      return this.retain(task, reg);
    }

    // Logs: buffered and written in order by one chain, so a handler's log() never blocks it.
    let buffer: string[] = [];
    let lines = 0;
    let chain: Promise<void> = Promise.resolve();
    let flushTimer: NodeJS.Timeout | null = null;
    const flush = () => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = null;
      const batch = buffer;
      buffer = [];
      if (batch.length) chain = chain.then(() => this.repo.saveTaskLog(task.id, batch)).catch((e) => this.onError(`task ${task.id} log`, e));
      return chain;
    };
    // Ends the run with the lines still buffered written in the same transaction (earlier batches first); when
    // the lease was lost meanwhile, the lines are still kept.
    const finish = async (out: TaskOutcome) => {
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = null;
      const tail = buffer;
      buffer = [];
      await chain;
      await progressWrite;
      if (!(await this.finishTask(task.id, lock, out, tail))) await this.repo.saveTaskLog(task.id, tail).catch((e) => this.onError(`task ${task.id} log`, e));
    };
    const log = (line: string) => {
      if (lines > this.maxLogLines) return;
      lines++;
      buffer.push(lines > this.maxLogLines ? `... log truncated after ${this.maxLogLines} lines` : String(line));
      if (buffer.length >= 200) void flush();
      else if (!flushTimer) {
        flushTimer = setTimeout(() => void flush(), 100);
        flushTimer.unref();
      }
    };
    let progressValue: number | null = null;
    let progressWrite: Promise<void> | null = null;
    const progress = (p: number) => {
      progressValue = Math.min(100, Math.max(0, Number(p) || 0));
      // At most one write in flight; the latest value wins.
      progressWrite ??= (async () => {
        while (progressValue !== null) {
          const v = progressValue;
          progressValue = null;
          await this.repo.saveTaskProgress(task.id, lock, v).catch((e) => this.onError(`task ${task.id} progress`, e));
        }
        progressWrite = null;
      })();
    };
    const renew = async () => {
      const r = await this.repo.renewLease(task.id, lock, this.leaseMs);
      if (!r) {
        this.abortLocal(task.id, 'lost');
        throw new Error('job lease lost');
      }
      if (r.stopRequested) this.abortLocal(task.id, 'stop');
    };
    const leaseTimer = setInterval(() => renew().catch(() => {}), Math.max(10, Math.floor(this.leaseMs / 3)));
    leaseTimer.unref();

    if (task.runCount > 1) log(`attempt ${task.runCount} of ${task.maxAttempts}`);
    let result: JobParams | void = undefined;
    let failure: unknown = null;
    try {
      result = await reg.handler({
        executionId: task.executionId,
        taskId: task.id,
        attempt: task.runCount,
        params: task.params,
        signal: ac.signal,
        log,
        progress,
        heartbeat: renew,
      });
    } catch (e) {
      failure = e;
    } finally {
      clearInterval(leaseTimer);
    }
    if (entry.reason === 'shutdown' || entry.reason === 'lost') {
      await flush();
      return; // the task was handed back, or another process owns it now
    }
    if (entry.reason === 'stop') {
      log('stopped');
      await finish({ status: 'Stopped', message: 'stopped' });
      return this.retain(task, reg);
    }
    if (failure === null) {
      await chain;
      await progressWrite;
      if (result && typeof result === 'object') {
        const ex = await this.repo.findExecution(task.executionId);
        if (ex) await this.repo.saveExecutionAttrs(ex.id, { ...ex.extraAttrs, ...result });
      }
      await finish({ status: 'Success', progress: 100 });
      return this.retain(task, reg);
    }
    const msg = message(failure);
    const retry = !(failure instanceof PermanentJobError) && task.runCount < task.maxAttempts;
    if (retry) {
      const delay = Math.min(reg.opts.maxBackoffMs, reg.opts.backoffMs * 2 ** (task.runCount - 1));
      log(`attempt ${task.runCount} failed: ${msg}; retrying in ${delay} ms`);
      await finish({ status: 'Pending', error: msg, retryAt: Date.now() + delay });
      return;
    }
    log(`failed: ${msg}`);
    await finish({ status: 'Error', statusCode: 1, message: msg, error: msg });
    return this.retain(task, reg);
  }

  /**
   * Ends a run through a group commit: while one batch's transaction is in flight, the next ends wait and go in
   * the following one together. An idle queue commits at once (no added latency); a busy one (a webhook delivery
   * per policy per push) pays one durable commit per batch instead of per task, which pushes would otherwise wait
   * behind on SQLite's single writer.
   */
  private finishTask(taskId: number, lockedBy: string, out: TaskOutcome, log: readonly string[] = []): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.finishQueue.push({ item: { taskId, lockedBy, out, log }, resolve, reject });
      if (!this.finishing) this.finishing = this.drainFinishes().finally(() => (this.finishing = null));
    });
  }

  private async drainFinishes(): Promise<void> {
    while (this.finishQueue.length) {
      const batch = this.finishQueue.splice(0, FINISH_BATCH);
      try {
        const done = await this.repo.finishTasks(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(done[i]!));
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
  }

  private async retain(task: Task, reg: Registered): Promise<void> {
    if (reg.opts.retainExecutions === null) return;
    const vendorId = reg.opts.retainPerVendor ? (task.vendorId ?? (await this.repo.findExecution(task.executionId))?.vendorId) : undefined;
    // With slack, look only on every slack-th finish of a (type, vendor) here: the executions can then grow to
    // keep + 2 × slack, and the other finishes cost no query at all.
    const slack = reg.opts.retainSlack;
    if (slack > 0) {
      const key = `${task.jobType}/${vendorId ?? ''}`;
      const n = this.retainCounts.get(key) ?? 0;
      if (this.retainCounts.size > 10_000 && n === 0) this.retainCounts.clear();
      this.retainCounts.set(key, (n + 1) % slack);
      if (n !== 0) return;
    }
    await this.repo.removeOldExecutions(task.jobType, reg.opts.retainExecutions, vendorId, slack);
  }
}
