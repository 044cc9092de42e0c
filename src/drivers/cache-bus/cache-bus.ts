// The cache invalidation bus: a service that changes data some process may hold in a per-process cache publishes
// `(topic, key)`; every process's subscribers for that topic drop what they hold for the key. A subscriber called
// with key `null` drops everything of its topic (a process that may have missed messages, see PgCacheBus).
//
// LocalCacheBus delivers in this process only (SQLite: one process per database). PgCacheBus (pg-cache-bus.ts)
// also sends each message through PostgreSQL NOTIFY to the other processes of the deployment.

/** What a message is about: the subscribers of one topic own one cache. */
export type CacheTopic =
  /** Runtime configuration (the key is the comma-separated changed keys). */
  | 'config'
  /** Cached logins of one username. */
  | 'user'
  /** Robot principals (key: the robot id; every cached robot is dropped). */
  | 'robot'
  /** Content-trust verifications of one project (key: project id). */
  | 'trust';

export type CacheSubscriber = (key: string | null) => void;

export interface CacheBus {
  /** Drops `key` of `topic` in this process (synchronously) and in every other process of the deployment. */
  publish(topic: CacheTopic, key: string): Promise<void>;
  subscribe(topic: CacheTopic, fn: CacheSubscriber): void;
  /** Starts listening to other processes (no-op in-process). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export class LocalCacheBus implements CacheBus {
  private readonly subscribers = new Map<CacheTopic, CacheSubscriber[]>();

  subscribe(topic: CacheTopic, fn: CacheSubscriber): void {
    const list = this.subscribers.get(topic) ?? [];
    list.push(fn);
    this.subscribers.set(topic, list);
  }

  /** Calls the subscribers of `topic`; one failing subscriber does not keep the others from dropping their data. */
  protected deliver(topic: CacheTopic, key: string | null): void {
    for (const fn of this.subscribers.get(topic) ?? []) {
      try {
        fn(key);
      } catch (e) {
        process.emitWarning(`cache invalidation (${topic}): ${(e as Error).message}`);
      }
    }
  }

  /** Every subscriber drops everything (after a gap in which messages may have been lost). */
  protected flushAll(): void {
    for (const topic of this.subscribers.keys()) this.deliver(topic, null);
  }

  async publish(topic: CacheTopic, key: string): Promise<void> {
    this.deliver(topic, key);
  }

  async start(): Promise<void> {}
  async close(): Promise<void> {}
}
