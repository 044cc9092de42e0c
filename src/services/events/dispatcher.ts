// Hands outbox events to subscribers, one dispatcher per process. For each subscriber, one transaction claims its
// cursor row, reads the events after it, calls handle() and advances the cursor: the handler's database effects
// commit together with the cursor, so each event is handled once per subscriber even with several processes
// (PostgreSQL: a cursor locked by another process is skipped, SKIP LOCKED). A handler that throws rolls the whole
// round back: the events are retried later with backoff, never lost (delivery is at-least-once for outside effects).
import { RELAXED, type Db } from '../../db/db.ts';
import type { EventRepository } from '../../repositories/event-repository.ts';
import type { DomainEvent, Subscriber } from './types.ts';

export interface DispatcherOptions {
  /** Poll period when nothing kicks the dispatcher. */
  pollIntervalMs: number;
  /** Events every cursor has passed are pruned once older than this. */
  retentionMs: number;
  /** Events per subscriber per transaction. */
  batchSize?: number;
  /** Longest wait after repeated handler failures. */
  maxBackoffMs?: number;
  warn?: (message: string) => void;
}

const PRUNE_EVERY_MS = 60_000;
// After a local publish: how long to keep looking for the (maybe not yet committed) event before leaving it to the poll.
const KICK_RETRY_MS = 20;
const KICK_RETRIES = 25;

export class EventDispatcher {
  private readonly db: Db;
  private readonly events: EventRepository;
  private readonly subscribers: readonly Subscriber[];
  private readonly o: Required<DispatcherOptions>;
  private readonly failures = new Map<string, { count: number; until: number }>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = true;
  /** Highest seq published by this process (the kick) and how many quick retries are left to see it. */
  private awaited = 0;
  private kickRetries = 0;
  private lastPrune = 0;

  constructor(deps: { db: Db; events: EventRepository; subscribers: readonly Subscriber[] }, options: DispatcherOptions) {
    this.db = deps.db;
    this.events = deps.events;
    this.subscribers = deps.subscribers;
    this.o = { batchSize: 200, maxBackoffMs: 30_000, warn: (m) => process.emitWarning(m), ...options };
    const names = new Set<string>();
    for (const s of this.subscribers) {
      if (names.has(s.name)) throw new Error(`duplicate event subscriber ${s.name}`);
      names.add(s.name);
    }
  }

  /**
   * Creates missing cursors. A new subscriber starts at the current end of the outbox: it sees events from now on
   * and does not replay history (events before it existed may already be pruned). Call before serving requests,
   * so nothing published after startup is skipped.
   */
  async init(): Promise<void> {
    for (const s of this.subscribers) {
      await this.db.tx(async (q) => this.events.saveCursorIfAbsent(s.name, await this.events.findMaxSeq(q), q));
    }
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /** Called by the outbox after this process inserted events up to `seq`. */
  kick(seq: number): void {
    this.awaited = Math.max(this.awaited, seq);
    this.kickRetries = KICK_RETRIES;
    if (!this.stopped) this.schedule(0);
  }

  /** Stops polling and waits for the round in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Runs rounds until every subscriber has caught up with what is committed now (tests, shutdown). */
  async drain(): Promise<void> {
    await this.running;
    while ((await this.round()) > 0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      // A round is in progress: run another right after it (it may have read before the new commit).
      if (ms === 0) this.again = true;
      return;
    }
    if (this.timer) {
      if (ms > 0) return;
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(() => this.tick(), ms);
    this.timer.unref();
  }

  private tick(): void {
    this.timer = null;
    this.running = (async () => {
      let next = this.o.pollIntervalMs;
      try {
        const handled = await this.round();
        if (handled > 0) next = 0;
        else if (this.kickRetries > 0 && (await this.caughtUpTo()) < this.awaited) {
          this.kickRetries--;
          next = KICK_RETRY_MS;
        } else this.kickRetries = 0;
        await this.pruneIfDue();
      } catch (err) {
        this.o.warn(`event dispatcher: ${(err as Error).message}`);
      } finally {
        this.running = null;
      }
      if (this.again) {
        this.again = false;
        next = 0;
      }
      this.schedule(next);
    })();
  }

  /** The lowest cursor of this process's subscribers (what every one of them has handled). */
  private async caughtUpTo(): Promise<number> {
    const cursors = await this.events.listCursors(this.subscribers.map((s) => s.name));
    let min = Infinity;
    for (const s of this.subscribers) min = Math.min(min, cursors.get(s.name) ?? 0);
    return min === Infinity ? this.awaited : min;
  }

  /** One pass over the subscribers; returns how many events were consumed (handled or skipped). */
  private async round(): Promise<number> {
    let consumed = 0;
    const now = Date.now();
    // Plain reads first: a subscriber already at the end of the outbox needs no write transaction (an idle poll
    // must not take SQLite's write lock). Both values only grow: a stale read at worst leaves new events to the next round.
    const [end, cursors] = await Promise.all([this.events.findMaxSeq(), this.events.listCursors(this.subscribers.map((s) => s.name))]);
    for (const s of this.subscribers) {
      const f = this.failures.get(s.name);
      if (f && f.until > now) continue;
      const at = cursors.get(s.name);
      if (at !== undefined && at >= end) continue;
      try {
        const { consumed: n, handled } = await this.runSubscriber(s);
        consumed += n;
        this.failures.delete(s.name);
        if (handled.length && s.committed) {
          try {
            s.committed(handled);
          } catch (err) {
            this.o.warn(`event subscriber ${s.name} (after commit): ${(err as Error).message}`);
          }
        }
      } catch (err) {
        const count = (f?.count ?? 0) + 1;
        const wait = Math.min(this.o.maxBackoffMs, this.o.pollIntervalMs * 2 ** Math.min(count, 16));
        this.failures.set(s.name, { count, until: Date.now() + wait });
        this.o.warn(`event subscriber ${s.name} failed (attempt ${count}, retrying in ${wait} ms): ${(err as Error).message}`);
      }
    }
    return consumed;
  }

  private runSubscriber(s: Subscriber): Promise<{ consumed: number; handled: DomainEvent[] }> {
    return this.db.tx(async (q) => {
      const last = await this.events.claimCursor(s.name, q);
      if (last === null) return { consumed: 0, handled: [] };
      const batch = await this.events.listEventsAfter(last, this.o.batchSize, q);
      if (!batch.length) return { consumed: 0, handled: [] };
      const wanted = s.types === '*' ? null : new Set<string>(s.types);
      const matching = wanted ? batch.filter((e) => wanted.has(e.type)) : batch;
      if (matching.length) await s.handle(matching, q);
      await this.events.saveCursor(s.name, batch[batch.length - 1]!.seq, q);
      return { consumed: batch.length, handled: matching };
    }, RELAXED);
  }

  private async pruneIfDue(): Promise<void> {
    const now = Date.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    // Only this process's subscribers count: a cursor left by a removed subscriber must not keep events forever.
    await this.events.removeHandledEvents(
      this.subscribers.map((s) => s.name),
      now - this.o.retentionMs,
    );
  }
}
