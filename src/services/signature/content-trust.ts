// Content trust on pulls (Harbor's server/middleware/contenttrust, issue #16). With `enable_content_trust_cosign`
// (cosign) or `enable_content_trust` (notation) on a project, a manifest GET of an artifact without such a
// signature accessory is refused: 412 PROJECTPOLICYVIOLATION with Harbor's message. As Harbor, these pass: the
// signatures themselves (cosign/notation must read them to verify), and the signing tools' own reads (a caller with
// push whose User-Agent names cosign or notation — they read the manifest before pushing its first signature).
// HEAD, the referrers API and blobs are not gated (no manifest content leaves; Harbor gates HEAD too).
//
// Beyond Harbor: when the project has trusted keys of the kind a policy needs, a signature counts only if it
// verifies against one of them (the verifier of its accessory type, see verifier.ts). Results are cached in memory
// per (subject digest, signature digests, key set), bounded, so a verified pull reads no blob and checks no
// signature again; a change of the key set is a new cache key (and drops this process's entries at once).
// A child of an index (a multi-arch image's platform manifest) is signed when an index of the repository listing
// it is: cosign and notation sign the index a tag names, and clients then pull the children by digest.
import { createHash } from 'node:crypto';
import { RegistryError } from '../../errors.ts';
import { parseManifest } from '../../oci/manifest.ts';
import type { ArtifactQueryRepository, ArtifactRow } from '../../repositories/artifact-query-repository.ts';
import type { Manifest } from '../../repositories/manifest-repository.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import { accessoryTypeOf, artifactTypeOf, ArtifactTypes, cosignTagsFor, subjectOfCosignTag, type ManifestFacts } from '../artifact/artifact-model.ts';
import type { SignatureVerifiers, TrustedKey, VerifyResult } from './verifier.ts';

export const SIGNATURE_COSIGN = 'signature.cosign';
export const SIGNATURE_NOTATION = 'signature.notation';
/** Harbor's messages (contentrust.go). */
export const NOT_SIGNED = { [SIGNATURE_COSIGN]: 'The image is not signed by cosign.', [SIGNATURE_NOTATION]: 'The image is not signed by notation.' } as const;
const KIND_OF = { [SIGNATURE_COSIGN]: 'cosign', [SIGNATURE_NOTATION]: 'notation' } as const;
type SignatureType = keyof typeof NOT_SIGNED;

/** Signature blobs (payloads, envelopes) are small; the cap bounds what one pull may read. */
const MAX_SIGNATURE_BLOB = 4 * 1024 * 1024;

export const policyViolation = (message: string) => new RegistryError('PROJECTPOLICYVIOLATION', message);

/** What the HTTP layer knows of the pull. */
export interface PullContext {
  project: { id: number; name: string };
  /** The reference of the request (a tag or a digest). */
  reference: string;
  /** Whether the caller is a signing tool with push rights (Harbor's SkipPolicyChecking); asked only under a policy. */
  isSigningTool: () => Promise<boolean>;
}

/** A bounded map in insertion order, refreshed on hit (least recently used goes first). */
class Lru<V> {
  private readonly map = new Map<string, V>();
  private readonly max: number;
  constructor(max: number) {
    this.max = max;
  }
  get(k: string): V | undefined {
    const v = this.map.get(k);
    if (v !== undefined) {
      this.map.delete(k);
      this.map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.map.delete(k);
    this.map.set(k, v);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value!);
  }
  deleteWhere(pred: (k: string) => boolean): void {
    for (const k of [...this.map.keys()]) if (pred(k)) this.map.delete(k);
  }
  get size(): number {
    return this.map.size;
  }
}

export interface ContentTrustStats {
  verifications: number;
  cacheHits: number;
  cached: number;
}

export class ContentTrustService {
  private readonly metadata: (projectId: number) => Promise<Record<string, string>>;
  private readonly keys: (projectId: number) => Promise<TrustedKey[]>;
  private readonly query: ArtifactQueryRepository;
  private readonly store: BlobStore;
  private readonly verifiers: SignatureVerifiers;
  private readonly cache: Lru<VerifyResult>;
  private readonly counters = { verifications: 0, cacheHits: 0 };
  constructor(deps: {
    metadata: (projectId: number) => Promise<Record<string, string>>;
    keys: (projectId: number) => Promise<TrustedKey[]>;
    query: ArtifactQueryRepository;
    store: BlobStore;
    verifiers: SignatureVerifiers;
    cacheSize?: number;
  }) {
    this.metadata = deps.metadata;
    this.keys = deps.keys;
    this.query = deps.query;
    this.store = deps.store;
    this.verifiers = deps.verifiers;
    this.cache = new Lru(deps.cacheSize ?? 10_000);
  }

  stats(): ContentTrustStats {
    return { ...this.counters, cached: this.cache.size };
  }

  /** Drops this process's cached results for a project (its key set changed; other processes see a new key set version). */
  invalidate(projectId: number): void {
    this.cache.deleteWhere((k) => k.startsWith(`${projectId}|`));
  }

  /** Drops every cached result (the invalidation bus may have missed messages). */
  invalidateAll(): void {
    this.cache.deleteWhere(() => true);
  }

  /** The signature types a project's policy requires. */
  async required(projectId: number): Promise<SignatureType[]> {
    const meta = await this.metadata(projectId);
    const out: SignatureType[] = [];
    if (meta.enable_content_trust_cosign === 'true') out.push(SIGNATURE_COSIGN);
    if (meta.enable_content_trust === 'true') out.push(SIGNATURE_NOTATION);
    return out;
  }

  /** Throws 412 PROJECTPOLICYVIOLATION when the project's policy refuses this pull of `m`. */
  async checkPull(m: Manifest, ctx: PullContext): Promise<void> {
    const need = await this.required(ctx.project.id);
    if (!need.length) return;
    const facts = factsOf(m);
    if (await this.isSignature(m, facts, ctx.reference)) return;
    if (await ctx.isSigningTool()) return;
    // The key set is read while the signatures are looked up (one round trip less on the pull's path).
    const keysP = this.keys(ctx.project.id);
    keysP.catch(() => {});
    for (const type of need) {
      const ofKind = keysP.then((keys) => keys.filter((k) => k.kind === KIND_OF[type]));
      const own = await this.decide(ctx.project.id, m.repositoryId, m.digest, type, ofKind);
      if (own === true) continue;
      // A platform manifest inherits the signature of an index of the repository that lists it.
      let inherited: true | string | null = null;
      if (!facts.isIndex)
        for (const parent of await this.query.listParentManifests(m.repositoryId, m.digest)) {
          const r = await this.decide(ctx.project.id, m.repositoryId, parent.digest, type, ofKind);
          if (r === true) {
            inherited = true;
            break;
          }
          inherited ??= r;
        }
      if (inherited === true) continue;
      const reason = own ?? inherited;
      throw policyViolation(reason === null ? NOT_SIGNED[type] : `The image is not signed by ${KIND_OF[type]} with a trusted key: ${reason}.`);
    }
  }

  /**
   * true: signed as the policy needs; null: no signature of the type at all (Harbor's message); a string: signed,
   * but none verifies against the trusted keys (why).
   */
  private async decide(projectId: number, repositoryId: number, digest: string, type: SignatureType, keysP: Promise<TrustedKey[]>): Promise<true | null | string> {
    const [all, keys] = await Promise.all([this.signaturesOf(repositoryId, digest), keysP]);
    const sigs = all.filter((s) => s.type === type);
    if (!sigs.length) return null;
    if (!keys.length) return true; // Harbor's rule: a signature exists
    const verifier = this.verifiers.for(type);
    if (!verifier) return `no ${KIND_OF[type]} verifier is available`;
    // Key rows are never updated, only added and removed, and ids are never reused: the ids are the key set's version.
    const keySet = keys.map((k) => k.id).sort((a, b) => a - b).join(',');
    const cacheKey = `${projectId}|${digest}|${sigs.map((s) => s.row.digest).sort().join(',')}|${keySet}`;
    const hit = this.cache.get(cacheKey);
    if (hit) {
      this.counters.cacheHits++;
      return hit.ok ? true : hit.reason;
    }
    let result: VerifyResult = { ok: false, reason: 'no signature verifies' };
    let transient = false;
    const readBlob = async (d: string) => {
      try {
        return await this.readBlob(d);
      } catch (err) {
        transient = true;
        throw err;
      }
    };
    for (const s of sigs) {
      this.counters.verifications++;
      try {
        const r = await verifier.verify(
          { subjectDigest: digest, accessoryDigest: s.row.digest, manifest: s.row.content, mediaType: s.row.mediaType, readBlob },
          keys,
        );
        if (r.ok) {
          result = r;
          break;
        }
        result = r;
      } catch {
        transient = true;
      }
    }
    // A verdict depends only on content-addressed bytes and the key set, so it is cached; a read failure is not.
    if (!transient || result.ok) this.cache.set(cacheKey, result);
    return result.ok ? true : result.reason;
  }

  /** Signature accessories of `digest` in the repository: referrers by subject and cosign `.sig` tags. */
  private async signaturesOf(repositoryId: number, digest: string): Promise<{ row: ArtifactRow; type: string }[]> {
    const [referrers, tagged] = await Promise.all([
      this.query.listReferrersOf(repositoryId, [digest]),
      this.query.listArtifactsByTagNames(repositoryId, cosignTagsFor(digest).filter((t) => t.endsWith('.sig'))),
    ]);
    const out = new Map<string, { row: ArtifactRow; type: string }>();
    for (const r of referrers) out.set(r.digest, { row: r, type: accessoryTypeOf(r, null) });
    for (const r of tagged) if (!out.has(r.digest)) out.set(r.digest, { row: r, type: accessoryTypeOf(r, r.tag) });
    return [...out.values()].filter((s) => s.type === SIGNATURE_COSIGN || s.type === SIGNATURE_NOTATION);
  }

  /** Whether `m` is itself a signature (Harbor lets those through: verifying needs them). */
  private async isSignature(m: Manifest, facts: ManifestFacts & { isIndex: boolean }, reference: string): Promise<boolean> {
    if (m.subjectDigest) return accessoryTypeOf(facts, null).startsWith('signature.');
    // Tag mode: a simple-signing manifest under a cosign `.sig` tag (Harbor's cosign middleware records exactly those).
    if (artifactTypeOf(facts) !== ArtifactTypes.Signature) return false;
    if (subjectOfCosignTag(reference) && reference.endsWith('.sig')) return true;
    const tags = await this.query.listTagNamesOfManifest(m.id);
    return tags.some((t) => t.endsWith('.sig') && subjectOfCosignTag(t) !== null);
  }

  private async readBlob(digest: string): Promise<Buffer> {
    if (!/^sha256:[0-9a-f]{64}$/.test(digest)) throw new Error(`unsupported digest ${digest.slice(0, 80)}`);
    const parts: Buffer[] = [];
    let n = 0;
    for await (const c of this.store.read(digest) as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > MAX_SIGNATURE_BLOB) throw new Error('signature blob too large');
      parts.push(c);
    }
    const b = Buffer.concat(parts, n);
    if ('sha256:' + createHash('sha256').update(b).digest('hex') !== digest) throw new Error(`blob ${digest} does not match its digest`);
    return b;
  }
}

function factsOf(m: Manifest): ManifestFacts & { isIndex: boolean } {
  const p = parseManifest(m.content, m.mediaType);
  return { mediaType: p.mediaType, artifactType: p.artifactType, configMediaType: p.configMediaType, content: m.content, annotations: p.annotations, isIndex: p.isIndex };
}
