// Reading, deleting and mounting blobs. The database decides visibility: a repository sees only blobs linked
// to it, even though storage deduplicates globally by digest.
import type { Readable } from 'node:stream';
import type { Db } from '../../db/db.ts';
import { Errors } from '../../errors.ts';
import type { BlobFile, BlobStore, ByteRange } from '../../storage/blob-store.ts';
import type { BlobRepository } from '../../repositories/blob-repository.ts';
import type { RepositoryRepository } from '../../repositories/repository-repository.ts';
import type { QuotaService } from './quota-service.ts';

export class BlobService {
  private readonly db: Db;
  private readonly store: BlobStore;
  private readonly blobs: BlobRepository;
  private readonly repositories: RepositoryRepository;
  private readonly quota: QuotaService | null;
  constructor(deps: { db: Db; store: BlobStore; blobs: BlobRepository; repositories: RepositoryRepository; quota?: QuotaService }) {
    this.quota = deps.quota ?? null;
    this.db = deps.db;
    this.store = deps.store;
    this.blobs = deps.blobs;
    this.repositories = deps.repositories;
  }

  /** Size of a blob visible in the repository; BLOB_UNKNOWN otherwise. */
  async stat(repositoryName: string, digest: string): Promise<number> {
    const size = await this.blobs.findLinkedBlobSize(repositoryName, digest);
    if (size === null) throw Errors.blobUnknown(digest);
    return size;
  }

  open(digest: string, range?: ByteRange): Readable {
    return this.store.read(digest, range);
  }

  /** Positional access to a blob's bytes, when the driver offers it (null otherwise). */
  async openFile(digest: string): Promise<BlobFile | null> {
    return this.store.openFile ? this.store.openFile(digest) : null;
  }

  /** Where to send a client for the bytes instead of streaming them (storage `redirect`), or null. */
  async redirectUrl(digest: string): Promise<string | null> {
    return this.store.redirectUrl ? this.store.redirectUrl(digest) : null;
  }

  /** Unlinks the blob from the repository; the bytes go when garbage collection finds them unreferenced. */
  async remove(repositoryName: string, digest: string): Promise<void> {
    const repo = await this.repositories.findRepositoryByName(repositoryName);
    if (!repo || !(await this.blobs.removeBlobLink(repo.id, digest))) throw Errors.blobUnknown(digest);
  }

  /**
   * Links an existing blob into `target` if it is linked in one of `sources` (repositories the caller may
   * pull from). Returns the size, or null when no source has it (the caller then opens an upload instead).
   */
  async mount(target: string, projectId: number, digest: string, sources: string[]): Promise<number | null> {
    for (const source of sources) {
      const size = await this.blobs.findLinkedBlobSize(source, digest);
      if (size === null) continue;
      // The row can vanish only through GC; lock it and re-check inside the transaction. A blob GC is
      // deleting is not mounted: the client uploads it instead, which places the bytes again.
      const ok = await this.db.tx(async (q) => {
        if ((await this.blobs.lockBlob(digest, q)) !== 'live') return false;
        // A mount into a project that would exceed its storage quota is refused (DENIED), not turned into an upload.
        if (this.quota) await this.quota.assertRoom(projectId, digest, size, q, target);
        const repo = await this.repositories.saveRepositoryIfAbsent(target, projectId, q);
        await this.blobs.saveBlobLink(repo.id, digest, q);
        return true;
      });
      if (ok) return size;
    }
    return null;
  }

  /** Repositories that have the blob linked (for anonymous mount; the caller filters by permission). */
  async listRepositoriesWithBlob(digest: string, limit = 20): Promise<string[]> {
    return this.blobs.listRepositoryNamesWithBlob(digest, limit);
  }
}
