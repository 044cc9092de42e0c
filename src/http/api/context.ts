// What every /api/v2.0 handler shares: the prefix, the dependencies, the authenticated caller and the small
// request helpers. Kept apart from index.ts (which registers the routes) so route files never import it back.
import type { TrustedKeyService } from '../../services/signature/trusted-key-service.ts';
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config/config.ts';
import { ApiErrors } from '../../errors.ts';
import { parseGoBool } from './query.ts';
import type { AccessPolicy } from '../../services/auth/access-policy.ts';
import type { AuthService } from '../../services/auth/auth-service.ts';
import { ANONYMOUS, type Principal } from '../../services/auth/principal.ts';
import type { UserService } from '../../services/auth/user-service.ts';
import type { SessionService } from '../../services/auth/session-service.ts';
import { sessionIdOf } from '../portal-session.ts';
import type { RobotService } from '../../services/auth/robot-service.ts';
import type { ProjectService } from '../../services/project/project-service.ts';
import type { JobService } from '../../services/jobs/job-service.ts';
import type { QuotaService } from '../../services/registry/quota-service.ts';
import type { ArtifactDomain } from '../../services/artifact/artifact-domain.ts';
import type { UserGroupService } from '../../services/usergroup/user-group-service.ts';
import type { LdapService } from '../../services/ldap/ldap-service.ts';
import type { LdapAuthenticator } from '../../services/ldap/ldap-authenticator.ts';
import type { OidcService } from '../../services/oidc/oidc-service.ts';
import type { ConfigurationService } from '../../services/config/configuration-service.ts';
import type { AuditLogService } from '../../services/audit/audit-log-service.ts';
import type { WebhookService } from '../../services/webhook/webhook-service.ts';
import type { RegistryService } from '../../services/replication/registry-service.ts';
import type { RetentionService } from '../../services/retention/retention-service.ts';
import type { ReplicationService } from '../../services/replication/replication-service.ts';
import type { SystemService } from '../../services/system/system-service.ts';
import type { ScannerService } from '../../services/scan/scanner-service.ts';
import type { ScanService } from '../../services/scan/scan-service.ts';
import type { SystemCveAllowlistRepository } from '../../repositories/cve-allowlist-repository.ts';

export const API_PREFIX = '/api/v2.0';

export interface ApiDeps {
  config: Config;
  auth: AuthService;
  policy: AccessPolicy;
  users: UserService;
  projects: ProjectService;
  jobs: JobService;
  quotas: QuotaService;
  artifactDomain: ArtifactDomain;
  sessions: SessionService;
  robots: RobotService;
  configs: ConfigurationService;
  groups: UserGroupService;
  ldap: LdapService;
  ldapAuth: LdapAuthenticator;
  oidc: OidcService;
  auditQueries: AuditLogService;
  system: SystemService;
  webhooks: WebhookService;
  registries: RegistryService;
  retention: RetentionService;
  replication: ReplicationService;
  scanners: ScannerService;
  scans: ScanService;
  systemAllowlist: SystemCveAllowlistRepository;
  /** Projects' trusted signature keys (Berth's /projects/{p}/trusted-keys). */
  trustedKeys: TrustedKeyService;
}

/** The authenticated caller of one API request (memoized per request). */
export class ApiAuth {
  private readonly auth: AuthService;
  private readonly sessions: SessionService | null;
  private readonly cache = new WeakMap<FastifyRequest, Promise<Principal>>();
  /** Whether Basic credentials of `username` may be used on this request (OIDC CLI secrets: a few paths only). */
  private readonly basicAllowed: (req: FastifyRequest, username: string) => Promise<boolean>;
  /** The user behind a bearer token (an OIDC ID token), or null. */
  private readonly bearer: (token: string) => Promise<Principal | null>;
  constructor(
    auth: AuthService,
    sessions: SessionService | null = null,
    basicAllowed: (req: FastifyRequest, username: string) => Promise<boolean> = async () => true,
    bearer: (token: string) => Promise<Principal | null> = async () => null,
  ) {
    this.bearer = bearer;
    this.auth = auth;
    this.sessions = sessions;
    this.basicAllowed = basicAllowed;
  }
  principal(req: FastifyRequest): Promise<Principal> {
    let p = this.cache.get(req);
    if (!p) {
      p = (async () => {
        const h = req.headers.authorization;
        if (h && /^basic /i.test(h)) {
          const decoded = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
          const i = decoded.indexOf(':');
          if (i > 0 && !(await this.basicAllowed(req, decoded.slice(0, i)))) throw ApiErrors.unauthorized('unauthorized');
        }
        if (h && /^bearer /i.test(h)) return (await this.bearer(h.slice(7).trim())) ?? ANONYMOUS;
        const r = await this.auth.authenticateBasicHeader(h, req.ip);
        if (r === null) throw ApiErrors.unauthorized('unauthorized');
        if (r) return r;
        // No Authorization header: the portal's session cookie (an unknown or ended session is anonymous).
        const sid = this.sessions ? sessionIdOf(req) : undefined;
        return (sid && (await this.sessions!.resolve(sid))) || ANONYMOUS;
      })();
      this.cache.set(req, p);
    }
    return p;
  }
  /** The caller, who must be logged in (401 otherwise). */
  async user(req: FastifyRequest): Promise<Extract<Principal, { kind: 'user' }>> {
    const p = await this.principal(req);
    // A robot is authenticated but not a user: 403 (as Harbor), never a login prompt.
    if (p.kind === 'robot') throw ApiErrors.forbidden('robot accounts cannot use this endpoint');
    if (p.kind !== 'user') throw ApiErrors.unauthorized('unauthorized');
    return p;
  }
  /** The caller, who must be a system admin (401 anonymous, 403 others). */
  async sysadmin(req: FastifyRequest): Promise<Extract<Principal, { kind: 'user' }>> {
    const p = await this.user(req);
    if (!p.sysadmin) throw ApiErrors.forbidden('system admin required');
    return p;
  }
}

/** A numeric path id, or 400. */
export function pathId(v: string | undefined, name = 'id'): number {
  if (!v || !/^[0-9]{1,15}$/.test(v) || Number(v) < 1) throw ApiErrors.badRequest(`invalid ${name}`);
  return Number(v);
}

/** Request query as URLSearchParams (Fastify's parsed query flattens repeated keys differently). */
export function queryOf(req: FastifyRequest): URLSearchParams {
  const url = req.raw.url ?? '';
  const i = url.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : url.slice(i + 1));
}

/** A JSON object body, or 400. */
export function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (!b || typeof b !== 'object' || Array.isArray(b)) throw ApiErrors.badRequest('a JSON object body is required');
  return b as Record<string, unknown>;
}

/** Re-exported so handlers keep one import; defined in src/time.ts. */
export { isoTime } from '../../time.ts';


/**
 * A boolean request header, true for Go's strconv.ParseBool spellings (true/True/TRUE/t/1 …), so a generated client
 * sending Python's `True` is understood. Absent or anything else → false. (go-swagger's swag.ConvertBool, which
 * Harbor's generated binders use, also takes yes/y/on/ok/checked/enabled/selected; Berth does not yet.)
 */
export function headerFlag(req: FastifyRequest, name: string): boolean {
  const v = req.headers[name.toLowerCase()];
  return typeof v === 'string' && parseGoBool(v.trim()) === true;
}
