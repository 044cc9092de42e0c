// The Go registry clients against a real Berth with token auth, all logged in as admin from a private HOME:
// crane (append, digest, manifest, blob, pull, copy with a cross-repo mount, ls, catalog), oras (file artifact,
// attach a referrer, discover through the referrers API), regctl (image copy, manifest get, blob get, tag ls)
// and helm (OCI chart push/pull). Every pulled byte is compared with what went in and with what Berth serves.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth } from '../helpers/berth.ts';
import type { Berth } from '../helpers/berth.ts';
import {
  createGoClients,
  httpGet,
  makeTempDir,
  maybeGunzip,
  randomFiles,
  removeDir,
  runOk,
  sha256,
  untar,
  writeHelmChart,
} from '../helpers/clients.ts';
import type { GoClients, RegistryTarget } from '../helpers/clients.ts';
import {
  assertSameFiles,
  basicAuth,
  berthBlob,
  berthManifest,
  berthTags,
  berthTarget,
  OCI_INDEX,
  OCI_MANIFEST,
  assertNoBerthErrors,
  startRecordingProxy,
} from './lib.ts';
import type { RecordingProxy } from './lib.ts';

describe('crane, oras, regctl, helm against Berth', { timeout: 240_000 }, () => {
  let berth: Berth;
  let go: GoClients;
  let work: string;
  let target: RegistryTarget;
  let proxy: RecordingProxy;
  let H: string;
  const craneImage = { files: {} as Record<string, Buffer>, digest: '', layerDigest: '' };

  before(async () => {
    work = makeTempDir('goclients-t');
    [berth, go] = await Promise.all([startBerth(), createGoClients()]);
    H = berth.host;
    target = berthTarget(berth);
    proxy = await startRecordingProxy(berth);
    // regctl tls=disabled + crane/oras/regctl/helm logins, for Berth and for the recording proxy in front of it
    await go.configure(target);
    await go.configure({ ...target, host: proxy.host });
  });

  after(async () => {
    await go?.stop();
    await proxy?.close();
    await berth?.stop();
    if (work) removeDir(work);
    assertNoBerthErrors(berth); // no 5xx, no error logged, by any client's request
  });

  test('logins with a wrong password fail (oras, regctl, helm)', async () => {
    const f = go.flags(target);
    // scratch config files: regctl stores a login's credentials in its config even when the check fails
    const scratch = join(work, 'bad-login');
    await mkdir(scratch, { recursive: true });
    const env = {
      DOCKER_CONFIG: scratch,
      REGCTL_CONFIG: join(scratch, 'regctl.json'),
      HELM_REGISTRY_CONFIG: join(scratch, 'helm.json'),
    };
    const bad = { input: 'nope', allowFail: true, env };
    const oras = await go.oras(['login', ...f.oras, '-u', 'admin', '--password-stdin', H], bad);
    assert.notEqual(oras.code, 0, oras.stdout);
    assert.match(oras.stderr, /unauthorized|401/i);
    await go.regctl(['registry', 'set', '--skip-check', '--tls', 'disabled', H], { env });
    const regctl = await go.regctl(['registry', 'login', H, '-u', 'admin', '--pass-stdin'], bad);
    assert.notEqual(regctl.code, 0, regctl.stdout);
    const helm = await go.helm(['registry', 'login', ...f.helm, '--username', 'admin', '--password-stdin', H], bad);
    assert.notEqual(helm.code, 0, helm.stdout);
    // the good logins (done in before) are still in place
    const ok = await go.oras(['login', ...f.oras, '-u', 'admin', '--password-stdin', H], { input: berth.adminPassword });
    assert.match(ok.stdout, /Login Succeeded/);
  });

  test('crane: append, digest, manifest, blob, pull, ls, catalog', async () => {
    const f = go.flags(target).crane;
    craneImage.files = randomFiles(2, 32 * 1024);
    const tree = join(work, 'crane-tree');
    for (const [p, b] of Object.entries(craneImage.files)) {
      await mkdir(join(tree, p, '..'), { recursive: true });
      await writeFile(join(tree, p), b);
    }
    const layerTgz = join(work, 'crane-layer.tar.gz');
    await runOk('tar', ['-C', tree, '-czf', layerTgz, 'data']);
    const layerBytes = await readFile(layerTgz);
    const ref = `${H}/library/crane:1`;
    await go.crane(['append', ...f, '--oci-empty-base', '-f', layerTgz, '-t', ref]);
    await go.crane(['tag', ...f, ref, '2']);

    const m = await berthManifest(berth, 'library/crane', '1');
    assert.equal(m.type, OCI_MANIFEST);
    craneImage.digest = m.digest;
    craneImage.layerDigest = m.json.layers[0].digest;
    assert.equal(craneImage.layerDigest, sha256(layerBytes), 'the gzip layer was uploaded as is');
    assert.ok((await berthBlob(berth, 'library/crane', craneImage.layerDigest)).equals(layerBytes));

    assert.equal((await go.crane(['digest', ...f, ref])).stdout.trim(), m.digest);
    assert.ok((await go.crane(['manifest', ...f, ref])).stdoutBytes.equals(m.body), 'crane manifest = served bytes');
    const blob = (await go.crane(['blob', ...f, `${H}/library/crane@${craneImage.layerDigest}`])).stdoutBytes;
    assert.ok(blob.equals(layerBytes), 'crane blob is byte-identical to the appended layer');
    assertSameFiles(untar(maybeGunzip(blob)), craneImage.files, 'crane blob');
    const config = (await go.crane(['config', ...f, ref])).stdoutBytes;
    assert.ok(config.equals(await berthBlob(berth, 'library/crane', m.json.config.digest)));

    const layout = join(work, 'crane-pulled');
    await go.crane(['pull', ...f, '--format', 'oci', ref, layout]);
    const pulledIndex = JSON.parse(await readFile(join(layout, 'index.json'), 'utf8'));
    assert.equal(pulledIndex.manifests[0].digest, m.digest);
    const blobs = await readdir(join(layout, 'blobs', 'sha256'));
    assert.deepEqual(blobs.sort(), [m.digest, m.json.config.digest, craneImage.layerDigest].map((d: string) => d.slice(7)).sort());
    for (const hex of blobs) {
      const b = await readFile(join(layout, 'blobs', 'sha256', hex));
      assert.equal(sha256(b), `sha256:${hex}`);
    }
    assert.ok((await readFile(join(layout, 'blobs', 'sha256', craneImage.layerDigest.slice(7)))).equals(layerBytes));

    assert.deepEqual((await go.crane(['ls', ...f, `${H}/library/crane`])).stdout.trim().split('\n').sort(), ['1', '2']);
    const catalog = (await go.crane(['catalog', ...f, H])).stdout.trim().split('\n');
    assert.ok(catalog.includes('library/crane'), catalog.join(','));
  });

  test('crane copy to another repo mounts the blobs (no re-upload)', async () => {
    assert.ok(craneImage.digest, 'needs the crane test image');
    const f = go.flags(target).crane;
    proxy.requests.length = 0;
    await go.crane(['copy', ...f, `${proxy.host}/library/crane:1`, `${proxy.host}/library/crane-copy:1`]);
    const mounts = proxy.requests.filter((r) => r.method === 'POST' && /\/v2\/library\/crane-copy\/blobs\/uploads\/\?.*mount=/.test(r.url));
    assert.ok(mounts.length >= 1, JSON.stringify(proxy.requests, null, 1));
    assert.ok(mounts.every((r) => r.status === 201), `mounts answered 201: ${JSON.stringify(mounts)}`);
    assert.ok(!proxy.requests.some((r) => r.method === 'PATCH'), 'no blob data was uploaded');
    assert.ok(!proxy.requests.some((r) => r.status >= 500), JSON.stringify(proxy.requests));
    const m = await berthManifest(berth, 'library/crane-copy', '1');
    assert.equal(m.digest, craneImage.digest);
    assertSameFiles(untar(maybeGunzip(await berthBlob(berth, 'library/crane-copy', craneImage.layerDigest))), craneImage.files, 'copied');
  });

  test('oras: push a file artifact, pull it back; attach a signature (subject) and discover it', async () => {
    const f = go.flags(target).oras;
    const dir = join(work, 'oras');
    await mkdir(join(dir, 'out'), { recursive: true });
    const payload = randomBytes(50_000);
    await writeFile(join(dir, 'artifact.bin'), payload);
    const ref = `${H}/library/oras:1`;
    await go.oras(['push', ...f, '--artifact-type', 'application/vnd.berth.test', ref, 'artifact.bin:application/octet-stream'], { cwd: dir });
    const m = await berthManifest(berth, 'library/oras', '1');
    assert.equal(m.type, OCI_MANIFEST);
    assert.equal(m.json.artifactType, 'application/vnd.berth.test');
    assert.equal(m.json.layers[0].digest, sha256(payload));
    assert.ok((await berthBlob(berth, 'library/oras', sha256(payload))).equals(payload));
    await go.oras(['pull', ...f, '-o', join(dir, 'out'), ref]);
    assert.ok((await readFile(join(dir, 'out', 'artifact.bin'))).equals(payload), 'oras pull is byte-identical');
    const fetched = (await go.oras(['manifest', 'fetch', ...f, ref])).stdoutBytes;
    assert.ok(fetched.equals(m.body));

    const sig = randomBytes(700);
    await writeFile(join(dir, 'sig.bin'), sig);
    await go.oras(['attach', ...f, '--artifact-type', 'application/vnd.example.sig', ref, 'sig.bin:application/octet-stream'], { cwd: dir });
    // Berth has the referrers API, so oras must not fall back to the sha256-<hex> tag schema
    assert.ok(!(await berthTags(berth, 'library/oras')).some((t) => t.startsWith('sha256-')), 'no referrers fallback tag');
    const api = await httpGet(`${berth.url}/v2/library/oras/referrers/${m.digest}`, { headers: basicAuth(berth) });
    assert.equal(api.status, 200);
    const apiIndex = JSON.parse(api.body.toString('utf8'));
    assert.equal(apiIndex.mediaType, OCI_INDEX);
    assert.equal(apiIndex.manifests.length, 1);
    assert.equal(apiIndex.manifests[0].artifactType, 'application/vnd.example.sig');

    const disc = JSON.parse((await go.oras(['discover', ...f, '--format', 'json', ref])).stdout);
    const referrers = (disc.referrers ?? disc.manifests) as { digest: string; artifactType: string }[];
    assert.equal(referrers.length, 1, JSON.stringify(disc));
    assert.equal(referrers[0].artifactType, 'application/vnd.example.sig');
    assert.equal(referrers[0].digest, apiIndex.manifests[0].digest);
    const sigManifest = await berthManifest(berth, 'library/oras', referrers[0].digest);
    assert.equal(sigManifest.json.subject.digest, m.digest);
    await mkdir(join(dir, 'sig-out'));
    await go.oras(['pull', ...f, '-o', join(dir, 'sig-out'), `${H}/library/oras@${referrers[0].digest}`]);
    assert.ok((await readFile(join(dir, 'sig-out', 'sig.bin'))).equals(sig), 'signature pulled byte-identical');
  });

  test('regctl: image copy, manifest get raw-body, blob get, tag ls', async () => {
    assert.ok(craneImage.digest, 'needs the crane test image');
    await go.regctl(['image', 'copy', `${H}/library/crane:1`, `${H}/library/regctl:v1`]);
    await go.regctl(['image', 'copy', `${H}/library/crane:1`, `${H}/library/regctl:v2`]);
    const served = await berthManifest(berth, 'library/regctl', 'v1');
    assert.equal(served.digest, craneImage.digest);
    const raw = (await go.regctl(['manifest', 'get', '--format', 'raw-body', `${H}/library/regctl:v1`])).stdoutBytes;
    assert.ok(raw.equals(served.body), 'regctl manifest get = the bytes Berth serves');
    assert.equal((await go.regctl(['image', 'digest', `${H}/library/regctl:v2`])).stdout.trim(), craneImage.digest);
    const blob = (await go.regctl(['blob', 'get', `${H}/library/regctl`, craneImage.layerDigest])).stdoutBytes;
    assert.ok(blob.equals(await berthBlob(berth, 'library/crane', craneImage.layerDigest)), 'regctl blob get byte-identical');
    assertSameFiles(untar(maybeGunzip(blob)), craneImage.files, 'regctl blob');
    const tags = (await go.regctl(['tag', 'ls', `${H}/library/regctl`])).stdout.trim().split('\n').sort();
    assert.deepEqual(tags, ['v1', 'v2']);
    await go.regctl(['tag', 'delete', `${H}/library/regctl:v2`]);
    assert.deepEqual(await berthTags(berth, 'library/regctl'), ['v1']);
  });

  test('helm: package, push oci://, pull: identical .tgz', async () => {
    const f = go.flags(target).helm;
    const dir = join(work, 'helm');
    const chart = await writeHelmChart(dir, 'berthchart', '0.3.1');
    await go.helm(['package', chart, '-d', dir]);
    const tgz = join(dir, 'berthchart-0.3.1.tgz');
    const original = await readFile(tgz);
    const push = await go.helm(['push', ...f, tgz, `oci://${H}/library`]);
    const pushedDigest = /Digest: (sha256:[0-9a-f]{64})/.exec(push.stdout + push.stderr)?.[1];
    const m = await berthManifest(berth, 'library/berthchart', '0.3.1');
    assert.equal(pushedDigest, m.digest);
    assert.equal(m.json.config.mediaType, 'application/vnd.cncf.helm.config.v1+json');
    assert.equal(m.json.layers[0].digest, sha256(original));
    assert.ok((await berthBlob(berth, 'library/berthchart', sha256(original))).equals(original));
    const out = join(dir, 'pulled');
    await mkdir(out);
    await go.helm(['pull', ...f, `oci://${H}/library/berthchart`, '--version', '0.3.1', '-d', out]);
    assert.ok((await readFile(join(out, 'berthchart-0.3.1.tgz'))).equals(original), 'helm pull is byte-identical');
    const show = await go.helm(['show', 'chart', ...f, `oci://${H}/library/berthchart`, '--version', '0.3.1']);
    assert.match(show.stdout, /name: berthchart/);
  });
});
