import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteDb } from './sqlite.ts';
import { runDbConformance } from './db.conformance.ts';
import { MIGRATIONS, migrate } from './migrations.ts';

const dir = mkdtempSync(join(tmpdir(), 'berth-sqlite-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fileDb = () => new SqliteDb(join(dir, `nested/dir/db-${++n}.sqlite`));

runDbConformance('SQLite file', async () => fileDb());
runDbConformance('SQLite :memory:', async () => new SqliteDb(':memory:'));

test('SQLite: a fresh database migrates every version, and a second Db on the same file sees the schema', async () => {
  const path = join(dir, 'shared.sqlite');
  const a = new SqliteDb(path);
  assert.ok(existsSync(path));
  assert.deepEqual(await migrate(a), MIGRATIONS.map((m) => m.version));
  const b = new SqliteDb(path);
  assert.deepEqual(await migrate(b), []);
  await a.run('INSERT INTO settings (key, value) VALUES (?, ?)', ['k', 'from a']);
  assert.equal((await b.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', ['k']))?.value, 'from a');
  await a.close();
  await b.close();
  // Data is durable across reopen.
  const c = new SqliteDb(path);
  assert.equal((await c.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', ['k']))?.value, 'from a');
  assert.deepEqual(await migrate(c), []);
  await c.close();
});

test('SQLite: :memory: databases are independent, and a fresh one migrates every version', async () => {
  const a = new SqliteDb(':memory:');
  const b = new SqliteDb(':memory:');
  assert.deepEqual(await migrate(a), MIGRATIONS.map((m) => m.version));
  await assert.rejects(b.get('SELECT * FROM settings'));
  await a.close();
  await b.close();
});

test('SQLite: foreign keys are enforced', async () => {
  const db = fileDb();
  await migrate(db);
  await assert.rejects(db.run('INSERT INTO repositories (project_id, name, created_at, updated_at) VALUES (?, ?, ?, ?)', [999, 'x/y', 1, 1]));
  await db.close();
});
