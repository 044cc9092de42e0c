// The oidc_users table (Harbor's oidc_user): which local user an OIDC subject is, with the sealed CLI secret and
// the sealed provider tokens. Holds ciphertext only; OidcService seals and opens.
import type { Queryable } from '../db/db.ts';

export interface OidcUser {
  userId: number;
  subiss: string;
  /** Sealed CLI secret. */
  secret: string;
  /** Sealed JSON of the provider's tokens. */
  token: string;
  createdAt: number;
  updatedAt: number;
}
interface Row {
  user_id: number;
  subiss: string;
  secret: string;
  token: string;
  created_at: number;
  updated_at: number;
}
const toOidcUser = (r: Row): OidcUser => ({
  userId: Number(r.user_id),
  subiss: r.subiss,
  secret: r.secret,
  token: r.token,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export class OidcUserRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async findOidcUserBySubIss(subiss: string): Promise<OidcUser | null> {
    const r = await this.db.get<Row>('SELECT * FROM oidc_users WHERE subiss = ?', [subiss]);
    return r ? toOidcUser(r) : null;
  }
  async findOidcUserByUserId(userId: number): Promise<OidcUser | null> {
    const r = await this.db.get<Row>('SELECT * FROM oidc_users WHERE user_id = ?', [userId]);
    return r ? toOidcUser(r) : null;
  }
  /** Inserts the row; false when the user or the subject already has one. */
  async saveNewOidcUser(u: { userId: number; subiss: string; secret: string; token: string }, q: Queryable = this.db): Promise<boolean> {
    const now = Date.now();
    const r = await q.run('INSERT INTO oidc_users (user_id, subiss, secret, token, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [
      u.userId,
      u.subiss,
      u.secret,
      u.token,
      now,
      now,
    ]);
    return r.changes > 0;
  }
  async updateOidcToken(userId: number, token: string): Promise<void> {
    await this.db.run('UPDATE oidc_users SET token = ?, updated_at = ? WHERE user_id = ?', [token, Date.now(), userId]);
  }
  async updateOidcSecret(userId: number, secret: string): Promise<void> {
    await this.db.run('UPDATE oidc_users SET secret = ?, updated_at = ? WHERE user_id = ?', [secret, Date.now(), userId]);
  }
}
