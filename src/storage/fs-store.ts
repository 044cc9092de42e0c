// Filesystem driver: uploads/<id>/data while writing; blobs/<alg>/<xx>/<hex>/data once committed, placed by
// write → fsync → rename → fsync(dir), so a crash leaves either no blob or a complete one.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, truncate, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { BlobStore, ByteRange } from './blob-store.ts';
import { parseDigest } from '../oci/digest.ts';

const UPLOAD_ID = /^[a-f0-9-]{36}$/;
const HWM = 1024 * 1024;

export class FsBlobStore implements BlobStore {
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

  async createUpload(id: string): Promise<void> {
    const dir = this.uploadDir(id);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'data'), '');
  }

  async writeUpload(id: string, offset: number, data: AsyncIterable<Buffer>): Promise<number> {
    const file = join(this.uploadDir(id), 'data');
    const st = await stat(file);
    if (st.size > offset) await truncate(file, offset);
    else if (st.size < offset) throw new Error(`upload ${id} has ${st.size} bytes, expected ${offset}`);
    const ws = createWriteStream(file, { flags: 'a', highWaterMark: HWM });
    await pipeline(data, ws);
    return offset + ws.bytesWritten;
  }

  async uploadSize(id: string): Promise<number | null> {
    try {
      return (await stat(join(this.uploadDir(id), 'data'))).size;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  readUpload(id: string, length: number): Readable {
    if (length === 0) return Readable.from([]);
    return createReadStream(join(this.uploadDir(id), 'data'), { highWaterMark: HWM, start: 0, end: length - 1 });
  }

  async commitUpload(id: string, digest: string): Promise<void> {
    const dir = this.uploadDir(id);
    const src = join(dir, 'data');
    const dst = this.blobPath(digest);
    const fh = await open(src, 'r+');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    const dstDir = join(dst, '..');
    if (await exists(dst)) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const firstCreated = await mkdir(dstDir, { recursive: true });
    await rename(src, dst);
    await fsyncDir(dstDir);
    // A new directory's own entry is durable only once its parent is synced: after a power cut the database
    // could otherwise name a blob whose <xx>/<hex> directory is gone.
    if (firstCreated) for (let d = dstDir; d !== dirname(firstCreated); d = dirname(d)) await fsyncDir(dirname(d));
    await rm(dir, { recursive: true, force: true });
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
      // The data file's mtime moves with every write; the directory's only when entries change.
      const st = (await stat(join(this.root, 'uploads', id, 'data')).catch(() => null)) ?? (await stat(join(this.root, 'uploads', id)).catch(() => null));
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

  read(digest: string, range?: ByteRange): Readable {
    return createReadStream(this.blobPath(digest), { highWaterMark: HWM, start: range?.start, end: range?.end });
  }

  async remove(digest: string): Promise<void> {
    const p = this.blobPath(digest);
    await rm(join(p, '..'), { recursive: true, force: true });
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
