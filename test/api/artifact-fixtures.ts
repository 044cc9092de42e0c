// Content pushed through /v2 for the artifact API tests: images with a real config (history, platform), an
// index of two platforms, a Helm chart (a real tar+gzip archive with Helm's media types), a cosign-style
// `.sig` tag and OCI referrers with a subject.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MediaTypes, RegistryClient, digestOf, randomBlob } from '../helpers/registry-client.ts';

export const HISTORY = [
  { created: '2024-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
  { created: '2024-01-02T00:00:00Z', created_by: '/bin/sh -c echo "<script>alert(1)</script>"', empty_layer: true },
];

export interface Pushed {
  digest: string;
  bytes: Buffer;
  size: number;
  blobs: { digest: string; size: number; data: Buffer }[];
}

export async function pushImage(
  reg: RegistryClient,
  repo: string,
  /** A tag, or null to push by digest (untagged). */
  tag: string | null,
  opts: { arch?: string; os?: string; annotations?: Record<string, string>; layerSize?: number } = {},
): Promise<Pushed> {
  const config = Buffer.from(
    JSON.stringify({
      architecture: opts.arch ?? 'amd64',
      os: opts.os ?? 'linux',
      created: '2024-01-02T00:00:00Z',
      config: { Env: ['PATH=/usr/bin'], Labels: { maintainer: 'berth-tests' } },
      rootfs: { type: 'layers', diff_ids: [] },
      history: HISTORY,
      nonce: randomBytes(8).toString('hex'),
    }),
  );
  const layer = randomBlob(opts.layerSize ?? 1500);
  const c = await reg.pushBlob(repo, config);
  const l = await reg.pushBlob(repo, layer);
  const manifest: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    config: { mediaType: MediaTypes.OciConfig, digest: c.digest, size: c.size },
    layers: [{ mediaType: MediaTypes.OciLayer, digest: l.digest, size: l.size }],
  };
  if (opts.annotations) manifest.annotations = opts.annotations;
  const body = JSON.stringify(manifest);
  const m = await reg.pushManifest(repo, tag ?? digestOf(body), body, MediaTypes.OciManifest);
  return { digest: m.digest, bytes: m.bytes, size: m.size + c.size + l.size, blobs: [{ ...c, data: config }, { ...l, data: layer }] };
}

export async function pushIndex(reg: RegistryClient, repo: string, tag: string): Promise<{ digest: string; bytes: Buffer; children: Pushed[]; size: number }> {
  // Children pushed by digest: untagged children of the index.
  const amd = await pushImage(reg, repo, null, { arch: 'amd64' });
  const arm = await pushImage(reg, repo, null, { arch: 'arm64' });
  const index = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciIndex,
    manifests: [
      { mediaType: MediaTypes.OciManifest, digest: amd.digest, size: amd.bytes.length, platform: { architecture: 'amd64', os: 'linux' } },
      { mediaType: MediaTypes.OciManifest, digest: arm.digest, size: arm.bytes.length, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    ],
  };
  const m = await reg.pushManifest(repo, tag, index);
  return { digest: m.digest, bytes: m.bytes, children: [amd, arm], size: m.size + amd.size + arm.size };
}

export const CHART_VALUES = 'replicas: 2\nimage: "<img src=x onerror=alert(1)>"\n';
export const CHART_README = '# Berth test chart\n\nHello **readme**.\n';

/** A Helm chart archive (tar+gzip, made by tar(1)) pushed with Helm's OCI media types. */
export async function pushChart(reg: RegistryClient, repo: string, version: string): Promise<Pushed> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-chart-'));
  try {
    const root = join(dir, 'mychart');
    mkdirSync(join(root, 'templates'), { recursive: true });
    writeFileSync(
      join(root, 'Chart.yaml'),
      `apiVersion: v2\nname: mychart\nversion: ${version}\ndescription: test chart\ndependencies:\n  - name: redis\n    version: 17.0.0\n    repository: https://charts.example.com\n`,
    );
    writeFileSync(join(root, 'values.yaml'), CHART_VALUES);
    writeFileSync(join(root, 'README.md'), CHART_README);
    writeFileSync(join(root, 'templates', 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\n');
    execFileSync('tar', ['-czf', join(dir, 'chart.tgz'), '-C', dir, 'mychart']);
    const tgz = readFileSync(join(dir, 'chart.tgz'));
    const config = Buffer.from(JSON.stringify({ name: 'mychart', version, apiVersion: 'v2', description: 'test chart' }));
    const c = await reg.pushBlob(repo, config);
    const l = await reg.pushBlob(repo, tgz);
    const m = await reg.pushManifest(repo, version, {
      schemaVersion: 2,
      mediaType: MediaTypes.OciManifest,
      config: { mediaType: 'application/vnd.cncf.helm.config.v1+json', digest: c.digest, size: c.size },
      layers: [{ mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', digest: l.digest, size: l.size }],
    });
    return { digest: m.digest, bytes: m.bytes, size: m.size + c.size + l.size, blobs: [{ ...c, data: config }, { ...l, data: tgz }] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A cosign-style signature: simplesigning layer, tagged `sha256-<hex>.sig`. */
export async function pushCosignSignature(reg: RegistryClient, repo: string, subject: string): Promise<string> {
  const payload = Buffer.from(JSON.stringify({ critical: { image: { 'docker-manifest-digest': subject } } }));
  const config = Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [] }, config: {} }));
  const c = await reg.pushBlob(repo, config);
  const l = await reg.pushBlob(repo, payload);
  const m = await reg.pushManifest(repo, subject.replace('sha256:', 'sha256-') + '.sig', {
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    config: { mediaType: MediaTypes.OciConfig, digest: c.digest, size: c.size },
    layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: l.digest, size: l.size, annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ' } }],
  });
  return m.digest;
}

/** An OCI referrer (empty config, artifactType) whose subject is `subject`. */
export async function pushReferrer(reg: RegistryClient, repo: string, subject: { digest: string; size: number }, artifactType: string): Promise<string> {
  const empty = Buffer.from('{}');
  const c = await reg.pushBlob(repo, empty);
  const l = await reg.pushBlob(repo, randomBlob(64));
  const body = JSON.stringify({
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    artifactType,
    config: { mediaType: MediaTypes.OciEmpty, digest: c.digest, size: c.size },
    layers: [{ mediaType: 'application/octet-stream', digest: l.digest, size: l.size }],
    subject: { mediaType: MediaTypes.OciManifest, digest: subject.digest, size: subject.size },
  });
  const m = await reg.pushManifest(repo, digestOf(body), body, MediaTypes.OciManifest);
  return m.digest;
}
