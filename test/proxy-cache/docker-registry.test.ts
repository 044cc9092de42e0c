// Proxy-cache projects against a real upstream: Debian's docker-registry (CNCF Distribution) holding images the
// test pushes, reached through a counting HTTP proxy so the test sees every upstream request. Real clients
// (skopeo) pull through Berth: the first pull fills the cache byte-identically; 20 concurrent first pulls of one
// large image fetch each blob exactly once; a moved upstream tag is seen by the next pull; when upstream
// rate-limits or is gone, cached images keep pulling (and the audit log says so) while an uncached one fails
// with a message naming the upstream failure; pushes into the proxy project are refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { auditRows, expectApi, useApi } from '../api/fixture.ts';
import { openBerthDatabase } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushImage, pushIndex, type Pushed } from '../api/artifact-fixtures.ts';
import { createContainersEnv, makeTempDir, readLayoutBlob, readLayoutManifest, removeDir, type ContainersEnv } from '../helpers/clients.ts';
import { createEndpoint } from '../replication/helpers.ts';
import { startDockerRegistry, type DockerRegistry } from '../replication/peers.ts';
import { startCountingProxy, waitCached, type CountingProxy } from './helpers.ts';

const berth = useApi({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
let peer: DockerRegistry;
let counter: CountingProxy;
let cenv: ContainersEnv;
let work: string;


/** skopeo copy of `<repo>:<ref>` at Berth into a fresh OCI layout (allowFail: the result for the caller to check). */
async function pull(repo: string, ref: string, allowFail = false, all = false) {
  const layout = join(work, `${repo.replaceAll('/', '_')}-${ref.replaceAll(':', '_')}-${Math.random().toString(36).slice(2)}`);
  const sep = ref.includes(':') ? '@' : ':';
  const r = await cenv.skopeo(
    ['copy', ...(all ? ['--all'] : []), '--preserve-digests', '--src-tls-verify=false', '--src-creds', `admin:${berth.berth.adminPassword}`, `docker://${berth.berth.host}/${repo}${sep}${ref}`, `oci:${layout}:x`],
    { allowFail, timeoutMs: 180_000 },
  );
  return { ...r, layout };
}

/** The pulled layout holds exactly the pushed manifest and blobs, byte for byte. */
async function assertSame(layout: string, img: Pushed) {
  const m = await readLayoutManifest(layout, 'x');
  assert.equal(m.digest, img.digest);
  assert.ok(m.manifest.equals(img.bytes), 'manifest byte-identical');
  for (const b of img.blobs) assert.ok((await readLayoutBlob(layout, b.digest)).equals(b.data), `blob ${b.digest} byte-identical`);
}

describe('proxy cache with docker-registry upstream', { timeout: 600_000 }, () => {
  const up = () => new RegistryClient({ baseUrl: peer.url, auth: 'none' });
  let ep = 0;
  let app1: Pushed;
  let other: Pushed;
  let multi: Awaited<ReturnType<typeof pushIndex>>;
  // Inside the suite: the file's hooks (useApi's Berth) have run by then.
  before(async () => {
    peer = await startDockerRegistry();
    counter = await startCountingProxy(peer.url);
    cenv = await createContainersEnv({ insecureRegistries: [berth.berth.host] });
    work = makeTempDir('proxy-cache');
  });
  after(async () => {
    await cenv?.stop();
    await counter?.stop();
    await peer?.stop();
    if (work) removeDir(work);
  });

  test('a proxy-cache project: Harbor’s checks, registry_id shown and fixed, endpoint kept, push refused', async () => {
    ep = await createEndpoint(berth.admin, { name: 'upstream', type: 'docker-registry', url: counter.url });
    expectApi(await berth.admin.call('POST', '/projects', { project_name: 'p404', registry_id: 9999 }), 404, 'NOT_FOUND');
    expectApi(await berth.admin.call('POST', '/projects', { project_name: 'pbad', registry_id: -1 }), 400, 'BAD_REQUEST');
    expectApi(await berth.admin.call('POST', '/projects', { project_name: 'pbad', registry_id: ep, metadata: { proxy_speed_kb: 'fast' } }), 400, 'BAD_REQUEST');
    expectApi(await berth.admin.call('POST', '/projects', { project_name: 'proxy', registry_id: ep, metadata: { public: 'false' } }), 201);
    const p = (await berth.admin.call('GET', '/projects/proxy')).json();
    assert.equal(p.registry_id, ep);
    // Harbor's default retention for a proxy-cache project: what was pulled in the last 7 days stays.
    assert.ok(p.metadata.retention_id, JSON.stringify(p));
    const pol = (await berth.admin.call('GET', `/retentions/${p.metadata.retention_id}`)).json();
    assert.equal(pol.rules[0].template, 'nDaysSinceLastPull');
    assert.equal(pol.rules[0].params.nDaysSinceLastPull, 7);
    const sum = (await berth.admin.call('GET', '/projects/proxy/summary')).json();
    assert.equal(sum.registry.id, ep);
    assert.equal(sum.registry.credential, undefined);
    const normal = (await berth.admin.call('GET', '/projects/library')).json();
    assert.equal(normal.registry_id, undefined);
    // registry_id cannot change; the endpoint a proxy project uses cannot be deleted.
    expectApi(await berth.admin.call('PUT', '/projects/proxy', { registry_id: ep + 1, metadata: {} }), 400, 'BAD_REQUEST');
    expectApi(await berth.admin.call('PUT', '/projects/proxy', { registry_id: ep, metadata: { proxy_speed_kb: '0' } }), 200);
    expectApi(await berth.admin.call('DELETE', `/registries/${ep}`), 412, 'PRECONDITION');
    // Non-admins may not create one (Harbor's 403).
    const pw = 'Other-Pass-123';
    expectApi(await berth.admin.call('POST', '/users', { username: 'dev', email: 'dev@example.com', realname: 'dev', password: pw }), 201);
    expectApi(await new ApiClient(berth.berth.url, 'dev', pw).call('POST', '/projects', { project_name: 'mine', registry_id: ep }), 403, 'FORBIDDEN');

    // Push refused with Harbor's error, through a real client.
    const img = await pushImage(up(), 'lib/seed', 'v1');
    assert.ok(img.digest);
    const push = await cenv.skopeo(['copy', '--src-tls-verify=false', '--dest-tls-verify=false', '--dest-creds', `admin:${berth.berth.adminPassword}`, `docker://${peer.url.slice(7)}/lib/seed:v1`, `docker://${berth.berth.host}/proxy/lib/seed:v1`], { allowFail: true });
    assert.notEqual(push.code, 0);
    assert.match(push.stderr, /can not push artifact to a proxy project: proxy/);
  });

  test('first pull fills the cache, byte-identical; the next pull of the tag asks upstream only a HEAD', async () => {
    app1 = await pushImage(up(), 'lib/app', 'v1', { layerSize: 300_000 });
    other = await pushImage(up(), 'lib/other', 'v1');
    const r = await pull('proxy/lib/app', 'v1');
    await assertSame(r.layout, app1);
    const art = await waitCached(berth.admin, 'proxy', 'lib/app', 'v1', app1.digest);
    assert.deepEqual(art.tags.map((t: { name: string }) => t.name), ['v1']);
    // Recorded as a push by the proxy (events → audit log), as Harbor does.
    const rows = await auditRows(berth.berth, (rs) => rs.some((x) => x.operation === 'create' && x.resource.startsWith('proxy/lib/app')));
    assert.ok(rows.some((x) => x.username === 'harbor#proxy-cache-service' && x.resource.startsWith('proxy/lib/app')), JSON.stringify(rows.slice(0, 5)));
    const blobGets = app1.blobs.map((b) => counter.count('GET', `/v2/lib/app/blobs/${b.digest}`));
    const manifestGets = counter.count('GET', `/v2/lib/app/manifests/${app1.digest}`);
    const r2 = await pull('proxy/lib/app', 'v1');
    await assertSame(r2.layout, app1);
    assert.deepEqual(app1.blobs.map((b) => counter.count('GET', `/v2/lib/app/blobs/${b.digest}`)), blobGets, 'cached blobs are not fetched again');
    assert.equal(counter.count('GET', `/v2/lib/app/manifests/${app1.digest}`), manifestGets);
    assert.ok(counter.count('HEAD', '/v2/lib/app/manifests/v1') >= 2, 'the tag is checked with a HEAD');
  });

  test('20 concurrent first pulls of one large image fetch each blob exactly once from upstream', async () => {
    const big = await pushImage(up(), 'lib/big', 'v1', { layerSize: 24 * 1024 * 1024 });
    const results = await Promise.all(Array.from({ length: 20 }, () => pull('proxy/lib/big', 'v1')));
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    await assertSame(results[0]!.layout, big);
    await assertSame(results[19]!.layout, big);
    for (const b of big.blobs) assert.equal(counter.count('GET', `/v2/lib/big/blobs/${b.digest}`), 1, `blob ${b.digest} fetched once`);
    assert.equal(counter.count('GET', `/v2/lib/big/manifests/${big.digest}`), 1, 'manifest fetched once');
    await waitCached(berth.admin, 'proxy', 'lib/big', 'v1', big.digest);
  });

  test('upstream tag moved: the next pull sees the new digest and the cache follows', async () => {
    const moved = await pushImage(up(), 'lib/app', 'v1', { layerSize: 100_000 });
    assert.notEqual(moved.digest, app1.digest);
    const r = await pull('proxy/lib/app', 'v1');
    await assertSame(r.layout, moved);
    await waitCached(berth.admin, 'proxy', 'lib/app', 'v1', moved.digest);
    app1 = moved;
    // A new upstream tag on content already cached: only the tag is recorded, nothing is fetched again.
    await up().pushManifest('lib/app', 'stable', moved.bytes, 'application/vnd.oci.image.manifest.v1+json');
    const gets = counter.count('GET', `/v2/lib/app/manifests/${moved.digest}`);
    await assertSame((await pull('proxy/lib/app', 'stable')).layout, moved);
    assert.equal(counter.count('GET', `/v2/lib/app/manifests/${moved.digest}`), gets);
    const art = await waitCached(berth.admin, 'proxy', 'lib/app', 'stable', moved.digest);
    assert.deepEqual(art.tags.map((t: { name: string }) => t.name).sort(), ['stable', 'v1']);
  });

  test('a multi-arch index is cached whole: every platform, then the index with its tag', async () => {
    multi = await pushIndex(up(), 'lib/multi', '1.0');
    const r = await pull('proxy/lib/multi', '1.0', false, true);
    const m = await readLayoutManifest(r.layout, 'x');
    assert.equal(m.digest, multi.digest);
    assert.ok(m.manifest.equals(multi.bytes));
    for (const c of multi.children) for (const b of c.blobs) assert.ok((await readLayoutBlob(r.layout, b.digest)).equals(b.data));
    await waitCached(berth.admin, 'proxy', 'lib/multi', '1.0', multi.digest);
    for (const c of multi.children) await waitCached(berth.admin, 'proxy', 'lib/multi', c.digest, c.digest);
  });

  test('upstream rate-limits (429) or errors: the cache keeps serving, the audit log says so; uncached fails clearly', async () => {
    counter.mode = '429';
    try {
      const r = await pull('proxy/lib/app', 'v1');
      await assertSame(r.layout, app1);
      // Uncached while rate-limited: Docker's 429 TOOMANYREQUESTS passed on (clients back off and retry).
      const reg = new RegistryClient({ baseUrl: berth.berth.url, username: 'admin', password: berth.berth.adminPassword });
      const miss = await reg.request('GET', '/v2/proxy/lib/other/manifests/v1', { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(miss.status, 429, miss.text());
      assert.equal(miss.json().errors[0].code, 'TOOMANYREQUESTS');
      assert.match(miss.json().errors[0].message, /manifest v1 is not in the proxy cache and the upstream registry http:\/\/127\.0\.0\.1:\d+ failed: .*429/);
      counter.mode = '500';
      const r2 = await pull('proxy/lib/big', 'v1');
      assert.equal(r2.code, 0, r2.stderr);
    } finally {
      counter.mode = 'forward';
    }
    const rows = await auditRows(berth.berth, (rs) => rs.some((x) => x.resource_type === 'proxy_cache' && x.resource === 'proxy/lib/big:v1'));
    assert.ok(rows.some((x) => x.resource_type === 'proxy_cache' && x.resource === 'proxy/lib/app:v1' && x.operation === 'pull'), JSON.stringify(rows.slice(0, 5)));
    assert.ok(rows.some((x) => x.resource_type === 'proxy_cache' && x.resource === 'proxy/lib/big:v1'));
  });

  test('upstream stopped: cached images still pull (by tag and digest), an uncached one fails with the clear error', async () => {
    await counter.stop();
    try {
      const r = await pull('proxy/lib/app', 'v1');
      await assertSame(r.layout, app1);
      const byDigest = await pull('proxy/lib/app', app1.digest);
      await assertSame(byDigest.layout, app1);
      // The whole multi-arch index, every platform, from the cache.
      const idx = await pull('proxy/lib/multi', '1.0', false, true);
      assert.equal((await readLayoutManifest(idx.layout, 'x')).digest, multi.digest);
      for (const c of multi.children) for (const b of c.blobs) assert.ok((await readLayoutBlob(idx.layout, b.digest)).equals(b.data));
      const miss = await pull('proxy/lib/other', 'v1', true);
      assert.notEqual(miss.code, 0);
      assert.match(miss.stderr, /manifest unknown: manifest v1 is not in the proxy cache and the upstream registry http:\/\/127\.0\.0\.1:\d+ failed: .*(ECONNREFUSED|connect)/i);
      // Nothing half-made remains of the failed reference.
      expectApi(await berth.admin.call('GET', `/projects/proxy/repositories/${encodeURIComponent(encodeURIComponent('lib/other'))}/artifacts/v1`), 404);
      assert.ok(other.digest);
    } finally {
      await counter.start();
    }
    // Upstream back: the uncached image pulls through.
    const back = await pull('proxy/lib/other', 'v1');
    await assertSame(back.layout, other);
    await waitCached(berth.admin, 'proxy', 'lib/other', 'v1', other.digest);
  });

  test('cached content is the project’s content: a retention run deletes it (audit log), the next pull fetches it again', async () => {
    const p = (await berth.admin.call('GET', '/projects/proxy')).json();
    const id = Number(p.metadata.retention_id);
    // Keep only lib/app; everything else the proxy cached goes (every repository in scope, none retained there).
    const rule = (template: string, repo: string) => ({ disabled: false, action: 'retain', template, params: {}, tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }], scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: repo }] } });
    expectApi(await berth.admin.call('PUT', `/retentions/${id}`, { algorithm: 'or', rules: [rule('always', 'lib/app'), rule('nothing', '**')], trigger: { kind: 'Schedule', settings: { cron: '' }, references: {} }, scope: { level: 'project', ref: p.project_id } }), 200);
    const r = await berth.admin.call('POST', `/retentions/${id}/executions`, { dry_run: false });
    expectApi(r, 201);
    const eid = Number(r.headers.get('location')!.split('/').pop());
    const end = Date.now() + 60_000;
    for (;;) {
      const e = ((await berth.admin.call('GET', `/retentions/${id}/executions?page_size=0`)).json() as { id: number; status: string }[]).find((x) => x.id === eid)!;
      if (['Success', 'Error', 'Stopped'].includes(e.status)) {
        assert.equal(e.status, 'Success', JSON.stringify(e));
        break;
      }
      assert.ok(Date.now() < end, 'retention still running');
      await new Promise((res) => setTimeout(res, 200));
    }
    expectApi(await berth.admin.call('GET', `/projects/proxy/repositories/${encodeURIComponent(encodeURIComponent('lib/big'))}/artifacts/v1`), 404);
    await waitCached(berth.admin, 'proxy', 'lib/app', 'v1', app1.digest);
    const rows = await auditRows(berth.berth, (rs) => rs.some((x) => x.operation === 'delete' && x.resource.startsWith('proxy/lib/big')));
    assert.ok(rows.some((x) => x.operation === 'delete' && x.resource.startsWith('proxy/lib/big')), JSON.stringify(rows.slice(0, 5)));
    expectApi(await berth.admin.call('GET', `/projects/proxy/repositories/${encodeURIComponent(encodeURIComponent('lib/other'))}/artifacts/v1`), 404);
    const manifestGets = counter.count('GET', '/v2/lib/other/manifests/' + other.digest);
    const again = await pull('proxy/lib/other', 'v1');
    await assertSame(again.layout, other);
    assert.equal(counter.count('GET', '/v2/lib/other/manifests/' + other.digest), manifestGets + 1, 'fetched from upstream again');
    await waitCached(berth.admin, 'proxy', 'lib/other', 'v1', other.digest);
  });

  test('Docker Hub endpoints: a single-name repository is redirected to library/ (Harbor’s mapping)', async () => {
    const hub = await createEndpoint(berth.admin, { name: 'hub', type: 'docker-registry', url: counter.url });
    expectApi(await berth.admin.call('POST', '/projects', { project_name: 'dh', registry_id: hub, metadata: { public: 'true' } }), 201);
    // Registering Docker Hub itself needs the internet; the stored URL is what makes an endpoint Docker Hub.
    const db = await openBerthDatabase(berth.berth);
    try {
      await db.run('UPDATE registries SET url = ? WHERE id = ?', ['https://registry-1.docker.io', hub]);
    } finally {
      await db.close();
    }
    const reg = new RegistryClient({ baseUrl: berth.berth.url, username: 'admin', password: berth.berth.adminPassword });
    const m = await reg.request('GET', '/v2/dh/nginx/manifests/latest');
    assert.equal(m.status, 301, m.text());
    assert.equal(m.headers.get('location'), '/v2/dh/library/nginx/manifests/latest');
    const d = 'sha256:' + '0'.repeat(64);
    const b = await reg.request('GET', `/v2/dh/nginx/blobs/${d}`);
    assert.equal(b.status, 301);
    assert.equal(b.headers.get('location'), `/v2/dh/library/nginx/blobs/${d}`);
  });
});
