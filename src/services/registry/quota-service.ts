// Per-project storage quotas counted on deduplicated blob size (a blob linked in two repositories of a project
// counts once; in two projects, once in each). -1 is unlimited; projects without their own limit use
// quota.default_storage_limit. Usage is computed from the links at check time under a lock on the project row,
// so it is exact after deletes, GC and mounts, and concurrent commits into one project cannot both pass.
import type { Db, Queryable } from '../../db/db.ts';
import { ApiErrors, Errors } from '../../errors.ts';
import type { QuotaRepository } from '../../repositories/quota-repository.ts';

export interface Quota {
  id: number;
  projectId: number;
  projectName: string;
  /** Bytes; -1 unlimited. */
  hard: number;
  used: number;
  createdAt: number;
  updatedAt: number;
}

/** A storage limit from a request: an integer ≥ -1 (bytes), or a 400. */
export function parseStorageLimit(v: unknown, name = 'storage'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < -1) throw ApiErrors.badRequest(`${name} must be -1 (unlimited) or a number of bytes`);
  return v;
}

export class QuotaService {
  private readonly db: Db;
  private readonly quotas: QuotaRepository;
  private readonly defaultLimit: number;
  constructor(deps: { db: Db; quotas: QuotaRepository; defaultStorageLimit: number }) {
    this.db = deps.db;
    this.quotas = deps.quotas;
    this.defaultLimit = deps.defaultStorageLimit;
  }

  private effective(stored: number | null): number {
    return stored === null ? this.defaultLimit : stored;
  }

  /**
   * Throws DENIED when linking `digest` (`size` bytes) into the project would exceed its limit. Pass the
   * transaction that creates the link: the project row is locked until it commits. Without `q` it is only an
   * early check (the caller re-checks in its transaction).
   */
  async assertRoom(projectId: number, digest: string, size: number, q?: Queryable): Promise<void> {
    const db = q ?? this.db;
    const limitNow = async () => {
      const stored = await this.quotas.findStorageLimit(projectId, db);
      return stored === undefined ? -1 : this.effective(stored);
    };
    // Unlimited projects take no lock, so their commits are not serialized.
    let limit = await limitNow();
    if (limit < 0) return;
    if (q) {
      await this.quotas.lockProject(projectId, q);
      limit = await limitNow();
      if (limit < 0) return;
    }
    if (await this.quotas.isBlobLinkedInProject(projectId, digest, db)) return;
    const used = await this.quotas.storageUsage(projectId, db);
    if (used + size > limit)
      throw Errors.denied(
        `adding this blob (${size} bytes) exceeds the project's storage quota: ${used} of ${limit} bytes used`,
      );
  }

  private async toQuota(p: { id: number; name: string; storageLimit: number | null; createdAt: number; updatedAt: number }): Promise<Quota> {
    return {
      id: p.id,
      projectId: p.id,
      projectName: p.name,
      hard: this.effective(p.storageLimit),
      used: await this.quotas.storageUsage(p.id),
      createdAt: p.createdAt,
      updatedAt: p.updatedAt,
    };
  }

  /** The quota of a project (its id is the project's id), or null. */
  async get(id: number): Promise<Quota | null> {
    const p = await this.quotas.findProject(id);
    return p ? this.toQuota(p) : null;
  }

  async list(limit: number, offset: number): Promise<{ total: number; items: Quota[] }> {
    const [total, rows] = await Promise.all([this.quotas.countProjects(), this.quotas.listProjects(limit, offset)]);
    const items: Quota[] = [];
    for (const p of rows) items.push(await this.toQuota(p));
    return { total, items };
  }

  /** Sets a project's limit (-1 unlimited); false when there is no such project. */
  async setLimit(id: number, limit: number, q?: Queryable): Promise<boolean> {
    return this.quotas.saveStorageLimit(id, limit, q);
  }
}
