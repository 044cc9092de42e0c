import type { Config } from '../config/config.ts';
import type { Db } from './db.ts';
import { SqliteDb } from './sqlite.ts';
import { PostgresDb } from './postgres.ts';
import { migrate } from './migrations.ts';

/** Opens the configured database and brings its schema up to date. */
export async function openDatabase(config: Config['database']): Promise<Db> {
  const db = config.type === 'postgres' ? new PostgresDb(config.postgresUrl, config.postgresMaxConnections) : new SqliteDb(config.sqlitePath);
  try {
    await migrate(db);
  } catch (e) {
    await db.close().catch(() => {});
    throw e;
  }
  return db;
}
