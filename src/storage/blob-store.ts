// The blob storage driver interface. Content is addressed by validated digests only; upload ids are
// server-generated UUIDs. The database, not the store, decides whether a blob exists for a repository.
import type { Readable } from 'node:stream';

export interface BlobStat {
  size: number;
}

export interface ByteRange {
  start: number;
  /** inclusive */
  end: number;
}

export interface BlobStore {
  /** Prepares an empty upload. */
  createUpload(id: string): Promise<void>;
  /**
   * Appends `data` to the upload at `offset`; bytes past `offset` from an earlier failed write are discarded first.
   * Resolves with the upload's new size. Nothing is durable until commitUpload.
   */
  writeUpload(id: string, offset: number, data: AsyncIterable<Buffer>): Promise<number>;
  /** Current size of an upload, or null if it does not exist. */
  uploadSize(id: string): Promise<number | null>;
  /** Reads the first `length` bytes of an upload (used to re-hash a session continued on another process). */
  readUpload(id: string, length: number): Readable;
  /**
   * Turns the upload into the blob `digest` (already verified by the caller). When it resolves, the blob is
   * durable; if the blob already exists the upload is simply dropped. Drivers must not rely on rename semantics
   * of other drivers: each makes its own durable, atomic placement (fs: fsync + rename + fsync dir).
   */
  commitUpload(id: string, digest: string): Promise<void>;
  removeUpload(id: string): Promise<void>;
  /** Upload ids with their last modification time (epoch ms), for purging. */
  listUploads(): AsyncIterable<{ id: string; modifiedAt: number }>;
  stat(digest: string): Promise<BlobStat | null>;
  /** Streams a blob or a byte range of it. */
  read(digest: string, range?: ByteRange): Readable;
  remove(digest: string): Promise<void>;
  /** Cheap probe for /health. */
  check(): Promise<void>;
}
