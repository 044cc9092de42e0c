import type { Param, Queryable } from '../db/db.ts';

export interface AuditLogEntry {
  id: number;
  username: string;
  operation: string;
  resourceType: string;
  resource: string;
  projectId: number | null;
  detail: string | null;
  opTime: number;
}

/** The audit log table (written through services/audit; read by the audit API later). */
export class AuditLogRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async saveAuditLog(e: Omit<AuditLogEntry, 'id'>): Promise<void> {
    await this.db.run(
      'INSERT INTO audit_logs (username, operation, resource_type, resource, project_id, detail, op_time) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [e.username, e.operation, e.resourceType, e.resource, e.projectId, e.detail, e.opTime],
    );
  }
  /**
   * Deletes (or, with dryRun, only counts) the rows older than `before` (ms); with `eventTypes`, only rows whose
   * operation (`create`) or `<operation>_<resource_type>` (`create_project`) is listed. Returns the count.
   */
  async purgeAuditLogs(o: { before: number; eventTypes?: readonly string[]; dryRun?: boolean }): Promise<number> {
    let where = 'op_time < ?';
    const args: Param[] = [o.before];
    if (o.eventTypes && o.eventTypes.length) {
      const marks = o.eventTypes.map(() => '?').join(', ');
      where += ` AND (operation IN (${marks}) OR (operation || '_' || resource_type) IN (${marks}))`;
      args.push(...o.eventTypes, ...o.eventTypes);
    }
    if (o.dryRun) {
      const r = await this.db.get<{ n: unknown }>(`SELECT COUNT(*) AS n FROM audit_logs WHERE ${where}`, args);
      return Number(r?.n ?? 0);
    }
    const r = await this.db.run(`DELETE FROM audit_logs WHERE ${where}`, args);
    return Number(r.changes);
  }
  async listAuditLogs(limit: number): Promise<AuditLogEntry[]> {
    const rows = await this.db.all<Record<string, unknown>>('SELECT * FROM audit_logs ORDER BY id DESC LIMIT ?', [limit]);
    return rows.map((r) => ({
      id: Number(r.id),
      username: String(r.username),
      operation: String(r.operation),
      resourceType: String(r.resource_type),
      resource: String(r.resource),
      projectId: r.project_id === null ? null : Number(r.project_id),
      detail: (r.detail as string | null) ?? null,
      opTime: Number(r.op_time),
    }));
  }
}
