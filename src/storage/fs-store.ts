// Filesystem driver: uploads/<id>/part-<random> while writing (one file per chunk, never rewritten);
// blobs/<alg>/<xx>/<hex>/data once committed, placed by write → fsync → link → fsync(dir), so a crash leaves
// either no blob or a complete one.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, link, rm, rmdir, stat, readdir, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { BlobFile, BlobStore, ByteRange } from './blob-store.ts';
import { parseDigest } from '../oci/digest.ts';

const UPLOAD_ID = /^[a-f0-9-]{36}$/;
const PART = /^part-[a-f0-9]{16}$/;
const HWM = 1024 * 1024;
const SYNC_EVERY = 64 * 1024 * 1024;

export class FsBlobStore implements BlobStore {
  // Any chunk size works on a filesystem; every PATCH becomes one part file.
  readonly minChunkLength = 1;
  private readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  private uploadDir(id: string): string {
    if (!UPLOAD_ID.test(id)) throw new Error(`invalid upload id ${id}`);
    return join(this.root, 'uploads', id);
  }
  private blobPath(digest: string): string {
    const d = parseDigest(digest);
    return join(this.root, 'blobs', d.algorithm, d.hex.slice(0, 2), d.hex, 'data');
  }

  private partPath(id: string, part: string): string {
    if (!PART.test(part)) throw new Error(`invalid upload part ${part}`);
    return join(this.uploadDir(id), part);
  }

  async createUpload(id: string): Promise<void> {
    await mkdir(this.uploadDir(id), { recursive: true });
  }

  async writeUploadPart(id: string, data: AsyncIterable<Buffer>): Promise<{ part: string; size: number }> {
    const dir = this.uploadDir(id);
    await stat(dir); // an unknown upload fails here instead of being created
    const part = `part-${randomBytes(8).toString('hex')}`;
    const path = join(dir, part);
    const fh = await open(path, 'wx');
    let size = 0;
    let flushedAt = 0;
    let syncing: Promise<void> | null = null;
    let batch: Buffer[] = [];
    let batchBytes = 0;
    const writeBatch = async () => {
      if (batchBytes === 0) return;
      const bufs = batch;
      const n = batchBytes;
      batch = [];
      batchBytes = 0;
      const { bytesWritten } = await fh.writev(bufs);
      if (bytesWritten !== n) {
        // Short write: finish the rest byte-exactly.
        const rest = Buffer.concat(bufs).subarray(bytesWritten);
        for (let off = 0; off < rest.length; ) off += (await fh.write(rest, off)).bytesWritten;
      }
      size += n;
      // Write back while more arrives, so the fsync before the blob is acknowledged finds little left to do.
      if (size - flushedAt >= SYNC_EVERY && !syncing) {
        flushedAt = size;
        syncing = fh.datasync().finally(() => (syncing = null));
      }
    };
    try {
      for await (const chunk of data) {
        batch.push(chunk);
        batchBytes += chunk.length;
        if (batchBytes >= HWM) await writeBatch();
      }
      await writeBatch();
      if (syncing) await syncing;
    } catch (e) {
      await (syncing as Promise<void> | null)?.catch(() => {});
      await fh.close().catch(() => {});
      await rm(path, { force: true });
      throw e;
    }
    await fh.close();
    return { part, size };
  }

  readUploadParts(id: string, parts: readonly string[]): Readable {
    const paths = parts.map((p) => this.partPath(id, p));
    return Readable.from(
      (async function* () {
        for (const p of paths) yield* createReadStream(p, { highWaterMark: HWM });
      })(),
      { objectMode: false },
    );
  }

  async removeUploadPart(id: string, part: string): Promise<void> {
    await rm(this.partPath(id, part), { force: true });
  }

  async commitUpload(id: string, parts: readonly string[], digest: string, opts: { keepUpload?: boolean } = {}): Promise<void> {
    const dir = this.uploadDir(id);
    const dst = this.blobPath(digest);
    const paths = parts.map((p) => this.partPath(id, p));
    const dstDir = join(dst, '..');
    if (await exists(dst)) {
      if (!opts.keepUpload) await rm(dir, { recursive: true, force: true });
      return;
    }
    let src: string;
    if (paths.length === 1) src = paths[0];
    else {
      // Several chunks (or none): assemble into a new file that only this call writes.
      src = join(dir, `assembled-${randomBytes(8).toString('hex')}`);
      await pipeline(this.readUploadParts(id, parts), createWriteStream(src, { flags: 'wx', highWaterMark: HWM }));
    }
    const fh = await open(src, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    // A concurrent remove() of the same digest (GC) may take the directory away between these steps: retry.
    // If it takes the placed file, the caller's database transaction finds the blob deleting or missing.
    for (let attempt = 0; ; attempt++) {
      try {
        const firstCreated = await mkdir(dstDir, { recursive: true });
        // A hard link, not a rename: atomic, never replaces an existing blob, and leaves the upload's own copy
        // in place, so a caller that keeps the upload can place the bytes again (GC may remove the blob meanwhile).
        try {
          await link(src, dst);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        }
        await fsyncDir(dstDir);
        // A new directory's own entry is durable only once its parent is synced: after a power cut the database
        // could otherwise name a blob whose <xx>/<hex> directory is gone.
        if (firstCreated) for (let d = dstDir; d !== dirname(firstCreated); d = dirname(d)) await fsyncDir(dirname(d));
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 10) throw e;
      }
    }
    if (!opts.keepUpload) await rm(dir, { recursive: true, force: true });
  }

  async *listBlobs(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }> {
    for (const alg of await readdir(join(this.root, 'blobs')).catch(() => [] as string[])) {
      if (!/^[a-z0-9]+$/.test(alg)) continue;
      for (const xx of await readdir(join(this.root, 'blobs', alg)).catch(() => [] as string[])) {
        for (const hex of await readdir(join(this.root, 'blobs', alg, xx)).catch(() => [] as string[])) {
          const digest = `${alg}:${hex}`;
          try {
            parseDigest(digest);
          } catch {
            continue;
          }
          const st = await stat(join(this.root, 'blobs', alg, xx, hex, 'data')).catch(() => null);
          if (st) yield { digest, size: st.size, modifiedAt: st.mtimeMs };
        }
      }
    }
  }

  async removeUpload(id: string): Promise<void> {
    await rm(this.uploadDir(id), { recursive: true, force: true });
  }

  async *listUploads(): AsyncIterable<{ id: string; modifiedAt: number }> {
    let names: string[];
    try {
      names = await readdir(join(this.root, 'uploads'));
    } catch {
      return;
    }
    for (const id of names) {
      if (!UPLOAD_ID.test(id)) continue;
      // The directory's mtime moves whenever a part is added.
      const st = await stat(join(this.root, 'uploads', id)).catch(() => null);
      if (st) yield { id, modifiedAt: st.mtimeMs }; // else removed meanwhile
    }
  }

  async stat(digest: string): Promise<{ size: number } | null> {
    try {
      return { size: (await stat(this.blobPath(digest))).size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  async openFile(digest: string): Promise<BlobFile> {
    const fh = await open(this.blobPath(digest), 'r');
    return {
      read: async (buf, position, length) => (await fh.read(buf, 0, length, position)).bytesRead,
      close: () => fh.close(),
    };
  }

  read(digest: string, range?: ByteRange): Readable {
    return createReadStream(this.blobPath(digest), { highWaterMark: HWM, start: range?.start, end: range?.end });
  }

  async remove(digest: string): Promise<void> {
    const p = this.blobPath(digest);
    // unlink + rmdir (two syscalls; GC removes many blobs): a missing file is fine, and a directory that is not
    // empty or already gone is left to the recursive fallback.
    try {
      await unlink(p);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    try {
      await rmdir(join(p, '..'));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTEMPTY' || code === 'EEXIST') await rm(join(p, '..'), { recursive: true, force: true });
      else if (code !== 'ENOENT') throw e;
    }
  }

  async check(): Promise<void> {
    await mkdir(join(this.root, 'uploads'), { recursive: true });
    await stat(this.root);
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
