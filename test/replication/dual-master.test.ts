// Dual-master replication between two Berth processes (issue #14's acceptance): each side has an event-based
// policy and an anti-entropy policy towards the other, through TCP proxies the test can cut (a partition of the
// network, both processes keep serving their own clients). Connected: a push replicates once, nothing comes
// back (loop prevention). Partitioned: each side gets different tags and two conflicting ones. Healed: one
// anti-entropy cycle makes both tag→digest maps equal, the later push winning each conflict, with exactly one
// copy per differing tag; the push times arrive with the tags; further cycles copy nothing (no ping-pong).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectApi, useApi } from '../api/fixture.ts';
import type { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushImage } from '../api/artifact-fixtures.ts';
import { createEndpoint, createPolicy, eventually, startReplication, waitExecution } from './helpers.ts';
import { startCuttableProxy, type CuttableProxy } from './peers.ts';

const env = { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' };
const a = useApi({ env });
const b = useApi({ env });
let toA: CuttableProxy;
let toB: CuttableProxy;
after(async () => {
  await toA?.close();
  await toB?.close();
});

type TagMap = Record<string, { digest: string; push_time: number }>;
async function tagsOf(api: ApiClient, repo: string): Promise<TagMap> {
  const r = await api.call('GET', `/replication/peer/tags?repository=${encodeURIComponent(repo)}`);
  expectApi(r, 200);
  return Object.fromEntries(r.json().map((t: { tag: string; digest: string; push_time: number }) => [t.tag, { digest: t.digest, push_time: t.push_time }]));
}
const digests = (m: TagMap) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.digest]));

async function executions(api: ApiClient, policy: number): Promise<any[]> {
  const r = await api.call('GET', `/replication/executions?policy_id=${policy}&page_size=100`);
  expectApi(r, 200);
  return r.json();
}
async function settled(api: ApiClient, policy: number): Promise<void> {
  await eventually(`executions of policy ${policy} done`, async () => (await executions(api, policy)).every((e) => e.status !== 'InProgress'), 60_000);
}

describe('dual-master replication (anti-entropy)', { timeout: 180_000 }, () => {
  test('partition, divergent and conflicting pushes, heal: one cycle converges, the next copies nothing', async () => {
    toA = await startCuttableProxy(new URL(a.berth.url));
    toB = await startCuttableProxy(new URL(b.berth.url));
    const regA = new RegistryClient({ baseUrl: a.berth.url, username: 'admin', password: a.berth.adminPassword });
    const regB = new RegistryClient({ baseUrl: b.berth.url, username: 'admin', password: b.berth.adminPassword });
    await a.admin.createProject('lib', false);
    await b.admin.createProject('lib', false);
    const epB = await createEndpoint(a.admin, { name: 'b', type: 'harbor', url: toB.url, credential: { type: 'basic', access_key: 'admin', access_secret: b.berth.adminPassword } });
    const epA = await createEndpoint(b.admin, { name: 'a', type: 'harbor', url: toA.url, credential: { type: 'basic', access_key: 'admin', access_secret: a.berth.adminPassword } });

    // The mode's validation (Harbor's 400 shape).
    const bad = await a.admin.call('POST', '/replication/policies', { name: 'x', dest_registry: { id: epB }, mode: 'anti-entropy', trigger: { type: 'event_based' } });
    expectApi(bad, 400, 'BAD_REQUEST');
    expectApi(await a.admin.call('POST', '/replication/policies', { name: 'x', dest_registry: { id: epB }, mode: 'bogus' }), 400, 'BAD_REQUEST');
    expectApi(await a.admin.call('POST', '/replication/policies', { name: 'x', dest_registry: { id: epB }, mode: 'anti-entropy', dest_namespace: 'elsewhere' }), 400, 'BAD_REQUEST');

    const policies = async (api: ApiClient, ep: number) => ({
      events: await createPolicy(api, { name: 'events', dest_registry: { id: ep }, trigger: { type: 'event_based' }, filters: [{ type: 'name', value: 'lib/**' }], override: true, enabled: true }),
      ae: await createPolicy(api, { name: 'anti-entropy', dest_registry: { id: ep }, mode: 'anti-entropy', trigger: { type: 'scheduled', trigger_settings: { cron: '0 */5 * * * *' } }, filters: [{ type: 'name', value: 'lib/**' }], enabled: true }),
    });
    const pa = await policies(a.admin, epB);
    const pb = await policies(b.admin, epA);
    const got = await a.admin.call('GET', `/replication/policies/${pa.ae}`);
    assert.equal(got.json().mode, 'anti-entropy');
    // The cycle is a job-service schedule of the policy.
    const sched = (await a.admin.call('GET', '/schedules')).json().filter((x: { vendor_type: string; vendor_id: number }) => x.vendor_type === 'REPLICATION' && x.vendor_id === pa.ae);
    assert.deepEqual(sched.map((x: { cron: string }) => x.cron), ['0 */5 * * * *']);

    // Connected: a push on A reaches B by its event; B's event policy does not send it back.
    const v1 = await pushImage(regA, 'lib/app', 'v1');
    await eventually('v1 at B', async () => (await tagsOf(b.admin, 'lib/app')).v1?.digest === v1.digest);
    // (The copy puts the manifest by digest, then the tag: two pushes at B, each an event.)
    await eventually('B saw the replicated push', async () => (await executions(b.admin, pb.events)).length > 0);
    await settled(b.admin, pb.events);
    for (const back of await executions(b.admin, pb.events)) {
      assert.equal(back.status, 'Succeed');
      assert.equal(back.total, 0, 'what arrived from A is not sent back to A');
    }
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal((await executions(a.admin, pa.events)).length, 1, 'no ping-pong');
    // The push time travelled with the tag.
    assert.equal((await tagsOf(b.admin, 'lib/app')).v1!.push_time, (await tagsOf(a.admin, 'lib/app')).v1!.push_time);

    // Partition.
    toA.cut();
    toB.cut();
    const onlyA = await pushImage(regA, 'lib/app', 'only-a');
    const repoA = await pushImage(regA, 'lib/from-a', '1');
    const c1a = await pushImage(regA, 'lib/app', 'c1'); // older: loses
    const c2b = await pushImage(regB, 'lib/app', 'c2'); // older: loses
    await new Promise((r) => setTimeout(r, 30));
    const c1b = await pushImage(regB, 'lib/app', 'c1'); // later: wins
    const c2a = await pushImage(regA, 'lib/app', 'c2'); // later: wins
    const onlyB = await pushImage(regB, 'lib/app', 'only-b');
    assert.notEqual(c1a.digest, c1b.digest);
    // The event-based executions of the partition fail (after their retries); nothing crossed.
    await settled(a.admin, pa.events);
    await settled(b.admin, pb.events);
    assert.equal((await tagsOf(b.admin, 'lib/app'))['only-a'], undefined);
    assert.ok((await executions(a.admin, pa.events)).some((e) => e.status === 'Failed'));
    const lastId = async (api: ApiClient, policy: number) => Math.max(0, ...(await executions(api, policy)).map((x) => x.id));
    const beforeA = await lastId(a.admin, pa.events);
    const beforeB = await lastId(b.admin, pb.events);

    // Heal, and run A's anti-entropy cycle once.
    toA.heal();
    toB.heal();
    const ex = await startReplication(a.admin, pa.ae);
    const e = await waitExecution(a.admin, ex, 60_000);
    assert.equal(e.status, 'Succeed', JSON.stringify(e));
    // Bounded: one copy per differing tag — only-a, from-a:1, c2 (A wins) to B; only-b, c1 (B wins) to A.
    assert.equal(e.total, 5, JSON.stringify(e));
    const tasks = (await a.admin.call('GET', `/replication/executions/${ex}/tasks`)).json();
    assert.deepEqual(tasks.map((t: { src_resource: string }) => t.src_resource).sort(), ['lib/app:[c1]', 'lib/app:[c2]', 'lib/app:[only-a]', 'lib/app:[only-b]', 'lib/from-a:[1]']);

    for (const repo of ['lib/app', 'lib/from-a']) {
      const ma = await tagsOf(a.admin, repo);
      const mb = await tagsOf(b.admin, repo);
      assert.deepEqual(digests(ma), digests(mb), `${repo} converged`);
      assert.deepEqual(ma, mb, `${repo}: same push times on both sides`);
    }
    const app = digests(await tagsOf(a.admin, 'lib/app'));
    assert.deepEqual(app, { v1: v1.digest, 'only-a': onlyA.digest, 'only-b': onlyB.digest, c1: c1b.digest, c2: c2a.digest });
    assert.deepEqual(digests(await tagsOf(b.admin, 'lib/from-a')), { '1': repoA.digest });
    // The copied content is whole at both sides (blobs came along).
    assert.equal((await regA.request('GET', `/v2/lib/app/blobs/${onlyB.blobs[1]!.digest}`)).status, 200);
    assert.equal((await regB.request('GET', `/v2/lib/app/blobs/${onlyA.blobs[1]!.digest}`)).status, 200);

    // No ping-pong: B's cycle and A's second one copy nothing; the replicated pushes sent nothing back.
    const eb = await waitExecution(b.admin, await startReplication(b.admin, pb.ae), 60_000);
    assert.equal(eb.status, 'Succeed');
    assert.equal(eb.total, 0, JSON.stringify(eb));
    const e2 = await waitExecution(a.admin, await startReplication(a.admin, pa.ae), 60_000);
    assert.equal(e2.total, 0, JSON.stringify(e2));
    await new Promise((r) => setTimeout(r, 1500));
    await settled(a.admin, pa.events);
    await settled(b.admin, pb.events);
    const later = async (api: ApiClient, policy: number, after: number) => (await executions(api, policy)).filter((x) => x.id > after);
    for (const x of [...(await later(a.admin, pa.events, beforeA)), ...(await later(b.admin, pb.events, beforeB))]) assert.equal(x.total, 0, `event execution after heal copied: ${JSON.stringify(x)}`);
    assert.ok(!a.berth.output().includes(b.berth.adminPassword) && !b.berth.output().includes(a.berth.adminPassword), 'passwords never logged');
  });
});
