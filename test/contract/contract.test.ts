// Contract tests: Berth's /api/v2.0 against Harbor's published swagger (fixtures/harbor-swagger.yaml).
// The operations checked are the ones in the OpenAPI document a running Berth serves (generated from the
// route schemas), so every new route is checked without touching this file:
//   static:  the operation exists in Harbor with the same method and path shape, the same operationId, path
//            parameter names; its query/path parameters are Harbor's (name, in, type); its body properties and
//            response properties are properties of Harbor's definitions; its status codes are Harbor's.
//   dynamic: with a seeded project, user, member and a pushed image, every GET operation is called and the
//            keys of the actual JSON are checked against Harbor's response definition.
// Exceptions live in allow-list.json, each with a reason.
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { Receiver } from '../helpers/receiver.ts';
import { berthOperations, checkJson, compareSchemas, HarborSpec, pathParamNames, type Json, type Operation } from './harbor-spec.ts';

interface AllowList {
  operations: Record<string, string>;
  knownDifferences: Record<string, string>;
  responseFields: Record<string, Record<string, string>>;
  dynamicSkip: Record<string, string>;
}
const allow: AllowList = JSON.parse(readFileSync(join(import.meta.dirname, 'allow-list.json'), 'utf8'));
const harbor = HarborSpec.load();

let berth: Berth;
let admin: ApiClient;
let doc: Json;
let ops: Operation[];
// The target of the seeded webhook policy: one real delivery gives its execution, task and log GETs an id.
const rx = new Receiver();

before(async () => {
  await rx.start();
  berth = await startBerth({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
  admin = new ApiClient(berth.url, 'admin', berth.adminPassword);
  const r = await fetch(`${berth.url}/api/v2.0/openapi.json`);
  assert.equal(r.status, 200);
  doc = await r.json();
  ops = berthOperations(doc);
});

after(async () => {
  const out = berth?.output() ?? '';
  await berth?.stop();
  await rx.stop();
  assert.doesNotMatch(out, /request failed|"level":50|"level":60/, `server logged errors:\n${out.slice(-4000)}`);
});

const key = (o: Operation) => `${o.method} ${o.path}`;
/** Fails with every problem not listed in allow-list.json knownDifferences (each listed once). */
function failIfAny(problems: string[], what: string): void {
  const left = [...new Set(problems)].filter((p) => !Object.hasOwn(allow.knownDifferences, p));
  assert.deepEqual(left, [], `${left.length} ${what}:\n${left.join('\n')}`);
}

test('the OpenAPI document is served at /api/v2.0/openapi.json and /swagger.json, with a local Swagger UI at /devcenter-api-2.0', async () => {
  assert.match(doc.openapi, /^3\./);
  assert.deepEqual(doc.servers, [{ url: '/api/v2.0' }]);
  assert.deepEqual(doc.components.securitySchemes.basic, { type: 'http', scheme: 'basic' });
  const again = await (await fetch(`${berth.url}/swagger.json`)).json();
  assert.deepEqual(again, doc);
  // only the management API: no registry protocol, token service or the documentation routes themselves
  const paths = Object.keys(doc.paths);
  assert.ok(paths.length >= 20, `${paths.length} paths`);
  for (const p of paths) assert.doesNotMatch(p, /^\/(v2|service|api\/v2\.0|swagger|devcenter)/, p);
  for (const p of ['/users', '/projects', '/projects/{project_name_or_id}/members/{mid}', '/quotas/{id}', '/system/gc/schedule']) assert.ok(paths.includes(p), p);

  const page = await fetch(`${berth.url}/devcenter-api-2.0/`);
  assert.equal(page.status, 200);
  const html = await page.text();
  assert.match(html, /swagger-ui/);
  // every asset is served by Berth itself: no CDN, no external validator badge
  const init = await (await fetch(`${berth.url}/devcenter-api-2.0/static/swagger-initializer.js`)).text();
  for (const text of [html, init]) assert.doesNotMatch(text, /(src|href)=["']https?:|url: ["']https?:/);
  assert.match(init, /validatorUrl: null/);
  for (const m of html.matchAll(/(?:src|href)="(\.\/static\/[^"]+)"/g)) {
    const asset = await fetch(new URL(m[1], `${berth.url}/devcenter-api-2.0/`));
    assert.equal(asset.status, 200, m[1]);
    await asset.arrayBuffer();
  }
});

test('every operation Berth documents is Harbor\'s: path, method, operationId, parameters, body, status codes, response fields', (t) => {
  t.diagnostic(`${ops.length} operations in Berth's document, ${harbor.operations.length} in Harbor's swagger`);
  const problems: string[] = [];
  for (const o of ops) {
    const where = key(o);
    if (!o.operationId) {
      problems.push(`${where}: no operationId (the route has no schema)`);
      continue;
    }
    const h = harbor.find(o.method, o.path);
    if (!h) {
      if (!allow.operations[where]) problems.push(`${where} (${o.operationId}): not in Harbor's swagger and not in allow-list.json`);
      continue;
    }
    if (h.operationId !== o.operationId) problems.push(`${where}: operationId ${o.operationId}, Harbor's is ${h.operationId}`);
    // path parameters: same names at the same places
    const bn = pathParamNames(o.path);
    const hn = pathParamNames(h.path);
    bn.forEach((n, i) => {
      if (n !== hn[i]) problems.push(`${where}: path parameter {${n}} is {${hn[i]}} in Harbor`);
    });
    for (const p of o.params) {
      const hp = h.params.find((x) => x.in === p.in && x.name === p.name);
      if (!hp) {
        if (p.in !== 'path') problems.push(`${where}: ${p.in} parameter ${p.name} is not Harbor's (${h.params.filter((x) => x.in === p.in).map((x) => x.name).join(', ')})`);
        continue;
      }
      if (p.type && hp.type && p.type !== hp.type && !(p.type === 'integer' && hp.type === 'number')) problems.push(`${where}: ${p.in} parameter ${p.name} is ${p.type}, Harbor's is ${hp.type}`);
    }
    if (o.body) {
      if (!h.body) problems.push(`${where}: Berth takes a request body, Harbor's ${h.operationId} takes none`);
      else compareSchemas(harbor, o.body, h.body, `${where} body`, problems);
    }
    for (const [code, schema] of o.responses) {
      if (!h.responses.has(code)) {
        problems.push(`${where}: status ${code} is not documented by Harbor (${[...h.responses.keys()].join(', ')})`);
        continue;
      }
      if (/^2/.test(code) && schema && schema.type !== 'null') {
        const hs = h.responses.get(code);
        if (!hs) problems.push(`${where}: ${code} has a body, Harbor's has none`);
        else compareSchemas(harbor, schema, hs, `${where} ${code}`, problems);
      }
    }
  }
  failIfAny(problems, 'contract differences');
  // every allow-listed extra operation still exists (stale entries would hide nothing, but mislead)
  for (const k of Object.keys(allow.operations)) assert.ok(ops.some((o) => key(o) === k), `allow-list.json lists ${k}, which Berth no longer documents`);
});

test('request bodies are validated from the route schemas: unknown and read-only fields are removed, wrong types are 400 BAD_REQUEST', async () => {
  const name = `ct-body-${Date.now().toString(36)}`;
  const r = await admin.call('POST', '/users', { username: name, password: 'Passw0rd!x', email: `${name}@example.com`, realname: 'R', sysadmin_flag: true, user_id: 1, creation_time: 'x' });
  assert.equal(r.status, 201, r.text);
  const id = Number(r.headers.get('location')!.split('/').pop());
  const u = (await admin.call('GET', `/users/${id}`)).json();
  assert.equal(u.sysadmin_flag, false);
  assert.notEqual(u.user_id, 1);
  for (const [method, path, body] of [
    ['PUT', `/users/${id}/sysadmin`, { sysadmin_flag: 'true' }],
    ['POST', '/projects', { project_name: 42 }],
    ['PUT', `/users/${id}`, { email: ['a@b.c'] }],
    ['POST', '/system/gc/schedule', { schedule: { type: 'Sometimes' } }],
  ] as const) {
    const e = await admin.call(method, path, body);
    assert.equal(e.status, 400, `${method} ${path}: ${e.text}`);
    assert.deepEqual(Object.keys(e.json()), ['errors']);
    assert.equal(e.json().errors[0].code, 'BAD_REQUEST');
  }
  assert.equal((await admin.call('GET', `/users/${id}`)).json().sysadmin_flag, false);
  // Wrong credentials are answered 401 before the body is looked at; anonymous callers get the body's 400 or 401.
  const wrong = admin.as('admin', 'Wr0ng-password');
  for (const [method, path, body] of [
    ['POST', '/projects', { project_name: 42 }],
    ['POST', '/projects', { project_name: 'fine-name' }],
  ] as const) {
    const e = await wrong.call(method, path, body);
    assert.equal(e.status, 401, `${method} ${path}: ${e.text}`);
    assert.equal(e.json().errors[0].code, 'UNAUTHORIZED');
  }
});

// ---- dynamic check

interface Seed {
  project: { id: number; name: string };
  user: { id: number; name: string };
  memberId: number;
  repo: string;
  digest: string;
  tag: string;
  ids: Record<string, string>;
}

const hasOp = (id: string) => ops.some((o) => o.operationId === id);
const locationId = (r: { headers: Headers }) => r.headers.get('location')?.split('/').pop() ?? '';

async function seed(): Promise<Seed> {
  const suffix = Date.now().toString(36);
  const project = { name: `ct-proj-${suffix}`, id: 0 };
  project.id = await admin.createProject(project.name, false);
  const user = { name: `ct-user-${suffix}`, id: 0 };
  user.id = await admin.createUser(user.name);
  const memberId = await admin.addMember(project.id, user.name, 2);
  const reg = new RegistryClient({ baseUrl: berth.url, username: 'admin', password: berth.adminPassword });
  const repo = 'team/app';
  const img = await reg.pushImage(`${project.name}/${repo}`, 'v1', { layers: 2 });
  await reg.pushImage(`${project.name}/plain`, 'latest');
  const ids: Record<string, string> = {};
  // one run of each system job, so their history/get/log endpoints have an id
  for (const [base, param] of [
    ['/system/gc', 'gc_id'],
    ['/system/purgeaudit', 'purge_id'],
  ] as const) {
    const r = await admin.call('POST', `${base}/schedule`, { schedule: { type: 'Manual' }, parameters: { dry_run: true, audit_retention_hour: 24 } });
    assert.equal(r.status, 201, `${base}: ${r.text}`);
    ids[param] = locationId(r);
  }
  if (hasOp('getWorkerPools')) {
    const r = await admin.call('GET', '/jobservice/pools');
    assert.equal(r.status, 200, `getWorkerPools: ${r.text}`);
    ids.pool_id = encodeURIComponent(r.json()[0].worker_pool_id);
    // A Berth execution has exactly one task, created with it: the GC run's job (task) id is its id.
    ids.job_id = ids.gc_id;
    ids.job_type = 'all';
  }
  if (hasOp('CreateLabel')) {
    const r = await admin.call('POST', '/labels', { name: `ct-label-${suffix}`, color: '#0065AB', description: 'contract test', scope: 'g' });
    assert.equal(r.status, 201, `CreateLabel: ${r.text}`);
    ids.label_id = locationId(r);
    if (hasOp('addLabel')) {
      const a = await admin.call('POST', `/projects/${project.name}/repositories/${encodeURIComponent(encodeURIComponent(repo))}/artifacts/${img.digest}/labels`, { id: Number(ids.label_id) });
      assert.equal(a.status, 200, `addLabel: ${a.text}`);
    }
  }
  if (hasOp('listScanners')) {
    const r = await admin.call('GET', '/scanners');
    assert.equal(r.status, 200, `listScanners: ${r.text}`);
    ids.registration_id = r.json()[0].uuid;
  }
  if (hasOp('scanArtifact')) {
    // The seeded image's layers are random bytes: its scan ends in Error, which still leaves a report and a log.
    const art = `/projects/${project.name}/repositories/${encodeURIComponent(encodeURIComponent(repo))}/artifacts/${img.digest}`;
    const r = await admin.call('POST', `${art}/scan`);
    assert.equal(r.status, 202, `scanArtifact: ${r.text}`);
    for (let i = 0; i < 100 && !ids.report_id; i++) {
      const o = (await admin.call('GET', `${art}?with_scan_overview=true`)).json().scan_overview;
      const sum = o?.['application/vnd.security.vulnerability.report; version=1.1'];
      if (sum && ['Success', 'Error'].includes(sum.scan_status)) ids.report_id = sum.report_id;
      else await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(ids.report_id, 'the seeded scan did not end');
  }
  if (hasOp('CreateRobot')) {
    const r = await admin.call('POST', '/robots', {
      name: `ct-robot-${suffix}`,
      level: 'project',
      duration: -1,
      permissions: [{ kind: 'project', namespace: project.name, access: [{ resource: 'repository', action: 'pull' }] }],
    });
    assert.equal(r.status, 201, `CreateRobot: ${r.text}`);
    ids.robot_id = String(r.json().id ?? locationId(r));
  }
  if (hasOp('createUserGroup')) {
    const r = await admin.call('POST', '/usergroups', { group_name: `ct-group-${suffix}`, group_type: 3 });
    if (r.status === 201) ids.group_id = locationId(r);
  }
  if (hasOp('CreateWebhookPolicyOfProject')) {
    // A local receiver (loopback is allow-listed for this Berth), then one push delivered to it.
    const r = await admin.call('POST', `/projects/${project.name}/webhook/policies`, {
      name: `ct-hook-${suffix}`,
      event_types: ['PUSH_ARTIFACT'],
      targets: [{ type: 'http', address: rx.url('/ct') }],
    });
    assert.equal(r.status, 201, `CreateWebhookPolicyOfProject: ${r.text}`);
    ids.webhook_policy_id = locationId(r);
    await reg.pushImage(`${project.name}/hooked`, 'v1');
    await rx.waitFor((rs) => rs.some((x) => x.path === '/ct'));
    const executions = `/projects/${project.name}/webhook/policies/${ids.webhook_policy_id}/executions`;
    for (let i = 0; i < 50 && !ids.task_id; i++) {
      const ex = (await admin.call('GET', executions)).json()[0];
      if (ex?.status === 'Success') {
        ids.execution_id = String(ex.id);
        ids.task_id = String((await admin.call('GET', `${executions}/${ex.id}/tasks`)).json()[0].id);
      } else await new Promise((res) => setTimeout(res, 100));
    }
    assert.ok(ids.task_id, 'the seeded delivery finished');
  }
  if (hasOp('CreateImmuRule')) {
    // A rule over a repository the seed does not have, so nothing seeded becomes immutable.
    const r = await admin.call('POST', `/projects/${project.name}/immutabletagrules`, {
      action: 'immutable',
      template: 'immutable_template',
      tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: 'v*' }],
      scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: 'ct-none/**' }] },
    });
    assert.equal(r.status, 201, `CreateImmuRule: ${r.text}`);
    ids.immutable_rule_id = locationId(r);
  }
  if (hasOp('createRetention')) {
    // `always` over every repository, run dry: one task per repository, nothing deleted.
    const r = await admin.call('POST', '/retentions', {
      algorithm: 'or',
      rules: [{ action: 'retain', template: 'always', tag_selectors: [{ kind: 'doublestar', decoration: 'matches', pattern: '**' }], scope_selectors: { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] } }],
      trigger: { kind: 'Schedule', settings: {}, references: {} },
      scope: { level: 'project', ref: project.id },
    });
    assert.equal(r.status, 201, `createRetention: ${r.text}`);
    ids.retention_id = locationId(r);
    const e = await admin.call('POST', `/retentions/${ids.retention_id}/executions`, { dry_run: true });
    assert.equal(e.status, 201, `triggerRetentionExecution: ${e.text}`);
    ids.eid = locationId(e);
    const t = await admin.call('GET', `/retentions/${ids.retention_id}/executions/${ids.eid}/tasks`);
    ids.tid = String(t.json()[0]?.id);
  }
  if (hasOp('getIcon')) {
    // the icon the pushed image names ({digest} of GET /icons/{digest})
    const a = await admin.call('GET', `/projects/${project.name}/repositories/${encodeURIComponent(encodeURIComponent(repo))}/artifacts/${img.digest}`);
    ids.digest = a.json().icon;
  }
  return { project, user, memberId, repo, digest: img.digest, tag: 'v1', ids };
}

/** The value of a path parameter for operation `o`, or undefined when the seed has none. */
function pathValue(s: Seed, o: Operation, name: string): string | undefined {
  switch (name) {
    case 'project_name_or_id':
      return String(s.project.id);
    case 'project_name':
      return s.project.name;
    case 'repository_name':
      return encodeURIComponent(encodeURIComponent(s.repo));
    case 'reference':
      return s.digest;
    case 'tag_name':
      return s.tag;
    case 'user_id':
      return String(s.user.id);
    case 'mid':
      return String(s.memberId);
    case 'meta_name':
      return 'public';
    case 'addition':
      return 'build_history';
    case 'id':
      return o.path.startsWith('/quotas/') ? String(s.project.id) : o.path.startsWith('/retentions/') ? s.ids.retention_id : undefined;
    default:
      return s.ids[name];
  }
}

/** The value of a required query parameter, or undefined when the seed has none. */
function queryValue(s: Seed, o: Operation, name: string): string | undefined {
  if (name === 'q') return o.path === '/search' ? 'ct' : `name=~ct`;
  return ({ username: s.user.name, groupname: 'ct-group', scope: `/project/${s.project.id}`, project_name: s.project.name, policy_id: s.ids.webhook_policy_id } as Record<string, string | undefined>)[name];
}

test('dynamic: every documented GET answers 200 with JSON keys Harbor defines', async (t) => {
  const s = await seed();
  const problems: string[] = [];
  let called = 0;
  for (const o of ops.filter((x) => x.method === 'GET' && x.operationId)) {
    const id = o.operationId!;
    if (allow.dynamicSkip[id]) continue;
    let url = o.path;
    let missing = '';
    for (const n of pathParamNames(o.path)) {
      const v = pathValue(s, o, n);
      if (v === undefined) missing = n;
      else url = url.replace(`{${n}}`, v);
    }
    if (missing) {
      problems.push(`${id} (${o.path}): no seeded value for {${missing}}; add one to seed() or a reason to allow-list.json dynamicSkip`);
      continue;
    }
    const q = new URLSearchParams();
    const h = harbor.find('GET', o.path);
    for (const p of o.params.filter((x) => x.in === 'query')) {
      const required = p.required || h?.params.some((x) => x.in === 'query' && x.name === p.name && x.required);
      if (p.type === 'boolean' && p.name.startsWith('with_')) q.set(p.name, 'true');
      else if (required) {
        const v = queryValue(s, o, p.name);
        if (v === undefined) problems.push(`${id}: no value for the required query parameter ${p.name}`);
        else q.set(p.name, v);
      }
    }
    if (q.size) url += `?${q}`;
    const r = await admin.call('GET', url);
    called++;
    if (r.status !== 200) {
      problems.push(`${id} GET ${url}: ${r.status} ${r.text.slice(0, 200)}`);
      continue;
    }
    if (!h) continue; // allow-listed Berth addition: nothing to compare with
    // Harbor's list operations answer X-Total-Count (and Link when there are more pages)
    if ((h.headers.get('200') ?? []).includes('X-Total-Count') && r.headers.get('x-total-count') === null) problems.push(`${id} GET ${url}: no X-Total-Count header`);
    if (!/^application\/json/.test(r.headers.get('content-type') ?? '')) continue;
    const allowed = allow.responseFields[id] ?? {};
    checkJson(harbor, r.json(), h.responses.get('200'), `${id} `, problems, (p) => Object.hasOwn(allowed, p.slice(id.length + 1)));
  }
  t.diagnostic(`${called} GET operations called`);
  failIfAny(problems, 'differences from Harbor in actual responses');
  assert.ok(called >= 20, `${called} GET operations called`);
});
