import type { Queryable } from '../db/db.ts';
import { orderSql, whereSql, type ListQuery } from './list-query.ts';

export interface User {
  id: number;
  username: string;
  email: string | null;
  realname: string;
  comment: string;
  passwordHash: string;
  sysadmin: boolean;
  createdAt: number;
  updatedAt: number;
  /** 'db' (local password), 'ldap' (onboarded at an LDAP login) or 'oidc' (onboarded through the OIDC provider); no password stored for the last two. */
  authSource?: 'db' | 'ldap' | 'oidc';
  /** Sysadmin through ldap_group_admin_dn at the last LDAP login (Harbor's admin_role_in_auth). */
  adminRoleInAuth?: boolean;
}
interface UserRow {
  id: number;
  username: string;
  email: string | null;
  realname: string;
  comment?: string;
  password_hash: string;
  sysadmin: number;
  created_at: number;
  updated_at: number;
  auth_source?: string;
  admin_role_in_auth?: number;
}
const toUser = (r: UserRow): User => ({
  id: Number(r.id),
  username: r.username,
  email: r.email,
  realname: r.realname,
  comment: r.comment ?? '',
  passwordHash: r.password_hash,
  sysadmin: !!r.sysadmin,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  authSource: r.auth_source === 'ldap' || r.auth_source === 'oidc' ? r.auth_source : 'db',
  adminRoleInAuth: !!r.admin_role_in_auth,
});

/** Fields the user list may be filtered and sorted on (the API's allow-list maps onto these). */
export type UserField = 'username' | 'email' | 'user_id' | 'creation_time';
const USER_COLUMNS: Readonly<Record<UserField, string>> = { username: 'username', email: 'email', user_id: 'id', creation_time: 'created_at' };

export class UserRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findUserByName(username: string): Promise<User | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
    return r ? toUser(r) : null;
  }
  async findUserById(id: number): Promise<User | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM users WHERE id = ?', [id]);
    return r ? toUser(r) : null;
  }
  async findUserByEmail(email: string): Promise<User | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM users WHERE email = ?', [email]);
    return r ? toUser(r) : null;
  }
  /** The system admin with the lowest id (Harbor's owner of projects created by system robots). */
  async findFirstSysadmin(): Promise<User | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM users WHERE sysadmin = 1 ORDER BY id LIMIT 1');
    return r ? toUser(r) : null;
  }
  async countUsers(where: ListQuery<UserField>['where'] = {}): Promise<number> {
    const [w, p] = whereSql(USER_COLUMNS, where);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM users WHERE 1 = 1${w}`, p);
    return Number(r?.n ?? 0);
  }
  async listUsers(q: ListQuery<UserField>): Promise<User[]> {
    const [w, p] = whereSql(USER_COLUMNS, q.where);
    const rows = await this.db.all<UserRow>(`SELECT * FROM users WHERE 1 = 1${w}${orderSql(USER_COLUMNS, q.sort, 'id')} LIMIT ? OFFSET ?`, [
      ...p,
      q.limit,
      q.offset,
    ]);
    return rows.map(toUser);
  }
  async saveUser(
    u: { username: string; email: string | null; realname: string; comment?: string; passwordHash: string; sysadmin: boolean },
    q: Queryable = this.db,
  ): Promise<User> {
    const now = Date.now();
    const r = await q.get<UserRow>(
      `INSERT INTO users (username, email, realname, password_hash, sysadmin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (username) DO UPDATE SET email = excluded.email, realname = excluded.realname,
         password_hash = excluded.password_hash, sysadmin = excluded.sysadmin, updated_at = excluded.updated_at
       RETURNING *`,
      [u.username, u.email, u.realname, u.passwordHash, u.sysadmin ? 1 : 0, now, now],
    );
    if (u.comment) await q.run('UPDATE users SET comment = ? WHERE id = ?', [u.comment, r!.id]);
    return { ...toUser(r!), comment: u.comment ?? '' };
  }
  /** Inserts a new user; null when the username or email is taken. */
  async saveNewUser(u: { username: string; email: string | null; realname: string; comment: string; passwordHash: string; sysadmin: boolean }): Promise<User | null> {
    const now = Date.now();
    const r = await this.db.get<UserRow>(
      `INSERT INTO users (username, email, realname, comment, password_hash, sysadmin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING *`,
      [u.username, u.email, u.realname, u.comment, u.passwordHash, u.sysadmin ? 1 : 0, now, now],
    );
    return r ? toUser(r) : null;
  }
  /** Updates the profile fields; false when the email belongs to someone else. */
  async updateUserProfile(id: number, p: { email: string | null; realname: string; comment: string }): Promise<boolean> {
    const taken = p.email ? await this.db.get('SELECT id FROM users WHERE email = ? AND id <> ?', [p.email, id]) : undefined;
    if (taken) return false;
    await this.db.run('UPDATE users SET email = ?, realname = ?, comment = ?, updated_at = ? WHERE id = ?', [p.email, p.realname, p.comment, Date.now(), id]);
    return true;
  }
  async updateUserPassword(id: number, passwordHash: string): Promise<void> {
    await this.db.run('UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?', [passwordHash, Date.now(), id]);
  }
  async updateUserSysadmin(id: number, sysadmin: boolean): Promise<void> {
    await this.db.run('UPDATE users SET sysadmin = ?, updated_at = ? WHERE id = ?', [sysadmin ? 1 : 0, Date.now(), id]);
  }
  /** Marks a user as authenticated by LDAP (or OIDC) and records whether the admin group made them a sysadmin. */
  async updateUserExternalAuth(id: number, adminRoleInAuth: boolean, source: 'ldap' | 'oidc' = 'ldap'): Promise<void> {
    await this.db.run('UPDATE users SET auth_source = ?, admin_role_in_auth = ? WHERE id = ?', [source, adminRoleInAuth ? 1 : 0, id]);
  }
  /** Whether any user other than `username` exists. */
  async existsUserOtherThan(username: string): Promise<boolean> {
    return !!(await this.db.get('SELECT id FROM users WHERE username <> ? LIMIT 1', [username]));
  }
  async removeUser(id: number, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('DELETE FROM users WHERE id = ?', [id])).changes > 0;
  }
}
