// docker against a real Berth: a private Debian dockerd (docker.io, started by hand by the helper) with Berth's
// host:port in insecure-registries, driven by the docker CLI with a private DOCKER_CONFIG.
// login (good and bad password), build FROM scratch with random files, push, rmi, pull, byte identity
// (image id = config digest, docker save layer = the diff_id of Berth's gzip layer, docker cp of the files),
// a manifest list with `docker manifest create/annotate/push/inspect --insecure`, then anonymous pull.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth } from '../helpers/berth.ts';
import type { Berth } from '../helpers/berth.ts';
import { makeTempDir, maybeGunzip, randomFiles, removeDir, run, sha256, startDockerd, untar } from '../helpers/clients.ts';
import type { Dockerd } from '../helpers/clients.ts';
import { assertSameFiles, berthBlob, berthManifest, DOCKER_LIST, DOCKER_MANIFEST, assertNoBerthErrors } from './lib.ts';

describe('docker (Debian dockerd) against Berth', { timeout: 240_000 }, () => {
  let berth: Berth;
  let dockerd: Dockerd;
  let work: string;
  let H: string;
  const pushed: { ref: string; digest: string; files: Record<string, Buffer> }[] = [];

  before(async () => {
    work = makeTempDir('docker-t');
    berth = await startBerth();
    H = berth.host;
    dockerd = await startDockerd({ insecureRegistries: [H] });
  });

  after(async () => {
    await dockerd?.stop();
    await berth?.stop();
    if (work) removeDir(work);
    assertNoBerthErrors(berth); // no 5xx, no error logged, by any client's request
  });

  test('docker login: a wrong password fails, the right one succeeds', async () => {
    const bad = await dockerd.docker(['login', '-u', 'admin', '--password-stdin', H], { input: 'wrong-password', allowFail: true });
    assert.notEqual(bad.code, 0);
    assert.doesNotMatch(bad.stdout, /Login Succeeded/);
    assert.match(bad.stderr, /unauthorized|401|incorrect/i);
    const ok = await dockerd.login(H, { username: berth.adminUser, password: berth.adminPassword });
    assert.match(ok.stdout, /Login Succeeded/);
  });

  async function buildAndPush(repo: string, tag: string): Promise<{ ref: string; digest: string; files: Record<string, Buffer>; id: string }> {
    const files = randomFiles(2, 48 * 1024);
    const ref = `${H}/${repo}:${tag}`;
    await dockerd.buildScratch(ref, files);
    const id = (await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
    const push = await dockerd.docker(['push', ref]);
    const digest = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    assert.ok(digest, push.stdout);
    return { ref, digest, files, id };
  }

  test('build FROM scratch, push, rmi, pull: same ids, same layer bytes, same files', async () => {
    const img = await buildAndPush('library/docker-img', '1');
    pushed.push(img);
    const m = await berthManifest(berth, 'library/docker-img', '1');
    assert.equal(m.digest, img.digest, 'the digest docker push printed is what Berth serves');
    assert.equal(m.type, DOCKER_MANIFEST);
    assert.equal(m.json.config.digest, img.id, 'config digest == image id');
    const config = JSON.parse((await berthBlob(berth, 'library/docker-img', img.id)).toString('utf8'));
    const layers = await Promise.all(m.json.layers.map((l: { digest: string }) => berthBlob(berth, 'library/docker-img', l.digest)));
    const diffIds = layers.map((b) => sha256(maybeGunzip(b)));
    assert.deepEqual(diffIds, config.rootfs.diff_ids, 'gunzipped layers match the config diff_ids');
    const served: Record<string, Buffer> = {};
    for (const b of layers) Object.assign(served, untar(maybeGunzip(b)));
    assertSameFiles(served, img.files, 'layer stored in Berth');

    await dockerd.docker(['rmi', img.ref]);
    const none = await dockerd.docker(['image', 'inspect', img.ref], { allowFail: true });
    assert.notEqual(none.code, 0, 'the image is gone locally');
    const pull = await dockerd.docker(['pull', img.ref]);
    assert.match(pull.stdout, new RegExp(`Digest: ${img.digest}`));
    assert.equal((await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', img.ref])).stdout.trim(), img.id);
    const repoDigests = JSON.parse((await dockerd.docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', img.ref])).stdout);
    assert.deepEqual(repoDigests, [`${H}/library/docker-img@${img.digest}`]);

    // docker save: the layer tar dockerd unpacked from Berth's gzip layer has exactly the config's diff_id
    const saved = untar((await dockerd.docker(['save', img.ref])).stdoutBytes);
    const layerTars = Object.entries(saved).filter(([p]) => p.endsWith('layer.tar') || p.startsWith('blobs/sha256/'));
    const savedIds = new Set(layerTars.map(([, b]) => 'sha256:' + createHash('sha256').update(b).digest('hex')));
    for (const d of config.rootfs.diff_ids as string[]) assert.ok(savedIds.has(d), `docker save holds layer ${d}`);

    // and the files in a container created from the pulled image are the random files
    const cid = (await dockerd.docker(['create', img.ref])).stdout.trim();
    const cp = await dockerd.docker(['cp', `${cid}:/data`, '-']);
    await dockerd.docker(['rm', cid]);
    const got: Record<string, Buffer> = {};
    for (const [p, b] of Object.entries(untar(cp.stdoutBytes))) got[p.startsWith('data/') ? p : `data/${p}`] = b;
    assertSameFiles(got, img.files, 'docker cp of the pulled image');
  });

  test('docker manifest create/annotate/push --insecure a list of two images, then inspect', async () => {
    const second = await buildAndPush('library/docker-img2', '1');
    pushed.push(second);
    const [a, b] = pushed;
    const list = `${H}/library/docker-list:1`;
    await dockerd.docker(['manifest', 'create', '--insecure', list, a.ref, b.ref]);
    await dockerd.docker(['manifest', 'annotate', '--arch', 'arm64', '--variant', 'v8', list, b.ref]);
    const push = await dockerd.docker(['manifest', 'push', '--insecure', list]);
    // it prints "Pushed ref …@sha256:… with digest: sha256:…" per copied child, then the list's digest
    const listDigest = push.stdout.trim().split('\n').pop()?.trim();
    assert.match(listDigest ?? '', /^sha256:[0-9a-f]{64}$/, push.stdout);

    const served = await berthManifest(berth, 'library/docker-list', '1');
    assert.equal(served.digest, listDigest);
    assert.equal(served.type, DOCKER_LIST);
    const entries = served.json.manifests as { digest: string; mediaType: string; platform: { architecture: string; variant?: string } }[];
    assert.deepEqual(
      entries.map((e) => [e.digest, e.platform.architecture, e.platform.variant ?? '']),
      [
        [a.digest, 'amd64', ''],
        [b.digest, 'arm64', 'v8'],
      ],
    );
    // the child manifests were copied into the list's repository, byte for byte
    for (const img of [a, b]) {
      const child = await berthManifest(berth, 'library/docker-list', img.digest);
      assert.equal(child.type, DOCKER_MANIFEST);
    }

    const inspect = await dockerd.docker(['manifest', 'inspect', '--insecure', list]);
    const parsed = JSON.parse(inspect.stdout);
    assert.equal(parsed.mediaType, DOCKER_LIST);
    assert.deepEqual(
      parsed.manifests.map((e: { digest: string }) => e.digest),
      [a.digest, b.digest],
    );
    const verbose = JSON.parse((await dockerd.docker(['manifest', 'inspect', '--insecure', '-v', `${H}/library/docker-img:1`])).stdout);
    assert.equal(verbose.Descriptor.digest, a.digest);

    // dockerd pulls the list by digest and resolves the amd64 entry
    await dockerd.docker(['rmi', a.ref]);
    await dockerd.docker(['pull', `${H}/library/docker-list@${listDigest}`]);
    const id = (await dockerd.docker(['image', 'inspect', '--format', '{{.Id}}', `${H}/library/docker-list@${listDigest}`])).stdout.trim();
    assert.equal(id, (await berthManifest(berth, 'library/docker-img', '1')).json.config.digest);
  });

  test('logout, then an anonymous pull of the public library image; anonymous push is refused', async () => {
    const img = pushed[1];
    await dockerd.docker(['logout', H]);
    await dockerd.docker(['rmi', img.ref]);
    const pull = await dockerd.docker(['pull', img.ref]);
    assert.match(pull.stdout, new RegExp(`Digest: ${img.digest}`));
    const cid = (await dockerd.docker(['create', img.ref])).stdout.trim();
    const cp = await dockerd.docker(['cp', `${cid}:/data`, '-']);
    await dockerd.docker(['rm', cid]);
    const got: Record<string, Buffer> = {};
    for (const [p, b] of Object.entries(untar(cp.stdoutBytes))) got[p.startsWith('data/') ? p : `data/${p}`] = b;
    assertSameFiles(got, img.files, 'anonymous pull');

    await dockerd.docker(['tag', img.ref, `${H}/library/docker-anon:1`]);
    const denied = await dockerd.docker(['push', `${H}/library/docker-anon:1`], { allowFail: true });
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr + denied.stdout, /unauthorized|authentication required|denied/i);
  });

  // The preinstalled docker CLI 28 (not Debian's) logs in client-side when no engine answers: it tries https,
  // then falls back to http for a loopback registry. Its manifest commands also run without an engine.
  const CLI28 = '/usr/local/bin/docker';
  test('docker CLI 28 without an engine: client-side login, manifest inspect', { skip: !existsSync(CLI28) && 'no /usr/local/bin/docker' }, async () => {
    const cfg = join(work, 'cli28');
    await mkdir(cfg, { recursive: true });
    const env = { DOCKER_CONFIG: cfg, DOCKER_HOST: `unix://${join(work, 'no-engine.sock')}` };
    const bad = await run(CLI28, ['login', '-u', 'admin', '--password-stdin', H], { env, input: 'wrong-password' });
    assert.notEqual(bad.code, 0, bad.stdout);
    const ok = await run(CLI28, ['login', '-u', 'admin', '--password-stdin', H], { env, input: berth.adminPassword });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /Login Succeeded/);
    const saved = JSON.parse(await readFile(join(cfg, 'config.json'), 'utf8'));
    assert.ok(saved.auths?.[H], JSON.stringify(saved));
    const inspect = await run(CLI28, ['manifest', 'inspect', '--insecure', `${H}/library/docker-list:1`], { env });
    assert.equal(inspect.code, 0, inspect.stderr);
    assert.deepEqual(
      JSON.parse(inspect.stdout).manifests.map((e: { digest: string }) => e.digest),
      pushed.map((p) => p.digest),
    );
  });
});
