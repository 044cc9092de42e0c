// The last step of deleting a blob, shared by garbage collection and by an upload that finds its digest
// being deleted: under the row lock of blobs GC marked `deleting`, remove their files, then the rows, in one
// transaction. While that lock is held no upload can link the blob (it locks the row first and sees the
// marker), and an upload that placed the same bytes before finds the file gone and places them again.
import type { Db } from '../../db/db.ts';
import type { BlobRepository } from '../../repositories/blob-repository.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { crashPoint, type Faults } from './faults.ts';

export async function completeBlobDeletions(
  deps: { db: Db; store: BlobStore; blobs: BlobRepository; faults?: Faults },
  digests: readonly string[],
  opts: { skipLocked: boolean },
): Promise<{ digest: string; size: number }[]> {
  if (!digests.length) return [];
  return deps.db.tx(async (q) => {
    const rows = await deps.blobs.lockDeletingBlobs(digests, q, opts.skipLocked);
    await Promise.all(rows.map((r) => deps.store.remove(r.digest)));
    if (rows.length) crashPoint(deps.faults, 'gc-after-file-remove');
    await deps.blobs.removeDeletingBlobs(
      rows.map((r) => r.digest),
      q,
    );
    return rows;
  });
}
