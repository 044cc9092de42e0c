// Proxy-cache projects (Harbor's controller/proxy + server/middleware/repoproxy): a project created with a
// `registry_id` pulls manifests and blobs through from that replication endpoint and keeps them as normal
// content (quota, events, audit, retention, GC all apply).
//
// - Manifests: by digest, a cached one is served without asking upstream (content-addressed); by tag, upstream
//   is asked with a HEAD (cheap; Docker Hub does not count it against the pull limit) and the cached copy is
//   served while the digests agree. A new or moved digest is fetched, served at once and cached in the
//   background once its blobs (and, for an index, its children) are stored — then `ManifestService.put` records
//   it as a push by the proxy (Harbor's operator), moving the tag.
// - Blobs: fetched once per process (single flight). The upstream body is spooled to a file as it arrives and
//   every client asking meanwhile reads that spool at its own pace (nobody waits for the whole blob); the same
//   bytes go into an upload session that `UploadService.complete` verifies against the digest before the blob
//   becomes visible — a short or wrong upstream body leaves no blob, link or session behind. Another process
//   may fetch the same blob again; both commits place the same verified bytes (the upload path is race-safe).
// - Stale-if-error (beyond Harbor): when upstream is down, errors or rate-limits, cached content keeps being
//   served and the audit log says so; an uncached reference fails with an OCI error naming the upstream failure.
// - Harbor's `proxy_speed_kb` (Kbps) throttles what is read from upstream.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Errors, RegistryError } from '../../errors.ts';
import { parseDigest } from '../../oci/digest.ts';
import { parseManifest } from '../../oci/manifest.ts';
import type { RegistryAdapter } from '../../drivers/registry/adapter.ts';
import type { Project } from '../../repositories/project-repository.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { BlobService } from '../registry/blob-service.ts';
import type { ManifestService, Puller } from '../registry/manifest-service.ts';
import type { UploadService } from '../registry/upload-service.ts';
import type { RegistryView } from '../replication/registry-service.ts';

/** Who the proxy's writes are recorded as (Harbor's proxycachesecret.ProxyCacheService). */
export const PROXY_OPERATOR = 'harbor#proxy-cache-service';

/** Docker Hub's registry hosts: single-name repositories there live under `library/`. */
const DOCKER_HUB_HOSTS = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com', 'hub.docker.com']);

/** Whether an endpoint is Docker Hub (Harbor's docker-hub type, or a generic endpoint at Docker Hub's hosts). */
export function isDockerHub(r: Pick<RegistryView, 'type' | 'url'>): boolean {
  if (r.type === 'docker-hub') return true;
  try {
    return DOCKER_HUB_HOSTS.has(new URL(r.url).hostname.toLowerCase());
  } catch {
    return false;
  }
}

/**
 * Harbor's defaultLibrary: on a Docker Hub endpoint, `<project>/nginx` is `<project>/library/nginx` (the client
 * is redirected there, so the cache holds one copy under the name Docker Hub uses). Null when no mapping applies.
 */
export function dockerHubLibraryName(projectName: string, repositoryName: string): string | null {
  const rest = repositoryName.slice(projectName.length + 1);
  return rest && !rest.includes('/') ? `${projectName}/library/${rest}` : null;
}

/** The repository upstream of a local one: the project prefix goes (Harbor's GetRemoteRepo). */
export const upstreamName = (projectName: string, repositoryName: string) => repositoryName.slice(projectName.length + 1);

/** What the HTTP layer serves for a manifest request. */
export type ManifestAnswer = { kind: 'local' } | { kind: 'remote'; bytes: Buffer; mediaType: string; digest: string };

/** What the HTTP layer serves for a blob request: the local copy, or a stream of a fetch in flight. */
export type BlobAnswer = { kind: 'local' } | { kind: 'remote'; size: number; stream: Readable | null };

/** One upstream blob fetch in flight (this process). */
interface Flight {
  digest: string;
  spool: string;
  /** Upstream's Content-Length (-1 unknown). */
  size: number;
  /** Bytes in the spool so far. */
  written: number;
  /** The whole upstream body is in the spool (readers may end; storing it may still fail, e.g. on quota). */
  bodyComplete: boolean;
  done: boolean;
  error: Error | null;
  /** Readers holding the spool open; it is removed when the fetch ended and the last reader went. */
  readers: number;
  waiters: Set<() => void>;
  /** Resolves once the spool exists (readers may open it), rejects when upstream could not be asked. */
  started: Promise<Flight>;
  finished: Promise<void>;
}

export interface ProxyCacheDeps {
  registries: { get(id: number): Promise<RegistryView>; adapterFor(id: number): Promise<RegistryAdapter> };
  manifests: ManifestService;
  blobs: BlobService;
  uploads: UploadService;
  /** A project's metadata (proxy_speed_kb). */
  metadata: (projectId: number) => Promise<Record<string, string>>;
  audit: AuditSink;
  /** The system's read-only switch: while on, upstream content is passed through and nothing is stored. */
  readOnly?: () => Promise<boolean>;
  /** Where blob spools live (a directory of the storage's file system). */
  spoolDir: string;
  warn: (msg: string) => void;
  /** How long the background caching of a manifest waits for a child manifest pulled by clients, ms. */
  childWaitMs?: number;
}

const SPOOL_READ = 1024 * 1024;
/** Stale-serving audit rows are written at most once per reference per minute (an outage must not flood the log). */
const STALE_AUDIT_INTERVAL_MS = 60_000;

/** Why upstream failed, short and credential-free (RemoteRegistryError messages name no secret). */
function reason(e: unknown): string {
  const err = e as { code?: string; message?: string; status?: number };
  return String(err.message ?? err.code ?? e).replace(/\s+/g, ' ').slice(0, 300);
}

const isRateLimit = (e: unknown) => (e as { status?: number }).status === 429;

export class ProxyCacheService {
  private readonly d: ProxyCacheDeps;
  /** Adapters per endpoint, rebuilt when the endpoint changes (their token caches are reused meanwhile). */
  private readonly adapters = new Map<number, { stamp: number; adapter: RegistryAdapter }>();
  private readonly flights = new Map<string, Flight>();
  private readonly manifestFlights = new Map<string, Promise<ManifestAnswer & { kind: 'remote' }>>();
  /** Manifests served from upstream and not yet cached: clients following the index/tag get them from here. */
  private readonly pending = new Map<string, { bytes: Buffer; mediaType: string; digest: string }>();
  private readonly staleAudited = new Map<string, number>();
  private readonly background = new Set<Promise<unknown>>();
  private closed = false;

  constructor(deps: ProxyCacheDeps) {
    this.d = deps;
  }

  /** Docker Hub's `library/` mapping for this request, or null (Harbor answers 301 to the mapped name). */
  async libraryRedirect(project: Project, repositoryName: string): Promise<string | null> {
    const r = await this.d.registries.get(project.registryId).catch(() => null);
    return r && isDockerHub(r) ? dockerHubLibraryName(project.name, repositoryName) : null;
  }

  private async adapter(project: Project): Promise<{ adapter: RegistryAdapter; endpoint: RegistryView }> {
    const endpoint = await this.d.registries.get(project.registryId);
    const cached = this.adapters.get(endpoint.id);
    if (cached && cached.stamp === endpoint.updatedAt) return { adapter: cached.adapter, endpoint };
    cached?.adapter.close();
    const adapter = await this.d.registries.adapterFor(endpoint.id);
    this.adapters.set(endpoint.id, { stamp: endpoint.updatedAt, adapter });
    return { adapter, endpoint };
  }

  private async staleServed(project: Project, repositoryName: string, ref: string, operator: string, endpointUrl: string, e: unknown): Promise<void> {
    const key = `${repositoryName}:${ref}`;
    const now = Date.now();
    const why = reason(e);
    this.d.warn(`proxy cache: served the cached ${key} because the upstream registry ${endpointUrl} failed: ${why}`);
    if ((this.staleAudited.get(key) ?? 0) > now - STALE_AUDIT_INTERVAL_MS) return;
    this.staleAudited.set(key, now);
    if (this.staleAudited.size > 10_000) this.staleAudited.clear();
    await this.d.audit
      .record({
        username: operator,
        operation: 'pull',
        resourceType: 'proxy_cache',
        resource: key,
        projectId: project.id,
        detail: `served the cached copy because the upstream registry ${endpointUrl} failed: ${why}`,
      })
      .catch((err: unknown) => this.d.warn(`proxy cache: audit record failed: ${reason(err)}`));
  }

  private uncached(kind: 'manifest' | 'blob', ref: string, endpointUrl: string, e: unknown): RegistryError {
    const msg = `${kind} ${ref} is not in the proxy cache and the upstream registry ${endpointUrl} failed: ${reason(e)}`;
    if (isRateLimit(e)) return Errors.tooManyRequests(msg, 10);
    return new RegistryError(kind === 'manifest' ? 'MANIFEST_UNKNOWN' : 'BLOB_UNKNOWN', msg, { detail: { reference: ref } });
  }

  /**
   * A manifest GET/HEAD in a proxy-cache project. `local`: serve the cached copy (the handler reads it as for
   * any project). Throws MANIFEST_UNKNOWN when neither upstream nor the cache has it.
   */
  async manifest(project: Project, repositoryName: string, ref: string, puller: Puller): Promise<ManifestAnswer> {
    const local = await this.d.manifests.get(repositoryName, ref, false).catch((e: unknown) => {
      if (e instanceof RegistryError && e.code === 'MANIFEST_UNKNOWN') return null;
      throw e;
    });
    const byDigest = ref.includes(':');
    if (local && byDigest) return { kind: 'local' };
    if (byDigest) {
      const p = this.pending.get(`${repositoryName}@${ref}`);
      if (p) return { kind: 'remote', ...p };
    }
    let ctx: { adapter: RegistryAdapter; endpoint: RegistryView };
    try {
      ctx = await this.adapter(project);
    } catch (e) {
      if (local) return { kind: 'local' };
      throw this.uncached('manifest', ref, `#${project.registryId}`, e);
    }
    const upstream = upstreamName(project.name, repositoryName);
    let digest: string;
    try {
      const stat = await ctx.adapter.manifestHead(upstream, ref);
      if (!stat) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${ref} is unknown to the upstream registry ${ctx.endpoint.url} (${upstream})`, { detail: { reference: ref } });
      digest = stat.digest;
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      if (local) {
        await this.staleServed(project, repositoryName, ref, puller.operator, ctx.endpoint.url, e);
        return { kind: 'local' };
      }
      throw this.uncached('manifest', ref, ctx.endpoint.url, e);
    }
    if (local && local.digest === digest) return { kind: 'local' };
    // New or moved tag to content already cached: only the tag is recorded (no upstream GET).
    if (!byDigest) {
      const have = await this.d.manifests.stored(repositoryName, digest);
      if (have) {
        if (await this.d.readOnly?.().catch(() => false)) return { kind: 'remote', bytes: have.content, mediaType: have.mediaType, digest: have.digest };
        try {
          await this.d.manifests.put(repositoryName, project, ref, have.content, have.mediaType, [], PROXY_OPERATOR);
          return { kind: 'local' };
        } catch (e) {
          // E.g. an immutable tag that may not move: serve upstream's answer, keep the cache as it is.
          this.d.warn(`proxy cache: tag ${repositoryName}:${ref} not moved: ${reason(e)}`);
          return { kind: 'remote', bytes: have.content, mediaType: have.mediaType, digest: have.digest };
        }
      }
    }
    const p = this.pending.get(`${repositoryName}@${digest}`);
    if (p) return { kind: 'remote', ...p };
    const key = `${repositoryName}@${digest}`;
    let flight = this.manifestFlights.get(key);
    if (!flight) {
      flight = this.fetchManifest(project, repositoryName, upstream, digest, byDigest ? null : ref, puller, ctx.adapter).finally(() => this.manifestFlights.delete(key));
      this.manifestFlights.set(key, flight);
    }
    try {
      return await flight;
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      if (local) {
        await this.staleServed(project, repositoryName, ref, puller.operator, ctx.endpoint.url, e);
        return { kind: 'local' };
      }
      throw this.uncached('manifest', ref, ctx.endpoint.url, e);
    }
  }

  private async fetchManifest(project: Project, repositoryName: string, upstream: string, digest: string, tag: string | null, puller: Puller, adapter: RegistryAdapter): Promise<ManifestAnswer & { kind: 'remote' }> {
    const m = await adapter.manifestGet(upstream, digest);
    if (!m) throw new RegistryError('MANIFEST_UNKNOWN', `manifest ${digest} is unknown to the upstream registry (${upstream})`, { detail: { reference: digest } });
    const answer = { kind: 'remote' as const, bytes: m.bytes, mediaType: m.mediaType, digest: m.digest };
    const key = `${repositoryName}@${m.digest}`;
    this.pending.set(key, { bytes: m.bytes, mediaType: m.mediaType, digest: m.digest });
    this.track(
      this.cacheManifest(project, repositoryName, m, tag, puller)
        .catch((e: unknown) => this.d.warn(`proxy cache: ${repositoryName}@${m.digest} not cached: ${reason(e)}`))
        .finally(() => this.pending.delete(key)),
    );
    return answer;
  }

  /** Stores what a manifest references (blobs through the single flight; children of an index recursively), then the manifest. */
  private async cacheManifest(project: Project, repositoryName: string, m: { bytes: Buffer; mediaType: string; digest: string }, tag: string | null, puller: Puller): Promise<void> {
    // Read-only: nothing will be stored, so nothing is prefetched either.
    if (await this.d.readOnly?.().catch(() => false)) return;
    const parsed = parseManifest(m.bytes, m.mediaType);
    // Blobs two at a time: a client pulling in parallel joins these fetches rather than starting its own.
    const queue = [...parsed.blobs];
    const worker = async () => {
      for (let d = queue.shift(); d !== undefined && !this.closed; d = queue.shift()) await this.ensureBlob(project, repositoryName, d);
    };
    await Promise.all([worker(), worker()]);
    // An index is cached whole (every child), so a multi-arch tag keeps being served when upstream is down.
    for (const child of parsed.manifests) {
      if (this.closed) return;
      const have = await this.d.manifests.get(repositoryName, child, false).then(
        () => true,
        () => false,
      );
      if (have) continue;
      const pendingChild = this.manifestFlights.get(`${repositoryName}@${child}`);
      if (pendingChild) {
        await pendingChild.catch(() => {});
        await this.waitCached(repositoryName, child);
        continue;
      }
      const { adapter } = await this.adapter(project);
      const cm = await adapter.manifestGet(upstreamName(project.name, repositoryName), child);
      if (!cm) throw new Error(`child manifest ${child} is unknown upstream`);
      await this.cacheManifest(project, repositoryName, cm, null, puller);
    }
    if (this.closed || (await this.d.readOnly?.().catch(() => false))) return;
    await this.d.manifests.put(repositoryName, project, tag ?? m.digest, m.bytes, m.mediaType, [], PROXY_OPERATOR);
    // The client's pull of what was served from upstream (pull time, PULL_ARTIFACT), as Harbor's SendPullEvent.
    if (tag !== null) await this.d.manifests.get(repositoryName, m.digest, true, puller).catch(() => {});
  }

  /** Waits (bounded) until a manifest another fetch is caching is stored. */
  private async waitCached(repositoryName: string, digest: string): Promise<void> {
    const end = Date.now() + (this.d.childWaitMs ?? 600_000);
    while (!this.closed && this.pending.has(`${repositoryName}@${digest}`) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
  }

  /** The blob stored locally (fetching it when absent); resolves when it is linked, throws when the fetch failed. */
  private async ensureBlob(project: Project, repositoryName: string, digest: string): Promise<void> {
    if (await this.hasBlob(repositoryName, digest)) return;
    const f = await this.flight(project, repositoryName, digest);
    await f.finished;
    if (f.error) throw f.error;
  }

  private async hasBlob(repositoryName: string, digest: string): Promise<boolean> {
    return this.d.blobs.stat(repositoryName, digest).then(
      () => true,
      () => false,
    );
  }

  /**
   * A blob GET/HEAD in a proxy-cache project: the cached copy, or the fetch in flight (joined or started).
   * Cached blobs never ask upstream, so they keep being served whatever upstream does.
   */
  async blob(project: Project, repositoryName: string, digest: string, withBody: boolean): Promise<BlobAnswer> {
    parseDigest(digest);
    if (!this.flights.has(`${repositoryName}@${digest}`) && (await this.hasBlob(repositoryName, digest))) return { kind: 'local' };
    let f: Flight;
    try {
      f = await this.flight(project, repositoryName, digest);
    } catch (e) {
      if (e instanceof RegistryError) throw e;
      const url = await this.d.registries.get(project.registryId).then((r) => r.url, () => `#${project.registryId}`);
      throw this.uncached('blob', digest, url, e);
    }
    // Held from here (synchronously after joining): the spool stays until the last reader lets go.
    f.readers++;
    let held = true;
    const release = () => {
      if (!held) return;
      held = false;
      f.readers--;
      if (f.readers === 0 && (f.done || f.error)) void rm(f.spool, { force: true }).catch(() => {});
    };
    try {
      if (f.error && !f.bodyComplete) {
        if (f.error instanceof RegistryError) throw f.error;
        throw this.uncached('blob', digest, await this.d.registries.get(project.registryId).then((r) => r.url, () => `#${project.registryId}`), f.error);
      }
      if (f.done && (await this.hasBlob(repositoryName, digest))) {
        release();
        return { kind: 'local' };
      }
    } catch (e) {
      release();
      throw e;
    }
    if (!withBody) {
      release();
      return { kind: 'remote', size: f.size, stream: null };
    }
    const stream = Readable.from(this.readSpool(f), { objectMode: false });
    stream.once('close', release);
    return { kind: 'remote', size: f.size, stream };
  }

  /** The flight for a blob: joined when one runs, else started (after one more look at the cache). */
  private flight(project: Project, repositoryName: string, digest: string): Promise<Flight> {
    const key = `${repositoryName}@${digest}`;
    const running = this.flights.get(key);
    if (running) return running.started;
    // Registered synchronously, before any await, so concurrent callers of this process share one fetch.
    let resolveStarted!: (f: Flight) => void;
    let rejectStarted!: (e: unknown) => void;
    const started = new Promise<Flight>((res, rej) => {
      resolveStarted = res;
      rejectStarted = rej;
    });
    const f: Flight = { digest, spool: join(this.d.spoolDir, randomUUID()), size: -1, written: 0, bodyComplete: false, done: false, error: null, readers: 0, waiters: new Set(), started, finished: Promise.resolve() };
    // A flight nobody joined may fail before it started; that rejection is its caller's, not an unhandled one.
    started.catch(() => {});
    this.flights.set(key, f);
    const notify = () => {
      const ws = [...f.waiters];
      f.waiters.clear();
      for (const w of ws) w();
    };
    f.finished = (async () => {
      let fh: FileHandle | null = null;
      let upload: Awaited<ReturnType<UploadService['start']>> | null = null;
      let announced = false;
      try {
        if (await this.hasBlob(repositoryName, digest)) {
          f.done = true;
          announced = true;
          resolveStarted(f);
          return;
        }
        const { adapter } = await this.adapter(project);
        const got = await adapter.blobGet(upstreamName(project.name, repositoryName), digest);
        if (!got) throw new RegistryError('BLOB_UNKNOWN', `blob ${digest} is unknown to the upstream registry`, { detail: { digest } });
        f.size = got.size;
        // Made on first use: a deployment without proxy-cache projects never has the directory.
        mkdirSync(this.d.spoolDir, { recursive: true });
        this.sweepSpools();
        fh = await open(f.spool, 'w');
        const spool = fh;
        // In read-only mode the blob is passed through, not stored (no modification of any kind).
        const store = !(await this.d.readOnly?.().catch(() => false));
        if (store) upload = await this.d.uploads.start(repositoryName, PROXY_OPERATOR, parseDigest(digest).algorithm);
        announced = true;
        resolveStarted(f);
        const speed = Number((await this.d.metadata(project.id)).proxy_speed_kb ?? 0);
        const throttle = speed > 0 ? tokenBucket(speed * 128, 1000 * 1024) : null;
        const closed = () => this.closed;
        async function* tee(): AsyncGenerator<Buffer> {
          for await (const chunk of got!.stream as AsyncIterable<Buffer>) {
            if (closed()) throw new Error('shutting down');
            if (throttle) await throttle(chunk.length);
            await spool.write(chunk, 0, chunk.length, f.written);
            f.written += chunk.length;
            notify();
            yield chunk;
          }
        }
        if (upload) await this.d.uploads.append(upload, tee(), null, got.size >= 0 ? got.size : null);
        else {
          for await (const _ of tee());
          if (got.size >= 0 && f.written !== got.size) throw Errors.sizeInvalid('upstream body is shorter than its Content-Length');
        }
        // Readers may finish now: they have every byte (the client checks the digest too); storing goes on.
        f.bodyComplete = true;
        notify();
        // Verifies the digest over the stored parts and links the blob (quota checked); on a mismatch the session goes.
        if (upload) await this.d.uploads.complete(upload, digest, project.id);
        upload = null;
        f.done = true;
      } catch (e) {
        f.error = e instanceof Error ? e : new Error(String(e));
        if (upload) await this.d.uploads.cancel(upload).catch(() => {});
        if (!announced) rejectStarted(e);
        else this.d.warn(`proxy cache: fetching ${repositoryName}@${digest} failed: ${reason(e)}`);
      } finally {
        await fh?.close().catch(() => {});
        this.flights.delete(key);
        notify();
        if (f.readers === 0) await rm(f.spool, { force: true }).catch(() => {});
      }
    })();
    this.track(f.finished);
    return started;
  }

  /** Streams a flight's spool from the start, following it as it grows; fails when the fetch fails. */
  private async *readSpool(f: Flight): AsyncGenerator<Buffer> {
    let fh: FileHandle | null = null;
    try {
      fh = await open(f.spool, 'r');
      let pos = 0;
      for (;;) {
        if (pos < f.written) {
          const buf = Buffer.allocUnsafe(Math.min(SPOOL_READ, f.written - pos));
          const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
          if (bytesRead === 0) throw new Error('proxy cache: spool shorter than written');
          pos += bytesRead;
          yield buf.subarray(0, bytesRead);
          continue;
        }
        if (f.bodyComplete || f.done) return;
        if (f.error) throw f.error;
        await new Promise<void>((r) => f.waiters.add(r));
      }
    } finally {
      await fh?.close().catch(() => {});
    }
  }

  private swept = false;
  /**
   * Once per process: removes spools left by a process that died mid-fetch (older than a day; live ones are
   * written continuously, and other processes of the deployment share the directory).
   */
  private sweepSpools(): void {
    if (this.swept) return;
    this.swept = true;
    void (async () => {
      const cutoff = Date.now() - 24 * 3600_000;
      for (const name of await readdir(this.d.spoolDir).catch(() => [] as string[])) {
        const p = join(this.d.spoolDir, name);
        const st = await stat(p).catch(() => null);
        if (st && st.mtimeMs < cutoff) await rm(p, { force: true }).catch(() => {});
      }
    })();
  }

  private track(p: Promise<unknown>): void {
    this.background.add(p);
    void p.finally(() => this.background.delete(p));
  }

  /**
   * Stops background caching (each fetch at its next chunk: what is half-fetched is dropped, never half-stored),
   * waits for it at most `waitMs`, then closes the upstream connections (a stalled fetch ends there).
   */
  async close(waitMs = 10_000): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.background]), new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    for (const { adapter } of this.adapters.values()) adapter.close();
    this.adapters.clear();
  }
}

/** A token bucket (Harbor's rate.Limiter: `rate` bytes/s, `burst` bytes): resolves when `n` bytes may pass. */
function tokenBucket(rate: number, burst: number): (n: number) => Promise<void> {
  let tokens = burst;
  let last = Date.now();
  return async (n: number) => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * rate);
    last = now;
    tokens -= n;
    if (tokens < 0) await new Promise((r) => setTimeout(r, Math.ceil((-tokens / rate) * 1000)));
  };
}
