// Whole-blob downloads without per-chunk allocation: Node has no sendfile for HTTP, and a fresh 1 MiB buffer per
// read makes the GC run every few dozen megabytes. A few buffers are read into and written in rotation (the next
// reads are already in flight while the socket takes the current one); a buffer is reused only once the socket
// has taken its bytes (the write callback).
import type { ServerResponse } from 'node:http';
import type { BlobFile } from '../storage/blob-store.ts';

const CHUNK = 1024 * 1024;
const BUFFERS = 4;
const READ_AHEAD = 2;

/** Writes `size` bytes of `file` to `res` (headers already sent). Resolves when done; rejects on error/abort. */
export async function streamFile(res: ServerResponse, file: BlobFile, size: number): Promise<void> {
  const free: Buffer[] = Array.from({ length: BUFFERS }, () => Buffer.allocUnsafeSlow(CHUNK));
  let waiting: (() => void) | null = null;
  let failed: Error | null = null;
  const wake = () => {
    const w = waiting;
    waiting = null;
    w?.();
  };
  const sleep = () => new Promise<void>((r) => (waiting = r));
  const onClose = () => {
    if (!res.writableFinished) failed ??= new Error('client went away');
    wake();
  };
  res.on('close', onClose);
  res.on('drain', wake);
  let readPos = 0;
  const inflight: Promise<{ buf: Buffer; n: number }>[] = [];
  const issue = () => {
    const buf = free.pop()!;
    const at = readPos;
    const len = Math.min(CHUNK, size - at);
    readPos += len;
    const p = file.read(buf, at, len).then((n) => {
      if (n !== len) throw new Error(`blob ended early at ${at + n} of ${size} bytes`);
      return { buf, n };
    });
    p.catch(() => {}); // awaited in order below; this only keeps an early failure from being "unhandled"
    inflight.push(p);
  };
  try {
    let written = 0;
    while (written < size) {
      if (failed) throw failed;
      while (inflight.length < READ_AHEAD && readPos < size && free.length) issue();
      if (!inflight.length) {
        await sleep();
        continue;
      }
      const { buf, n } = await inflight.shift()!;
      while (res.writableNeedDrain && !failed) await sleep();
      if (failed) throw failed;
      written += n;
      res.write(n === CHUNK ? buf : buf.subarray(0, n), (err) => {
        if (err) failed ??= err;
        free.push(buf);
        wake();
      });
    }
    await new Promise<void>((resolve, reject) => {
      res.end(() => resolve());
      res.once('error', reject);
    });
  } finally {
    res.off('close', onClose);
    res.off('drain', wake);
    await Promise.allSettled(inflight);
  }
}
