// Blob reads: HEAD/GET headers, single and multi-range GETs, 416, and DELETE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, repoName, useBerth } from './fixture.ts';
import { digestOf, parseMultipartByteranges, randomBlob } from '../helpers/registry-client.ts';

const repo = repoName('blobs');
const data = randomBlob(1000);
let digest: string;
const f = useBerth({}, async (f) => {
  digest = (await f.admin.pushBlob(repo, data)).digest;
});

test('HEAD: 200, Docker-Content-Digest, Content-Length, no body', async () => {
  const r = await f.admin.headBlob(repo, digest);
  expectStatus(r, 200);
  assert.equal(r.header('docker-content-digest'), digest);
  assert.equal(r.header('content-length'), '1000');
  assert.equal(r.header('accept-ranges'), 'bytes');
  assert.equal(r.header('docker-distribution-api-version'), 'registry/2.0');
  assert.equal(r.body.length, 0);
});

test('GET: 200 with the exact bytes, digest and length', async () => {
  const r = await f.admin.getBlob(repo, digest);
  expectStatus(r, 200);
  assert.equal(r.header('docker-content-digest'), digest);
  assert.equal(r.header('content-length'), '1000');
  assert.equal(r.header('content-type'), 'application/octet-stream');
  assert.deepEqual(r.body, data);
  assert.equal(digestOf(r.body), digest);
});

test('unknown blob: HEAD 404, GET 404 BLOB_UNKNOWN', async () => {
  const missing = digestOf('not pushed anywhere');
  expectStatus(await f.admin.headBlob(repo, missing), 404);
  const g = await f.admin.getBlob(repo, missing);
  expectStatus(g, 404, 'BLOB_UNKNOWN');
  assert.deepEqual(g.json().errors[0].detail, { digest: missing });
  // unknown repository too
  expectStatus(await f.admin.getBlob(repoName('none'), digest), 404, 'BLOB_UNKNOWN');
});

async function range(spec: string) {
  return f.admin.getBlob(repo, digest, { headers: { range: spec } });
}

test('single range: bytes=a-b', async () => {
  const r = await range('bytes=10-109');
  expectStatus(r, 206);
  assert.equal(r.header('content-range'), 'bytes 10-109/1000');
  assert.equal(r.header('content-length'), '100');
  assert.equal(r.header('docker-content-digest'), digest);
  assert.deepEqual(r.body, data.subarray(10, 110));
});

test('single range: bytes=a- (to the end)', async () => {
  const r = await range('bytes=900-');
  expectStatus(r, 206);
  assert.equal(r.header('content-range'), 'bytes 900-999/1000');
  assert.deepEqual(r.body, data.subarray(900));
});

test('single range: bytes=-n (suffix), and a suffix longer than the blob', async () => {
  const r = await range('bytes=-10');
  expectStatus(r, 206);
  assert.equal(r.header('content-range'), 'bytes 990-999/1000');
  assert.deepEqual(r.body, data.subarray(990));
  const all = await range('bytes=-5000');
  expectStatus(all, 206);
  assert.equal(all.header('content-range'), 'bytes 0-999/1000');
  assert.deepEqual(all.body, data);
});

test('single range: the end is clamped to the blob', async () => {
  const r = await range('bytes=995-5000');
  expectStatus(r, 206);
  assert.equal(r.header('content-range'), 'bytes 995-999/1000');
  assert.equal(r.header('content-length'), '5');
  assert.deepEqual(r.body, data.subarray(995));
  const one = await range('bytes=0-0');
  expectStatus(one, 206);
  assert.deepEqual(one.body, data.subarray(0, 1));
});

test('multi-range: multipart/byteranges with one part per range (zstd:chunked partial pulls)', async () => {
  const r = await range('bytes=0-9, 100-199,-5');
  expectStatus(r, 206);
  const ct = r.header('content-type')!;
  assert.match(ct, /^multipart\/byteranges; boundary=/);
  assert.equal(Number(r.header('content-length')), r.body.length);
  const parts = parseMultipartByteranges(ct, r.body);
  assert.equal(parts.length, 3);
  const expected = [
    [0, 9],
    [100, 199],
    [995, 999],
  ];
  parts.forEach((p, i) => {
    const [s, e] = expected[i];
    assert.equal(p.headers['content-range'], `bytes ${s}-${e}/1000`);
    assert.equal(p.headers['content-type'], 'application/octet-stream');
    assert.deepEqual(p.body, data.subarray(s, e + 1));
  });
});

test('unsatisfiable ranges → 416 with Content-Range: bytes */size', async () => {
  for (const spec of ['bytes=1000-1010', 'bytes=5000-', 'bytes=50-10', 'bytes=-0', 'bytes=abc', 'bytes=-', 'bytes=2000-3000,5000-']) {
    const r = await range(spec);
    expectStatus(r, 416);
    assert.equal(r.header('content-range'), 'bytes */1000', spec);
  }
});

test('multi-range with one unsatisfiable range: the satisfiable ones are served (RFC 9110 §14.1.1)', async () => {
  const r = await range('bytes=0-9,2000-3000');
  expectStatus(r, 206);
  assert.equal(r.header('content-range'), 'bytes 0-9/1000');
  assert.deepEqual(r.body, data.subarray(0, 10));
  const two = await range('bytes=-0,5-6,990-');
  expectStatus(two, 206);
  const parts = parseMultipartByteranges(two.header('content-type')!, two.body);
  assert.deepEqual(
    parts.map((p) => p.headers['content-range']),
    ['bytes 5-6/1000', 'bytes 990-999/1000'],
  );
});

test('a non-bytes Range unit is ignored: 200 with the whole blob', async () => {
  const r = await range('items=0-5');
  expectStatus(r, 200);
  assert.deepEqual(r.body, data);
});

test('range on an empty blob → 416; plain GET → 200 with no bytes', async () => {
  const empty = await f.admin.pushBlob(repo, Buffer.alloc(0), { method: 'monolithic' });
  const g = await f.admin.getBlob(repo, empty.digest);
  expectStatus(g, 200);
  assert.equal(g.header('content-length'), '0');
  assert.equal(g.body.length, 0);
  const r = await f.admin.getBlob(repo, empty.digest, { headers: { range: 'bytes=0-' } });
  expectStatus(r, 416);
  assert.equal(r.header('content-range'), 'bytes */0');
});

test('DELETE: 202, then HEAD/GET 404 BLOB_UNKNOWN; other repositories keep their link', async () => {
  const other = repoName('blobs-other');
  const blob = randomBlob(300);
  const d = (await f.admin.pushBlob(repo, blob)).digest;
  await f.admin.pushBlob(other, blob);
  const del = await f.admin.request('DELETE', `/v2/${repo}/blobs/${d}`);
  expectStatus(del, 202);
  expectStatus(await f.admin.headBlob(repo, d), 404);
  expectStatus(await f.admin.getBlob(repo, d), 404, 'BLOB_UNKNOWN');
  expectStatus(await f.admin.request('DELETE', `/v2/${repo}/blobs/${d}`), 404, 'BLOB_UNKNOWN');
  const still = await f.admin.getBlob(other, d);
  expectStatus(still, 200);
  assert.deepEqual(still.body, blob);
  // an unknown repository
  expectStatus(await f.admin.request('DELETE', `/v2/${repoName('none')}/blobs/${d}`), 404, 'BLOB_UNKNOWN');
});

test('a blob deleted from a repository can be pushed there again', async () => {
  const blob = randomBlob(64);
  const d = (await f.admin.pushBlob(repo, blob)).digest;
  expectStatus(await f.admin.request('DELETE', `/v2/${repo}/blobs/${d}`), 202);
  await f.admin.pushBlob(repo, blob, { method: 'monolithic' });
  const g = await f.admin.getBlob(repo, d);
  expectStatus(g, 200);
  assert.deepEqual(g.body, blob);
});

test('Basic auth and anonymous token can read blobs of the public project', async () => {
  const b = await f.basic.getBlob(repo, digest);
  expectStatus(b, 200);
  assert.deepEqual(b.body, data);
  const a = await f.anon.getBlob(repo, digest, { headers: { range: 'bytes=0-3' } });
  expectStatus(a, 206);
  assert.deepEqual(a.body, data.subarray(0, 4));
});
