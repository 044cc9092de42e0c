// GET /api/v2.0/icons/{digest} against a real Berth: the `icon` of each artifact type and accessory names a
// built-in PNG served as Harbor's Icon model ({"content-type", content: base64}); the digest is the sha256 of the
// PNG bytes; an unknown digest is Harbor's 404 naming it.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import { RegistryClient } from '../helpers/registry-client.ts';
import { expectApi, useApi } from './fixture.ts';
import { pushChart, pushCosignSignature, pushImage, pushReferrer, type Pushed } from './artifact-fixtures.ts';

const f = useApi();
const P = `icons-${randomBytes(3).toString('hex')}`;
const base = (repo: string) => `/projects/${P}/repositories/${encodeURIComponent(encodeURIComponent(repo))}`;

/** Checks a PNG: signature, 32x32 RGBA IHDR, and that the IDAT data inflates to the right number of bytes. */
function assertPng(png: Buffer): void {
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  assert.deepEqual([width, height, png[24], png[25]], [32, 32, 8, 6]);
  const idat: Buffer[] = [];
  for (let o = 8; o < png.length; ) {
    const len = png.readUInt32BE(o);
    if (png.subarray(o + 4, o + 8).toString('ascii') === 'IDAT') idat.push(png.subarray(o + 8, o + 8 + len));
    o += 12 + len;
  }
  assert.equal(inflateSync(Buffer.concat(idat)).length, (width * 4 + 1) * height);
}

async function fetchIcon(digest: string, client = f.admin): Promise<Buffer> {
  const r = await client.call('GET', `/icons/${digest}`);
  expectApi(r, 200);
  const body = r.json();
  assert.deepEqual(Object.keys(body).sort(), ['content', 'content-type']);
  assert.equal(body['content-type'], 'image/png');
  const png = Buffer.from(body.content, 'base64');
  assert.equal(`sha256:${createHash('sha256').update(png).digest('hex')}`, digest, 'the digest is the sha256 of the PNG');
  assertPng(png);
  return png;
}

describe('icons', { timeout: 120_000 }, () => {
  let image: Pushed;
  let sig: string;
  let notation: string;
  before(async () => {
    await f.admin.createProject(P, false);
    const r = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
    image = await pushImage(r, `${P}/app`, 'v1');
    sig = await pushCosignSignature(r, `${P}/app`, image.digest);
    notation = await pushReferrer(r, `${P}/app`, { digest: image.digest, size: image.bytes.length }, 'application/vnd.cncf.notary.signature');
    await pushChart(r, `${P}/charts/c`, '0.1.0');
  });

  test('artifacts list/get carry an icon per type; each is served as a PNG', async () => {
    const img = (await f.admin.call('GET', `${base('app')}/artifacts/v1`)).json();
    assert.equal(img.type, 'IMAGE');
    assert.match(img.icon, /^sha256:[0-9a-f]{64}$/);
    const listed = (await f.admin.call('GET', `${base('app')}/artifacts`)).json();
    assert.equal(listed.find((a: { digest: string }) => a.digest === image.digest).icon, img.icon);
    const chart = (await f.admin.call('GET', `${base('charts/c')}/artifacts/0.1.0`)).json();
    assert.equal(chart.type, 'CHART');
    assert.match(chart.icon, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(chart.icon, img.icon);
    const a = await fetchIcon(img.icon);
    const b = await fetchIcon(chart.icon);
    assert.ok(!a.equals(b));
    // the signature artifact itself (by digest) has an icon too
    const sigArt = (await f.admin.call('GET', `${base('app')}/artifacts/${sig}`)).json();
    await fetchIcon(sigArt.icon);
  });

  test('accessories carry the icon of their type', async () => {
    const r = await f.admin.call('GET', `${base('app')}/artifacts/v1/accessories`);
    expectApi(r, 200);
    const byDigest = new Map<string, { type: string; icon: string }>(r.json().map((x: { digest: string; type: string; icon: string }) => [x.digest, x]));
    const cosign = byDigest.get(sig)!;
    const notary = byDigest.get(notation)!;
    assert.equal(cosign.type, 'signature.cosign');
    assert.equal(notary.type, 'signature.notation');
    assert.notEqual(cosign.icon, notary.icon);
    await fetchIcon(cosign.icon);
    await fetchIcon(notary.icon);
  });

  test('unknown digest: 404 naming it; icons need no login (fixed images, as in Harbor)', async () => {
    const unknown = `sha256:${'0'.repeat(64)}`;
    const r = await f.admin.call('GET', `/icons/${unknown}`);
    expectApi(r, 404, 'NOT_FOUND');
    assert.ok(r.json().errors[0].message.includes(unknown));
    expectApi(await f.anon.call('GET', '/icons/not-a-digest'), 404, 'NOT_FOUND');
    const img = (await f.admin.call('GET', `${base('app')}/artifacts/v1`)).json();
    await fetchIcon(img.icon, f.anon);
  });
});
