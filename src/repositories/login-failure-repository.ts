// Failed logins per username, shared by every process on the database (the lockout must not multiply with the
// number of processes behind a load balancer). Rows are removed on a successful login and swept when stale.
import type { Db } from '../db/db.ts';

export interface LoginFailureState {
  /** Failures in the current series. */
  count: number;
  /** Locked until this time (ms since the epoch); 0 when not locked. */
  lockedUntil: number;
}

export class LoginFailureRepository {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }
  async findLoginFailure(username: string): Promise<LoginFailureState | null> {
    const r = await this.db.get<{ count: unknown; locked_until: unknown }>('SELECT count, locked_until FROM login_failures WHERE username = ?', [username]);
    return r ? { count: Number(r.count), lockedUntil: Number(r.locked_until) } : null;
  }
  /**
   * Counts one failure atomically (one upsert: concurrent failures on several processes all count); a lock that
   * has expired starts a new series. Reaching `threshold` locks the username until `now + durationMs`.
   */
  async saveLoginFailure(username: string, now: number, threshold: number, durationMs: number): Promise<LoginFailureState> {
    return this.db.tx(async (q) => {
      const r = await q.get<{ count: unknown; locked_until: unknown }>(
        `INSERT INTO login_failures (username, count, locked_until, updated_at) VALUES (?, 1, 0, ?)
         ON CONFLICT (username) DO UPDATE SET
           count = CASE WHEN login_failures.locked_until <> 0 AND login_failures.locked_until <= ? THEN 1 ELSE login_failures.count + 1 END,
           locked_until = CASE WHEN login_failures.locked_until <> 0 AND login_failures.locked_until <= ? THEN 0 ELSE login_failures.locked_until END,
           updated_at = excluded.updated_at
         RETURNING count, locked_until`,
        [username, now, now, now],
      );
      const count = Number(r?.count ?? 1);
      let lockedUntil = Number(r?.locked_until ?? 0);
      if (count >= threshold && lockedUntil === 0) {
        lockedUntil = now + durationMs;
        await q.run('UPDATE login_failures SET locked_until = ? WHERE username = ?', [lockedUntil, username]);
      }
      return { count, lockedUntil };
    });
  }
  async removeLoginFailure(username: string): Promise<void> {
    await this.db.run('DELETE FROM login_failures WHERE username = ?', [username]);
  }
  /** Ends every series of a username, from every client address (keys `username` and `username|client`). */
  async removeLoginFailuresOf(username: string): Promise<number> {
    const prefix = `${username}|`;
    const r = await this.db.run('DELETE FROM login_failures WHERE username = ? OR substr(username, 1, ?) = ?', [username, prefix.length, prefix]);
    return r.changes;
  }
  /** Drops series older than `before` that hold no lock now (usernames sprayed by a guesser, forgotten series). */
  async removeStaleLoginFailures(before: number, now: number): Promise<void> {
    await this.db.run('DELETE FROM login_failures WHERE updated_at < ? AND locked_until <= ?', [before, now]);
  }
}
