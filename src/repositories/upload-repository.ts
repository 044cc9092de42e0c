import type { Queryable } from '../db/db.ts';
import type { Algorithm } from '../oci/digest.ts';

export interface Upload {
  id: string;
  repositoryName: string;
  principal: string;
  algorithm: Algorithm;
  size: number;
  /** Acknowledged storage parts, in order; their sizes add up to `size`. */
  parts: string[];
  startedAt: number;
  updatedAt: number;
}
interface UploadRow {
  id: string;
  repository_name: string;
  principal: string;
  algorithm: string;
  size: number;
  parts: string;
  started_at: number;
  updated_at: number;
}
const toUpload = (r: UploadRow): Upload => ({
  id: r.id,
  repositoryName: r.repository_name,
  principal: r.principal,
  algorithm: r.algorithm as Algorithm,
  size: Number(r.size),
  parts: JSON.parse(r.parts) as string[],
  startedAt: r.started_at,
  updatedAt: r.updated_at,
});

/** Upload sessions, bound to the repository and principal that started them. */
export class UploadRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async saveUpload(u: { id: string; repositoryName: string; principal: string; algorithm: Algorithm }): Promise<void> {
    const now = Date.now();
    await this.db.run('INSERT INTO uploads (id, repository_name, principal, algorithm, size, started_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?)', [
      u.id,
      u.repositoryName,
      u.principal,
      u.algorithm,
      now,
      now,
    ]);
  }
  async findUpload(id: string): Promise<Upload | null> {
    const r = await this.db.get<UploadRow>('SELECT * FROM uploads WHERE id = ?', [id]);
    return r ? toUpload(r) : null;
  }
  /** Acknowledges one more part, only if the size is still `from` (a concurrent PATCH loses). */
  async saveUploadPart(id: string, from: number, to: number, parts: readonly string[]): Promise<boolean> {
    const r = await this.db.run('UPDATE uploads SET size = ?, parts = ?, updated_at = ? WHERE id = ? AND size = ?', [
      to,
      JSON.stringify(parts),
      Date.now(),
      id,
      from,
    ]);
    return r.changes > 0;
  }
  async removeUpload(id: string, q: Queryable = this.db): Promise<void> {
    await q.run('DELETE FROM uploads WHERE id = ?', [id]);
  }
  async listIdleUploads(updatedBefore: number, limit: number): Promise<Upload[]> {
    const rows = await this.db.all<UploadRow>('SELECT * FROM uploads WHERE updated_at < ? ORDER BY updated_at LIMIT ?', [updatedBefore, limit]);
    return rows.map(toUpload);
  }
  async findUploadIds(ids: string[]): Promise<Set<string>> {
    if (!ids.length) return new Set();
    const rows = await this.db.all<{ id: string }>(`SELECT id FROM uploads WHERE id IN (${ids.map(() => '?').join(',')})`, ids);
    return new Set(rows.map((r) => r.id));
  }
}
