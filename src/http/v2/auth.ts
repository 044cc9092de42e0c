// Authentication and authorization of /v2 requests, with Harbor's challenges: anonymous requests get a
// Bearer challenge pointing at /service/token; credentials that are not enough get insufficient_scope.
import type { FastifyRequest } from 'fastify';
import { Errors, RegistryError } from '../../errors.ts';
import type { AuthService } from '../../services/auth/auth-service.ts';
import type { AccessPolicy } from '../../services/auth/access-policy.ts';
import { repositoryActionsOf } from '../../services/auth/rbac.ts';
import { ANONYMOUS, type Principal, type RepositoryAction } from '../../services/auth/principal.ts';
import { TokenService, TOKEN_SERVICE, type TokenClaims } from '../../services/auth/token-service.ts';
import type { Project } from '../../repositories/project-repository.ts';
import { validateName } from '../../oci/digest.ts';

export interface Caller {
  principal: Principal;
  scheme: 'none' | 'basic' | 'bearer';
  claims: TokenClaims | null;
}

export class V2Auth {
  private readonly auth: AuthService;
  private readonly policy: AccessPolicy;
  private readonly externalUrl: string;
  constructor(auth: AuthService, policy: AccessPolicy, externalUrl: string) {
    this.auth = auth;
    this.policy = policy;
    this.externalUrl = externalUrl;
  }

  baseUrl(req: FastifyRequest): string {
    if (this.externalUrl) return this.externalUrl;
    const proto = (req.headers['x-forwarded-proto'] as string | undefined)?.split(',')[0].trim() || req.protocol;
    return `${proto === 'https' ? 'https' : 'http'}://${req.headers.host ?? 'localhost'}`;
  }

  challenge(req: FastifyRequest, scope?: string, error?: string, message = 'authentication required'): RegistryError {
    let h = `Bearer realm="${this.baseUrl(req)}/service/token",service="${TOKEN_SERVICE}"`;
    if (scope) h += `,scope="${scope}"`;
    if (error) h += `,error="${error}"`;
    return new RegistryError('UNAUTHORIZED', message, { headers: { 'WWW-Authenticate': h } });
  }

  async identify(req: FastifyRequest): Promise<Caller> {
    const header = req.headers.authorization;
    if (!header) return { principal: ANONYMOUS, scheme: 'none', claims: null };
    if (/^bearer /i.test(header)) {
      const claims = this.auth.tokens.verify(header.slice(7).trim());
      if (!claims) throw this.challenge(req, undefined, 'invalid_token', 'invalid or expired token');
      return { principal: await this.auth.principalFromToken(claims.sub), scheme: 'bearer', claims };
    }
    const p = await this.auth.authenticateBasicHeader(header, req.ip);
    if (!p) {
      throw new RegistryError('UNAUTHORIZED', 'invalid username or password', {
        headers: { 'WWW-Authenticate': `Basic realm="harbor"` },
      });
    }
    return { principal: p, scheme: 'basic', claims: null };
  }

  /** `GET /v2/` needs an authenticated identity (that is what `docker login` checks). */
  requireIdentity(req: FastifyRequest, caller: Caller): void {
    if (caller.principal.kind === 'anonymous') throw this.challenge(req, undefined, undefined, 'unauthorized'); // Harbor's text
  }

  async actions(caller: Caller, repositoryName: string): Promise<{ actions: Set<RepositoryAction>; project: Project | null }> {
    const project = await this.policy.projectFor(repositoryName);
    if (caller.claims) {
      // Tokens issued before the project was (re)created are void for it (Harbor's iat check).
      if (!project || caller.claims.iat < Math.floor(project.createdAt / 1000)) return { actions: new Set(), project };
      const granted = TokenService.grantedActions(caller.claims, repositoryName);
      // A token is only as good as its subject still is: a deleted user or a deleted/disabled robot (resolved per
      // request, so on every process) holds nothing, and a removed member or lowered role keeps only what the
      // subject may still do — the next request after the change, not when the token expires.
      if (!granted.size || (caller.claims.sub && caller.principal.kind === 'anonymous')) return { actions: new Set(), project };
      const now = repositoryActionsOf(await this.policy.policiesOn(caller.principal, project));
      return { actions: new Set([...granted].filter((a) => now.has(a))), project };
    }
    return { actions: await this.policy.repositoryActions(caller.principal, repositoryName), project };
  }

  /**
   * Throws the right 401/403 unless the caller may perform every one of `needed` on the repository.
   * Anonymous callers are always challenged first, even for public projects (docker needs the round trip).
   */
  async authorize(req: FastifyRequest, caller: Caller, repositoryName: string, needed: RepositoryAction[]): Promise<Project> {
    const scope = `repository:${repositoryName}:${needed.includes('push') ? 'pull,push' : needed.join(',')}`;
    // Harbor's texts (server/middleware/v2auth): reads without credentials, then the first action not granted.
    // Harbor names the one action the request is about: push for uploads/manifest PUTs (which also need pull here).
    const denial = (actions: RepositoryAction[]) => {
      const action = actions.includes('push') ? 'push' : actions.includes('delete') ? 'delete' : actions[0];
      return `unauthorized to access repository: ${repositoryName}, action: ${action}`;
    };
    if (caller.scheme === 'none') {
      const read = req.method === 'GET' || req.method === 'HEAD';
      throw this.challenge(req, scope, undefined, read ? 'authorize header needed to send HEAD to repository' : denial(needed));
    }
    const { actions, project } = await this.actions(caller, repositoryName);
    if (needed.every((a) => actions.has(a)) && project) return project;
    const what = project ? denial(needed.filter((a) => !actions.has(a))) : `project ${repositoryName.split('/')[0]} not found`;
    if (caller.scheme === 'bearer') throw this.challenge(req, scope, 'insufficient_scope', what);
    if (caller.principal.kind === 'anonymous') throw this.challenge(req, scope, undefined, what);
    throw Errors.denied(what);
  }

  /**
   * Whether a blob may be mounted from `source`. A token that lacks a scope for the source (clients such as the
   * conformance suite ask only for the target) falls back to the rights of the authenticated user behind it.
   */
  async canPullMountSource(caller: Caller, source: string): Promise<boolean> {
    try {
      validateName(source);
    } catch {
      return false;
    }
    if ((await this.actions(caller, source)).actions.has('pull')) return true;
    if (caller.claims && caller.principal.kind === 'user') {
      const project = await this.policy.projectFor(source);
      if (project && caller.claims.iat >= Math.floor(project.createdAt / 1000))
        return (await this.policy.repositoryActions(caller.principal, source)).has('pull');
    }
    return false;
  }

  async canListCatalog(caller: Caller): Promise<boolean> {
    if (caller.claims) return caller.claims.access.some((a) => a.type === 'registry' && a.name === 'catalog' && a.actions.includes('*'));
    return this.policy.canListCatalog(caller.principal);
  }
}
