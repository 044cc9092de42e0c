// Authentication (who is calling) and token issuing (what they may do), shared by /v2 and /service/token.
import type { CacheBus } from '../../drivers/cache-bus/cache-bus.ts';
import { createHash } from 'node:crypto';
import type { UserRepository } from '../../repositories/user-repository.ts';
import type { LoginFailureRepository } from '../../repositories/login-failure-repository.ts';

/** Where the lockout series live when several processes share a database (the repository, or a test double). */
export type LoginFailureStore = Pick<LoginFailureRepository, 'findLoginFailure' | 'saveLoginFailure' | 'removeLoginFailure' | 'removeStaleLoginFailures'>;
import { verifyNobody, verifyPassword } from './password.ts';
import { ANONYMOUS, isRobotName, principalName, type Principal, type RobotAuthenticator } from './principal.ts';
import type { AccessPolicy } from './access-policy.ts';
import { TokenService, type AccessEntry } from './token-service.ts';
import { parseScopes } from './scope.ts';
import { validateName } from '../../oci/digest.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { ExternalAuthenticator } from './external-auth.ts';

export interface LockoutOptions {
  /** Failed logins in a row that lock a username (0 disables the lockout). */
  threshold: number;
  /** How long a locked username refuses every password, ms. */
  durationMs: number;
}

function isValidRepositoryName(name: string): boolean {
  try {
    validateName(name);
    return true;
  } catch {
    return false;
  }
}

const CACHE_TTL_MS = 60_000;

export class AuthService {
  private readonly users: UserRepository;
  private readonly policy: AccessPolicy;
  readonly tokens: TokenService;
  // Successful Basic logins, keyed by a hash of the credentials, so /v2 with Basic auth does not run argon2
  // on every request. The entry only saves the password check: a hit still reads the user row (one indexed
  // read), so a promotion, demotion, deletion or password change made by any process sharing the database
  // takes effect on the next request, never a cached role.
  private readonly basicCache = new Map<string, { principal: Principal; until: number; passwordHash: string | null }>();
  // Failed logins per username as this process last saw them: `count` failures in a row; locked while `until`
  // is ahead. With a `failureStore` the series is shared by every process (the store decides; this mirrors it,
  // so cached logins of a locked name are refused here at once).
  private readonly failures = new Map<string, { count: number; until: number }>();
  private readonly failureStore: LoginFailureStore | null;
  private readonly lockout: LockoutOptions;
  private readonly audit: AuditSink | null;
  /** LDAP in ldap_auth mode: checks the passwords of the usernames it handles instead of the users table. */
  private readonly external: ExternalAuthenticator | null;
  private readonly robots: RobotAuthenticator | null;
  private readonly tokenGrant: 'all' | 'requested';
  private readonly bus: CacheBus | null;

  constructor(
    users: UserRepository,
    policy: AccessPolicy,
    tokens: TokenService,
    opts: { lockout?: LockoutOptions; audit?: AuditSink; robots?: RobotAuthenticator; external?: ExternalAuthenticator; failureStore?: LoginFailureStore; tokenGrant?: 'all' | 'requested'; bus?: CacheBus } = {},
  ) {
    this.bus = opts.bus ?? null;
    // Any process's change to a user drops that user's cached logins here (null: every login).
    this.bus?.subscribe('user', (name) => (name === null ? this.basicCache.clear() : this.dropUser(name)));
    this.tokenGrant = opts.tokenGrant ?? 'all';
    this.failureStore = opts.failureStore ?? null;
    this.users = users;
    this.policy = policy;
    this.tokens = tokens;
    this.lockout = opts.lockout ?? { threshold: 5, durationMs: 5 * 60_000 };
    this.audit = opts.audit ?? null;
    this.external = opts.external ?? null;
    this.robots = opts.robots ?? null;
  }

  /** Whether the lock key (a username, or username|client address) is locked out now (too many failed logins). */
  isLocked(key: string, now = Date.now()): boolean {
    const f = this.failures.get(key);
    return !!f && f.until > now;
  }

  /**
   * A lock this process mirrors but the shared store no longer holds (`berth reset-admin-password` ended the
   * series): forgotten here too. Read only while locked, so a guesser costs one indexed read per try.
   */
  private async lockLifted(key: string): Promise<boolean> {
    if (!this.failureStore || this.lockout.threshold <= 0) return false;
    const f = await this.failureStore.findLoginFailure(key);
    if (f && f.lockedUntil > Date.now()) return false;
    this.failures.delete(key);
    return true;
  }

  /**
   * Whether another process (or this one) has locked the username: checked before any password is verified.
   * `series` says whether a series of failures is open (a success must then end it in the store).
   */
  private async sharedLock(username: string): Promise<{ locked: boolean; series: boolean }> {
    if (this.isLocked(username) && !(await this.lockLifted(username))) return { locked: true, series: true };
    if (!this.failureStore || this.lockout.threshold <= 0) return { locked: false, series: this.failures.has(username) };
    const f = await this.failureStore.findLoginFailure(username);
    if (!f) return { locked: false, series: this.failures.has(username) };
    if (f.lockedUntil <= Date.now()) return { locked: false, series: true };
    this.failures.set(username, { count: f.count, until: f.lockedUntil });
    return { locked: true, series: true };
  }

  private async recordFailure(key: string, username = key): Promise<void> {
    if (this.lockout.threshold > 0) {
      const now = Date.now();
      let f = this.failures.get(key) ?? { count: 0, until: 0 };
      if (this.failureStore) {
        const s = await this.failureStore.saveLoginFailure(key, now, this.lockout.threshold, this.lockout.durationMs);
        f = { count: s.count, until: s.lockedUntil };
        // Now and then, forget series nobody continued (a guesser spraying names leaves one row per name).
        if (Math.random() < 1 / 256) await this.failureStore.removeStaleLoginFailures(now - Math.max(this.lockout.durationMs, 3_600_000), now);
      } else {
        if (f.until && f.until <= now) f.count = 0; // an expired lock starts a new series
        f.count++;
        f.until = f.count >= this.lockout.threshold ? now + this.lockout.durationMs : 0;
      }
      if (this.failures.size > 100_000) this.failures.clear();
      this.failures.set(key, f);
    }
    await this.audit?.record({ username, operation: 'login_failed', resourceType: 'user', resource: username });
  }

  /** A successful login ends an open series (here and in the shared store). */
  private async clearFailures(username: string, series: boolean): Promise<void> {
    this.failures.delete(username);
    if (this.failureStore && series) await this.failureStore.removeLoginFailure(username);
  }

  /** Forgets cached logins and token subjects of a user (after a password, role or account change). */
  async invalidateUser(username: string): Promise<void> {
    if (this.bus) await this.bus.publish('user', username);
    else this.dropUser(username);
  }

  private dropUser(username: string): void {
    for (const [k, v] of this.basicCache) if (v.principal.kind === 'user' && v.principal.username === username) this.basicCache.delete(k);
  }

  /** Forgets every cached login and token subject (after the authentication settings changed). */
  invalidateAll(): void {
    this.basicCache.clear();
  }

  /** Robot credentials (`robot$...`): never a user; failures count towards the same lockout. */
  private async authenticateRobot(name: string, secret: string, series: boolean, lockKey = name): Promise<Principal | null> {
    const p = this.robots ? await this.robots.authenticate(name, secret) : null;
    if (p) await this.clearFailures(lockKey, series);
    else await this.recordFailure(lockKey, name);
    return p;
  }

  /**
   * Checks a username/password; null when wrong. After `lockout.threshold` failures in a row the username is
   * locked for `lockout.durationMs`: every password, the right one included, is refused meanwhile.
   */
  async authenticate(username: string, password: string, client = ''): Promise<Principal | null> {
    // NUL can never be in a stored name (and PostgreSQL refuses it in text parameters).
    if (!username || !password || username.length > 255 || password.length > 1024 || username.includes('\0')) return null;
    // Failures count per name *and client address*: a guesser elsewhere cannot lock the admin (or anyone) out from
    // their own address. Behind a proxy every client shares its address, and the lock is per name again.
    const lockKey = client ? `${username}|${client}` : username;
    if (this.isLocked(lockKey) && !(await this.lockLifted(lockKey))) return null;
    const key = createHash('sha256').update(`${username}\0${password}`).digest('base64');
    const hit = this.basicCache.get(key);
    if (hit && hit.until > Date.now() && hit.principal.kind === 'user') {
      const row = await this.users.findUserByName(username);
      // Same row (id) and, for a local user, the same password hash the cached check was made against.
      if (row && row.id === hit.principal.id && (hit.passwordHash === null || row.passwordHash === hit.passwordHash)) {
        return { ...hit.principal, sysadmin: row.sysadmin || !!row.adminRoleInAuth };
      }
      this.basicCache.delete(key);
      if (!row && hit.passwordHash !== null) return null; // a deleted local user
    } else if (hit && hit.until > Date.now()) return hit.principal;
    // Every check of a password (never a cached login) first asks whether any process has locked the name.
    const lock = await this.sharedLock(lockKey);
    if (lock.locked) return null;
    if (await this.isRobot(username)) return this.authenticateRobot(username, password, lock.series, lockKey);
    const external = !!this.external && (await this.external.handles(username));
    const user = external ? await this.external!.authenticate(username, password) : await this.users.findUserByName(username);
    // An unknown name still pays for a hash, so response times do not tell which usernames exist.
    if (!user || (!external && !(await verifyPassword(password, user.passwordHash)))) {
      if (!user && !external) await verifyNobody(password);
      await this.recordFailure(lockKey, username);
      return null;
    }
    await this.clearFailures(lockKey, lock.series);
    const principal: Principal = { kind: 'user', id: user.id, username: user.username, sysadmin: user.sysadmin || !!user.adminRoleInAuth };
    if (this.basicCache.size > 10000) this.basicCache.clear();
    this.basicCache.set(key, {
      principal,
      until: Date.now() + CACHE_TTL_MS,
      passwordHash: external ? null : user.passwordHash,
    });
    await this.audit?.record({ username: user.username, operation: 'login', resourceType: 'user', resource: user.username });
    return principal;
  }

  /** Parses an `Authorization: Basic` header value; undefined when absent, null when present but wrong. */
  async authenticateBasicHeader(header: string | undefined, client = ''): Promise<Principal | null | undefined> {
    if (!header || !/^basic /i.test(header)) return undefined;
    let decoded: string;
    try {
      decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
    } catch {
      return null;
    }
    const i = decoded.indexOf(':');
    if (i < 0) return null;
    return this.authenticate(decoded.slice(0, i), decoded.slice(i + 1), client);
  }

  /**
   * Issues a token for the requested scopes. As Harbor does, each repository scope is answered with every
   * action the caller may perform there (not only the ones asked for); unknown types and projects get none.
   * With `auth.token_grant: requested` only the actions asked for (least privilege: a pull token cannot push).
   */
  async issueToken(principal: Principal, scopeParams: string[]): Promise<ReturnType<TokenService['issue']>> {
    const access: AccessEntry[] = [];
    for (const s of parseScopes(scopeParams)) {
      if (s.type === 'repository') {
        // An invalid name (NUL, traversal, upper case) names no repository: no actions, and no database lookup.
        const held = isValidRepositoryName(s.name) ? [...(await this.policy.repositoryActions(principal, s.name))] : [];
        const actions = this.tokenGrant === 'requested' && !s.actions.includes('*') ? held.filter((a) => s.actions.includes(a)) : held;
        access.push({ type: 'repository', name: s.name, actions });
      } else if (s.type === 'registry' && s.name === 'catalog') {
        access.push({ type: 'registry', name: 'catalog', actions: this.policy.canListCatalog(principal) ? s.actions : [] });
      } else access.push({ type: s.type, name: s.name, actions: [] });
    }
    return this.tokens.issue(principalName(principal), access);
  }

  /** A robot's name: the configured prefix (through RobotService), or the default one when there are no robots. */
  private async isRobot(name: string): Promise<boolean> {
    return this.robots ? this.robots.isRobotName(name) : isRobotName(name);
  }

  /** Principal behind a verified token. */
  async principalFromToken(sub: string): Promise<Principal> {
    if (!sub) return ANONYMOUS;
    if (await this.isRobot(sub)) return (await this.robots?.principalByName(sub)) ?? ANONYMOUS;
    // Read on every request (one indexed read), so a role change or deletion by any process applies at once.
    const user = await this.users.findUserByName(sub);
    return user ? { kind: 'user', id: user.id, username: user.username, sysadmin: user.sysadmin || !!user.adminRoleInAuth } : ANONYMOUS;
  }
}
