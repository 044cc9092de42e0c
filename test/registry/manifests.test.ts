// Manifests: OCI/Docker images and indexes, artifacts, exact bytes, digest references, validation errors,
// size limits and deletes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, repoName, useBerth } from './fixture.ts';
import { MediaTypes, digestOf, randomBlob, rawHttp, type Digested } from '../helpers/registry-client.ts';

const f = useBerth();
const MiB = 1024 * 1024;

async function assertManifest(repo: string, ref: string, bytes: Buffer, mediaType: string) {
  const digest = digestOf(bytes);
  const g = await f.admin.getManifest(repo, ref);
  expectStatus(g, 200);
  assert.equal(g.header('content-type'), mediaType);
  assert.equal(g.header('docker-content-digest'), digest);
  assert.equal(g.header('content-length'), String(bytes.length));
  assert.deepEqual(g.body, bytes);
  assert.equal(digestOf(g.body), digest);
  const h = await f.admin.headManifest(repo, ref);
  expectStatus(h, 200);
  assert.equal(h.header('content-type'), mediaType);
  assert.equal(h.header('docker-content-digest'), digest);
  assert.equal(h.header('content-length'), String(bytes.length));
  assert.equal(h.body.length, 0);
}

const desc = (mediaType: string, d: Digested, extra: Record<string, unknown> = {}) => ({ mediaType, digest: d.digest, size: d.size, ...extra });

test('OCI image manifest: PUT by tag → 201 with Location and digest; GET/HEAD by tag and digest', async () => {
  const repo = repoName('oci');
  const img = await f.admin.pushImage(repo, 'v1', { layers: 2 });
  const put = await f.admin.putManifest(repo, 'v1-again', img.bytes);
  expectStatus(put, 201);
  assert.equal(put.header('location'), `/v2/${repo}/manifests/${img.digest}`);
  assert.equal(put.header('docker-content-digest'), img.digest);
  assert.equal(put.header('oci-subject'), null);
  await assertManifest(repo, 'v1', img.bytes, MediaTypes.OciManifest);
  await assertManifest(repo, img.digest, img.bytes, MediaTypes.OciManifest);
});

test('OCI index of two images; HEAD on the index returns the index digest', async () => {
  const repo = repoName('index');
  const a = await f.admin.pushImage(repo, 'amd64');
  const b = await f.admin.pushImage(repo, 'arm64');
  const index = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciIndex,
    manifests: [
      { mediaType: MediaTypes.OciManifest, digest: a.digest, size: a.bytes.length, platform: { architecture: 'amd64', os: 'linux' } },
      { mediaType: MediaTypes.OciManifest, digest: b.digest, size: b.bytes.length, platform: { architecture: 'arm64', os: 'linux' } },
    ],
  };
  const m = await f.admin.pushManifest(repo, 'multi', index);
  await assertManifest(repo, 'multi', m.bytes, MediaTypes.OciIndex);
  const h = await f.admin.headManifest(repo, 'multi', [MediaTypes.OciManifest]);
  assert.equal(h.header('docker-content-digest'), m.digest);
});

test('Docker schema 2 and a manifest list (children pushed by digest, as docker manifest push does)', async () => {
  const repo = repoName('docker');
  const children: { digest: string; bytes: Buffer }[] = [];
  for (const arch of ['amd64', 'arm64']) {
    const config = await f.admin.pushBlob(repo, Buffer.from(JSON.stringify({ architecture: arch, os: 'linux' })));
    const layer = await f.admin.pushBlob(repo, randomBlob(200));
    const manifest = {
      schemaVersion: 2,
      mediaType: MediaTypes.DockerManifest,
      config: desc(MediaTypes.DockerConfig, config),
      layers: [desc(MediaTypes.DockerLayer, layer)],
    };
    const bytes = Buffer.from(JSON.stringify(manifest, null, 3));
    const d = digestOf(bytes);
    const r = await f.admin.pushManifest(repo, d, bytes);
    assert.equal(r.digest, d);
    children.push({ digest: d, bytes });
    await assertManifest(repo, d, bytes, MediaTypes.DockerManifest);
  }
  const list = {
    schemaVersion: 2,
    mediaType: MediaTypes.DockerManifestList,
    manifests: children.map((c, i) => ({
      mediaType: MediaTypes.DockerManifest,
      digest: c.digest,
      size: c.bytes.length,
      platform: { architecture: ['amd64', 'arm64'][i], os: 'linux' },
    })),
  };
  const l = await f.admin.pushManifest(repo, 'latest', list);
  await assertManifest(repo, 'latest', l.bytes, MediaTypes.DockerManifestList);
  // HEAD with docker's Accept (which lists the v2 manifest first) still names the list itself
  const h = await f.admin.headManifest(repo, 'latest', [MediaTypes.DockerManifest, MediaTypes.DockerManifestList]);
  expectStatus(h, 200);
  assert.equal(h.header('docker-content-digest'), l.digest);
  assert.equal(h.header('content-type'), MediaTypes.DockerManifestList);
});

test('artifact: artifactType, arbitrary config and layer types, the empty config', async () => {
  const repo = repoName('artifact');
  const empty = await f.admin.pushBlob(repo, Buffer.from('{}'));
  assert.equal(empty.digest, 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
  const payload = await f.admin.pushBlob(repo, Buffer.from('sbom contents'));
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    artifactType: 'application/vnd.example.sbom.v1+json',
    config: desc(MediaTypes.OciEmpty, empty),
    layers: [desc('application/vnd.example.sbom.layer.v1+json', payload, { annotations: { 'org.opencontainers.image.title': 'sbom.json' } })],
    annotations: { 'org.example.k': 'v' },
  };
  const m = await f.admin.pushManifest(repo, 'sbom', manifest);
  await assertManifest(repo, 'sbom', m.bytes, MediaTypes.OciManifest);
  // a helm chart: custom config type
  const cfg = await f.admin.pushBlob(repo, Buffer.from(JSON.stringify({ name: 'chart', version: '1.0.0' })));
  const chart = await f.admin.pushBlob(repo, randomBlob(300));
  const helm = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    config: desc('application/vnd.cncf.helm.config.v1+json', cfg),
    layers: [desc('application/vnd.cncf.helm.chart.content.v1.tar+gzip', chart)],
  };
  const h = await f.admin.pushManifest(repo, '1.0.0', helm);
  await assertManifest(repo, '1.0.0', h.bytes, MediaTypes.OciManifest);
});

test('a manifest without a top-level mediaType (helm, oras) is accepted under its Content-Type', async () => {
  const repo = repoName('nomediatype');
  const cfg = await f.admin.pushBlob(repo, Buffer.from(JSON.stringify({ name: 'chart', version: '0.1.0' })));
  const chart = await f.admin.pushBlob(repo, randomBlob(128));
  const manifest = {
    schemaVersion: 2,
    config: desc('application/vnd.cncf.helm.config.v1+json', cfg),
    layers: [desc('application/vnd.cncf.helm.chart.content.v1.tar+gzip', chart)],
    annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
  };
  const m = await f.admin.pushManifest(repo, '0.1.0', manifest, MediaTypes.OciManifest);
  await assertManifest(repo, '0.1.0', m.bytes, MediaTypes.OciManifest);
  // an index without mediaType
  const idx = { schemaVersion: 2, manifests: [{ mediaType: MediaTypes.OciManifest, digest: m.digest, size: m.size }] };
  const i = await f.admin.pushManifest(repo, 'idx', idx, MediaTypes.OciIndex);
  await assertManifest(repo, 'idx', i.bytes, MediaTypes.OciIndex);
});

test('exact bytes are kept: odd whitespace, key order, escapes, trailing newline', async () => {
  const repo = repoName('bytes');
  const cfg = await f.admin.pushBlob(repo, Buffer.from('{"os":"linux"}'));
  const text =
    `\n  {  "schemaVersion" :2,\t"layers":[ ],\r\n "config" : {"size":${cfg.size},"digest":"${cfg.digest}",` +
    `"mediaType":"application/vnd.oci.image.config.v1+json"},"annotations":{"k":"caf\\u00e9 ☕"},` +
    `"mediaType":   "application/vnd.oci.image.manifest.v1+json"   }\n\n`;
  const bytes = Buffer.from(text);
  const put = await f.admin.putManifest(repo, 'odd', bytes, MediaTypes.OciManifest);
  expectStatus(put, 201);
  assert.equal(put.header('docker-content-digest'), digestOf(bytes));
  await assertManifest(repo, 'odd', bytes, MediaTypes.OciManifest);
  await assertManifest(repo, digestOf(bytes), bytes, MediaTypes.OciManifest);
});

test('PUT by digest: 201, no tag created; a mismatched digest → 400 DIGEST_INVALID', async () => {
  const repo = repoName('bydigest');
  const img = await f.admin.pushImage(repo, 'keep');
  const variant = Buffer.from(JSON.stringify({ ...img.manifest, annotations: { v: '2' } }));
  const d = digestOf(variant);
  const put = await f.admin.putManifest(repo, d, variant, MediaTypes.OciManifest);
  expectStatus(put, 201);
  assert.equal(put.header('location'), `/v2/${repo}/manifests/${d}`);
  assert.equal(put.header('docker-content-digest'), d);
  await assertManifest(repo, d, variant, MediaTypes.OciManifest);
  assert.deepEqual((await f.admin.request('GET', `/v2/${repo}/tags/list`)).json().tags, ['keep']);
  // the digest of other bytes
  const bad = await f.admin.putManifest(repo, img.digest, variant, MediaTypes.OciManifest);
  expectStatus(bad, 400, 'DIGEST_INVALID');
  // a sha512 reference is checked with sha512
  const d512 = digestOf(variant, 'sha512');
  const p512 = await f.admin.putManifest(repo, d512, variant, MediaTypes.OciManifest);
  expectStatus(p512, 201);
  assert.equal(p512.header('docker-content-digest'), d512);
  expectStatus(await f.admin.putManifest(repo, digestOf('x', 'sha512'), variant, MediaTypes.OciManifest), 400, 'DIGEST_INVALID');
});

test('PUT by digest with ?tag= tags it (distribution-spec main) and echoes OCI-Tag', async () => {
  const repo = repoName('tagparam');
  const img = await f.admin.pushImage(repo, 'base');
  const put = await f.admin.request('PUT', `/v2/${repo}/manifests/${img.digest}?tag=a&tag=b`, {
    body: img.bytes,
    headers: { 'content-type': MediaTypes.OciManifest },
  });
  expectStatus(put, 201);
  assert.equal(put.header('oci-tag'), 'a, b');
  assert.deepEqual((await f.admin.request('GET', `/v2/${repo}/tags/list`)).json().tags, ['a', 'b', 'base']);
  expectStatus(await f.admin.request('PUT', `/v2/${repo}/manifests/${img.digest}?tag=-bad`, { body: img.bytes, headers: { 'content-type': MediaTypes.OciManifest } }), 400, 'MANIFEST_INVALID');
});

test('a missing config or layer blob → 400 MANIFEST_BLOB_UNKNOWN; nothing is stored', async () => {
  const repo = repoName('missingblob');
  const cfg = await f.admin.pushBlob(repo, Buffer.from('{}'));
  const missing = { digest: digestOf('missing layer'), size: 13 };
  const m = { schemaVersion: 2, mediaType: MediaTypes.OciManifest, config: desc(MediaTypes.OciConfig, cfg), layers: [desc(MediaTypes.OciLayer, missing)] };
  const r = await f.admin.putManifest(repo, 'v1', m);
  expectStatus(r, 400, 'MANIFEST_BLOB_UNKNOWN');
  assert.deepEqual(r.json().errors[0].detail, { digest: missing.digest });
  const noCfg = { schemaVersion: 2, mediaType: MediaTypes.OciManifest, config: desc(MediaTypes.OciConfig, missing), layers: [] };
  expectStatus(await f.admin.putManifest(repo, 'v1', noCfg), 400, 'MANIFEST_BLOB_UNKNOWN');
  expectStatus(await f.admin.getManifest(repo, 'v1'), 404, 'MANIFEST_UNKNOWN');
  expectStatus(await f.admin.getManifest(repo, digestOf(JSON.stringify(m))), 404, 'MANIFEST_UNKNOWN');
});

test('an index with a missing child manifest → 400 MANIFEST_BLOB_UNKNOWN', async () => {
  const repo = repoName('missingchild');
  const img = await f.admin.pushImage(repo, 'x');
  const ghost = digestOf('no such manifest');
  const index = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciIndex,
    manifests: [
      { mediaType: MediaTypes.OciManifest, digest: img.digest, size: img.bytes.length },
      { mediaType: MediaTypes.OciManifest, digest: ghost, size: 100 },
    ],
  };
  const r = await f.admin.putManifest(repo, 'idx', index);
  expectStatus(r, 400, 'MANIFEST_BLOB_UNKNOWN');
  assert.deepEqual(r.json().errors[0].detail, { digest: ghost });
  expectStatus(await f.admin.getManifest(repo, 'idx'), 404, 'MANIFEST_UNKNOWN');
});

test('a layer, config or child declared with the wrong size → 400 MANIFEST_INVALID with SIZE_INVALID detail; nothing is stored', async () => {
  const repo = repoName('badsize');
  const cfg = await f.admin.pushBlob(repo, Buffer.from('{}'));
  const layer = await f.admin.pushBlob(repo, randomBlob(40));
  const m = { schemaVersion: 2, mediaType: MediaTypes.OciManifest, config: desc(MediaTypes.OciConfig, cfg), layers: [desc(MediaTypes.OciLayer, layer, { size: 99999 })] };
  const r = await f.admin.putManifest(repo, 'v1', m);
  expectStatus(r, 400, 'MANIFEST_INVALID');
  assert.deepEqual(r.json().errors[0].detail, { code: 'SIZE_INVALID', digest: layer.digest, declared: 99999, actual: 40 });
  const badCfg = { ...m, config: desc(MediaTypes.OciConfig, cfg, { size: 3 }), layers: [desc(MediaTypes.OciLayer, layer)] };
  expectStatus(await f.admin.putManifest(repo, 'v1', badCfg), 400, 'MANIFEST_INVALID');
  // The same blob declared twice with different sizes is refused without looking at storage.
  const twice = { ...m, layers: [desc(MediaTypes.OciLayer, layer), desc(MediaTypes.OciLayer, layer, { size: 41 })] };
  expectStatus(await f.admin.putManifest(repo, 'v1', twice), 400, 'MANIFEST_INVALID');
  expectStatus(await f.admin.getManifest(repo, 'v1'), 404, 'MANIFEST_UNKNOWN');

  const img = await f.admin.pushImage(repo, 'x');
  const index = { schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [{ mediaType: MediaTypes.OciManifest, digest: img.digest, size: img.bytes.length + 1 }] };
  const ri = await f.admin.putManifest(repo, 'idx', index);
  expectStatus(ri, 400, 'MANIFEST_INVALID');
  assert.equal(ri.json().errors[0].detail.code, 'SIZE_INVALID');
  expectStatus(await f.admin.getManifest(repo, 'idx'), 404, 'MANIFEST_UNKNOWN');
  // With the right sizes both go in.
  expectStatus(await f.admin.putManifest(repo, 'v1', { ...m, layers: [desc(MediaTypes.OciLayer, layer)] }), 201);
  expectStatus(await f.admin.putManifest(repo, 'idx', { ...index, manifests: [{ ...index.manifests[0]!, size: img.bytes.length }] }), 201);
});

test('a subject that does not exist yet is accepted, with the OCI-Subject header', async () => {
  const repo = repoName('subject');
  const empty = await f.admin.pushBlob(repo, Buffer.from('{}'));
  const subject = digestOf('an image pushed later');
  const sig = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    artifactType: 'application/vnd.dev.sigstore.bundle.v0.3+json',
    config: desc(MediaTypes.OciEmpty, empty),
    layers: [desc(MediaTypes.OciEmpty, empty)],
    subject: { mediaType: MediaTypes.OciManifest, digest: subject, size: 1234 },
  };
  const bytes = Buffer.from(JSON.stringify(sig));
  const r = await f.admin.putManifest(repo, digestOf(bytes), bytes, MediaTypes.OciManifest);
  expectStatus(r, 201);
  assert.equal(r.header('oci-subject'), subject);
  await assertManifest(repo, digestOf(bytes), bytes, MediaTypes.OciManifest);
});

test('foreign and non-distributable layers are accepted without the blob', async () => {
  const repo = repoName('foreign');
  const cfg = await f.admin.pushBlob(repo, Buffer.from(JSON.stringify({ os: 'windows' })));
  const local = await f.admin.pushBlob(repo, randomBlob(100));
  const foreign = { digest: digestOf('windows base layer'), size: 123456789 };
  const docker = {
    schemaVersion: 2,
    mediaType: MediaTypes.DockerManifest,
    config: desc(MediaTypes.DockerConfig, cfg),
    layers: [
      desc(MediaTypes.DockerForeignLayer, foreign, { urls: ['https://mcr.microsoft.com/v2/windows/blobs/' + foreign.digest] }),
      desc(MediaTypes.DockerLayer, local),
    ],
  };
  const m = await f.admin.pushManifest(repo, 'win', docker);
  await assertManifest(repo, 'win', m.bytes, MediaTypes.DockerManifest);
  const oci = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    config: desc(MediaTypes.OciConfig, cfg),
    layers: [desc('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', foreign)],
  };
  await f.admin.pushManifest(repo, 'nondist', oci);
  expectStatus(await f.admin.headBlob(repo, foreign.digest), 404);
});

function bigManifest(size: number): Buffer {
  const head = `{"schemaVersion":2,"mediaType":"${MediaTypes.OciIndex}","manifests":[],"annotations":{"pad":"`;
  const tail = '"}}';
  return Buffer.from(head + 'x'.repeat(size - head.length - tail.length) + tail);
}

test('a 4 MiB manifest is accepted', async () => {
  const repo = repoName('big');
  const bytes = bigManifest(4 * MiB);
  assert.equal(bytes.length, 4 * MiB);
  const m = await f.admin.pushManifest(repo, 'big', bytes, MediaTypes.OciIndex);
  await assertManifest(repo, m.digest, bytes, MediaTypes.OciIndex);
});

test('4 MiB + 1 → 413, with Content-Length and streamed without it', async () => {
  const repo = repoName('toobig');
  const bytes = bigManifest(4 * MiB + 1);
  const withLength = await f.admin.putManifest(repo, 'big', bytes, MediaTypes.OciIndex);
  expectStatus(withLength, 413, 'SIZE_INVALID');
  async function* stream() {
    for (let i = 0; i < bytes.length; i += 256 * 1024) yield bytes.subarray(i, i + 256 * 1024);
  }
  let streamed;
  try {
    streamed = await f.admin.request('PUT', `/v2/${repo}/manifests/big`, { body: stream(), headers: { 'content-type': MediaTypes.OciIndex } });
  } catch (e) {
    // the server may answer and close before the body is fully sent; the status must still have been a 413
    assert.fail(`streamed PUT failed without a response: ${(e as Error).message}`);
  }
  expectStatus(streamed, 413, 'SIZE_INVALID');
  // a Content-Length that lies about a huge body is refused before reading
  const lie = await rawHttp(f.berth.url, 'PUT', `/v2/${repo}/manifests/big`, {
    headers: { authorization: f.admin.basicHeader(), 'content-type': MediaTypes.OciIndex, 'content-length': String(1024 * MiB) },
  }).catch((e: Error) => e);
  if (!(lie instanceof Error)) expectStatus(lie, 413, 'SIZE_INVALID');
  expectStatus(await f.admin.getManifest(repo, 'big'), 404);
});

test('ambiguous manifest (manifests and layers) → 400 MANIFEST_INVALID', async () => {
  const repo = repoName('ambiguous');
  const img = await f.admin.pushImage(repo, 'x');
  const evil: Record<string, unknown> = { ...img.manifest, manifests: [{ mediaType: MediaTypes.OciManifest, digest: img.digest, size: img.bytes.length }] };
  expectStatus(await f.admin.putManifest(repo, 'evil', evil, MediaTypes.OciManifest), 400, 'MANIFEST_INVALID');
  const { mediaType: _mt, ...untyped } = evil;
  expectStatus(await f.admin.putManifest(repo, 'evil', untyped, MediaTypes.OciIndex), 400, 'MANIFEST_INVALID');
  const indexWithConfig = { schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [], config: img.manifest.config };
  expectStatus(await f.admin.putManifest(repo, 'evil', indexWithConfig), 400, 'MANIFEST_INVALID');
  expectStatus(await f.admin.getManifest(repo, 'evil'), 404, 'MANIFEST_UNKNOWN');
});

test('Content-Type different from the mediaType → 400 MANIFEST_INVALID', async () => {
  const repo = repoName('ctmismatch');
  const img = await f.admin.pushImage(repo, 'x');
  expectStatus(await f.admin.putManifest(repo, 'y', img.bytes, MediaTypes.OciIndex), 400, 'MANIFEST_INVALID');
  expectStatus(await f.admin.putManifest(repo, 'y', img.bytes, MediaTypes.DockerManifest), 400, 'MANIFEST_INVALID');
  // parameters on the Content-Type are ignored
  expectStatus(await f.admin.putManifest(repo, 'y', img.bytes, `${MediaTypes.OciManifest}; charset=utf-8`), 201);
});

test('schema 1, unknown media types and malformed documents → 400 MANIFEST_INVALID', async () => {
  const repo = repoName('invalid');
  const schema1 = { schemaVersion: 1, name: repo, tag: 'v1', architecture: 'amd64', fsLayers: [], history: [], signatures: [] };
  expectStatus(await f.admin.putManifest(repo, 'v1', schema1, 'application/vnd.docker.distribution.manifest.v1+prettyjws'), 400, 'MANIFEST_INVALID');
  expectStatus(await f.admin.putManifest(repo, 'v1', schema1, 'application/json'), 400, 'MANIFEST_INVALID');
  const cases: [string, string][] = [
    ['not json', MediaTypes.OciManifest],
    ['[]', MediaTypes.OciManifest],
    ['{"schemaVersion":3,"manifests":[]}', MediaTypes.OciIndex],
    [`{"schemaVersion":2,"mediaType":"application/vnd.example+json","manifests":[]}`, 'application/vnd.example+json'],
    [`{"schemaVersion":2,"mediaType":"${MediaTypes.OciIndex}","manifests":[{"mediaType":"x","digest":"sha256:abc","size":1}]}`, MediaTypes.OciIndex],
    [`{"schemaVersion":2,"mediaType":"${MediaTypes.OciIndex}","manifests":[{"mediaType":"x","digest":"${digestOf('a')}","size":-1}]}`, MediaTypes.OciIndex],
    [`{"schemaVersion":2,"mediaType":"${MediaTypes.OciManifest}","layers":[]}`, MediaTypes.OciManifest],
    ['', MediaTypes.OciManifest],
  ];
  for (const [body, ct] of cases) expectStatus(await f.admin.putManifest(repo, 'v1', body, ct), 400, 'MANIFEST_INVALID');
  expectStatus(await f.admin.getManifest(repo, 'v1'), 404);
});

test('invalid tags and references → 400; unknown tag or digest → 404 MANIFEST_UNKNOWN', async () => {
  const repo = repoName('refs');
  const img = await f.admin.pushImage(repo, 'v1');
  for (const ref of ['-dash', '.dot', 'a'.repeat(129), 'has%20space'])
    expectStatus(await f.admin.putManifest(repo, ref, img.bytes), 400);
  expectStatus(await f.admin.putManifest(repo, 'a'.repeat(128), img.bytes), 201);
  expectStatus(await f.admin.getManifest(repo, 'nope'), 404, 'MANIFEST_UNKNOWN');
  expectStatus(await f.admin.getManifest(repo, digestOf('nope')), 404, 'MANIFEST_UNKNOWN');
  expectStatus(await f.admin.getManifest(repo, 'sha256:short'), 400, 'DIGEST_INVALID');
  expectStatus(await f.admin.getManifest(repoName('none'), 'v1'), 404);
});

test('re-pushing a tag moves it; the old manifest stays reachable by digest', async () => {
  const repo = repoName('retag');
  const a = await f.admin.pushImage(repo, 'latest');
  const b = await f.admin.pushImage(repo, 'latest');
  assert.notEqual(a.digest, b.digest);
  await assertManifest(repo, 'latest', b.bytes, MediaTypes.OciManifest);
  await assertManifest(repo, a.digest, a.bytes, MediaTypes.OciManifest);
});

test('DELETE by tag removes only the tag; DELETE by digest removes the manifest and all its tags', async () => {
  const repo = repoName('delete');
  const img = await f.admin.pushImage(repo, 't1');
  await f.admin.pushManifest(repo, 't2', img.bytes);
  await f.admin.pushManifest(repo, 't3', img.bytes);
  const other = await f.admin.pushImage(repo, 'other');
  const delTag = await f.admin.request('DELETE', `/v2/${repo}/manifests/t1`);
  expectStatus(delTag, 202);
  expectStatus(await f.admin.getManifest(repo, 't1'), 404, 'MANIFEST_UNKNOWN');
  await assertManifest(repo, 't2', img.bytes, MediaTypes.OciManifest);
  await assertManifest(repo, img.digest, img.bytes, MediaTypes.OciManifest);
  expectStatus(await f.admin.request('DELETE', `/v2/${repo}/manifests/t1`), 404, 'MANIFEST_UNKNOWN');
  const delDigest = await f.admin.request('DELETE', `/v2/${repo}/manifests/${img.digest}`);
  expectStatus(delDigest, 202);
  expectStatus(await f.admin.getManifest(repo, img.digest), 404, 'MANIFEST_UNKNOWN');
  expectStatus(await f.admin.getManifest(repo, 't2'), 404, 'MANIFEST_UNKNOWN');
  expectStatus(await f.admin.getManifest(repo, 't3'), 404, 'MANIFEST_UNKNOWN');
  assert.deepEqual((await f.admin.request('GET', `/v2/${repo}/tags/list`)).json().tags, ['other']);
  await assertManifest(repo, 'other', other.bytes, MediaTypes.OciManifest);
  expectStatus(await f.admin.request('DELETE', `/v2/${repo}/manifests/${img.digest}`), 404, 'MANIFEST_UNKNOWN');
  expectStatus(await f.admin.request('DELETE', `/v2/${repoName('none')}/manifests/${img.digest}`), 404, 'MANIFEST_UNKNOWN');
  // it can be pushed again
  await f.admin.pushManifest(repo, 'back', img.bytes);
  await assertManifest(repo, 'back', img.bytes, MediaTypes.OciManifest);
});

test('the 413 on an oversized manifest is readable every time (the body is discarded, not reset)', async () => {
  const repo = repoName('toobig2');
  const bytes = bigManifest(4 * MiB + 100);
  for (let i = 0; i < 8; i++) expectStatus(await f.admin.putManifest(repo, 'big', bytes, MediaTypes.OciIndex), 413, 'SIZE_INVALID');
});
