// Signature verification seam (issue #16): one verifier per signature accessory type, chosen from a registry of
// factories like the replication adapters and storage drivers. A verifier checks one signature accessory of one
// subject against the project's trusted keys and says which key verified it, or why none did. It reads only what
// it is given (the accessory's manifest and blobs), so it is testable without a registry and cacheable per
// (subject digest, accessory digest, key set).

/** A key or certificate a project admin registered as trusted. */
export interface TrustedKey {
  readonly id: number;
  /** cosign: a PEM public key (ECDSA P-256/P-384, RSA, Ed25519). notation: a PEM certificate (root or CA) of the trust store. */
  readonly kind: 'cosign' | 'notation';
  readonly pem: string;
}

/** One signature accessory of a subject, with a way to read its blobs. */
export interface SignatureEvidence {
  /** The digest of the signed artifact (the subject). */
  readonly subjectDigest: string;
  /** The accessory's own manifest digest and bytes. */
  readonly accessoryDigest: string;
  readonly manifest: Buffer;
  readonly mediaType: string;
  /** Reads a blob of the accessory (a layer or the config), verified against its digest by the caller. */
  readBlob(digest: string): Promise<Buffer>;
}

export type VerifyResult = { readonly ok: true; readonly keyId: number } | { readonly ok: false; readonly reason: string };

export interface SignatureVerifier {
  /** The accessory type it verifies: 'signature.cosign' or 'signature.notation'. */
  readonly accessoryType: string;
  verify(evidence: SignatureEvidence, keys: readonly TrustedKey[]): Promise<VerifyResult>;
}

export type SignatureVerifierFactory = () => SignatureVerifier;

/** The registry of verifier factories by accessory type. */
export class SignatureVerifiers {
  private readonly byType = new Map<string, SignatureVerifier>();
  constructor(factories: readonly SignatureVerifierFactory[]) {
    for (const f of factories) {
      const v = f();
      if (this.byType.has(v.accessoryType)) throw new Error(`two signature verifiers for ${v.accessoryType}`);
      this.byType.set(v.accessoryType, v);
    }
  }
  for(accessoryType: string): SignatureVerifier | undefined {
    return this.byType.get(accessoryType);
  }
  get types(): string[] {
    return [...this.byType.keys()];
  }
}
