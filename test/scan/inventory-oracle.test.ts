// The built-in scanner's inventory against syft (the oracle) on real images built here: a Debian rootfs from the
// apt mirror by mmdebstrap, and an image whose node_modules npm installed from the npm registry, with an upper
// layer of whiteouts. For every ecosystem Berth covers, Berth's (ecosystem, name, version) set must contain
// ≥ 98 % of syft's; the differences are printed either way.
// A third image has an sqlite rpmdb written by rpm(8) itself, from packages rpmbuild made here.
// Needs mmdebstrap, rpm and .tools/bin/syft (scripts/ci-deps.sh installs both); built rootfs/node_modules tarballs are
// cached under .tools/scan-images keyed by a hash of their recipe, so a machine builds them once.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { inventory } from '../../src/services/scan/inventory.ts';
import { debianRootfs, npmLayer } from '../helpers/scan-images.ts';
import { tar } from '../helpers/tar.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SYFT = join(ROOT, '.tools', 'bin', 'syft');

/** A Go binary built by `go build` (a module with one dependency), as a layer holding usr/local/bin/berthscan. */
function goLayer(work: string): string {
  const dir = join(work, 'gosrc');
  mkdirSync(join(dir, 'root', 'usr', 'local', 'bin'), { recursive: true });
  writeFileSync(join(dir, 'go.mod'), 'module example.com/berthscan\n\ngo 1.22\n\nrequire github.com/google/uuid v1.6.0\n');
  writeFileSync(join(dir, 'main.go'), 'package main\n\nimport (\n\t"fmt"\n\n\t"github.com/google/uuid"\n)\n\nfunc main() { fmt.Println(uuid.NewString()) }\n');
  const go = existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : 'go';
  execFileSync(go, ['build', '-mod=mod', '-o', join(dir, 'root', 'usr', 'local', 'bin', 'berthscan'), '.'], { cwd: dir, env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-buildvcs=false', GOSUMDB: 'off' }, stdio: ['ignore', 'inherit', 'inherit'] });
  const out = join(work, 'go.tar');
  execFileSync('tar', ['-C', join(dir, 'root'), '-cf', out, 'usr']);
  return out;
}


function sha256File(file: string): string {
  const h = createHash('sha256');
  h.update(readFileSync(file));
  return h.digest('hex');
}

/** An OCI image layout (what `syft oci-dir:` reads) from layer files, bottom first; tar or tar+gzip. */
function ociLayout(dir: string, layers: { file: string; gzip: boolean; diffId: string }[]) {
  const blobs = join(dir, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const put = (b: Buffer) => {
    const d = createHash('sha256').update(b).digest('hex');
    writeFileSync(join(blobs, d), b);
    return { digest: `sha256:${d}`, size: b.length };
  };
  const layerDescs = layers.map((l) => {
    const d = sha256File(l.file);
    linkSync(l.file, join(blobs, d));
    return { mediaType: l.gzip ? 'application/vnd.oci.image.layer.v1.tar+gzip' : 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${d}`, size: readFileSync(l.file).length };
  });
  const config = put(Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: layers.map((l) => `sha256:${l.diffId}`) } })));
  const manifest = put(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config }, layers: layerDescs })));
  writeFileSync(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifest, annotations: { 'org.opencontainers.image.ref.name': 'test' } }] }));
}

// Go versions compare without their prefix: syft writes the toolchain as "go1.26.8", Berth (like Go modules) "v1.26.8"
const key = (eco: string, name: string, version: string) => `${eco} ${name} ${eco === 'Go' ? version.replace(/^(v|go)(?=\d)/, '') : version}`;

const SYFT_TYPES: Record<string, string> = { rpm: 'Rocky Linux', deb: 'Debian', apk: 'Alpine', npm: 'npm', python: 'PyPI', 'go-module': 'Go', 'rust-crate': 'crates.io' };

function syftSet(layout: string): { set: Set<string>; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(SYFT, ['scan', `oci-dir:${layout}`, '-o', 'json', '-q'], { env: { ...process.env, SYFT_CHECK_FOR_APP_UPDATE: 'false' }, maxBuffer: 512 * 1024 * 1024, encoding: 'utf8' });
  assert.equal(r.status, 0, `syft failed: ${r.stderr}`);
  const set = new Set<string>();
  for (const a of JSON.parse(r.stdout).artifacts) {
    const eco = SYFT_TYPES[a.type];
    if (eco) set.add(key(eco, a.name, a.version));
  }
  return { set, ms: Date.now() - t0 };
}

async function compare(label: string, layout: string, layers: string[], expectMin: Record<string, number>) {
  const t0 = Date.now();
  const inv = await inventory(layers.map((f) => () => createReadStream(f)));
  const berthMs = Date.now() - t0;
  const berth = new Set(inv.packages.map((p) => key(p.ecosystem, p.name, p.version)));
  const syft = syftSet(layout);
  const missing = [...syft.set].filter((k) => !berth.has(k)).sort();
  const extra = [...berth].filter((k) => !syft.set.has(k)).sort();
  const agree = syft.set.size - missing.length;
  console.log(`# ${label}: syft ${syft.set.size} packages in ${syft.ms} ms, Berth ${berth.size} in ${berthMs} ms; agreement ${agree}/${syft.set.size} (${((100 * agree) / syft.set.size).toFixed(1)} %)`);
  console.log(`# ${label}: only in syft: ${missing.length ? missing.join(', ') : '(none)'}`);
  console.log(`# ${label}: only in Berth: ${extra.length ? extra.join(', ') : '(none)'}`);
  if (inv.warnings.length) console.log(`# ${label}: warnings: ${inv.warnings.join(' | ')}`);
  assert.ok(syft.set.size > 0, 'syft found nothing: the oracle is broken');
  assert.ok(agree / syft.set.size >= 0.98, `${label}: Berth agrees on ${agree} of syft's ${syft.set.size} packages (< 98 %)`);
  for (const [eco, n] of Object.entries(expectMin)) {
    const have = inv.packages.filter((p) => p.ecosystem === eco).length;
    assert.ok(have >= n, `${label}: ${have} ${eco} packages, expected at least ${n}`);
  }
  return inv;
}

test('oracle: the Debian rootfs and an npm image agree with syft', { timeout: 30 * 60_000 }, async () => {
  assert.ok(existsSync(SYFT), `${SYFT} missing: run scripts/ci-deps.sh (it pins syft v1.57.2)`);
  const debian = debianRootfs();
  const app = npmLayer();
  const work = mkdtempSync(join(tmpdir(), 'berth-oracle-'));
  try {
    // 1. Debian: one uncompressed layer
    const deb = join(work, 'debian');
    ociLayout(deb, [{ file: debian, gzip: false, diffId: sha256File(debian) }]);
    const inv = await compare('debian', deb, [debian], { Debian: 250, PyPI: 10 });
    assert.equal(inv.os?.id, 'debian');
    assert.equal(inv.os?.versionId, '12');
    const curl = inv.packages.find((p) => p.name === 'libcurl4');
    assert.equal(curl?.sourceName, 'curl', 'dpkg Source: recorded');

    // 2. npm + Go: Debian base, a gzip'd node_modules layer, a layer whiting out left-pad and the lock files, and a
    //    Go binary built here
    const gz = join(work, 'app.tar.gz');
    writeFileSync(gz, gzipSync(readFileSync(app)));
    const wh = join(work, 'wh.tar');
    writeFileSync(wh, tar([{ path: 'app/node_modules/.wh.left-pad' }, { path: 'app/.wh.package-lock.json' }, { path: 'app/node_modules/.wh..package-lock.json' }]));
    const goTar = goLayer(work);
    const npmImg = join(work, 'npm');
    ociLayout(npmImg, [
      { file: debian, gzip: false, diffId: sha256File(debian) },
      { file: gz, gzip: true, diffId: sha256File(app) },
      { file: wh, gzip: false, diffId: sha256File(wh) },
      { file: goTar, gzip: false, diffId: sha256File(goTar) },
    ]);
    const inv2 = await compare('npm+go', npmImg, [debian, gz, wh, goTar], { npm: 50, Debian: 100, Go: 2 });
    assert.ok(inv2.packages.some((p) => p.ecosystem === 'Go' && p.name === 'github.com/google/uuid' && p.version === 'v1.6.0' && p.path === 'usr/local/bin/berthscan'));
    assert.ok(inv2.packages.some((p) => p.name === 'express' && p.version === '4.21.2'));
    assert.ok(!inv2.packages.some((p) => p.name === 'left-pad'), 'a package whited out in an upper layer is not reported');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

/** Packages built by rpmbuild and installed by rpm into <root>/var/lib/rpm/rpmdb.sqlite (rpm ≥ 4.16's sqlite db). */
function rpmRoot(work: string, pkgs: { name: string; version: string; release: string; epoch?: number }[]): string {
  const top = join(work, 'rpmbuild');
  const root = join(work, 'rpmroot');
  mkdirSync(join(top, 'SPECS'), { recursive: true });
  mkdirSync(join(root, 'etc'), { recursive: true });
  writeFileSync(join(root, 'etc', 'os-release'), 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="9.3"\n');
  const rpms: string[] = [];
  for (const p of pkgs) {
    const spec = join(top, 'SPECS', `${p.name}.spec`);
    writeFileSync(
      spec,
      `Name: ${p.name}\nVersion: ${p.version}\nRelease: ${p.release}\n${p.epoch ? `Epoch: ${p.epoch}\n` : ''}Summary: t\nLicense: MIT\nBuildArch: noarch\n%description\nt\n%install\nmkdir -p %{buildroot}/opt/${p.name}\necho hi > %{buildroot}/opt/${p.name}/f\n%files\n/opt/${p.name}/f\n`,
    );
    execFileSync('rpmbuild', ['--quiet', '--define', `_topdir ${top}`, '-bb', spec], { stdio: ['ignore', 'ignore', 'inherit'] });
    rpms.push(join(top, 'RPMS', 'noarch', `${p.name}-${p.version}-${p.release}.noarch.rpm`));
  }
  execFileSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '--initdb']);
  // Debian's rpm warns that alien should be used; it installs all the same
  execFileSync('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', '-i', '--nodeps', '--ignoreos', ...rpms], { stdio: ['ignore', 'ignore', 'ignore'] });
  return root;
}

test('oracle: an rpm-based image (sqlite rpmdb written by rpm) agrees with syft', { timeout: 10 * 60_000 }, async () => {
  assert.ok(existsSync(SYFT), `${SYFT} missing: run scripts/ci-deps.sh (it pins syft v1.57.2)`);
  const work = mkdtempSync(join(tmpdir(), 'berth-oracle-rpm-'));
  try {
    const root = rpmRoot(work, [
      { name: 'berth-a', version: '1.2.3', release: '4.el9' },
      { name: 'berth-b', version: '2.0', release: '1.el9_3', epoch: 2 },
      { name: 'berth-c', version: '0.9~rc1', release: '0.1.el9' },
    ]);
    const layer = join(work, 'rpm.tar');
    execFileSync('tar', ['-C', root, '-cf', layer, '.']);
    const img = join(work, 'img');
    ociLayout(img, [{ file: layer, gzip: false, diffId: sha256File(layer) }]);
    const inv = await compare('rpm', img, [layer], { 'Rocky Linux': 3 });
    assert.deepEqual(inv.packages.map((p) => `${p.name} ${p.version}`).sort(), ['berth-a 1.2.3-4.el9', 'berth-b 2:2.0-1.el9_3', 'berth-c 0.9~rc1-0.1.el9']);
    assert.equal(inv.packages.find((p) => p.name === 'berth-a')?.sourceName, 'berth-a', 'source rpm recorded');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test('oracle: a distroless-style image (dpkg status.d) and a Python venv installed by pip agree with syft', { timeout: 10 * 60_000 }, async () => {
  assert.ok(existsSync(SYFT), `${SYFT} missing: run scripts/ci-deps.sh (it pins syft v1.57.2)`);
  const venv = join(ROOT, '.tools', 'pyvenv');
  assert.ok(existsSync(join(venv, 'bin', 'python')), `${venv} missing: scripts/ci-deps.sh creates it with pip`);
  const debian = debianRootfs();
  const work = mkdtempSync(join(tmpdir(), 'berth-oracle-distroless-'));
  try {
    // distroless keeps one dpkg stanza per package in var/lib/dpkg/status.d/<name>, and no status file
    const root = join(work, 'root');
    execFileSync('tar', ['-C', work, '-xf', debian, './var/lib/dpkg/status', './usr/lib/os-release']);
    renameSync(join(work, 'var'), join(work, 'var-src'));
    mkdirSync(join(root, 'var', 'lib', 'dpkg', 'status.d'), { recursive: true });
    mkdirSync(join(root, 'etc'), { recursive: true });
    renameSync(join(work, 'usr', 'lib', 'os-release'), join(root, 'etc', 'os-release'));
    const stanzas = readFileSync(join(work, 'var-src', 'lib', 'dpkg', 'status'), 'utf8').split(/\n\n+/).filter((s) => s.trim());
    for (const s of stanzas.slice(0, 40)) writeFileSync(join(root, 'var', 'lib', 'dpkg', 'status.d', /^Package: (\S+)/m.exec(s)![1]), `${s}\n`);
    const base = join(work, 'distroless.tar');
    execFileSync('tar', ['-C', root, '-cf', base, '.']);
    // the pip-built venv of the contract tests, as an application layer under /opt/venv
    const py = join(work, 'venv.tar');
    execFileSync('tar', ['-C', join(ROOT, '.tools'), '--transform', 's,^pyvenv,opt/venv,', '-cf', py, 'pyvenv']);
    const img = join(work, 'img');
    ociLayout(img, [
      { file: base, gzip: false, diffId: sha256File(base) },
      { file: py, gzip: false, diffId: sha256File(py) },
    ]);
    const inv = await compare('distroless+venv', img, [base, py], { Debian: 40, PyPI: 10 });
    assert.ok(inv.packages.every((p) => p.ecosystem !== 'Debian' || p.path.startsWith('var/lib/dpkg/status.d/')));
    assert.ok(inv.packages.some((p) => p.ecosystem === 'PyPI' && p.name === 'harborapi'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
