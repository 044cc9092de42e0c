// Two Berth processes of one deployment (one data dir, one database): a chunked upload opened on one process
// continues and finishes on the other, and whatever one process commits the other serves at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MiB, expectStatus, getBlob, getManifest, openSession, patchChunk, pushImage, racingPatches, req, sha256, twoProcesses } from './lib.ts';

test('a chunked upload continued and finished on another process of the deployment', async () => {
  await twoProcesses(async (a, b) => {
    const repo = 'library/two-procs';
    for (const finishOn of [a, b]) {
      const blob = randomBytes(3 * MiB + 4321);
      const digest = sha256(blob);
      const cut1 = MiB + 7;
      const cut2 = 2 * MiB + 99;
      const s = await openSession(a, repo);
      assert.equal(await patchChunk(a, s.location, 0, blob.subarray(0, cut1)), `0-${cut1 - 1}`);
      // B sees the session with A's size, continues it (re-hashing what A stored) and reports the new size.
      const st = await req(b, 'GET', s.location);
      await expectStatus(st, 204, 'status on B');
      assert.equal(st.headers.get('range'), `0-${cut1 - 1}`);
      assert.equal(await patchChunk(b, s.location, cut1, blob.subarray(cut1, cut2)), `0-${cut2 - 1}`);
      // A stale offset is refused on A too: the size lives in the shared database.
      const stale = await req(a, 'PATCH', s.location, {
        body: blob.subarray(cut1, cut2),
        headers: { 'content-range': `${cut1}-${cut2 - 1}`, 'content-type': 'application/octet-stream' },
      });
      assert.equal(stale.status, 416);
      assert.equal(stale.headers.get('range'), `0-${cut2 - 1}`);
      await stale.body?.cancel();
      // The final PUT carries the last chunk, on A or on B (A's in-memory hash is stale after B's chunk).
      const put = await req(finishOn, 'PUT', `${s.location}?digest=${digest}`, {
        body: blob.subarray(cut2),
        headers: { 'content-range': `${cut2}-${blob.length - 1}`, 'content-type': 'application/octet-stream' },
      });
      await expectStatus(put, 201, `finish on ${finishOn === a ? 'A' : 'B'}`);
      assert.equal(put.headers.get('docker-content-digest'), digest);
      for (const p of [a, b]) {
        const got = await getBlob(p, repo, digest);
        assert.equal(sha256(got), digest);
        assert.ok(got.equals(blob), 'byte-identical on both processes');
      }
    }
  });
});

test('a manifest pushed via one process is readable via the other immediately', async () => {
  await twoProcesses(async (a, b) => {
    const repo = 'library/two-procs-manifest';
    for (let i = 0; i < 5; i++) {
      const [from, to] = i % 2 ? [b, a] : [a, b];
      const img = await pushImage(from, repo, `t${i}`, randomBytes(1000 + i), `n${i}`);
      for (const ref of [img.tag, img.digest]) {
        const m = await getManifest(to, repo, ref);
        assert.equal(m.status, 200, `manifest ${ref} not visible on the other process`);
        assert.ok(m.body.equals(img.manifest));
      }
      assert.ok((await getBlob(to, repo, sha256(img.layer))).equals(img.layer));
      // Moving the tag on one process is seen by the other at once too.
      const moved = await req(to, 'PUT', `/v2/${repo}/manifests/latest`, { body: img.manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
      await expectStatus(moved, 201, 'tag latest');
      assert.equal((await getManifest(from, repo, 'latest')).digest, img.digest);
    }
  });
});

// Two PATCHes of the same range on two processes: each streams into its own part and only one wins the
// compare-and-set on the session row, so the committed blob always matches its digest (no CAS poisoning).
test('two PATCHes racing on one session through two processes', async () => {
  await twoProcesses(async (a, b) => {
    for (let i = 0; i < 3; i++) await racingPatches(a, b, 'library/two-procs-race');
  });
});
