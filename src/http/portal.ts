// The web portal (portal/, built by Vite into portal/dist): hashed assets under /assets (cached for a year,
// immutable), index.html at / and for every other browser path (SPA fallback, never cached, never for
// /v2, /api, /service, /c or /metrics). Without a build, / answers 503 saying how to build it.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

export const DEFAULT_PORTAL_DIR = resolve(import.meta.dirname, '..', '..', 'portal', 'dist');

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // antd writes its component styles at run time
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self' data:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const NOT_BUILT = 'The Berth web portal is not built. Run `npm run build:portal` (or `npm start`, which builds it when portal/dist is missing), then reload.\n';

/**
 * Paths that belong to the APIs and are never answered with the portal. /metrics is there so a scraper pointed
 * at the main port gets 404 (as from Harbor's core) instead of a 200 HTML page; metrics have their own port.
 */
export function isApiPath(url: string): boolean {
  return /^\/(v2|api|service|c|metrics)(\/|\?|$)/.test(url);
}

export class Portal {
  readonly dir: string;
  private index: { html: Buffer; mtimeMs: number } | null = null;
  constructor(dir: string = DEFAULT_PORTAL_DIR) {
    this.dir = dir;
  }

  /** index.html, re-read when it changes (a build while Berth runs is picked up); null when not built. */
  indexHtml(): Buffer | null {
    const file = join(this.dir, 'index.html');
    try {
      const st = statSync(file);
      if (!this.index || this.index.mtimeMs !== st.mtimeMs) this.index = { html: readFileSync(file), mtimeMs: st.mtimeMs };
      return this.index.html;
    } catch {
      this.index = null;
      return null;
    }
  }

  sendIndex(reply: FastifyReply): FastifyReply {
    const html = this.indexHtml();
    if (!html) return reply.code(503).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').header('Retry-After', '60').send(NOT_BUILT);
    return reply
      .code(200)
      .type('text/html; charset=utf-8')
      .header('Cache-Control', 'no-cache')
      .header('Content-Security-Policy', CSP)
      .header('X-Frame-Options', 'DENY')
      .header('X-Content-Type-Options', 'nosniff')
      .header('Referrer-Policy', 'same-origin')
      .send(html);
  }

  /** For the not-found handler: answers browser navigations with index.html; false for API paths and others. */
  fallback(req: FastifyRequest, reply: FastifyReply): boolean {
    const url = req.raw.url ?? '/';
    if (req.method !== 'GET' || isApiPath(url) || url.startsWith('/assets/')) return false;
    this.sendIndex(reply);
    return true;
  }
}

export async function portalRoutes(app: FastifyInstance, portal: Portal): Promise<void> {
  app.get('/', async (_req, reply) => portal.sendIndex(reply));
  app.get('/index.html', async (_req, reply) => portal.sendIndex(reply));
  const assets = join(portal.dir, 'assets');
  if (existsSync(assets)) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: '/assets/',
      wildcard: true,
      index: false,
      list: false,
      dotfiles: 'deny',
      cacheControl: false,
      decorateReply: false,
      preCompressed: true,
      setHeaders: (reply) => {
        reply.header('Cache-Control', 'public, max-age=31536000, immutable');
        reply.header('X-Content-Type-Options', 'nosniff');
      },
    });
  } else {
    app.get('/assets/*', async (_req, reply) => reply.code(503).type('text/plain; charset=utf-8').header('Cache-Control', 'no-store').send(NOT_BUILT));
  }
}
