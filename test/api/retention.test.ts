// Tag retention through the real interfaces: Harbor's /retentions API (metadatas, policy CRUD with the project's
// retention_id, limits and conflicts, RBAC), a dry run that deletes nothing, and a real run whose deletions go
// through the artifact delete path (audit log) and are listed in the task log, with an immutable tag surviving.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { ApiClient } from '../helpers/api-client.ts';
import { openBerthDatabase } from '../helpers/berth.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { pushImage } from './artifact-fixtures.ts';
import { auditRows, expectApi, useApi } from './fixture.ts';

const f = useApi();
const reg = () => new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
const P = 'retain-api';

const ds = (decoration: string, pattern: string, extras?: string) => ({ kind: 'doublestar', decoration, pattern, ...(extras ? { extras } : {}) });
const rule = (template: string, n: number | null, repo = '**', tag = '**') => ({
  disabled: false,
  action: 'retain',
  template,
  params: n === null ? {} : { [template]: n },
  tag_selectors: [ds('matches', tag, '{"untagged":true}')],
  scope_selectors: { repository: [ds('repoMatches', repo)] },
});
const policy = (projectId: number, rules: unknown[], cron = '') => ({ algorithm: 'or', rules, trigger: { kind: 'Schedule', settings: { cron }, references: {} }, scope: { level: 'project', ref: projectId } });

type Exec = { id: number; policy_id: number; status: string; trigger: string; dry_run: boolean; start_time: string; end_time: string };
async function runAndWait(id: number, dryRun: boolean): Promise<Exec> {
  const r = await f.admin.call('POST', `/retentions/${id}/executions`, { dry_run: dryRun });
  expectApi(r, 201);
  const loc = r.headers.get('location')!;
  assert.match(loc, new RegExp(`^/api/v2.0/retentions/${id}/executions/\\d+$`));
  const eid = Number(loc.split('/').pop());
  const end = Date.now() + 30_000;
  for (;;) {
    const list = await f.admin.call('GET', `/retentions/${id}/executions?page_size=0`);
    expectApi(list, 200);
    const e = (list.json() as Exec[]).find((x) => x.id === eid);
    assert.ok(e, list.text);
    if (['Success', 'Error', 'Stopped'].includes(e.status)) return e;
    assert.ok(Date.now() < end, `execution still ${e.status}`);
    await new Promise((res) => setTimeout(res, 200));
  }
}
const tagsIn = async (repo: string) => {
  const r = await f.admin.call('GET', `/projects/${P}/repositories/${encodeURIComponent(repo)}/artifacts?page_size=0&with_tag=true`);
  expectApi(r, 200);
  return (r.json() as { tags: { name: string }[] | null }[]).flatMap((a) => (a.tags ?? []).map((t) => t.name)).sort();
};

describe('retention API', () => {
  let pid: number;
  let policyId: number;
  const digests: Record<string, string> = {};
  before(async () => {
    pid = await f.admin.createProject(P, false);
    const c = reg();
    // Pushed in order, so push times increase: v1 oldest, v4 newest.
    for (const t of ['v1', 'v2', 'v3', 'v4']) {
      digests[t] = (await pushImage(c, `${P}/app`, t)).digest;
      await new Promise((res) => setTimeout(res, 1100)); // push times are compared in seconds, as Harbor
    }
    await pushImage(c, `${P}/other`, 'old');
    // v1 is immutable: retention must keep it.
    expectApi(
      await f.admin.call('POST', `/projects/${P}/immutabletagrules`, {
        action: 'immutable',
        template: 'immutable_template',
        tag_selectors: [ds('matches', 'v1')],
        scope_selectors: { repository: [ds('repoMatches', '**')] },
      }),
      201,
    );
  });

  test('metadatas as Harbor lists them; anonymous callers get 401', async () => {
    const r = await f.admin.call('GET', '/retentions/metadatas');
    expectApi(r, 200);
    const m = r.json();
    assert.deepEqual(
      m.templates.map((t: { rule_template: string }) => t.rule_template),
      ['latestPushedK', 'latestPulledN', 'nDaysSinceLastPush', 'nDaysSinceLastPull', 'always'],
    );
    assert.deepEqual(m.templates[0], { rule_template: 'latestPushedK', display_text: 'the most recently pushed # artifacts', action: 'retain', params: [{ type: 'int', unit: 'COUNT', required: true }] });
    assert.deepEqual(m.scope_selectors, [{ display_text: 'Repositories', kind: 'doublestar', decorations: ['repoMatches', 'repoExcludes'] }]);
    assert.deepEqual(m.tag_selectors, [{ display_text: 'Tags', kind: 'doublestar', decorations: ['matches', 'excludes'] }]);
    expectApi(await f.anon.call('GET', '/retentions/metadatas'), 401, 'UNAUTHORIZED');
  });

  test('create, get, update; one policy per project; limits, conflicts and bad scopes', async () => {
    expectApi(await f.admin.call('POST', '/retentions', policy(pid, Array.from({ length: 16 }, (_, i) => rule('latestPushedK', i)))), 400, 'BAD_REQUEST');
    const dup = await f.admin.call('POST', '/retentions', policy(pid, [rule('always', null), rule('always', null)]));
    expectApi(dup, 409, 'CONFLICT');
    assert.match(dup.json().errors[0].message, /rule 1 is conflict with rule 0/);
    expectApi(await f.admin.call('POST', '/retentions', policy(999999, [rule('always', null)])), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', '/retentions', { ...policy(pid, []), scope: { level: 'system', ref: 0 } }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', '/retentions', policy(pid, [{ ...rule('always', null), template: 'bogus' }])), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('POST', '/retentions', policy(pid, [rule('always', null)], 'not a cron')), 400, 'BAD_REQUEST');
    expectApi(await f.anon.call('POST', '/retentions', policy(pid, [rule('always', null)])), 401, 'UNAUTHORIZED');

    const r = await f.admin.call('POST', '/retentions', policy(pid, [rule('always', null)]));
    expectApi(r, 201);
    const loc = r.headers.get('location')!;
    assert.match(loc, /^\/api\/v2.0\/retentions\/\d+$/);
    policyId = Number(loc.split('/').pop());
    // The project's retention_id points at it.
    const proj = await f.admin.call('GET', `/projects/${P}`);
    assert.equal(proj.json().metadata.retention_id, String(policyId));
    const again = await f.admin.call('POST', '/retentions', policy(pid, [rule('latestPushedK', 1)]));
    expectApi(again, 400, 'BAD_REQUEST');
    assert.match(again.json().errors[0].message, new RegExp(`already has retention policy ${policyId}`));

    // Update: latest 2 pushed in `app` only; the scope stays the project's.
    expectApi(await f.admin.call('PUT', `/retentions/${policyId}`, policy(pid, [rule('latestPushedK', 2, 'app')], '0 0 0 * * *')), 200);
    const g = await f.admin.call('GET', `/retentions/${policyId}`);
    expectApi(g, 200);
    assert.deepEqual(g.json(), {
      id: policyId,
      algorithm: 'or',
      rules: [{ id: 1, priority: 0, ...rule('latestPushedK', 2, 'app') }],
      trigger: { kind: 'Schedule', settings: { cron: '0 0 0 * * *' }, references: {} },
      scope: { level: 'project', ref: pid },
    });
    // The cron is a job schedule of the RETENTION type.
    const sch = await f.admin.call('GET', '/schedules?page_size=0');
    expectApi(sch, 200);
    assert.ok((sch.json() as { vendor_type: string; vendor_id: number }[]).some((s) => s.vendor_type === 'RETENTION' && s.vendor_id === policyId), sch.text);
    expectApi(await f.admin.call('GET', '/retentions/999999'), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('DELETE', '/retentions/999999'), 400, 'BAD_REQUEST');

    // RBAC: a guest of the project may not read the policy; a non-member does not see the project.
    await f.admin.createUser('retain-guest');
    await f.admin.addMember(P, 'retain-guest', 3);
    const guest = new ApiClient(f.berth.url, 'retain-guest', 'Passw0rd!x');
    expectApi(await guest.call('GET', `/retentions/${policyId}`), 403, 'FORBIDDEN');
    expectApi(await guest.call('POST', `/retentions/${policyId}/executions`, { dry_run: true }), 403, 'FORBIDDEN');
    await f.admin.createUser('retain-stranger');
    const stranger = new ApiClient(f.berth.url, 'retain-stranger', 'Passw0rd!x');
    expectApi(await stranger.call('GET', `/retentions/${policyId}`), 404, 'NOT_FOUND');
  });

  test('dry run deletes nothing and logs what it would delete', async () => {
    const e = await runAndWait(policyId, true);
    assert.equal(e.status, 'Success');
    assert.equal(e.dry_run, true);
    assert.equal(e.trigger, 'MANUAL');
    assert.equal(e.policy_id, policyId);
    assert.deepEqual(await tagsIn('app'), ['v1', 'v2', 'v3', 'v4']);
    const tasks = await f.admin.call('GET', `/retentions/${policyId}/executions/${e.id}/tasks`);
    expectApi(tasks, 200);
    assert.equal(tasks.headers.get('x-total-count'), '1'); // only `app` is in scope
    const [t] = tasks.json();
    assert.deepEqual(Object.keys(t).sort(), ['end_time', 'execution_id', 'id', 'job_id', 'repository', 'retained', 'start_time', 'status', 'status_code', 'status_revision', 'total'].sort());
    assert.equal(t.repository, 'app');
    assert.equal(t.total, 4);
    assert.equal(t.retained, 3); // v3, v4 retained, v1 immutable
    const log = await f.admin.call('GET', `/retentions/${policyId}/executions/${e.id}/tasks/${t.id}`);
    expectApi(log, 200);
    assert.match(log.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(log.text, new RegExp(`${digests.v2} \\| v2 \\|.*\\| DEL`));
    assert.match(log.text, new RegExp(`${digests.v1} \\| v1 \\|.*\\| IMMUTABLE`));
    assert.match(log.text, new RegExp(`${digests.v4} \\| v4 \\|.*\\| RETAIN`));
    assert.match(log.text, /DRY RUN/);
  });

  test('a real run deletes through the artifact delete path; the immutable tag and out-of-scope repositories survive', async () => {
    const e = await runAndWait(policyId, false);
    assert.equal(e.status, 'Success');
    assert.equal(e.dry_run, false);
    assert.deepEqual(await tagsIn('app'), ['v1', 'v3', 'v4']);
    assert.deepEqual(await tagsIn('other'), ['old']);
    const rows = await auditRows(f.berth, (rs) => rs.some((x) => x.operation === 'delete' && x.resource.includes(digests.v2)));
    assert.ok(
      rows.some((x) => x.operation === 'delete' && x.resource_type === 'artifact' && x.resource.includes(digests.v2) && x.username === 'admin'),
      JSON.stringify(rows.slice(0, 5)),
    );
    const tasks = await f.admin.call('GET', `/retentions/${policyId}/executions/${e.id}/tasks`);
    const [t] = tasks.json();
    const log = await f.admin.call('GET', `/retentions/${policyId}/executions/${e.id}/tasks/${t.id}`);
    assert.match(log.text, new RegExp(`${digests.v2} \\| v2 \\|.*\\| DEL`));
    assert.match(log.text, /deleted 1 of 4 artifacts, retained 3/);
    // The finished run is announced as TAG_RETENTION (webhook event harbor.tag_retention.finished).
    const db = await openBerthDatabase(f.berth);
    try {
      const ev = await db.all<{ data: string }>("SELECT data FROM events WHERE type = 'TAG_RETENTION' ORDER BY seq");
      const last = JSON.parse(ev.at(-1)!.data).retention;
      assert.equal(ev.length, 2); // the dry run's and this one's
      assert.deepEqual({ total: last.total, retained: last.retained, project_name: last.project_name, retention_policy_id: last.retention_policy_id }, { total: 4, retained: 3, project_name: P, retention_policy_id: policyId });
      assert.deepEqual(last.deleted_artifact, [{ type: 'image', status: 'SUCCESS', name_and_tag: `${P}/app@${digests.v2}` }]);
    } finally {
      await db.close();
    }
    const list = await f.admin.call('GET', `/retentions/${policyId}/executions`);
    expectApi(list, 200);
    assert.equal(list.headers.get('x-total-count'), '2');
    // Another execution id is a 404; an action other than stop is a 400.
    expectApi(await f.admin.call('GET', `/retentions/${policyId}/executions/999999/tasks`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('PATCH', `/retentions/${policyId}/executions/${e.id}`, { action: 'pause' }), 400, 'BAD_REQUEST');
    expectApi(await f.admin.call('PATCH', `/retentions/${policyId}/executions/${e.id}`, { action: 'stop' }), 200);
  });

  test('the policy\'s cron fires a scheduled run split into per-repository tasks', async () => {
    expectApi(await f.admin.call('PUT', `/retentions/${policyId}`, policy(pid, [rule('latestPushedK', 2, 'app')], '* * * * * *')), 200);
    const end = Date.now() + 20_000;
    let sched: Exec | undefined;
    while (!sched) {
      const list = await f.admin.call('GET', `/retentions/${policyId}/executions?page_size=0`);
      sched = (list.json() as Exec[]).find((x) => x.trigger === 'SCHEDULE' && x.status === 'Success');
      assert.ok(sched || Date.now() < end, list.text);
      if (!sched) await new Promise((res) => setTimeout(res, 300));
    }
    // Off again before looking at the tasks, so no further firing interferes.
    expectApi(await f.admin.call('PUT', `/retentions/${policyId}`, policy(pid, [rule('latestPushedK', 2, 'app')])), 200);
    assert.equal(sched.dry_run, false);
    const tasks = await f.admin.call('GET', `/retentions/${policyId}/executions/${sched.id}/tasks`);
    assert.deepEqual((tasks.json() as { repository: string; total: number; retained: number }[]).map((t) => [t.repository, t.total, t.retained]), [['app', 3, 3]]);
    assert.deepEqual(await tagsIn('app'), ['v1', 'v3', 'v4']);
  });

  test('delete removes the policy and the project\'s retention_id', async () => {
    expectApi(await f.admin.call('DELETE', `/retentions/${policyId}`), 200);
    expectApi(await f.admin.call('GET', `/retentions/${policyId}`), 404, 'NOT_FOUND');
    const proj = await f.admin.call('GET', `/projects/${P}`);
    assert.equal(proj.json().metadata.retention_id, undefined);
  });

  test('a run over several repositories: one task each, one TAG_RETENTION with the totals of all', async () => {
    const id = await f.admin.createProject('retain-two', false);
    const c = reg();
    for (const r of ['a', 'b', 'c']) await pushImage(c, `retain-two/${r}`, 'v1');
    const r = await f.admin.call('POST', '/retentions', policy(id, [rule('always', null, '{a,b}')]));
    expectApi(r, 201);
    const rid = Number(r.headers.get('location')!.split('/').pop());
    const e = await runAndWait(rid, true);
    const tasks = await f.admin.call('GET', `/retentions/${rid}/executions/${e.id}/tasks`);
    assert.deepEqual((tasks.json() as { repository: string; status: string }[]).map((t) => [t.repository, t.status]), [['a', 'Success'], ['b', 'Success']]);
    const db = await openBerthDatabase(f.berth);
    try {
      const ev = (await db.all<{ data: string }>("SELECT data FROM events WHERE type = 'TAG_RETENTION'")).map((x) => JSON.parse(x.data).retention).filter((x) => x.project_name === 'retain-two');
      assert.equal(ev.length, 1);
      assert.equal(ev[0].total, 2);
      assert.equal(ev[0].retained, 2);
    } finally {
      await db.close();
    }
  });

  test('a deleted project takes its policy and, at its next firing, the policy\'s schedule', async () => {
    const id = await f.admin.createProject('retain-gone', false);
    const r = await f.admin.call('POST', '/retentions', policy(id, [rule('always', null)], '* * * * * *'));
    expectApi(r, 201);
    const rid = Number(r.headers.get('location')!.split('/').pop());
    expectApi(await f.admin.call('DELETE', `/projects/retain-gone`), 200);
    expectApi(await f.admin.call('GET', `/retentions/${rid}`), 404, 'NOT_FOUND');
    const end = Date.now() + 10_000;
    for (;;) {
      const sch = await f.admin.call('GET', '/schedules?page_size=0');
      if (!(sch.json() as { vendor_type: string; vendor_id: number }[]).some((s) => s.vendor_type === 'RETENTION' && s.vendor_id === rid)) break;
      assert.ok(Date.now() < end, sch.text);
      await new Promise((res) => setTimeout(res, 300));
    }
  });
});
