// Manifests, tags and referrers. A manifest PUT validates references and writes the manifest, its reference
// rows and its tag in one transaction, so readers (and GC) never see a half-pushed artifact.
import type { Db } from '../../db/db.ts';
import { Errors, RegistryError } from '../../errors.ts';
import { digestOf, isValidTag, parseDigest } from '../../oci/digest.ts';
import { parseManifest } from '../../oci/manifest.ts';
import type { BlobRepository } from '../../repositories/blob-repository.ts';
import type { ManifestRepository, Manifest, Referrer } from '../../repositories/manifest-repository.ts';
import type { RepositoryRepository } from '../../repositories/repository-repository.ts';
import type { ArtifactRef, EventPublisher, NewEvent } from '../events/types.ts';
import { cosignTagsFor } from '../artifact/artifact-model.ts';
import { ImmutableTagError, immutableDeleteRegistryError, type ImmutabilityService } from '../artifact/immutability-service.ts';
import { crashPoint, type Faults } from './faults.ts';
import type { QuotaService } from './quota-service.ts';

/** Who pulls, for the PULL_ARTIFACT event of a manifest GET. */
export interface Puller {
  operator: string;
  project: ProjectRef;
  /** A pull policy (prevent_vul) that may refuse the found manifest before the pull is recorded. */
  gate?: (m: Manifest) => Promise<void>;
}

/** Told of every pull (synchronously, no I/O) with the manifest, the tag pulled, and its event when there is a puller. */
export type OnPull = (m: Manifest, tag: string | null, event: NewEvent<'PULL_ARTIFACT'> | null) => void;

export interface PutResult {
  digest: string;
  subject: string | null;
}

const isDigestRef = (ref: string) => ref.includes(':');

/** The project a manifest change happens in, as its events carry it. */
export interface ProjectRef {
  id: number;
  name: string;
  public: boolean;
}

/**
 * A descriptor's size must be the stored content's (as Distribution checks): a wrong one would make every size the
 * API and quotas report wrong, and clients that trust it read past the end.
 */
function checkDeclaredSizes(declared: ReadonlyMap<string, number>, stored: ReadonlyMap<string, number>): void {
  for (const [digest, actual] of stored) {
    const size = declared.get(digest);
    if (size !== undefined && size !== actual)
      throw new RegistryError('MANIFEST_INVALID', `${digest} is ${actual} bytes but the manifest declares ${size}`, {
        detail: { code: 'SIZE_INVALID', digest, declared: size, actual },
      });
  }
}

/** The event payload for an artifact of `project`. */
export function artifactRef(project: ProjectRef, repository: string, m: { digest: string; mediaType: string; size?: number; artifactType?: string | null }, tags: string[]): ArtifactRef {
  return {
    projectId: project.id,
    projectName: project.name,
    projectPublic: project.public,
    repository,
    digest: m.digest,
    mediaType: m.mediaType,
    tags,
    ...(m.size !== undefined ? { size: m.size } : {}),
    ...(m.artifactType !== undefined ? { artifactType: m.artifactType } : {}),
  };
}

export class ManifestService {
  private readonly db: Db;
  private readonly manifests: ManifestRepository;
  private readonly blobs: BlobRepository;
  private readonly repositories: RepositoryRepository;
  private readonly faults: Faults | undefined;
  private readonly quota: QuotaService | undefined;
  private readonly events: EventPublisher | undefined;
  private readonly onPull: OnPull | undefined;
  private readonly immutability: ImmutabilityService | undefined;
  constructor(deps: {
    db: Db;
    manifests: ManifestRepository;
    blobs: BlobRepository;
    repositories: RepositoryRepository;
    faults?: Faults;
    quota?: QuotaService;
    /** The outbox: PUSH_ARTIFACT / DELETE_ARTIFACT / DELETE_TAG are written in the change's transaction. */
    events?: EventPublisher;
    /** Called (synchronously, no I/O) for every manifest read with its content, i.e. every pull. */
    onPull?: OnPull;
    /** Tag immutability rules, checked in the push's and the delete's transactions. */
    immutability?: ImmutabilityService;
  }) {
    this.db = deps.db;
    this.immutability = deps.immutability;
    this.onPull = deps.onPull;
    this.quota = deps.quota;
    this.events = deps.events;
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

  /**
   * A manifest by tag or digest; with content it is a pull (recorded in batches, with its event when `puller` is
   * given). `gate` may refuse it (content trust) before anything is recorded.
   */
  async get(repositoryName: string, reference: string, withContent: boolean, puller?: Puller): Promise<Manifest> {
    ManifestService.checkReference(reference);
    const m = isDigestRef(reference)
      ? await this.manifests.findManifestByDigest(repositoryName, reference, withContent)
      : await this.manifests.findManifestByTag(repositoryName, reference, withContent);
    if (!m) throw Errors.manifestUnknown(reference);
    if (withContent && puller?.gate) await puller.gate(m);
    if (withContent && this.onPull) {
      try {
        const tag = isDigestRef(reference) ? null : reference;
        const event: NewEvent<'PULL_ARTIFACT'> | null = puller
          ? { type: 'PULL_ARTIFACT', operator: puller.operator, projectId: puller.project.id, data: artifactRef(puller.project, repositoryName, m, tag ? [tag] : []), occurredAt: Date.now() }
          : null;
        this.onPull(m, tag, event);
      } catch {
        // Pull bookkeeping never fails a pull.
      }
    }
    return m;
  }

  /** A stored manifest with its bytes, read without pull bookkeeping (the proxy cache re-tags what it holds); null when absent. */
  async stored(repositoryName: string, digest: string): Promise<Manifest | null> {
    parseDigest(digest);
    return this.manifests.findManifestByDigest(repositoryName, digest, true);
  }

  /** Stores a manifest (and its tags); `operator` is who pushed it ('' anonymous/system), for its PUSH_ARTIFACT event. */
  async put(
    repositoryName: string,
    project: ProjectRef,
    reference: string,
    body: Buffer,
    contentType: string | undefined,
    extraTags: string[] = [],
    operator = '',
    replication: { pushTime?: number; origin?: string } = {},
  ): Promise<PutResult> {
    const projectId = project.id;
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

    const refused = await this.db.tx(async (q): Promise<RegistryError | null> => {
      const repo = await this.repositories.saveRepositoryIfAbsent(repositoryName, projectId, q);
      if (parsed.blobs.length) {
        // Locks the links (PostgreSQL: row locks to the end of this transaction) that GC must not delete
        // while this manifest is not yet committed; GC skips locked links and re-checks references after locking.
        await this.blobs.markLinksReferenced(repo.id, parsed.blobs, q);
        const linked = await this.blobs.listLinkedDigests(repo.id, parsed.blobs, q);
        const missing = parsed.blobs.find((d) => !linked.has(d));
        if (missing) throw Errors.manifestBlobUnknown(missing);
        checkDeclaredSizes(parsed.declaredSizes, await this.blobs.listBlobSizes(parsed.blobs, q));
      }
      if (parsed.manifests.length) {
        const present = await this.manifests.listManifestSizes(repo.id, parsed.manifests, q);
        const missing = parsed.manifests.find((d) => !present.has(d));
        if (missing) throw Errors.manifestBlobUnknown(missing);
        checkDeclaredSizes(parsed.declaredSizes, present);
      }
      // Manifest bytes count towards the project's quota (Harbor stores manifests as blobs).
      try {
        await this.quota?.assertManifestRoom(projectId, digest, body.length, q, repositoryName);
      } catch (e) {
        if (!(e instanceof RegistryError && e.code === 'DENIED')) throw e;
        // A refused push leaves no trace: the repository its blobs created goes (with their links, so GC collects
        // the bytes) unless it holds artifacts or another upload. Committed, then the denial is thrown.
        await this.repositories.removeRepositoryIfUnused(repo.id, repositoryName, q);
        return e;
      }
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
      // An immutable tag is never moved: created if absent, else it must already name this manifest (re-pushing
      // the same content is accepted — nothing changes). Checked with the rules as this transaction reads them.
      const immutable = tags.length > 0 && this.immutability ? await this.immutability.matcher(projectId, q) : null;
      const shortName = repositoryName.slice(project.name.length + 1);
      for (const t of tags) {
        if (immutable?.(shortName, t)) {
          if ((await this.manifests.saveTagIfAbsent(repo.id, t, id, q)) !== id) throw new ImmutableTagError(shortName, t);
        } else await this.manifests.saveTag(repo.id, t, id, q, replication.pushTime);
      }
      await this.repositories.touchRepository(repo.id, q);
      // Harbor raises one PUSH_ARTIFACT per push, carrying its tags (no separate tag event).
      await this.events?.publish(q, [
        {
          type: 'PUSH_ARTIFACT',
          operator,
          projectId,
          data: {
            ...artifactRef(project, repositoryName, { digest, mediaType: parsed.mediaType, size: body.length, artifactType: parsed.artifactType }, tags),
            // Loop prevention: the instance a replicated artifact was first pushed to (never sent back there).
            ...(replication.origin ? { origin: replication.origin } : {}),
          },
        },
      ]);
      crashPoint(this.faults, 'manifest-before-commit');
      return null;
    });
    if (refused) throw refused;
    crashPoint(this.faults, 'manifest-after-commit');
    return { digest, subject: parsed.subject };
  }

  /**
   * DELETE by digest removes the manifest and every tag on it (DELETE_ARTIFACT with those tags); by tag removes
   * only the tag (DELETE_TAG).
   */
  async remove(repositoryName: string, reference: string, project: ProjectRef, operator = ''): Promise<void> {
    ManifestService.checkReference(reference);
    const repo = await this.repositories.findRepositoryByName(repositoryName);
    if (!repo) throw Errors.manifestUnknown(reference);
    await this.db.tx(async (q) => {
      const byDigest = isDigestRef(reference);
      const m = byDigest ? await this.manifests.findManifestByDigest(repositoryName, reference, false, q) : await this.manifests.findManifestByTag(repositoryName, reference, false, q);
      if (!m) throw Errors.manifestUnknown(reference);
      const tags = byDigest ? await this.manifests.listTagsOfManifest(m.id, q) : [reference];
      // As Harbor's artifact controller: deleting an artifact deletes its accessories (referrers by subject and
      // cosign-tagged signatures/attestations/SBOMs), whose tags must be deletable too.
      const accessories = byDigest ? await this.manifests.listAccessoriesOf(repo.id, m.digest, cosignTagsFor(m.digest), q) : [];
      const accessoryTags: string[] = [];
      for (const a of accessories) accessoryTags.push(...(await this.manifests.listTagsOfManifest(a.id, q)));
      if (this.immutability && tags.length + accessoryTags.length) {
        const immutable = await this.immutability.matcher(project.id, q);
        const locked = [...tags, ...accessoryTags].find((t) => immutable(repositoryName.slice(project.name.length + 1), t));
        if (locked !== undefined) throw immutableDeleteRegistryError(locked);
      }
      const ok = byDigest ? await this.manifests.removeManifest(repo.id, reference, q) : await this.manifests.removeTag(repo.id, reference, q);
      if (!ok) throw Errors.manifestUnknown(reference);
      for (const a of accessories) if (a.digest !== m.digest) await this.manifests.removeManifest(repo.id, a.digest, q);
      await this.events?.publish(q, [{ type: byDigest ? 'DELETE_ARTIFACT' : 'DELETE_TAG', operator, projectId: project.id, data: artifactRef(project, repositoryName, m, tags) }]);
    });
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
