import type { Queryable } from '../db/db.ts';

/** Harbor's project role ids: 1 projectAdmin, 2 developer, 3 guest, 4 maintainer, 5 limitedGuest (stored in members.role_id). */
export type RoleId = 1 | 2 | 3 | 4 | 5;

export type EntityType = 'u' | 'g';

export interface Member {
  id: number;
  projectId: number;
  entityType: EntityType;
  entityId: number;
  /** The user's username or the group's name. */
  entityName: string;
  roleId: RoleId;
}
interface MemberRow {
  id: number;
  project_id: number;
  entity_type: EntityType;
  entity_id: number;
  entity_name: string | null;
  role_id: number;
}
const toMember = (r: MemberRow): Member => ({
  id: Number(r.id),
  projectId: Number(r.project_id),
  entityType: r.entity_type,
  entityId: Number(r.entity_id),
  entityName: r.entity_name ?? '',
  roleId: Number(r.role_id) as RoleId,
});

const SELECT = `SELECT m.id, m.project_id, m.entity_type, m.entity_id, m.role_id, COALESCE(u.username, g.group_name) AS entity_name
  FROM project_members m LEFT JOIN users u ON m.entity_type = 'u' AND u.id = m.entity_id
  LEFT JOIN user_groups g ON m.entity_type = 'g' AND g.id = m.entity_id`;

// The groups a user was found in at their last login (user_group_members), as a subquery on the user id.
const GROUPS_OF_USER = `(entity_type = 'g' AND entity_id IN (SELECT group_id FROM user_group_members WHERE user_id = ?))`;

/** Project membership rows: users ('u') and user groups ('g'). */
export class MemberRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  /** Roles a user holds in a project, directly, through the groups of their last login, or through one of `groupIds`. */
  async findRoleIds(projectId: number, userId: number, groupIds: readonly number[] = []): Promise<RoleId[]> {
    const params: (number | string)[] = [projectId, userId, userId];
    let sql = `SELECT role_id FROM project_members WHERE project_id = ? AND ((entity_type = 'u' AND entity_id = ?) OR ${GROUPS_OF_USER}`;
    if (groupIds.length) {
      sql += ` OR (entity_type = 'g' AND entity_id IN (${groupIds.map(() => '?').join(',')}))`;
      params.push(...groupIds);
    }
    const rows = await this.db.all<{ role_id: number }>(sql + ')', params);
    return rows.map((r) => Number(r.role_id) as RoleId);
  }
  /** Ids of projects where the user is a member (directly or through groups). */
  async listProjectIdsOfUser(userId: number, groupIds: readonly number[] = []): Promise<number[]> {
    const params: number[] = [userId, userId, ...groupIds];
    const g = groupIds.length ? ` OR (entity_type = 'g' AND entity_id IN (${groupIds.map(() => '?').join(',')}))` : '';
    const rows = await this.db.all<{ project_id: number }>(
      `SELECT DISTINCT project_id FROM project_members WHERE (entity_type = 'u' AND entity_id = ?) OR ${GROUPS_OF_USER}${g}`,
      params,
    );
    return rows.map((r) => Number(r.project_id));
  }
  /** Member rows per role id. */
  async countMembersByRole(projectId: number): Promise<Map<RoleId, number>> {
    const rows = await this.db.all<{ role_id: number; n: number }>('SELECT role_id, COUNT(*) AS n FROM project_members WHERE project_id = ? GROUP BY role_id', [projectId]);
    return new Map(rows.map((r) => [Number(r.role_id) as RoleId, Number(r.n)]));
  }
  async findMember(projectId: number, memberId: number): Promise<Member | null> {
    const r = await this.db.get<MemberRow>(`${SELECT} WHERE m.project_id = ? AND m.id = ?`, [projectId, memberId]);
    return r ? toMember(r) : null;
  }
  async findMemberByEntity(projectId: number, entityType: EntityType, entityId: number, q: Queryable = this.db): Promise<Member | null> {
    const r = await q.get<MemberRow>(`${SELECT} WHERE m.project_id = ? AND m.entity_type = ? AND m.entity_id = ?`, [projectId, entityType, entityId]);
    return r ? toMember(r) : null;
  }
  async countMembers(projectId: number, entityName: string | null): Promise<number> {
    const [w, p] = this.nameFilter(entityName);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM (${SELECT} WHERE m.project_id = ?${w}) x`, [projectId, ...p]);
    return Number(r?.n ?? 0);
  }
  async listMembers(projectId: number, entityName: string | null, limit: number, offset: number): Promise<Member[]> {
    const [w, p] = this.nameFilter(entityName);
    const rows = await this.db.all<MemberRow>(`${SELECT} WHERE m.project_id = ?${w} ORDER BY m.id LIMIT ? OFFSET ?`, [projectId, ...p, limit, offset]);
    return rows.map(toMember);
  }
  private nameFilter(entityName: string | null): [string, string[]] {
    if (!entityName) return ['', []];
    return [` AND LOWER(COALESCE(u.username, g.group_name)) LIKE ? ESCAPE '\\'`, [`%${escapeLike(entityName.toLowerCase())}%`]];
  }
  /** Inserts a membership; null when the entity is already a member. */
  async saveMember(m: { projectId: number; entityType: EntityType; entityId: number; roleId: RoleId }, q: Queryable = this.db): Promise<number | null> {
    const now = Date.now();
    const r = await q.get<{ id: number }>(
      `INSERT INTO project_members (project_id, entity_type, entity_id, role_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (project_id, entity_type, entity_id) DO NOTHING RETURNING id`,
      [m.projectId, m.entityType, m.entityId, m.roleId, now, now],
    );
    return r ? Number(r.id) : null;
  }
  async updateMemberRole(projectId: number, memberId: number, roleId: RoleId): Promise<boolean> {
    const r = await this.db.run('UPDATE project_members SET role_id = ?, updated_at = ? WHERE project_id = ? AND id = ?', [roleId, Date.now(), projectId, memberId]);
    return r.changes > 0;
  }
  async removeMember(projectId: number, memberId: number): Promise<boolean> {
    const r = await this.db.run('DELETE FROM project_members WHERE project_id = ? AND id = ?', [projectId, memberId]);
    return r.changes > 0;
  }
  async removeMembershipsOf(entityType: EntityType, entityId: number, q: Queryable = this.db): Promise<void> {
    await q.run('DELETE FROM project_members WHERE entity_type = ? AND entity_id = ?', [entityType, entityId]);
  }
}

/** Escapes LIKE wildcards for `ESCAPE '\'`. */
export const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => '\\' + c);
