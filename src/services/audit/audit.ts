// One interface for audit events (logins, user/project/member changes). The default sink writes the
// audit_logs table; the audit-log API and its retention belong to another issue. Recording never fails the
// operation it describes: a sink error is logged by the caller's logger, not thrown.
import type { AuditLogRepository } from '../../repositories/audit-log-repository.ts';

export interface AuditEvent {
  /** Who did it ('' for anonymous). */
  username: string;
  /** create | update | delete | login | login_failed */
  operation: string;
  /** user | project | member | metadata | ... */
  resourceType: string;
  /** The object's name (username, project name, member entity). Never a secret. */
  resource: string;
  projectId?: number | null;
  detail?: string | null;
}

export interface AuditSink {
  record(e: AuditEvent): Promise<void>;
}

export class DbAuditSink implements AuditSink {
  private readonly logs: AuditLogRepository;
  private readonly onError: (err: unknown) => void;
  constructor(logs: AuditLogRepository, onError: (err: unknown) => void = () => {}) {
    this.logs = logs;
    this.onError = onError;
  }
  async record(e: AuditEvent): Promise<void> {
    try {
      await this.logs.saveAuditLog({
        username: e.username,
        operation: e.operation,
        resourceType: e.resourceType,
        resource: e.resource,
        projectId: e.projectId ?? null,
        detail: e.detail ?? null,
        opTime: Date.now(),
      });
    } catch (err) {
      this.onError(err);
    }
  }
}
