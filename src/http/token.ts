// /service/token: Docker token auth. GET with Basic credentials (docker, podman, skopeo) and POST with the
// OAuth2 password grant (containerd). Bad credentials get 401 (never a silently anonymous token). The portal's
// session cookie also works on GET without an Authorization header, as in Harbor (it reads manifests this way).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RegistryError } from '../errors.ts';
import type { AuthService } from '../services/auth/auth-service.ts';
import { ANONYMOUS, type Principal } from '../services/auth/principal.ts';
import { TOKEN_SERVICE } from '../services/auth/token-service.ts';
import type { SessionService } from '../services/auth/session-service.ts';
import { sessionIdOf } from './portal-session.ts';
import { sendHarborError } from './errors.ts';

const unauthorized = (msg = 'invalid username or password') =>
  new RegistryError('UNAUTHORIZED', msg, { headers: { 'WWW-Authenticate': 'Basic realm="harbor"' } });

export async function tokenRoutes(app: FastifyInstance, auth: AuthService, sessions: SessionService | null = null): Promise<void> {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) =>
    done(null, new URLSearchParams(body as string)),
  );
  app.setErrorHandler((err, _req, reply) => sendHarborError(reply, err));

  const respond = async (req: FastifyRequest, params: URLSearchParams, principal: Principal) => {
    const service = params.get('service');
    if (service !== null && service !== TOKEN_SERVICE) throw new RegistryError('BAD_REQUEST' as never, `invalid service: ${service}`, { status: 400 });
    const scopes = params.getAll('scope');
    // `docker login` with no credentials must fail: anonymous without a scope is refused.
    if (principal.kind === 'anonymous' && scopes.length === 0) throw unauthorized('authentication required');
    const { token, claims } = await auth.issueToken(principal, scopes);
    req.log.debug({ sub: claims.sub, access: claims.access }, 'token issued');
    return {
      token,
      access_token: token,
      expires_in: auth.tokens.expiresIn,
      issued_at: new Date(claims.iat * 1000).toISOString(),
    };
  };

  app.get('/service/token', async (req, reply) => {
    let principal = await auth.authenticateBasicHeader(req.headers.authorization, req.ip);
    if (principal === null) throw unauthorized();
    const sid = principal === undefined && sessions ? sessionIdOf(req) : undefined;
    if (sid) principal = (await sessions!.resolve(sid)) ?? undefined;
    const q = req.raw.url?.split('?')[1] ?? '';
    return reply.header('Cache-Control', 'no-store').send(await respond(req, new URLSearchParams(q), principal ?? ANONYMOUS));
  });

  app.post('/service/token', async (req, reply) => {
    const form = req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
    let principal: Principal | null | undefined = await auth.authenticateBasicHeader(req.headers.authorization, req.ip);
    if (principal === null) throw unauthorized();
    const grant = form.get('grant_type');
    if (grant === 'password') {
      principal = await auth.authenticate(form.get('username') ?? '', form.get('password') ?? '', req.ip);
      if (!principal) throw unauthorized();
    } else if (grant !== null && grant !== 'refresh_token') {
      throw new RegistryError('BAD_REQUEST' as never, `unsupported grant_type ${grant}`, { status: 400 });
    }
    return reply.header('Cache-Control', 'no-store').send(await respond(req, form, principal ?? ANONYMOUS));
  });
}
