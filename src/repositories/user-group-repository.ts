import type { Queryable } from '../db/db.ts';
import { orderSql, whereSql, type ListQuery } from './list-query.ts';

/** Harbor's group types. */
export type GroupType = 1 | 2 | 3;

export interface UserGroup {
  id: number;
  name: string;
  type: GroupType;
  /** The LDAP DN as given (type 1), '' otherwise. */
  ldapDn: string;
  createdAt: number;
  updatedAt: number;
}
interface Row {
  id: number;
  group_name: string;
  group_type: number;
  ldap_group_dn: string;
  created_at: number;
  updated_at: number;
}
const toGroup = (r: Row): UserGroup => ({
  id: Number(r.id),
  name: r.group_name,
  type: Number(r.group_type) as GroupType,
  ldapDn: r.ldap_group_dn,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export type UserGroupField = 'group_name' | 'group_type' | 'ldap_group_dn' | 'id';
const COLUMNS: Readonly<Record<UserGroupField, string>> = { group_name: 'group_name', group_type: 'group_type', ldap_group_dn: 'ldap_group_dn', id: 'id' };

/** user_groups (Harbor's user groups) and user_group_members (the groups each user was in at their last login). */
export class UserGroupRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findGroupById(id: number): Promise<UserGroup | null> {
    const r = await this.db.get<Row>('SELECT * FROM user_groups WHERE id = ?', [id]);
    return r ? toGroup(r) : null;
  }
  /** By type and lookup key (normalized DN for LDAP groups, the name otherwise). */
  async findGroupByKey(type: GroupType, key: string, q: Queryable = this.db): Promise<UserGroup | null> {
    const r = await q.get<Row>('SELECT * FROM user_groups WHERE group_type = ? AND lookup_key = ?', [type, key]);
    return r ? toGroup(r) : null;
  }
  async countGroups(where: ListQuery<UserGroupField>['where']): Promise<number> {
    const [w, p] = whereSql(COLUMNS, where);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM user_groups WHERE 1 = 1${w}`, p);
    return Number(r?.n ?? 0);
  }
  async listGroups(q: ListQuery<UserGroupField>): Promise<UserGroup[]> {
    const [w, p] = whereSql(COLUMNS, q.where);
    const rows = await this.db.all<Row>(`SELECT * FROM user_groups WHERE 1 = 1${w}${orderSql(COLUMNS, q.sort, 'id')} LIMIT ? OFFSET ?`, [...p, q.limit, q.offset]);
    return rows.map(toGroup);
  }
  /** Inserts a group; null when one with the same type and key exists. */
  async saveNewGroup(g: { name: string; type: GroupType; ldapDn: string; key: string }, q: Queryable = this.db): Promise<UserGroup | null> {
    const now = Date.now();
    const r = await q.get<Row>(
      `INSERT INTO user_groups (group_name, group_type, ldap_group_dn, lookup_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_type, lookup_key) DO NOTHING RETURNING *`,
      [g.name, g.type, g.ldapDn, g.key, now, now],
    );
    return r ? toGroup(r) : null;
  }
  /** Renames a group (the lookup key follows the name for non-LDAP groups); false when the new key is taken. */
  async updateGroupName(id: number, name: string, key: string): Promise<boolean> {
    const clash = await this.db.get<{ id: number }>('SELECT id FROM user_groups WHERE id <> ? AND lookup_key = ? AND group_type = (SELECT group_type FROM user_groups WHERE id = ?)', [id, key, id]);
    if (clash) return false;
    await this.db.run('UPDATE user_groups SET group_name = ?, lookup_key = ?, updated_at = ? WHERE id = ?', [name, key, Date.now(), id]);
    return true;
  }
  async removeGroup(id: number, q: Queryable = this.db): Promise<boolean> {
    await q.run('DELETE FROM user_group_members WHERE group_id = ?', [id]);
    return (await q.run('DELETE FROM user_groups WHERE id = ?', [id])).changes > 0;
  }
  async listGroupIdsOfUser(userId: number): Promise<number[]> {
    const rows = await this.db.all<{ group_id: number }>('SELECT group_id FROM user_group_members WHERE user_id = ? ORDER BY group_id', [userId]);
    return rows.map((r) => Number(r.group_id));
  }
  /** Replaces the user's group memberships. */
  async replaceUserGroups(userId: number, groupIds: readonly number[], q: Queryable = this.db): Promise<void> {
    await q.run('DELETE FROM user_group_members WHERE user_id = ?', [userId]);
    for (const g of new Set(groupIds)) await q.run('INSERT INTO user_group_members (user_id, group_id) VALUES (?, ?)', [userId, g]);
  }
}
