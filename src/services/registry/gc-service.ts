// Online garbage collection. No read-only mode and no time window for referenced data: references live in the
// database and are written in the same transactions that create manifests, tags and links, and every GC delete
// locks its rows and re-checks "unreferenced" before deleting (see repositories/gc-repository.ts).
//   1. manifests (only with deleteUntagged): untagged, not a child of another manifest, not a referrer of a
//      live manifest, older than the grace (a multi-arch push uploads its children untagged first); repeated
//      while a pass deletes something, since deleting an index frees its children.
//   2. links (repository_blobs) that no manifest of their repository references. A link an upload or mount
//      created and no manifest has referenced yet is "pending" and kept for the grace period.
//   3. blob rows with no link: marked `deleting` in one transaction, then files and rows removed together
//      under the row locks (blob-deletion.ts). Rows left `deleting` by a crash have no link and are finished
//      by the next run.
//   4. storage files with no row, older than the grace (crash leftovers of upload commits): claimed by
//      inserting a `deleting` row (never when a row exists), then removed like any other blob.
// Every step is idempotent, so a run killed at any point is completed by the next one.
import type { Db } from '../../db/db.ts';
import type { BlobRepository } from '../../repositories/blob-repository.ts';
import type { GcRepository, LinkKey } from '../../repositories/gc-repository.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { completeBlobDeletions } from './blob-deletion.ts';
import { crashPoint, type Faults } from './faults.ts';

export type GcPhase = 'manifests' | 'links' | 'blobs' | 'orphans' | 'done';

export interface GcReport {
  dryRun: boolean;
  /** Stopped through the AbortSignal before finishing. */
  stopped: boolean;
  manifestsDeleted: number;
  linksDeleted: number;
  blobsDeleted: number;
  /** Storage files that had no blob row (counted in blobsDeleted and bytesFreed too). */
  orphanFilesDeleted: number;
  bytesFreed: number;
  /** With deleteUntagged: untagged manifests kept because they are younger than the grace. */
  untaggedKeptByGrace: number;
  /** The grace used (ms). */
  graceMs: number;
  durationMs: number;
}

export interface GcProgress extends Omit<GcReport, 'durationMs' | 'stopped' | 'untaggedKeptByGrace' | 'graceMs'> {
  phase: GcPhase;
}

export interface GcOptions {
  dryRun?: boolean;
  deleteUntagged?: boolean;
  /** Parallel deletion workers (1-10). */
  workers?: number;
  onProgress?: (p: GcProgress) => void;
  signal?: AbortSignal;
  /** Overrides the configured grace (ms) for pending links, untagged manifests and orphan files. */
  graceMs?: number;
  /** Rows per batch (default 200). */
  batchSize?: number;
}

export interface GcServiceDeps {
  db: Db;
  store: BlobStore;
  blobs: BlobRepository;
  gc: GcRepository;
  /** Grace (ms) for links never referenced by a manifest, untagged manifests and files without a row. */
  graceMs: number;
  faults?: Faults;
}

export class GcService {
  private readonly deps: GcServiceDeps;
  constructor(deps: GcServiceDeps) {
    this.deps = deps;
  }

  async run(opts: GcOptions = {}): Promise<GcReport> {
    const started = Date.now();
    const dryRun = opts.dryRun ?? false;
    const workers = Math.min(10, Math.max(1, Math.floor(opts.workers ?? 1)));
    const batch = Math.max(1, opts.batchSize ?? 200);
    const graceMs = opts.graceMs ?? this.deps.graceMs;
    const cutoff = started - graceMs;
    let untaggedKeptByGrace = 0;
    const r: GcProgress = { phase: 'manifests', dryRun, manifestsDeleted: 0, linksDeleted: 0, blobsDeleted: 0, orphanFilesDeleted: 0, bytesFreed: 0 };
    const stopped = () => opts.signal?.aborted === true;
    const progress = (phase: GcPhase) => {
      r.phase = phase;
      opts.onProgress?.({ ...r });
    };
    const finish = (): GcReport => {
      const { phase: _phase, ...rest } = r;
      return { ...rest, stopped: stopped(), untaggedKeptByGrace, graceMs, durationMs: Date.now() - started };
    };

    // 1. Untagged manifests.
    if (opts.deleteUntagged) {
      for (let pass = 0; pass < 20 && !stopped(); pass++) {
        let deletedThisPass = 0;
        let after = 0;
        for (;;) {
          if (stopped()) return finish();
          const page = await this.deps.gc.listGarbageManifests(after, cutoff, batch);
          if (!page.length) break;
          after = page[page.length - 1].id;
          const n = dryRun ? page.length : await this.deps.db.tx((q) => this.deps.gc.removeGarbageManifests(page.map((m) => m.id), cutoff, q));
          r.manifestsDeleted += n;
          deletedThisPass += n;
          progress('manifests');
        }
        // A dry run counts the first generation only (an index, not yet its children), and the links and
        // blobs that deleting those manifests would free.
        if (dryRun || deletedThisPass === 0) break;
      }
      // Said in the log, the result and the portal, so "deleted 0 of 2 untagged" is never a mystery.
      untaggedKeptByGrace = await this.deps.gc.countUntaggedWithinGrace(cutoff);
    }
    if (stopped()) return finish();

    // 2. Unreferenced links.
    if (dryRun) {
      let after: LinkKey | null = null;
      for (;;) {
        if (stopped()) return finish();
        const page = await this.deps.gc.listGarbageLinks(after, cutoff, batch, opts.deleteUntagged === true);
        if (!page.length) break;
        after = page[page.length - 1];
        r.linksDeleted += page.length;
        progress('links');
      }
    } else {
      let after: LinkKey | null = null;
      await this.pool(workers, async () => {
        if (stopped()) return false;
        const page = await this.deps.gc.listGarbageLinks(after, cutoff, batch);
        if (!page.length) return false;
        after = page[page.length - 1];
        return async () => {
          const byRepo = new Map<number, string[]>();
          for (const l of page) byRepo.set(l.repositoryId, [...(byRepo.get(l.repositoryId) ?? []), l.digest]);
          const n = await this.deps.db.tx(async (q) => {
            let deleted = 0;
            for (const [repo, digests] of byRepo) deleted += (await this.deps.gc.removeGarbageLinks(repo, digests, cutoff, q)).length;
            return deleted;
          });
          r.linksDeleted += n;
          progress('links');
        };
      });
    }
    if (stopped()) return finish();

    // 3. Blob rows without links (in a dry run: without a link that survives step 2).
    {
      let after = '';
      await this.pool(dryRun ? 1 : workers, async () => {
        if (stopped()) return false;
        const page = dryRun
          ? await this.deps.gc.listBlobsWithoutLiveLink(after, cutoff, batch, opts.deleteUntagged === true)
          : await this.deps.gc.listUnlinkedBlobs(after, batch);
        if (!page.length) return false;
        after = page[page.length - 1].digest;
        return async () => {
          if (dryRun) {
            r.blobsDeleted += page.length;
            r.bytesFreed += page.reduce((s, b) => s + b.size, 0);
          } else {
            const freed = await this.deleteBlobs(page.map((b) => b.digest));
            r.blobsDeleted += freed.length;
            r.bytesFreed += freed.reduce((s, b) => s + b.size, 0);
          }
          progress('blobs');
        };
      });
    }
    if (stopped()) return finish();

    // 4. Files without a row.
    const pending: { digest: string; size: number }[] = [];
    const flush = async () => {
      const files = pending.splice(0);
      const known = await this.deps.gc.findBlobDigests(files.map((f) => f.digest));
      const orphans = files.filter((f) => !known.has(f.digest));
      if (!orphans.length) return;
      if (dryRun) {
        r.orphanFilesDeleted += orphans.length;
        r.blobsDeleted += orphans.length;
        r.bytesFreed += orphans.reduce((s, f) => s + f.size, 0);
      } else {
        const claimed = await this.deps.db.tx((q) => this.deps.gc.saveDeletingBlobs(orphans, Date.now(), q));
        const freed = await completeBlobDeletions(this.deps, claimed, { skipLocked: true });
        r.orphanFilesDeleted += freed.length;
        r.blobsDeleted += freed.length;
        r.bytesFreed += freed.reduce((s, f) => s + f.size, 0);
      }
      progress('orphans');
    };
    for await (const f of this.deps.store.listBlobs()) {
      if (stopped()) return finish();
      if (f.modifiedAt >= cutoff) continue;
      pending.push({ digest: f.digest, size: f.size });
      if (pending.length >= batch) await flush();
    }
    await flush();
    progress('done');
    return finish();
  }

  /** Marks the unlinked blobs among `digests`, then removes the files and rows of every `deleting` one. */
  private async deleteBlobs(digests: string[]): Promise<{ digest: string; size: number }[]> {
    await this.deps.db.tx((q) => this.deps.gc.markBlobsDeleting(digests, Date.now(), q));
    crashPoint(this.deps.faults, 'gc-after-mark');
    // Rows marked by this or an earlier (crashed) run; rows another worker or an upload holds are skipped.
    return completeBlobDeletions(this.deps, digests, { skipLocked: true });
  }

  /**
   * Runs up to `n` batches at once: `next` (called one at a time, in order) fetches the next page and returns
   * the work for it, or false when there is none left.
   */
  private async pool(n: number, next: () => Promise<false | (() => Promise<void>)>): Promise<void> {
    let chain: Promise<unknown> = Promise.resolve();
    let done = false;
    const take = () => {
      const p = chain.then(async () => (done ? false : next()));
      chain = p.catch(() => {});
      return p;
    };
    const worker = async () => {
      for (;;) {
        const work = await take();
        if (!work) {
          done = true;
          return;
        }
        try {
          await work();
        } catch (e) {
          done = true; // the other workers stop taking batches; run() rejects with this error
          throw e;
        }
      }
    };
    await Promise.all(Array.from({ length: n }, worker));
  }
}
