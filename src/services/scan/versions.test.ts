import assert from 'node:assert/strict';
import { test } from 'node:test';

import { compareApk, compareDpkg, compareRpm, compareMaven, comparePep440, compareSemver, compareVersions } from './versions.ts';

// Each row: a < b (and so b > a); `eq` rows are equal. Every row is checked both ways round.
function table(name: string, cmp: (a: string, b: string) => number, less: [string, string][], eq: [string, string][] = []) {
  test(`${name}: ordering table`, () => {
    for (const [a, b] of less) {
      assert.ok(cmp(a, b) < 0, `${name}: expected ${a} < ${b}, got ${cmp(a, b)}`);
      assert.ok(cmp(b, a) > 0, `${name}: expected ${b} > ${a}`);
    }
    for (const [a, b] of eq) {
      assert.equal(cmp(a, b), 0, `${name}: expected ${a} == ${b}`);
      assert.equal(cmp(b, a), 0, `${name}: expected ${b} == ${a}`);
    }
  });
}

// Debian Policy 5.6.12 and dpkg's own test suite (lib/dpkg/t/t-version.c)
table(
  'dpkg',
  compareDpkg,
  [
    ['1.0', '1.1'],
    ['1.0~rc1', '1.0'], // ~ sorts before everything, even the end of the part
    ['1.0~~', '1.0~'],
    ['1.0~~a', '1.0~'],
    ['1.0~', '1.0'],
    ['1.0', '1.0a'],
    ['1.0a', '1.0+'], // letters before non-letters
    ['1.0-1', '1.0-2'],
    ['1.0-9', '1.0-10'], // numeric parts compare as numbers
    ['2.30', '2.100'],
    ['9.9', '1:0.1'], // epoch wins
    ['1:1.0', '2:0.5'],
    ['1.2.3-1', '1.2.3-1+deb12u1'],
    ['1.2.3-1+deb12u1', '1.2.3-1+deb12u2'],
    ['1.2.3-1~bpo11+1', '1.2.3-1'],
    ['0.9', '0.10'],
    ['1.0-1', '1.0.1-1'],
    ['a', 'b'],
    ['2.36-9+deb12u3', '2.36-9+deb12u10'],
  ],
  [
    ['1.0', '0:1.0'],
    ['1.0-0', '1.0-0'],
    ['1.01', '1.1'], // leading zeros are ignored
    ['1.0', '1.0-'], // an empty revision
  ],
);

// rpm's tests/rpmvercmp.at
table('rpm', compareRpm, [
  ['1.0', '1.0a'], // rpm: a trailing letter segment is newer
  ['1.0', '1.1'],
  ['1.0', '1.0.1'],
  ['2.0.1', '2.0.1a'],
  ['5.5p1', '5.5p2'],
  ['5.5p1', '5.5p10'],
  ['10xyz', '10.1xyz'],
  ['xyz10', 'xyz10.1'],
  ['xyz.4', '8'],
  ['xyz.4', '2'],
  ['5.5p2', '5.6p1'],
  ['5.6p1', '6.5p1'],
  ['6.0', '6.0.rc1'],
  ['10a2', '10b2'],
  ['1.0aa', '1.0ab'],
  ['1.0~rc1', '1.0'],
  ['1.0~rc1', '1.0~rc2'],
  ['1.0~rc1~git123', '1.0~rc1'],
  ['1.0', '1.0^'],
  ['1.0', '1.0^git1'],
  ['1.0^git1', '1.0^git2'],
  ['1.0^git1', '1.01'],
  ['1.0^20160101', '1.0.1'],
  ['1.0~rc1^git1', '1.0'],
  ['1.2.3-4.el9', '1.2.3-5.el9'],
  ['9:0.1-1', '10:0.1-1'],
  ['1.9-1', '1:0.1-1'],
], [
  ['1.0', '1.0'],
  ['1.0010', '1.10'],
  ['1.0', '1..0'],
  ['1.0-1', '0:1.0-1'],
  ['1.0', '1.0-7'], // no release on one side: releases are not compared
  ['1_0', '1.0'],
  ['fc4', 'fc.4'],
]);

// apk-tools (test/version.data)
table('apk', compareApk, [
  ['1.0', '1.1'],
  ['1.0_alpha', '1.0_beta'],
  ['1.0_beta', '1.0_pre'],
  ['1.0_pre', '1.0_rc'],
  ['1.0_rc1', '1.0'],
  ['1.0', '1.0_p1'],
  ['1.0_p1', '1.0_p2'],
  ['1.0_rc1', '1.0_rc2'],
  ['1.0-r0', '1.0-r1'],
  ['1.0-r9', '1.0-r10'],
  ['1.0', '1.0a'],
  ['1.0a', '1.0b'],
  ['1.0', '1.0.1'],
  ['1.2', '1.10'],
  ['3.1.4-r5', '3.1.4_p1-r0'],
  ['1.0_alpha1', '1.0_alpha2'],
  ['0.9', '1.0_alpha'],
  ['1.0_git20200101', '1.0_p1'],
  ['1.01', '1.1'], // after the first part, a leading zero compares as a decimal fraction
  ['3.0.15-r0', '3.0.15-r1'],
], [['1.0-r0', '1.0']]);

// semver 2.0 §11 plus Go's v prefix, pseudo-versions and +incompatible
table('semver', compareSemver, [
  ['1.0.0-alpha', '1.0.0-alpha.1'],
  ['1.0.0-alpha.1', '1.0.0-alpha.beta'],
  ['1.0.0-alpha.beta', '1.0.0-beta'],
  ['1.0.0-beta', '1.0.0-beta.2'],
  ['1.0.0-beta.2', '1.0.0-beta.11'],
  ['1.0.0-beta.11', '1.0.0-rc.1'],
  ['1.0.0-rc.1', '1.0.0'],
  ['1.9.0', '1.10.0'],
  ['v1.2.3', 'v1.2.4'],
  ['v0.0.0-20191109021931-daa7c04131f5', 'v0.0.0-20200101000000-aaaaaaaaaaaa'], // pseudo-versions order by time
  ['v1.2.3', 'v1.2.4-0.20200101000000-abcdefabcdef'], // a pseudo-version after v1.2.3 sorts before v1.2.4
  ['v1.2.4-0.20200101000000-abcdefabcdef', 'v1.2.4'],
  ['v2.0.0+incompatible', 'v2.0.1+incompatible'],
], [
  ['1.0.0+build.1', '1.0.0+build.2'],
  ['v1.2.3', '1.2.3'],
]);

// PEP 440's own examples of ordering (the "Summary of permitted suffixes and relative ordering")
table('PEP 440', comparePep440, [
  ['1.dev0', '1.0.dev456'],
  ['1.0.dev456', '1.0a1'],
  ['1.0a1', '1.0a2.dev456'],
  ['1.0a2.dev456', '1.0a12.dev456'],
  ['1.0a12.dev456', '1.0a12'],
  ['1.0a12', '1.0b1.dev456'],
  ['1.0b1.dev456', '1.0b2'],
  ['1.0b2', '1.0b2.post345.dev456'],
  ['1.0b2.post345.dev456', '1.0b2.post345'],
  ['1.0b2.post345', '1.0rc1.dev456'],
  ['1.0rc1.dev456', '1.0rc1'],
  ['1.0rc1', '1.0'],
  ['1.0', '1.0+abc.5'],
  ['1.0+abc.5', '1.0+abc.7'],
  ['1.0+abc.7', '1.0+5'],
  ['1.0+5', '1.0.post456.dev34'],
  ['1.0.post456.dev34', '1.0.post456'],
  ['1.0.post456', '1.0.15'],
  ['1.0.15', '1.1.dev1'],
  ['2.0', '1!1.0'], // epochs
  ['1.9', '1.10'],
], [
  ['1.0', '1.0.0'],
  ['1.0', '1'],
  ['1.0RC1', '1.0rc1'],
  ['1.0-1', '1.0.post1'],
  ['1.0alpha1', '1.0a1'],
  ['1.0c1', '1.0rc1'],
  ['v1.0', '1.0'],
]);

// Maven's ComparableVersionTest (VERSIONS_QUALIFIER and VERSIONS_NUMBER sequences, equality sets)
table('Maven', compareMaven, [
  ['1-alpha2snapshot', '1-alpha2'],
  ['1-alpha2', '1-alpha-123'],
  ['1-alpha-123', '1-beta-2'],
  ['1-beta-2', '1-beta123'],
  ['1-beta123', '1-m2'],
  ['1-m2', '1-m11'],
  ['1-m11', '1-rc'],
  ['1-rc', '1-cr2'],
  ['1-cr2', '1-rc123'],
  ['1-rc123', '1-SNAPSHOT'],
  ['1-SNAPSHOT', '1'],
  ['1', '1-sp'],
  ['1-sp', '1-sp2'],
  ['1-sp2', '1-sp123'],
  ['1-sp123', '1-abc'],
  ['1-abc', '1-def'],
  ['1-def', '1-pom-1'],
  ['1-pom-1', '1-1-snapshot'],
  ['1-1-snapshot', '1-1'],
  ['1-1', '1-2'],
  ['1-2', '1-123'],
  ['2.0', '2.0.a'],
  ['2.0.a', '2-1'],
  ['2-1', '2.0.2'],
  ['2.0.2', '2.0.123'],
  ['2.0.123', '2.1.0'],
  ['2.1.0', '2.1-a'],
  ['2.1-a', '2.1b'],
  ['2.1b', '2.1-c'],
  ['2.1-c', '2.1-1'],
  ['2.1-1', '2.1.0.1'],
  ['2.1.0.1', '2.2'],
  ['2.2', '2.123'],
  ['2.123', '11.a2'],
  ['11.a2', '11.a11'],
  ['11.a11', '11.b2'],
  ['11.m11', '11'],
  ['11', '11.a'],
  ['11.a', '11b'],
  ['11b', '11c'],
  ['11c', '11m'],
  ['1.0.0-alpha', '1.0.0-beta'],
  ['1.0.0-rc1', '1.0.0'],
  ['2.17.0', '2.17.1'],
  ['1.9', '1.10'],
], [
  ['1', '1.0'],
  ['1', '1.0.0'],
  ['1.0', '1-0'],
  ['1', '1-ga'],
  ['1', '1.final'],
  ['1', '1-release'],
  ['1a1', '1-alpha-1'],
  ['1b2', '1-beta-2'],
  ['1m3', '1-milestone-3'],
  ['1X', '1x'],
  ['1A', '1a'],
  ['1cr', '1rc'],
]);

test('compareVersions picks the ecosystem (with an OSV Debian:12-style suffix too)', () => {
  assert.equal(compareVersions('Debian:12', '1.0~rc1', '1.0'), -1);
  assert.equal(compareVersions('npm', '1.10.0', '1.9.0'), 1);
  assert.equal(compareVersions('Go', 'v1.2.3', 'v1.2.3'), 0);
  assert.equal(compareVersions('PyPI', '1.0.dev1', '1.0a1'), -1);
  assert.equal(compareVersions('Maven', '1.0-SNAPSHOT', '1.0'), -1);
  assert.equal(compareVersions('Alpine', '1.0_rc1', '1.0'), -1);
  assert.equal(compareVersions('Rocky Linux', '1:1.0-1.el9', '2.0-1.el9'), 1);
  assert.equal(compareVersions('crates.io', '0.3.10', '0.3.9'), 1);
  assert.throws(() => compareVersions('Hackage', '1', '2'), /no version order/);
});
