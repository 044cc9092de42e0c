// The audit log as an event subscriber: artifact, tag, repository, project and quota changes reach audit_logs
// through the outbox, written with the dispatcher's transaction (so exactly once per event, even with several
// processes). Rows are the ones the API showed when services wrote them directly (operation / resource_type /
// resource as Harbor's audit log). Records that are not domain changes (logins, user edits) stay on AuditSink.
// Syslog forwarding and skip_audit_log_database apply as for the buffered sink.
import type { Queryable } from '../../db/db.ts';
import type { AuditLogRepository } from '../../repositories/audit-log-repository.ts';
import type { ArtifactRef, DomainEvent, EventType, Subscriber } from '../events/types.ts';
import type { AuditEvent } from './audit.ts';
import { toAuditRow, type AuditForward, type AuditRow, type AuditSettings } from './buffered-sink.ts';

/** `project/repo:tag` for an event about tags, else `project/repo@digest` (Harbor's audit resource). */
const artifactResource = (a: ArtifactRef): string => (a.tags.length ? `${a.repository}:${a.tags[0]}` : `${a.repository}@${a.digest}`);

/** The audit record of an event, or null for events the audit log does not show. */
export function auditEventOf(e: DomainEvent): AuditEvent | null {
  const base = { username: e.operator, projectId: e.projectId };
  switch (e.type) {
    case 'PUSH_ARTIFACT':
    case 'PULL_ARTIFACT': {
      const a = e.data as ArtifactRef;
      return { ...base, operation: e.type === 'PUSH_ARTIFACT' ? 'create' : 'pull', resourceType: 'artifact', resource: artifactResource(a) };
    }
    case 'DELETE_ARTIFACT': {
      const a = e.data as ArtifactRef;
      return { ...base, operation: 'delete', resourceType: 'artifact', resource: `${a.repository}@${a.digest}` };
    }
    case 'CREATE_TAG':
    case 'DELETE_TAG': {
      const a = e.data as ArtifactRef;
      return { ...base, operation: e.type === 'CREATE_TAG' ? 'create' : 'delete', resourceType: 'tag', resource: `${a.repository}:${a.tags[0] ?? ''}` };
    }
    case 'DELETE_REPOSITORY': {
      const d = e.data as DomainEvent<'DELETE_REPOSITORY'>['data'];
      return { ...base, operation: 'delete', resourceType: 'repository', resource: d.repository };
    }
    case 'CREATE_PROJECT':
    case 'DELETE_PROJECT': {
      const d = e.data as DomainEvent<'CREATE_PROJECT'>['data'];
      return { ...base, operation: e.type === 'CREATE_PROJECT' ? 'create' : 'delete', resourceType: 'project', resource: d.projectName };
    }
    case 'QUOTA_EXCEED':
    case 'QUOTA_WARNING': {
      const d = e.data as DomainEvent<'QUOTA_WARNING'>['data'];
      return { ...base, operation: e.type.toLowerCase(), resourceType: 'quota', resource: d.projectName, detail: d.message };
    }
    default:
      return null;
  }
}

export const AUDITED_EVENT_TYPES: readonly EventType[] = [
  'PUSH_ARTIFACT',
  'PULL_ARTIFACT',
  'DELETE_ARTIFACT',
  'CREATE_TAG',
  'DELETE_TAG',
  'DELETE_REPOSITORY',
  'CREATE_PROJECT',
  'DELETE_PROJECT',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
];

export class AuditSubscriber implements Subscriber {
  readonly name = 'audit-log';
  readonly types = AUDITED_EVENT_TYPES;
  private readonly logs: Pick<AuditLogRepository, 'saveAuditLogs'>;
  private readonly settings: () => Promise<AuditSettings>;
  private readonly forward: AuditForward | null;
  private readonly onError: (err: unknown) => void;
  /** Rows of the round in progress, forwarded to syslog only once it committed (a retried round would repeat them). */
  private pending = new Map<string, { rows: AuditRow[]; endpoint: string }>();

  constructor(deps: { logs: Pick<AuditLogRepository, 'saveAuditLogs'>; settings: () => Promise<AuditSettings>; forward?: AuditForward | null; onError?: (err: unknown) => void }) {
    this.logs = deps.logs;
    this.settings = deps.settings;
    this.forward = deps.forward ?? null;
    this.onError = deps.onError ?? (() => {});
  }

  async handle(events: readonly DomainEvent[], q: Queryable): Promise<void> {
    const rows: AuditRow[] = [];
    for (const e of events) {
      const a = auditEventOf(e);
      if (a) rows.push(toAuditRow(a, e.occurredAt));
    }
    if (!rows.length) return;
    const settings = await this.settings();
    if (this.forward && settings.forwardEndpoint) this.pending.set(events[0]!.id, { rows, endpoint: settings.forwardEndpoint });
    if (!settings.skipDatabase) await this.logs.saveAuditLogs(rows, q);
  }

  committed(events: readonly DomainEvent[]): void {
    const p = this.pending.get(events[0]!.id);
    this.pending.clear();
    if (!p || !this.forward) return;
    for (const row of p.rows) {
      try {
        this.forward.send(row, p.endpoint);
      } catch (err) {
        this.onError(err);
      }
    }
  }
}
