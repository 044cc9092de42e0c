// The admin commands of the `berth` CLI: migrate, reset-admin-password, gc, doctor. Each works on the configured
// database and storage directly, in the CLI's own process, and is safe while servers run on the same deployment
// (the same transactions and locks the server uses).
import { randomUUID } from 'node:crypto';
import { statfs } from 'node:fs/promises';
import type { Config } from '../config/config.ts';
import type { Db } from '../db/db.ts';
import { SqliteDb } from '../db/sqlite.ts';
import { PostgresDb } from '../db/postgres.ts';
import { MIGRATIONS, migrate } from '../db/migrations.ts';
import { openBlobStore } from '../storage/open.ts';
import type { BlobStore } from '../storage/blob-store.ts';
import { BlobRepository } from '../repositories/blob-repository.ts';
import { GcRepository } from '../repositories/gc-repository.ts';
import { UserRepository } from '../repositories/user-repository.ts';
import { LoginFailureRepository } from '../repositories/login-failure-repository.ts';
import { AuditLogRepository } from '../repositories/audit-log-repository.ts';
import { GcService, type GcReport } from '../services/registry/gc-service.ts';
import { checkPasswordPolicy } from '../services/auth/user-service.ts';
import { hashPassword, verifyPassword } from '../services/auth/password.ts';
import { AdminError } from './backup.ts';

type Out = (s: string) => void;

/** A connection without running migrations (status and checks must not change the schema). */
export function openRawDb(config: Config['database']): Db {
  return config.type === 'postgres' ? new PostgresDb(config.postgresUrl, 4) : new SqliteDb(config.sqlitePath);
}

async function appliedVersions(db: Db): Promise<Map<number, number>> {
  try {
    const rows = await db.all<{ version: number; applied_at: number }>('SELECT version, applied_at FROM schema_migrations');
    return new Map(rows.map((r) => [Number(r.version), Number(r.applied_at)]));
  } catch {
    return new Map(); // no table yet: a fresh database
  }
}

// ---- migrate ------------------------------------------------------------------------------------------------

export async function migrateCommand(config: Config, opts: { status: boolean; json: boolean }, out: Out): Promise<number> {
  const db = openRawDb(config.database);
  try {
    if (!opts.status) {
      const applied = await migrate(db);
      out(applied.length ? `applied ${applied.length} migration(s): ${applied.join(', ')}\n` : 'the schema is up to date\n');
      return 0;
    }
    const done = await appliedVersions(db);
    const rows = MIGRATIONS.map((m) => ({ version: m.version, name: m.name, applied: done.has(m.version), appliedAt: done.has(m.version) ? new Date(done.get(m.version)!).toISOString() : null }));
    const known = new Set(MIGRATIONS.map((m) => m.version));
    const unknown = [...done.keys()].filter((v) => !known.has(v));
    if (opts.json) out(JSON.stringify({ migrations: rows, pending: rows.filter((r) => !r.applied).length, unknown }, null, 2) + '\n');
    else {
      out(table(['VERSION', 'NAME', 'STATUS'], rows.map((r) => [String(r.version), r.name, r.applied ? `applied ${r.appliedAt}` : 'pending'])));
      out(`${rows.filter((r) => !r.applied).length} pending\n`);
      if (unknown.length) out(`applied by a newer Berth (unknown here): ${unknown.join(', ')}\n`);
    }
    return 0;
  } finally {
    await db.close();
  }
}

/** Refuses to work on a schema this Berth does not match (older: run migrate; newer: upgrade Berth). */
async function requireCurrentSchema(db: Db): Promise<void> {
  const done = await appliedVersions(db);
  const pending = MIGRATIONS.filter((m) => !done.has(m.version));
  if (pending.length) throw new AdminError(`the database schema is not current (${pending.length} migration(s) pending): run \`berth migrate\` first`);
}

// ---- reset-admin-password -------------------------------------------------------------------------------------

export async function resetAdminPassword(config: Config, password: string, out: Out): Promise<number> {
  try {
    checkPasswordPolicy(password);
  } catch (e) {
    throw new AdminError((e as Error).message);
  }
  const db = openRawDb(config.database);
  try {
    await requireCurrentSchema(db);
    const users = new UserRepository(db);
    const admin = await users.findUserByName('admin');
    if (!admin) throw new AdminError('there is no user admin (start the server once to create it)');
    if (await verifyPassword(password, admin.passwordHash)) throw new AdminError('the new password must differ from the old one');
    await users.updateUserPassword(admin.id, await hashPassword(password));
    // Unlocks admin from every client address. A running server forgets its cached logins of admin within 60 s
    // (a cached login is re-checked against the stored hash, which changed).
    const unlocked = await new LoginFailureRepository(db).removeLoginFailuresOf('admin');
    await new AuditLogRepository(db).saveAuditLog({ username: 'admin', operation: 'update', resourceType: 'user', resource: 'admin', projectId: null, detail: 'password reset (berth reset-admin-password)', opTime: Date.now() });
    out(`the password of admin was reset${unlocked ? ' and the account unlocked' : ''}\n`);
    return 0;
  } finally {
    await db.close();
  }
}

// ---- gc -----------------------------------------------------------------------------------------------------

export async function gcCommand(config: Config, opts: { dryRun: boolean; deleteUntagged: boolean; workers: number; json: boolean }, out: Out): Promise<number> {
  const db = openRawDb(config.database);
  try {
    await requireCurrentSchema(db);
    const store = await openBlobStore(config.storage);
    const gc = new GcService({ db, store, blobs: new BlobRepository(db), gc: new GcRepository(db), graceMs: config.registry.gcGrace * 1000 });
    const report = await gc.run({ dryRun: opts.dryRun, deleteUntagged: opts.deleteUntagged, workers: opts.workers });
    out(opts.json ? JSON.stringify(report, null, 2) + '\n' : formatGcReport(report));
    return 0;
  } finally {
    await db.close();
  }
}

function formatGcReport(r: GcReport): string {
  const verb = r.dryRun ? 'would delete' : 'deleted';
  return [
    `garbage collection${r.dryRun ? ' (dry run)' : ''} finished in ${r.durationMs} ms`,
    `  manifests ${verb}: ${r.manifestsDeleted}${r.untaggedKeptByGrace ? ` (${r.untaggedKeptByGrace} untagged kept: younger than the grace of ${r.graceMs / 1000} s)` : ''}`,
    `  links ${verb}: ${r.linksDeleted}`,
    `  blobs ${verb}: ${r.blobsDeleted} (${r.orphanFilesDeleted} of them files without a row)`,
    `  bytes ${r.dryRun ? 'to free' : 'freed'}: ${r.bytesFreed}`,
    '',
  ].join('\n');
}

// ---- doctor -------------------------------------------------------------------------------------------------

export interface Check {
  name: string;
  status: 'ok' | 'warn' | 'fail';
  detail: string;
}

const CLOCK_SKEW_FAIL_MS = 5_000;
const MIN_FREE_BYTES = 512 * 1024 * 1024;
const MIN_FREE_RATIO = 0.05;

export async function doctor(config: Config, opts: { json: boolean }, out: Out): Promise<number> {
  const checks: Check[] = [];
  const add = (name: string, status: Check['status'], detail: string) => checks.push({ name, status, detail });
  const db = openRawDb(config.database);
  let dbOk = false;
  try {
    await db.get('SELECT 1 AS one');
    dbOk = true;
    add('database', 'ok', `${config.database.type} reachable`);
  } catch (e) {
    add('database', 'fail', `${config.database.type} not reachable: ${(e as Error).message}`);
  }
  if (dbOk) {
    const done = await appliedVersions(db);
    const pending = MIGRATIONS.filter((m) => !done.has(m.version)).length;
    const latest = MIGRATIONS[MIGRATIONS.length - 1].version;
    const unknown = [...done.keys()].filter((v) => v > latest).length;
    if (unknown) add('schema', 'fail', `the database has ${unknown} migration(s) newer than this Berth (upgrade Berth)`);
    else if (pending) add('schema', 'fail', `${pending} migration(s) pending (run berth migrate)`);
    else add('schema', 'ok', `version ${latest}, current`);
    if (config.database.type === 'postgres') {
      const before = Date.now();
      const r = await db.get<{ now: number | string }>('SELECT (extract(epoch from clock_timestamp()) * 1000)::bigint AS now');
      const after = Date.now();
      const skew = Math.abs(Number(r!.now) - (before + after) / 2);
      add('clock', skew > CLOCK_SKEW_FAIL_MS ? 'fail' : 'ok', `skew vs the database server ${Math.round(skew)} ms (limit ${CLOCK_SKEW_FAIL_MS} ms)`);
    }
  }
  let store: BlobStore | null = null;
  try {
    store = await openBlobStore(config.storage);
    await probeStorage(store);
    add('storage', 'ok', `${config.storage.type}: write, read and delete of a probe succeeded`);
  } catch (e) {
    add('storage', 'fail', `${config.storage.type}: ${(e as Error).message}`);
  }
  const volumes: [string, string][] = [['data directory', config.dataDir]];
  if (config.storage.type === 'filesystem' && config.storage.filesystemRoot !== config.dataDir) volumes.push(['storage directory', config.storage.filesystemRoot]);
  for (const [what, path] of volumes) {
    try {
      const s = await statfs(path);
      const free = s.bavail * s.bsize;
      const total = s.blocks * s.bsize;
      const low = free < MIN_FREE_BYTES || free < total * MIN_FREE_RATIO;
      add(`free space (${what})`, low ? 'fail' : 'ok', `${gib(free)} free of ${gib(total)} at ${path}`);
    } catch (e) {
      add(`free space (${what})`, 'fail', `${path}: ${(e as Error).message}`);
    }
  }
  if (dbOk && store) {
    try {
      const o = await orphans(db, store);
      // Files without rows are left by crashed uploads (GC reaps them); rows without files are lost data.
      add('orphan files', o.files ? 'warn' : 'ok', `${o.files} storage file(s) without a blob row (garbage collection removes them)`);
      add('missing files', o.rows ? 'fail' : 'ok', `${o.rows} blob row(s) without a storage file${o.rows ? `: ${o.missing.slice(0, 5).join(', ')}${o.rows > 5 ? ', …' : ''}` : ''}`);
    } catch (e) {
      add('orphans', 'fail', (e as Error).message);
    }
  }
  await db.close().catch(() => {});
  const failed = checks.some((c) => c.status === 'fail');
  if (opts.json) out(JSON.stringify({ ok: !failed, checks }, null, 2) + '\n');
  else out(table(['CHECK', 'STATUS', 'DETAIL'], checks.map((c) => [c.name, c.status.toUpperCase(), c.detail])));
  return failed ? 1 : 0;
}

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(1)} GiB`;

/** Write, read back and delete a probe upload (never a committed blob, so it is safe on a live deployment). */
async function probeStorage(store: BlobStore): Promise<void> {
  const id = randomUUID();
  const data = Buffer.from(`berth doctor probe ${id}`);
  await store.createUpload(id);
  try {
    const part = await store.writeUploadPart(
      id,
      (async function* () {
        yield data;
      })(),
    );
    const chunks: Buffer[] = [];
    for await (const c of store.readUploadParts(id, [part.part]) as AsyncIterable<Buffer>) chunks.push(c);
    if (!Buffer.concat(chunks).equals(data)) throw new Error('the probe read back differs from what was written');
  } finally {
    await store.removeUpload(id);
  }
}

/** Read-only: storage files without a row, and live rows whose file is missing (re-checked, GC may be running). */
async function orphans(db: Db, store: BlobStore): Promise<{ files: number; rows: number; missing: string[] }> {
  const rows = new Set((await db.all<{ digest: string }>('SELECT digest FROM blobs WHERE deleting IS NULL')).map((r) => r.digest));
  const files = new Set<string>();
  for await (const f of store.listBlobs()) files.add(f.digest);
  const all = new Set((await db.all<{ digest: string }>('SELECT digest FROM blobs')).map((r) => r.digest));
  let fileOrphans = 0;
  for (const f of files) if (!all.has(f)) fileOrphans++;
  const missing: string[] = [];
  for (const d of rows) if (!files.has(d) && (await db.get('SELECT 1 AS x FROM blobs WHERE digest = ? AND deleting IS NULL', [d])) && !(await store.stat(d))) missing.push(d);
  return { files: fileOrphans, rows: missing.length, missing };
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]))).join('  ') + '\n';
  return line(head) + rows.map(line).join('');
}
