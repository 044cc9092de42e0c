import type { Queryable } from '../db/db.ts';
import { orderSql, whereSql, type ListQuery } from './list-query.ts';

export interface Project {
  id: number;
  name: string;
  public: boolean;
  ownerId: number | null;
  createdAt: number;
  updatedAt: number;
  /** The replication endpoint a proxy-cache project pulls through from; 0 for a normal project. */
  registryId: number;
}

interface ProjectRow {
  id: number;
  name: string;
  public: number;
  owner_id: number | null;
  created_at: number;
  updated_at: number;
  registry_id?: number | null;
}
const toProject = (r: ProjectRow): Project => ({
  id: Number(r.id),
  name: r.name,
  public: !!r.public,
  ownerId: r.owner_id === null ? null : Number(r.owner_id),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  registryId: Number(r.registry_id ?? 0),
});

/** Fields the project list may be filtered and sorted on. */
export type ProjectField = 'name' | 'public' | 'project_id' | 'owner_id' | 'creation_time' | 'update_time';
const PROJECT_COLUMNS: Readonly<Record<ProjectField, string>> = {
  name: 'name',
  public: 'public',
  project_id: 'id',
  owner_id: 'owner_id',
  creation_time: 'created_at',
  update_time: 'updated_at',
};

/** Which projects a caller may see in lists: all (sysadmin), or public ones plus `memberOf`. */
export type Visibility = { all: true } | { all: false; memberOf: readonly number[] };

export class ProjectRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findProjectByName(name: string): Promise<Project | null> {
    const r = await this.db.get<ProjectRow>('SELECT * FROM projects WHERE name = ?', [name]);
    return r ? toProject(r) : null;
  }
  async findProjectById(id: number, q: Queryable = this.db): Promise<Project | null> {
    const r = await q.get<ProjectRow>('SELECT * FROM projects WHERE id = ?', [id]);
    return r ? toProject(r) : null;
  }
  async saveProject(p: { name: string; public: boolean; ownerId: number | null }, q: Queryable = this.db): Promise<Project> {
    const now = Date.now();
    const r = await q.get<ProjectRow>(
      `INSERT INTO projects (name, public, owner_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET public = excluded.public, updated_at = excluded.updated_at RETURNING *`,
      [p.name, p.public ? 1 : 0, p.ownerId, now, now],
    );
    return toProject(r!);
  }
  /** Inserts a new project; null when the name is taken. */
  /** `storageLimit`: bytes, -1 unlimited, null/absent = the configured default. */
  async saveNewProject(p: { name: string; public: boolean; ownerId: number | null; storageLimit?: number | null; registryId?: number }, q: Queryable = this.db): Promise<Project | null> {
    const now = Date.now();
    const r = await q.get<ProjectRow>(
      `INSERT INTO projects (name, public, owner_id, created_at, updated_at, storage_limit, registry_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING *`,
      [p.name, p.public ? 1 : 0, p.ownerId, now, now, p.storageLimit ?? null, p.registryId ?? 0],
    );
    return r ? toProject(r) : null;
  }
  private visibleSql(v: Visibility): [string, number[]] {
    if (v.all) return ['', []];
    if (!v.memberOf.length) return [' AND public = 1', []];
    return [` AND (public = 1 OR id IN (${v.memberOf.map(() => '?').join(',')}))`, [...v.memberOf]];
  }
  async countProjects(v: Visibility, where: ListQuery<ProjectField>['where']): Promise<number> {
    const [vs, vp] = this.visibleSql(v);
    const [w, p] = whereSql(PROJECT_COLUMNS, where);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM projects WHERE 1 = 1${vs}${w}`, [...vp, ...p]);
    return Number(r?.n ?? 0);
  }
  async listProjects(v: Visibility, q: ListQuery<ProjectField>): Promise<Project[]> {
    const [vs, vp] = this.visibleSql(v);
    const [w, p] = whereSql(PROJECT_COLUMNS, q.where);
    const rows = await this.db.all<ProjectRow>(
      `SELECT * FROM projects WHERE 1 = 1${vs}${w}${orderSql(PROJECT_COLUMNS, q.sort, 'name')} LIMIT ? OFFSET ?`,
      [...vp, ...p, q.limit, q.offset],
    );
    return rows.map(toProject);
  }
  async updateProjectPublic(id: number, isPublic: boolean, q: Queryable = this.db): Promise<void> {
    await q.run('UPDATE projects SET public = ?, updated_at = ? WHERE id = ?', [isPublic ? 1 : 0, Date.now(), id]);
  }
  /** Names of the proxy-cache projects that pull through from the endpoint (it may not be deleted meanwhile). */
  async listProjectNamesUsingRegistry(registryId: number): Promise<string[]> {
    const rows = await this.db.all<{ name: string }>('SELECT name FROM projects WHERE registry_id = ? ORDER BY name LIMIT 10', [registryId]);
    return rows.map((r) => r.name);
  }
  async countProjectRepositories(id: number, q: Queryable = this.db): Promise<number> {
    const r = await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM repositories WHERE project_id = ?', [id]);
    return Number(r?.n ?? 0);
  }
  /**
   * Deletes a project that has no repositories (members and metadata go with it by cascade, its project labels
   * here: labels.project_id has no foreign key because global labels use 0); false when it has some.
   */
  async removeEmptyProject(id: number, q: Queryable): Promise<boolean> {
    if ((await this.countProjectRepositories(id, q)) > 0) return false;
    await q.run(`DELETE FROM labels WHERE scope = 'p' AND project_id = ?`, [id]);
    await q.run('DELETE FROM projects WHERE id = ?', [id]);
    return true;
  }
  /** Metadata other than `public` (which is the projects.public column). */
  async findProjectMetadata(id: number, q: Queryable = this.db): Promise<Record<string, string>> {
    const rows = await q.all<{ name: string; value: string }>('SELECT name, value FROM project_metadata WHERE project_id = ? ORDER BY name', [id]);
    return Object.fromEntries(rows.map((r) => [r.name, r.value]));
  }
  async saveProjectMetadata(id: number, name: string, value: string, q: Queryable = this.db): Promise<void> {
    await q.run('INSERT INTO project_metadata (project_id, name, value) VALUES (?, ?, ?) ON CONFLICT (project_id, name) DO UPDATE SET value = excluded.value', [
      id,
      name,
      value,
    ]);
  }
  async removeProjectMetadata(id: number, name: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM project_metadata WHERE project_id = ? AND name = ?', [id, name])).changes > 0;
  }
}
