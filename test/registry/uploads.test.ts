// Blob uploads: monolithic, POST+PUT, streamed PATCH, chunked PATCH, status, cancel, digest checks, sha512,
// the empty blob and cross-repository mounts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, repoName, useBerth } from './fixture.ts';
import { RegistryClient, digestOf, randomBlob, type RegistryResponse } from '../helpers/registry-client.ts';

const f = useBerth();
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const EMPTY_SHA256 = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

async function assertBlob(repo: string, digest: string, data: Buffer) {
  const h = await f.admin.headBlob(repo, digest);
  expectStatus(h, 200);
  assert.equal(h.header('content-length'), String(data.length));
  assert.equal(h.header('docker-content-digest'), digest);
  const g = await f.admin.getBlob(repo, digest);
  expectStatus(g, 200);
  assert.deepEqual(g.body, data);
}

function assertCreated(r: RegistryResponse, repo: string, digest: string) {
  expectStatus(r, 201);
  assert.equal(r.header('location'), `/v2/${repo}/blobs/${digest}`);
  assert.equal(r.header('docker-content-digest'), digest);
}

function assertSession(r: RegistryResponse, repo: string, status: number, range: string) {
  expectStatus(r, status);
  const loc = r.header('location')!;
  assert.match(loc, new RegExp(`^/v2/${repo}/blobs/uploads/[0-9a-f-]{36}$`));
  assert.equal(r.header('range'), range);
  assert.match(r.header('docker-upload-uuid') ?? '', UUID);
  assert.ok(loc.endsWith(r.header('docker-upload-uuid')!));
  return f.admin.url(loc);
}

test('monolithic POST ?digest= → 201 with Location and Docker-Content-Digest', async () => {
  const repo = repoName('mono');
  const data = randomBlob(5000);
  const d = digestOf(data);
  const r = await f.admin.startUpload(repo, { digest: d }, { body: data, headers: { 'content-type': 'application/octet-stream' } });
  assertCreated(r, repo, d);
  assert.equal(r.body.length, 0);
  await assertBlob(repo, d, data);
  // pushing the same blob again is fine
  assertCreated(await f.admin.startUpload(repo, { digest: d }, { body: data }), repo, d);
});

test('POST opens a session (202, Location, Range 0-0, Docker-Upload-UUID); PUT with the body → 201', async () => {
  const repo = repoName('postput');
  const data = randomBlob(3000);
  const d = digestOf(data);
  const s = await f.admin.startUpload(repo, {}, { headers: { 'content-length': '0' } });
  const loc = assertSession(s, repo, 202, '0-0');
  assert.equal(s.header('content-length'), '0');
  // The driver's minimum chunk size is advertised (the filesystem driver takes any size, S3 needs 5 MiB parts).
  assert.equal(s.header('oci-chunk-min-length'), f.berth.storage === 's3' ? String(5 * 1024 * 1024) : '1');
  // not visible until committed
  expectStatus(await f.admin.headBlob(repo, d), 404);
  const put = await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: d }), { body: data, headers: { 'content-type': 'application/octet-stream' } });
  assertCreated(put, repo, d);
  await assertBlob(repo, d, data);
  // the session is gone after the commit
  expectStatus(await f.admin.request('GET', loc.toString()), 404, 'BLOB_UPLOAD_UNKNOWN');
  expectStatus(await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: d }), { body: data }), 404, 'BLOB_UPLOAD_UNKNOWN');
});

test('streamed PATCH without Content-Length (Transfer-Encoding: chunked, docker) then PUT with no body', async () => {
  const repo = repoName('stream');
  const data = randomBlob(300 * 1024 + 7);
  const d = digestOf(data);
  const loc = await f.admin.openSession(repo);
  async function* chunks() {
    for (let i = 0; i < data.length; i += 10_000) yield data.subarray(i, i + 10_000);
  }
  const p = await f.admin.request('PATCH', loc.toString(), { body: chunks(), headers: { 'content-type': 'application/octet-stream' } });
  const next = assertSession(p, repo, 202, `0-${data.length - 1}`);
  const st = await f.admin.request('GET', next.toString());
  assertSession(st, repo, 204, `0-${data.length - 1}`);
  assertCreated(await f.admin.request('PUT', RegistryClient.withQuery(next, { digest: d })), repo, d);
  await assertBlob(repo, d, data);
  // the client helper does the same
  const again = randomBlob(70_000);
  const r = await f.admin.pushBlob(repo, again, { method: 'stream' });
  await assertBlob(repo, r.digest, again);
});

test('chunked PATCH with Content-Range; status GET 204 with Range/Location; out-of-order → 416 with Range', async () => {
  const repo = repoName('chunks');
  const data = randomBlob(2500);
  const d = digestOf(data);
  let loc = await f.admin.openSession(repo);
  const status0 = await f.admin.request('GET', loc.toString());
  assertSession(status0, repo, 204, '0-0');
  const patch = (start: number, end: number, at = loc) =>
    f.admin.request('PATCH', at.toString(), {
      body: data.subarray(start, end + 1),
      headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end}` },
    });
  loc = assertSession(await patch(0, 999), repo, 202, '0-999');
  // a gap
  const gap = await patch(1500, 1999);
  expectStatus(gap, 416);
  assert.equal(gap.header('range'), '0-999');
  assert.equal(f.admin.url(gap.header('location')!).toString(), loc.toString());
  // an overlap (a re-sent chunk)
  const overlap = await patch(500, 1499);
  expectStatus(overlap, 416);
  assert.equal(overlap.header('range'), '0-999');
  // status tells where to resume
  const st = await f.admin.request('GET', loc.toString());
  assertSession(st, repo, 204, '0-999');
  loc = assertSession(await patch(1000, 1999), repo, 202, '0-1999');
  // the final chunk comes with the PUT
  const put = await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: d }), {
    body: data.subarray(2000),
    headers: { 'content-type': 'application/octet-stream', 'content-range': '2000-2499' },
  });
  assertCreated(put, repo, d);
  await assertBlob(repo, d, data);
});

test('chunked PATCH: a first chunk not at 0, a bad Content-Range, and Content-Length ≠ range → 416', async () => {
  const repo = repoName('badrange');
  const loc = await f.admin.openSession(repo);
  const body = randomBlob(10);
  const notZero = await f.admin.request('PATCH', loc.toString(), { body, headers: { 'content-range': '5-14' } });
  expectStatus(notZero, 416);
  assert.equal(notZero.header('range'), '0-0');
  for (const cr of ['bytes=abc', '9-0', '-5', '0-']) {
    expectStatus(await f.admin.request('PATCH', loc.toString(), { body, headers: { 'content-range': cr } }), 416);
  }
  const mismatch = await f.admin.request('PATCH', loc.toString(), { body, headers: { 'content-range': '0-19' } });
  expectStatus(mismatch, 416);
  assert.equal(mismatch.header('range'), '0-0');
  // the session is still usable
  const ok = await f.admin.request('PATCH', loc.toString(), { body, headers: { 'content-range': '0-9' } });
  assertSession(ok, repo, 202, '0-9');
  assertCreated(await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: digestOf(body) })), repo, digestOf(body));
});

test('the client helper pushes with every pattern', async () => {
  const repo = repoName('helper');
  for (const method of ['monolithic', 'post-put', 'stream', 'chunked'] as const) {
    const data = randomBlob(4096 + method.length);
    const r = await f.admin.pushBlob(repo, data, { method, chunkSize: 1000 });
    await assertBlob(repo, r.digest, data);
  }
});

test('cancel: DELETE on the session → 204, then 404 BLOB_UPLOAD_UNKNOWN for GET/PATCH/PUT/DELETE', async () => {
  const repo = repoName('cancel');
  const data = randomBlob(100);
  const loc = await f.admin.openSession(repo);
  expectStatus(await f.admin.request('PATCH', loc.toString(), { body: data }), 202);
  const del = await f.admin.request('DELETE', loc.toString());
  expectStatus(del, 204);
  expectStatus(await f.admin.request('GET', loc.toString()), 404, 'BLOB_UPLOAD_UNKNOWN');
  expectStatus(await f.admin.request('PATCH', loc.toString(), { body: data }), 404, 'BLOB_UPLOAD_UNKNOWN');
  expectStatus(await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: digestOf(data) })), 404, 'BLOB_UPLOAD_UNKNOWN');
  expectStatus(await f.admin.request('DELETE', loc.toString()), 404, 'BLOB_UPLOAD_UNKNOWN');
  expectStatus(await f.admin.headBlob(repo, digestOf(data)), 404);
});

test('unknown or malformed upload ids → 404 BLOB_UPLOAD_UNKNOWN', async () => {
  const repo = repoName('unknown');
  for (const id of ['00000000-0000-0000-0000-000000000000', 'not-a-uuid', 'ABCDEF00-0000-0000-0000-000000000000', 'x'.repeat(300)]) {
    expectStatus(await f.admin.request('GET', `/v2/${repo}/blobs/uploads/${id}`), 404, 'BLOB_UPLOAD_UNKNOWN');
  }
});

test('wrong digest on PUT → 400 DIGEST_INVALID; nothing visible and the session is gone', async () => {
  const repo = repoName('wrongdigest');
  const data = randomBlob(1234);
  const claimed = digestOf('something else');
  const loc = await f.admin.openSession(repo);
  const put = await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: claimed }), { body: data });
  expectStatus(put, 400, 'DIGEST_INVALID');
  expectStatus(await f.admin.headBlob(repo, claimed), 404);
  expectStatus(await f.admin.headBlob(repo, digestOf(data)), 404);
  expectStatus(await f.admin.request('GET', loc.toString()), 404, 'BLOB_UPLOAD_UNKNOWN');
  // after PATCH, with an empty PUT
  const loc2 = await f.admin.openSession(repo);
  expectStatus(await f.admin.request('PATCH', loc2.toString(), { body: data }), 202);
  expectStatus(await f.admin.request('PUT', RegistryClient.withQuery(loc2, { digest: claimed })), 400, 'DIGEST_INVALID');
  expectStatus(await f.admin.headBlob(repo, claimed), 404);
  // monolithic
  expectStatus(await f.admin.startUpload(repo, { digest: claimed }, { body: data }), 400, 'DIGEST_INVALID');
  expectStatus(await f.admin.headBlob(repo, claimed), 404);
  expectStatus(await f.admin.headBlob(repo, digestOf(data)), 404);
  // the repository was not even created by the failures
  expectStatus(await f.admin.request('GET', `/v2/${repo}/tags/list`), 404, 'NAME_UNKNOWN');
});

test('PUT without a digest, or with a malformed one → 400 DIGEST_INVALID; the session survives', async () => {
  const repo = repoName('nodigest');
  const data = randomBlob(50);
  const loc = await f.admin.openSession(repo);
  expectStatus(await f.admin.request('PATCH', loc.toString(), { body: data }), 202);
  expectStatus(await f.admin.request('PUT', loc.toString()), 400, 'DIGEST_INVALID');
  expectStatus(await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: 'sha256:abc' })), 400, 'DIGEST_INVALID');
  expectStatus(await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: 'md5:' + 'a'.repeat(32) })), 400, 'DIGEST_INVALID');
  assertSession(await f.admin.request('GET', loc.toString()), repo, 204, '0-49');
  assertCreated(await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: digestOf(data) })), repo, digestOf(data));
});

test('sha512: monolithic POST ?digest=sha512:…, and a ?digest-algorithm=sha512 session', async () => {
  const repo = repoName('sha512');
  const data = randomBlob(777);
  const d = digestOf(data, 'sha512');
  assertCreated(await f.admin.startUpload(repo, { digest: d }, { body: data }), repo, d);
  await assertBlob(repo, d, data);
  // session with digest-algorithm, chunked
  const data2 = randomBlob(3000);
  const r = await f.admin.pushBlob(repo, data2, { method: 'chunked', chunkSize: 1024, algorithm: 'sha512' });
  assert.equal(r.digest, digestOf(data2, 'sha512'));
  await assertBlob(repo, r.digest, data2);
  // a default (sha256) session can still be finished with a sha512 digest
  const data3 = randomBlob(64);
  const loc = await f.admin.openSession(repo);
  expectStatus(await f.admin.request('PATCH', loc.toString(), { body: data3 }), 202);
  const d3 = digestOf(data3, 'sha512');
  assertCreated(await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: d3 })), repo, d3);
  await assertBlob(repo, d3, data3);
  // a wrong sha512 digest
  expectStatus(await f.admin.startUpload(repo, { digest: digestOf('x', 'sha512') }, { body: data }), 400, 'DIGEST_INVALID');
  // unsupported algorithms
  expectStatus(await f.admin.startUpload(repo, { 'digest-algorithm': 'md5' }), 400, 'DIGEST_INVALID');
  expectStatus(await f.admin.startUpload(repo, { digest: 'sha384:' + 'a'.repeat(96) }, { body: data }), 400, 'DIGEST_INVALID');
});

test('the empty blob: monolithic with no body, and POST + PUT with no body', async () => {
  const repo = repoName('empty');
  assertCreated(await f.admin.startUpload(repo, { digest: EMPTY_SHA256 }, { headers: { 'content-length': '0' } }), repo, EMPTY_SHA256);
  await assertBlob(repo, EMPTY_SHA256, Buffer.alloc(0));
  const repo2 = repoName('empty2');
  const loc = await f.admin.openSession(repo2);
  assertCreated(await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest: EMPTY_SHA256 })), repo2, EMPTY_SHA256);
  await assertBlob(repo2, EMPTY_SHA256, Buffer.alloc(0));
});

test('mount with from → 201; the blob is then readable in the target', async () => {
  const src = repoName('mount-src');
  const dst = repoName('mount-dst');
  const data = randomBlob(2048);
  const { digest } = await f.admin.pushBlob(src, data);
  expectStatus(await f.admin.headBlob(dst, digest), 404);
  const r = await f.admin.startUpload(dst, { mount: digest, from: src });
  assertCreated(r, dst, digest);
  await assertBlob(dst, digest, data);
});

test('anonymous mount (no from) → 201 when a readable repository has the blob (regctl)', async () => {
  const src = repoName('amount-src');
  const dst = repoName('amount-dst');
  const data = randomBlob(512);
  const { digest } = await f.admin.pushBlob(src, data);
  assertCreated(await f.admin.startUpload(dst, { mount: digest }), dst, digest);
  await assertBlob(dst, digest, data);
});

test('mount of an unknown blob, or from a repository without it → 202 with an upload session', async () => {
  const src = repoName('nmount-src');
  const dst = repoName('nmount-dst');
  await f.admin.pushBlob(src, randomBlob(10));
  const unknown = digestOf('never pushed');
  assertSession(await f.admin.startUpload(dst, { mount: unknown, from: src }), dst, 202, '0-0');
  assertSession(await f.admin.startUpload(dst, { mount: unknown }), dst, 202, '0-0');
  const other = (await f.admin.pushBlob(repoName('elsewhere'), randomBlob(10))).digest;
  assertSession(await f.admin.startUpload(dst, { mount: other, from: src }), dst, 202, '0-0');
  expectStatus(await f.admin.headBlob(dst, other), 404);
  // a malformed mount digest
  expectStatus(await f.admin.startUpload(dst, { mount: 'sha256:nope', from: src }), 400, 'DIGEST_INVALID');
});

test('mount from a source the caller cannot read (no such project, invalid name) → 202 session, nothing linked', async () => {
  const src = repoName('pmount-src');
  const dst = repoName('pmount-dst');
  const data = randomBlob(333);
  const { digest } = await f.admin.pushBlob(src, data);
  for (const from of ['nosuchproject/app', 'toplevel', 'Library/UPPER', `${src}/../x`]) {
    const r = await f.admin.startUpload(dst, { mount: digest, from }, { scopes: [`repository:${dst}:pull,push`] });
    assertSession(r, dst, 202, '0-0');
    expectStatus(await f.admin.headBlob(dst, digest), 404);
  }
  // the session works for a normal upload of the same bytes
  const loc = await f.admin.openSession(dst);
  assertCreated(await f.admin.request('PUT', RegistryClient.withQuery(loc, { digest }), { body: data }), dst, digest);
  await assertBlob(dst, digest, data);
});

test('mount with a token that lacks the source scope uses the rights of the user behind it (conformance suite)', async () => {
  const src = repoName('tmount-src');
  const dst = repoName('tmount-dst');
  const data = randomBlob(99);
  const { digest } = await f.admin.pushBlob(src, data);
  const r = await f.admin.startUpload(dst, { mount: digest, from: src }, { scopes: [`repository:${dst}:pull,push`] });
  assertCreated(r, dst, digest);
  await assertBlob(dst, digest, data);
});

test('Location may be followed as given (relative) and reused for each PATCH', async () => {
  const repo = repoName('loc');
  const s = await f.admin.startUpload(repo);
  expectStatus(s, 202);
  let loc = s.header('location')!;
  assert.ok(loc.startsWith('/v2/'));
  const parts = [randomBlob(100), randomBlob(200), randomBlob(300)];
  for (const p of parts) {
    const r = await f.admin.request('PATCH', loc, { body: p });
    expectStatus(r, 202);
    loc = r.header('location')!;
  }
  const all = Buffer.concat(parts);
  assertCreated(await f.admin.request('PUT', `${loc}?digest=${digestOf(all)}`), repo, digestOf(all));
  await assertBlob(repo, digestOf(all), all);
});

test('errors on a large PATCH are readable by the client (the body is discarded, not reset)', async () => {
  const repo = repoName('bigerr');
  const loc = await f.admin.openSession(repo);
  const body = randomBlob(8 * 1024 * 1024);
  for (let i = 0; i < 5; i++) {
    const wrong = await f.admin.request('PATCH', loc.toString(), { body, headers: { 'content-range': `10-${10 + body.length - 1}` } });
    expectStatus(wrong, 416);
    assert.equal(wrong.header('range'), '0-0');
    expectStatus(await f.anon.request('PATCH', loc.toString(), { body }), 401, 'UNAUTHORIZED');
  }
  // and the session is intact
  assertSession(await f.admin.request('GET', loc.toString()), repo, 204, '0-0');
});
