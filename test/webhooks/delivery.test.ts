// Webhook delivery end to end: a real Berth, a real HTTP receiver on loopback (allow-listed), real pushes, pulls
// and deletes. Checks Harbor's Default payload, the CloudEvents and Slack formats, the auth header, Berth's event
// id and HMAC signature headers, retries with backoff while the receiver fails (attempts in the task log), the
// executions/tasks/log API, last trigger times, disabled policies and notification_enable.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { HTTP } from 'cloudevents';
import { expectApi, useApi } from '../api/fixture.ts';
import { RegistryClient } from '../helpers/registry-client.ts';
import { Receiver, type Received } from '../helpers/receiver.ts';

const SIGNING = `sign-${randomBytes(8).toString('hex')}`;
const f = useApi({
  env: {
    BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
    BERTH_NOTIFICATION_WEBHOOK_JOB_RETRY_DELAY: '1',
    BERTH_NOTIFICATION_WEBHOOK_JOB_MAX_RETRY: '4',
    BERTH_NOTIFICATION_WEBHOOK_SIGNING_SECRET: SIGNING,
  },
});
const rx = new Receiver();
const sfx = randomBytes(3).toString('hex');
const P = `hook-${sfx}`;
const AUTH = `Bearer tok-${sfx}`;
let projectId = 0;
let reg: RegistryClient;

const body = (r: Received) => JSON.parse(r.body) as Record<string, any>;
const createPolicy = async (name: string, path: string, over: Record<string, unknown> = {}, target: Record<string, unknown> = {}) => {
  const r = await f.admin.call('POST', `/projects/${P}/webhook/policies`, {
    name,
    enabled: true,
    event_types: ['PUSH_ARTIFACT', 'PULL_ARTIFACT', 'DELETE_ARTIFACT', 'QUOTA_EXCEED'],
    targets: [{ type: 'http', address: rx.url(path), auth_header: AUTH, skip_cert_verify: false, payload_format: 'Default', ...target }],
    ...over,
  });
  expectApi(r, 201);
  return Number(r.headers.get('location')!.split('/').pop());
};
/** The policy's executions (newest first), re-read every 200 ms until `done` holds or `tries` run out. */
const executionsUntil = async (id: number, done: (ex: Record<string, any>[]) => boolean, tries = 50): Promise<Record<string, any>[]> => {
  let ex: Record<string, any>[] = [];
  for (let i = 0; i < tries; i++) {
    ex = (await f.admin.call('GET', `/projects/${P}/webhook/policies/${id}/executions`)).json();
    if (done(ex)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  return ex;
};
const signatureOf = (text: string) => `sha256=${createHmac('sha256', SIGNING).update(text).digest('hex')}`;

describe('webhook delivery', { timeout: 120_000 }, () => {
  before(async () => {
    await rx.start();
    projectId = await f.admin.createProject(P, false);
    reg = new RegistryClient({ baseUrl: f.berth.url, username: 'admin', password: f.berth.adminPassword });
  });
  after(() => rx.stop());

  test('push, pull and delete reach an http target in Harbor’s Default payload, with auth, event id and signature', async () => {
    const id = await createPolicy(`default-${sfx}`, '/default');
    const img = await reg.pushImage(`${P}/app`, 'v1');
    await rx.waitFor(() => rx.matching('/default', (b) => b.type === 'PUSH_ARTIFACT').length === 1);
    const push = rx.matching('/default', (b) => b.type === 'PUSH_ARTIFACT')[0]!;
    assert.equal(push.method, 'POST');
    assert.equal(push.headers['content-type'], 'application/json');
    assert.equal(push.headers.authorization, AUTH);
    assert.match(String(push.headers['x-berth-event-id']), /^[0-9a-f-]{36}$/);
    assert.equal(push.headers['x-berth-signature-256'], signatureOf(push.body), 'HMAC-SHA256 over the exact body');
    const p = body(push);
    assert.deepEqual(Object.keys(p).sort(), ['event_data', 'occur_at', 'operator', 'type']);
    assert.equal(p.operator, 'admin');
    assert.ok(Math.abs(p.occur_at - Date.now() / 1000) < 60, `occur_at in seconds: ${p.occur_at}`);
    assert.deepEqual(p.event_data.resources, [{ digest: img.digest, tag: 'v1', resource_url: `${f.berth.host}/${P}/app:v1` }]);
    const repo = p.event_data.repository;
    assert.deepEqual({ ...repo, date_created: typeof repo.date_created }, { date_created: 'number', name: 'app', namespace: P, repo_full_name: `${P}/app`, repo_type: 'private' });

    assert.equal((await reg.getManifest(`${P}/app`, 'v1')).status, 200);
    await rx.waitFor(() => rx.matching('/default', (b) => b.type === 'PULL_ARTIFACT').length >= 1);
    const pull = body(rx.matching('/default', (b) => b.type === 'PULL_ARTIFACT')[0]!);
    assert.equal(pull.event_data.resources[0].digest, img.digest);
    assert.notEqual(rx.matching('/default', (b) => b.type === 'PULL_ARTIFACT')[0]!.headers['x-berth-event-id'], push.headers['x-berth-event-id']);

    expectApi(await f.admin.call('DELETE', `/projects/${P}/repositories/app/artifacts/${img.digest}`), 200);
    await rx.waitFor(() => rx.matching('/default', (b) => b.type === 'DELETE_ARTIFACT').length === 1);
    const del = body(rx.matching('/default', (b) => b.type === 'DELETE_ARTIFACT')[0]!);
    assert.equal(del.event_data.resources[0].digest, img.digest);

    // The executions API: one execution per delivery, newest first, EVENT-triggered, Success, with a task log.
    const ex = await executionsUntil(id, (l) => l.length >= 3 && l.every((e) => e.status === 'Success'));
    assert.ok(ex.length >= 3, JSON.stringify(ex));
    const pushEx = ex.find((e) => e.extra_attrs.event_type === 'PUSH_ARTIFACT')!;
    assert.equal(pushEx.vendor_type, 'WEBHOOK');
    assert.equal(pushEx.vendor_id, id);
    assert.equal(pushEx.trigger, 'EVENT');
    assert.equal(pushEx.status, 'Success');
    assert.equal(pushEx.extra_attrs.payload, push.body, 'the execution keeps the payload sent');
    assert.deepEqual(pushEx.metrics, { task_count: 1, success_task_count: 1, error_task_count: 0, pending_task_count: 0, running_task_count: 0, scheduled_task_count: 0, stopped_task_count: 0 });
    assert.match(pushEx.start_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const tasks = await f.admin.call('GET', `/projects/${P}/webhook/policies/${id}/executions/${pushEx.id}/tasks`);
    expectApi(tasks, 200);
    assert.equal(tasks.headers.get('x-total-count'), '1');
    const t = tasks.json()[0];
    assert.equal(t.execution_id, pushEx.id);
    assert.equal(t.run_count, 1);
    assert.equal(t.status, 'Success');
    const log = await f.admin.call('GET', `/projects/${P}/webhook/policies/${id}/executions/${pushEx.id}/tasks/${t.id}/log`);
    expectApi(log, 200);
    assert.match(log.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(log.text, /sending PUSH_ARTIFACT .* to http:\/\/127\.0\.0\.1:\d+\/default/);
    assert.match(log.text, /delivered: HTTP 200/);
    assert.doesNotMatch(log.text, new RegExp(AUTH), 'the auth header is not logged');
    // Not in this policy → 404s naming the execution / task (Harbor's texts).
    expectApi(await f.admin.call('GET', `/projects/${P}/webhook/policies/${id}/executions/999999/tasks`), 404, 'NOT_FOUND');
    expectApi(await f.admin.call('GET', `/projects/${P}/webhook/policies/${id}/executions/${pushEx.id}/tasks/999999/log`), 404, 'NOT_FOUND');

    // Last trigger times per event type; the deprecated jobs list shows the same deliveries.
    const last = (await f.admin.call('GET', `/projects/${P}/webhook/lasttrigger`)).json() as Record<string, any>[];
    const pushLast = last.find((l) => l.policy_name === `default-${sfx}` && l.event_type === 'PUSH_ARTIFACT')!;
    assert.ok(pushLast.last_trigger_time, JSON.stringify(last));
    const jobs = await f.admin.call('GET', `/projects/${P}/webhook/jobs?policy_id=${id}`);
    expectApi(jobs, 200);
    const pushJob = (jobs.json() as Record<string, any>[]).find((j) => j.event_type === 'PUSH_ARTIFACT')!;
    assert.deepEqual([pushJob.notify_type, pushJob.status, pushJob.job_detail], ['http', 'Success', push.body]);
    expectApi(await f.admin.call('DELETE', `/projects/${P}/webhook/policies/${id}`), 200);
  });

  test('CloudEvents format: a structured-mode CloudEvent the SDK parses, with Harbor’s type and source', async () => {
    const id = await createPolicy(`ce-${sfx}`, '/ce', { event_types: ['PUSH_ARTIFACT'] }, { payload_format: 'CloudEvents' });
    const img = await reg.pushImage(`${P}/ce`, 'c1');
    await rx.waitFor(() => rx.requests.some((r) => r.path === '/ce'));
    const got = rx.requests.find((r) => r.path === '/ce')!;
    assert.equal(got.headers['content-type'], 'application/cloudevents+json');
    const ce = HTTP.toEvent({ headers: got.headers as Record<string, string>, body: got.body }) as unknown as Record<string, any>;
    assert.equal(ce.specversion, '1.0');
    assert.equal(ce.type, 'harbor.artifact.pushed');
    assert.equal(ce.source, `/projects/${projectId}/webhook/policies/${id}`);
    assert.equal(ce.id, got.headers['x-berth-event-id'], 'the CloudEvent id is the domain event id');
    assert.equal(ce.operator, 'admin');
    assert.equal(ce.datacontenttype, 'application/json');
    assert.deepEqual(ce.data.resources, [{ digest: img.digest, tag: 'c1', resource_url: `${f.berth.host}/${P}/ce:c1` }]);
    assert.equal(ce.data.repository.repo_full_name, `${P}/ce`);
    expectApi(await f.admin.call('DELETE', `/projects/${P}/webhook/policies/${id}`), 200);
  });

  test('Slack target: an incoming-webhook message of mrkdwn section blocks, no auth header', async () => {
    const r = await f.admin.call('POST', `/projects/${P}/webhook/policies`, {
      name: `slack-${sfx}`,
      event_types: ['PUSH_ARTIFACT'],
      targets: [{ type: 'slack', address: rx.url('/slack') }],
    });
    expectApi(r, 201);
    const id = Number(r.headers.get('location')!.split('/').pop());
    const img = await reg.pushImage(`${P}/sl`, 's1');
    await rx.waitFor(() => rx.requests.some((x) => x.path === '/slack'));
    const got = rx.requests.find((x) => x.path === '/slack')!;
    assert.equal(got.headers['content-type'], 'application/json');
    const m = body(got);
    assert.deepEqual(Object.keys(m), ['blocks']);
    for (const b of m.blocks) {
      assert.equal(b.type, 'section');
      assert.equal(b.text.type, 'mrkdwn');
      assert.equal(typeof b.text.text, 'string');
    }
    const texts = (m.blocks as { text: { text: string } }[]).map((b) => b.text.text);
    assert.equal(texts[1], '*event_type:* PUSH_ARTIFACT');
    assert.equal(texts[3], '*operator:* admin');
    assert.match(texts[2]!, /^\*occur_at:\* <!date\^\d+\^\{date\} at \{time\}\|/);
    assert.ok(texts[5]!.startsWith('```') && texts[5]!.endsWith('```'));
    assert.equal(JSON.parse(texts[5]!.slice(3, -3)).resources[0].digest, img.digest);
    const ex = (await f.admin.call('GET', `/projects/${P}/webhook/policies/${id}/executions`)).json();
    assert.equal(ex[0].vendor_type, 'SLACK');
    expectApi(await f.admin.call('DELETE', `/projects/${P}/webhook/policies/${id}`), 200);
  });

  test('a failing receiver: retried with backoff until it answers 2xx; the failed attempts are in the task log', async () => {
    const id = await createPolicy(`retry-${sfx}`, '/flaky', { event_types: ['PUSH_ARTIFACT'] });
    let flaky = 0;
    rx.respond = (_n, r) => (r.path === '/flaky' && flaky++ < 2 ? 503 : 200);
    try {
      await reg.pushImage(`${P}/flaky`, 'f1');
      await rx.waitFor(() => rx.requests.filter((r) => r.path === '/flaky').length === 3, 30_000);
    } finally {
      rx.respond = () => 200;
    }
    const hits = rx.requests.filter((r) => r.path === '/flaky');
    assert.equal(new Set(hits.map((h) => h.headers['x-berth-event-id'])).size, 1, 'every attempt carries the same event id');
    assert.equal(new Set(hits.map((h) => h.body)).size, 1, 'and the same body');
    assert.ok(hits[1]!.at - hits[0]!.at >= 900 && hits[2]!.at - hits[1]!.at >= 1900, `backoff 1 s then 2 s: ${hits.map((h) => h.at - hits[0]!.at)}`);
    const ex = (await executionsUntil(id, (l) => l[0]?.status === 'Success'))[0] ?? {};
    assert.equal(ex.status, 'Success');
    const t = (await f.admin.call('GET', `/projects/${P}/webhook/policies/${id}/executions/${ex.id}/tasks`)).json()[0];
    assert.equal(t.run_count, 3);
    const log = (await f.admin.call('GET', `/projects/${P}/webhook/policies/${id}/executions/${ex.id}/tasks/${t.id}/log`)).text;
    assert.equal((log.match(/abnormal response code: 503/g) ?? []).length, 2, log);
    assert.match(log, /delivered: HTTP 200/);
    expectApi(await f.admin.call('DELETE', `/projects/${P}/webhook/policies/${id}`), 200);
  });

  test('a receiver that never accepts: the task ends in Error after the configured attempts', async () => {
    const id = await createPolicy(`dead-${sfx}`, '/dead', { event_types: ['PUSH_ARTIFACT'] });
    rx.respond = (_n, r) => (r.path === '/dead' ? 500 : 200);
    try {
      await reg.pushImage(`${P}/dead`, 'd1');
      const ex = (await executionsUntil(id, (l) => l[0]?.status === 'Error', 100))[0] ?? {};
      assert.equal(ex.status, 'Error', JSON.stringify(ex));
      assert.match(ex.status_message, /abnormal response code: 500/);
      assert.equal(rx.requests.filter((r) => r.path === '/dead').length, 4, 'BERTH_NOTIFICATION_WEBHOOK_JOB_MAX_RETRY=4 attempts');
    } finally {
      rx.respond = () => 200;
    }
    // A second push is delivered: the policy now has one Error and one Success execution, which the deprecated
    // jobs list filters by `status` as Harbor does (csv or repeated; X-Total-Count counts the filtered list).
    await reg.pushImage(`${P}/dead`, 'd2');
    await executionsUntil(id, (l) => l[0]?.status === 'Success');
    const jobs = async (qs: string) => {
      const r = await f.admin.call('GET', `/projects/${P}/webhook/jobs?policy_id=${id}${qs}`);
      expectApi(r, 200);
      const list = r.json() as Record<string, any>[];
      assert.equal(r.headers.get('x-total-count'), String(list.length), qs);
      return list.map((j) => `${j.status}:${JSON.parse(j.job_detail).event_data.resources[0].tag}`);
    };
    assert.deepEqual(await jobs(''), ['Success:d2', 'Error:d1']);
    assert.deepEqual(await jobs('&status=Error'), ['Error:d1']);
    assert.deepEqual(await jobs('&status=Success'), ['Success:d2']);
    assert.deepEqual(await jobs('&status=Success,Error'), ['Success:d2', 'Error:d1']);
    assert.deepEqual(await jobs('&status=Error&status=Success'), ['Success:d2', 'Error:d1']);
    assert.deepEqual(await jobs('&status=Running'), []);
    const page2 = await f.admin.call('GET', `/projects/${P}/webhook/jobs?policy_id=${id}&status=Error&page_size=1&page=2`);
    assert.deepEqual([page2.json(), page2.headers.get('x-total-count')], [[], '1'], 'the total counts the filtered executions');
    expectApi(await f.admin.call('DELETE', `/projects/${P}/webhook/policies/${id}`), 200);
  });

  test('QUOTA_EXCEED reaches the target with the refusal in custom_attributes', async () => {
    const q = `hookq-${sfx}`;
    const qid = await f.admin.createProject(q, true);
    const r = await f.admin.call('POST', `/projects/${q}/webhook/policies`, {
      name: 'quota',
      event_types: ['QUOTA_EXCEED'],
      targets: [{ type: 'http', address: rx.url('/quota') }],
    });
    expectApi(r, 201);
    expectApi(await f.admin.call('PUT', `/quotas/${qid}`, { hard: { storage: 100 } }), 200);
    await assert.rejects(reg.pushImage(`${q}/big`, 'b1', { layerSize: 4096 }));
    await rx.waitFor(() => rx.requests.some((x) => x.path === '/quota'));
    const p = body(rx.requests.find((x) => x.path === '/quota')!);
    assert.equal(p.type, 'QUOTA_EXCEED');
    assert.equal(p.event_data.repository.repo_full_name, `${q}/big`);
    assert.equal(p.event_data.repository.repo_type, 'public');
    assert.match(p.event_data.custom_attributes.Details, /refused: \d+ of 100 bytes used/);
  });

  test('nothing is sent for a disabled policy, an unselected event type, or with notification_enable off', async () => {
    const off = await createPolicy(`off-${sfx}`, '/off', { enabled: false });
    const delOnly = await createPolicy(`delonly-${sfx}`, '/delonly', { event_types: ['DELETE_ARTIFACT'] });
    const on = await createPolicy(`on-${sfx}`, '/on', { event_types: ['PUSH_ARTIFACT'] });
    expectApi(await f.admin.call('PUT', '/configurations', { notification_enable: false }), 200);
    try {
      await reg.pushImage(`${P}/quiet`, 'q1');
      // A policy that would fire proves the quiet period was long enough: re-enable and push again.
      await new Promise((r) => setTimeout(r, 1500));
      expectApi(await f.admin.call('PUT', '/configurations', { notification_enable: true }), 200);
      await reg.pushImage(`${P}/quiet`, 'q2');
      await rx.waitFor(() => rx.requests.some((x) => x.path === '/on'));
    } finally {
      await f.admin.call('PUT', '/configurations', { notification_enable: true });
    }
    const on1 = rx.matching('/on');
    assert.deepEqual(on1.map((x) => body(x).event_data.resources[0].tag), ['q2'], 'nothing for the push made while notifications were off');
    assert.equal(rx.requests.filter((x) => x.path === '/off' || x.path === '/delonly').length, 0);
    for (const id of [off, delOnly, on]) expectApi(await f.admin.call('DELETE', `/projects/${P}/webhook/policies/${id}`), 200);
  });
});
