// Blob uploads: monolithic, streamed and chunked, with the digest computed while the bytes stream in.
// Every PATCH streams into a part of its own; the session row (compare-and-set on its size) decides which
// parts are acknowledged, so concurrent writers on any processes can never mix bytes under one digest.
// Hash state lives in this process's memory; a session continued on another process (or after a failed
// PATCH) is re-hashed from its acknowledged parts, so any process of a deployment can finish any upload.
import { randomUUID } from 'node:crypto';
import type { Hash } from 'node:crypto';
import type { Db } from '../../db/db.ts';
import { Errors, RegistryError } from '../../errors.ts';
import { newHash, parseDigest, type Algorithm } from '../../oci/digest.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { BlobRepository } from '../../repositories/blob-repository.ts';
import type { RepositoryRepository } from '../../repositories/repository-repository.ts';
import type { UploadRepository, Upload } from '../../repositories/upload-repository.ts';
import { crashPoint, type Faults } from './faults.ts';
import { completeBlobDeletions } from './blob-deletion.ts';
import type { QuotaService } from './quota-service.ts';

/** Thrown inside the commit transaction to roll it back and place the blob again. */
class CommitRetry extends Error {
  readonly reason: 'deleting' | 'missing';
  constructor(reason: 'deleting' | 'missing') {
    super(reason);
    this.reason = reason;
  }
}

interface HashState {
  hash: Hash;
  alg: Algorithm;
  size: number;
}

export interface UploadServiceDeps {
  db: Db;
  store: BlobStore;
  uploads: UploadRepository;
  blobs: BlobRepository;
  repositories: RepositoryRepository;
  /** Test-only crash injection. */
  faults?: Faults;
  /** Per-project storage quota, checked before the blob is placed and again in the commit transaction. */
  quota?: QuotaService;
}

export class UploadService {
  private readonly deps: UploadServiceDeps;
  private readonly states = new Map<string, HashState>();
  /**
   * Sessions this process is writing to or committing. Two requests must never touch one upload file at once:
   * a second writer truncates and appends to the same file, so the bytes stored would no longer be the bytes
   * the winner hashed, and its digest would be committed over someone else's content.
   */
  private readonly busy = new Set<string>();
  constructor(deps: UploadServiceDeps) {
    this.deps = deps;
  }

  /** Advertised to clients when a session opens. */
  get minChunkLength(): number {
    return this.deps.store.minChunkLength;
  }

  async start(repositoryName: string, principal: string, algorithm: Algorithm): Promise<Upload> {
    const id = randomUUID();
    await this.deps.store.createUpload(id);
    await this.deps.uploads.saveUpload({ id, repositoryName, principal, algorithm });
    this.states.set(id, { hash: newHash(algorithm), alg: algorithm, size: 0 });
    return (await this.deps.uploads.findUpload(id))!;
  }

  /** A session is only visible to the repository and principal that opened it (Quay CVE-2026-32589). */
  async find(repositoryName: string, id: string, principal: string): Promise<Upload> {
    if (!/^[a-f0-9-]{36}$/.test(id)) throw Errors.uploadUnknown();
    const u = await this.deps.uploads.findUpload(id);
    if (!u || u.repositoryName !== repositoryName || u.principal !== principal) throw Errors.uploadUnknown();
    return u;
  }

  /**
   * Appends a chunk. `range` is the parsed Content-Range (inclusive), when the client sent one; it must start
   * exactly at the current size (else 416 with the current Range). Returns the new size.
   */
  async append(u: Upload, body: AsyncIterable<Buffer>, range: { start: number; end: number } | null, contentLength: number | null): Promise<number> {
    return this.exclusive(u, () => this.appendLocked(u, body, range, contentLength));
  }

  private async appendLocked(u: Upload, body: AsyncIterable<Buffer>, range: { start: number; end: number } | null, contentLength: number | null): Promise<number> {
    if (range) {
      if (range.start !== u.size) throw this.rangeError(u, 'chunk does not start at the end of the upload');
      if (contentLength !== null && contentLength !== range.end - range.start + 1) throw this.rangeError(u, 'Content-Range does not match Content-Length');
    }
    const state = await this.stateFor(u);
    // Invalidate while writing: a failed write leaves the hash ahead of the stored size.
    this.states.delete(u.id);
    let received = 0;
    const maxBytes = range ? range.end - range.start + 1 : contentLength ?? Infinity;
    async function* hashing(): AsyncGenerator<Buffer> {
      for await (const chunk of body) {
        received += chunk.length;
        if (received > maxBytes) throw Errors.sizeInvalid('body is longer than declared');
        state.hash.update(chunk);
        yield chunk;
      }
    }
    const { part, size: written } = await this.deps.store.writeUploadPart(u.id, hashing());
    const dropPart = () => this.deps.store.removeUploadPart(u.id, part).catch(() => {});
    if ((range && received !== maxBytes) || (contentLength !== null && received !== contentLength)) {
      await dropPart();
      throw range && received !== maxBytes ? this.rangeError(u, 'body is shorter than Content-Range') : Errors.sizeInvalid('body is shorter than Content-Length');
    }
    if (written === 0) {
      await dropPart();
      this.states.set(u.id, state);
      return u.size;
    }
    const size = u.size + written;
    const parts = [...u.parts, part];
    if (!(await this.deps.uploads.saveUploadPart(u.id, u.size, size, parts))) {
      await dropPart();
      throw Errors.uploadInvalid('concurrent write to the same upload', 409);
    }
    u.parts = parts;
    state.size = size;
    this.states.set(u.id, state);
    u.size = size;
    return size;
  }

  /** Verifies the digest over everything uploaded, makes the blob durable and links it to the repository. */
  async complete(u: Upload, digestParam: string | undefined, projectId: number): Promise<{ digest: string; size: number }> {
    const want = parseDigest(digestParam);
    return this.exclusive(u, () => this.completeLocked(u, want, projectId));
  }

  private async completeLocked(u: Upload, want: ReturnType<typeof parseDigest>, projectId: number): Promise<{ digest: string; size: number }> {
    let actual: string;
    const state = this.states.get(u.id);
    if (state && state.size === u.size && state.alg === want.algorithm) actual = `${state.alg}:${state.hash.copy().digest('hex')}`;
    else actual = `${want.algorithm}:${(await this.rehash(u, want.algorithm)).digest('hex')}`;
    if (actual !== want.value) {
      // A failed commit leaves no trace: the session and its bytes go away.
      await this.cancel(u);
      throw Errors.digestInvalid('provided digest did not match uploaded content', { expected: want.value, actual });
    }
    const size = u.size;
    const digest = want.value;
    // Over quota: the commit is refused and the session with its bytes goes away, nothing is linked.
    const quota = this.deps.quota;
    const refuse = async (e: unknown): Promise<never> => {
      await this.cancel(u).catch(() => {});
      throw e;
    };
    if (quota) await quota.assertRoom(projectId, digest, size, undefined, u.repositoryName).catch(refuse);
    // Acknowledged parts are immutable, so the bytes verified above are the bytes placed here. The upload's
    // parts stay until the database links the blob: GC may be deleting this digest right now.
    await this.deps.store.commitUpload(u.id, u.parts, digest, { keepUpload: true });
    crashPoint(this.deps.faults, 'blob-after-store-commit');
    for (let attempt = 0; ; attempt++) {
      const outcome = await this.deps.db
        .tx(async (q) => {
          const repo = await this.deps.repositories.saveRepositoryIfAbsent(u.repositoryName, projectId, q);
          // Locks the row (or creates it) so GC cannot mark it before the link below is committed.
          const claim = await this.deps.blobs.claimBlob(digest, size, q);
          if (claim === 'deleting') throw new CommitRetry('deleting');
          // A new row: a GC that removed the file we found at placement has finished; check it is there.
          if (claim === 'created' && !(await this.deps.store.stat(digest))) throw new CommitRetry('missing');
          // Exact check under the project's row lock (a bytes file placed for a refused blob is an orphan GC removes).
          if (quota) await quota.assertRoom(projectId, digest, size, q, u.repositoryName);
          await this.deps.blobs.saveBlobLink(repo.id, digest, q);
          await this.deps.uploads.removeUpload(u.id, q);
          return 'ok' as const;
        })
        .catch((e: unknown) => {
          if (e instanceof CommitRetry && attempt < 10) return e.reason;
          if (e instanceof RegistryError && e.code === 'DENIED') return refuse(e);
          throw e;
        });
      if (outcome === 'ok') break;
      // GC is deleting this digest: finish that deletion ourselves (idempotent, under the row lock), then
      // place our own bytes again.
      if (outcome === 'deleting') await completeBlobDeletions(this.deps, [digest], { skipLocked: false });
      await this.deps.store.commitUpload(u.id, u.parts, digest, { keepUpload: true });
    }
    await this.deps.store.removeUpload(u.id).catch(() => {});
    this.states.delete(u.id);
    return { digest: want.value, size };
  }

  async cancel(u: Upload): Promise<void> {
    this.states.delete(u.id);
    await this.deps.uploads.removeUpload(u.id);
    await this.deps.store.removeUpload(u.id);
  }

  /** Removes sessions idle since before `cutoff` (epoch ms), and stray upload files with no session. */
  async purge(cutoff: number): Promise<number> {
    let n = 0;
    for (;;) {
      const idle = await this.deps.uploads.listIdleUploads(cutoff, 100);
      let removed = 0;
      for (const u of idle) {
        // A long PATCH updates the session only when it ends: it is not idle while its bytes stream in.
        if (this.busy.has(u.id)) continue;
        await this.cancel(u);
        removed++;
      }
      n += removed;
      if (idle.length < 100 || removed === 0) break;
    }
    const stray: string[] = [];
    for await (const f of this.deps.store.listUploads()) if (f.modifiedAt < cutoff) stray.push(f.id);
    for (let i = 0; i < stray.length; i += 200) {
      const part = stray.slice(i, i + 200);
      const live = await this.deps.uploads.findUploadIds(part);
      for (const id of part)
        if (!live.has(id)) {
          await this.deps.store.removeUpload(id);
          n++;
        }
    }
    return n;
  }

  /**
   * Runs fn as the only writer of the session in this process (409 for a concurrent request), on the size
   * recorded now: `u` may have been read before another request's chunk was acknowledged.
   * Across processes, the compare-and-set on the session row and immutable parts keep writers apart.
   */
  private async exclusive<T>(u: Upload, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(u.id)) throw Errors.uploadInvalid('concurrent write to the same upload', 409);
    this.busy.add(u.id);
    try {
      const now = await this.deps.uploads.findUpload(u.id);
      if (!now) throw Errors.uploadUnknown();
      u.size = now.size;
      u.parts = now.parts;
      return await fn();
    } finally {
      this.busy.delete(u.id);
    }
  }

  private rangeError(u: Upload, msg: string) {
    return Errors.rangeInvalid(msg, {
      Range: u.size > 0 ? `0-${u.size - 1}` : '0-0',
      Location: `/v2/${u.repositoryName}/blobs/uploads/${u.id}`,
      'Docker-Upload-UUID': u.id,
    });
  }

  private async stateFor(u: Upload): Promise<HashState> {
    const s = this.states.get(u.id);
    if (s && s.size === u.size) return s;
    return { hash: await this.rehash(u, u.algorithm), alg: u.algorithm, size: u.size };
  }

  private async rehash(u: Upload, alg: Algorithm): Promise<Hash> {
    const h = newHash(alg);
    let n = 0;
    try {
      for await (const chunk of this.deps.store.readUploadParts(u.id, u.parts)) {
        h.update(chunk as Buffer);
        n += (chunk as Buffer).length;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw Errors.uploadUnknown();
      throw e;
    }
    if (n !== u.size) throw Errors.uploadUnknown();
    return h;
  }
}
