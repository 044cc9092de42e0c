// Robot accounts (table `robots`). Permissions are stored as JSON with project ids (not names) as namespaces.
// Names are stored without the robot_name_prefix (`ci`, `proj+ci`), as Harbor does, so a robot keeps working
// when the prefix changes. Rows written before that carry the default prefix `robot$`: it is dropped on read
// and matched on lookup (neither robot nor project names may contain `$`, so such a name is never ambiguous).
import type { Queryable } from '../db/db.ts';
import { orderSql, whereSql, type ListQuery } from './list-query.ts';

export interface StoredGrant {
  kind: 'project' | 'system';
  /** A project id, '*' for every project, or '/' for a system grant. */
  namespace: number | '*' | '/';
  /** `resource:action` policies. */
  access: string[];
}

export interface Robot {
  id: number;
  /** Name without the prefix, e.g. `ci` (system) or `proj+ci` (project). */
  name: string;
  description: string;
  level: 'system' | 'project';
  projectId: number | null;
  secretHash: string;
  disabled: boolean;
  /** Days; -1 never expires. */
  duration: number;
  /** Epoch ms; -1 never. */
  expiresAt: number;
  permissions: StoredGrant[];
  creatorType: string;
  creatorRef: number;
  createdAt: number;
  updatedAt: number;
}

interface Row {
  id: number;
  name: string;
  description: string;
  level: string;
  project_id: number | null;
  secret_hash: string;
  disabled: number;
  duration: number;
  expires_at: number;
  permissions: string;
  creator_type: string;
  creator_ref: number;
  created_at: number;
  updated_at: number;
}

function parseGrants(json: string): StoredGrant[] {
  try {
    const v = JSON.parse(json) as StoredGrant[];
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

const LEGACY_PREFIX = 'robot$';
const toRobot = (r: Row): Robot => ({
  id: Number(r.id),
  name: r.name.startsWith(LEGACY_PREFIX) ? r.name.slice(LEGACY_PREFIX.length) : r.name,
  description: r.description,
  level: r.level === 'system' ? 'system' : 'project',
  projectId: r.project_id === null ? null : Number(r.project_id),
  secretHash: r.secret_hash,
  disabled: !!r.disabled,
  duration: Number(r.duration),
  expiresAt: Number(r.expires_at),
  permissions: parseGrants(r.permissions),
  creatorType: r.creator_type,
  creatorRef: Number(r.creator_ref),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

/** Fields the robot list may be filtered and sorted on. */
export type RobotField = 'name' | 'level' | 'project_id' | 'id' | 'creation_time' | 'expires_at';
const COLUMNS: Readonly<Record<RobotField, string>> = {
  name: 'name',
  level: 'level',
  project_id: 'project_id',
  id: 'id',
  creation_time: 'created_at',
  expires_at: 'expires_at',
};

export class RobotRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findRobotById(id: number): Promise<Robot | null> {
    const r = await this.db.get<Row>('SELECT * FROM robots WHERE id = ?', [id]);
    return r ? toRobot(r) : null;
  }
  async findRobotByName(name: string): Promise<Robot | null> {
    const r = await this.db.get<Row>('SELECT * FROM robots WHERE name = ? OR name = ? ORDER BY id LIMIT 1', [name, LEGACY_PREFIX + name]);
    return r ? toRobot(r) : null;
  }
  async countRobots(where: ListQuery<RobotField>['where']): Promise<number> {
    const [w, p] = whereSql(COLUMNS, where);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM robots WHERE 1 = 1${w}`, p);
    return Number(r?.n ?? 0);
  }
  async listRobots(q: ListQuery<RobotField>): Promise<Robot[]> {
    const [w, p] = whereSql(COLUMNS, q.where);
    const rows = await this.db.all<Row>(`SELECT * FROM robots WHERE 1 = 1${w}${orderSql(COLUMNS, q.sort, 'id')} LIMIT ? OFFSET ?`, [...p, q.limit, q.offset]);
    return rows.map(toRobot);
  }
  /** Inserts a robot; null when the name is taken. */
  async saveNewRobot(r: Omit<Robot, 'id' | 'createdAt' | 'updatedAt'>, now: number): Promise<Robot | null> {
    const row = await this.db.get<Row>(
      `INSERT INTO robots (name, description, level, project_id, secret_hash, disabled, duration, expires_at, permissions, creator_type, creator_ref, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING *`,
      [r.name, r.description, r.level, r.projectId, r.secretHash, r.disabled ? 1 : 0, r.duration, r.expiresAt, JSON.stringify(r.permissions), r.creatorType, r.creatorRef, now, now],
    );
    return row ? toRobot(row) : null;
  }
  async updateRobot(id: number, u: { description: string; disabled: boolean; duration: number; expiresAt: number; permissions: StoredGrant[] }): Promise<void> {
    await this.db.run('UPDATE robots SET description = ?, disabled = ?, duration = ?, expires_at = ?, permissions = ?, updated_at = ? WHERE id = ?', [
      u.description,
      u.disabled ? 1 : 0,
      u.duration,
      u.expiresAt,
      JSON.stringify(u.permissions),
      Date.now(),
      id,
    ]);
  }
  async updateRobotSecret(id: number, secretHash: string): Promise<void> {
    await this.db.run('UPDATE robots SET secret_hash = ?, updated_at = ? WHERE id = ?', [secretHash, Date.now(), id]);
  }
  async removeRobot(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM robots WHERE id = ?', [id])).changes > 0;
  }
}
