// A project's trusted keys (Berth's extension, issue #16): project admins register cosign public keys and
// notation certificates; the content trust check then requires a signature that verifies against one of them.
// Keys are checked here (a PEM that does not parse, or a private key, is a 400) and stored normalised, so the
// verifiers never see anything but one public key or one certificate per row.
import { createHash, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ApiErrors } from '../../errors.ts';
import type { TrustedKeyKind, TrustedKeyRepository, TrustedKeyRow } from '../../repositories/trusted-key-repository.ts';
import { isoTime } from '../../time.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { TrustedKey } from './verifier.ts';

const MAX_PEM = 64 * 1024;
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$/;

/** The one public key of a cosign PEM: its normalised SPKI PEM and the SHA-256 of its DER. */
export function parseCosignKey(pem: string): { pem: string; fingerprint: string; key: KeyObject } {
  // createPublicKey would derive the public half of a private key: refuse those, a secret is never stored.
  if (/PRIVATE KEY/.test(pem)) throw ApiErrors.badRequest('the PEM holds a private key: register the public key (cosign.pub)');
  if (!/-----BEGIN PUBLIC KEY-----/.test(pem)) throw ApiErrors.badRequest('a cosign key must be a PEM "PUBLIC KEY" block (cosign.pub)');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw ApiErrors.badRequest('the PEM is not a valid public key');
  }
  const type = key.asymmetricKeyType;
  if (type === 'rsa') {
    if ((key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw ApiErrors.badRequest('RSA keys must have at least 2048 bits');
  } else if (type === 'ec') {
    if (!['prime256v1', 'secp384r1', 'secp521r1'].includes(key.asymmetricKeyDetails?.namedCurve ?? '')) throw ApiErrors.badRequest('ECDSA keys must be on P-256, P-384 or P-521');
  } else if (type !== 'ed25519') throw ApiErrors.badRequest(`unsupported key type ${String(type)}: use ECDSA, RSA or Ed25519`);
  const der = key.export({ type: 'spki', format: 'der' });
  return { pem: key.export({ type: 'spki', format: 'pem' }).toString(), fingerprint: createHash('sha256').update(der).digest('hex'), key };
}

/** One PEM certificate (a notation trust store entry): its normalised PEM and SHA-256 fingerprint. */
export function parseNotationCertificate(pem: string): { pem: string; fingerprint: string } {
  if (/PRIVATE KEY/.test(pem)) throw ApiErrors.badRequest('the PEM holds a private key: register the certificate');
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length !== 1) throw ApiErrors.badRequest('a notation key must be exactly one PEM "CERTIFICATE" block');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(blocks[0]);
  } catch {
    throw ApiErrors.badRequest('the PEM is not a valid certificate');
  }
  return { pem: cert.toString(), fingerprint: cert.fingerprint256.replaceAll(':', '').toLowerCase() };
}

export function trustedKeyView(k: TrustedKeyRow) {
  return { id: k.id, project_id: k.projectId, name: k.name, kind: k.kind, pem: k.pem, fingerprint: `sha256:${k.fingerprint}`, creator: k.creator, creation_time: isoTime(k.createdAt) };
}

export class TrustedKeyService {
  private readonly keys: TrustedKeyRepository;
  private readonly audit: AuditSink;
  private readonly onChange: (projectId: number) => void;
  constructor(deps: { keys: TrustedKeyRepository; audit: AuditSink; /** Told after every change (drops cached verifications). */ onChange?: (projectId: number) => void }) {
    this.keys = deps.keys;
    this.audit = deps.audit;
    this.onChange = deps.onChange ?? (() => {});
  }

  async list(projectId: number): Promise<TrustedKeyRow[]> {
    return this.keys.listKeys(projectId);
  }

  /** The project's keys of one kind, as the verifiers take them. */
  async trusted(projectId: number): Promise<TrustedKey[]> {
    return (await this.keys.listKeys(projectId)).map((k) => ({ id: k.id, kind: k.kind, pem: k.pem }));
  }

  async create(actor: string, project: { id: number; name: string }, input: Record<string, unknown>): Promise<number> {
    const { name, kind, pem } = input;
    if (typeof name !== 'string' || !NAME_RE.test(name)) throw ApiErrors.badRequest('name must be 1-128 letters, digits, spaces, ".", "_" or "-", starting with a letter or digit');
    if (kind !== 'cosign' && kind !== 'notation') throw ApiErrors.badRequest('kind must be "cosign" or "notation"');
    if (typeof pem !== 'string' || pem.length === 0) throw ApiErrors.badRequest('pem is required');
    if (pem.length > MAX_PEM) throw ApiErrors.badRequest('pem is too large');
    const parsed = kind === 'cosign' ? parseCosignKey(pem) : parseNotationCertificate(pem);
    const id = await this.keys.saveNewKey({ projectId: project.id, name, kind: kind as TrustedKeyKind, pem: parsed.pem, fingerprint: parsed.fingerprint, creator: actor });
    if (id === null) throw ApiErrors.conflict(`the project already has a trusted key named ${name} or with this fingerprint`);
    this.onChange(project.id);
    await this.audit.record({ username: actor, operation: 'create', resourceType: 'trusted_key', resource: `${project.name}:${name}`, projectId: project.id, detail: `${kind} sha256:${parsed.fingerprint}` });
    return id;
  }

  async get(projectId: number, id: number): Promise<TrustedKeyRow> {
    const k = await this.keys.findKey(projectId, id);
    if (!k) throw ApiErrors.notFound(`trusted key ${id} not found`);
    return k;
  }

  async remove(actor: string, project: { id: number; name: string }, id: number): Promise<void> {
    const k = await this.keys.findKey(project.id, id);
    if (!k || !(await this.keys.removeKey(project.id, id))) throw ApiErrors.notFound(`trusted key ${id} not found`);
    this.onChange(project.id);
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'trusted_key', resource: `${project.name}:${k.name}`, projectId: project.id, detail: `${k.kind} sha256:${k.fingerprint}` });
  }
}
