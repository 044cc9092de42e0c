// The one OCI distribution (/v2) HTTP client every registry adapter sits on. Every connection goes through the
// OutboundGuard's lookup (the socket reaches exactly the checked address, at every request — not only at save),
// redirects are followed only for GET/HEAD, at most 3, each hop re-checked by the same lookup and without our
// Authorization header when the origin changes (a blob redirect to object storage must not see the credential).
// Auth: Basic, or the Docker token flow — a 401 with `WWW-Authenticate: Bearer realm,service,scope` makes us fetch a
// token from the realm with the credential and retry; tokens are cached per scope until they expire. Bodies are
// streams: blobs are never buffered (bounded memory); only manifests and JSON are read, with a byte cap.
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { Readable } from 'node:stream';
import type { OutboundGuard } from '../http/outbound-guard.ts';

export interface RemoteCredential {
  /** Harbor's credential types: basic (username/password), oauth (a token, or a key/secret for the token service), secret. */
  type: string;
  accessKey: string;
  accessSecret: string;
}

export interface DistributionClientOptions {
  /** Base URL of the registry (scheme, host, optional port; a path prefix is kept). */
  url: string;
  credential?: RemoteCredential | null;
  /** Skip TLS verification (Harbor's `insecure`). */
  insecure?: boolean;
  /** PEM CA bundle trusted for this endpoint (in addition to none: it replaces the system roots, as Go's RootCAs). */
  caCertificate?: string;
  guard: OutboundGuard;
  /** An in-process token source (the local registry: tokens signed by this Berth, no password anywhere). */
  tokenFor?: (scope: string) => Promise<string>;
  /** Connect + response headers, ms. */
  timeoutMs?: number;
  /** Socket idle while streaming a body, ms. */
  idleTimeoutMs?: number;
}

/** A non-success answer of the remote, with its OCI error code when it sent one. Never carries credentials. */
export class RemoteRegistryError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.name = 'RemoteRegistryError';
    this.status = status;
    this.code = code;
  }
}

export interface RemoteResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body stream; consume or `destroy()` it. */
  body: IncomingMessage;
}

export interface SendOptions {
  headers?: Record<string, string>;
  /** A Buffer, or a stream sent as is (never retried: the caller warms the token for `scope` first). */
  body?: Buffer | Readable;
  /** Token scope(s) the request needs, e.g. `repository:library/alpine:pull`. */
  scope?: string;
  /** Statuses the caller handles (others become RemoteRegistryError). */
  ok?: readonly number[];
  /** Always Basic (Harbor's /api/v2.0 takes no registry token). */
  basic?: boolean;
}

interface Challenge {
  realm: string;
  service?: string;
  scope?: string;
}

const MAX_JSON = 16 * 1024 * 1024;
const MAX_REDIRECTS = 3;

export function parseBearerChallenge(header: string | undefined): Challenge | null {
  if (!header || !/^bearer\s/i.test(header)) return null;
  const out: Record<string, string> = {};
  for (const m of header.slice(7).matchAll(/([a-zA-Z_]+)\s*=\s*"([^"]*)"/g)) out[m[1]!.toLowerCase()] = m[2]!;
  return out.realm ? { realm: out.realm, service: out.service, scope: out.scope } : null;
}

/** Reads a stream up to `max` bytes (more is an error: a remote cannot make us buffer without bound). */
export async function readCapped(body: Readable, max = MAX_JSON): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of body as AsyncIterable<Buffer>) {
    size += c.length;
    if (size > max) {
      body.destroy();
      throw new RemoteRegistryError(0, 'SIZE_INVALID', `response body exceeds ${max} bytes`);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

export class DistributionClient {
  readonly base: URL;
  private readonly o: DistributionClientOptions;
  private readonly agent: HttpAgent | HttpsAgent;
  private readonly tokens = new Map<string, { token: string; expires: number }>();
  /** The token service learned from the first challenge (so later requests can fetch a token up front). */
  private challenge: Challenge | null = null;

  constructor(o: DistributionClientOptions) {
    this.o = o;
    this.base = new URL(o.url.replace(/\/+$/, ''));
    if (this.base.protocol !== 'http:' && this.base.protocol !== 'https:') throw new Error(`unsupported URL scheme ${this.base.protocol}`);
    // Keep-alive per endpoint: a pooled socket was connected to an address the guard's lookup checked.
    const common = { keepAlive: true, maxSockets: 16 };
    this.agent =
      this.base.protocol === 'https:'
        ? new HttpsAgent({ ...common, rejectUnauthorized: !o.insecure, ...(o.caCertificate ? { ca: o.caCertificate } : {}) })
        : new HttpAgent(common);
  }

  close(): void {
    this.agent.destroy();
  }

  /** `/v2/...` or any path on the endpoint, resolved against the base (keeping a base path prefix). */
  urlOf(path: string): URL {
    if (/^https?:\/\//i.test(path)) return new URL(path);
    const prefix = this.base.pathname.replace(/\/+$/, '');
    return new URL(`${this.base.origin}${prefix}${path.startsWith('/') ? '' : '/'}${path}`);
  }

  private basicHeader(): string | null {
    const c = this.o.credential;
    if (!c || (!c.accessKey && !c.accessSecret)) return null;
    return `Basic ${Buffer.from(`${c.accessKey}:${c.accessSecret}`).toString('base64')}`;
  }

  private cachedToken(scope: string): string | null {
    const t = this.tokens.get(scope);
    if (t && t.expires > Date.now()) return t.token;
    if (t) this.tokens.delete(scope);
    return null;
  }

  /** Fetches a token for `scope` from the challenge's realm with the credential (GET, as docker does). */
  private async fetchToken(ch: Challenge, scope: string): Promise<string> {
    const u = new URL(ch.realm);
    if (ch.service) u.searchParams.set('service', ch.service);
    for (const s of scope.split(' ').filter(Boolean)) u.searchParams.append('scope', s);
    const headers: Record<string, string> = { accept: 'application/json' };
    const basic = this.basicHeader();
    if (basic) headers.authorization = basic;
    const res = await this.raw('GET', u, headers, undefined, 0);
    const text = (await readCapped(res.body, 1024 * 1024)).toString('utf8');
    if (res.status !== 200) throw new RemoteRegistryError(res.status, res.status === 401 ? 'UNAUTHORIZED' : 'TOKEN', `token service answered ${res.status}`);
    let j: { token?: string; access_token?: string; expires_in?: number };
    try {
      j = JSON.parse(text) as typeof j;
    } catch {
      throw new RemoteRegistryError(res.status, 'TOKEN', 'token service answered no JSON');
    }
    const token = j.token || j.access_token;
    if (!token) throw new RemoteRegistryError(res.status, 'TOKEN', 'token service answered no token');
    // Docker's default lifetime is 60 s; renew 10 s early so a token does not expire mid-request.
    const ttl = Math.max(5, (typeof j.expires_in === 'number' && j.expires_in > 0 ? j.expires_in : 60) - 10);
    this.tokens.set(scope, { token, expires: Date.now() + ttl * 1000 });
    return token;
  }

  private authorizationFor(scope: string): string | null {
    const cached = this.challenge ? this.cachedToken(scope) : null;
    if (cached) return `Bearer ${cached}`;
    // An oauth credential without a token service is itself the bearer token.
    if (!this.challenge && this.o.credential?.type === 'oauth' && !this.o.credential.accessKey && this.o.credential.accessSecret)
      return `Bearer ${this.o.credential.accessSecret}`;
    return this.challenge ? null : this.basicHeader();
  }

  /**
   * Makes sure a token for `scope` is cached when the remote uses the token flow, so a streamed body (which cannot
   * be re-sent after a 401) goes out authorized the first time.
   */
  async warm(scope: string): Promise<void> {
    if (this.o.tokenFor) return;
    if (this.challenge && !this.cachedToken(scope)) await this.fetchToken(this.challenge, scope);
  }

  /** One request with auth (retried once after a Bearer challenge when the body can be re-sent). */
  async send(method: string, path: string, opts: SendOptions = {}): Promise<RemoteResponse> {
    const scope = opts.scope ?? '';
    const url = this.urlOf(path);
    const own = this.o.tokenFor && !opts.basic ? `Bearer ${await this.o.tokenFor(scope)}` : null;
    const build = () => {
      const h: Record<string, string> = { ...(opts.headers ?? {}) };
      const a = own ?? (opts.basic ? this.basicHeader() : this.authorizationFor(scope));
      if (a) h.authorization = a;
      return h;
    };
    let res = await this.raw(method, url, build(), opts.body, method === 'GET' || method === 'HEAD' ? MAX_REDIRECTS : 0);
    if (res.status === 401 && !opts.basic && !own) {
      const ch = parseBearerChallenge(String(res.headers['www-authenticate'] ?? ''));
      const resendable = !(opts.body instanceof Readable);
      if (ch && resendable) {
        res.body.resume();
        this.challenge = { realm: ch.realm, service: ch.service };
        // Our scope and the one the remote asked for (Distribution names exactly what it wants).
        const want = [...new Set([...scope.split(' '), ...(ch.scope ?? '').split(' ')].filter(Boolean))].join(' ');
        const token = await this.fetchToken(this.challenge, want);
        if (want !== scope) this.tokens.set(scope, this.tokens.get(want)!);
        res = await this.raw(method, url, { ...(opts.headers ?? {}), authorization: `Bearer ${token}` }, opts.body, method === 'GET' || method === 'HEAD' ? MAX_REDIRECTS : 0);
      }
    }
    if (opts.ok && !opts.ok.includes(res.status)) throw await errorOf(method, url, res);
    return res;
  }

  /** GET a JSON document (capped). */
  async json<T>(path: string, scope?: string, basic = false): Promise<{ body: T; headers: IncomingHttpHeaders }> {
    const res = await this.send('GET', path, { scope, basic, headers: { accept: 'application/json' }, ok: [200] });
    const buf = await readCapped(res.body);
    try {
      return { body: JSON.parse(buf.toString('utf8')) as T, headers: res.headers };
    } catch {
      throw new RemoteRegistryError(res.status, 'INVALID_JSON', `GET ${path}: the answer is not JSON`);
    }
  }

  private raw(method: string, url: URL, headers: Record<string, string>, body: Buffer | Readable | undefined, redirects: number): Promise<RemoteResponse> {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error(`unsupported URL scheme ${url.protocol}`));
    const timeoutMs = this.o.timeoutMs ?? 30_000;
    const host = url.hostname.replace(/^\[|\]$/g, '');
    try {
      this.o.guard.checkLiteral(host);
    } catch (e) {
      return Promise.reject(e as Error);
    }
    const h: Record<string, string> = { 'user-agent': 'berth-replication', ...headers };
    if (Buffer.isBuffer(body)) h['content-length'] = String(body.length);
    const sameOrigin = url.origin === this.base.origin;
    return new Promise<RemoteResponse>((resolve, reject) => {
      let settled = false;
      const fail = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.destroy();
        reject(e);
      };
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
        {
          method,
          host,
          port: url.port || undefined,
          path: `${url.pathname}${url.search}`,
          headers: h,
          lookup: this.o.guard.lookup,
          // Another origin (a redirect target) gets a one-off connection with the endpoint's TLS settings.
          agent: sameOrigin ? this.agent : false,
          ...(url.protocol === 'https:'
            ? { rejectUnauthorized: !this.o.insecure, ...(this.o.caCertificate ? { ca: this.o.caCertificate } : {}), ...(isIP(host) ? {} : { servername: host }) }
            : {}),
        },
        (res) => {
          if (settled) return res.destroy();
          settled = true;
          clearTimeout(timer);
          res.setTimeout(this.o.idleTimeoutMs ?? 60_000, () => res.destroy(new Error('remote registry: body stalled')));
          const loc = res.headers.location;
          if (redirects > 0 && [301, 302, 303, 307, 308].includes(res.statusCode ?? 0) && loc) {
            res.resume();
            const next = new URL(loc, url);
            const nh = { ...headers };
            if (next.origin !== url.origin) delete nh.authorization;
            this.raw(method, next, nh, undefined, redirects - 1).then(resolve, reject);
            return;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res });
        },
      );
      const timer = setTimeout(() => fail(new RemoteRegistryError(0, 'TIMEOUT', `${method} ${url.host}: no answer within ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (e) => fail(e));
      if (body instanceof Readable) {
        body.on('error', (e) => fail(e));
        body.pipe(req);
      } else req.end(body);
    });
  }
}

async function errorOf(method: string, url: URL, res: RemoteResponse): Promise<RemoteRegistryError> {
  let code = res.status === 404 ? 'NOT_FOUND' : res.status === 401 ? 'UNAUTHORIZED' : res.status === 403 ? 'DENIED' : 'UNKNOWN';
  let message = '';
  if (method !== 'HEAD') {
    try {
      const text = (await readCapped(res.body, 64 * 1024)).toString('utf8');
      const j = JSON.parse(text) as { errors?: { code?: string; message?: string }[] };
      if (j.errors?.[0]) {
        code = String(j.errors[0].code ?? code);
        message = String(j.errors[0].message ?? '').slice(0, 300);
      }
    } catch {
      /* not an OCI error body */
    }
  } else res.body.resume();
  return new RemoteRegistryError(res.status, code, `${method} ${url.pathname}: ${res.status} ${code}${message ? `: ${message}` : ''}`);
}
