// Parsers of the package databases and manifests the inventory reads: each takes one file's bytes and returns
// what it declares. Pure functions; bad content yields fewer packages (or a thrown Error the caller logs), never
// a crash of the scan.
import { inflateRawSync } from 'node:zlib';

/** OSV ecosystem names. */
export type Ecosystem = 'Debian' | 'Ubuntu' | 'Alpine' | 'npm' | 'PyPI' | 'Go' | 'Maven' | 'crates.io' | RpmEcosystem;

/** OSV's names for rpm-based distributions, by os-release ID; any other rpm distribution keeps its ID. */
export type RpmEcosystem = 'Red Hat' | 'Rocky Linux' | 'AlmaLinux' | 'openSUSE' | 'SUSE' | 'Mageia' | 'openEuler' | 'Azure Linux' | (string & {});
export function rpmEcosystem(osId: string): RpmEcosystem {
  const m: Record<string, RpmEcosystem> = { rhel: 'Red Hat', centos: 'Red Hat', rocky: 'Rocky Linux', almalinux: 'AlmaLinux', 'opensuse-leap': 'openSUSE', 'opensuse-tumbleweed': 'openSUSE', sles: 'SUSE', mageia: 'Mageia', openEuler: 'openEuler', azurelinux: 'Azure Linux' };
  return m[osId] ?? (osId || 'rpm');
}

export interface FoundPackage {
  ecosystem: Ecosystem;
  name: string;
  version: string;
  /** dpkg `Source:` (or apk origin): the source package advisories are filed against. */
  sourceName?: string;
  sourceVersion?: string;
  arch?: string;
}

export interface OsRelease {
  id: string;
  versionId: string;
  versionCodename: string;
  prettyName: string;
}

export function parseOsRelease(text: string): OsRelease {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2].trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1).replace(/\\(["'$`\\])/g, '$1');
    kv.set(m[1], v);
  }
  return { id: kv.get('ID') ?? '', versionId: kv.get('VERSION_ID') ?? '', versionCodename: kv.get('VERSION_CODENAME') ?? '', prettyName: kv.get('PRETTY_NAME') ?? '' };
}

/** RFC 822-style stanzas (dpkg status, apk's installed db uses single letters): field → value, continuation lines joined. */
function stanzas(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let cur = new Map<string, string>();
  let last = '';
  for (const line of text.split('\n')) {
    if (line.trim() === '') {
      if (cur.size) out.push(cur);
      cur = new Map();
      last = '';
      continue;
    }
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      cur.set(last, `${cur.get(last)}\n${line.trim()}`);
      continue;
    }
    const i = line.indexOf(':');
    if (i <= 0) continue;
    last = line.slice(0, i);
    cur.set(last, line.slice(i + 1).trim());
  }
  if (cur.size) out.push(cur);
  return out;
}

/** dpkg's status file or one distroless `status.d/` file: installed packages only. */
export function parseDpkgStatus(text: string, ecosystem: Ecosystem = 'Debian'): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const s of stanzas(text)) {
    const name = s.get('Package');
    const version = s.get('Version');
    if (!name || !version) continue;
    // the third word of Status is the package state: "not-installed" and "config-files" leave no package behind
    // (half-installed, unpacked, half-configured and triggers-* ones have their files on disk)
    const status = s.get('Status');
    if (status && /\s(not-installed|config-files)$/.test(status)) continue;
    const p: FoundPackage = { ecosystem, name, version };
    const arch = s.get('Architecture');
    if (arch) p.arch = arch;
    const src = s.get('Source');
    if (src) {
      const m = /^(\S+)(?:\s+\((\S+)\))?/.exec(src);
      if (m) {
        p.sourceName = m[1];
        p.sourceVersion = m[2] ?? version;
      }
    } else {
      p.sourceName = name;
      p.sourceVersion = version;
    }
    out.push(p);
  }
  return out;
}

/** apk's `lib/apk/db/installed` (P: name, V: version, o: origin, A: arch). */
export function parseApkInstalled(text: string): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const s of stanzas(text)) {
    const name = s.get('P');
    const version = s.get('V');
    if (!name || !version) continue;
    const p: FoundPackage = { ecosystem: 'Alpine', name, version, sourceName: s.get('o') || name, sourceVersion: version };
    const arch = s.get('A');
    if (arch) p.arch = arch;
    out.push(p);
  }
  return out;
}

/** package-lock.json v2/v3 (`packages`; v1 `dependencies` as a fallback). The root project itself is left out. */
export function parsePackageLock(text: string): FoundPackage[] {
  const doc = JSON.parse(text);
  const out: FoundPackage[] = [];
  if (doc && typeof doc.packages === 'object' && doc.packages) {
    for (const [key, v] of Object.entries<any>(doc.packages)) {
      if (key === '' || !v || typeof v !== 'object' || v.link) continue;
      const i = key.lastIndexOf('node_modules/');
      const name = typeof v.name === 'string' ? v.name : i >= 0 ? key.slice(i + 'node_modules/'.length) : '';
      if (!name || typeof v.version !== 'string') continue;
      out.push({ ecosystem: 'npm', name, version: v.version });
    }
    return out;
  }
  const walk = (deps: any) => {
    if (!deps || typeof deps !== 'object') return;
    for (const [name, v] of Object.entries<any>(deps)) {
      if (v && typeof v.version === 'string' && !v.version.startsWith('file:')) out.push({ ecosystem: 'npm', name, version: v.version });
      walk(v?.dependencies);
    }
  };
  walk(doc?.dependencies);
  return out;
}

/** A package's own package.json (under node_modules): name and version. */
export function parsePackageJson(text: string): FoundPackage[] {
  const doc = JSON.parse(text);
  if (!doc || typeof doc.name !== 'string' || typeof doc.version !== 'string' || !doc.name || !doc.version) return [];
  return [{ ecosystem: 'npm', name: doc.name, version: doc.version }];
}

/** Python core metadata (dist-info METADATA, egg-info PKG-INFO): the Name/Version headers before the body. */
export function parsePythonMetadata(text: string): FoundPackage[] {
  let name = '';
  let version = '';
  for (const line of text.split('\n')) {
    if (line.trim() === '') break;
    const m = /^(Name|Version):\s*(.*?)\s*$/i.exec(line);
    if (m && m[1].toLowerCase() === 'name' && !name) name = m[2];
    if (m && m[1].toLowerCase() === 'version' && !version) version = m[2];
  }
  // PyPI names compare in PEP 503's normal form, as syft reports them and OSV matches ("PyYAML" → "pyyaml",
  // "typing_extensions" → "typing-extensions")
  return name && version ? [{ ecosystem: 'PyPI', name: name.toLowerCase().replace(/[-_.]+/g, '-'), version }] : [];
}

/** Cargo.lock: every `[[package]]` table's name and version. */
export function parseCargoLock(text: string): FoundPackage[] {
  const out: FoundPackage[] = [];
  let cur: { name?: string; version?: string } | null = null;
  const flush = () => {
    if (cur?.name && cur.version) out.push({ ecosystem: 'crates.io', name: cur.name, version: cur.version });
  };
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('[')) {
      flush();
      cur = line === '[[package]]' ? {} : null;
      continue;
    }
    const m = /^(name|version)\s*=\s*"([^"]*)"/.exec(line);
    if (cur && m) cur[m[1] as 'name' | 'version'] = m[2];
  }
  flush();
  return out;
}

// ---- Go build info -----------------------------------------------------------------------------------------
// Go (1.18+) links a `.go.buildinfo` blob that starts with this 14-byte magic; a 32-byte header follows with
// pointer size and flags (bit 1 = strings inline). Inline: varint-length Go version, varint-length modinfo.
// modinfo is wrapped in 16-byte sentinels and lists `path`, `mod`, `dep` and `=>` (replacement) lines.
export const GO_BUILDINFO_MAGIC = Buffer.from('\xff Go buildinf:', 'latin1');

function uvarint(b: Buffer, off: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (let i = off; i < b.length && i < off + 10; i++) {
    v += (b[i] & 0x7f) * 2 ** shift;
    if (!(b[i] & 0x80)) return [v, i + 1];
    shift += 7;
  }
  throw new Error('bad varint in Go build info');
}

export interface GoBuildInfo {
  goVersion: string;
  path: string;
  main: { path: string; version: string } | null;
  deps: { path: string; version: string }[];
}

/** Parses the build info starting at the magic. Null for the pre-1.18 (pointer-based) layout. */
export function parseGoBuildInfo(b: Buffer): GoBuildInfo | null {
  if (b.length < 32 || !b.subarray(0, 14).equals(GO_BUILDINFO_MAGIC)) throw new Error('no Go build info header');
  const flags = b[15];
  if (!(flags & 0x2)) return null;
  let [len, off] = uvarint(b, 32);
  if (off + len > b.length) throw new Error('Go build info truncated');
  const goVersion = b.subarray(off, off + len).toString('utf8');
  off += len;
  [len, off] = uvarint(b, off);
  if (off + len > b.length) throw new Error('Go build info truncated');
  let mod = b.subarray(off, off + len).toString('utf8');
  if (len >= 33 && mod.charCodeAt(mod.length - 17) === 0x0a) mod = b.subarray(off + 16, off + len - 16).toString('utf8');
  const info: GoBuildInfo = { goVersion, path: '', main: null, deps: [] };
  for (const line of mod.split('\n')) {
    const f = line.split('\t');
    if (f[0] === 'path') info.path = f[1] ?? '';
    else if (f[0] === 'mod') info.main = { path: f[1] ?? '', version: f[2] ?? '' };
    else if (f[0] === 'dep') info.deps.push({ path: f[1] ?? '', version: f[2] ?? '' });
    else if (f[0] === '=>' && info.deps.length) info.deps[info.deps.length - 1] = { path: f[1] ?? '', version: f[2] ?? '' };
  }
  return info;
}

/** The Go packages a binary declares: its main module (unless a local "(devel)" build), deps and the stdlib. */
export function goPackages(info: GoBuildInfo): FoundPackage[] {
  const out: FoundPackage[] = [];
  if (info.main?.path && info.main.version && info.main.version !== '(devel)') out.push({ ecosystem: 'Go', name: info.main.path, version: info.main.version });
  for (const d of info.deps) if (d.path && d.version) out.push({ ecosystem: 'Go', name: d.path, version: d.version });
  // OSV files Go runtime/stdlib advisories under the module "stdlib"
  const gv = /^go(\d+\.\d+(?:\.\d+)?)/.exec(info.goVersion);
  if (gv) out.push({ ecosystem: 'Go', name: 'stdlib', version: `v${gv[1]}` });
  return out;
}

// ---- Java archives -----------------------------------------------------------------------------------------

export function parseProperties(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line[0] === '#' || line[0] === '!') continue;
    const m = /^([^=:\s]+)\s*[=:\s]\s*(.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

export interface ZipEntry {
  name: string;
  method: number;
  compSize: number;
  size: number;
  localOffset: number;
}

export function zipEntries(z: Buffer): ZipEntry[] {
  // end of central directory: 22 bytes + up to 64 KiB comment
  let eocd = -1;
  for (let i = z.length - 22; i >= Math.max(0, z.length - 22 - 65535); i--) {
    if (z.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip archive');
  const count = z.readUInt16LE(eocd + 10);
  let off = z.readUInt32LE(eocd + 16);
  const out: ZipEntry[] = [];
  for (let n = 0; n < count; n++) {
    if (off + 46 > z.length || z.readUInt32LE(off) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const nameLen = z.readUInt16LE(off + 28);
    const extraLen = z.readUInt16LE(off + 30);
    const commentLen = z.readUInt16LE(off + 32);
    out.push({
      method: z.readUInt16LE(off + 10),
      compSize: z.readUInt32LE(off + 20),
      size: z.readUInt32LE(off + 24),
      localOffset: z.readUInt32LE(off + 42),
      name: z.subarray(off + 46, off + 46 + nameLen).toString('utf8'),
    });
    off += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

export function zipRead(z: Buffer, e: ZipEntry, cap: number): Buffer {
  const o = e.localOffset;
  if (o + 30 > z.length || z.readUInt32LE(o) !== 0x04034b50) throw new Error('corrupt zip local header');
  const start = o + 30 + z.readUInt16LE(o + 26) + z.readUInt16LE(o + 28);
  const data = z.subarray(start, start + e.compSize);
  if (data.length !== e.compSize) throw new Error('zip entry truncated');
  if (e.method === 0) return data;
  if (e.method === 8) return inflateRawSync(data, { maxOutputLength: cap });
  throw new Error(`zip method ${e.method} not supported`);
}

/** Maven coordinates from `META-INF/maven/**\/pom.properties` in a jar/war/ear, nested archives down to `depth`. */
export function parseJar(z: Buffer, depth = 2, nestedCap = 64 * 1024 * 1024): FoundPackage[] {
  const out: FoundPackage[] = [];
  for (const e of zipEntries(z)) {
    if (/^META-INF\/maven\/[^/]+\/[^/]+\/pom\.properties$/.test(e.name)) {
      const p = parseProperties(zipRead(z, e, 1024 * 1024).toString('utf8'));
      const g = p.get('groupId');
      const a = p.get('artifactId');
      const v = p.get('version');
      if (g && a && v) out.push({ ecosystem: 'Maven', name: `${g}:${a}`, version: v });
    } else if (depth > 0 && /\.(jar|war|ear)$/i.test(e.name) && e.size <= nestedCap) {
      try {
        out.push(...parseJar(zipRead(z, e, nestedCap), depth - 1, nestedCap));
      } catch {
        // a corrupt nested archive hides only its own packages
      }
    }
  }
  return out;
}

// ---- rpm ---------------------------------------------------------------------------------------------------------
// An rpm header blob (as stored in rpmdb.sqlite's Packages table): int32 index count, int32 data length, 16-byte
// index entries (tag, type, offset, count), then the data. Strings are NUL-terminated at their offset.
const RPM_TAG = { name: 1000, version: 1001, release: 1002, epoch: 1003, arch: 1022, sourcerpm: 1044 };

export function parseRpmHeader(b: Buffer, ecosystem: Ecosystem): FoundPackage | null {
  if (b.length < 8) throw new Error('rpm header too short');
  const il = b.readUInt32BE(0);
  const dl = b.readUInt32BE(4);
  const data = 8 + il * 16;
  if (il > 100_000 || data + dl > b.length) throw new Error('corrupt rpm header');
  const tags = new Map<number, string | number>();
  for (let i = 0; i < il; i++) {
    const e = 8 + i * 16;
    const tag = b.readUInt32BE(e);
    const type = b.readUInt32BE(e + 4);
    const off = data + b.readUInt32BE(e + 8);
    if (off >= data + dl) continue;
    if (type === 6 || type === 9) {
      const z = b.indexOf(0, off);
      tags.set(tag, b.subarray(off, z < 0 ? data + dl : z).toString('utf8'));
    } else if (type === 4 && off + 4 <= data + dl) tags.set(tag, b.readUInt32BE(off));
  }
  const name = tags.get(RPM_TAG.name);
  const version = tags.get(RPM_TAG.version);
  const release = tags.get(RPM_TAG.release);
  if (typeof name !== 'string' || typeof version !== 'string' || name === 'gpg-pubkey') return null;
  const epoch = tags.get(RPM_TAG.epoch);
  const full = `${typeof epoch === 'number' && epoch > 0 ? `${epoch}:` : ''}${version}${typeof release === 'string' && release ? `-${release}` : ''}`;
  const p: FoundPackage = { ecosystem, name, version: full };
  const arch = tags.get(RPM_TAG.arch);
  if (typeof arch === 'string') p.arch = arch;
  const src = tags.get(RPM_TAG.sourcerpm);
  // "openssl-3.0.7-27.el9.src.rpm" → source name "openssl"
  const m = typeof src === 'string' ? /^(.+)-([^-]+)-([^-]+)\.(?:no)?src\.rpm$/.exec(src) : null;
  if (m) {
    p.sourceName = m[1];
    p.sourceVersion = `${m[2]}-${m[3]}`;
  }
  return p;
}
