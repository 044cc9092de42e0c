// The audit sink used by the server for records that are not domain events (logins, user, member, robot, label and
// configuration changes); artifact, tag, repository, project and quota rows come from the event seam instead
// (audit-subscriber.ts), pulls included. Events are buffered in memory and written with one multi-row INSERT per
// batch, so logging a pull costs a registry pull no database round trip. Pulls are flushed every
// `flushIntervalMs` or as soon as `batchSize` are waiting; any other event (rare: pushes, deletes, logins, user
// and project changes) flushes the buffer at once and is durable when record() resolves. The buffer is bounded:
// when it is full the oldest pull events are dropped and counted, recording never blocks and never throws.
// Every event is also handed to the syslog forwarder when one is configured; with skipDatabase() true nothing is
// written to the database (Harbor's skip_audit_log_database, meant to be used with forwarding).
import type { AuditLogEntry, AuditLogRepository } from '../../repositories/audit-log-repository.ts';
import type { AuditEvent, AuditSink } from './audit.ts';

export type AuditRow = Omit<AuditLogEntry, 'id'>;

const cap = (s: string, max: number) => (s.length > max ? s.slice(0, max - 1) + '…' : s);

/** The stored row of an event. Capped sizes (Harbor #23755): an event never carries an unbounded payload into the table or the syslog. */
export function toAuditRow(e: AuditEvent, opTime: number): AuditRow {
  return {
    username: cap(e.username, 255),
    operation: cap(e.operation, 64),
    resourceType: cap(e.resourceType, 64),
    resource: cap(e.resource, 1024),
    projectId: e.projectId ?? null,
    detail: e.detail === undefined || e.detail === null ? null : cap(e.detail, 2048),
    opTime,
  };
}

/** Where events go besides the database (the syslog forwarder); `endpoint` is the current setting. */
export interface AuditForward {
  send(row: AuditRow, endpoint: string): void;
  close(): Promise<void>;
}

/** The runtime settings the sink reads per event (cached by the configuration service). */
export interface AuditSettings {
  /** Harbor's skip_audit_log_database. */
  skipDatabase: boolean;
  /** Harbor's audit_log_forward_endpoint (`host:port`, empty: no forwarding). */
  forwardEndpoint: string;
}

export interface BufferedAuditSinkOptions {
  logs: Pick<AuditLogRepository, 'saveAuditLogs'>;
  /** Read on every event. */
  settings?: () => Promise<AuditSettings>;
  forward?: AuditForward | null;
  flushIntervalMs?: number;
  batchSize?: number;
  /** Most events held in memory; beyond it the oldest pull events are dropped. */
  maxBuffered?: number;
  onError?: (err: unknown) => void;
}

export class BufferedAuditSink implements AuditSink {
  private readonly logs: Pick<AuditLogRepository, 'saveAuditLogs'>;
  private readonly settings: () => Promise<AuditSettings>;
  private readonly forward: AuditForward | null;
  private readonly flushIntervalMs: number;
  private readonly batchSize: number;
  private readonly maxBuffered: number;
  private readonly onError: (err: unknown) => void;
  private buffer: AuditRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Events dropped because the buffer was full or their batch could not be written. */
  dropped = 0;
  /** Events written to the database. */
  written = 0;

  constructor(o: BufferedAuditSinkOptions) {
    this.logs = o.logs;
    this.settings = o.settings ?? (async () => ({ skipDatabase: false, forwardEndpoint: '' }));
    this.forward = o.forward ?? null;
    this.flushIntervalMs = o.flushIntervalMs ?? 1000;
    this.batchSize = Math.max(1, o.batchSize ?? 500);
    this.maxBuffered = Math.max(this.batchSize, o.maxBuffered ?? 10_000);
    this.onError = o.onError ?? (() => {});
  }

  /** Events waiting to be written. */
  get pending(): number {
    return this.buffer.length;
  }

  async record(e: AuditEvent): Promise<void> {
    const row = toAuditRow(e, Date.now());
    let settings: AuditSettings = { skipDatabase: false, forwardEndpoint: '' };
    try {
      settings = await this.settings();
    } catch (err) {
      this.onError(err);
    }
    try {
      this.forward?.send(row, settings.forwardEndpoint);
    } catch (err) {
      this.onError(err);
    }
    if (settings.skipDatabase) return;
    this.enqueue(row);
    if (row.operation === 'pull' && !this.closed) {
      if (this.buffer.length >= this.batchSize) this.enqueueDrain(false);
      else this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs).unref();
      return;
    }
    await this.flush();
  }

  private enqueue(row: AuditRow): void {
    if (this.buffer.length >= this.maxBuffered) {
      const oldestPull = this.buffer.findIndex((r) => r.operation === 'pull');
      if (oldestPull >= 0) {
        this.buffer.splice(oldestPull, 1);
        this.dropped++;
      } else if (row.operation === 'pull') {
        this.dropped++;
        return;
      }
      // Only non-pull events are buffered: keep them all (they are flushed right away).
    }
    this.buffer.push(row);
  }

  /** Writes everything buffered so far; writes run one at a time, in order. Never rejects. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    return this.enqueueDrain(true);
  }

  private enqueueDrain(all: boolean): Promise<void> {
    this.chain = this.chain.then(() => this.drain(all));
    return this.chain;
  }

  /** Writes full batches (and, with `all`, the rest); a rest left behind waits for the timer. */
  private async drain(all: boolean): Promise<void> {
    while (this.buffer.length >= this.batchSize || (all && this.buffer.length)) {
      const batch = this.buffer.splice(0, this.batchSize);
      try {
        await this.logs.saveAuditLogs(batch);
        this.written += batch.length;
      } catch (err) {
        this.dropped += batch.length;
        this.onError(err);
      }
    }
    if (this.buffer.length && !this.closed) this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs).unref();
  }

  /** Flushes what is buffered and closes the forwarder (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.forward?.close();
  }
}
