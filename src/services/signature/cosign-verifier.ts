// The cosign verifier (issue #16): a cosign signature accessory — tag `sha256-<hex>.sig` or an OCI 1.1 referrer —
// is an image manifest whose layers are simple-signing payloads, each with its signature in the layer annotation
// `dev.cosignproject.cosign/signature` (base64). A layer counts when its payload says it signs *this* subject
// (`critical.image.docker-manifest-digest`, `critical.type` "cosign container image signature") and the signature
// over the payload bytes verifies with one of the trusted public keys (what `cosign verify --key` checks, without
// the transparency log). cosign appends one layer per signing to the same `.sig` manifest, so any layer may match.
import { createPublicKey, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import type { SignatureEvidence, SignatureVerifier, SignatureVerifierFactory, TrustedKey, VerifyResult } from './verifier.ts';

export const COSIGN_SIMPLESIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const COSIGN_SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
const COSIGN_TYPE = 'cosign container image signature';
/** Simple-signing payloads are a few hundred bytes; anything larger is not read. */
export const MAX_PAYLOAD = 64 * 1024;

/** The digest algorithm sigstore pairs with each key (ECDSA by curve, RSA PKCS#1 v1.5 SHA-256, Ed25519 none). */
function hashFor(key: KeyObject): string | null {
  if (key.asymmetricKeyType === 'ed25519') return null;
  if (key.asymmetricKeyType === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return curve === 'secp384r1' ? 'sha384' : curve === 'secp521r1' ? 'sha512' : 'sha256';
  }
  return 'sha256';
}

interface Layer {
  mediaType?: unknown;
  digest?: unknown;
  size?: unknown;
  annotations?: Record<string, unknown>;
}

export class CosignVerifier implements SignatureVerifier {
  readonly accessoryType = 'signature.cosign';
  private readonly parsedKeys = new Map<string, KeyObject | null>();

  private keyOf(pem: string): KeyObject | null {
    let k = this.parsedKeys.get(pem);
    if (k === undefined) {
      try {
        k = createPublicKey(pem);
      } catch {
        k = null;
      }
      if (this.parsedKeys.size > 1000) this.parsedKeys.clear();
      this.parsedKeys.set(pem, k);
    }
    return k;
  }

  async verify(evidence: SignatureEvidence, keys: readonly TrustedKey[]): Promise<VerifyResult> {
    const cosignKeys = keys.filter((k) => k.kind === 'cosign');
    if (!cosignKeys.length) return { ok: false, reason: 'no trusted cosign key' };
    let doc: { layers?: unknown };
    try {
      doc = JSON.parse(evidence.manifest.toString('utf8'));
    } catch {
      return { ok: false, reason: `the signature manifest ${evidence.accessoryDigest} is not JSON` };
    }
    const layers = (Array.isArray(doc?.layers) ? doc.layers : []).filter((l: Layer) => l?.mediaType === COSIGN_SIMPLESIGNING && typeof l.digest === 'string') as Layer[];
    if (!layers.length) return { ok: false, reason: `the signature ${evidence.accessoryDigest} has no simple-signing layer` };
    // The most telling reason is kept: a payload naming another image beats "no key verifies".
    let reason = 'the signature does not verify with any trusted cosign key';
    let otherDigest: string | null = null;
    let sawOwn = false;
    for (const layer of layers) {
      const sigB64 = layer.annotations?.[COSIGN_SIGNATURE_ANNOTATION];
      if (typeof sigB64 !== 'string' || !sigB64) continue;
      if (typeof layer.size === 'number' && layer.size > MAX_PAYLOAD) continue;
      let payload: Buffer;
      try {
        payload = await evidence.readBlob(layer.digest as string);
      } catch {
        reason = `the signature payload ${String(layer.digest)} cannot be read`;
        continue;
      }
      let claims: { critical?: { type?: unknown; image?: { 'docker-manifest-digest'?: unknown } } };
      try {
        claims = JSON.parse(payload.toString('utf8'));
      } catch {
        continue;
      }
      if (claims?.critical?.type !== COSIGN_TYPE) continue;
      const named = claims.critical.image?.['docker-manifest-digest'];
      if (named !== evidence.subjectDigest) {
        otherDigest = typeof named === 'string' ? named.slice(0, 80) : 'no digest';
        continue;
      }
      sawOwn = true;
      const sig = Buffer.from(sigB64, 'base64');
      for (const k of cosignKeys) {
        const key = this.keyOf(k.pem);
        if (!key) continue;
        try {
          if (cryptoVerify(hashFor(key), payload, key, sig)) return { ok: true, keyId: k.id };
        } catch {
          // a malformed signature for this key type: not a match
        }
      }
    }
    if (otherDigest !== null && !sawOwn) {
      return { ok: false, reason: `the signature payload names ${otherDigest}, not ${evidence.subjectDigest}` };
    }
    return { ok: false, reason };
  }
}

export const cosignVerifierFactory: SignatureVerifierFactory = () => new CosignVerifier();
