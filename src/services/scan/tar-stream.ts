// A streaming tar reader for image layers: headers are parsed as bytes arrive and each entry's body is handed
// to a caller-chosen sink chunk by chunk, so a layer is never held in memory or unpacked to disk.
// Handles ustar, GNU long names/links (L/K), PAX extended headers (x; g ignored), base-256 sizes, gzip and zstd
// (sniffed by magic bytes) or plain tar. Malformed input ends in a TarError, never a crash.
import { Readable } from 'node:stream';
import * as zlib from 'node:zlib';

export class TarError extends Error {}

export type TarEntryType = 'file' | 'hardlink' | 'symlink' | 'dir' | 'other';

export interface TarEntry {
  /** The raw path from the archive (PAX/GNU long name applied), not normalised. */
  path: string;
  type: TarEntryType;
  /** Bytes of body that follow in the archive (for GNU sparse files: the stored data only). */
  size: number;
  mode: number;
  linkname: string;
}

/** Receives one entry's body; `end` is called once after the last chunk. Chunks are only valid during the call. */
export interface TarSink {
  write(chunk: Buffer): void;
  end(): void;
}

export interface TarLimits {
  /** Uncompressed bytes per archive (a gzip bomb stops here). */
  maxBytes: number;
  maxEntries: number;
  /** PAX header / GNU long name bodies. */
  maxMetaBytes: number;
}

export const defaultTarLimits: TarLimits = { maxBytes: 64 * 1024 ** 3, maxEntries: 2_000_000, maxMetaBytes: 1024 * 1024 };

type Chunks = AsyncIterable<Buffer | Uint8Array | string>;

/** Bytes of an archive with any gzip/zstd compression removed, sniffed from the first bytes. */
export async function* decompressed(source: Chunks): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let ended = false;
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    head = Buffer.concat([head, toBuf(r.value)]);
  }
  const rest = async function* () {
    if (head.length) yield head;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield toBuf(r.value);
    }
  };
  let decoder: zlib.Gunzip | null = null;
  if (head[0] === 0x1f && head[1] === 0x8b) decoder = zlib.createGunzip();
  else if (head.length >= 4 && head.readUInt32LE(0) === 0xfd2fb528) {
    const zstd = (zlib as any).createZstdDecompress;
    if (typeof zstd !== 'function') throw new TarError('zstd layers need a Node with zlib zstd support');
    decoder = zstd();
  }
  if (!decoder) {
    yield* rest();
    return;
  }
  const input = Readable.from(rest());
  input.on('error', (e) => decoder.destroy(e));
  input.pipe(decoder);
  try {
    for await (const c of decoder) yield c as Buffer;
  } catch (e) {
    throw e instanceof TarError ? e : new TarError(`corrupt compressed stream: ${(e as Error).message}`);
  } finally {
    input.destroy();
    decoder.destroy();
  }
}

function toBuf(c: Buffer | Uint8Array | string): Buffer {
  return Buffer.isBuffer(c) ? c : typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
}

/** Pulls exact byte counts out of a chunk stream. */
class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  total = 0;
  private readonly it: AsyncIterator<Buffer>;
  private readonly maxBytes: number;
  constructor(it: AsyncIterator<Buffer>, maxBytes: number) {
    this.it = it;
    this.maxBytes = maxBytes;
  }

  private async fill(): Promise<boolean> {
    const r = await this.it.next();
    if (r.done) return false;
    this.total += r.value.length;
    if (this.total > this.maxBytes) throw new TarError(`archive exceeds ${this.maxBytes} uncompressed bytes`);
    this.buf = this.pos < this.buf.length ? Buffer.concat([this.buf.subarray(this.pos), r.value]) : r.value;
    this.pos = 0;
    return true;
  }

  /** Exactly n bytes, or null at a clean end of stream (no bytes at all); a partial read is a TarError. */
  async read(n: number): Promise<Buffer | null> {
    while (this.buf.length - this.pos < n) {
      if (!(await this.fill())) {
        if (this.buf.length - this.pos === 0) return null;
        throw new TarError('archive truncated');
      }
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Streams n bytes to fn (or drops them when fn is null). */
  async pass(n: number, fn: ((b: Buffer) => void) | null): Promise<void> {
    while (n > 0) {
      if (this.pos >= this.buf.length && !(await this.fill())) throw new TarError('archive truncated inside an entry');
      const take = Math.min(n, this.buf.length - this.pos);
      if (fn) fn(this.buf.subarray(this.pos, this.pos + take));
      this.pos += take;
      n -= take;
    }
  }
}

function cstr(b: Buffer): string {
  const z = b.indexOf(0);
  return b.subarray(0, z < 0 ? b.length : z).toString('utf8');
}

function num(b: Buffer): number {
  if (b[0] & 0x80) {
    // base-256 (GNU/star) for values that do not fit in octal; negative values are corrupt
    if (b[0] & 0x40) throw new TarError('corrupt tar header: negative number');
    let v = b[0] & 0x3f;
    for (let i = 1; i < b.length; i++) {
      v = v * 256 + b[i];
      if (!Number.isSafeInteger(v)) throw new TarError('corrupt tar header: number too large');
    }
    return v;
  }
  const s = cstr(b).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError('corrupt tar header: bad octal field');
  const v = parseInt(s, 8);
  if (!Number.isSafeInteger(v)) throw new TarError('corrupt tar header: number too large');
  return v;
}

function checksumOk(h: Buffer): boolean {
  let want: number;
  try {
    want = num(h.subarray(148, 156));
  } catch {
    return false;
  }
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : h[i];
  return sum === want;
}

function parsePax(body: Buffer): Map<string, string> {
  const out = new Map<string, string>();
  let off = 0;
  while (off < body.length) {
    const sp = body.indexOf(0x20, off);
    if (sp < 0) break;
    const len = parseInt(body.subarray(off, sp).toString('ascii'), 10);
    if (!Number.isSafeInteger(len) || len <= sp - off || off + len > body.length) throw new TarError('corrupt PAX header');
    const rec = body.subarray(sp + 1, off + len - 1).toString('utf8');
    const eq = rec.indexOf('=');
    if (eq > 0) out.set(rec.slice(0, eq), rec.slice(eq + 1));
    off += len;
  }
  return out;
}

/**
 * Reads a tar archive (compressed or not). For every entry `onEntry` may return a sink for its body; entries
 * without one are skipped without being buffered. Resolves with the count of entries read.
 */
export async function readTar(source: Chunks, onEntry: (e: TarEntry) => TarSink | null, limits: Partial<TarLimits> = {}): Promise<{ entries: number; bytes: number }> {
  const lim = { ...defaultTarLimits, ...limits };
  const r = new ByteReader(decompressed(source)[Symbol.asyncIterator](), lim.maxBytes);
  let entries = 0;
  let longName: string | null = null;
  let longLink: string | null = null;
  let pax: Map<string, string> | null = null;
  let sawHeader = false;
  for (;;) {
    const h = await r.read(512);
    if (!h) break;
    if (h.every((b) => b === 0)) break; // end-of-archive marker; trailing blocks are not read
    if (!checksumOk(h)) throw new TarError(sawHeader ? `corrupt tar header at byte ${r.total}` : 'not a tar archive');
    sawHeader = true;
    const typeflag = String.fromCharCode(h[156] || 0x30);
    let size = num(h.subarray(124, 136));
    const readMeta = async (): Promise<Buffer> => {
      if (size > lim.maxMetaBytes) throw new TarError(`tar metadata entry of ${size} bytes exceeds ${lim.maxMetaBytes}`);
      const b = size ? await r.read(size) : Buffer.alloc(0);
      if (!b) throw new TarError('archive truncated');
      const copy = Buffer.from(b);
      await r.pass((512 - (size % 512)) % 512, null);
      return copy;
    };
    if (typeflag === 'L' || typeflag === 'K') {
      const v = cstr(await readMeta());
      if (typeflag === 'L') longName = v;
      else longLink = v;
      continue;
    }
    if (typeflag === 'x') {
      pax = parsePax(await readMeta());
      continue;
    }
    if (typeflag === 'g') {
      await readMeta();
      continue;
    }
    if (++entries > lim.maxEntries) throw new TarError(`archive has more than ${lim.maxEntries} entries`);
    const magic = h.subarray(257, 263).toString('latin1');
    const prefix = magic.startsWith('ustar') ? cstr(h.subarray(345, 500)) : '';
    const name = cstr(h.subarray(0, 100));
    const path = pax?.get('path') ?? longName ?? (prefix ? `${prefix}/${name}` : name);
    const linkname = pax?.get('linkpath') ?? longLink ?? cstr(h.subarray(157, 257));
    if (pax?.has('size')) {
      const s = Number(pax.get('size'));
      if (!Number.isSafeInteger(s) || s < 0) throw new TarError('corrupt PAX size');
      size = s;
    }
    longName = longLink = null;
    pax = null;
    const type: TarEntryType =
      typeflag === '0' || typeflag === '7' || typeflag === 'S' ? 'file' : typeflag === '1' ? 'hardlink' : typeflag === '2' ? 'symlink' : typeflag === '5' ? 'dir' : 'other';
    // Only regular files carry a body worth reading; links and directories with a size are corrupt but skippable.
    const sink = onEntry({ path, type, size: type === 'file' ? size : 0, mode: num(h.subarray(100, 108)), linkname });
    if (sink) {
      await r.pass(size, (b) => sink.write(b));
      sink.end();
    } else {
      await r.pass(size, null);
    }
    await r.pass((512 - (size % 512)) % 512, null);
  }
  return { entries, bytes: r.total };
}

/** A sink that keeps up to `cap` bytes; `onDone` gets the bytes, or null when the entry was larger. */
export function collectSink(cap: number, onDone: (b: Buffer | null) => void): TarSink {
  const parts: Buffer[] = [];
  let n = 0;
  let over = false;
  return {
    write(c) {
      if (over) return;
      n += c.length;
      if (n > cap) {
        over = true;
        parts.length = 0;
        return;
      }
      parts.push(Buffer.from(c));
    },
    end() {
      onDone(over ? null : Buffer.concat(parts, n));
    },
  };
}
