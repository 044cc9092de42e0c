// Read-only counts and name searches across projects and repositories, for /statistics and /search. Every
// query is one aggregate statement (no per-row queries); visibility is passed in as project ids.
import { inList, type Queryable } from '../db/db.ts';
import { escapeLike } from './member-repository.ts';

export interface RepositoryHit {
  repositoryId: number;
  name: string;
  projectId: number;
  projectName: string;
  projectPublic: boolean;
}

export interface ProjectCounts {
  id: number;
  name: string;
  public: boolean;
  members: number;
  repositories: number;
  pulls: number;
}

/** Which projects a caller may see: all (sysadmin), or public ones plus `memberOf`. */
export type StatScope = { all: true } | { all: false; memberOf: readonly number[] };

export class StatisticsRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }

  /** Projects and repositories in public projects, and in every project. */
  async countAll(): Promise<{ publicProjects: number; totalProjects: number; publicRepos: number; totalRepos: number }> {
    const p = await this.db.get<{ pub: unknown; total: unknown }>('SELECT COUNT(CASE WHEN public = 1 THEN 1 END) AS pub, COUNT(*) AS total FROM projects');
    const r = await this.db.get<{ pub: unknown; total: unknown }>(
      'SELECT COUNT(CASE WHEN p.public = 1 THEN 1 END) AS pub, COUNT(*) AS total FROM repositories r JOIN projects p ON p.id = r.project_id',
    );
    return { publicProjects: Number(p?.pub ?? 0), totalProjects: Number(p?.total ?? 0), publicRepos: Number(r?.pub ?? 0), totalRepos: Number(r?.total ?? 0) };
  }

  /** Private projects among `ids`, and the repositories in them. */
  async countPrivate(ids: readonly number[]): Promise<{ projects: number; repos: number }> {
    if (!ids.length) return { projects: 0, repos: 0 };
    const p = await this.db.get<{ n: unknown }>(`SELECT COUNT(*) AS n FROM projects WHERE public = 0 AND id IN (${inList(ids.length)})`, ids);
    const r = await this.db.get<{ n: unknown }>(
      `SELECT COUNT(*) AS n FROM repositories r JOIN projects p ON p.id = r.project_id WHERE p.public = 0 AND p.id IN (${inList(ids.length)})`,
      ids,
    );
    return { projects: Number(p?.n ?? 0), repos: Number(r?.n ?? 0) };
  }


  /** Repositories whose name contains `text` (case-insensitive) in projects the scope sees, by name. */
  async listRepositoriesMatching(scope: StatScope, text: string, limit: number): Promise<RepositoryHit[]> {
    const params: (string | number)[] = [`%${escapeLike(text.toLowerCase())}%`];
    let vis = '';
    if (!scope.all) {
      vis = scope.memberOf.length ? ` AND (p.public = 1 OR p.id IN (${inList(scope.memberOf.length)}))` : ' AND p.public = 1';
      params.push(...scope.memberOf);
    }
    params.push(limit);
    const rows = await this.db.all<{ id: unknown; name: string; project_id: unknown; pname: string; public: unknown }>(
      `SELECT r.id, r.name, r.project_id, p.name AS pname, p.public FROM repositories r JOIN projects p ON p.id = r.project_id
       WHERE LOWER(r.name) LIKE ? ESCAPE '\\'${vis} ORDER BY r.name LIMIT ?`,
      params,
    );
    return rows.map((r) => ({ repositoryId: Number(r.id), name: r.name, projectId: Number(r.project_id), projectName: r.pname, projectPublic: Number(r.public) === 1 }));
  }

  /** Repository count per project id. */
  async countRepositoriesByProject(ids: readonly number[]): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    if (!ids.length) return out;
    const rows = await this.db.all<{ id: unknown; n: unknown }>(
      `SELECT project_id AS id, COUNT(*) AS n FROM repositories WHERE project_id IN (${inList(ids.length)}) GROUP BY project_id`,
      ids,
    );
    for (const r of rows) out.set(Number(r.id), Number(r.n));
    return out;
  }

  /**
   * Every project with its user-member count (groups are not counted, as in Harbor's exporter), repository count
   * and the pulls of its repositories: the per-project gauges of /metrics. Three grouped queries.
   */
  async listProjectCounts(): Promise<ProjectCounts[]> {
    const projects = await this.db.all<{ id: unknown; name: string; public: unknown }>('SELECT id, name, public FROM projects ORDER BY id');
    const members = await this.db.all<{ id: unknown; n: unknown }>(
      "SELECT project_id AS id, COUNT(*) AS n FROM project_members WHERE entity_type = 'u' GROUP BY project_id",
    );
    const repos = await this.db.all<{ id: unknown; n: unknown; pulls: unknown }>(
      'SELECT project_id AS id, COUNT(*) AS n, COALESCE(SUM(pull_count), 0) AS pulls FROM repositories GROUP BY project_id',
    );
    const memberMap = new Map(members.map((r) => [Number(r.id), Number(r.n)]));
    const repoMap = new Map(repos.map((r) => [Number(r.id), { n: Number(r.n), pulls: Number(r.pulls) }]));
    return projects.map((p) => {
      const id = Number(p.id);
      return { id, name: p.name, public: Number(p.public) === 1, members: memberMap.get(id) ?? 0, repositories: repoMap.get(id)?.n ?? 0, pulls: repoMap.get(id)?.pulls ?? 0 };
    });
  }

  /** The database answers. */
  async ping(): Promise<void> {
    await this.db.get('SELECT 1 AS ok');
  }
}
