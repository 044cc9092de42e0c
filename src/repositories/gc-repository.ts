// Garbage collection queries. Every delete locks its rows first (PostgreSQL: FOR UPDATE SKIP LOCKED, so rows a
// running manifest PUT or upload holds are left for the next run) and then re-checks "unreferenced" in a new
// statement, which under READ COMMITTED sees everything committed by the transactions that held those locks.
// SQLite runs one write transaction at a time, so the same statements are exact there too.
import { inList, type Queryable } from '../db/db.ts';

export interface LinkKey {
  repositoryId: number;
  digest: string;
}

const skipLocked = (q: Queryable) => (q.dialect === 'postgres' ? ' FOR UPDATE SKIP LOCKED' : '');

/** The settings row a running `berth backup` holds: epoch ms until which no blob may be marked for deletion. */
export const BACKUP_HOLD_KEY = 'backup_hold_until';
// PostgreSQL advisory lock between GC's marking transactions (shared) and setting the hold (exclusive): once the
// hold's transaction commits, no marking transaction that missed it is still running.
const BACKUP_HOLD_LOCK = 4242002;

/**
 * Whether a backup holds blob deletion (checked inside GC's marking transactions, so a backup's database snapshot
 * taken after the hold was set keeps every blob its rows reference until the files are copied).
 */
export async function backupHoldActive(q: Queryable, now: number): Promise<boolean> {
  if (q.dialect === 'postgres') await q.get(`SELECT pg_advisory_xact_lock_shared(${BACKUP_HOLD_LOCK})`);
  const r = await q.get<{ value: string }>('SELECT value FROM settings WHERE key = ?', [BACKUP_HOLD_KEY]);
  return !!r && Number(r.value) > now;
}

/** Sets (or, with 0, releases) the backup hold; on PostgreSQL it waits for marking transactions in flight. */
export async function saveBackupHold(q: Queryable, until: number): Promise<void> {
  if (q.dialect === 'postgres') await q.get(`SELECT pg_advisory_xact_lock(${BACKUP_HOLD_LOCK})`);
  await q.run('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [BACKUP_HOLD_KEY, String(until)]);
}

// A manifest is garbage when untagged, older than the cutoff, not a child of another manifest of its
// repository, and not a referrer of a manifest that still exists there (the age check apart, so GC can also count
// the young ones it keeps).
const MANIFEST_UNREFERENCED = `NOT EXISTS (SELECT 1 FROM tags t WHERE t.manifest_id = m.id)
  AND NOT EXISTS (SELECT 1 FROM manifest_references mr JOIN manifests p ON p.id = mr.manifest_id
                  WHERE mr.digest = m.digest AND mr.kind = 'manifest' AND p.repository_id = m.repository_id)
  AND (m.subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM manifests s WHERE s.repository_id = m.repository_id AND s.digest = m.subject_digest))`;
const MANIFEST_GARBAGE = `m.created_at < ? AND ${MANIFEST_UNREFERENCED}`;

// A link is garbage when no manifest of its repository references the blob, unless it is pending (created or
// refreshed by an upload/mount and never referenced since) and younger than the cutoff.
const LINK_REFERENCED = `EXISTS (SELECT 1 FROM manifest_references mr JOIN manifests m ON m.id = mr.manifest_id
  WHERE mr.digest = rb.digest AND mr.kind = 'blob' AND m.repository_id = rb.repository_id)`;
const LINK_GARBAGE = `(rb.pending_since IS NULL OR rb.pending_since < ?) AND NOT ${LINK_REFERENCED}`;
// Dry run with delete_untagged: references from manifests that are garbage themselves do not count (two
// placeholders: the link cutoff, then the manifest cutoff).
const LINK_GARBAGE_IF_UNTAGGED_GO = `(rb.pending_since IS NULL OR rb.pending_since < ?) AND NOT EXISTS (
  SELECT 1 FROM manifest_references mr2 JOIN manifests m ON m.id = mr2.manifest_id
  WHERE mr2.digest = rb.digest AND mr2.kind = 'blob' AND m.repository_id = rb.repository_id AND NOT (${MANIFEST_GARBAGE}))`;

export class GcRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }

  /** Garbage manifests with id > afterId, by id. */
  async listGarbageManifests(afterId: number, createdBefore: number, limit: number): Promise<{ id: number; size: number }[]> {
    const rows = await this.db.all<{ id: number; size: number }>(
      `SELECT m.id, m.size FROM manifests m WHERE m.id > ? AND ${MANIFEST_GARBAGE} ORDER BY m.id LIMIT ?`,
      [afterId, createdBefore, limit],
    );
    return rows.map((r) => ({ id: Number(r.id), size: Number(r.size) }));
  }

  /**
   * Untagged manifests that would be garbage but are younger than the grace cutoff: what delete_untagged keeps
   * on purpose (a multi-arch push uploads its children untagged before the index that references them).
   */
  async countUntaggedWithinGrace(createdSince: number): Promise<number> {
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM manifests m WHERE m.created_at >= ? AND ${MANIFEST_UNREFERENCED}`, [createdSince]);
    return Number(r?.n ?? 0);
  }

  /** Deletes those of `ids` that are still garbage (tags and reference rows cascade); returns how many. */
  async removeGarbageManifests(ids: readonly number[], createdBefore: number, q: Queryable): Promise<number> {
    if (!ids.length) return 0;
    const locked = await q.all<{ id: number }>(`SELECT id FROM manifests WHERE id IN (${inList(ids.length)})${skipLocked(q)}`, [...ids]);
    if (!locked.length) return 0;
    const r = await q.run(`DELETE FROM manifests WHERE id IN (SELECT m.id FROM manifests m WHERE m.id IN (${inList(locked.length)}) AND ${MANIFEST_GARBAGE})`, [
      ...locked.map((l) => l.id),
      createdBefore,
    ]);
    return r.changes;
  }

  /**
   * Garbage links after `after`, in (repository, digest) order. `ignoreGarbageManifests` (dry run with
   * delete_untagged): as if the garbage manifests were deleted already.
   */
  async listGarbageLinks(after: LinkKey | null, pendingBefore: number, limit: number, ignoreGarbageManifests = false): Promise<LinkKey[]> {
    const a = after ?? { repositoryId: -1, digest: '' };
    const rows = await this.db.all<{ repository_id: number; digest: string }>(
      `SELECT rb.repository_id, rb.digest FROM repository_blobs rb
       WHERE (rb.repository_id, rb.digest) > (?, ?) AND ${ignoreGarbageManifests ? LINK_GARBAGE_IF_UNTAGGED_GO : LINK_GARBAGE}
       ORDER BY rb.repository_id, rb.digest LIMIT ?`,
      ignoreGarbageManifests ? [a.repositoryId, a.digest, pendingBefore, pendingBefore, limit] : [a.repositoryId, a.digest, pendingBefore, limit],
    );
    return rows.map((r) => ({ repositoryId: Number(r.repository_id), digest: r.digest }));
  }

  /** Deletes those of `links` (one repository) that are still garbage; returns the deleted digests. */
  async removeGarbageLinks(repositoryId: number, digests: readonly string[], pendingBefore: number, q: Queryable): Promise<string[]> {
    if (!digests.length) return [];
    const locked = await q.all<{ digest: string }>(
      `SELECT digest FROM repository_blobs WHERE repository_id = ? AND digest IN (${inList(digests.length)})${skipLocked(q)}`,
      [repositoryId, ...digests],
    );
    if (!locked.length) return [];
    const rows = await q.all<{ digest: string }>(
      `DELETE FROM repository_blobs WHERE repository_id = ? AND digest IN (
         SELECT rb.digest FROM repository_blobs rb WHERE rb.repository_id = ? AND rb.digest IN (${inList(locked.length)}) AND ${LINK_GARBAGE})
       RETURNING digest`,
      [repositoryId, repositoryId, ...locked.map((l) => l.digest), pendingBefore],
    );
    return rows.map((r) => r.digest);
  }

  /** Blob rows without any link (including rows already marked `deleting`), by digest after `after`. */
  async listUnlinkedBlobs(after: string, limit: number): Promise<{ digest: string; size: number }[]> {
    const rows = await this.db.all<{ digest: string; size: number }>(
      `SELECT b.digest, b.size FROM blobs b WHERE b.digest > ? AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest)
       ORDER BY b.digest LIMIT ?`,
      [after, limit],
    );
    return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
  }

  /** Dry run: blob rows without a live link (every link garbage or none), by digest after `after`. */
  async listBlobsWithoutLiveLink(after: string, pendingBefore: number, limit: number, ignoreGarbageManifests = false): Promise<{ digest: string; size: number }[]> {
    const rows = await this.db.all<{ digest: string; size: number }>(
      `SELECT b.digest, b.size FROM blobs b WHERE b.digest > ? AND NOT EXISTS (
         SELECT 1 FROM repository_blobs rb WHERE rb.digest = b.digest AND NOT (${ignoreGarbageManifests ? LINK_GARBAGE_IF_UNTAGGED_GO : LINK_GARBAGE}))
       ORDER BY b.digest LIMIT ?`,
      ignoreGarbageManifests ? [after, pendingBefore, pendingBefore, limit] : [after, pendingBefore, limit],
    );
    return rows.map((r) => ({ digest: r.digest, size: Number(r.size) }));
  }

  /** Marks those of `digests` that still have no link as `deleting`; returns the marked digests. */
  async markBlobsDeleting(digests: readonly string[], now: number, q: Queryable): Promise<string[]> {
    if (!digests.length) return [];
    // A backup is copying the blobs its snapshot references: mark nothing now (the next run collects them).
    if (await backupHoldActive(q, now)) return [];
    const locked = await q.all<{ digest: string }>(
      `SELECT digest FROM blobs WHERE deleting IS NULL AND digest IN (${inList(digests.length)})${skipLocked(q)}`,
      [...digests],
    );
    if (!locked.length) return [];
    const rows = await q.all<{ digest: string }>(
      `UPDATE blobs SET deleting = ? WHERE deleting IS NULL AND digest IN (${inList(locked.length)})
         AND NOT EXISTS (SELECT 1 FROM repository_blobs rb WHERE rb.digest = blobs.digest)
       RETURNING digest`,
      [now, ...locked.map((l) => l.digest)],
    );
    return rows.map((r) => r.digest);
  }

  /** Which of `digests` have a blob row. */
  async findBlobDigests(digests: readonly string[]): Promise<Set<string>> {
    if (!digests.length) return new Set();
    const rows = await this.db.all<{ digest: string }>(`SELECT digest FROM blobs WHERE digest IN (${inList(digests.length)})`, [...digests]);
    return new Set(rows.map((r) => r.digest));
  }

  /**
   * Claims storage files that have no row: inserts rows already marked `deleting`, unless a row exists by now
   * (an upload committed meanwhile). Returns the digests claimed.
   */
  async saveDeletingBlobs(files: readonly { digest: string; size: number }[], now: number, q: Queryable): Promise<string[]> {
    const out: string[] = [];
    if (await backupHoldActive(q, now)) return out;
    for (const f of files) {
      const r = await q.get('INSERT INTO blobs (digest, size, created_at, deleting) VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING RETURNING digest', [
        f.digest,
        f.size,
        now,
        now,
      ]);
      if (r) out.push(f.digest);
    }
    return out;
  }
}
