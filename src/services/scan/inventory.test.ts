import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';

import { FsBlobStore } from '../../storage/fs-store.ts';
import { inventory, InventoryError, normalizePath } from './inventory.ts';
import { readTar } from './tar-stream.ts';
import { zip } from '../../../test/helpers/zip.ts';
import { header, tar, type TarEntry as E } from '../../../test/helpers/tar.ts';

const dpkg = (...pkgs: [string, string, string?][]) =>
  pkgs.map(([n, v, src]) => `Package: ${n}\nStatus: install ok installed\nArchitecture: amd64\n${src ? `Source: ${src}\n` : ''}Version: ${v}\nDescription: x\n more\n`).join('\n');

const triples = (inv: Awaited<ReturnType<typeof inventory>>) => inv.packages.map((p) => `${p.ecosystem} ${p.name} ${p.version}`).sort();

test('inventory: every detector, over gzip and plain layers', async () => {
  const jar = zip({
    'META-INF/MANIFEST.MF': 'Manifest-Version: 1.0\n',
    'META-INF/maven/org.example/demo/pom.properties': 'groupId=org.example\nartifactId=demo\nversion=1.2.3\n',
    'BOOT-INF/lib/inner.jar': zip({ 'META-INF/maven/com.acme/inner/pom.properties': '#c\nversion = 4.5\ngroupId = com.acme\nartifactId = inner\n' }, 0),
  });
  const layer = tar([
    { path: './etc/os-release', body: 'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n' },
    { path: './var/lib/dpkg/status', body: dpkg(['libc6', '2.36-9+deb12u4', 'glibc'], ['bash', '5.2.15-2+b2', 'bash (5.2.15-2)']) + '\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n' },
    { path: 'var/lib/dpkg/status.d/tzdata', body: dpkg(['tzdata', '2024a-0+deb12u1']) },
    { path: 'var/lib/dpkg/status.d/tzdata.md5sums', body: 'abc  usr/share/zoneinfo/UTC\n' },
    { path: 'lib/apk/db/installed', body: 'C:Q1x\nP:musl\nV:1.2.4-r2\nA:x86_64\no:musl\n\nP:busybox\nV:1.36.1-r15\no:busybox\n' },
    { path: 'app/package-lock.json', body: JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'app', version: '1.0.0' }, 'node_modules/left-pad': { version: '1.3.0' }, 'node_modules/@scope/x': { version: '2.0.0' }, 'node_modules/linked': { link: true } } }) },
    { path: 'app/node_modules/left-pad/package.json', body: '{"name":"left-pad","version":"1.3.0"}' },
    { path: 'app/node_modules/@scope/x/package.json', body: '{"name":"@scope/x","version":"2.0.0"}' },
    { path: 'app/node_modules/left-pad/test/fixture/package.json', body: '{"name":"fixture","version":"0.0.0"}' },
    { path: 'usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA', body: 'Metadata-Version: 2.1\nName: Six_Extra.Name\nVersion: 1.16.0\n\nVersion: 9.9\n' },
    { path: 'usr/lib/python3/dist-packages/chardet-5.1.0.egg-info/PKG-INFO', body: 'Metadata-Version: 1.1\nName: Chardet\nVersion: 5.1.0\n' },
    { path: 'src/Cargo.lock', body: 'version = 3\n\n[[package]]\nname = "serde"\nversion = "1.0.197"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\n\n[[package]]\nname = "itoa"\nversion = "1.0.10"\n\n[metadata]\nname = "nope"\n' },
    { path: 'opt/app.jar', body: jar },
    { path: 'usr/bin/fake-go', body: fakeGoBinary() },
  ]);
  const inv = await inventory([Readable.from([gzipSync(layer)])]);
  assert.equal(inv.os?.id, 'debian');
  assert.equal(inv.os?.versionId, '12');
  assert.deepEqual(inv.warnings, []);
  assert.deepEqual(triples(inv), [
    'Alpine busybox 1.36.1-r15',
    'Alpine musl 1.2.4-r2',
    'Debian bash 5.2.15-2+b2',
    'Debian libc6 2.36-9+deb12u4',
    'Debian tzdata 2024a-0+deb12u1',
    'Go example.com/hello v1.0.0',
    'Go golang.org/x/text v0.14.0',
    'Go stdlib v1.22.1',
    'Maven com.acme:inner 4.5',
    'Maven org.example:demo 1.2.3',
    'PyPI chardet 5.1.0',
    'PyPI six-extra-name 1.16.0',
    'crates.io itoa 1.0.10',
    'crates.io serde 1.0.197',
    'npm @scope/x 2.0.0',
    'npm @scope/x 2.0.0',
    'npm left-pad 1.3.0',
    'npm left-pad 1.3.0',
  ]);
  const bash = inv.packages.find((p) => p.name === 'bash')!;
  assert.equal(bash.sourceName, 'bash');
  assert.equal(bash.sourceVersion, '5.2.15-2');
  assert.equal(bash.path, 'var/lib/dpkg/status');
  assert.equal(inv.packages.find((p) => p.name === 'libc6')!.sourceName, 'glibc');
  assert.equal(inv.packages.find((p) => p.name === 'left-pad' && p.path.endsWith('package.json'))!.path, 'app/node_modules/left-pad/package.json');
  assert.equal(inv.stats.layers, 1);
  // ELF files over the binary cap are not searched; jars over theirs are not read (with a warning)
  const capped = await inventory([Readable.from([layer])], { maxBinaryBytes: 1000, maxJarBytes: 100 });
  assert.ok(!capped.packages.some((p) => p.ecosystem === 'Go' || p.ecosystem === 'Maven'));
  assert.match(capped.warnings.join('\n'), /opt\/app.jar: \d+ bytes exceeds the 100-byte limit for jar files/);
});

test('inventory: zstd layers (OCI tar+zstd) are read like gzip ones', async () => {
  const layer = tar([{ path: 'lib/apk/db/installed', body: 'P:musl\nV:1.2.5-r0\n' }]);
  const inv = await inventory([Readable.from([zstdCompressSync(layer)])]);
  assert.deepEqual(triples(inv), ['Alpine musl 1.2.5-r0']);
});

test('inventory: layers read straight from the blob store, one open at a time', async () => {
  const parent = mkdtempSync(join(tmpdir(), 'berth-scan-store-'));
  try {
    const store = new FsBlobStore(parent);
    const put = async (b: Buffer, id: string) => {
      await store.createUpload(id);
      const { part } = await store.writeUploadPart(id, Readable.from([b]));
      const digest = `sha256:${createHash('sha256').update(b).digest('hex')}`;
      await store.commitUpload(id, [part], digest);
      return digest;
    };
    const d1 = await put(gzipSync(tar([{ path: 'var/lib/dpkg/status', body: dpkg(['openssl', '3.0.11-1~deb12u2']) }])), randomUUID());
    const d2 = await put(gzipSync(tar([{ path: 'var/lib/dpkg/status', body: dpkg(['openssl', '3.0.15-1~deb12u1']) }])), randomUUID());
    const opened: Readable[] = [];
    const inv = await inventory(
      [d1, d2].map((d) => () => {
        // the upper layer is opened only once the lower one has been read to its end
        if (opened.length) assert.ok(opened[0].readableEnded || opened[0].destroyed, 'a layer is opened only when its turn comes');
        const r = store.read(d);
        opened.push(r);
        return r;
      }),
    );
    assert.equal(opened.length, 2);
    assert.deepEqual(triples(inv), ['Debian openssl 3.0.15-1~deb12u1']);
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test('inventory: whiteouts remove lower-layer packages, opaque directories hide the lower tree, replacements win', async () => {
  const lower = tar([
    { path: 'var/lib/dpkg/status', body: dpkg(['curl', '7.88.1-10'], ['wget', '1.21.3-1']) },
    { path: 'app/node_modules/a/package.json', body: '{"name":"a","version":"1.0.0"}' },
    { path: 'app/node_modules/b/package.json', body: '{"name":"b","version":"1.0.0"}' },
    { path: 'srv/node_modules/c/package.json', body: '{"name":"c","version":"1.0.0"}' },
    { path: 'opt/lib/x.dist-info/METADATA', body: 'Name: x\nVersion: 1\n' },
  ]);
  const upper = tar([
    // the upgraded dpkg db replaces the lower one
    { path: 'var/lib/dpkg/status', body: dpkg(['curl', '7.88.1-10+deb12u5']) },
    { path: 'app/node_modules/.wh.a' },
    { path: 'srv/node_modules/.wh..wh..opq' },
    // a file of the same layer under the opaque directory survives
    { path: 'srv/node_modules/d/package.json', body: '{"name":"d","version":"2.0.0"}' },
    // a regular file replacing a directory hides everything below it
    { path: 'opt/lib', body: 'not a dir any more' },
  ]);
  const inv = await inventory([Readable.from([lower]), () => Readable.from([gzipSync(upper)])]);
  assert.deepEqual(triples(inv), ['Debian curl 7.88.1-10+deb12u5', 'npm b 1.0.0', 'npm d 2.0.0']);
  assert.equal(inv.packages.find((p) => p.name === 'curl')!.layer, 1);
  // a whiteout at the root of the image removes a whole top-level tree
  const inv2 = await inventory([Readable.from([lower]), Readable.from([tar([{ path: '.wh.app' }, { path: 'var/.wh..wh..opq' }])])]);
  assert.deepEqual(triples(inv2), ['PyPI x 1', 'npm c 1.0.0']);
  // whiteouts in a layer never remove what that same layer adds
  const inv3 = await inventory([Readable.from([tar([{ path: 'app/node_modules/a/package.json', body: '{"name":"a","version":"3.0.0"}' }, { path: 'app/.wh..wh..opq' }])])]);
  assert.deepEqual(triples(inv3), ['npm a 3.0.0']);
});

test('inventory: a layer written by GNU tar (long names, hard links, symlinks, zstd-free gzip)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-scan-'));
  try {
    const deep = join(dir, 'root', 'usr', 'lib', 'node_modules', ...Array(30).fill('nested-directory-name'), 'node_modules', 'deep-pkg');
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'package.json'), '{"name":"deep-pkg","version":"0.1.0"}');
    mkdirSync(join(dir, 'root', 'etc'));
    mkdirSync(join(dir, 'root', 'usr', 'lib', 'x.dist-info'));
    mkdirSync(join(dir, 'root', 'usr', 'lib', 'y.dist-info'));
    writeFileSync(join(dir, 'root', 'usr', 'lib', 'os-release'), 'ID=alpine\nVERSION_ID=3.20.1\n');
    execFileSync('ln', ['-s', '../usr/lib/os-release', join(dir, 'root', 'etc', 'os-release')]);
    // one file, two names: whichever tar stores second is a hard link, and both paths declare the package
    writeFileSync(join(dir, 'root', 'usr', 'lib', 'y.dist-info', 'METADATA'), 'Name: linked\nVersion: 2.0\n');
    execFileSync('ln', [join(dir, 'root', 'usr', 'lib', 'y.dist-info', 'METADATA'), join(dir, 'root', 'usr', 'lib', 'x.dist-info', 'METADATA')]);
    for (const format of ['gnu', 'posix']) {
      const out = join(dir, `layer-${format}.tar.gz`);
      execFileSync('tar', ['-C', join(dir, 'root'), `--format=${format}`, '-czf', out, '.']);
      const { createReadStream } = await import('node:fs');
      const inv = await inventory([() => createReadStream(out)]);
      assert.equal(inv.os?.id, 'alpine', format);
      assert.equal(inv.os?.path, 'usr/lib/os-release', 'the etc/os-release symlink is not followed');
      assert.deepEqual(triples(inv), ['PyPI linked 2.0', 'PyPI linked 2.0', 'npm deep-pkg 0.1.0'], format);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- hostile input -----------------------------------------------------------------------------------------------

test('hostile: malformed gzip and tar end in an InventoryError naming the layer', async () => {
  const good = tar([{ path: 'a', body: 'x' }]);
  await assert.rejects(inventory([Readable.from([Buffer.from('definitely not a tar archive, but long enough to fill one header block'.repeat(10))])]), (e: Error) => e instanceof InventoryError && /layer 0: not a tar archive/.test(e.message));
  const gz = gzipSync(good);
  gz[gz.length - 6] ^= 0xff; // break the CRC
  await assert.rejects(inventory([Readable.from([good]), Readable.from([gz])]), (e: Error) => e instanceof InventoryError && /^layer 1: corrupt compressed stream/.test(e.message));
  await assert.rejects(inventory([Readable.from([gzipSync(good).subarray(0, 20)])]), /layer 0: corrupt compressed stream/);
  // a body cut short, and a header whose checksum does not match
  await assert.rejects(inventory([Readable.from([tar([{ path: 'a', body: 'x'.repeat(2000) }], { end: false }).subarray(0, 1200)])]), /layer 0: archive truncated inside an entry/);
  const bad = Buffer.from(tar([{ path: 'a', body: 'x' }, { path: 'b', body: 'y' }]));
  bad[1024 + 5] ^= 1;
  await assert.rejects(inventory([Readable.from([bad])]), /corrupt tar header/);
  // a stream error of the layer source itself
  const failing = new Readable({ read() { this.destroy(new Error('blob store gone')); } });
  await assert.rejects(inventory([failing]), /layer 0: /);
  await assert.rejects(inventory([Readable.from([good]), () => { throw new Error('blob sha256:abc not found'); }]), (e: Error) => e instanceof InventoryError && e.message === 'layer 1: unreadable layer: blob sha256:abc not found');
  // an empty layer is a clean, empty result
  assert.deepEqual((await inventory([Readable.from([Buffer.alloc(0)])])).packages, []);
});

test('hostile: a huge sparse/lying size is never allocated; truncation is reported', async () => {
  // a header claiming 1 TiB (base-256) with no data behind it
  const claim = Buffer.concat([header('var/lib/dpkg/status', '0', 1024 ** 4), Buffer.alloc(512)]);
  const before = process.memoryUsage().rss;
  await assert.rejects(inventory([Readable.from([claim])]), /archive truncated inside an entry/);
  // a GNU sparse entry ('S') whose stored data is small: skipped like any other file
  const sparse = tar([{ path: 'big.img', type: 'S', size: 512 }, { path: 'var/lib/dpkg/status', body: dpkg(['zlib1g', '1:1.2.13.dfsg-1']) }]);
  const sp = Buffer.concat([sparse.subarray(0, 512), Buffer.alloc(512), sparse.subarray(512)]);
  assert.deepEqual(triples(await inventory([Readable.from([sp])])), ['Debian zlib1g 1:1.2.13.dfsg-1']);
  // an oversized package database is refused by its cap, with a warning, and the scan goes on
  const inv = await inventory([Readable.from([tar([{ path: 'var/lib/dpkg/status', body: dpkg(['a', '1']).padEnd(5000, '\n') }])])], { maxDatabaseBytes: 1000 });
  assert.deepEqual(inv.packages, []);
  assert.match(inv.warnings[0], /exceeds the 1000-byte limit/);
  // a gzip bomb stops at the uncompressed cap
  const bomb = gzipSync(Buffer.concat([header('zeros', '0', 64 * 1024 * 1024), Buffer.alloc(64 * 1024 * 1024)]));
  assert.ok(bomb.length < 200 * 1024);
  await assert.rejects(inventory([Readable.from([bomb])], { maxBytes: 8 * 1024 * 1024 }), /exceeds 8388608 uncompressed bytes/);
  assert.ok(process.memoryUsage().rss - before < 150 * 1024 * 1024, 'no allocation for claimed sizes');
  // a PAX header too large to be metadata
  const paxBomb = Buffer.concat([header('PaxHeader', 'x', 10 * 1024 * 1024), Buffer.alloc(512)]);
  await assert.rejects(inventory([Readable.from([paxBomb])]), /tar metadata entry of 10485760 bytes exceeds/);
});

test('hostile: "..", absolute paths, deep paths and symlink escapes are skipped, never resolved', async () => {
  const deep = Array(300).fill('d').join('/') + '/node_modules/x/package.json';
  const layer = tar([
    { path: '../../etc/os-release', body: 'ID=evil\n' },
    { path: 'a/../../var/lib/dpkg/status', body: dpkg(['evil', '1']) },
    { path: '/var/lib/dpkg/status', body: dpkg(['absolute-ok', '1']) }, // absolute inside the image: just the image path
    { path: 'x/../lib/apk/db/installed', body: 'P:inside\nV:1\n' }, // ".." that stays inside is fine
    { path: deep, body: '{"name":"deep","version":"1.0.0"}' },
    { path: 'etc/os-release', type: '2', linkname: '/../../../../host/etc/os-release' },
    { path: 'app/node_modules/esc/package.json', type: '2', linkname: '../../../../../../etc/passwd' },
    { path: 'app/node_modules/h/package.json', type: '1', linkname: '../../../outside/package.json' },
  ]);
  const inv = await inventory([Readable.from([layer])]);
  assert.deepEqual(triples(inv), ['Alpine inside 1', 'Debian absolute-ok 1']);
  assert.equal(inv.os, null);
  assert.equal(inv.warnings.filter((w) => /skipped unsafe path/.test(w)).length, 3);
  assert.equal(normalizePath('./a//b/./c/', { maxPathLength: 100, maxPathDepth: 10 }), 'a/b/c');
  assert.equal(normalizePath('a/../..', { maxPathLength: 100, maxPathDepth: 10 }), null);
  assert.equal(normalizePath('a/b/c', { maxPathLength: 100, maxPathDepth: 2 }), null);
});

test('hostile: a 100k-file layer streams through with bounded memory; corrupt manifests are warnings', async () => {
  const N = 100_000;
  // generated chunk by chunk so the test itself does not hold the layer either
  async function* layer() {
    for (let i = 0; i < N; i += 1000) {
      const batch: E[] = [];
      for (let j = i; j < i + 1000; j++) {
        batch.push(j % 10 === 0 ? { path: `app/node_modules/p${j}/package.json`, body: `{"name":"p${j}","version":"1.0.${j}"}` } : { path: `data/f${j}.txt`, body: 'x' });
      }
      yield tar(batch, { end: false });
    }
    yield tar([{ path: 'app/node_modules/broken/package.json', body: '{not json' }, { path: 'opt/bad.jar', body: 'PK not really' }]);
  }
  const before = process.memoryUsage().rss;
  const inv = await inventory([Readable.from(layer())]);
  assert.equal(inv.packages.length, N / 10);
  assert.equal(inv.stats.entries, N + 2);
  assert.equal(inv.warnings.length, 2);
  assert.match(inv.warnings[0], /broken\/package.json: npm-pkg file not parsed/);
  assert.match(inv.warnings[1], /bad.jar: jar file not parsed: not a zip archive/);
  assert.ok(process.memoryUsage().rss - before < 200 * 1024 * 1024);
  // an entry limit turns a file bomb into a clear error
  await assert.rejects(inventory([Readable.from(layer())], { maxEntries: 5000 }), /layer 0: archive has more than 5000 entries/);
});

test('hostile: a corrupt rpmdb.sqlite is a warning, and its temp copy is gone', async () => {
  const { readdirSync } = await import('node:fs');
  const before = readdirSync(tmpdir()).filter((n) => n.startsWith('berth-rpmdb-')).length;
  const inv = await inventory([Readable.from([tar([{ path: 'var/lib/rpm/rpmdb.sqlite', body: 'SQLite format 3\0 but not really'.padEnd(4096, 'x') }, { path: 'etc/os-release', body: 'ID=rocky\n' }])])]);
  assert.deepEqual(inv.packages, []);
  assert.match(inv.warnings[0], /var\/lib\/rpm\/rpmdb.sqlite: rpm database not read/);
  assert.equal(readdirSync(tmpdir()).filter((n) => n.startsWith('berth-rpmdb-')).length, before);
});

test('readTar: bodies are only buffered by a sink', async () => {
  const seen: string[] = [];
  const r = await readTar(Readable.from([tar([{ path: 'a', body: 'hello' }, { path: 'd', type: '5' }, { path: 'l', type: '2', linkname: 'a' }])]), (e) => {
    seen.push(`${e.type}:${e.path}:${e.size}:${e.linkname}`);
    return null;
  });
  assert.deepEqual(seen, ['file:a:5:', 'dir:d:0:', 'symlink:l:0:a']);
  assert.equal(r.entries, 3);
});

// ---- fixtures: a zip writer (stored/deflate) and an ELF with Go build info --------------------------------------


function fakeGoBinary(): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n >= 0x80) {
      out.push((n & 0x7f) | 0x80);
      n >>= 7;
    }
    out.push(n);
    return Buffer.from(out);
  };
  const str = (s: string | Buffer) => Buffer.concat([varint(Buffer.byteLength(s)), Buffer.from(s)]);
  const mod = Buffer.concat([
    Buffer.from('3077af0c9274080241e1c107e6d618e6', 'hex'),
    Buffer.from('path\texample.com/hello\nmod\texample.com/hello\tv1.0.0\th1:x=\ndep\tgolang.org/x/text\tv0.3.0\th1:y=\n=>\tgolang.org/x/text\tv0.14.0\th1:z=\nbuild\t-compiler=gc\n'),
    Buffer.from('f932433186182072008242104116d8f2', 'hex'),
  ]);
  const hdr = Buffer.alloc(32);
  hdr.write('\xff Go buildinf:', 0, 'latin1');
  hdr[14] = 8;
  hdr[15] = 2;
  // the header sits 16-byte aligned, as its ELF section does; a decoy copy of the magic (a binary embedding
  // debug/buildinfo's constant) at an unaligned offset and another with a bad pointer size are passed over
  const elf = Buffer.alloc(3008, 0x90);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46]).copy(elf);
  hdr.copy(elf, 1001);
  elf.write('\xff Go buildinf:\x03\x02', 1504, 'latin1');
  return Buffer.concat([elf, hdr, str('go1.22.1'), str(mod), Buffer.alloc(100)]);
}
