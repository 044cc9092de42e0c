// TEST-ONLY fault injection for crash-consistency tests (test/durability). The composition root reads
// BERTH_TEST_CRASH_AT once and hands a Faults object to the services; at the named point the process kills
// itself with SIGKILL, as a power cut or `kill -9` would. Unset in production, where every call is a no-op.

export const CRASH_POINTS = [
  /** Inside the manifest transaction, after the manifest and tag rows are written, before COMMIT. */
  'manifest-before-commit',
  /** Right after the manifest transaction committed, before the response. */
  'manifest-after-commit',
  /** After the blob is placed in storage, before the database transaction that makes it visible. */
  'blob-after-store-commit',
  /** GC: after a batch of blobs is marked `deleting` and committed, before their files are removed. */
  'gc-after-mark',
  /** GC: inside the deletion transaction, after the files are removed, before the rows go (and COMMIT). */
  'gc-after-file-remove',
] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

export interface Faults {
  crashAt?: CrashPoint;
}

export function parseCrashPoint(v: string | undefined): CrashPoint | undefined {
  if (!v) return undefined;
  if (!(CRASH_POINTS as readonly string[]).includes(v)) throw new Error(`BERTH_TEST_CRASH_AT: unknown crash point ${v} (one of ${CRASH_POINTS.join(', ')})`);
  return v as CrashPoint;
}

/** Kills the process at `point` when the test asked for it. */
export function crashPoint(faults: Faults | undefined, point: CrashPoint): void {
  if (faults?.crashAt === point) process.kill(process.pid, 'SIGKILL');
}
