import type { Queryable } from '../db/db.ts';

export interface Repository {
  id: number;
  projectId: number;
  name: string;
  createdAt: number;
  updatedAt: number;
}
interface RepositoryRow {
  id: number;
  project_id: number;
  name: string;
  created_at: number;
  updated_at: number;
}
const toRepository = (r: RepositoryRow): Repository => ({
  id: r.id,
  projectId: r.project_id,
  name: r.name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** Image repositories (the `project/name` namespaces of /v2). */
export class RepositoryRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findRepositoryByName(name: string, q: Queryable = this.db): Promise<Repository | null> {
    const r = await q.get<RepositoryRow>('SELECT * FROM repositories WHERE name = ?', [name]);
    return r ? toRepository(r) : null;
  }
  /** Returns the repository, creating it inside `q` (a transaction) when missing. */
  async saveRepositoryIfAbsent(name: string, projectId: number, q: Queryable): Promise<Repository> {
    const now = Date.now();
    await q.run('INSERT INTO repositories (project_id, name, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (name) DO NOTHING', [
      projectId,
      name,
      now,
      now,
    ]);
    return (await this.findRepositoryByName(name, q))!;
  }
  /**
   * Removes the repository (its blob links cascade) when it has no manifest and no upload session in progress;
   * whether it did. Used for a repository that only ever held the blobs of a push refused at its manifest.
   */
  async removeRepositoryIfUnused(id: number, name: string, q: Queryable): Promise<boolean> {
    const r = await q.run(
      'DELETE FROM repositories WHERE id = ? AND NOT EXISTS (SELECT 1 FROM manifests WHERE repository_id = ?) AND NOT EXISTS (SELECT 1 FROM uploads WHERE repository_name = ?)',
      [id, id, name],
    );
    return r.changes > 0;
  }
  async touchRepository(id: number, q: Queryable): Promise<void> {
    await q.run('UPDATE repositories SET updated_at = ? WHERE id = ?', [Date.now(), id]);
  }
  /** Catalog page: names after `last`, in order. */
  async listRepositoryNames(limit: number, last: string | null): Promise<string[]> {
    const rows = last
      ? await this.db.all<{ name: string }>('SELECT name FROM repositories WHERE name > ? ORDER BY name LIMIT ?', [last, limit])
      : await this.db.all<{ name: string }>('SELECT name FROM repositories ORDER BY name LIMIT ?', [limit]);
    return rows.map((r) => r.name);
  }
}
