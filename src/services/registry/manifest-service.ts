// Manifests, tags and referrers. A manifest PUT validates references and writes the manifest, its reference
// rows and its tag in one transaction, so readers (and GC) never see a half-pushed artifact.
import type { Db } from '../../db/db.ts';
import { Errors } from '../../errors.ts';
import { digestOf, isValidTag, parseDigest } from '../../oci/digest.ts';
import { parseManifest } from '../../oci/manifest.ts';
import type { BlobRepository } from '../../repositories/blob-repository.ts';
import type { ManifestRepository, Manifest, Referrer } from '../../repositories/manifest-repository.ts';
import type { RepositoryRepository } from '../../repositories/repository-repository.ts';
import { crashPoint, type Faults } from './faults.ts';
import type { QuotaService } from './quota-service.ts';

export interface PutResult {
  digest: string;
  subject: string | null;
}

const isDigestRef = (ref: string) => ref.includes(':');

export class ManifestService {
  private readonly db: Db;
  private readonly manifests: ManifestRepository;
  private readonly blobs: BlobRepository;
  private readonly repositories: RepositoryRepository;
  private readonly faults: Faults | undefined;
  private readonly quota: QuotaService | undefined;
  private readonly onPull: ((m: Manifest, tag: string | null) => void) | undefined;
  constructor(deps: {
    db: Db;
    manifests: ManifestRepository;
    blobs: BlobRepository;
    repositories: RepositoryRepository;
    faults?: Faults;
    quota?: QuotaService;
    /** Called (synchronously, no I/O) for every manifest read with its content, i.e. every pull. */
    onPull?: (m: Manifest, tag: string | null) => void;
  }) {
    this.db = deps.db;
    this.onPull = deps.onPull;
    this.quota = deps.quota;
    this.faults = deps.faults;
    this.manifests = deps.manifests;
    this.blobs = deps.blobs;
    this.repositories = deps.repositories;
  }

  /** Validates a tag-or-digest reference, throwing the spec's error for a malformed one. */
  static checkReference(reference: string): void {
    if (isDigestRef(reference)) parseDigest(reference);
    else if (!isValidTag(reference)) throw Errors.manifestInvalid('invalid tag', 400);
  }

  async get(repositoryName: string, reference: string, withContent: boolean): Promise<Manifest> {
    ManifestService.checkReference(reference);
    const m = isDigestRef(reference)
      ? await this.manifests.findManifestByDigest(repositoryName, reference, withContent)
      : await this.manifests.findManifestByTag(repositoryName, reference, withContent);
    if (!m) throw Errors.manifestUnknown(reference);
    if (withContent && this.onPull) {
      try {
        this.onPull(m, isDigestRef(reference) ? null : reference);
      } catch {
        // Pull bookkeeping never fails a pull.
      }
    }
    return m;
  }

  async put(repositoryName: string, projectId: number, reference: string, body: Buffer, contentType: string | undefined, extraTags: string[] = []): Promise<PutResult> {
    ManifestService.checkReference(reference);
    for (const t of extraTags) if (!isValidTag(t)) throw Errors.manifestInvalid(`invalid tag ${t}`);
    const parsed = parseManifest(body, contentType);
    let digest: string;
    if (isDigestRef(reference)) {
      const want = parseDigest(reference);
      digest = digestOf(body, want.algorithm);
      if (digest !== want.value) throw Errors.digestInvalid('manifest digest does not match the reference', { expected: want.value, actual: digest });
    } else digest = digestOf(body);
    const tags = [...new Set([...(isDigestRef(reference) ? [] : [reference]), ...extraTags])];

    await this.db.tx(async (q) => {
      const repo = await this.repositories.saveRepositoryIfAbsent(repositoryName, projectId, q);
      if (parsed.blobs.length) {
        // Locks the links (PostgreSQL: row locks to the end of this transaction) that GC must not delete
        // while this manifest is not yet committed; GC skips locked links and re-checks references after locking.
        await this.blobs.markLinksReferenced(repo.id, parsed.blobs, q);
        const linked = await this.blobs.listLinkedDigests(repo.id, parsed.blobs, q);
        const missing = parsed.blobs.find((d) => !linked.has(d));
        if (missing) throw Errors.manifestBlobUnknown(missing);
      }
      if (parsed.manifests.length) {
        const present = await this.manifests.listExistingDigests(repo.id, parsed.manifests, q);
        const missing = parsed.manifests.find((d) => !present.has(d));
        if (missing) throw Errors.manifestBlobUnknown(missing);
      }
      // Manifest bytes count towards the project's quota (Harbor stores manifests as blobs).
      await this.quota?.assertManifestRoom(projectId, digest, body.length, q);
      const { id, created } = await this.manifests.saveManifest(
        {
          repositoryId: repo.id,
          digest,
          mediaType: parsed.mediaType,
          artifactType: parsed.artifactType,
          configMediaType: parsed.configMediaType,
          content: body,
          subjectDigest: parsed.subject,
          annotations: parsed.annotations,
        },
        q,
      );
      if (created)
        await this.manifests.saveManifestReferences(
          id,
          [...parsed.blobs.map((d) => ({ digest: d, kind: 'blob' as const })), ...parsed.manifests.map((d) => ({ digest: d, kind: 'manifest' as const }))],
          q,
        );
      for (const t of tags) await this.manifests.saveTag(repo.id, t, id, q);
      await this.repositories.touchRepository(repo.id, q);
      crashPoint(this.faults, 'manifest-before-commit');
    });
    crashPoint(this.faults, 'manifest-after-commit');
    return { digest, subject: parsed.subject };
  }

  /** DELETE by digest removes the manifest and every tag on it; by tag removes only the tag. */
  async remove(repositoryName: string, reference: string): Promise<void> {
    ManifestService.checkReference(reference);
    const repo = await this.repositories.findRepositoryByName(repositoryName);
    if (!repo) throw Errors.manifestUnknown(reference);
    const ok = isDigestRef(reference) ? await this.manifests.removeManifest(repo.id, reference) : await this.manifests.removeTag(repo.id, reference);
    if (!ok) throw Errors.manifestUnknown(reference);
  }

  listTags(repositoryName: string, limit: number, last: string | null): Promise<string[]> {
    return this.manifests.listTags(repositoryName, limit, last);
  }

  listReferrers(repositoryName: string, subject: string, artifactType: string | null): Promise<Referrer[]> {
    parseDigest(subject);
    return this.manifests.listReferrers(repositoryName, subject, artifactType);
  }

  async repositoryExists(repositoryName: string): Promise<boolean> {
    return (await this.repositories.findRepositoryByName(repositoryName)) !== null;
  }

  listRepositoryNames(limit: number, last: string | null): Promise<string[]> {
    return this.repositories.listRepositoryNames(limit, last);
  }
}
