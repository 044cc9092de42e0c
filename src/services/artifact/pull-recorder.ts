// Pull time and pull count without slowing pulls: a manifest GET only updates in-memory maps; a timer writes
// them in one transaction every `intervalMs`. A failed flush is reported and its counts are retried with the
// next one (merged), never thrown at a pull.
import type { Db } from '../../db/db.ts';
import type { ArtifactQueryRepository } from '../../repositories/artifact-query-repository.ts';

export class PullRecorder {
  private readonly db: Db;
  private readonly repo: ArtifactQueryRepository;
  private readonly onError: (err: unknown) => void;
  private manifests = new Map<number, number>();
  private tags = new Map<string, { repositoryId: number; name: string; time: number }>();
  private counts = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  constructor(deps: { db: Db; repo: ArtifactQueryRepository; intervalMs?: number; onError?: (err: unknown) => void }) {
    this.db = deps.db;
    this.repo = deps.repo;
    this.onError = deps.onError ?? (() => {});
    this.timer = setInterval(() => void this.flush(), deps.intervalMs ?? 1000);
    this.timer.unref();
  }
  /** One manifest GET: constant time, no I/O. */
  record(m: { id: number; repositoryId: number }, tag: string | null, time = Date.now()): void {
    this.manifests.set(m.id, Math.max(this.manifests.get(m.id) ?? 0, time));
    this.counts.set(m.repositoryId, (this.counts.get(m.repositoryId) ?? 0) + 1);
    if (tag !== null) this.tags.set(`${m.repositoryId}\n${tag}`, { repositoryId: m.repositoryId, name: tag, time });
  }
  async flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.manifests.size && !this.counts.size && !this.tags.size) return;
    const manifests = this.manifests;
    const tags = this.tags;
    const counts = this.counts;
    this.manifests = new Map();
    this.tags = new Map();
    this.counts = new Map();
    this.flushing = (async () => {
      try {
        await this.db.tx((q) =>
          this.repo.savePulls(
            [...manifests].map(([id, time]) => ({ id, time })).sort((a, b) => a.id - b.id),
            [...tags.values()],
            [...counts].map(([id, count]) => ({ id, count })),
            q,
          ),
        );
      } catch (err) {
        // Keep what was not written for the next flush.
        for (const [id, t] of manifests) this.manifests.set(id, Math.max(this.manifests.get(id) ?? 0, t));
        for (const [k, v] of tags) if (!this.tags.has(k)) this.tags.set(k, v);
        for (const [id, n] of counts) this.counts.set(id, (this.counts.get(id) ?? 0) + n);
        this.onError(err);
      } finally {
        this.flushing = null;
      }
    })();
    return this.flushing;
  }
  /** Stops the timer and writes what is pending. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
