// The generic OCI adapter: /v2 only (the distribution spec). It has no catalog, so the repositories to replicate
// must be named (`RepositoryFilter.names`). The docker-registry and harbor adapters extend it with listing.
import type { Readable } from 'node:stream';
import { digestOf, isDigest, parseDigest } from '../../oci/digest.ts';
import { MANIFEST_TYPES, MediaType } from '../../oci/media-types.ts';
import {
  DEFAULT_PATTERN,
  type AdapterDeps,
  type AdapterFactory,
  type BlobPutOptions,
  type Descriptor,
  type EndpointSpec,
  type Manifest,
  type ManifestPutOptions,
  type ManifestStat,
  type RegistryAdapter,
  type RegistryInfo,
  type RepositoryFilter,
} from './adapter.ts';
import { DistributionClient, readCapped, RemoteRegistryError } from './distribution-client.ts';
import { ORIGIN_HEADER, PUSH_TIME_HEADER } from '../../oci/replication-headers.ts';

const MANIFEST_ACCEPT = [...MANIFEST_TYPES].join(', ');
/** Manifests larger than this are refused (Berth's own limit is 4 MiB; remotes are allowed more). */
const MAX_MANIFEST = 8 * 1024 * 1024;
const PAGE = 1000;

const pull = (repo: string) => `repository:${repo}:pull`;
const push = (repo: string) => `repository:${repo}:pull,push`;
const enc = (repo: string) => repo.split('/').map(encodeURIComponent).join('/');

/** The next page of a paginated /v2 list (RFC 5988 Link rel="next"), or null. */
function nextLink(link: string | string[] | undefined): string | null {
  const l = Array.isArray(link) ? link.join(',') : link;
  const m = l ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(l) : null;
  return m ? m[1]! : null;
}

export class OciAdapter implements RegistryAdapter {
  readonly type: string = 'oci';
  protected readonly client: DistributionClient;
  protected readonly endpoint: EndpointSpec;

  constructor(endpoint: EndpointSpec, deps: AdapterDeps) {
    this.endpoint = endpoint;
    this.client = new DistributionClient({
      url: endpoint.url,
      credential: endpoint.credential,
      insecure: endpoint.insecure,
      caCertificate: endpoint.caCertificate || undefined,
      guard: deps.guard,
      timeoutMs: deps.timeoutMs,
      tokenFor: deps.tokenFor,
    });
  }

  close(): void {
    this.client.close();
  }

  async ping(): Promise<void> {
    const hasCredential = !!(this.endpoint.credential?.accessKey || this.endpoint.credential?.accessSecret);
    const res = await this.client.send('GET', '/v2/', {});
    res.body.resume();
    // As Harbor's native adapter: without a credential a 401 still proves a registry answers there.
    if (res.status === 200 || (!hasCredential && res.status === 401)) return;
    throw new RemoteRegistryError(res.status, 'UNHEALTHY', `GET /v2/ answered ${res.status}`);
  }

  async health(): Promise<'healthy' | 'unhealthy'> {
    try {
      await this.ping();
      return 'healthy';
    } catch {
      return 'unhealthy';
    }
  }

  async info(): Promise<RegistryInfo> {
    return {
      type: this.type,
      description: '',
      supportedResourceTypes: ['image'],
      supportedResourceFilters: [
        { type: 'name', style: 'input' },
        { type: 'tag', style: 'input' },
      ],
      supportedTriggers: ['manual', 'scheduled'],
      supportedCopyByChunk: true,
    };
  }

  async listRepositories(filter: RepositoryFilter = {}): Promise<string[]> {
    // No catalog in the distribution spec: only the named repositories, those that answer a tag list.
    const out: string[] = [];
    for (const name of filter.names ?? []) {
      if (filter.match && !filter.match(name)) continue;
      const res = await this.client.send('GET', `/v2/${enc(name)}/tags/list?n=1`, { scope: pull(name), ok: [200, 404] });
      res.body.resume();
      if (res.status === 200) out.push(name);
    }
    return out;
  }

  async listTags(repo: string): Promise<string[]> {
    const tags: string[] = [];
    let path: string | null = `/v2/${enc(repo)}/tags/list?n=${PAGE}`;
    for (let pages = 0; path && pages < 10_000; pages++) {
      const r: { body: { tags?: string[] | null }; headers: Record<string, unknown> } = await this.client.json(path, pull(repo));
      tags.push(...(r.body.tags ?? []));
      path = nextLink(r.headers.link as string | undefined);
    }
    return tags;
  }

  async manifestGet(repo: string, ref: string): Promise<Manifest | null> {
    const res = await this.client.send('GET', `/v2/${enc(repo)}/manifests/${encodeURIComponent(ref)}`, { scope: pull(repo), headers: { accept: MANIFEST_ACCEPT }, ok: [200, 404] });
    if (res.status === 404) {
      res.body.resume();
      return null;
    }
    const bytes = await readCapped(res.body, MAX_MANIFEST);
    const mediaType = String(res.headers['content-type'] ?? '').split(';')[0]!.trim() || mediaTypeOf(bytes);
    const header = String(res.headers['docker-content-digest'] ?? '');
    const alg = isDigest(ref) ? parseDigest(ref).algorithm : header && isDigest(header) ? parseDigest(header).algorithm : 'sha256';
    const digest = digestOf(bytes, alg);
    // The bytes are what gets copied: a remote that lies about them must not make us write another digest.
    if (isDigest(ref) && digest !== ref) throw new RemoteRegistryError(200, 'DIGEST_INVALID', `manifest ${ref} of ${repo}: the bytes digest to ${digest}`);
    return { bytes, mediaType, digest };
  }

  async manifestHead(repo: string, ref: string): Promise<ManifestStat | null> {
    const res = await this.client.send('HEAD', `/v2/${enc(repo)}/manifests/${encodeURIComponent(ref)}`, { scope: pull(repo), headers: { accept: MANIFEST_ACCEPT }, ok: [200, 404] });
    res.body.resume();
    if (res.status === 404) return null;
    const digest = String(res.headers['docker-content-digest'] ?? '');
    if (!isDigest(digest)) {
      // Some registries omit the digest on HEAD: a GET tells.
      const m = await this.manifestGet(repo, ref);
      return m ? { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length } : null;
    }
    return { mediaType: String(res.headers['content-type'] ?? '').split(';')[0]!.trim(), digest, size: Number(res.headers['content-length'] ?? 0) };
  }

  async manifestPut(repo: string, ref: string, bytes: Buffer, mediaType: string, opts: ManifestPutOptions = {}): Promise<string> {
    const headers: Record<string, string> = { 'content-type': mediaType };
    if (opts.pushTime) headers[PUSH_TIME_HEADER] = String(opts.pushTime);
    if (opts.origin) headers[ORIGIN_HEADER] = opts.origin;
    const res = await this.client.send('PUT', `/v2/${enc(repo)}/manifests/${encodeURIComponent(ref)}`, { scope: push(repo), headers, body: bytes, ok: [200, 201, 202] });
    res.body.resume();
    const d = String(res.headers['docker-content-digest'] ?? '');
    return isDigest(d) ? d : digestOf(bytes);
  }

  async manifestDelete(repo: string, digest: string): Promise<void> {
    const res = await this.client.send('DELETE', `/v2/${enc(repo)}/manifests/${encodeURIComponent(digest)}`, { scope: `repository:${repo}:delete,pull,push`, ok: [200, 202, 404] });
    res.body.resume();
  }

  async blobExists(repo: string, digest: string): Promise<boolean> {
    const res = await this.client.send('HEAD', `/v2/${enc(repo)}/blobs/${digest}`, { scope: pull(repo), ok: [200, 404] });
    res.body.resume();
    return res.status === 200;
  }

  async blobGet(repo: string, digest: string): Promise<{ size: number; stream: Readable } | null> {
    const res = await this.client.send('GET', `/v2/${enc(repo)}/blobs/${digest}`, { scope: pull(repo), ok: [200, 404] });
    if (res.status === 404) {
      res.body.resume();
      return null;
    }
    return { size: Number(res.headers['content-length'] ?? -1), stream: res.body };
  }

  /** Starts an upload session; the Location to PATCH/PUT. */
  private async startUpload(repo: string): Promise<string> {
    const res = await this.client.send('POST', `/v2/${enc(repo)}/blobs/uploads/`, { scope: push(repo), headers: { 'content-length': '0' }, ok: [202] });
    res.body.resume();
    const loc = res.headers.location;
    if (!loc) throw new RemoteRegistryError(202, 'BLOB_UPLOAD_INVALID', 'upload started without a Location');
    return this.client.urlOf(loc.startsWith('/') || /^https?:/i.test(loc) ? loc : `/${loc}`).toString();
  }

  async blobPut(repo: string, digest: string, stream: Readable, size: number, opts: BlobPutOptions = {}): Promise<void> {
    // The POST (no body) learns the challenge and caches the push token, so the streamed body is sent once.
    let location = await this.startUpload(repo);
    await this.client.warm(push(repo));
    const withDigest = (loc: string) => {
      const u = new URL(loc);
      u.searchParams.set('digest', digest);
      return u.toString();
    };
    if (!opts.chunkSize) {
      const res = await this.client.send('PUT', withDigest(location), {
        scope: push(repo),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
        body: stream,
        ok: [201],
      });
      res.body.resume();
      return;
    }
    // Chunked: one chunk in memory at a time (bounded by chunkSize).
    let offset = 0;
    for await (const chunk of chunksOf(stream, opts.chunkSize)) {
      const res = await this.client.send('PATCH', location, {
        scope: push(repo),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(chunk.length), 'content-range': `${offset}-${offset + chunk.length - 1}` },
        body: chunk,
        ok: [202],
      });
      res.body.resume();
      offset += chunk.length;
      if (res.headers.location) location = this.client.urlOf(res.headers.location).toString();
    }
    const res = await this.client.send('PUT', withDigest(location), { scope: push(repo), headers: { 'content-length': '0' }, body: Buffer.alloc(0), ok: [201] });
    res.body.resume();
  }

  async blobMount(repo: string, digest: string, fromRepo: string): Promise<boolean> {
    const q = `mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(fromRepo)}`;
    const res = await this.client.send('POST', `/v2/${enc(repo)}/blobs/uploads/?${q}`, { scope: `${push(repo)} ${pull(fromRepo)}`, headers: { 'content-length': '0' }, ok: [201, 202] });
    res.body.resume();
    if (res.status === 201) return true;
    // Not mounted: the remote opened an upload session instead; cancel it.
    if (res.headers.location) {
      const d = await this.client.send('DELETE', this.client.urlOf(res.headers.location).toString(), { scope: push(repo) }).catch(() => null);
      d?.body.resume();
    }
    return false;
  }

  async listReferrers(repo: string, digest: string): Promise<Descriptor[]> {
    const res = await this.client.send('GET', `/v2/${enc(repo)}/referrers/${digest}`, { scope: pull(repo), headers: { accept: MediaType.OciIndex }, ok: [200, 404, 400] });
    const ctype = String(res.headers['content-type'] ?? '');
    if (res.status === 200 && ctype.startsWith(MediaType.OciIndex)) {
      const j = JSON.parse((await readCapped(res.body, MAX_MANIFEST)).toString('utf8')) as { manifests?: Descriptor[] };
      return j.manifests ?? [];
    }
    res.body.resume();
    // The fallback tag schema of the distribution spec 1.1: `<alg>-<hex>` holds an index of referrers.
    const d = parseDigest(digest);
    const m = await this.manifestGet(repo, `${d.algorithm}-${d.hex}`);
    if (!m || m.mediaType !== MediaType.OciIndex) return [];
    return ((JSON.parse(m.bytes.toString('utf8')) as { manifests?: Descriptor[] }).manifests ?? []);
  }

  async prepareForPush(_repos: string[]): Promise<void> {}
}

function mediaTypeOf(bytes: Buffer): string {
  try {
    return String((JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? '');
  } catch {
    return '';
  }
}

/** Re-chunks a stream into pieces of exactly `size` bytes (the last may be shorter). */
async function* chunksOf(stream: Readable, size: number): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let have = 0;
  for await (const c of stream as AsyncIterable<Buffer>) {
    let buf = c;
    while (buf.length) {
      const take = Math.min(size - have, buf.length);
      parts.push(buf.subarray(0, take));
      have += take;
      buf = buf.subarray(take);
      if (have === size) {
        yield Buffer.concat(parts);
        parts = [];
        have = 0;
      }
    }
  }
  if (have) yield Buffer.concat(parts);
}

export const ociAdapterFactory: AdapterFactory = {
  type: 'oci',
  create: (e, d) => new OciAdapter(e, d),
  pattern: DEFAULT_PATTERN,
};

/** CNCF Distribution (Docker Registry v2): the /v2 adapter plus `_catalog` for listing. */
export class DockerRegistryAdapter extends OciAdapter {
  override readonly type: string = 'docker-registry';

  override async listRepositories(filter: RepositoryFilter = {}): Promise<string[]> {
    if (filter.names) return super.listRepositories(filter);
    const out: string[] = [];
    let path: string | null = `/v2/_catalog?n=${PAGE}`;
    for (let pages = 0; path && pages < 10_000; pages++) {
      const r: { body: { repositories?: string[] | null }; headers: Record<string, unknown> } = await this.client.json(path, 'registry:catalog:*');
      for (const n of r.body.repositories ?? []) if (!filter.match || filter.match(n)) out.push(n);
      path = nextLink(r.headers.link as string | undefined);
    }
    return out;
  }
}

export const dockerRegistryAdapterFactory: AdapterFactory = {
  type: 'docker-registry',
  create: (e, d) => new DockerRegistryAdapter(e, d),
  pattern: DEFAULT_PATTERN,
};

