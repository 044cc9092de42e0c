// Artifacts of the management API: lists and views (Harbor's Artifact JSON), delete, copy, tags, labels,
// additions and accessories. A page's tags, labels, accessories and index children load in one query each.
import { parse as parseYaml } from 'yaml';
import type { Db, Queryable } from '../../db/db.ts';
import { ApiErrors, RegistryError } from '../../errors.ts';
import { isValidTag, parseDigest } from '../../oci/digest.ts';
import { parseManifest } from '../../oci/manifest.ts';
import { isoTime, ZERO_TIME } from '../../time.ts';
import {
  ArtifactQueryRepository,
  type ArtifactFilter,
  type ArtifactRow,
  type ArtifactSortField,
  type LabelRow,
  type RepositoryRow,
  type TagRow,
} from '../../repositories/artifact-query-repository.ts';
import type { BlobRepository } from '../../repositories/blob-repository.ts';
import type { LabelRepository } from '../../repositories/label-repository.ts';
import type { ManifestRepository } from '../../repositories/manifest-repository.ts';
import type { RepositoryRepository } from '../../repositories/repository-repository.ts';
import type { BlobStore } from '../../storage/blob-store.ts';
import type { AuditSink } from '../audit/audit.ts';
import { artifactRef, type ManifestService, type ProjectRef } from '../registry/manifest-service.ts';
import type { EventPublisher } from '../events/types.ts';
import type { QuotaService } from '../registry/quota-service.ts';
import { iconOfAccessoryType, iconOfArtifactType } from '../icon/icons.ts';
import { immutableDeleteError, immutableUpdateError, ImmutableTagError, type ImmutabilityService, type TagMatcher } from './immutability-service.ts';
import {
  accessoryTypeOf,
  additionsOf,
  artifactTypeOf,
  ArtifactTypes,
  chartFiles,
  childrenOf,
  configOf,
  cosignTagsFor,
  HELM_CHART_LAYER,
  imageExtraAttrs,
  mediaTypeOf,
  sizeOf,
  subjectOfCosignTag,
  untarGz,
} from './artifact-model.ts';

const iso = (ms: number | null) => (ms === null ? ZERO_TIME : isoTime(ms));
/** Harbor encodes a repository name twice in its links (`a/b` → `a%252Fb`). */
export const encodeRepo = (name: string) => encodeURIComponent(encodeURIComponent(name));

export interface ViewOptions {
  withTag: boolean;
  /** Harbor's with_immutable_status: tags' `immutable` from the project's rules (false otherwise). */
  withImmutable?: boolean;
  withLabel: boolean;
  withAccessory: boolean;
  /**
   * Harbor's with_signature (its swagger: "whether the signature is included"): the signature accessories
   * (`signature.*`) in `accessories` even without with_accessory, which the portal's "signed" mark reads.
   */
  withSignature?: boolean;
  /**
   * Harbor's with_inherited_accessory: `inherited_accessories`, the signatures of the indexes of the repository that
   * list the artifact, when it has no signature of its own (omitted otherwise).
   */
  withInheritedAccessory?: boolean;
}
export interface Located {
  project: ProjectRef;
  repo: RepositoryRow;
}
export const ADDITIONS = ['build_history', 'values.yaml', 'readme.md', 'dependencies'] as const;

export function tagView(t: TagRow, immutable = false) {
  return {
    id: t.id,
    repository_id: t.repositoryId,
    artifact_id: t.artifactId,
    name: t.name,
    push_time: iso(t.pushTime),
    pull_time: iso(t.pullTime),
    immutable,
  };
}
export function labelView(l: LabelRow) {
  return {
    id: l.id,
    name: l.name,
    description: l.description,
    color: l.color,
    scope: l.scope,
    project_id: l.projectId,
    creation_time: iso(l.createdAt),
    update_time: iso(l.updatedAt),
  };
}

async function readAll(stream: AsyncIterable<Buffer | Uint8Array>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of stream) {
    n += c.length;
    if (n > limit) throw ApiErrors.badRequest('the content is too large to read');
    parts.push(Buffer.from(c));
  }
  return Buffer.concat(parts, n);
}

export class ArtifactService {
  private readonly db: Db;
  private readonly query: ArtifactQueryRepository;
  private readonly labels: LabelRepository;
  private readonly manifests: ManifestService;
  private readonly manifestRows: ManifestRepository;
  private readonly blobs: BlobRepository;
  private readonly repositories: RepositoryRepository;
  private readonly quota: QuotaService;
  private readonly store: BlobStore;
  private readonly audit: AuditSink;
  private readonly events: EventPublisher;
  private readonly immutability: ImmutabilityService;
  constructor(deps: {
    db: Db;
    query: ArtifactQueryRepository;
    labels: LabelRepository;
    manifests: ManifestService;
    manifestRows: ManifestRepository;
    blobs: BlobRepository;
    repositories: RepositoryRepository;
    quota: QuotaService;
    store: BlobStore;
    audit: AuditSink;
    /** Artifact and tag deletions and tag creations are published in their transactions. */
    events: EventPublisher;
    /** Immutable tags are neither deleted (with their artifact or alone) nor overwritten by a copy. */
    immutability: ImmutabilityService;
  }) {
    this.db = deps.db;
    this.immutability = deps.immutability;
    this.query = deps.query;
    this.labels = deps.labels;
    this.manifests = deps.manifests;
    this.manifestRows = deps.manifestRows;
    this.blobs = deps.blobs;
    this.repositories = deps.repositories;
    this.quota = deps.quota;
    this.store = deps.store;
    this.audit = deps.audit;
    this.events = deps.events;
  }

  /** The repository's name without its project, as immutability rules match it. */
  private static shortName(loc: Located): string {
    return loc.repo.name.slice(loc.project.name.length + 1);
  }
  /** Refuses (412) when one of `tags` of the repository is immutable; read in the caller's transaction. */
  private async assertDeletable(loc: Located, tags: readonly string[], q: Queryable): Promise<void> {
    if (!tags.length) return;
    const immutable = await this.immutability.matcher(loc.project.id, q);
    const locked = tags.find((t) => immutable(ArtifactService.shortName(loc), t));
    if (locked !== undefined) throw immutableDeleteError(locked);
  }

  /** The repository `project/name`, which must belong to the project (404 otherwise). */
  async locate(project: ProjectRef, repoName: string): Promise<Located> {
    const repo = await this.query.findRepository(`${project.name}/${repoName}`);
    if (!repo || repo.projectId !== project.id) throw ApiErrors.notFound(`repository ${repoName.slice(0, 255)} not found`);
    return { project, repo };
  }

  /** The artifact a tag or digest names in the repository, or 404 (400 for a malformed reference). */
  async resolve(repo: RepositoryRow, reference: string, q = undefined as undefined | Parameters<ArtifactQueryRepository['findArtifactByDigest']>[2]): Promise<ArtifactRow> {
    let row: ArtifactRow | null;
    if (reference.includes(':')) {
      try {
        parseDigest(reference);
      } catch {
        throw ApiErrors.badRequest('invalid digest');
      }
      row = await this.query.findArtifactByDigest(repo.id, reference, q);
    } else {
      if (!isValidTag(reference)) throw ApiErrors.badRequest('invalid tag');
      row = await this.query.findArtifactByTag(repo.id, reference, q);
    }
    if (!row) throw ApiErrors.notFound(`artifact ${reference.slice(0, 255)} not found`);
    return row;
  }

  async list(
    loc: Located,
    filter: ArtifactFilter,
    sort: { field: ArtifactSortField; desc: boolean }[],
    page: { limit: number; offset: number },
    opts: ViewOptions,
  ): Promise<{ total: number; items: Record<string, unknown>[] }> {
    const [total, rows] = await Promise.all([
      this.query.countArtifactsFiltered(loc.repo.id, filter),
      this.query.listArtifacts(loc.repo.id, filter, sort, page.limit, page.offset),
    ]);
    return { total, items: await this.views(loc, rows, opts) };
  }

  /**
   * Artifacts of every repository of the project (Harbor's listArtifactsOfProject). With `latest`, only the newest
   * of each repository among the filter's media type or artifact type (exactly one of them must be given).
   */
  async listOfProject(
    project: ProjectRef,
    filter: ArtifactFilter,
    latest: boolean,
    sort: { field: ArtifactSortField; desc: boolean }[],
    page: { limit: number; offset: number },
    opts: ViewOptions,
  ): Promise<{ total: number; items: Record<string, unknown>[] }> {
    if (latest && (filter.mediaType === undefined) === (filter.artifactType === undefined))
      throw ApiErrors.badRequest("either 'media_type' or 'artifact_type' must be specified, but not both, when querying with latest_in_repository");
    const [total, rows] = await Promise.all([
      this.query.countProjectArtifacts(project.id, filter, latest),
      this.query.listProjectArtifacts(project.id, filter, latest, sort, page.limit, page.offset),
    ]);
    // Views are built per repository (tags, children and accessories are looked up inside it), then put back in order.
    const byRepo = new Map<number, ArtifactRow[]>();
    for (const r of rows) byRepo.set(r.repositoryId, [...(byRepo.get(r.repositoryId) ?? []), r]);
    const views = new Map<number, Record<string, unknown>>();
    for (const group of byRepo.values()) {
      const repo = await this.query.findRepository(group[0].repositoryName);
      if (!repo) continue; // deleted meanwhile
      const vs = await this.views({ project, repo }, group, opts);
      group.forEach((r, i) => views.set(r.id, vs[i]));
    }
    return { total, items: rows.map((r) => views.get(r.id)).filter((v): v is Record<string, unknown> => !!v) };
  }

  async get(loc: Located, reference: string, opts: ViewOptions): Promise<Record<string, unknown>> {
    const row = await this.resolve(loc.repo, reference);
    return (await this.views(loc, [row], opts))[0];
  }

  /** Harbor's Artifact JSON for a page of rows. */
  private async views(loc: Located, rows: ArtifactRow[], opts: ViewOptions): Promise<Record<string, unknown>[]> {
    if (!rows.length) return [];
    const ids = rows.map((r) => r.id);
    const childDigests = rows.flatMap((r) => childrenOf(r).map((c) => c.digest));
    const [children, tags, labels, accessories] = await Promise.all([
      childDigests.length ? this.query.listArtifactsByDigests(loc.repo.id, childDigests) : Promise.resolve([]),
      opts.withTag ? this.query.listTagsOf(ids) : Promise.resolve([]),
      opts.withLabel ? this.query.listLabelsOf(ids) : Promise.resolve([]),
      opts.withAccessory || opts.withSignature ? this.accessoriesOf(loc, rows) : Promise.resolve(new Map<string, Record<string, unknown>[]>()),
    ]);
    const childBy = new Map(children.map((c) => [c.digest, c]));
    const childSize = (d: string) => {
      const c = childBy.get(d);
      return c ? sizeOf(c, () => undefined) : undefined;
    };
    const inherited = opts.withInheritedAccessory ? await this.inheritedOf(loc, rows, opts.withAccessory || opts.withSignature ? accessories : null) : new Map<string, Record<string, unknown>[]>();
    const extra = await this.extraAttrsOf(rows);
    const group = <T extends { artifactId: number }>(xs: T[]) => {
      const m = new Map<number, T[]>();
      for (const x of xs) m.set(x.artifactId, [...(m.get(x.artifactId) ?? []), x]);
      return m;
    };
    const tagsBy = group(tags);
    const immutable: TagMatcher = opts.withTag && opts.withImmutable && tags.length ? await this.immutability.matcher(loc.project.id) : () => false;
    const short = ArtifactService.shortName(loc);
    const labelsBy = group(labels);
    const repoPath = encodeRepo(loc.repo.name.slice(loc.project.name.length + 1));
    return rows.map((r) => {
      const type = artifactTypeOf(r);
      const refs = childrenOf(r).map((c) => ({
        parent_id: r.id,
        child_id: childBy.get(c.digest)?.id ?? 0,
        child_digest: c.digest,
        platform: c.platform ?? null,
        annotations: c.annotations ?? null,
        urls: c.urls ?? null,
      }));
      const links: Record<string, { href: string; absolute: boolean }> = {};
      for (const a of additionsOf(type))
        links[a] = { href: `/api/v2.0/projects/${loc.project.name}/repositories/${repoPath}/artifacts/${r.digest}/additions/${a}`, absolute: false };
      const t = tagsBy.get(r.id);
      const l = labelsBy.get(r.id);
      const acc = opts.withAccessory ? accessories.get(r.digest) : accessories.get(r.digest)?.filter((a) => String(a.type).startsWith('signature.'));
      return {
        id: r.id,
        type,
        media_type: mediaTypeOf(r),
        manifest_media_type: r.mediaType,
        artifact_type: r.artifactType ?? '',
        project_id: loc.project.id,
        repository_id: r.repositoryId,
        repository_name: r.repositoryName,
        digest: r.digest,
        size: sizeOf(r, childSize),
        icon: iconOfArtifactType(type),
        push_time: iso(r.pushTime),
        pull_time: iso(r.pullTime),
        extra_attrs: extra.get(r.id) ?? {},
        annotations: r.annotations ?? null,
        references: refs.length ? refs : null,
        tags: t?.length ? t.map((x) => tagView(x, immutable(short, x.name))) : null,
        addition_links: Object.keys(links).length ? links : null,
        labels: l?.length ? l.map(labelView) : null,
        accessories: acc?.length ? acc : null,
        ...(inherited.get(r.digest)?.length ? { inherited_accessories: inherited.get(r.digest) } : {}),
      };
    });
  }

  /** extra_attrs, read once from the config blob and cached on the manifest row. */
  private async extraAttrsOf(rows: ArtifactRow[]): Promise<Map<number, Record<string, unknown>>> {
    const out = new Map<number, Record<string, unknown>>();
    const missing: ArtifactRow[] = [];
    for (const r of rows) {
      if (r.extraAttrs !== null) out.set(r.id, safeJson(r.extraAttrs));
      else missing.push(r);
    }
    // A page never listed before reads its configs a few at a time; later lists use the cached column.
    const one = async (r: ArtifactRow) => {
      let attrs: Record<string, unknown> = {};
      const type = artifactTypeOf(r);
      const cfg = configOf(r);
      if (cfg && (type === ArtifactTypes.Image || type === ArtifactTypes.Chart || type === ArtifactTypes.Cnab || type === ArtifactTypes.Wasm) && cfg.size <= 4 * 1024 * 1024) {
        try {
          const config = JSON.parse((await readAll(this.store.read(cfg.digest), 4 * 1024 * 1024)).toString('utf8'));
          attrs = type === ArtifactTypes.Image ? imageExtraAttrs(config, r.annotations) : config && typeof config === 'object' ? config : {};
        } catch {
          attrs = {};
        }
      }
      out.set(r.id, attrs);
      await this.query.saveExtraAttrs(r.id, JSON.stringify(attrs)).catch(() => {});
    };
    for (let i = 0; i < missing.length; i += 8) await Promise.all(missing.slice(i, i + 8).map(one));
    return out;
  }

  /** Accessories of each row (by digest): referrers linked by subject, and cosign-tagged manifests. */
  private async accessoriesOf(loc: Located, rows: ArtifactRow[]): Promise<Map<string, Record<string, unknown>[]>> {
    const digests = rows.map((r) => r.digest);
    const idBy = new Map(rows.map((r) => [r.digest, r.id]));
    const [referrers, tagged] = await Promise.all([
      this.query.listReferrersOf(loc.repo.id, digests),
      this.query.listArtifactsByTagNames(loc.repo.id, digests.flatMap(cosignTagsFor)),
    ]);
    const out = new Map<string, Record<string, unknown>[]>();
    const seen = new Set<string>();
    const add = (subject: string, a: ArtifactRow, tag: string | null) => {
      const key = `${subject}\n${a.id}`;
      if (seen.has(key)) return;
      seen.add(key);
      out.set(subject, [
        ...(out.get(subject) ?? []),
        {
          id: a.id,
          artifact_id: a.id,
          subject_artifact_id: idBy.get(subject) ?? 0,
          subject_artifact_digest: subject,
          subject_artifact_repo: loc.repo.name,
          size: sizeOf(a, () => undefined),
          digest: a.digest,
          type: accessoryTypeOf(a, tag),
          icon: iconOfAccessoryType(accessoryTypeOf(a, tag)),
          creation_time: iso(a.pushTime),
        },
      ]);
    };
    for (const a of referrers) add(a.subjectDigest!, a, null);
    for (const a of tagged) {
      const subject = subjectOfCosignTag(a.tag);
      if (subject) add(subject, a, a.tag);
    }
    return out;
  }

  /** Signatures of the indexes that list each unsigned row (as Harbor's populateInheritedAccessories). */
  private async inheritedOf(loc: Located, rows: ArtifactRow[], own: Map<string, Record<string, unknown>[]> | null): Promise<Map<string, Record<string, unknown>[]>> {
    const out = new Map<string, Record<string, unknown>[]>();
    const isSig = (a: Record<string, unknown>) => a.type === 'signature.cosign' || a.type === 'signature.notation';
    const parents = await this.query.listParentsOf(loc.repo.id, rows.map((r) => r.digest));
    if (!parents.length) return out;
    const mine = own ?? (await this.accessoriesOf(loc, rows));
    const parentRows = await this.query.listArtifactsByDigests(loc.repo.id, parents.map((p) => p.parent));
    const theirs = await this.accessoriesOf(loc, parentRows);
    for (const { child, parent } of parents) {
      if ((mine.get(child) ?? []).some(isSig)) continue;
      const sigs = (theirs.get(parent) ?? []).filter(isSig);
      if (sigs.length) out.set(child, [...(out.get(child) ?? []), ...sigs]);
    }
    return out;
  }

  async listAccessories(loc: Located, reference: string, page: { limit: number; offset: number }): Promise<{ total: number; items: Record<string, unknown>[] }> {
    const row = await this.resolve(loc.repo, reference);
    const all = (await this.accessoriesOf(loc, [row])).get(row.digest) ?? [];
    return { total: all.length, items: all.slice(page.offset, page.offset + page.limit) };
  }

  // ---- delete

  /**
   * Deletes the artifact (named by tag or digest) with its tags, label links and accessories, and its children
   * that nothing else references or tags. Refused (412) while an index of the repository lists it.
   */
  async remove(actor: string, loc: Located, reference: string): Promise<void> {
    await this.db.tx(async (q) => {
      const row = await this.resolve(loc.repo, reference, q);
      if ((await this.query.listParentIds(loc.repo.id, row.digest, q)).length)
        throw ApiErrors.precondition('the deleting artifact is referenced by others');
      const accessories = [
        ...(await this.query.listReferrersOf(loc.repo.id, [row.digest])),
        ...(await this.query.listArtifactsByTagNames(loc.repo.id, cosignTagsFor(row.digest))),
      ];
      const tags = await this.manifestRows.listTagsOfManifest(row.id, q);
      // Harbor deletes the artifact's tags (and its accessories' tags) through the tag controller, which refuses immutable ones.
      const accessoryTags = accessories.flatMap((a) => ('tag' in a && typeof a.tag === 'string' ? [a.tag] : []));
      await this.assertDeletable(loc, [...tags, ...accessoryTags], q);
      await this.query.removeArtifact(row.id, q);
      for (const a of accessories) await this.query.removeArtifact(a.id, q);
      for (const c of childrenOf(row)) {
        const child = await this.query.findArtifactByDigest(loc.repo.id, c.digest, q);
        if (!child) continue;
        if ((await this.query.countTagsOf(child.id, q)) > 0) continue;
        if ((await this.query.listParentIds(loc.repo.id, child.digest, q)).length) continue;
        await this.query.removeArtifact(child.id, q);
      }
      // One DELETE_ARTIFACT for the artifact asked for (Harbor does not announce the accessories and children it takes along).
      await this.events.publish(q, [{ type: 'DELETE_ARTIFACT', operator: actor, projectId: loc.project.id, data: artifactRef(loc.project, loc.repo.name, row, tags) }]);
    });
  }

  // ---- copy

  /**
   * Copies an artifact into `target` (a repository name of `targetProject`) as Harbor does: its index children,
   * every tag of the artifact (not only the one named in `from`) and its accessories (referrers by subject and
   * cosign-tagged signatures, the latter with their tags). Every blob is linked under the same quota check as a
   * mount, then the manifests are stored children first. Returns the digest.
   */
  async copy(actor: string, targetProject: ProjectRef, target: string, source: Located, reference: string): Promise<string> {
    const root = await this.resolve(source.repo, reference);
    // Children first (depth-first), so each index finds its manifests in the target.
    const order: ArtifactRow[] = [];
    const visit = async (m: ArtifactRow, depth: number) => {
      if (depth > 4) throw ApiErrors.badRequest('index nesting is too deep');
      const kids = childrenOf(m).map((c) => c.digest);
      if (kids.length) {
        const rows = await this.query.listArtifactsByDigests(source.repo.id, kids);
        const by = new Map(rows.map((r) => [r.digest, r]));
        for (const d of kids) {
          const k = by.get(d);
          if (!k) throw ApiErrors.notFound(`manifest ${d} of the source index is missing`);
          if (!order.some((o) => o.digest === d)) await visit(k, depth + 1);
        }
      }
      order.push(m);
    };
    await visit(root, 0);
    const rootTags = (await this.query.listTagsOf([root.id])).map((t) => t.name);
    const referrers = await this.query.listReferrersOf(source.repo.id, [root.digest]);
    const signed = await this.query.listArtifactsByTagNames(source.repo.id, cosignTagsFor(root.digest));
    const accessories = [...referrers.map((a) => ({ row: a, tag: null as string | null })), ...signed.map((a) => ({ row: a, tag: a.tag }))].filter(
      (a) => !order.some((o) => o.digest === a.row.digest),
    );
    // Harbor's tag controller refuses to move an existing immutable tag of the target (checked again, atomically, by each put).
    const targetShort = target.slice(targetProject.name.length + 1);
    const immutable = await this.immutability.matcher(targetProject.id);
    for (const t of [...rootTags, ...accessories.flatMap((a) => (a.tag ? [a.tag] : []))]) {
      if (!immutable(targetShort, t)) continue;
      const existing = await this.query.findRepository(target);
      const at = existing ? await this.query.findArtifactByTag(existing.id, t) : null;
      if (at && at.digest !== (rootTags.includes(t) ? root.digest : accessories.find((a) => a.tag === t)?.row.digest)) throw immutableUpdateError(t);
    }
    const blobs = [...new Set([...order, ...accessories.map((a) => a.row)].flatMap((m) => parseManifest(m.content, m.mediaType).blobs))].sort();
    try {
      if (blobs.length)
        await this.db.tx(async (q) => {
          const repo = await this.repositories.saveRepositoryIfAbsent(target, targetProject.id, q);
          for (const d of blobs) {
            if ((await this.blobs.lockBlob(d, q)) !== 'live') throw ApiErrors.notFound(`blob ${d} of the source artifact is missing`);
            const size = (await this.blobs.findBlobSize(d, q)) ?? 0;
            await this.quota.assertRoom(targetProject.id, d, size, q, target);
            await this.blobs.saveBlobLink(repo.id, d, q);
          }
        });
      // Each stored manifest raises its PUSH_ARTIFACT (and so its audit row) as a push would; the root carries all its tags.
      for (const m of order) await this.manifests.put(target, targetProject, m.digest, m.content, m.mediaType, m === root ? rootTags : [], actor);
      for (const a of accessories) await this.manifests.put(target, targetProject, a.tag ?? a.row.digest, a.row.content, a.row.mediaType, [], actor);
    } catch (err) {
      if (err instanceof RegistryError && err.code === 'DENIED') throw ApiErrors.forbidden(err.message);
      if (err instanceof ImmutableTagError) throw immutableUpdateError(err.tag);
      throw err;
    }
    return root.digest;
  }

  // ---- tags

  async listTags(
    loc: Located,
    reference: string,
    filter: { nameLike: string | null; nameEq: string | null },
    sort: { byName: boolean; desc: boolean },
    page: { limit: number; offset: number },
    withImmutable = false,
  ): Promise<{ total: number; items: ReturnType<typeof tagView>[] }> {
    const row = await this.resolve(loc.repo, reference);
    const [total, rows, immutable] = await Promise.all([
      this.query.countTagsOfFiltered(row.id, filter.nameLike, filter.nameEq),
      this.query.listTagsPage(row.id, filter.nameLike, filter.nameEq, sort.desc, sort.byName, page.limit, page.offset),
      withImmutable ? this.immutability.matcher(loc.project.id) : Promise.resolve<TagMatcher>(() => false),
    ]);
    const short = ArtifactService.shortName(loc);
    return { total, items: rows.map((t) => tagView(t, immutable(short, t.name))) };
  }

  async createTag(actor: string, loc: Located, reference: string, name: unknown): Promise<void> {
    if (typeof name !== 'string' || !isValidTag(name)) throw ApiErrors.badRequest('invalid tag name');
    const row = await this.resolve(loc.repo, reference);
    await this.db.tx(async (q) => {
      const lock = q.dialect === 'postgres' ? ' FOR UPDATE' : '';
      // The artifact may have been deleted meanwhile: lock it, then refuse a name already in use.
      if (!(await q.get(`SELECT id FROM manifests WHERE id = ?${lock}`, [row.id]))) throw ApiErrors.notFound('artifact not found');
      // Atomic: of two concurrent creations of one name, exactly one wins; the other is a 409.
      if (!(await this.query.saveNewTag(loc.repo.id, name, row.id, q))) throw ApiErrors.conflict(`tag ${name} already exists in the repository`);
      await this.repositories.touchRepository(loc.repo.id, q);
      await this.events.publish(q, [{ type: 'CREATE_TAG', operator: actor, projectId: loc.project.id, data: artifactRef(loc.project, loc.repo.name, row, [name]) }]);
    });
  }

  async deleteTag(actor: string, loc: Located, reference: string, name: string): Promise<void> {
    const row = await this.resolve(loc.repo, reference);
    const t = await this.query.findTag(loc.repo.id, name);
    if (!t || t.manifestId !== row.id) throw ApiErrors.notFound(`tag ${name.slice(0, 128)} not found on the artifact`);
    await this.db.tx(async (q) => {
      await this.assertDeletable(loc, [name], q);
      if (!(await this.manifestRows.removeTag(loc.repo.id, name, q))) throw ApiErrors.notFound(`tag ${name.slice(0, 128)} not found`);
      await this.events.publish(q, [{ type: 'DELETE_TAG', operator: actor, projectId: loc.project.id, data: artifactRef(loc.project, loc.repo.name, row, [name]) }]);
    });
  }

  // ---- labels on artifacts

  /** A label usable in the project: global, or the project's own (another project's label is a 404). */
  private async usableLabel(loc: Located, labelId: number): Promise<LabelRow> {
    const l = await this.labels.findLabel(labelId);
    if (!l || (l.scope === 'p' && l.projectId !== loc.project.id)) throw ApiErrors.notFound(`label ${labelId} not found`);
    return l;
  }
  async addLabel(actor: string, loc: Located, reference: string, labelId: number): Promise<void> {
    const row = await this.resolve(loc.repo, reference);
    const l = await this.usableLabel(loc, labelId);
    if (!(await this.labels.saveArtifactLabel(row.id, l.id))) throw ApiErrors.conflict(`label ${l.id} is already added to the artifact`);
    await this.audit.record({ username: actor, operation: 'create', resourceType: 'artifact-label', resource: `${loc.repo.name}@${row.digest}:${l.id}`, projectId: loc.project.id });
  }
  async removeLabel(actor: string, loc: Located, reference: string, labelId: number): Promise<void> {
    const row = await this.resolve(loc.repo, reference);
    const l = await this.usableLabel(loc, labelId);
    if (!(await this.labels.removeArtifactLabel(row.id, l.id))) throw ApiErrors.notFound(`label ${l.id} is not added to the artifact`);
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'artifact-label', resource: `${loc.repo.name}@${row.digest}:${l.id}`, projectId: loc.project.id });
  }

  // ---- additions

  async addition(loc: Located, reference: string, name: string): Promise<{ contentType: string; body: Buffer }> {
    if (!(ADDITIONS as readonly string[]).includes(name)) throw ApiErrors.badRequest(`addition ${name.slice(0, 64)} is not supported`);
    const row = await this.resolve(loc.repo, reference);
    const type = artifactTypeOf(row);
    if (!additionsOf(type).includes(name)) throw ApiErrors.badRequest(`addition ${name} isn't supported for ${type}`);
    const json = (v: unknown) => ({ contentType: 'application/json; charset=utf-8', body: Buffer.from(JSON.stringify(v ?? null)) });
    if (name === 'build_history') {
      const cfg = configOf(row);
      if (!cfg) return json(null);
      const config = JSON.parse((await readAll(this.store.read(cfg.digest), 4 * 1024 * 1024)).toString('utf8'));
      return json(Array.isArray(config?.history) ? config.history : null);
    }
    const d = JSON.parse(row.content.toString('utf8')) as { layers?: { mediaType?: string; digest: string; size: number }[]; config?: { digest: string } };
    const layer = (d.layers ?? []).find((l) => l.mediaType === HELM_CHART_LAYER) ?? (d.layers ?? []).find((l) => l.digest !== d.config?.digest);
    if (!layer) throw ApiErrors.notFound('the chart has no content layer');
    let files;
    try {
      files = chartFiles(untarGz(await readAll(this.store.read(layer.digest), 32 * 1024 * 1024)));
    } catch (err) {
      if (err instanceof Error && 'status' in err) throw err;
      throw ApiErrors.badRequest('the chart archive cannot be read');
    }
    if (name === 'values.yaml') return { contentType: 'text/plain; charset=utf-8', body: Buffer.from(files.values) };
    if (name === 'readme.md') return { contentType: 'text/markdown; charset=utf-8', body: Buffer.from(files.readme) };
    const deps = (src: string) => {
      try {
        const y = parseYaml(src) as { dependencies?: unknown } | null;
        return Array.isArray(y?.dependencies) ? y.dependencies : null;
      } catch {
        return null;
      }
    };
    return json(deps(files.chartYaml) ?? deps(files.requirements) ?? []);
  }
}

function safeJson(s: string): Record<string, unknown> {
  try {
    const v = JSON.parse(s);
    return v && typeof v === 'object' ? v : {};
  } catch {
    return {};
  }
}
