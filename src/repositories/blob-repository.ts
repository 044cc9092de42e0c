import { inList, selectDigestSizesIn, selectDigestsIn, type Queryable } from '../db/db.ts';

/** A blob row's state as seen by a transaction that wants to link it. */
export type BlobClaim = 'created' | 'live' | 'deleting' | 'absent';
const forShare = (q: Queryable) => (q.dialect === 'postgres' ? ' FOR SHARE' : '');

/** Global blob rows (deduplicated by digest) and their per-repository links. */
export class BlobRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  /** Size of a blob if it is linked to the repository, else null: a repository sees only its own blobs. */
  async findLinkedBlobSize(repositoryName: string, digest: string): Promise<number | null> {
    const r = await this.db.get<{ size: number }>(
      `SELECT b.size FROM blobs b JOIN repository_blobs rb ON rb.digest = b.digest
       JOIN repositories r ON r.id = rb.repository_id WHERE r.name = ? AND b.digest = ?`,
      [repositoryName, digest],
    );
    return r ? Number(r.size) : null;
  }
  async findBlobSize(digest: string, q: Queryable = this.db): Promise<number | null> {
    const r = await q.get<{ size: number }>('SELECT size FROM blobs WHERE digest = ?', [digest]);
    return r ? Number(r.size) : null;
  }
  /**
   * Inserts the blob row, or locks the existing one (PostgreSQL: FOR SHARE, held to the end of `q`'s
   * transaction, so garbage collection cannot mark it meanwhile) and reports whether GC is deleting it.
   */
  async claimBlob(digest: string, size: number, q: Queryable): Promise<BlobClaim> {
    for (let i = 0; i < 5; i++) {
      const ins = await q.get('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING RETURNING digest', [
        digest,
        size,
        Date.now(),
      ]);
      if (ins) return 'created';
      const state = await this.lockBlob(digest, q);
      if (state !== 'absent') return state;
      // Deleted by GC between the two statements (PostgreSQL, READ COMMITTED): insert again.
    }
    throw new Error(`blob row ${digest} keeps vanishing`);
  }
  /** Locks an existing blob row against GC's marking (see claimBlob) and reports its state. */
  async lockBlob(digest: string, q: Queryable): Promise<BlobClaim> {
    const r = await q.get<{ deleting: number | null }>(`SELECT deleting FROM blobs WHERE digest = ?${forShare(q)}`, [digest]);
    return !r ? 'absent' : r.deleting !== null ? 'deleting' : 'live';
  }
  /** Creates the link, or refreshes an existing one: either way it is pending (GC's grace) until a manifest references it. */
  async saveBlobLink(repositoryId: number, digest: string, q: Queryable): Promise<void> {
    const now = Date.now();
    await q.run(
      `INSERT INTO repository_blobs (repository_id, digest, created_at, pending_since) VALUES (?, ?, ?, ?)
       ON CONFLICT (repository_id, digest) DO UPDATE SET pending_since = excluded.pending_since`,
      [repositoryId, digest, now, now],
    );
  }
  /** A manifest now references these links: they leave the pending state (no grace once unreferenced again). */
  async markLinksReferenced(repositoryId: number, digests: readonly string[], q: Queryable): Promise<void> {
    // Sorted, so concurrent manifest PUTs lock shared rows in one order.
    const sorted = [...digests].sort();
    for (let i = 0; i < sorted.length; i += 500) {
      const part = sorted.slice(i, i + 500);
      await q.run(`UPDATE repository_blobs SET pending_since = NULL WHERE repository_id = ? AND pending_since IS NOT NULL AND digest IN (${inList(part.length)})`, [
        repositoryId,
        ...part,
      ]);
    }
  }
  /**
   * Of `digests` (rows GC marked `deleting`), locks the ones still marked and returns them; the caller removes
   * their files and then the rows in the same transaction, so no upload can place or link the blob meanwhile.
   */
  async lockDeletingBlobs(digests: readonly string[], q: Queryable, skipLocked: boolean): Promise<{ digest: string; size: number }[]> {
    if (!digests.length) return [];
    const lock = q.dialect === 'postgres' ? (skipLocked ? ' FOR UPDATE SKIP LOCKED' : ' FOR UPDATE') : '';
    const rows = await q.all<{ digest: string; size: number }>(
      `SELECT digest, size FROM blobs WHERE deleting IS NOT NULL AND digest IN (${inList(digests.length)}) ORDER BY digest${lock}`,
      [...digests],
    );
    return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
  }
  async removeDeletingBlobs(digests: readonly string[], q: Queryable): Promise<void> {
    if (digests.length) await q.run(`DELETE FROM blobs WHERE deleting IS NOT NULL AND digest IN (${inList(digests.length)})`, [...digests]);
  }
  async removeBlobLink(repositoryId: number, digest: string, q: Queryable = this.db): Promise<boolean> {
    const r = await q.run('DELETE FROM repository_blobs WHERE repository_id = ? AND digest = ?', [repositoryId, digest]);
    return r.changes > 0;
  }
  /** Stored sizes of those of `digests` that exist. */
  async listBlobSizes(digests: readonly string[], q: Queryable): Promise<Map<string, number>> {
    return selectDigestSizesIn(q, 'blobs', null, digests);
  }
  /** Which of `digests` are linked to the repository. */
  async listLinkedDigests(repositoryId: number, digests: string[], q: Queryable): Promise<Set<string>> {
    return selectDigestsIn(q, 'repository_blobs', repositoryId, digests, 'share');
  }
  async listRepositoryNamesWithBlob(digest: string, limit: number): Promise<string[]> {
    const rows = await this.db.all<{ name: string }>(
      'SELECT r.name FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE rb.digest = ? ORDER BY rb.created_at LIMIT ?',
      [digest, limit],
    );
    return rows.map((r) => r.name);
  }
}
