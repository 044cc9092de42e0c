// A tar writer for test fixtures that can also write what a hostile archive would: PAX long names, links, a
// size header that lies, base-256 sizes. tar(entries) is a whole archive; header() one raw 512-byte header.

export interface TarEntry {
  path: string;
  body?: Buffer | string;
  type?: string; // tar typeflag
  linkname?: string;
  size?: number; // header size when it must lie
  mode?: number;
}

export function header(path: string, type: string, size: number, linkname = '', mode = 0o644): Buffer {
  const h = Buffer.alloc(512);
  h.write(path.slice(0, 100), 0, 'utf8');
  h.write(`${mode.toString(8).padStart(7, '0')}\0`, 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  if (size < 8 ** 11) h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  else {
    // base-256 for sizes octal cannot hold
    h[124] = 0x80;
    let v = BigInt(size);
    for (let i = 135; i > 124; i--) {
      h[i] = Number(v & 0xffn);
      v >>= 8n;
    }
  }
  h.write('00000000000\0', 136);
  h.write(type, 156, 'latin1');
  h.write(linkname.slice(0, 100), 157);
  h.write('ustar\x0000', 257, 'latin1');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);

export function tar(entries: TarEntry[], { end = true } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    if (Buffer.byteLength(e.path) > 100 || Buffer.byteLength(e.linkname ?? '') > 100) {
      const rec = (k: string, v: string) => {
        const s = ` ${k}=${v}\n`;
        let n = Buffer.byteLength(s) + 1;
        while (String(n).length + Buffer.byteLength(s) !== n) n = String(n).length + Buffer.byteLength(s);
        return `${n}${s}`;
      };
      const pax = Buffer.from(rec('path', e.path) + (e.linkname ? rec('linkpath', e.linkname) : ''));
      parts.push(header('PaxHeader', 'x', pax.length), pax, pad(pax.length));
    }
    const type = e.type ?? '0';
    parts.push(header(e.path, type, e.size ?? (type === '0' ? body.length : 0), e.linkname, e.mode));
    if (type === '0') parts.push(body, pad(body.length));
  }
  if (end) parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
