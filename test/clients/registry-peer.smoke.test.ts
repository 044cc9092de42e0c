// TEMPORARY SCAFFOLDING — delete once the same client flows run against Berth.
//
// Proves test/helpers/clients.ts and scripts/ci-deps.sh work: every real client pushes to and
// pulls from a reference registry (Debian's docker-registry = CNCF distribution 2.8, plain HTTP
// on loopback) and we assert the bytes that come back are identical to what went in.
//
//   node --test test/clients/registry-peer.smoke.test.ts
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  buildOciImage,
  createContainersEnv,
  createGoClients,
  httpGet,
  makeTempDir,
  maybeGunzip,
  randomFiles,
  readImageFiles,
  readLayoutBlob,
  readLayoutManifest,
  removeDir,
  runOk,
  sha256,
  startContainerd,
  startDistributionRegistry,
  startDockerd,
  untar,
  writeHelmChart,
} from '../helpers/clients.ts';
import type { Containerd, ContainersEnv, Dockerd, GoClients, PeerRegistry, RegistryTarget } from '../helpers/clients.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';
const ACCEPT_ALL = [OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST].join(', ');

/** GET a manifest straight from the registry (no client in between). */
async function registryManifest(reg: PeerRegistry, repo: string, ref: string) {
  const r = await httpGet(`${reg.url}/v2/${repo}/manifests/${ref}`, { headers: { Accept: ACCEPT_ALL } });
  assert.equal(r.status, 200, `GET manifest ${repo}:${ref} -> ${r.status} ${r.body.toString()}`);
  assert.equal(r.headers['docker-content-digest'], sha256(r.body), 'Docker-Content-Digest matches body');
  return { digest: sha256(r.body), body: r.body, json: JSON.parse(r.body.toString('utf8')), type: String(r.headers['content-type']) };
}

function assertSameFiles(actual: Record<string, Buffer>, expected: Record<string, Buffer>, what: string) {
  for (const [path, bytes] of Object.entries(expected)) {
    assert.ok(actual[path], `${what}: ${path} missing (have ${Object.keys(actual).join(', ')})`);
    assert.ok(actual[path].equals(bytes), `${what}: ${path} differs`);
  }
}

describe('real clients against distribution 2.8 (plain HTTP, no auth)', { timeout: 240_000 }, () => {
  let reg: PeerRegistry;
  let target: RegistryTarget;
  let dockerd: Dockerd;
  let ctrd: Containerd;
  let cenv: ContainersEnv;
  let go: GoClients;
  let work: string;

  before(async () => {
    work = makeTempDir('smoke');
    reg = await startDistributionRegistry();
    target = { host: reg.host };
    [dockerd, ctrd, cenv, go] = await Promise.all([
      startDockerd({ insecureRegistries: [reg.host] }),
      startContainerd(),
      createContainersEnv({ insecureRegistries: [reg.host] }),
      createGoClients(),
    ]);
    await go.configure(target);
  });

  after(async () => {
    await Promise.allSettled([dockerd?.stop(), ctrd?.stop(), cenv?.stop(), go?.stop()]);
    await reg?.stop();
    if (work) removeDir(work);
  });

  test('docker: build FROM scratch, push, rmi, pull, same id and bytes', async () => {
    const { docker } = dockerd;
    const files = randomFiles(2, 64 * 1024);
    const ref = `${reg.host}/smoke/docker:1`;
    await dockerd.buildScratch(ref, files);
    const idBefore = (await docker(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
    const push = await docker(['push', ref]);
    const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
    assert.ok(pushed, push.stdout);
    const m = await registryManifest(reg, 'smoke/docker', '1');
    assert.equal(m.digest, pushed);
    assert.equal(m.type, DOCKER_MANIFEST);
    assert.equal(m.json.config.digest, idBefore, 'config digest == image id');

    await docker(['rmi', ref]);
    await docker(['pull', ref]);
    const idAfter = (await docker(['image', 'inspect', '--format', '{{.Id}}', ref])).stdout.trim();
    assert.equal(idAfter, idBefore);
    const repoDigests = (await docker(['image', 'inspect', '--format', '{{json .RepoDigests}}', ref])).stdout;
    assert.ok(repoDigests.includes(pushed), repoDigests);
    const cid = (await docker(['create', ref])).stdout.trim();
    const cp = await docker(['cp', `${cid}:/data`, '-']);
    await docker(['rm', cid]);
    const got: Record<string, Buffer> = {};
    for (const [p, b] of Object.entries(untar(cp.stdoutBytes))) got[p.startsWith('data/') ? p : `data/${p}`] = b;
    assertSameFiles(got, files, 'docker cp');
  });

  test('skopeo: OCI layout -> registry -> OCI layout, identical manifest and layers', async () => {
    const img = await buildOciImage(join(work, 'sk-src'), { tag: 'v1' });
    const flags = cenv.tlsFlags(target);
    await cenv.skopeo(['copy', ...cenv.tlsFlags(target, 'dest'), img.ref, `docker://${reg.host}/smoke/skopeo:1`]);
    const m = await registryManifest(reg, 'smoke/skopeo', '1');
    assert.equal(m.digest, img.manifestDigest);
    assert.ok(m.body.equals(img.manifest));
    await cenv.skopeo(['copy', ...cenv.tlsFlags(target, 'src'), `docker://${reg.host}/smoke/skopeo:1`, `oci:${join(work, 'sk-back')}:v1`]);
    const back = await readImageFiles(join(work, 'sk-back'), 'v1');
    assertSameFiles(back, img.files, 'skopeo round trip');
    const inspect = JSON.parse((await cenv.skopeo(['inspect', ...flags, `docker://${reg.host}/smoke/skopeo:1`])).stdout);
    assert.equal(inspect.Digest, img.manifestDigest);
    const tags = JSON.parse((await cenv.skopeo(['list-tags', ...flags, `docker://${reg.host}/smoke/skopeo`])).stdout);
    assert.deepEqual(tags.Tags, ['1']);
  });

  test('multi-arch index: crane index append, skopeo copy --all both ways, regctl index create', async () => {
    const dest = cenv.tlsFlags(target, 'dest');
    const src = cenv.tlsFlags(target, 'src');
    const layout = join(work, 'multi');
    const amd = await buildOciImage(layout, { tag: 'amd64', architecture: 'amd64' });
    const arm = await buildOciImage(layout, { tag: 'arm64', architecture: 'arm64' });
    for (const i of [amd, arm]) await cenv.skopeo(['copy', ...dest, i.ref, `docker://${reg.host}/smoke/multi:${i.tag}`]);
    await go.crane([
      'index', 'append', ...go.flags(target).crane,
      '-m', `${reg.host}/smoke/multi:amd64`, '-m', `${reg.host}/smoke/multi:arm64`, '-t', `${reg.host}/smoke/multi:index`,
    ]);
    const idx = await registryManifest(reg, 'smoke/multi', 'index');
    assert.equal(idx.type, OCI_INDEX);
    assert.deepEqual(
      idx.json.manifests.map((d: { digest: string }) => d.digest).sort(),
      [amd.manifestDigest, arm.manifestDigest].sort(),
    );
    // registry -> OCI layout -> another repo, all platforms. skopeo 1.9 re-serializes an OCI
    // index on the way into an OCI layout (it drops the descriptors' artifactType that crane
    // writes), so compare children there; the push leg with --preserve-digests is byte-exact.
    const back = join(work, 'multi-back');
    await cenv.skopeo(['copy', '--all', ...src, `docker://${reg.host}/smoke/multi:index`, `oci:${back}:index`]);
    const { manifest: backIndex } = await readLayoutManifest(back, 'index');
    assert.deepEqual(
      JSON.parse(backIndex.toString()).manifests.map((d: { digest: string }) => d.digest),
      idx.json.manifests.map((d: { digest: string }) => d.digest),
    );
    assert.ok((await readLayoutBlob(back, arm.manifestDigest)).equals(arm.manifest), 'non-native platform pulled too');
    await cenv.skopeo(['copy', '--all', '--preserve-digests', ...dest, `oci:${back}:index`, `docker://${reg.host}/smoke/multi-copy:1`]);
    const copy = await registryManifest(reg, 'smoke/multi-copy', '1');
    assert.ok(copy.body.equals(backIndex), 'index pushed byte-identically');
    // regctl builds a Docker manifest list from the same children; skopeo copies it registry -> registry
    await go.regctl([
      'index', 'create', `${reg.host}/smoke/multi:list`, '--media-type', DOCKER_LIST,
      '--ref', `${reg.host}/smoke/multi:amd64`, '--ref', `${reg.host}/smoke/multi:arm64`,
    ]);
    const list = await registryManifest(reg, 'smoke/multi', 'list');
    assert.equal(list.type, DOCKER_LIST);
    assert.equal(list.json.manifests.length, 2);
    await cenv.skopeo([
      'copy', '--all', '--preserve-digests', ...src, ...dest,
      `docker://${reg.host}/smoke/multi:list`, `docker://${reg.host}/smoke/multi-list:1`,
    ]);
    assert.equal((await registryManifest(reg, 'smoke/multi-list', '1')).digest, list.digest);
  });

  test('podman: build, push (OCI), rmi, pull, same digest and bytes', async () => {
    const ctx = join(work, 'podman-ctx');
    const files = randomFiles();
    for (const [p, b] of Object.entries(files)) {
      await mkdir(join(ctx, 'rootfs', p, '..'), { recursive: true });
      await writeFile(join(ctx, 'rootfs', p), b);
    }
    await writeFile(join(ctx, 'Containerfile'), 'FROM scratch\nCOPY rootfs/ /\n');
    const ref = `${reg.host}/smoke/podman:1`;
    const flags = cenv.tlsFlags(target);
    await cenv.podman(['build', '-q', '-t', ref, ctx]);
    const digestFile = join(work, 'podman.digest');
    await cenv.podman(['push', ...flags, '--format', 'oci', '--digestfile', digestFile, ref]);
    const pushed = (await readFile(digestFile, 'utf8')).trim();
    const m = await registryManifest(reg, 'smoke/podman', '1');
    assert.equal(m.digest, pushed);
    assert.equal(m.type, OCI_MANIFEST);
    await cenv.podman(['rmi', ref]);
    await cenv.podman(['pull', '-q', ...flags, ref]);
    const digest = (await cenv.podman(['image', 'inspect', '--format', '{{.Digest}}', ref])).stdout.trim();
    assert.equal(digest, pushed);
    await cenv.skopeo(['copy', ...cenv.tlsFlags(target, 'src'), `docker://${ref}`, `oci:${join(work, 'podman-back')}:1`]);
    assertSameFiles(await readImageFiles(join(work, 'podman-back'), '1'), files, 'podman');
  });

  test('buildah: from scratch, commit, push (Docker v2s2), pull', async () => {
    const flags = cenv.tlsFlags(target);
    const file = randomBytes(10_000);
    await writeFile(join(work, 'buildah.bin'), file);
    const c = (await cenv.buildah(['from', 'scratch'])).stdout.trim();
    await cenv.buildah(['copy', c, join(work, 'buildah.bin'), '/buildah.bin']);
    await cenv.buildah(['config', '--cmd', '/buildah.bin', c]);
    await cenv.buildah(['commit', '-q', c, 'localhost/buildah-smoke:1']);
    await cenv.buildah(['rm', c]);
    const digestFile = join(work, 'buildah.digest');
    await cenv.buildah([
      'push', ...flags, '--format', 'docker', '--digestfile', digestFile,
      'localhost/buildah-smoke:1', `docker://${reg.host}/smoke/buildah:1`,
    ]);
    const m = await registryManifest(reg, 'smoke/buildah', '1');
    assert.equal(m.digest, (await readFile(digestFile, 'utf8')).trim());
    assert.equal(m.type, DOCKER_MANIFEST);
    await cenv.buildah(['pull', '-q', ...flags, `${reg.host}/smoke/buildah:1`]);
    const layer = await httpGet(`${reg.url}/v2/smoke/buildah/blobs/${m.json.layers[0].digest}`);
    assert.equal(sha256(layer.body), m.json.layers[0].digest);
    assert.ok(untar(maybeGunzip(layer.body))['buildah.bin']?.equals(file));
  });

  test('ctr: pull, push a retag, import+push fresh content, pull it back', async () => {
    const rf = ctrd.registryFlags(target);
    const src = await registryManifest(reg, 'smoke/skopeo', '1');
    await ctrd.ctr(['images', 'pull', ...rf, `${reg.host}/smoke/skopeo:1`]);
    const ls = (await ctrd.ctr(['images', 'ls'])).stdout;
    assert.ok(ls.includes(src.digest), ls);
    await ctrd.ctr(['images', 'tag', `${reg.host}/smoke/skopeo:1`, `${reg.host}/smoke/ctr:retag`]);
    await ctrd.ctr(['images', 'push', ...rf, `${reg.host}/smoke/ctr:retag`]);
    assert.equal((await registryManifest(reg, 'smoke/ctr', 'retag')).digest, src.digest);

    const img = await buildOciImage(join(work, 'ctr-src'), { tag: 'latest' });
    const archive = join(work, 'ctr-src.tar');
    await runOk('tar', ['-C', img.layout, '-cf', archive, '.']);
    await ctrd.ctr(['images', 'import', '--base-name', `${reg.host}/smoke/ctr`, archive]);
    await ctrd.ctr(['images', 'push', ...rf, `${reg.host}/smoke/ctr:latest`]);
    const m = await registryManifest(reg, 'smoke/ctr', 'latest');
    assert.equal(m.digest, img.manifestDigest);
    await ctrd.ctr(['images', 'rm', '--sync', `${reg.host}/smoke/ctr:latest`]);
    await ctrd.ctr(['images', 'pull', ...rf, `${reg.host}/smoke/ctr:latest`]);
    const layerDigest = m.json.layers[0].digest as string;
    const layer = await ctrd.ctr(['content', 'get', layerDigest]);
    assert.ok(layer.stdoutBytes.equals(await readLayoutBlob(img.layout, layerDigest)));
  });

  test('crane: append, copy, digest, manifest, blob, export', async () => {
    const f = go.flags(target).crane;
    const files = randomFiles();
    const tree = join(work, 'crane-tree');
    for (const [p, b] of Object.entries(files)) {
      await mkdir(join(tree, p, '..'), { recursive: true });
      await writeFile(join(tree, p), b);
    }
    const layerTgz = join(work, 'crane-layer.tar.gz');
    await runOk('tar', ['-C', tree, '-czf', layerTgz, 'data']);
    const ref = `${reg.host}/smoke/crane:1`;
    await go.crane(['append', ...f, '--oci-empty-base', '-f', layerTgz, '-t', ref]);
    const digest = (await go.crane(['digest', ...f, ref])).stdout.trim();
    const m = await registryManifest(reg, 'smoke/crane', '1');
    assert.equal(digest, m.digest);
    const manifest = (await go.crane(['manifest', ...f, ref])).stdoutBytes;
    assert.ok(manifest.equals(m.body), 'crane manifest returns the exact bytes');
    const blob = (await go.crane(['blob', ...f, `${reg.host}/smoke/crane@${m.json.layers[0].digest}`])).stdoutBytes;
    assert.equal(sha256(blob), m.json.layers[0].digest);
    assertSameFiles(untar(maybeGunzip(blob)), files, 'crane blob');
    await go.crane(['copy', ...f, ref, `${reg.host}/smoke/crane-copy:1`]);
    assert.equal((await registryManifest(reg, 'smoke/crane-copy', '1')).digest, m.digest);
    const exported = (await go.crane(['export', ...f, ref, '-'])).stdoutBytes;
    assertSameFiles(untar(exported), files, 'crane export');
  });

  test('oras: push/pull a file artifact, attach + discover a referrer', async () => {
    const f = go.flags(target).oras;
    const dir = join(work, 'oras');
    await mkdir(join(dir, 'out'), { recursive: true });
    const payload = randomBytes(20_000);
    await writeFile(join(dir, 'artifact.bin'), payload);
    const ref = `${reg.host}/smoke/oras:1`;
    await go.oras(['push', ...f, '--artifact-type', 'application/vnd.berth.test', ref, 'artifact.bin:application/octet-stream'], { cwd: dir });
    await go.oras(['pull', ...f, '-o', join(dir, 'out'), ref]);
    assert.ok((await readFile(join(dir, 'out', 'artifact.bin'))).equals(payload));
    const m = await registryManifest(reg, 'smoke/oras', '1');
    assert.equal(m.json.artifactType, 'application/vnd.berth.test');

    const sig = randomBytes(512);
    await writeFile(join(dir, 'sig.bin'), sig);
    await go.oras(['attach', ...f, '--artifact-type', 'application/vnd.berth.sig', ref, 'sig.bin:application/octet-stream'], { cwd: dir });
    // distribution 2.8 has no referrers API: oras falls back to the tag schema sha256-<hex>
    const fallback = await registryManifest(reg, 'smoke/oras', m.digest.replace(':', '-'));
    assert.equal(fallback.type, OCI_INDEX);
    const disc = JSON.parse((await go.oras(['discover', ...f, '--format', 'json', ref])).stdout);
    const referrers = (disc.referrers ?? disc.manifests) as { digest: string; artifactType: string }[];
    assert.equal(referrers.length, 1, JSON.stringify(disc));
    assert.equal(referrers[0].artifactType, 'application/vnd.berth.sig');
    await mkdir(join(dir, 'sig-out'));
    await go.oras(['pull', ...f, '-o', join(dir, 'sig-out'), `${reg.host}/smoke/oras@${referrers[0].digest}`]);
    assert.ok((await readFile(join(dir, 'sig-out', 'sig.bin'))).equals(sig));
  });

  test('regctl: image copy, manifest get, blob get', async () => {
    const src = await registryManifest(reg, 'smoke/skopeo', '1');
    await go.regctl(['image', 'copy', `${reg.host}/smoke/skopeo:1`, `${reg.host}/smoke/regctl:1`]);
    const raw = (await go.regctl(['manifest', 'get', '--format', 'raw-body', `${reg.host}/smoke/regctl:1`])).stdoutBytes;
    assert.ok(raw.equals(src.body));
    const digest = (await go.regctl(['image', 'digest', `${reg.host}/smoke/regctl:1`])).stdout.trim();
    assert.equal(digest, src.digest);
    const layerDigest = src.json.layers[0].digest as string;
    const blob = (await go.regctl(['blob', 'get', `${reg.host}/smoke/regctl`, layerDigest])).stdoutBytes;
    assert.equal(sha256(blob), layerDigest);
  });

  test('helm: package, push oci://, pull, identical .tgz', async () => {
    const f = go.flags(target).helm;
    const dir = join(work, 'helm');
    const chart = await writeHelmChart(dir, 'smokechart', '0.1.0');
    await go.helm(['package', chart, '-d', dir]);
    const tgz = join(dir, 'smokechart-0.1.0.tgz');
    const push = await go.helm(['push', ...f, tgz, `oci://${reg.host}/smoke/charts`]);
    const pushedDigest = /Digest: (sha256:[0-9a-f]{64})/.exec(push.stdout + push.stderr)?.[1];
    const m = await registryManifest(reg, 'smoke/charts/smokechart', '0.1.0');
    assert.equal(pushedDigest, m.digest);
    assert.equal(m.json.config.mediaType, 'application/vnd.cncf.helm.config.v1+json');
    await mkdir(join(dir, 'pulled'));
    await go.helm(['pull', ...f, `oci://${reg.host}/smoke/charts/smokechart`, '--version', '0.1.0', '-d', join(dir, 'pulled')]);
    const original = await readFile(tgz);
    assert.ok((await readFile(join(dir, 'pulled', 'smokechart-0.1.0.tgz'))).equals(original));
    assert.equal(sha256(original), m.json.layers[0].digest);
  });
});

describe('real clients log in to a basic-auth registry', { timeout: 180_000 }, () => {
  let reg: PeerRegistry;
  let target: RegistryTarget;
  let work: string;
  const creds = { username: 'alice', password: 's3cret-' + randomBytes(4).toString('hex') };

  before(async () => {
    work = makeTempDir('smoke-auth');
    reg = await startDistributionRegistry({ users: [creds] });
    target = { host: reg.host, creds };
    const r = await httpGet(`${reg.url}/v2/`);
    assert.equal(r.status, 401);
  });
  after(async () => {
    await reg?.stop();
    if (work) removeDir(work);
  });

  test('skopeo/podman, ctr, crane/oras/regctl/helm, docker with credentials', async () => {
    const [cenv, go, ctrd, dockerd] = await Promise.all([
      createContainersEnv({ insecureRegistries: [reg.host] }),
      createGoClients(),
      startContainerd(),
      startDockerd(),
    ]);
    try {
      const img = await buildOciImage(join(work, 'img'));
      // no creds -> denied
      const denied = await cenv.skopeo(['copy', ...cenv.tlsFlags(target, 'dest'), img.ref, `docker://${reg.host}/auth/img:1`], { allowFail: true });
      assert.notEqual(denied.code, 0);
      // skopeo --creds, then podman login (auth file shared with skopeo)
      await cenv.skopeo(['copy', ...cenv.tlsFlags(target, 'dest'), '--dest-creds', `${creds.username}:${creds.password}`, img.ref, `docker://${reg.host}/auth/img:1`]);
      await cenv.login(target);
      await cenv.skopeo(['inspect', ...cenv.tlsFlags(target), `docker://${reg.host}/auth/img:1`]);
      await cenv.podman(['pull', '-q', ...cenv.tlsFlags(target), `${reg.host}/auth/img:1`]);
      // ctr --user
      await ctrd.ctr(['images', 'pull', ...ctrd.registryFlags(target), `${reg.host}/auth/img:1`]);
      // crane/oras/regctl/helm logins (regctl also gets tls=disabled)
      await go.configure(target);
      assert.equal((await go.crane(['digest', ...go.flags(target).crane, `${reg.host}/auth/img:1`])).stdout.trim(), img.manifestDigest);
      assert.equal((await go.regctl(['image', 'digest', `${reg.host}/auth/img:1`])).stdout.trim(), img.manifestDigest);
      await go.oras(['manifest', 'fetch', ...go.flags(target).oras, `${reg.host}/auth/img:1`]);
      const chart = await writeHelmChart(join(work, 'helm'), 'authchart', '1.0.0');
      await go.helm(['package', chart, '-d', join(work, 'helm')]);
      await go.helm(['push', ...go.flags(target).helm, join(work, 'helm', 'authchart-1.0.0.tgz'), `oci://${reg.host}/auth/charts`]);
      // docker login, push, pull
      await dockerd.login(reg.host, creds);
      const ref = `${reg.host}/auth/docker:1`;
      await dockerd.buildScratch(ref, randomFiles(1));
      await dockerd.docker(['push', ref]);
      await dockerd.docker(['rmi', ref]);
      await dockerd.docker(['pull', ref]);
    } finally {
      await Promise.allSettled([cenv.stop(), go.stop(), ctrd.stop(), dockerd.stop()]);
    }
  });
});
