// S3 driver (AWS S3 and S3-compatible servers). Layout under `root_directory`:
//   _uploads/<id>/created               marker written by createUpload (an upload exists while it does)
//   _uploads/<id>/part-<28 hex>         one immutable object per written chunk
//   docker/registry/v2/blobs/<alg>/<xx>/<hex>/data   committed blobs (Distribution's blob paths)
// All state lives in the bucket and the caller's session row, so any process can continue an upload. Commit
// assembles the parts server-side: one part is a CopyObject, several become a multipart upload whose parts are
// UploadPartCopy of the stored parts (no bytes through Berth) where they are >= 5 MiB; runs of smaller parts are
// streamed into one multipart part. Completing the multipart upload (or the copy) is S3's atomic placement.
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { S3StorageConfig } from '../config/config.ts';
import type { BlobStore, ByteRange } from './blob-store.ts';
import { parseDigest } from '../oci/digest.ts';

const UPLOAD_ID = /^[a-f0-9-]{36}$/;
// part-<12 hex: write time, epoch ms><16 hex random>: S3 keeps LastModified in whole seconds, the name keeps ms.
const PART = /^part-[a-f0-9]{28}$/;
const MIB = 1024 * 1024;
/** S3's smallest multipart part (all but the last). */
const MIN_PART = 5 * MIB;
/** S3's largest single copy (CopyObject / one UploadPartCopy). */
const MAX_COPY = 5 * 1024 * MIB;
/** Multipart parts assembled at once during a commit. */
const COMMIT_CONCURRENCY = 4;
/** Lifetime of a presigned blob URL (Distribution's default for `redirect`: 20 minutes). */
const PRESIGN_SECONDS = 20 * 60;

/** An S3 error as thrown by the SDK (name and HTTP status are what we branch on). */
interface SdkError extends Error {
  $metadata?: { httpStatusCode?: number };
  Code?: string;
  code?: string;
}
const status = (e: unknown): number | undefined => (e as SdkError)?.$metadata?.httpStatusCode;
const isNotFound = (e: unknown): boolean => {
  const n = (e as SdkError)?.name;
  return n === 'NotFound' || n === 'NoSuchKey' || status(e) === 404;
};
/** A missing object surfaces as ENOENT, as on a filesystem (the upload service maps it to BLOB_UPLOAD_UNKNOWN). */
function enoent(what: string): NodeJS.ErrnoException {
  const e = new Error(`${what}: no such object`) as NodeJS.ErrnoException;
  e.code = 'ENOENT';
  return e;
}

type Segment = { kind: 'copy'; key: string; start: number; end: number } | { kind: 'stream'; keys: string[]; size: number };

export class S3BlobStore implements BlobStore {
  readonly minChunkLength = MIN_PART;
  private readonly s3: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  private readonly chunkSize: number;
  private readonly redirect: boolean;
  private readonly describe: string;

  constructor(c: S3StorageConfig) {
    this.bucket = c.bucket;
    this.prefix = c.rootDirectory ? `${c.rootDirectory}/` : '';
    this.chunkSize = Math.max(MIN_PART, c.multipartChunkSize);
    this.redirect = c.redirect;
    this.describe = `s3 bucket ${c.bucket}${c.endpoint ? ` at ${c.endpoint}` : ` in ${c.region}`}`;
    const agent = { keepAlive: true, maxSockets: 256 };
    this.s3 = new S3Client({
      region: c.region,
      endpoint: c.endpoint || undefined,
      forcePathStyle: c.forcePathStyle,
      // Empty keys: the SDK's default chain (AWS_* environment, shared config, instance/pod roles).
      credentials: c.accessKey ? { accessKeyId: c.accessKey, secretAccessKey: c.secretKey } : undefined,
      // Only where S3 requires them: many S3-compatible servers reject the newer default CRC32 trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { httpAgent: new HttpAgent(agent), httpsAgent: new HttpsAgent(agent), connectionTimeout: 5000 },
    });
    // Gateways that map keys onto directories (versitygw's posix backend) answer 409 ExistingObjectIsDirectory
    // when a write races the removal of a sibling's now-empty parent directory: a write whose body can be sent
    // again is retried (S3 itself has no directories, so this never fires there).
    this.s3.middlewareStack.add(
      (next) => async (args) => {
        const body = (args.input as { Body?: unknown }).Body;
        const replayable = body === undefined || typeof body === 'string' || body instanceof Uint8Array;
        for (let attempt = 0; ; attempt++) {
          try {
            return await next(args);
          } catch (e) {
            if (!replayable || (e as SdkError).name !== 'ExistingObjectIsDirectory' || attempt >= 8) throw e;
            await new Promise((r) => setTimeout(r, 10 * (attempt + 1)));
          }
        }
      },
      { step: 'initialize', name: 'berthRetryDirectoryRace' },
    );
  }

  private uploadPrefix(id: string): string {
    if (typeof id !== 'string' || !UPLOAD_ID.test(id)) throw new Error(`invalid upload id ${id}`);
    return `${this.prefix}_uploads/${id}/`;
  }
  private partKey(id: string, part: string): string {
    if (typeof part !== 'string' || !PART.test(part)) throw new Error(`invalid upload part ${part}`);
    return this.uploadPrefix(id) + part;
  }
  private blobKey(digest: string): string {
    const d = parseDigest(digest);
    return `${this.prefix}docker/registry/v2/blobs/${d.algorithm}/${d.hex.slice(0, 2)}/${d.hex}/data`;
  }

  /** HEAD of one object: its size, or null when it does not exist. */
  private async head(key: string): Promise<number | null> {
    try {
      const r = await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return r.ContentLength ?? 0;
    } catch (e) {
      if (isNotFound(e)) return null;
      throw this.wrap(e, 'HeadObject');
    }
  }

  private async *getObject(key: string, range?: ByteRange): AsyncGenerator<Buffer> {
    let body: AsyncIterable<Buffer>;
    try {
      const r = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }));
      body = r.Body as unknown as AsyncIterable<Buffer>;
    } catch (e) {
      if (isNotFound(e)) throw enoent(key.slice(this.prefix.length));
      throw this.wrap(e, 'GetObject');
    }
    yield* body;
  }

  async createUpload(id: string): Promise<void> {
    const key = this.uploadPrefix(id) + 'created';
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: '', ContentLength: 0 })).catch((e) => {
      throw this.wrap(e, 'PutObject');
    });
  }

  async writeUploadPart(id: string, data: AsyncIterable<Buffer>): Promise<{ part: string; size: number }> {
    const prefix = this.uploadPrefix(id);
    // An unknown (or removed) upload fails here instead of being created.
    if ((await this.head(prefix + 'created')) === null) throw enoent(`upload ${id}`);
    const part = `part-${Date.now().toString(16).padStart(12, '0')}${randomBytes(8).toString('hex')}`;
    const key = prefix + part;
    let size = 0;
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const c of data) {
        size += c.length;
        yield c;
      }
    }
    // Unknown length: lib-storage buffers at most queueSize × partSize and sends a multipart upload (or one PUT
    // for a short chunk); nothing exists under `key` until it completes, and a failure aborts it.
    const up = new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: Readable.from(counted(), { objectMode: false }) },
      partSize: this.chunkSize,
      queueSize: 4,
      leavePartsOnError: false,
    });
    try {
      await up.done();
    } catch (e) {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch(() => {});
      throw e instanceof Error && !(e as SdkError).$metadata ? e : this.wrap(e, 'PutObject');
    }
    return { part, size };
  }

  readUploadParts(id: string, parts: readonly string[]): Readable {
    const keys = parts.map((p) => this.partKey(id, p));
    const self = this;
    return Readable.from(
      (async function* () {
        for (const k of keys) yield* self.getObject(k);
      })(),
      { objectMode: false },
    );
  }

  async removeUploadPart(id: string, part: string): Promise<void> {
    await this.deleteKey(this.partKey(id, part));
  }

  async commitUpload(id: string, parts: readonly string[], digest: string, opts: { keepUpload?: boolean } = {}): Promise<void> {
    this.uploadPrefix(id);
    const dst = this.blobKey(digest);
    const keys = parts.map((p) => this.partKey(id, p));
    await this.place(dst, keys);
    // Concurrent commits of one digest write the same bytes to the same key: whichever completes last wins, equal.
    if (!opts.keepUpload) await this.removeUpload(id);
  }

  /** Places the concatenation of the part objects `keys` at `dst`, unless a blob is there already. */
  private async place(dst: string, keys: string[]): Promise<void> {
    if ((await this.head(dst)) !== null) return;
    const sizes = await Promise.all(
      keys.map(async (k) => {
        const n = await this.head(k);
        if (n === null) throw enoent(k.slice(this.prefix.length));
        return n;
      }),
    );
    if (keys.length === 0) {
      await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: dst, Body: '', ContentLength: 0 })).catch((e) => {
        throw this.wrap(e, 'PutObject');
      });
    } else if (keys.length === 1 && sizes[0] <= MAX_COPY) {
      await this.s3.send(new CopyObjectCommand({ Bucket: this.bucket, Key: dst, CopySource: this.copySource(keys[0]) })).catch((e) => {
        throw this.wrap(e, 'CopyObject');
      });
    } else await this.assemble(dst, plan(keys, sizes));
  }

  /** One multipart upload to `dst` from the planned segments, COMMIT_CONCURRENCY parts at a time. */
  private async assemble(dst: string, segments: Segment[]): Promise<void> {
    if (segments.length > 10_000) throw new Error(`${this.describe}: blob needs ${segments.length} multipart parts (S3 allows 10000); use larger chunks`);
    const { UploadId } = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: dst })).catch((e) => {
      throw this.wrap(e, 'CreateMultipartUpload');
    });
    const done: CompletedPart[] = new Array(segments.length);
    try {
      let next = 0;
      const worker = async () => {
        for (let i = next++; i < segments.length; i = next++) {
          const s = segments[i];
          const PartNumber = i + 1;
          if (s.kind === 'copy') {
            const r = await this.s3.send(
              new UploadPartCopyCommand({ Bucket: this.bucket, Key: dst, UploadId, PartNumber, CopySource: this.copySource(s.key), CopySourceRange: `bytes=${s.start}-${s.end}` }),
            );
            done[i] = { PartNumber, ETag: r.CopyPartResult?.ETag };
          } else {
            const self = this;
            const body = Readable.from(
              (async function* () {
                for (const k of s.keys) yield* self.getObject(k);
              })(),
              { objectMode: false },
            );
            const r = await this.s3.send(new UploadPartCommand({ Bucket: this.bucket, Key: dst, UploadId, PartNumber, Body: body, ContentLength: s.size }));
            done[i] = { PartNumber, ETag: r.ETag };
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(COMMIT_CONCURRENCY, segments.length) }, worker));
      await this.s3.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: dst, UploadId, MultipartUpload: { Parts: done } }));
    } catch (e) {
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: dst, UploadId })).catch(() => {});
      throw (e as SdkError).$metadata ? this.wrap(e, 'multipart commit') : e;
    }
  }

  private copySource(key: string): string {
    return `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  async removeUpload(id: string): Promise<void> {
    const prefix = this.uploadPrefix(id);
    const keys: string[] = [];
    for await (const o of this.list(prefix)) keys.push(o.key);
    // The marker last: a writer that checks it meanwhile still sees a live upload, then its part is a stray
    // the purge finds. (Single deletes: DeleteObjects needs Content-MD5, which some S3-compatible servers lack.)
    const marker = prefix + 'created';
    await Promise.all(keys.filter((k) => k !== marker).map((k) => this.deleteKey(k)));
    await this.deleteKey(marker);
  }

  async *listUploads(): AsyncIterable<{ id: string; modifiedAt: number }> {
    const root = `${this.prefix}_uploads/`;
    // Keys come sorted, so one upload's objects are adjacent: yield each id once its last object has passed.
    let cur: { id: string; modifiedAt: number } | null = null;
    for await (const o of this.list(root)) {
      const id = o.key.slice(root.length).split('/')[0];
      if (!UPLOAD_ID.test(id)) continue;
      if (cur && cur.id !== id) {
        yield cur;
        cur = null;
      }
      const name = o.key.slice(root.length + id.length + 1);
      const at = PART.test(name) ? Math.max(o.modifiedAt, parseInt(name.slice(5, 17), 16)) : o.modifiedAt;
      cur = cur ? { id, modifiedAt: Math.max(cur.modifiedAt, at) } : { id, modifiedAt: at };
    }
    if (cur) yield cur;
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    const n = await this.head(this.blobKey(digest));
    return n === null ? null : { size: n };
  }

  async *listBlobs(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    const root = `${this.prefix}docker/registry/v2/blobs/`;
    for await (const o of this.list(root)) {
      const m = /^([a-z0-9]+)\/([a-f0-9]{2})\/([a-f0-9]+)\/data$/.exec(o.key.slice(root.length));
      if (!m || m[3].slice(0, 2) !== m[2]) continue;
      const digest = `${m[1]}:${m[3]}`;
      try {
        parseDigest(digest);
      } catch {
        continue;
      }
      yield { digest, size: o.size, modifiedAt: o.modifiedAt };
    }
  }

  read(digest: string, range?: ByteRange): Readable {
    const key = this.blobKey(digest);
    // The response body's chunks are handed on as they arrive, with its own flow control (pause/resume): no
    // async-iterator hop per chunk on the download path.
    let body: Readable | null = null;
    let requested = false;
    const out = new Readable({
      highWaterMark: 1024 * 1024,
      read: () => {
        if (body) {
          body.resume();
          return;
        }
        if (requested) return; // the response is on its way; its chunks are pushed once it arrives
        requested = true;
        this.s3
          .send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }))
          .then((r) => {
            const b = r.Body as Readable;
            body = b;
            if (out.destroyed) return void b.destroy();
            b.on('data', (c: Buffer) => {
              if (!out.push(c)) b.pause();
            });
            b.once('end', () => out.push(null));
            b.once('error', (e) => out.destroy(e));
          })
          .catch((e) => out.destroy(isNotFound(e) ? enoent(key.slice(this.prefix.length)) : this.wrap(e, 'GetObject')));
      },
      destroy: (err, cb) => {
        (body as Readable | null)?.destroy();
        cb(err);
      },
    });
    return out;
  }

  /** With `redirect`: a presigned GET URL of the blob, valid for 20 minutes; null = stream through Berth. */
  async redirectUrl(digest: string): Promise<string | null> {
    if (!this.redirect) return null;
    return getSignedUrl(this.s3, new GetObjectCommand({ Bucket: this.bucket, Key: this.blobKey(digest) }), { expiresIn: PRESIGN_SECONDS });
  }

  async remove(digest: string): Promise<void> {
    await this.deleteKey(this.blobKey(digest));
  }

  async check(): Promise<void> {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (e) {
      throw this.wrap(e, 'HeadBucket');
    }
  }

  /** Closes the client's sockets (tests start and stop many stores). */
  destroy(): void {
    this.s3.destroy();
  }

  private async deleteKey(key: string): Promise<void> {
    try {
      await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (e) {
      if (!isNotFound(e)) throw this.wrap(e, 'DeleteObject');
    }
  }

  private async *list(prefix: string): AsyncGenerator<{ key: string; size: number; modifiedAt: number }> {
    let token: string | undefined;
    do {
      const r = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 1000 })).catch((e) => {
        throw this.wrap(e, 'ListObjectsV2');
      });
      for (const o of r.Contents ?? []) if (o.Key) yield { key: o.Key, size: o.Size ?? 0, modifiedAt: o.LastModified?.getTime() ?? 0 };
      token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
  }

  /**
   * An operator-readable error naming the bucket and what to check. S3 answers HEAD requests without a body, so
   * the SDK's own message is often just "UnknownError"; credentials never appear in it.
   */
  private wrap(e: unknown, op: string): Error {
    const code = status(e);
    const name = (e as SdkError)?.name ?? 'Error';
    const errno = (e as NodeJS.ErrnoException)?.code;
    let hint = '';
    if (code === 403) hint = ': access denied (check storage.s3.access_key and storage.s3.secret_key, or the bucket policy)';
    else if (code === 404 || name === 'NoSuchBucket') hint = ': no such bucket (storage.s3.bucket)';
    else if (code === 301 || code === 400) hint = ': wrong region or addressing (storage.s3.region, storage.s3.force_path_style)';
    else if (code === undefined) hint = `: cannot reach the server (${errno ?? (e as Error)?.message ?? name}; check storage.s3.endpoint)`;
    else hint = `: ${code} ${name}${(e as Error)?.message && (e as Error).message !== name ? ` ${(e as Error).message}` : ''}`;
    const err = new Error(`${this.describe}: ${op} failed${hint}`, { cause: e });
    err.name = 'StorageError';
    return err;
  }
}

/**
 * Splits the parts into multipart segments: a part >= 5 MiB is copied server-side (in equal pieces of at most
 * 5 GiB), consecutive smaller parts are streamed together until they reach 5 MiB. Only the last segment may be
 * smaller, as S3 requires.
 */
function plan(keys: readonly string[], sizes: readonly number[]): Segment[] {
  const out: Segment[] = [];
  let run: { keys: string[]; size: number } | null = null;
  for (let i = 0; i < keys.length; i++) {
    const size = sizes[i];
    if (size === 0) continue;
    if (!run && size >= MIN_PART) {
      const pieces = Math.ceil(size / MAX_COPY);
      const step = Math.ceil(size / pieces);
      for (let start = 0; start < size; start += step) out.push({ kind: 'copy', key: keys[i], start, end: Math.min(size, start + step) - 1 });
      continue;
    }
    run ??= { keys: [], size: 0 };
    run.keys.push(keys[i]);
    run.size += size;
    if (run.size >= MIN_PART) {
      out.push({ kind: 'stream', ...run });
      run = null;
    }
  }
  if (run) out.push({ kind: 'stream', ...run });
  // Every part was empty: one empty part makes an empty object.
  if (out.length === 0) out.push({ kind: 'stream', keys: [], size: 0 });
  return out;
}
