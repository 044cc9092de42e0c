// GC test helpers: the services of a running Berth's deployment (same data dir and database), built in this
// process, so GC runs while the Berth child serves pushes (two processes on one deployment are supported);
// and the storage/database invariants a finished GC must leave.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildServices, type Services } from '../../src/app.ts';
import { loadConfig } from '../../src/config/config.ts';
import { NODE, ROOT, type Berth } from '../helpers/berth.ts';

export function deploymentEnv(b: Berth, extra: Record<string, string> = {}): Record<string, string> {
  return {
    BERTH_DATA_DIR: b.dataDir,
    BERTH_DATABASE_TYPE: b.database,
    ...(b.pgUrl ? { BERTH_DATABASE_POSTGRES_URL: b.pgUrl } : {}),
    ...b.storageEnv,
    BERTH_REGISTRY_GC_GRACE: '0',
    BERTH_LOG_LEVEL: 'silent',
    ...extra,
  };
}

export async function openServices(b: Berth): Promise<Services> {
  return (await buildServices(loadConfig({ env: deploymentEnv(b) }))).services;
}

/** Runs one GC in a child process (e.g. with BERTH_TEST_CRASH_AT); resolves with its exit code/signal and output. */
export function gcInChild(b: Berth, env: Record<string, string>): Promise<{ code: number | null; signal: string | null; out: string }> {
  const child = spawn(NODE, [join(ROOT, 'test', 'gc', 'run-gc.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...deploymentEnv(b), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return new Promise((res) => child.once('exit', (code, signal) => res({ code, signal, out })));
}

/**
 * After a final GC with grace 0: every storage file has a row and every row a file, no row is left `deleting`,
 * every row has a link, and every link is referenced by a manifest of its repository.
 */
export async function assertExactStorage(s: Services): Promise<{ blobs: number; files: number }> {
  const files = new Set<string>();
  for await (const f of s.store.listBlobs()) files.add(f.digest);
  const rows = await s.db.all<{ digest: string; deleting: number | null }>('SELECT digest, deleting FROM blobs');
  const rowSet = new Set(rows.map((r) => r.digest));
  assert.deepEqual(rows.filter((r) => r.deleting !== null), [], 'no row left deleting');
  assert.deepEqual([...files].filter((d) => !rowSet.has(d)), [], 'no file without a row');
  assert.deepEqual([...rowSet].filter((d) => !files.has(d)), [], 'no row without a file');
  const unlinked = await s.db.all('SELECT b.digest FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest)');
  assert.deepEqual(unlinked, [], 'no row without a link');
  const unreferenced = await s.db.all(
    `SELECT rb.repository_id, rb.digest FROM repository_blobs rb WHERE NOT EXISTS (
       SELECT 1 FROM manifest_references mr JOIN manifests m ON m.id = mr.manifest_id
       WHERE mr.digest = rb.digest AND mr.kind = 'blob' AND m.repository_id = rb.repository_id)`,
  );
  assert.deepEqual(unreferenced, [], 'no link without a referencing manifest');
  return { blobs: rows.length, files: files.size };
}
