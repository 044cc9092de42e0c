import type { Param, Queryable } from '../db/db.ts';
import { orderSql, whereSql, type ListQuery } from './list-query.ts';

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

/** Fields the audit log list may be filtered and sorted on (Harbor's q/sort names). */
export type AuditLogField = 'id' | 'username' | 'operation' | 'resource_type' | 'resource' | 'op_time' | 'project_id';
const AUDIT_COLUMNS: Readonly<Record<AuditLogField, string>> = {
  id: 'id',
  username: 'username',
  operation: 'operation',
  resource_type: 'resource_type',
  resource: 'resource',
  op_time: 'op_time',
  project_id: 'project_id',
};

/** Which rows a caller may read: all (sysadmin) or the rows of these projects only. */
export type AuditScope = { all: true } | { all: false; projectIds: readonly number[] };

// Rows per INSERT statement: 7 parameters each, well under SQLite's and PostgreSQL's parameter limits.
const INSERT_CHUNK = 500;

const toEntry = (r: Record<string, unknown>): AuditLogEntry => ({
  id: Number(r.id),
  username: String(r.username),
  operation: String(r.operation),
  resourceType: String(r.resource_type),
  resource: String(r.resource),
  projectId: r.project_id === null || r.project_id === undefined ? null : Number(r.project_id),
  detail: (r.detail as string | null) ?? null,
  opTime: Number(r.op_time),
});

/** The audit log table (written through services/audit; read by the audit-log API). */
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
  /** Inserts many rows with one multi-row INSERT per chunk (the buffered sink's flush). */
  async saveAuditLogs(entries: readonly Omit<AuditLogEntry, 'id'>[], q: Queryable = this.db): Promise<void> {
    for (let i = 0; i < entries.length; i += INSERT_CHUNK) {
      const part = entries.slice(i, i + INSERT_CHUNK);
      const params: Param[] = [];
      for (const e of part) params.push(e.username, e.operation, e.resourceType, e.resource, e.projectId, e.detail, e.opTime);
      await q.run(
        `INSERT INTO audit_logs (username, operation, resource_type, resource, project_id, detail, op_time) VALUES ${part.map(() => '(?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        params,
      );
    }
  }
  private scopeSql(scope: AuditScope): [string, Param[]] {
    if (scope.all) return ['', []];
    if (scope.projectIds.length === 0) return [' AND 1 = 0', []];
    return [` AND project_id IN (${scope.projectIds.map(() => '?').join(',')})`, [...scope.projectIds]];
  }
  async countAuditLogPage(scope: AuditScope, where: ListQuery<AuditLogField>['where']): Promise<number> {
    const [ss, sp] = this.scopeSql(scope);
    const [w, p] = whereSql(AUDIT_COLUMNS, where);
    const r = await this.db.get<{ n: unknown }>(`SELECT COUNT(*) AS n FROM audit_logs WHERE 1 = 1${ss}${w}`, [...sp, ...p]);
    return Number(r?.n ?? 0);
  }
  /** One page of rows, newest first unless sorted otherwise (indexed on op_time and on project_id, op_time). */
  async listAuditLogPage(scope: AuditScope, q: ListQuery<AuditLogField>): Promise<AuditLogEntry[]> {
    const [ss, sp] = this.scopeSql(scope);
    const [w, p] = whereSql(AUDIT_COLUMNS, q.where);
    const order = q.sort.length ? orderSql(AUDIT_COLUMNS, q.sort, 'id DESC') : ' ORDER BY op_time DESC, id DESC';
    const rows = await this.db.all<Record<string, unknown>>(`SELECT * FROM audit_logs WHERE 1 = 1${ss}${w}${order} LIMIT ? OFFSET ?`, [
      ...sp,
      ...p,
      q.limit,
      q.offset,
    ]);
    return rows.map(toEntry);
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
    return rows.map(toEntry);
  }
}
