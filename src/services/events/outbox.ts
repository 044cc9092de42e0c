// The transactional outbox: services publish events with the transaction that makes the change, so an event
// exists exactly when its change committed (a rolled-back push leaves none; an acknowledged one always has one).
import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/db.ts';
import type { EventRepository } from '../../repositories/event-repository.ts';
import type { DomainEvent, EventPublisher, NewEvent } from './types.ts';

/**
 * Advisory lock key taken before every outbox insert on PostgreSQL. Sequence values are handed out at insert
 * time but transactions commit in another order, so without it a cursor could move past seq 8 while seq 7 is
 * still uncommitted and never see 7. Holding this lock from the insert to the commit makes commit order equal
 * seq order. publish() is called at the end of a service's transaction, so the lock is held only briefly.
 */
export const OUTBOX_LOCK_KEY = 4242013;

export class EventOutbox implements EventPublisher {
  private readonly events: EventRepository;
  private readonly onPublished: (seq: number) => void;
  constructor(deps: { events: EventRepository; onPublished?: (seq: number) => void }) {
    this.events = deps.events;
    this.onPublished = deps.onPublished ?? (() => {});
  }

  async publish(q: Queryable, events: readonly NewEvent[]): Promise<void> {
    if (!events.length) return;
    const now = Date.now();
    const rows: Omit<DomainEvent, 'seq'>[] = events.map((e) => ({ ...e, id: randomUUID(), occurredAt: e.occurredAt ?? now }));
    if (q.dialect === 'postgres') await q.get('SELECT pg_advisory_xact_lock(?)', [OUTBOX_LOCK_KEY]);
    const seq = await this.events.saveEvents(rows, q);
    // A local kick: this process's dispatcher looks for `seq` at once instead of at its next poll (it may not
    // be committed yet; the dispatcher retries briefly, and the poll covers everything else).
    this.onPublished(seq);
  }
}
