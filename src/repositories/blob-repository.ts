import { selectDigestsIn, type Queryable } from '../db/db.ts';

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
  async saveBlob(digest: string, size: number, q: Queryable): Promise<void> {
    await q.run('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?) ON CONFLICT (digest) DO NOTHING', [digest, size, Date.now()]);
  }
  async saveBlobLink(repositoryId: number, digest: string, q: Queryable): Promise<void> {
    await q.run('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [
      repositoryId,
      digest,
      Date.now(),
    ]);
  }
  async removeBlobLink(repositoryId: number, digest: string, q: Queryable = this.db): Promise<boolean> {
    const r = await q.run('DELETE FROM repository_blobs WHERE repository_id = ? AND digest = ?', [repositoryId, digest]);
    return r.changes > 0;
  }
  /** Which of `digests` are linked to the repository. */
  async listLinkedDigests(repositoryId: number, digests: string[], q: Queryable): Promise<Set<string>> {
    return selectDigestsIn(q, 'repository_blobs', repositoryId, digests);
  }
  async listRepositoryNamesWithBlob(digest: string, limit: number): Promise<string[]> {
    const rows = await this.db.all<{ name: string }>(
      'SELECT r.name FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE rb.digest = ? ORDER BY rb.created_at LIMIT ?',
      [digest, limit],
    );
    return rows.map((r) => r.name);
  }
}
