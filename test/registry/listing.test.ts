// Tags list, catalog and referrers: order, pagination (n, last, Link) and errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, repoName, useBerth } from './fixture.ts';
import { MediaTypes, digestOf, type RegistryResponse } from '../helpers/registry-client.ts';

const f = useBerth();

/** Follows `Link: <...>; rel="next"` from `first`, returning every page. */
async function walk(first: string, key: 'tags' | 'repositories'): Promise<{ pages: string[][]; links: (string | null)[] }> {
  const pages: string[][] = [];
  const links: (string | null)[] = [];
  let next: string | null = first;
  for (let i = 0; next && i < 100; i++) {
    const r: RegistryResponse = await f.admin.request('GET', next);
    expectStatus(r, 200);
    pages.push(r.json()[key]);
    const link = r.header('link');
    links.push(link);
    next = link ? /^<([^>]+)>;\s*rel="next"$/.exec(link)![1] : null;
  }
  return { pages, links };
}

test('tags list: ASCII order, Content-Type, name', async () => {
  const repo = repoName('tags');
  const img = await f.admin.pushImage(repo, 'seed');
  const tags = ['b', 'a', 'B', 'A', '1.0', '10', '2', '_x', 'a-b', 'a.b', 'a_b'];
  for (const t of tags) await f.admin.pushManifest(repo, t, img.bytes);
  const r = await f.admin.request('GET', `/v2/${repo}/tags/list`);
  expectStatus(r, 200);
  assert.match(r.header('content-type') ?? '', /^application\/json/);
  assert.equal(r.header('link'), null);
  const expected = [...tags, 'seed'].sort(); // code-unit (ASCII) order, as the conformance suite checks
  assert.deepEqual(r.json(), { name: repo, tags: expected });
});

test('tags list: n, last (exclusive), Link rel="next" until the end, n=0', async () => {
  const repo = repoName('tagpages');
  const img = await f.admin.pushImage(repo, 't0');
  const all = ['t0'];
  for (let i = 1; i < 7; i++) {
    await f.admin.pushManifest(repo, `t${i}`, img.bytes);
    all.push(`t${i}`);
  }
  const first = await f.admin.request('GET', `/v2/${repo}/tags/list?n=3`);
  expectStatus(first, 200);
  assert.deepEqual(first.json().tags, ['t0', 't1', 't2']);
  assert.equal(first.header('link'), `</v2/${repo}/tags/list?n=3&last=t2>; rel="next"`);
  const { pages, links } = await walk(`/v2/${repo}/tags/list?n=3`, 'tags');
  assert.deepEqual(pages.flat(), all);
  assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
  assert.equal(links[links.length - 1], null);
  // last alone
  const after = await f.admin.request('GET', `/v2/${repo}/tags/list?last=t4`);
  assert.deepEqual(after.json().tags, ['t5', 't6']);
  // last not itself a tag
  assert.deepEqual((await f.admin.request('GET', `/v2/${repo}/tags/list?last=t31`)).json().tags, ['t4', 't5', 't6']);
  // n with last
  assert.deepEqual((await f.admin.request('GET', `/v2/${repo}/tags/list?n=2&last=t0`)).json().tags, ['t1', 't2']);
  // past the end
  const end = await f.admin.request('GET', `/v2/${repo}/tags/list?last=zzz`);
  expectStatus(end, 200);
  assert.deepEqual(end.json().tags, []);
  // n=0: empty list, no Link
  const zero = await f.admin.request('GET', `/v2/${repo}/tags/list?n=0`);
  expectStatus(zero, 200);
  assert.deepEqual(zero.json(), { name: repo, tags: [] });
  assert.equal(zero.header('link'), null);
  // n larger than the count: everything, no Link
  const big = await f.admin.request('GET', `/v2/${repo}/tags/list?n=999999999`);
  expectStatus(big, 200);
  assert.deepEqual(big.json().tags, all);
  assert.equal(big.header('link'), null);
});

test('tags list: a bad n → 400', async () => {
  const repo = repoName('badn');
  await f.admin.pushImage(repo, 'x');
  for (const n of ['-1', 'abc', '1e3', '10000000000', '1.5', '+1']) {
    const r = await f.admin.request('GET', `/v2/${repo}/tags/list?n=${encodeURIComponent(n)}`);
    expectStatus(r, 400, 'PAGINATION_NUMBER_INVALID');
  }
});

test('tags list: unknown repository → 404 NAME_UNKNOWN; a repository with blobs only lists no tags', async () => {
  const unknown = repoName('unknown');
  const r = await f.admin.request('GET', `/v2/${unknown}/tags/list`);
  expectStatus(r, 404, 'NAME_UNKNOWN');
  assert.deepEqual(r.json().errors[0].detail, { name: unknown });
  const blobsOnly = repoName('blobsonly');
  await f.admin.pushBlob(blobsOnly, Buffer.from('x'));
  const e = await f.admin.request('GET', `/v2/${blobsOnly}/tags/list`);
  expectStatus(e, 200);
  assert.deepEqual(e.json(), { name: blobsOnly, tags: [] });
  // after deleting its only tag, the repository still exists
  const repo = repoName('untagged');
  await f.admin.pushImage(repo, 'only');
  expectStatus(await f.admin.request('DELETE', `/v2/${repo}/manifests/only`), 202);
  assert.deepEqual((await f.admin.request('GET', `/v2/${repo}/tags/list`)).json().tags, []);
});

test('catalog: sorted, paginated with n and Link, last exclusive', async () => {
  const mine = ['library/cat-c', 'library/cat-a', 'library/cat-b'];
  for (const r of mine) await f.admin.pushBlob(r, Buffer.from(r));
  const full = await f.admin.request('GET', '/v2/_catalog');
  expectStatus(full, 200);
  assert.match(full.header('content-type') ?? '', /^application\/json/);
  const everything: string[] = full.json().repositories;
  for (const r of mine) assert.ok(everything.includes(r), r);
  assert.deepEqual(everything, [...everything].sort());
  const first = await f.admin.request('GET', '/v2/_catalog?n=1');
  assert.equal(first.json().repositories.length, 1);
  assert.equal(first.header('link'), `</v2/_catalog?n=1&last=${encodeURIComponent(everything[0])}>; rel="next"`);
  const { pages } = await walk('/v2/_catalog?n=2', 'repositories');
  assert.deepEqual(pages.flat(), everything);
  const after = await f.admin.request('GET', '/v2/_catalog?last=library/cat-a&n=2');
  assert.deepEqual(after.json().repositories, ['library/cat-b', 'library/cat-c']);
  const zero = await f.admin.request('GET', '/v2/_catalog?n=0');
  expectStatus(zero, 200);
  assert.deepEqual(zero.json(), { repositories: [] });
  assert.equal(zero.header('link'), null);
  expectStatus(await f.admin.request('GET', '/v2/_catalog?n=-5'), 400, 'PAGINATION_NUMBER_INVALID');
});

test('referrers: an unknown subject (or repository) → 200 with an empty image index', async () => {
  const repo = repoName('noref');
  await f.admin.pushImage(repo, 'x');
  for (const r of [repo, repoName('none')]) {
    const res = await f.admin.request('GET', `/v2/${r}/referrers/${digestOf('nothing')}`);
    expectStatus(res, 200);
    assert.equal(res.header('content-type'), MediaTypes.OciIndex);
    assert.deepEqual(res.json(), { schemaVersion: 2, mediaType: MediaTypes.OciIndex, manifests: [] });
  }
});

test('referrers: descriptors with artifactType and annotations; artifactType filter with OCI-Filters-Applied', async () => {
  const repo = repoName('refs');
  const subject = await f.admin.pushImage(repo, 'app');
  const subj = { mediaType: MediaTypes.OciManifest, digest: subject.digest, size: subject.bytes.length };
  const empty = await f.admin.pushBlob(repo, Buffer.from('{}'));
  const emptyDesc = { mediaType: MediaTypes.OciEmpty, digest: empty.digest, size: empty.size };
  // 1: artifactType field + annotations
  const m1 = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    artifactType: 'application/vnd.example.signature',
    config: emptyDesc,
    layers: [emptyDesc],
    subject: subj,
    annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z', 'org.example.signer': 'me' },
  };
  const b1 = Buffer.from(JSON.stringify(m1));
  const r1 = await f.admin.pushManifest(repo, digestOf(b1), b1, MediaTypes.OciManifest);
  assert.equal(r1.response.header('oci-subject'), subject.digest);
  // 2: no artifactType: the config media type is reported
  const cfg = await f.admin.pushBlob(repo, Buffer.from('{"sbom":true}'));
  const m2 = {
    schemaVersion: 2,
    mediaType: MediaTypes.OciManifest,
    config: { mediaType: 'application/vnd.example.sbom.config', digest: cfg.digest, size: cfg.size },
    layers: [],
    subject: subj,
  };
  const b2 = Buffer.from(JSON.stringify(m2));
  await f.admin.pushManifest(repo, digestOf(b2), b2, MediaTypes.OciManifest);
  // 3: an index referrer with artifactType
  const m3 = { schemaVersion: 2, mediaType: MediaTypes.OciIndex, artifactType: 'application/vnd.example.signature', manifests: [], subject: subj };
  const b3 = Buffer.from(JSON.stringify(m3));
  await f.admin.pushManifest(repo, digestOf(b3), b3, MediaTypes.OciIndex);
  // an unrelated manifest with another subject
  const m4 = { ...m1, subject: { ...subj, digest: digestOf('other subject') } };
  const b4 = Buffer.from(JSON.stringify(m4));
  await f.admin.pushManifest(repo, digestOf(b4), b4, MediaTypes.OciManifest);

  const all = await f.admin.request('GET', `/v2/${repo}/referrers/${subject.digest}`);
  expectStatus(all, 200);
  assert.equal(all.header('content-type'), MediaTypes.OciIndex);
  assert.equal(all.header('oci-filters-applied'), null);
  const idx = all.json();
  assert.equal(idx.schemaVersion, 2);
  assert.equal(idx.mediaType, MediaTypes.OciIndex);
  const byDigest = Object.fromEntries(idx.manifests.map((d: { digest: string }) => [d.digest, d]));
  assert.equal(idx.manifests.length, 3);
  assert.deepEqual(byDigest[digestOf(b1)], {
    mediaType: MediaTypes.OciManifest,
    digest: digestOf(b1),
    size: b1.length,
    artifactType: 'application/vnd.example.signature',
    annotations: m1.annotations,
  });
  assert.deepEqual(byDigest[digestOf(b2)], {
    mediaType: MediaTypes.OciManifest,
    digest: digestOf(b2),
    size: b2.length,
    artifactType: 'application/vnd.example.sbom.config',
  });
  assert.deepEqual(byDigest[digestOf(b3)], {
    mediaType: MediaTypes.OciIndex,
    digest: digestOf(b3),
    size: b3.length,
    artifactType: 'application/vnd.example.signature',
  });

  const filtered = await f.admin.request('GET', `/v2/${repo}/referrers/${subject.digest}?artifactType=${encodeURIComponent('application/vnd.example.signature')}`);
  expectStatus(filtered, 200);
  assert.equal(filtered.header('oci-filters-applied'), 'artifactType');
  assert.deepEqual(
    filtered.json().manifests.map((d: { digest: string }) => d.digest).sort(),
    [digestOf(b1), digestOf(b3)].sort(),
  );
  const none = await f.admin.request('GET', `/v2/${repo}/referrers/${subject.digest}?artifactType=application/none`);
  expectStatus(none, 200);
  assert.equal(none.header('oci-filters-applied'), 'artifactType');
  assert.deepEqual(none.json().manifests, []);
  // anonymous pull works on the public project
  const anon = await f.anon.request('GET', `/v2/${repo}/referrers/${subject.digest}`);
  expectStatus(anon, 200);
  assert.equal(anon.json().manifests.length, 3);
  // deleting a referrer removes it from the list
  expectStatus(await f.admin.request('DELETE', `/v2/${repo}/manifests/${digestOf(b2)}`), 202);
  assert.equal((await f.admin.request('GET', `/v2/${repo}/referrers/${subject.digest}`)).json().manifests.length, 2);
});

test('referrers: a malformed digest → 400 DIGEST_INVALID; a tag is not accepted', async () => {
  const repo = repoName('badref');
  for (const d of ['sha256:abc', 'latest', 'md5:' + 'a'.repeat(32), 'sha256:' + 'G'.repeat(64)]) {
    expectStatus(await f.admin.request('GET', `/v2/${repo}/referrers/${d}`), 400, 'DIGEST_INVALID');
  }
});
