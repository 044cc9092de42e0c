import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { accessoryTypeOf, artifactTypeOf, artifactTypeOfColumns, chartFiles, cosignTagsFor, sizeOf, subjectOfCosignTag, typeCondition, untarGz } from './artifact-model.ts';
import { parseArtifactQ } from '../../http/api/artifacts.ts';
import { ApiError } from '../../errors.ts';

const D = (c: string) => `sha256:${c.repeat(64)}`;
const facts = (doc: Record<string, unknown>, over: Partial<{ mediaType: string; configMediaType: string | null; artifactType: string | null }> = {}) => ({
  mediaType: (doc.mediaType as string) ?? 'application/vnd.oci.image.manifest.v1+json',
  configMediaType: (doc.config as { mediaType?: string } | undefined)?.mediaType ?? null,
  artifactType: (doc.artifactType as string | undefined) ?? null,
  annotations: null,
  content: Buffer.from(JSON.stringify(doc)),
  ...over,
});

test('artifact types from config media type, artifactType and layers', () => {
  const cfg = (mediaType: string) => ({ config: { mediaType, digest: D('a'), size: 2 }, layers: [{ mediaType: 'x', digest: D('b'), size: 3 }] });
  assert.equal(artifactTypeOf(facts(cfg('application/vnd.oci.image.config.v1+json'))), 'IMAGE');
  assert.equal(artifactTypeOf(facts(cfg('application/vnd.docker.container.image.v1+json'))), 'IMAGE');
  assert.equal(artifactTypeOf(facts(cfg('application/vnd.cncf.helm.config.v1+json'))), 'CHART');
  assert.equal(artifactTypeOf(facts(cfg('application/vnd.cnab.config.v1+json'))), 'CNAB');
  assert.equal(artifactTypeOf(facts(cfg('application/vnd.wasm.config.v1+json'))), 'WASM');
  assert.equal(artifactTypeOf(facts({ ...cfg('application/vnd.oci.empty.v1+json'), artifactType: 'application/spdx+json' })), 'SBOM');
  assert.equal(artifactTypeOf(facts({ ...cfg('application/vnd.oci.empty.v1+json'), artifactType: 'application/vnd.cncf.notary.signature' })), 'SIGNATURE');
  assert.equal(artifactTypeOf(facts({ ...cfg('application/vnd.oci.empty.v1+json'), artifactType: 'application/x-thing' })), 'UNKNOWN');
  const cosign = { config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: D('a'), size: 2 }, layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: D('c'), size: 9 }] };
  assert.equal(artifactTypeOf(facts(cosign)), 'SIGNATURE');
  assert.equal(artifactTypeOf(facts({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] })), 'IMAGE');
  assert.equal(typeCondition('nonsense'), null);
  assert.ok(typeCondition('image'));
});

test('accessory types and the cosign tag convention', () => {
  const referrer = (artifactType: string) => facts({ artifactType, config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: D('a'), size: 2 } });
  assert.equal(accessoryTypeOf(referrer('application/vnd.cncf.notary.signature'), null), 'signature.notation');
  assert.equal(accessoryTypeOf(referrer('application/vnd.dev.cosign.artifact.sig.v1+json'), null), 'signature.cosign');
  assert.equal(accessoryTypeOf(referrer('application/vnd.goharbor.harbor.sbom.v1'), null), 'sbom.harbor');
  assert.equal(accessoryTypeOf(referrer('application/spdx+json'), null), 'subject.accessory');
  assert.equal(accessoryTypeOf(referrer('application/x'), `sha256-${'a'.repeat(64)}.sig`), 'signature.cosign');
  assert.equal(accessoryTypeOf(referrer('application/x'), `sha256-${'a'.repeat(64)}.att`), 'subject.accessory');
  assert.deepEqual(cosignTagsFor(D('a')), [`sha256-${'a'.repeat(64)}.sig`, `sha256-${'a'.repeat(64)}.att`, `sha256-${'a'.repeat(64)}.sbom`]);
  assert.deepEqual(cosignTagsFor(`sha512:${'a'.repeat(128)}`), []);
  assert.equal(subjectOfCosignTag(`sha256-${'b'.repeat(64)}.sig`), D('b'));
  assert.equal(subjectOfCosignTag(`sha256-${'b'.repeat(63)}.sig`), null);
  assert.equal(subjectOfCosignTag('latest'), null);
});

test('sizes: image = manifest + config + layers; index = index + children', () => {
  const img = { ...facts({ config: { mediaType: 'c', digest: D('a'), size: 10 }, layers: [{ mediaType: 'l', digest: D('b'), size: 100 }] }), size: 5 };
  assert.equal(sizeOf(img, () => undefined), 115);
  const idx = { ...facts({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [{ digest: D('c'), size: 7 }, { digest: D('d'), size: 8 }] }), size: 3 };
  assert.equal(sizeOf(idx, (d) => (d === D('c') ? 1000 : undefined)), 3 + 1000 + 8);
});

/** A ustar archive of the given files (optionally one with a long name through a pax header). */
function tar(files: Record<string, string>, pax = false): Buffer {
  const blocks: Buffer[] = [];
  const header = (name: string, size: number, type: string) => {
    const h = Buffer.alloc(512);
    h.write(name.slice(0, 100), 0);
    h.write('0000644\0', 100);
    h.write(size.toString(8).padStart(11, '0') + '\0', 124);
    h.write(type, 156);
    h.write('ustar\0', 257);
    return h;
  };
  const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
  for (const [name, body] of Object.entries(files)) {
    const data = Buffer.from(body);
    if (pax && name.length > 100) {
      const rec = ` path=${name}\n`;
      const line = `${rec.length + String(rec.length + 3).length}${rec}`;
      blocks.push(header('PaxHeader', line.length, 'x'), pad(Buffer.from(line)));
    }
    blocks.push(header(name, data.length, '0'), pad(data));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

test('untarGz and chartFiles read the top-level chart files (pax long names too)', () => {
  const long = `mychart/${'d'.repeat(120)}/values.yaml`;
  const files = untarGz(gzipSync(tar({ 'mychart/Chart.yaml': 'name: x\n', 'mychart/values.yaml': 'a: 1\n', 'mychart/README.md': '# hi\n', 'mychart/charts/sub/values.yaml': 'no\n', [long]: 'deep\n' }, true)));
  assert.equal(files.get(long)?.toString(), 'deep\n');
  const c = chartFiles(files);
  assert.equal(c.values, 'a: 1\n');
  assert.equal(c.readme, '# hi\n');
  assert.equal(c.chartYaml, 'name: x\n');
  assert.throws(() => untarGz(Buffer.from('not gzip')));
  assert.throws(() => untarGz(gzipSync(Buffer.alloc(2 * 1024 * 1024)), 1024 * 1024));
});

test('parseArtifactQ: allow-listed keys and operators; other keys ignored', () => {
  assert.deepEqual(parseArtifactQ('tags=*'), { tags: { op: 'any' } });
  assert.deepEqual(parseArtifactQ('tags=nil,base=*'), { tags: { op: 'none' }, all: true });
  assert.deepEqual(parseArtifactQ('tags=~v1'), { tags: { op: 'like', value: 'v1' } });
  assert.deepEqual(parseArtifactQ('labels=(1 2)'), { labels: [1, 2] });
  assert.deepEqual(parseArtifactQ('push_time=[1000~2000]'), { pushTime: { min: 1000, max: 2000 } });
  assert.deepEqual(parseArtifactQ('pull_time=[2024-01-01 00:00:00~]'), { pullTime: { min: Date.UTC(2024, 0, 1), max: null } });
  // A key that is not filterable is ignored, as Harbor's ORM does.
  assert.deepEqual(parseArtifactQ('repository_id=1'), {});
  const bad = ['labels=(1 OR 1=1)', 'tags={a b}', 'base=x', 'digest=abc', 'type=X', 'tags=a)', 'tags="a', 'media_type=~x', 'x', 'tags=a,tags=b'];
  for (const q of bad) assert.throws(() => parseArtifactQ(q), (e: unknown) => e instanceof ApiError && e.status === 400, q);
});

test('artifactTypeOfColumns (the /metrics counts) types stored columns as artifactTypeOf types the manifest', () => {
  const cfg = (mediaType: string, artifactType?: string) => ({
    config: { mediaType, digest: D('a'), size: 2 },
    layers: [{ mediaType: 'x', digest: D('b'), size: 3 }],
    ...(artifactType ? { artifactType } : {}),
  });
  const docs: Record<string, unknown>[] = [
    cfg('application/vnd.oci.image.config.v1+json'),
    cfg('application/vnd.docker.container.image.v1+json'),
    cfg('application/vnd.cncf.helm.config.v1+json'),
    cfg('application/vnd.cnab.config.v1+json'),
    cfg('application/vnd.wasm.config.v1+json'),
    cfg('application/vnd.oci.empty.v1+json', 'application/spdx+json'),
    cfg('application/vnd.oci.empty.v1+json', 'application/vnd.cncf.notary.signature'),
    cfg('application/vnd.oci.empty.v1+json', 'application/x-thing'),
    { mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] },
  ];
  const seen = new Set<string>();
  for (const doc of docs) {
    const f = facts(doc);
    // The artifact_type column: the declared artifactType, else the config media type (parseManifest's rule).
    const column = (doc.artifactType as string | undefined) ?? f.configMediaType;
    const t = artifactTypeOfColumns(f.mediaType, f.configMediaType, column);
    assert.equal(t, artifactTypeOf(f), JSON.stringify(doc));
    seen.add(t);
  }
  assert.deepEqual([...seen].sort(), ['CHART', 'CNAB', 'IMAGE', 'SBOM', 'SIGNATURE', 'UNKNOWN', 'WASM']);
});
