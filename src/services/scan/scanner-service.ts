// Scanner registrations (Harbor's `scanner` tag, controller/scanner): the built-in Berth scanner, a registration
// that always exists and cannot be changed or deleted (as Harbor's bundled Trivy), and external Pluggable Scanner
// API adapters (url + auth + credential). An adapter's credential is sealed at rest and never shown; pings and
// metadata reads go through the outbound guard. Which registration scans a project: its own choice, else the
// default one.
import { randomUUID } from 'node:crypto';
import type { Condition } from '../../repositories/list-query.ts';
import { ApiErrors } from '../../errors.ts';
import { sendOutbound } from '../../drivers/http/outbound-client.ts';
import { OutboundRefusedError, type OutboundGuard } from '../../drivers/http/outbound-guard.ts';
import type { ScannerRepository, ScannerRow } from '../../repositories/scanner-repository.ts';
import { SECRET_MASK, type SecretBox } from '../security/secret-box.ts';
import { BUILTIN_SCANNER, REPORT_MIME } from './advisories.ts';

/** The built-in registration's name and URL (it is served in-process; the URL only identifies it). */
export const BUILTIN_NAME = 'Berth';
export const BUILTIN_URL = 'builtin://berth-scanner';

/** Harbor's Pluggable Scanner API auth types (pkg/scan/rest/auth). */
export const SCANNER_AUTH_TYPES = ['Basic', 'Bearer', 'X-ScannerAdapter-API-Key'] as const;

/** Manifest types the built-in scanner consumes (Harbor's Trivy capability list: OCI and Docker v2 images). */
export const CONSUMED_MIME_TYPES = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json'];

const METADATA_MIME = 'application/vnd.scanner.adapter.metadata+json; version=1.0';

export interface ScannerCapability {
  type: string;
  consumes_mime_types: string[];
  produces_mime_types: string[];
}
export interface ScannerMetadata {
  scanner: { name: string; vendor: string; version: string };
  capabilities: ScannerCapability[];
  properties: Record<string, string>;
}

export interface ScannerView extends ScannerRow {
  /** From the adapter's metadata when it answered. */
  adapter?: string;
  vendor?: string;
  version?: string;
  health?: string;
  capabilities?: Record<string, unknown>;
}

export interface ScannerServiceOptions {
  repo: ScannerRepository;
  box: SecretBox;
  guard: OutboundGuard;
  /** Epoch ms of the latest advisory import (the built-in scanner's database time), null before the first. */
  advisoriesUpdatedAt: () => Promise<number | null>;
  timeoutMs?: number;
}

const str = (v: unknown, what: string, max: number): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw ApiErrors.badRequest(`${what} must be a string`);
  if (v.length > max) throw ApiErrors.badRequest(`${what} is longer than ${max} characters`);
  return v;
};
const flag = (v: unknown, what: string): boolean | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw ApiErrors.badRequest(`${what} must be a boolean`);
  return v;
};

/** Harbor's lib.ValidateHTTPURL: http(s) only, no trailing slash. */
function httpUrl(raw: string): string {
  let s = raw.trim();
  if (!s) throw ApiErrors.badRequest('scanner registration validate: empty url');
  if (!s.includes('://')) s = `http://${s}`;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw ApiErrors.badRequest(`scanner registration validate: invalid url ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw ApiErrors.badRequest(`scanner registration validate: invalid HTTP scheme: ${u.protocol.replace(/:$/, '').slice(0, 20)}`);
  if (u.username || u.password) throw ApiErrors.badRequest('scanner registration validate: credentials in the URL are not allowed; use access_credential');
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** Harbor's Registration.Validate: name, URL, auth type, credential required with an auth type. */
function validate(r: Pick<ScannerRow, 'name' | 'url' | 'auth'>, credential: string): void {
  if (!r.name) throw ApiErrors.badRequest('missing registration name');
  if (r.auth && !(SCANNER_AUTH_TYPES as readonly string[]).includes(r.auth)) throw ApiErrors.badRequest(`auth type ${r.auth.slice(0, 32)} is not supported`);
  if (r.auth && !credential) throw ApiErrors.badRequest(`access_credential is required for auth type ${r.auth}`);
}

/** The request headers an adapter's auth type asks for (Harbor's pkg/scan/rest/auth authorizers). */
export function adapterAuthHeaders(auth: string, credential: string): Record<string, string> {
  if (!auth) return {};
  if (auth === 'Basic') return { authorization: `Basic ${Buffer.from(credential).toString('base64')}` };
  if (auth === 'Bearer') return { authorization: `Bearer ${credential}` };
  return { 'x-scanneradapter-api-key': credential };
}

function like(cond: Condition | undefined, v: string): boolean {
  if (!cond) return true;
  if (cond.op === 'like') return v.toLowerCase().includes(cond.value.toLowerCase());
  if (cond.op === 'eq') return v === String(cond.value);
  if (cond.op === 'in') return cond.values.map(String).includes(v);
  return true;
}

export class ScannerService {
  private readonly o: ScannerServiceOptions;
  constructor(o: ScannerServiceOptions) {
    this.o = o;
  }

  /** Creates the built-in registration once per deployment (first start); default unless another one is. */
  async ensureBuiltin(): Promise<void> {
    if (await this.o.repo.findBuiltinScanner()) return;
    const now = Date.now();
    const isDefault = !(await this.o.repo.findDefaultScanner());
    await this.o.repo.saveScannerIfAbsent({
      uuid: randomUUID(),
      name: BUILTIN_NAME,
      description: "Berth's built-in offline scanner: package inventory of the image's layers matched against the imported OSV advisories.",
      url: BUILTIN_URL,
      auth: '',
      accessCredential: '',
      skipCertVerify: false,
      useInternalAddr: true,
      disabled: false,
      isDefault,
      immutable: true,
      createdAt: now,
      updatedAt: now,
    });
  }

  private async require(uuid: string): Promise<ScannerRow> {
    const r = uuid.length <= 128 ? await this.o.repo.findScanner(uuid) : null;
    if (!r) throw ApiErrors.notFound(`scanner ${uuid.slice(0, 128)} not found`);
    return r;
  }

  async list(f: { where: Partial<Record<'name' | 'description' | 'url', Condition>>; sort: { field: string; desc: boolean }[]; limit: number; offset: number }): Promise<{ total: number; items: ScannerView[] }> {
    let rows = (await this.o.repo.listScanners()).filter((r) => like(f.where.name, r.name) && like(f.where.description, r.description) && like(f.where.url, r.url));
    for (const s of [...f.sort].reverse()) {
      const key = (r: ScannerRow) => (s.field === 'name' ? r.name : s.field === 'update_time' ? r.updatedAt : r.createdAt);
      rows = rows.sort((a, b) => {
        const x = key(a);
        const y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (s.desc ? -1 : 1);
      });
    }
    const page = rows.slice(f.offset, f.offset + f.limit);
    return { total: rows.length, items: await Promise.all(page.map((r) => this.view(r, false))) };
  }

  /** A registration with what its metadata says (for external adapters only when `probe`: a network call). */
  private async view(r: ScannerRow, probe: boolean, withCapabilities = false): Promise<ScannerView> {
    // `capabilities` only on GET /scanners/{id}: Harbor's swagger types it as a map of `Object`, which clients
    // generated from it (harbor-api-client) cannot deserialize, so lists and the project's scanner leave it out.
    const caps = (m: ScannerMetadata) => (withCapabilities ? { capabilities: capabilitiesOf(m) } : {});
    if (r.immutable) {
      const m = await this.builtinMetadata();
      return { ...r, adapter: m.scanner.name, vendor: m.scanner.vendor, version: m.scanner.version, health: 'healthy', ...caps(m) };
    }
    if (!probe) return r;
    try {
      const m = await this.fetchMetadata(r, this.open(r));
      return { ...r, adapter: m.scanner.name, vendor: m.scanner.vendor, version: m.scanner.version, health: 'healthy', ...caps(m) };
    } catch {
      return { ...r, health: 'unhealthy' };
    }
  }

  async get(uuid: string): Promise<ScannerView> {
    return this.view(await this.require(uuid), true, true);
  }

  /** The registration as stored (the scan flow's entry point); 404 when unknown. */
  find(uuid: string): Promise<ScannerRow> {
    return this.require(uuid);
  }

  private open(r: ScannerRow): string {
    return r.accessCredential ? this.o.box.open(r.accessCredential) : '';
  }

  async create(body: Record<string, unknown>): Promise<string> {
    const name = (str(body.name, 'name', 128) ?? '').trim();
    const url = str(body.url, 'url', 512) ?? '';
    const auth = str(body.auth, 'auth', 32) ?? '';
    const credential = str(body.access_credential, 'access_credential', 4096) ?? '';
    validate({ name, url, auth }, credential);
    const row: ScannerRow = {
      uuid: randomUUID(),
      name,
      description: str(body.description, 'description', 1024) ?? '',
      url: httpUrl(url),
      auth,
      accessCredential: credential ? this.o.box.seal(credential) : '',
      skipCertVerify: flag(body.skip_certVerify, 'skip_certVerify') ?? false,
      useInternalAddr: flag(body.use_internal_addr, 'use_internal_addr') ?? false,
      disabled: flag(body.disabled, 'disabled') ?? false,
      isDefault: false,
      immutable: false,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    };
    await this.checkUnique(row);
    await this.guardUrl(row.url);
    if (!(await this.o.repo.saveScannerIfAbsent(row))) throw ApiErrors.conflict(`scanner registration ${name} already exists`);
    return row.uuid;
  }

  private async checkUnique(r: ScannerRow): Promise<void> {
    for (const o of await this.o.repo.listScanners()) {
      if (o.uuid === r.uuid) continue;
      if (o.name === r.name) throw ApiErrors.conflict(`scanner registration with name ${r.name} already exists`);
      if (o.url === r.url) throw ApiErrors.conflict(`scanner registration with url ${r.url} already exists`);
    }
  }

  async update(uuid: string, body: Record<string, unknown>): Promise<void> {
    const r = await this.require(uuid);
    if (r.immutable) throw ApiErrors.forbidden(`registration ${r.name} is not allowed to update as it is immutable: scanner API: update`);
    // Harbor's PUT replaces the registration; an empty credential with an auth type that needs one keeps the stored one.
    const name = (str(body.name, 'name', 128) ?? '').trim();
    const url = str(body.url, 'url', 512) ?? '';
    const auth = str(body.auth, 'auth', 32) ?? '';
    const given = str(body.access_credential, 'access_credential', 4096) ?? '';
    const keep = (!given || given === SECRET_MASK) && !!auth;
    const credential = keep ? this.open(r) : given;
    validate({ name, url, auth }, credential);
    const next: ScannerRow = {
      ...r,
      name,
      url: httpUrl(url),
      description: str(body.description, 'description', 1024) ?? '',
      auth,
      accessCredential: keep ? r.accessCredential : credential ? this.o.box.seal(credential) : '',
      skipCertVerify: flag(body.skip_certVerify, 'skip_certVerify') ?? false,
      useInternalAddr: flag(body.use_internal_addr, 'use_internal_addr') ?? false,
      disabled: flag(body.disabled, 'disabled') ?? false,
      updatedAt: Date.now(),
    };
    await this.checkUnique(next);
    await this.guardUrl(next.url);
    await this.o.repo.saveScanner(next);
  }

  /** Deletes an external registration; the built-in one is refused (403, as Harbor for its immutable Trivy). */
  async remove(uuid: string): Promise<ScannerView> {
    const r = await this.require(uuid);
    if (r.immutable) throw ApiErrors.forbidden(`registration ${r.name} is not allowed to delete as it is immutable: scanner API: delete`);
    await this.o.repo.removeScanner(uuid);
    // The built-in scanner takes over as the default when the default one goes.
    if (r.isDefault) {
      const b = await this.o.repo.findBuiltinScanner();
      if (b) await this.o.repo.saveDefaultScanner(b.uuid);
    }
    return r;
  }

  async setDefault(uuid: string): Promise<void> {
    await this.require(uuid);
    await this.o.repo.saveDefaultScanner(uuid);
  }

  /** Pings settings that are not stored (Harbor's ScannerRegistrationSettings): a metadata read. */
  async ping(body: Record<string, unknown>): Promise<void> {
    const name = (str(body.name, 'name', 128) ?? '').trim();
    const url = str(body.url, 'url', 512) ?? '';
    const auth = str(body.auth, 'auth', 32) ?? '';
    const credential = str(body.access_credential, 'access_credential', 4096) ?? '';
    validate({ name, url, auth }, credential);
    const u = httpUrl(url);
    await this.guardUrl(u);
    try {
      await this.fetchMetadata({ url: u, auth, skipCertVerify: false }, credential);
    } catch (e) {
      throw ApiErrors.badRequest(`failed to ping the scanner ${name}: ${(e as Error).message}`);
    }
  }

  async metadata(uuid: string): Promise<ScannerMetadata> {
    const r = await this.require(uuid);
    if (r.immutable) return this.builtinMetadata();
    try {
      return await this.fetchMetadata(r, this.open(r));
    } catch (e) {
      throw ApiErrors.badRequest(`failed to get the metadata of scanner ${r.name}: ${(e as Error).message}`);
    }
  }

  /** The scanner a project's scans use: its own choice (if that still exists), else the default one. */
  async ofProject(projectId: number): Promise<ScannerRow | null> {
    const chosen = await this.o.repo.findProjectScanner(projectId);
    if (chosen) {
      const r = await this.o.repo.findScanner(chosen);
      if (r) return r;
    }
    return (await this.o.repo.findDefaultScanner()) ?? (await this.o.repo.findBuiltinScanner());
  }
  async viewOfProject(projectId: number): Promise<ScannerView | null> {
    const r = await this.ofProject(projectId);
    return r ? this.view(r, true) : null;
  }
  async setOfProject(projectId: number, uuid: string): Promise<void> {
    await this.require(uuid);
    await this.o.repo.saveProjectScanner(projectId, uuid);
  }

  async builtinMetadata(): Promise<ScannerMetadata> {
    const at = await this.o.advisoriesUpdatedAt();
    return {
      scanner: { ...BUILTIN_SCANNER },
      capabilities: [{ type: 'vulnerability', consumes_mime_types: [...CONSUMED_MIME_TYPES], produces_mime_types: [REPORT_MIME] }],
      properties: {
        'harbor.scanner-adapter/scanner-type': 'os-package-vulnerability',
        'harbor.scanner-adapter/vulnerability-database-updated-at': at ? new Date(at).toISOString() : '',
        'harbor.scanner-adapter/registry-authorization-type': 'Bearer',
      },
    };
  }

  private async guardUrl(url: string): Promise<void> {
    try {
      await this.o.guard.checkUrl(url);
    } catch (e) {
      if (e instanceof OutboundRefusedError)
        throw ApiErrors.badRequest(`scanner URL refused: ${e.message} (an operator can allow internal scanners with security.outbound_allowlist)`);
      throw e;
    }
  }

  /** GET <url>/api/v1/metadata of a Pluggable Scanner API adapter, through the guard. */
  private async fetchMetadata(r: Pick<ScannerRow, 'url' | 'auth' | 'skipCertVerify'>, credential: string): Promise<ScannerMetadata> {
    await this.o.guard.checkUrl(r.url);
    const res = await sendOutbound(this.o.guard, {
      method: 'GET',
      url: `${r.url}/api/v1/metadata`,
      headers: { accept: METADATA_MIME, ...adapterAuthHeaders(r.auth, credential) },
      timeoutMs: this.o.timeoutMs ?? 10_000,
      insecure: r.skipCertVerify,
      maxBodyBytes: 1024 * 1024,
    });
    if (res.status !== 200) throw new Error(`the adapter answered ${res.status}`);
    let m: ScannerMetadata;
    try {
      m = JSON.parse(res.bytes!.toString('utf8')) as ScannerMetadata;
    } catch {
      throw new Error('the adapter answered something that is not JSON');
    }
    if (!m || typeof m !== 'object' || !m.scanner || typeof m.scanner.name !== 'string') throw new Error('the adapter metadata has no scanner');
    return {
      scanner: { name: String(m.scanner.name), vendor: String(m.scanner.vendor ?? ''), version: String(m.scanner.version ?? '') },
      capabilities: Array.isArray(m.capabilities)
        ? m.capabilities.map((c) => ({
            type: typeof c.type === 'string' && c.type ? c.type : 'vulnerability',
            consumes_mime_types: Array.isArray(c.consumes_mime_types) ? c.consumes_mime_types.map(String) : [],
            produces_mime_types: Array.isArray(c.produces_mime_types) ? c.produces_mime_types.map(String) : [],
          }))
        : [],
      properties: m.properties && typeof m.properties === 'object' ? Object.fromEntries(Object.entries(m.properties).map(([k, v]) => [k, String(v)])) : {},
    };
  }
}

/** Harbor's Registration.Capabilities as the API shows it: the scan types the adapter supports. */
function capabilitiesOf(m: ScannerMetadata): Record<string, unknown> {
  return { support_vulnerability: m.capabilities.some((c) => c.type === 'vulnerability'), support_sbom: m.capabilities.some((c) => c.type === 'sbom') };
}
