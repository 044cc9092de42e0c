// Reading the audit log: Harbor's legacy (/audit-logs, /projects/{p}/logs) and extended (/auditlog-exts) views
// over the one audit_logs table. Who sees what is decided by the caller (the HTTP layer) as an AuditScope: all
// rows for system admins, otherwise the rows of the projects where the caller holds `log:list`.
import type { AuditLogEntry, AuditLogField, AuditLogRepository, AuditScope } from '../../repositories/audit-log-repository.ts';
import type { ListQuery } from '../../repositories/list-query.ts';

/** Harbor's event types (`src/pkg/auditext/model/model.go`), in Harbor's order. */
export const AUDIT_EVENT_TYPES: readonly string[] = [
  'create_artifact',
  'delete_artifact',
  'pull_artifact',
  'create_project',
  'delete_project',
  'delete_repository',
  'login_user',
  'logout_user',
  'create_user',
  'delete_user',
  'update_user',
  'create_robot',
  'delete_robot',
  'update_configuration',
  'create_member',
  'delete_member',
  'update_member',
  'update_project',
];

export interface AuditLogExtView {
  id: number;
  username: string;
  resource: string;
  resource_type: string;
  operation: string;
  operation_description: string;
  operation_result: boolean;
  op_time: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

export class AuditLogService {
  private readonly logs: AuditLogRepository;
  constructor(logs: AuditLogRepository) {
    this.logs = logs;
  }

  async list(scope: AuditScope, q: ListQuery<AuditLogField>): Promise<{ total: number; items: AuditLogEntry[] }> {
    const [total, items] = await Promise.all([this.logs.countAuditLogPage(scope, q.where), this.logs.listAuditLogPage(scope, q)]);
    return { total, items };
  }

  /** Harbor's AuditLog (legacy) shape. */
  static legacy(e: AuditLogEntry) {
    return { id: e.id, username: e.username, resource: e.resource, resource_type: e.resourceType, operation: e.operation, op_time: iso(e.opTime) };
  }

  /**
   * Harbor's AuditLogExt shape (no event type field: Harbor's swagger has none; it is `<operation>_<resource_type>`);
   * a failed operation (`login_failed`) reads as operation `login` with result false.
   */
  static extended(e: AuditLogEntry): AuditLogExtView {
    const failed = e.operation.endsWith('_failed');
    const operation = failed ? e.operation.slice(0, -'_failed'.length) : e.operation;
    return {
      id: e.id,
      username: e.username,
      resource: e.resource,
      resource_type: e.resourceType,
      operation,
      operation_description: e.detail ? `${operation} ${e.resourceType} ${e.resource}: ${e.detail}` : `${operation} ${e.resourceType} ${e.resource}`,
      operation_result: !failed,
      op_time: iso(e.opTime),
    };
  }
}
