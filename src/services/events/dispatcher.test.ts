// The outbox and dispatcher on the backend chosen by BERTH_TEST_DATABASE (sqlite default, postgres with
// BERTH_TEST_PG_URL): an event published in a transaction that rolls back never reaches a subscriber, a committed
// one is handled once; a handler that throws is retried, nothing lost; topics filter; a new subscriber does not
// replay history; concurrent publishers committing out of order are all seen (commit order = seq order); two
// dispatchers on one database handle each event once per subscriber; handled events are pruned.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db, Queryable } from '../../db/db.ts';
import { SqliteDb } from '../../db/sqlite.ts';
import { PostgresDb } from '../../db/postgres.ts';
import { migrate } from '../../db/migrations.ts';
import { EventRepository } from '../../repositories/event-repository.ts';
import { EventOutbox } from './outbox.ts';
import { EventDispatcher } from './dispatcher.ts';
import type { DomainEvent, EventType, NewEvent, Subscriber } from './types.ts';
import { createTestDatabase, dropTestDatabase } from '../../../test/helpers/pg.ts';
import { waitFor } from '../../../test/durability/lib.ts';

const BACKEND = process.env.BERTH_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

/** A fresh migrated database; open() gives another connection pool to it (another process on PostgreSQL). */
async function freshDatabase(): Promise<{ open(): Promise<Db> }> {
  if (BACKEND === 'postgres') {
    const { name, url } = await createTestDatabase('berth_events');
    cleanup.push(() => dropTestDatabase(name));
    const open = async () => {
      const db = new PostgresDb(url, 8);
      cleanup.push(() => db.close());
      return db;
    };
    await migrate(await open());
    return { open };
  }
  // SQLite: one SqliteDb per file in one process (two connections on one event loop would deadlock).
  const dir = mkdtempSync(join(tmpdir(), 'berth-events-'));
  const shared = new SqliteDb(join(dir, 'berth.db'));
  await migrate(shared);
  cleanup.push(async () => {
    await shared.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { open: async () => shared };
}

/** A subscriber that records what it handled in a table, with the handler's transaction. */
function recorder(name: string, types: readonly EventType[] | '*' = '*', fail: () => boolean = () => false): Subscriber & { calls: number } {
  const s = {
    name,
    types,
    calls: 0,
    async handle(events: readonly DomainEvent[], q: Queryable) {
      s.calls++;
      for (const e of events) await q.run('INSERT INTO test_seen (subscriber, event_id, seq) VALUES (?, ?, ?)', [name, e.id, e.seq]);
      if (fail()) throw new Error('handler failed on purpose');
    },
  };
  return s;
}

async function setup(subscribers: Subscriber[], o: { pollIntervalMs?: number; retentionMs?: number } = {}) {
  const d = await freshDatabase();
  const db = await d.open();
  await db.run('CREATE TABLE test_seen (subscriber TEXT NOT NULL, event_id TEXT NOT NULL, seq BIGINT NOT NULL)');
  const make = async (dbx: Db, subs: Subscriber[]) => {
    const rows = new EventRepository(dbx);
    const dispatcher = new EventDispatcher({ db: dbx, events: rows, subscribers: subs }, { pollIntervalMs: o.pollIntervalMs ?? 50, retentionMs: o.retentionMs ?? 3_600_000, warn: () => {} });
    const outbox = new EventOutbox({ events: rows, onPublished: (seq) => dispatcher.kick(seq) });
    await dispatcher.init();
    cleanup.push(() => dispatcher.stop());
    return { dispatcher, outbox, rows };
  };
  const first = await make(db, subscribers);
  return { db, d, make, ...first };
}

const ev = (n: number, type: EventType = 'CREATE_PROJECT'): NewEvent => ({ type, operator: 'alice', projectId: n, data: { projectId: n, projectName: `p${n}` } });
const seen = async (db: Db, subscriber: string) =>
  db.all<{ event_id: string; seq: unknown }>('SELECT event_id, seq FROM test_seen WHERE subscriber = ? ORDER BY seq', [subscriber]);

test('rolled-back publish: no event; committed: handled exactly once, with id, seq and payload', async () => {
  const sub = recorder('a');
  const { db, outbox, dispatcher } = await setup([sub]);
  await assert.rejects(
    db.tx(async (q) => {
      await outbox.publish(q, [ev(1)]);
      throw new Error('the change failed');
    }),
    /the change failed/,
  );
  await db.tx((q) => outbox.publish(q, [ev(2), ev(3, 'DELETE_PROJECT')]));
  dispatcher.start();
  await waitFor('two events', async () => (await seen(db, 'a')).length >= 2);
  await dispatcher.drain();
  const rows = await seen(db, 'a');
  assert.equal(rows.length, 2);
  assert.equal(new Set(rows.map((r) => r.event_id)).size, 2);
  for (const r of rows) assert.match(r.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  const stored = await new EventRepository(db).listEventsAfter(0, 10);
  assert.deepEqual(
    stored.map((e) => [e.type, e.operator, e.projectId, e.data]),
    [
      ['CREATE_PROJECT', 'alice', 2, { projectId: 2, projectName: 'p2' }],
      ['DELETE_PROJECT', 'alice', 3, { projectId: 3, projectName: 'p3' }],
    ],
  );
  assert.ok(stored[0]!.seq < stored[1]!.seq && stored[0]!.occurredAt > 0);
});

test('a handler that throws rolls back its round and is retried: nothing lost, nothing doubled', async () => {
  let failures = 2;
  const flaky = recorder('flaky', '*', () => failures-- > 0);
  const steady = recorder('steady');
  const { db, outbox, dispatcher } = await setup([flaky, steady], { pollIntervalMs: 20 });
  dispatcher.start();
  await db.tx((q) => outbox.publish(q, [ev(1), ev(2)]));
  await waitFor('flaky to succeed', async () => (await seen(db, 'flaky')).length === 2);
  await dispatcher.drain();
  assert.equal(flaky.calls, 3, 'two failed attempts, then one that committed');
  assert.equal((await seen(db, 'flaky')).length, 2);
  assert.equal((await seen(db, 'steady')).length, 2, 'one failing subscriber does not hold back the others');
});

test('topics filter what a subscriber gets; its cursor still passes the others', async () => {
  const sub = recorder('deletes', ['DELETE_PROJECT']);
  const { db, outbox, dispatcher, rows } = await setup([sub]);
  await db.tx((q) => outbox.publish(q, [ev(1), ev(2, 'DELETE_PROJECT'), ev(3)]));
  await dispatcher.drain();
  assert.equal((await seen(db, 'deletes')).length, 1);
  assert.equal(await rows.findCursor('deletes'), await rows.findMaxSeq());
});

test('a new subscriber starts at the end of the outbox (no replay of history)', async () => {
  const old = recorder('old');
  const { db, outbox, dispatcher, make } = await setup([old]);
  await db.tx((q) => outbox.publish(q, [ev(1)]));
  await dispatcher.drain();
  const later = recorder('later');
  const second = await make(db, [later]);
  await db.tx((q) => second.outbox.publish(q, [ev(2)]));
  await second.dispatcher.drain();
  assert.deepEqual((await seen(db, 'later')).length, 1);
});

test('concurrent publishers that commit out of order are all seen (commit order is seq order)', async () => {
  const sub = recorder('all');
  const { db, outbox, dispatcher } = await setup([sub], { pollIntervalMs: 5 });
  dispatcher.start();
  const N = 40;
  await Promise.all(
    Array.from({ length: N }, (_, i) =>
      db.tx(async (q) => {
        await outbox.publish(q, [ev(i)]);
        // Hold the transaction open a random while after the insert, so commits interleave with dispatch rounds.
        await new Promise((r) => setTimeout(r, Math.random() * 30));
      }),
    ),
  );
  await waitFor(`${N} events`, async () => (await seen(db, 'all')).length >= N);
  await dispatcher.drain();
  const rows = await seen(db, 'all');
  assert.equal(rows.length, N);
  assert.equal(new Set(rows.map((r) => r.event_id)).size, N);
});

test('two dispatchers on one database: each event handled once per subscriber', async () => {
  const { db, d, outbox, dispatcher, make } = await setup([recorder('audit'), recorder('hooks', ['CREATE_PROJECT'])], { pollIntervalMs: 5 });
  const other = await make(await d.open(), [recorder('audit'), recorder('hooks', ['CREATE_PROJECT'])]);
  dispatcher.start();
  other.dispatcher.start();
  const N = 100;
  await Promise.all(Array.from({ length: N }, (_, i) => db.tx((q) => (i % 2 ? outbox : other.outbox).publish(q, [ev(i)]))));
  await waitFor('both subscribers', async () => (await seen(db, 'audit')).length >= N && (await seen(db, 'hooks')).length >= N);
  await Promise.all([dispatcher.drain(), other.dispatcher.drain()]);
  for (const name of ['audit', 'hooks']) {
    const rows = await seen(db, name);
    assert.equal(rows.length, N, name);
    assert.equal(new Set(rows.map((r) => r.event_id)).size, N, name);
  }
});

test('events every cursor has passed are pruned after the retention; unhandled ones stay', async () => {
  const fast = recorder('fast');
  const { db, outbox, dispatcher, rows } = await setup([fast], { retentionMs: 0 });
  await db.tx((q) => outbox.publish(q, [ev(1), ev(2)]));
  await dispatcher.drain();
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await rows.removeHandledEvents(['fast'], Date.now()), 2);
  await db.tx((q) => outbox.publish(q, [ev(3)]));
  await rows.saveCursorIfAbsent('slow', 0);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(await rows.removeHandledEvents(['fast', 'slow'], Date.now()), 0);
  assert.equal((await rows.listEventsAfter(0, 10)).length, 1);
});
