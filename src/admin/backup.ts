// `berth backup DIR` and `berth restore DIR`: a consistent snapshot of a running deployment and its restore into a
// fresh one. Order (backup): hold blob deletion → database snapshot → copy every blob the snapshot's rows name →
// release. The hold (a settings row GC's marking transactions read, see repositories/gc-repository.ts) means no
// blob the snapshot references can lose its file while it is copied; uploads meanwhile only add files. A blob the
// snapshot names that cannot be read fails the backup loudly (it is never silently incomplete).
// Blobs go through the BlobStore interface both ways, so the same code serves the filesystem and S3.
import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync, copyFileSync, openSync, fsyncSync, closeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DatabaseSync } from 'node:sqlite';
import pg from 'pg';
import type { Config } from '../config/config.ts';
import { SqliteDb } from '../db/sqlite.ts';
import { PostgresDb } from '../db/postgres.ts';
import type { Db } from '../db/db.ts';
import { openDatabase } from '../db/open.ts';
import { saveBackupHold } from '../repositories/gc-repository.ts';
import { openBlobStore } from '../storage/open.ts';
import type { BlobStore } from '../storage/blob-store.ts';

export const MANIFEST_FILE = 'berth-backup.json';
const SQLITE_FILE = 'database.sqlite';
const PG_FILE = 'database.pgdump';
const BLOB_LIST = 'blobs.tsv';
// The hold is a lease: a backup that dies does not stop GC for longer than this.
const HOLD_LEASE_MS = 5 * 60_000;

export interface BackupManifest {
  format: 1;
  createdAt: string;
  database: 'sqlite' | 'postgres';
  blobs: number;
  bytes: number;
}

export class AdminError extends Error {}

type Log = (line: string) => void;

/** The PostgreSQL client programs: BERTH_PG_BIN, else the newest /usr/lib/postgresql/N/bin, else PATH. */
export function pgTool(name: 'pg_dump' | 'pg_restore'): string {
  const dir = process.env.BERTH_PG_BIN;
  if (dir) return join(dir, name);
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => existsSync(join('/usr/lib/postgresql', v, 'bin', name)))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join('/usr/lib/postgresql', versions[0], 'bin', name);
  } catch {
    /* not a Debian layout */
  }
  return name;
}

/** The URL without its password, and the password for PGPASSWORD (a password in argv is visible in `ps`). */
function pgConnection(url: string): { url: string; env: Record<string, string> } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), env: password ? { PGPASSWORD: password } : {} };
}

function runTool(cmd: string, args: string[], env: Record<string, string>): Promise<void> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.on('error', (e) => rej(new AdminError(`${cmd}: ${e.message}`)));
    child.on('close', (code) => (code === 0 ? res() : rej(new AdminError(`${cmd} exited with ${code}: ${err.trim()}`))));
  });
}

function openRawDb(config: Config['database']): Db {
  return config.type === 'postgres' ? new PostgresDb(config.postgresUrl, 2) : new SqliteDb(config.sqlitePath);
}

function isEmptyDir(dir: string): boolean {
  if (!existsSync(dir)) return true;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory() || !isEmptyDir(join(dir, e.name))) return false;
  }
  return true;
}

function fsyncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

async function pool<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let i = 0;
  let failed = false;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (!failed && i < items.length) {
        const item = items[i++];
        try {
          await fn(item);
        } catch (e) {
          failed = true;
          throw e;
        }
      }
    }),
  );
}

const blobFile = (dir: string, digest: string) => {
  const [alg, hex] = digest.split(':');
  return join(dir, 'blobs', alg, hex.slice(0, 2), hex);
};

/** Takes a backup of the configured deployment into `dir` (created; must be empty) while it keeps serving. */
export async function backup(config: Config, dir: string, log: Log): Promise<BackupManifest> {
  if (!isEmptyDir(dir)) throw new AdminError(`${dir} is not empty`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const store = await openBlobStore(config.storage);
  const db = openRawDb(config.database);
  let heartbeat: NodeJS.Timeout | undefined;
  try {
    // 1. Hold blob deletion (committed before the snapshot is taken, so the snapshot sees every mark made before).
    await db.tx((q) => saveBackupHold(q, Date.now() + HOLD_LEASE_MS));
    heartbeat = setInterval(() => void db.tx((q) => saveBackupHold(q, Date.now() + HOLD_LEASE_MS)).catch(() => {}), 30_000);
    // 2. The database snapshot and the blobs its rows name, read from the same snapshot.
    const blobs = config.database.type === 'postgres' ? await snapshotPostgres(config.database.postgresUrl, dir) : snapshotSqlite(config.database.sqlitePath, dir);
    log(`database snapshot taken (${config.database.type}), ${blobs.length} blobs to copy`);
    writeFileSync(join(dir, BLOB_LIST), blobs.map((b) => `${b.digest}\t${b.size}\n`).join(''), { mode: 0o600 });
    // 3. The blob files.
    let bytes = 0;
    let done = 0;
    await pool(blobs, 4, async (b) => {
      const path = blobFile(dir, b.digest);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      const hash = createHash(b.digest.split(':')[0]);
      let size = 0;
      try {
        await pipeline(
          store.read(b.digest),
          async function* (src: AsyncIterable<Buffer>) {
            for await (const chunk of src) {
              hash.update(chunk);
              size += chunk.length;
              yield chunk;
            }
          },
          createWriteStream(path, { mode: 0o600 }),
        );
      } catch (e) {
        throw new AdminError(`blob ${b.digest} referenced by the snapshot cannot be read from storage: ${(e as Error).message}`);
      }
      if (`${b.digest.split(':')[0]}:${hash.digest('hex')}` !== b.digest || size !== b.size)
        throw new AdminError(`blob ${b.digest} in storage does not match its digest or size (${size} bytes, expected ${b.size})`);
      bytes += size;
      if (++done % 500 === 0) log(`${done}/${blobs.length} blobs copied`);
    });
    const manifest: BackupManifest = { format: 1, createdAt: new Date().toISOString(), database: config.database.type, blobs: blobs.length, bytes };
    // Written last: a directory without it is an incomplete backup, and restore refuses it.
    writeFileSync(join(dir, MANIFEST_FILE), JSON.stringify(manifest, null, 2) + '\n', { mode: 0o600 });
    return manifest;
  } finally {
    clearInterval(heartbeat);
    await db.tx((q) => saveBackupHold(q, 0)).catch(() => {});
    await db.close().catch(() => {});
  }
}

interface BlobRow {
  digest: string;
  size: number;
}
const LIVE_BLOBS = 'SELECT digest, size FROM blobs WHERE deleting IS NULL ORDER BY digest';

/** VACUUM INTO: one read transaction (WAL: writers go on) writing a consistent copy of the database. */
function snapshotSqlite(path: string, dir: string): BlobRow[] {
  const target = join(dir, SQLITE_FILE);
  const src = new DatabaseSync(path);
  try {
    src.exec('PRAGMA busy_timeout=10000');
    src.prepare('VACUUM INTO ?').run(target);
  } finally {
    src.close();
  }
  const snap = new DatabaseSync(target, { readOnly: true });
  try {
    return (snap.prepare(LIVE_BLOBS).all() as { digest: string; size: number }[]).map((r) => ({ digest: r.digest, size: Number(r.size) }));
  } finally {
    snap.close();
  }
}

/** pg_dump of an exported snapshot; the blob list is read in the transaction that exported it (the same data). */
async function snapshotPostgres(url: string, dir: string): Promise<BlobRow[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    const blobs = (await client.query<{ digest: string; size: string }>(LIVE_BLOBS)).rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
    const conn = pgConnection(url);
    await runTool(pgTool('pg_dump'), ['--format=custom', '--no-owner', '--no-privileges', `--snapshot=${rows[0].id}`, `--file=${join(dir, PG_FILE)}`, `--dbname=${conn.url}`], conn.env);
    await client.query('COMMIT');
    return blobs;
  } finally {
    await client.end().catch(() => {});
  }
}

function readManifest(dir: string): BackupManifest {
  let m: BackupManifest;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as BackupManifest;
  } catch {
    throw new AdminError(`${dir} is not a complete Berth backup (no readable ${MANIFEST_FILE})`);
  }
  if (m.format !== 1) throw new AdminError(`${dir}: unknown backup format ${m.format}`);
  return m;
}

async function storeIsEmpty(store: BlobStore): Promise<boolean> {
  for await (const _ of store.listBlobs()) return false;
  return true;
}

async function pgTableCount(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const r = await client.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'");
    return Number(r.rows[0].n);
  } finally {
    await client.end();
  }
}

/**
 * Restores `dir` into the configured (fresh) deployment: blobs first (verified against their digests), then the
 * database, then migrations (a backup of an older Berth is brought up to date). Refuses a deployment that has data
 * unless `force`.
 */
export async function restore(config: Config, dir: string, opts: { force: boolean }, log: Log): Promise<BackupManifest> {
  const m = readManifest(dir);
  if (m.database !== config.database.type)
    throw new AdminError(`the backup holds a ${m.database} database, the configuration uses ${config.database.type} (database.type)`);
  const store = await openBlobStore(config.storage);
  const problems: string[] = [];
  if (config.database.type === 'sqlite') {
    if (!isEmptyDir(config.dataDir)) problems.push(`the data directory ${config.dataDir} is not empty`);
  } else if ((await pgTableCount(config.database.postgresUrl)) > 0) problems.push('the PostgreSQL database is not empty');
  if (!(await storeIsEmpty(store))) problems.push('the blob storage is not empty');
  if (problems.length && !opts.force) throw new AdminError(`refusing to restore: ${problems.join('; ')} (--force restores over it)`);

  const blobs = readFileSync(join(dir, BLOB_LIST), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [digest, size] = l.split('\t');
      return { digest, size: Number(size) };
    });
  let done = 0;
  await pool(blobs, 4, async (b) => {
    const id = randomUUID();
    const alg = b.digest.split(':')[0];
    const hash = createHash(alg);
    await store.createUpload(id);
    try {
      const part = await store.writeUploadPart(
        id,
        (async function* () {
          for await (const chunk of createReadStream(blobFile(dir, b.digest)) as AsyncIterable<Buffer>) {
            hash.update(chunk);
            yield chunk;
          }
        })(),
      );
      if (`${alg}:${hash.digest('hex')}` !== b.digest || part.size !== b.size) throw new AdminError(`backup file of ${b.digest} is damaged (digest or size differs)`);
      await store.commitUpload(id, [part.part], b.digest);
    } catch (e) {
      await store.removeUpload(id).catch(() => {});
      throw e;
    }
    if (++done % 500 === 0) log(`${done}/${blobs.length} blobs restored`);
  });
  log(`${blobs.length} blobs restored`);

  if (config.database.type === 'sqlite') {
    const path = config.database.sqlitePath;
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    const tmp = `${path}.restore-${process.pid}`;
    copyFileSync(join(dir, SQLITE_FILE), tmp);
    fsyncFile(tmp);
    renameSync(tmp, path);
  } else {
    const conn = pgConnection(config.database.postgresUrl);
    const args = ['--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', `--dbname=${conn.url}`];
    if (opts.force) args.push('--clean', '--if-exists');
    await runTool(pgTool('pg_restore'), [...args, join(dir, m.database === 'postgres' ? PG_FILE : SQLITE_FILE)], conn.env);
  }
  const db = await openDatabase(config.database);
  await db.close();
  log(`database restored (${m.database}, backup of ${m.createdAt})`);
  return m;
}
