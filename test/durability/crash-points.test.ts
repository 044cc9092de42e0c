// kill -9 at injected points of a commit (BERTH_TEST_CRASH_AT, see src/services/registry/faults.ts): after a
// restart a tag points to the old or the new digest, never to something dangling, and every push can be repeated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { startBerth, type Berth } from '../helpers/berth.ts';
import {
  MiB,
  assertImageIntact,
  blobFile,
  blobFileExists,
  getBlob,
  getManifest,
  headStatus,
  imageManifest,
  pushBlob,
  pushImage,
  pushManifest,
  putManifest,
  req,
  sha256,
} from './lib.ts';

/** Another process on the same deployment that crashes itself at `point`. */
function crashingTwin(b: Berth, point: string): Promise<Berth> {
  return startBerth({ dataDir: b.dataDir, pgDatabase: b.pgDatabase ?? undefined, env: { BERTH_TEST_CRASH_AT: point } });
}

/** Runs `request` against the crashing process and checks it died of SIGKILL without answering. */
async function crashOn(c: Berth, request: () => Promise<Response>): Promise<void> {
  const outcome = await request().then(
    (r) => `answered ${r.status}`,
    () => 'no answer',
  );
  await c.kill9(); // waits for the exit (it already killed itself)
  assert.equal(outcome, 'no answer', `the request must die with the process:\n${c.output()}`);
  assert.equal(c.process.signalCode, 'SIGKILL', `the process should have killed itself:\n${c.output()}`);
}

async function tagsOf(b: Berth, repo: string): Promise<string[]> {
  const res = await req(b, 'GET', `/v2/${repo}/tags/list`);
  assert.equal(res.status, 200);
  return ((await res.json()) as { tags: string[] | null }).tags ?? [];
}

async function withDeployment(fn: (first: Berth, reopen: () => Promise<Berth>) => Promise<void>): Promise<void> {
  const first = await startBerth();
  const open: Berth[] = [first];
  try {
    await fn(first, async () => {
      const b = await startBerth({ dataDir: first.dataDir, pgDatabase: first.pgDatabase ?? undefined });
      open.push(b);
      return b;
    });
  } catch (e) {
    for (const b of open) process.stderr.write(`--- berth output ---\n${b.output()}\n`);
    throw e;
  } finally {
    for (const b of open.slice(1)) await b.stop({ keepData: true });
    await first.stop();
  }
}

test('crash inside the manifest transaction: tags keep the old digest, a new tag stays absent', async () => {
  await withDeployment(async (a, reopen) => {
    const repo = 'library/crash-manifest';
    const old = await pushImage(a, repo, 'v1', randomBytes(MiB + 3), 'old');
    const next = await pushImage(a, repo, 'staging', randomBytes(MiB + 5), 'new');
    await a.stop({ keepData: true });

    const c = await crashingTwin(a, 'manifest-before-commit');
    // Moves v1 to the new manifest and adds a brand-new tag, in one PUT that never commits.
    await crashOn(c, () => putManifest(c, repo, `v1?tag=fresh`, next.manifest));

    const b = await reopen();
    assert.equal((await getManifest(b, repo, 'v1')).digest, old.digest, 'v1 must still point to the old digest');
    assert.equal((await getManifest(b, repo, 'fresh')).status, 404, 'the uncommitted new tag must be absent');
    assert.deepEqual((await tagsOf(b, repo)).sort(), ['staging', 'v1']);
    await assertImageIntact(b, old);
    await assertImageIntact(b, next);

    // A manifest that did not exist at all before the crash is not there either.
    const third = imageManifest({ digest: sha256(old.config), size: old.config.length }, [{ digest: sha256(next.layer), size: next.layer.length }]);
    await b.stop({ keepData: true });
    const c2 = await crashingTwin(a, 'manifest-before-commit');
    await crashOn(c2, () => putManifest(c2, repo, 'v3', third));
    const b2 = await reopen();
    assert.equal((await getManifest(b2, repo, sha256(third))).status, 404, 'uncommitted manifest visible');
    assert.equal((await getManifest(b2, repo, 'v3')).status, 404);

    // Repeating the PUTs works.
    await pushManifest(b2, repo, 'v1?tag=fresh', next.manifest);
    await pushManifest(b2, repo, 'v3', third);
    for (const t of ['v1', 'fresh', 'staging']) assert.equal((await getManifest(b2, repo, t)).digest, next.digest, t);
    assert.equal((await getManifest(b2, repo, 'v3')).digest, sha256(third));
    assert.equal((await getManifest(b2, repo, old.digest)).status, 200, 'the old manifest stays readable by digest');
    assert.deepEqual((await tagsOf(b2, repo)).sort(), ['fresh', 'staging', 'v1', 'v3']);
  });
});

test('crash right after the manifest commit: the tag points to the new digest', async () => {
  await withDeployment(async (a, reopen) => {
    const repo = 'library/crash-after-commit';
    const old = await pushImage(a, repo, 'v1', randomBytes(4096), 'old');
    const next = await pushImage(a, repo, 'other', randomBytes(4096), 'new');
    await a.stop({ keepData: true });
    const c = await crashingTwin(a, 'manifest-after-commit');
    await crashOn(c, () => putManifest(c, repo, 'v1', next.manifest));
    const b = await reopen();
    assert.equal((await getManifest(b, repo, 'v1')).digest, next.digest);
    await assertImageIntact(b, next);
    assert.equal((await getManifest(b, repo, old.digest)).status, 200);
    // The client never got an answer and retries: idempotent.
    await pushManifest(b, repo, 'v1', next.manifest);
    assert.equal((await getManifest(b, repo, 'v1')).digest, next.digest);
  });
});

test('crash between the storage commit and the database commit of a blob: invisible until pushed again', async () => {
  await withDeployment(async (a, reopen) => {
    const repo = 'library/crash-blob';
    const before = await pushImage(a, repo, 'v1', randomBytes(MiB), 'before');
    await a.stop({ keepData: true });

    const blob = randomBytes(2 * MiB + 1);
    const digest = sha256(blob);
    const c = await crashingTwin(a, 'blob-after-store-commit');
    await crashOn(c, () => req(c, 'POST', `/v2/${repo}/blobs/uploads/?digest=${digest}`, { body: blob, headers: { 'content-type': 'application/octet-stream' } }));
    // The bytes did reach the CAS (complete: they were verified and placed atomically), but no row refers to them.
    assert.ok(blobFileExists(a, digest), 'the crash point is after the storage commit');
    assert.ok(readFileSync(blobFile(a, digest)).equals(blob));

    const b = await reopen();
    assert.equal(await headStatus(b, `/v2/${repo}/blobs/${digest}`), 404, 'a blob with no committed row must not be visible');
    const getRes = await req(b, 'GET', `/v2/${repo}/blobs/${digest}`);
    assert.equal(getRes.status, 404);
    await getRes.body?.cancel();
    // A manifest referencing it is refused until the blob is pushed again.
    const m = imageManifest({ digest: sha256(before.config), size: before.config.length }, [{ digest, size: blob.length }]);
    const refused = await putManifest(b, repo, 'v2', m);
    assert.equal(refused.status, 400);
    await refused.body?.cancel();

    // Re-push works and the blob reads back byte for byte.
    assert.equal(await pushBlob(b, repo, blob), digest);
    assert.equal(await headStatus(b, `/v2/${repo}/blobs/${digest}`), 200);
    assert.ok((await getBlob(b, repo, digest)).equals(blob));
    await pushManifest(b, repo, 'v2', m);
    await assertImageIntact(b, before);
  });
});

test('an unknown crash point is refused at start', async () => {
  const a = await startBerth();
  await a.stop({ keepData: true });
  try {
    await assert.rejects(crashingTwin(a, 'nowhere'), /unknown crash point nowhere/);
  } finally {
    await a.stop();
  }
});
