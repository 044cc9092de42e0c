// A log file rotated by size, without a dependency: file → file.1 → … → file.N (the oldest dropped), then reopened.
// Writes are synchronous so a line is never interleaved with another or split across two files, whatever
// number of requests log at once (Node runs one write at a time); a line longer than the limit gets a file of its own.
import { closeSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

export class RotatingFile {
  readonly path: string;
  private readonly maxSize: number;
  private readonly count: number;
  private fd: number;
  private size: number;

  constructor(path: string, maxSize: number, count: number) {
    this.path = path;
    this.maxSize = maxSize;
    this.count = count;
    mkdirSync(dirname(path), { recursive: true });
    this.fd = openSync(path, 'a', 0o640);
    this.size = fstatSync(this.fd).size;
  }

  /** One call = one whole line (pino writes each record with its newline). */
  write(chunk: string | Uint8Array): boolean {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.size > 0 && this.size + buf.length > this.maxSize) this.rotate();
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off);
    this.size += buf.length;
    return true;
  }

  private rotate(): void {
    closeSync(this.fd);
    if (this.count === 0) rmSync(this.path, { force: true });
    else {
      rmSync(`${this.path}.${this.count}`, { force: true });
      for (let i = this.count - 1; i >= 1; i--) {
        try {
          renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      renameSync(this.path, `${this.path}.1`);
    }
    this.fd = openSync(this.path, 'a', 0o640);
    this.size = 0;
  }

  close(): void {
    closeSync(this.fd);
  }
}
