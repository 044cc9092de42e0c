// The Notary Project (notation) signature verifier (issue #16): verifies one `signature.notation` accessory — a
// signature manifest whose one layer is a JWS (application/jose+json) or COSE_Sign1 (application/cose) envelope —
// per the Notary Project specifications (signature-specification.md, signature-envelope-jws.md,
// signature-envelope-cose.md, trust-store-trust-policy.md), against the project's trusted `notation`
// certificates, which act as one `ca` trust store under a trust policy of level `strict` with trusted identities `*`.
//
// The steps follow the spec's order: integrity (parse the envelope, the signing algorithm is the leaf key's, the
// signature verifies, the payload names the subject), then authenticity (the chain is a valid code-signing chain
// ending in a root and contains a trusted certificate), then expiry and the authentic timestamp (every certificate
// valid now and at the signing time). Not done, so refused or said here rather than silently passed:
// - the `notary.x509.signingAuthority` scheme needs a `signingAuthority` trust store, which Berth does not have:
//   refused, as notation refuses it with a `ca` store;
// - signatures that name a verification plugin (a critical header): refused, Berth runs no plugins;
// - RFC 3161 timestamp countersignatures are not read (as with a policy without a `tsa` store: the chain must be
//   valid now), and revocation (OCSP/CRL) is not checked (as the trust policy override `revocation: skip`).
import { X509Certificate, constants, createHash, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { CborError, CborTagged, decodeCbor, encodeCbor, type CborMap, type CborValue } from './cbor.ts';
import type { SignatureEvidence, SignatureVerifier, SignatureVerifierFactory, TrustedKey, VerifyResult } from './verifier.ts';

export const NOTATION_ARTIFACT_TYPE = 'application/vnd.cncf.notary.signature';
export const JWS_MEDIA_TYPE = 'application/jose+json';
export const COSE_MEDIA_TYPE = 'application/cose';
const OCI_IMAGE_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const PAYLOAD_CONTENT_TYPE = 'application/vnd.cncf.notary.payload.v1+json';
const SCHEME_X509 = 'notary.x509';
const SCHEME_SIGNING_AUTHORITY = 'notary.x509.signingAuthority';
// Envelopes are a few KiB (a payload descriptor and a certificate chain); anything much larger is not one.
const MAX_ENVELOPE_BYTES = 1024 * 1024;

const H_SCHEME = 'io.cncf.notary.signingScheme';
const H_SIGNING_TIME = 'io.cncf.notary.signingTime';
const H_AUTHENTIC_TIME = 'io.cncf.notary.authenticSigningTime';
const H_EXPIRY = 'io.cncf.notary.expiry';
const H_PLUGIN = 'io.cncf.notary.verificationPlugin';
const H_PLUGIN_MIN = 'io.cncf.notary.verificationPluginMinVersion';
/** The extended headers the spec defines, each critical when present. */
const CRITICAL_WHEN_PRESENT = [H_SCHEME, H_AUTHENTIC_TIME, H_EXPIRY, H_PLUGIN, H_PLUGIN_MIN];

type Algorithm = 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';
const HASH: Record<Algorithm, string> = { PS256: 'sha256', PS384: 'sha384', PS512: 'sha512', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };
const COSE_ALG: Record<number, Algorithm> = { [-37]: 'PS256', [-38]: 'PS384', [-39]: 'PS512', [-7]: 'ES256', [-35]: 'ES384', [-36]: 'ES512' };

/** A signature envelope reduced to what verification needs, whatever its format. */
interface Envelope {
  readonly alg: Algorithm;
  readonly scheme: string;
  readonly signingTime: Date | null;
  readonly authenticSigningTime: Date | null;
  readonly expiry: Date | null;
  readonly plugin: string | null;
  readonly certs: Buffer[];
  readonly payload: Buffer;
  /** The exact bytes the signature is over (JWS signing input or the encoded COSE Sig_structure). */
  readonly toBeSigned: Buffer;
  readonly signature: Buffer;
}

/** A reason to refuse the signature, with the message the caller shows. */
class Refusal extends Error {}
const refuse = (reason: string): never => {
  throw new Refusal(reason);
};

export const notationVerifierFactory: SignatureVerifierFactory = () => new NotationVerifier();

export class NotationVerifier implements SignatureVerifier {
  readonly accessoryType = 'signature.notation';
  /** The clock, replaceable so tests can check expiry and validity periods. */
  private readonly now: () => Date;
  constructor(opts: { now?: () => Date } = {}) {
    this.now = opts.now ?? (() => new Date());
  }

  async verify(evidence: SignatureEvidence, keys: readonly TrustedKey[]): Promise<VerifyResult> {
    try {
      return { ok: true, keyId: await this.check(evidence, keys) };
    } catch (e) {
      if (e instanceof Refusal) return { ok: false, reason: e.message };
      throw e;
    }
  }

  private async check(evidence: SignatureEvidence, keys: readonly TrustedKey[]): Promise<number> {
    const { layer, subject } = readSignatureManifest(evidence);
    if (layer.size > MAX_ENVELOPE_BYTES) refuse(`the signature envelope is ${layer.size} bytes, more than a Notary Project signature can be`);
    const blob = await evidence.readBlob(layer.digest);
    if (blob.length > MAX_ENVELOPE_BYTES) refuse(`the signature envelope is ${blob.length} bytes, more than a Notary Project signature can be`);
    const env = layer.mediaType === JWS_MEDIA_TYPE ? parseJws(blob) : parseCose(blob);

    // Integrity: the signing algorithm is the leaf key's (no algorithm substitution), the signature verifies,
    // and only then is the payload read.
    if (env.certs.length === 0) refuse('the signature has no certificate chain');
    const chain = env.certs.map((der, i) => parseCertificate(der, i));
    const leafAlg = algorithmOf(chain[0].cert.publicKey);
    if (leafAlg !== env.alg) refuse(`the signature's algorithm ${env.alg} is not the signing certificate's (${leafAlg})`);
    if (!verifyRaw(env.alg, chain[0].cert.publicKey, env.toBeSigned, env.signature)) refuse('signature does not verify');
    checkPayload(env.payload, evidence.subjectDigest, subject);

    // Authenticity: a valid code-signing chain to a root, with a certificate the project trusts in it.
    if (env.plugin !== null) refuse(`the signature requires the verification plugin ${JSON.stringify(env.plugin)}, and Berth runs no plugins`);
    if (env.scheme === SCHEME_SIGNING_AUTHORITY)
      refuse(`signing scheme ${SCHEME_SIGNING_AUTHORITY} needs a signingAuthority trust store; Berth's trusted certificates are a ca trust store`);
    if (env.scheme !== SCHEME_X509) refuse(`unsupported signing scheme ${JSON.stringify(env.scheme)}`);
    if (!env.signingTime) refuse(`the signature has no ${H_SIGNING_TIME}`);
    validateChain(chain);
    const keyId = trustedKeyFor(chain, keys);
    if (keyId === null) refuse('certificate chain does not lead to a trusted certificate');

    // Expiry, then the authentic timestamp: without a timestamp countersignature every certificate must be valid now;
    // each must also have been valid at the (signer-asserted) signing time.
    const now = this.now();
    if (env.expiry && now.getTime() >= env.expiry.getTime()) refuse(`the signature expired at ${iso(env.expiry)}`);
    for (const c of chain) {
      const from = c.cert.validFromDate;
      const to = c.cert.validToDate;
      if (now < from || now > to) refuse(`certificate ${c.name} is not valid now (valid from ${iso(from)} to ${iso(to)}): expired or not yet valid`);
      const st = env.signingTime!;
      if (st < from || st > to) refuse(`certificate ${c.name} was not valid at the signing time ${iso(st)} (valid from ${iso(from)} to ${iso(to)})`);
    }
    return keyId!;
  }
}

const iso = (d: Date) => d.toISOString().replace(/\.000Z$/, 'Z');

// ---- the signature manifest -------------------------------------------------------------------------------------

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

function readSignatureManifest(ev: SignatureEvidence): { layer: Descriptor; subject: Descriptor | null } {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(ev.manifest.toString('utf8'));
  } catch {
    return refuse('the signature manifest is not JSON');
  }
  if (!isObject(m)) refuse('the signature manifest is not a JSON object');
  const config = isObject(m.config) ? m.config : {};
  // The artifactType form (OCI 1.1) or the older config.mediaType form; verifiers must read both (spec, "OCI Signatures").
  if (m.artifactType !== NOTATION_ARTIFACT_TYPE && config.mediaType !== NOTATION_ARTIFACT_TYPE) refuse('not a Notary Project signature manifest');
  // An OCI image manifest, nothing else (signature-specification.md, "OCI Signatures").
  if (ev.mediaType !== OCI_IMAGE_MANIFEST || (m.mediaType !== undefined && m.mediaType !== OCI_IMAGE_MANIFEST))
    refuse(`a Notary Project signature is an OCI image manifest, not ${JSON.stringify(ev.mediaType)}`);
  const layers = Array.isArray(m.layers) ? m.layers : [];
  if (layers.length !== 1) refuse(`a Notary Project signature manifest has exactly one layer, this one has ${layers.length}`);
  const layer = descriptor(layers[0]);
  if (!layer) return refuse('the signature manifest layer is not a valid descriptor');
  if (layer.mediaType !== JWS_MEDIA_TYPE && layer.mediaType !== COSE_MEDIA_TYPE) refuse(`unsupported signature envelope type ${JSON.stringify(layer.mediaType)}`);
  const subject = m.subject === undefined ? null : descriptor(m.subject);
  if (subject && subject.digest !== ev.subjectDigest) refuse(`signed for another artifact: the manifest's subject is ${subject.digest}`);
  return { layer, subject };
}

function descriptor(v: unknown): Descriptor | null {
  if (!isObject(v)) return null;
  const { mediaType, digest, size } = v;
  if (typeof mediaType !== 'string' || typeof digest !== 'string' || typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return null;
  return { mediaType, digest, size };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The payload must describe exactly the subject: its digest, and the media type and size the manifest's subject gives. */
function checkPayload(payload: Buffer, subjectDigest: string, subject: Descriptor | null): void {
  let p: unknown;
  try {
    p = JSON.parse(payload.toString('utf8'));
  } catch {
    return refuse('the signature payload is not JSON');
  }
  const target = isObject(p) ? descriptor(p.targetArtifact) : null;
  if (!target) return refuse('the signature payload has no valid targetArtifact descriptor');
  if (target.digest !== subjectDigest) refuse(`signed for another artifact: the signature names ${target.digest}, not ${subjectDigest}`);
  if (subject && target.mediaType !== subject.mediaType)
    refuse(`signed for another artifact: the signature names media type ${target.mediaType}, the subject is ${subject.mediaType}`);
  if (subject && target.size !== subject.size) refuse(`signed for another artifact: the signature names size ${target.size}, the subject has ${subject.size}`);
}

// ---- JWS (JSON flattened serialization) -------------------------------------------------------------------------

const B64URL = /^[A-Za-z0-9_-]*$/;
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const JWS_ALGS = new Set<string>(['PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']);
const JWS_REGISTERED = new Set(['alg', 'jku', 'jwk', 'kid', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'typ', 'cty', 'crit', 'b64', 'zip', 'enc']);

function b64url(s: unknown, what: string): Buffer {
  if (typeof s !== 'string' || !B64URL.test(s) || s.length % 4 === 1) return refuse(`the JWS ${what} is not base64url`);
  return Buffer.from(s, 'base64url');
}

function parseJws(blob: Buffer): Envelope {
  let j: unknown;
  try {
    j = JSON.parse(blob.toString('utf8'));
  } catch {
    return refuse('the JWS envelope is not JSON');
  }
  if (!isObject(j)) return refuse('the JWS envelope is not a JSON object');
  // Flattened JSON serialization, and nothing else at the top level (spec, "Signature Envelope").
  for (const k of Object.keys(j)) if (!['payload', 'protected', 'header', 'signature'].includes(k)) refuse(`the JWS envelope has an unsupported member ${JSON.stringify(k)}`);
  const payload = b64url(j.payload, 'payload');
  const signature = b64url(j.signature, 'signature');
  const protectedBytes = b64url(j.protected, 'protected header');
  let ph: unknown;
  try {
    ph = JSON.parse(protectedBytes.toString('utf8'));
  } catch {
    return refuse('the JWS protected header is not JSON');
  }
  if (!isObject(ph)) return refuse('the JWS protected header is not a JSON object');
  const uh = j.header === undefined ? {} : j.header;
  if (!isObject(uh)) return refuse('the JWS unprotected header is not a JSON object');
  for (const k of Object.keys(uh)) if (Object.hasOwn(ph, k)) refuse(`the JWS header ${JSON.stringify(k)} is both protected and unprotected`);

  if (typeof ph.alg !== 'string' || !JWS_ALGS.has(ph.alg)) refuse(`unsupported JWS algorithm ${JSON.stringify(ph.alg)}`);
  if (ph.cty !== PAYLOAD_CONTENT_TYPE) refuse(`unsupported payload content type ${JSON.stringify(ph.cty)}`);
  const crit = ph.crit;
  if (!Array.isArray(crit) || crit.length === 0 || !crit.every((c) => typeof c === 'string')) return refuse('the JWS crit header is missing or not a list of names');
  for (const c of crit as string[]) if (JWS_REGISTERED.has(c)) refuse(`the JWS crit header lists the registered header ${JSON.stringify(c)}`);
  checkCritical(crit as string[], (name) => Object.hasOwn(ph, name));

  const x5c = uh.x5c;
  if (!Array.isArray(x5c)) return refuse('the JWS header has no x5c certificate chain');
  const certs = x5c.map((c: unknown) => {
    if (typeof c !== 'string' || !B64.test(c)) return refuse('an x5c certificate is not base64');
    return Buffer.from(c, 'base64');
  });
  return {
    alg: ph.alg as Algorithm,
    scheme: stringHeader(ph[H_SCHEME], H_SCHEME),
    signingTime: ph[H_SIGNING_TIME] === undefined ? null : rfc3339(ph[H_SIGNING_TIME], H_SIGNING_TIME),
    authenticSigningTime: ph[H_AUTHENTIC_TIME] === undefined ? null : rfc3339(ph[H_AUTHENTIC_TIME], H_AUTHENTIC_TIME),
    expiry: ph[H_EXPIRY] === undefined ? null : rfc3339(ph[H_EXPIRY], H_EXPIRY),
    plugin: ph[H_PLUGIN] === undefined ? null : stringHeader(ph[H_PLUGIN], H_PLUGIN),
    certs,
    payload,
    toBeSigned: Buffer.from(`${j.protected as string}.${j.payload as string}`, 'ascii'),
    signature,
  };
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
function rfc3339(v: unknown, name: string): Date {
  const t = typeof v === 'string' && RFC3339.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) refuse(`the header ${name} is not an RFC 3339 time`);
  return new Date(t);
}

function stringHeader(v: unknown, name: string): string {
  if (typeof v !== 'string') return refuse(`the header ${name} is missing or not a string`);
  return v;
}

/**
 * The critical-header rules shared by both formats: the signing scheme is critical, every header the spec marks
 * critical is listed when present, every listed header is present, and none is unknown (an unknown critical header
 * must fail verification).
 */
function checkCritical(crit: readonly (string | number)[], present: (name: string) => boolean): void {
  if (new Set(crit).size !== crit.length) refuse('the crit header lists a header twice');
  for (const c of crit) {
    if (typeof c !== 'string' || !CRITICAL_WHEN_PRESENT.includes(c)) refuse(`unsupported critical header ${JSON.stringify(c)}`);
    if (!present(c as string)) refuse(`the critical header ${c} is missing`);
  }
  if (!crit.includes(H_SCHEME)) refuse(`the crit header does not list ${H_SCHEME}`);
  for (const h of CRITICAL_WHEN_PRESENT) if (present(h) && !crit.includes(h)) refuse(`the header ${h} is present but not marked critical`);
}

// ---- COSE_Sign1 -------------------------------------------------------------------------------------------------

const COSE_SIGN1_TAG = 18;
const COSE_ALG_LABEL = 1;
const COSE_CRIT_LABEL = 2;
const COSE_CTY_LABEL = 3;
const COSE_X5CHAIN_LABEL = 33;
const CBOR_EPOCH_TAG = 1;

function parseCose(blob: Buffer): Envelope {
  let v: CborValue;
  try {
    v = decodeCbor(blob);
  } catch (e) {
    if (e instanceof CborError) return refuse(`the COSE envelope is not valid CBOR: ${e.message}`);
    throw e;
  }
  if (!(v instanceof CborTagged) || v.tag !== COSE_SIGN1_TAG) return refuse('the COSE envelope is not a COSE_Sign1_Tagged object');
  const parts = v.value;
  if (!Array.isArray(parts) || parts.length !== 4) return refuse('the COSE_Sign1 object is not an array of four items');
  const [protectedBytes, unprotected, payload, signature] = parts;
  if (!Buffer.isBuffer(protectedBytes) || protectedBytes.length === 0) return refuse('the COSE protected header is missing');
  if (!(unprotected instanceof Map)) return refuse('the COSE unprotected header is not a map');
  if (!Buffer.isBuffer(payload)) return refuse('the COSE payload is missing (detached payloads are not supported)');
  if (!Buffer.isBuffer(signature)) return refuse('the COSE signature is not a byte string');
  let ph: CborValue;
  try {
    ph = decodeCbor(protectedBytes);
  } catch (e) {
    if (e instanceof CborError) return refuse(`the COSE protected header is not valid CBOR: ${e.message}`);
    throw e;
  }
  if (!(ph instanceof Map)) return refuse('the COSE protected header is not a map');
  for (const k of unprotected.keys()) if (ph.has(k)) refuse(`the COSE header ${JSON.stringify(k)} is both protected and unprotected`);

  const algLabel = ph.get(COSE_ALG_LABEL);
  const alg = typeof algLabel === 'number' ? COSE_ALG[algLabel] : undefined;
  if (!alg) return refuse(`unsupported COSE algorithm ${String(algLabel)}`);
  if (ph.get(COSE_CTY_LABEL) !== PAYLOAD_CONTENT_TYPE) refuse(`unsupported payload content type ${JSON.stringify(ph.get(COSE_CTY_LABEL))}`);
  const crit = ph.get(COSE_CRIT_LABEL);
  if (!Array.isArray(crit) || crit.length === 0 || !crit.every((c) => typeof c === 'string' || typeof c === 'number'))
    return refuse('the COSE crit header is missing or not a list of labels');
  checkCritical(crit as (string | number)[], (name) => ph.has(name));

  // x5chain: unprotected by default, protected allowed; one certificate may be a bare byte string (RFC 9360).
  const x5 = unprotected.get(COSE_X5CHAIN_LABEL) ?? ph.get(COSE_X5CHAIN_LABEL);
  const chain = Buffer.isBuffer(x5) ? [x5] : Array.isArray(x5) ? x5 : null;
  if (!chain || !chain.every((c) => Buffer.isBuffer(c))) return refuse('the COSE header has no x5chain certificate chain');

  const toBeSigned = encodeCbor(['Signature1', protectedBytes, Buffer.alloc(0), payload]);
  return {
    alg,
    scheme: stringHeader(ph.get(H_SCHEME), H_SCHEME),
    signingTime: ph.has(H_SIGNING_TIME) ? coseTime(ph, H_SIGNING_TIME) : null,
    authenticSigningTime: ph.has(H_AUTHENTIC_TIME) ? coseTime(ph, H_AUTHENTIC_TIME) : null,
    expiry: ph.has(H_EXPIRY) ? coseTime(ph, H_EXPIRY) : null,
    plugin: ph.has(H_PLUGIN) ? stringHeader(ph.get(H_PLUGIN), H_PLUGIN) : null,
    certs: chain as Buffer[],
    payload,
    toBeSigned,
    signature,
  };
}

/** An epoch-based date/time (tag 1 over an integer or a float, RFC 8949 §3.4.2). */
function coseTime(ph: CborMap, name: string): Date {
  const v = ph.get(name);
  const secs = v instanceof CborTagged && v.tag === CBOR_EPOCH_TAG ? v.value : undefined;
  const d = typeof secs === 'number' ? new Date(secs * 1000) : null;
  // out of Date's range is as malformed as not a number (an Invalid Date would compare false with everything)
  if (!d || Number.isNaN(d.getTime())) return refuse(`the header ${name} is not an epoch-based date/time`);
  return d;
}

// ---- certificates -----------------------------------------------------------------------------------------------

interface ChainCert {
  readonly cert: X509Certificate;
  readonly ext: Extensions;
  /** For messages: the subject's common name, else the whole subject. */
  readonly name: string;
}

function parseCertificate(der: Buffer, i: number): ChainCert {
  let cert: X509Certificate;
  let ext: Extensions;
  try {
    cert = new X509Certificate(der);
    ext = readExtensions(der);
  } catch {
    return refuse(`certificate ${i} of the signature's chain cannot be parsed`);
  }
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(cert.subject);
  return { cert, ext, name: JSON.stringify(cn ? cn[1] : cert.subject.replace(/\n/g, ', ')) };
}

/** The signing algorithm the spec assigns to a key (signature-specification.md, "Algorithm Selection"). */
function algorithmOf(key: KeyObject): Algorithm {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') {
    const bits = d.modulusLength;
    if (bits === 2048) return 'PS256';
    if (bits === 3072) return 'PS384';
    if (bits === 4096) return 'PS512';
    return refuse(`the signing certificate's RSA key of ${bits} bits is not one the Notary Project supports (2048, 3072 or 4096)`);
  }
  if (key.asymmetricKeyType === 'ec') {
    if (d.namedCurve === 'prime256v1') return 'ES256';
    if (d.namedCurve === 'secp384r1') return 'ES384';
    if (d.namedCurve === 'secp521r1') return 'ES512';
    return refuse(`the signing certificate's EC curve ${d.namedCurve} is not one the Notary Project supports`);
  }
  return refuse(`the signing certificate's ${key.asymmetricKeyType} key is not one the Notary Project supports`);
}

function verifyRaw(alg: Algorithm, key: KeyObject, data: Buffer, sig: Buffer): boolean {
  const hash = HASH[alg];
  try {
    if (alg.startsWith('PS')) {
      // RSASSA-PSS with the salt as long as the hash (RFC 7518 §3.5; COSE uses the same)
      return cryptoVerify(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: createHash(hash).digest().length }, sig);
    }
    // JWS and COSE both carry ECDSA signatures as r || s
    return cryptoVerify(hash, data, { key, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}

// Key usage bits (RFC 5280 §4.2.1.3), numbered from the most significant bit of the first byte.
const KU = { digitalSignature: 0, keyEncipherment: 2, dataEncipherment: 3, keyAgreement: 4, keyCertSign: 5, cRLSign: 6, encipherOnly: 7, decipherOnly: 8 };
const LEAF_FORBIDDEN_KU: (keyof typeof KU)[] = ['keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'];
const EKU_FORBIDDEN: Record<string, string> = {
  '2.5.29.37.0': 'anyExtendedKeyUsage',
  '1.3.6.1.5.5.7.3.1': 'serverAuth',
  '1.3.6.1.5.5.7.3.2': 'clientAuth',
  '1.3.6.1.5.5.7.3.4': 'emailProtection',
  '1.3.6.1.5.5.7.3.8': 'timeStamping',
  '1.3.6.1.5.5.7.3.9': 'OCSPSigning',
};
// SHA-1 (and older) certificate signatures are not allowed anywhere in the chain.
const WEAK_SIG_ALGS: Record<string, string> = {
  '1.2.840.113549.1.1.2': 'md2WithRSAEncryption',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1',
  '1.2.840.10040.4.3': 'dsa-with-sha1',
};

/**
 * The certificate requirements of signature-specification.md: ordered leaf → root, each issued and signed by the
 * next, ending in a self-signed root; CA certificates with critical basic constraints (cA, path length) and a
 * critical key usage with keyCertSign; the leaf a code-signing certificate; key sizes; no SHA-1.
 */
function validateChain(chain: readonly ChainCert[]): void {
  const bad = (c: ChainCert, why: string) => refuse(`the certificate chain in the signature is invalid: certificate ${c.name} ${why}`);
  for (const c of chain) {
    const weak = WEAK_SIG_ALGS[c.ext.signatureAlgorithm];
    if (weak) bad(c, `is signed with ${weak}`);
    const key = c.cert.publicKey;
    const d = key.asymmetricKeyDetails ?? {};
    if (key.asymmetricKeyType === 'rsa' && (d.modulusLength ?? 0) < 2048) bad(c, `has an RSA key of ${d.modulusLength} bits (at least 2048 needed)`);
    if (key.asymmetricKeyType === 'ec' && !['prime256v1', 'secp384r1', 'secp521r1'].includes(d.namedCurve ?? '')) bad(c, `has an EC key on ${d.namedCurve} (P-256 or larger needed)`);
  }
  for (let i = 0; i < chain.length; i++) {
    const c = chain[i];
    if (i === chain.length - 1) {
      if (!selfSigned(c)) bad(c, 'is not a self-signed root: the chain must end with its root certificate');
      continue;
    }
    if (selfSigned(c)) bad(c, 'is self-signed but not the last of the chain');
    // checkIssued compares the names (and the issuer's key identifiers and key usage); verify checks the signature
    const issuer = chain[i + 1].cert;
    if (!c.cert.checkIssued(issuer) || !c.cert.verify(issuer.publicKey)) bad(c, 'is not issued by the next certificate in the chain');
  }
  // A chain of one self-signed certificate follows the leaf rules only.
  validateLeaf(chain[0], bad);
  for (let i = 1; i < chain.length; i++) {
    const c = chain[i];
    const bc = c.ext.basicConstraints;
    if (!bc || !bc.critical || !bc.ca) bad(c, 'is a CA certificate without critical basic constraints with cA set');
    // pathLenConstraint counts the CA certificates below this one, above the leaf
    if (bc!.pathLen !== null && bc!.pathLen < i - 1) bad(c, `allows a path length of ${bc!.pathLen}, the chain below it has ${i - 1}`);
    const ku = c.ext.keyUsage;
    if (!ku || !ku.critical) bad(c, 'is a CA certificate without a critical key usage');
    if (!ku!.has(KU.keyCertSign)) bad(c, 'is a CA certificate whose key usage lacks keyCertSign');
  }
}

// Not checkIssued(itself): OpenSSL's issuer check also wants keyCertSign, which a self-signed signing certificate
// (the leaf rules apply to it) must not have.
function selfSigned(c: ChainCert): boolean {
  return c.ext.rawIssuer !== '' && c.ext.rawIssuer === c.ext.rawSubject && c.cert.verify(c.cert.publicKey);
}

function validateLeaf(c: ChainCert, bad: (c: ChainCert, why: string) => never): void {
  const bc = c.ext.basicConstraints;
  if (bc && bc.ca) bad(c, 'signs the artifact but is a CA certificate');
  const ku = c.ext.keyUsage;
  if (!ku || !ku.critical) bad(c, 'signs the artifact but has no critical key usage');
  if (!ku!.has(KU.digitalSignature)) bad(c, 'signs the artifact but its key usage lacks digitalSignature');
  for (const name of LEAF_FORBIDDEN_KU) if (ku!.has(KU[name])) bad(c, `signs the artifact but its key usage has ${name}`);
  for (const oid of c.ext.extKeyUsage ?? []) if (EKU_FORBIDDEN[oid]) bad(c, `signs the artifact but its extended key usage has ${EKU_FORBIDDEN[oid]}`);
}

/** The id of the first trusted key (a PEM certificate, or several) equal to a certificate of the chain, as notation matches. */
function trustedKeyFor(chain: readonly ChainCert[], keys: readonly TrustedKey[]): number | null {
  const inChain = new Set(chain.map((c) => c.cert.raw.toString('hex')));
  for (const k of keys) {
    if (k.kind !== 'notation') continue;
    for (const der of pemCertificates(k.pem)) if (inChain.has(der.toString('hex'))) return k.id;
  }
  return null;
}

function pemCertificates(pem: string): Buffer[] {
  const out: Buffer[] = [];
  for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g)) {
    try {
      // normalise through the parser, so what is compared is the certificate's DER whatever the PEM's line breaks
      out.push(new X509Certificate(Buffer.from(m[1].replace(/\s+/g, ''), 'base64')).raw);
    } catch {
      /* a malformed block trusts nothing */
    }
  }
  return out;
}

// ---- the certificate extensions the spec honours (basic constraints, key usage, extended key usage) ---------------
// Node's X509Certificate exposes neither the critical flags nor the key usage bits, so the certificate's DER is
// walked for them: Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }.

interface Extensions {
  readonly signatureAlgorithm: string;
  /** The DER of the issuer and subject names, compared byte for byte to tell a self-issued certificate. */
  readonly rawIssuer: string;
  readonly rawSubject: string;
  readonly basicConstraints: { critical: boolean; ca: boolean; pathLen: number | null } | null;
  readonly keyUsage: { critical: boolean; has(bit: number): boolean } | null;
  readonly extKeyUsage: string[] | null;
}

interface Tlv {
  readonly tag: number;
  readonly content: Buffer;
  readonly end: number;
}

function tlv(buf: Buffer, pos: number): Tlv {
  if (pos + 2 > buf.length) throw new Error('truncated DER');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) throw new Error('high-tag-number DER');
  let len = buf[pos + 1];
  let at = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || at + n > buf.length) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[at + i];
    at += n;
  }
  if (at + len > buf.length) throw new Error('truncated DER');
  return { tag, content: buf.subarray(at, at + len), end: at + len };
}

function children(buf: Buffer): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = 0; pos < buf.length; ) {
    const t = tlv(buf, pos);
    out.push(t);
    pos = t.end;
  }
  return out;
}

function oid(b: Buffer): string {
  const parts: number[] = [];
  let v = 0;
  for (const byte of b) {
    v = v * 128 + (byte & 0x7f);
    if (!(byte & 0x80)) {
      parts.push(v);
      v = 0;
    }
  }
  const first = parts.shift() ?? 0;
  const a = first < 80 ? Math.floor(first / 40) : 2;
  return [a, first - a * 40, ...parts].join('.');
}

const SEQUENCE = 0x30;
const OID = 0x06;
const BOOLEAN = 0x01;
const INTEGER = 0x02;
const BIT_STRING = 0x03;
const OCTET_STRING = 0x04;
const EXTENSIONS_TAG = 0xa3;

function readExtensions(der: Buffer): Extensions {
  const cert = tlv(der, 0);
  const [tbs, sigAlg] = children(cert.content);
  const sigAlgOid = children(sigAlg.content)[0];
  const fields = children(tbs.content);
  // TBSCertificate ::= SEQUENCE { [0] version OPTIONAL, serialNumber, signature, issuer, validity, subject, ... }
  const at = fields[0].tag === 0xa0 ? 1 : 0;
  const raw = (t: Tlv) => (t.tag === SEQUENCE ? t.content.toString('hex') : '');
  const ext: Omit<Extensions, 'basicConstraints' | 'keyUsage' | 'extKeyUsage'> & {
    basicConstraints: Extensions['basicConstraints'];
    keyUsage: Extensions['keyUsage'];
    extKeyUsage: string[] | null;
  } = {
    signatureAlgorithm: sigAlgOid.tag === OID ? oid(sigAlgOid.content) : '',
    rawIssuer: raw(fields[at + 2]),
    rawSubject: raw(fields[at + 4]),
    basicConstraints: null,
    keyUsage: null,
    extKeyUsage: null,
  };
  const exts = fields.find((t) => t.tag === EXTENSIONS_TAG);
  if (!exts) return ext;
  for (const e of children(tlv(exts.content, 0).content)) {
    const f = children(e.content);
    const id = oid(f[0].content);
    const critical = f[1].tag === BOOLEAN ? f[1].content[0] !== 0 : false;
    const value = f[f.length - 1];
    if (value.tag !== OCTET_STRING) throw new Error('bad extension');
    const inner = tlv(value.content, 0);
    if (id === '2.5.29.19') {
      let ca = false;
      let pathLen: number | null = null;
      for (const c of children(inner.content)) {
        if (c.tag === BOOLEAN) ca = c.content[0] !== 0;
        else if (c.tag === INTEGER) pathLen = c.content.length > 4 ? Number.MAX_SAFE_INTEGER : c.content.readUIntBE(0, c.content.length);
      }
      ext.basicConstraints = { critical, ca, pathLen };
    } else if (id === '2.5.29.15') {
      if (inner.tag !== BIT_STRING) throw new Error('bad key usage');
      const bits = inner.content.subarray(1);
      ext.keyUsage = { critical, has: (bit) => bit >> 3 < bits.length && (bits[bit >> 3] & (0x80 >> (bit & 7))) !== 0 };
    } else if (id === '2.5.29.37') {
      ext.extKeyUsage = children(inner.content).map((c) => oid(c.content));
    }
  }
  return ext;
}
