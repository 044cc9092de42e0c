// Runs against a real PostgreSQL (BERTH_TEST_PG_URL, started by `bash scripts/pg.sh start`): a throwaway
// database is created for this file and dropped at the end.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, dropTestDatabase } from '../../test/helpers/pg.ts';
import { PostgresDb } from './postgres.ts';
import { runDbConformance } from './db.conformance.ts';
import { MIGRATIONS, migrate } from './migrations.ts';

const created: string[] = [];

async function createDatabase(): Promise<string> {
  const { name, url } = await createTestDatabase('berth_dbtest');
  created.push(name);
  return url;
}

let url = '';
before(async () => {
  url = await createDatabase();
});
after(async () => {
  for (const name of created) await dropTestDatabase(name);
});

runDbConformance('PostgreSQL', async () => new PostgresDb(url, 8));

test('PostgreSQL: migrate() from two Db instances at once applies the schema once, without error', async () => {
  const fresh = await createDatabase();
  for (let round = 0; round < 3; round++) {
    const dbs = Array.from({ length: 3 }, () => new PostgresDb(fresh, 4));
    try {
      const results = await Promise.all(dbs.map((db) => migrate(db)));
      const applied = results.flat().sort((a, b) => a - b);
      // The first round applies every version exactly once, across all instances; later rounds apply none.
      assert.deepEqual(applied, round === 0 ? MIGRATIONS.map((m) => m.version) : []);
      const rows = await dbs[0].all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      assert.deepEqual(rows.map((r) => r.version), MIGRATIONS.map((m) => m.version));
      await dbs[1].run('INSERT INTO settings (key, value) VALUES (?, ?)', [`round-${round}`, 'ok']);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
    }
  }
});
