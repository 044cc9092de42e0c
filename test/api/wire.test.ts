// Issue #12's generic wire behaviour of /api/v2.0 against a real Berth: body-less requests that carry a JSON
// content type, JSON nulls as absent members, Go booleans in queries, Harbor's paging (page<1, page_size=0),
// and the 401 envelope text.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { expectApi, useApi } from './fixture.ts';

const f = useApi();
const sfx = randomBytes(3).toString('hex');
const JSON_CT = { 'content-type': 'application/json' };
const PROJECTS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11].map((i) => `wire-${sfx}-${i}`);

describe('generic /api/v2.0 wire behaviour', { timeout: 60_000 }, () => {
  before(async () => {
    // 12 projects: more than one default page (10), the even ones public.
    for (const [i, name] of PROJECTS.entries()) await f.admin.createProject(name, i % 2 === 0);
  });

  test('DELETE with Content-Type: application/json and no body is accepted', async () => {
    const name = `wire-del-${sfx}`;
    await f.admin.createProject(name, false);
    const r = await f.admin.call('DELETE', `/projects/${name}`, undefined, { ...JSON_CT, 'x-is-resource-name': 'true' });
    expectApi(r, 200);
    expectApi(await f.admin.call('HEAD', `/projects?project_name=${name}`), 404);
  });

  test('an empty body with a JSON content type is "no body": a POST that needs one is a 400 in the envelope', async () => {
    expectApi(await f.admin.call('POST', '/labels', undefined, JSON_CT), 400, 'BAD_REQUEST');
    // Malformed JSON stays a 400 in Harbor's envelope.
    expectApi(await f.admin.call('POST', '/labels', '{"name":', JSON_CT), 400, 'BAD_REQUEST');
  });

  test('JSON null members are absent members; unknown members are ignored', async () => {
    const name = `wire-null-${sfx}`;
    const r = await f.admin.call('POST', '/labels', { name, scope: 'g', description: null, color: null, no_such_field: 'x' });
    expectApi(r, 201);
    const id = Number(r.headers.get('location')!.split('/').pop());
    const got = await f.admin.call('GET', `/labels/${id}`);
    expectApi(got, 200);
    assert.equal(got.json().name, name);
    assert.equal(got.json().description, '');
    assert.equal('no_such_field' in got.json(), false);
    // A null in an update changes nothing.
    expectApi(await f.admin.call('PUT', `/labels/${id}`, { name: null, description: 'kept' }), 200);
    const after = (await f.admin.call('GET', `/labels/${id}`)).json();
    assert.equal(after.name, name);
    assert.equal(after.description, 'kept');
  });

  test('query booleans accept Go spellings (True, FALSE, 1, 0); others are a 400', async () => {
    const q = `/projects?name=wire-${sfx}-&page_size=100`;
    for (const [spelling, isPublic] of [['True', true], ['TRUE', true], ['1', true], ['true', true], ['False', false], ['0', false]] as const) {
      const r = await f.admin.call('GET', `${q}&public=${spelling}`);
      expectApi(r, 200);
      const names = r.json<{ name: string }[]>().map((p) => p.name).sort();
      assert.deepEqual(names, PROJECTS.filter((_, i) => (i % 2 === 0) === isPublic).sort(), spelling);
    }
    expectApi(await f.admin.call('GET', `${q}&public=yes`), 400, 'BAD_REQUEST');
  });

  test('page_size=0 returns every row unpaginated; missing is 10; page<1 is page 1; headers stay right', async () => {
    const q = `/projects?name=wire-${sfx}-`;
    const all = await f.admin.call('GET', `${q}&page_size=0`);
    expectApi(all, 200);
    assert.equal(all.json().length, 12);
    assert.equal(all.headers.get('x-total-count'), '12');
    assert.equal(all.headers.get('link'), null);

    const dflt = await f.admin.call('GET', q);
    expectApi(dflt, 200);
    assert.equal(dflt.json().length, 10);
    assert.equal(dflt.headers.get('x-total-count'), '12');
    assert.match(dflt.headers.get('link') ?? '', /page=2&page_size=10>; rel="next"/);

    for (const page of ['0', '-3']) {
      const r = await f.admin.call('GET', `${q}&page=${page}&page_size=5`);
      expectApi(r, 200);
      assert.deepEqual(r.json(), (await f.admin.call('GET', `${q}&page=1&page_size=5`)).json(), `page=${page}`);
      assert.equal(r.headers.get('x-total-count'), '12');
    }
    const last = await f.admin.call('GET', `${q}&page=3&page_size=5`);
    assert.equal(last.json().length, 2);
    assert.match(last.headers.get('link') ?? '', /rel="prev"/);
    expectApi(await f.admin.call('GET', `${q}&page_size=101`), 400, 'BAD_REQUEST');
  });

  test('401 bodies are Harbor\'s: {"errors":[{"code":"UNAUTHORIZED","message":"unauthorized"}]}', async () => {
    const anon = await f.anon.call('GET', '/users/current');
    expectApi(anon, 401, 'UNAUTHORIZED');
    assert.deepEqual(anon.json(), { errors: [{ code: 'UNAUTHORIZED', message: 'unauthorized' }] });
    const wrong = await f.admin.as('admin', 'not-the-password').call('GET', '/users/current');
    expectApi(wrong, 401, 'UNAUTHORIZED');
    assert.deepEqual(wrong.json(), { errors: [{ code: 'UNAUTHORIZED', message: 'unauthorized' }] });
  });
});
