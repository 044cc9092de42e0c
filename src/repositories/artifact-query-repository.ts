// Read models of the management API's artifact domain: repositories with their counts, artifacts (manifests)
// with filters and pages, and the tags/labels/accessories/children of one page, each loaded in ONE query.
// Accessories (manifests with a subject, or tagged `sha256-<hex>.sig|.att|.sbom` as cosign does) and
// untagged children of an index are not artifacts of their own in lists, as in Harbor.
import { inList, type Db, type Param, type Queryable } from '../db/db.ts';
import { escapeLike } from './member-repository.ts';
import { orderSql, whereSql, type ListQuery } from './list-query.ts';

export const INDEX_MEDIA_TYPES = ['application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json'];

export interface RepositoryRow {
  id: number;
  projectId: number;
  name: string;
  description: string;
  pullCount: number;
  createdAt: number;
  updatedAt: number;
}
interface RawRepository {
  id: number;
  project_id: number;
  name: string;
  description: string;
  pull_count: number;
  created_at: number;
  updated_at: number;
}
const toRepository = (r: RawRepository): RepositoryRow => ({
  id: Number(r.id),
  projectId: Number(r.project_id),
  name: r.name,
  description: r.description ?? '',
  pullCount: Number(r.pull_count ?? 0),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export type RepositoryField = 'name' | 'project_id' | 'creation_time' | 'update_time' | 'pull_count' | 'id';
const REPOSITORY_COLUMNS: Readonly<Record<RepositoryField, string>> = {
  name: 'r.name',
  project_id: 'r.project_id',
  creation_time: 'r.created_at',
  update_time: 'r.updated_at',
  pull_count: 'r.pull_count',
  id: 'r.id',
};
/** Projects whose repositories a list may show: all, or public ones plus these ids. */
export type RepositoryScope = { all: true } | { all: false; projectIds: readonly number[] };

export interface ArtifactRow {
  id: number;
  repositoryId: number;
  repositoryName: string;
  projectId: number;
  digest: string;
  mediaType: string;
  artifactType: string | null;
  configMediaType: string | null;
  size: number;
  content: Buffer;
  subjectDigest: string | null;
  annotations: Record<string, string> | null;
  pushTime: number;
  pullTime: number | null;
  extraAttrs: string | null;
}
interface RawArtifact {
  id: number;
  repository_id: number;
  repository_name: string;
  project_id: number;
  digest: string;
  media_type: string;
  artifact_type: string | null;
  config_media_type: string | null;
  size: number;
  content: Buffer | Uint8Array;
  subject_digest: string | null;
  annotations: string | null;
  created_at: number;
  pull_time: number | null;
  extra_attrs: string | null;
}
const toArtifact = (r: RawArtifact): ArtifactRow => ({
  id: Number(r.id),
  repositoryId: Number(r.repository_id),
  repositoryName: r.repository_name,
  projectId: Number(r.project_id),
  digest: r.digest,
  mediaType: r.media_type,
  artifactType: r.artifact_type,
  configMediaType: r.config_media_type,
  size: Number(r.size),
  content: Buffer.from(r.content),
  subjectDigest: r.subject_digest,
  annotations: r.annotations ? (JSON.parse(r.annotations) as Record<string, string>) : null,
  pushTime: Number(r.created_at),
  pullTime: r.pull_time === null || r.pull_time === undefined ? null : Number(r.pull_time),
  extraAttrs: r.extra_attrs,
});
const ARTIFACT_COLS = `m.id, m.repository_id, r.name AS repository_name, r.project_id, m.digest, m.media_type, m.artifact_type, m.config_media_type,
  m.size, m.content, m.subject_digest, m.annotations, m.created_at, m.pull_time, m.extra_attrs`;

export interface TagRow {
  id: number;
  repositoryId: number;
  artifactId: number;
  name: string;
  pushTime: number;
  pullTime: number | null;
}
export interface LabelRow {
  id: number;
  name: string;
  description: string;
  color: string;
  scope: string;
  projectId: number;
  createdAt: number;
  updatedAt: number;
}
interface RawLabel {
  id: number;
  name: string;
  description: string;
  color: string;
  scope: string;
  project_id: number;
  created_at: number;
  updated_at: number;
}
export const toLabel = (r: RawLabel): LabelRow => ({
  id: Number(r.id),
  name: r.name,
  description: r.description,
  color: r.color,
  scope: r.scope,
  projectId: Number(r.project_id),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

/** Artifact list filters (q), each rendered with bound parameters only. */
export interface ArtifactFilter {
  /** q=base=*: untagged children of an index are listed too. */
  all?: boolean;
  tags?: { op: 'any' } | { op: 'none' } | { op: 'eq'; value: string } | { op: 'like'; value: string };
  /** Artifacts carrying every one of these label ids. */
  labels?: number[];
  digest?: string[];
  mediaType?: string;
  /** The manifest's artifactType (q=artifact_type=...). */
  artifactType?: string;
  /** Pre-rendered type condition (from ArtifactService's type table): SQL over `m` with its params. */
  type?: [string, Param[]];
  pushTime?: { min: number | null; max: number | null };
  pullTime?: { min: number | null; max: number | null };
}
export type ArtifactSortField = 'push_time' | 'pull_time' | 'id' | 'digest' | 'media_type';
const ARTIFACT_SORT_COLUMNS: Readonly<Record<ArtifactSortField, string>> = {
  push_time: 'm.created_at',
  pull_time: 'm.pull_time',
  id: 'm.id',
  digest: 'm.digest',
  media_type: 'COALESCE(m.config_media_type, m.media_type)',
};

// A cosign accessory tag: sha256-<hex>.sig|.att|.sbom. The name range lets the (repository_id, name) key serve it.
const COSIGN_TAG = (t: string) =>
  `${t}.name >= 'sha256-' AND ${t}.name < 'sha256.' AND (${t}.name LIKE '%.sig' OR ${t}.name LIKE '%.att' OR ${t}.name LIKE '%.sbom')`;
// Both written as plain NOT EXISTS (no OR between subqueries), so PostgreSQL probes indexes per row of the ordered
// scan instead of hashing whole tables; the repository id lets the cosign check use the (repository_id, name) key
// and the child check uses the partial index on manifest_references(digest) WHERE kind = 'manifest'.
const NOT_ACCESSORY = `m.subject_digest IS NULL AND NOT EXISTS (SELECT 1 FROM tags ct WHERE ct.repository_id = m.repository_id AND ct.manifest_id = m.id AND ${COSIGN_TAG('ct')})`;
const NOT_UNTAGGED_CHILD = `NOT EXISTS (SELECT 1 FROM manifest_references mr JOIN manifests pm ON pm.id = mr.manifest_id
  WHERE mr.digest = m.digest AND mr.kind = 'manifest' AND pm.repository_id = m.repository_id
  AND NOT EXISTS (SELECT 1 FROM tags t0 WHERE t0.manifest_id = m.id))`;

const chunks = <T>(xs: readonly T[], n = 400): T[][] => {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
};

export class ArtifactQueryRepository {
  private readonly db: Queryable;
  private readonly txDb: Db | null;
  /** With a Db, count rows are folded now and then (see manifestCounts). */
  constructor(db: Queryable | Db) {
    this.db = db;
    this.txDb = 'tx' in db ? db : null;
  }
  private tagIdCol(q: Queryable = this.db): string {
    return q.dialect === 'sqlite' ? 't.rowid' : 't.id';
  }

  // ---- repositories

  async findRepository(name: string, q: Queryable = this.db): Promise<RepositoryRow | null> {
    const r = await q.get<RawRepository>('SELECT * FROM repositories r WHERE r.name = ?', [name]);
    return r ? toRepository(r) : null;
  }
  private scopeSql(s: RepositoryScope): [string, Param[]] {
    if (s.all) return ['', []];
    const ids = s.projectIds;
    return [
      ` AND r.project_id IN (SELECT p.id FROM projects p WHERE p.public = 1${ids.length ? ` OR p.id IN (${inList(ids.length)})` : ''})`,
      [...ids],
    ];
  }
  async countRepositories(scope: RepositoryScope, where: ListQuery<RepositoryField>['where']): Promise<number> {
    const [s, sp] = this.scopeSql(scope);
    const [w, wp] = whereSql(REPOSITORY_COLUMNS, where);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM repositories r WHERE 1 = 1${s}${w}`, [...sp, ...wp]);
    return Number(r?.n ?? 0);
  }
  async listRepositories(scope: RepositoryScope, q: ListQuery<RepositoryField>): Promise<RepositoryRow[]> {
    const [s, sp] = this.scopeSql(scope);
    const [w, wp] = whereSql(REPOSITORY_COLUMNS, q.where);
    const order = orderSql(REPOSITORY_COLUMNS, q.sort, q.sort.length ? 'r.id' : 'r.created_at DESC, r.id DESC');
    const rows = await this.db.all<RawRepository>(`SELECT r.* FROM repositories r WHERE 1 = 1${s}${w}${order} LIMIT ? OFFSET ?`, [
      ...sp,
      ...wp,
      q.limit,
      q.offset,
    ]);
    return rows.map(toRepository);
  }
  async updateRepositoryDescription(id: number, description: string): Promise<void> {
    await this.db.run('UPDATE repositories SET description = ?, updated_at = ? WHERE id = ?', [description, Date.now(), id]);
  }
  /** Deletes the repository row; manifests, tags, references, labels links and blob links go with it (cascade). */
  async removeRepository(id: number, q: Queryable = this.db): Promise<boolean> {
    const ok = (await q.run('DELETE FROM repositories WHERE id = ?', [id])).changes > 0;
    await q.run('DELETE FROM repository_artifact_counts WHERE repository_id = ?', [id]);
    return ok;
  }
  /**
   * Manifests without a subject per repository, from the trigger-maintained +1/-1 rows (not a scan of the
   * manifests). Repositories with many rows get them folded into one (best effort, concurrent folds are safe:
   * each deleted row is re-added exactly once, by the transaction that deleted it).
   */
  private async manifestCounts(ids: readonly number[], q: Queryable): Promise<Map<number, number>> {
    const rows = await q.all<{ repository_id: number; n: number; k: number; last: number }>(
      `SELECT repository_id, SUM(delta) AS n, COUNT(*) AS k, MAX(id) AS last FROM repository_artifact_counts WHERE repository_id IN (${inList(ids.length)}) GROUP BY repository_id`,
      [...ids],
    );
    const out = new Map<number, number>();
    for (const r of rows) {
      out.set(Number(r.repository_id), Number(r.n));
      // In the background: a read never waits for the writer (SQLite) or for row locks.
      const id = Number(r.repository_id);
      if (Number(r.k) > 32 && this.txDb && !this.folding.has(id)) {
        this.folding.add(id);
        void this.foldCounts(this.txDb, id, Number(r.last))
          .catch(() => {})
          .finally(() => this.folding.delete(id));
      }
    }
    return out;
  }
  private readonly folding = new Set<number>();
  private foldCounts(db: Db, repositoryId: number, lastId: number): Promise<void> {
    return db.tx(async (q) => {
      const gone = await q.all<{ delta: number }>('DELETE FROM repository_artifact_counts WHERE repository_id = ? AND id <= ? RETURNING delta', [repositoryId, lastId]);
      const sum = gone.reduce((a, r) => a + Number(r.delta), 0);
      if (gone.length) await q.run('INSERT INTO repository_artifact_counts (repository_id, delta) VALUES (?, ?)', [repositoryId, sum]);
    });
  }

  /**
   * Artifact counts of several repositories, each the size of the default artifact list: manifests without a
   * subject, minus those tagged as cosign accessories, minus untagged children of an index. Three grouped
   * queries over indexes, whatever the number of manifests.
   */
  async countArtifacts(repositoryIds: readonly number[], includeChildren = false, q: Queryable = this.db): Promise<Map<number, number>> {
    const out = new Map<number, number>(repositoryIds.map((id) => [id, 0]));
    for (const part of chunks(repositoryIds)) {
      for (const [id, n] of await this.manifestCounts(part, q)) out.set(id, n);
      const cosign = await q.all<{ repository_id: number; n: number }>(
        `SELECT m.repository_id, COUNT(DISTINCT m.id) AS n FROM tags t JOIN manifests m ON m.id = t.manifest_id
         WHERE t.repository_id IN (${inList(part.length)}) AND ${COSIGN_TAG('t')} AND m.subject_digest IS NULL GROUP BY m.repository_id`,
        [...part],
      );
      for (const r of cosign) out.set(Number(r.repository_id), out.get(Number(r.repository_id))! - Number(r.n));
      if (includeChildren) continue;
      const children = await q.all<{ repository_id: number; n: number }>(
        // From the (few) indexes to their children, never a scan of every manifest of the repository.
        `SELECT c.repository_id, COUNT(*) AS n FROM manifests c WHERE c.id IN (
           SELECT c2.id FROM manifests pm
           JOIN manifest_references mr ON mr.manifest_id = pm.id AND mr.kind = 'manifest'
           JOIN manifests c2 ON c2.repository_id = pm.repository_id AND c2.digest = mr.digest
           WHERE pm.repository_id IN (${inList(part.length)}) AND pm.media_type IN (${inList(INDEX_MEDIA_TYPES.length)}))
         AND c.subject_digest IS NULL AND NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = c.id)
         GROUP BY c.repository_id`,
        [...part, ...INDEX_MEDIA_TYPES],
      );
      for (const r of children) out.set(Number(r.repository_id), out.get(Number(r.repository_id))! - Number(r.n));
    }
    return out;
  }

  /**
   * Artifacts per project grouped by the columns their type derives from (artifactTypeOfColumns), for /metrics.
   * As Harbor's artifact table, index children count; accessories (subject or cosign tag) do not.
   */
  async countArtifactsByProjectAndKind(): Promise<{ projectId: number; mediaType: string; configMediaType: string | null; artifactType: string | null; n: number }[]> {
    const rows = await this.db.all<{ project_id: unknown; media_type: string; config_media_type: string | null; artifact_type: string | null; n: unknown }>(
      `SELECT r.project_id, m.media_type, m.config_media_type, m.artifact_type, COUNT(*) AS n FROM manifests m JOIN repositories r ON r.id = m.repository_id
       WHERE ${NOT_ACCESSORY} GROUP BY r.project_id, m.media_type, m.config_media_type, m.artifact_type`,
    );
    return rows.map((r) => ({ projectId: Number(r.project_id), mediaType: r.media_type, configMediaType: r.config_media_type, artifactType: r.artifact_type, n: Number(r.n) }));
  }

  // ---- artifacts

  private filterSql(f: ArtifactFilter): [string, Param[]] {
    let sql = ` AND ${NOT_ACCESSORY}`;
    const params: Param[] = [];
    if (!f.all) sql += ` AND ${NOT_UNTAGGED_CHILD}`;
    const t = f.tags;
    if (t?.op === 'any') sql += ' AND EXISTS (SELECT 1 FROM tags ft WHERE ft.manifest_id = m.id)';
    else if (t?.op === 'none') sql += ' AND NOT EXISTS (SELECT 1 FROM tags ft WHERE ft.manifest_id = m.id)';
    else if (t?.op === 'eq') {
      sql += ' AND EXISTS (SELECT 1 FROM tags ft WHERE ft.manifest_id = m.id AND ft.name = ?)';
      params.push(t.value);
    } else if (t?.op === 'like') {
      sql += ` AND EXISTS (SELECT 1 FROM tags ft WHERE ft.manifest_id = m.id AND LOWER(ft.name) LIKE ? ESCAPE '\\')`;
      params.push(`%${escapeLike(t.value.toLowerCase())}%`);
    }
    for (const id of f.labels ?? []) {
      sql += ' AND EXISTS (SELECT 1 FROM artifact_labels al WHERE al.manifest_id = m.id AND al.label_id = ?)';
      params.push(id);
    }
    if (f.digest) {
      sql += f.digest.length ? ` AND m.digest IN (${inList(f.digest.length)})` : ' AND 1 = 0';
      params.push(...f.digest);
    }
    if (f.mediaType !== undefined) {
      sql += ' AND COALESCE(m.config_media_type, m.media_type) = ?';
      params.push(f.mediaType);
    }
    if (f.artifactType !== undefined) {
      sql += ' AND m.artifact_type = ?';
      params.push(f.artifactType);
    }
    if (f.type) {
      sql += ` AND (${f.type[0]})`;
      params.push(...f.type[1]);
    }
    for (const [col, range] of [
      ['m.created_at', f.pushTime],
      ['m.pull_time', f.pullTime],
    ] as const) {
      if (range?.min !== null && range?.min !== undefined) {
        sql += ` AND ${col} >= ?`;
        params.push(range.min);
      }
      if (range?.max !== null && range?.max !== undefined) {
        sql += ` AND ${col} <= ?`;
        params.push(range.max);
      }
    }
    return [sql, params];
  }
  static isPlainFilter(f: ArtifactFilter): boolean {
    return !f.tags && !f.labels?.length && !f.digest && f.mediaType === undefined && f.artifactType === undefined && !f.type && !f.pushTime && !f.pullTime;
  }
  async countArtifactsFiltered(repositoryId: number, f: ArtifactFilter): Promise<number> {
    if (ArtifactQueryRepository.isPlainFilter(f)) return (await this.countArtifacts([repositoryId], !!f.all)).get(repositoryId) ?? 0;
    const [w, p] = this.filterSql(f);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM manifests m WHERE m.repository_id = ?${w}`, [repositoryId, ...p]);
    return Number(r?.n ?? 0);
  }
  async listArtifacts(
    repositoryId: number,
    f: ArtifactFilter,
    sort: { field: ArtifactSortField; desc: boolean }[],
    limit: number,
    offset: number,
  ): Promise<ArtifactRow[]> {
    const [w, p] = this.filterSql(f);
    const order = orderSql(ARTIFACT_SORT_COLUMNS, sort, sort.length ? 'm.id DESC' : 'm.created_at DESC, m.id DESC');
    // The page's ids first (the ordered index scan stops after limit + offset rows), then their rows.
    const ids = await this.db.all<{ id: number }>(`SELECT m.id FROM manifests m WHERE m.repository_id = ?${w}${order} LIMIT ? OFFSET ?`, [
      repositoryId,
      ...p,
      limit,
      offset,
    ]);
    if (!ids.length) return [];
    const rows = await this.db.all<RawArtifact>(
      `SELECT ${ARTIFACT_COLS} FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE m.id IN (${inList(ids.length)})`,
      ids.map((r) => r.id),
    );
    const byId = new Map(rows.map((r) => [Number(r.id), toArtifact(r)]));
    return ids.map((r) => byId.get(Number(r.id))!).filter(Boolean);
  }
  /**
   * Harbor's latest_in_repository: only the newest artifact (push time, then id) of each repository among those
   * with the same media type or artifact type (the one of the two the filter names).
   */
  private latestSql(f: ArtifactFilter): [string, Param[]] {
    // Accessories (signatures, referrers) are never "the latest artifact" of a repository.
    const newer = `m2.repository_id = m.repository_id AND (m2.created_at > m.created_at OR (m2.created_at = m.created_at AND m2.id > m.id)) AND ${NOT_ACCESSORY.replace(/\bm\./g, 'm2.')}`;
    if (f.mediaType !== undefined)
      return [` AND NOT EXISTS (SELECT 1 FROM manifests m2 WHERE ${newer} AND COALESCE(m2.config_media_type, m2.media_type) = ?)`, [f.mediaType]];
    return [` AND NOT EXISTS (SELECT 1 FROM manifests m2 WHERE ${newer} AND m2.artifact_type = ?)`, [f.artifactType ?? '']];
  }
  /** Artifacts of every repository of a project (GET /projects/{p}/artifacts). */
  async countProjectArtifacts(projectId: number, f: ArtifactFilter, latest: boolean): Promise<number> {
    const [w, p] = this.filterSql(f);
    const [lw, lp] = latest ? this.latestSql(f) : ['', []];
    const r = await this.db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.project_id = ?${w}${lw}`,
      [projectId, ...p, ...lp],
    );
    return Number(r?.n ?? 0);
  }
  async listProjectArtifacts(
    projectId: number,
    f: ArtifactFilter,
    latest: boolean,
    sort: { field: ArtifactSortField; desc: boolean }[],
    limit: number,
    offset: number,
  ): Promise<ArtifactRow[]> {
    const [w, p] = this.filterSql(f);
    const [lw, lp] = latest ? this.latestSql(f) : ['', []];
    const order = orderSql(ARTIFACT_SORT_COLUMNS, sort, sort.length ? 'm.id DESC' : 'm.created_at DESC, m.id DESC');
    const rows = await this.db.all<RawArtifact>(
      `SELECT ${ARTIFACT_COLS} FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE r.project_id = ?${w}${lw}${order} LIMIT ? OFFSET ?`,
      [projectId, ...p, ...lp, limit, offset],
    );
    return rows.map(toArtifact);
  }
  async findArtifactByDigest(repositoryId: number, digest: string, q: Queryable = this.db): Promise<ArtifactRow | null> {
    const r = await q.get<RawArtifact>(
      `SELECT ${ARTIFACT_COLS} FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE m.repository_id = ? AND m.digest = ?`,
      [repositoryId, digest],
    );
    return r ? toArtifact(r) : null;
  }
  async findArtifactByTag(repositoryId: number, tag: string, q: Queryable = this.db): Promise<ArtifactRow | null> {
    const r = await q.get<RawArtifact>(
      `SELECT ${ARTIFACT_COLS} FROM tags t JOIN manifests m ON m.id = t.manifest_id JOIN repositories r ON r.id = m.repository_id
       WHERE t.repository_id = ? AND t.name = ?`,
      [repositoryId, tag],
    );
    return r ? toArtifact(r) : null;
  }
  /** Manifests of the repository with these digests (index children), in one query per 400. */
  async listArtifactsByDigests(repositoryId: number, digests: readonly string[]): Promise<ArtifactRow[]> {
    const out: ArtifactRow[] = [];
    for (const part of chunks([...new Set(digests)])) {
      const rows = await this.db.all<RawArtifact>(
        `SELECT ${ARTIFACT_COLS} FROM manifests m JOIN repositories r ON r.id = m.repository_id WHERE m.repository_id = ? AND m.digest IN (${inList(part.length)})`,
        [repositoryId, ...part],
      );
      out.push(...rows.map(toArtifact));
    }
    return out;
  }
  async saveExtraAttrs(id: number, json: string): Promise<void> {
    await this.db.run('UPDATE manifests SET extra_attrs = ? WHERE id = ?', [json, id]);
  }
  /** Ids of the manifests of the repository whose index lists `digest` (other than `exceptId`). */
  async listParentIds(repositoryId: number, digest: string, q: Queryable = this.db): Promise<number[]> {
    const rows = await q.all<{ id: number }>(
      `SELECT pm.id FROM manifest_references mr JOIN manifests pm ON pm.id = mr.manifest_id
       WHERE mr.digest = ? AND mr.kind = 'manifest' AND pm.repository_id = ?`,
      [digest, repositoryId],
    );
    return rows.map((r) => Number(r.id));
  }
  /** The manifests of the repository whose index lists `digest`. */
  async listParentManifests(repositoryId: number, digest: string, q: Queryable = this.db): Promise<{ id: number; digest: string }[]> {
    const rows = await q.all<{ id: number; digest: string }>(
      `SELECT pm.id, pm.digest FROM manifest_references mr JOIN manifests pm ON pm.id = mr.manifest_id
       WHERE mr.digest = ? AND mr.kind = 'manifest' AND pm.repository_id = ?`,
      [digest, repositoryId],
    );
    return rows.map((r) => ({ id: Number(r.id), digest: r.digest }));
  }
  /** (child digest, parent digest) for every index of the repository listing one of `digests`. */
  async listParentsOf(repositoryId: number, digests: readonly string[]): Promise<{ child: string; parent: string }[]> {
    const out: { child: string; parent: string }[] = [];
    for (const part of chunks([...new Set(digests)])) {
      const rows = await this.db.all<{ child: string; parent: string }>(
        `SELECT mr.digest AS child, pm.digest AS parent FROM manifest_references mr JOIN manifests pm ON pm.id = mr.manifest_id
         WHERE mr.kind = 'manifest' AND pm.repository_id = ? AND mr.digest IN (${inList(part.length)}) ORDER BY pm.id`,
        [repositoryId, ...part],
      );
      out.push(...rows);
    }
    return out;
  }
  async listTagNamesOfManifest(manifestId: number, q: Queryable = this.db): Promise<string[]> {
    return (await q.all<{ name: string }>('SELECT name FROM tags WHERE manifest_id = ? ORDER BY name', [manifestId])).map((r) => r.name);
  }
  async countTagsOf(manifestId: number, q: Queryable = this.db): Promise<number> {
    const r = await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM tags WHERE manifest_id = ?', [manifestId]);
    return Number(r?.n ?? 0);
  }
  async removeArtifact(id: number, q: Queryable): Promise<boolean> {
    return (await q.run('DELETE FROM manifests WHERE id = ?', [id])).changes > 0;
  }

  // ---- tags, labels, accessories of a page

  async listTagsOf(manifestIds: readonly number[]): Promise<TagRow[]> {
    const out: TagRow[] = [];
    for (const part of chunks(manifestIds)) {
      const rows = await this.db.all<{ id: number; repository_id: number; manifest_id: number; name: string; updated_at: number; pull_time: number | null }>(
        `SELECT ${this.tagIdCol()} AS id, t.repository_id, t.manifest_id, t.name, t.updated_at, t.pull_time FROM tags t
         WHERE t.manifest_id IN (${inList(part.length)}) ORDER BY t.name`,
        [...part],
      );
      for (const r of rows)
        out.push({
          id: Number(r.id),
          repositoryId: Number(r.repository_id),
          artifactId: Number(r.manifest_id),
          name: r.name,
          pushTime: Number(r.updated_at),
          pullTime: r.pull_time === null || r.pull_time === undefined ? null : Number(r.pull_time),
        });
    }
    return out;
  }
  async countTagsOfFiltered(manifestId: number, nameLike: string | null, nameEq: string | null): Promise<number> {
    const [w, p] = this.tagWhere(nameLike, nameEq);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM tags t WHERE t.manifest_id = ?${w}`, [manifestId, ...p]);
    return Number(r?.n ?? 0);
  }
  private tagWhere(nameLike: string | null, nameEq: string | null): [string, Param[]] {
    if (nameEq !== null) return [' AND t.name = ?', [nameEq]];
    if (nameLike !== null) return [` AND LOWER(t.name) LIKE ? ESCAPE '\\'`, [`%${escapeLike(nameLike.toLowerCase())}%`]];
    return ['', []];
  }
  async listTagsPage(manifestId: number, nameLike: string | null, nameEq: string | null, desc: boolean, byName: boolean, limit: number, offset: number): Promise<TagRow[]> {
    const [w, p] = this.tagWhere(nameLike, nameEq);
    const order = byName ? `t.name ${desc ? 'DESC' : 'ASC'}` : `t.updated_at ${desc ? 'DESC' : 'ASC'}, t.name`;
    const rows = await this.db.all<{ id: number; repository_id: number; manifest_id: number; name: string; updated_at: number; pull_time: number | null }>(
      `SELECT ${this.tagIdCol()} AS id, t.repository_id, t.manifest_id, t.name, t.updated_at, t.pull_time FROM tags t
       WHERE t.manifest_id = ?${w} ORDER BY ${order} LIMIT ? OFFSET ?`,
      [manifestId, ...p, limit, offset],
    );
    return rows.map((r) => ({
      id: Number(r.id),
      repositoryId: Number(r.repository_id),
      artifactId: Number(r.manifest_id),
      name: r.name,
      pushTime: Number(r.updated_at),
      pullTime: r.pull_time === null || r.pull_time === undefined ? null : Number(r.pull_time),
    }));
  }
  /** Inserts a tag unless the repository has one of that name (on any artifact); false then. */
  async saveNewTag(repositoryId: number, name: string, manifestId: number, q: Queryable): Promise<boolean> {
    const now = Date.now();
    const r = await q.run('INSERT INTO tags (repository_id, name, manifest_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (repository_id, name) DO NOTHING', [
      repositoryId,
      name,
      manifestId,
      now,
      now,
    ]);
    return r.changes > 0;
  }
  /** Every tag name of the repository. */
  async listTagNamesOfRepository(repositoryId: number, q: Queryable = this.db): Promise<string[]> {
    return (await q.all<{ name: string }>('SELECT name FROM tags WHERE repository_id = ?', [repositoryId])).map((r) => r.name);
  }
  async findTag(repositoryId: number, name: string): Promise<{ manifestId: number } | null> {
    const r = await this.db.get<{ manifest_id: number }>('SELECT manifest_id FROM tags WHERE repository_id = ? AND name = ?', [repositoryId, name]);
    return r ? { manifestId: Number(r.manifest_id) } : null;
  }
  async listLabelsOf(manifestIds: readonly number[]): Promise<(LabelRow & { artifactId: number })[]> {
    const out: (LabelRow & { artifactId: number })[] = [];
    for (const part of chunks(manifestIds)) {
      const rows = await this.db.all<RawLabel & { manifest_id: number }>(
        `SELECT al.manifest_id, l.* FROM artifact_labels al JOIN labels l ON l.id = al.label_id WHERE al.manifest_id IN (${inList(part.length)}) ORDER BY l.name, l.id`,
        [...part],
      );
      for (const r of rows) out.push({ ...toLabel(r), artifactId: Number(r.manifest_id) });
    }
    return out;
  }
  /** Manifests of the repository whose subject is one of `digests`. */
  async listReferrersOf(repositoryId: number, digests: readonly string[]): Promise<ArtifactRow[]> {
    const out: ArtifactRow[] = [];
    for (const part of chunks([...new Set(digests)])) {
      const rows = await this.db.all<RawArtifact>(
        `SELECT ${ARTIFACT_COLS} FROM manifests m JOIN repositories r ON r.id = m.repository_id
         WHERE m.repository_id = ? AND m.subject_digest IN (${inList(part.length)}) ORDER BY m.id`,
        [repositoryId, ...part],
      );
      out.push(...rows.map(toArtifact));
    }
    return out;
  }
  /** Manifests of the repository tagged with one of these names, with the tag. */
  async listArtifactsByTagNames(repositoryId: number, names: readonly string[]): Promise<(ArtifactRow & { tag: string })[]> {
    const out: (ArtifactRow & { tag: string })[] = [];
    for (const part of chunks([...new Set(names)])) {
      const rows = await this.db.all<RawArtifact & { tag: string }>(
        `SELECT t.name AS tag, ${ARTIFACT_COLS} FROM tags t JOIN manifests m ON m.id = t.manifest_id JOIN repositories r ON r.id = m.repository_id
         WHERE t.repository_id = ? AND t.name IN (${inList(part.length)}) ORDER BY m.id`,
        [repositoryId, ...part],
      );
      out.push(...rows.map((r) => ({ ...toArtifact(r), tag: r.tag })));
    }
    return out;
  }

  // ---- pulls (batched by PullRecorder)

  async savePulls(
    manifests: readonly { id: number; time: number }[],
    tags: readonly { repositoryId: number; name: string; time: number }[],
    repositories: readonly { id: number; count: number }[],
    q: Queryable,
  ): Promise<void> {
    for (const m of manifests) await q.run('UPDATE manifests SET pull_time = ? WHERE id = ? AND (pull_time IS NULL OR pull_time < ?)', [m.time, m.id, m.time]);
    for (const t of tags)
      await q.run('UPDATE tags SET pull_time = ? WHERE repository_id = ? AND name = ? AND (pull_time IS NULL OR pull_time < ?)', [t.time, t.repositoryId, t.name, t.time]);
    for (const r of [...repositories].sort((a, b) => a.id - b.id)) await q.run('UPDATE repositories SET pull_count = pull_count + ? WHERE id = ?', [r.count, r.id]);
  }
}
