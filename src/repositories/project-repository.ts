import type { Queryable } from '../db/db.ts';

export interface Project {
  id: number;
  name: string;
  public: boolean;
  ownerId: number | null;
  createdAt: number;
  updatedAt: number;
}

interface ProjectRow {
  id: number;
  name: string;
  public: number;
  owner_id: number | null;
  created_at: number;
  updated_at: number;
}
const toProject = (r: ProjectRow): Project => ({
  id: r.id,
  name: r.name,
  public: !!r.public,
  ownerId: r.owner_id,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class ProjectRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findProjectByName(name: string): Promise<Project | null> {
    const r = await this.db.get<ProjectRow>('SELECT * FROM projects WHERE name = ?', [name]);
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
}
