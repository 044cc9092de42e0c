// Portal sessions (table `sessions`): one row per login, keyed by the SHA-256 of the cookie value. A lookup
// joins the user, so a deleted user's sessions resolve to nothing even before the cascade runs.
import type { Queryable } from '../db/db.ts';

export interface SessionRecord {
  idHash: string;
  userId: number;
  pwFp: string;
  createdAt: number;
  lastSeen: number;
  expiresAt: number;
}

export interface SessionWithUser extends SessionRecord {
  username: string;
  sysadmin: boolean;
  passwordHash: string;
}

interface Row {
  id_hash: string;
  user_id: number;
  pw_fp: string;
  created_at: number;
  last_seen: number;
  expires_at: number;
  username: string;
  sysadmin: number;
  admin_role_in_auth: number | null;
  password_hash: string;
}

export class SessionRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async saveSession(s: SessionRecord): Promise<void> {
    await this.db.run('INSERT INTO sessions (id_hash, user_id, pw_fp, created_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?)', [
      s.idHash,
      s.userId,
      s.pwFp,
      s.createdAt,
      s.lastSeen,
      s.expiresAt,
    ]);
  }
  async findSession(idHash: string): Promise<SessionWithUser | null> {
    const r = await this.db.get<Row>(
      `SELECT s.id_hash, s.user_id, s.pw_fp, s.created_at, s.last_seen, s.expires_at, u.username, u.sysadmin, u.admin_role_in_auth, u.password_hash
       FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = ?`,
      [idHash],
    );
    if (!r) return null;
    return {
      idHash: r.id_hash,
      userId: Number(r.user_id),
      pwFp: r.pw_fp,
      createdAt: Number(r.created_at),
      lastSeen: Number(r.last_seen),
      expiresAt: Number(r.expires_at),
      username: r.username,
      // Sysadmin by flag, or through ldap_group_admin_dn at the last LDAP login (as AuthService decides).
      sysadmin: !!r.sysadmin || !!r.admin_role_in_auth,
      passwordHash: r.password_hash,
    };
  }
  async touchSession(idHash: string, lastSeen: number): Promise<void> {
    await this.db.run('UPDATE sessions SET last_seen = ? WHERE id_hash = ?', [lastSeen, idHash]);
  }
  async removeSession(idHash: string): Promise<void> {
    await this.db.run('DELETE FROM sessions WHERE id_hash = ?', [idHash]);
  }
  /** Drops sessions past their absolute lifetime or idle since before `idleBefore`. */
  async removeStaleSessions(now: number, idleBefore: number): Promise<number> {
    return (await this.db.run('DELETE FROM sessions WHERE expires_at <= ? OR last_seen < ?', [now, idleBefore])).changes;
  }
}
