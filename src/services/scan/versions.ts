// Version ordering per ecosystem, each following that ecosystem's own rules: dpkg (Debian Policy 5.6.12), rpm
// (rpmvercmp), apk
// (apk-tools), semver (npm, crates.io, Go modules — the `semver` package), PEP 440 (PyPI) and Maven's
// ComparableVersion. Every comparator returns <0, 0 or >0.
import semver from 'semver';

import type { Ecosystem } from './parsers.ts';

const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const isAlpha = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

// ---- dpkg ----------------------------------------------------------------------------------------------------

/** dpkg's character order in non-digit parts: `~` before the end of a part, letters before other characters. */
function dpkgOrder(c: string | undefined): number {
  if (c === undefined || isDigit(c)) return 0;
  if (c === '~') return -1;
  if (isAlpha(c)) return c.charCodeAt(0);
  return c.charCodeAt(0) + 256;
}

function dpkgPart(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    while ((i < a.length && !isDigit(a[i])) || (j < b.length && !isDigit(b[j]))) {
      const d = dpkgOrder(a[i]) - dpkgOrder(b[j]);
      if (d) return d;
      i++;
      j++;
    }
    while (a[i] === '0') i++;
    while (b[j] === '0') j++;
    let first = 0;
    while (isDigit(a[i]) && isDigit(b[j])) {
      if (!first) first = a.charCodeAt(i) - b.charCodeAt(j);
      i++;
      j++;
    }
    if (isDigit(a[i])) return 1;
    if (isDigit(b[j])) return -1;
    if (first) return first;
  }
  return 0;
}

function dpkgSplit(v: string): [number, string, string] {
  v = v.trim();
  const c = v.indexOf(':');
  const epoch = c > 0 && /^\d+$/.test(v.slice(0, c)) ? Number(v.slice(0, c)) : 0;
  const rest = c > 0 ? v.slice(c + 1) : v;
  const h = rest.lastIndexOf('-');
  return h >= 0 ? [epoch, rest.slice(0, h), rest.slice(h + 1)] : [epoch, rest, ''];
}

export function compareDpkg(a: string, b: string): number {
  const [ea, ua, ra] = dpkgSplit(a);
  const [eb, ub, rb] = dpkgSplit(b);
  return sign(ea - eb || dpkgPart(ua, ub) || dpkgPart(ra, rb));
}

// ---- rpm ---------------------------------------------------------------------------------------------------------

const isAlnum = (c: string | undefined) => c !== undefined && (isDigit(c) || isAlpha(c));

/** rpm's rpmvercmp: alternating digit/letter segments, `~` before anything (even the end), `^` after the end. */
function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0;
  let j = 0;
  for (;;) {
    while (i < a.length && !isAlnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !isAlnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++;
      j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++;
      j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const num = isDigit(a[i]);
    const take = (s: string, k: number) => {
      let e = k;
      while (e < s.length && (num ? isDigit(s[e]) : isAlpha(s[e]))) e++;
      return e;
    };
    const ei = take(a, i);
    const ej = take(b, j);
    let x = a.slice(i, ei);
    let y = b.slice(j, ej);
    i = ei;
    j = ej;
    if (!y) return num ? 1 : -1; // a numeric segment beats an alpha one
    if (num) {
      x = x.replace(/^0+/, '');
      y = y.replace(/^0+/, '');
      if (x.length !== y.length) return x.length > y.length ? 1 : -1;
    }
    if (x !== y) return x < y ? -1 : 1;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i < a.length ? 1 : -1;
}

/** `[epoch:]version[-release]` in rpm's order (a missing epoch is 0). */
export function compareRpm(a: string, b: string): number {
  const split = (v: string): [number, string, string] => {
    const c = v.indexOf(':');
    const epoch = c > 0 && /^\d+$/.test(v.slice(0, c)) ? Number(v.slice(0, c)) : 0;
    const rest = c > 0 ? v.slice(c + 1) : v;
    const h = rest.lastIndexOf('-');
    return h >= 0 ? [epoch, rest.slice(0, h), rest.slice(h + 1)] : [epoch, rest, ''];
  };
  const [ea, va, ra] = split(a.trim());
  const [eb, vb, rb] = split(b.trim());
  return sign(ea - eb || rpmvercmp(va, vb) || (ra && rb ? rpmvercmp(ra, rb) : 0));
}

// ---- apk -----------------------------------------------------------------------------------------------------

// apk-tools: pre-release suffixes sort before the bare version, the others after it
const APK_SUFFIX: Record<string, number> = { alpha: -4, beta: -3, pre: -2, rc: -1, cvs: 1, svn: 2, git: 3, hg: 4, p: 5 };

interface ApkVersion {
  nums: string[];
  letter: string;
  suffixes: [number, bigint][];
  rev: bigint;
}

function apkParse(v: string): ApkVersion | null {
  const m = /^(\d+(?:\.\d+)*)([a-z]?)((?:_(?:alpha|beta|pre|rc|cvs|svn|git|hg|p)\d*)*)(?:~[0-9a-f]+)?(?:-r(\d+))?$/.exec(v.trim());
  if (!m) return null;
  const suffixes: [number, bigint][] = [];
  for (const s of m[3].split('_').slice(1)) {
    const sm = /^([a-z]+)(\d*)$/.exec(s)!;
    suffixes.push([APK_SUFFIX[sm[1]], BigInt(sm[2] || '0')]);
  }
  return { nums: m[1].split('.'), letter: m[2], suffixes, rev: BigInt(m[4] ?? '0') };
}

const bigCmp = (a: bigint, b: bigint) => (a < b ? -1 : a > b ? 1 : 0);

export function compareApk(a: string, b: string): number {
  const x = apkParse(a);
  const y = apkParse(b);
  if (!x || !y) return sign(compareDpkg(a, b)); // invalid apk versions: a natural order rather than a throw
  for (let i = 0; i < Math.min(x.nums.length, y.nums.length); i++) {
    const p = x.nums[i];
    const q = y.nums[i];
    // after the first component, a leading zero makes apk compare digits as a decimal fraction (string order)
    const d = i > 0 && (p[0] === '0' || q[0] === '0') ? (p < q ? -1 : p > q ? 1 : 0) : bigCmp(BigInt(p), BigInt(q));
    if (d) return d;
  }
  if (x.nums.length !== y.nums.length) return x.nums.length > y.nums.length ? 1 : -1;
  if (x.letter !== y.letter) return x.letter === '' ? -1 : y.letter === '' ? 1 : x.letter < y.letter ? -1 : 1;
  for (let i = 0; i < Math.max(x.suffixes.length, y.suffixes.length); i++) {
    const s = x.suffixes[i] ?? [0, 0n];
    const t = y.suffixes[i] ?? [0, 0n];
    if (s[0] !== t[0]) return sign(s[0] - t[0]);
    const d = bigCmp(s[1], t[1]);
    if (d) return d;
  }
  return bigCmp(x.rev, y.rev);
}

// ---- semver (npm, crates.io, Go) -------------------------------------------------------------------------------

/** Semantic Versioning 2.0 order; a Go `v` prefix is accepted and `+incompatible` (build metadata) ignored. */
export function compareSemver(a: string, b: string): number {
  const pa = semver.parse(a.trim().replace(/^v(?=\d)/, ''));
  const pb = semver.parse(b.trim().replace(/^v(?=\d)/, ''));
  if (pa && pb) return semver.compare(pa, pb);
  return sign(compareDpkg(a, b));
}

// ---- PEP 440 -----------------------------------------------------------------------------------------------------

const PEP440 =
  /^v?(?:(\d+)!)?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|c|rc)[-_.]?(\d+)?)?(?:-(\d+)|[-_.]?(post|rev|r)[-_.]?(\d+)?)?(?:[-_.]?(dev)[-_.]?(\d+)?)?(?:\+([a-z0-9]+(?:[-_.][a-z0-9]+)*))?$/;

type Pep440Key = [bigint, bigint[], [number, bigint], bigint | null, bigint | null, (bigint | string)[] | null];

function pep440Key(v: string): Pep440Key | null {
  const m = PEP440.exec(v.trim().toLowerCase());
  if (!m) return null;
  const release = m[2].split('.').map(BigInt);
  while (release.length > 1 && release[release.length - 1] === 0n) release.pop();
  const preRank: Record<string, number> = { alpha: 0, a: 0, beta: 1, b: 1, c: 2, rc: 2, pre: 2, preview: 2 };
  const hasPost = m[5] !== undefined || m[6] !== undefined;
  const hasDev = m[8] !== undefined;
  // a dev release of a final version sorts before its pre-releases; no pre-release sorts after all of them
  const pre: [number, bigint] = m[3] ? [preRank[m[3]], BigInt(m[4] ?? '0')] : !hasPost && hasDev ? [-1, 0n] : [3, 0n];
  const post = hasPost ? BigInt(m[5] ?? m[7] ?? '0') : null;
  const dev = hasDev ? BigInt(m[9] ?? '0') : null;
  const local = m[10] ? m[10].split(/[-_.]/).map((s) => (/^\d+$/.test(s) ? BigInt(s) : s)) : null;
  return [BigInt(m[1] ?? '0'), release, pre, post, dev, local];
}

export function comparePep440(a: string, b: string): number {
  const x = pep440Key(a);
  const y = pep440Key(b);
  if (!x || !y) return sign(compareDpkg(a, b));
  let d = bigCmp(x[0], y[0]);
  if (d) return d;
  for (let i = 0; i < Math.max(x[1].length, y[1].length); i++) if ((d = bigCmp(x[1][i] ?? 0n, y[1][i] ?? 0n))) return d;
  if ((d = sign(x[2][0] - y[2][0]) || bigCmp(x[2][1], y[2][1]))) return d;
  // no post-release sorts before any; no dev release sorts after any
  if (x[3] !== y[3]) return x[3] === null ? -1 : y[3] === null ? 1 : bigCmp(x[3], y[3]);
  if (x[4] !== y[4]) return x[4] === null ? 1 : y[4] === null ? -1 : bigCmp(x[4], y[4]);
  const la = x[5];
  const lb = y[5];
  if (!la || !lb) return la ? 1 : lb ? -1 : 0;
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    const p = la[i];
    const q = lb[i];
    if (p === undefined) return -1;
    if (q === undefined) return 1;
    if (typeof p !== typeof q) return typeof p === 'bigint' ? 1 : -1; // numeric segments sort after alphanumeric
    if (p !== q) return p < q ? -1 : 1;
  }
  return 0;
}

// ---- Maven ComparableVersion ---------------------------------------------------------------------------------

const MAVEN_QUALIFIERS = ['alpha', 'beta', 'milestone', 'rc', 'snapshot', '', 'sp'];
const MAVEN_ALIASES: Record<string, string> = { ga: '', final: '', release: '', cr: 'rc' };
const MAVEN_RELEASE = String(MAVEN_QUALIFIERS.indexOf(''));

type MItem = { t: 'int'; v: bigint } | { t: 'str'; v: string } | { t: 'list'; v: MItem[] };

function mavenQualifier(q: string): string {
  const i = MAVEN_QUALIFIERS.indexOf(q);
  return i >= 0 ? String(i) : `${MAVEN_QUALIFIERS.length}-${q}`;
}

function mavenStr(s: string, followedByDigit: boolean): MItem {
  if (followedByDigit && s.length === 1) s = s === 'a' ? 'alpha' : s === 'b' ? 'beta' : s === 'm' ? 'milestone' : s;
  return { t: 'str', v: MAVEN_ALIASES[s] ?? s };
}

function mavenIsNull(i: MItem): boolean {
  return i.t === 'int' ? i.v === 0n : i.t === 'str' ? i.v === '' : i.v.length === 0;
}

function mavenNormalize(l: MItem[]) {
  for (let i = l.length - 1; i >= 0; i--) {
    const it = l[i];
    if (mavenIsNull(it)) l.splice(i, 1);
    else if (it.t !== 'list') break;
  }
}

function mavenParse(version: string): MItem[] {
  const v = version.trim().toLowerCase();
  const root: MItem[] = [];
  let list = root;
  const stack: MItem[][] = [root];
  let digit = false;
  let start = 0;
  const item = (isDigit: boolean, s: string): MItem => (isDigit ? { t: 'int', v: BigInt(s) } : mavenStr(s, false));
  const sub = () => {
    const l: MItem[] = [];
    list.push({ t: 'list', v: l });
    list = l;
    stack.push(l);
  };
  // a qualifier after a '.' ("2.0.a") opens a sub-list as if it followed a '-', so "2.0.a" < "2-1"
  const textAfterDot = (isDigit: boolean, s: string) => {
    if (!isDigit && list.length) sub();
    list.push(item(isDigit, s));
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === '.' || c === '-') {
      if (i === start) list.push({ t: 'int', v: 0n });
      else textAfterDot(digit, v.slice(start, i));
      start = i + 1;
      if (c === '-') sub();
    } else if (isDigit(c)) {
      if (!digit && i > start) {
        list.push(mavenStr(v.slice(start, i), true));
        start = i;
        sub();
      }
      digit = true;
    } else {
      if (digit && i > start) {
        list.push(item(true, v.slice(start, i)));
        start = i;
        sub();
      }
      digit = false;
    }
  }
  if (v.length > start) textAfterDot(digit, v.slice(start));
  for (let i = stack.length - 1; i >= 0; i--) mavenNormalize(stack[i]);
  return root;
}

function mavenCmp(a: MItem | undefined, b: MItem | undefined): number {
  if (!a) return b ? -mavenCmp(b, undefined) : 0;
  if (a.t === 'int') {
    if (!b) return a.v === 0n ? 0 : 1;
    return b.t === 'int' ? bigCmp(a.v, b.v) : 1;
  }
  if (a.t === 'str') {
    const qa = mavenQualifier(a.v);
    if (!b) return qa < MAVEN_RELEASE ? -1 : qa > MAVEN_RELEASE ? 1 : 0;
    if (b.t !== 'str') return -1;
    const qb = mavenQualifier(b.v);
    return qa < qb ? -1 : qa > qb ? 1 : 0;
  }
  if (!b) return a.v.length ? mavenCmp(a.v[0], undefined) : 0;
  if (b.t === 'int') return -1;
  if (b.t === 'str') return 1;
  for (let i = 0; i < Math.max(a.v.length, b.v.length); i++) {
    const d = mavenCmp(a.v[i], b.v[i]);
    if (d) return d;
  }
  return 0;
}

export function compareMaven(a: string, b: string): number {
  return sign(mavenCmp({ t: 'list', v: mavenParse(a) }, { t: 'list', v: mavenParse(b) }));
}

/** The comparator for an OSV ecosystem (a `Debian:12`-style suffix is ignored). */
export function comparatorFor(ecosystem: Ecosystem | string): (a: string, b: string) => number {
  switch (ecosystem.split(':')[0]) {
    case 'Debian':
    case 'Ubuntu':
      return compareDpkg;
    case 'Alpine':
      return compareApk;
    case 'Red Hat':
    case 'Rocky Linux':
    case 'AlmaLinux':
    case 'openSUSE':
    case 'SUSE':
    case 'Mageia':
    case 'openEuler':
    case 'Azure Linux':
      return compareRpm;
    case 'npm':
    case 'crates.io':
    case 'Go':
      return compareSemver;
    case 'PyPI':
      return comparePep440;
    case 'Maven':
      return compareMaven;
    default:
      throw new Error(`no version order for ecosystem ${ecosystem}`);
  }
}

export function compareVersions(ecosystem: Ecosystem | string, a: string, b: string): number {
  return sign(comparatorFor(ecosystem)(a, b));
}
