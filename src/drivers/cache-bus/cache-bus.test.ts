// The cache invalidation bus: in-process delivery, and on a real PostgreSQL (BERTH_TEST_DATABASE=postgres) delivery
// between two buses on one database, including a LISTEN connection killed by the server (re-opened, then a flush).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { LocalCacheBus } from './cache-bus.ts';
import { PgCacheBus } from './pg-cache-bus.ts';
import { PostgresDb } from '../../db/postgres.ts';
import { createTestDatabase, dropTestDatabase } from '../../../test/helpers/pg.ts';
import { testDatabase } from '../../../test/helpers/berth.ts';

const onPg = testDatabase() === 'postgres';
const SKIP_PG = !onPg && 'needs PostgreSQL: run with BERTH_TEST_DATABASE=postgres';

test('in-process bus: publish reaches every subscriber of the topic synchronously, one throwing subscriber does not stop the rest', async () => {
  const bus = new LocalCacheBus();
  const seen: string[] = [];
  bus.subscribe('user', () => {
    throw new Error('boom');
  });
  bus.subscribe('user', (k) => seen.push(`user:${k}`));
  bus.subscribe('config', (k) => seen.push(`config:${k}`));
  const warnings: string[] = [];
  const onWarn = (w: Error) => warnings.push(w.message);
  process.on('warning', onWarn);
  const p = bus.publish('user', 'alice');
  // Delivered before publish() yields: the publishing process never serves from a stale cache.
  assert.deepEqual(seen, ['user:alice']);
  await p;
  await new Promise((r) => setImmediate(r));
  process.off('warning', onWarn);
  assert.ok(warnings.some((w) => w.includes('boom')), 'the failing subscriber is reported');
});

const dbs: string[] = [];
after(async () => {
  for (const d of dbs) await dropTestDatabase(d);
});

async function pgPair() {
  const { name, url } = await createTestDatabase('berth_bustest');
  dbs.push(name);
  const dbA = new PostgresDb(url, 2);
  const dbB = new PostgresDb(url, 2);
  const logs: string[] = [];
  const a = new PgCacheBus({ db: dbA, url, log: (m) => logs.push(`A ${m}`) });
  const b = new PgCacheBus({ db: dbB, url, log: (m) => logs.push(`B ${m}`) });
  await Promise.all([a.start(), b.start()]);
  return {
    a,
    b,
    dbA,
    logs,
    async close() {
      await Promise.all([a.close(), b.close()]);
      await Promise.all([dbA.close(), dbB.close()]);
    },
  };
}

const until = async (what: string, cond: () => boolean, ms = 5_000) => {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  return Date.now() - t0;
};

test('PostgreSQL bus: a message published by one process reaches the other within a second, the publisher once', { skip: SKIP_PG }, async () => {
  const p = await pgPair();
  try {
    const atA: (string | null)[] = [];
    const atB: (string | null)[] = [];
    p.a.subscribe('user', (k) => atA.push(k));
    p.b.subscribe('user', (k) => atB.push(k));
    p.b.subscribe('config', (k) => atB.push(`config:${k}`));
    const t0 = Date.now();
    await p.a.publish('user', 'alice');
    await until('B to hear about alice', () => atB.includes('alice'));
    const ms = Date.now() - t0;
    assert.ok(ms < 1000, `delivered in ${ms} ms`);
    await p.b.publish('config', 'read_only,auth_mode');
    await until('A to stay quiet on config', () => atB.includes('config:read_only,auth_mode'));
    await new Promise((r) => setTimeout(r, 200));
    // A's own message came back over LISTEN and was skipped: delivered once, locally.
    assert.deepEqual(atA, ['alice']);
    // Published inside a transaction that rolls back: PostgreSQL never delivers it.
    await p.dbA
      .tx(async (q) => {
        await q.get("SELECT pg_notify('berth_cache', ?)", [JSON.stringify({ o: 'someone-else', t: 'user', k: 'rolled-back' })]);
        throw new Error('rollback');
      })
      .catch(() => {});
    await p.dbA.tx((q) => q.get("SELECT pg_notify('berth_cache', ?)", [JSON.stringify({ o: 'someone-else', t: 'user', k: 'committed' })]));
    await until('the committed message', () => atB.includes('committed'));
    assert.ok(!atB.includes('rolled-back'));
    // Junk on the channel is ignored.
    await p.dbA.get("SELECT pg_notify('berth_cache', 'not json'), pg_notify('berth_cache', '{\"t\":\"nope\",\"k\":\"x\"}')");
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(atB.every((k) => k !== null && k !== 'x'));
  } finally {
    await p.close();
  }
});

test('PostgreSQL bus: a LISTEN connection terminated by the server is re-opened and every cache is flushed', { skip: SKIP_PG }, async () => {
  const p = await pgPair();
  try {
    const atB: (string | null)[] = [];
    p.b.subscribe('robot', (k) => atB.push(k));
    assert.equal(p.b.connects, 1);
    // Kill every LISTEN backend of this database but the pools' (pg_stat_activity shows the LISTEN query last).
    const killed = await p.dbA.all<{ pid: number }>(
      "SELECT pg_terminate_backend(pid) AS t, pid FROM pg_stat_activity WHERE datname = current_database() AND query = 'LISTEN berth_cache' AND pid <> pg_backend_pid()",
    );
    assert.equal(killed.length, 2, 'both listeners were found');
    await until('B to reconnect', () => p.b.connects === 2 && p.b.listening);
    // Messages may have been lost while it was away: the subscriber was told to drop everything.
    assert.ok(atB.includes(null), `flush delivered: ${JSON.stringify(atB)}`);
    assert.ok(p.logs.some((l) => l.startsWith('B cache invalidation listener lost')), p.logs.join('\n'));
    // And it hears new messages again.
    await until('A to reconnect', () => p.a.connects === 2 && p.a.listening);
    await p.a.publish('robot', '7');
    await until('B to hear robot 7', () => atB.includes('7'));
  } finally {
    await p.close();
  }
});
