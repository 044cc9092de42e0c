// Concurrent pushes of the same content: storage deduplicates to one file, every push is acknowledged and
// readable, and racing tag updates leave the tag on one of the pushed digests with both manifests intact.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { MiB, blobFile, blobFileExists, getBlob, getManifest, imageManifest, pushBlob, putManifest, racingPatches, req, sha256, uploadsDir } from './lib.ts';

let b: Berth;
before(async () => {
  b = await startBerth();
});
after(async () => {
  await b?.stop();
});

/** Every committed blob file under the CAS. */
function casFiles(): string[] {
  const root = join(b.dataDir, 'storage', 'blobs', 'sha256');
  const out: string[] = [];
  for (const xx of readdirSync(root)) for (const hex of readdirSync(join(root, xx))) out.push(`sha256:${hex}`);
  return out;
}

/** Pushes `bytes` with a chunked session (POST, 2 PATCHes, PUT) so the pushes overlap for longer. */
async function pushChunked(repo: string, bytes: Buffer): Promise<number> {
  const open = await req(b, 'POST', `/v2/${repo}/blobs/uploads/`);
  if (open.status !== 202) return open.status;
  await open.body?.cancel();
  const loc = open.headers.get('location')!;
  const half = Math.floor(bytes.length / 2);
  for (const [s, e] of [
    [0, half],
    [half, bytes.length],
  ]) {
    const p = await req(b, 'PATCH', loc, { body: bytes.subarray(s, e), headers: { 'content-range': `${s}-${e - 1}`, 'content-type': 'application/octet-stream' } });
    await p.body?.cancel();
    if (p.status !== 202) return p.status;
  }
  const put = await req(b, 'PUT', `${loc}?digest=${sha256(bytes)}`);
  await put.body?.cancel();
  return put.status;
}

test('10 concurrent uploads of one blob into one repository, and into 3 repositories', async () => {
  for (const repos of [['library/conc-one'], ['library/conc-a', 'library/conc-b', 'library/conc-c']]) {
    const blob = randomBytes(2 * MiB + 11);
    const digest = sha256(blob);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const repo = repos[i % repos.length];
        // Mix monolithic and chunked pushes.
        return i % 2 ? pushChunked(repo, blob) : pushBlob(b, repo, blob).then(() => 201);
      }),
    );
    assert.deepEqual(statuses, Array(10).fill(201));
    assert.ok(blobFileExists(b, digest));
    assert.equal(casFiles().filter((d) => d === digest).length, 1, 'one file in storage');
    assert.equal(readdirSync(join(blobFile(b, digest), '..')).length, 1, 'nothing but data next to the blob');
    for (const repo of repos) assert.ok((await getBlob(b, repo, digest)).equals(blob), `readable from ${repo}`);
  }
  assert.deepEqual(readdirSync(uploadsDir(b)), [], 'finished uploads leave no temp dirs');
});

test('2×50 concurrent PUTs of one tag with two different manifests', async () => {
  const repo = 'library/conc-tag';
  const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
  const layer = randomBytes(4096);
  const cd = await pushBlob(b, repo, config);
  const ld = await pushBlob(b, repo, layer);
  const base = { digest: cd, size: config.length };
  const lay = [{ digest: ld, size: layer.length }];
  const m1 = imageManifest(base, lay, { which: 'one' });
  const m2 = imageManifest(base, lay, { which: 'two' });
  const results = await Promise.all(
    Array.from({ length: 100 }, async (_, i) => {
      const res = await putManifest(b, repo, 'race', i % 2 ? m2 : m1);
      const text = await res.text();
      return res.status === 201 ? 201 : `${res.status} ${text}`;
    }),
  );
  assert.deepEqual(results, Array(100).fill(201));
  const tag = await getManifest(b, repo, 'race');
  assert.equal(tag.status, 200);
  assert.ok([sha256(m1), sha256(m2)].includes(tag.digest!), `tag on an unexpected digest ${tag.digest}`);
  assert.equal(sha256(tag.body), tag.digest, 'the served body matches its digest');
  for (const m of [m1, m2]) {
    const got = await getManifest(b, repo, sha256(m));
    assert.equal(got.status, 200);
    assert.ok(got.body.equals(m));
  }
  const list = await req(b, 'GET', `/v2/${repo}/tags/list`);
  assert.deepEqual(((await list.json()) as { tags: string[] }).tags, ['race']);
});

test('two PATCHes racing on one session: one is acknowledged and the committed blob is exactly its bytes', async () => {
  for (let i = 0; i < 3; i++) await racingPatches(b, b, 'library/conc-race');
});
