// The built-in scanner's package inventory: reads an image's layers in order as streams, applies OCI whiteouts,
// and keeps in memory only the (parsed) files that declare packages, each under a size cap. Nothing is written
// to disk and links are never followed, so a hostile layer can at worst produce a clear InventoryError.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

import {
  GO_BUILDINFO_MAGIC,
  goPackages,
  parseApkInstalled,
  parseCargoLock,
  parseDpkgStatus,
  parseGoBuildInfo,
  parseJar,
  parseOsRelease,
  parsePackageJson,
  parsePackageLock,
  parsePythonMetadata,
  parseRpmHeader,
  rpmEcosystem,
  type Ecosystem,
  type FoundPackage,
  type OsRelease,
} from './parsers.ts';
import { collectSink, readTar, TarError, type TarLimits, type TarSink } from './tar-stream.ts';

export class InventoryError extends Error {}

export interface InventoryPackage extends FoundPackage {
  /** Path inside the image (no leading slash) of the file that declared it. */
  path: string;
  /** Index of the layer that file came from. */
  layer: number;
}

export interface Inventory {
  os: (OsRelease & { path: string }) | null;
  packages: InventoryPackage[];
  /** Files that could not be read (too large, unparsable) and entries skipped as unsafe. */
  warnings: string[];
  stats: { layers: number; entries: number; bytes: number };
}

export type LayerSource = AsyncIterable<Buffer | Uint8Array | string> | (() => AsyncIterable<Buffer | Uint8Array | string> | Promise<AsyncIterable<Buffer | Uint8Array | string>>);

export interface InventoryLimits extends TarLimits {
  maxPathLength: number;
  maxPathDepth: number;
  /** Package databases (dpkg status, apk installed, package-lock.json, Cargo.lock). */
  maxDatabaseBytes: number;
  /** Small manifests (package.json, METADATA, pom.properties, os-release). */
  maxManifestBytes: number;
  maxJarBytes: number;
  /** rpm's sqlite database (copied to a private temp file to be opened). */
  maxRpmDbBytes: number;
  /** ELF files larger than this are not searched for Go build info. */
  maxBinaryBytes: number;
  maxWarnings: number;
}

export const defaultInventoryLimits: InventoryLimits = {
  maxBytes: 64 * 1024 ** 3,
  maxEntries: 2_000_000,
  maxMetaBytes: 1024 * 1024,
  maxPathLength: 4096,
  maxPathDepth: 256,
  maxDatabaseBytes: 64 * 1024 * 1024,
  maxManifestBytes: 1024 * 1024,
  maxJarBytes: 128 * 1024 * 1024,
  maxRpmDbBytes: 256 * 1024 * 1024,
  maxBinaryBytes: 1024 * 1024 * 1024,
  maxWarnings: 100,
};

type Kind = 'os' | 'dpkg' | 'apk' | 'npm-lock' | 'npm-pkg' | 'python' | 'cargo' | 'jar' | 'rpm' | 'rpm-wal';

const RPMDB_DIRS = ['var/lib/rpm/', 'usr/lib/sysimage/rpm/'];

/** Which parser a path needs, by path pattern alone. */
export function kindOf(path: string): Kind | null {
  if (path === 'etc/os-release' || path === 'usr/lib/os-release') return 'os';
  if (path === 'var/lib/dpkg/status' || (path.startsWith('var/lib/dpkg/status.d/') && !path.endsWith('.md5sums') && path.indexOf('/', 22) < 0)) return 'dpkg';
  if (path === 'lib/apk/db/installed') return 'apk';
  for (const d of RPMDB_DIRS) {
    if (path === `${d}rpmdb.sqlite`) return 'rpm';
    if (path === `${d}rpmdb.sqlite-wal`) return 'rpm-wal';
  }
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base === 'package-lock.json' || base === '.package-lock.json') return 'npm-lock';
  // a package's own root package.json: …/node_modules/<name>/package.json or …/node_modules/@scope/<name>/package.json
  if (base === 'package.json' && /(?:^|\/)node_modules\/(?:@[^/]+\/)?[^/@][^/]*\/package\.json$/.test(path)) return 'npm-pkg';
  if (/\.dist-info\/METADATA$/.test(path) || /\.egg-info(?:\/PKG-INFO)?$/.test(path)) return 'python';
  if (base === 'Cargo.lock') return 'cargo';
  if (/\.(jar|war|ear)$/i.test(base)) return 'jar';
  return null;
}

/**
 * Normalises an archive path to a clean relative path ("a/b"), or returns null for one that must be skipped:
 * escapes the root through "..", too long or too deep. Leading "/" and "./" are dropped, as runtimes do.
 */
export function normalizePath(raw: string, lim: Pick<InventoryLimits, 'maxPathLength' | 'maxPathDepth'>): string | null {
  if (raw.length > lim.maxPathLength || raw.includes('\0')) return null;
  const out: string[] = [];
  for (const seg of raw.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') {
      if (!out.length) return null;
      out.pop();
      continue;
    }
    out.push(seg);
    if (out.length > lim.maxPathDepth) return null;
  }
  return out.length ? out.join('/') : null;
}

interface Held {
  layer: number;
  kind: Kind | 'go';
  packages: FoundPackage[];
  os?: OsRelease;
}

/** The per-path results, with an index of ancestor directories so whiteouts and replacements stay O(depth). */
class ImageFiles {
  readonly files = new Map<string, Held>();
  private readonly dirs = new Map<string, number>();

  private ancestors(p: string, delta: number) {
    for (let i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) {
      const d = p.slice(0, i);
      const n = (this.dirs.get(d) ?? 0) + delta;
      if (n) this.dirs.set(d, n);
      else this.dirs.delete(d);
    }
  }

  set(p: string, h: Held) {
    if (!this.files.has(p)) this.ancestors(p, 1);
    this.files.set(p, h);
  }

  delete(p: string) {
    if (this.files.delete(p)) this.ancestors(p, -1);
  }

  /** Removes `p` itself (if `self`) and everything under `p/` that came from layers below `layer`. */
  removeFromLower(p: string, layer: number, self: boolean) {
    if (self && (this.files.get(p)?.layer ?? layer) < layer) this.delete(p);
    if (!this.dirs.has(p)) return;
    const pre = `${p}/`;
    for (const [k, h] of [...this.files]) if (h.layer < layer && k.startsWith(pre)) this.delete(k);
  }

  clearAll(layer: number) {
    for (const [k, h] of [...this.files]) if (h.layer < layer) this.delete(k);
  }
}

/** Streams an ELF file, looking for Go's build info magic; only the bytes after it are kept (≤ 1 MiB). */
function goBinarySink(onDone: (info: Buffer | null) => void): TarSink {
  const WANT = 1024 * 1024;
  let head = Buffer.alloc(0);
  let state: 'head' | 'search' | 'collect' | 'no' = 'head';
  let carry = Buffer.alloc(0);
  let found: Buffer[] = [];
  let foundLen = 0;
  const collect = (b: Buffer) => {
    const take = b.subarray(0, WANT - foundLen);
    found.push(Buffer.from(take));
    foundLen += take.length;
    if (foundLen >= WANT) state = 'no';
  };
  let base = 0; // file offset of the first byte of `carry`
  const search = (chunk: Buffer) => {
    const b = carry.length ? Buffer.concat([carry, chunk]) : chunk;
    // The real header is 16-byte aligned in the file (its section is) and carries a pointer size of 4 or 8;
    // the same bytes elsewhere (a binary that embeds debug/buildinfo's constant) are passed over.
    for (let i = b.indexOf(GO_BUILDINFO_MAGIC); i >= 0; i = b.indexOf(GO_BUILDINFO_MAGIC, i + 1)) {
      if ((base + i) % 16 !== 0) continue;
      if (i + 15 < b.length && b[i + 14] !== 4 && b[i + 14] !== 8) continue;
      state = 'collect';
      collect(b.subarray(i));
      return;
    }
    const keep = Math.min(b.length, GO_BUILDINFO_MAGIC.length + 1);
    base += b.length - keep;
    carry = Buffer.from(b.subarray(b.length - keep));
  };
  return {
    write(c) {
      if (state === 'no') return;
      if (state === 'head') {
        head = Buffer.concat([head, c]);
        if (head.length < 4) return;
        if (head.readUInt32BE(0) !== 0x7f454c46) {
          state = 'no';
          return;
        }
        state = 'search';
        c = head;
      }
      if (state === 'search') search(c);
      else if (state === 'collect') collect(c);
    },
    end() {
      onDone(foundLen ? Buffer.concat(found, foundLen) : null);
      found = [];
    },
  };
}

function parseKind(kind: Kind, b: Buffer, osId: string): { packages: FoundPackage[]; os?: OsRelease } {
  const text = () => b.toString('utf8');
  switch (kind) {
    case 'os':
      return { packages: [], os: parseOsRelease(text()) };
    case 'dpkg':
      return { packages: parseDpkgStatus(text(), osId === 'ubuntu' ? 'Ubuntu' : 'Debian') };
    case 'apk':
      return { packages: parseApkInstalled(text()) };
    case 'npm-lock':
      return { packages: parsePackageLock(text()) };
    case 'npm-pkg':
      return { packages: parsePackageJson(text()) };
    case 'python':
      return { packages: parsePythonMetadata(text()) };
    case 'cargo':
      return { packages: parseCargoLock(text()) };
    case 'jar':
      return { packages: parseJar(b) };
    case 'rpm':
    case 'rpm-wal':
      return { packages: [] };
  }
}

/**
 * The package inventory of an image from its layers (bottom first), each a stream of a (gzip/zstd/plain) tar,
 * or a function opening one — opened only when its turn comes, so one layer is read at a time.
 */
export async function inventory(layers: Iterable<LayerSource> | AsyncIterable<LayerSource>, limits: Partial<InventoryLimits> = {}): Promise<Inventory> {
  const lim = { ...defaultInventoryLimits, ...limits };
  const image = new ImageFiles();
  const warnings: string[] = [];
  const warn = (m: string) => {
    if (warnings.length < lim.maxWarnings) warnings.push(m);
    else if (warnings.length === lim.maxWarnings) warnings.push('further warnings suppressed');
  };
  const stats = { layers: 0, entries: 0, bytes: 0 };
  // Raw (unparsed) databases wait for the OS id so dpkg knows Debian vs Ubuntu; parsed at the end.
  const raw = new Map<string, Buffer>();
  let layer = -1;
  for await (const src of layers as AsyncIterable<LayerSource>) {
    layer++;
    const L = layer;
    try {
      const stream = typeof src === 'function' ? await src() : src;
      const r = await readTar(
        stream,
        (e) => {
          const p = normalizePath(e.path, lim);
          if (!p) {
            if (e.path.replace(/^(\.?\/)+/, '') !== '' && e.path !== '.') warn(`layer ${L}: skipped unsafe path ${JSON.stringify(e.path.slice(0, 200))}`);
            return null;
          }
          const slash = p.lastIndexOf('/');
          const base = p.slice(slash + 1);
          const dir = slash < 0 ? '' : p.slice(0, slash);
          if (base.startsWith('.wh.')) {
            if (base === '.wh..wh..opq') {
              if (dir) image.removeFromLower(dir, L, false);
              else image.clearAll(L);
            } else if (base.length > 4) {
              image.removeFromLower(dir ? `${dir}/${base.slice(4)}` : base.slice(4), L, true);
            }
            return null;
          }
          // Anything at a path replaces what lower layers had there; a non-directory also hides the tree below.
          image.delete(p);
          raw.delete(p);
          if (e.type !== 'dir') image.removeFromLower(p, L, false);
          if (e.type === 'hardlink') {
            const t = normalizePath(e.linkname, lim);
            const h = t ? image.files.get(t) : undefined;
            // the link declares packages only if its own path is one a parser reads (the target's kind)
            const k = kindOf(p);
            if (h && (k === h.kind || (h.kind === 'go' && !k))) {
              image.set(p, { ...h, layer: L });
              if (raw.has(t!)) raw.set(p, raw.get(t!)!);
            }
            return null;
          }
          if (e.type !== 'file') return null; // symlinks are recorded by absence: never followed
          const kind = kindOf(p);
          if (!kind) {
            if (e.size < 1024 || e.size > lim.maxBinaryBytes) return null;
            return goBinarySink((b) => {
              if (!b) return;
              try {
                const info = parseGoBuildInfo(b);
                if (info) image.set(p, { layer: L, kind: 'go', packages: goPackages(info) });
                else warn(`${p}: Go build info of a pre-1.18 toolchain is not read`);
              } catch (err) {
                warn(`${p}: ${(err as Error).message}`);
              }
            });
          }
          const cap = kind === 'jar' ? lim.maxJarBytes : kind === 'rpm' || kind === 'rpm-wal' ? lim.maxRpmDbBytes : kind === 'dpkg' || kind === 'apk' || kind === 'npm-lock' || kind === 'cargo' ? lim.maxDatabaseBytes : lim.maxManifestBytes;
          if (e.size > cap) {
            warn(`${p}: ${e.size} bytes exceeds the ${cap}-byte limit for ${kind} files; not read`);
            return null;
          }
          return collectSink(cap, (b) => {
            if (!b) return;
            if (kind === 'dpkg' || kind === 'os' || kind === 'rpm' || kind === 'rpm-wal') {
              raw.set(p, b);
              image.set(p, { layer: L, kind, packages: [] });
              return;
            }
            try {
              image.set(p, { layer: L, kind, ...parseKind(kind, b, '') });
            } catch (err) {
              warn(`${p}: ${kind} file not parsed: ${(err as Error).message}`);
            }
          });
        },
        lim,
      );
      stats.entries += r.entries;
      stats.bytes += r.bytes;
      stats.layers++;
    } catch (err) {
      const msg = err instanceof TarError ? err.message : `unreadable layer: ${(err as Error).message}`;
      throw new InventoryError(`layer ${L}: ${msg}`);
    }
  }
  // OS first (etc/os-release wins over usr/lib/os-release), then the databases that depend on it.
  let os: Inventory['os'] = null;
  for (const p of ['etc/os-release', 'usr/lib/os-release']) {
    const b = raw.get(p);
    if (b && image.files.has(p) && !os) os = { ...parseOsRelease(b.toString('utf8')), path: p };
  }
  for (const [p, b] of raw) {
    const h = image.files.get(p);
    if (!h || h.kind !== 'dpkg') continue;
    try {
      h.packages = parseKind('dpkg', b, os?.id ?? '').packages;
    } catch (err) {
      warn(`${p}: dpkg file not parsed: ${(err as Error).message}`);
    }
  }
  for (const [p, b] of raw) {
    const h = image.files.get(p);
    if (!h || h.kind !== 'rpm') continue;
    try {
      const wal = image.files.has(`${p}-wal`) ? raw.get(`${p}-wal`) : undefined;
      h.packages = readRpmDb(b, wal, rpmEcosystem(os?.id ?? ''));
    } catch (err) {
      warn(`${p}: rpm database not read: ${(err as Error).message}`);
    }
  }
  const packages: InventoryPackage[] = [];
  const seen = new Set<string>();
  for (const [path, h] of [...image.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const pkg of h.packages) {
      const key = `${pkg.ecosystem}\0${pkg.name}\0${pkg.version}\0${path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      packages.push({ ...pkg, path, layer: h.layer });
    }
  }
  return { os, packages, warnings, stats };
}

/**
 * The packages in an rpmdb.sqlite (and its WAL, whose pages may not be checkpointed yet). SQLite needs a file, so
 * the database alone goes to a private temp directory that is removed at once.
 */
function readRpmDb(db: Buffer, wal: Buffer | undefined, ecosystem: string): FoundPackage[] {
  const dir = mkdtempSync(join(tmpdir(), 'berth-rpmdb-'));
  try {
    const file = join(dir, 'rpmdb.sqlite');
    writeFileSync(file, db, { mode: 0o600 });
    if (wal) writeFileSync(`${file}-wal`, wal, { mode: 0o600 });
    const conn = new DatabaseSync(file);
    try {
      const out: FoundPackage[] = [];
      for (const row of conn.prepare('SELECT blob FROM Packages').iterate() as Iterable<{ blob: Uint8Array }>) {
        const p = parseRpmHeader(Buffer.from(row.blob), ecosystem);
        if (p) out.push(p);
      }
      return out;
    } finally {
      conn.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export type { Ecosystem, FoundPackage, OsRelease };
