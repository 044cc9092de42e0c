// Every /api/v2.0 project endpoint × principal × project visibility, with the expected statuses kept as data in
// test/rbac/api-matrix.json. After each refused write the project, its metadata and members are unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { useBerth } from '../registry/fixture.ts';
import { ApiClient } from '../helpers/api-client.ts';

interface Endpoint {
  method: string;
  path: string;
  body: unknown;
}
interface Cell {
  principal: string;
  project: 'public' | 'private';
  expect: Record<string, number>;
}
const matrix = JSON.parse(readFileSync(new URL('./api-matrix.json', import.meta.url), 'utf8')) as { endpoints: Record<string, Endpoint>; cells: Cell[] };
const ROLES: Record<string, number> = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 };
const PASSWORD = 'ApiMatrix-Passw0rd';
const sfx = randomBytes(3).toString('hex');
const ids: Record<'public' | 'private', { project: number; guestMember: number }> = {} as never;

const f = useBerth({}, async (f) => {
  const admin = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
  for (const vis of ['public', 'private'] as const) ids[vis] = { project: await admin.createProject(`${vis}-${sfx}`, vis === 'public'), guestMember: 0 };
  for (const who of [...Object.keys(ROLES), 'nonMember', 'sysadmin']) {
    const id = await admin.createUser(`a-${who.toLowerCase()}`, PASSWORD);
    if (who === 'sysadmin') await admin.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: true });
    for (const vis of ['public', 'private'] as const)
      if (ROLES[who]) {
        const mid = await admin.addMember(ids[vis].project, `a-${who.toLowerCase()}`, ROLES[who]);
        if (who === 'guest') ids[vis].guestMember = mid;
      }
  }
});

const snapshot = async (admin: ApiClient, project: number) => ({
  project: (await admin.call('GET', `/projects/${project}`)).json(),
  members: (await admin.call('GET', `/projects/${project}/members?page_size=100`)).json(),
});

test('the API matrix covers every principal on both visibilities and every endpoint in each cell', () => {
  const names = Object.keys(matrix.endpoints);
  for (const p of ['projectAdmin', 'maintainer', 'developer', 'guest', 'limitedGuest', 'nonMember', 'anonymous', 'sysadmin'])
    for (const v of ['public', 'private']) {
      const c = matrix.cells.find((c) => c.principal === p && c.project === v);
      assert.ok(c, `${p}/${v}`);
      assert.deepEqual(Object.keys(c.expect).sort(), [...names].sort());
    }
});

for (const cell of matrix.cells) {
  test(`${cell.principal} on a ${cell.project} project: ${JSON.stringify(cell.expect)}`, async () => {
    const admin = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
    const caller = cell.principal === 'anonymous' ? admin.as(null) : admin.as(`a-${cell.principal.toLowerCase()}`, PASSWORD);
    const { project, guestMember } = ids[cell.project];
    const tag = `${cell.principal.toLowerCase()}-${cell.project}`;
    const target = `t-${tag}`;
    await admin.createUser(target, PASSWORD);
    const throwawayUser = `x-${tag}`;
    await admin.createUser(throwawayUser, PASSWORD);
    const throwaway = await admin.addMember(project, throwawayUser, 5);
    for (const [name, ep] of Object.entries(matrix.endpoints)) {
      const fill = (s: string) =>
        s.replace('{p}', String(project)).replace('{m}', String(guestMember)).replace('{throwaway}', String(throwaway)).replace('{target}', target);
      const body = ep.body === null ? undefined : JSON.parse(fill(JSON.stringify(ep.body)));
      const before = await snapshot(admin, project);
      const r = await caller.call(ep.method, fill(ep.path), body);
      const want = cell.expect[name];
      assert.equal(r.status, want, `${name}: ${r.status} ${r.text}`);
      if (want >= 400) {
        assert.equal(r.json().errors?.[0]?.code, { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' }[want], r.text);
        const after = await snapshot(admin, project);
        assert.deepEqual(after.members, before.members, `${name}: members changed after a refusal`);
        assert.deepEqual(after.project.metadata, before.project.metadata, `${name}: metadata changed after a refusal`);
      }
    }
    // the allowed member changes really happened; the refused ones did not
    const members = (await admin.call('GET', `/projects/${project}/members?page_size=100`)).json() as { entity_name: string }[];
    assert.equal(members.some((m) => m.entity_name === target), cell.expect.addMember === 201);
    assert.equal(members.some((m) => m.entity_name === throwawayUser), cell.expect.deleteMember !== 200);
  });
}
