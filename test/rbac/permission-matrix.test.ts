// The role × action × visibility matrix of test/rbac/matrix.json, through the real token flow and with Basic
// on /v2: every project role, a non-member, anonymous and a system admin, on a public and a private project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { useBerth } from '../registry/fixture.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';

interface Cell {
  principal: string;
  project: 'public' | 'private';
  tokenActions: string[];
  token: Record<'pull' | 'push' | 'delete' | 'catalog', number>;
  basic: Record<'pull' | 'push' | 'delete' | 'catalog', number>;
}
const matrix = JSON.parse(readFileSync(new URL('./matrix.json', import.meta.url), 'utf8')) as { roles: Record<string, number>; cells: Cell[] };
const PASSWORD = 'Matrix-Passw0rd';
const suffix = randomBytes(3).toString('hex');
const projectName = { public: `pub-${suffix}`, private: `priv-${suffix}` };

const f = useBerth({}, async (f) => {
  const api = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
  for (const vis of ['public', 'private'] as const) await api.createProject(projectName[vis], vis === 'public');
  for (const who of [...Object.keys(matrix.roles), 'nonMember', 'sysadmin']) {
    const id = await api.createUser(`m-${who.toLowerCase()}`, PASSWORD);
    if (who === 'sysadmin') assert.equal((await api.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: true })).status, 200);
    if (matrix.roles[who]) for (const vis of ['public', 'private'] as const) await api.addMember(projectName[vis], `m-${who.toLowerCase()}`, matrix.roles[who]);
  }
  // What every principal pulls, and one manifest per principal and flow for it to delete.
  for (const vis of ['public', 'private'] as const) {
    await f.admin.pushImage(`${projectName[vis]}/seed`, 'v1');
    for (const c of matrix.cells) for (const flow of ['token', 'basic']) await f.admin.pushImage(`${projectName[vis]}/del-${c.principal.toLowerCase()}-${flow}`, 'v1');
  }
});

function client(principal: string, flow: 'token' | 'basic'): RegistryClient {
  if (principal === 'anonymous') return new RegistryClient({ baseUrl: f.berth.url, auth: flow === 'token' ? 'token' : 'none' });
  return new RegistryClient({ baseUrl: f.berth.url, username: `m-${principal.toLowerCase()}`, password: PASSWORD, auth: flow });
}

test('the matrix covers every role, non-member, anonymous and sysadmin on both visibilities', () => {
  const who = new Set(matrix.cells.map((c) => `${c.principal}/${c.project}`));
  for (const p of ['projectAdmin', 'maintainer', 'developer', 'guest', 'limitedGuest', 'nonMember', 'anonymous', 'sysadmin'])
    for (const v of ['public', 'private']) assert.ok(who.has(`${p}/${v}`), `${p}/${v} missing`);
});

for (const cell of matrix.cells) {
  const label = `${cell.principal} on a ${cell.project} project`;
  test(`${label}: /service/token grants ${JSON.stringify(cell.tokenActions)}`, async () => {
    const c = client(cell.principal, 'token');
    const repo = `${projectName[cell.project]}/seed`;
    const r = await c.tokenResponse([`repository:${repo}:pull,push,delete`], cell.principal === 'anonymous' ? { basic: null } : {});
    assert.equal(r.status, 200, String(r));
    const claims = JSON.parse(Buffer.from(r.json().token.split('.')[1], 'base64url').toString());
    assert.deepEqual([...claims.access[0].actions].sort(), [...cell.tokenActions].sort());
    // The password grant (containerd) gives the same.
    if (cell.principal !== 'anonymous') {
      const g = await c.tokenPasswordGrant([`repository:${repo}:pull`]);
      const gc = JSON.parse(Buffer.from(g.json().token.split('.')[1], 'base64url').toString());
      assert.deepEqual([...gc.access[0].actions].sort(), [...cell.tokenActions].sort());
    }
  });

  for (const flow of ['token', 'basic'] as const) {
    test(`${label}, ${flow}: pull/push/delete/catalog → ${JSON.stringify(cell[flow])}`, async () => {
      const c = client(cell.principal, flow);
      const proj = projectName[cell.project];
      const want = cell[flow];
      const pull = await c.getManifest(`${proj}/seed`, 'v1');
      assert.equal(pull.status, want.pull, `pull: ${pull}`);
      const push = await c.request('POST', `/v2/${proj}/up-${cell.principal.toLowerCase()}-${flow}/blobs/uploads/`);
      assert.equal(push.status, want.push, `push: ${push}`);
      if (push.status === 202) assert.equal((await c.request('DELETE', push.header('location')!)).status, 204);
      const delRepo = `${proj}/del-${cell.principal.toLowerCase()}-${flow}`;
      const digest = (await f.admin.headManifest(delRepo, 'v1')).header('docker-content-digest')!;
      const del = await c.request('DELETE', `/v2/${delRepo}/manifests/${digest}`);
      assert.equal(del.status, want.delete, `delete: ${del}`);
      // A refused delete changed nothing; an accepted one removed the manifest.
      assert.equal((await f.admin.headManifest(delRepo, digest)).status, want.delete === 202 ? 404 : 200);
      const cat = await c.request('GET', '/v2/_catalog');
      assert.equal(cat.status, want.catalog, `catalog: ${cat}`);
      for (const r of [pull, push, del, cat]) {
        if (r.status === 401) assert.ok(r.header('www-authenticate'), `401 without a challenge: ${r}`);
        if (r.status === 403) assert.ok(r.errorCodes().includes('DENIED'), String(r));
      }
    });
  }
}

test('a role change takes effect on the next token; removing the member revokes it', async () => {
  const api = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
  await api.createUser('m-mover', PASSWORD);
  const mid = await api.addMember(projectName.private, 'm-mover', 3);
  const c = new RegistryClient({ baseUrl: f.berth.url, username: 'm-mover', password: PASSWORD });
  const actions = async () => {
    const r = await c.tokenResponse([`repository:${projectName.private}/seed:pull,push,delete`]);
    return JSON.parse(Buffer.from(r.json().token.split('.')[1], 'base64url').toString()).access[0].actions.sort();
  };
  assert.deepEqual(await actions(), ['pull']);
  assert.equal((await api.call('PUT', `/projects/${projectName.private}/members/${mid}`, { role_id: 2 }, { 'X-Is-Resource-Name': 'true' })).status, 200);
  assert.deepEqual(await actions(), ['pull', 'push']);
  assert.equal((await api.call('DELETE', `/projects/${projectName.private}/members/${mid}`, undefined, { 'X-Is-Resource-Name': 'true' })).status, 200);
  assert.deepEqual(await actions(), []);
});
