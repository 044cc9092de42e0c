// Faults with real processes: the destination Berth is SIGKILLed mid-transfer (the transfer slowed by the
// policy's speed limit) → the task fails, is retried by the job service, and once the destination is back the
// artifact ends complete and byte-identical. Stop mid-transfer ends the execution Stopped with no manifest at
// the destination (manifest last). single_active_replication refuses a second run meanwhile.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { expectApi, useApi } from '../api/fixture.ts';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushImage } from '../api/artifact-fixtures.ts';
import { createEndpoint, createPolicy, eventually, manifestAt, startReplication, waitExecution } from './helpers.ts';

const src = useApi({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
let dst: Berth;
after(async () => {
  await dst?.stop();
});

const LAYER = 3 * 1024 * 1024;

describe('replication faults', { timeout: 90_000 }, () => {
  test('destination killed mid-transfer → retried → complete and byte-identical', async () => {
    dst = await startBerth();
    const reg = new RegistryClient({ baseUrl: src.berth.url, username: 'admin', password: src.berth.adminPassword });
    await src.admin.createProject('big', false);
    const img = await pushImage(reg, 'big/app', '1', { layerSize: LAYER });
    const ep = await createEndpoint(src.admin, { name: 'dst', type: 'harbor', url: dst.url, credential: { type: 'basic', access_key: 'admin', access_secret: dst.adminPassword } });
    // 1024 KB/s: the 3 MiB layer takes ~3 s, time enough to kill the destination in the middle.
    const pid = await createPolicy(src.admin, { name: 'slow', dest_registry: { id: ep }, trigger: { type: 'event_based' }, speed: 1024, override: true, enabled: true, single_active_replication: true });
    const ex = await startReplication(src.admin, pid);
    await eventually('the copy task running', async () => {
      const t = (await src.admin.call('GET', `/replication/executions/${ex}/tasks`)).json();
      return t.length === 1 && t[0].status === 'InProgress';
    });
    expectApi(await src.admin.call('POST', '/replication/executions', { policy_id: pid }), 412, 'PRECONDITION');
    // An event-based run meanwhile is skipped (single_active_replication): it ends with no task.
    await pushImage(reg, 'big/late', '1');
    await eventually('the skipped event execution', async () => {
      const l = (await src.admin.call('GET', `/replication/executions?policy_id=${pid}`)).json();
      return l.some((x: { trigger: string; status: string; total: number }) => x.trigger === 'event_based' && x.status === 'Succeed' && x.total === 0);
    }, 5000);
    await new Promise((r) => setTimeout(r, 1200));
    await dst.kill9();
    await new Promise((r) => setTimeout(r, 1500));
    dst = await dst.restart();
    const e = await waitExecution(src.admin, ex, 60_000);
    assert.equal(e.status, 'Succeed', JSON.stringify(e));
    const tasks = (await src.admin.call('GET', `/replication/executions/${ex}/tasks`)).json();
    const log = await src.admin.call('GET', `/replication/executions/${ex}/tasks/${tasks[0].id}/log`);
    // The kill made an attempt fail; the job service retried it.
    assert.match(log.text, /attempt 1 failed: .*; retrying in \d+ ms/);
    assert.match(log.text, /attempt 2 of 5/);
    assert.ok(!log.text.includes(dst.adminPassword));
    const dreg = new RegistryClient({ baseUrl: dst.url, username: 'admin', password: dst.adminPassword });
    assert.ok((await manifestAt(dreg, 'big/app', '1'))?.equals(img.bytes));
    const blob = await dreg.request('GET', `/v2/big/app/blobs/${img.blobs[1]!.digest}`);
    assert.ok(blob.body.equals(img.blobs[1]!.data), 'layer byte-identical');
    assert.ok(!src.berth.output().includes(dst.adminPassword));
    // Off, so the next test's push is not replicated by this event-based policy.
    expectApi(await src.admin.call('PUT', `/replication/policies/${pid}`, { enabled: false }), 200);
  });

  test('stop mid-transfer: Stopped, and no half-copied artifact at the destination', async () => {
    const reg = new RegistryClient({ baseUrl: src.berth.url, username: 'admin', password: src.berth.adminPassword });
    const img = await pushImage(reg, 'big/other', '1', { layerSize: LAYER });
    const ep = Number((await src.admin.call('GET', '/registries')).json()[0].id);
    const pid = await createPolicy(src.admin, { name: 'slow2', dest_registry: { id: ep }, trigger: { type: 'manual' }, speed: 512, filters: [{ type: 'name', value: 'big/other' }], enabled: true });
    const ex = await startReplication(src.admin, pid);
    await eventually('the copy task running', async () => {
      const t = (await src.admin.call('GET', `/replication/executions/${ex}/tasks`)).json();
      return t.length === 1 && t[0].status === 'InProgress';
    });
    await new Promise((r) => setTimeout(r, 800));
    expectApi(await src.admin.call('PUT', `/replication/executions/${ex}`, {}), 200);
    const e = await waitExecution(src.admin, ex, 15_000);
    assert.equal(e.status, 'Stopped', JSON.stringify(e));
    assert.equal(e.stopped, 1);
    const dreg = new RegistryClient({ baseUrl: dst.url, username: 'admin', password: dst.adminPassword });
    assert.equal(await manifestAt(dreg, 'big/other', img.digest), null);
  });
});
