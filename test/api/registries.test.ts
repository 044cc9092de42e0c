// Registry endpoints against a real Berth whose peer is a second real Berth: CRUD in Harbor's shapes, the secret
// never returned, loopback refused without the allowlist, ping of a live and a dead endpoint, adapters.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();
const g = useApi({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
const SECRET = 'Peer-Secret-9x';

describe('registries API', { timeout: 120_000 }, () => {
  test('loopback endpoint refused without the allowlist', async () => {
    const r = await f.admin.call('POST', '/registries', { name: 'peer', type: 'harbor', url: g.berth.url });
    expectApi(r, 400, 'BAD_REQUEST');
    assert.match(r.text, /registry URL refused: .*loopback.*outbound_allowlist/);
  });

  test('CRUD with a live Berth peer; secret masked; ping live and dead; adapters', async () => {
    const adapters = await g.admin.call('GET', '/replication/adapters');
    expectApi(adapters, 200);
    assert.deepEqual(adapters.json(), ['docker-registry', 'harbor', 'oci']);
    const infos = await g.admin.call('GET', '/replication/adapterinfos');
    expectApi(infos, 200);
    assert.deepEqual(Object.keys(infos.json()).sort(), ['docker-registry', 'harbor', 'oci']);

    const body = { name: 'peer', type: 'harbor', url: f.berth.url, credential: { type: 'basic', access_key: 'admin', access_secret: f.berth.adminPassword } };
    const c = await g.admin.call('POST', '/registries', body);
    expectApi(c, 201);
    const id = Number(c.headers.get('location')!.split('/').pop());
    expectApi(await g.admin.call('POST', '/registries', body), 409, 'CONFLICT');
    const got = await g.admin.call('GET', `/registries/${id}`);
    expectApi(got, 200);
    const v = got.json();
    assert.equal(v.credential.access_secret, '*****');
    assert.equal(v.status, 'healthy');
    assert.ok(!got.text.includes(f.berth.adminPassword));
    const list = await g.admin.call('GET', '/registries?q=name%3D~pe');
    expectApi(list, 200);
    assert.equal(list.headers.get('x-total-count'), '1');
    assert.ok(!list.text.includes(f.berth.adminPassword));
    const info = await g.admin.call('GET', `/registries/${id}/info`);
    expectApi(info, 200);
    assert.equal(info.json().type, 'harbor');
    expectApi(await g.admin.call('POST', '/registries/ping', { id }), 200);
    expectApi(await g.admin.call('POST', '/registries/ping', { type: 'harbor', url: 'http://127.0.0.1:1' }), 400, 'BAD_REQUEST');
    expectApi(await g.admin.call('PUT', `/registries/${id}`, { description: 'the other one' }), 200);
    // A GET → PUT round trip sends the mask back: the stored secret stays (the peer still accepts it).
    expectApi(await g.admin.call('PUT', `/registries/${id}`, { description: 'round trip', access_secret: v.credential.access_secret }), 200);
    expectApi(await g.admin.call('POST', '/registries/ping', { id }), 200);
    // A wrong secret fails the health check and changes nothing.
    expectApi(await g.admin.call('PUT', `/registries/${id}`, { access_secret: 'not-the-password' }), 400, 'BAD_REQUEST');
    expectApi(await g.admin.call('POST', '/registries/ping', { id }), 200);
    const audit = await g.admin.call('GET', '/audit-logs?page_size=100');
    expectApi(audit, 200);
    assert.match(audit.text, /registry/);
    assert.ok(!audit.text.includes(f.berth.adminPassword), 'the secret reached the audit log');
    assert.ok(!g.berth.output().includes(f.berth.adminPassword) && !f.berth.output().includes(f.berth.adminPassword), 'the secret reached a log');
    expectApi(await g.admin.call('GET', '/registries/99999'), 404, 'NOT_FOUND');
    expectApi(await g.admin.call('DELETE', `/registries/${id}`), 200);
    expectApi(await g.anon.call('GET', '/registries'), 401, 'UNAUTHORIZED');
  });
});
