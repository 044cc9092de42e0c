// The advisory store (migration 21) on the backend chosen by BERTH_TEST_DATABASE: imports versioned by
// `modified`, withdrawals, indexed lookup, import from a zip path and from a URL through the outbound guard,
// stored inventories re-matched after an import without their layers, and the scheduled update job.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createReadStream } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import type { Db } from '../../db/db.ts';
import { migrate } from '../../db/migrations.ts';
import { PostgresDb } from '../../db/postgres.ts';
import { SqliteDb } from '../../db/sqlite.ts';
import { OutboundGuard } from '../../drivers/http/outbound-guard.ts';
import { JobRepository } from '../../repositories/job-repository.ts';
import { createTestDatabase, dropTestDatabase } from '../../../test/helpers/pg.ts';
import { JobService } from '../jobs/job-service.ts';
import type { Advisory } from './advisories.ts';
import { ADVISORY_UPDATE_JOB, AdvisoryService } from './advisory-service.ts';
import { inventory } from './inventory.ts';
import { zip } from '../../../test/helpers/zip.ts';
import { tar } from '../../../test/helpers/tar.ts';

const BACKEND = process.env.BERTH_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});

async function freshDb(): Promise<Db> {
  let db: Db;
  if (BACKEND === 'postgres') {
    const t = await createTestDatabase('berth_adv');
    db = new PostgresDb(t.url, 4);
    cleanup.push(() => dropTestDatabase(t.name));
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'berth-adv-'));
    db = new SqliteDb(join(dir, 'berth.db'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  }
  cleanup.push(() => db.close());
  await migrate(db);
  return db;
}



const rec = (id: string, ecosystem: string, name: string, fixed: string, modified = '2025-01-01T00:00:00Z', more: Partial<Advisory> = {}): Advisory => ({
  id,
  modified,
  affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
  ...more,
});

test(`store (${BACKEND}): imports are versioned by modified, withdrawals remove, lookup is by (ecosystem, name)`, async () => {
  const db = await freshDb();
  const s = new AdvisoryService({ db });
  const i1 = await s.importAdvisories([rec('DSA-1', 'Debian:12', 'curl', '7.88.1-11'), rec('DSA-2', 'Debian:11', 'curl', '7.74.0-2'), rec('GHSA-1', 'npm', 'left-pad', '1.3.1')], 'fixture');
  assert.deepEqual([i1.added, i1.updated, i1.withdrawn, i1.unchanged], [3, 0, 0, 0]);
  assert.ok(i1.finishedAt);
  assert.deepEqual((await s.repo.listAdvisoriesFor(['Debian', 'Debian:12'], ['curl'])).map((a) => a.id), ['DSA-1']);
  assert.deepEqual((await s.repo.listAdvisoriesFor(['npm'], ['left-pad', 'express'])).map((a) => a.id), ['GHSA-1']);
  assert.deepEqual(await s.repo.listAdvisoriesFor(['npm'], ['express']), []);

  // the same record again: unchanged; an older one: kept; a newer: replaces (its package index too)
  const i2 = await s.importAdvisories(
    [rec('DSA-1', 'Debian:12', 'curl', '7.88.1-11'), rec('GHSA-1', 'npm', 'left-pad', '1.0.0', '2024-01-01T00:00:00Z'), rec('DSA-2', 'Debian:11', 'curl-new', '7.74.0-3', '2025-06-01T00:00:00Z')],
    'fixture',
  );
  assert.deepEqual([i2.added, i2.updated, i2.withdrawn, i2.unchanged], [0, 1, 0, 2]);
  assert.ok(i2.id > i1.id);
  const ghsa = await s.repo.findAdvisory('GHSA-1');
  assert.equal(ghsa?.affected?.[0].ranges?.[0].events[1].fixed, '1.3.1');
  assert.deepEqual(await s.repo.listAdvisoriesFor(['Debian:11'], ['curl']), []);
  assert.deepEqual((await s.repo.listAdvisoriesFor(['Debian:11'], ['curl-new'])).map((a) => a.id), ['DSA-2']);

  // a withdrawn record replaces (removes) the stored one
  const i3 = await s.importAdvisories([rec('DSA-1', 'Debian:12', 'curl', '7.88.1-11', '2025-07-01T00:00:00Z', { withdrawn: '2025-07-01T00:00:00Z' })], 'fixture');
  assert.equal(i3.withdrawn, 1);
  assert.equal(await s.repo.findAdvisory('DSA-1'), null);
  assert.deepEqual(await s.repo.listAdvisoriesFor(['Debian:12'], ['curl']), []);
  assert.equal(await s.repo.countAdvisories(), 2);
});

test(`store (${BACKEND}): import from a zip on disk and from a URL through the outbound guard`, async () => {
  const db = await freshDb();
  const dir = mkdtempSync(join(tmpdir(), 'berth-osvsrc-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  const z = zip({ 'GHSA-a.json': JSON.stringify(rec('GHSA-a', 'npm', 'express', '4.22.0')), 'GHSA-b.json': JSON.stringify(rec('GHSA-b', 'npm', 'send', '0.19.1')) });
  writeFileSync(join(dir, 'all.zip'), z);
  const srv = createServer((req, res) => {
    if (req.url?.startsWith('/npm/all.zip')) res.writeHead(200, { 'content-type': 'application/zip' }).end(z);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
  const port = (srv.address() as { port: number }).port;

  const fromDisk = await new AdvisoryService({ db }).importFrom(join(dir, 'all.zip'));
  assert.equal(fromDisk.added, 2);

  // loopback is internal: refused unless allowlisted, as every outbound request
  const refused = new AdvisoryService({ db, guard: new OutboundGuard() });
  await assert.rejects(refused.importFrom(`http://127.0.0.1:${port}/npm/all.zip`), /127\.0\.0\.1|loopback|internal|refused/i);
  const s = new AdvisoryService({ db, guard: new OutboundGuard({ allowlist: ['127.0.0.1'] }) });
  const fromUrl = await s.importFrom(`http://127.0.0.1:${port}/npm/all.zip?token=secret`);
  assert.deepEqual([fromUrl.added, fromUrl.unchanged], [0, 2]);
  // the query (which may carry a token) is not recorded
  assert.equal(fromUrl.source, `http://127.0.0.1:${port}/npm/all.zip`);
  await assert.rejects(s.importFrom(`http://127.0.0.1:${port}/missing.zip`), /answered 404/);
});

test(`store (${BACKEND}): rematchAll finds new advisories for stored inventories without their layers`, async () => {
  const db = await freshDb();
  const s = new AdvisoryService({ db });
  // Two images, scanned once from layer files that are then deleted.
  const dir = mkdtempSync(join(tmpdir(), 'berth-layers-'));
  const deb = join(dir, 'deb.tar');
  const npm = join(dir, 'npm.tar');
  writeFileSync(
    deb,
    tar([
      { path: 'etc/os-release', body: 'ID=debian\nVERSION_ID="12"\n' },
      { path: 'var/lib/dpkg/status', body: 'Package: libcurl4\nStatus: install ok installed\nSource: curl\nVersion: 7.88.1-10\n\nPackage: zlib1g\nStatus: install ok installed\nSource: zlib\nVersion: 1:1.2.13.dfsg-1\n\n' },
    ]),
  );
  writeFileSync(npm, tar([{ path: 'app/node_modules/left-pad/package.json', body: JSON.stringify({ name: 'left-pad', version: '1.3.0' }) }]));
  const invDeb = await inventory([() => createReadStream(deb)]);
  const invNpm = await inventory([() => createReadStream(npm)]);
  assert.equal(invDeb.packages.length, 2);
  assert.deepEqual(await s.recordScan('sha256:deb', invDeb), []);
  assert.deepEqual(await s.recordScan('sha256:npm', invNpm), []);
  rmSync(dir, { recursive: true, force: true });

  await s.importAdvisories([rec('DEBIAN-CVE-2023-38545', 'Debian:12', 'curl', '7.88.1-10+deb12u4')], 'feed');
  const r1 = await s.rematchAll();
  assert.deepEqual([r1.rematched, r1.skipped, r1.changed], [1, 1, ['sha256:deb']]);
  const deb1 = (await s.repo.findInventory('sha256:deb'))!;
  assert.deepEqual(
    deb1.findings.map((f) => [f.id, f.package, f.version, f.fix_version]),
    [['CVE-2023-38545', 'libcurl4', '7.88.1-10', '7.88.1-10+deb12u4']],
  );
  assert.equal(deb1.matchedImport, r1.importId);
  // nothing new: nothing to do
  const r2 = await s.rematchAll();
  assert.deepEqual([r2.rematched, r2.skipped], [0, 0]);

  // an import touching only npm: the Debian inventory is marked current without matching
  await s.importAdvisories([rec('GHSA-lp', 'npm', 'left-pad', '1.3.1', '2025-01-01T00:00:00Z', { aliases: ['CVE-2099-1'] })], 'feed');
  const r3 = await s.rematchAll();
  assert.deepEqual([r3.rematched, r3.skipped, r3.changed], [1, 1, ['sha256:npm']]);
  assert.deepEqual((await s.repo.findInventory('sha256:npm'))!.findings.map((f) => [f.id, f.fix_version]), [['CVE-2099-1', '1.3.1']]);

  // withdrawing the curl advisory clears the finding on re-match
  await s.importAdvisories([rec('DEBIAN-CVE-2023-38545', 'Debian:12', 'curl', '7.88.1-10+deb12u4', '2025-09-01T00:00:00Z', { withdrawn: '2025-09-01T00:00:00Z' })], 'feed');
  const r4 = await s.rematchAll();
  assert.ok(r4.changed.includes('sha256:deb'));
  assert.deepEqual((await s.repo.findInventory('sha256:deb'))!.findings, []);
  assert.equal((await s.repo.findInventory('sha256:npm'))!.findings.length, 1);
});

test(`store (${BACKEND}): the SCAN_ADVISORY_UPDATE job imports the configured source and re-matches`, async () => {
  const db = await freshDb();
  const dir = mkdtempSync(join(tmpdir(), 'berth-osvjob-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'feed'));
  writeFileSync(join(dir, 'feed', 'GHSA-lp.json'), JSON.stringify(rec('GHSA-lp', 'npm', 'left-pad', '1.3.1')));
  const s = new AdvisoryService({ db });
  await s.recordScan('sha256:npm', { os: null, packages: [{ ecosystem: 'npm', name: 'left-pad', version: '1.3.0', path: 'app/package.json', layer: 0 }] });
  const jobs = new JobService({ repo: new JobRepository(db), maxWorkers: 1, pollMs: 50, onError: () => {} });
  cleanup.push(() => jobs.close(500));
  await s.registerJob(jobs, join(dir, 'feed'), 3600);
  const sched = await jobs.getSchedule(ADVISORY_UPDATE_JOB);
  assert.equal(sched?.cron, '@every 3600s');
  jobs.start();
  const ex = await jobs.submit(ADVISORY_UPDATE_JOB);
  let done = await jobs.getExecution(ex.id);
  for (let i = 0; i < 200 && done && !['Success', 'Error', 'Stopped'].includes(done.status); i++) {
    await new Promise((r) => setTimeout(r, 50));
    done = await jobs.getExecution(ex.id);
  }
  assert.equal(done?.status, 'Success');
  assert.equal(done?.extraAttrs.added, 1);
  assert.equal(done?.extraAttrs.changed, 1);
  assert.match(await jobs.getExecutionLogText(ex.id), /imported .*feed: 1 added/);
  assert.deepEqual((await s.repo.findInventory('sha256:npm'))!.findings.map((f) => f.id), ['GHSA-lp']);
  // interval 0: the schedule goes
  await s.registerJob(new JobService({ repo: new JobRepository(db), maxWorkers: 1, onError: () => {} }), join(dir, 'feed'), 0);
  assert.equal(await jobs.getSchedule(ADVISORY_UPDATE_JOB), null);
});
