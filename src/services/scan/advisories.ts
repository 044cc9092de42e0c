// The built-in scanner's advisory side: OSV records (https://ossf.github.io/osv-schema/) read from a file, a
// directory or a zip as OSV publishes them (`<ecosystem>/all.zip`), matched against an image's inventory, and
// turned into Harbor's vulnerability report. Pure functions: the store is advisory-repository.ts, the
// import/re-match flow advisory-service.ts.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

import type { Inventory, InventoryPackage } from './inventory.ts';
import { zipEntries, zipRead } from './parsers.ts';
import { compareSemver, comparatorFor } from './versions.ts';

export class AdvisoryFormatError extends Error {}

export interface OsvEvent {
  introduced?: string;
  fixed?: string;
  last_affected?: string;
  limit?: string;
}
export interface OsvRange {
  type: 'ECOSYSTEM' | 'SEMVER' | 'GIT' | (string & {});
  events: OsvEvent[];
}
export interface OsvAffected {
  package?: { ecosystem: string; name: string; purl?: string };
  ranges?: OsvRange[];
  versions?: string[];
  ecosystem_specific?: Record<string, unknown>;
  database_specific?: Record<string, unknown>;
  severity?: OsvSeverity[];
}
export interface OsvSeverity {
  type: string;
  score: string;
}
export interface Advisory {
  id: string;
  modified: string;
  withdrawn?: string;
  aliases?: string[];
  upstream?: string[];
  summary?: string;
  details?: string;
  severity?: OsvSeverity[];
  affected?: OsvAffected[];
  references?: { type?: string; url: string }[];
  database_specific?: Record<string, unknown>;
}

/** Harbor's severities, lowest first (src/pkg/scan/vuln/severity.go; Negligible is not produced here). */
export const SEVERITIES = ['None', 'Unknown', 'Low', 'Medium', 'High', 'Critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
const rank = (s: Severity): number => SEVERITIES.indexOf(s);

// ---- reading -----------------------------------------------------------------------------------------------------

const MAX_RECORD_BYTES = 16 * 1024 * 1024;

/** Validates one OSV record's shape (only what matching relies on). */
export function parseAdvisory(text: string | Buffer, where = 'record'): Advisory {
  let v: unknown;
  try {
    v = JSON.parse(text.toString());
  } catch {
    throw new AdvisoryFormatError(`${where}: not JSON`);
  }
  const a = v as Advisory;
  if (!a || typeof a !== 'object' || typeof a.id !== 'string' || !a.id) throw new AdvisoryFormatError(`${where}: no id`);
  if (typeof a.modified !== 'string') throw new AdvisoryFormatError(`${where}: ${a.id} has no modified time`);
  if (a.affected !== undefined && !Array.isArray(a.affected)) throw new AdvisoryFormatError(`${where}: ${a.id} affected is not a list`);
  for (const af of a.affected ?? []) {
    if (af.ranges !== undefined && !Array.isArray(af.ranges)) throw new AdvisoryFormatError(`${where}: ${a.id} ranges is not a list`);
    for (const r of af.ranges ?? []) if (!Array.isArray(r.events)) throw new AdvisoryFormatError(`${where}: ${a.id} range without events`);
    if (af.versions !== undefined && !Array.isArray(af.versions)) throw new AdvisoryFormatError(`${where}: ${a.id} versions is not a list`);
  }
  return a;
}

function* fromJsonBytes(b: Buffer, where: string): Generator<Advisory> {
  // A file may hold one record or (as some mirrors do) a list of them.
  const t = b.toString('utf8').trimStart();
  if (t.startsWith('[')) {
    let list: unknown;
    try {
      list = JSON.parse(t);
    } catch {
      throw new AdvisoryFormatError(`${where}: not JSON`);
    }
    for (const [i, r] of (list as unknown[]).entries()) yield parseAdvisory(JSON.stringify(r), `${where}[${i}]`);
  } else yield parseAdvisory(t, where);
}

/** Records of an OSV zip (`all.zip`): every `.json` entry. */
export function* advisoriesFromZip(z: Buffer, where = 'zip'): Generator<Advisory> {
  let entries;
  try {
    entries = zipEntries(z);
  } catch (e) {
    throw new AdvisoryFormatError(`${where}: ${(e as Error).message}`);
  }
  for (const e of entries) {
    if (!e.name.endsWith('.json') || e.size > MAX_RECORD_BYTES) continue;
    let b: Buffer;
    try {
      b = zipRead(z, e, MAX_RECORD_BYTES);
    } catch (err) {
      throw new AdvisoryFormatError(`${where}/${e.name}: ${(err as Error).message}`);
    }
    yield* fromJsonBytes(b, `${where}/${e.name}`);
  }
}

const isZip = (b: Buffer): boolean => b.length >= 4 && b.readUInt32LE(0) === 0x04034b50;

/** Records from bytes already fetched (a URL's body): a zip or JSON. */
export function* advisoriesFromBytes(b: Buffer, where: string): Generator<Advisory> {
  if (isZip(b)) yield* advisoriesFromZip(b, where);
  else yield* fromJsonBytes(b, where);
}

/** Records from a path: a `.json` file, a zip, or a directory of those (recursively, in name order). */
export function* advisoriesFromPath(path: string): Generator<Advisory> {
  const st = statSync(path);
  if (st.isDirectory()) {
    for (const name of readdirSync(path).sort()) {
      const p = join(path, name);
      const s = statSync(p);
      if (s.isDirectory() || name.endsWith('.json') || name.endsWith('.zip')) yield* advisoriesFromPath(p);
    }
    return;
  }
  yield* advisoriesFromBytes(readFileSync(path), path);
}

// ---- severity ----------------------------------------------------------------------------------------------------

const roundUp = (x: number): number => {
  // CVSS 3.1's Roundup: avoids floating-point artefacts (4.000000001 -> 4.0, not 4.1)
  const i = Math.round(x * 100000);
  return i % 10000 === 0 ? i / 100000 : (Math.floor(i / 10000) + 1) / 10;
};

/** CVSS 3.x base score of a vector (`CVSS:3.1/AV:N/...`); null if it is not one. */
export function cvss3Score(vector: string): number | null {
  const m = new Map<string, string>();
  const parts = vector.split('/');
  if (!/^CVSS:3\.[01]$/.test(parts[0] ?? '')) return null;
  for (const p of parts.slice(1)) {
    const [k, v] = p.split(':');
    if (k && v) m.set(k, v);
  }
  const S = m.get('S');
  const W: Record<string, Record<string, number>> = {
    AV: { N: 0.85, A: 0.62, L: 0.55, P: 0.2 },
    AC: { L: 0.77, H: 0.44 },
    PR: S === 'C' ? { N: 0.85, L: 0.68, H: 0.5 } : { N: 0.85, L: 0.62, H: 0.27 },
    UI: { N: 0.85, R: 0.62 },
    C: { H: 0.56, L: 0.22, N: 0 },
    I: { H: 0.56, L: 0.22, N: 0 },
    A: { H: 0.56, L: 0.22, N: 0 },
  };
  const w: Record<string, number> = {};
  for (const k of Object.keys(W)) {
    const x = W[k][m.get(k) ?? ''];
    if (x === undefined) return null;
    w[k] = x;
  }
  if (S !== 'U' && S !== 'C') return null;
  const iss = 1 - (1 - w.C) * (1 - w.I) * (1 - w.A);
  const impact = S === 'U' ? 6.42 * iss : 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15;
  const expl = 8.22 * w.AV * w.AC * w.PR * w.UI;
  if (impact <= 0) return 0;
  return S === 'U' ? roundUp(Math.min(impact + expl, 10)) : roundUp(Math.min(1.08 * (impact + expl), 10));
}

/** Harbor's severity for a CVSS score (NVD's bands). */
export function severityOfScore(score: number): Severity {
  if (score >= 9) return 'Critical';
  if (score >= 7) return 'High';
  if (score >= 4) return 'Medium';
  if (score > 0) return 'Low';
  return 'None';
}

/** A database's own word (GHSA's MODERATE, Ubuntu's medium/negligible, Debian's unimportant). */
function severityOfWord(w: unknown): Severity | null {
  if (typeof w !== 'string') return null;
  switch (w.trim().toLowerCase()) {
    case 'critical':
      return 'Critical';
    case 'high':
    case 'important':
      return 'High';
    case 'moderate':
    case 'medium':
      return 'Medium';
    case 'low':
    case 'negligible':
    case 'unimportant':
      return 'Low';
    default:
      return null;
  }
}

export interface Cvss {
  score_v3: number | null;
  vector_v3: string;
  score_v2: number | null;
  vector_v2: string;
  vector_v4?: string;
}

function cvssOf(sev: OsvSeverity[] | undefined): Cvss {
  const c: Cvss = { score_v3: null, vector_v3: '', score_v2: null, vector_v2: '' };
  for (const s of sev ?? []) {
    if (s.type === 'CVSS_V3' && !c.vector_v3) {
      c.vector_v3 = s.score;
      c.score_v3 = cvss3Score(s.score);
    } else if (s.type === 'CVSS_V2' && !c.vector_v2) c.vector_v2 = s.score;
    else if (s.type === 'CVSS_V4' && !c.vector_v4) c.vector_v4 = s.score;
  }
  return c;
}

/**
 * Severity as Harbor/Trivy report it: the database's own rating first (GHSA's database_specific.severity,
 * Ubuntu's severity entry), then the CVSS v3 score, else Unknown (a CVSS v4 vector alone is not scored here).
 */
export function severityOf(a: Advisory, af?: OsvAffected): { severity: Severity; cvss: Cvss } {
  const sev = [...(af?.severity ?? []), ...(a.severity ?? [])];
  const cvss = cvssOf(sev);
  const word =
    severityOfWord(af?.ecosystem_specific?.severity) ??
    severityOfWord(af?.database_specific?.severity) ??
    severityOfWord(a.database_specific?.severity) ??
    severityOfWord(sev.find((s) => !s.type.startsWith('CVSS'))?.score);
  if (word) return { severity: word, cvss };
  if (cvss.score_v3 !== null) return { severity: severityOfScore(cvss.score_v3), cvss };
  return { severity: 'Unknown', cvss };
}

// ---- matching ----------------------------------------------------------------------------------------------------

/** The ecosystem an OS-bound advisory names for this image's release (`Debian:12`, `Alpine:v3.20`, `Ubuntu:22.04`). */
export function releaseEcosystem(base: string, os: Inventory['os']): string | null {
  if (!os?.versionId) return null;
  const v = os.versionId;
  if (base === 'Alpine') {
    const mm = /^(\d+)\.(\d+)/.exec(v);
    return mm ? `Alpine:v${mm[1]}.${mm[2]}` : null;
  }
  if (base === 'Ubuntu') return `Ubuntu:${v}`;
  return `${base}:${v.split('.')[0]}`;
}

/** Does an advisory's ecosystem apply to a package of `base` on this OS? A bare ecosystem applies to every release. */
export function ecosystemApplies(advisoryEcosystem: string, base: string, os: Inventory['os']): boolean {
  if (advisoryEcosystem === base) return true;
  if (!advisoryEcosystem.startsWith(base + ':')) return false;
  const want = releaseEcosystem(base, os);
  if (!want) return false;
  // Ubuntu adds qualifiers after the release (`Ubuntu:22.04:LTS`, `Ubuntu:Pro:18.04:LTS` is Pro-only: not matched).
  return advisoryEcosystem === want || advisoryEcosystem.startsWith(want + ':');
}

/** The name advisories are filed under: Debian/Ubuntu track source packages, Alpine its origin (aports). */
export function advisoryName(p: Pick<InventoryPackage, 'ecosystem' | 'name' | 'sourceName'>): string {
  return (p.ecosystem === 'Debian' || p.ecosystem === 'Ubuntu' || p.ecosystem === 'Alpine') && p.sourceName ? p.sourceName : p.name;
}

/**
 * Whether `version` falls in one OSV range, evaluated as the schema's pseudo-code does: events in version order,
 * `introduced` opens, `fixed` closes at that version, `last_affected` closes after it, `limit` caps everything.
 * Returns the fix (the `fixed` closing the interval it is in, '' if none) or null when not affected.
 */
export function inRange(range: OsvRange, version: string, cmp: (a: string, b: string) => number): { fixed: string } | null {
  type Ev = { kind: 'introduced' | 'fixed' | 'last_affected' | 'limit'; v: string };
  const evs: Ev[] = [];
  for (const e of range.events) {
    for (const kind of ['introduced', 'fixed', 'last_affected', 'limit'] as const) {
      const v = e[kind];
      if (typeof v === 'string') evs.push({ kind, v });
    }
  }
  // "0" sorts before every version; ties keep the schema's order (fixed/last_affected after introduced).
  const c = (a: string, b: string): number => (a === b ? 0 : a === '0' ? -1 : b === '0' ? 1 : cmp(a, b));
  for (const l of evs.filter((e) => e.kind === 'limit')) if (l.v !== '*' && c(version, l.v) >= 0) return null;
  const order = evs.filter((e) => e.kind !== 'limit').sort((a, b) => c(a.v, b.v));
  let affected = false;
  let at = -1;
  for (const [i, e] of order.entries()) {
    if (e.kind === 'introduced' && c(version, e.v) >= 0) {
      affected = true;
      at = i;
    } else if (e.kind === 'fixed' && c(version, e.v) >= 0) affected = false;
    else if (e.kind === 'last_affected' && c(version, e.v) > 0) affected = false;
  }
  if (!affected) return null;
  const fix = order.slice(at + 1).find((e) => e.kind === 'fixed');
  return { fixed: fix?.v ?? '' };
}

/** Whether one `affected` entry covers the version; the fix version ('' when none is known). */
export function affects(af: OsvAffected, ecosystem: string, version: string): { fixed: string } | null {
  let cmp: ((a: string, b: string) => number) | null = null;
  try {
    cmp = comparatorFor(ecosystem);
  } catch {
    cmp = null; // an ecosystem without a known order: only the explicit versions list can match
  }
  let hit: { fixed: string } | null = null;
  for (const r of af.ranges ?? []) {
    const order = r.type === 'SEMVER' ? (a: string, b: string) => compareSemver(a.replace(/^v/, ''), b.replace(/^v/, '')) : r.type === 'ECOSYSTEM' ? cmp : null;
    if (!order) continue; // GIT ranges name commits, which an image does not carry
    let got: { fixed: string } | null;
    try {
      got = inRange(r, r.type === 'SEMVER' ? version.replace(/^v/, '') : version, order);
    } catch {
      got = null;
    }
    // Of several matching ranges, report a fix when any has one.
    if (got && (!hit || (!hit.fixed && got.fixed))) hit = got;
  }
  if (hit) return hit;
  if ((af.versions ?? []).includes(version)) return { fixed: '' };
  return null;
}

export interface Finding {
  /** The CVE when the advisory has one (as Harbor/Trivy report), else the OSV id. */
  id: string;
  osv_id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: Severity;
  description: string;
  links: string[];
  cvss: Cvss;
  cwe_ids: string[];
  ecosystem: string;
  path: string;
}

/** The CVE an advisory is about: its id, an alias, an upstream id, or one embedded in its id (DEBIAN-CVE-…). */
export function preferredId(a: Advisory): string {
  const cve = /^CVE-\d{4}-\d+$/;
  if (cve.test(a.id)) return a.id;
  const alias = [...(a.aliases ?? []), ...(a.upstream ?? [])].find((x) => cve.test(x));
  if (alias) return alias;
  const inner = /CVE-\d{4}-\d+/.exec(a.id);
  return inner ? inner[0] : a.id;
}

/**
 * Findings of an inventory against advisories (already narrowed to its packages or not: anything not applying is
 * skipped). Withdrawn advisories never match. One finding per (id, ecosystem, package, version).
 */
export function match(inv: Pick<Inventory, 'os' | 'packages'>, advisories: Iterable<Advisory>): Finding[] {
  const byKey = new Map<string, InventoryPackage[]>();
  for (const p of inv.packages) {
    const k = `${p.ecosystem}\0${advisoryName(p)}`;
    const l = byKey.get(k);
    if (l) l.push(p);
    else byKey.set(k, [p]);
  }
  const out = new Map<string, Finding>();
  for (const a of advisories) {
    if (a.withdrawn) continue;
    for (const af of a.affected ?? []) {
      if (!af.package) continue;
      const base = af.package.ecosystem.split(':')[0];
      const pkgs = byKey.get(`${base}\0${af.package.name}`);
      if (!pkgs || !ecosystemApplies(af.package.ecosystem, base, inv.os)) continue;
      for (const p of pkgs) {
        // Debian's advisories give source-package versions; the binary's own version is what dpkg installed
        // (they differ only for binNMUs and the like, where the source version is the right one to compare).
        const v = advisoryName(p) === p.sourceName && p.sourceVersion ? p.sourceVersion : p.version;
        const hit = affects(af, base, v);
        if (!hit) continue;
        const id = preferredId(a);
        // One per (id, package, version), as Harbor's report lists them: the same package found by a lockfile and
        // its package.json is one finding (the first path found is kept).
        const key = `${id}\0${p.ecosystem}\0${p.name}\0${p.version}`;
        const { severity, cvss } = severityOf(a, af);
        const prev = out.get(key);
        // The same CVE from two databases (a GHSA and the OSV mirror of it): the higher severity wins, then a known fix.
        if (prev && (rank(prev.severity) > rank(severity) || (rank(prev.severity) === rank(severity) && (prev.fix_version || !hit.fixed)))) continue;
        const cwe = a.database_specific?.cwe_ids;
        out.set(key, {
          id,
          osv_id: a.id,
          package: p.name,
          version: p.version,
          fix_version: hit.fixed,
          severity,
          description: a.details || a.summary || '',
          links: (a.references ?? []).map((r) => r.url).filter((u) => typeof u === 'string').slice(0, 20),
          cvss,
          cwe_ids: Array.isArray(cwe) ? cwe.filter((x): x is string => typeof x === 'string') : [],
          ecosystem: af.package.ecosystem,
          path: p.path,
        });
      }
    }
  }
  return [...out.values()].sort((x, y) => rank(y.severity) - rank(x.severity) || x.id.localeCompare(y.id) || x.package.localeCompare(y.package));
}

// ---- Harbor's report ---------------------------------------------------------------------------------------------

export const REPORT_MIME = 'application/vnd.security.vulnerability.report; version=1.1';

export interface Scanner {
  name: string;
  vendor: string;
  version: string;
}

export const BUILTIN_SCANNER: Scanner = { name: 'Berth', vendor: 'Berth', version: '1.0' };

export interface VulnerabilityItem {
  id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: Severity;
  description: string;
  links: string[];
  preferred_cvss: { score_v3: number | null; score_v2: number | null; vector_v3: string; vector_v2: string };
  cwe_ids: string[];
  vendor_attributes: Record<string, unknown>;
}

export interface VulnerabilityReport {
  generated_at: string;
  scanner: Scanner;
  severity: Severity;
  vulnerabilities: VulnerabilityItem[];
}

/** Harbor's report (src/pkg/scan/vuln/report.go): the overall severity is the highest finding's, None when clean. */
export function toReport(findings: Finding[], scanner: Scanner = BUILTIN_SCANNER, now: Date = new Date()): VulnerabilityReport {
  let top: Severity = 'None';
  for (const f of findings) if (rank(f.severity) > rank(top)) top = f.severity;
  return {
    generated_at: now.toISOString(),
    scanner,
    severity: top,
    vulnerabilities: findings.map((f) => ({
      id: f.id,
      package: f.package,
      version: f.version,
      fix_version: f.fix_version,
      severity: f.severity,
      description: f.description,
      links: f.links,
      preferred_cvss: { score_v3: f.cvss.score_v3, score_v2: f.cvss.score_v2, vector_v3: f.cvss.vector_v3, vector_v2: f.cvss.vector_v2 },
      cwe_ids: f.cwe_ids,
      // Trivy's shape, so clients reading CVSS from vendor_attributes find it.
      vendor_attributes: {
        ...(f.cvss.vector_v3 ? { CVSS: { osv: { V3Vector: f.cvss.vector_v3, V3Score: f.cvss.score_v3 } } } : {}),
        osv_id: f.osv_id,
        ecosystem: f.ecosystem,
        path: f.path,
      },
    })),
  };
}

export interface VulnerabilitySummary {
  total: number;
  fixable: number;
  summary: Partial<Record<Severity, number>>;
}

/** The overview's summary (Harbor's VulnerabilitySummary): counts by severity, only severities that occur. */
export function toSummary(report: Pick<VulnerabilityReport, 'vulnerabilities'>): VulnerabilitySummary {
  const summary: Partial<Record<Severity, number>> = {};
  let fixable = 0;
  for (const v of report.vulnerabilities) {
    summary[v.severity] = (summary[v.severity] ?? 0) + 1;
    if (v.fix_version) fixable++;
  }
  return { total: report.vulnerabilities.length, fixable, summary };
}
