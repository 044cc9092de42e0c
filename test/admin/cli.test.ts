// The admin commands of the real `berth` CLI (child processes) against real deployments: migrate, reset-admin-
// password, gc, doctor, and --help of each. Runs on BERTH_TEST_DATABASE (sqlite or postgres).
import { suite, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBerth, testDatabase, type Berth } from '../helpers/berth.ts';
import { createTestDatabase } from '../helpers/pg.ts';
import { ApiClient } from '../helpers/api-client.ts';
import { RegistryClient, MediaTypes, digestOf } from '../helpers/registry-client.ts';
import { berthEnv, cli, deploymentEnv, trackResources } from './lib.ts';

// What a test starts or creates, stopped and removed after the file's tests.
const { dirs, databases, berths } = trackResources();

async function freshDeployment(): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-admin-'));
  dirs.push(dataDir);
  const db = testDatabase() === 'postgres' ? await createTestDatabase() : null;
  if (db) databases.push(db.name);
  return deploymentEnv({ dataDir, database: testDatabase(), pgUrl: db?.url ?? null });
}

const blobPath = (b: Berth, digest: string) => join(b.dataDir, 'storage', 'blobs', 'sha256', digest.slice(7, 9), digest.slice(7), 'data');

suite(`admin CLI (${testDatabase()})`, () => {
  test('every admin command has --help (exit 0, its usage)', async () => {
    for (const cmd of ['migrate', 'reset-admin-password', 'gc', 'doctor', 'backup', 'restore']) {
      const r = await cli([cmd, '--help'], {});
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.startsWith(`berth ${cmd}`), r.stdout);
    }
    const top = await cli(['--help'], {});
    for (const cmd of ['migrate', 'reset-admin-password', 'gc', 'doctor', 'backup', 'restore']) assert.match(top.stdout, new RegExp(`berth ${cmd}`));
    const bad = await cli(['gc', '--nope'], {});
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Unknown option '--nope'/);
  });

  test('migrate applies the migrations and exits; --status lists applied and pending', async () => {
    const env = await freshDeployment();
    const s0 = await cli(['migrate', '--status', '--json'], env);
    assert.equal(s0.code, 0, s0.stderr);
    const j0 = JSON.parse(s0.stdout);
    assert.ok(j0.pending > 10);
    assert.equal(j0.pending, j0.migrations.length);
    const m = await cli(['migrate'], env);
    assert.equal(m.code, 0, m.stderr);
    assert.match(m.stdout, new RegExp(`applied ${j0.pending} migration\\(s\\)`));
    const s1 = await cli(['migrate', '--status'], env);
    assert.match(s1.stdout, /^VERSION +NAME +STATUS/);
    assert.match(s1.stdout, /\n0 pending\n/);
    assert.doesNotMatch(s1.stdout, / pending\n.*pending/s);
    assert.match((await cli(['migrate'], env)).stdout, /the schema is up to date/);
    // The other commands refuse a schema that is not current.
    const fresh = await freshDeployment();
    const gc = await cli(['gc'], fresh);
    assert.equal(gc.code, 1);
    assert.match(gc.stderr, /run `berth migrate` first/);
  });

  test('reset-admin-password applies the password policy, unlocks admin on a running server and is audit-logged', async () => {
    const b = await startBerth({ env: { BERTH_AUTH_LOCKOUT_THRESHOLD: '3' } });
    berths.push(b);
    const api = new ApiClient(b.url, 'admin', b.adminPassword);
    for (let i = 0; i < 3; i++) assert.equal((await api.as('admin', 'Wrong-password-1').call('GET', '/users/current')).status, 401);
    assert.equal((await api.call('GET', '/users/current')).status, 401, 'admin is locked');
    const weak = await cli(['reset-admin-password'], berthEnv(b), { stdin: 'short\n' });
    assert.equal(weak.code, 1);
    assert.match(weak.stderr, /8 to 128 characters/);
    const same = await cli(['reset-admin-password'], berthEnv(b), { stdin: `${b.adminPassword}\n` });
    assert.equal(same.code, 1);
    assert.match(same.stderr, /must differ/);
    const next = 'Reset-by-cli-2';
    const ok = await cli(['reset-admin-password'], berthEnv(b), { stdin: `${next}\n` });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /reset and the account unlocked/);
    assert.ok(!ok.stdout.includes(next) && !ok.stderr.includes(next), 'the password is never printed');
    // The running server: the new password works at once, the old one no longer.
    const admin = api.as('admin', next);
    assert.equal((await admin.call('GET', '/users/current')).status, 200);
    assert.equal((await api.call('GET', '/users/current')).status, 401);
    const logs = (await admin.call('GET', '/audit-logs?page_size=100')).json() as { operation: string; resource: string; username: string }[];
    assert.ok(
      logs.some((l) => l.operation === 'update' && l.resource === 'admin' && l.username === 'admin'),
      JSON.stringify(logs.slice(0, 5)),
    );
  });

  test('gc runs now against a running deployment: --dry-run counts, a run deletes, --delete-untagged takes untagged manifests', async () => {
    const b = await startBerth({ env: { BERTH_REGISTRY_GC_GRACE: '0' } });
    berths.push(b);
    const env = { ...berthEnv(b), BERTH_REGISTRY_GC_GRACE: '0' };
    const c = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
    const img = await c.pushImage('library/gc', 'v1', { layers: 2 });
    assert.equal((await c.request('DELETE', `/v2/library/gc/manifests/${img.digest}`)).status, 202);
    const dry = await cli(['gc', '--dry-run', '--json'], env);
    assert.equal(dry.code, 0, dry.stderr);
    const d = JSON.parse(dry.stdout);
    assert.equal(d.dryRun, true);
    assert.equal(d.blobsDeleted, 3);
    assert.equal((await c.request('GET', `/v2/library/gc/blobs/${img.layers[0].digest}`)).status, 200, 'a dry run deletes nothing');
    const run = await cli(['gc'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /blobs deleted: 3 /);
    assert.match(run.stdout, /links deleted: 3/);
    assert.equal((await c.request('GET', `/v2/library/gc/blobs/${img.layers[0].digest}`)).status, 404);

    // Re-tagging leaves the first manifest untagged: only --delete-untagged collects it.
    const a = await c.pushImage('library/untagged', 'latest');
    const bb = await c.pushImage('library/untagged', 'latest');
    assert.equal(JSON.parse((await cli(['gc', '--json'], env)).stdout).manifestsDeleted, 0);
    const u = await cli(['gc', '--delete-untagged', '--json', '--workers', '2'], env);
    assert.equal(u.code, 0, u.stderr);
    assert.equal(JSON.parse(u.stdout).manifestsDeleted, 1);
    assert.equal((await c.request('GET', `/v2/library/untagged/manifests/${a.digest}`, { headers: { accept: MediaTypes.OciManifest } })).status, 404);
    const kept = await c.request('GET', `/v2/library/untagged/manifests/latest`, { headers: { accept: MediaTypes.OciManifest } });
    assert.equal(digestOf(kept.body), bb.digest);
    assert.equal((await cli(['gc', '--workers', '11'], env)).code, 1);
  });

  test('doctor checks the deployment, prints a table or JSON, and fails on a blob row without its file', async () => {
    const b = await startBerth();
    berths.push(b);
    const env = berthEnv(b);
    const healthy = await cli(['doctor'], env);
    assert.equal(healthy.code, 0, healthy.stdout + healthy.stderr);
    assert.match(healthy.stdout, /^CHECK +STATUS +DETAIL\n/);
    const j = JSON.parse((await cli(['doctor', '--json'], env)).stdout) as { ok: boolean; checks: { name: string; status: string; detail: string }[] };
    assert.equal(j.ok, true);
    const names = j.checks.map((c) => c.name);
    for (const n of ['database', 'schema', 'storage', 'free space (data directory)', 'orphan files', 'missing files']) assert.ok(names.includes(n), n);
    if (b.database === 'postgres') assert.match(j.checks.find((c) => c.name === 'clock')!.detail, /skew vs the database server \d+ ms/);
    if (b.storage !== 'filesystem') return; // the rest edits storage files directly

    const c = new RegistryClient({ baseUrl: b.url, username: 'admin', password: b.adminPassword });
    const img = await c.pushImage('library/doc', 'v1');
    rmSync(blobPath(b, img.layers[0].digest));
    const orphan = digestOf('an orphan');
    mkdirSync(join(blobPath(b, orphan), '..'), { recursive: true });
    writeFileSync(blobPath(b, orphan), 'an orphan');
    const broken = await cli(['doctor', '--json'], env);
    assert.equal(broken.code, 1);
    const k = JSON.parse(broken.stdout) as typeof j;
    assert.equal(k.ok, false);
    const missing = k.checks.find((x) => x.name === 'missing files')!;
    assert.equal(missing.status, 'fail');
    assert.ok(missing.detail.includes(img.layers[0].digest), missing.detail);
    const orphans = k.checks.find((x) => x.name === 'orphan files')!;
    assert.equal(orphans.status, 'warn');
    assert.match(orphans.detail, /^1 storage file/);
    assert.match((await cli(['doctor'], env)).stdout, /missing files +FAIL/);
    // An unreachable database is a failing check, not a crash.
    if (b.database === 'postgres') {
      const down = await cli(['doctor', '--json'], { ...env, BERTH_DATABASE_POSTGRES_URL: 'postgres://postgres@127.0.0.1:1/none' });
      assert.equal(down.code, 1);
      assert.equal(JSON.parse(down.stdout).checks[0].status, 'fail');
    }
  });
});
