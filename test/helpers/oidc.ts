// A real OIDC provider for the OIDC tests (the `oidc-provider` package, its development login and consent pages),
// on a loopback port, with one client registered for Berth and users with a groups claim; plus a cookie-keeping
// HTTP "browser" that walks the login through those pages without Chromium, and a deliberately broken provider.
import { createServer, type Server } from 'node:http';
import { createSign, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

export interface OidcAccount {
  name: string;
  email: string;
  groups: string[];
  preferred_username?: string;
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, OidcAccount>;
  /** Access token lifetime for the next logins and refreshes, seconds. */
  setAccessTtl(s: number): void;
  stop(): Promise<void>;
}

/** The `/configurations` keys that point Berth at a test provider; tests add the ones they exercise. */
export const oidcSettings = (p: TestProvider) => ({
  oidc_name: 'TestIdP',
  oidc_endpoint: p.issuer,
  oidc_client_id: p.clientId,
  oidc_client_secret: p.clientSecret,
  oidc_groups_claim: 'groups',
  oidc_scope: 'openid,profile,email,groups,offline_access',
});

const listen = (server: Server) => new Promise<number>((res) => server.listen(0, '127.0.0.1', () => res((server.address() as AddressInfo).port)));

/** Starts oidc-provider with a client whose redirect URI is Berth's callback. */
export async function startProvider(berthUrl: string, accounts: Record<string, OidcAccount>): Promise<TestProvider> {
  const server = createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const clientId = 'berth';
  const clientSecret = 'berth-client-secret-' + randomBytes(8).toString('hex');
  const accountMap = new Map(Object.entries(accounts));
  let accessTtl = 3600;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [`${berthUrl}/c/oidc/callback`],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    async findAccount(_ctx, id) {
      const a = accountMap.get(id);
      if (!a) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, ...a }) };
    },
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'], email: ['email'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'profile', 'email', 'groups'],
    ttl: { AccessToken: () => accessTtl, IdToken: 3600, RefreshToken: 86400, Interaction: 600, Session: 3600, Grant: 86400 },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    // Refresh tokens for offline_access without a consent prompt in the authorization URL being required.
    issueRefreshToken: async (_ctx, client, code) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
  });
  // The development interactions warn on every start; they are what the test wants.
  provider.on('server_error', (_ctx, err) => process.stderr.write(`oidc-provider: ${err}\n`));
  server.on('request', provider.callback());
  return {
    issuer,
    clientId,
    clientSecret,
    accounts: accountMap,
    setAccessTtl: (s) => (accessTtl = s),
    stop: () => new Promise<void>((res) => { server.closeAllConnections(); server.close(() => res()); }),
  };
}

/** A fetch with a cookie jar and manual redirects, enough to walk the provider's login and consent forms. */
export class HttpBrowser {
  private readonly jar = new Map<string, Map<string, string>>();
  private cookieHeader(url: URL): string {
    return [...(this.jar.get(url.host) ?? new Map())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  private keep(url: URL, r: Response): void {
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const m = this.jar.get(url.host) ?? new Map<string, string>();
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '') m.delete(name);
      else m.set(name, value);
      this.jar.set(url.host, m);
    }
  }
  cookie(host: string, name: string): string | undefined {
    return this.jar.get(host)?.get(name);
  }
  setCookie(host: string, name: string, value: string): void {
    const m = this.jar.get(host) ?? new Map<string, string>();
    m.set(name, value);
    this.jar.set(host, m);
  }
  async request(method: string, url: string, body?: URLSearchParams | string, headers: Record<string, string> = {}): Promise<Response> {
    const u = new URL(url);
    const h: Record<string, string> = { ...headers };
    const c = this.cookieHeader(u);
    if (c) h.cookie = c;
    if (body instanceof URLSearchParams) h['content-type'] = 'application/x-www-form-urlencoded';
    const r = await fetch(u, { method, headers: h, body: body === undefined ? undefined : String(body), redirect: 'manual' });
    this.keep(u, r);
    return r;
  }
  /** GETs and follows redirects until a response that is not one, or one to `stopAt` (returned unfollowed). */
  async follow(url: string, stopAt?: (u: URL) => boolean): Promise<{ url: string; response: Response }> {
    let current = url;
    for (let i = 0; i < 20; i++) {
      const r = await this.request('GET', current);
      const loc = r.headers.get('location');
      if (r.status < 300 || r.status >= 400 || !loc) return { url: current, response: r };
      const next = new URL(loc, current);
      await r.arrayBuffer();
      if (stopAt?.(next)) return { url: next.href, response: r };
      current = next.href;
    }
    throw new Error('too many redirects');
  }
  /** Submits the page's first form with these fields; follows the redirects like follow(). */
  async submit(pageUrl: string, html: string, fields: Record<string, string>, stopAt?: (u: URL) => boolean): Promise<{ url: string; response: Response }> {
    const m = /<form[^>]*action="([^"]+)"[^>]*method="post"/i.exec(html);
    if (!m) throw new Error(`no form in page ${pageUrl}:\n${html.slice(0, 2000)}`);
    const action = new URL(m[1].replaceAll('&amp;', '&'), pageUrl).href;
    const hidden = Object.fromEntries([...html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    const r = await this.request('POST', action, new URLSearchParams({ ...hidden, ...fields }));
    const loc = r.headers.get('location');
    if (r.status >= 300 && r.status < 400 && loc) {
      const next = new URL(loc, action);
      await r.arrayBuffer();
      if (stopAt?.(next)) return { url: next.href, response: r };
      return this.follow(next.href, stopAt);
    }
    return { url: action, response: r };
  }
}

/**
 * Logs in through Berth's /c/oidc/login and the provider's login and consent pages; returns the final response
 * from Berth (the callback's redirect, not followed) and its URL.
 */
export async function oidcLogin(b: HttpBrowser, berthUrl: string, login: string, redirectUrl = ''): Promise<{ callback: Response; location: string }> {
  const berthHost = new URL(berthUrl).host;
  const isCallback = (u: URL) => u.host === berthHost && u.pathname === '/c/oidc/callback';
  let step = await b.follow(`${berthUrl}/c/oidc/login${redirectUrl ? `?redirect_url=${encodeURIComponent(redirectUrl)}` : ''}`, isCallback);
  for (let i = 0; i < 4 && !isCallback(new URL(step.url)); i++) {
    const html = await step.response.text();
    if (step.response.status !== 200) throw new Error(`provider page ${step.url}: ${step.response.status} ${html.slice(0, 500)}`);
    step = html.includes('name="login"') ? await b.submit(step.url, html, { login, password: 'any' }, isCallback) : await b.submit(step.url, html, {}, isCallback);
  }
  const callback = await b.request('GET', step.url);
  return { callback, location: callback.headers.get('location') ?? '' };
}

// ---- a provider that misbehaves on purpose: wrong issuer, bad signature, wrong nonce

export type BrokenMode = 'wrong-issuer' | 'bad-signature' | 'wrong-nonce' | 'error';

const b64url = (v: Buffer | string) => Buffer.from(v).toString('base64url');
function signJwt(payload: Record<string, unknown>, key: KeyObject, kid: string): string {
  const head = b64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid }));
  const body = b64url(JSON.stringify(payload));
  const sig = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key);
  return `${head}.${body}.${b64url(sig)}`;
}

/** A hand-written provider whose authorize endpoint answers at once and whose token endpoint returns a broken ID token. */
export async function startBrokenProvider(mode: BrokenMode): Promise<{ issuer: string; setMode(m: BrokenMode): void; stop(): Promise<void> }> {
  const published = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const other = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const nonces = new Map<string, string>();
  let current = mode;
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', issuer);
    const json = (v: unknown, status = 200) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(v));
    };
    if (url.pathname === '/.well-known/openid-configuration') {
      return json({
        issuer: current === 'wrong-issuer' ? 'https://evil.example.com' : issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
      });
    }
    if (url.pathname === '/jwks') return json({ keys: [{ ...published.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' }] });
    if (url.pathname === '/authorize') {
      const code = randomBytes(8).toString('hex');
      nonces.set(code, url.searchParams.get('nonce') ?? '');
      const back = new URL(url.searchParams.get('redirect_uri')!);
      if (current === 'error') {
        back.searchParams.set('error', 'access_denied');
        back.searchParams.set('error_description', 'the user said no');
      } else back.searchParams.set('code', code);
      back.searchParams.set('state', url.searchParams.get('state') ?? '');
      res.writeHead(302, { location: back.href });
      return res.end();
    }
    if (url.pathname === '/token' && req.method === 'POST') {
      let body = '';
      for await (const c of req) body += c;
      const code = new URLSearchParams(body).get('code') ?? '';
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        iss: issuer,
        sub: 'mallory',
        aud: 'berth',
        iat: now,
        exp: now + 600,
        nonce: current === 'wrong-nonce' ? 'not-the-nonce' : nonces.get(code),
        name: 'mallory',
      };
      const key = current === 'bad-signature' ? other.privateKey : published.privateKey;
      return json({ access_token: 'at-' + code, token_type: 'Bearer', expires_in: 600, id_token: signJwt(claims, key, 'k1') });
    }
    json({ error: 'not_found' }, 404);
  });
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  return {
    issuer,
    setMode: (m) => (current = m),
    stop: () => new Promise<void>((res) => { server.closeAllConnections(); server.close(() => res()); }),
  };
}
