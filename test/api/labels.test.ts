// /api/v2.0/labels against a real Berth: global labels (sysadmin writes, users read), project labels (project
// admin/maintainer write, members read), read-only fields never applied, duplicates 409, XSS kept as data, and
// a project label id of another project is a 404 (nothing changed).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { auditRows, expectApi, useApi } from './fixture.ts';
import { openBerthDatabase } from '../helpers/berth.ts';

const f = useApi();
const sfx = randomBytes(3).toString('hex');
const PASSWORD = 'Label-Passw0rd!';
const A = `la-${sfx}`;
const B = `lb-${sfx}`;
let aId = 0;
let bId = 0;
const as = (u: string) => f.admin.as(`${u}-${sfx}`, PASSWORD);
const idOf = (loc: string | null) => Number(loc!.split('/').pop());

describe('labels API', { timeout: 60_000 }, () => {
  before(async () => {
    aId = await f.admin.createProject(A, false);
    bId = await f.admin.createProject(B, false);
    for (const [u, role] of [
      ['pa', 1],
      ['ma', 4],
      ['dev', 2],
      ['guest', 3],
    ] as const) {
      await f.admin.createUser(`${u}-${sfx}`, PASSWORD);
      await f.admin.addMember(A, `${u}-${sfx}`, role);
    }
    await f.admin.createUser(`out-${sfx}`, PASSWORD);
  });

  test('global labels: sysadmin creates/updates/deletes, users read, anonymous 401', async () => {
    const xss = `<script>alert('g')</script>`;
    const r = await f.admin.call('POST', '/labels', { name: `g-${sfx}`, description: xss, color: '#00FF00', scope: 'g', id: 4242, project_id: aId, creation_time: '1999-01-01T00:00:00Z' });
    expectApi(r, 201);
    const id = idOf(r.headers.get('location'));
    assert.match(r.headers.get('location')!, /^\/api\/v2\.0\/labels\/\d+$/);
    assert.notEqual(id, 4242);
    const got = (await as('dev').call('GET', `/labels/${id}`)).json();
    assert.equal(got.name, `g-${sfx}`);
    assert.equal(got.description, xss);
    assert.equal(got.scope, 'g');
    assert.equal(got.project_id, 0, 'project_id of a global label is not applied');
    assert.notEqual(got.creation_time.slice(0, 4), '1999');
    expectApi(await f.anon.call('GET', `/labels/${id}`), 401, 'UNAUTHORIZED');
    expectApi(await as('pa').call('POST', '/labels', { name: `g2-${sfx}`, scope: 'g' }), 403, 'FORBIDDEN');
    expectApi(await as('pa').call('PUT', `/labels/${id}`, { name: 'x' }), 403, 'FORBIDDEN');
    expectApi(await as('pa').call('DELETE', `/labels/${id}`), 403, 'FORBIDDEN');
    expectApi(await f.admin.call('POST', '/labels', { name: `g-${sfx}`, scope: 'g' }), 409, 'CONFLICT');
    expectApi(await f.admin.call('POST', '/labels', { scope: 'g' }), 400);
    expectApi(await f.admin.call('POST', '/labels', { name: 'x', scope: 'z' }), 400);
    const list = await as('guest').call('GET', `/labels?scope=g&name=${sfx}`);
    expectApi(list, 200);
    assert.equal(list.headers.get('x-total-count'), '1');
    expectApi(await f.admin.call('PUT', `/labels/${id}`, { name: `g-${sfx}-renamed`, scope: 'p', project_id: bId }), 200);
    const renamed = (await f.admin.call('GET', `/labels/${id}`)).json();
    assert.equal(renamed.name, `g-${sfx}-renamed`);
    assert.equal(renamed.scope, 'g');
    assert.equal(renamed.project_id, 0);
    expectApi(await f.admin.call('DELETE', `/labels/${id}`), 200);
    expectApi(await f.admin.call('GET', `/labels/${id}`), 404, 'NOT_FOUND');
    const audit = await auditRows(f.berth);
    assert.ok(audit.some((a) => a.resource_type === 'label' && a.operation === 'delete' && a.resource === `g-${sfx}-renamed`));
  });

  test('project labels: project admin and maintainer write, developer and guest read, outsiders 404', async () => {
    const r = await as('pa').call('POST', '/labels', { name: 'team', scope: 'p', project_id: aId, color: '#123456' });
    expectApi(r, 201);
    const id = idOf(r.headers.get('location'));
    const m = await as('ma').call('POST', '/labels', { name: 'team2', scope: 'p', project_id: aId });
    expectApi(m, 201);
    expectApi(await as('dev').call('POST', '/labels', { name: 'team3', scope: 'p', project_id: aId }), 403, 'FORBIDDEN');
    expectApi(await as('dev').call('PUT', `/labels/${id}`, { name: 'x' }), 403, 'FORBIDDEN');
    expectApi(await as('guest').call('GET', `/labels/${id}`), 200);
    const list = await as('guest').call('GET', `/labels?scope=p&project_id=${aId}&sort=name`);
    assert.deepEqual(
      list.json().map((l: { name: string }) => l.name),
      ['team', 'team2'],
    );
    assert.equal(list.json()[0].project_id, aId);
    // the same name in another project is fine; in the same project, a conflict
    expectApi(await f.admin.call('POST', '/labels', { name: 'team', scope: 'p', project_id: bId }), 201);
    expectApi(await as('pa').call('POST', '/labels', { name: 'team', scope: 'p', project_id: aId }), 409, 'CONFLICT');
    // outsiders: the label and the project's list are 404s, no hint that they exist
    expectApi(await as('out').call('GET', `/labels/${id}`), 404, 'NOT_FOUND');
    expectApi(await as('out').call('PUT', `/labels/${id}`, { name: 'pwned' }), 404, 'NOT_FOUND');
    expectApi(await as('out').call('DELETE', `/labels/${id}`), 404, 'NOT_FOUND');
    expectApi(await as('out').call('GET', `/labels?scope=p&project_id=${aId}`), 404, 'NOT_FOUND');
    expectApi(await as('out').call('POST', '/labels', { name: 'x', scope: 'p', project_id: aId }), 404, 'NOT_FOUND');
    expectApi(await f.anon.call('GET', `/labels?scope=p&project_id=${aId}`), 401);
    // project A's admin cannot reach project B's labels by id
    const bLabels = (await f.admin.call('GET', `/labels?scope=p&project_id=${bId}`)).json();
    expectApi(await as('pa').call('DELETE', `/labels/${bLabels[0].id}`), 404, 'NOT_FOUND');
    expectApi(await as('pa').call('PUT', `/labels/${bLabels[0].id}`, { name: 'pwned' }), 404, 'NOT_FOUND');
    assert.equal((await f.admin.call('GET', `/labels/${bLabels[0].id}`)).json().name, 'team');
    expectApi(await f.admin.call('GET', '/labels?scope=p'), 400, 'BAD_REQUEST');
    // color is not a filterable field: ignored (Harbor), the global labels come back unfiltered.
    const ignored = await f.admin.call('GET', `/labels?scope=g&q=${encodeURIComponent('color=red')}`);
    expectApi(ignored, 200);
    assert.deepEqual(ignored.json().map((l: any) => l.id), (await f.admin.call('GET', '/labels?scope=g')).json().map((l: any) => l.id));
    expectApi(await as('ma').call('DELETE', `/labels/${id}`), 200);
  });

  test('deleting a project deletes its project labels (a label id never outlives its project)', async () => {
    const name = `lc-${sfx}`;
    const pid = await f.admin.createProject(name, false);
    const r = await f.admin.call('POST', '/labels', { name: 'doomed', scope: 'p', project_id: pid });
    expectApi(r, 201);
    const labelId = idOf(r.headers.get('location'));
    expectApi(await f.admin.call('DELETE', `/projects/${pid}`), 200);
    expectApi(await f.admin.call('GET', `/labels/${labelId}`), 404, 'NOT_FOUND');
    const db = await openBerthDatabase(f.berth);
    try {
      assert.equal((await db.all('SELECT id FROM labels WHERE id = ? OR project_id = ?', [labelId, pid])).length, 0, 'the row is gone');
    } finally {
      await db.close();
    }
    const again = await f.admin.createProject(name, false);
    expectApi(await f.admin.call('POST', '/labels', { name: 'doomed', scope: 'p', project_id: again }), 201);
  });
});
