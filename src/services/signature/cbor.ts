// A minimal CBOR (RFC 8949) decoder and encoder, enough for COSE_Sign1 envelopes (RFC 9052): the Notary Project's
// COSE signatures are read from untrusted blobs, so the decoder is strict — one item filling the whole input,
// definite lengths only, unique map keys, bounded nesting, lengths checked against the bytes left before anything is
// allocated. The encoder writes only what a Sig_structure needs (arrays, text and byte strings, integers).

export type CborKey = number | string;
export type CborValue = number | bigint | string | Buffer | boolean | null | undefined | CborValue[] | CborMap | CborTagged;
export type CborMap = Map<CborKey, CborValue>;

/** A tagged item (major type 6), e.g. 18 = COSE_Sign1, 1 = epoch-based date/time. */
export class CborTagged {
  readonly tag: number;
  readonly value: CborValue;
  constructor(tag: number, value: CborValue) {
    this.tag = tag;
    this.value = value;
  }
}

export class CborError extends Error {}

const MAX_DEPTH = 16;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes exactly one CBOR item that must span all of `bytes`. Throws CborError on anything malformed. */
export function decodeCbor(bytes: Uint8Array): CborValue {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const d = new Decoder(buf);
  const v = d.item(0);
  if (d.pos !== buf.length) throw new CborError(`${buf.length - d.pos} bytes after the CBOR item`);
  return v;
}

class Decoder {
  pos = 0;
  private readonly buf: Buffer;
  constructor(buf: Buffer) {
    this.buf = buf;
  }

  private need(n: number): void {
    if (n > this.buf.length - this.pos) throw new CborError('truncated CBOR item');
  }

  /** The argument of a head: a count, a length, a value or a tag number. */
  private argument(info: number): number | bigint {
    if (info < 24) return info;
    if (info === 31) throw new CborError('indefinite-length CBOR items are not supported');
    if (info > 27) throw new CborError(`reserved CBOR additional information ${info}`);
    const size = 1 << (info - 24);
    this.need(size);
    let v: number | bigint;
    if (size === 1) v = this.buf.readUInt8(this.pos);
    else if (size === 2) v = this.buf.readUInt16BE(this.pos);
    else if (size === 4) v = this.buf.readUInt32BE(this.pos);
    else {
      const big = this.buf.readBigUInt64BE(this.pos);
      v = big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
    }
    this.pos += size;
    return v;
  }

  /** A length or count: it must fit in what is left (every element takes at least one byte). */
  private length(info: number): number {
    const n = this.argument(info);
    if (typeof n === 'bigint' || n > this.buf.length - this.pos) throw new CborError('CBOR length beyond the input');
    return n;
  }

  item(depth: number): CborValue {
    if (depth > MAX_DEPTH) throw new CborError('CBOR nested too deeply');
    this.need(1);
    const head = this.buf[this.pos++];
    const major = head >> 5;
    const info = head & 0x1f;
    switch (major) {
      case 0:
        return this.argument(info);
      case 1: {
        const n = this.argument(info);
        return typeof n === 'bigint' ? -1n - n : n >= Number.MAX_SAFE_INTEGER ? -1n - BigInt(n) : -1 - n;
      }
      case 2: {
        const n = this.length(info);
        const b = Buffer.from(this.buf.subarray(this.pos, this.pos + n));
        this.pos += n;
        return b;
      }
      case 3: {
        const n = this.length(info);
        let s: string;
        try {
          s = utf8.decode(this.buf.subarray(this.pos, this.pos + n));
        } catch {
          throw new CborError('CBOR text string is not UTF-8');
        }
        this.pos += n;
        return s;
      }
      case 4: {
        const n = this.length(info);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5: {
        const n = this.length(info);
        const m: CborMap = new Map();
        for (let i = 0; i < n; i++) {
          const k = this.item(depth + 1);
          if (typeof k !== 'number' && typeof k !== 'string') throw new CborError('CBOR map key is neither an integer nor a text string');
          if (m.has(k)) throw new CborError(`duplicate CBOR map key ${JSON.stringify(k)}`);
          m.set(k, this.item(depth + 1));
        }
        return m;
      }
      case 6: {
        const tag = this.argument(info);
        if (typeof tag === 'bigint') throw new CborError('CBOR tag number too large');
        return new CborTagged(tag, this.item(depth + 1));
      }
      default:
        return this.simple(info);
    }
  }

  private simple(info: number): CborValue {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 25: {
        this.need(2);
        const v = halfToNumber(this.buf.readUInt16BE(this.pos));
        this.pos += 2;
        return v;
      }
      case 26: {
        this.need(4);
        const v = this.buf.readFloatBE(this.pos);
        this.pos += 4;
        return v;
      }
      case 27: {
        this.need(8);
        const v = this.buf.readDoubleBE(this.pos);
        this.pos += 8;
        return v;
      }
      default:
        throw new CborError(`unsupported CBOR simple value ${info}`);
    }
  }
}

function halfToNumber(h: number): number {
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  const sign = h & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (mant + 1024) * 2 ** (exp - 25);
}

/** What the encoder writes: enough for a COSE Sig_structure (and, for tests, COSE headers: maps and tags). */
export type CborEncodable = number | string | Uint8Array | CborEncodable[] | Map<CborKey, CborEncodable> | CborTagged;

/** Encodes with the shortest heads, as RFC 9052 asks for a Sig_structure; map entries in their given order. */
export function encodeCbor(v: CborEncodable): Buffer {
  const parts: Buffer[] = [];
  const write = (x: CborEncodable): void => {
    if (typeof x === 'number') {
      if (!Number.isSafeInteger(x)) throw new CborError('only integers are encoded');
      parts.push(x >= 0 ? head(0, x) : head(1, -1 - x));
    } else if (typeof x === 'string') {
      const b = Buffer.from(x, 'utf8');
      parts.push(head(3, b.length), b);
    } else if (x instanceof Uint8Array) {
      parts.push(head(2, x.length), Buffer.from(x));
    } else if (x instanceof Map) {
      parts.push(head(5, x.size));
      for (const [k, e] of x) {
        write(k);
        write(e);
      }
    } else if (x instanceof CborTagged) {
      parts.push(head(6, x.tag));
      write(x.value as CborEncodable);
    } else {
      parts.push(head(4, x.length));
      for (const e of x) write(e);
    }
  };
  write(v);
  return Buffer.concat(parts);
}

function head(major: number, n: number): Buffer {
  const m = major << 5;
  if (n < 24) return Buffer.from([m | n]);
  if (n < 0x100) return Buffer.from([m | 24, n]);
  if (n < 0x10000) {
    const b = Buffer.alloc(3);
    b[0] = m | 25;
    b.writeUInt16BE(n, 1);
    return b;
  }
  if (n < 0x100000000) {
    const b = Buffer.alloc(5);
    b[0] = m | 26;
    b.writeUInt32BE(n, 1);
    return b;
  }
  const b = Buffer.alloc(9);
  b[0] = m | 27;
  b.writeBigUInt64BE(BigInt(n), 1);
  return b;
}
