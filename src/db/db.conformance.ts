// The Db driver conformance suite: one set of tests that every Db implementation must pass (SQLite file,
// SQLite :memory:, PostgreSQL). Each test opens its own Db and works on tables with unique names, so `open`
// may hand out connections to one shared database.
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RELAXED, type Db, type Queryable } from './db.ts';
import { MIGRATIONS, migrate } from './migrations.ts';

const table = () => `conf_${randomBytes(5).toString('hex')}`;
const bytesType = (db: Db) => (db.dialect === 'sqlite' ? 'BLOB' : 'BYTEA');

async function withDb(open: () => Promise<Db>, fn: (db: Db) => Promise<void>): Promise<void> {
  const db = await open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}

/** A promise with its resolver, to hold a transaction open at a known point. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

export function runDbConformance(name: string, open: () => Promise<Db>): void {
  suite(`Db conformance: ${name}`, () => {
    test('all/get/run with ? parameters, including null', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, name TEXT, note TEXT)`);
        assert.deepEqual(await db.run(`INSERT INTO ${t} (id, name, note) VALUES (?, ?, ?)`, [1, 'one', null]), { changes: 1 });
        assert.deepEqual(await db.run(`INSERT INTO ${t} (id, name, note) VALUES (?, ?, ?)`, [2, 'two', 'n2']), { changes: 1 });
        assert.deepEqual(await db.run(`INSERT INTO ${t} (id, name, note) VALUES (?, ?, ?)`, [3, "it's ; -- not sql", 'n3']), { changes: 1 });

        const rows = await db.all<{ id: number; name: string; note: string | null }>(`SELECT id, name, note FROM ${t} ORDER BY id`);
        assert.deepEqual(
          rows.map((r) => ({ ...r })),
          [
            { id: 1, name: 'one', note: null },
            { id: 2, name: 'two', note: 'n2' },
            { id: 3, name: "it's ; -- not sql", note: 'n3' },
          ],
        );
        const one = await db.get<{ name: string; note: string | null }>(`SELECT name, note FROM ${t} WHERE id = ?`, [1]);
        assert.equal(one?.name, 'one');
        assert.equal(one?.note, null);
        assert.equal(await db.get(`SELECT id FROM ${t} WHERE id = ?`, [99]), undefined);
        assert.deepEqual(await db.all(`SELECT id FROM ${t} WHERE id = ?`, [99]), []);
        // null as a parameter in a comparison and in IS NULL.
        assert.equal((await db.all(`SELECT id FROM ${t} WHERE note IS NULL`)).length, 1);
        assert.equal((await db.all(`SELECT id FROM ${t} WHERE note = ?`, [null])).length, 0);
        // Several placeholders, in order.
        const two = await db.all<{ id: number }>(`SELECT id FROM ${t} WHERE id > ? AND id < ? ORDER BY id`, [1, 3]);
        assert.deepEqual(two.map((r) => r.id), [2]);
        // run reports the number of changed rows, 0 when nothing matched.
        assert.deepEqual(await db.run(`UPDATE ${t} SET note = ? WHERE id >= ?`, ['x', 2]), { changes: 2 });
        assert.deepEqual(await db.run(`DELETE FROM ${t} WHERE id = ?`, [42]), { changes: 0 });
        assert.deepEqual(await db.run(`DELETE FROM ${t} WHERE id = ?`, [1]), { changes: 1 });
        const count = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`);
        assert.equal(count?.n, 2, 'COUNT(*) is a number');
        assert.equal(typeof count?.n, 'number');
      }));

    test('a failing statement rejects and leaves the Db usable', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, v TEXT NOT NULL)`);
        await assert.rejects(db.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [1, null]));
        await assert.rejects(db.all(`SELECT nope FROM ${t}`));
        await assert.rejects(db.tx(async (q) => q.run(`INSERT INTO ${t} (id) VALUES (?)`, [1])));
        await db.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [1, 'ok']);
        assert.equal((await db.get<{ v: string }>(`SELECT v FROM ${t}`))?.v, 'ok');
      }));

    test('bytes round trip byte-exact as Buffer (all 256 values, empty, Uint8Array input)', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, b ${bytesType(db)})`);
        const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const big = randomBytes(256 * 1024);
        const u8 = new Uint8Array([0, 1, 2, 0xff, 0]);
        const empty = Buffer.alloc(0);
        const cases: [number, Uint8Array][] = [
          [1, all],
          [2, big],
          [3, u8],
          [4, empty],
          [5, Buffer.from('\0\0trailing nul\0', 'latin1')],
        ];
        for (const [id, b] of cases) await db.run(`INSERT INTO ${t} (id, b) VALUES (?, ?)`, [id, b]);
        for (const [id, b] of cases) {
          const r = await db.get<{ b: Buffer }>(`SELECT b FROM ${t} WHERE id = ?`, [id]);
          assert.ok(Buffer.isBuffer(r?.b), `row ${id} is a Buffer`);
          assert.equal(r!.b.length, b.length, `row ${id} length`);
          assert.ok(r!.b.equals(Buffer.from(b)), `row ${id} bytes`);
        }
        // A Buffer parameter matches the stored bytes in a WHERE clause.
        const hit = await db.get<{ id: number }>(`SELECT id FROM ${t} WHERE b = ?`, [all]);
        assert.equal(hit?.id, 1);
        // Inside a transaction too.
        const inTx = await db.tx((q) => q.get<{ b: Buffer }>(`SELECT b FROM ${t} WHERE id = ?`, [2]));
        assert.ok(Buffer.isBuffer(inTx?.b) && inTx.b.equals(big));
      }));

    test('booleans are stored as 1/0 and match as parameters', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, flag INTEGER NOT NULL)`);
        await db.run(`INSERT INTO ${t} (id, flag) VALUES (?, ?), (?, ?)`, [1, true, 2, false]);
        const rows = await db.all<{ id: number; flag: number }>(`SELECT id, flag FROM ${t} ORDER BY id`);
        assert.deepEqual(rows.map((r) => [r.id, r.flag]), [
          [1, 1],
          [2, 0],
        ]);
        assert.deepEqual((await db.all<{ id: number }>(`SELECT id FROM ${t} WHERE flag = ?`, [true])).map((r) => r.id), [1]);
        assert.deepEqual((await db.all<{ id: number }>(`SELECT id FROM ${t} WHERE flag = ?`, [false])).map((r) => r.id), [2]);
        await db.tx((q) => q.run(`UPDATE ${t} SET flag = ? WHERE id = ?`, [true, 2]));
        assert.equal((await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t} WHERE flag = ?`, [true]))?.n, 2);
      }));

    test('BIGINT values below 2^53 come back as exact numbers; bigint parameters accepted', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, v BIGINT NOT NULL)`);
        const values: [number, number | bigint, number][] = [
          [1, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
          [2, 2 ** 40 + 7, 2 ** 40 + 7],
          [3, 1_700_000_000_123, 1_700_000_000_123], // epoch ms
          [4, 5n, 5],
          [5, BigInt(Number.MAX_SAFE_INTEGER - 1), Number.MAX_SAFE_INTEGER - 1],
          [6, -(2 ** 52), -(2 ** 52)],
          [7, 0, 0],
        ];
        for (const [id, v] of values) await db.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [id, v]);
        for (const [id, , want] of values) {
          const r = await db.get<{ v: unknown }>(`SELECT v FROM ${t} WHERE id = ?`, [id]);
          assert.equal(typeof r?.v, 'number', `row ${id} is a number`);
          assert.equal(r?.v, want, `row ${id}`);
        }
        const sel = await db.get<{ id: number }>(`SELECT id FROM ${t} WHERE v = ?`, [BigInt(Number.MAX_SAFE_INTEGER)]);
        assert.equal(sel?.id, 1);
        const ret = await db.get<{ v: unknown }>(`SELECT v + 1 AS v FROM ${t} WHERE id = ?`, [2]);
        assert.equal(ret?.v, 2 ** 40 + 8);
      }));

    test('ON CONFLICT DO NOTHING and DO UPDATE', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (k TEXT PRIMARY KEY, v TEXT NOT NULL, hits INTEGER NOT NULL DEFAULT 0)`);
        assert.equal((await db.run(`INSERT INTO ${t} (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING`, ['a', 'first'])).changes, 1);
        assert.equal((await db.run(`INSERT INTO ${t} (k, v) VALUES (?, ?) ON CONFLICT (k) DO NOTHING`, ['a', 'second'])).changes, 0);
        assert.equal((await db.get<{ v: string }>(`SELECT v FROM ${t} WHERE k = ?`, ['a']))?.v, 'first');
        const upsert = `INSERT INTO ${t} (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v, hits = ${t}.hits + 1`;
        assert.equal((await db.run(upsert, ['a', 'third'])).changes, 1);
        assert.equal((await db.run(upsert, ['b', 'new'])).changes, 1);
        const rows = await db.all<{ k: string; v: string; hits: number }>(`SELECT k, v, hits FROM ${t} ORDER BY k`);
        assert.deepEqual(
          rows.map((r) => [r.k, r.v, r.hits]),
          [
            ['a', 'third', 1],
            ['b', 'new', 0],
          ],
        );
        // Without ON CONFLICT, a duplicate key is an error.
        await assert.rejects(db.run(`INSERT INTO ${t} (k, v) VALUES (?, ?)`, ['a', 'dup']));
      }));

    test('RETURNING on INSERT, UPDATE and DELETE', () =>
      withDb(open, async (db) => {
        const t = table();
        const id = db.dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY';
        await db.exec(`CREATE TABLE ${t} (id ${id}, name TEXT NOT NULL UNIQUE)`);
        const a = await db.get<{ id: number; name: string }>(`INSERT INTO ${t} (name) VALUES (?) RETURNING id, name`, ['a']);
        const b = await db.get<{ id: number }>(`INSERT INTO ${t} (name) VALUES (?) RETURNING id`, ['b']);
        assert.equal(typeof a?.id, 'number');
        assert.equal(a?.name, 'a');
        assert.ok(b!.id > a!.id);
        // DO NOTHING + RETURNING yields no row on conflict.
        assert.equal(await db.get(`INSERT INTO ${t} (name) VALUES (?) ON CONFLICT (name) DO NOTHING RETURNING id`, ['a']), undefined);
        const inTx = await db.tx((q) => q.all<{ id: number }>(`INSERT INTO ${t} (name) VALUES (?), (?) RETURNING id`, ['c', 'd']));
        assert.equal(inTx.length, 2);
        const up = await db.all<{ name: string }>(`UPDATE ${t} SET name = name || ? WHERE id <= ? RETURNING name`, ['!', b!.id]);
        assert.deepEqual(up.map((r) => r.name).sort(), ['a!', 'b!']);
        const del = await db.all<{ id: number }>(`DELETE FROM ${t} WHERE name = ? RETURNING id`, ['a!']);
        assert.deepEqual(del.map((r) => r.id), [a!.id]);
      }));

    test('tx commits and returns the callback value', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, v TEXT)`);
        const out = await db.tx(async (q) => {
          assert.equal(q.dialect, db.dialect);
          await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [1, 'a']);
          await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [2, 'b']);
          // The transaction sees its own writes.
          const n = await q.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${t}`);
          assert.equal(n?.n, 2);
          return 'done';
        });
        assert.equal(out, 'done');
        assert.equal((await db.all(`SELECT id FROM ${t}`)).length, 2);
      }));

    test('tx rolls back everything when the callback throws, and rethrows the same error', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, v TEXT)`);
        await db.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [1, 'kept']);
        const boom = new Error('boom');
        await assert.rejects(
          db.tx(async (q) => {
            await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [2, 'lost']);
            await q.run(`UPDATE ${t} SET v = ? WHERE id = ?`, ['changed', 1]);
            await q.run(`DELETE FROM ${t} WHERE id = ?`, [1]);
            throw boom;
          }),
          (e) => e === boom,
        );
        // A failing statement inside the tx rolls back the earlier ones too.
        await assert.rejects(
          db.tx(async (q) => {
            await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [3, 'lost']);
            await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [1, 'duplicate key']);
          }),
        );
        const rows = await db.all<{ id: number; v: string }>(`SELECT id, v FROM ${t} ORDER BY id`);
        assert.deepEqual(rows.map((r) => [r.id, r.v]), [[1, 'kept']]);
        // The Db is still usable afterwards, for transactions and plain writes.
        await db.tx((q) => q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [4, 'after']));
        await db.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [5, 'after']);
        assert.equal((await db.all(`SELECT id FROM ${t}`)).length, 3);
      }));

    test('a relaxed tx commits and rolls back like any other, and only that commit skips the flush to disk', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, v TEXT)`);
        // The setting as the writing connection sees it: SQLite 2 = FULL, 1 = NORMAL; PostgreSQL on/off.
        const setting = async (q: Queryable) =>
          q.dialect === 'sqlite' ? Number(Object.values((await q.get('PRAGMA synchronous'))!)[0]) : String((await q.get<{ synchronous_commit: string }>('SHOW synchronous_commit'))!.synchronous_commit);
        const [durable, relaxed] = db.dialect === 'sqlite' ? [2, 1] : ['on', 'off'];
        const seen = await db.tx(async (q) => {
          await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [1, 'relaxed']);
          return setting(q);
        }, RELAXED);
        assert.equal(seen, relaxed);
        await assert.rejects(db.tx(async (q) => {
          await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [2, 'lost']);
          throw new Error('boom');
        }, RELAXED));
        assert.deepEqual((await db.all<{ id: number }>(`SELECT id FROM ${t}`)).map((r) => r.id), [1]);
        // The next ordinary transaction is durable again.
        assert.equal(await db.tx((q) => setting(q)), durable);
      }));

    test('concurrent transactions serialize: 20 parallel read-modify-write increments end at 20', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`);
        await db.run(`INSERT INTO ${t} (id, n) VALUES (1, 0), (2, 0)`);
        // Read-modify-write in application code. The first statement takes the row's write lock (a no-op
        // UPDATE), the portable way to serialize on PostgreSQL's READ COMMITTED as well as on SQLite.
        await Promise.all(
          Array.from({ length: 20 }, (_, i) =>
            db.tx(async (q) => {
              await q.run(`UPDATE ${t} SET n = n WHERE id = 1`);
              const r = await q.get<{ n: number }>(`SELECT n FROM ${t} WHERE id = 1`);
              if (i % 3 === 0) await sleep(1); // let others interleave
              await q.run(`UPDATE ${t} SET n = ? WHERE id = 1`, [r!.n + 1]);
            }),
          ),
        );
        assert.equal((await db.get<{ n: number }>(`SELECT n FROM ${t} WHERE id = 1`))?.n, 20);
        // Atomic increments: each transaction sees a distinct value, 1..20.
        const seen = await Promise.all(
          Array.from({ length: 20 }, () =>
            db.tx(async (q) => (await q.get<{ n: number }>(`UPDATE ${t} SET n = n + 1 WHERE id = 2 RETURNING n`))!.n),
          ),
        );
        assert.deepEqual(
          seen.sort((a, b) => a - b),
          Array.from({ length: 20 }, (_, i) => i + 1),
        );
        // Some failing in the middle do not disturb the others.
        const results = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) =>
            db.tx(async (q) => {
              await q.run(`UPDATE ${t} SET n = n + 1 WHERE id = 2`);
              if (i % 2) throw new Error('fail');
            }),
          ),
        );
        assert.equal(results.filter((r) => r.status === 'rejected').length, 5);
        assert.equal((await db.get<{ n: number }>(`SELECT n FROM ${t} WHERE id = 2`))?.n, 25);
      }));

    test('reads outside a transaction never see its uncommitted writes', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`CREATE TABLE ${t} (id INTEGER PRIMARY KEY, v TEXT)`);
        await db.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [1, 'committed']);

        // A transaction that writes, then is held open; it is rolled back in the end.
        const hold = gate();
        const wrote = gate();
        const rolledBack = db.tx(async (q) => {
          await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [2, 'uncommitted']);
          await q.run(`UPDATE ${t} SET v = ? WHERE id = ?`, ['dirty', 1]);
          wrote.open();
          await hold.promise;
          throw new Error('roll back');
        });
        await wrote.promise;
        // Reads issued while the transaction is open. A driver may answer at once (snapshot of committed
        // data) or only once the transaction ended; either way it must never see the dirty rows.
        const reads = Promise.all([
          db.all<{ id: number; v: string }>(`SELECT id, v FROM ${t} ORDER BY id`),
          db.get<{ v: string }>(`SELECT v FROM ${t} WHERE id = ?`, [1]),
        ]);
        await Promise.race([reads, sleep(100)]);
        hold.open();
        await assert.rejects(rolledBack, /roll back/);
        const [rows, one] = await reads;
        assert.deepEqual(rows.map((r) => [r.id, r.v]), [[1, 'committed']]);
        assert.equal(one?.v, 'committed');

        // The same with a commit: an outside read sees either nothing new or all of it, never a part.
        const hold2 = gate();
        const wrote2 = gate();
        const committed = db.tx(async (q) => {
          await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [3, 'a']);
          wrote2.open();
          await hold2.promise;
          await q.run(`INSERT INTO ${t} (id, v) VALUES (?, ?)`, [4, 'b']);
        });
        await wrote2.promise;
        const during = db.all<{ id: number }>(`SELECT id FROM ${t} ORDER BY id`);
        await Promise.race([during, sleep(100)]);
        hold2.open();
        await committed;
        const ids = (await during).map((r) => r.id);
        assert.ok(JSON.stringify(ids) === '[1]' || JSON.stringify(ids) === '[1,3,4]', `saw ${JSON.stringify(ids)}`);
        assert.deepEqual((await db.all<{ id: number }>(`SELECT id FROM ${t} ORDER BY id`)).map((r) => r.id), [1, 3, 4]);
      }));

    test('exec runs a multi-statement script', () =>
      withDb(open, async (db) => {
        const t = table();
        await db.exec(`
          CREATE TABLE ${t} (id INTEGER PRIMARY KEY, v TEXT);
          CREATE INDEX ${t}_v ON ${t}(v);
          INSERT INTO ${t} (id, v) VALUES (1, 'x');
          INSERT INTO ${t} (id, v) VALUES (2, 'y');
        `);
        assert.deepEqual((await db.all<{ v: string }>(`SELECT v FROM ${t} ORDER BY id`)).map((r) => r.v), ['x', 'y']);
        await assert.rejects(db.exec(`INSERT INTO ${t} (id, v) VALUES (3, 'z'); SELECT * FROM no_such_table_${t};`));
      }));

    test('migrate() applies every version once, records it, and is idempotent', () =>
      withDb(open, async (db) => {
        const first = await migrate(db);
        const rows = await db.all<{ version: number; name: string; applied_at: number }>(
          'SELECT version, name, applied_at FROM schema_migrations ORDER BY version',
        );
        assert.deepEqual(
          rows.map((r) => [r.version, r.name]),
          MIGRATIONS.map((m) => [m.version, m.name]),
        );
        for (const r of rows) assert.ok(typeof r.applied_at === 'number' && r.applied_at > 1_600_000_000_000);
        // `first` is every version on a fresh database, or only the ones missing when another test of this
        // suite already migrated the same database; either way each is recorded once.
        for (const v of first) assert.ok(MIGRATIONS.some((m) => m.version === v));
        assert.deepEqual(await migrate(db), []);
        assert.deepEqual(await migrate(db), []);
        assert.equal((await db.all('SELECT version FROM schema_migrations')).length, MIGRATIONS.length);
        // The schema is usable.
        const name = `conf-${randomBytes(4).toString('hex')}`;
        await db.run('INSERT INTO settings (key, value) VALUES (?, ?)', [name, 'v']);
        assert.equal((await db.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [name]))?.value, 'v');
        await db.run('DELETE FROM settings WHERE key = ?', [name]);
      }));

    test('close() ends the Db: later queries fail', async () => {
      const db = await open();
      await db.close();
      await assert.rejects(async () => db.get('SELECT 1 AS x'));
    });
  });
}
