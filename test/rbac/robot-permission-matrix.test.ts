// Robot accounts in the permission matrices (test/rbac/robot-matrix.json): robots with various grants × public
// and private project × pull/push/delete/catalog through the real token flow and with Basic on /v2, and the
// /api/v2.0 robot endpoints × every role, anonymous, sysadmin and a robot caller × both visibilities.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { useBerth } from '../registry/fixture.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { openBerthDatabase } from '../helpers/berth.ts';

type Action = 'pull' | 'push' | 'delete' | 'catalog';
interface RobotSpec {
  level: 'system' | 'project';
  namespace?: 'project' | '*';
  otherProject?: boolean;
  access: string[];
  disable?: boolean;
  expired?: boolean;
}
interface Cell {
  robot: string;
  project: Vis;
  tokenActions: string[] | null;
  token: Record<Action, number> | null;
  basic: Record<Action, number>;
}
interface ApiCell {
  principal: string;
  project: Vis;
  expect: Record<string, number>;
}
type Vis = 'public' | 'private';
const matrix = JSON.parse(readFileSync(new URL('./robot-matrix.json', import.meta.url), 'utf8')) as {
  robots: Record<string, RobotSpec>;
  cells: Cell[];
  api: { endpoints: Record<string, { method: string; path: string; body: unknown }>; cells: ApiCell[] };
};
const PASSWORD = 'Matrix-Passw0rd';
const suffix = randomBytes(3).toString('hex');
const projectName: Record<Vis, string> = { public: `rpub-${suffix}`, private: `rpriv-${suffix}` };
const other = (v: Vis): Vis => (v === 'public' ? 'private' : 'public');
const ROLES: Record<string, number> = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 };

const projectId: Partial<Record<Vis, number>> = {};
/** Credentials of each matrix robot per cell visibility. */
const creds = new Map<string, { name: string; secret: string }>();
/** Per visibility: a project robot {r} for the API cells, and the pull-only robot that calls the API. */
const apiRobot: Partial<Record<Vis, { id: number; name: string; secret: string }>> = {};
let admin: ApiClient;

const toAccess = (pairs: string[]) => pairs.map((p) => ({ resource: p.split(':')[0], action: p.split(':')[1] }));
async function createRobot(body: Record<string, unknown>): Promise<{ id: number; name: string; secret: string }> {
  const r = await admin.call('POST', '/robots', body);
  if (r.status !== 201) throw new Error(`create robot: ${r.status} ${r.text}`);
  return r.json();
}

const f = useBerth({}, async (f) => {
  admin = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
  for (const vis of ['public', 'private'] as const) projectId[vis] = await admin.createProject(projectName[vis], vis === 'public');
  for (const who of [...Object.keys(ROLES), 'nonMember', 'sysadmin']) {
    const id = await admin.createUser(`rm-${who.toLowerCase()}`, PASSWORD);
    if (who === 'sysadmin') assert.equal((await admin.call('PUT', `/users/${id}/sysadmin`, { sysadmin_flag: true })).status, 200);
    if (ROLES[who]) for (const vis of ['public', 'private'] as const) await admin.addMember(projectName[vis], `rm-${who.toLowerCase()}`, ROLES[who]);
  }
  // The matrix robots, per cell visibility.
  const expiredIds: number[] = [];
  for (const [key, spec] of Object.entries(matrix.robots)) {
    for (const vis of ['public', 'private'] as const) {
      const target = spec.otherProject ? other(vis) : vis;
      const permissions = [{ kind: 'project', namespace: spec.namespace === '*' ? '*' : projectName[target], access: toAccess(spec.access) }];
      const name = `${key.toLowerCase()}-${vis}`;
      const r = await createRobot({ name, level: spec.level, duration: -1, disable: spec.disable === true, permissions });
      creds.set(`${key}/${vis}`, { name: r.name, secret: r.secret });
      if (spec.expired) expiredIds.push(r.id);
    }
  }
  const db = await openBerthDatabase(f.berth);
  try {
    for (const id of expiredIds) await db.run('UPDATE robots SET expires_at = ? WHERE id = ?', [Date.now() - 60_000, id]);
  } finally {
    await db.close();
  }
  for (const vis of ['public', 'private'] as const) {
    apiRobot[vis] = await createRobot({ name: `api-${vis}`, level: 'project', duration: -1, permissions: [{ kind: 'project', namespace: projectName[vis], access: toAccess(['repository:pull']) }] });
    await f.admin.pushImage(`${projectName[vis]}/seed`, 'v1');
    for (const c of matrix.cells) for (const flow of ['token', 'basic']) await f.admin.pushImage(`${projectName[vis]}/del-${c.robot.toLowerCase()}-${flow}`, 'v1');
  }
});

const claimsOf = (token: string) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());

test('the robot matrix covers every robot on both visibilities, and every API endpoint for every principal', () => {
  const seen = new Set(matrix.cells.map((c) => `${c.robot}/${c.project}`));
  for (const r of Object.keys(matrix.robots)) for (const v of ['public', 'private']) assert.ok(seen.has(`${r}/${v}`), `${r}/${v}`);
  for (const p of ['projectAdmin', 'maintainer', 'developer', 'guest', 'limitedGuest', 'nonMember', 'anonymous', 'sysadmin', 'robot'])
    for (const v of ['public', 'private']) {
      const cell = matrix.api.cells.find((c) => c.principal === p && c.project === v);
      assert.ok(cell, `${p}/${v}`);
      assert.deepEqual(Object.keys(cell.expect).sort(), Object.keys(matrix.api.endpoints).sort());
    }
});

for (const cell of matrix.cells) {
  const label = `robot ${cell.robot} on a ${cell.project} project`;
  const client = (auth: 'token' | 'basic') => {
    const c = creds.get(`${cell.robot}/${cell.project}`)!;
    return new RegistryClient({ baseUrl: f.berth.url, username: c.name, password: c.secret, auth });
  };

  test(`${label}: /service/token → ${cell.tokenActions === null ? '401' : JSON.stringify(cell.tokenActions)}`, async () => {
    const c = client('token');
    const repo = `${projectName[cell.project]}/seed`;
    const r = await c.tokenResponse([`repository:${repo}:pull,push,delete`, 'registry:catalog:*']);
    const g = await c.tokenPasswordGrant([`repository:${repo}:pull`]);
    if (cell.tokenActions === null) {
      assert.equal(r.status, 401, String(r));
      assert.equal(g.status, 401, String(g));
      return;
    }
    assert.equal(r.status, 200, String(r));
    const claims = claimsOf(r.json().token);
    assert.equal(claims.sub, creds.get(`${cell.robot}/${cell.project}`)!.name);
    assert.deepEqual([...claims.access[0].actions].sort(), cell.tokenActions);
    assert.deepEqual(claims.access[1].actions, [], 'robots never get the catalog');
    assert.equal(g.status, 200, String(g));
    assert.deepEqual([...claimsOf(g.json().token).access[0].actions].sort(), cell.tokenActions);
  });

  for (const flow of ['token', 'basic'] as const) {
    const want = cell[flow];
    if (!want) continue;
    test(`${label}, ${flow}: pull/push/delete/catalog → ${JSON.stringify(want)}`, async () => {
      const c = client(flow);
      const proj = projectName[cell.project];
      const pull = await c.getManifest(`${proj}/seed`, 'v1');
      assert.equal(pull.status, want.pull, `pull: ${pull}`);
      const push = await c.request('POST', `/v2/${proj}/up-${cell.robot.toLowerCase()}-${flow}/blobs/uploads/`);
      assert.equal(push.status, want.push, `push: ${push}`);
      if (push.status === 202) assert.equal((await c.request('DELETE', push.header('location')!)).status, 204);
      const delRepo = `${proj}/del-${cell.robot.toLowerCase()}-${flow}`;
      const digest = (await f.admin.headManifest(delRepo, 'v1')).header('docker-content-digest')!;
      const del = await c.request('DELETE', `/v2/${delRepo}/manifests/${digest}`);
      assert.equal(del.status, want.delete, `delete: ${del}`);
      assert.equal((await f.admin.headManifest(delRepo, digest)).status, want.delete === 202 ? 404 : 200, 'a refused delete changes nothing');
      const cat = await c.request('GET', '/v2/_catalog');
      assert.equal(cat.status, want.catalog, `catalog: ${cat}`);
      for (const r of [pull, push, del, cat]) {
        if (r.status === 401) assert.ok(r.header('www-authenticate'), `401 without a challenge: ${r}`);
        if (r.status === 403) assert.ok(r.errorCodes().includes('DENIED'), String(r));
      }
    });
  }
}

let seq = 0;
for (const cell of matrix.api.cells) {
  test(`robot API as ${cell.principal} on a ${cell.project} project → ${JSON.stringify(cell.expect)}`, async () => {
    const vis = cell.project;
    const caller =
      cell.principal === 'anonymous'
        ? new ApiClient(f.berth.url)
        : cell.principal === 'robot'
          ? new ApiClient(f.berth.url, apiRobot[vis]!.name, apiRobot[vis]!.secret)
          : new ApiClient(f.berth.url, `rm-${cell.principal.toLowerCase()}`, PASSWORD);
    for (const [name, ep] of Object.entries(matrix.api.endpoints)) {
      const fresh = `m${++seq}-${cell.principal.toLowerCase()}`;
      let throwaway = 0;
      if (ep.path.includes('{throwaway}'))
        throwaway = (await createRobot({ name: `t${++seq}`, level: 'project', duration: -1, permissions: [{ kind: 'project', namespace: projectName[vis], access: toAccess(['repository:pull']) }] })).id;
      const fill = (s: string) =>
        s
          .replaceAll('{p}', String(projectId[vis]))
          .replaceAll('{pname}', projectName[vis])
          .replaceAll('{r}', String(apiRobot[vis]!.id))
          .replaceAll('{throwaway}', String(throwaway))
          .replaceAll('{fresh}', fresh);
      const body = ep.body === null ? undefined : JSON.parse(fill(JSON.stringify(ep.body)));
      const before = (await admin.call('GET', `/robots/${apiRobot[vis]!.id}`)).json();
      const r = await caller.call(ep.method, fill(ep.path), body);
      assert.equal(r.status, cell.expect[name], `${name}: ${r.status} ${r.text}`);
      if (r.status >= 400) {
        assert.ok(Array.isArray(r.json().errors), r.text);
        // Nothing changed: the robot {r} as before, the throwaway still there, no robot named `fresh`.
        assert.deepEqual((await admin.call('GET', `/robots/${apiRobot[vis]!.id}`)).json(), before);
        if (throwaway) assert.equal((await admin.call('GET', `/robots/${throwaway}`)).status, 200);
        assert.equal((await admin.call('GET', `/robots?q=name=~${fresh}`)).json().length, 0);
      }
      if (name === 'refreshRobot' && r.status === 200) {
        // Keep the API robot usable for the next cells: set its secret back.
        assert.equal((await admin.call('PATCH', `/robots/${apiRobot[vis]!.id}`, { secret: apiRobot[vis]!.secret })).status, 200);
      }
    }
  });
}
