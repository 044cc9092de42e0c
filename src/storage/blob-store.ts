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

/** Positional reads of one stored blob into caller-owned buffers (lets the HTTP layer reuse its buffers). */
export interface BlobFile {
  read(buf: Buffer, position: number, length: number): Promise<number>;
  close(): Promise<void>;
}

export interface BlobStore {
  /**
   * Smallest chunk (other than the last) the driver handles efficiently, advertised to clients as
   * `OCI-Chunk-Min-Length` when an upload session opens (an S3 driver needs 5 MiB multipart parts).
   */
  readonly minChunkLength: number;
  /** Prepares an empty upload. */
  createUpload(id: string): Promise<void>;
  /**
   * Stores one chunk of an upload as a new, immutable part and resolves with the part's name and size. Parts
   * are never modified afterwards, and which parts count (in which order) is decided by the caller's session
   * record, not by the store: two concurrent writers can never mix their bytes, and a failed or losing write
   * leaves only an unused part behind. Nothing is durable until commitUpload.
   */
  writeUploadPart(id: string, data: AsyncIterable<Buffer>): Promise<{ part: string; size: number }>;
  /** Reads the concatenation of `parts` (the acknowledged content of a session), e.g. to re-hash it. */
  readUploadParts(id: string, parts: readonly string[]): Readable;
  /** Drops one part (a write that failed or lost the race). */
  removeUploadPart(id: string, part: string): Promise<void>;
  /**
   * Makes the concatenation of `parts` the blob `digest` (already verified by the caller) and removes the upload.
   * When it resolves the blob is durable; if the blob already exists the upload is simply dropped. Each driver
   * makes its own durable, atomic placement (fs: fsync + hard link + fsync dir; S3: complete a multipart upload).
   * With `keepUpload` the upload's parts stay (the caller removes the upload once the database has the blob),
   * so the bytes can be placed again if garbage collection removed a blob that existed at placement time.
   */
  commitUpload(id: string, parts: readonly string[], digest: string, opts?: { keepUpload?: boolean }): Promise<void>;
  removeUpload(id: string): Promise<void>;
  /** Upload ids with their last modification time (epoch ms), for purging. */
  listUploads(): AsyncIterable<{ id: string; modifiedAt: number }>;
  stat(digest: string): Promise<BlobStat | null>;
  /** Every committed blob with its size and last modification time (epoch ms), for garbage collection. */
  listBlobs(): AsyncIterable<{ digest: string; size: number; modifiedAt: number }>;
  /** Streams a blob or a byte range of it. */
  read(digest: string, range?: ByteRange): Readable;
  /** Optional fast path for whole-blob downloads: positional reads without per-chunk allocation. */
  openFile?(digest: string): Promise<BlobFile>;
  /**
   * Optional: a short-lived URL the client may GET the blob from directly (S3 `redirect`, presigned), or null to
   * serve the bytes through Berth. Only called for blobs the database says are visible to the caller.
   */
  redirectUrl?(digest: string): Promise<string | null>;
  remove(digest: string): Promise<void>;
  /** Cheap probe for /health. */
  check(): Promise<void>;
}
