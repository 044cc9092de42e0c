import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryError } from '../errors.ts';
import { parseManifest } from './manifest.ts';
import { MediaType } from './media-types.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const CONFIG = d('c');
const L1 = d('1');
const L2 = d('2');
const SUBJ = d('5');
const body = (o: unknown) => Buffer.from(JSON.stringify(o));
const invalid = (e: unknown) => e instanceof RegistryError && e.code === 'MANIFEST_INVALID';
const layer = (digest: string, mediaType = 'application/vnd.oci.image.layer.v1.tar+gzip') => ({ mediaType, digest, size: 10 });
const image = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: MediaType.OciManifest,
  config: { mediaType: MediaType.OciConfig, digest: CONFIG, size: 2 },
  layers: [layer(L1), layer(L2)],
  ...extra,
});
const index = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: MediaType.OciIndex,
  manifests: [{ mediaType: MediaType.OciManifest, digest: L1, size: 100, platform: { os: 'linux', architecture: 'amd64' } }],
  ...extra,
});

test('an OCI image manifest: config and layers are the required blobs', () => {
  const p = parseManifest(body(image({ annotations: { a: 'b' } })), MediaType.OciManifest);
  assert.equal(p.mediaType, MediaType.OciManifest);
  assert.equal(p.isIndex, false);
  assert.deepEqual(p.blobs, [CONFIG, L1, L2]);
  assert.deepEqual(p.manifests, []);
  assert.equal(p.configMediaType, MediaType.OciConfig);
  assert.equal(p.subject, null);
  assert.deepEqual(p.annotations, { a: 'b' });
});

test('an index lists its child manifests, no blobs', () => {
  const p = parseManifest(body(index()), MediaType.OciIndex);
  assert.equal(p.mediaType, MediaType.OciIndex);
  assert.equal(p.isIndex, true);
  assert.deepEqual(p.manifests, [L1]);
  assert.deepEqual(p.blobs, []);
  assert.equal(p.artifactType, null);
  assert.equal(p.configMediaType, null);
  // An empty index is valid.
  assert.deepEqual(parseManifest(body(index({ manifests: [] })), MediaType.OciIndex).manifests, []);
});

test('Docker schema 2 manifests and manifest lists', () => {
  const m = image({ mediaType: MediaType.DockerManifest, config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: CONFIG, size: 2 } });
  const p = parseManifest(body(m), MediaType.DockerManifest);
  assert.equal(p.mediaType, MediaType.DockerManifest);
  assert.equal(p.isIndex, false);
  const l = parseManifest(body(index({ mediaType: MediaType.DockerManifestList })), MediaType.DockerManifestList);
  assert.equal(l.mediaType, MediaType.DockerManifestList);
  assert.equal(l.isIndex, true);
  // A Docker image manifest needs at least one layer; an OCI one may have none (artifacts).
  assert.throws(() => parseManifest(body({ ...m, layers: [] }), MediaType.DockerManifest), invalid);
  assert.deepEqual(parseManifest(body(image({ layers: [] })), MediaType.OciManifest).blobs, [CONFIG]);
});

test('media type decision when the manifest has no mediaType field', () => {
  const { mediaType: _a, ...img } = image();
  const { mediaType: _b, ...idx } = index();
  // From the Content-Type when it names a manifest type.
  assert.equal(parseManifest(body(img), MediaType.OciManifest).mediaType, MediaType.OciManifest);
  assert.equal(parseManifest(body(img), `${MediaType.DockerManifest}; charset=utf-8`).mediaType, MediaType.DockerManifest);
  assert.equal(parseManifest(body(idx), MediaType.DockerManifestList).mediaType, MediaType.DockerManifestList);
  // Otherwise from the shape: manifests → OCI index, else OCI image manifest.
  for (const ct of [undefined, '', 'application/json', 'application/octet-stream']) {
    assert.equal(parseManifest(body(img), ct).mediaType, MediaType.OciManifest, String(ct));
    assert.equal(parseManifest(body(idx), ct).mediaType, MediaType.OciIndex, String(ct));
  }
});

test('helm chart manifests (no mediaType, helm config type) are OCI image manifests with the helm artifactType', () => {
  const helm = {
    schemaVersion: 2,
    config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: CONFIG, size: 117 },
    layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: L1, size: 3000 }],
    annotations: { 'org.opencontainers.image.title': 'mychart', 'org.opencontainers.image.version': '0.1.0' },
  };
  for (const ct of [MediaType.OciManifest, undefined]) {
    const p = parseManifest(body(helm), ct);
    assert.equal(p.mediaType, MediaType.OciManifest);
    assert.equal(p.artifactType, 'application/vnd.cncf.helm.config.v1+json');
    assert.equal(p.configMediaType, 'application/vnd.cncf.helm.config.v1+json');
    assert.deepEqual(p.blobs, [CONFIG, L1]);
  }
});

test('a Content-Type that contradicts the mediaType field is refused; generic types are tolerated', () => {
  assert.throws(() => parseManifest(body(image()), MediaType.DockerManifest), invalid);
  assert.throws(() => parseManifest(body(index()), MediaType.OciManifest), invalid);
  assert.throws(() => parseManifest(body(image()), 'text/plain'), invalid);
  assert.equal(parseManifest(body(image()), 'application/json').mediaType, MediaType.OciManifest);
  assert.equal(parseManifest(body(image()), `${MediaType.OciManifest}; charset=utf-8`).mediaType, MediaType.OciManifest);
  assert.equal(parseManifest(body(image()), MediaType.OciManifest.toUpperCase()).mediaType, MediaType.OciManifest);
});

test('ambiguous documents are refused (GHSA-qq97-vm5h-rrhg)', () => {
  const both = { ...image(), manifests: index().manifests };
  for (const ct of [MediaType.OciManifest, MediaType.OciIndex, undefined]) {
    assert.throws(() => parseManifest(body(both), ct), invalid);
    const { mediaType: _m, ...noType } = both;
    assert.throws(() => parseManifest(body(noType), ct), invalid);
  }
  // An index with only layers, or only config, is still ambiguous.
  assert.throws(() => parseManifest(body({ ...index(), layers: [] }), MediaType.OciIndex), invalid);
  assert.throws(() => parseManifest(body({ ...index(), config: image().config }), MediaType.OciIndex), invalid);
  // Declared an index but shaped as an image.
  const { manifests: _x, ...shapeless } = index();
  assert.throws(() => parseManifest(body({ ...shapeless, config: image().config, layers: [] }), MediaType.OciIndex), invalid);
  // Declared an image but has manifests.
  const { config: _c, layers: _l, ...bare } = image();
  assert.throws(() => parseManifest(body({ ...bare, manifests: [] }), MediaType.OciManifest), invalid);
});

test('documents that are not manifests are refused', () => {
  const bad: [string, Buffer, string | undefined][] = [
    ['not JSON', Buffer.from('{'), MediaType.OciManifest],
    ['JSON array', body([image()]), MediaType.OciManifest],
    ['JSON null', body(null), MediaType.OciManifest],
    ['JSON string', body('x'), MediaType.OciManifest],
    ['no schemaVersion', body({ ...image(), schemaVersion: undefined }), MediaType.OciManifest],
    ['schemaVersion 3', body(image({ schemaVersion: 3 })), MediaType.OciManifest],
    ['schemaVersion "2"', body(image({ schemaVersion: '2' })), MediaType.OciManifest],
    ['unknown mediaType', body(image({ mediaType: 'application/vnd.example+json' })), undefined],
    ['mediaType not a string', body(image({ mediaType: 7 })), undefined],
    ['artifactType not a string', body(image({ artifactType: 1 })), MediaType.OciManifest],
    ['annotations not a string map', body(image({ annotations: { a: 1 } })), MediaType.OciManifest],
    ['annotations an array', body(image({ annotations: ['a'] })), MediaType.OciManifest],
    ['layers not an array', body(image({ layers: {} })), MediaType.OciManifest],
    ['manifests not an array', body(index({ manifests: {} })), MediaType.OciIndex],
    ['no config', body({ schemaVersion: 2, mediaType: MediaType.OciManifest, layers: [] }), MediaType.OciManifest],
    ['unknown content type, no mediaType', body({ schemaVersion: 2 }), 'application/vnd.example+json'],
  ];
  for (const [what, b, ct] of bad) assert.throws(() => parseManifest(b, ct), invalid, what);
});

test('Docker schema 1 is refused, by body or by Content-Type', () => {
  const s1 = { schemaVersion: 1, name: 'library/x', tag: 'latest', architecture: 'amd64', fsLayers: [{ blobSum: L1 }], history: [] };
  assert.throws(() => parseManifest(body(s1), MediaType.DockerSchema1Signed), (e) => invalid(e) && /schema 1/.test((e as Error).message));
  assert.throws(() => parseManifest(body(s1), undefined), (e) => invalid(e) && /schema 1/.test((e as Error).message));
  assert.throws(() => parseManifest(body(s1), 'application/json'), invalid);
  assert.throws(() => parseManifest(body(image()), MediaType.DockerSchema1), (e) => invalid(e) && /schema 1/.test((e as Error).message));
});

test('descriptor validation', () => {
  const cases: [string, unknown][] = [
    ['not an object', 'sha256:x'],
    ['array', [CONFIG]],
    ['null', null],
    ['no mediaType', { digest: L1, size: 1 }],
    ['empty mediaType', { mediaType: '', digest: L1, size: 1 }],
    ['no digest', { mediaType: 'x/y', size: 1 }],
    ['bad digest', { mediaType: 'x/y', digest: 'sha256:abc', size: 1 }],
    ['uppercase digest', { mediaType: 'x/y', digest: L1.toUpperCase(), size: 1 }],
    ['traversal digest', { mediaType: 'x/y', digest: 'sha256:../../etc/passwd', size: 1 }],
    ['no size', { mediaType: 'x/y', digest: L1 }],
    ['negative size', { mediaType: 'x/y', digest: L1, size: -1 }],
    ['fractional size', { mediaType: 'x/y', digest: L1, size: 1.5 }],
    ['string size', { mediaType: 'x/y', digest: L1, size: '1' }],
    ['unsafe size', { mediaType: 'x/y', digest: L1, size: 2 ** 60 }],
    ['bad annotations', { mediaType: 'x/y', digest: L1, size: 1, annotations: { k: true } }],
  ];
  for (const [what, desc] of cases) {
    assert.throws(() => parseManifest(body(image({ config: desc })), MediaType.OciManifest), invalid, `config: ${what}`);
    assert.throws(() => parseManifest(body(image({ layers: [layer(L1), desc] })), MediaType.OciManifest), invalid, `layer: ${what}`);
    assert.throws(() => parseManifest(body(index({ manifests: [desc] })), MediaType.OciIndex), invalid, `index entry: ${what}`);
    assert.throws(() => parseManifest(body(image({ subject: desc })), MediaType.OciManifest), invalid, `subject: ${what}`);
  }
  // size 0 is fine (the empty blob).
  assert.doesNotThrow(() => parseManifest(body(image({ config: { mediaType: MediaType.OciEmpty, digest: CONFIG, size: 0 } })), MediaType.OciManifest));
});

test('artifactType for referrers: explicit field, else the config media type (images only)', () => {
  const art = parseManifest(body(image({ artifactType: 'application/vnd.example.sbom', subject: { mediaType: MediaType.OciManifest, digest: SUBJ, size: 5 } })), MediaType.OciManifest);
  assert.equal(art.artifactType, 'application/vnd.example.sbom');
  assert.equal(art.subject, SUBJ);
  const byConfig = parseManifest(body(image({ config: { mediaType: 'application/vnd.example.sig.config', digest: CONFIG, size: 2 } })), MediaType.OciManifest);
  assert.equal(byConfig.artifactType, 'application/vnd.example.sig.config');
  const emptyConfig = parseManifest(body(image({ artifactType: 'application/vnd.example.x', config: { mediaType: MediaType.OciEmpty, digest: CONFIG, size: 2 } })), MediaType.OciManifest);
  assert.equal(emptyConfig.artifactType, 'application/vnd.example.x');
  const idx = parseManifest(body(index({ artifactType: 'application/vnd.example.idx', subject: { mediaType: MediaType.OciManifest, digest: SUBJ, size: 5 } })), MediaType.OciIndex);
  assert.equal(idx.artifactType, 'application/vnd.example.idx');
  assert.equal(idx.subject, SUBJ);
  assert.equal(parseManifest(body(index()), MediaType.OciIndex).artifactType, null);
});

test('foreign and non-distributable layers are not required blobs; duplicates are listed once', () => {
  const m = image({
    mediaType: MediaType.DockerManifest,
    layers: [
      layer(L1, 'application/vnd.docker.image.rootfs.diff.tar.gzip'),
      layer(d('3'), MediaType.DockerForeignLayer),
      layer(d('4'), 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip'),
      layer(d('6'), 'application/vnd.docker.image.rootfs.foreign.diff.tar'),
      layer(L1, 'application/vnd.docker.image.rootfs.diff.tar.gzip'),
      { ...layer(CONFIG, 'application/vnd.docker.image.rootfs.diff.tar.gzip'), size: 2 },
    ],
  });
  const p = parseManifest(body(m), MediaType.DockerManifest);
  assert.deepEqual(p.blobs, [CONFIG, L1]);
  const idx = parseManifest(body(index({ manifests: [index().manifests[0], index().manifests[0]] })), MediaType.OciIndex);
  assert.deepEqual(idx.manifests, [L1]);
  assert.deepEqual([...p.declaredSizes], [[CONFIG, 2], [L1, 10]]);
});

test('one digest declared with two sizes is invalid', () => {
  assert.throws(() => parseManifest(body(image({ layers: [layer(L1), { ...layer(L1), size: 11 }] })), MediaType.OciManifest), invalid);
  assert.throws(() => parseManifest(body(image({ layers: [{ ...layer(CONFIG), size: 3 }] })), MediaType.OciManifest), invalid);
});
