// Webhook delivery across crashes, through real Berth processes and a real receiver: a push whose process is
// killed (-9) right after its manifest commit is still delivered after the restart, exactly once; a receiver
// that is down for a while gets the delivery from the retries once it is back (the failed attempts in the task
// log); and a delivery in flight when its process is killed is made again once the task's lease expired (a short
// `jobservice.task_lease` here, so the test does not wait the default 30 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startBerth, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { Receiver } from '../helpers/receiver.ts';
import { imageManifest, pushBlob, pushImage, putManifest, sleep, waitFor } from '../durability/lib.ts';

const ENV = {
  BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
  BERTH_NOTIFICATION_WEBHOOK_JOB_RETRY_DELAY: '1',
  BERTH_NOTIFICATION_WEBHOOK_JOB_MAX_RETRY: '6',
  BERTH_JOBSERVICE_TASK_LEASE: '2',
};

const admin = (b: Berth) => new ApiClient(b.url, 'admin', b.adminPassword);

/** A project with one enabled PUSH_ARTIFACT policy to `address`; returns the policy id. */
async function projectWithPolicy(b: Berth, project: string, address: string): Promise<number> {
  const api = admin(b);
  await api.createProject(project, false);
  const r = await api.call('POST', `/projects/${project}/webhook/policies`, {
    name: `p-${project}`,
    enabled: true,
    event_types: ['PUSH_ARTIFACT'],
    targets: [{ type: 'http', address, payload_format: 'Default' }],
  });
  assert.equal(r.status, 201, r.text);
  return Number(r.headers.get('location')!.split('/').pop());
}

/** The policy's executions, newest first. */
async function executions(b: Berth, project: string, policy: number): Promise<Record<string, any>[]> {
  const r = await admin(b).call('GET', `/projects/${project}/webhook/policies/${policy}/executions`);
  assert.equal(r.status, 200, r.text);
  return r.json();
}

async function withBerths(fn: (open: Berth[]) => Promise<void>): Promise<void> {
  const open: Berth[] = [];
  try {
    await fn(open);
  } catch (e) {
    for (const b of open) process.stderr.write(`--- berth output ---\n${b.output()}\n`);
    throw e;
  } finally {
    // Every process shares one data dir (and database): only the last one removes it.
    for (const b of open.slice(0, -1)) await b.stop({ keepData: true }).catch(() => {});
    await open.at(-1)?.stop();
  }
}

test('kill -9 between the manifest commit and the delivery: after the restart the receiver gets it exactly once', { timeout: 60_000 }, async () => {
  const rx = await new Receiver().start();
  try {
    await withBerths(async (open) => {
      const a = await startBerth({ env: ENV });
      open.push(a);
      const P = `crash-${randomBytes(3).toString('hex')}`;
      const repo = `${P}/app`;
      await projectWithPolicy(a, P, rx.url('/crash'));
      const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } }));
      const layer = randomBytes(2048);
      const manifest = imageManifest({ digest: await pushBlob(a, repo, config), size: config.length }, [{ digest: await pushBlob(a, repo, layer), size: layer.length }]);
      await a.stop({ keepData: true });

      const c = await startBerth({ dataDir: a.dataDir, pgDatabase: a.pgDatabase ?? undefined, env: { ...ENV, BERTH_TEST_CRASH_AT: 'manifest-after-commit' } });
      open.push(c);
      const outcome = await putManifest(c, repo, 'v1', manifest).then(
        (r) => `answered ${r.status}`,
        () => 'no answer',
      );
      await c.kill9();
      assert.equal(outcome, 'no answer', 'the process died before answering');
      assert.equal(rx.requests.length, 0, 'nothing was delivered before the crash');

      const b = await startBerth({ dataDir: a.dataDir, pgDatabase: a.pgDatabase ?? undefined, env: ENV });
      open.push(b);
      await rx.waitFor((rs) => rs.length >= 1, 20_000);
      await sleep(2500); // a late duplicate (a second queueing or a re-run) would arrive in this window
      assert.equal(rx.requests.length, 1, rx.requests.map((r) => r.body).join('\n'));
      const got = JSON.parse(rx.requests[0]!.body);
      assert.equal(got.type, 'PUSH_ARTIFACT');
      assert.equal(got.event_data.resources[0].tag, 'v1');
      assert.match(String(rx.requests[0]!.headers['x-berth-event-id']), /^[0-9a-f-]{36}$/);
    });
  } finally {
    await rx.stop();
  }
});

test('a receiver that is down for a while: delivered by the retries once it is back; the failed attempts are in the task log', { timeout: 60_000 }, async () => {
  const rx = await new Receiver().start();
  const port = rx.port;
  await rx.stop(); // connections to the port are refused until it listens again
  try {
    await withBerths(async (open) => {
      const b = await startBerth({ env: ENV });
      open.push(b);
      const P = `down-${randomBytes(3).toString('hex')}`;
      const id = await projectWithPolicy(b, P, `http://127.0.0.1:${port}/down`);
      await pushImage(b, `${P}/app`, 'v1', randomBytes(1024));
      // Wait for two failed attempts in the task log (attempt 1 at once, attempt 2 a second later).
      let logUrl = '';
      await waitFor(
        'two failed attempts',
        async () => {
          const ex = (await executions(b, P, id))[0];
          if (!ex) return false;
          const t = (await admin(b).call('GET', `/projects/${P}/webhook/policies/${id}/executions/${ex.id}/tasks`)).json()[0];
          if (!t) return false;
          logUrl = `/projects/${P}/webhook/policies/${id}/executions/${ex.id}/tasks/${t.id}/log`;
          return t.run_count >= 2;
        },
        20_000,
      );
      await rx.start(port);
      await rx.waitFor((rs) => rs.length >= 1, 30_000);
      await waitFor('the execution to succeed', async () => (await executions(b, P, id))[0]?.status === 'Success', 10_000);
      await sleep(500);
      assert.equal(rx.requests.length, 1, 'one delivery once the receiver is back');
      const ex = (await executions(b, P, id))[0]!;
      const t = (await admin(b).call('GET', `/projects/${P}/webhook/policies/${id}/executions/${ex.id}/tasks`)).json()[0];
      assert.ok(t.run_count >= 3, `failed runs then the delivered one: ${t.run_count}`);
      const log = (await admin(b).call('GET', logUrl)).text;
      const attempts = log.match(/attempt \d+: sending PUSH_ARTIFACT/g) ?? [];
      assert.equal(attempts.length, t.run_count, log);
      assert.ok((log.match(/ECONNREFUSED|connect|refused/gi) ?? []).length >= t.run_count - 1, `the refused attempts are logged:\n${log}`);
      assert.match(log, /delivered: HTTP 200/);
    });
  } finally {
    await rx.stop();
  }
});

test('kill -9 while a delivery is in flight: made again once the task lease expired', { timeout: 60_000 }, async () => {
  const rx = await new Receiver().start();
  // The first request is held open: Berth is killed while it waits for the answer.
  rx.hold = () => rx.requests.length === 0;
  try {
    await withBerths(async (open) => {
      const a = await startBerth({ env: ENV });
      open.push(a);
      const P = `flight-${randomBytes(3).toString('hex')}`;
      const id = await projectWithPolicy(a, P, rx.url('/flight'));
      await pushImage(a, `${P}/app`, 'v1', randomBytes(1024));
      await rx.waitFor((rs) => rs.length === 1, 20_000);
      await a.kill9();
      const killedAt = Date.now();

      const b = await a.restart();
      open.push(b);
      await rx.waitFor((rs) => rs.length === 2, 30_000);
      assert.ok(rx.requests[1]!.at - killedAt >= 1000, `not re-run before the 2 s lease lapsed: ${rx.requests[1]!.at - killedAt} ms`);
      await waitFor('the execution to succeed', async () => (await executions(b, P, id))[0]?.status === 'Success', 10_000);
      await sleep(2500);
      assert.equal(rx.requests.length, 2, 'the held attempt and one re-delivery');
      const [first, second] = rx.requests;
      assert.equal(second!.headers['x-berth-event-id'], first!.headers['x-berth-event-id'], 'the same event id: the receiver can de-duplicate');
      assert.equal(second!.body, first!.body);
      const ex = await executions(b, P, id);
      assert.equal(ex.length, 1, 'one execution for the one push');
    });
  } finally {
    await rx.stop();
  }
});
