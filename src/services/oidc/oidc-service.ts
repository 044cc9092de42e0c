// OIDC single sign-on (auth_mode oidc_auth), Harbor's flow with openid-client as the relying party:
// - beginLogin: authorization code + PKCE, with state and nonce kept in a sealed, HttpOnly cookie (the browser's
//   proof that it started this login; no server state, so any process of a deployment completes it).
// - completeLogin: code exchange, ID token checks (signature against the provider's JWKS, issuer, audience, expiry,
//   nonce), claims merged with the userinfo endpoint's, then the local user by sub+issuer: known → groups and admin
//   flag refreshed; new → onboarded at once (oidc_auto_onboard) or after the portal asked for a username.
// - The CLI secret (Harbor's per-user secret for docker/podman) is the password of OIDC users on Basic logins; a
//   login also checks that the stored tokens are still valid and refreshes them with the refresh token when the
//   access token expired — a user whose refresh fails (revoked at the provider) loses CLI access, as in Harbor.
// Secrets (client secret, CLI secrets, tokens) are sealed at rest and never logged.
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';
import { createRemoteJWKSet, customFetch as joseFetch, jwtVerify } from 'jose';
import { ApiErrors } from '../../errors.ts';
import type { Db } from '../../db/db.ts';
import type { OidcUser, OidcUserRepository } from '../../repositories/oidc-user-repository.ts';
import type { User, UserRepository } from '../../repositories/user-repository.ts';
import type { UserGroupRepository } from '../../repositories/user-group-repository.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { ExternalAuthenticator } from '../auth/external-auth.ts';
import type { ConfigValues, Configurations } from '../config/configuration-service.ts';
import type { SecretBox } from '../security/secret-box.ts';
import type { UserGroupService } from '../usergroup/user-group-service.ts';
import { guardedFetch } from '../../drivers/http/guarded-fetch.ts';
import type { OutboundGuard } from '../../drivers/http/outbound-guard.ts';

const OIDC_GROUP = 3 as const;
// As UserService: Harbor's illegal characters, and ':' would break Basic credentials.
const USERNAME_RE = /^[^\s,"~#$%:\\/\x00-\x1f\x7f]{1,255}$/;
const EMAIL_RE = /^[^\s@\x00-\x1f]+@[^\s@\x00-\x1f]+$/;
/** A pending login (state cookie) or onboarding lives this long. */
export const LOGIN_TTL_MS = 10 * 60_000;
const DISCOVERY_TTL_MS = 5 * 60_000;
const HTTP_TIMEOUT_S = 10;

/** What the state cookie holds (sealed). */
interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  redirect: string;
  exp: number;
}

/** The provider's tokens as stored (sealed): what a CLI login needs to check and refresh. */
interface StoredToken {
  id_token?: string;
  refresh_token?: string;
  /** When the access token expires (ms); 0 when the provider said nothing. */
  expires_at: number;
}

/** Harbor's oidc.UserInfo: who the provider says the user is. */
export interface OidcUserInfo {
  subject: string;
  issuer: string;
  username: string;
  email: string;
  groups: string[];
  adminGroupMember: boolean;
}

/** The sealed onboarding cookie: the user info and tokens of a callback waiting for a username. */
interface PendingOnboard {
  info: OidcUserInfo;
  token: StoredToken;
  redirect: string;
  exp: number;
}

export type CallbackResult =
  | { kind: 'login'; user: User; redirect: string }
  | { kind: 'onboard'; pending: string; username: string; redirect: string };

/** Harbor's requireValidSecret: 8-128 characters with a lower-case and an upper-case letter and a digit. */
export function checkCliSecret(secret: string): void {
  if (secret.length < 8 || secret.length > 128 || !/[a-z]/.test(secret) || !/[A-Z]/.test(secret) || !/[0-9]/.test(secret))
    throw ApiErrors.badRequest('the password or secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, 1 lowercase letter and 1 number');
}

/** A random CLI secret that passes checkCliSecret (32 characters, as Harbor's GenerateRandomString). */
export function generateCliSecret(): string {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', a = 'abcdefghijklmnopqrstuvwxyz', d = '0123456789', all = A + a + d;
  for (;;) {
    let s = '';
    for (let i = 0; i < 32; i++) s += all[randomInt(all.length)];
    if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s)) return s;
  }
}

/** Whether `path` is a path on this site (Harbor's IsLocalPath): no scheme, no host, no `//`. */
export function isLocalPath(path: string): boolean {
  return path === '' || (/^\/(?![\/\\])/.test(path) && !/[\x00-\x1f\\]/.test(path));
}

/** A group claim as Harbor reads it: an array of strings, or one string. */
function groupsFromClaims(claims: Record<string, unknown>, key: string): { groups: string[]; present: boolean } {
  if (!key || !(key in claims)) return { groups: [], present: false };
  const v = claims[key];
  if (typeof v === 'string') return { groups: [v], present: true };
  if (Array.isArray(v)) return { groups: v.filter((x): x is string => typeof x === 'string'), present: true };
  return { groups: [], present: false };
}

export class OidcService implements ExternalAuthenticator {
  private readonly db: Db;
  private readonly configs: Configurations;
  private readonly users: UserRepository;
  private readonly oidcUsers: OidcUserRepository;
  private readonly groupRows: UserGroupRepository;
  private readonly groups: UserGroupService;
  private readonly box: SecretBox;
  private readonly audit: AuditSink;
  /** The provider's URLs are user-given: every request to them goes through the outbound guard. */
  private readonly guard: OutboundGuard;
  private discovered: { key: string; until: number; config: Promise<oidc.Configuration> } | null = null;
  private jwks: { uri: string; set: ReturnType<typeof createRemoteJWKSet> } | null = null;

  constructor(deps: {
    db: Db;
    configs: Configurations;
    users: UserRepository;
    oidcUsers: OidcUserRepository;
    groupRows: UserGroupRepository;
    groups: UserGroupService;
    box: SecretBox;
    audit: AuditSink;
    guard: OutboundGuard;
  }) {
    this.guard = deps.guard;
    this.db = deps.db;
    this.configs = deps.configs;
    this.users = deps.users;
    this.oidcUsers = deps.oidcUsers;
    this.groupRows = deps.groupRows;
    this.groups = deps.groups;
    this.box = deps.box;
    this.audit = deps.audit;
  }

  /** 412 (Harbor's Prepare) unless auth_mode is oidc_auth. */
  async requireOidcMode(): Promise<ConfigValues> {
    const c = await this.configs.all();
    if (c.auth_mode !== 'oidc_auth') throw ApiErrors.precondition(`auth mode: ${c.auth_mode} is not OIDC based`);
    return c;
  }

  /** Drops the cached discovery (after the oidc_* settings changed). */
  invalidate(): void {
    this.discovered = null;
  }

  private discoveryOptions(url: URL, verifyCert: boolean): oidc.DiscoveryRequestOptions {
    return {
      timeout: HTTP_TIMEOUT_S,
      // Plain http is the operator's choice (a provider on a private network, a test provider); https is advised.
      execute: url.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      [oidc.customFetch]: guardedFetch(this.guard, { insecure: !verifyCert && url.protocol === 'https:' }),
    };
  }

  /** The provider's configuration (discovery document + our client), cached for a few minutes. */
  private async provider(c: ConfigValues): Promise<oidc.Configuration> {
    if (!c.oidc_endpoint || !c.oidc_client_id) throw ApiErrors.precondition('OIDC is not configured: oidc_endpoint and oidc_client_id are required');
    const key = createHash('sha256').update(JSON.stringify([c.oidc_endpoint, c.oidc_client_id, c.oidc_client_secret, c.oidc_verify_cert])).digest('hex');
    const now = Date.now();
    if (!this.discovered || this.discovered.key !== key || this.discovered.until <= now) {
      const url = new URL(c.oidc_endpoint);
      const opts = this.discoveryOptions(url, c.oidc_verify_cert);
      const config = oidc
        .discovery(url, c.oidc_client_id, { client_secret: c.oidc_client_secret || undefined }, c.oidc_client_secret ? oidc.ClientSecretBasic(c.oidc_client_secret) : oidc.None(), opts)
        .then((cfg) => {
          // Harbor verifies the ID token's signature (go-oidc): so does Berth, against the provider's JWKS.
          oidc.enableNonRepudiationChecks(cfg);
          if (opts[oidc.customFetch]) cfg[oidc.customFetch] = opts[oidc.customFetch]!;
          return cfg;
        });
      const entry = { key, until: now + DISCOVERY_TTL_MS, config };
      this.discovered = entry;
      config.catch(() => {
        if (this.discovered === entry) this.discovered = null;
      });
    }
    try {
      return await this.discovered.config;
    } catch (e) {
      throw ApiErrors.internal(`the OIDC provider at ${c.oidc_endpoint} cannot be used: ${OidcService.reason(e)}`);
    }
  }

  /** A short, secret-free description of an openid-client / fetch error: the messages along its cause chain. */
  static reason(e: unknown): string {
    const parts: string[] = [];
    let cur = e as { message?: string; code?: string; error?: string; error_description?: string; cause?: unknown } | undefined;
    for (let i = 0; cur && i < 5; i++, cur = cur.cause as typeof cur) {
      if (typeof cur !== 'object') {
        parts.push(String(cur));
        break;
      }
      const m = cur.error ? `${cur.error}${cur.error_description ? ` - ${cur.error_description}` : ''}` : cur.message || cur.code;
      if (m && !parts.includes(m)) parts.push(m);
    }
    return parts.join(': ').slice(0, 500) || String(e);
  }

  /** POST /system/oidc/ping: the endpoint serves a valid discovery document whose issuer is that endpoint. */
  async ping(url: unknown, verifyCert: unknown): Promise<void> {
    if (typeof url !== 'string' || !/^https?:\/\//i.test(url) || url.length > 1024) throw ApiErrors.badRequest('url must be an http:// or https:// URL');
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      throw ApiErrors.badRequest('url must be an http:// or https:// URL');
    }
    try {
      await oidc.discovery(u, 'berth-ping', undefined, oidc.None(), this.discoveryOptions(u, verifyCert !== false));
    } catch (e) {
      throw ApiErrors.badRequest(`failed to verify connection: ${OidcService.reason(e)}`);
    }
  }

  /** The authorization URL to send the browser to, and the sealed cookie that remembers this login. */
  async beginLogin(callbackUrl: string, redirect: string): Promise<{ url: string; cookie: string }> {
    const c = await this.requireOidcMode();
    if (!isLocalPath(redirect)) throw ApiErrors.badRequest('cannot redirect to other site');
    const cfg = await this.provider(c);
    const verifier = oidc.randomPKCECodeVerifier();
    const pending: PendingLogin = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier, redirect, exp: Date.now() + LOGIN_TTL_MS };
    const scope = (c.oidc_scope || 'openid,offline_access')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (!scope.includes('openid')) scope.unshift('openid');
    const extra = c.oidc_extra_redirect_parms ? (JSON.parse(c.oidc_extra_redirect_parms) as Record<string, string>) : {};
    const url = oidc.buildAuthorizationUrl(cfg, {
      ...extra,
      redirect_uri: callbackUrl,
      scope: scope.join(' '),
      state: pending.state,
      nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    return { url: url.href, cookie: this.box.seal(JSON.stringify(pending)) };
  }

  private openSealed<T extends { exp: number }>(sealed: string | undefined, what: string): T {
    if (!sealed) throw ApiErrors.badRequest(`no ${what} in progress in this browser (the cookie is missing)`);
    let v: T;
    try {
      v = JSON.parse(this.box.open(decodeURIComponent(sealed))) as T;
    } catch {
      throw ApiErrors.badRequest(`the ${what} cookie is not valid`);
    }
    if (!(v.exp > Date.now())) throw ApiErrors.badRequest(`the ${what} expired; start again`);
    return v;
  }

  /**
   * GET /c/oidc/callback: checks the state against the cookie, exchanges the code, verifies the ID token and
   * finds or onboards the user. Every failure is an error and no session.
   */
  async completeLogin(callbackUrl: string, query: URLSearchParams, cookie: string | undefined): Promise<CallbackResult> {
    const c = await this.requireOidcMode();
    const pending = this.openSealed<PendingLogin>(cookie, 'OIDC login');
    const given = query.get('state') ?? '';
    if (given.length !== pending.state.length || !timingSafeEqual(Buffer.from(given), Buffer.from(pending.state))) throw ApiErrors.badRequest('State mismatch');
    const error = query.get('error');
    if (error) throw ApiErrors.badRequest(`OIDC callback returned error: ${error.slice(0, 200)} - ${(query.get('error_description') ?? '').slice(0, 500)}`);
    const cfg = await this.provider(c);
    const current = new URL(callbackUrl);
    for (const [k, v] of query) current.searchParams.append(k, v);
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(cfg, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (e) {
      // A 4xx so the details are visible when it is a misconfiguration (as Harbor).
      throw ApiErrors.badRequest(`the OIDC token could not be obtained or verified: ${OidcService.reason(e)}`);
    }
    const info = await this.userInfo(cfg, c, tokens);
    const token = OidcService.storedToken(tokens);
    const existing = await this.oidcUsers.findOidcUserBySubIss(info.subject + info.issuer);
    if (existing) {
      const user = await this.users.findUserById(existing.userId);
      if (!user) throw ApiErrors.internal('the OIDC user has no local account');
      await this.oidcUsers.updateOidcToken(user.id, this.box.seal(JSON.stringify(token)));
      return { kind: 'login', user: await this.loggedIn(await this.applyGroups(user, info)), redirect: pending.redirect };
    }
    const username = info.username.replaceAll(' ', '_');
    if (c.oidc_auto_onboard) {
      if (!username) throw ApiErrors.internal(`unable to recover username for auto onboard, username claim: ${c.oidc_user_claim}`);
      return { kind: 'login', user: await this.loggedIn(await this.onboardUser(info, username, token)), redirect: pending.redirect };
    }
    const onboard: PendingOnboard = { info, token, redirect: pending.redirect, exp: Date.now() + LOGIN_TTL_MS };
    return { kind: 'onboard', pending: this.box.seal(JSON.stringify(onboard)), username, redirect: pending.redirect };
  }

  /** POST /c/oidc/onboard: creates the user the pending callback described, under the username the person chose. */
  async completeOnboard(cookie: string | undefined, username: unknown): Promise<{ user: User; redirect: string }> {
    await this.requireOidcMode();
    if (typeof username !== 'string' || username.length < 1 || username.length > 255) throw ApiErrors.badRequest('username with illegal length');
    if (!USERNAME_RE.test(username) || username.startsWith('robot$')) throw ApiErrors.badRequest(`username ${username} contains illegal characters`);
    const p = this.openSealed<PendingOnboard>(cookie, 'OIDC onboarding');
    if (await this.oidcUsers.findOidcUserBySubIss(p.info.subject + p.info.issuer)) throw ApiErrors.conflict('this OIDC user is already onboarded');
    return { user: await this.loggedIn(await this.onboardUser(p.info, username, p.token)), redirect: p.redirect };
  }

  private async loggedIn(user: User): Promise<User> {
    await this.audit.record({ username: user.username, operation: 'login', resourceType: 'user', resource: user.username, detail: 'OIDC' });
    return user;
  }

  /** Claims of the ID token, merged with the userinfo endpoint's as Harbor does (userinfo wins for name and groups). */
  private async userInfo(cfg: oidc.Configuration, c: ConfigValues, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): Promise<OidcUserInfo> {
    const claims = tokens.claims() as Record<string, unknown> | undefined;
    if (!claims) throw ApiErrors.badRequest('the OIDC provider returned no ID token');
    const local = OidcService.fromClaims(claims, c);
    let merged = local;
    if (tokens.access_token && cfg.serverMetadata().userinfo_endpoint) {
      try {
        const remote = OidcService.fromClaims((await oidc.fetchUserInfo(cfg, tokens.access_token, String(claims.sub))) as Record<string, unknown>, c);
        merged = {
          ...local,
          // 1. the user claim of the ID token, 2. the userinfo's, 3. the ID token's `name`
          username: c.oidc_user_claim && typeof claims[c.oidc_user_claim] === 'string' ? local.username : remote.username || local.username,
          email: local.email || remote.email,
          ...(remote.groups.length || !local.groups.length ? { groups: remote.groups, adminGroupMember: remote.adminGroupMember } : {}),
        };
      } catch {
        // Harbor falls back to the ID token's claims when the userinfo endpoint fails.
      }
    }
    return merged;
  }

  private static fromClaims(claims: Record<string, unknown>, c: ConfigValues): OidcUserInfo {
    const s = (k: string) => (typeof claims[k] === 'string' ? (claims[k] as string) : '');
    const username = (c.oidc_user_claim && s(c.oidc_user_claim)) || s('name');
    const { groups } = groupsFromClaims(claims, c.oidc_groups_claim);
    return { subject: s('sub'), issuer: s('iss'), username, email: s('email'), groups, adminGroupMember: !!c.oidc_admin_group && groups.includes(c.oidc_admin_group) };
  }

  private static storedToken(t: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers): StoredToken {
    const expiresIn = t.expiresIn();
    return { id_token: t.id_token, refresh_token: t.refresh_token, expires_at: expiresIn === undefined ? 0 : Date.now() + expiresIn * 1000 };
  }

  /** Creates the local user, its oidc_users row (a fresh CLI secret) and its groups, in one transaction. */
  private async onboardUser(info: OidcUserInfo, username: string, token: StoredToken): Promise<User> {
    if (!USERNAME_RE.test(username) || username === 'admin' || username.startsWith('robot$')) throw ApiErrors.badRequest(`username ${username.slice(0, 255)} contains illegal characters`);
    if (await this.users.findUserByName(username)) throw ApiErrors.conflict(`user ${username} already exists`);
    let email: string | null = info.email && info.email.length <= 255 && EMAIL_RE.test(info.email) ? info.email : null;
    // An email another account holds is left out rather than blocking the login (the user can set one later).
    if (email && (await this.users.findUserByEmail(email))) email = null;
    const user = await this.users.saveNewUser({ username, email, realname: username, comment: 'Onboarded via OIDC provider', passwordHash: '', sysadmin: false });
    if (!user) throw ApiErrors.conflict(`user ${username} already exists`);
    const saved = await this.oidcUsers.saveNewOidcUser({
      userId: user.id,
      subiss: info.subject + info.issuer,
      secret: this.box.seal(generateCliSecret()),
      token: this.box.seal(JSON.stringify(token)),
    });
    if (!saved) {
      // Two callbacks of one subject raced: the other one onboarded it.
      await this.users.removeUser(user.id);
      throw ApiErrors.conflict('this OIDC user is already onboarded');
    }
    await this.audit.record({ username, operation: 'create', resourceType: 'user', resource: username, detail: 'onboarded via OIDC' });
    return this.applyGroups(user, info);
  }

  /** Harbor's InjectGroupsToUser: the groups claim (filtered) → OIDC user groups; the admin group → sysadmin. */
  private async applyGroups(user: User, info: OidcUserInfo): Promise<User> {
    const c = await this.configs.all();
    let names = [...new Set(info.groups)].filter((g) => g.length >= 1 && g.length <= 255 && !/[\x00-\x1f\x7f]/.test(g) && g.trim() === g);
    if (c.oidc_group_filter) {
      const re = new RegExp(c.oidc_group_filter);
      names = names.filter((g) => re.test(g));
    }
    const ids = await this.groups.ensureNamedGroups(OIDC_GROUP, names.slice(0, 1000));
    await this.db.tx((q) => this.groupRows.replaceUserGroups(user.id, ids, q));
    await this.users.updateUserExternalAuth(user.id, info.adminGroupMember, 'oidc');
    return { ...user, authSource: 'oidc', adminRoleInAuth: info.adminGroupMember };
  }

  /**
   * Harbor's idtoken middleware: an ID token of the provider as a bearer token on /api/v2.0. Its signature (the
   * provider's JWKS), issuer, audience (our client id) and expiry must hold, and its sub+iss must be an onboarded
   * user; null otherwise (the request is then anonymous, as in Harbor).
   */
  async userFromIdToken(token: string): Promise<User | null> {
    const c = await this.configs.all();
    if (c.auth_mode !== 'oidc_auth' || token.length > 16384 || token.split('.').length !== 3) return null;
    try {
      const meta = (await this.provider(c)).serverMetadata();
      if (!meta.jwks_uri) return null;
      if (this.jwks?.uri !== meta.jwks_uri) {
        const insecure = !c.oidc_verify_cert && meta.jwks_uri.startsWith('https:');
        this.jwks = { uri: meta.jwks_uri, set: createRemoteJWKSet(new URL(meta.jwks_uri), { [joseFetch]: guardedFetch(this.guard, { insecure }) }) };
      }
      const { payload } = await jwtVerify(token, this.jwks.set, { issuer: meta.issuer, audience: c.oidc_client_id });
      if (typeof payload.sub !== 'string' || typeof payload.iss !== 'string') return null;
      const row = await this.oidcUsers.findOidcUserBySubIss(payload.sub + payload.iss);
      return row ? await this.users.findUserById(row.userId) : null;
    } catch {
      return null;
    }
  }

  // ---- CLI secret: the password of OIDC users on Basic logins (/v2, /service/token, the API)

  async handles(username: string): Promise<boolean> {
    if (username === 'admin') return false;
    const c = await this.configs.all();
    return c.auth_mode === 'oidc_auth' && !username.startsWith(c.robot_name_prefix) && !username.startsWith('robot$');
  }

  async authenticate(username: string, secret: string): Promise<User | null> {
    const user = await this.users.findUserByName(username);
    if (!user) return null;
    const row = await this.oidcUsers.findOidcUserByUserId(user.id);
    if (!row || !this.secretMatches(row, secret)) return null;
    // Harbor's VerifySecret: the stored token must still be valid, refreshed when the access token expired.
    const info = await this.validToken(row);
    if (!info) return null;
    return info === 'unchanged' ? user : this.applyGroups(user, info);
  }

  private secretMatches(row: OidcUser, secret: string): boolean {
    let plain: string;
    try {
      plain = this.box.open(row.secret);
    } catch {
      return false;
    }
    const a = createHash('sha256').update(plain).digest();
    const b = createHash('sha256').update(secret).digest();
    return timingSafeEqual(a, b) && plain === secret;
  }

  /** 'unchanged' when the access token is still valid; the refreshed claims after a refresh; null when refused. */
  private async validToken(row: OidcUser): Promise<OidcUserInfo | 'unchanged' | null> {
    let token: StoredToken;
    try {
      token = JSON.parse(this.box.open(row.token)) as StoredToken;
    } catch {
      return null;
    }
    if (token.expires_at === 0 || token.expires_at > Date.now()) return 'unchanged';
    if (!token.refresh_token) {
      process.emitWarning(`OIDC: the token of user id ${row.userId} expired and there is no refresh token (offline_access in oidc_scope?); CLI login refused`);
      return null;
    }
    const c = await this.configs.all();
    try {
      const cfg = await this.provider(c);
      const t = await oidc.refreshTokenGrant(cfg, token.refresh_token);
      const next = OidcService.storedToken(t);
      // Some providers rotate refresh tokens, others keep the first one.
      next.refresh_token ??= token.refresh_token;
      next.id_token ??= token.id_token;
      await this.oidcUsers.updateOidcToken(row.userId, this.box.seal(JSON.stringify(next)));
      // Groups and the admin flag follow the provider's current answer (ID token + userinfo, as at login).
      return t.claims() ? await this.userInfo(cfg, c, t) : 'unchanged';
    } catch (e) {
      process.emitWarning(`OIDC: refreshing the token of user id ${row.userId} failed, CLI login refused: ${OidcService.reason(e)}`);
      return null;
    }
  }

  /** Harbor's OIDCUserInfo for GET /users/current (the user themself): with the CLI secret in clear. */
  async userMeta(userId: number, withSecret: boolean): Promise<Record<string, unknown> | null> {
    const row = await this.oidcUsers.findOidcUserByUserId(userId);
    if (!row) return null;
    let secret = '';
    if (withSecret) {
      try {
        secret = this.box.open(row.secret);
      } catch {
        secret = '';
      }
    }
    return {
      id: row.userId,
      user_id: row.userId,
      subiss: row.subiss,
      ...(withSecret ? { secret } : {}),
      creation_time: new Date(row.createdAt).toISOString(),
      update_time: new Date(row.updatedAt).toISOString(),
    };
  }

  /** PUT /users/{id}/cli_secret (the caller is authorized already): '' generates one. Returns the user's name. */
  async setCliSecret(actor: string, userId: number, secret: unknown): Promise<string> {
    await this.requireOidcMode();
    if (secret !== undefined && typeof secret !== 'string') throw ApiErrors.badRequest('secret must be a string');
    const user = await this.users.findUserById(userId);
    if (!user) throw ApiErrors.notFound(`user ${userId} not found`);
    const row = await this.oidcUsers.findOidcUserByUserId(userId);
    if (!row) throw ApiErrors.badRequest(`user ${user.username} is not onboarded via OIDC authentication`);
    const next = secret ? secret : generateCliSecret();
    checkCliSecret(next);
    await this.oidcUsers.updateOidcSecret(userId, this.box.seal(next));
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'user', resource: user.username, detail: 'cli_secret' });
    return user.username;
  }
}
