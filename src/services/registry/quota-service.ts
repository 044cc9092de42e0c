// Per-project storage quotas counted on deduplicated blob size (a blob linked in two repositories of a project
// counts once; in two projects, once in each). -1 is unlimited; projects without their own limit use
// quota.default_storage_limit. Usage is computed from the links at check time under a lock on the project row,
// so it is exact after deletes, GC and mounts, and concurrent commits into one project cannot both pass.
import type { Db, Queryable } from '../../db/db.ts';
import { ApiErrors, Errors } from '../../errors.ts';
import type { QuotaRepository } from '../../repositories/quota-repository.ts';
import type { EventPublisher, NewEvent } from '../events/types.ts';

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

/** Harbor's largest limited quota (types.MaxLimitedValue, 1024 TiB). */
export const MAX_STORAGE_LIMIT = 1_125_899_906_842_624;

/** A storage limit from a request: -1 (unlimited) or 1 … MAX_STORAGE_LIMIT bytes, else a 400 with Harbor's text. */
export function parseStorageLimit(v: unknown, name = 'storage'): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw ApiErrors.badRequest(`${name} must be -1 (unlimited) or a number of bytes`);
  // Harbor's lib.ValidateQuotaLimit: -1 is unlimited, 0 and below are refused, at most 1024 TiB.
  if (v <= 0 && v !== -1) throw ApiErrors.badRequest(`invalid non-positive value for quota limit, value=${v}`);
  if (v > MAX_STORAGE_LIMIT) throw ApiErrors.badRequest(`exceeded 1024TB, which is ${MAX_STORAGE_LIMIT} Bytes, value=${v}`);
  return v;
}

/** Usage at or above this share of the limit records a quota warning event (Harbor warns at 85%). */
export const QUOTA_WARNING_RATIO = 0.85;

/** Fields Harbor's quota list sorts on. */
export const QUOTA_SORT_FIELDS = ['hard.storage', 'used.storage', 'creation_time', 'update_time'] as const;
export type QuotaSortField = (typeof QUOTA_SORT_FIELDS)[number];

export class QuotaService {
  private readonly db: Db;
  private readonly quotas: QuotaRepository;
  private readonly defaultLimit: number;
  private readonly events: EventPublisher | null;
  private readonly onError: (err: unknown) => void;
  constructor(deps: { db: Db; quotas: QuotaRepository; defaultStorageLimit: number; events?: EventPublisher; onError?: (err: unknown) => void }) {
    this.onError = deps.onError ?? (() => {});
    this.db = deps.db;
    this.quotas = deps.quotas;
    this.defaultLimit = deps.defaultStorageLimit;
    this.events = deps.events ?? null;
  }

  private effective(stored: number | null): number {
    return stored === null ? this.defaultLimit : stored;
  }

  /**
   * Throws DENIED when linking blob `digest` (`size` bytes) into the project would exceed its limit. Pass the
   * transaction that creates the link: the project row is locked until it commits. Without `q` it is only an
   * early check (the caller re-checks in its transaction).
   */
  assertRoom(projectId: number, digest: string, size: number, q?: Queryable, repository = ''): Promise<void> {
    return this.check(projectId, 'blob', digest, size, q, repository);
  }

  /** The same check for a manifest PUT: a manifest already stored in the project costs nothing more. */
  assertManifestRoom(projectId: number, digest: string, size: number, q?: Queryable, repository = ''): Promise<void> {
    return this.check(projectId, 'manifest', digest, size, q, repository);
  }

  private async check(projectId: number, kind: 'blob' | 'manifest', digest: string, size: number, q: Queryable | undefined, repository: string): Promise<void> {
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
    const present = kind === 'blob' ? await this.quotas.isBlobLinkedInProject(projectId, digest, db) : await this.quotas.isManifestInProject(projectId, digest, db);
    if (present) return;
    const used = await this.quotas.storageUsage(projectId, db);
    if (used + size > limit) {
      await this.exceeded(db, q !== undefined, { projectId, repository, digest, message: `${kind} ${digest} (${size} bytes) refused: ${used} of ${limit} bytes used` });
      throw Errors.denied(`adding this ${kind} (${size} bytes) exceeds the project's storage quota: ${used} of ${limit} bytes used`);
    }
    const mark = limit * QUOTA_WARNING_RATIO;
    // QUOTA_WARNING when this write crosses the threshold, by the check inside the write's transaction only (the
    // early check runs before it), in that transaction: if the write rolls back, so does its warning.
    if (q && this.events && used < mark && used + size >= mark)
      await this.events.publish(q, [
        await this.quotaEvent('QUOTA_WARNING', q, {
          projectId,
          repository,
          digest,
          message: `${kind} ${digest} brings usage to ${used + size} of ${limit} bytes (warning at ${Math.round(QUOTA_WARNING_RATIO * 100)}%)`,
        }),
      ]);
  }

  private async quotaEvent(type: 'QUOTA_EXCEED' | 'QUOTA_WARNING', q: Queryable, d: { projectId: number; repository: string; digest: string; message: string }): Promise<NewEvent> {
    const p = await this.quotas.findProject(d.projectId, q);
    return { type, operator: '', projectId: d.projectId, data: { ...d, projectName: p?.name ?? String(d.projectId) } };
  }

  /**
   * QUOTA_EXCEED for a refused write. The refusal rolls the caller's transaction back, so the event is written in
   * a small transaction of its own after it: awaited when there is no caller transaction; otherwise queued
   * behind it (SQLite has one writer, and the caller must see its refusal at once). Best effort by nature:
   * a crash between the refusal and this write loses the notice, never a stored artifact's event.
   */
  private async exceeded(db: Queryable, inCallerTx: boolean, d: { projectId: number; repository: string; digest: string; message: string }): Promise<void> {
    const events = this.events;
    if (!events) return;
    const event = await this.quotaEvent('QUOTA_EXCEED', db, d);
    const write = () => this.db.tx((q) => events.publish(q, [event])).catch(this.onError);
    if (inCallerTx) setImmediate(() => void write());
    else await write();
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

  async list(limit: number, offset: number, sort: readonly { field: QuotaSortField; desc: boolean }[] = []): Promise<{ total: number; items: Quota[] }> {
    if (sort.length) return this.listSorted(limit, offset, sort);
    const [total, rows] = await Promise.all([this.quotas.countProjects(), this.quotas.listProjects(limit, offset)]);
    const items: Quota[] = [];
    for (const p of rows) items.push(await this.toQuota(p));
    return { total, items };
  }

  /**
   * Harbor's sorted quota list. Usage is computed, never stored, so every quota is ranked in memory from two
   * grouped queries; an unlimited hard limit (-1) ranks above every number, as in Harbor's quota DAO.
   */
  private async listSorted(limit: number, offset: number, sort: readonly { field: QuotaSortField; desc: boolean }[]): Promise<{ total: number; items: Quota[] }> {
    const total = await this.quotas.countProjects();
    const [rows, usage] = await Promise.all([this.quotas.listProjects(Math.max(total, 1), 0), this.quotas.storageUsageByProject()]);
    const all: Quota[] = rows.map((p) => ({ id: p.id, projectId: p.id, projectName: p.name, hard: this.effective(p.storageLimit), used: usage.get(p.id) ?? 0, createdAt: p.createdAt, updatedAt: p.updatedAt }));
    const key = (q: Quota, f: QuotaSortField): number =>
      f === 'hard.storage' ? (q.hard === -1 ? Number.MAX_SAFE_INTEGER : q.hard) : f === 'used.storage' ? q.used : f === 'creation_time' ? q.createdAt : q.updatedAt;
    all.sort((a, b) => {
      for (const s of sort) {
        const d = key(a, s.field) - key(b, s.field);
        if (d !== 0) return s.desc ? -d : d;
      }
      return a.id - b.id;
    });
    return { total, items: all.slice(offset, offset + limit) };
  }

  /** Limit (-1 unlimited) and usage of every project, by project id, in a fixed number of queries (/metrics). */
  async listAll(): Promise<Map<number, { hard: number; used: number }>> {
    const total = await this.quotas.countProjects();
    const [rows, usage] = await Promise.all([this.quotas.listProjects(Math.max(total, 1), 0), this.quotas.storageUsageByProject()]);
    return new Map(rows.map((p) => [p.id, { hard: this.effective(p.storageLimit), used: usage.get(p.id) ?? 0 }]));
  }

  /** Sets a project's limit (-1 unlimited); false when there is no such project. */
  async setLimit(id: number, limit: number, q?: Queryable): Promise<boolean> {
    return this.quotas.saveStorageLimit(id, limit, q);
  }
}
