// /api/v2.0/robots (Harbor v2 robot accounts): CRUD, the secret shown once and stored hashed, refresh, expiry,
// disable, no escalation (CVE-2019-16919), reserved names, mass assignment on PUT, the cross-project id sweep
// (CVE-2022-31667-style robot IDOR), audit events, and robot logins on /v2, /service/token and /api/v2.0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openBerthDatabase } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { useBerth } from '../registry/fixture.ts';
import { auditRows, expectApi } from './fixture.ts';

const PW = 'Robots-Passw0rd';
const DAY = 86_400;
let admin: ApiClient;
const f = useBerth({}, async (f) => {
  admin = new ApiClient(f.berth.url, 'admin', f.berth.adminPassword);
  for (const [p, pub] of [['ra', false], ['rb', false], ['rpub', true]] as const) {
    await admin.createProject(p, pub);
    await f.admin.pushImage(`${p}/app`, 'v1');
  }
  await admin.createUser('ra-admin', PW);
  await admin.addMember('ra', 'ra-admin', 1);
  await admin.createUser('rb-admin', PW);
  await admin.addMember('rb', 'rb-admin', 1);
  for (const [u, role] of [['ra-maint', 4], ['ra-dev', 2], ['ra-guest', 3]] as const) {
    await admin.createUser(u, PW);
    await admin.addMember('ra', u, role);
  }
});

const access = (...pairs: string[]) => pairs.map((p) => ({ resource: p.split(':')[0], action: p.split(':')[1] }));
const projectRobot = (name: string, project: string, ...pairs: string[]) => ({
  name,
  level: 'project',
  duration: -1,
  permissions: [{ kind: 'project', namespace: project, access: access(...pairs) }],
});

async function create(client: ApiClient, body: unknown): Promise<{ id: number; name: string; secret: string; expires_at: number; creation_time: string }> {
  const r = await client.call('POST', '/robots', body);
  assert.equal(r.status, 201, r.text);
  return r.json();
}

const reg = (name: string, secret: string, auth: 'token' | 'basic' = 'token') => new RegistryClient({ baseUrl: f.berth.url, username: name, password: secret, auth });
const tokenActions = async (c: RegistryClient, repo: string) => {
  const r = await c.tokenResponse([`repository:${repo}:pull,push,delete`]);
  if (r.status !== 200) return r.status;
  return JSON.parse(Buffer.from(r.json().token.split('.')[1], 'base64url').toString()).access[0].actions.sort();
};

test('system robot: create (secret once, Location, expires_at from duration), get/list without the secret, login on /v2, /service/token and the API', async () => {
  const before = Math.floor(Date.now() / 1000);
  const r = await admin.call('POST', '/robots', {
    name: 'ci',
    description: 'CI <script>alert(1)</script>',
    level: 'system',
    permissions: [{ kind: 'project', namespace: 'ra', access: access('repository:pull') }],
  });
  expectApi(r, 201);
  const created = r.json();
  assert.deepEqual(Object.keys(created).sort(), ['creation_time', 'expires_at', 'id', 'name', 'secret']);
  assert.equal(created.name, 'robot$ci');
  assert.equal(r.headers.get('location'), `/api/v2.0/robots/${created.id}`);
  assert.match(created.secret, /^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9]).{16,}$/);
  // default duration: 30 days
  assert.ok(Math.abs(created.expires_at - (before + 30 * DAY)) < 60, String(created.expires_at));

  const got = (await admin.call('GET', `/robots/${created.id}`)).json();
  assert.equal(got.secret, undefined);
  assert.doesNotMatch(JSON.stringify(got), new RegExp(created.secret));
  assert.doesNotMatch(JSON.stringify(got), /argon2/);
  assert.equal(got.level, 'system');
  assert.equal(got.duration, 30);
  assert.equal(got.disable, false);
  // Harbor 2.13+: creator_type (the security context: "local" user) and creator_ref (its id; admin is 1), no `creator`.
  assert.equal(got.creator_type, 'local');
  assert.equal(got.creator_ref, 1);
  assert.ok(!('creator' in got));
  assert.equal(got.description, 'CI <script>alert(1)</script>'); // stored as data, returned as JSON
  assert.deepEqual(got.permissions, [{ kind: 'project', namespace: 'ra', access: [{ resource: 'repository', action: 'pull', effect: 'allow' }] }]);
  // Stored as argon2id, never in clear.
  const db = await openBerthDatabase(f.berth);
  try {
    const row = await db.get<{ secret_hash: string }>('SELECT secret_hash FROM robots WHERE id = ?', [created.id]);
    assert.match(row!.secret_hash, /^\$argon2id\$/);
    assert.ok(!row!.secret_hash.includes(created.secret));
  } finally {
    await db.close();
  }

  // Logins: token (GET and POST password grant), Basic on /v2, Basic on the API.
  const c = reg('robot$ci', created.secret);
  assert.deepEqual(await tokenActions(c, 'ra/app'), ['pull']);
  assert.deepEqual(await tokenActions(c, 'rb/app'), []);
  const grant = await c.tokenPasswordGrant(['repository:ra/app:pull,push']);
  assert.equal(grant.status, 200);
  assert.deepEqual(JSON.parse(Buffer.from(grant.json().token.split('.')[1], 'base64url').toString()).access[0].actions, ['pull']);
  assert.equal(JSON.parse(Buffer.from(grant.json().token.split('.')[1], 'base64url').toString()).sub, 'robot$ci');
  assert.equal((await c.getManifest('ra/app', 'v1')).status, 200);
  assert.equal((await c.request('GET', '/v2/')).status, 200);
  assert.equal((await reg('robot$ci', created.secret, 'basic').getManifest('ra/app', 'v1')).status, 200);
  assert.equal((await reg('robot$ci', created.secret, 'basic').getManifest('rb/app', 'v1')).status, 403);
  const apiAsRobot = admin.as('robot$ci', created.secret);
  const projects = await apiAsRobot.call('GET', '/projects');
  expectApi(projects, 200);
  assert.deepEqual(projects.json().map((p: { name: string }) => p.name).sort(), ['library', 'ra', 'rpub']); // granted + public
  // A project the robot holds nothing on answers like a missing one (404, not 401: the robot is authenticated).
  expectApi(await apiAsRobot.call('GET', '/projects/rb', undefined, { 'X-Is-Resource-Name': 'true' }), 404, 'NOT_FOUND');
  expectApi(await apiAsRobot.call('GET', '/projects/ra/members', undefined, { 'X-Is-Resource-Name': 'true' }), 404, 'NOT_FOUND');
  expectApi(await admin.as('robot$ci', 'Wrong-Secret1').call('GET', '/projects'), 401, 'UNAUTHORIZED');
  assert.equal((await reg('robot$ci', 'Wrong-Secret1').tokenResponse(['repository:ra/app:pull'])).status, 401);
  // Robots have no portal session and no user profile.
  const login = await fetch(f.berth.url + '/c/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ principal: 'robot$ci', password: created.secret }) });
  assert.equal(login.status, 401);
  expectApi(await apiAsRobot.call('GET', '/users/current'), 403, 'FORBIDDEN');
  expectApi(await apiAsRobot.call('POST', '/projects', { project_name: 'by-robot' }), 403, 'FORBIDDEN');
  // and cannot manage robots
  expectApi(await apiAsRobot.call('POST', '/robots', projectRobot('x', 'ra', 'repository:pull')), 403, 'FORBIDDEN');

  // List: q, sort, paging headers; injection attempts are 400.
  await create(admin, { name: 'ci2', level: 'system', duration: 2, permissions: [{ kind: 'project', namespace: '*', access: access('repository:pull') }] });
  const list = await admin.call('GET', '/robots?q=Level=system&sort=-id&page_size=1');
  expectApi(list, 200);
  assert.equal(list.headers.get('x-total-count'), '2');
  assert.equal(list.json()[0].name, 'robot$ci2');
  assert.match(list.headers.get('link')!, /rel="next"/);
  assert.equal((await admin.call('GET', '/robots?q=name=~ci2')).json().length, 1);
  // Keys and sorts outside the allow-list are ignored as Harbor's ORM does — so secret_hash is never an oracle.
  const everything = (await admin.call('GET', '/robots')).json().map((r: any) => r.id);
  for (const q of ['q=secret_hash=~a', 'sort=secret_hash', 'sort=name;DROP%20TABLE%20robots', 'q=project_id__name=x']) {
    const r = await admin.call('GET', `/robots?${q}`);
    expectApi(r, 200);
    assert.deepEqual(r.json().map((x: any) => x.id), everything, q);
  }
  assert.equal((await admin.call('GET', '/robots?q=name=x%27%20OR%201=1')).json().length, 0);
  expectApi(await admin.call('GET', '/robots?page_size=1000'), 400, 'BAD_REQUEST');
  // The '*' robot pulls from every project.
  const all = (await admin.call('GET', '/robots?q=name=~ci2')).json()[0];
  assert.deepEqual(all.permissions[0].namespace, '*');
  assert.ok(Math.abs(all.expires_at - (before + 2 * DAY)) < 60);
});

test('refresh: PATCH with an empty secret generates one; a given secret must satisfy the password policy; the old one stops working', async () => {
  const r = await create(admin, projectRobot('refresh', 'ra', 'repository:pull'));
  assert.equal(r.name, 'robot$ra+refresh');
  const old = reg(r.name, r.secret);
  assert.deepEqual(await tokenActions(old, 'ra/app'), ['pull']);
  const p = await admin.call('PATCH', `/robots/${r.id}`, { secret: '' });
  expectApi(p, 200);
  const fresh = p.json().secret;
  assert.ok(typeof fresh === 'string' && fresh !== r.secret && fresh.length >= 16);
  assert.equal(await tokenActions(old, 'ra/app'), 401);
  assert.deepEqual(await tokenActions(reg(r.name, fresh), 'ra/app'), ['pull']);
  for (const secret of ['short1A', 'nouppercase1', 'NoDigitsHere', 42]) expectApi(await admin.call('PATCH', `/robots/${r.id}`, { secret }), 400, 'BAD_REQUEST');
  assert.deepEqual(await tokenActions(reg(r.name, fresh), 'ra/app'), ['pull']); // failed refreshes changed nothing
  expectApi(await admin.call('PATCH', `/robots/${r.id}`, { secret: 'Chosen-Secret1' }), 200);
  assert.deepEqual(await tokenActions(reg(r.name, 'Chosen-Secret1'), 'ra/app'), ['pull']);
  assert.equal(await tokenActions(reg(r.name, fresh), 'ra/app'), 401);
  // A secret given at creation must satisfy the policy too.
  expectApi(await admin.call('POST', '/robots', { ...projectRobot('weak', 'ra', 'repository:pull'), secret: 'weak' }), 400, 'BAD_REQUEST');
  const chosen = await create(admin, { ...projectRobot('chosen', 'ra', 'repository:pull'), secret: 'Given-Secret9' });
  assert.equal(chosen.secret, 'Given-Secret9');
});

test('duration: -1 never expires; a number of days sets expires_at; invalid values → 400; an expired robot is refused everywhere (401)', async () => {
  const never = await create(admin, projectRobot('never', 'ra', 'repository:pull'));
  assert.equal(never.expires_at, -1);
  const d7 = await create(admin, { ...projectRobot('d7', 'ra', 'repository:pull'), duration: 7 });
  assert.ok(Math.abs(d7.expires_at - (Date.parse(d7.creation_time) / 1000 + 7 * DAY)) < 2);
  for (const duration of [-2, 1.5, '7', 100_000]) expectApi(await admin.call('POST', '/robots', { ...projectRobot('bad-duration', 'ra', 'repository:pull'), duration }), 400, 'BAD_REQUEST');
  // PUT duration recomputes from the creation time.
  expectApi(await admin.call('PUT', `/robots/${d7.id}`, { duration: 1 }), 200);
  const after = (await admin.call('GET', `/robots/${d7.id}`)).json();
  assert.ok(Math.abs(after.expires_at - (Date.parse(d7.creation_time) / 1000 + DAY)) < 2);

  const c = reg(d7.name, d7.secret);
  const basic = reg(d7.name, d7.secret, 'basic');
  assert.deepEqual(await tokenActions(c, 'ra/app'), ['pull']);
  const db = await openBerthDatabase(f.berth);
  try {
    await db.run('UPDATE robots SET expires_at = ? WHERE id = ?', [Date.now() - 1000, d7.id]);
  } finally {
    await db.close();
  }
  assert.equal(await tokenActions(c, 'ra/app'), 401);
  assert.equal((await c.tokenPasswordGrant(['repository:ra/app:pull'])).status, 401);
  assert.equal((await basic.getManifest('ra/app', 'v1')).status, 401);
  expectApi(await admin.as(d7.name, d7.secret).call('GET', '/projects'), 401, 'UNAUTHORIZED');
  // still listed for its admins, with the past expiry
  assert.ok((await admin.call('GET', `/robots/${d7.id}`)).json().expires_at < Date.now() / 1000);
});

test('disable: a disabled robot is refused at once (token, Basic /v2, API) and works again when re-enabled; tokens issued before stop resolving', async () => {
  const r = await create(admin, projectRobot('toggle', 'ra', 'repository:pull', 'repository:push'));
  const c = reg(r.name, r.secret);
  assert.deepEqual(await tokenActions(c, 'ra/app'), ['pull', 'push']);
  const token = (await c.tokenResponse([])).json().token;
  assert.equal((await fetch(`${f.berth.url}/v2/`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
  expectApi(await admin.call('PUT', `/robots/${r.id}`, { disable: true }), 200);
  assert.equal((await admin.call('GET', `/robots/${r.id}`)).json().disable, true);
  assert.equal(await tokenActions(c, 'ra/app'), 401);
  assert.equal((await reg(r.name, r.secret, 'basic').getManifest('ra/app', 'v1')).status, 401);
  expectApi(await admin.as(r.name, r.secret).call('GET', '/projects'), 401, 'UNAUTHORIZED');
  await new Promise((res) => setTimeout(res, 5_100)); // the token-subject cache
  assert.equal((await fetch(`${f.berth.url}/v2/`, { headers: { authorization: `Bearer ${token}` } })).status, 401);
  expectApi(await admin.call('PUT', `/robots/${r.id}`, { disable: false }), 200);
  assert.deepEqual(await tokenActions(c, 'ra/app'), ['pull', 'push']);
  expectApi(await admin.call('PUT', `/robots/${r.id}`, { disable: 'yes' }), 400, 'BAD_REQUEST');
});

test('no escalation: project admins create project robots for their project only, with actions they hold; system robots are sysadmin-only (CVE-2019-16919)', async () => {
  const pa = admin.as('ra-admin', PW);
  const ok = await create(pa, projectRobot('pa-bot', 'ra', 'repository:pull', 'repository:push', 'repository:delete', 'artifact:delete'));
  assert.equal(ok.name, 'robot$ra+pa-bot');
  const paId = (await admin.call('GET', '/users?username=ra-admin')).json()[0].user_id;
  const okView = (await pa.call('GET', `/robots/${ok.id}`)).json();
  assert.deepEqual([okView.creator_type, okView.creator_ref], ['local', paId]);
  const count = async () => Number((await admin.call('GET', '/robots?page_size=1')).headers.get('x-total-count'));
  const n = await count();
  // another project, a system robot, '*', two projects, a system permission, non-grantable actions
  expectApi(await pa.call('POST', '/robots', projectRobot('evil', 'rb', 'repository:pull')), 403, 'FORBIDDEN');
  expectApi(await pa.call('POST', '/robots', projectRobot('evil', 'no-such-project', 'repository:pull')), 403, 'FORBIDDEN');
  expectApi(await pa.call('POST', '/robots', { ...projectRobot('evil', 'ra', 'repository:pull'), level: 'system' }), 403, 'FORBIDDEN');
  expectApi(await pa.call('POST', '/robots', { name: 'evil', level: 'system', permissions: [{ kind: 'project', namespace: '*', access: access('repository:pull') }] }), 403, 'FORBIDDEN');
  expectApi(await pa.call('POST', '/robots', { ...projectRobot('evil', '*', 'repository:pull') }), 400, 'BAD_REQUEST');
  expectApi(
    await pa.call('POST', '/robots', { name: 'evil', level: 'project', permissions: [{ kind: 'project', namespace: 'ra', access: access('repository:pull') }, { kind: 'project', namespace: 'rb', access: access('repository:pull') }] }),
    400,
    'BAD_REQUEST',
  );
  expectApi(await pa.call('POST', '/robots', { name: 'evil', level: 'project', permissions: [{ kind: 'system', namespace: '/', access: access('project:create') }] }), 400, 'BAD_REQUEST');
  for (const pair of ['robot:create', 'member:create', 'self:delete', 'catalog:read', 'repository:frobnicate', 'user:create'])
    expectApi(await pa.call('POST', '/robots', projectRobot('evil', 'ra', pair)), 400, 'BAD_REQUEST');
  expectApi(await admin.call('POST', '/robots', projectRobot('evil', 'ra', 'robot:create')), 400, 'BAD_REQUEST');
  // other roles hold no robot:create
  for (const u of ['ra-maint', 'ra-dev', 'ra-guest', 'rb-admin']) expectApi(await admin.as(u, PW).call('POST', '/robots', projectRobot('evil', 'ra', 'repository:pull')), 403, 'FORBIDDEN');
  expectApi(await new ApiClient(f.berth.url).call('POST', '/robots', projectRobot('evil', 'ra', 'repository:pull')), 401, 'UNAUTHORIZED');
  // PUT cannot widen either: another project's namespace, or a non-grantable action
  expectApi(await pa.call('PUT', `/robots/${ok.id}`, { permissions: [{ kind: 'project', namespace: 'rb', access: access('repository:pull') }] }), 400, 'BAD_REQUEST');
  expectApi(await pa.call('PUT', `/robots/${ok.id}`, { permissions: [{ kind: 'project', namespace: 'ra', access: access('member:create') }] }), 400, 'BAD_REQUEST');
  assert.equal(await count(), n);
  // The robot got exactly what was granted, on its project only.
  const c = reg(ok.name, ok.secret);
  assert.deepEqual(await tokenActions(c, 'ra/app'), ['delete', 'pull', 'push']);
  assert.deepEqual(await tokenActions(c, 'rb/app'), []);
  // Issue 12: a project robot pulls from a public project (only pulls), as in Harbor.
  assert.deepEqual(await tokenActions(c, 'rpub/app'), ['pull']);
  assert.equal((await c.getManifest('rpub/app', 'v1')).status, 200);
  const cat = JSON.parse(Buffer.from((await c.tokenResponse(['registry:catalog:*'])).json().token.split('.')[1], 'base64url').toString());
  assert.deepEqual(cat.access[0].actions, []);
  // Narrowing is allowed.
  expectApi(await pa.call('PUT', `/robots/${ok.id}`, { permissions: [{ kind: 'project', namespace: 'ra', access: access('repository:pull') }] }), 200);
  assert.deepEqual(await tokenActions(c, 'ra/app'), ['pull']);
});

test('system permissions (kind system, namespace /): accepted on system robots, shown back, enforced on project creation', async () => {
  const body = (name: string, pairs: string[]) => ({
    name,
    level: 'system',
    duration: -1,
    permissions: [
      { kind: 'system', namespace: '/', access: access(...pairs) },
      { kind: 'project', namespace: 'ra', access: access('repository:pull') },
    ],
  });
  const creator = await create(admin, body('sys-creator', ['project:create', 'registry:list']));
  const got = (await admin.call('GET', `/robots/${creator.id}`)).json();
  assert.deepEqual(
    got.permissions.find((p: any) => p.kind === 'system'),
    { kind: 'system', namespace: '/', access: [{ resource: 'project', action: 'create', effect: 'allow' }, { resource: 'registry', action: 'list', effect: 'allow' }] },
  );
  const plain = await create(admin, body('sys-plain', ['registry:list']));
  const asRobot = (r: { name: string; secret: string }) => new ApiClient(f.berth.url, r.name, r.secret);
  // With system project:create the robot creates a project (owned by a system admin); without it 403.
  expectApi(await asRobot(creator).call('POST', '/projects', { project_name: 'robot-made' }), 201);
  const made = (await admin.call('GET', '/projects/robot-made')).json();
  assert.equal(made.owner_name, 'admin');
  expectApi(await asRobot(plain).call('POST', '/projects', { project_name: 'robot-denied' }), 403, 'FORBIDDEN');
  expectApi(await admin.call('GET', '/projects/robot-denied'), 404, 'NOT_FOUND');
  const pr = await create(admin, projectRobot('proj-bot', 'ra', 'repository:pull'));
  expectApi(await asRobot(pr).call('POST', '/projects', { project_name: 'robot-denied' }), 403, 'FORBIDDEN');
  // The system grant gives nothing on projects: the project grant still rules /v2.
  assert.deepEqual(await tokenActions(reg(creator.name, creator.secret), 'rb/app'), []);
  assert.deepEqual(await tokenActions(reg(creator.name, creator.secret), 'ra/app'), ['pull']);
  // Update replaces the system grant; a non-system policy, a namespace other than / or two system grants → 400.
  expectApi(await admin.call('PUT', `/robots/${plain.id}`, { ...body('sys-plain', ['project:create']), disable: false }), 200);
  expectApi(await asRobot(plain).call('POST', '/projects', { project_name: 'robot-made2' }), 201);
  for (const bad of [
    body('sys-bad', ['repository:pull']),
    { ...body('sys-bad', []), permissions: [{ kind: 'system', namespace: '*', access: access('project:create') }] },
    { ...body('sys-bad', []), permissions: [{ kind: 'system', namespace: '/', access: access('project:create') }, { kind: 'system', namespace: '/', access: access('registry:list') }] },
  ])
    expectApi(await admin.call('POST', '/robots', bad), 400, 'BAD_REQUEST');
});

test('robot_name_prefix: names are prefix + (project+)name; logins use the configured prefix; existing robots follow a change (names stored bare)', async () => {
  const sys = await create(admin, { name: 'pfx-sys', level: 'system', duration: -1, permissions: [{ kind: 'project', namespace: 'ra', access: access('repository:pull') }] });
  const proj = await create(admin, projectRobot('pfx-proj', 'ra', 'repository:pull'));
  assert.equal(sys.name, 'robot$pfx-sys');
  assert.equal(proj.name, 'robot$ra+pfx-proj');
  // A row as Berth stored it before names were stored without the prefix (full default name).
  const legacy = await create(admin, projectRobot('pfx-legacy', 'ra', 'repository:pull'));
  const db = await openBerthDatabase(f.berth);
  try {
    assert.equal((await db.get<{ name: string }>('SELECT name FROM robots WHERE id = ?', [sys.id]))!.name, 'pfx-sys');
    await db.run('UPDATE robots SET name = ? WHERE id = ?', ['robot$ra+pfx-legacy', legacy.id]);
  } finally {
    await db.close();
  }
  expectApi(await admin.call('POST', '/robots', projectRobot('pfx-legacy', 'ra', 'repository:pull')), 409, 'CONFLICT');
  expectApi(await admin.call('PUT', '/configurations', { robot_name_prefix: 'bot_' }), 200);
  try {
    assert.equal((await admin.call('GET', `/robots/${sys.id}`)).json().name, 'bot_pfx-sys');
    assert.equal((await admin.call('GET', `/robots/${legacy.id}`)).json().name, 'bot_ra+pfx-legacy');
    for (const [r, bare] of [[sys, 'pfx-sys'], [proj, 'ra+pfx-proj'], [legacy, 'ra+pfx-legacy']] as const) {
      // The new prefix logs in on /service/token, /v2 Basic and the API; the old one no longer names a robot.
      assert.deepEqual(await tokenActions(reg(`bot_${bare}`, r.secret), 'ra/app'), ['pull']);
      assert.equal((await reg(`bot_${bare}`, r.secret, 'basic').request('GET', '/v2/ra/app/tags/list')).status, 200);
      // On the API the robot is authenticated (its grant holds no project read, so 404 rather than 401).
      expectApi(await new ApiClient(f.berth.url, `bot_${bare}`, r.secret).call('GET', '/projects/ra'), 404, 'NOT_FOUND');
      expectApi(await new ApiClient(f.berth.url, `robot$${bare}`, r.secret).call('GET', '/projects/ra'), 401, 'UNAUTHORIZED');
      assert.equal(await tokenActions(reg(`robot$${bare}`, r.secret), 'ra/app'), 401);
    }
    const fresh = await create(admin, projectRobot('pfx-new', 'ra', 'repository:pull'));
    assert.equal(fresh.name, 'bot_ra+pfx-new');
    assert.deepEqual(await tokenActions(reg(fresh.name, fresh.secret), 'ra/app'), ['pull']);
  } finally {
    expectApi(await admin.call('PUT', '/configurations', { robot_name_prefix: 'robot$' }), 200);
  }
  assert.deepEqual(await tokenActions(reg(sys.name, sys.secret), 'ra/app'), ['pull']);
});

test('names: Harbor grammar only, reserved scanner prefix refused, duplicates 409; users cannot take the robot prefix', async () => {
  for (const name of ['', 'Upper', 'a b', 'robot$x', 'x+y', '../x', 'a..b', '-a', 'a-', 'scanner-x', 'scanner', 'x'.repeat(201), 'nul\u0000', 42, null])
    expectApi(await admin.call('POST', '/robots', projectRobot(name as string, 'ra', 'repository:pull')), 400, 'BAD_REQUEST');
  // As Harbor, a robot's own name may start with "robot" (the full name is prefix + project + name).
  for (const name of ['robot', 'robot-1']) {
    const r = await create(admin, projectRobot(name, 'ra', 'repository:pull'));
    assert.equal(r.name, `robot$ra+${name}`);
    assert.equal(await tokenActions(reg(r.name, r.secret), 'ra/app').then((a) => JSON.stringify(a)), JSON.stringify(['pull']));
  }
  for (const level of ['', 'admin', undefined]) expectApi(await admin.call('POST', '/robots', { ...projectRobot('lvl', 'ra', 'repository:pull'), level }), 400, 'BAD_REQUEST');
  await create(admin, projectRobot('dup', 'ra', 'repository:pull'));
  expectApi(await admin.call('POST', '/robots', projectRobot('dup', 'ra', 'repository:pull')), 409, 'CONFLICT');
  await create(admin, projectRobot('dup', 'rb', 'repository:pull')); // another project, another full name
  expectApi(await admin.call('POST', '/users', { username: 'robot$ra+dup', password: PW, email: 'r@example.com' }), 400, 'BAD_REQUEST');
});

test('mass assignment: PUT ignores id, name, level, secret, creation_time, expires_at, creator_type/creator_ref', async () => {
  const r = await create(admin, { ...projectRobot('mass', 'ra', 'repository:pull'), duration: 3 });
  const before = (await admin.call('GET', `/robots/${r.id}`)).json();
  const evil = { id: 1, name: 'robot$evil', level: 'system', secret: 'Injected-Secret1', creation_time: '2000-01-01T00:00:00Z', expires_at: -1, creator: 'nobody', creator_type: 'robot', creator_ref: 99, editable: false, update_time: '2000-01-01T00:00:00Z' };
  expectApi(await admin.call('PUT', `/robots/${r.id}`, { ...evil, description: 'changed' }), 200);
  const after = (await admin.call('GET', `/robots/${r.id}`)).json();
  assert.equal(after.description, 'changed');
  for (const k of ['id', 'name', 'level', 'creation_time', 'expires_at', 'creator_type', 'creator_ref', 'duration', 'permissions']) assert.deepEqual(after[k], before[k], k);
  assert.equal(await tokenActions(reg(r.name, 'Injected-Secret1'), 'ra/app'), 401);
  assert.deepEqual(await tokenActions(reg(r.name, r.secret), 'ra/app'), ['pull']);
  // POST ignores read-only fields too (id, creation_time, expires_at, creator).
  const c = await create(admin, { ...projectRobot('mass2', 'ra', 'repository:pull'), id: 1, creation_time: '2000-01-01T00:00:00Z', expires_at: 1, creator: 'nobody', creator_type: 'robot', creator_ref: 99 });
  assert.notEqual(c.id, 1);
  assert.equal(c.expires_at, -1);
  const cv = (await admin.call('GET', `/robots/${c.id}`)).json();
  assert.deepEqual([cv.creator_type, cv.creator_ref], ['local', 1]);
});

test('cross-project id sweep: another project’s robot ids answer 404 to a project admin and nothing changes', async () => {
  const bBot = await create(admin.as('rb-admin', PW), projectRobot('victim', 'rb', 'repository:pull'));
  const sysBot = await create(admin, { name: 'sys-victim', level: 'system', duration: -1, permissions: [{ kind: 'project', namespace: 'rb', access: access('repository:pull') }] });
  const pa = admin.as('ra-admin', PW);
  for (const id of [bBot.id, sysBot.id, 999_999]) {
    expectApi(await pa.call('GET', `/robots/${id}`), 404, 'NOT_FOUND');
    expectApi(await pa.call('PUT', `/robots/${id}`, { disable: true, description: 'pwned', permissions: [{ kind: 'project', namespace: 'ra', access: access('repository:pull') }] }), 404, 'NOT_FOUND');
    expectApi(await pa.call('PATCH', `/robots/${id}`, { secret: 'Pwned-Secret1' }), 404, 'NOT_FOUND');
    expectApi(await pa.call('DELETE', `/robots/${id}`), 404, 'NOT_FOUND');
  }
  for (const b of [bBot, sysBot]) {
    const got = (await admin.call('GET', `/robots/${b.id}`)).json();
    assert.equal(got.disable, false);
    assert.equal(got.description, '');
    assert.deepEqual(await tokenActions(reg(b.name, b.secret), 'rb/app'), ['pull']);
  }
  // Listings: only one's own project, and ProjectID is required.
  expectApi(await pa.call('GET', '/robots'), 403, 'FORBIDDEN');
  const rbId = (await admin.call('GET', '/projects/rb', undefined, { 'X-Is-Resource-Name': 'true' })).json().project_id;
  const raId = (await admin.call('GET', '/projects/ra', undefined, { 'X-Is-Resource-Name': 'true' })).json().project_id;
  expectApi(await pa.call('GET', `/robots?q=ProjectID=${rbId}`), 403, 'FORBIDDEN');
  const mine = await pa.call('GET', `/robots?q=Level=project,ProjectID=${raId}`);
  expectApi(mine, 200);
  assert.ok(mine.json().length > 0);
  assert.ok(mine.json().every((r: { name: string }) => r.name.startsWith('robot$ra+')));
  // Project-scoped listing.
  const viaProject = await pa.call('GET', '/projects/ra/robots', undefined, { 'X-Is-Resource-Name': 'true' });
  expectApi(viaProject, 200);
  assert.deepEqual(viaProject.json().map((r: { id: number }) => r.id).sort(), mine.json().map((r: { id: number }) => r.id).sort());
  expectApi(await pa.call('GET', '/projects/rb/robots', undefined, { 'X-Is-Resource-Name': 'true' }), 404, 'NOT_FOUND');
  expectApi(await new ApiClient(f.berth.url).call('GET', '/projects/ra/robots', undefined, { 'X-Is-Resource-Name': 'true' }), 401, 'UNAUTHORIZED');
  // A guest may read and list robots of its project (Harbor: robot:read/list) but not change them.
  const guest = admin.as('ra-guest', PW);
  const anyRa = mine.json()[0].id;
  expectApi(await guest.call('GET', `/robots/${anyRa}`), 200);
  expectApi(await guest.call('PUT', `/robots/${anyRa}`, { description: 'x' }), 403, 'FORBIDDEN');
  expectApi(await guest.call('DELETE', `/robots/${anyRa}`), 403, 'FORBIDDEN');
});

test('delete, audit events, and a deleted project takes its robots (a re-created project of the same name is not granted)', async () => {
  await admin.createProject('rtmp', false);
  const pr = await create(admin, projectRobot('gone', 'rtmp', 'repository:pull'));
  const sys = await create(admin, { name: 'watcher', level: 'system', duration: -1, permissions: [{ kind: 'project', namespace: 'rtmp', access: access('repository:pull') }] });
  expectApi(await admin.call('PUT', `/robots/${pr.id}`, { description: 'x' }), 200);
  expectApi(await admin.call('DELETE', `/projects/rtmp`, undefined, { 'X-Is-Resource-Name': 'true' }), 200);
  expectApi(await admin.call('GET', `/robots/${pr.id}`), 404, 'NOT_FOUND');
  assert.equal(await tokenActions(reg(pr.name, pr.secret), 'rtmp/app'), 401);
  assert.deepEqual((await admin.call('GET', `/robots/${sys.id}`)).json().permissions, []);
  await admin.createProject('rtmp', false);
  assert.deepEqual(await tokenActions(reg(sys.name, sys.secret), 'rtmp/app'), []);
  expectApi(await admin.call('DELETE', `/robots/${sys.id}`), 200);
  expectApi(await admin.call('GET', `/robots/${sys.id}`), 404, 'NOT_FOUND');
  expectApi(await admin.call('DELETE', `/robots/${sys.id}`), 404, 'NOT_FOUND');
  assert.equal(await tokenActions(reg(sys.name, sys.secret), 'rtmp/app'), 401);
  expectApi(await admin.call('GET', '/robots/abc'), 400, 'BAD_REQUEST');
  const rows = await auditRows(f.berth);
  for (const [op, res] of [
    ['create', pr.name],
    ['update', pr.name],
    ['create', 'robot$watcher'],
    ['delete', 'robot$watcher'],
  ])
    assert.ok(rows.some((a) => a.operation === op && a.resource_type === 'robot' && a.resource === res && a.username === 'admin'), `${op} ${res}`);
  // Audit rows never hold a secret.
  const db = await openBerthDatabase(f.berth);
  try {
    const all = JSON.stringify(await db.all('SELECT * FROM audit_logs'));
    assert.ok(!all.includes(pr.secret) && !all.includes(sys.secret));
  } finally {
    await db.close();
  }
});

test('lockout counts robot failures too: after the threshold even the right secret is refused', async () => {
  const r = await create(admin, projectRobot('locked', 'ra', 'repository:pull'));
  const c = reg(r.name, r.secret);
  assert.deepEqual(await tokenActions(c, 'ra/app'), ['pull']);
  // test/helpers/berth.ts sets the threshold to 50 for every Berth it starts.
  for (let i = 0; i < 50; i++) assert.equal((await reg(r.name, `Wrong-Secret${i}`, 'basic').request('GET', '/v2/')).status, 401);
  assert.equal(await tokenActions(c, 'ra/app'), 401);
  expectApi(await admin.as(r.name, r.secret).call('GET', '/projects'), 401, 'UNAUTHORIZED');
  assert.ok((await auditRows(f.berth)).some((a) => a.operation === 'login_failed' && a.resource === r.name));
});

test('robot_token_duration (runtime setting) is the duration of robots created without one', async () => {
  expectApi(await admin.call('PUT', '/configurations', { robot_token_duration: 5 }), 200);
  try {
    const r = await create(admin, { ...projectRobot('five-days', 'ra', 'repository:pull'), duration: undefined });
    assert.ok(Math.abs(r.expires_at - (Date.parse(r.creation_time) / 1000 + 5 * DAY)) < 2, String(r.expires_at));
    assert.equal((await admin.call('GET', `/robots/${r.id}`)).json().duration, 5);
  } finally {
    expectApi(await admin.call('PUT', '/configurations', { robot_token_duration: 30 }), 200);
  }
});

test('robots on the artifact, label and audit-log API: their grants apply, other projects answer 404, missing actions 403 (never a login prompt)', async () => {
  const rb = await create(admin, projectRobot('artifact-reader', 'ra', 'repository:pull', 'repository:list', 'artifact:read', 'artifact:list'));
  const robot = admin.as(rb.name, rb.secret);
  expectApi(await robot.call('GET', '/projects/ra/repositories'), 200);
  const arts = await robot.call('GET', '/projects/ra/repositories/app/artifacts');
  expectApi(arts, 200);
  assert.equal(arts.json().length, 1);
  // Another project, private: answered as missing, whether it exists or not.
  expectApi(await robot.call('GET', '/projects/rb/repositories'), 404, 'NOT_FOUND');
  expectApi(await robot.call('GET', '/projects/rb/repositories/app/artifacts/v1'), 404, 'NOT_FOUND');
  expectApi(await robot.call('GET', '/projects/no-such-project/repositories'), 404, 'NOT_FOUND');
  // Its own project, an action it was not granted: 403, and nothing changed.
  expectApi(await robot.call('DELETE', '/projects/ra/repositories/app/artifacts/v1'), 403, 'FORBIDDEN');
  expectApi(await robot.call('POST', '/projects/ra/repositories/app/artifacts/v1/tags', { name: 'robot-tag' }), 403, 'FORBIDDEN');
  const raId = (await admin.call('GET', '/projects/ra')).json().project_id;
  expectApi(await robot.call('POST', '/labels', { name: 'robot-label', scope: 'p', project_id: raId }), 403, 'FORBIDDEN');
  const rbId = (await admin.call('GET', '/projects/rb')).json().project_id;
  expectApi(await robot.call('GET', `/labels?scope=p&project_id=${rbId}`), 404, 'NOT_FOUND');
  expectApi(await admin.call('GET', '/projects/ra/repositories/app/artifacts/v1'), 200);
  const tags = (await admin.call('GET', '/projects/ra/repositories/app/artifacts/v1/tags')).json().map((t: { name: string }) => t.name);
  assert.deepEqual(tags, ['v1']);
  // A global label is readable by an authenticated robot but not writable.
  const label = await admin.call('POST', '/labels', { name: `g-robot-${Date.now()}`, scope: 'g', color: '#000000' });
  expectApi(label, 201);
  const labelId = Number(label.headers.get('location')!.split('/').pop());
  expectApi(await robot.call('GET', `/labels/${labelId}`), 200);
  expectApi(await robot.call('PUT', `/labels/${labelId}`, { name: 'renamed' }), 403, 'FORBIDDEN');
  expectApi(await admin.as(null).call('GET', `/labels/${labelId}`), 401, 'UNAUTHORIZED');
});
