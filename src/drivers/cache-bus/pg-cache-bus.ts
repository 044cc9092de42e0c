// The cache invalidation bus across processes on PostgreSQL: messages go out as NOTIFY on the channel
// `berth_cache` (through the pool, so a publish made right after a commit reaches the others in milliseconds) and
// come in on one dedicated LISTEN connection. That connection is re-opened when it drops (backoff up to 5 s); on
// every re-open all caches are flushed, since notifications sent meanwhile are lost.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../../db/db.ts';
import { LocalCacheBus, type CacheTopic } from './cache-bus.ts';

export const CACHE_CHANNEL = 'berth_cache';
const TOPICS: ReadonlySet<string> = new Set<CacheTopic>(['config', 'user', 'robot', 'trust']);

export class PgCacheBus extends LocalCacheBus {
  /** This process's id: its own notifications come back to it and are skipped (they were delivered locally). */
  readonly origin = randomUUID();
  private readonly db: Db;
  private readonly url: string;
  private readonly log: (msg: string) => void;
  private client: pg.Client | null = null;
  private closed = false;
  private connectedOnce = false;
  private retryMs = 100;
  private timer: NodeJS.Timeout | null = null;
  /** Resolves once the first LISTEN is in place (start() waits for it). */
  private ready: Promise<void> | null = null;
  /** Connections opened (for tests: a re-open after a drop counts). */
  connects = 0;

  constructor(deps: { db: Db; url: string; log?: (msg: string) => void }) {
    super();
    this.db = deps.db;
    this.url = deps.url;
    this.log = deps.log ?? ((m) => process.emitWarning(m));
  }

  override async publish(topic: CacheTopic, key: string): Promise<void> {
    this.deliver(topic, key);
    try {
      await this.db.get('SELECT pg_notify(?, ?)', [CACHE_CHANNEL, JSON.stringify({ o: this.origin, t: topic, k: key })]);
    } catch (e) {
      // The change is committed; the other processes' caches still expire on their own (TTL).
      this.log(`cache invalidation not sent to other processes: ${(e as Error).message}`);
    }
  }

  override start(): Promise<void> {
    return (this.ready ??= this.connect());
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const c = new pg.Client({ connectionString: this.url });
    // Errors arrive as 'error' and/or 'end'; either schedules one re-open.
    let dropped = false;
    const drop = (why: string) => {
      if (dropped) return;
      dropped = true;
      if (this.client === c) this.client = null;
      c.end().catch(() => {});
      if (!this.closed) {
        this.log(`cache invalidation listener lost (${why}); reconnecting`);
        this.schedule();
      }
    };
    c.on('error', (e) => drop(e.message));
    c.on('end', () => drop('connection closed'));
    c.on('notification', (n) => {
      if (n.channel !== CACHE_CHANNEL || !n.payload) return;
      let m: { o?: unknown; t?: unknown; k?: unknown };
      try {
        m = JSON.parse(n.payload);
      } catch {
        return;
      }
      if (m.o === this.origin || typeof m.t !== 'string' || !TOPICS.has(m.t) || typeof m.k !== 'string') return;
      this.deliver(m.t as CacheTopic, m.k);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${CACHE_CHANNEL}`);
    } catch (e) {
      drop((e as Error).message);
      // Whatever gets cached before a later attempt succeeds is flushed then.
      this.connectedOnce = true;
      // The first start waits only for the first attempt; later attempts run in the background.
      return;
    }
    if (this.closed || dropped) return void c.end().catch(() => {});
    this.client = c;
    this.connects++;
    this.retryMs = 100;
    // Messages sent while no connection listened are lost: everything cached may be stale.
    if (this.connectedOnce) this.flushAll();
    this.connectedOnce = true;
  }

  private schedule(): void {
    if (this.timer || this.closed) return;
    const wait = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, 5_000);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.connect().catch(() => this.schedule());
    }, wait);
    this.timer.unref();
  }

  /** Whether the LISTEN connection is up (tests, health). */
  get listening(): boolean {
    return this.client !== null;
  }

  override async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => {});
  }
}
