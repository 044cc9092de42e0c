// Two Berth processes on one PostgreSQL database and one data directory, one proxy-cache project: concurrent
// first pulls of the same image through both. Each process fetches a blob at most once (the single flight is per
// process), both commits place the same verified bytes, every pull is byte-identical and so is the stored copy
// afterwards. Only meaningful on PostgreSQL (a deployment of several processes); on SQLite it is reported skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiClient } from '../helpers/api-client.ts';
import { startBerth, testDatabase, type Berth } from '../helpers/berth.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushImage } from '../api/artifact-fixtures.ts';
import { startDockerRegistry } from '../replication/peers.ts';
import { startCountingProxy, waitCached } from './helpers.ts';

const ENV = { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' };
const ACCEPT = 'application/vnd.oci.image.manifest.v1+json';

test(
  'two processes, one proxy-cache project: concurrent first pulls through both are byte-identical, each blob fetched at most once per process',
  { timeout: 180_000, skip: testDatabase() !== 'postgres' && 'needs two processes on one PostgreSQL: run with BERTH_TEST_DATABASE=postgres' },
  async () => {
    const peer = await startDockerRegistry();
    const counter = await startCountingProxy(peer.url);
    const a = await startBerth({ env: ENV });
    let b: Berth | null = null;
    try {
      b = await startBerth({ env: ENV, dataDir: a.dataDir, pgDatabase: a.pgDatabase! });
      const api = new ApiClient(a.url, 'admin', a.adminPassword);
      const r = await api.call('POST', '/registries', { name: 'up', type: 'docker-registry', url: counter.url });
      assert.equal(r.status, 201, r.text);
      const ep = Number(r.headers.get('location')!.split('/').pop());
      assert.equal((await api.call('POST', '/projects', { project_name: 'px', registry_id: ep })).status, 201);
      const img = await pushImage(new RegistryClient({ baseUrl: peer.url, auth: 'none' }), 'lib/img', 'v1', { layerSize: 8 * 1024 * 1024 });

      // Ten clients per process, each pulling the manifest and then every blob.
      const pullAll = async (berth: Berth) => {
        const reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
        const m = await reg.request('GET', '/v2/px/lib/img/manifests/v1', { headers: { accept: ACCEPT } });
        assert.equal(m.status, 200, m.text());
        assert.ok(m.body.equals(img.bytes));
        for (const blob of img.blobs) {
          const got = await reg.request('GET', `/v2/px/lib/img/blobs/${blob.digest}`);
          assert.equal(got.status, 200);
          assert.ok(got.body.equals(blob.data), `blob ${blob.digest} byte-identical`);
        }
      };
      await Promise.all([...Array.from({ length: 10 }, () => pullAll(a)), ...Array.from({ length: 10 }, () => pullAll(b!))]);
      for (const blob of img.blobs) {
        const n = counter.count('GET', `/v2/lib/img/blobs/${blob.digest}`);
        assert.ok(n >= 1 && n <= 2, `blob ${blob.digest} fetched ${n} times (at most once per process)`);
      }
      await waitCached(api, 'px', 'lib/img', 'v1', img.digest);
      // The stored copy is intact: served from the cache (upstream gone) by either process.
      await counter.stop();
      for (const berth of [a, b]) {
        const reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
        for (const blob of img.blobs) assert.ok((await reg.request('GET', `/v2/px/lib/img/blobs/${blob.digest}`)).body.equals(blob.data));
        assert.ok((await reg.request('GET', `/v2/px/lib/img/manifests/${img.digest}`, { headers: { accept: ACCEPT } })).body.equals(img.bytes));
      }
      for (const berth of [a, b]) assert.doesNotMatch(berth.output(), /"level":50|"level":60/, berth.output().slice(-3000));
    } finally {
      await b?.stop({ keepData: true });
      await a.stop();
      await counter.stop();
      await peer.stop();
    }
  },
);
