// One interface for audit events (logins, user/project/member changes). Recording never fails the operation
// it describes: a sink error is logged by the caller's logger, not thrown.

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
