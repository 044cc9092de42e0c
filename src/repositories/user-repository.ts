import type { Queryable } from '../db/db.ts';

export interface User {
  id: number;
  username: string;
  email: string | null;
  realname: string;
  passwordHash: string;
  sysadmin: boolean;
  createdAt: number;
  updatedAt: number;
}
interface UserRow {
  id: number;
  username: string;
  email: string | null;
  realname: string;
  password_hash: string;
  sysadmin: number;
  created_at: number;
  updated_at: number;
}
const toUser = (r: UserRow): User => ({
  id: r.id,
  username: r.username,
  email: r.email,
  realname: r.realname,
  passwordHash: r.password_hash,
  sysadmin: !!r.sysadmin,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class UserRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findUserByName(username: string): Promise<User | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM users WHERE username = ?', [username]);
    return r ? toUser(r) : null;
  }
  async countUsers(): Promise<number> {
    const r = await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM users');
    return Number(r?.n ?? 0);
  }
  async saveUser(u: { username: string; email: string | null; realname: string; passwordHash: string; sysadmin: boolean }, q: Queryable = this.db): Promise<User> {
    const now = Date.now();
    const r = await q.get<UserRow>(
      `INSERT INTO users (username, email, realname, password_hash, sysadmin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (username) DO UPDATE SET email = excluded.email, realname = excluded.realname,
         password_hash = excluded.password_hash, sysadmin = excluded.sysadmin, updated_at = excluded.updated_at
       RETURNING *`,
      [u.username, u.email, u.realname, u.passwordHash, u.sysadmin ? 1 : 0, now, now],
    );
    return toUser(r!);
  }
}
