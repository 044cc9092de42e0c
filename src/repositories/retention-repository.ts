// Retention policies (migration 19): one row per project, the policy body as JSON text; the per-task counts
// Harbor shows (total, retained) beside the job service's tasks; the repositories a run walks.
import type { Queryable } from '../db/db.ts';

export interface RetentionPolicyRow {
  id: number;
  projectId: number;
  /** Harbor's policy Metadata without id (algorithm, rules, trigger, scope). */
  policy: Record<string, unknown>;
}
interface Raw {
  id: number;
  project_id: number;
  policy: string;
}
const toRow = (r: Raw): RetentionPolicyRow => ({ id: Number(r.id), projectId: Number(r.project_id), policy: JSON.parse(r.policy) as Record<string, unknown> });

export class RetentionRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findPolicy(id: number, q: Queryable = this.db): Promise<RetentionPolicyRow | null> {
    const r = await q.get<Raw>('SELECT id, project_id, policy FROM retention_policies WHERE id = ?', [id]);
    return r ? toRow(r) : null;
  }
  async findPolicyOfProject(projectId: number, q: Queryable = this.db): Promise<RetentionPolicyRow | null> {
    const r = await q.get<Raw>('SELECT id, project_id, policy FROM retention_policies WHERE project_id = ?', [projectId]);
    return r ? toRow(r) : null;
  }
  /** Inserts the project's policy; null when the project already has one. */
  async saveNewPolicy(projectId: number, policy: Record<string, unknown>, q: Queryable = this.db): Promise<number | null> {
    const now = Date.now();
    const r = await q.get<{ id: number }>(
      'INSERT INTO retention_policies (project_id, policy, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (project_id) DO NOTHING RETURNING id',
      [projectId, JSON.stringify(policy), now, now],
    );
    return r ? Number(r.id) : null;
  }
  async savePolicy(id: number, policy: Record<string, unknown>, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('UPDATE retention_policies SET policy = ?, updated_at = ? WHERE id = ?', [JSON.stringify(policy), Date.now(), id])).changes > 0;
  }
  async removePolicy(id: number, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('DELETE FROM retention_policies WHERE id = ?', [id])).changes > 0;
  }
  /** The project's repositories (full names), by name. */
  async listRepositoryNames(projectId: number, q: Queryable = this.db): Promise<{ id: number; name: string }[]> {
    return (await q.all<{ id: number; name: string }>('SELECT id, name FROM repositories WHERE project_id = ? ORDER BY name', [projectId])).map((r) => ({ id: Number(r.id), name: r.name }));
  }
  /** The RETENTION schedule of a policy that no longer exists (its project was deleted). */
  async removeSchedulesOfPolicy(policyId: number, q: Queryable = this.db): Promise<void> {
    await q.run("DELETE FROM schedules WHERE vendor_type = 'RETENTION' AND vendor_id = ?", [policyId]);
  }
  async saveTaskResult(taskId: number, executionId: number, total: number, retained: number, q: Queryable = this.db): Promise<void> {
    await q.run(
      'INSERT INTO retention_task_results (task_id, execution_id, total, retained) VALUES (?, ?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET total = excluded.total, retained = excluded.retained',
      [taskId, executionId, total, retained],
    );
  }
  /** Serializes the tasks of one execution finishing at once (PostgreSQL; SQLite transactions are serial anyway). */
  async lockExecution(executionId: number, q: Queryable): Promise<void> {
    if (q.dialect === 'postgres') await q.get('SELECT id FROM executions WHERE id = ? FOR UPDATE', [executionId]);
  }
  /** Sums of the execution's task results and how many tasks it has. */
  async sumResults(executionId: number, q: Queryable = this.db): Promise<{ tasks: number; reported: number; total: number; retained: number }> {
    const t = await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM tasks WHERE execution_id = ?', [executionId]);
    const r = await q.get<{ n: number; total: number | null; retained: number | null }>(
      'SELECT COUNT(*) AS n, SUM(total) AS total, SUM(retained) AS retained FROM retention_task_results WHERE execution_id = ?',
      [executionId],
    );
    return { tasks: Number(t?.n ?? 0), reported: Number(r?.n ?? 0), total: Number(r?.total ?? 0), retained: Number(r?.retained ?? 0) };
  }
  /** Marks the execution announced; false when it already was (a re-run of its last task). */
  async saveAnnounced(executionId: number, q: Queryable): Promise<boolean> {
    return !!(await q.get<{ execution_id: number }>('INSERT INTO retention_announced (execution_id) VALUES (?) ON CONFLICT (execution_id) DO NOTHING RETURNING execution_id', [executionId]));
  }
  async listTaskResults(taskIds: readonly number[], q: Queryable = this.db): Promise<Map<number, { total: number; retained: number }>> {
    const out = new Map<number, { total: number; retained: number }>();
    if (!taskIds.length) return out;
    const rows = await q.all<{ task_id: number; total: number; retained: number }>(
      `SELECT task_id, total, retained FROM retention_task_results WHERE task_id IN (${taskIds.map(() => '?').join(', ')})`,
      [...taskIds],
    );
    for (const r of rows) out.set(Number(r.task_id), { total: Number(r.total), retained: Number(r.retained) });
    return out;
  }
}
