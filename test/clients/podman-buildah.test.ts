// podman and buildah (containers/image + containers/storage) against a real Berth with token auth, from a
// private storage/config/auth file: podman login (bad and good password), build FROM scratch, push as OCI and
// as Docker v2s2, rmi, pull back, byte identity (digests vs Berth, the random files read from the pulled image);
// buildah from/copy/commit/push/pull; then logout and an anonymous pull of the public library image.
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth } from '../helpers/berth.ts';
import type { Berth } from '../helpers/berth.ts';
import { createContainersEnv, makeTempDir, maybeGunzip, randomFiles, removeDir, untar } from '../helpers/clients.ts';
import type { ContainersEnv } from '../helpers/clients.ts';
import { assertSameFiles, berthBlob, berthManifest, berthTarget, DOCKER_MANIFEST, OCI_MANIFEST, assertNoBerthErrors } from './lib.ts';
import type { ServedManifest } from './lib.ts';

describe('podman and buildah against Berth', { timeout: 240_000 }, () => {
  let berth: Berth;
  let cenv: ContainersEnv;
  let work: string;
  let H: string;
  const tls = ['--tls-verify=false'];
  let built: { files: Record<string, Buffer>; id: string } | undefined;
  const pushedRefs: { ref: string; digest: string }[] = [];

  before(async () => {
    work = makeTempDir('podman-t');
    berth = await startBerth();
    H = berth.host;
    cenv = await createContainersEnv(); // no registries.conf entry: --tls-verify=false is what makes it HTTP
  });

  after(async () => {
    await cenv?.stop();
    await berth?.stop();
    if (work) removeDir(work);
    assertNoBerthErrors(berth); // no 5xx, no error logged, by any client's request
  });

  /** Files of the image `ref` in local storage, read through `podman image mount`. */
  async function localFiles(ref: string, expected: Record<string, Buffer>): Promise<Record<string, Buffer>> {
    const mnt = (await cenv.podman(['image', 'mount', ref])).stdout.trim();
    try {
      const got: Record<string, Buffer> = {};
      for (const p of Object.keys(expected)) got[p] = await readFile(join(mnt, p));
      return got;
    } finally {
      await cenv.podman(['image', 'unmount', ref]);
    }
  }

  async function servedFiles(repo: string, m: ServedManifest): Promise<Record<string, Buffer>> {
    const files: Record<string, Buffer> = {};
    for (const l of m.json.layers as { digest: string }[]) Object.assign(files, untar(maybeGunzip(await berthBlob(berth, repo, l.digest))));
    return files;
  }

  test('podman login: a wrong password fails, the right one succeeds', async () => {
    const bad = await cenv.podman(['login', ...tls, '-u', 'admin', '--password-stdin', H], { input: 'wrong-password', allowFail: true });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid username\/password|unauthorized/i);
    const ok = await cenv.login(berthTarget(berth));
    assert.match(ok.stdout, /Login Succeeded/);
    const auth = JSON.parse(await readFile(cenv.env.REGISTRY_AUTH_FILE, 'utf8'));
    assert.ok(auth.auths?.[H]?.auth, 'credentials stored in the private auth file');
  });

  test('podman build FROM scratch, push as OCI and as v2s2, rmi, pull: same digests and bytes', async () => {
    const files = randomFiles(2, 40 * 1024);
    const ctx = join(work, 'ctx');
    for (const [p, b] of Object.entries(files)) {
      await mkdir(join(ctx, 'rootfs', p, '..'), { recursive: true });
      await writeFile(join(ctx, 'rootfs', p), b);
    }
    await writeFile(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\nCMD ["/nonexistent"]\n');
    await cenv.podman(['build', '-q', '-t', 'localhost/berth-podman:1', ctx]);
    const id = (await cenv.podman(['image', 'inspect', '--format', '{{.Id}}', 'localhost/berth-podman:1'])).stdout.trim();
    built = { files, id };

    for (const [tag, format, type] of [
      ['oci', 'oci', OCI_MANIFEST],
      ['v2s2', 'v2s2', DOCKER_MANIFEST],
    ] as const) {
      const digestFile = join(work, `digest-${tag}`);
      await cenv.podman(['push', ...tls, '--format', format, '--digestfile', digestFile, 'localhost/berth-podman:1', `${H}/library/podman:${tag}`]);
      const digest = (await readFile(digestFile, 'utf8')).trim();
      const m = await berthManifest(berth, 'library/podman', tag);
      assert.equal(m.digest, digest, `${tag}: the digest podman pushed is what Berth serves`);
      assert.equal(m.type, type);
      assert.equal(m.json.config.digest, `sha256:${id}`, `${tag}: config digest == image id`);
      assertSameFiles(await servedFiles('library/podman', m), files, `${tag} layer in Berth`);
      pushedRefs.push({ ref: `${H}/library/podman:${tag}`, digest });
    }
    assert.notEqual(pushedRefs[0].digest, pushedRefs[1].digest, 'OCI and v2s2 manifests differ');

    await cenv.podman(['rmi', '-f', 'localhost/berth-podman:1']);
    for (const { ref, digest } of pushedRefs) {
      await cenv.podman(['pull', '-q', ...tls, ref]);
      const info = JSON.parse((await cenv.podman(['image', 'inspect', ref])).stdout)[0];
      assert.equal(info.Id, id, `${ref}: same image id after the pull`);
      // one local image (same id) for both pulls; .Digest is the manifest digest of the first pull
      assert.equal(info.Digest, pushedRefs[0].digest, `${ref}: local digest is the pushed manifest digest`);
      assert.ok((info.RepoDigests as string[]).includes(`${H}/library/podman@${digest}`), JSON.stringify(info.RepoDigests));
      assertSameFiles(await localFiles(ref, files), files, `${ref} pulled`);
    }
  });

  test('buildah from scratch, copy, commit, push, pull', async () => {
    const files = randomFiles(1, 64 * 1024);
    const [path, bytes] = Object.entries(files)[0];
    await writeFile(join(work, 'buildah.bin'), bytes);
    const c = (await cenv.buildah(['from', 'scratch'])).stdout.trim();
    await cenv.buildah(['copy', c, join(work, 'buildah.bin'), `/${path}`]);
    await cenv.buildah(['config', '--cmd', '["/nonexistent"]', '--label', 'org.example.berth=1', c]);
    await cenv.buildah(['commit', '-q', c, 'localhost/berth-buildah:1']);
    await cenv.buildah(['rm', c]);
    const digestFile = join(work, 'digest-buildah');
    await cenv.buildah(['push', ...tls, '--digestfile', digestFile, 'localhost/berth-buildah:1', `docker://${H}/library/buildah:1`]);
    const m = await berthManifest(berth, 'library/buildah', '1');
    assert.equal(m.digest, (await readFile(digestFile, 'utf8')).trim());
    assertSameFiles(await servedFiles('library/buildah', m), files, 'buildah layer in Berth');
    const config = JSON.parse((await berthBlob(berth, 'library/buildah', m.json.config.digest)).toString('utf8'));
    assert.equal(config.config.Labels['org.example.berth'], '1');

    await cenv.buildah(['rmi', '-f', 'localhost/berth-buildah:1']);
    await cenv.buildah(['pull', '-q', ...tls, `${H}/library/buildah:1`]);
    const info = JSON.parse((await cenv.buildah(['inspect', '--type', 'image', `${H}/library/buildah:1`])).stdout);
    assert.equal(info.FromImageDigest, m.digest);
    assertSameFiles(await localFiles(`${H}/library/buildah:1`, files), files, 'buildah pull');
  });

  test('podman logout, then an anonymous pull of the public library image; anonymous push is refused', async () => {
    assert.ok(built && pushedRefs.length === 2, 'needs the pushed podman images');
    await cenv.podman(['logout', H]);
    const auth = JSON.parse(await readFile(cenv.env.REGISTRY_AUTH_FILE, 'utf8'));
    assert.equal(auth.auths?.[H], undefined);
    const { ref, digest } = pushedRefs[1];
    await cenv.podman(['rmi', '-f', ref, pushedRefs[0].ref]);
    await cenv.podman(['pull', '-q', ...tls, ref]);
    assert.equal((await cenv.podman(['image', 'inspect', '--format', '{{.Digest}}', ref])).stdout.trim(), digest);
    assertSameFiles(await localFiles(ref, built.files), built.files, 'anonymous pull');
    const denied = await cenv.podman(['push', ...tls, ref, `${H}/library/podman-anon:1`], { allowFail: true });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /unauthorized|authentication required|denied/i);
  });
});
