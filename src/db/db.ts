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
 * The stored size of each of `digests` found in `table` (for one repository unless `repositoryId` is null), queried
 * in IN-lists of bounded length (SQLite and PostgreSQL both cap bound parameters).
 */
export async function selectDigestSizesIn(
  q: Queryable,
  table: 'repository_blobs' | 'manifests' | 'blobs',
  repositoryId: number | null,
  digests: readonly string[],
  lock: 'share' | null = null,
): Promise<Map<string, number>> {
  // PostgreSQL: FOR SHARE holds the rows until the caller's transaction ends (garbage collection skips them);
  // SQLite transactions are serialised anyway.
  const suffix = lock === 'share' && q.dialect === 'postgres' ? ' FOR SHARE' : '';
  // repository_blobs has no size column: its rows are only looked up for presence.
  const size = table === 'repository_blobs' ? '0' : 'size';
  const scope = repositoryId === null ? '' : 'repository_id = ? AND ';
  const out = new Map<string, number>();
  for (let i = 0; i < digests.length; i += 500) {
    const part = digests.slice(i, i + 500);
    const rows = await q.all<{ digest: string; size: number | string }>(
      `SELECT digest, ${size} AS size FROM ${table} WHERE ${scope}digest IN (${inList(part.length)})${suffix}`,
      repositoryId === null ? [...part] : [repositoryId, ...part],
    );
    for (const r of rows) out.set(r.digest, Number(r.size));
  }
  return out;
}

/** Which of `digests` appear in `table.digest` for one repository. */
export async function selectDigestsIn(
  q: Queryable,
  table: 'repository_blobs' | 'manifests',
  repositoryId: number,
  digests: readonly string[],
  lock: 'share' | null = null,
): Promise<Set<string>> {
  return new Set((await selectDigestSizesIn(q, table, repositoryId, digests, lock)).keys());
}
