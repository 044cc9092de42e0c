// Starts a real Berth process for end-to-end and client tests: a fresh data directory, and on PostgreSQL a
// fresh database. Selected by BERTH_TEST_DATABASE (sqlite, the default, or postgres with BERTH_TEST_PG_URL).
// Blob storage by BERTH_TEST_STORAGE: filesystem (default) or s3 (a fresh bucket on a versitygw, test/helpers/s3.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Db } from '../../src/db/db.ts';
import { openDatabase } from '../../src/db/open.ts';
import { createTestDatabase, dropTestDatabase, pgDatabaseUrl } from './pg.ts';
import { NODE_FLAGS } from '../../src/node-flags.ts';
import { s3Env, sharedS3 } from './s3.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const NODE = process.execPath;

export interface StartOptions {
  database?: 'sqlite' | 'postgres';
  /** Extra BERTH_* environment. */
  env?: Record<string, string>;
  /** Extra arguments after `serve` (e.g. --config FILE). */
  args?: string[];
  /** Reuse a data dir / database (restart after a crash). */
  dataDir?: string;
  pgDatabase?: string;
  port?: number;
  storage?: 'filesystem' | 's3';
  /** Reuse an S3 bucket (restart); a fresh one otherwise. */
  s3Bucket?: string;
}

export interface Berth {
  url: string;
  host: string;
  port: number;
  adminUser: 'admin';
  adminPassword: string;
  dataDir: string;
  database: 'sqlite' | 'postgres';
  pgDatabase: string | null;
  pgUrl: string | null;
  storage: 'filesystem' | 's3';
  /** The bucket on BERTH_TEST_STORAGE=s3 (on sharedS3()). */
  s3Bucket: string | null;
  /** BERTH_STORAGE_* of this deployment (empty on the filesystem), for other processes on the same deployment. */
  storageEnv: Record<string, string>;
  process: ChildProcess;
  output(): string;
  /** SIGTERM and wait. Removes the data dir and database unless keepData. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
  /** SIGKILL (a crash); keeps the data. */
  kill9(): Promise<void>;
  /** Starts a new process on the same data (and the same port). */
  restart(): Promise<Berth>;
}

export const testDatabase = (): 'sqlite' | 'postgres' => (process.env.BERTH_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite');
export const testStorage = (): 'filesystem' | 's3' => (process.env.BERTH_TEST_STORAGE === 's3' ? 's3' : 'filesystem');
export const ADMIN_PASSWORD = 'Berth-Test-Admin-1';

export async function startBerth(opts: StartOptions = {}): Promise<Berth> {
  const database = opts.database ?? testDatabase();
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'berth-test-'));
  let pgDatabase: string | null = null;
  let pgUrl: string | null = null;
  if (database === 'postgres') {
    pgDatabase = opts.pgDatabase ?? (await createTestDatabase()).name;
    pgUrl = pgDatabaseUrl(pgDatabase);
  }
  const storage = opts.storage ?? testStorage();
  let s3Bucket: string | null = null;
  let storageEnv: Record<string, string> = {};
  if (storage === 's3') {
    const s3 = await sharedS3();
    s3Bucket = opts.s3Bucket ?? (await s3.createBucket());
    storageEnv = s3Env(s3, s3Bucket);
  }
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    BERTH_DATA_DIR: dataDir,
    BERTH_HTTP_HOST: '127.0.0.1',
    BERTH_HTTP_PORT: String(opts.port ?? 0),
    BERTH_LOG_LEVEL: 'warn',
    BERTH_AUTH_ADMIN_INITIAL_PASSWORD: ADMIN_PASSWORD,
    // Client tests log in with wrong passwords on purpose (several tries per client): a higher lockout
    // threshold than the default 5 keeps admin usable there. test/api/lockout.test.ts tests the default.
    BERTH_AUTH_LOCKOUT_THRESHOLD: '50',
    BERTH_DATABASE_TYPE: database,
    ...(pgUrl ? { BERTH_DATABASE_POSTGRES_URL: pgUrl } : {}),
    ...storageEnv,
    ...opts.env,
  };
  const child = spawn(NODE, [...NODE_FLAGS, join(ROOT, 'src', 'cli.ts'), 'serve', ...(opts.args ?? [])], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let scheme = 'http';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<number>((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`Berth did not start in 30 s:\n${out}`)), 30_000);
    const onData = () => {
      const m = /listening on (https?):\/\/[^:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        scheme = m[1];
        res(Number(m[2]));
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`Berth exited with ${code} before listening:\n${out}`));
    });
  });
  const exited = new Promise<void>((res) => child.once('exit', () => res()));
  const cleanup = async () => {
    if (pgDatabase) await dropTestDatabase(pgDatabase).catch(() => {});
    rmSync(dataDir, { recursive: true, force: true });
  };
  const b: Berth = {
    // https when the Berth was started with TLS (https.certificate).
    url: `${scheme}://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    port,
    adminUser: 'admin',
    adminPassword: ADMIN_PASSWORD,
    dataDir,
    database,
    pgDatabase,
    pgUrl,
    storage,
    s3Bucket,
    storageEnv,
    process: child,
    output: () => out,
    async stop(o = {}) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      if (!o.keepData) await cleanup();
    },
    async kill9() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    restart() {
      return startBerth({ ...opts, database, dataDir, pgDatabase: pgDatabase ?? undefined, port, storage, s3Bucket: s3Bucket ?? undefined });
    },
  };
  return b;
}

/** Opens the database of a running Berth (same deployment), e.g. to seed or inspect rows a test cannot reach over HTTP. */
export function openBerthDatabase(b: Berth): Promise<Db> {
  return openDatabase({
    type: b.database,
    sqlitePath: join(b.dataDir, 'berth.db'),
    postgresUrl: b.pgUrl ?? '',
    postgresMaxConnections: 2,
  });
}
