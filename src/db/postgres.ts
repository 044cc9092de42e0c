// PostgreSQL through pg's Pool. SQL is written with `?` placeholders and rewritten to $n here.
import pg from 'pg';
import type { Db, Param, Queryable, Row, TxOptions } from './db.ts';

const placeholderCache = new Map<string, string>();
function toPg(sql: string): string {
  let out = placeholderCache.get(sql);
  if (out === undefined) {
    let i = 0;
    out = sql.replace(/\?/g, () => `$${++i}`);
    if (placeholderCache.size > 2000) placeholderCache.clear();
    placeholderCache.set(sql, out);
  }
  return out;
}

// int8 (COUNT, SUM, BIGINT columns) as numbers: all our values stay below 2^53.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

function normParams(params: readonly Param[] = []): unknown[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : typeof p === 'bigint' ? p.toString() : p));
}

class PgQueryable implements Queryable {
  readonly dialect = 'postgres' as const;
  private readonly client: pg.Pool | pg.PoolClient;
  constructor(client: pg.Pool | pg.PoolClient) {
    this.client = client;
  }
  async all<T = Row>(sql: string, params?: readonly Param[]): Promise<T[]> {
    const r = await this.client.query(toPg(sql), normParams(params));
    return r.rows as T[];
  }
  async get<T = Row>(sql: string, params?: readonly Param[]): Promise<T | undefined> {
    const r = await this.client.query(toPg(sql), normParams(params));
    return r.rows[0] as T | undefined;
  }
  async run(sql: string, params?: readonly Param[]): Promise<{ changes: number }> {
    const r = await this.client.query(toPg(sql), normParams(params));
    return { changes: r.rowCount ?? 0 };
  }
}

export class PostgresDb extends PgQueryable implements Db {
  private readonly pool: pg.Pool;
  constructor(url: string, max: number) {
    const pool = new pg.Pool({ connectionString: url, max, types });
    super(pool);
    this.pool = pool;
    // An idle client error (server restart) must not crash the process; the pool replaces the client.
    pool.on('error', () => {});
  }
  async tx<T>(fn: (q: Queryable) => Promise<T>, opts?: TxOptions): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query(opts?.relaxed ? 'BEGIN; SET LOCAL synchronous_commit = off' : 'BEGIN');
      const out = await fn(new PgQueryable(client));
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      client.release();
    }
  }
  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }
  async close(): Promise<void> {
    await this.pool.end();
  }
}
