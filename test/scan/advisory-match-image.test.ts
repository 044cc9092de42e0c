// A real image matched against fixture advisories for packages it really has: the Debian bookworm rootfs
// (mmdebstrap) and the npm layer of test/helpers/scan-images.ts (built once, cached under .tools/scan-images). The
// image is scanned once and stored with no advisories; an OSV zip is then imported and rematchAll must give exactly
// the expected findings (source-package matching, release suffixes, `~` backports, binNMUs, last_affected,
// withdrawn records, versions lists, npm and PyPI ranges) without reading the layers again.
import assert from 'node:assert/strict';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import type { Db } from '../../src/db/db.ts';
import { migrate } from '../../src/db/migrations.ts';
import { PostgresDb } from '../../src/db/postgres.ts';
import { SqliteDb } from '../../src/db/sqlite.ts';
import { toReport, toSummary, type Advisory } from '../../src/services/scan/advisories.ts';
import { AdvisoryService } from '../../src/services/scan/advisory-service.ts';
import { inventory } from '../../src/services/scan/inventory.ts';
import { createTestDatabase, dropTestDatabase } from '../helpers/pg.ts';
import { zip } from '../helpers/zip.ts';
import { debianRootfs, npmLayer } from '../helpers/scan-images.ts';

const BACKEND = process.env.BERTH_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
const cleanup: (() => Promise<void>)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f().catch(() => {});
});



const CRIT = [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }];
const osv = (id: string, ecosystem: string, name: string, events: Record<string, string>[], more: Partial<Advisory> = {}): Advisory => ({
  id,
  modified: '2026-01-01T00:00:00Z',
  summary: `${name} fixture`,
  affected: [{ package: { ecosystem, name }, ranges: [{ type: ecosystem === 'npm' ? 'SEMVER' : 'ECOSYSTEM', events }] }],
  ...more,
});

// The fixture feed: each record names a package the image really has (versions as they are in the image).
const FEED: Advisory[] = [
  // curl 7.88.1-10+deb12u15 is below the fix: every binary of source curl (curl, libcurl4, libcurl3-gnutls)
  osv('DEBIAN-CVE-2099-0001', 'Debian:12', 'curl', [{ introduced: '0' }, { fixed: '7.88.1-10+deb12u16' }], { severity: CRIT }),
  // the same source fixed for Debian 11 only: not this image
  osv('DEBIAN-CVE-2099-0002', 'Debian:11', 'curl', [{ introduced: '0' }, { fixed: '7.74.0-1.3+deb11u99' }]),
  // openssl 3.0.20-1~deb12u2: fixed below (3.0.19 backport) is not a finding; fixed at 3.0.20-1 is (~ sorts first)
  osv('DSA-9001-1', 'Debian:12', 'openssl', [{ introduced: '0' }, { fixed: '3.0.19-1~deb12u1' }], { aliases: ['CVE-2099-0003'] }),
  osv('DSA-9002-1', 'Debian:12', 'openssl', [{ introduced: '0' }, { fixed: '3.0.20-1' }], { aliases: ['CVE-2099-0004'], database_specific: { severity: 'high' } }),
  // zlib with an epoch, last_affected exactly the installed version: affected, no fix
  osv('DEBIAN-CVE-2099-0005', 'Debian:12', 'zlib', [{ introduced: '0' }, { last_affected: '1:1.2.13.dfsg-1' }]),
  // pyyaml: the binNMU python3-yaml 6.0-3+b2 is compared by its source version 6.0-3
  osv('DEBIAN-CVE-2099-0006', 'Debian:12', 'pyyaml', [{ introduced: '0' }, { fixed: '6.0-4' }]),
  // glibc on another release, and a withdrawn six record: nothing
  osv('DEBIAN-CVE-2099-0007', 'Debian:11', 'glibc', [{ introduced: '0' }, { fixed: '2.99-1' }]),
  osv('DEBIAN-CVE-2099-0008', 'Debian:12', 'six', [{ introduced: '0' }], { withdrawn: '2026-01-02T00:00:00Z' }),
  // npm: express (introduced 4.0.0), left-pad by versions list, cookie fixed below 0.7.1
  osv('GHSA-0000-0000-0001', 'npm', 'express', [{ introduced: '4.0.0' }, { fixed: '4.22.0' }], { aliases: ['CVE-2099-0009'], database_specific: { severity: 'MODERATE' } }),
  { id: 'GHSA-0000-0000-0002', modified: '2026-01-01T00:00:00Z', summary: 'left-pad', affected: [{ package: { ecosystem: 'npm', name: 'left-pad' }, versions: ['1.1.0', '1.3.0'] }] },
  osv('GHSA-0000-0000-0003', 'npm', 'cookie', [{ introduced: '0' }, { fixed: '0.7.0' }]),
  // PyPI (the Debian python packages' dist-info): requests below the fix; urllib3 below the affected range
  osv('PYSEC-2099-1', 'PyPI', 'requests', [{ introduced: '0' }, { fixed: '2.32.0' }], { aliases: ['CVE-2099-0010'] }),
  osv('PYSEC-2099-2', 'PyPI', 'urllib3', [{ introduced: '2.0.0' }, { fixed: '2.2.2' }]),
];

const EXPECTED = [
  // [id, package, version, fix_version, severity]
  ['CVE-2099-0001', 'curl', '7.88.1-10+deb12u15', '7.88.1-10+deb12u16', 'Critical'],
  ['CVE-2099-0001', 'libcurl3-gnutls', '7.88.1-10+deb12u15', '7.88.1-10+deb12u16', 'Critical'],
  ['CVE-2099-0001', 'libcurl4', '7.88.1-10+deb12u15', '7.88.1-10+deb12u16', 'Critical'],
  ['CVE-2099-0004', 'libssl3', '3.0.20-1~deb12u2', '3.0.20-1', 'High'],
  ['CVE-2099-0004', 'openssl', '3.0.20-1~deb12u2', '3.0.20-1', 'High'],
  ['CVE-2099-0009', 'express', '4.21.2', '4.22.0', 'Medium'],
  ['CVE-2099-0005', 'zlib1g', '1:1.2.13.dfsg-1', '', 'Unknown'],
  ['CVE-2099-0006', 'python3-yaml', '6.0-3+b2', '6.0-4', 'Unknown'],
  ['CVE-2099-0010', 'requests', '2.28.1', '2.32.0', 'Unknown'],
  ['GHSA-0000-0000-0002', 'left-pad', '1.3.0', '', 'Unknown'],
];

async function freshDb(): Promise<Db> {
  let db: Db;
  if (BACKEND === 'postgres') {
    const t = await createTestDatabase('berth_advimg');
    db = new PostgresDb(t.url, 4);
    cleanup.push(() => dropTestDatabase(t.name));
  } else {
    const dir = mkdtempSync(join(tmpdir(), 'berth-advimg-'));
    db = new SqliteDb(join(dir, 'berth.db'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  }
  cleanup.push(() => db.close());
  await migrate(db);
  return db;
}

test(`a real Debian + npm image against fixture advisories gives exactly the expected findings (${BACKEND})`, { timeout: 5 * 60_000 }, async () => {
  // Built here when missing (the oracle test shares the cache; test files run in any order).
  const layers = [debianRootfs(), npmLayer()];
  const inv = await inventory(layers.map((f) => () => createReadStream(f)));
  assert.equal(inv.os?.id, 'debian');
  assert.equal(inv.os?.versionId, '12');

  const db = await freshDb();
  const s = new AdvisoryService({ db });
  assert.deepEqual(await s.recordScan('sha256:image', inv), [], 'no advisories yet');

  const dir = mkdtempSync(join(tmpdir(), 'berth-advfeed-'));
  cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'all.zip'), zip(Object.fromEntries(FEED.map((a) => [`${a.id}.json`, JSON.stringify(a)]))));
  const imp = await s.importFrom(join(dir, 'all.zip'));
  // the withdrawn record was never stored
  assert.deepEqual([imp.added, imp.unchanged], [FEED.length - 1, 1]);

  const r = await s.rematchAll();
  assert.deepEqual([r.rematched, r.changed], [1, ['sha256:image']]);
  const stored = (await s.repo.findInventory('sha256:image'))!;
  assert.deepEqual(
    stored.findings.map((f) => [f.id, f.package, f.version, f.fix_version, f.severity]),
    EXPECTED,
  );
  // matching the fresh inventory directly agrees with the re-match from the store
  assert.deepEqual(await s.matchInventory(inv), stored.findings);

  const report = toReport(stored.findings);
  assert.equal(report.severity, 'Critical');
  assert.deepEqual(toSummary(report), { total: 10, fixable: 8, summary: { Critical: 3, High: 2, Medium: 1, Unknown: 4 } });
});
