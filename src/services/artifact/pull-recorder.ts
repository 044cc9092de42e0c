// Pull time, pull count and PULL_ARTIFACT events without slowing pulls: a manifest GET only updates in-memory
// maps; a timer writes them in one transaction every `intervalMs` (the events into the outbox with the same
// transaction, never a database write per pull). A failed flush is reported and retried with the next one
// (merged), never thrown at a pull. Held events are bounded: beyond `maxPendingEvents` the oldest are dropped
// and counted (a database that stays down must not exhaust memory).
import type { Db } from '../../db/db.ts';
import type { ArtifactQueryRepository } from '../../repositories/artifact-query-repository.ts';
import type { EventPublisher, NewEvent } from '../events/types.ts';

export class PullRecorder {
  private readonly db: Db;
  private readonly repo: ArtifactQueryRepository;
  private readonly onError: (err: unknown) => void;
  private manifests = new Map<number, number>();
  private tags = new Map<string, { repositoryId: number; name: string; time: number }>();
  private counts = new Map<number, number>();
  private events: NewEvent[] = [];
  private readonly publisher: EventPublisher | null;
  private readonly maxPendingEvents: number;
  /** Pull events dropped because too many were waiting. */
  droppedEvents = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  constructor(deps: { db: Db; repo: ArtifactQueryRepository; events?: EventPublisher; intervalMs?: number; maxPendingEvents?: number; onError?: (err: unknown) => void }) {
    this.db = deps.db;
    this.publisher = deps.events ?? null;
    this.maxPendingEvents = deps.maxPendingEvents ?? 50_000;
    this.repo = deps.repo;
    this.onError = deps.onError ?? (() => {});
    this.timer = setInterval(() => void this.flush(), deps.intervalMs ?? 1000);
    this.timer.unref();
  }
  /** One manifest GET: constant time, no I/O. */
  record(m: { id: number; repositoryId: number }, tag: string | null, time = Date.now(), event: NewEvent | null = null): void {
    if (event && this.publisher) this.keepEvents([event]);
    this.manifests.set(m.id, Math.max(this.manifests.get(m.id) ?? 0, time));
    this.counts.set(m.repositoryId, (this.counts.get(m.repositoryId) ?? 0) + 1);
    if (tag !== null) this.tags.set(`${m.repositoryId}\n${tag}`, { repositoryId: m.repositoryId, name: tag, time });
  }
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.manifests.size && !this.counts.size && !this.tags.size && !this.events.length) return;
    const manifests = this.manifests;
    const tags = this.tags;
    const counts = this.counts;
    const events = this.events;
    this.manifests = new Map();
    this.tags = new Map();
    this.counts = new Map();
    this.events = [];
    this.flushing = (async () => {
      try {
        await this.db.tx(async (q) => {
          await this.repo.savePulls(
            [...manifests].map(([id, time]) => ({ id, time })).sort((a, b) => a.id - b.id),
            [...tags.values()],
            [...counts].map(([id, count]) => ({ id, count })),
            q,
          );
          if (events.length) await this.publisher?.publish(q, events);
        });
      } catch (err) {
        // Keep what was not written for the next flush.
        for (const [id, t] of manifests) this.manifests.set(id, Math.max(this.manifests.get(id) ?? 0, t));
        for (const [k, v] of tags) if (!this.tags.has(k)) this.tags.set(k, v);
        for (const [id, n] of counts) this.counts.set(id, (this.counts.get(id) ?? 0) + n);
        const newer = this.events;
        this.events = [];
        this.keepEvents(events);
        this.keepEvents(newer);
        this.onError(err);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }
  private keepEvents(events: readonly NewEvent[]): void {
    this.events = this.events.length ? this.events.concat(events) : [...events];
    const over = this.events.length - this.maxPendingEvents;
    if (over > 0) {
      this.events.splice(0, over);
      this.droppedEvents += over;
    }
  }
  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
