// Per-project storage quotas: the limit stored on the project row (NULL = configured default) and the usage,
// always computed from the links (the project's distinct linked blobs), so it cannot drift.
import type { Queryable } from '../db/db.ts';

export class QuotaRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  /**
   * Locks the project row for the rest of the transaction (SQLite transactions are already serialized). NO KEY
   * UPDATE, not UPDATE: a transaction that inserted a repository holds KEY SHARE on the row through the foreign
   * key, and two such transactions asking for FOR UPDATE would deadlock.
   */
  async lockProject(projectId: number, q: Queryable): Promise<boolean> {
    const r = await q.get(`SELECT id FROM projects WHERE id = ?${q.dialect === 'postgres' ? ' FOR NO KEY UPDATE' : ''}`, [projectId]);
    return !!r;
  }
  /** The stored limit (null: the default applies); undefined when the project does not exist. */
  async findStorageLimit(projectId: number, q: Queryable = this.db): Promise<number | null | undefined> {
    const r = await q.get<{ storage_limit: unknown }>('SELECT storage_limit FROM projects WHERE id = ?', [projectId]);
    if (!r) return undefined;
    return r.storage_limit === null ? null : Number(r.storage_limit);
  }
  async saveStorageLimit(projectId: number, limit: number | null, q: Queryable = this.db): Promise<boolean> {
    const r = await q.run('UPDATE projects SET storage_limit = ?, updated_at = ? WHERE id = ?', [limit, Date.now(), projectId]);
    return r.changes > 0;
  }
  /**
   * Bytes of the distinct blobs linked in any repository of the project plus the distinct manifests stored in
   * it (Harbor stores manifests as blobs, so they count too; a manifest in two repositories counts once).
   */
  async storageUsage(projectId: number, q: Queryable = this.db): Promise<number> {
    const r = await q.get<{ n: unknown; m: unknown }>(
      `SELECT
         (SELECT COALESCE(SUM(b.size), 0) FROM blobs b WHERE b.digest IN (
            SELECT rb.digest FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE r.project_id = ?)) AS n,
         (SELECT COALESCE(SUM(d.size), 0) FROM (
            SELECT m.digest, MAX(m.size) AS size FROM manifests m JOIN repositories r ON r.id = m.repository_id
            WHERE r.project_id = ? GROUP BY m.digest) d) AS m`,
      [projectId, projectId],
    );
    return Number(r?.n ?? 0) + Number(r?.m ?? 0);
  }
  /**
   * `storageUsage` summed over every project in one query (/statistics' total_storage_consumption, as Harbor
   * reports it): a blob shared by two projects counts in each, as in their quotas.
   */
  async totalStorageUsage(): Promise<number> {
    const r = await this.db.get<{ n: unknown; m: unknown }>(
      `SELECT
         (SELECT COALESCE(SUM(b.size), 0) FROM (
            SELECT DISTINCT r.project_id, rb.digest FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id) x
          JOIN blobs b ON b.digest = x.digest) AS n,
         (SELECT COALESCE(SUM(d.size), 0) FROM (
            SELECT r.project_id, m.digest, MAX(m.size) AS size FROM manifests m JOIN repositories r ON r.id = m.repository_id
            GROUP BY r.project_id, m.digest) d) AS m`,
    );
    return Number(r?.n ?? 0) + Number(r?.m ?? 0);
  }
  /** `storageUsage` of every project that stores anything, by project id, in two grouped queries (/metrics). */
  async storageUsageByProject(): Promise<Map<number, number>> {
    const blobs = await this.db.all<{ id: unknown; n: unknown }>(
      `SELECT x.project_id AS id, SUM(b.size) AS n FROM (
         SELECT DISTINCT r.project_id, rb.digest FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id) x
       JOIN blobs b ON b.digest = x.digest GROUP BY x.project_id`,
    );
    const manifests = await this.db.all<{ id: unknown; n: unknown }>(
      `SELECT d.project_id AS id, SUM(d.size) AS n FROM (
         SELECT r.project_id, m.digest, MAX(m.size) AS size FROM manifests m JOIN repositories r ON r.id = m.repository_id
         GROUP BY r.project_id, m.digest) d GROUP BY d.project_id`,
    );
    const out = new Map<number, number>();
    for (const r of [...blobs, ...manifests]) out.set(Number(r.id), (out.get(Number(r.id)) ?? 0) + Number(r.n));
    return out;
  }
  async isManifestInProject(projectId: number, digest: string, q: Queryable = this.db): Promise<boolean> {
    const r = await q.get(
      'SELECT 1 AS x FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.project_id = ? AND m.digest = ? LIMIT 1',
      [projectId, digest],
    );
    return !!r;
  }
  async isBlobLinkedInProject(projectId: number, digest: string, q: Queryable = this.db): Promise<boolean> {
    const r = await q.get(
      'SELECT 1 AS x FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id WHERE r.project_id = ? AND rb.digest = ? LIMIT 1',
      [projectId, digest],
    );
    return !!r;
  }
  async listProjects(limit: number, offset: number): Promise<{ id: number; name: string; storageLimit: number | null; createdAt: number; updatedAt: number }[]> {
    const rows = await this.db.all<Record<string, unknown>>('SELECT id, name, storage_limit, created_at, updated_at FROM projects ORDER BY id LIMIT ? OFFSET ?', [limit, offset]);
    return rows.map((r) => ({
      id: Number(r.id),
      name: String(r.name),
      storageLimit: r.storage_limit === null ? null : Number(r.storage_limit),
      createdAt: Number(r.created_at),
      updatedAt: Number(r.updated_at),
    }));
  }
  async countProjects(): Promise<number> {
    const r = await this.db.get<{ n: unknown }>('SELECT COUNT(*) AS n FROM projects');
    return Number(r?.n ?? 0);
  }
  async findProject(projectId: number, q: Queryable = this.db): Promise<{ id: number; name: string; storageLimit: number | null; createdAt: number; updatedAt: number } | null> {
    const r = await q.get<Record<string, unknown>>('SELECT id, name, storage_limit, created_at, updated_at FROM projects WHERE id = ?', [projectId]);
    if (!r) return null;
    return { id: Number(r.id), name: String(r.name), storageLimit: r.storage_limit === null ? null : Number(r.storage_limit), createdAt: Number(r.created_at), updatedAt: Number(r.updated_at) };
  }
}
