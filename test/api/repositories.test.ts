// /api/v2.0 repositories against a real Berth: per-project and global lists (who sees what), counts, the
// double-encoded names Harbor clients send, description updates (read-only fields ignored, XSS kept as data),
// delete with every artifact (the manifests are gone from /v2), pagination headers and q/sort validation.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { RegistryClient } from '../helpers/registry-client.ts';
import { auditRows, expectApi, useApi, type AuditRowView } from './fixture.ts';
import { pushImage, pushIndex } from './artifact-fixtures.ts';

const f = useApi();
const sfx = randomBytes(3).toString('hex');
const PUB = `pub-${sfx}`;
const PRIV = `priv-${sfx}`;
const HIDDEN = `hidden-${sfx}`;
const PASSWORD = 'Repo-Passw0rd!';
const reg = () => new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });

describe('repositories API', { timeout: 120_000 }, () => {
  before(async () => {
    await f.admin.createProject(PUB, true);
    await f.admin.createProject(PRIV, false);
    await f.admin.createProject(HIDDEN, false);
    await f.admin.createUser(`dev-${sfx}`, PASSWORD);
    await f.admin.addMember(PRIV, `dev-${sfx}`, 2);
    const r = reg();
    await pushImage(r, `${PUB}/web`, 'v1');
    await pushImage(r, `${PUB}/web`, 'v2');
    await pushIndex(r, `${PUB}/team/multi`, 'latest');
    await pushImage(r, `${PRIV}/api`, 'v1');
    await pushImage(r, `${HIDDEN}/db`, 'v1');
  });

  test('per-project list with counts and times; get by double-encoded name', async () => {
    const r = await f.admin.call('GET', `/projects/${PUB}/repositories?sort=name`);
    expectApi(r, 200);
    assert.equal(r.headers.get('x-total-count'), '2');
    const items = r.json();
    assert.deepEqual(
      items.map((x: { name: string }) => x.name),
      [`${PUB}/team/multi`, `${PUB}/web`],
    );
    const web = items[1];
    assert.equal(web.artifact_count, 2);
    assert.equal(items[0].artifact_count, 1, 'the untagged children of the index are not counted');
    assert.equal(web.pull_count, 0);
    assert.equal(web.description, '');
    assert.ok(Date.parse(web.creation_time) > 0 && Date.parse(web.update_time) >= Date.parse(web.creation_time));
    const p = (await f.admin.call('GET', `/projects/${PUB}`)).json();
    assert.equal(web.project_id, p.project_id);
    const one = await f.admin.call('GET', `/projects/${PUB}/repositories/team%252Fmulti`);
    expectApi(one, 200);
    assert.equal(one.json().name, `${PUB}/team/multi`);
    expectApi(await f.admin.call('GET', `/projects/${PUB}/repositories/nope`), 404, 'NOT_FOUND');
    // a repository of another project under this project's name is a 404
    expectApi(await f.admin.call('GET', `/projects/${PUB}/repositories/db`), 404, 'NOT_FOUND');
    const fuzzy = await f.admin.call('GET', `/projects/${PUB}/repositories?q=${encodeURIComponent('name=~multi')}`);
    assert.equal(fuzzy.json().length, 1);
    const paged = await f.admin.call('GET', `/projects/${PUB}/repositories?page_size=1&sort=name`);
    assert.equal(paged.headers.get('link'), `</api/v2.0/projects/${PUB}/repositories?page=2&page_size=1&sort=name>; rel="next"`);
    // Not a sortable / filterable field: ignored (Harbor's ORM), the unfiltered list in the default order.
    const everything = (await f.admin.call('GET', `/projects/${PUB}/repositories`)).json().map((r: any) => r.id);
    for (const qs of [`sort=${encodeURIComponent('name;drop')}`, `q=${encodeURIComponent('description=x')}`]) {
      const r = await f.admin.call('GET', `/projects/${PUB}/repositories?${qs}`);
      expectApi(r, 200);
      assert.deepEqual(r.json().map((x: any) => x.id), everything, qs);
    }
    expectApi(await f.admin.call('GET', `/projects/${PUB}/repositories?q=${encodeURIComponent('name=[a~b')}`), 400, 'BAD_REQUEST');
  });

  test('artifact_count follows /v2 pushes and deletes', async () => {
    const r = reg();
    const a = await pushImage(r, `${PUB}/counted`, 'a');
    await pushImage(r, `${PUB}/counted`, 'b');
    await pushImage(r, `${PUB}/counted`, null);
    const count = async () => (await f.admin.call('GET', `/projects/${PUB}/repositories/counted`)).json().artifact_count;
    assert.equal(await count(), 3);
    assert.equal((await r.request('DELETE', `/v2/${PUB}/counted/manifests/${a.digest}`)).status, 202);
    assert.equal(await count(), 2);
    const list = await f.admin.call('GET', `/projects/${PUB}/repositories/counted/artifacts`);
    assert.equal(list.headers.get('x-total-count'), '2');
    assert.equal(list.json().length, 2);
    expectApi(await f.admin.call('DELETE', `/projects/${PUB}/repositories/counted`), 200);
  });

  test('global list: sysadmin sees all; a member sees public + own; anonymous sees public only', async () => {
    const names = async (c: typeof f.admin) => {
      const r = await c.call('GET', `/repositories?page_size=100&q=${encodeURIComponent(`name=~${sfx}`)}`);
      expectApi(r, 200);
      return r.json().map((x: { name: string }) => x.name).sort();
    };
    assert.deepEqual(await names(f.admin), [`${HIDDEN}/db`, `${PRIV}/api`, `${PUB}/team/multi`, `${PUB}/web`]);
    assert.deepEqual(await names(f.admin.as(`dev-${sfx}`, PASSWORD)), [`${PRIV}/api`, `${PUB}/team/multi`, `${PUB}/web`]);
    assert.deepEqual(await names(f.anon), [`${PUB}/team/multi`, `${PUB}/web`]);
    // private project lists: a non-member gets 404, anonymous 401
    expectApi(await f.anon.call('GET', `/projects/${PRIV}/repositories`), 401, 'UNAUTHORIZED');
    expectApi(await f.admin.as(`dev-${sfx}`, PASSWORD).call('GET', `/projects/${HIDDEN}/repositories`), 404, 'NOT_FOUND');
    expectApi(await f.admin.as(`dev-${sfx}`, PASSWORD).call('GET', `/projects/${HIDDEN}/repositories/db`), 404, 'NOT_FOUND');
  });

  test('update: description only (read-only fields ignored), XSS kept verbatim as JSON data', async () => {
    const xss = `<img src=x onerror=alert(1)>"'</script>`;
    const before = (await f.admin.call('GET', `/projects/${PUB}/repositories/web`)).json();
    const r = await f.admin.call('PUT', `/projects/${PUB}/repositories/web`, { description: xss, name: 'hijack', id: 1, project_id: 99999, pull_count: 1000 });
    expectApi(r, 200);
    const after = await f.admin.call('GET', `/projects/${PUB}/repositories/web`);
    assert.match(after.headers.get('content-type') ?? '', /^application\/json/);
    const a = after.json();
    assert.equal(a.description, xss);
    assert.equal(a.name, before.name);
    assert.equal(a.id, before.id);
    assert.equal(a.project_id, before.project_id);
    assert.equal(a.pull_count, before.pull_count);
    expectApi(await f.admin.call('PUT', `/projects/${PUB}/repositories/web`, { description: 5 }), 400);
    // a developer of the public project? not a member: 403 (the project is visible)
    expectApi(await f.admin.as(`dev-${sfx}`, PASSWORD).call('PUT', `/projects/${PUB}/repositories/web`, { description: 'x' }), 403, 'FORBIDDEN');
    assert.equal((await f.admin.call('GET', `/projects/${PUB}/repositories/web`)).json().description, xss);
  });

  test('delete: every artifact goes, /v2 no longer serves them, the audit log has it', async () => {
    const r = reg();
    const img = await pushImage(r, `${PRIV}/gone/deep`, 'v1');
    expectApi(await f.admin.as(`dev-${sfx}`, PASSWORD).call('DELETE', `/projects/${PRIV}/repositories/gone%252Fdeep`), 403, 'FORBIDDEN');
    expectApi(await f.admin.call('DELETE', `/projects/${PRIV}/repositories/gone%252Fdeep`), 200);
    expectApi(await f.admin.call('GET', `/projects/${PRIV}/repositories/gone%252Fdeep`), 404);
    assert.equal((await r.getManifest(`${PRIV}/gone/deep`, img.digest)).status, 404);
    assert.equal((await r.getManifest(`${PRIV}/gone/deep`, 'v1')).status, 404);
    expectApi(await f.admin.call('DELETE', `/projects/${PRIV}/repositories/gone%252Fdeep`), 404);
    const gone = (a: AuditRowView) => a.operation === 'delete' && a.resource_type === 'repository' && a.resource === `${PRIV}/gone/deep`;
    assert.ok((await auditRows(f.berth, (rows) => rows.some(gone))).some(gone));
    // the project can be deleted once its repositories are
    expectApi(await f.admin.call('DELETE', `/projects/${PRIV}/repositories/api`), 200);
    expectApi(await f.admin.call('DELETE', `/projects/${PRIV}`), 200);
  });
});
