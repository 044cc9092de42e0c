// kill -9 in the middle of a streamed blob upload, at random offsets: after a restart nothing half-written is
// visible, everything acknowledged before the crash is intact, and the interrupted session resumes exactly at
// the size the server had acknowledged (the design persists the session and its acknowledged size).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomInt } from 'node:crypto';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  MiB,
  expectStatus,
  assertImageIntact,
  blobFileExists,
  errorCode,
  hashBlob,
  headStatus,
  openSession,
  patchChunk,
  pushImage,
  req,
  uploadsDir,
  waitFor,
} from './lib.ts';

const ROUNDS = 5;
// Bounded so the directory stays fast on a 2-core machine (~55 MB/s per streamed upload there).
const BLOB = 32 * MiB;

/** A large deterministic blob generated on the fly: 1 MiB blocks of a random base, each stamped with its index. */
class BigBlob {
  readonly size: number;
  private readonly base: Buffer;
  readonly digest: string;
  constructor(size: number) {
    this.size = size;
    this.base = randomBytes(MiB);
    const h = createHash('sha256');
    for (const c of this.range(0, size)) h.update(c);
    this.digest = 'sha256:' + h.digest('hex');
  }
  private block(i: number): Buffer {
    const b = Buffer.from(this.base);
    b.writeUInt32BE(i, 0);
    return b;
  }
  /** The bytes [start, end) as up-to-1-MiB chunks. */
  *range(start: number, end: number): Generator<Buffer> {
    let pos = start;
    while (pos < end) {
      const i = Math.floor(pos / MiB);
      const from = pos - i * MiB;
      const to = Math.min(MiB, end - i * MiB);
      yield this.block(i).subarray(from, to);
      pos += to - from;
    }
  }
  slice(start: number, end: number): Buffer {
    return Buffer.concat([...this.range(start, end)]);
  }
  /** A request body streaming [start, size); calls onSent with the running byte count. */
  stream(start: number, onSent: (n: number) => void): ReadableStream<Uint8Array> {
    const it = this.range(start, this.size);
    let sent = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull(ctrl) {
          const n = it.next();
          if (n.done) return ctrl.close();
          sent += n.value.length;
          ctrl.enqueue(n.value);
          onSent(sent);
        },
      },
      { highWaterMark: 0 },
    );
  }
}

test('kill -9 during a streamed blob upload, at random offsets', { timeout: 120_000 }, async () => {
  let b: Berth = await startBerth();
  try {
    const repo = 'library/durable-upload';
    // Acknowledged before any crash: must survive every one of them byte for byte.
    const before = await pushImage(b, repo, 'before', randomBytes(3 * MiB + 17));

    for (let round = 0; round < ROUNDS; round++) {
      const blob = new BigBlob(BLOB);
      // First chunk acknowledged (an unaligned size), then a streamed PATCH of the rest that the crash interrupts.
      const first = randomInt(1, 4) * MiB + randomInt(1, 4096);
      const killAt = randomInt(first + MiB, BLOB - 8 * MiB);
      const s = await openSession(b, repo);
      assert.equal(await patchChunk(b, s.location, 0, blob.slice(0, first)), `0-${first - 1}`);

      const sessionDir = join(uploadsDir(b), s.id);
      // Bytes on disk for the session: every part file (one per PATCH).
      const onDisk = () => (existsSync(sessionDir) ? readdirSync(sessionDir).reduce((n, f) => n + statSync(join(sessionDir, f)).size, 0) : 0);
      let sentTotal = first;
      let trigger!: () => void;
      const reached = new Promise<void>((r) => (trigger = r));
      const patch = req(b, 'PATCH', s.location, {
        body: blob.stream(first, (n) => {
          sentTotal = first + n;
          if (sentTotal >= killAt) trigger();
        }),
        headers: { 'content-type': 'application/octet-stream' },
      }).then(
        (r) => `completed with ${r.status}`,
        () => 'failed',
      );
      await reached;
      // The server must really be in the middle of writing: more on disk than the acknowledged first chunk.
      await waitFor('the server to write streamed bytes', () => onDisk() > first);
      const onDiskAtKill = onDisk();
      await b.kill9();
      assert.equal(await patch, 'failed', 'the interrupted PATCH must not succeed');
      assert.ok(onDiskAtKill < BLOB, `the kill came too late (${onDiskAtKill} bytes on disk)`);

      b = await b.restart();
      // Nothing half-written is visible.
      assert.equal(await headStatus(b, `/v2/${repo}/blobs/${blob.digest}`), 404, `round ${round}: partial blob visible`);
      assert.equal(blobFileExists(b, blob.digest), false, `round ${round}: partial blob in the CAS`);
      // Everything acknowledged before the crash is intact.
      await assertImageIntact(b, before);

      // The session survived with exactly the acknowledged size: less than was sent and than was on disk, since
      // the interrupted PATCH was never acknowledged.
      const st = await req(b, 'GET', s.location);
      await expectStatus(st, 204, `round ${round}: status`);
      assert.equal(st.headers.get('range'), `0-${first - 1}`);
      assert.ok(first < onDiskAtKill && onDiskAtKill <= sentTotal);
      // A chunk at any other offset is refused with the server's offset.
      const wrong = await req(b, 'PATCH', s.location, {
        body: blob.slice(onDiskAtKill, onDiskAtKill + 10),
        headers: { 'content-range': `${onDiskAtKill}-${onDiskAtKill + 9}`, 'content-type': 'application/octet-stream' },
      });
      assert.equal(wrong.status, 416, `round ${round}: PATCH past the acknowledged size: ${wrong.status}`);
      assert.equal(wrong.headers.get('range'), `0-${first - 1}`);
      await wrong.body?.cancel();

      // Resume at the acknowledged offset, finish, and get the right blob.
      const resume = await req(b, 'PATCH', s.location, {
        body: blob.stream(first, () => {}),
        headers: { 'content-type': 'application/octet-stream' },
      });
      await expectStatus(resume, 202, `round ${round}: resume`);
      assert.equal(resume.headers.get('range'), `0-${BLOB - 1}`);
      const put = await req(b, 'PUT', `${s.location}?digest=${blob.digest}`);
      await expectStatus(put, 201, `round ${round}: finish`);
      assert.equal(put.headers.get('docker-content-digest'), blob.digest);
      assert.deepEqual(await hashBlob(b, repo, blob.digest), { digest: blob.digest, size: BLOB });
      assert.equal(existsSync(join(uploadsDir(b), s.id)), false, 'the finished upload left its temp dir');
      const gone = await req(b, 'GET', s.location);
      assert.equal(gone.status, 404);
      assert.equal(await errorCode(gone), 'BLOB_UPLOAD_UNKNOWN');

      // A fresh push of the same blob (streamed monolithic) succeeds too, in another repository.
      const other = `library/durable-fresh-${round}`;
      const fresh = await req(b, 'POST', `/v2/${other}/blobs/uploads/?digest=${blob.digest}`, {
        body: blob.stream(0, () => {}),
        headers: { 'content-type': 'application/octet-stream' },
      });
      await expectStatus(fresh, 201, `round ${round}: fresh push`);
      await fresh.body?.cancel();
      assert.deepEqual(await hashBlob(b, other, blob.digest), { digest: blob.digest, size: BLOB });
    }
    await assertImageIntact(b, before);
  } catch (e) {
    process.stderr.write(`--- berth output ---\n${b.output()}\n`);
    throw e;
  } finally {
    await b.stop();
  }
});
