// GC with shared and re-created content (Harbor #23803, #16402, distribution#3254): the same artifact in two
// repositories deleted in one; a repository emptied and pushed again under the same name; a blob unlinked in one
// repository and mounted from another. HEAD never says "exists" for data GC removed, and re-pushes work.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startBerth, type Berth } from '../helpers/berth.ts';
import type { Services } from '../../src/app.ts';
import { assertImageIntact, blobFileExists, getManifest, headStatus, pushImage, req, sha256 } from '../durability/lib.ts';
import { assertExactStorage, openServices } from './lib.ts';

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

const del = async (path: string) => {
  const res = await req(b, 'DELETE', path);
  await res.body?.cancel();
  assert.equal(res.status, 202, `DELETE ${path}`);
};

test('the same artifact in two repositories, deleted in one: the other stays intact after GC', async () => {
  const layer = randomBytes(20_000);
  const a = await pushImage(b, 'library/shared-a', 'v1', layer, 'same');
  const c = await pushImage(b, 'library/shared-b', 'v1', layer, 'same');
  assert.equal(a.digest, c.digest, 'byte-identical manifests');
  await del(`/v2/library/shared-a/manifests/${a.digest}`);
  const r = await s.gc.run({ deleteUntagged: true });
  assert.equal(r.blobsDeleted, 0, 'every blob is still used by the other repository');
  assert.ok(r.linksDeleted >= 2);
  await assertImageIntact(b, c);
  assert.equal(await headStatus(b, `/v2/library/shared-a/blobs/${sha256(layer)}`), 404, 'unlinked in the first repository');
  assert.equal((await getManifest(b, 'library/shared-a', a.digest)).status, 404);
});

test('a repository emptied, collected and pushed again under the same name reads back; HEAD never claims removed data', async () => {
  const layer = randomBytes(30_000);
  const first = await pushImage(b, 'library/recreated', 'v1', layer, 'first');
  await del(`/v2/library/recreated/manifests/${first.digest}`);
  const r = await s.gc.run({ deleteUntagged: true });
  assert.ok(r.blobsDeleted >= 2);
  assert.equal(blobFileExists(b, sha256(layer)), false, 'the bytes are gone');
  assert.equal(await headStatus(b, `/v2/library/recreated/blobs/${sha256(layer)}`), 404, 'HEAD does not say exists');
  const again = await pushImage(b, 'library/recreated', 'v1', layer, 'first');
  await assertImageIntact(b, again);
  assert.equal((await s.gc.run({ deleteUntagged: true })).blobsDeleted, 0);
  await assertImageIntact(b, again);
});

test('a mount of a blob whose source link GC just removed is refused (the client uploads), never a dangling link', async () => {
  const layer = randomBytes(5000);
  const img = await pushImage(b, 'library/mount-src', 'v1', layer, 'm');
  await del(`/v2/library/mount-src/manifests/${img.digest}`);
  await s.gc.run({ deleteUntagged: true });
  const res = await req(b, 'POST', `/v2/library/mount-dst/blobs/uploads/?mount=${sha256(layer)}&from=library/mount-src`);
  await res.body?.cancel();
  assert.equal(res.status, 202, 'no mount: an upload session is opened instead');
  assert.equal(await headStatus(b, `/v2/library/mount-dst/blobs/${sha256(layer)}`), 404);
});

test('after everything is deleted, GC leaves storage and database empty of blobs', async () => {
  for (const [repo, tag] of [
    ['library/shared-b', 'v1'],
    ['library/recreated', 'v1'],
  ]) {
    const m = await getManifest(b, repo, tag);
    if (m.status === 200) await del(`/v2/${repo}/manifests/${m.digest}`);
  }
  await s.gc.run({ deleteUntagged: true });
  const exact = await assertExactStorage(s);
  assert.deepEqual(exact, { blobs: 0, files: 0 });
});
