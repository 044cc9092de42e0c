// GC with delete_untagged under the default-style grace (registry.gc_grace 3600 s): untagged manifests younger
// than the grace are kept on purpose, and the job log and the API result say how many and why (issue #12: "deletes
// 0 of 2 untagged artifacts" with no word about it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RegistryClient } from '../helpers/registry-client.ts';
import { expectApi, useApi } from './fixture.ts';

const f = useApi({ env: { BERTH_REGISTRY_GC_GRACE: '3600' } });

test('untagged manifests inside the grace are kept, and the log and job_parameters say so', async () => {
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  // The same tag pushed three times: the first two manifests become untagged.
  for (let i = 0; i < 3; i++) await reg.pushImage('library/gc-grace', 'v1', { layers: 1 });
  const arts = (await f.admin.call('GET', '/projects/library/repositories/gc-grace/artifacts?with_tag=true')).json() as { tags: unknown[] | null }[];
  assert.equal(arts.filter((a) => !a.tags?.length).length, 2, 'two untagged artifacts before GC');

  const r = await f.admin.call('POST', '/system/gc/schedule', { schedule: { type: 'Manual' }, parameters: { delete_untagged: true } });
  expectApi(r, 201);
  const id = Number(r.headers.get('location')!.split('/').pop());
  let h: any;
  for (let i = 0; i < 300; i++) {
    h = (await f.admin.call('GET', `/system/gc/${id}`)).json();
    if (!['Pending', 'Running'].includes(h.job_status)) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(h.job_status, 'Success');
  const p = JSON.parse(h.job_parameters);
  assert.equal(p.purged_manifests, 0);
  assert.equal(p.untagged_kept_in_grace, 2);
  assert.equal(p.gc_grace_seconds, 3600);
  const log = await f.admin.call('GET', `/system/gc/${id}/log`);
  expectApi(log, 200);
  assert.match(log.text, /kept 2 untagged manifests younger than the grace period of 3600 s \(registry\.gc_grace\): the grace protects pushes in flight/);
  const after = (await f.admin.call('GET', '/projects/library/repositories/gc-grace/artifacts')).json() as unknown[];
  assert.equal(after.length, 3, 'nothing was deleted');

  // Without delete_untagged nothing is said about untagged manifests.
  const plain = await f.admin.call('POST', '/system/gc/schedule', { schedule: { type: 'Manual' }, parameters: { dry_run: true } });
  expectApi(plain, 201);
  const pid = Number(plain.headers.get('location')!.split('/').pop());
  for (let i = 0; i < 300; i++) {
    h = (await f.admin.call('GET', `/system/gc/${pid}`)).json();
    if (!['Pending', 'Running'].includes(h.job_status)) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  assert.equal(JSON.parse(h.job_parameters).untagged_kept_in_grace, undefined);
});
