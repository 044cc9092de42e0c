// Replication with Debian's docker-registry (CNCF Distribution 2.8, no referrers API): push-based Berth →
// docker-registry of a multi-arch index and its cosign-style signature tag (docker-registry adapter, byte-
// identical), then pull-based docker-registry → Berth into a new local project (namespace replaced).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useApi } from '../api/fixture.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushCosignSignature, pushIndex, pushImage, pushReferrer } from '../api/artifact-fixtures.ts';
import { createEndpoint, createPolicy, manifestAt, startReplication, waitExecution } from './helpers.ts';
import { startDockerRegistry, type DockerRegistry } from './peers.ts';

const berth = useApi({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
let peer: DockerRegistry;
before(async () => {
  peer = await startDockerRegistry();
});
after(async () => {
  await peer?.stop();
});

describe('replication with docker-registry', { timeout: 90_000 }, () => {
  test('push Berth → docker-registry, then pull docker-registry → Berth', async () => {
    const reg = new RegistryClient({ baseUrl: berth.berth.url, username: 'admin', password: berth.berth.adminPassword });
    const peerReg = new RegistryClient({ baseUrl: peer.url, auth: 'none' });
    await berth.admin.createProject('lib', false);
    const idx = await pushIndex(reg, 'lib/app', '1.0');
    await pushCosignSignature(reg, 'lib/app', idx.digest);
    const plain = await pushImage(reg, 'lib/tool', 'v3', { layerSize: 200_000 });
    const sbom = await pushReferrer(reg, 'lib/tool', { digest: plain.digest, size: plain.bytes.length }, 'application/vnd.example.sbom');
    const ep = await createEndpoint(berth.admin, { name: 'dr', type: 'docker-registry', url: peer.url });

    const push = await createPolicy(berth.admin, { name: 'to-dr', dest_registry: { id: ep }, trigger: { type: 'manual' }, filters: [{ type: 'name', value: 'lib/**' }], override: true, enabled: true });
    const e = await waitExecution(berth.admin, await startReplication(berth.admin, push));
    assert.equal(e.status, 'Succeed', JSON.stringify(e));
    assert.equal(e.total, 2);
    assert.ok((await manifestAt(peerReg, 'lib/app', '1.0'))?.equals(idx.bytes));
    for (const c of idx.children) assert.ok((await manifestAt(peerReg, 'lib/app', c.digest))?.equals(c.bytes));
    const sigTag = idx.digest.replace('sha256:', 'sha256-') + '.sig';
    assert.ok((await manifestAt(peerReg, 'lib/app', sigTag))?.equals((await manifestAt(reg, 'lib/app', sigTag))!));
    assert.ok((await manifestAt(peerReg, 'lib/tool', 'v3'))?.equals(plain.bytes));
    // docker-registry 2.8 has no referrers API: the referrer arrives with the fallback `sha256-<hex>` index.
    assert.ok(await manifestAt(peerReg, 'lib/tool', sbom));
    const fallback = JSON.parse((await manifestAt(peerReg, 'lib/tool', plain.digest.replace(':', '-')))!.toString('utf8'));
    assert.deepEqual(fallback.manifests.map((m: { digest: string; artifactType?: string }) => [m.digest, m.artifactType]), [[sbom, 'application/vnd.example.sbom']]);
    const blob = await peerReg.request('GET', `/v2/lib/tool/blobs/${plain.blobs[1]!.digest}`);
    assert.ok(blob.body.equals(plain.blobs[1]!.data), 'layer byte-identical');

    // A blob another repository of the project already has at the destination is mounted, not copied.
    for (const b of plain.blobs) await reg.pushBlob('lib/tool2', b.data);
    await reg.pushManifest('lib/tool2', 'v1', plain.bytes, 'application/vnd.oci.image.manifest.v1+json');
    const mp = await createPolicy(berth.admin, { name: 'mount', dest_registry: { id: ep }, trigger: { type: 'manual' }, filters: [{ type: 'name', value: 'lib/tool2' }], enabled: true });
    const mx = await startReplication(berth.admin, mp);
    assert.equal((await waitExecution(berth.admin, mx)).status, 'Succeed');
    const mt = (await berth.admin.call('GET', `/replication/executions/${mx}/tasks`)).json();
    const mlog = (await berth.admin.call('GET', `/replication/executions/${mx}/tasks/${mt[0].id}/log`)).text;
    assert.match(mlog, new RegExp(`blob ${plain.blobs[1]!.digest} mounted from lib/tool`));
    assert.ok((await peerReg.request('GET', `/v2/lib/tool2/blobs/${plain.blobs[1]!.digest}`)).body.equals(plain.blobs[1]!.data));

    // Pull-based: the remote is the source, Berth the destination; the project is created as Harbor does.
    const pull = await createPolicy(berth.admin, { name: 'from-dr', src_registry: { id: ep }, dest_namespace: 'pulled', trigger: { type: 'manual' }, filters: [{ type: 'name', value: 'lib/tool' }], override: true, enabled: true });
    const e2 = await waitExecution(berth.admin, await startReplication(berth.admin, pull));
    assert.equal(e2.status, 'Succeed', JSON.stringify(e2));
    assert.equal(e2.total, 1);
    const fresh = new RegistryClient({ baseUrl: berth.berth.url, username: 'admin', password: berth.berth.adminPassword });
    assert.ok((await manifestAt(fresh, 'pulled/tool', 'v3'))?.equals(plain.bytes));
    const art = await berth.admin.call('GET', '/projects/pulled/repositories/tool/artifacts/v3');
    assert.equal(art.status, 200, art.text);
    assert.equal(art.json().digest, plain.digest);
  });
});
