// Throwaway PostgreSQL databases for tests, on the server BERTH_TEST_PG_URL names (`bash scripts/pg.sh start`).
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const pgAdminUrl = (): string => process.env.BERTH_TEST_PG_URL || 'postgres://postgres@127.0.0.1:55432/postgres';

/** Runs one statement as the admin (CREATE/DROP DATABASE cannot run inside a pool transaction). */
export async function pgAdmin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: pgAdminUrl() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** URL of database `name` on the test server. */
export function pgDatabaseUrl(name: string): string {
  const u = new URL(pgAdminUrl());
  u.pathname = '/' + name;
  return u.toString();
}

/** Creates a fresh, uniquely named database; drop it with dropTestDatabase. */
export async function createTestDatabase(prefix = 'berth_test'): Promise<{ name: string; url: string }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  await pgAdmin(`CREATE DATABASE ${name}`);
  return { name, url: pgDatabaseUrl(name) };
}

export async function dropTestDatabase(name: string): Promise<void> {
  await pgAdmin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}
