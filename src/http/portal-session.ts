// Portal sessions as Harbor's UI uses them: POST /c/login (form `principal`, `password`) sets the `sid`
// cookie, GET /c/log_out ends it. Cookie-authenticated requests carry X-Harbor-CSRF-Token in every response
// (and a JS-readable `__csrf` cookie); unsafe methods on /api/v2.0 and /c/* must send it back
// (CVE-2019-19025). Requests with an Authorization header never use the cookie and need no CSRF token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.ts';
import { ApiErrors } from '../errors.ts';
import { SessionService } from '../services/auth/session-service.ts';
import { sendHarborError } from './errors.ts';

export const SESSION_COOKIE = 'sid';
export const CSRF_COOKIE = '__csrf';
export const CSRF_HEADER = 'X-Harbor-CSRF-Token';
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** One cookie's value from the Cookie header (the first occurrence), or undefined. */
export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

/** The session id the request authenticates with: a well-formed `sid` cookie and no Authorization header. */
export function sessionIdOf(req: FastifyRequest): string | undefined {
  if (req.headers.authorization) return undefined;
  const sid = readCookie(req, SESSION_COOKIE);
  return SessionService.isSessionId(sid) ? sid : undefined;
}

function isHttps(req: FastifyRequest, config: Config): boolean {
  const fwd = req.headers['x-forwarded-proto'];
  const proto = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0].trim().toLowerCase();
  return proto === 'https' || req.protocol === 'https' || config.http.externalUrl.startsWith('https://');
}

function cookie(name: string, value: string, opts: { httpOnly: boolean; secure: boolean; clear?: boolean }): string {
  let c = `${name}=${value}; Path=/; SameSite=Lax`;
  if (opts.httpOnly) c += '; HttpOnly';
  if (opts.secure) c += '; Secure';
  if (opts.clear) c += '; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT';
  return c;
}

/**
 * onRequest hook for /api/v2.0 and /c/*: echoes the session's CSRF token and refuses cookie-authenticated
 * unsafe requests without it (403 FORBIDDEN "CSRF token invalid"). `exempt` paths (the login) skip the check.
 */
export function csrfHook(sessions: SessionService, exempt: (url: string) => boolean = () => false) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const sid = sessionIdOf(req);
    if (!sid) return;
    reply.header(CSRF_HEADER, sessions.csrfToken(sid));
    if (!UNSAFE.has(req.method) || exempt(req.url)) return;
    const given = req.headers[CSRF_HEADER.toLowerCase()];
    if (!sessions.checkCsrf(sid, Array.isArray(given) ? given[0] : given)) throw ApiErrors.forbidden('CSRF token invalid');
  };
}

export async function portalSessionRoutes(app: FastifyInstance, deps: { config: Config; sessions: SessionService }): Promise<void> {
  const { config, sessions } = deps;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) =>
    done(null, new URLSearchParams(body as string)),
  );
  app.setErrorHandler(async (err, _req, reply) => sendHarborError(reply, err));
  app.addHook('onRequest', csrfHook(sessions, (url) => url === '/c/login' || url.startsWith('/c/login?')));

  app.post('/c/login', async (req, reply) => {
    if (!(req.body instanceof URLSearchParams)) throw ApiErrors.badRequest('a form-urlencoded body with principal and password is required');
    const principal = req.body.get('principal') ?? '';
    const password = req.body.get('password') ?? '';
    const r = await sessions.login(principal, password, readCookie(req, SESSION_COOKIE), req.ip);
    const secure = isHttps(req, config);
    if (!r) {
      // An old session cookie was ended by the attempt; tell the browser too.
      if (readCookie(req, SESSION_COOKIE) !== undefined) reply.header('Set-Cookie', cookie(SESSION_COOKIE, '', { httpOnly: true, secure, clear: true }));
      throw ApiErrors.unauthorized('invalid username or password');
    }
    const csrf = sessions.csrfToken(r.sid);
    return reply
      .header('Set-Cookie', [cookie(SESSION_COOKIE, r.sid, { httpOnly: true, secure }), cookie(CSRF_COOKIE, csrf, { httpOnly: false, secure })])
      .header(CSRF_HEADER, csrf)
      .header('Cache-Control', 'no-store')
      .code(200)
      .send();
  });

  app.get('/c/log_out', async (req, reply) => {
    await sessions.logout(readCookie(req, SESSION_COOKIE));
    const secure = isHttps(req, config);
    return reply
      .header('Set-Cookie', [
        cookie(SESSION_COOKIE, '', { httpOnly: true, secure, clear: true }),
        cookie(CSRF_COOKIE, '', { httpOnly: false, secure, clear: true }),
      ])
      .code(200)
      .send();
  });
}
