// Proxy cache with a second Berth as the upstream: token auth with the endpoint's credential (a private
// project), pulled through by skopeo byte-identically; blobs stream to the client while they are being fetched
// (Harbor's proxy_speed_kb makes the fetch slow enough to see it); a short upstream body leaves no blob, link,
// upload session or spool behind, and the next pull fetches it again whole.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { expectApi, useApi } from '../api/fixture.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { openBerthDatabase, startBerth, type Berth } from '../helpers/berth.ts';
import { createContainersEnv, makeTempDir, readLayoutBlob, readLayoutManifest, removeDir, type ContainersEnv } from '../helpers/clients.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushImage, type Pushed } from '../api/artifact-fixtures.ts';
import { createEndpoint } from '../replication/helpers.ts';
import { startCountingProxy, waitCached, type CountingProxy } from './helpers.ts';

const berth = useApi({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });

describe('proxy cache with a Berth upstream (auth)', { timeout: 300_000 }, () => {
  let upstream: Berth;
  let counter: CountingProxy;
  let cenv: ContainersEnv;
  let work: string;
  let upReg: RegistryClient;
  let ep = 0;
  before(async () => {
    upstream = await startBerth();
    counter = await startCountingProxy(upstream.url);
    cenv = await createContainersEnv({ insecureRegistries: [berth.berth.host] });
    work = makeTempDir('proxy-cache-berth');
    const upApi = new ApiClient(upstream.url, 'admin', upstream.adminPassword);
    expectApi(await upApi.call('POST', '/projects', { project_name: 'vault', metadata: { public: 'false' } }), 201);
    upReg = new RegistryClient({ baseUrl: upstream.url, username: 'admin', password: upstream.adminPassword });
  });
  after(async () => {
    await cenv?.stop();
    await counter?.stop();
    await upstream?.stop();
    if (work) removeDir(work);
  });

  const pull = async (repo: string, ref: string) => {
    const layout = join(work, `${repo.replaceAll('/', '_')}-${Math.random().toString(36).slice(2)}`);
    await cenv.skopeo(['copy', '--preserve-digests', '--src-tls-verify=false', '--src-creds', `admin:${berth.berth.adminPassword}`, `docker://${berth.berth.host}/${repo}:${ref}`, `oci:${layout}:x`], { timeoutMs: 120_000 });
    return layout;
  };
  const assertSame = async (layout: string, img: Pushed) => {
    const m = await readLayoutManifest(layout, 'x');
    assert.equal(m.digest, img.digest);
    assert.ok(m.manifest.equals(img.bytes));
    for (const b of img.blobs) assert.ok((await readLayoutBlob(layout, b.digest)).equals(b.data), b.digest);
  };

  test('a private upstream project pulled through with the endpoint’s credential, byte-identical', async () => {
    const img = await pushImage(upReg, 'vault/app', 'v1', { layerSize: 500_000 });
    // Without the credential the upstream refuses: the endpoint's credential is what makes the pull work.
    const anon = await new RegistryClient({ baseUrl: upstream.url, auth: 'token' }).request('GET', `/v2/vault/app/manifests/v1`);
    assert.equal(anon.status, 401);
    ep = await createEndpoint(berth.admin, { name: 'berth2', type: 'harbor', url: counter.url, credential: { type: 'basic', access_key: 'admin', access_secret: upstream.adminPassword } });
    expectApi(await berth.admin.call('POST', '/projects', { project_name: 'mirror', registry_id: ep }), 201);
    await assertSame(await pull('mirror/vault/app', 'v1'), img);
    await waitCached(berth.admin, 'mirror', 'vault/app', 'v1', img.digest);
    // The secret is never shown (registry API, project summary).
    const sum = (await berth.admin.call('GET', '/projects/mirror/summary')).text;
    assert.ok(!sum.includes(upstream.adminPassword));
  });

  test('a blob streams to the client while it is fetched (proxy_speed_kb throttles upstream)', async () => {
    // 3 MiB at 4000 Kbps (500 KiB/s after Harbor's 1000 KiB burst): the fetch takes about 4 s.
    const img = await pushImage(upReg, 'vault/slow', 'v1', { layerSize: 3 * 1024 * 1024 });
    expectApi(await berth.admin.call('PUT', '/projects/mirror', { metadata: { proxy_speed_kb: '4000' } }), 200);
    try {
      const reg = new RegistryClient({ baseUrl: berth.berth.url, username: 'admin', password: berth.berth.adminPassword });
      const token = await reg.token(['repository:mirror/vault/slow:pull']);
      const layer = img.blobs[1]!;
      const t0 = Date.now();
      const { firstByteMs, totalMs, body, status } = await new Promise<{ firstByteMs: number; totalMs: number; body: Buffer; status: number }>((resolve, reject) => {
        const u = new URL(`${berth.berth.url}/v2/mirror/vault/slow/blobs/${layer.digest}`);
        const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: { authorization: `Bearer ${token}` } }, (res) => {
          const chunks: Buffer[] = [];
          let first = 0;
          res.on('data', (c: Buffer) => {
            if (!first) first = Date.now() - t0;
            chunks.push(c);
          });
          res.on('end', () => resolve({ firstByteMs: first, totalMs: Date.now() - t0, body: Buffer.concat(chunks), status: res.statusCode ?? 0 }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
      assert.ok(body.equals(layer.data), 'byte-identical');
      assert.ok(totalMs >= 2500, `the speed limit slows the fetch (${totalMs} ms)`);
      assert.ok(firstByteMs < totalMs - 1500, `first bytes arrive before the blob is whole (${firstByteMs} of ${totalMs} ms)`);
    } finally {
      expectApi(await berth.admin.call('PUT', '/projects/mirror', { metadata: { proxy_speed_kb: '0' } }), 200);
    }
  });

  test('a short upstream body leaves no trace; the next pull fetches the blob again, whole', async () => {
    const img = await pushImage(upReg, 'vault/cut', 'v1', { layerSize: 400_000 });
    const layer = img.blobs[1]!;
    const reg = new RegistryClient({ baseUrl: berth.berth.url, username: 'admin', password: berth.berth.adminPassword });
    counter.mode = 'truncate';
    try {
      const r = await reg.request('GET', `/v2/mirror/vault/cut/blobs/${layer.digest}`).catch((e: Error) => e);
      // Either the transfer breaks or the body is short: never the whole, verified blob.
      if (!(r instanceof Error)) assert.ok(r.body.length < layer.data.length, `short body (${r.body.length})`);
    } finally {
      counter.mode = 'forward';
    }
    // Give the failed fetch a moment to clean up, then: no link, no upload session, no spool file.
    await new Promise((res) => setTimeout(res, 500));
    const db = await openBerthDatabase(berth.berth);
    try {
      const links = await db.all(`SELECT 1 FROM repository_blobs l JOIN repositories r ON r.id = l.repository_id WHERE r.name = ? AND l.digest = ?`, ['mirror/vault/cut', layer.digest]);
      assert.equal(links.length, 0, 'no link to a blob that failed');
      const uploads = await db.all(`SELECT id FROM uploads WHERE repository_name = ?`, ['mirror/vault/cut']);
      assert.equal(uploads.length, 0, 'no upload session left');
    } finally {
      await db.close();
    }
    assert.deepEqual(readdirSync(join(berth.berth.dataDir, 'proxy-spool')), [], 'no spool left');
    const before = counter.count('GET', `/v2/vault/cut/blobs/${layer.digest}`);
    await assertSame(await pull('mirror/vault/cut', 'v1'), img);
    assert.ok(counter.count('GET', `/v2/vault/cut/blobs/${layer.digest}`) > before, 'fetched again');
  });

  test('the project quota applies to cached content: over it, the image is still served but not kept', async () => {
    const img = await pushImage(upReg, 'vault/huge', 'v1', { layerSize: 300_000 });
    expectApi(await berth.admin.call('POST', '/projects', { project_name: 'tiny', registry_id: ep, storage_limit: 100_000 }), 201);
    await assertSame(await pull('tiny/vault/huge', 'v1'), img);
    // The layer would exceed the quota: nothing is cached, usage stays within the limit.
    await new Promise((res) => setTimeout(res, 1000));
    expectApi(await berth.admin.call('GET', `/projects/tiny/repositories/${encodeURIComponent(encodeURIComponent('vault/huge'))}/artifacts/v1`), 404);
    const q = (await berth.admin.call('GET', '/projects/tiny/summary')).json().quota;
    assert.ok(q.used.storage <= 100_000, JSON.stringify(q));
    assert.deepEqual(readdirSync(join(berth.berth.dataDir, 'proxy-spool')), [], 'no spool left');
  });

  test('read-only mode: upstream content is passed through, nothing is stored', async () => {
    const img = await pushImage(upReg, 'vault/ro', 'v1', { layerSize: 200_000 });
    expectApi(await berth.admin.call('PUT', '/configurations', { read_only: true }), 200);
    try {
      await assertSame(await pull('mirror/vault/ro', 'v1'), img);
      await new Promise((res) => setTimeout(res, 1000));
      expectApi(await berth.admin.call('GET', `/projects/mirror/repositories/${encodeURIComponent(encodeURIComponent('vault/ro'))}/artifacts/v1`), 404);
      const db = await openBerthDatabase(berth.berth);
      try {
        assert.deepEqual(await db.all('SELECT id FROM repositories WHERE name = ?', ['mirror/vault/ro']), []);
      } finally {
        await db.close();
      }
    } finally {
      expectApi(await berth.admin.call('PUT', '/configurations', { read_only: false }), 200);
    }
    // Writable again: the next pull caches it.
    await assertSame(await pull('mirror/vault/ro', 'v1'), img);
    await waitCached(berth.admin, 'mirror', 'vault/ro', 'v1', img.digest);
  });
});
