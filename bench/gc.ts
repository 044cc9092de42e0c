// GC benchmark: N blobs (rows + files), half of them linked and referenced by one tagged manifest, the other half
// unlinked garbage; one GC run with `workers`. Usage:
//   node bench/gc.ts [N=10000] [workers=4]            (SQLite in a temp dir)
//   BERTH_TEST_DATABASE=postgres node bench/gc.ts ...  (a throwaway database on BERTH_TEST_PG_URL)
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { Db } from '../src/db/db.ts';
import { SqliteDb } from '../src/db/sqlite.ts';
import { PostgresDb } from '../src/db/postgres.ts';
import { migrate } from '../src/db/migrations.ts';
import { FsBlobStore } from '../src/storage/fs-store.ts';
import { BlobRepository } from '../src/repositories/blob-repository.ts';
import { GcRepository } from '../src/repositories/gc-repository.ts';
import { GcService } from '../src/services/registry/gc-service.ts';

const N = Number(process.argv[2] ?? 10000);
const WORKERS = Number(process.argv[3] ?? 4);
const PG = process.env.BERTH_TEST_DATABASE === 'postgres';
const ADMIN = process.env.BERTH_TEST_PG_URL || 'postgres://postgres@127.0.0.1:55432/postgres';
const dir = mkdtempSync(join(tmpdir(), 'berth-gcbench-'));
const pgName = `berth_gcbench_${randomBytes(4).toString('hex')}`;
async function admin(sql: string) {
  const c = new pg.Client({ connectionString: ADMIN });
  await c.connect();
  await c.query(sql).finally(() => c.end());
}
let db: Db;
if (PG) {
  await admin(`CREATE DATABASE ${pgName}`);
  const u = new URL(ADMIN);
  u.pathname = '/' + pgName;
  db = new PostgresDb(u.toString(), 20);
} else db = new SqliteDb(join(dir, 'berth.db'));
try {
  await migrate(db);
  const root = join(dir, 'storage');
  const store = new FsBlobStore(root);
  await store.check();
  const now = Date.now();
  const t0 = Date.now();
  await db.tx(async (q) => {
    await q.run("INSERT INTO projects (name, public, created_at, updated_at) VALUES ('library', 1, ?, ?)", [now, now]);
    await q.run("INSERT INTO repositories (project_id, name, created_at, updated_at) VALUES (1, 'library/bench', ?, ?)", [now, now]);
    const m = await q.get<{ id: number }>(
      "INSERT INTO manifests (repository_id, digest, media_type, size, content, created_at) VALUES (1, 'sha256:" + '0'.repeat(64) + "', 'x', 1, ?, ?) RETURNING id",
      [Buffer.from('m'), now],
    );
    await q.run("INSERT INTO tags (repository_id, name, manifest_id, created_at, updated_at) VALUES (1, 'v1', ?, ?, ?)", [m!.id, now, now]);
    for (let i = 0; i < N; i++) {
      const bytes = Buffer.from(`bench-blob-${i}-${'x'.repeat(100)}`);
      const hex = createHash('sha256').update(bytes).digest('hex');
      const dg = `sha256:${hex}`;
      mkdirSync(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex), { recursive: true });
      writeFileSync(join(root, 'blobs', 'sha256', hex.slice(0, 2), hex, 'data'), bytes);
      await q.run('INSERT INTO blobs (digest, size, created_at) VALUES (?, ?, ?)', [dg, bytes.length, now]);
      if (i % 2) {
        await q.run('INSERT INTO repository_blobs (repository_id, digest, created_at) VALUES (1, ?, ?)', [dg, now]);
        await q.run("INSERT INTO manifest_references (manifest_id, digest, kind) VALUES (?, ?, 'blob')", [m!.id, dg]);
      }
    }
  });
  // As autovacuum would after a bulk load: without statistics PostgreSQL plans for empty tables.
  if (PG) await db.run('ANALYZE');
  const setup = Date.now() - t0;
  const gc = new GcService({ db, store, blobs: new BlobRepository(db), gc: new GcRepository(db), graceMs: 0 });
  const dry = await gc.run({ dryRun: true, deleteUntagged: true });
  const phases: Record<string, number> = {};
  let last = Date.now();
  let lastPhase = 'start';
  const r = await gc.run({
    deleteUntagged: true,
    workers: WORKERS,
    onProgress: (p) => {
      const t = Date.now();
      phases[lastPhase] = (phases[lastPhase] ?? 0) + (t - last);
      last = t;
      lastPhase = p.phase;
    },
  });
  const again = await gc.run({ deleteUntagged: true, workers: WORKERS });
  console.log(
    JSON.stringify({
      database: PG ? 'postgres' : 'sqlite',
      blobs: N,
      workers: WORKERS,
      setupMs: setup,
      dryRunMs: dry.durationMs,
      gcMs: r.durationMs,
      blobsDeleted: r.blobsDeleted,
      blobsPerSecond: Math.round(r.blobsDeleted / (r.durationMs / 1000)),
      blobsScannedPerSecond: Math.round(N / (r.durationMs / 1000)),
      noopRunMs: again.durationMs,
      phaseMs: phases,
    }),
  );
} finally {
  await db.close();
  if (PG) await admin(`DROP DATABASE IF EXISTS ${pgName} WITH (FORCE)`);
  rmSync(dir, { recursive: true, force: true });
}
