// OSV reading (file, directory, zip), range evaluation and matching tables, severity, and Harbor's report shape.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import {
  AdvisoryFormatError,
  advisoriesFromBytes,
  advisoriesFromPath,
  advisoriesFromZip,
  cvss3Score,
  match,
  preferredId,
  REPORT_MIME,
  toReport,
  toSummary,
  type Advisory,
  type OsvAffected,
} from './advisories.ts';
import type { Inventory, InventoryPackage } from './inventory.ts';
import { zip } from '../../../test/helpers/zip.ts';

// ---- fixtures -----------------------------------------------------------------------------------------------------


const adv = (id: string, affected: OsvAffected[], more: Partial<Advisory> = {}): Advisory => ({ id, modified: '2025-01-01T00:00:00Z', affected, ...more });
const eco = (ecosystem: string, name: string, events: Record<string, string>[], type = 'ECOSYSTEM'): OsvAffected => ({
  package: { ecosystem, name },
  ranges: [{ type, events }],
});

const DEBIAN12: Inventory['os'] = { id: 'debian', versionId: '12', versionCodename: 'bookworm', prettyName: 'Debian GNU/Linux 12', path: 'etc/os-release' };
const ALPINE: Inventory['os'] = { id: 'alpine', versionId: '3.20.3', versionCodename: '', prettyName: 'Alpine Linux v3.20', path: 'etc/os-release' };
const pkg = (p: Partial<InventoryPackage> & Pick<InventoryPackage, 'ecosystem' | 'name' | 'version'>): InventoryPackage => ({ path: 'x', layer: 0, ...p });
const inv = (os: Inventory['os'], ...packages: InventoryPackage[]) => ({ os, packages });

// ---- reading ------------------------------------------------------------------------------------------------------

test('import: a file, a directory (recursively, name order) and a zip as OSV publishes it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-osv-'));
  try {
    const a = adv('GHSA-aaaa', [eco('npm', 'left-pad', [{ introduced: '0' }, { fixed: '1.3.1' }])]);
    const b = adv('GHSA-bbbb', [eco('npm', 'express', [{ introduced: '4.0.0' }, { fixed: '4.22.0' }])]);
    writeFileSync(join(dir, 'one.json'), JSON.stringify(a));
    assert.deepEqual([...advisoriesFromPath(join(dir, 'one.json'))].map((x) => x.id), ['GHSA-aaaa']);

    mkdirSync(join(dir, 'tree', 'npm'), { recursive: true });
    writeFileSync(join(dir, 'tree', 'npm', 'GHSA-bbbb.json'), JSON.stringify(b));
    writeFileSync(join(dir, 'tree', 'a.json'), JSON.stringify(a));
    writeFileSync(join(dir, 'tree', 'README.md'), 'not a record');
    assert.deepEqual([...advisoriesFromPath(join(dir, 'tree'))].map((x) => x.id), ['GHSA-aaaa', 'GHSA-bbbb']);

    const z = zip({ 'GHSA-aaaa.json': JSON.stringify(a), 'GHSA-bbbb.json': JSON.stringify(b), 'LICENSE': 'x' });
    writeFileSync(join(dir, 'all.zip'), z);
    assert.deepEqual([...advisoriesFromPath(join(dir, 'all.zip'))].map((x) => x.id), ['GHSA-aaaa', 'GHSA-bbbb']);
    assert.deepEqual([...advisoriesFromBytes(z, 'url')].map((x) => x.id), ['GHSA-aaaa', 'GHSA-bbbb']);
    // a list of records in one file (some mirrors)
    assert.deepEqual([...advisoriesFromBytes(Buffer.from(JSON.stringify([a, b])), 'list')].map((x) => x.id), ['GHSA-aaaa', 'GHSA-bbbb']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('import: bad records and archives are refused with the place named', () => {
  assert.throws(() => [...advisoriesFromBytes(Buffer.from('{nope'), 'f.json')], (e: Error) => e instanceof AdvisoryFormatError && /f\.json: not JSON/.test(e.message));
  assert.throws(() => [...advisoriesFromBytes(Buffer.from('{"modified":"x"}'), 'f.json')], /f\.json: no id/);
  assert.throws(() => [...advisoriesFromBytes(Buffer.from('{"id":"X"}'), 'f.json')], /X has no modified/);
  assert.throws(() => [...advisoriesFromBytes(Buffer.from('{"id":"X","modified":"m","affected":[{"ranges":[{"type":"ECOSYSTEM"}]}]}'), 'f')], /range without events/);
  assert.throws(() => [...advisoriesFromZip(Buffer.from('PK\x03\x04 truncated'), 'all.zip')], /all\.zip: not a zip archive/);
  const z = zip({ 'bad.json': '[1,' });
  assert.throws(() => [...advisoriesFromZip(z, 'all.zip')], /all\.zip\/bad\.json: not JSON/);
});

// ---- matching tables ----------------------------------------------------------------------------------------------

interface Row {
  name: string;
  events?: Record<string, string>[][];
  versions?: string[];
  installed: string;
  want: string | null; // the fix version ('' = affected, no fix), null = not affected
}

function runTable(ecosystem: string, os: Inventory['os'], rows: Row[], type = 'ECOSYSTEM') {
  for (const r of rows) {
    const af: OsvAffected = { package: { ecosystem, name: 'p' }, ranges: (r.events ?? []).map((events) => ({ type, events })), versions: r.versions };
    const base = ecosystem.split(':')[0] as InventoryPackage['ecosystem'];
    const got = match(inv(os, pkg({ ecosystem: base, name: 'p', version: r.installed, sourceName: 'p', sourceVersion: r.installed })), [adv('OSV-1', [af])]);
    if (r.want === null) assert.deepEqual(got, [], `${ecosystem} ${r.name}: ${r.installed} should not match`);
    else {
      assert.equal(got.length, 1, `${ecosystem} ${r.name}: ${r.installed} should match`);
      assert.equal(got[0].fix_version, r.want, `${ecosystem} ${r.name}: fix version`);
      assert.equal(got[0].version, r.installed);
    }
  }
}

test('matching: dpkg ranges (fixed equal/below/above, epochs, ~, last_affected, multiple ranges, versions list)', () => {
  runTable('Debian:12', DEBIAN12, [
    { name: 'fixed above installed', events: [[{ introduced: '0' }, { fixed: '1.2.3-2' }]], installed: '1.2.3-1', want: '1.2.3-2' },
    { name: 'fixed equal to installed', events: [[{ introduced: '0' }, { fixed: '1.2.3-1' }]], installed: '1.2.3-1', want: null },
    { name: 'fixed below installed', events: [[{ introduced: '0' }, { fixed: '1.2.2-1' }]], installed: '1.2.3-1', want: null },
    // an epoch outweighs any upstream version
    { name: 'epoch: 1:1.0 > 2.0', events: [[{ introduced: '0' }, { fixed: '2.0-1' }]], installed: '1:1.0-1', want: null },
    { name: 'epoch: fix with epoch', events: [[{ introduced: '0' }, { fixed: '1:1.2.13.dfsg-2' }]], installed: '1:1.2.13.dfsg-1', want: '1:1.2.13.dfsg-2' },
    { name: 'epoch: installed without epoch < fix with epoch', events: [[{ introduced: '0' }, { fixed: '1:0.1-1' }]], installed: '9.9-1', want: '1:0.1-1' },
    // ~ sorts before anything, even the end: a backport 3.0.20-1~deb12u2 is older than 3.0.20-1
    { name: '~ below the release', events: [[{ introduced: '0' }, { fixed: '3.0.20-1' }]], installed: '3.0.20-1~deb12u2', want: '3.0.20-1' },
    { name: '~ backport is the fix', events: [[{ introduced: '0' }, { fixed: '3.0.20-1~deb12u2' }]], installed: '3.0.20-1~deb12u2', want: null },
    { name: '~deb12u1 < ~deb12u2', events: [[{ introduced: '0' }, { fixed: '3.0.20-1~deb12u2' }]], installed: '3.0.20-1~deb12u1', want: '3.0.20-1~deb12u2' },
    { name: 'introduced above installed', events: [[{ introduced: '2.0-1' }, { fixed: '2.5-1' }]], installed: '1.9-1', want: null },
    { name: 'no fix yet', events: [[{ introduced: '0' }]], installed: '1.0-1', want: '' },
    { name: 'last_affected equal', events: [[{ introduced: '0' }, { last_affected: '1.0-1' }]], installed: '1.0-1', want: '' },
    { name: 'last_affected below', events: [[{ introduced: '0' }, { last_affected: '1.0-1' }]], installed: '1.0-2', want: null },
    { name: 'multiple ranges: in the second', events: [[{ introduced: '1.0-1' }, { fixed: '1.1-1' }], [{ introduced: '2.0-1' }, { fixed: '2.3-1' }]], installed: '2.1-1', want: '2.3-1' },
    { name: 'multiple ranges: between them', events: [[{ introduced: '1.0-1' }, { fixed: '1.1-1' }], [{ introduced: '2.0-1' }, { fixed: '2.3-1' }]], installed: '1.5-1', want: null },
    { name: 'one range, two intervals', events: [[{ introduced: '1.0-1' }, { fixed: '1.1-1' }, { introduced: '2.0-1' }, { fixed: '2.3-1' }]], installed: '1.0-5', want: '1.1-1' },
    { name: 'versions list only', versions: ['1.0-1', '1.0-2'], installed: '1.0-2', want: '' },
    { name: 'versions list, other version', versions: ['1.0-1'], installed: '1.0-2', want: null },
  ]);
});

test('matching: SEMVER ranges (npm), introduced "0", pre-releases, v prefix, limit', () => {
  runTable(
    'npm',
    null,
    [
      { name: 'below fix', events: [[{ introduced: '0' }, { fixed: '4.22.0' }]], installed: '4.21.2', want: '4.22.0' },
      { name: 'at fix', events: [[{ introduced: '0' }, { fixed: '4.21.2' }]], installed: '4.21.2', want: null },
      { name: 'pre-release of the fix is affected', events: [[{ introduced: '0' }, { fixed: '5.0.0' }]], installed: '5.0.0-beta.1', want: '5.0.0' },
      { name: 'v prefix', events: [[{ introduced: 'v1.0.0' }, { fixed: 'v1.2.0' }]], installed: '1.1.0', want: 'v1.2.0' },
      { name: 'limit caps the range', events: [[{ introduced: '0' }, { limit: '2.0.0' }]], installed: '2.1.0', want: null },
      { name: 'below limit', events: [[{ introduced: '0' }, { limit: '2.0.0' }]], installed: '1.9.0', want: '' },
    ],
    'SEMVER',
  );
  // GIT ranges name commits: never matched against a version
  runTable('npm', null, [{ name: 'git', events: [[{ introduced: '0' }, { fixed: 'abc123' }]], installed: '1.0.0', want: null }], 'GIT');
});

test('matching: PyPI and Maven ECOSYSTEM ranges use their own version order', () => {
  runTable('PyPI', null, [
    { name: 'rc before release', events: [[{ introduced: '0' }, { fixed: '2.0.0' }]], installed: '2.0.0rc1', want: '2.0.0' },
    { name: 'post release after', events: [[{ introduced: '0' }, { fixed: '2.0.0' }]], installed: '2.0.0.post1', want: null },
  ]);
  runTable('Maven', null, [
    { name: 'qualifier', events: [[{ introduced: '0' }, { fixed: '2.17.1' }]], installed: '2.17.0', want: '2.17.1' },
    { name: 'final == release', events: [[{ introduced: '0' }, { fixed: '1.0' }]], installed: '1.0.Final', want: null },
  ]);
});

test('matching: OS releases, source packages, withdrawn, CVE ids and dedupe', () => {
  const curl = pkg({ ecosystem: 'Debian', name: 'libcurl4', version: '7.88.1-10', sourceName: 'curl', sourceVersion: '7.88.1-10' });
  const fix: Record<string, string>[] = [{ introduced: '0' }, { fixed: '7.88.1-11' }];
  // by source package name, for this release or release-less; another release never
  assert.equal(match(inv(DEBIAN12, curl), [adv('DSA-1', [eco('Debian:12', 'curl', fix)])]).length, 1);
  assert.equal(match(inv(DEBIAN12, curl), [adv('DSA-1', [eco('Debian', 'curl', fix)])]).length, 1);
  assert.equal(match(inv(DEBIAN12, curl), [adv('DSA-1', [eco('Debian:11', 'curl', fix)])]).length, 0);
  assert.equal(match(inv(DEBIAN12, curl), [adv('DSA-1', [eco('Debian:12', 'libcurl4', fix)])]).length, 0);
  assert.equal(match(inv(null, curl), [adv('DSA-1', [eco('Debian:12', 'curl', fix)])]).length, 0, 'no os-release: no release to match');
  // Alpine: `Alpine:v3.20` from VERSION_ID 3.20.3, by origin
  const ssl = pkg({ ecosystem: 'Alpine', name: 'libssl3', version: '3.3.2-r0', sourceName: 'openssl', sourceVersion: '3.3.2-r0' });
  assert.equal(match(inv(ALPINE, ssl), [adv('ALPINE-1', [eco('Alpine:v3.20', 'openssl', [{ introduced: '0' }, { fixed: '3.3.2-r1' }])])])[0]?.fix_version, '3.3.2-r1');
  assert.equal(match(inv(ALPINE, ssl), [adv('ALPINE-1', [eco('Alpine:v3.19', 'openssl', [{ introduced: '0' }, { fixed: '3.3.2-r1' }])])]).length, 0);
  // Ubuntu qualifies the release
  const ub: Inventory['os'] = { id: 'ubuntu', versionId: '22.04', versionCodename: 'jammy', prettyName: 'Ubuntu', path: 'etc/os-release' };
  const bash = pkg({ ecosystem: 'Ubuntu', name: 'bash', version: '5.1-6ubuntu1', sourceName: 'bash', sourceVersion: '5.1-6ubuntu1' });
  assert.equal(match(inv(ub, bash), [adv('UBUNTU-CVE-2024-1', [eco('Ubuntu:22.04:LTS', 'bash', [{ introduced: '0' }, { fixed: '5.1-6ubuntu1.1' }])])])[0]?.id, 'CVE-2024-1');
  assert.equal(match(inv(ub, bash), [adv('UBUNTU-1', [eco('Ubuntu:Pro:22.04:LTS', 'bash', [{ introduced: '0' }])])]).length, 0);

  // withdrawn advisories never match
  assert.deepEqual(match(inv(DEBIAN12, curl), [adv('DSA-1', [eco('Debian:12', 'curl', fix)], { withdrawn: '2025-02-01T00:00:00Z' })]), []);

  // the CVE alias is the id reported; the OSV id is kept
  const f = match(inv(DEBIAN12, curl), [adv('DSA-5555-1', [eco('Debian:12', 'curl', fix)], { aliases: ['GHSA-x', 'CVE-2023-38545'] })]);
  assert.equal(f[0].id, 'CVE-2023-38545');
  assert.equal(f[0].osv_id, 'DSA-5555-1');
  assert.equal(preferredId({ id: 'DEBIAN-CVE-2024-6197', modified: '' }), 'CVE-2024-6197');
  assert.equal(preferredId({ id: 'GHSA-abcd', modified: '' }), 'GHSA-abcd');
  assert.equal(preferredId({ id: 'GO-2024-1', modified: '', upstream: ['CVE-2024-9'] }), 'CVE-2024-9');

  // one finding per (CVE, package, version): a lockfile and a package.json of one package, and two databases
  const lp = [pkg({ ecosystem: 'npm', name: 'left-pad', version: '1.3.0', path: 'app/package-lock.json' }), pkg({ ecosystem: 'npm', name: 'left-pad', version: '1.3.0', path: 'app/node_modules/left-pad/package.json' })];
  const two = match(inv(null, ...lp), [
    adv('GHSA-1', [eco('npm', 'left-pad', [{ introduced: '0' }])], { aliases: ['CVE-2020-1'], database_specific: { severity: 'LOW' } }),
    adv('CVE-2020-1', [eco('npm', 'left-pad', [{ introduced: '0' }, { fixed: '1.3.1' }])], { database_specific: { severity: 'HIGH' } }),
  ]);
  assert.equal(two.length, 1);
  assert.deepEqual([two[0].id, two[0].severity, two[0].fix_version, two[0].path], ['CVE-2020-1', 'High', '1.3.1', 'app/package-lock.json']);
});

// ---- severity and report ------------------------------------------------------------------------------------------

test('severity: CVSS v3 base scores (the spec examples), bands, and database words first', () => {
  assert.equal(cvss3Score('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H'), 9.8);
  assert.equal(cvss3Score('CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H'), 10);
  assert.equal(cvss3Score('CVSS:3.0/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N'), 6.1);
  assert.equal(cvss3Score('CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N'), 5.5);
  assert.equal(cvss3Score('CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N'), 0);
  assert.equal(cvss3Score('CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N'), null);
  assert.equal(cvss3Score('CVSS:3.1/AV:X'), null);

  const p = pkg({ ecosystem: 'npm', name: 'p', version: '1.0.0' });
  const sev = (a: Partial<Advisory>) => match(inv(null, p), [adv('X-1', [eco('npm', 'p', [{ introduced: '0' }])], a)])[0];
  assert.equal(sev({ severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] }).severity, 'Critical');
  assert.equal(sev({ severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N' }] }).severity, 'Medium');
  assert.equal(sev({ severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:N' }] }).severity, 'None');
  assert.equal(sev({ database_specific: { severity: 'MODERATE' }, severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] }).severity, 'Medium');
  assert.equal(sev({ severity: [{ type: 'Ubuntu', score: 'high' }] }).severity, 'High');
  assert.equal(sev({ severity: [{ type: 'CVSS_V4', score: 'CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N' }] }).severity, 'Unknown');
  assert.equal(sev({}).severity, 'Unknown');
  const c = sev({ severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }] }).cvss;
  assert.deepEqual([c.score_v3, c.vector_v3], [9.8, 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H']);
});

test("report: Harbor's vulnerability report 1.1 and the overview summary", () => {
  const os = DEBIAN12;
  const findings = match(inv(os, pkg({ ecosystem: 'Debian', name: 'zlib1g', version: '1:1.2.13.dfsg-1', sourceName: 'zlib', sourceVersion: '1:1.2.13.dfsg-1' }), pkg({ ecosystem: 'npm', name: 'left-pad', version: '1.3.0' })), [
    adv('DEBIAN-CVE-2023-45853', [eco('Debian:12', 'zlib', [{ introduced: '0' }])], {
      details: 'MiniZip in zlib through 1.3 has an integer overflow',
      severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
      references: [{ type: 'WEB', url: 'https://security-tracker.debian.org/tracker/CVE-2023-45853' }],
    }),
    adv('GHSA-lp', [eco('npm', 'left-pad', [{ introduced: '0' }, { fixed: '1.3.1' }])], { aliases: ['CVE-2099-1'], summary: 'left-pad pads', database_specific: { severity: 'LOW', cwe_ids: ['CWE-400'] } }),
  ]);
  assert.equal(REPORT_MIME, 'application/vnd.security.vulnerability.report; version=1.1');
  const r = toReport(findings, { name: 'Berth', vendor: 'Berth', version: '1.0' }, new Date('2026-01-02T03:04:05Z'));
  assert.deepEqual(r, {
    generated_at: '2026-01-02T03:04:05.000Z',
    scanner: { name: 'Berth', vendor: 'Berth', version: '1.0' },
    severity: 'Critical',
    vulnerabilities: [
      {
        id: 'CVE-2023-45853',
        package: 'zlib1g',
        version: '1:1.2.13.dfsg-1',
        fix_version: '',
        severity: 'Critical',
        description: 'MiniZip in zlib through 1.3 has an integer overflow',
        links: ['https://security-tracker.debian.org/tracker/CVE-2023-45853'],
        preferred_cvss: { score_v3: 9.8, score_v2: null, vector_v3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', vector_v2: '' },
        cwe_ids: [],
        vendor_attributes: {
          CVSS: { osv: { V3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H', V3Score: 9.8 } },
          osv_id: 'DEBIAN-CVE-2023-45853',
          ecosystem: 'Debian:12',
          path: 'x',
        },
      },
      {
        id: 'CVE-2099-1',
        package: 'left-pad',
        version: '1.3.0',
        fix_version: '1.3.1',
        severity: 'Low',
        description: 'left-pad pads',
        links: [],
        preferred_cvss: { score_v3: null, score_v2: null, vector_v3: '', vector_v2: '' },
        cwe_ids: ['CWE-400'],
        vendor_attributes: { osv_id: 'GHSA-lp', ecosystem: 'npm', path: 'x' },
      },
    ],
  });
  assert.deepEqual(toSummary(r), { total: 2, fixable: 1, summary: { Critical: 1, Low: 1 } });
  // a clean image: severity None, empty list
  const clean = toReport([]);
  assert.equal(clean.severity, 'None');
  assert.deepEqual(clean.vulnerabilities, []);
  assert.deepEqual(toSummary(clean), { total: 0, fixable: 0, summary: {} });
});
