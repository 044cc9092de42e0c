// Portal sessions: a login with username and password (lockout and audit through AuthService) opens a
// server-side session in the shared database, so every process of a deployment accepts it. The cookie holds a
// random 256-bit id; the database holds only its SHA-256. Sessions end on logout, after an idle timeout, at an
// absolute lifetime, when the user is deleted, and when the user's password changes.
// CSRF: the token is an HMAC of the session id (nothing stored, same on every process); cookie-authenticated
// unsafe requests must echo it in X-Harbor-CSRF-Token.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SessionRepository } from '../../repositories/session-repository.ts';
import type { UserRepository } from '../../repositories/user-repository.ts';
import type { AuthService } from './auth-service.ts';
import type { Principal } from './principal.ts';

export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

const SID_RE = /^[A-Za-z0-9_-]{43}$/;
const hashSid = (sid: string): string => createHash('sha256').update(sid).digest('hex');
const passwordFingerprint = (passwordHash: string): string => createHash('sha256').update(passwordHash).digest('hex').slice(0, 32);

export interface SessionOptions {
  /** A session unused for this long ends, ms. */
  idleTimeoutMs: number;
  /** A session ends this long after login whatever its use, ms. */
  lifetimeMs: number;
}

export class SessionService {
  private readonly sessions: SessionRepository;
  private readonly users: UserRepository;
  private readonly auth: AuthService;
  private readonly opts: SessionOptions;
  private lastPurge = 0;
  /** Whether a username may log in with a password (in oidc_auth only the local admin may, as in Harbor). */
  private readonly passwordLoginAllowed: (username: string) => Promise<boolean>;
  constructor(
    deps: { sessions: SessionRepository; users: UserRepository; auth: AuthService; passwordLoginAllowed?: (username: string) => Promise<boolean> },
    opts: SessionOptions,
  ) {
    this.passwordLoginAllowed = deps.passwordLoginAllowed ?? (async () => true);
    this.sessions = deps.sessions;
    this.users = deps.users;
    this.auth = deps.auth;
    this.opts = opts;
  }

  /** Whether a cookie value has the shape of a session id (anything else is never looked up). */
  static isSessionId(sid: string | undefined): sid is string {
    return typeof sid === 'string' && SID_RE.test(sid);
  }

  /** The CSRF token that goes with a session id. */
  csrfToken(sid: string): string {
    return createHmac('sha256', sid).update('berth-csrf-v1').digest('base64url');
  }

  /** Whether `given` is the CSRF token of session `sid` (constant time). */
  checkCsrf(sid: string, given: string | undefined): boolean {
    if (typeof given !== 'string') return false;
    const want = Buffer.from(this.csrfToken(sid));
    const got = Buffer.from(given);
    return want.length === got.length && timingSafeEqual(want, got);
  }

  /**
   * Checks the credentials (lockout and login audit included) and opens a new session; null when refused.
   * `previousSid` (the cookie the browser sent, if any) is ended: the id always changes at login.
   */
  async login(username: string, password: string, previousSid?: string, client = ''): Promise<{ sid: string; principal: UserPrincipal } | null> {
    if (SessionService.isSessionId(previousSid)) await this.sessions.removeSession(hashSid(previousSid));
    // Checked before the password: a CLI secret is never a portal password.
    if (!(await this.passwordLoginAllowed(username))) return null;
    const principal = await this.auth.authenticate(username, password, client);
    if (!principal || principal.kind !== 'user') return null;
    const user = await this.users.findUserById(principal.id);
    if (!user) return null;
    return { sid: await this.open(user), principal };
  }

  /**
   * Opens a session for a user who authenticated elsewhere (the OIDC callback); `previousSid` is ended.
   */
  async openFor(user: { id: number; username: string; sysadmin: boolean; adminRoleInAuth?: boolean; passwordHash: string }, previousSid?: string): Promise<{ sid: string; principal: UserPrincipal }> {
    if (SessionService.isSessionId(previousSid)) await this.sessions.removeSession(hashSid(previousSid));
    return { sid: await this.open(user), principal: { kind: 'user', id: user.id, username: user.username, sysadmin: user.sysadmin || !!user.adminRoleInAuth } };
  }

  private async open(user: { id: number; passwordHash: string }): Promise<string> {
    const now = Date.now();
    await this.purge(now);
    const sid = randomBytes(32).toString('base64url');
    await this.sessions.saveSession({
      idHash: hashSid(sid),
      userId: user.id,
      pwFp: passwordFingerprint(user.passwordHash),
      createdAt: now,
      lastSeen: now,
      expiresAt: now + this.opts.lifetimeMs,
    });
    return sid;
  }

  /** The user behind a session cookie, or null when the session is unknown or over. */
  async resolve(sid: string): Promise<UserPrincipal | null> {
    if (!SessionService.isSessionId(sid)) return null;
    const idHash = hashSid(sid);
    const s = await this.sessions.findSession(idHash);
    if (!s) return null;
    const now = Date.now();
    if (s.expiresAt <= now || s.lastSeen + this.opts.idleTimeoutMs <= now || s.pwFp !== passwordFingerprint(s.passwordHash)) {
      await this.sessions.removeSession(idHash);
      return null;
    }
    // Writes at most every minute (or a tenth of the idle timeout) per session, not on every request.
    if (now - s.lastSeen >= Math.min(60_000, this.opts.idleTimeoutMs / 10)) await this.sessions.touchSession(idHash, now);
    return { kind: 'user', id: s.userId, username: s.username, sysadmin: s.sysadmin };
  }

  async logout(sid: string | undefined): Promise<void> {
    if (SessionService.isSessionId(sid)) await this.sessions.removeSession(hashSid(sid));
  }

  private async purge(now: number): Promise<void> {
    if (now - this.lastPurge < 10 * 60_000) return;
    this.lastPurge = now;
    await this.sessions.removeStaleSessions(now, now - this.opts.idleTimeoutMs);
  }
}
