// Push replication Berth → CNCF Distribution v3.1.2 behind htpasswd (bcrypt) basic auth, docker-registry
// adapter: a multi-arch index with every child, its cosign-style signature tag and an OCI referrer arrive
// byte-identical; a wrong password makes the endpoint unhealthy (Harbor's 400); the password is never logged.
// Token auth is not tested: Distribution's token auth needs an issuer certificate bundle (Berth's token service
// signs with its own key), more setup than this peer is worth.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectApi, useApi } from '../api/fixture.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushCosignSignature, pushImage, pushIndex, pushReferrer } from '../api/artifact-fixtures.ts';
import { createEndpoint, createPolicy, manifestAt, startReplication, waitExecution } from './helpers.ts';
import { startDistribution, type DockerRegistry } from './peers.ts';

const basic = { username: 'repl', password: 'Distribution-Secret-9' };
const berth = useApi({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
let peer: DockerRegistry;
before(async () => {
  peer = await startDistribution({ basic });
});
after(async () => {
  await peer?.stop();
});

describe('replication to CNCF Distribution v3', { timeout: 90_000 }, () => {
  test('push Berth → Distribution v3 with basic auth', async () => {
    const reg = new RegistryClient({ baseUrl: berth.berth.url, username: 'admin', password: berth.berth.adminPassword });
    const peerReg = new RegistryClient({ baseUrl: peer.url, username: basic.username, password: basic.password, auth: 'basic' });
    assert.equal((await new RegistryClient({ baseUrl: peer.url, auth: 'none' }).request('GET', '/v2/')).status, 401, 'the peer wants credentials');
    await berth.admin.createProject('lib', false);
    const idx = await pushIndex(reg, 'lib/app', '1.0');
    await pushCosignSignature(reg, 'lib/app', idx.digest);
    const plain = await pushImage(reg, 'lib/tool', 'v3', { layerSize: 300_000 });
    const sbom = await pushReferrer(reg, 'lib/tool', { digest: plain.digest, size: plain.bytes.length }, 'application/vnd.example.sbom');

    const wrong = await berth.admin.call('POST', '/registries', { name: 'd3', type: 'docker-registry', url: peer.url, credential: { type: 'basic', access_key: basic.username, access_secret: 'wrong' } });
    expectApi(wrong, 400, 'BAD_REQUEST');
    const ep = await createEndpoint(berth.admin, { name: 'd3', type: 'docker-registry', url: peer.url, credential: { type: 'basic', access_key: basic.username, access_secret: basic.password } });
    const pid = await createPolicy(berth.admin, { name: 'to-d3', dest_registry: { id: ep }, trigger: { type: 'manual' }, filters: [{ type: 'name', value: 'lib/**' }], override: true, enabled: true });
    const e = await waitExecution(berth.admin, await startReplication(berth.admin, pid));
    assert.equal(e.status, 'Succeed', JSON.stringify(e));
    assert.equal(e.total, 2);
    assert.ok((await manifestAt(peerReg, 'lib/app', '1.0'))?.equals(idx.bytes), 'index byte-identical');
    for (const c of idx.children) assert.ok((await manifestAt(peerReg, 'lib/app', c.digest))?.equals(c.bytes), 'child byte-identical');
    const sigTag = idx.digest.replace('sha256:', 'sha256-') + '.sig';
    assert.ok((await manifestAt(peerReg, 'lib/app', sigTag))?.equals((await manifestAt(reg, 'lib/app', sigTag))!), 'signed at the destination');
    assert.ok((await manifestAt(peerReg, 'lib/tool', 'v3'))?.equals(plain.bytes));
    assert.ok(await manifestAt(peerReg, 'lib/tool', sbom), 'referrer arrived');
    const blob = await peerReg.request('GET', `/v2/lib/tool/blobs/${plain.blobs[1]!.digest}`);
    assert.ok(blob.body.equals(plain.blobs[1]!.data), 'layer byte-identical');
    // A second run moves nothing new and still succeeds.
    assert.equal((await waitExecution(berth.admin, await startReplication(berth.admin, pid))).status, 'Succeed');
    assert.ok(!berth.berth.output().includes(basic.password), 'password never logged');
  });
});
