// (Lives at the top of src/ beside errors.ts: every layer — repositories included — speaks this contract.)
// The event seam's contract: typed domain events, how a service raises them inside its transaction, and what a
// subscriber implements. Features learn about each other's changes only through these events (docs/architecture.md).
// Topic names follow Harbor's controller/event/topic.go; the webhook-visible ones are Harbor's webhook event types.
import type { Queryable } from './db/db.ts';

/** Harbor's webhook event types (what a webhook policy may select). */
export const WEBHOOK_EVENT_TYPES = [
  'PUSH_ARTIFACT',
  'PULL_ARTIFACT',
  'DELETE_ARTIFACT',
  'SCANNING_COMPLETED',
  'SCANNING_FAILED',
  'SCANNING_STOPPED',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
  'REPLICATION',
  'TAG_RETENTION',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Internal topics later features need (replication triggers, retention, audit). */
export const INTERNAL_EVENT_TYPES = ['CREATE_TAG', 'DELETE_TAG', 'CREATE_PROJECT', 'DELETE_PROJECT', 'DELETE_REPOSITORY', 'POLICY_CHANGED'] as const;
export type InternalEventType = (typeof INTERNAL_EVENT_TYPES)[number];

export type EventType = WebhookEventType | InternalEventType;

/** The artifact an artifact/tag event is about; carried in the event so deliveries never re-read changed state. */
export interface ArtifactRef {
  projectId: number;
  projectName: string;
  /** Whether the project is public at the time of the change (Harbor's repo_type public/private). */
  projectPublic: boolean;
  /** Full repository name, `project/name`. */
  repository: string;
  digest: string;
  mediaType: string;
  /** Tags the event concerns (a push's tags, a deleted tag); empty for a by-digest push/delete. */
  tags: string[];
  /** Manifest + layers in bytes where known. */
  size?: number;
  artifactType?: string | null;
}

export interface EventData {
  PUSH_ARTIFACT: ArtifactRef;
  PULL_ARTIFACT: ArtifactRef;
  DELETE_ARTIFACT: ArtifactRef;
  CREATE_TAG: ArtifactRef;
  DELETE_TAG: ArtifactRef;
  SCANNING_COMPLETED: ArtifactRef & { report?: Record<string, unknown> };
  SCANNING_FAILED: ArtifactRef & { report?: Record<string, unknown> };
  SCANNING_STOPPED: ArtifactRef & { report?: Record<string, unknown> };
  QUOTA_EXCEED: { projectId: number; projectName: string; repository: string; digest: string; message: string };
  QUOTA_WARNING: { projectId: number; projectName: string; repository: string; digest: string; message: string };
  REPLICATION: Record<string, unknown>;
  TAG_RETENTION: Record<string, unknown>;
  CREATE_PROJECT: { projectId: number; projectName: string };
  DELETE_PROJECT: { projectId: number; projectName: string };
  DELETE_REPOSITORY: { projectId: number; projectName: string; repository: string };
  POLICY_CHANGED: { kind: string; id: number; projectId: number | null };
}

/** An event as a service raises it. */
export interface NewEvent<T extends EventType = EventType> {
  type: T;
  /** Who caused it: a username, `robot$…`, or '' for the system/anonymous. */
  operator: string;
  /** Project the event belongs to (webhook policies are per project); null for system-wide events. */
  projectId: number | null;
  data: EventData[T];
  /** Epoch ms of the change when it is not now (pulls are published in batches up to a second later). */
  occurredAt?: number;
}

/** An event as stored in the outbox and handed to subscribers. */
export interface DomainEvent<T extends EventType = EventType> extends Omit<NewEvent<T>, 'occurredAt'> {
  /** Globally unique id (UUID); receivers de-duplicate on it (delivery is at-least-once). */
  id: string;
  /** Outbox order; increases in commit order. */
  seq: number;
  /** Epoch ms when the change happened. */
  occurredAt: number;
}

/** What services depend on to raise events. `publish` must be given the transaction that makes the change. */
export interface EventPublisher {
  publish(q: Queryable, events: readonly NewEvent[]): Promise<void>;
}

/**
 * A feature that reacts to events. `handle` runs in the transaction that advances this subscriber's cursor, so
 * database effects (audit rows, queued delivery tasks) happen exactly once per event per subscriber even with
 * several processes; outside effects (HTTP) belong in jobs it queues with that `q`.
 */
export interface Subscriber {
  /** Stable name; the cursor is stored under it. */
  readonly name: string;
  /** The topics it wants; others are skipped (the cursor still advances over them). */
  readonly types: readonly EventType[] | '*';
  handle(events: readonly DomainEvent[], q: Queryable): Promise<void>;
  /**
   * Optional: called (synchronously, not awaited) after the transaction that ran handle() for these events
   * committed — for cheap fire-and-forget effects that must not repeat when a round is rolled back and retried
   * (the audit log's syslog forwarding). Errors are logged and ignored.
   */
  committed?(events: readonly DomainEvent[]): void;
}
