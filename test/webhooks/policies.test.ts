// Webhook policy API against a real Berth: CRUD with Harbor's shapes, auth_header sealed at rest and never logged,
// Harbor's validation (400s), the outbound guard on target addresses (loopback refused unless allow-listed),
// duplicate names 409, per-project RBAC, and project deletion removing the policies.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before } from 'node:test';
import { expectApi, useApi } from '../api/fixture.ts';
import { openBerthDatabase } from '../helpers/berth.ts';

const f = useApi();
// A second deployment whose operator allows loopback receivers.
const g = useApi({ env: { BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32' } });
const sfx = randomBytes(3).toString('hex');
const PASSWORD = 'Hook-Passw0rd!';
const P = `wh-${sfx}`;
const SECRET = `Bearer s3cr3t-${sfx}-token`;
const as = (u: string) => f.admin.as(`${u}-${sfx}`, PASSWORD);
const base = `/projects/${P}/webhook`;
// TEST-NET addresses: public (not refused by the guard) and need no DNS.
const policy = (name: string, over: Record<string, unknown> = {}) => ({
  name,
  description: 'notify CI',
  enabled: true,
  event_types: ['PUSH_ARTIFACT', 'DELETE_ARTIFACT'],
  targets: [{ type: 'http', address: 'https://203.0.113.10/hook', auth_header: SECRET, skip_cert_verify: false }],
  ...over,
});
let projectId = 0;

describe('webhook policies API', { timeout: 90_000 }, () => {
  before(async () => {
    projectId = await f.admin.createProject(P, false);
    for (const [u, role] of [
      ['pa', 1],
      ['ma', 4],
      ['dev', 2],
    ] as const) {
      await f.admin.createUser(`${u}-${sfx}`, PASSWORD);
      await f.admin.addMember(P, `${u}-${sfx}`, role);
    }
    await f.admin.createUser(`out-${sfx}`, PASSWORD);
  });

  async function sealedHeader(id: number): Promise<string> {
    const db = await openBerthDatabase(f.berth);
    try {
      const row = await db.get<{ targets: string }>('SELECT targets FROM webhook_policies WHERE id = ?', [id]);
      return JSON.parse(row!.targets)[0].auth_header as string;
    } finally {
      await db.close();
    }
  }

  test('CRUD round trip with Harbor shapes; auth_header sealed at rest, never returned, kept out of logs', async () => {
    const r = await as('pa').call('POST', `${base}/policies`, policy(`ci-${sfx}`, { id: 999, project_id: 12345, creator: 'mallory' }));
    expectApi(r, 201);
    const loc = r.headers.get('location')!;
    assert.match(loc, new RegExp(`^/api/v2\\.0/projects/${P}/webhook/policies/\\d+$`));
    const id = Number(loc.split('/').pop());
    assert.notEqual(id, 999);

    const got = await f.admin.call('GET', `${base}/policies/${id}`);
    expectApi(got, 200);
    const p = got.json();
    assert.deepEqual(Object.keys(p).sort(), ['creation_time', 'creator', 'description', 'enabled', 'event_types', 'id', 'name', 'project_id', 'targets', 'update_time']);
    assert.equal(p.id, id);
    assert.equal(p.name, `ci-${sfx}`);
    assert.equal(p.project_id, projectId, 'project_id comes from the path');
    assert.equal(p.creator, `pa-${sfx}`, 'creator is the caller');
    assert.equal(p.enabled, true);
    assert.deepEqual(p.event_types, ['PUSH_ARTIFACT', 'DELETE_ARTIFACT']);
    // The header is never returned: a set one shows as Harbor's mask.
    assert.deepEqual(p.targets, [{ type: 'http', address: 'https://203.0.113.10/hook', auth_header: '*****', skip_cert_verify: false, payload_format: 'Default' }]);
    assert.ok(!got.text.includes(`s3cr3t-${sfx}`));
    assert.match(p.creation_time, /^\d{4}-\d\d-\d\dT/);

    // By id too (X-Is-Resource-Name absent: an integer is an id).
    expectApi(await f.admin.call('GET', `/projects/${projectId}/webhook/policies/${id}`), 200);

    const list = await as('ma').call('GET', `${base}/policies`);
    expectApi(list, 200);
    assert.equal(list.headers.get('x-total-count'), '1');
    assert.deepEqual(list.json().map((x: { id: number }) => x.id), [id]);

    const db = await openBerthDatabase(f.berth);
    try {
      const row = await db.get<{ targets: string }>('SELECT targets FROM webhook_policies WHERE id = ?', [id]);
      assert.ok(row);
      assert.ok(!row.targets.includes(SECRET) && !row.targets.includes(`s3cr3t-${sfx}`), 'auth_header stored in clear');
      assert.match(JSON.parse(row.targets)[0].auth_header, /^v1:/);
    } finally {
      await db.close();
    }

    // GET → PUT round trip with the mask keeps the stored header; the mask with another address is refused (a
    // maintainer must not redirect a token they never saw), and the stored header is untouched by the refusal.
    const sealedBefore = await sealedHeader(id);
    expectApi(await as('pa').call('PUT', `${base}/policies/${id}`, { ...p, description: 'kept' }), 200);
    assert.equal(await sealedHeader(id), sealedBefore);
    const moved = await as('pa').call('PUT', `${base}/policies/${id}`, { ...p, targets: [{ ...p.targets[0], address: 'https://203.0.113.99/hook' }] });
    expectApi(moved, 400, 'BAD_REQUEST');
    assert.match(moved.json().errors[0].message, /auth_header must be given again/);
    assert.equal(await sealedHeader(id), sealedBefore);

    const upd = await as('pa').call('PUT', `${base}/policies/${id}`, policy(`ci2-${sfx}`, {
      enabled: false,
      event_types: ['PULL_ARTIFACT'],
      targets: [{ type: 'slack', address: 'https://198.51.100.7/services/x?token=y#frag' }],
    }));
    expectApi(upd, 200);
    const after = (await f.admin.call('GET', `${base}/policies/${id}`)).json();
    assert.equal(after.name, `ci2-${sfx}`);
    assert.equal(after.enabled, false);
    assert.deepEqual(after.event_types, ['PULL_ARTIFACT']);
    // Harbor keeps scheme, host and path of an address (query and fragment dropped); slack has no payload format.
    assert.deepEqual(after.targets, [{ type: 'slack', address: 'https://198.51.100.7/services/x', auth_header: '', skip_cert_verify: false, payload_format: '' }]);

    const lt = await f.admin.call('GET', `${base}/lasttrigger`);
    expectApi(lt, 200);
    assert.deepEqual(lt.json(), [{ policy_name: `ci2-${sfx}`, enabled: false, event_type: 'PULL_ARTIFACT', creation_time: after.creation_time }]);

    const ex = await as('ma').call('GET', `${base}/policies/${id}/executions`);
    expectApi(ex, 200);
    assert.deepEqual(ex.json(), []);
    assert.equal(ex.headers.get('x-total-count'), '0');
    expectApi(await f.admin.call('GET', `${base}/policies/${id}/executions/1/tasks`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('GET', `${base}/policies/${id}/executions/1/tasks/1/log`), 404, 'NOT_FOUND');
    const jobs = await f.admin.call('GET', `${base}/jobs?policy_id=${id}`);
    expectApi(jobs, 200);
    assert.deepEqual(jobs.json(), []);
    assert.equal(jobs.headers.get('x-total-count'), '0');
    expectApi(await f.admin.call('GET', `${base}/jobs`), 400);

    expectApi(await as('pa').call('DELETE', `${base}/policies/${id}`), 200);
    const gone = await f.admin.call('GET', `${base}/policies/${id}`);
    expectApi(gone, 404, 'NOT_FOUND');
    assert.match(gone.json().errors[0].message, new RegExp(`webhook policy id: ${id} not found`));
    expectApi(await f.admin.call('GET', `${base}/policies/${id}/executions`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('GET', `${base}/jobs?policy_id=${id}`), 404, 'NOT_FOUND');
    assert.ok(!f.berth.output().includes(`s3cr3t-${sfx}`), 'auth_header reached the log');
  });

  test('supported event types and notify types as Harbor lists them', async () => {
    const r = await as('ma').call('GET', `${base}/events`);
    expectApi(r, 200);
    assert.deepEqual(r.json(), {
      event_type: ['PUSH_ARTIFACT', 'PULL_ARTIFACT', 'DELETE_ARTIFACT', 'QUOTA_EXCEED', 'QUOTA_WARNING', 'SCANNING_FAILED', 'SCANNING_STOPPED', 'SCANNING_COMPLETED', 'REPLICATION', 'TAG_RETENTION'],
      notify_type: ['http', 'slack'],
      payload_formats: [{ notify_type: 'http', formats: ['Default', 'CloudEvents'] }],
    });
  });

  test('bad input is a 400 with a clear message; duplicate names 409', async () => {
    const bad = async (body: unknown, re: RegExp) => {
      const r = await f.admin.call('POST', `${base}/policies`, body);
      expectApi(r, 400, 'BAD_REQUEST');
      assert.match(r.json().errors[0].message, re);
    };
    await bad(policy(`b-${sfx}`, { targets: [{ type: 'http', address: 'not a url' }] }), /invalid URL/);
    await bad(policy(`b-${sfx}`, { targets: [{ type: 'http', address: 'ftp://203.0.113.10/x' }] }), /scheme/);
    await bad(policy(`b-${sfx}`, { event_types: ['PUSH_ARTIFACT', 'NOPE'] }), /unsupported event type NOPE/);
    await bad(policy(`b-${sfx}`, { event_types: [] }), /empty event type/);
    await bad(policy(`b-${sfx}`, { targets: [] }), /empty notification target/);
    await bad(policy(`b-${sfx}`, { targets: [{ type: 'email', address: 'https://203.0.113.10/' }] }), /unsupported target type email/);
    await bad(policy(`b-${sfx}`, { targets: [{ type: 'slack', address: 'https://203.0.113.10/', payload_format: 'Default' }] }), /not allowed for slack/);
    await bad(policy(`b-${sfx}`, { targets: [{ type: 'http', address: 'https://203.0.113.10/', payload_format: 'Xml' }] }), /unsupported payload format/);
    await bad(policy(''), /name is required/);
    // The SSRF guard: loopback and cloud metadata are refused without an allowlist.
    await bad(policy(`b-${sfx}`, { targets: [{ type: 'http', address: 'http://127.0.0.1:9000/hook' }] }), /127\.0\.0\.1 is not allowed \(loopback\)/);
    await bad(policy(`b-${sfx}`, { targets: [{ type: 'http', address: 'http://169.254.169.254/latest' }] }), /not allowed \(cloud metadata\)/);
    expectApi(await f.admin.call('GET', `${base}/policies?q=name%3Db-${sfx}`), 200);
    assert.equal((await f.admin.call('GET', `${base}/policies?q=name%3Db-${sfx}`)).headers.get('x-total-count'), '0', 'nothing was saved');

    expectApi(await f.admin.call('POST', `${base}/policies`, policy(`dup-${sfx}`)), 201);
    const r = await f.admin.call('POST', `${base}/policies`, policy(`dup-${sfx}`));
    expectApi(r, 409, 'CONFLICT');
    assert.match(r.json().errors[0].message, new RegExp(`dup-${sfx} already exists`));
    const other = await f.admin.call('POST', `${base}/policies`, policy(`other-${sfx}`));
    expectApi(other, 201);
    const otherId = other.headers.get('location')!.split('/').pop();
    expectApi(await f.admin.call('PUT', `${base}/policies/${otherId}`, policy(`dup-${sfx}`)), 409, 'CONFLICT');

    // Harbor's q on the list: exact and fuzzy name.
    const exact = await f.admin.call('GET', `${base}/policies?q=${encodeURIComponent(`name=dup-${sfx}`)}`);
    assert.deepEqual(exact.json().map((x: { name: string }) => x.name), [`dup-${sfx}`]);
    const fuzzy = await f.admin.call('GET', `${base}/policies?q=${encodeURIComponent(`name=~THER-${sfx}`)}`);
    assert.deepEqual(fuzzy.json().map((x: { name: string }) => x.name), [`other-${sfx}`]);
    assert.equal(fuzzy.headers.get('x-total-count'), '1');
  });

  test('a loopback target is allowed when the operator allow-lists it', async () => {
    const name = `loop-${sfx}`;
    await g.admin.createProject(name, false);
    const r = await g.admin.call('POST', `/projects/${name}/webhook/policies`, policy(name, { targets: [{ type: 'http', address: 'http://127.0.0.1:9000/hook', payload_format: 'CloudEvents' }] }));
    expectApi(r, 201);
    const got = (await g.admin.call('GET', r.headers.get('location')!.replace('/api/v2.0', ''))).json();
    assert.deepEqual(got.targets, [{ type: 'http', address: 'http://127.0.0.1:9000/hook', auth_header: '', skip_cert_verify: false, payload_format: 'CloudEvents' }]);
    // The allowlist is only what it says: another private range is still refused.
    expectApi(await g.admin.call('POST', `/projects/${name}/webhook/policies`, policy(`${name}-2`, { targets: [{ type: 'http', address: 'http://10.0.0.5/hook' }] })), 400, 'BAD_REQUEST');
  });

  test('RBAC: project admin all, maintainer read, developer 403, non-member 404, anonymous 401', async () => {
    const r = await f.admin.call('POST', `${base}/policies`, policy(`rbac-${sfx}`));
    expectApi(r, 201);
    const id = r.headers.get('location')!.split('/').pop();
    for (const path of [`${base}/policies`, `${base}/policies/${id}`, `${base}/events`, `${base}/lasttrigger`]) expectApi(await as('ma').call('GET', path), 200);
    expectApi(await as('ma').call('POST', `${base}/policies`, policy(`m-${sfx}`)), 403, 'FORBIDDEN');
    expectApi(await as('ma').call('PUT', `${base}/policies/${id}`, policy(`m-${sfx}`)), 403, 'FORBIDDEN');
    expectApi(await as('ma').call('DELETE', `${base}/policies/${id}`), 403, 'FORBIDDEN');
    expectApi(await as('dev').call('GET', `${base}/policies`), 403, 'FORBIDDEN');
    expectApi(await as('dev').call('GET', `${base}/policies/${id}`), 403, 'FORBIDDEN');
    expectApi(await as('out').call('GET', `${base}/policies`), 404, 'NOT_FOUND');
    expectApi(await as('out').call('POST', `${base}/policies`, policy(`o-${sfx}`)), 404, 'NOT_FOUND');
    expectApi(await f.anon.call('GET', `${base}/policies`), 401, 'UNAUTHORIZED');
    expectApi(await f.anon.call('GET', `${base}/events`), 401, 'UNAUTHORIZED');
    // A policy id of another project is a 404 there.
    const other = `wo-${sfx}`;
    await f.admin.createProject(other, false);
    expectApi(await f.admin.call('GET', `/projects/${other}/webhook/policies/${id}`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('DELETE', `/projects/${other}/webhook/policies/${id}`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('GET', `${base}/policies/${id}`), 200);
  });

  test('deleting a project removes its policies', async () => {
    const name = `del-${sfx}`;
    const pid = await f.admin.createProject(name, false);
    expectApi(await f.admin.call('POST', `/projects/${name}/webhook/policies`, policy(name)), 201);
    const db = await openBerthDatabase(f.berth);
    try {
      const count = async () => Number((await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM webhook_policies WHERE project_id = ?', [pid]))?.n);
      assert.equal(await count(), 1);
      expectApi(await f.admin.call('DELETE', `/projects/${name}`), 200);
      assert.equal(await count(), 0);
    } finally {
      await db.close();
    }
  });
});
