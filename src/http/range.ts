// HTTP Range (RFC 9110 bytes ranges) for blob GETs, and the OCI Content-Range of chunked uploads.
import { Errors } from '../errors.ts';
import type { ByteRange } from '../storage/blob-store.ts';

/**
 * Parses `Range: bytes=...` against a blob of `size` bytes. Returns null when the header is absent or not a
 * bytes range (serve the whole blob). Throws 416 when no range is satisfiable.
 */
export function parseRangeHeader(header: string | undefined, size: number): ByteRange[] | null {
  if (!header) return null;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return null;
  const ranges: ByteRange[] = [];
  const unsatisfiable = () => Errors.rangeInvalid('requested range not satisfiable', { 'Content-Range': `bytes */${size}` });
  const specs = m[1].split(',');
  if (specs.length > 64) throw unsatisfiable();
  for (const raw of specs) {
    const s = raw.trim();
    const r = /^(\d*)-(\d*)$/.exec(s);
    if (!r || (r[1] === '' && r[2] === '')) throw unsatisfiable();
    if (r[1] === '') {
      const n = Number(r[2]);
      // RFC 9110 §14.1.1: a range set is satisfiable when at least one of its ranges is; skip the others.
      if (n === 0 || size === 0) continue;
      ranges.push({ start: Math.max(0, size - n), end: size - 1 });
    } else {
      const start = Number(r[1]);
      const end = r[2] === '' ? size - 1 : Math.min(Number(r[2]), size - 1);
      if (r[2] !== '' && Number(r[2]) < start) throw unsatisfiable();
      if (start >= size) continue;
      ranges.push({ start, end });
    }
  }
  if (ranges.length === 0) throw unsatisfiable();
  return ranges;
}

/** OCI chunk Content-Range: `<start>-<end>` (inclusive); also tolerates `bytes a-b/total`. */
export function parseContentRange(header: string | undefined): ByteRange | null {
  if (header === undefined) return null;
  const m = /^\s*(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?\s*$/.exec(header);
  if (!m) throw Errors.rangeInvalid('invalid Content-Range');
  const start = Number(m[1]);
  const end = Number(m[2]);
  if (end < start || !Number.isSafeInteger(end)) throw Errors.rangeInvalid('invalid Content-Range');
  return { start, end };
}
