// The group rows of the permission matrix (test/rbac/group-matrix.json): LDAP users whose roles come from LDAP
// groups that are project members (directly, nested one or two levels, and unions with a direct membership or a
// second group), a group outside the projects, and ldap_group_admin_dn (direct and nested), through the real
// token flow and with Basic on /v2, on a public and a private project, against a real slapd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { useApi } from '../api/fixture.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { startSlapd, type Slapd } from '../helpers/slapd.ts';
import { BASE, PEOPLE, GROUPS, configureLdap, until } from '../ldap/directory.ts';

type Action = 'pull' | 'push' | 'delete' | 'catalog';
interface Cell {
  principal: string;
  project: 'public' | 'private';
  tokenActions: string[];
  token: Record<Action, number>;
  basic: Record<Action, number>;
}
type ApiOp =
  | 'listGroups' | 'createGroup' | 'getGroup' | 'updateGroup' | 'deleteGroup' | 'searchGroups'
  | 'ldapPing' | 'ldapUserSearch' | 'ldapImport' | 'ldapGroupSearch' | 'getConfigurations' | 'putConfigurations' | 'addGroupMember';
interface Matrix {
  api: { principal: string; status: Record<ApiOp, number> }[];
  groupRoles: Record<string, number>;
  nesting: Record<string, string>;
  principals: Record<string, { groups: string[]; directRole?: number }>;
  cells: Cell[];
}
const matrix = JSON.parse(readFileSync(new URL('./group-matrix.json', import.meta.url), 'utf8')) as Matrix;
const PASSWORD = 'Group-Matrix-Pw1';
const uid = (principal: string) => `gm-${principal.toLowerCase()}`;
const userDn = (principal: string) => `uid=${uid(principal)},${PEOPLE}`;
const gDn = (cn: string) => `cn=${cn},${GROUPS}`;
const projectName = { public: 'gm-pub', private: 'gm-priv' };

/** Users, then groups with their user and group members, children before parents (so memberOf is maintained). */
function ldif(): string {
  const parts = [
    `dn: ${BASE}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n`,
    `dn: ${PEOPLE}\nobjectClass: organizationalUnit\nou: people\n`,
    `dn: ${GROUPS}\nobjectClass: organizationalUnit\nou: groups\n`,
  ];
  for (const p of Object.keys(matrix.principals))
    parts.push(`dn: ${userDn(p)}\nobjectClass: inetOrgPerson\nuid: ${uid(p)}\ncn: ${p}\nsn: ${p}\nuserPassword: ${PASSWORD}\n`);
  const members = new Map<string, string[]>();
  const add = (g: string, m: string) => members.set(g, [...(members.get(g) ?? []), m]);
  for (const [p, v] of Object.entries(matrix.principals)) for (const g of v.groups) add(g, userDn(p));
  for (const [child, parent] of Object.entries(matrix.nesting)) add(parent, gDn(child));
  const done = new Set<string>();
  const emit = (g: string) => {
    if (done.has(g)) return;
    for (const [child, parent] of Object.entries(matrix.nesting)) if (parent === g) emit(child);
    done.add(g);
    parts.push(`dn: ${gDn(g)}\nobjectClass: groupOfNames\ncn: ${g}\n${(members.get(g) ?? []).map((m) => `member: ${m}`).join('\n')}\n`);
  };
  for (const g of members.keys()) emit(g);
  return parts.join('\n');
}

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd({ baseDn: BASE, ldif: ldif() });
});
after(async () => {
  await slapd?.stop();
});
const f = useApi();
let admin: RegistryClient;

before(async () => {
  const api = await until(() => f.admin);
  await configureLdap(api, await until(() => slapd), { ldap_group_admin_dn: gDn('g-admins') });
  admin = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  for (const vis of ['public', 'private'] as const) {
    await api.createProject(projectName[vis], vis === 'public');
    for (const [g, role] of Object.entries(matrix.groupRoles)) {
      const r = await api.call('POST', `/projects/${projectName[vis]}/members`, { role_id: role, member_group: { group_type: 1, ldap_group_dn: gDn(g) } });
      assert.equal(r.status, 201, r.text);
    }
  }
  for (const [p, v] of Object.entries(matrix.principals)) {
    if (!v.directRole) continue;
    // the user must exist locally before a direct membership: one login creates it
    assert.equal((await api.as(uid(p), PASSWORD).call('GET', '/users/current')).status, 200);
    for (const vis of ['public', 'private'] as const) await api.addMember(projectName[vis], uid(p), v.directRole);
  }
  for (const vis of ['public', 'private'] as const) {
    await admin.pushImage(`${projectName[vis]}/seed`, 'v1');
    for (const c of matrix.cells) if (c.project === vis) for (const flow of ['token', 'basic']) await admin.pushImage(`${projectName[vis]}/del-${c.principal.toLowerCase()}-${flow}`, 'v1');
  }
});

test('the group matrix covers the five roles through groups, nesting, unions, a non-member group and the admin group', () => {
  const who = new Set(matrix.cells.map((c) => `${c.principal}/${c.project}`));
  for (const p of Object.keys(matrix.principals)) for (const v of ['public', 'private']) assert.ok(who.has(`${p}/${v}`), `${p}/${v} missing`);
  assert.deepEqual(Object.values(matrix.groupRoles).sort(), [1, 2, 3, 4, 5]);
});

for (const cell of matrix.cells) {
  const label = `${cell.principal} on a ${cell.project} project`;
  const client = (flow: 'token' | 'basic') => new RegistryClient({ baseUrl: f.berth.url, username: uid(cell.principal), password: PASSWORD, auth: flow });

  test(`${label}: /service/token grants ${JSON.stringify(cell.tokenActions)}`, async () => {
    const r = await client('token').tokenResponse([`repository:${projectName[cell.project]}/seed:pull,push,delete`]);
    assert.equal(r.status, 200, String(r));
    const claims = JSON.parse(Buffer.from(r.json().token.split('.')[1], 'base64url').toString());
    assert.deepEqual([...claims.access[0].actions].sort(), [...cell.tokenActions].sort());
  });

  for (const flow of ['token', 'basic'] as const) {
    test(`${label}, ${flow}: pull/push/delete/catalog → ${JSON.stringify(cell[flow])}`, async () => {
      const c = client(flow);
      const proj = projectName[cell.project];
      const want = cell[flow];
      const pull = await c.getManifest(`${proj}/seed`, 'v1');
      assert.equal(pull.status, want.pull, `pull: ${pull}`);
      const push = await c.request('POST', `/v2/${proj}/up-${cell.principal.toLowerCase()}-${flow}/blobs/uploads/`);
      assert.equal(push.status, want.push, `push: ${push}`);
      if (push.status === 202) assert.equal((await c.request('DELETE', push.header('location')!)).status, 204);
      const delRepo = `${proj}/del-${cell.principal.toLowerCase()}-${flow}`;
      const digest = (await admin.headManifest(delRepo, 'v1')).header('docker-content-digest')!;
      const del = await c.request('DELETE', `/v2/${delRepo}/manifests/${digest}`);
      assert.equal(del.status, want.delete, `delete: ${del}`);
      assert.equal((await admin.headManifest(delRepo, digest)).status, want.delete === 202 ? 404 : 200);
      const cat = await c.request('GET', '/v2/_catalog');
      assert.equal(cat.status, want.catalog, `catalog: ${cat}`);
    });
  }
}

test('group member rows: entity_type g with the group names, and the API permissions of a group-derived role', async () => {
  const members = (await f.admin.call('GET', `/projects/${projectName.private}/members?page_size=100`)).json() as { entity_type: string; entity_name: string; role_id: number }[];
  const groups = Object.fromEntries(members.filter((m) => m.entity_type === 'g').map((m) => [m.entity_name, m.role_id]));
  assert.deepEqual(groups, matrix.groupRoles);
  // a Maintainer through nesting may not manage members (ProjectAdmin only); a ProjectAdmin through a group may
  const nested = f.admin.as(uid('nested2Maintainer'), PASSWORD);
  assert.equal((await nested.call('POST', `/projects/${projectName.private}/members`, { role_id: 3, member_group: { group_type: 2, group_name: 'x' } })).status, 403);
  const pa = f.admin.as(uid('grpProjectAdmin'), PASSWORD);
  assert.equal((await pa.call('POST', `/projects/${projectName.private}/members`, { role_id: 3, member_group: { group_type: 2, group_name: 'added-by-group-pa' } })).status, 201);
  // the non-member group does not even see the private project
  assert.equal((await f.admin.as(uid('grpNonMember'), PASSWORD).call('GET', `/projects/${projectName.private}`)).status, 404);
});

for (const row of matrix.api) {
  test(`API as ${row.principal}: ${JSON.stringify(row.status)}`, async () => {
    const api =
      row.principal === 'anonymous' ? f.admin.as(null) : row.principal === 'localAdmin' ? f.admin : f.admin.as(uid(row.principal), PASSWORD);
    const tag = row.principal.toLowerCase();
    // the group this principal reads, renames and deletes
    const made = await f.admin.call('POST', '/usergroups', { group_type: 2, group_name: `api-${tag}` });
    assert.equal(made.status, 201, made.text);
    const gid = Number(made.headers.get('location')!.split('/').pop());
    const calls: Record<ApiOp, () => Promise<{ status: number; text: string }>> = {
      listGroups: () => api.call('GET', '/usergroups'),
      createGroup: () => api.call('POST', '/usergroups', { group_type: 2, group_name: `new-${tag}` }),
      getGroup: () => api.call('GET', `/usergroups/${gid}`),
      updateGroup: () => api.call('PUT', `/usergroups/${gid}`, { group_name: `renamed-${tag}` }),
      deleteGroup: () => api.call('DELETE', `/usergroups/${gid}`),
      searchGroups: () => api.call('GET', '/usergroups/search?groupname=api-'),
      ldapPing: () => api.call('POST', '/ldap/ping', {}),
      ldapUserSearch: () => api.call('GET', `/ldap/users/search?username=${uid('grpGuest')}`),
      ldapImport: () => api.call('POST', '/ldap/users/import', { ldap_uid_list: ['not-in-the-directory'] }),
      ldapGroupSearch: () => api.call('GET', '/ldap/groups/search?groupname=g-d'),
      getConfigurations: () => api.call('GET', '/configurations'),
      putConfigurations: () => api.call('PUT', '/configurations', { robot_token_duration: 30 }),
      addGroupMember: () => api.call('POST', `/projects/${projectName.private}/members`, { role_id: 3, member_group: { group_type: 2, group_name: `member-${tag}` } }),
    };
    for (const op of Object.keys(calls) as ApiOp[]) {
      const r = await calls[op]();
      assert.equal(r.status, row.status[op], `${op}: ${r.status} ${r.text}`);
    }
    // refused changes changed nothing
    const after = await f.admin.call('GET', `/usergroups/${gid}`);
    if (row.status.deleteGroup !== 200) assert.equal(after.json().group_name, row.status.updateGroup === 200 ? `renamed-${tag}` : `api-${tag}`);
    else assert.equal(after.status, 404);
    const created = (await f.admin.call('GET', `/usergroups?group_name=new-${tag}`)).json() as unknown[];
    assert.equal(created.length, row.status.createGroup === 201 ? 1 : 0);
    const members = (await f.admin.call('GET', `/projects/${projectName.private}/members?entityname=member-${tag}`)).json() as unknown[];
    assert.equal(members.length, row.status.addGroupMember === 201 ? 1 : 0);
  });
}
