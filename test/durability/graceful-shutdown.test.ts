// SIGTERM while an upload is in flight: the listener closes at once (new connections are refused, so a load
// balancer moves on), the upload in flight completes and is stored, then the process exits 0. With a short
// http.shutdown_timeout, an upload that does not finish in time is cut and the process still exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { MiB, authOf, hashBlob, sha256, sleep, waitFor } from './lib.ts';

/** A request body sent in `n` chunks; chunk i > 0 waits for `gate` (so the test decides when the rest goes). */
function gatedBody(chunks: Buffer[], gate: Promise<void>, onFirst: () => void): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    async pull(ctl) {
      if (i === 1) {
        onFirst();
        await gate;
      }
      if (i >= chunks.length) return ctl.close();
      ctl.enqueue(chunks[i++]);
      if (i > 1) await sleep(50);
    },
  });
}

const exitOf = (b: Berth) =>
  b.process.exitCode !== null || b.process.signalCode !== null
    ? Promise.resolve({ code: b.process.exitCode, signal: b.process.signalCode })
    : once(b.process, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as string | null }));

test('SIGTERM: an upload in flight completes, new connections are refused meanwhile, exit 0; the blob is there after a restart', { timeout: 120_000 }, async () => {
  const b = await startBerth();
  let restarted: Berth | null = null;
  try {
    const chunks = Array.from({ length: 12 }, () => randomBytes(MiB / 2));
    const digest = sha256(Buffer.concat(chunks));
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    let firstSent!: () => void;
    const started = new Promise<void>((r) => (firstSent = r));
    const put = fetch(`${b.url}/v2/library/graceful/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { authorization: authOf(b), 'content-type': 'application/octet-stream' },
      body: gatedBody(chunks, gate, firstSent),
      duplex: 'half',
    } as RequestInit);
    await started;
    await sleep(200); // the first chunk is on the wire and being stored
    b.process.kill('SIGTERM');
    const exited = exitOf(b);
    // The listener is closed: a new connection is refused while the upload still runs.
    await waitFor('the listener to close', async () => {
      try {
        const r = await fetch(`${b.url}/api/v2.0/ping`, { headers: { connection: 'close' } });
        await r.body?.cancel();
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(b.process.exitCode, null, 'still running while the upload is in flight');
    open();
    const res = await put;
    const done = Date.now();
    assert.equal(res.status, 201, `upload finished after SIGTERM: ${res.status} ${await res.text()}`);
    assert.equal(res.headers.get('docker-content-digest'), digest);
    const { code, signal } = await exited;
    // Not held by the client's idle keep-alive connection until the 30 s grace runs out.
    assert.ok(Date.now() - done < 5_000, `exited ${Date.now() - done} ms after the upload finished`);
    assert.equal(signal, null, b.output());
    assert.equal(code, 0, b.output());
    restarted = await b.restart();
    assert.deepEqual(await hashBlob(restarted, 'library/graceful', digest), { digest, size: 6 * MiB });
  } finally {
    await (restarted ?? b).stop();
  }
});

test('SIGTERM with http.shutdown_timeout 1: an upload that does not finish is cut after the grace, exit 0', { timeout: 60_000 }, async () => {
  const b = await startBerth({ env: { BERTH_HTTP_SHUTDOWN_TIMEOUT: '1' } });
  try {
    const chunks = [randomBytes(MiB), randomBytes(MiB)];
    let firstSent!: () => void;
    const started = new Promise<void>((r) => (firstSent = r));
    const never = new Promise<void>(() => {});
    const put = fetch(`${b.url}/v2/library/cut/blobs/uploads/?digest=${sha256(Buffer.concat(chunks))}`, {
      method: 'POST',
      headers: { authorization: authOf(b), 'content-type': 'application/octet-stream' },
      body: gatedBody(chunks, never, firstSent),
      duplex: 'half',
    } as RequestInit).then(
      (r) => r.status,
      (e: Error) => e,
    );
    await started;
    await sleep(200);
    const t0 = Date.now();
    b.process.kill('SIGTERM');
    const { code, signal } = await exitOf(b);
    const ms = Date.now() - t0;
    assert.equal(signal, null, b.output());
    assert.equal(code, 0, b.output());
    assert.ok(ms >= 900 && ms < 8_000, `exited ${ms} ms after SIGTERM (grace 1 s)`);
    assert.ok((await put) instanceof Error, 'the stalled upload was cut, not answered');
  } finally {
    await b.stop();
  }
});
