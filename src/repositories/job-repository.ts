// Job service tables: executions (one per submitted job), tasks (the queue: claimed under a lease), task
// logs and cron schedules. Every status change of a task recomputes its execution's status in the same
// transaction. Claims are atomic across processes: FOR UPDATE SKIP LOCKED on PostgreSQL, the single-writer
// transaction (BEGIN IMMEDIATE) on SQLite.
import type { Db, Param, Queryable } from '../db/db.ts';
import { inList, RELAXED } from '../db/db.ts';
import { orderSql, whereSql, type ListQuery } from './list-query.ts';

export type JobStatus = 'Pending' | 'Running' | 'Stopped' | 'Error' | 'Success';
export type JobTrigger = 'manual' | 'schedule' | 'event';
export type JobParams = Record<string, unknown>;

/** Which executions a list or count covers: one vendor type or several, optionally one vendor. */
export interface ExecutionFilter {
  vendorType?: string | readonly string[];
  vendorId?: number;
  /** Harbor's q conditions on execution columns (system job history). */
  where?: ListQuery<ExecutionField>['where'];
  /** Any of these statuses (Harbor's `status` keyword with a list: IN). */
  status?: readonly string[];
}

/** Execution fields a history query may filter or sort on; `id_text` is the id as text, for Harbor's `id=~5`. */
export type ExecutionField = 'id' | 'id_text' | 'status' | 'trigger' | 'start_time' | 'update_time' | 'end_time';
const EXECUTION_COLUMNS: Readonly<Record<ExecutionField, string>> = {
  id: 'id',
  id_text: 'CAST(id AS TEXT)',
  status: 'status',
  trigger: 'trigger',
  start_time: 'start_time',
  update_time: 'update_time',
  end_time: 'end_time',
};

/** How one run of a task ends: a final status, or Pending again at `retryAt`. */
export interface TaskOutcome {
  status: JobStatus;
  statusCode?: number;
  message?: string;
  error?: string | null;
  retryAt?: number;
  progress?: number;
}

export interface Execution {
  id: number;
  vendorType: string;
  vendorId: number;
  status: JobStatus;
  statusMessage: string;
  trigger: JobTrigger;
  extraAttrs: JobParams;
  startTime: number;
  endTime: number | null;
  updateTime: number;
}

export interface Task {
  id: number;
  executionId: number;
  jobType: string;
  status: JobStatus;
  statusCode: number;
  statusMessage: string;
  params: JobParams;
  progress: number;
  runCount: number;
  maxAttempts: number;
  runAt: number;
  lockedBy: string | null;
  leaseUntil: number | null;
  stopRequested: boolean;
  lastError: string | null;
  creationTime: number;
  startTime: number | null;
  endTime: number | null;
  updateTime: number;
  /** The execution's vendor id, when the query that read the task joined it (claims do). */
  vendorId?: number;
}

export interface Schedule {
  id: number;
  vendorType: string;
  vendorId: number;
  cron: string;
  params: JobParams;
  enabled: boolean;
  nextRunAt: number | null;
  creationTime: number;
  updateTime: number;
}

export interface WorkerPoolRow {
  id: string;
  host: string;
  pid: number;
  /** Its worker slots (jobservice.max_job_workers). */
  concurrency: number;
  startTime: number;
  heartbeatAt: number;
}

export interface TaskLogLine {
  id: number;
  createdAt: number;
  line: string;
}

type R = Record<string, unknown>;
const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const json = (v: unknown): JobParams => (typeof v === 'string' && v ? (JSON.parse(v) as JobParams) : {});

const toExecution = (r: R): Execution => ({
  id: num(r.id),
  vendorType: String(r.vendor_type),
  vendorId: num(r.vendor_id),
  status: r.status as JobStatus,
  statusMessage: String(r.status_message ?? ''),
  trigger: r.trigger as JobTrigger,
  extraAttrs: json(r.extra_attrs),
  startTime: num(r.start_time),
  endTime: numOrNull(r.end_time),
  updateTime: num(r.update_time),
});

const toTask = (r: R): Task => ({
  id: num(r.id),
  executionId: num(r.execution_id),
  jobType: String(r.job_type),
  status: r.status as JobStatus,
  statusCode: num(r.status_code),
  statusMessage: String(r.status_message ?? ''),
  params: json(r.params),
  progress: num(r.progress),
  runCount: num(r.run_count),
  maxAttempts: num(r.max_attempts),
  runAt: num(r.run_at),
  lockedBy: (r.locked_by as string | null) ?? null,
  leaseUntil: numOrNull(r.lease_until),
  stopRequested: num(r.stop_requested) === 1,
  lastError: (r.last_error as string | null) ?? null,
  creationTime: num(r.creation_time),
  startTime: numOrNull(r.start_time),
  endTime: numOrNull(r.end_time),
  updateTime: num(r.update_time),
  ...(r.vendor_id !== undefined ? { vendorId: num(r.vendor_id) } : {}),
});

const toSchedule = (r: R): Schedule => ({
  id: num(r.id),
  vendorType: String(r.vendor_type),
  vendorId: num(r.vendor_id),
  cron: String(r.cron),
  params: json(r.params),
  enabled: num(r.enabled) === 1,
  nextRunAt: numOrNull(r.next_run_at),
  creationTime: num(r.creation_time),
  updateTime: num(r.update_time),
});

const FINAL: readonly JobStatus[] = ['Stopped', 'Error', 'Success'];
export const isFinal = (s: JobStatus): boolean => FINAL.includes(s);

export class JobRepository {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  // ---- executions and tasks --------------------------------------------------------------------------

  /** One execution with one Pending task, in the caller's transaction when `q` is given. */
  async saveExecution(
    e: { vendorType: string; vendorId: number; trigger: JobTrigger; extraAttrs: JobParams; params: JobParams; maxAttempts: number; runAt?: number; tasks?: readonly JobParams[] },
    q?: Queryable,
  ): Promise<Execution> {
    const go = async (t: Queryable) => {
      const now = Date.now();
      // One task per entry of `tasks` (retention: one per repository), else one with `params`; no task at all
      // means nothing to do, and the execution is done at once (Harbor marks such an execution Success).
      const tasks = e.tasks ?? [e.params];
      const row = await t.get<R>(
        `INSERT INTO executions (vendor_type, vendor_id, status, trigger, extra_attrs, start_time, end_time, update_time)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
        [e.vendorType, e.vendorId, tasks.length ? 'Pending' : 'Success', e.trigger, JSON.stringify(e.extraAttrs), now, tasks.length ? null : now, now],
      );
      const ex = toExecution(row!);
      for (const params of tasks)
        await t.run(
          `INSERT INTO tasks (execution_id, job_type, status, params, max_attempts, run_at, creation_time, update_time)
           VALUES (?, ?, 'Pending', ?, ?, ?, ?, ?)`,
          [ex.id, e.vendorType, JSON.stringify(params), e.maxAttempts, e.runAt ?? now, now, now],
        );
      return ex;
    };
    return q ? go(q) : this.db.tx(go);
  }

  /** Adds tasks to an existing execution (replication: one task per artifact, planned by the first task). */
  async saveTasks(executionId: number, jobType: string, params: readonly JobParams[], maxAttempts: number): Promise<void> {
    if (!params.length) return;
    await this.db.tx(async (t) => {
      const now = Date.now();
      for (const p of params)
        await t.run(
          `INSERT INTO tasks (execution_id, job_type, status, params, max_attempts, run_at, creation_time, update_time)
           VALUES (?, ?, 'Pending', ?, ?, ?, ?, ?)`,
          [executionId, jobType, JSON.stringify(p), maxAttempts, now, now, now],
        );
    });
  }

  async findExecution(id: number): Promise<Execution | null> {
    const r = await this.db.get<R>('SELECT * FROM executions WHERE id = ?', [id]);
    return r ? toExecution(r) : null;
  }

  private executionWhere(f: ExecutionFilter): [string, Param[]] {
    const where: string[] = [];
    const params: Param[] = [];
    if (typeof f.vendorType === 'string') (where.push('vendor_type = ?'), params.push(f.vendorType));
    else if (f.vendorType) (where.push(`vendor_type IN (${f.vendorType.map(() => '?').join(', ')})`), params.push(...f.vendorType));
    if (f.vendorId !== undefined) (where.push('vendor_id = ?'), params.push(f.vendorId));
    if (f.where) {
      const [sql, p] = whereSql(EXECUTION_COLUMNS, f.where);
      if (sql) (where.push(sql.replace(/^ AND /, '')), params.push(...p));
    }
    if (f.status) (where.push(f.status.length ? `status IN (${f.status.map(() => '?').join(', ')})` : '1 = 0'), params.push(...f.status));
    return [where.length ? 'WHERE ' + where.join(' AND ') : '', params];
  }

  /** Newest first, unless `sort` says otherwise (ties newest first). */
  async listExecutions(f: ExecutionFilter & { limit?: number; offset?: number; sort?: ListQuery<ExecutionField>['sort'] } = {}): Promise<Execution[]> {
    const [w, params] = this.executionWhere(f);
    const order = orderSql(EXECUTION_COLUMNS, f.sort ?? [], 'id DESC');
    const rows = await this.db.all<R>(`SELECT * FROM executions ${w}${order} LIMIT ? OFFSET ?`, [...params, f.limit ?? 100, f.offset ?? 0]);
    return rows.map(toExecution);
  }

  async countExecutions(f: ExecutionFilter = {}): Promise<number> {
    const [w, params] = this.executionWhere(f);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM executions ${w}`, params);
    return Number(r?.n ?? 0);
  }

  /** Tasks per status of each execution (Harbor's execution metrics). */
  async countTasksByStatus(executionIds: readonly number[]): Promise<Map<number, Record<string, number>>> {
    const out = new Map<number, Record<string, number>>();
    if (!executionIds.length) return out;
    const rows = await this.db.all<{ execution_id: number; status: string; n: number }>(
      `SELECT execution_id, status, COUNT(*) AS n FROM tasks WHERE execution_id IN (${executionIds.map(() => '?').join(', ')}) GROUP BY execution_id, status`,
      [...executionIds],
    );
    for (const r of rows) {
      const m = out.get(num(r.execution_id)) ?? {};
      m[r.status] = Number(r.n);
      out.set(num(r.execution_id), m);
    }
    return out;
  }

  async saveExecutionAttrs(id: number, extraAttrs: JobParams): Promise<void> {
    await this.db.run('UPDATE executions SET extra_attrs = ?, update_time = ? WHERE id = ?', [JSON.stringify(extraAttrs), Date.now(), id]);
  }

  async findTask(id: number): Promise<Task | null> {
    const r = await this.db.get<R>('SELECT * FROM tasks WHERE id = ?', [id]);
    return r ? toTask(r) : null;
  }

  async listTasks(executionId: number): Promise<Task[]> {
    return (await this.db.all<R>('SELECT * FROM tasks WHERE execution_id = ? ORDER BY id', [executionId])).map(toTask);
  }

  /**
   * Claims up to `limit` runnable tasks of the given types for `lockPrefix`: Pending ones that are due, and
   * Running ones whose lease expired (their process died). Each claimed task gets its own lock token
   * (`lockPrefix/<id>/<run>`), a fresh lease and run_count + 1; its execution turns Running.
   */
  async claimTasks(types: readonly string[], lockPrefix: string, limit: number, leaseMs: number): Promise<Task[]> {
    if (!types.length || limit <= 0) return [];
    const now = Date.now();
    // A paused queue (job_queue_status) keeps its tasks where they are, whichever process paused it.
    const ofTypes = `job_type IN (${inList(types.length)}) AND job_type NOT IN (SELECT job_type FROM job_queue_status WHERE paused = 1)`;
    const expired = `status = 'Running' AND lease_until < ? AND ${ofTypes}`;
    const pending = `status = 'Pending' AND run_at <= ? AND ${ofTypes}`;
    // A plain read first: an idle poll takes no write lock (SQLite has one writer for all processes).
    if (!(await this.db.get(`SELECT id FROM tasks WHERE (${pending}) OR (${expired}) LIMIT 1`, [now, ...types, now, ...types]))) return [];
    return this.db.tx(async (q) => {
      const lock = q.dialect === 'postgres' ? 'FOR UPDATE SKIP LOCKED' : '';
      // Two index range scans, each reading at most `limit` rows: the queued backlog (thousands of webhook
      // deliveries after a burst of pushes) is never sorted as a whole. Pending ones come in tasks_due's order.
      const rows = await q.all<R>(
        `UPDATE tasks SET status = 'Running', locked_by = CAST(? AS TEXT) || '/' || CAST(id AS TEXT) || '/' || CAST(run_count + 1 AS TEXT),
           lease_until = ?, run_count = run_count + 1, start_time = ?, end_time = NULL, update_time = ?
         WHERE id IN (SELECT id FROM (
             SELECT id FROM (SELECT id FROM tasks WHERE ${expired} LIMIT ? ${lock}) e
             UNION ALL SELECT id FROM (SELECT id FROM tasks WHERE ${pending} ORDER BY run_at, id LIMIT ? ${lock}) p
           ) u LIMIT ?)
         RETURNING *, (SELECT e.vendor_id FROM executions e WHERE e.id = tasks.execution_id) AS vendor_id`,
        [lockPrefix, now + leaseMs, now, now, now, ...types, limit, now, ...types, limit, limit],
      );
      const tasks = rows.map(toTask).sort((a, b) => a.id - b.id);
      await this.refreshExecutions(q, tasks.map((t) => t.executionId));
      return tasks;
    }, RELAXED);
  }

  /** Extends the lease while `lockedBy` still holds it; null when the lease was lost, else whether a stop was asked. */
  async renewLease(taskId: number, lockedBy: string, leaseMs: number): Promise<{ stopRequested: boolean } | null> {
    const now = Date.now();
    const r = await this.db.get<{ stop_requested: number }>(
      `UPDATE tasks SET lease_until = ?, update_time = ? WHERE id = ? AND locked_by = ? AND status = 'Running' RETURNING stop_requested`,
      [now + leaseMs, now, taskId, lockedBy],
    );
    return r ? { stopRequested: Number(r.stop_requested) === 1 } : null;
  }

  async saveTaskProgress(taskId: number, lockedBy: string, progress: number): Promise<void> {
    await this.db.run(`UPDATE tasks SET progress = ?, update_time = ? WHERE id = ? AND locked_by = ? AND status = 'Running'`, [progress, Date.now(), taskId, lockedBy]);
  }

  /**
   * Ends one run of a task held by `lockedBy`: a final status, or Pending again at `retryAt`. False when the
   * lease was lost meanwhile (another process owns the task now; nothing is written). `log`: the run's last
   * log lines, written in the same transaction (one commit per finished run instead of two).
   */
  async finishTask(taskId: number, lockedBy: string, out: TaskOutcome, log: readonly string[] = []): Promise<boolean> {
    return (await this.finishTasks([{ taskId, lockedBy, out, log }]))[0]!;
  }

  /**
   * Several ends of runs in one transaction (group commit: a busy queue — a webhook delivery per policy per push —
   * would otherwise pay one durable commit per task). Each item is decided on its own, as finishTask would.
   */
  async finishTasks(items: readonly { taskId: number; lockedBy: string; out: TaskOutcome; log?: readonly string[] }[]): Promise<boolean[]> {
    if (!items.length) return [];
    return this.db.tx(async (q) => {
      const done: boolean[] = [];
      const executions = new Set<number>();
      for (const { taskId, lockedBy, out, log = [] } of items) {
        const now = Date.now();
        const pending = out.status === 'Pending';
        const r = await q.get<R>(
          `UPDATE tasks SET status = ?, status_code = ?, status_message = ?, last_error = COALESCE(?, last_error), run_at = ?,
             locked_by = NULL, lease_until = NULL, end_time = ?, update_time = ?, progress = COALESCE(?, progress)
           WHERE id = ? AND locked_by = ? AND status = 'Running' RETURNING execution_id`,
          [
            out.status,
            out.statusCode ?? 0,
            out.message ?? '',
            out.error ?? null,
            out.retryAt ?? now,
            pending ? null : now,
            now,
            out.progress ?? null,
            taskId,
            lockedBy,
          ],
        );
        done.push(!!r);
        if (!r) continue;
        await this.insertTaskLog(q, taskId, log);
        executions.add(num(r.execution_id));
      }
      await this.refreshExecutions(q, executions);
      return done;
    }, RELAXED);
  }

  /** Hands a task back to the queue without counting the run (clean shutdown with the handler still busy). */
  async releaseTask(taskId: number, lockedBy: string): Promise<boolean> {
    const now = Date.now();
    const r = await this.db.run(
      `UPDATE tasks SET status = 'Pending', run_count = run_count - 1, locked_by = NULL, lease_until = NULL, run_at = ?, update_time = ?
       WHERE id = ? AND locked_by = ? AND status = 'Running'`,
      [now, now, taskId, lockedBy],
    );
    return r.changes === 1;
  }

  /** Stop: Pending tasks end Stopped at once; Running ones are flagged for their owner. Returns the Running task ids. */
  async requestStop(executionId: number): Promise<number[]> {
    return this.db.tx(async (q) => {
      const now = Date.now();
      await q.run(
        `UPDATE tasks SET status = 'Stopped', status_message = 'stopped', locked_by = NULL, lease_until = NULL, end_time = ?, update_time = ?
         WHERE execution_id = ? AND status = 'Pending'`,
        [now, now, executionId],
      );
      const running = await q.all<{ id: number }>(
        `UPDATE tasks SET stop_requested = 1, update_time = ? WHERE execution_id = ? AND status = 'Running' RETURNING id`,
        [now, executionId],
      );
      await this.refreshExecutions(q, [executionId]);
      return running.map((r) => num(r.id));
    });
  }

  /**
   * The executions' status from their tasks (Harbor's rule): any Running → Running; else any Pending (a retry
   * waiting) → Running if it started, Pending otherwise; else Error > Stopped > Success. One statement for a
   * whole batch (a group commit of webhook deliveries refreshes dozens of executions).
   */
  private async refreshExecutions(q: Queryable, executionIds: Iterable<number>): Promise<void> {
    // Ascending ids: two processes refreshing the same executions lock them in one order (no deadlock).
    const ids = [...new Set(executionIds)].sort((a, b) => a - b);
    if (!ids.length) return;
    const has = (status: JobStatus) => `EXISTS (SELECT 1 FROM tasks t WHERE t.execution_id = executions.id AND t.status = '${status}')`;
    const final = `NOT ${has('Running')} AND NOT ${has('Pending')}`;
    const now = Date.now();
    for (let i = 0; i < ids.length; i += 500)
      await q.run(
        `UPDATE executions SET
           status = CASE WHEN ${has('Running')} THEN 'Running'
                         WHEN ${has('Pending')} THEN CASE WHEN status = 'Pending' THEN 'Pending' ELSE 'Running' END
                         WHEN ${has('Error')} THEN 'Error' WHEN ${has('Stopped')} THEN 'Stopped' ELSE 'Success' END,
           status_message = CASE WHEN ${final}
             THEN COALESCE((SELECT MAX(t.status_message) FROM tasks t WHERE t.execution_id = executions.id AND t.status = 'Error'), '') ELSE '' END,
           end_time = CASE WHEN ${final} THEN CAST(? AS BIGINT) ELSE NULL END,
           update_time = ?
         WHERE id IN (${inList(Math.min(500, ids.length - i))})`,
        [now, now, ...ids.slice(i, i + 500)],
      );
  }

  /** Keeps the newest `keep` finished executions of a type (with their tasks and logs); returns how many went. */
  /** Deletes finished executions of a type (of one vendor, when given) beyond the newest `keep`. */
  /**
   * Keeps the newest `keep` executions; with `slack`, only once more than keep + slack exist (a read, no write,
   * for the other finishes: a busy job type then prunes once every `slack` runs instead of on every one).
   */
  async removeOldExecutions(vendorType: string, keep: number, vendorId?: number, slack = 0): Promise<number> {
    const [w, p]: [string, Param[]] = vendorId === undefined ? ['vendor_type = ?', [vendorType]] : ['vendor_type = ? AND vendor_id = ?', [vendorType, vendorId]];
    if (slack > 0 && !(await this.db.get(`SELECT id FROM executions WHERE ${w} ORDER BY id DESC LIMIT 1 OFFSET ?`, [...p, keep + slack]))) return 0;
    const cut = await this.db.get<{ id: number }>(`SELECT id FROM executions WHERE ${w} ORDER BY id DESC LIMIT 1 OFFSET ?`, [...p, keep]);
    if (!cut) return 0;
    const r = await this.db.tx((q) => q.run(`DELETE FROM executions WHERE ${w} AND id <= ? AND status IN ('Stopped', 'Error', 'Success')`, [...p, num(cut.id)]), RELAXED);
    return r.changes;
  }

  /** Running tasks, all of them or those claimed by one worker pool (lock tokens start with `<poolId>/`). */
  async listRunningTasks(poolId?: string): Promise<Task[]> {
    const rows =
      poolId === undefined
        ? await this.db.all<R>(`SELECT * FROM tasks WHERE status = 'Running' ORDER BY id`)
        : await this.db.all<R>(`SELECT * FROM tasks WHERE status = 'Running' AND substr(locked_by, 1, ?) = ? ORDER BY id`, [poolId.length + 1, `${poolId}/`]);
    return rows.map(toTask);
  }

  /** Pending tasks of these types end Stopped (their executions are refreshed); returns how many. */
  async stopPendingTasks(types: readonly string[]): Promise<number> {
    if (!types.length) return 0;
    return this.db.tx(async (q) => {
      const now = Date.now();
      const rows = await q.all<{ execution_id: unknown }>(
        `UPDATE tasks SET status = 'Stopped', status_message = 'stopped', locked_by = NULL, lease_until = NULL, end_time = ?, update_time = ?
         WHERE status = 'Pending' AND job_type IN (${inList(types.length)}) RETURNING execution_id`,
        [now, now, ...types],
      );
      await this.refreshExecutions(q, rows.map((r) => num(r.execution_id)));
      return rows.length;
    });
  }

  // ---- queue status and worker pools -------------------------------------------------------------------

  async setQueuesPaused(types: readonly string[], paused: boolean): Promise<void> {
    const now = Date.now();
    await this.db.tx(async (q) => {
      for (const t of types)
        await q.run(
          `INSERT INTO job_queue_status (job_type, paused, update_time) VALUES (?, ?, ?)
           ON CONFLICT (job_type) DO UPDATE SET paused = excluded.paused, update_time = excluded.update_time`,
          [t, paused ? 1 : 0, now],
        );
    });
  }

  async pausedJobTypes(): Promise<Set<string>> {
    const rows = await this.db.all<{ job_type: string }>('SELECT job_type FROM job_queue_status WHERE paused = 1');
    return new Set(rows.map((r) => String(r.job_type)));
  }

  async isQueuePaused(type: string): Promise<boolean> {
    return !!(await this.db.get('SELECT job_type FROM job_queue_status WHERE job_type = ? AND paused = 1', [type]));
  }

  /** Job types that have tasks or a queue status row. */
  async knownJobTypes(): Promise<string[]> {
    const rows = await this.db.all<{ t: string }>('SELECT DISTINCT job_type AS t FROM tasks UNION SELECT job_type AS t FROM job_queue_status');
    return rows.map((r) => String(r.t));
  }

  async savePoolHeartbeat(p: WorkerPoolRow): Promise<void> {
    await this.db.run(
      `INSERT INTO job_worker_pools (id, host, pid, concurrency, start_time, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET concurrency = excluded.concurrency, heartbeat_at = excluded.heartbeat_at`,
      [p.id, p.host, p.pid, p.concurrency, p.startTime, p.heartbeatAt],
    );
  }

  async removePool(id: string): Promise<void> {
    await this.db.run('DELETE FROM job_worker_pools WHERE id = ?', [id]);
  }

  /** Pools whose heartbeat is not older than `since`; older rows than `forgetBefore` are deleted. */
  async listPools(since: number, forgetBefore?: number): Promise<WorkerPoolRow[]> {
    if (forgetBefore !== undefined) await this.db.run('DELETE FROM job_worker_pools WHERE heartbeat_at < ?', [forgetBefore]);
    const rows = await this.db.all<R>('SELECT * FROM job_worker_pools WHERE heartbeat_at >= ? ORDER BY start_time, id', [since]);
    return rows.map((r) => ({
      id: String(r.id),
      host: String(r.host),
      pid: num(r.pid),
      concurrency: num(r.concurrency),
      startTime: num(r.start_time),
      heartbeatAt: num(r.heartbeat_at),
    }));
  }

  // ---- logs --------------------------------------------------------------------------------------------

  async saveTaskLog(taskId: number, lines: readonly string[]): Promise<void> {
    if (!lines.length) return;
    await this.db.tx((q) => this.insertTaskLog(q, taskId, lines), RELAXED);
  }

  private async insertTaskLog(q: Queryable, taskId: number, lines: readonly string[]): Promise<void> {
    const now = Date.now();
    for (let i = 0; i < lines.length; i += 200) {
      const part = lines.slice(i, i + 200);
      await q.run(`INSERT INTO task_logs (task_id, created_at, line) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}`, part.flatMap((l) => [taskId, now, l]));
    }
  }

  async listTaskLog(taskId: number): Promise<TaskLogLine[]> {
    const rows = await this.db.all<R>('SELECT id, created_at, line FROM task_logs WHERE task_id = ? ORDER BY id', [taskId]);
    return rows.map((r) => ({ id: num(r.id), createdAt: num(r.created_at), line: String(r.line) }));
  }

  async countTaskLog(taskId: number): Promise<number> {
    const r = await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM task_logs WHERE task_id = ?', [taskId]);
    return Number(r?.n ?? 0);
  }

  // ---- schedules ---------------------------------------------------------------------------------------

  /**
   * Creates or replaces the schedule of (vendorType, vendorId). Re-saving the same expression while enabled keeps
   * the pending occurrence; the database decides that, so a process saving at start cannot put back an occurrence
   * another process fired between its read and this write (that fired it twice).
   */
  async saveSchedule(s: { vendorType: string; vendorId: number; cron: string; params: JobParams; enabled: boolean; nextRunAt: number | null }): Promise<Schedule> {
    const now = Date.now();
    const row = await this.db.get<R>(
      `INSERT INTO schedules (vendor_type, vendor_id, cron, params, enabled, next_run_at, creation_time, update_time)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (vendor_type, vendor_id) DO UPDATE SET cron = excluded.cron, params = excluded.params, enabled = excluded.enabled,
         next_run_at = CASE WHEN schedules.cron = excluded.cron AND schedules.enabled = 1 AND excluded.enabled = 1
           AND schedules.next_run_at IS NOT NULL THEN schedules.next_run_at ELSE excluded.next_run_at END,
         update_time = excluded.update_time
       RETURNING *`,
      [s.vendorType, s.vendorId, s.cron, JSON.stringify(s.params), s.enabled ? 1 : 0, s.nextRunAt, now, now],
    );
    return toSchedule(row!);
  }

  async findSchedule(vendorType: string, vendorId: number): Promise<Schedule | null> {
    const r = await this.db.get<R>('SELECT * FROM schedules WHERE vendor_type = ? AND vendor_id = ?', [vendorType, vendorId]);
    return r ? toSchedule(r) : null;
  }

  async listSchedules(): Promise<Schedule[]> {
    return (await this.db.all<R>('SELECT * FROM schedules ORDER BY id')).map(toSchedule);
  }

  /** Pending tasks per job type, with the oldest run_at among those already due (null: none due yet). */
  async countPendingByType(now: number): Promise<{ jobType: string; count: number; oldestDue: number | null }[]> {
    const rows = await this.db.all<{ job_type: string; n: unknown; oldest: unknown }>(
      `SELECT job_type, COUNT(*) AS n, MIN(CASE WHEN run_at <= ? THEN run_at END) AS oldest FROM tasks WHERE status = 'Pending' GROUP BY job_type`,
      [now],
    );
    return rows.map((r) => ({ jobType: r.job_type, count: Number(r.n), oldestDue: r.oldest === null ? null : Number(r.oldest) }));
  }

  async listSchedulesPage(limit: number, offset: number): Promise<Schedule[]> {
    return (await this.db.all<R>('SELECT * FROM schedules ORDER BY id LIMIT ? OFFSET ?', [limit, offset])).map(toSchedule);
  }

  async countSchedules(): Promise<number> {
    const r = await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM schedules');
    return Number(r?.n ?? 0);
  }

  async removeSchedule(vendorType: string, vendorId: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM schedules WHERE vendor_type = ? AND vendor_id = ?', [vendorType, vendorId])).changes === 1;
  }

  async listDueSchedules(now: number, limit = 100): Promise<Schedule[]> {
    return (await this.db.all<R>('SELECT * FROM schedules WHERE enabled = 1 AND next_run_at <= ? ORDER BY next_run_at LIMIT ?', [now, limit])).map(toSchedule);
  }

  /**
   * Fires one occurrence: moves next_run_at from `expected` to `next(firedAt)` and, only if this process won that
   * compare-and-set, runs `then` in the same transaction (so an occurrence is submitted exactly once). The next
   * occurrence is computed from the time inside the transaction, not from when the due list was read: with a slow
   * database an interval schedule would otherwise come due again sooner than its interval.
   */
  async fireSchedule<T>(id: number, expected: number, next: (firedAt: number) => number | null, then: (q: Queryable) => Promise<T>): Promise<T | null> {
    return this.db.tx(async (q) => {
      const firedAt = Date.now();
      const r = await q.run('UPDATE schedules SET next_run_at = ?, update_time = ? WHERE id = ? AND next_run_at = ? AND enabled = 1', [next(firedAt), firedAt, id, expected]);
      if (r.changes !== 1) return null;
      return then(q);
    });
  }
}
