// Portal sessions as Harbor's UI uses them: POST /c/login (form `principal`, `password`) sets the `sid`
// cookie, GET /c/log_out ends it. Cookie-authenticated requests carry X-Harbor-CSRF-Token in every response
// (and a JS-readable `__csrf` cookie); unsafe methods on /api/v2.0 and /c/* must send it back
// (CVE-2019-19025). Requests with an Authorization header never use the cookie and need no CSRF token.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.ts';
import { ApiErrors } from '../errors.ts';
import { SessionService } from '../services/auth/session-service.ts';
import type { OidcService } from '../services/oidc/oidc-service.ts';
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

/** The public base URL: configured, or derived from the request (as /v2 challenges do). */
function baseUrl(req: FastifyRequest, config: Config): string {
  if (config.http.externalUrl) return config.http.externalUrl;
  const host = String(req.headers.host ?? 'localhost').replace(/[^A-Za-z0-9.:\[\]-]/g, '');
  return `${isHttps(req, config) ? 'https' : 'http'}://${host}`;
}

// The OIDC login's sealed cookies (state/nonce/PKCE; a callback waiting for a username), sent to /c/oidc only.
const OIDC_STATE_COOKIE = 'berth_oidc_state';
const OIDC_ONBOARD_COOKIE = 'berth_oidc_onboard';
function oidcCookie(name: string, value: string, secure: boolean, clear = false): string {
  let c = `${name}=${value}; Path=/c/oidc; SameSite=Lax; HttpOnly`;
  if (secure) c += '; Secure';
  c += clear ? '; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT' : '; Max-Age=600';
  return c;
}

export async function portalSessionRoutes(app: FastifyInstance, deps: { config: Config; sessions: SessionService; oidc?: OidcService }): Promise<void> {
  const { config, sessions, oidc } = deps;
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) =>
    done(null, new URLSearchParams(body as string)),
  );
  app.setErrorHandler(async (err, _req, reply) => sendHarborError(reply, err));
  // The OIDC onboarding is bound to its own sealed cookie (a page on another site cannot have it).
  app.addHook('onRequest', csrfHook(sessions, (url) => /^\/c\/(login|oidc\/onboard)(\?|$)/.test(url)));

  /** Sets the session cookies of a user who just logged in. */
  const startSession = async (req: FastifyRequest, user: Parameters<SessionService['openFor']>[0]) => {
    const r = await sessions.openFor(user, readCookie(req, SESSION_COOKIE));
    const secure = isHttps(req, config);
    const csrf = sessions.csrfToken(r.sid);
    return [cookie(SESSION_COOKIE, r.sid, { httpOnly: true, secure }), cookie(CSRF_COOKIE, csrf, { httpOnly: false, secure })];
  };

  if (oidc) {
    // Harbor's /c/oidc/login: to the provider, with a local redirect_url to come back to.
    app.get<{ Querystring: { redirect_url?: string } }>('/c/oidc/login', async (req, reply) => {
      const redirect = typeof req.query.redirect_url === 'string' ? req.query.redirect_url : '';
      const r = await oidc.beginLogin(`${baseUrl(req, config)}/c/oidc/callback`, redirect);
      return reply.header('Set-Cookie', oidcCookie(OIDC_STATE_COOKIE, r.cookie, isHttps(req, config))).header('Cache-Control', 'no-store').redirect(r.url, 302);
    });

    app.get('/c/oidc/callback', async (req, reply) => {
      const url = req.raw.url ?? '';
      const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
      const secure = isHttps(req, config);
      // The state cookie is used once, whatever the outcome (Fastify appends further Set-Cookie headers).
      reply.header('Set-Cookie', oidcCookie(OIDC_STATE_COOKIE, '', secure, true));
      const r = await oidc.completeLogin(`${baseUrl(req, config)}/c/oidc/callback`, query, readCookie(req, OIDC_STATE_COOKIE));
      reply.header('Cache-Control', 'no-store');
      if (r.kind === 'onboard') {
        reply.header('Set-Cookie', oidcCookie(OIDC_ONBOARD_COOKIE, r.pending, secure));
        const q = new URLSearchParams({ username: r.username, redirect_url: r.redirect });
        return reply.redirect(`/oidc-onboard?${q}`, 302);
      }
      reply.header('Set-Cookie', await startSession(req, r.user));
      return reply.redirect(r.redirect || '/', 302);
    });

    // Harbor's onboarding: JSON {username}; the user info comes from the sealed cookie of the callback.
    app.post('/c/oidc/onboard', async (req, reply) => {
      const body = req.body && typeof req.body === 'object' && !(req.body instanceof URLSearchParams) ? (req.body as Record<string, unknown>) : {};
      const r = await oidc.completeOnboard(readCookie(req, OIDC_ONBOARD_COOKIE), body.username);
      const secure = isHttps(req, config);
      return reply
        .header('Set-Cookie', [oidcCookie(OIDC_ONBOARD_COOKIE, '', secure, true), ...(await startSession(req, r.user))])
        .header('Cache-Control', 'no-store')
        .code(200)
        .send({ redirect_url: r.redirect || '/' });
    });
  }

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
