// Replication endpoints (Harbor's controller/registry + pkg/reg): validation and Harbor's messages, the outbound
// guard on every URL (at save, at ping, and — through the adapters' DistributionClient — at every request), the
// health check Harbor runs before saving, and the credential's secret sealed by SecretBox. The secret is opened
// only to build an adapter; it is never returned (the API shows "*****"), logged, audited or put in an error.
import { X509Certificate } from 'node:crypto';
import { ApiErrors } from '../../errors.ts';
import { OutboundRefusedError, type OutboundGuard } from '../../drivers/http/outbound-guard.ts';
import type { AdapterPattern, AdapterRegistry, RegistryAdapter, RegistryInfo } from '../../drivers/registry/adapter.ts';
import type { RegistryField, RegistryRow, RegistryRepository } from '../../repositories/registry-repository.ts';
import type { ListQuery } from '../../repositories/list-query.ts';
import type { AuditSink } from '../audit/audit.ts';
import { SECRET_MASK, type SecretBox } from '../security/secret-box.ts';

export { SECRET_MASK };

export const CREDENTIAL_TYPES = ['basic', 'oauth', 'secret'] as const;

/** An endpoint as services and the API see it: the secret is only known to be set or not. */
export interface RegistryView extends Omit<RegistryRow, 'accessSecret'> {
  hasSecret: boolean;
}

/** Harbor's RegistryInfo after the controller's `process`: resource types folded into a `resource` radio filter. */
export interface ProcessedInfo {
  type: string;
  description: string;
  supported_resource_filters: { type: string; style: string; values?: string[] }[];
  supported_triggers: string[];
  supported_copy_by_chunk?: boolean;
}

/** Tells why an endpoint may not be deleted (e.g. a replication policy uses it), or null. */
export type ReferenceCheck = (registryId: number) => Promise<string | null>;

interface Fields {
  name?: unknown;
  description?: unknown;
  type?: unknown;
  url?: unknown;
  insecure?: unknown;
  ca_certificate?: unknown;
  credential_type?: unknown;
  access_key?: unknown;
  access_secret?: unknown;
}

const text = (v: unknown, name: string, max: number): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw ApiErrors.badRequest(`${name} must be a string`);
  if (v.length > max) throw ApiErrors.badRequest(`${name} is too long`);
  if (v.includes('\0')) throw ApiErrors.badRequest(`${name} must not contain NUL`);
  return v;
};

/** Harbor's lib.ValidateHTTPURL: trims, defaults to http://, keeps scheme://host/path (no query, no user info). */
export function normalizeUrl(raw: string): string {
  let s = raw.trim().replace(/\/+$/, '');
  if (!s) throw ApiErrors.badRequest('empty string');
  if (!s.includes('://')) s = `http://${s}`;
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    throw ApiErrors.badRequest(`invalid URL: ${JSON.stringify(s.slice(0, 200))}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw ApiErrors.badRequest(`invalid HTTP scheme: ${u.protocol.replace(/:$/, '').slice(0, 20)}`);
  if (u.username || u.password) throw ApiErrors.badRequest('credentials in the URL are not allowed; use the credential');
  return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname.replace(/\/+$/, '')}`;
}

function checkCa(pem: string): void {
  if (!pem.trim()) return;
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g);
  if (!blocks) throw ApiErrors.badRequest('invalid CA certificate: no PEM certificate found');
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch {
      throw ApiErrors.badRequest('invalid CA certificate: cannot parse the PEM block');
    }
  }
}

export class RegistryService {
  private readonly repo: RegistryRepository;
  private readonly guard: OutboundGuard;
  private readonly box: SecretBox;
  private readonly adapters: AdapterRegistry;
  private readonly audit: AuditSink;
  private readonly timeoutMs: number;
  private readonly references: ReferenceCheck[] = [];

  constructor(deps: { repo: RegistryRepository; guard: OutboundGuard; box: SecretBox; adapters: AdapterRegistry; audit: AuditSink; timeoutMs?: number }) {
    this.repo = deps.repo;
    this.guard = deps.guard;
    this.box = deps.box;
    this.adapters = deps.adapters;
    this.audit = deps.audit;
    this.timeoutMs = deps.timeoutMs ?? 30_000;
  }

  /** Replication policies (issue 14, part 2) register here so an endpoint they use cannot be deleted (412). */
  onDeleteCheck(check: ReferenceCheck): void {
    this.references.push(check);
  }

  private view(r: RegistryRow): RegistryView {
    const { accessSecret, ...rest } = r;
    return { ...rest, hasSecret: accessSecret !== '' };
  }

  async list(q: ListQuery<RegistryField>): Promise<{ total: number; items: RegistryView[] }> {
    const [total, rows] = await Promise.all([this.repo.countRegistries(q), this.repo.listRegistries(q)]);
    return { total, items: rows.map((r) => this.view(r)) };
  }

  private async require(id: number): Promise<RegistryRow> {
    const r = await this.repo.findRegistry(id);
    if (!r) throw ApiErrors.notFound(`registry ${id} not found`);
    return r;
  }

  async get(id: number): Promise<RegistryView> {
    return this.view(await this.require(id));
  }

  /** An adapter for a stored endpoint (the replication engine's entry point); the caller closes it. */
  async adapterFor(id: number): Promise<RegistryAdapter> {
    return this.adapterOf(await this.require(id));
  }

  private adapterOf(r: Pick<RegistryRow, 'type' | 'url' | 'credentialType' | 'accessKey' | 'accessSecret' | 'insecure' | 'caCertificate'>, plainSecret?: string): RegistryAdapter {
    if (!this.adapters.has(r.type)) throw ApiErrors.badRequest(`adapter factory for ${r.type.slice(0, 64)} not found`);
    const secret = plainSecret ?? (r.accessSecret ? this.box.open(r.accessSecret) : '');
    return this.adapters.create(
      r.type,
      {
        url: r.url,
        credential: r.credentialType || r.accessKey || secret ? { type: r.credentialType || 'basic', accessKey: r.accessKey, accessSecret: secret } : null,
        insecure: r.insecure,
        caCertificate: r.caCertificate,
      },
      { guard: this.guard, timeoutMs: this.timeoutMs },
    );
  }

  /** The guard's verdict on the URL as a 400 with the reason (loopback, private, metadata, …). */
  private async guardUrl(url: string): Promise<void> {
    try {
      await this.guard.checkUrl(url);
    } catch (e) {
      if (e instanceof OutboundRefusedError)
        throw ApiErrors.badRequest(`registry URL refused: ${e.message} (an operator can allow internal registries with security.outbound_allowlist)`);
      throw e;
    }
  }

  private async healthy(r: Parameters<RegistryService['adapterOf']>[0], plainSecret?: string): Promise<boolean> {
    await this.guardUrl(r.url);
    const a = this.adapterOf(r, plainSecret);
    try {
      return (await a.health()) === 'healthy';
    } finally {
      a.close();
    }
  }

  private parseCredentialType(v: unknown): string | undefined {
    const t = text(v, 'credential type', 16);
    if (t !== undefined && t !== '' && !(CREDENTIAL_TYPES as readonly string[]).includes(t)) throw ApiErrors.badRequest(`unsupported credential type ${t}`);
    return t;
  }

  async create(actor: string, body: Record<string, unknown>): Promise<number> {
    const name = (text(body.name, 'name', 1024) ?? '').trim();
    if (!name) throw ApiErrors.badRequest('name cannot be empty');
    if (name.length > 64) throw ApiErrors.badRequest('the max length of name is 64');
    const type = text(body.type, 'type', 64) ?? '';
    if (!this.adapters.has(type)) throw ApiErrors.badRequest(`adapter factory for ${type.slice(0, 64)} not found`);
    const url = normalizeUrl(text(body.url, 'url', 2048) ?? '');
    if (body.insecure !== undefined && body.insecure !== null && typeof body.insecure !== 'boolean') throw ApiErrors.badRequest('insecure must be a boolean');
    const ca = text(body.ca_certificate, 'ca_certificate', 64 * 1024) ?? '';
    checkCa(ca);
    const cred = body.credential;
    if (cred !== undefined && cred !== null && (typeof cred !== 'object' || Array.isArray(cred))) throw ApiErrors.badRequest('credential must be an object');
    const c = (cred ?? {}) as Record<string, unknown>;
    const secret = text(c.access_secret, 'access_secret', 4096) ?? '';
    const row = {
      name,
      type,
      url,
      description: text(body.description, 'description', 1024) ?? '',
      credentialType: this.parseCredentialType(c.type) ?? '',
      accessKey: text(c.access_key, 'access_key', 1024) ?? '',
      accessSecret: '',
      insecure: body.insecure === true,
      caCertificate: ca,
      status: 'healthy',
    };
    if (!(await this.healthy(row, secret))) throw ApiErrors.badRequest('the registry is unhealthy');
    const id = await this.repo.saveNewRegistry({ ...row, accessSecret: secret ? this.box.seal(secret) : '' });
    if (id === null) throw ApiErrors.conflict(`registry ${name} already exists`);
    await this.audit.record({ username: actor, operation: 'create', resourceType: 'registry', resource: name });
    return id;
  }

  /** Harbor's RegistryUpdate: every field optional; a new URL without a new secret drops the stored secret. */
  async update(actor: string, id: number, body: Fields): Promise<void> {
    const cur = await this.require(id);
    const next: RegistryRow = { ...cur };
    const name = text(body.name, 'name', 1024);
    if (name !== undefined) {
      next.name = name.trim();
      if (!next.name) throw ApiErrors.badRequest('name cannot be empty');
      if (next.name.length > 64) throw ApiErrors.badRequest('the max length of name is 64');
    }
    const description = text(body.description, 'description', 1024);
    if (description !== undefined) next.description = description;
    const url = text(body.url, 'url', 2048);
    if (url !== undefined) next.url = normalizeUrl(url);
    if (body.insecure !== undefined && body.insecure !== null) {
      if (typeof body.insecure !== 'boolean') throw ApiErrors.badRequest('insecure must be a boolean');
      next.insecure = body.insecure;
    }
    const ca = text(body.ca_certificate, 'ca_certificate', 64 * 1024);
    if (ca !== undefined) {
      checkCa(ca);
      next.caCertificate = ca;
    }
    const ct = this.parseCredentialType(body.credential_type);
    if (ct !== undefined) next.credentialType = ct;
    const key = text(body.access_key, 'access_key', 1024);
    if (key !== undefined) next.accessKey = key;
    const secret = text(body.access_secret, 'access_secret', 4096);
    let plain: string | undefined;
    // The mask a GET shows, sent back unchanged, means "keep it" (a client's GET → PUT round trip).
    if (secret !== undefined && secret !== SECRET_MASK) plain = secret;
    // The stored secret must not follow the endpoint to another server (Harbor: credential exfiltration).
    else if (next.url !== cur.url) plain = '';
    if (!(await this.healthy(next, plain))) throw ApiErrors.badRequest('the registry is unhealthy');
    next.status = 'healthy';
    if (plain !== undefined) next.accessSecret = plain ? this.box.seal(plain) : '';
    if (!(await this.repo.saveRegistry(next))) throw ApiErrors.conflict(`registry ${next.name} already exists`);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'registry', resource: next.name });
  }

  async remove(actor: string, id: number): Promise<void> {
    const cur = await this.require(id);
    for (const check of this.references) {
      const why = await check(id);
      if (why) throw ApiErrors.precondition(why);
    }
    if (!(await this.repo.removeRegistry(id))) throw ApiErrors.notFound(`registry ${id} not found`);
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'registry', resource: cur.name });
  }

  /**
   * Harbor's pingRegistry: an id pings the stored endpoint (its URL, TLS settings and CA are authoritative, so
   * stored credentials cannot be sent elsewhere); type and credential fields override; otherwise the body is the
   * endpoint. Unhealthy → 400 "the registry is unhealthy".
   */
  async ping(body: Fields & { id?: unknown }): Promise<void> {
    let r: Parameters<RegistryService['adapterOf']>[0] = { type: '', url: '', credentialType: '', accessKey: '', accessSecret: '', insecure: false, caCertificate: '' };
    let plain: string | undefined;
    const byId = body.id !== undefined && body.id !== null;
    if (byId) {
      if (typeof body.id !== 'number' || !Number.isInteger(body.id) || body.id < 1) throw ApiErrors.badRequest('invalid id');
      r = await this.require(body.id);
    }
    const type = text(body.type, 'type', 64);
    if (type !== undefined) r = { ...r, type };
    const url = text(body.url, 'url', 2048);
    if (url !== undefined && !byId) r = { ...r, url: normalizeUrl(url) };
    if (!byId && body.insecure !== undefined && body.insecure !== null) {
      if (typeof body.insecure !== 'boolean') throw ApiErrors.badRequest('insecure must be a boolean');
      r = { ...r, insecure: body.insecure };
    }
    const ca = text(body.ca_certificate, 'ca_certificate', 64 * 1024);
    if (ca !== undefined && !byId) {
      checkCa(ca);
      r = { ...r, caCertificate: ca };
    }
    const ct = this.parseCredentialType(body.credential_type);
    if (ct !== undefined) r = { ...r, credentialType: ct };
    const key = text(body.access_key, 'access_key', 1024);
    if (key !== undefined) r = { ...r, accessKey: key };
    const secret = text(body.access_secret, 'access_secret', 4096);
    if (secret !== undefined && secret !== SECRET_MASK) plain = secret;
    if (!r.type || !r.url) throw ApiErrors.badRequest('type or url cannot be empty');
    if (!(await this.healthy(r, plain))) throw ApiErrors.badRequest('the registry is unhealthy');
  }

  /** Harbor's GetInfo + process(): the adapter's info with resource types as a `resource` radio filter. */
  async info(id: number): Promise<ProcessedInfo> {
    const r = await this.require(id);
    await this.guardUrl(r.url);
    const a = this.adapterOf(r);
    let info: RegistryInfo;
    try {
      info = await a.info();
    } catch (e) {
      throw ApiErrors.badRequest(`cannot read the registry's info: ${(e as Error).message.slice(0, 300)}`);
    } finally {
      a.close();
    }
    return {
      type: info.type,
      description: info.description,
      supported_resource_filters: [
        ...info.supportedResourceFilters.filter((f) => f.type !== 'resource'),
        { type: 'resource', style: 'radio', values: info.supportedResourceTypes },
      ],
      supported_triggers: info.supportedTriggers,
      ...(info.supportedCopyByChunk ? { supported_copy_by_chunk: true } : {}),
    };
  }

  /** Re-checks every endpoint's health and stores changes (Harbor's regular health check; the engine schedules it). */
  async checkHealth(): Promise<void> {
    const rows = await this.repo.listRegistries({ where: {}, sort: [], limit: 100_000, offset: 0 });
    for (const r of rows) {
      let status: string;
      try {
        status = (await this.healthy(r)) ? 'healthy' : 'unhealthy';
      } catch {
        status = 'unhealthy';
      }
      if (status !== r.status) await this.repo.saveRegistryStatus(r.id, status);
    }
  }

  types(): string[] {
    return this.adapters.types();
  }

  patterns(): Record<string, AdapterPattern> {
    return this.adapters.patterns();
  }
}
