// Every artifact-domain /api/v2.0 endpoint (repositories, artifacts, tags, artifact labels, additions,
// accessories, project labels) × principal × project visibility, with the expected statuses kept as data in
// test/rbac/artifact-matrix.json. After each refusal the repository, its artifacts, tags and labels and the
// project's labels are unchanged; each allowed write really happened.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { useBerth } from '../registry/fixture.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushImage } from '../api/artifact-fixtures.ts';

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
const matrix = JSON.parse(readFileSync(new URL('./artifact-matrix.json', import.meta.url), 'utf8')) as { endpoints: Record<string, Endpoint>; cells: Cell[] };
const ROLES: Record<string, number> = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 };
const PASSWORD = 'ArtMatrix-Passw0rd';
const sfx = randomBytes(3).toString('hex');
const projects: Record<'public' | 'private', { name: string; id: number; label: number }> = {} as never;

const f = useBerth({}, async (f) => {
  const admin = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
  const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  for (const vis of ['public', 'private'] as const) {
    const name = `am-${vis}-${sfx}`;
    const id = await admin.createProject(name, vis === 'public');
    await pushImage(reg, `${name}/app`, 'v1');
    const l = await admin.call('POST', '/labels', { name: 'shared', scope: 'p', project_id: id });
    projects[vis] = { name, id, label: Number(l.headers.get('location')!.split('/').pop()) };
  }
  for (const who of [...Object.keys(ROLES), 'nonMember', 'sysadmin']) {
    const uid = await admin.createUser(`am-${who.toLowerCase()}`, PASSWORD);
    if (who === 'sysadmin') await admin.call('PUT', `/users/${uid}/sysadmin`, { sysadmin_flag: true });
    for (const vis of ['public', 'private'] as const) if (ROLES[who]) await admin.addMember(projects[vis].id, `am-${who.toLowerCase()}`, ROLES[who]);
  }
});

/** What a refused request must not change. */
async function snapshot(admin: ApiClient, p: { name: string; id: number }) {
  const get = async (path: string) => (await admin.call('GET', path)).json();
  return {
    repos: (await get(`/projects/${p.name}/repositories?page_size=100&sort=name`)).map((r: Record<string, unknown>) => ({ ...r, pull_count: 0, update_time: 0 })),
    artifacts: await get(`/projects/${p.name}/repositories/app/artifacts?with_label=true&q=${encodeURIComponent('base=*')}&page_size=100`),
    labels: await get(`/labels?scope=p&project_id=${p.id}&page_size=100&sort=name`),
  };
}

test('the artifact matrix covers every principal on both visibilities and every endpoint in each cell', () => {
  const names = Object.keys(matrix.endpoints);
  for (const p of ['projectAdmin', 'maintainer', 'developer', 'guest', 'limitedGuest', 'nonMember', 'anonymous', 'sysadmin'])
    for (const v of ['public', 'private']) {
      const c = matrix.cells.find((c) => c.principal === p && c.project === v);
      assert.ok(c, `${p}/${v}`);
      assert.deepEqual(Object.keys(c.expect).sort(), [...names].sort());
    }
});

for (const cell of matrix.cells) {
  test(`${cell.principal} on a ${cell.project} project`, { timeout: 120_000 }, async () => {
    const admin = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
    const reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
    const caller = cell.principal === 'anonymous' ? admin.as(null) : admin.as(`am-${cell.principal.toLowerCase()}`, PASSWORD);
    const p = projects[cell.project];
    const c = `${cell.principal.toLowerCase()}-${cell.project}`;
    // Per-cell fixtures, created by admin
    await pushImage(reg, `${p.name}/drop-${c}`, 'v1');
    await pushImage(reg, `${p.name}/dropart-${c}`, 'v1');
    const dropTag = `drop-${c}`;
    assert.equal((await admin.call('POST', `/projects/${p.name}/repositories/app/artifacts/v1/tags`, { name: dropTag })).status, 201);
    const label = async (name: string) => Number((await admin.call('POST', '/labels', { name, scope: 'p', project_id: p.id })).headers.get('location')!.split('/').pop());
    const addLabel = await label(`add-${c}`);
    const attachedLabel = await label(`att-${c}`);
    assert.equal((await admin.call('POST', `/projects/${p.name}/repositories/app/artifacts/v1/labels`, { id: attachedLabel })).status, 200);
    const dropLabel = await label(`dl-${c}`);
    const vars: Record<string, string> = {
      p: p.name,
      pid: String(p.id),
      cell: c,
      dropRepo: `drop-${c}`,
      dropArtifactRepo: `dropart-${c}`,
      dropTag,
      addLabel: String(addLabel),
      attachedLabel: String(attachedLabel),
      projectLabel: String(p.label),
      dropLabel: String(dropLabel),
    };
    const fill = (s: string) => s.replace(/\{(\w+)\}/g, (_, k: string) => vars[k] ?? `{${k}}`);
    for (const [name, ep] of Object.entries(matrix.endpoints)) {
      let body = ep.body === null ? undefined : JSON.parse(fill(JSON.stringify(ep.body)));
      if (body && typeof body.id === 'string') body = { ...body, id: Number(body.id) };
      if (body && typeof body.project_id === 'string') body = { ...body, project_id: Number(body.project_id) };
      const want = cell.expect[name];
      const before = want >= 400 ? await snapshot(admin, p) : null;
      const r = await caller.call(ep.method, fill(ep.path), body);
      assert.equal(r.status, want, `${name}: ${r.status} ${r.text}`);
      if (want >= 400) {
        assert.equal(r.json().errors?.[0]?.code, { 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND' }[want], r.text);
        assert.deepEqual(await snapshot(admin, p), before, `${name}: data changed after a refusal`);
      }
    }
    // the allowed writes happened, the refused ones did not
    const ok = (n: string) => cell.expect[n] < 300;
    const status = async (path: string) => (await admin.call('GET', path)).status;
    assert.equal(await status(`/projects/${p.name}/repositories/drop-${c}`), ok('deleteRepository') ? 404 : 200);
    assert.equal(await status(`/projects/${p.name}/repositories/dropart-${c}/artifacts/v1`), ok('deleteArtifact') ? 404 : 200);
    assert.equal(await status(`/projects/${p.name}/repositories/copy-${c}/artifacts/v1`), ok('copyArtifact') ? 200 : 404);
    assert.equal(await status(`/labels/${dropLabel}`), ok('deleteLabel') ? 404 : 200);
    const tags = ((await admin.call('GET', `/projects/${p.name}/repositories/app/artifacts/v1/tags?page_size=100`)).json() as { name: string }[]).map((t) => t.name);
    assert.equal(tags.includes(`new-${c}`), ok('createTag'));
    assert.equal(tags.includes(dropTag), !ok('deleteTag'));
    const labels = ((await admin.call('GET', `/projects/${p.name}/repositories/app/artifacts/v1?with_label=true`)).json().labels ?? []).map((l: { id: number }) => l.id);
    assert.equal(labels.includes(addLabel), ok('addLabel'));
    assert.equal(labels.includes(attachedLabel), !ok('removeLabel'));
  });
}
