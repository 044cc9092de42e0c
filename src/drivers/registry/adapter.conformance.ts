// The RegistryAdapter conformance suite: every adapter runs these same tests against a real peer (another Berth
// for `harbor`, Debian's docker-registry for `docker-registry`/`oci`). `make` returns an adapter bound to a fresh
// peer and a project/namespace the suite may write under. The suite pushes a small image through the adapter
// itself (monolithic and chunked blob uploads, manifest put), then reads it back and checks the bytes.
import { suite, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { RegistryAdapter } from './adapter.ts';

export interface AdapterFixture {
  adapter: RegistryAdapter;
  /** The namespace (Harbor project) repositories are created under. */
  namespace: string;
  /** Whether the peer lists repositories (the `oci` adapter needs names). */
  lists: boolean;
  cleanup(): Promise<void>;
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r) out.push(Buffer.from(c));
  return Buffer.concat(out);
}

export function adapterConformance(name: string, make: () => Promise<AdapterFixture>): void {
  suite(`RegistryAdapter conformance: ${name}`, { timeout: 60_000 }, () => {
    let f: AdapterFixture;
    let repo: string;
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
    const layer = randomBytes(300_000);
    const small = randomBytes(1000);
    let manifest: Buffer;
    let mdigest: string;
    after(async () => {
      f?.adapter.close();
      await f?.cleanup();
    });

    test('ping and health against the live peer', async () => {
      f = await make();
      repo = `${f.namespace}/conf-${randomBytes(3).toString('hex')}`;
      await f.adapter.ping();
      assert.equal(await f.adapter.health(), 'healthy');
      await f.adapter.prepareForPush([repo]);
    });

    test('blob put (monolithic and chunked), exists, get byte-identical', async () => {
      assert.equal(await f.adapter.blobExists(repo, sha(layer)), false);
      await f.adapter.blobPut(repo, sha(config), Readable.from([config]), config.length);
      await f.adapter.blobPut(repo, sha(layer), Readable.from([layer.subarray(0, 1000), layer.subarray(1000)]), layer.length, { chunkSize: 64 * 1024 });
      await f.adapter.blobPut(repo, sha(small), Readable.from([small]), small.length, { chunkSize: 4096 });
      for (const b of [config, layer, small]) {
        assert.equal(await f.adapter.blobExists(repo, sha(b)), true);
        const got = await f.adapter.blobGet(repo, sha(b));
        assert.ok(got);
        assert.equal(got.size, b.length);
        assert.ok((await collect(got.stream)).equals(b));
      }
      assert.equal(await f.adapter.blobGet(repo, sha(randomBytes(8))), null);
    });

    test('manifest put, head, get byte-identical; tags and repositories listed', async () => {
      manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
          layers: [
            { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length },
            { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(small), size: small.length },
          ],
        }),
      );
      mdigest = await f.adapter.manifestPut(repo, 'v1', manifest, OCI_MANIFEST);
      assert.equal(mdigest, sha(manifest));
      const head = await f.adapter.manifestHead(repo, 'v1');
      assert.equal(head?.digest, mdigest);
      assert.equal(head?.mediaType, OCI_MANIFEST);
      const got = await f.adapter.manifestGet(repo, mdigest);
      assert.ok(got && got.bytes.equals(manifest));
      assert.equal(got.mediaType, OCI_MANIFEST);
      assert.equal(await f.adapter.manifestGet(repo, 'absent'), null);
      assert.equal(await f.adapter.manifestHead(repo, 'absent'), null);
      assert.deepEqual(await f.adapter.listTags(repo), ['v1']);
      const repos = await f.adapter.listRepositories(f.lists ? { match: (n) => n === repo } : { names: [repo, `${f.namespace}/none`] });
      assert.deepEqual(repos, [repo]);
    });

    test('cross-repository mount within the namespace', async () => {
      const other = `${repo}-mounted`;
      await f.adapter.prepareForPush([other]);
      assert.equal(await f.adapter.blobMount(other, sha(layer), repo), true);
      assert.equal(await f.adapter.blobExists(other, sha(layer)), true);
      // Nothing to mount from: false, and the caller copies instead.
      assert.equal(await f.adapter.blobMount(other, sha(randomBytes(8)), repo), false);
    });

    test('referrers: a manifest with a subject is listed (API, or the tag-schema fallback)', async () => {
      const empty = Buffer.from('{}');
      await f.adapter.blobPut(repo, sha(empty), Readable.from([empty]), empty.length);
      const sig = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: 'application/vnd.example.signature',
          config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha(empty), size: 2 },
          layers: [{ mediaType: 'application/vnd.oci.empty.v1+json', digest: sha(empty), size: 2 }],
          subject: { mediaType: OCI_MANIFEST, digest: mdigest, size: manifest.length },
        }),
      );
      await f.adapter.manifestPut(repo, sha(sig), sig, OCI_MANIFEST);
      let refs = await f.adapter.listReferrers(repo, mdigest);
      if (refs.length === 0) {
        // A registry without the referrers API: the pusher maintains the `sha256-<hex>` index (spec 1.1 fallback).
        const idx = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_MANIFEST, digest: sha(sig), size: sig.length, artifactType: 'application/vnd.example.signature' }] }));
        await f.adapter.manifestPut(repo, mdigest.replace(':', '-'), idx, OCI_INDEX);
        refs = await f.adapter.listReferrers(repo, mdigest);
      }
      assert.deepEqual(refs.map((r) => r.digest), [sha(sig)]);
      assert.equal(refs[0]!.artifactType, 'application/vnd.example.signature');
    });

    test('manifest delete', async () => {
      await f.adapter.manifestDelete(repo, mdigest);
      assert.equal(await f.adapter.manifestHead(repo, mdigest), null);
      // Deleting what is gone is not an error (replicated deletions may race).
      await f.adapter.manifestDelete(repo, mdigest);
    });
  });
}
