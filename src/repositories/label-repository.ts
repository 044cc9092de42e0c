// Labels (global: scope 'g', project_id 0; project: scope 'p') and their links to artifacts (manifests).
import type { Param, Queryable } from '../db/db.ts';
import { escapeLike } from './member-repository.ts';
import { toLabel, type LabelRow } from './artifact-query-repository.ts';

export type { LabelRow } from './artifact-query-repository.ts';

export interface LabelFilter {
  scope?: 'g' | 'p';
  projectId?: number;
  nameEq?: string;
  nameLike?: string;
  /** Restricts project labels to these projects (global labels always pass). */
  visibleProjects?: readonly number[] | 'all';
}
export type LabelSortField = 'name' | 'id' | 'creation_time' | 'update_time';
const LABEL_SORT: Readonly<Record<LabelSortField, string>> = { name: 'name', id: 'id', creation_time: 'created_at', update_time: 'updated_at' };

export class LabelRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  private where(f: LabelFilter): [string, Param[]] {
    let sql = '';
    const p: Param[] = [];
    if (f.scope) {
      sql += ' AND scope = ?';
      p.push(f.scope);
    }
    if (f.projectId !== undefined) {
      sql += ' AND project_id = ?';
      p.push(f.projectId);
    }
    if (f.nameEq !== undefined) {
      sql += ' AND name = ?';
      p.push(f.nameEq);
    }
    if (f.nameLike !== undefined) {
      sql += ` AND LOWER(name) LIKE ? ESCAPE '\\'`;
      p.push(`%${escapeLike(f.nameLike.toLowerCase())}%`);
    }
    if (f.visibleProjects && f.visibleProjects !== 'all') {
      const ids = f.visibleProjects;
      sql += ids.length ? ` AND (scope = 'g' OR project_id IN (${ids.map(() => '?').join(',')}))` : ` AND scope = 'g'`;
      p.push(...ids);
    }
    return [sql, p];
  }
  async countLabels(f: LabelFilter): Promise<number> {
    const [w, p] = this.where(f);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM labels WHERE 1 = 1${w}`, p);
    return Number(r?.n ?? 0);
  }
  async listLabels(f: LabelFilter, sort: { field: LabelSortField; desc: boolean }[], limit: number, offset: number): Promise<LabelRow[]> {
    const [w, p] = this.where(f);
    const order = [...sort.map((s) => `${LABEL_SORT[s.field]} ${s.desc ? 'DESC' : 'ASC'}`), 'id'].join(', ');
    const rows = await this.db.all<Parameters<typeof toLabel>[0]>(`SELECT * FROM labels WHERE 1 = 1${w} ORDER BY ${order} LIMIT ? OFFSET ?`, [...p, limit, offset]);
    return rows.map(toLabel);
  }
  async findLabel(id: number, q: Queryable = this.db): Promise<LabelRow | null> {
    const r = await q.get<Parameters<typeof toLabel>[0]>('SELECT * FROM labels WHERE id = ?', [id]);
    return r ? toLabel(r) : null;
  }
  /** Inserts a label; null when the name is taken in its scope/project. */
  async saveNewLabel(l: { name: string; description: string; color: string; scope: 'g' | 'p'; projectId: number }): Promise<number | null> {
    const now = Date.now();
    const r = await this.db.get<{ id: number }>(
      `INSERT INTO labels (name, description, color, scope, project_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (scope, project_id, name) DO NOTHING RETURNING id`,
      [l.name, l.description, l.color, l.scope, l.projectId, now, now],
    );
    return r ? Number(r.id) : null;
  }
  /** Updates name/description/color; false when the new name is taken. */
  async updateLabel(id: number, l: { name: string; description: string; color: string }): Promise<boolean> {
    const cur = await this.findLabel(id);
    if (!cur) return false;
    const clash = await this.db.get('SELECT id FROM labels WHERE scope = ? AND project_id = ? AND name = ? AND id <> ?', [cur.scope, cur.projectId, l.name, id]);
    if (clash) return false;
    await this.db.run('UPDATE labels SET name = ?, description = ?, color = ?, updated_at = ? WHERE id = ?', [l.name, l.description, l.color, Date.now(), id]);
    return true;
  }
  async removeLabel(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM labels WHERE id = ?', [id])).changes > 0;
  }
  /** Links a label to an artifact; false when it already is. */
  async saveArtifactLabel(manifestId: number, labelId: number): Promise<boolean> {
    const r = await this.db.run('INSERT INTO artifact_labels (manifest_id, label_id, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING', [
      manifestId,
      labelId,
      Date.now(),
    ]);
    return r.changes > 0;
  }
  /** The label names on an artifact (by repository name and digest), for replication's label filter. */
  async listLabelNamesOfArtifact(repositoryName: string, digest: string): Promise<string[]> {
    const rows = await this.db.all<{ name: string }>(
      `SELECT l.name FROM artifact_labels al JOIN labels l ON l.id = al.label_id JOIN manifests m ON m.id = al.manifest_id
       JOIN repositories r ON r.id = m.repository_id WHERE r.name = ? AND m.digest = ? ORDER BY l.name`,
      [repositoryName, digest],
    );
    return rows.map((r) => r.name);
  }
  async removeArtifactLabel(manifestId: number, labelId: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM artifact_labels WHERE manifest_id = ? AND label_id = ?', [manifestId, labelId])).changes > 0;
  }
  /** Project labels of a deleted project. */
  async removeProjectLabels(projectId: number): Promise<void> {
    await this.db.run(`DELETE FROM labels WHERE scope = 'p' AND project_id = ?`, [projectId]);
  }
}
