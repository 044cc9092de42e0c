// A small typed OCI distribution client on global fetch, for end-to-end tests, client emulation and benchmarks.
// It speaks the registry protocol the way real clients do:
//   - token mode (default): like docker/containerd, requests carry a Bearer token for the scope derived from the
//     path (cached per scope); the realm and service come from the `WWW-Authenticate` challenge of `GET /v2/`,
//     and the token is fetched from the realm with Basic credentials (or anonymously);
//   - basic mode: `Authorization: Basic` on every request;
//   - none: never any credentials.
// Every response (and a token response) is recorded in `responseLog`, so a test file can assert at the end that
// no request got a 5xx (`assertNoServerErrors()`).
//
//   const c = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
//   const { digest } = await c.pushBlob('library/app', bytes, { method: 'stream' });   // or monolithic/post-put/chunked
//   await c.pushImage('library/app', 'v1', { layers: 2 });
//   const m = await c.getManifest('library/app', 'v1');           // RegistryResponse: status, headers, body (Buffer)
//   const r = await c.request('PATCH', location, { body, headers: { 'content-range': '0-99' } });  // anything else
//   const anon = c.with({ username: undefined });                  // anonymous tokens; c.with({ auth: 'basic' }) for Basic
//
// Helpers that can fail (pushBlob, pushManifest, pushImage, openSession) throw with the whole response on any
// unexpected status; `request`/`putManifest`/`getBlob`… return the response for the test to judge. Responses are
// buffered; use `fetchAuthed` for a streaming Response (large blobs, benchmarks). `rawHttp` sends a path
// byte-for-byte (fetch normalises `..`).
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';

export type AuthMode = 'token' | 'basic' | 'none';
export type HashAlgorithm = 'sha256' | 'sha512';

export interface ClientOptions {
  /** e.g. http://127.0.0.1:5000 (no trailing slash needed). */
  baseUrl: string;
  username?: string;
  password?: string;
  /** Default 'token'. With no username the token mode asks for anonymous tokens. */
  auth?: AuthMode;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** A buffer or string is replayable; a stream is sent with `Transfer-Encoding: chunked` (no Content-Length). */
  body?: Uint8Array | string | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;
  /** Token scopes to use instead of the ones derived from the path (token mode). */
  scopes?: string[];
  /** false: send no credentials at all, whatever the mode. */
  auth?: boolean;
  signal?: AbortSignal;
}

/** What was sent and what came back, for the 5xx check and for debugging failures. */
export interface LoggedResponse {
  method: string;
  url: string;
  status: number;
}

/** Every response seen by any client in this process (one test file = one process under `node --test`). */
export const responseLog: LoggedResponse[] = [];

/** Throws when any recorded response was a 5xx. Call it in an `after` hook. */
export function assertNoServerErrors(): void {
  const bad = responseLog.filter((r) => r.status >= 500);
  if (bad.length) throw new Error(`server errors:\n${bad.map((r) => `${r.status} ${r.method} ${r.url}`).join('\n')}`);
}

/** A fully read response. */
export class RegistryResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly url: string;
  constructor(status: number, headers: Headers, body: Buffer, url: string) {
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.url = url;
  }
  header(name: string): string | null {
    return this.headers.get(name);
  }
  text(): string {
    return this.body.toString('utf8');
  }
  json<T = any>(): T {
    return JSON.parse(this.text()) as T;
  }
  /** OCI error codes of an error body (`{"errors":[{code,...}]}`), [] when the body is not one. */
  errorCodes(): string[] {
    try {
      const j = this.json<{ errors?: { code: string }[] }>();
      return Array.isArray(j.errors) ? j.errors.map((e) => e.code) : [];
    } catch {
      return [];
    }
  }
  /** Parameters of a `WWW-Authenticate` challenge: {scheme, realm, service, scope, error}. */
  challenge(): Challenge | null {
    const h = this.header('www-authenticate');
    return h ? parseChallenge(h) : null;
  }
  toString(): string {
    return `${this.status} ${this.url}\n${[...this.headers].map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${this.text().slice(0, 2000)}`;
  }
}

export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** Parses `Bearer realm="...",service="...",scope="a b",error="..."` (quoted or token values). */
export function parseChallenge(header: string): Challenge {
  const m = /^\s*(\S+)\s*(.*)$/s.exec(header)!;
  const params: Record<string, string> = {};
  const re = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?\s*/gy;
  let p: RegExpExecArray | null;
  re.lastIndex = 0;
  const rest = m[2];
  while (re.lastIndex < rest.length && (p = re.exec(rest))) params[p[1].toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3];
  return { scheme: m[1].toLowerCase(), params };
}

export interface Digested {
  digest: string;
  size: number;
}

export const digestOf = (data: Uint8Array | string, alg: HashAlgorithm = 'sha256'): string =>
  `${alg}:${createHash(alg).update(data).digest('hex')}`;

export const randomBlob = (size: number): Buffer => randomBytes(size);

export const MediaTypes = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciEmpty: 'application/vnd.oci.empty.v1+json',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerForeignLayer: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

/** How pushBlob sends the bytes, one per pattern real clients use (see research/anchors.md §3). */
export type PushMethod =
  /** POST ?digest= with the whole body (201 straight away). */
  | 'monolithic'
  /** POST, then PUT ?digest= with the whole body (containerd, oras). */
  | 'post-put'
  /** POST, one PATCH streamed with Transfer-Encoding: chunked and no Content-Length, PUT with no body (docker). */
  | 'stream'
  /** POST, PATCHes of `chunkSize` with Content-Range, PUT with no body (regctl). */
  | 'chunked';

export interface PushBlobOptions {
  method?: PushMethod;
  chunkSize?: number;
  algorithm?: HashAlgorithm;
}

// The repository name in a /v2 path, as the server routes it.
const REPO_PATH = /^\/v2\/(.+)\/(?:blobs\/uploads\/?(?:[^/]+)?|blobs\/[^/]+|manifests\/[^/]+|tags\/list|referrers\/[^/]+)$/;

/** The token scopes a request needs, derived from its method and path (docker's and containerd's logic). */
export function scopesFor(method: string, url: URL): string[] {
  const path = url.pathname;
  if (path === '/v2/_catalog') return ['registry:catalog:*'];
  let name: string;
  try {
    const m = REPO_PATH.exec(decodeURIComponent(path));
    if (!m) return [];
    name = m[1];
  } catch {
    return [];
  }
  const isUpload = /\/blobs\/uploads\//.test(path + '/');
  const actions = method === 'GET' || method === 'HEAD' ? 'pull' : method === 'DELETE' && !isUpload ? 'delete' : 'pull,push';
  const scopes = [`repository:${name}:${actions}`];
  const from = url.searchParams.get('from');
  if (method === 'POST' && from) scopes.push(`repository:${from}:pull`);
  return scopes;
}

function isReplayable(body: RequestOptions['body']): body is Uint8Array | string | undefined {
  return body === undefined || typeof body === 'string' || body instanceof Uint8Array;
}

function toStream(body: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const it = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      const { value, done } = await it.next();
      if (done) ctrl.close();
      else ctrl.enqueue(value);
    },
    async cancel() {
      await it.return?.();
    },
  });
}

export class RegistryClient {
  readonly baseUrl: string;
  readonly mode: AuthMode;
  readonly username: string | undefined;
  readonly password: string | undefined;
  private realm: { realm: string; service: string } | null = null;
  private readonly tokens = new Map<string, string>();

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.username = opts.username;
    this.password = opts.password;
    this.mode = opts.auth ?? 'token';
  }

  /** A client for the same registry with other credentials (or anonymous) and/or another mode. */
  with(opts: Partial<Omit<ClientOptions, 'baseUrl'>>): RegistryClient {
    return new RegistryClient({ baseUrl: this.baseUrl, username: this.username, password: this.password, auth: this.mode, ...opts });
  }

  basicHeader(username = this.username, password = this.password): string {
    return 'Basic ' + Buffer.from(`${username}:${password}`).toString('base64');
  }

  /** Resolves a path or a (possibly relative) Location against the registry. */
  url(pathOrUrl: string): URL {
    return new URL(pathOrUrl, this.baseUrl + '/');
  }

  // ---- token service --------------------------------------------------------------------------------------

  /** The realm and service from the anonymous challenge of `GET /v2/` (docker's "ping"). */
  async discoverRealm(): Promise<{ realm: string; service: string }> {
    if (this.realm) return this.realm;
    const r = await this.request('GET', '/v2/', { auth: false });
    const c = r.challenge();
    if (r.status !== 401 || !c || c.scheme !== 'bearer') throw new Error(`GET /v2/ did not answer a Bearer challenge:\n${r}`);
    this.realm = { realm: c.params.realm, service: c.params.service };
    return this.realm;
  }

  /** GETs a token from the realm (Basic credentials if any); the raw response, not cached. */
  async tokenResponse(scopes: string[], opts: { service?: string; basic?: string | null } = {}): Promise<RegistryResponse> {
    const { realm, service } = await this.discoverRealm();
    const u = new URL(realm);
    u.searchParams.set('service', opts.service ?? service);
    for (const s of scopes) u.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    const basic = opts.basic !== undefined ? opts.basic : this.username ? this.basicHeader() : null;
    if (basic) headers.authorization = basic;
    return this.send('GET', u, { headers, auth: false });
  }

  /** POSTs the OAuth2 password grant (containerd's way); the raw response. */
  async tokenPasswordGrant(scopes: string[], username = this.username ?? '', password = this.password ?? '', service?: string): Promise<RegistryResponse> {
    const { realm, service: svc } = await this.discoverRealm();
    const form = new URLSearchParams({ grant_type: 'password', username, password, service: service ?? svc, client_id: 'berth-tests' });
    if (scopes.length) form.set('scope', scopes.join(' '));
    return this.send('POST', new URL(realm), {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
      auth: false,
    });
  }

  /** A token for these scopes, cached per scope set. */
  async token(scopes: string[]): Promise<string> {
    const key = [...scopes].sort().join(' ');
    const hit = this.tokens.get(key);
    if (hit) return hit;
    const r = await this.tokenResponse(scopes);
    if (r.status !== 200) throw new Error(`token request for ${key || '(no scope)'} failed:\n${r}`);
    const t = r.json<{ token?: string; access_token?: string }>();
    const token = t.token ?? t.access_token;
    if (!token) throw new Error(`token response without a token:\n${r}`);
    this.tokens.set(key, token);
    return token;
  }

  clearTokens(): void {
    this.tokens.clear();
  }

  // ---- requests --------------------------------------------------------------------------------------------

  /** Sends one request with this client's credentials and reads the whole response. */
  async request(method: string, pathOrUrl: string, opts: RequestOptions = {}): Promise<RegistryResponse> {
    const url = this.url(pathOrUrl);
    const useAuth = opts.auth !== false && this.mode !== 'none' && !hasHeader(opts.headers, 'authorization');
    if (!useAuth) return this.send(method, url, opts);
    if (this.mode === 'basic') return this.send(method, url, { ...opts, headers: { ...opts.headers, authorization: this.basicHeader() } });
    const scopes = opts.scopes ?? scopesFor(method, url);
    if (scopes.length === 0 && !this.username) {
      // Anonymous with nothing to ask for (GET /v2/): no token to get, send as is.
      return this.send(method, url, opts);
    }
    const token = await this.token(scopes);
    const r = await this.send(method, url, { ...opts, headers: { ...opts.headers, authorization: `Bearer ${token}` } });
    // A challenge for another scope than we guessed: fetch that token and retry once, when the body allows it.
    const c = r.status === 401 ? r.challenge() : null;
    if (c && c.scheme === 'bearer' && c.params.scope && !c.params.error && isReplayable(opts.body) && !opts.scopes) {
      const t2 = await this.token(c.params.scope.split(' '));
      return this.send(method, url, { ...opts, headers: { ...opts.headers, authorization: `Bearer ${t2}` } });
    }
    return r;
  }

  /** One fetch, no auth logic, no redirects followed; records the status. */
  async send(method: string, url: URL | string, opts: RequestOptions = {}): Promise<RegistryResponse> {
    const res = await this.fetchRaw(method, url, opts);
    const body = Buffer.from(await res.arrayBuffer());
    return new RegistryResponse(res.status, res.headers, body, String(url));
  }

  /** The unread fetch Response (for streaming large bodies, e.g. in benchmarks); the status is recorded. */
  async fetchRaw(method: string, url: URL | string, opts: RequestOptions = {}): Promise<Response> {
    const u = typeof url === 'string' ? this.url(url) : url;
    let body: NonNullable<RequestInit["body"]> | undefined;
    let duplex: 'half' | undefined;
    if (opts.body === undefined || typeof opts.body === 'string' || opts.body instanceof Uint8Array) body = opts.body as NonNullable<RequestInit["body"]> | undefined;
    else {
      body = (opts.body instanceof ReadableStream ? opts.body : toStream(opts.body)) as NonNullable<RequestInit["body"]>;
      duplex = 'half';
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers: opts.headers, body, redirect: 'manual', signal: opts.signal };
    if (duplex) init.duplex = duplex;
    const res = await fetch(u, init);
    responseLog.push({ method, url: u.pathname + u.search, status: res.status });
    return res;
  }

  /** fetchRaw with this client's credentials (token mode derives the scope from the path). */
  async fetchAuthed(method: string, pathOrUrl: string, opts: RequestOptions = {}): Promise<Response> {
    const url = this.url(pathOrUrl);
    const headers = { ...opts.headers };
    if (opts.auth !== false && this.mode === 'basic') headers.authorization = this.basicHeader();
    else if (opts.auth !== false && this.mode === 'token') headers.authorization = `Bearer ${await this.token(opts.scopes ?? scopesFor(method, url))}`;
    return this.fetchRaw(method, url, { ...opts, headers });
  }

  // ---- blobs -----------------------------------------------------------------------------------------------

  headBlob(repo: string, digest: string, opts: RequestOptions = {}): Promise<RegistryResponse> {
    return this.request('HEAD', `/v2/${repo}/blobs/${digest}`, opts);
  }

  getBlob(repo: string, digest: string, opts: RequestOptions = {}): Promise<RegistryResponse> {
    return this.request('GET', `/v2/${repo}/blobs/${digest}`, opts);
  }

  /** POST /v2/<repo>/blobs/uploads/ with optional query parameters. */
  startUpload(repo: string, query: Record<string, string> = {}, opts: RequestOptions = {}): Promise<RegistryResponse> {
    const qs = new URLSearchParams(query).toString();
    return this.request('POST', `/v2/${repo}/blobs/uploads/${qs ? '?' + qs : ''}`, opts);
  }

  /** Opens an upload session and returns its absolute Location. Throws unless 202. */
  async openSession(repo: string, query: Record<string, string> = {}): Promise<URL> {
    const r = await this.startUpload(repo, query);
    if (r.status !== 202 || !r.header('location')) throw new Error(`upload start failed:\n${r}`);
    return this.url(r.header('location')!);
  }

  /** Adds query parameters to an upload Location (which may already have some). */
  static withQuery(location: URL | string, query: Record<string, string>): string {
    const u = new URL(String(location));
    for (const [k, v] of Object.entries(query)) u.searchParams.append(k, v);
    return u.toString();
  }

  /**
   * Pushes a blob with one of the client patterns; throws unless every step answers as the spec says.
   * Returns the digest and size.
   */
  async pushBlob(repo: string, data: Uint8Array, opts: PushBlobOptions = {}): Promise<Digested & { location: string }> {
    const alg = opts.algorithm ?? 'sha256';
    const digest = digestOf(data, alg);
    const method = opts.method ?? 'post-put';
    const expect = (r: RegistryResponse, status: number, what: string) => {
      if (r.status !== status) throw new Error(`${what}: expected ${status}\n${r}`);
      return r;
    };
    let done: RegistryResponse;
    if (method === 'monolithic') {
      done = expect(
        await this.startUpload(repo, { digest }, { body: data, headers: { 'content-type': 'application/octet-stream' } }),
        201,
        'monolithic POST',
      );
    } else {
      const loc = await this.openSession(repo, alg === 'sha256' ? {} : { 'digest-algorithm': alg });
      if (method === 'post-put') {
        done = expect(
          await this.request('PUT', RegistryClient.withQuery(loc, { digest }), { body: data, headers: { 'content-type': 'application/octet-stream' } }),
          201,
          'PUT',
        );
      } else {
        let at = this.url(loc.toString());
        if (method === 'stream') {
          const chunks = async function* () {
            for (let i = 0; i < data.length; i += 64 * 1024) yield data.subarray(i, i + 64 * 1024);
          };
          const p = expect(await this.request('PATCH', at.toString(), { body: chunks(), headers: { 'content-type': 'application/octet-stream' } }), 202, 'streamed PATCH');
          at = this.url(p.header('location')!);
        } else {
          const size = opts.chunkSize ?? 1024 * 1024;
          for (let off = 0; off < data.length; off += size) {
            const part = data.subarray(off, Math.min(off + size, data.length));
            const p = expect(
              await this.request('PATCH', at.toString(), {
                body: part,
                headers: {
                  'content-type': 'application/octet-stream',
                  'content-range': `${off}-${off + part.length - 1}`,
                },
              }),
              202,
              `chunk at ${off}`,
            );
            if (p.header('range') !== `0-${off + part.length - 1}`) throw new Error(`chunk at ${off}: Range ${p.header('range')}`);
            at = this.url(p.header('location')!);
          }
        }
        done = expect(await this.request('PUT', RegistryClient.withQuery(at, { digest })), 201, 'final PUT');
      }
    }
    if (done.header('docker-content-digest') !== digest) throw new Error(`pushed ${digest}, server says ${done.header('docker-content-digest')}`);
    return { digest, size: data.length, location: done.header('location') ?? '' };
  }

  // ---- manifests -------------------------------------------------------------------------------------------

  /**
   * PUTs a manifest (an object is serialised with JSON.stringify; bytes/strings are sent exactly as given).
   * The Content-Type is `mediaType`, else the document's own mediaType. Returns the raw response.
   */
  putManifest(repo: string, reference: string, manifest: object | string | Uint8Array, mediaType?: string, opts: RequestOptions = {}): Promise<RegistryResponse> {
    const body = typeof manifest === 'string' || manifest instanceof Uint8Array ? manifest : JSON.stringify(manifest);
    const ct = mediaType ?? (manifest as { mediaType?: string }).mediaType ?? detectMediaType(body);
    const headers: Record<string, string> = { ...opts.headers };
    if (ct) headers['content-type'] = ct;
    return this.request('PUT', `/v2/${repo}/manifests/${reference}`, { ...opts, headers, body });
  }

  /** putManifest that throws unless 201; returns the digest and the exact bytes sent. */
  async pushManifest(repo: string, reference: string, manifest: object | string | Uint8Array, mediaType?: string): Promise<Digested & { bytes: Buffer; response: RegistryResponse }> {
    const bytes = Buffer.from(typeof manifest === 'string' || manifest instanceof Uint8Array ? manifest : JSON.stringify(manifest));
    const r = await this.putManifest(repo, reference, bytes, mediaType ?? (manifest as { mediaType?: string }).mediaType);
    if (r.status !== 201) throw new Error(`manifest PUT ${repo}:${reference} failed:\n${r}`);
    const digest = reference.includes(':') ? reference : digestOf(bytes);
    if (r.header('docker-content-digest') !== digest) throw new Error(`manifest digest ${digest}, server says ${r.header('docker-content-digest')}`);
    return { digest, size: bytes.length, bytes, response: r };
  }

  getManifest(repo: string, reference: string, accept: string[] = ALL_MANIFEST_TYPES, opts: RequestOptions = {}): Promise<RegistryResponse> {
    return this.request('GET', `/v2/${repo}/manifests/${reference}`, { ...opts, headers: { accept: accept.join(', '), ...opts.headers } });
  }

  headManifest(repo: string, reference: string, accept: string[] = ALL_MANIFEST_TYPES, opts: RequestOptions = {}): Promise<RegistryResponse> {
    return this.request('HEAD', `/v2/${repo}/manifests/${reference}`, { ...opts, headers: { accept: accept.join(', '), ...opts.headers } });
  }

  /**
   * Pushes a small image: `layers` random blobs plus a config, and an OCI (or Docker) manifest tagged `tag`.
   * Returns the manifest digest/bytes and the blobs.
   */
  async pushImage(
    repo: string,
    tag: string,
    opts: { layers?: number; layerSize?: number; docker?: boolean; extra?: Record<string, unknown> } = {},
  ): Promise<{ digest: string; bytes: Buffer; config: Digested; layers: Digested[]; manifest: Record<string, unknown> }> {
    const docker = opts.docker ?? false;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, n: randomBytes(8).toString('hex') }));
    const c = await this.pushBlob(repo, config);
    const layers: Digested[] = [];
    for (let i = 0; i < (opts.layers ?? 1); i++) layers.push(await this.pushBlob(repo, randomBlob(opts.layerSize ?? 1024)));
    const manifest = {
      schemaVersion: 2,
      mediaType: docker ? MediaTypes.DockerManifest : MediaTypes.OciManifest,
      config: { mediaType: docker ? MediaTypes.DockerConfig : MediaTypes.OciConfig, digest: c.digest, size: c.size },
      layers: layers.map((l) => ({ mediaType: docker ? MediaTypes.DockerLayer : MediaTypes.OciLayer, digest: l.digest, size: l.size })),
      ...opts.extra,
    };
    const m = await this.pushManifest(repo, tag, manifest);
    return { digest: m.digest, bytes: m.bytes, config: { digest: c.digest, size: c.size }, layers, manifest };
  }
}

export const ALL_MANIFEST_TYPES = [MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList];

function hasHeader(h: Record<string, string> | undefined, name: string): boolean {
  return !!h && Object.keys(h).some((k) => k.toLowerCase() === name);
}

function detectMediaType(body: string | Uint8Array): string | undefined {
  try {
    const j = JSON.parse(Buffer.from(body).toString('utf8')) as { mediaType?: string };
    return typeof j.mediaType === 'string' ? j.mediaType : undefined;
  } catch {
    return undefined;
  }
}

// ---- helpers for what fetch cannot send --------------------------------------------------------------------

/**
 * One request through node:http with the path sent byte-for-byte (fetch normalises `..` and `%2e%2e` away).
 * Records the status in responseLog like the client does.
 */
export function rawHttp(
  baseUrl: string,
  method: string,
  path: string,
  opts: { headers?: Record<string, string>; body?: Uint8Array | string } = {},
): Promise<RegistryResponse> {
  const base = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: base.hostname, port: base.port, method, path, headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const headers = new Headers();
        for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
        responseLog.push({ method, url: path, status: res.statusCode ?? 0 });
        resolve(new RegistryResponse(res.statusCode ?? 0, headers, Buffer.concat(chunks), base.origin + path));
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Parses a multipart/byteranges body into its parts (headers lower-cased). */
export function parseMultipartByteranges(contentType: string, body: Buffer): { headers: Record<string, string>; body: Buffer }[] {
  const m = /boundary=("?)([^";]+)\1/i.exec(contentType);
  if (!m) throw new Error(`no boundary in ${contentType}`);
  const delim = Buffer.from(`--${m[2]}`);
  const parts: { headers: Record<string, string>; body: Buffer }[] = [];
  let pos = body.indexOf(delim);
  if (pos < 0) throw new Error('no first boundary');
  for (;;) {
    pos += delim.length;
    if (body.subarray(pos, pos + 2).toString() === '--') break;
    // skip CRLF after the boundary
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') throw new Error('boundary not followed by CRLF');
    pos += 2;
    const headEnd = body.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) throw new Error('part without header end');
    const headers: Record<string, string> = {};
    for (const line of body.subarray(pos, headEnd).toString('latin1').split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    const start = headEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), start);
    if (next < 0) throw new Error('part without closing boundary');
    parts.push({ headers, body: body.subarray(start, next) });
    pos = next + 2;
  }
  return parts;
}
