// Per-project storage quotas against a real Berth (GC grace 0, default limit from quota.default_storage_limit):
// usage counts a blob (and a manifest) once per project however many repositories link it; an upload that would exceed the
// limit is DENIED through /v2 with nothing committed; delete + GC frees usage; a mount into a full project is
// refused; after a scripted mix of pushes, mounts, copies, deletes and GC the usage equals the recomputed truth.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBlob, RegistryClient, digestOf } from '../helpers/registry-client.ts';
import type { ApiClient } from '../helpers/api-client.ts';
import { openBerthDatabase } from '../helpers/berth.ts';
import type { Db } from '../../src/db/db.ts';
import { expectApi, useApi } from './fixture.ts';

const DEFAULT_LIMIT = 50_000_000;
const f = useApi({ env: { BERTH_REGISTRY_GC_GRACE: '0', BERTH_QUOTA_DEFAULT_STORAGE_LIMIT: String(DEFAULT_LIMIT) } });

let opened: Db | null = null;
const database = async (): Promise<Db> =>
  (opened ??= await openBerthDatabase(f.berth));
after(async () => {
  await opened?.close();
});

const reg = () => new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });

async function createProject(name: string, storageLimit?: number): Promise<number> {
  const body: Record<string, unknown> = { project_name: name };
  if (storageLimit !== undefined) body.storage_limit = storageLimit;
  const r = await f.admin.call('POST', '/projects', body);
  expectApi(r, 201);
  return Number(r.headers.get('location')!.split('/').pop());
}

async function quota(id: number): Promise<{ hard: number; used: number }> {
  const r = await f.admin.call('GET', `/quotas/${id}`);
  expectApi(r, 200);
  const q = r.json();
  assert.equal(q.id, id);
  assert.equal(q.ref.id, id);
  return { hard: q.hard.storage, used: q.used.storage };
}

/**
 * The truth, recomputed in the test from the raw rows: distinct digests linked in the project's repositories,
 * plus distinct manifests stored in them.
 */
async function truth(projectId: number): Promise<number> {
  const db = await database();
  const rows = await db.all<{ digest: string; size: unknown }>(
    `SELECT rb.digest, b.size FROM repository_blobs rb JOIN repositories r ON r.id = rb.repository_id JOIN blobs b ON b.digest = rb.digest WHERE r.project_id = ?`,
    [projectId],
  );
  const manifests = await db.all<{ digest: string; size: unknown }>(
    'SELECT m.digest, m.size FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.project_id = ?',
    [projectId],
  );
  const seen = new Map<string, number>();
  for (const r of rows) seen.set(r.digest, Number(r.size));
  for (const r of manifests) seen.set('manifest ' + r.digest, Number(r.size));
  return [...seen.values()].reduce((a, b) => a + b, 0);
}

async function runGc(admin: ApiClient): Promise<void> {
  const r = await admin.call('POST', '/system/gc/schedule', { schedule: { type: 'Manual' }, parameters: { delete_untagged: false } });
  expectApi(r, 201);
  const id = Number((r.headers.get('location') ?? '').split('/').pop());
  for (let i = 0; i < 300; i++) {
    const h = (await admin.call('GET', `/system/gc/${id}`)).json();
    if (!['Pending', 'Running'].includes(h.job_status)) {
      assert.equal(h.job_status, 'Success', JSON.stringify(h));
      return;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error('gc did not finish');
}

/** A monolithic upload through /v2 (POST ?digest=); returns the response. */
async function upload(repo: string, data: Buffer) {
  return reg().request('POST', `/v2/${repo}/blobs/uploads/?digest=${digestOf(data)}`, { body: data, headers: { 'content-type': 'application/octet-stream' } });
}
/** A two-step upload (POST, then PUT ?digest=); returns the PUT's response and the session URL. */
async function uploadSession(repo: string, data: Buffer) {
  const c = reg();
  const loc = await c.openSession(repo);
  const put = await c.request('PUT', RegistryClient.withQuery(loc, { digest: digestOf(data) }), { body: data, headers: { 'content-type': 'application/octet-stream' } });
  return { put, loc };
}

test('sysadmin only; defaults from config; the list shows hard and used', async () => {
  await f.admin.createUser('q-dev', 'Passw0rd!x');
  const dev = f.admin.as('q-dev', 'Passw0rd!x');
  for (const [method, path, body] of [
    ['GET', '/quotas', undefined],
    ['GET', '/quotas/1', undefined],
    ['PUT', '/quotas/1', { hard: { storage: 1 } }],
  ] as const) {
    expectApi(await f.anon.call(method, path, body), 401, 'UNAUTHORIZED');
    expectApi(await dev.call(method, path, body), 403, 'FORBIDDEN');
  }
  const id = await createProject('q-default');
  assert.deepEqual(await quota(id), { hard: DEFAULT_LIMIT, used: 0 });
  const lib = (await f.admin.call('GET', '/quotas')).json().find((q: any) => q.ref.name === 'library');
  assert.equal(lib.hard.storage, DEFAULT_LIMIT);
  const unl = await createProject('q-unlimited', -1);
  assert.equal((await quota(unl)).hard, -1);
  expectApi(await f.admin.call('PUT', `/quotas/${id}`, { hard: { storage: -2 } }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('PUT', `/quotas/${id}`, { hard: { storage: '5' } }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('POST', '/projects', { project_name: 'q-bad', storage_limit: 1.5 }), 400, 'BAD_REQUEST');
  expectApi(await f.admin.call('PUT', '/quotas/999999', { hard: { storage: 5 } }), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('GET', '/quotas/999999'), 404, 'NOT_FOUND');
  expectApi(await f.admin.call('PUT', `/quotas/${id}`, { hard: { storage: 1234 } }), 200);
  assert.equal((await quota(id)).hard, 1234);
});

test("GET /quotas filters by Harbor's reference=project and reference_id (the project id)", async () => {
  const id = await createProject('q-filter');
  const one = await f.admin.call('GET', `/quotas?reference=project&reference_id=${id}`);
  expectApi(one, 200);
  assert.deepEqual(one.json().map((q: any) => q.ref.id), [id]);
  assert.equal(one.headers.get('x-total-count'), '1');
  assert.deepEqual((await f.admin.call('GET', `/quotas?reference_id=${id}&page=2`)).json(), []);
  for (const q of ['reference_id=999999', 'reference=registry', 'reference_id=abc', "reference_id=1'--"]) {
    const r = await f.admin.call('GET', `/quotas?${q}`);
    expectApi(r, 200);
    assert.deepEqual(r.json(), [], q);
    assert.equal(r.headers.get('x-total-count'), '0', q);
  }
});

test("GET /quotas sorts as Harbor: hard.storage (unlimited highest), used.storage, creation_time, update_time, - descending", async () => {
  const small = await createProject('q-sort-small', 1000);
  const big = await createProject('q-sort-big', 9_000_000);
  const unl = await createProject('q-sort-unl', -1);
  const data = randomBlob(3000);
  const r = await upload('q-sort-big/r', data);
  assert.equal(r.status, 201);
  const list = async (sort: string): Promise<any[]> => {
    const res = await f.admin.call('GET', `/quotas?sort=${encodeURIComponent(sort)}&page_size=100`);
    expectApi(res, 200);
    return res.json();
  };
  const mine = (qs: any[]) => qs.map((q) => q.ref.id).filter((id: number) => [small, big, unl].includes(id));
  assert.deepEqual(mine(await list('hard.storage')), [small, big, unl]);
  assert.deepEqual(mine(await list('-hard.storage')), [unl, big, small]);
  const byUsed = await list('-used.storage');
  assert.equal(mine(byUsed)[0], big);
  const used = byUsed.map((q) => q.used.storage);
  assert.deepEqual(used, [...used].sort((a, b) => b - a));
  assert.ok(used[0] >= data.length);
  assert.deepEqual(mine(await list('creation_time')), [small, big, unl]);
  const desc = (await list('-creation_time')).map((q) => Date.parse(q.creation_time));
  assert.deepEqual(desc, [...desc].sort((a, b) => b - a));
  expectApi(await f.admin.call('PUT', `/quotas/${small}`, { hard: { storage: 2000 } }), 200);
  assert.equal(mine(await list('-update_time'))[0], small);
  // Paging applies after sorting; the total is every quota.
  const all = await list('-hard.storage');
  const page2 = await f.admin.call('GET', '/quotas?sort=-hard.storage&page=2&page_size=1');
  assert.deepEqual(page2.json().map((q: any) => q.id), [all[1].id]);
  assert.equal(page2.headers.get('x-total-count'), String(all.length));
  // Not a sortable field: ignored, as Harbor's ORM does (the default order).
  const unsorted = await f.admin.call('GET', '/quotas?sort=name');
  expectApi(unsorted, 200);
  assert.deepEqual(unsorted.json().map((q: any) => q.id), (await f.admin.call('GET', '/quotas')).json().map((q: any) => q.id));
});

test('over the limit: DENIED with nothing committed; dedup within a project; delete + GC frees usage', async () => {
  const id = await createProject('qa', 10_000);
  const a = randomBlob(4000);
  assert.equal((await upload('qa/one', a)).status, 201);
  assert.equal((await upload('qa/two', a)).status, 201, 'the same blob in a second repository fits (counted once)');
  assert.equal((await quota(id)).used, 4000);

  const big = randomBlob(7000);
  for (const attempt of [() => upload('qa/one', big), async () => (await uploadSession('qa/three', big)).put]) {
    const r = await attempt();
    assert.equal(r.status, 403, String(r));
    const err = r.json<{ errors: { code: string; message: string }[] }>().errors[0];
    assert.equal(err.code, 'DENIED');
    assert.match(err.message, /quota/);
  }
  const { put, loc } = await uploadSession('qa/one', big);
  assert.equal(put.status, 403);
  assert.equal((await reg().request('GET', loc.toString())).status, 404, 'the refused session is gone');
  assert.equal((await reg().request('HEAD', `/v2/qa/one/blobs/${digestOf(big)}`)).status, 404, 'nothing was linked');
  assert.equal((await quota(id)).used, 4000);
  assert.equal(await truth(id), 4000);

  // A blob of the same project in another project counts there too.
  const other = await createProject('qa-other', 5000);
  assert.equal((await upload('qa-other/x', a)).status, 201);
  assert.equal((await quota(other)).used, 4000);
  assert.equal((await upload('qa-other/x', randomBlob(1001))).status, 403);

  // Unlinking and GC free the usage; then the big blob fits.
  assert.equal((await reg().request('DELETE', `/v2/qa/one/blobs/${digestOf(a)}`)).status, 202);
  assert.equal((await quota(id)).used, 4000, 'still linked in qa/two');
  await runGc(f.admin);
  assert.equal((await quota(id)).used, 0, 'GC removed the unreferenced links');
  assert.equal((await upload('qa/one', big)).status, 201);
  assert.equal((await quota(id)).used, 7000);
});

test('a mount into a full project is refused; a mount within the project or after raising the limit works', async () => {
  const id = await createProject('qb', 5000);
  const inside = randomBlob(4000);
  assert.equal((await upload('qb/x', inside)).status, 201);
  const outside = randomBlob(3000);
  assert.equal((await upload('library/q-src', outside)).status, 201);

  const mount = (target: string, digest: string, from: string) => reg().request('POST', `/v2/${target}/blobs/uploads/?mount=${digest}&from=${from}`);
  const refused = await mount('qb/x', digestOf(outside), 'library/q-src');
  assert.equal(refused.status, 403, String(refused));
  assert.equal(refused.json<any>().errors[0].code, 'DENIED');
  assert.equal((await reg().request('HEAD', `/v2/qb/x/blobs/${digestOf(outside)}`)).status, 404);
  assert.equal((await quota(id)).used, 4000);

  assert.equal((await mount('qb/y', digestOf(inside), 'qb/x')).status, 201, 'already counted in the project');
  assert.equal((await quota(id)).used, 4000);

  expectApi(await f.admin.call('PUT', `/quotas/${id}`, { hard: { storage: 7000 } }), 200);
  assert.equal((await mount('qb/x', digestOf(outside), 'library/q-src')).status, 201);
  assert.equal((await quota(id)).used, 7000);
  assert.equal(await truth(id), 7000);
});

test('usage after a scripted mix of pushes, mounts, copies, deletes and GC equals the recomputed truth', async () => {
  const id = await createProject('qm', 1_000_000);
  const c = reg();
  const check = async (what: string) => {
    const t = await truth(id);
    assert.equal((await quota(id)).used, t, `${what}: usage equals the recomputed truth`);
    return t;
  };
  const a = await c.pushImage('qm/a', 'v1', { layers: 2, layerSize: 3000 });
  const b = await c.pushImage('qm/b', 'v1', { layers: 1, layerSize: 5000 });
  await check('two images');
  assert.equal((await c.request('POST', `/v2/qm/b/blobs/uploads/?mount=${a.layers[0].digest}&from=qm/a`)).status, 201);
  assert.equal(await check('mount within the project'), 3000 * 2 + 5000 + a.config.size + b.config.size + a.bytes.length + b.bytes.length);
  const loose = randomBlob(2000);
  assert.equal((await upload('qm/c', loose)).status, 201);
  assert.equal((await upload('qm/a', loose)).status, 201);
  await check('a loose blob in two repositories');
  assert.equal((await c.request('DELETE', `/v2/qm/c/blobs/${digestOf(loose)}`)).status, 202);
  await check('one link of the loose blob deleted');
  // Copies (Harbor's artifact copy): within the project they add nothing; into another project they count there.
  const copy = (target: string, from: string) =>
    f.admin.call('POST', `/projects/${target.split('/')[0]}/repositories/${encodeURIComponent(encodeURIComponent(target.split('/').slice(1).join('/')))}/artifacts?from=${encodeURIComponent(from)}`);
  const beforeCopy = await check('before copies');
  expectApi(await copy('qm/a-copy', 'qm/a:v1'), 201);
  assert.equal(await check('copy within the project'), beforeCopy);
  const other = await createProject('qm-other', 1_000_000);
  expectApi(await copy('qm-other/b', `qm/b@${b.digest}`), 201);
  const otherUsed = (await quota(other)).used;
  assert.equal(otherUsed, await truth(other));
  assert.equal(otherUsed, 5000 + b.config.size + b.bytes.length, 'the copy counts in the target project');
  assert.equal((await c.request('DELETE', `/v2/qm/b/manifests/${b.digest}`)).status, 202);
  await runGc(f.admin);
  const after = await check('manifest deleted and GC');
  // Only image a (and its copy) remains referenced; the loose blob and b's blobs (and the mounted link in b) are gone.
  assert.equal(after, 3000 * 2 + a.config.size + a.bytes.length);
  assert.equal((await quota(other)).used, otherUsed, "b's copy in the other project is untouched by the delete in qm");
  assert.equal(await truth(other), otherUsed);
});

test('manifest bytes count: a manifest PUT over the limit is DENIED with nothing stored; warning and exceeded events are recorded', async () => {
  const c = reg();
  const id = await createProject('qmf', 10_000);
  const layer = randomBlob(7000);
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
  const cfg = await c.pushBlob('qmf/app', config);
  const lay = await c.pushBlob('qmf/app', layer);
  const used = (await quota(id)).used;
  assert.equal(used, 7000 + config.length);
  const manifest = (padding: number) => ({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: cfg.digest, size: cfg.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: lay.digest, size: lay.size }],
    annotations: { pad: 'x'.repeat(padding) },
  });
  // Too big for the room left: refused, no tag, no manifest row, usage unchanged.
  const tooBig = Buffer.from(JSON.stringify(manifest(10_000 - used)));
  const refused = await c.request('PUT', '/v2/qmf/app/manifests/v1', { body: tooBig, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
  assert.equal(refused.status, 403, String(refused));
  assert.equal(refused.json<any>().errors[0].code, 'DENIED');
  assert.match(refused.json<any>().errors[0].message, /manifest .*quota/);
  assert.equal((await c.request('GET', '/v2/qmf/app/manifests/v1')).status, 404);
  assert.equal((await c.request('GET', `/v2/qmf/app/manifests/${digestOf(tooBig)}`)).status, 404);
  // ...and no trace: the repository its blobs created is gone (not listed, not counted), and so are their links.
  const repos = await f.admin.call('GET', '/projects/qmf/repositories');
  expectApi(repos, 200);
  assert.deepEqual(repos.json(), []);
  assert.equal((await f.admin.call('GET', '/projects/qmf', undefined, { 'X-Is-Resource-Name': 'true' })).json().repo_count, 0);
  assert.equal((await quota(id)).used, 0);
  assert.equal((await c.request('HEAD', `/v2/qmf/app/blobs/${lay.digest}`)).status, 404);
  // A client retrying pushes its blobs again (docker checks each with HEAD first).
  await c.pushBlob('qmf/app', config);
  await c.pushBlob('qmf/app', layer);
  assert.equal((await quota(id)).used, used);
  // One that fits is stored and counted once, however many repositories and tags hold it.
  const fits = await c.pushManifest('qmf/app', 'v1', manifest(10));
  assert.equal((await quota(id)).used, used + fits.bytes.length);
  assert.equal((await c.request('PUT', '/v2/qmf/app/manifests/v2', { body: fits.bytes, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } })).status, 201);
  assert.equal((await quota(id)).used, used + fits.bytes.length);
  assert.equal(await truth(id), used + fits.bytes.length);
  // Usage is about 7.4 kB of 10 kB: a loose blob crosses 85% (one warning event), then one overflows.
  assert.equal((await upload('qmf/app', randomBlob(1500))).status, 201);
  assert.equal((await upload('qmf/app', randomBlob(5000))).status, 403);
  const events = async () =>
    (await database()).all<{ operation: string; resource_type: string; resource: string; project_id: unknown; detail: string }>(
      "SELECT operation, resource_type, resource, project_id, detail FROM audit_logs WHERE resource_type = 'quota' AND resource = 'qmf' ORDER BY id",
    );
  let rows = await events();
  for (let i = 0; i < 50 && rows.length < 3; i++) {
    await new Promise((r) => setTimeout(r, 50));
    rows = await events();
  }
  assert.deepEqual(rows.map((r) => r.operation), ['quota_exceed', 'quota_warning', 'quota_exceed'], JSON.stringify(rows));
  assert.ok(rows.every((r) => Number(r.project_id) === id));
  assert.match(rows[0].detail, /^manifest sha256:/);
  assert.match(rows[1].detail, /^blob sha256:.*warning at 85%/);
});

test('concurrent uploads into new repositories of one project never overshoot the limit', async () => {
  const id = await createProject('qc', 10_000);
  const results = await Promise.all(Array.from({ length: 6 }, (_, i) => upload(`qc/r${i}`, randomBlob(3000))));
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [201, 201, 201, 403, 403, 403], results.map(String).join('\n'));
  assert.equal((await quota(id)).used, 9000);
  assert.equal(await truth(id), 9000);
});

test("storage limits as Harbor's ValidateQuotaLimit: -1 unlimited, 0 / < -1 / over 1024 TiB refused with its texts; storage_limit 0 at create is the default", async () => {
  const id = await createProject('qlim', 0);
  assert.equal((await quota(id)).hard, DEFAULT_LIMIT, 'storage_limit 0 means "not given": the configured default');
  const put = (storage: unknown) => f.admin.call('PUT', `/quotas/${id}`, { hard: { storage } });
  for (const [v, message] of [
    [0, 'invalid non-positive value for quota limit, value=0'],
    [-2, 'invalid non-positive value for quota limit, value=-2'],
    [1125899906842625, 'exceeded 1024TB, which is 1125899906842624 Bytes, value=1125899906842625'],
  ] as const) {
    const r = await put(v);
    expectApi(r, 400, 'BAD_REQUEST');
    assert.equal(r.json().errors[0].message, message);
  }
  assert.equal((await quota(id)).hard, DEFAULT_LIMIT, 'refused updates change nothing');
  expectApi(await put(-1), 200);
  assert.equal((await quota(id)).hard, -1);
  expectApi(await put(1125899906842624), 200);
  assert.equal((await quota(id)).hard, 1125899906842624);
  const bad = await f.admin.call('POST', '/projects', { project_name: 'qlim2', storage_limit: -5 });
  expectApi(bad, 400, 'BAD_REQUEST');
  assert.equal(bad.json().errors[0].message, 'invalid non-positive value for quota limit, value=-5');
});
