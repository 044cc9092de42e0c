// SQLite through node:sqlite (no native addon). One writer connection guarded by an async mutex, because
// transactions span awaits; a second connection serves reads, which under WAL see only committed data and
// never wait for a writer.
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { AsyncLocalStorage } from 'node:async_hooks';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Db, Param, Queryable, Row, TxOptions } from './db.ts';

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const prev = this.tail;
    this.tail = prev.then(() => next);
    return prev.then(() => release);
  }
}

// Statements the read-only reader connection can serve; anything else (INSERT ... RETURNING) goes to the writer.
const READ_ONLY = /^\s*(?:select|values)\b/i;

function norm(params: readonly Param[]): (string | number | bigint | null | Uint8Array)[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

// node:sqlite returns Uint8Array for BLOBs; callers expect Buffer.
function fixRow(r: Record<string, unknown>): Row {
  for (const k in r) {
    const v = r[k];
    if (v instanceof Uint8Array && !Buffer.isBuffer(v)) r[k] = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }
  return r;
}

class Conn implements Queryable {
  readonly dialect = 'sqlite' as const;
  private readonly cache = new Map<string, StatementSync>();
  readonly raw: DatabaseSync;
  constructor(raw: DatabaseSync) {
    this.raw = raw;
  }
  stmt(sql: string): StatementSync {
    let s = this.cache.get(sql);
    if (!s) {
      s = this.raw.prepare(sql);
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(sql, s);
    }
    return s;
  }
  allSync<T>(sql: string, params: readonly Param[] = []): T[] {
    return (this.stmt(sql).all(...norm(params)) as Record<string, unknown>[]).map(fixRow) as T[];
  }
  getSync<T>(sql: string, params: readonly Param[] = []): T | undefined {
    const r = this.stmt(sql).get(...norm(params)) as Record<string, unknown> | undefined;
    return r ? (fixRow(r) as T) : undefined;
  }
  runSync(sql: string, params: readonly Param[] = []): { changes: number } {
    const r = this.stmt(sql).run(...norm(params));
    return { changes: Number(r.changes) };
  }
  async all<T = Row>(sql: string, params?: readonly Param[]): Promise<T[]> {
    return this.allSync<T>(sql, params);
  }
  async get<T = Row>(sql: string, params?: readonly Param[]): Promise<T | undefined> {
    return this.getSync<T>(sql, params);
  }
  async run(sql: string, params?: readonly Param[]): Promise<{ changes: number }> {
    return this.runSync(sql, params);
  }
}

export class SqliteDb implements Db {
  readonly dialect = 'sqlite' as const;
  private readonly writer: Conn;
  private readonly reader: Conn;
  private readonly mutex = new Mutex();
  // Set while this Db's transaction callback runs, so a read through the Db itself does not wait for the lock
  // that callback holds (it would deadlock on :memory:, where reads share the writer connection).
  private readonly inTx = new AsyncLocalStorage<SqliteDb>();

  constructor(path: string) {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // The database holds password hashes and (sealed) keys: owner-only, also for files an older version left
      // world-readable. SQLite gives its -wal and -shm files the database file's mode.
      closeSync(openSync(path, 'a', 0o600));
      for (const f of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(f)) chmodSync(f, 0o600);
    }
    const w = new DatabaseSync(path);
    w.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;');
    this.writer = new Conn(w);
    if (path === ':memory:') this.reader = this.writer;
    else {
      const r = new DatabaseSync(path);
      r.exec('PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA query_only=1;');
      this.reader = new Conn(r);
    }
  }

  // Reads go to the reader, which sees committed data only. A write with RETURNING, and any read on :memory:
  // (one connection, shared with an open transaction), waits for the writer lock instead.
  private async query<T>(sql: string, f: (c: Conn) => T): Promise<T> {
    const readOnly = READ_ONLY.test(sql);
    if (readOnly && this.reader !== this.writer) return f(this.reader);
    if (readOnly && this.inTx.getStore() === this) return f(this.writer);
    const release = await this.mutex.lock();
    try {
      return f(this.writer);
    } finally {
      release();
    }
  }
  async all<T = Row>(sql: string, params?: readonly Param[]): Promise<T[]> {
    return this.query(sql, (c) => c.allSync<T>(sql, params));
  }
  async get<T = Row>(sql: string, params?: readonly Param[]): Promise<T | undefined> {
    return this.query(sql, (c) => c.getSync<T>(sql, params));
  }
  async run(sql: string, params?: readonly Param[]): Promise<{ changes: number }> {
    const release = await this.mutex.lock();
    try {
      return this.writer.runSync(sql, params);
    } finally {
      release();
    }
  }
  async tx<T>(fn: (q: Queryable) => Promise<T>, opts?: TxOptions): Promise<T> {
    const release = await this.mutex.lock();
    // WAL with synchronous=NORMAL appends the commit without fsync; the next FULL commit's fsync covers it too.
    if (opts?.relaxed) this.writer.raw.exec('PRAGMA synchronous=NORMAL');
    try {
      this.writer.raw.exec('BEGIN IMMEDIATE');
      try {
        const out = await this.inTx.run(this, () => fn(this.writer));
        this.writer.raw.exec('COMMIT');
        return out;
      } catch (e) {
        this.writer.raw.exec('ROLLBACK');
        throw e;
      }
    } finally {
      if (opts?.relaxed) this.writer.raw.exec('PRAGMA synchronous=FULL');
      release();
    }
  }
  async exec(sql: string): Promise<void> {
    const release = await this.mutex.lock();
    try {
      this.writer.raw.exec(sql);
    } finally {
      release();
    }
  }
  async close(): Promise<void> {
    const release = await this.mutex.lock();
    try {
      if (this.reader !== this.writer) this.reader.raw.close();
      this.writer.raw.close();
    } finally {
      release();
    }
  }
}
