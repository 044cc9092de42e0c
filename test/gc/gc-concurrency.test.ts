// Online GC against a live registry: 8 pushers sharing base layers push, untag and delete while GC (with
// delete_untagged and grace 0, in this process on the same deployment) runs in a loop. Every acknowledged image
// not deleted by the test must stay pullable byte for byte, and a final GC must leave exactly the referenced
// blobs. Then kill -9 of a GC process in the middle of its sweep, at two points, and a clean re-run.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startBerth, type Berth } from '../helpers/berth.ts';
import type { Services } from '../../src/app.ts';
import { errorCode, getBlob, getManifest, imageManifest, pushBlob, putManifest, req, sha256, sleep } from '../durability/lib.ts';
import { assertExactStorage, gcInChild, openServices } from './lib.ts';

let b: Berth;
let s: Services;
before(async () => {
  b = await startBerth({ env: { BERTH_REGISTRY_GC_GRACE: '0' } });
  s = await openServices(b);
});
after(async () => {
  await s?.db.close();
  await b?.stop();
});

interface Img {
  repo: string;
  tag: string;
  digest: string;
  manifest: Buffer;
  blobs: Buffer[];
}

/** Pushes config + layers + manifest; a manifest refused because GC took a just-uploaded link is pushed again. */
async function pushImg(repo: string, tag: string, layers: Buffer[], stats: { retries: number }): Promise<Img> {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', tag, n: randomBytes(4).toString('hex') }));
  const manifest = imageManifest(
    { digest: sha256(config), size: config.length },
    layers.map((l) => ({ digest: sha256(l), size: l.length })),
  );
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const blob of [config, ...layers]) await pushBlob(b, repo, blob);
    const res = await putManifest(b, repo, tag, manifest);
    if (res.status === 201) {
      await res.body?.cancel();
      return { repo, tag, digest: sha256(manifest), manifest, blobs: [config, ...layers] };
    }
    const code = await errorCode(res);
    assert.equal(`${res.status} ${code}`, '400 MANIFEST_BLOB_UNKNOWN', `PUT ${repo}:${tag}`);
    stats.retries++;
  }
  throw new Error(`${repo}:${tag} never pushed`);
}

async function assertPullable(img: Img): Promise<void> {
  for (const ref of [img.tag, img.digest]) {
    const m = await getManifest(b, img.repo, ref);
    assert.equal(m.status, 200, `GET ${img.repo}:${ref}`);
    assert.ok(m.body.equals(img.manifest), `manifest ${img.repo}:${ref} differs`);
  }
  for (const blob of img.blobs) assert.ok((await getBlob(b, img.repo, sha256(blob))).equals(blob), `blob of ${img.repo}:${img.tag} differs`);
}

test('8 pushers sharing base layers, untag/delete, GC in a loop: acknowledged images intact, final GC exact', async () => {
  const base = [randomBytes(96 * 1024), randomBytes(64 * 1024), randomBytes(32 * 1024)];
  const pool = Array.from({ length: 6 }, (_, k) => randomBytes(8192 + k));
  const ROUNDS = 8;
  const stats = { retries: 0, gcRuns: 0, gcBlobs: 0, gcManifests: 0 };
  const live: Img[] = [];
  const removed: Img[] = [];
  let done = false;
  let lastZeroGrace = 0;
  const gcLoop = (async () => {
    while (!done) {
      // Mostly a 1.5 s grace for links no manifest referenced yet (uploads waiting for their manifest PUT);
      // every tenth run with none at all, which makes pushers lose just-uploaded links and retry. Those runs are
      // at least a second apart, so a push slower than ten GC runs (blobs on S3) still gets through on a retry.
      const zeroGrace = stats.gcRuns % 10 === 9 && Date.now() - lastZeroGrace >= 1000;
      if (zeroGrace) lastZeroGrace = Date.now();
      const r = await s.gc.run({ deleteUntagged: true, workers: 2, batchSize: 20, graceMs: zeroGrace ? 0 : 1500 });
      stats.gcRuns++;
      stats.gcBlobs += r.blobsDeleted;
      stats.gcManifests += r.manifestsDeleted;
      await sleep(5);
    }
  })();
  const pusher = async (i: number) => {
    const repo = `library/gc-${i % 4}`;
    const mine: Img[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      // Two base layers every image shares, one of a pool that goes in and out of use as images are deleted
      // (so uploads race GC deleting that very blob), and one layer of its own.
      const layers = [base[r % 3], base[(r + 1) % 3], pool[(i + r) % pool.length], randomBytes(4096 + i * 100 + r)];
      const img = await pushImg(repo, `p${i}-r${r}`, layers, stats);
      await assertPullable(img);
      mine.push(img);
      if (mine.length > 2) {
        const old = mine.shift()!;
        // Untag (GC deletes the untagged manifest) or delete by digest.
        const res = await req(b, 'DELETE', `/v2/${repo}/manifests/${r % 2 ? old.tag : old.digest}`);
        await res.body?.cancel();
        assert.equal(res.status, 202, `DELETE ${repo}:${old.tag}`);
        removed.push(old);
      }
    }
    live.push(...mine);
  };
  try {
    await Promise.all(Array.from({ length: 8 }, (_, i) => pusher(i)));
  } finally {
    done = true;
    await gcLoop;
  }
  assert.ok(stats.gcRuns >= 3, `GC ran ${stats.gcRuns} times during the pushes`);
  for (const img of live) await assertPullable(img);

  const final = await s.gc.run({ deleteUntagged: true, workers: 3 });
  assert.equal(final.stopped, false);
  for (const img of live) await assertPullable(img);
  for (const img of removed) assert.equal((await getManifest(b, img.repo, img.digest)).status, 404, `${img.repo}@${img.digest} was collected`);
  const exact = await assertExactStorage(s);
  // Exactly the blobs the live images reference.
  const wanted = new Set(live.flatMap((img) => img.blobs.map(sha256)));
  assert.equal(exact.blobs, wanted.size);
  const again = await s.gc.run({ deleteUntagged: true });
  assert.deepEqual([again.blobsDeleted, again.manifestsDeleted, again.linksDeleted], [0, 0, 0], 'a second GC finds nothing');
  console.log(`gc-concurrency: ${live.length} live, ${removed.length} removed, ${stats.gcRuns} GC runs freed ${stats.gcBlobs} blobs/${stats.gcManifests} manifests, ${stats.retries} manifest PUT retries`);
});

test('kill -9 of a GC process after marking and after removing files: nothing referenced is lost, the next run finishes', async () => {
  const repo = 'library/gc-crash';
  const stats = { retries: 0 };
  const keep = await pushImg(repo, 'keep', [randomBytes(1000), randomBytes(2000)], stats);
  const gone = await pushImg(repo, 'gone', [keep.blobs[1], randomBytes(3000)], stats);
  const res = await req(b, 'DELETE', `/v2/${repo}/manifests/gone`);
  await res.body?.cancel();
  // 60 unreferenced blobs, so the sweep has several batches of 10.
  for (let i = 0; i < 60; i++) await pushBlob(b, repo, randomBytes(100 + i));

  const c1 = await gcInChild(b, { BERTH_TEST_CRASH_AT: 'gc-after-mark', BERTH_TEST_GC_BATCH: '10' });
  assert.equal(c1.signal, 'SIGKILL', c1.out);
  const marked = await s.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM blobs WHERE deleting IS NOT NULL');
  assert.ok(Number(marked!.n) > 0, 'the crash left rows marked deleting');
  await assertPullable(keep);

  const c2 = await gcInChild(b, { BERTH_TEST_CRASH_AT: 'gc-after-file-remove', BERTH_TEST_GC_BATCH: '10' });
  assert.equal(c2.signal, 'SIGKILL', c2.out);
  await assertPullable(keep);
  // A re-push of a blob whose row is left deleting (its file may be gone) works and reads back.
  const stuck = await s.db.get<{ digest: string }>('SELECT digest FROM blobs WHERE deleting IS NOT NULL');
  assert.ok(stuck, 'rows are still marked deleting');

  const c3 = await gcInChild(b, {});
  assert.equal(c3.code, 0, c3.out);
  const report = JSON.parse(c3.out.trim().split('\n').pop()!) as { blobsDeleted: number };
  assert.ok(report.blobsDeleted > 0);
  await assertPullable(keep);
  assert.equal((await getManifest(b, repo, gone.digest)).status, 404);
  await assertExactStorage(s);
});
