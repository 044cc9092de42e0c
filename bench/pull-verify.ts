// What content trust costs a pull: p50/p99 of `GET /v2/<repo>/manifests/<tag>` on a real Berth process for the
// same signed image in three projects — no policy, `enable_content_trust_cosign` (a signature must exist, Harbor's
// rule), and the policy with a trusted key (the signature verified, once, then from the cache). The signature is
// made here in cosign's format (simple-signing payload layer + its ECDSA P-256 signature in the annotation) and
// pushed under the `sha256-<hex>.sig` tag, as `cosign sign` does. Usage: node bench/pull-verify.ts [requests=500]
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { startBerth } from '../test/helpers/berth.ts';
import { ApiClient } from '../test/helpers/api-client.ts';
import { RegistryClient } from '../test/helpers/registry-client.ts';

const REQUESTS = Number(process.argv[2] ?? 500);
const berth = await startBerth({ env: { BERTH_LOG_LEVEL: 'silent' } });
try {
  const admin = new ApiClient(berth.url, 'admin', berth.adminPassword);
  const reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const cases = [
    { project: 'plain', meta: {}, key: false },
    { project: 'exists', meta: { enable_content_trust_cosign: 'true' }, key: false },
    { project: 'verified', meta: { enable_content_trust_cosign: 'true' }, key: true },
  ];
  const rows: { project: string; p50: number; p99: number; mean: number; first: number }[] = [];
  const firsts = new Map<string, number>();
  for (const c of cases) {
    await admin.createProject(c.project, false);
    const repo = `${c.project}/app`;
    const image = await reg.pushImage(repo, 'v1', { layers: 1 });
    const payload = Buffer.from(JSON.stringify({ critical: { identity: { 'docker-reference': repo }, image: { 'docker-manifest-digest': image.digest }, type: 'cosign container image signature' }, optional: null }));
    const p = await reg.pushBlob(repo, payload);
    const cfg = await reg.pushBlob(repo, Buffer.from(JSON.stringify({ architecture: '', os: '', rootfs: { type: 'layers', diff_ids: [p.digest] } })));
    await reg.pushManifest(repo, `sha256-${image.digest.slice(7)}.sig`, {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg.digest, size: cfg.size },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: p.digest, size: p.size, annotations: { 'dev.cosignproject.cosign/signature': sign('sha256', payload, privateKey).toString('base64') } }],
    });
    for (const [k, v] of Object.entries(c.meta)) await admin.call('PUT', `/projects/${c.project}/metadatas/${k}`, { [k]: v });
    if (c.key && (await admin.call('POST', `/projects/${c.project}/trusted-keys`, { name: 'k', kind: 'cosign', pem })).status !== 201) throw new Error('key not registered');
    // HEAD first (not gated): the token round trip is then out of the first pull's time, which verifies.
    await reg.headManifest(repo, 'v1');
    const t0 = performance.now();
    const first = await reg.getManifest(repo, 'v1');
    const firstMs = performance.now() - t0;
    if (first.status !== 200) throw new Error(`${c.project}: ${first.status} ${first}`);
    if (createHash('sha256').update(first.body).digest('hex') !== image.digest.slice(7)) throw new Error('wrong bytes');
    for (let i = 0; i < 50; i++) await reg.getManifest(repo, 'v1');
    firsts.set(c.project, firstMs);
  }
  // Interleaved, so load from elsewhere on the machine hits every case alike.
  const samples = new Map<string, number[]>(cases.map((c) => [c.project, []]));
  for (let i = 0; i < REQUESTS; i++)
    for (const c of cases) {
      const t = performance.now();
      const r = await reg.getManifest(`${c.project}/app`, 'v1');
      samples.get(c.project)!.push(performance.now() - t);
      if (r.status !== 200) throw new Error(`status ${r.status}`);
    }
  for (const c of cases) rows.push({ project: c.project, first: firsts.get(c.project)!, ...stats(samples.get(c.project)!) });
  console.log(`manifest GET, ${REQUESTS} sequential requests per case, interleaved (${berth.database})`);
  console.log('| project policy | first pull ms | p50 ms | p99 ms | mean ms |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  const label: Record<string, string> = { plain: 'none', exists: 'cosign, signature must exist', verified: 'cosign + trusted key (verified)' };
  for (const r of rows) console.log(`| ${label[r.project]} | ${r.first.toFixed(1)} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.mean.toFixed(2)} |`);
} finally {
  await berth.stop();
}

function stats(ms: number[]): { p50: number; p99: number; mean: number } {
  ms.sort((a, b) => a - b);
  return { p50: ms[Math.floor(ms.length / 2)], p99: ms[Math.floor(ms.length * 0.99)], mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}
