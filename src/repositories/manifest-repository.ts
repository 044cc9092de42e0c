import { selectDigestSizesIn, type Queryable } from '../db/db.ts';

export interface ManifestMeta {
  id: number;
  repositoryId: number;
  digest: string;
  mediaType: string;
  size: number;
  subjectDigest: string | null;
}
export interface Manifest extends ManifestMeta {
  content: Buffer;
}
export interface Referrer {
  digest: string;
  mediaType: string;
  size: number;
  artifactType: string | null;
  annotations: Record<string, string> | null;
}
interface ManifestRow {
  id: number;
  repository_id: number;
  digest: string;
  media_type: string;
  size: number;
  subject_digest: string | null;
  content?: Buffer;
}
const META_COLS = 'm.id, m.repository_id, m.digest, m.media_type, m.size, m.subject_digest';
const toManifest = (r: ManifestRow): Manifest => ({
  id: r.id,
  repositoryId: r.repository_id,
  digest: r.digest,
  mediaType: r.media_type,
  size: Number(r.size),
  subjectDigest: r.subject_digest,
  content: r.content as Buffer,
});

export interface NewManifest {
  repositoryId: number;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  configMediaType: string | null;
  content: Buffer;
  subjectDigest: string | null;
  annotations: Record<string, string> | null;
}

/** Manifests, their references and tags: one aggregate, changed together in one transaction. */
export class ManifestRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }

  async findManifestByDigest(repositoryName: string, digest: string, withContent: boolean, q: Queryable = this.db): Promise<Manifest | null> {
    const r = await q.get<ManifestRow>(
      `SELECT ${META_COLS}${withContent ? ', m.content' : ''} FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = ? AND m.digest = ?`,
      [repositoryName, digest],
    );
    return r ? toManifest(r) : null;
  }
  async findManifestByTag(repositoryName: string, tag: string, withContent: boolean, q: Queryable = this.db): Promise<Manifest | null> {
    const r = await q.get<ManifestRow>(
      `SELECT ${META_COLS}${withContent ? ', m.content' : ''} FROM tags t JOIN repositories r ON r.id = t.repository_id
       JOIN manifests m ON m.id = t.manifest_id WHERE r.name = ? AND t.name = ?`,
      [repositoryName, tag],
    );
    return r ? toManifest(r) : null;
  }
  /**
   * Inserts the manifest unless the repository has it already; returns its id. An existing row is locked
   * (PostgreSQL: FOR SHARE until `q` ends) so garbage collection cannot delete it under a new tag.
   */
  async saveManifest(m: NewManifest, q: Queryable): Promise<{ id: number; created: boolean }> {
    for (let i = 0; i < 5; i++) {
      const ins = await q.get<{ id: number }>(
        `INSERT INTO manifests (repository_id, digest, media_type, artifact_type, config_media_type, size, content, subject_digest, annotations, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (repository_id, digest) DO NOTHING RETURNING id`,
        [
          m.repositoryId,
          m.digest,
          m.mediaType,
          m.artifactType,
          m.configMediaType,
          m.content.length,
          m.content,
          m.subjectDigest,
          m.annotations ? JSON.stringify(m.annotations) : null,
          Date.now(),
        ],
      );
      if (ins) return { id: ins.id, created: true };
      const lock = q.dialect === 'postgres' ? ' FOR SHARE' : '';
      const r = await q.get<{ id: number }>(`SELECT id FROM manifests WHERE repository_id = ? AND digest = ?${lock}`, [m.repositoryId, m.digest]);
      if (r) return { id: r.id, created: false };
      // Deleted (by GC) between the two statements: insert again.
    }
    throw new Error(`manifest ${m.digest} keeps vanishing`);
  }
  async saveManifestReferences(manifestId: number, refs: { digest: string; kind: 'blob' | 'manifest' }[], q: Queryable): Promise<void> {
    for (const ref of refs)
      await q.run('INSERT INTO manifest_references (manifest_id, digest, kind) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [manifestId, ref.digest, ref.kind]);
  }
  /** Which of `digests` are manifests of the repository. */
  /**
   * Sizes of those of `digests` that are manifests of the repository; PostgreSQL share-locks the rows to the end of
   * the caller's transaction (GC must not delete a child an index being written refers to).
   */
  async listManifestSizes(repositoryId: number, digests: readonly string[], q: Queryable): Promise<Map<string, number>> {
    return selectDigestSizesIn(q, 'manifests', repositoryId, digests, 'share');
  }
  /** `pushTime` (the tag's push time, updated_at) defaults to now; replication carries the source's along. */
  async saveTag(repositoryId: number, name: string, manifestId: number, q: Queryable, pushTime = Date.now()): Promise<void> {
    await q.run(
      `INSERT INTO tags (repository_id, name, manifest_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (repository_id, name) DO UPDATE SET manifest_id = excluded.manifest_id, updated_at = excluded.updated_at`,
      [repositoryId, name, manifestId, pushTime, pushTime],
    );
  }
  /**
   * Every tag with its digest and push time, by repository then tag (byte order), optionally of one repository
   * (anti-entropy's comparison of two registries).
   */
  async listTagStates(repositoryName?: string): Promise<{ repository: string; tag: string; digest: string; pushTime: number }[]> {
    const rows = await this.db.all<{ repository: string; tag: string; digest: string; push_time: number }>(
      `SELECT r.name AS repository, t.name AS tag, m.digest, t.updated_at AS push_time FROM tags t
       JOIN repositories r ON r.id = t.repository_id JOIN manifests m ON m.id = t.manifest_id
       ${repositoryName !== undefined ? 'WHERE r.name = ?' : ''} ORDER BY r.name, t.name`,
      repositoryName !== undefined ? [repositoryName] : [],
    );
    return rows.map((r) => ({ repository: r.repository, tag: r.tag, digest: r.digest, pushTime: Number(r.push_time) }));
  }
  /**
   * Creates a tag that must not move: inserted when absent, else left alone. Returns the manifest the tag
   * names afterwards (the caller refuses when it is not `manifestId`); race-free across transactions.
   */
  async saveTagIfAbsent(repositoryId: number, name: string, manifestId: number, q: Queryable): Promise<number> {
    const now = Date.now();
    await q.run('INSERT INTO tags (repository_id, name, manifest_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (repository_id, name) DO NOTHING', [
      repositoryId,
      name,
      manifestId,
      now,
      now,
    ]);
    const r = await q.get<{ manifest_id: number }>('SELECT manifest_id FROM tags WHERE repository_id = ? AND name = ?', [repositoryId, name]);
    return r ? Number(r.manifest_id) : manifestId;
  }
  async removeTag(repositoryId: number, name: string, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('DELETE FROM tags WHERE repository_id = ? AND name = ?', [repositoryId, name])).changes > 0;
  }
  /** Deletes a manifest; its tags and reference rows go with it (ON DELETE CASCADE). */
  async removeManifest(repositoryId: number, digest: string, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('DELETE FROM manifests WHERE repository_id = ? AND digest = ?', [repositoryId, digest])).changes > 0;
  }
  /** Accessories of `digest` in the repository: manifests whose subject it is, and those tagged with one of `tags` (cosign's). */
  async listAccessoriesOf(repositoryId: number, digest: string, tags: readonly string[], q: Queryable = this.db): Promise<{ id: number; digest: string }[]> {
    const rows = await q.all<{ id: number; digest: string }>(
      `SELECT m.id, m.digest FROM manifests m WHERE m.repository_id = ? AND m.subject_digest = ?${
        tags.length ? ` UNION SELECT m.id, m.digest FROM tags t JOIN manifests m ON m.id = t.manifest_id WHERE t.repository_id = ? AND t.name IN (${tags.map(() => '?').join(',')})` : ''
      }`,
      tags.length ? [repositoryId, digest, repositoryId, ...tags] : [repositoryId, digest],
    );
    return rows.map((r) => ({ id: Number(r.id), digest: r.digest }));
  }
  /** The tags on one manifest, in ASCII order. */
  async listTagsOfManifest(manifestId: number, q: Queryable = this.db): Promise<string[]> {
    return (await q.all<{ name: string }>('SELECT name FROM tags WHERE manifest_id = ? ORDER BY name', [manifestId])).map((r) => r.name);
  }
  /** Tags in ASCII order, after `last`, at most `limit`. */
  async listTags(repositoryName: string, limit: number, last: string | null): Promise<string[]> {
    const rows = await this.db.all<{ name: string }>(
      `SELECT t.name FROM tags t JOIN repositories r ON r.id = t.repository_id WHERE r.name = ?${last !== null ? ' AND t.name > ?' : ''}
       ORDER BY t.name LIMIT ?`,
      last !== null ? [repositoryName, last, limit] : [repositoryName, limit],
    );
    return rows.map((r) => r.name);
  }
  async listReferrers(repositoryName: string, subject: string, artifactType: string | null): Promise<Referrer[]> {
    const rows = await this.db.all<{ digest: string; media_type: string; size: number; artifact_type: string | null; annotations: string | null }>(
      `SELECT m.digest, m.media_type, m.size, m.artifact_type, m.annotations FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE r.name = ? AND m.subject_digest = ?${artifactType !== null ? ' AND m.artifact_type = ?' : ''} ORDER BY m.id`,
      artifactType !== null ? [repositoryName, subject, artifactType] : [repositoryName, subject],
    );
    return rows.map((r) => ({
      digest: r.digest,
      mediaType: r.media_type,
      size: Number(r.size),
      artifactType: r.artifact_type,
      annotations: r.annotations ? (JSON.parse(r.annotations) as Record<string, string>) : null,
    }));
  }
}
