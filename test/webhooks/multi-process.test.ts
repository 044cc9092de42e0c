// Two Berth processes on one PostgreSQL database: pushes spread over both, two policies to one receiver. Each
// event is queued once (in the dispatcher transaction that claims it) and each delivery task claimed by one
// worker of either process, so every event id reaches each policy's target exactly once — none lost, none twice.
// Only meaningful on PostgreSQL (a deployment of several processes); on SQLite it is reported as skipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startBerth, testDatabase, type Berth } from '../helpers/berth.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { Receiver } from '../helpers/receiver.ts';
import { pushImage, sleep } from '../durability/lib.ts';

const ENV = {
  BERTH_SECURITY_OUTBOUND_ALLOWLIST: '127.0.0.1/32',
  BERTH_NOTIFICATION_WEBHOOK_JOB_RETRY_DELAY: '1',
};
const PUSHES = 200;
const CONCURRENCY = 8;

test(
  'two processes on one PostgreSQL: 200 pushes over both, 2 policies — each event id delivered exactly once per policy',
  { timeout: 180_000, skip: testDatabase() !== 'postgres' && 'needs two processes on one PostgreSQL: run with BERTH_TEST_DATABASE=postgres' },
  async () => {
    const rx = await new Receiver().start();
    const a = await startBerth({ env: ENV });
    let b: Berth | null = null;
    try {
      b = await startBerth({ env: ENV, dataDir: a.dataDir, pgDatabase: a.pgDatabase! });
      const api = new ApiClient(a.url, 'admin', a.adminPassword);
      const P = `multi-${randomBytes(3).toString('hex')}`;
      await api.createProject(P, false);
      for (const path of ['/one', '/two']) {
        const r = await api.call('POST', `/projects/${P}/webhook/policies`, {
          name: `policy${path.replace('/', '-')}`,
          enabled: true,
          event_types: ['PUSH_ARTIFACT'],
          targets: [{ type: 'http', address: rx.url(path) }],
        });
        assert.equal(r.status, 201, r.text);
      }

      // PUSHES small images, CONCURRENCY at a time, alternating between the processes.
      const procs = [a, b];
      let next = 0;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          for (let i = next++; i < PUSHES; i = next++) await pushImage(procs[i % 2]!, `${P}/app${i % 5}`, `t${i}`, randomBytes(256), `n${i}`);
        }),
      );

      await rx.waitFor((rs) => rs.length >= PUSHES * 2, 120_000);
      await sleep(3000); // a duplicate would arrive in this window
      const ids = new Map<string, Map<string, number>>([
        ['/one', new Map()],
        ['/two', new Map()],
      ]);
      for (const r of rx.requests) {
        const m = ids.get(r.path);
        assert.ok(m, `unexpected path ${r.path}`);
        const id = String(r.headers['x-berth-event-id']);
        m.set(id, (m.get(id) ?? 0) + 1);
      }
      assert.equal(rx.requests.length, PUSHES * 2, 'total deliveries');
      for (const [path, m] of ids) {
        assert.equal(m.size, PUSHES, `${path}: distinct event ids`);
        assert.deepEqual([...m.values()].filter((n) => n !== 1), [], `${path}: an event id delivered more than once`);
      }
      assert.deepEqual([...ids.get('/one')!.keys()].sort(), [...ids.get('/two')!.keys()].sort(), 'both policies got the same events');
      // Every push (by its tag) is among them.
      const tags = new Set(rx.requests.map((r) => JSON.parse(r.body).event_data.resources[0].tag as string));
      assert.equal(tags.size, PUSHES);
    } catch (e) {
      process.stderr.write(`--- A ---\n${a.output()}\n--- B ---\n${b?.output() ?? ''}\n`);
      throw e;
    } finally {
      await b?.stop({ keepData: true });
      await a.stop();
      await rx.stop();
    }
  },
);
