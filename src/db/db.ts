// The one query layer: plain SQL with `?` placeholders that runs on SQLite (embedded default) and PostgreSQL.
// Portable subset: integers for timestamps (epoch ms) and booleans, TEXT for JSON, BLOB/BYTEA for bytes,
// ON CONFLICT and RETURNING (both dialects support them).

export type Dialect = 'sqlite' | 'postgres';
export type Param = string | number | bigint | null | Buffer | Uint8Array | boolean;
export type Row = Record<string, unknown>;

export interface Queryable {
  readonly dialect: Dialect;
  all<T = Row>(sql: string, params?: readonly Param[]): Promise<T[]>;
  get<T = Row>(sql: string, params?: readonly Param[]): Promise<T | undefined>;
  run(sql: string, params?: readonly Param[]): Promise<{ changes: number }>;
}

/**
 * `relaxed`: the commit need not reach the disk before tx() resolves (SQLite: synchronous=NORMAL for that commit,
 * PostgreSQL: synchronous_commit=off). Still atomic and safe against a crash of Berth; only an OS crash or power
 * loss may undo it. For bookkeeping whose loss only repeats work — job claims and ends, event cursors — so a busy
 * job queue does not pay a blocking fsync per webhook delivery. Never for what a client was told is stored.
 */
export interface TxOptions {
  readonly relaxed?: boolean;
}

export const RELAXED: TxOptions = Object.freeze({ relaxed: true });

export interface Db extends Queryable {
  /** Runs fn in one transaction; commits when it resolves, rolls back when it throws. */
  tx<T>(fn: (q: Queryable) => Promise<T>, opts?: TxOptions): Promise<T>;
  /** Runs a multi-statement script (migrations only). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** Placeholders for an IN (...) list. */
export const inList = (n: number): string => Array.from({ length: n }, () => '?').join(',');

/**
 * Which of `digests` appear in `table.digest` for one repository, queried in IN-lists of bounded length
 * (SQLite and PostgreSQL both cap bound parameters).
 */
export async function selectDigestsIn(
  q: Queryable,
  table: 'repository_blobs' | 'manifests',
  repositoryId: number,
  digests: readonly string[],
  lock: 'share' | null = null,
): Promise<Set<string>> {
  // PostgreSQL: FOR SHARE holds the rows until the caller's transaction ends (garbage collection skips them);
  // SQLite transactions are serialised anyway.
  const suffix = lock === 'share' && q.dialect === 'postgres' ? ' FOR SHARE' : '';
  const out = new Set<string>();
  for (let i = 0; i < digests.length; i += 500) {
    const part = digests.slice(i, i + 500);
    const rows = await q.all<{ digest: string }>(`SELECT digest FROM ${table} WHERE repository_id = ? AND digest IN (${inList(part.length)})${suffix}`, [
      repositoryId,
      ...part,
    ]);
    for (const r of rows) out.add(r.digest);
  }
  return out;
}
