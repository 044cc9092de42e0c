// skopeo (containers/image) against a real Berth with token auth: OCI layout -> Berth -> OCI layout
// with --dest-creds/--src-creds, a multi-arch OCI index copied with --all both ways, inspect --raw,
// list-tags, delete, and a login through the shared auth file. Every byte that comes back is compared.
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth } from '../helpers/berth.ts';
import type { Berth } from '../helpers/berth.ts';
import {
  buildOciImage,
  createContainersEnv,
  makeTempDir,
  readImageFiles,
  readLayoutBlob,
  readLayoutManifest,
  removeDir,
  sha256,
} from '../helpers/clients.ts';
import type { ContainersEnv } from '../helpers/clients.ts';
import { assertSameFiles, berthBlob, berthManifest, berthManifestStatus, berthTags, OCI_INDEX, OCI_MANIFEST, assertNoBerthErrors } from './lib.ts';

/** Every blob file of an OCI layout: digest -> bytes. */
async function layoutBlobs(layout: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const hex of await readdir(join(layout, 'blobs', 'sha256'))) {
    out.set(`sha256:${hex}`, await readFile(join(layout, 'blobs', 'sha256', hex)));
  }
  return out;
}

describe('skopeo against Berth', { timeout: 240_000 }, () => {
  let berth: Berth;
  let cenv: ContainersEnv;
  let work: string;
  let creds: string;
  const dest = ['--dest-tls-verify=false'];
  const src = ['--src-tls-verify=false'];
  const tls = ['--tls-verify=false'];

  before(async () => {
    work = makeTempDir('skopeo');
    berth = await startBerth();
    creds = `${berth.adminUser}:${berth.adminPassword}`;
    cenv = await createContainersEnv({ insecureRegistries: [berth.host] });
  });

  after(async () => {
    await cenv?.stop();
    await berth?.stop();
    if (work) removeDir(work);
    assertNoBerthErrors(berth); // no 5xx, no error logged, by any client's request
  });

  test('copy oci-layout -> Berth -> oci-layout with --dest-creds/--src-creds: identical blobs', async () => {
    const img = await buildOciImage(join(work, 'src'), { tag: 'v1' });
    const ref = `docker://${berth.host}/library/skopeo-img:v1`;
    // no credentials: pushing into library is denied
    const denied = await cenv.skopeo(['copy', ...dest, img.ref, ref], { allowFail: true });
    assert.notEqual(denied.code, 0, 'anonymous push must fail');
    assert.match(denied.stderr, /unauthorized|authentication required|denied/i);

    await cenv.skopeo(['copy', ...dest, '--dest-creds', creds, img.ref, ref]);
    const m = await berthManifest(berth, 'library/skopeo-img', 'v1');
    assert.equal(m.digest, img.manifestDigest);
    assert.ok(m.body.equals(img.manifest), 'Berth serves the pushed manifest bytes');
    assert.equal(m.type, OCI_MANIFEST);
    for (const d of [m.json.config.digest, ...m.json.layers.map((l: { digest: string }) => l.digest)] as string[]) {
      assert.ok((await berthBlob(berth, 'library/skopeo-img', d)).equals(await readLayoutBlob(img.layout, d)), d);
    }

    const back = join(work, 'back');
    await cenv.skopeo(['copy', ...src, '--src-creds', creds, ref, `oci:${back}:v1`]);
    const got = await readLayoutManifest(back, 'v1');
    assert.equal(got.digest, img.manifestDigest);
    assert.ok(got.manifest.equals(img.manifest));
    const srcBlobs = await layoutBlobs(img.layout);
    const backBlobs = await layoutBlobs(back);
    assert.deepEqual([...backBlobs.keys()].sort(), [...srcBlobs.keys()].sort());
    for (const [d, b] of backBlobs) assert.ok(b.equals(srcBlobs.get(d)!), `blob ${d} byte-identical`);
    assert.equal(backBlobs.size, 1 + m.json.layers.length + 1, 'config + layers + manifest');
    assertSameFiles(await readImageFiles(back, 'v1'), img.files, 'skopeo round trip');

    // the public library project: an anonymous pull works
    const anon = join(work, 'anon');
    await cenv.skopeo(['copy', ...src, ref, `oci:${anon}:v1`]);
    assert.equal((await readLayoutManifest(anon, 'v1')).digest, img.manifestDigest);
  });

  test('inspect --raw returns the pushed bytes; inspect; list-tags', async () => {
    const img = await buildOciImage(join(work, 'tags'), { tag: 'a' });
    for (const tag of ['a', 'b', 'c']) {
      await cenv.skopeo(['copy', ...dest, '--dest-creds', creds, img.ref, `docker://${berth.host}/library/skopeo-tags:${tag}`]);
    }
    const raw = await cenv.skopeo(['inspect', ...tls, '--creds', creds, '--raw', `docker://${berth.host}/library/skopeo-tags:b`]);
    assert.ok(raw.stdoutBytes.equals(img.manifest), 'inspect --raw equals the pushed manifest');
    const info = JSON.parse((await cenv.skopeo(['inspect', ...tls, '--creds', creds, `docker://${berth.host}/library/skopeo-tags:c`])).stdout);
    assert.equal(info.Digest, img.manifestDigest);
    assert.equal(info.Layers.length, 1);
    assert.deepEqual([...info.RepoTags].sort(), ['a', 'b', 'c']);
    const tags = JSON.parse((await cenv.skopeo(['list-tags', ...tls, '--creds', creds, `docker://${berth.host}/library/skopeo-tags`])).stdout);
    assert.equal(tags.Repository, `${berth.host}/library/skopeo-tags`);
    assert.deepEqual([...tags.Tags].sort(), ['a', 'b', 'c']);
    assert.deepEqual((await berthTags(berth, 'library/skopeo-tags')).sort(), ['a', 'b', 'c']);
  });

  test('multi-arch OCI index: copy --all to Berth and back, identical index and platform images', async () => {
    const layout = join(work, 'multi');
    const amd = await buildOciImage(layout, { tag: 'amd64', architecture: 'amd64' });
    const arm = await buildOciImage(layout, { tag: 'arm64', architecture: 'arm64' });
    // an OCI index referencing both, written into the layout as tag "multi"
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          { mediaType: OCI_MANIFEST, digest: amd.manifestDigest, size: amd.manifest.length, platform: { architecture: 'amd64', os: 'linux' } },
          { mediaType: OCI_MANIFEST, digest: arm.manifestDigest, size: arm.manifest.length, platform: { architecture: 'arm64', os: 'linux' } },
        ],
      }),
    );
    const indexDigest = sha256(index);
    await writeFile(join(layout, 'blobs', 'sha256', indexDigest.slice(7)), index);
    const li = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    li.manifests.push({ mediaType: OCI_INDEX, digest: indexDigest, size: index.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } });
    await writeFile(join(layout, 'index.json'), JSON.stringify(li));

    const ref = `docker://${berth.host}/library/skopeo-multi:1`;
    await cenv.skopeo(['copy', '--all', ...dest, '--dest-creds', creds, `oci:${layout}:multi`, ref]);
    const served = await berthManifest(berth, 'library/skopeo-multi', '1');
    assert.equal(served.type, OCI_INDEX);
    assert.equal(served.digest, indexDigest);
    assert.ok(served.body.equals(index), 'Berth serves the index bytes that were pushed');
    for (const img of [amd, arm]) {
      const child = await berthManifest(berth, 'library/skopeo-multi', img.manifestDigest);
      assert.ok(child.body.equals(img.manifest));
      const layer = child.json.layers[0].digest as string;
      assert.ok((await berthBlob(berth, 'library/skopeo-multi', layer)).equals(await readLayoutBlob(img.layout, layer)));
    }
    const raw = await cenv.skopeo(['inspect', ...tls, '--creds', creds, '--raw', ref]);
    assert.ok(raw.stdoutBytes.equals(index), 'inspect --raw of the index equals the pushed bytes');

    const back = join(work, 'multi-back');
    await cenv.skopeo(['copy', '--all', ...src, '--src-creds', creds, ref, `oci:${back}:multi`]);
    const got = await readLayoutManifest(back, 'multi');
    assert.equal(got.digest, indexDigest);
    assert.ok(got.manifest.equals(index));
    const srcBlobs = await layoutBlobs(layout);
    const backBlobs = await layoutBlobs(back);
    // both platform images (manifest, config, layer) plus the index came back
    assert.equal(backBlobs.size, 7);
    for (const [d, b] of backBlobs) {
      assert.ok(srcBlobs.get(d), `${d} exists in the source layout`);
      assert.ok(b.equals(srcBlobs.get(d)!), `blob ${d} byte-identical`);
    }
  });

  test('login through the auth file, then delete: the manifest is gone', async () => {
    const img = await buildOciImage(join(work, 'del'), { tag: 'x' });
    const bad = await cenv.skopeo(['login', ...tls, '-u', berth.adminUser, '--password-stdin', berth.host], {
      input: 'wrong-password',
      allowFail: true,
    });
    assert.notEqual(bad.code, 0, 'login with a wrong password fails');
    const ok = await cenv.skopeo(['login', ...tls, '-u', berth.adminUser, '--password-stdin', berth.host], { input: berth.adminPassword });
    assert.match(ok.stdout, /Login Succeeded/);
    const ref = `docker://${berth.host}/library/skopeo-del:x`;
    await cenv.skopeo(['copy', ...dest, img.ref, ref]); // credentials from the auth file
    assert.equal((await berthManifest(berth, 'library/skopeo-del', 'x')).digest, img.manifestDigest);
    await cenv.skopeo(['delete', ...tls, ref]);
    assert.equal(await berthManifestStatus(berth, 'library/skopeo-del', img.manifestDigest), 404);
    assert.equal(await berthManifestStatus(berth, 'library/skopeo-del', 'x'), 404);
    const gone = await cenv.skopeo(['inspect', ...tls, ref], { allowFail: true });
    assert.notEqual(gone.code, 0);
    await cenv.skopeo(['logout', berth.host]);
    const after = JSON.parse(await readFile(cenv.env.REGISTRY_AUTH_FILE, 'utf8'));
    assert.equal(after.auths?.[berth.host], undefined);
  });
});
