// `berth backup` under load and `berth restore` into a fresh deployment, through the real CLI and a real server:
// everything acknowledged before the backup began pulls byte-for-byte from the restored Berth; what was pushed
// during the backup is either there completely or not at all. Also: GC deletes no blob while a backup holds
// deletion, and restore refuses a deployment that has data. Runs on BERTH_TEST_DATABASE (sqlite or postgres).
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, openBerthDatabase, testDatabase, type Berth } from '../helpers/berth.ts';
import { createTestDatabase } from '../helpers/pg.ts';
import { RegistryClient, MediaTypes, digestOf } from '../helpers/registry-client.ts';
import { saveBackupHold } from '../../src/repositories/gc-repository.ts';
import { berthEnv, cli, deploymentEnv, trackResources } from './lib.ts';

// What a test starts or creates, stopped and removed after the file's tests.
const { dirs, databases, berths } = trackResources();
const tmp = (p: string) => {
  const d = mkdtempSync(join(tmpdir(), p));
  dirs.push(d);
  return d;
};

interface Pushed {
  repo: string;
  tag: string;
  bytes: Buffer;
  blobs: { digest: string; size: number }[];
}

const clientOf = (b: Berth) => new RegistryClient({ baseUrl: b.url, username: b.adminUser, password: b.adminPassword });

async function push(c: RegistryClient, repo: string, tag: string, layerSize = 32 * 1024): Promise<Pushed> {
  const img = await c.pushImage(repo, tag, { layers: 2, layerSize });
  return { repo, tag, bytes: img.bytes, blobs: [img.config, ...img.layers] };
}

/** Pulls the image and checks every byte (manifest bytes equal, every blob hashes to its digest with its size). */
async function assertPulls(c: RegistryClient, p: Pushed): Promise<void> {
  const m = await c.request('GET', `/v2/${p.repo}/manifests/${p.tag}`, { headers: { accept: MediaTypes.OciManifest } });
  assert.equal(m.status, 200, `${p.repo}:${p.tag}: ${m}`);
  assert.ok(m.body.equals(p.bytes), `${p.repo}:${p.tag}: manifest bytes differ`);
  for (const b of p.blobs) {
    const r = await c.request('GET', `/v2/${p.repo}/blobs/${b.digest}`);
    assert.equal(r.status, 200, `${p.repo}@${b.digest}: ${r.status}`);
    assert.equal(r.body.length, b.size);
    assert.equal(digestOf(r.body), b.digest);
  }
}

suite(`backup and restore (${testDatabase()})`, () => {
  test('a backup taken while pushes go on restores into a fresh deployment with everything acknowledged before it', async () => {
    const src = await startBerth();
    berths.push(src);
    const c = clientOf(src);
    const before: Pushed[] = [];
    for (let i = 0; i < 4; i++) before.push(await push(c, `library/base${i}`, 'v1'));
    // Two pushers keep pushing (and re-tagging) during the backup.
    const during: Pushed[] = [];
    let stop = false;
    let started = 0;
    const pushers = [0, 1].map(async (w) => {
      for (let n = 0; !stop; n++) {
        started++;
        during.push(await push(c, `library/load${w}`, `t${n}`, 96 * 1024));
      }
    });
    while (during.length < 2) await new Promise((r) => setTimeout(r, 20));
    // Acknowledged before the backup starts: must all be in it.
    before.push(...during.splice(0));
    const startedBefore = started;
    const dir = join(tmp('berth-backup-'), 'b');
    const bk = await cli(['backup', dir], berthEnv(src), { timeoutMs: 120_000 });
    assert.equal(bk.code, 0, bk.stderr);
    assert.match(bk.stdout, /backup written to .*: (sqlite|postgres) database, \d+ blobs/);
    // Pushes really went on while it ran.
    while (started < startedBefore + 2) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(pushers);
    const manifest = JSON.parse(readFileSync(join(dir, 'berth-backup.json'), 'utf8'));
    assert.equal(manifest.database, src.database);
    assert.ok(manifest.blobs >= before.length * 3, `${manifest.blobs} blobs in the backup`);

    // A fresh deployment: new data dir, new database (PostgreSQL), its own storage.
    const dataDir = tmp('berth-restored-');
    const db = src.database === 'postgres' ? await createTestDatabase() : null;
    if (db) databases.push(db.name);
    const target = deploymentEnv({ dataDir, database: src.database, pgUrl: db?.url ?? null });
    const rs = await cli(['restore', dir], target, { timeoutMs: 120_000 });
    assert.equal(rs.code, 0, rs.stderr);
    assert.match(rs.stdout, /restored .* blobs/);

    // Restoring again over it is refused: the deployment is no longer fresh.
    const again = await cli(['restore', dir], target);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /refusing to restore: .*not empty/);

    const restored = await startBerth({ dataDir, pgDatabase: db?.name });
    berths.push(restored);
    const rc = clientOf(restored);
    for (const p of before) await assertPulls(rc, p);
    // What was pushed during the backup is there completely or not at all.
    let present = 0;
    for (const p of during) {
      const m = await rc.request('HEAD', `/v2/${p.repo}/manifests/${p.tag}`, { headers: { accept: MediaTypes.OciManifest } });
      if (m.status === 404) continue;
      assert.equal(m.status, 200);
      await assertPulls(rc, p);
      present++;
    }
    assert.ok(present <= during.length);
    // The restored Berth accepts pushes (sequences and schema are intact).
    await assertPulls(rc, await push(rc, 'library/after', 'v1'));
  });

  test('GC deletes no blob while a backup holds deletion, and collects them once it is released', async () => {
    const b = await startBerth({ env: { BERTH_REGISTRY_GC_GRACE: '0' } });
    berths.push(b);
    const c = clientOf(b);
    const p = await push(c, 'library/gone', 'v1');
    const del = await c.request('DELETE', `/v2/${p.repo}/manifests/${digestOf(p.bytes)}`);
    assert.equal(del.status, 202, String(del));
    const db = await openBerthDatabase(b);
    try {
      await db.tx((q) => saveBackupHold(q, Date.now() + 60_000));
      const held = await cli(['gc', '--json'], { ...berthEnv(b), BERTH_REGISTRY_GC_GRACE: '0' });
      assert.equal(held.code, 0, held.stderr);
      const r1 = JSON.parse(held.stdout);
      assert.equal(r1.blobsDeleted, 0);
      assert.ok(r1.linksDeleted >= 3, held.stdout);
      for (const x of p.blobs) assert.ok(existsSync(join(b.dataDir, 'storage', 'blobs', 'sha256', x.digest.slice(7, 9), x.digest.slice(7), 'data')) || b.storage === 's3');
      await db.tx((q) => saveBackupHold(q, 0));
      const freed = await cli(['gc', '--json'], { ...berthEnv(b), BERTH_REGISTRY_GC_GRACE: '0' });
      assert.equal(freed.code, 0, freed.stderr);
      assert.equal(JSON.parse(freed.stdout).blobsDeleted, 3, freed.stdout);
    } finally {
      await db.close();
    }
  });

  test('restore refuses a directory that is not a complete backup; backup refuses a non-empty directory', async () => {
    const dataDir = tmp('berth-empty-');
    const env = deploymentEnv({ dataDir, database: 'sqlite', pgUrl: null });
    const notBackup = tmp('berth-notbackup-');
    const r = await cli(['restore', notBackup], env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /not a complete Berth backup/);
    writeFileSync(join(notBackup, 'something'), 'x');
    const b = await cli(['backup', notBackup], env);
    assert.equal(b.code, 1);
    assert.match(b.stderr, /is not empty/);
  });
});
