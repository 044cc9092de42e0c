// Push replication Berth → a second Berth process (harbor adapter): a multi-arch index with a cosign-style
// signature tag and an OCI referrer arrives byte-identical and signed; name/tag filters include/exclude; the
// policy API's validation and Harbor texts; an endpoint in use cannot be deleted; event-based push and
// deletion replication with Harbor's namespace flattening; the peer's password never in responses or logs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectApi, useApi } from '../api/fixture.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushCosignSignature, pushImage, pushIndex, pushReferrer } from '../api/artifact-fixtures.ts';
import { checkJson, HarborSpec } from '../contract/harbor-spec.ts';
import { createEndpoint, createPolicy, eventually, manifestAt, startReplication, waitExecution } from './helpers.ts';

const harbor = HarborSpec.load();
/** The JSON keys of a response are those of Harbor's 200 definition of the operation. */
function harborShape(operationId: string, value: unknown): void {
  const op = harbor.operations.find((o) => o.operationId === operationId)!;
  const problems: string[] = [];
  checkJson(harbor, value as never, op.responses.get('200'), `${operationId} `, problems, () => false);
  assert.deepEqual(problems, []);
}

const src = useApi({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
const dst = useApi();

describe('replication Berth → Berth', { timeout: 90_000 }, () => {
  let endpoint: number;
  let srcReg: RegistryClient;
  let dstReg: RegistryClient;

  test('manual push: index + children + .sig + referrer byte-identical; filters; counts; task log', async () => {
    srcReg = new RegistryClient({ baseUrl: src.berth.url, username: 'admin', password: src.berth.adminPassword });
    dstReg = new RegistryClient({ baseUrl: dst.berth.url, username: 'admin', password: dst.berth.adminPassword });
    await src.admin.createProject('lib', false);
    const idx = await pushIndex(srcReg, 'lib/app', '1.0');
    const sig = await pushCosignSignature(srcReg, 'lib/app', idx.digest);
    const ref = await pushReferrer(srcReg, 'lib/app', { digest: idx.children[0]!.digest, size: idx.children[0]!.bytes.length }, 'application/vnd.example.sbom');
    await pushImage(srcReg, 'lib/app', 'skip-me');
    await pushImage(srcReg, 'lib/other', '2.0');

    endpoint = await createEndpoint(src.admin, { name: 'dst', type: 'harbor', url: dst.berth.url, credential: { type: 'basic', access_key: 'admin', access_secret: dst.berth.adminPassword } });
    const bad = await src.admin.call('POST', '/replication/policies', { name: 'x', trigger: { type: 'manual' } });
    expectApi(bad, 400, 'BAD_REQUEST');
    assert.match(bad.text, /either src_registry or dest_registry should be empty and the other one shouldn't be empty/);
    const badCron = await src.admin.call('POST', '/replication/policies', { name: 'x', dest_registry: { id: endpoint }, trigger: { type: 'scheduled', trigger_settings: { cron: '0 * * * * *' } } });
    expectApi(badCron, 400, 'BAD_REQUEST');
    assert.match(badCron.text, /\* is not allowed for the Minutes field/);
    expectApi(await src.anon.call('GET', '/replication/policies'), 401, 'UNAUTHORIZED');

    const pid = await createPolicy(src.admin, {
      name: 'to-dst',
      dest_registry: { id: endpoint },
      trigger: { type: 'manual' },
      filters: [
        { type: 'name', value: 'lib/app' },
        { type: 'tag', value: 'skip-*', decoration: 'excludes' },
      ],
      override: true,
      enabled: true,
      copy_by_chunk: true,
    });
    expectApi(await src.admin.call('POST', '/replication/policies', { name: 'to-dst', dest_registry: { id: endpoint } }), 409, 'CONFLICT');
    const got = await src.admin.call('GET', `/replication/policies/${pid}`);
    expectApi(got, 200);
    harborShape('getReplicationPolicy', got.json());
    harborShape('listReplicationPolicies', (await src.admin.call('GET', '/replication/policies')).json());
    assert.equal(got.json().dest_registry.id, endpoint);
    assert.equal(got.json().src_registry, null);
    assert.equal(got.json().dest_registry.credential.access_secret, '*****');
    assert.ok(!got.text.includes(dst.berth.adminPassword));
    // In use: Harbor's 412 text.
    const del = await src.admin.call('DELETE', `/registries/${endpoint}`);
    expectApi(del, 412, 'PRECONDITION');
    assert.match(del.text, new RegExp(`the registry ${endpoint} is referenced by replication policies, cannot delete it`));

    const ex = await startReplication(src.admin, pid);
    const e = await waitExecution(src.admin, ex);
    assert.equal(e.status, 'Succeed', JSON.stringify(e));
    harborShape('getReplicationExecution', e);
    assert.equal(e.total, 1);
    assert.equal(e.succeed, 1);
    assert.equal(e.failed, 0);
    assert.equal(e.trigger, 'manual');

    assert.ok((await manifestAt(dstReg, 'lib/app', '1.0'))?.equals(idx.bytes), 'index byte-identical');
    for (const c of idx.children) assert.ok((await manifestAt(dstReg, 'lib/app', c.digest))?.equals(c.bytes), 'child byte-identical');
    const sigTag = idx.digest.replace('sha256:', 'sha256-') + '.sig';
    const srcSig = await manifestAt(srcReg, 'lib/app', sigTag);
    assert.ok((await manifestAt(dstReg, 'lib/app', sigTag))?.equals(srcSig!), 'signature arrived');
    assert.ok(await manifestAt(dstReg, 'lib/app', sig));
    assert.ok(await manifestAt(dstReg, 'lib/app', ref), 'referrer arrived');
    const refs = await dstReg.request('GET', `/v2/lib/app/referrers/${idx.children[0]!.digest}`);
    assert.deepEqual(refs.json().manifests.map((m: { digest: string }) => m.digest), [ref]);
    assert.equal(await manifestAt(dstReg, 'lib/app', 'skip-me'), null, 'excluded tag not copied');
    assert.equal(await manifestAt(dstReg, 'lib/other', '2.0'), null, 'name filter');

    const tasks = await src.admin.call('GET', `/replication/executions/${ex}/tasks`);
    expectApi(tasks, 200);
    const t = tasks.json();
    harborShape('listReplicationTasks', t);
    assert.equal(t.length, 1);
    assert.equal(t[0].status, 'Succeed');
    assert.equal(t[0].src_resource, 'lib/app:[1.0]');
    assert.equal(t[0].operation, 'copy');
    const log = await src.admin.call('GET', `/replication/executions/${ex}/tasks/${t[0].id}/log`);
    expectApi(log, 200);
    assert.match(log.text, /manifest sha256:[0-9a-f]{64} copied/);
    assert.match(log.text, /accessory sha256-[0-9a-f]{64}\.sig copied/);
    assert.ok(!log.text.includes(dst.berth.adminPassword));
    const list = await src.admin.call('GET', `/replication/executions?policy_id=${pid}`);
    expectApi(list, 200);
    assert.equal(list.json().length, 1);
    harborShape('listReplicationExecutions', list.json());
    expectApi(await src.admin.call('GET', `/replication/executions/${ex}/tasks/999999/log`), 404, 'NOT_FOUND');
    expectApi(await src.admin.call('GET', '/replication/executions/999999'), 404, 'NOT_FOUND');

    // Scheduled: the policy's cron becomes a job-service schedule (vendor REPLICATION, id = policy); manual removes it.
    const sp = await createPolicy(src.admin, { name: 'nightly', dest_registry: { id: endpoint }, trigger: { type: 'scheduled', trigger_settings: { cron: '0 0 3 * * *' } }, enabled: true });
    const sched = () => src.admin.call('GET', '/schedules').then((r) => r.json().filter((x: { vendor_type: string; vendor_id: number }) => x.vendor_type === 'REPLICATION' && x.vendor_id === sp));
    assert.deepEqual((await sched()).map((x: { cron: string }) => x.cron), ['0 0 3 * * *']);
    expectApi(await src.admin.call('PUT', `/replication/policies/${sp}`, { trigger: { type: 'manual' } }), 200);
    assert.deepEqual(await sched(), []);
    expectApi(await src.admin.call('DELETE', `/replication/policies/${sp}`), 200);
    // Label filters take Harbor's list of names; a pull-based policy cannot filter on the remote's labels.
    expectApi(await src.admin.call('POST', '/replication/policies', { name: 'lbl', dest_registry: { id: endpoint }, filters: [{ type: 'label', value: 'x' }] }), 400, 'BAD_REQUEST');
    expectApi(await src.admin.call('POST', '/replication/policies', { name: 'lbl', src_registry: { id: endpoint }, filters: [{ type: 'label', value: ['x'] }] }), 400, 'BAD_REQUEST');

    // A second run: nothing new to copy, still one task, still Succeed (blobs and manifests skipped by HEAD).
    const e2 = await waitExecution(src.admin, await startReplication(src.admin, pid));
    assert.equal(e2.status, 'Succeed');
  });

  test('label filters: artifacts carrying all the labels (matches) or not (excludes); labels stay at the source', async () => {
    const l1 = await src.admin.call('POST', '/labels', { name: 'release', scope: 'g', color: '#00FF00' });
    expectApi(l1, 201);
    const l2 = await src.admin.call('POST', '/labels', { name: 'lts', scope: 'g' });
    expectApi(l2, 201);
    const [release, lts] = [l1, l2].map((r) => Number(r.headers.get('location')!.split('/').pop()));
    const both = await pushImage(srcReg, 'lib/lbl', 'both');
    const one = await pushImage(srcReg, 'lib/lbl', 'one');
    const none = await pushImage(srcReg, 'lib/lbl', 'none');
    const attach = async (tag: string, id: number) => expectApi(await src.admin.call('POST', `/projects/lib/repositories/lbl/artifacts/${tag}/labels`, { id }), 200);
    await attach('both', release);
    await attach('both', lts);
    await attach('one', release);
    const run = async (name: string, decoration: string, ns: string) => {
      const pid = await createPolicy(src.admin, { name, dest_registry: { id: endpoint }, dest_namespace: ns, trigger: { type: 'manual' }, filters: [{ type: 'name', value: 'lib/lbl' }, { type: 'label', value: ['release', 'lts'], decoration }], enabled: true });
      const e = await waitExecution(src.admin, await startReplication(src.admin, pid));
      assert.equal(e.status, 'Succeed', JSON.stringify(e));
      return e;
    };
    const fresh = () => new RegistryClient({ baseUrl: dst.berth.url, username: 'admin', password: dst.berth.adminPassword });
    const m = await run('labels-match', 'matches', 'lblmatch');
    assert.equal(m.total, 1);
    assert.ok((await manifestAt(fresh(), 'lblmatch/lbl', 'both'))?.equals(both.bytes));
    assert.equal(await manifestAt(fresh(), 'lblmatch/lbl', 'one'), null, 'one of the two labels only');
    const x = await run('labels-exclude', 'excludes', 'lblexcl');
    assert.equal(x.total, 2);
    assert.ok((await manifestAt(fresh(), 'lblexcl/lbl', 'one'))?.equals(one.bytes));
    assert.ok((await manifestAt(fresh(), 'lblexcl/lbl', 'none'))?.equals(none.bytes));
    assert.equal(await manifestAt(fresh(), 'lblexcl/lbl', 'both'), null);
    // As Harbor's replication, labels are not copied (they are the source registry's metadata).
    const art = await dst.admin.call('GET', '/projects/lblmatch/repositories/lbl/artifacts/both?with_label=true');
    expectApi(art, 200);
    assert.deepEqual(art.json().labels ?? [], []);
  });

  test('event-based: a push replicates without a trigger; a delete is replicated; flattening', async () => {
    const pid = await createPolicy(src.admin, {
      name: 'events',
      dest_registry: { id: endpoint },
      dest_namespace: 'mirror',
      dest_namespace_replace_count: 1,
      trigger: { type: 'event_based' },
      filters: [{ type: 'name', value: 'lib/evt/**' }],
      replicate_deletion: true,
      override: true,
      enabled: true,
    });
    const img = await pushImage(srcReg, 'lib/evt/deep', 'v1');
    // A fresh client per look: a token issued before the project existed carries no access and would be reused.
    const fresh = () => new RegistryClient({ baseUrl: dst.berth.url, username: 'admin', password: dst.berth.adminPassword });
    await eventually('the pushed image at the destination', async () => !!(await manifestAt(fresh(), 'mirror/evt/deep', 'v1')));
    assert.ok((await manifestAt(fresh(), 'mirror/evt/deep', img.digest))?.equals(img.bytes));
    const list = await src.admin.call('GET', `/replication/executions?policy_id=${pid}`);
    assert.equal(list.json()[0].trigger, 'event_based');

    const repoPath = `/projects/lib/repositories/${encodeURIComponent(encodeURIComponent('evt/deep'))}`;
    // A signature pushed later replicates by itself (its own push event).
    await pushCosignSignature(srcReg, 'lib/evt/deep', img.digest);
    const sigTag = img.digest.replace('sha256:', 'sha256-') + '.sig';
    await eventually('the later signature at the destination', async () => !!(await manifestAt(fresh(), 'mirror/evt/deep', sigTag)));
    // A second tag, then a tag delete: only that tag goes at the destination.
    await srcReg.pushManifest('lib/evt/deep', 'v1b', img.bytes, 'application/vnd.oci.image.manifest.v1+json');
    await eventually('the second tag at the destination', async () => !!(await manifestAt(fresh(), 'mirror/evt/deep', 'v1b')));
    expectApi(await src.admin.call('DELETE', `${repoPath}/artifacts/${img.digest}/tags/v1b`), 200);
    await eventually('the tag deletion at the destination', async () => (await manifestAt(fresh(), 'mirror/evt/deep', 'v1b')) === null);
    assert.ok(await manifestAt(fresh(), 'mirror/evt/deep', 'v1'), 'the other tag stays');

    const d = await src.admin.call('DELETE', `${repoPath}/artifacts/${img.digest}`);
    expectApi(d, 200);
    await eventually('the deletion at the destination', async () => (await manifestAt(fresh(), 'mirror/evt/deep', img.digest)) === null);

    // Disabled: no more event executions; and the policy can be deleted.
    expectApi(await src.admin.call('PUT', `/replication/policies/${pid}`, { enabled: false }), 200);
    await pushImage(srcReg, 'lib/evt/deep', 'v2');
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(await manifestAt(fresh(), 'mirror/evt/deep', 'v2'), null);
    expectApi(await src.admin.call('DELETE', `/replication/policies/${pid}`), 200);
    expectApi(await src.admin.call('GET', `/replication/policies/${pid}`), 404, 'NOT_FOUND');
    assert.ok(!src.berth.output().includes(dst.berth.adminPassword), 'password never logged');
  });
});
