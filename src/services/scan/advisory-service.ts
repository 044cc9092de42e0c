// Advisory import and (re-)matching over the store: an OSV source (path or URL, scanner.advisories) is imported
// into the database, versioned by import; each scanned artifact's inventory is stored so that an import only
// re-matches stored inventories (no layer is read again) — and only those whose packages an import touched.
import type { Db } from '../../db/db.ts';
import { sendOutbound } from '../../drivers/http/outbound-client.ts';
import type { OutboundGuard } from '../../drivers/http/outbound-guard.ts';
import { AdvisoryRepository, type AdvisoryImport } from '../../repositories/advisory-repository.ts';
import type { JobHandler, JobService } from '../jobs/job-service.ts';
import { advisoriesFromBytes, advisoriesFromPath, advisoryName, match, releaseEcosystem, type Advisory, type Finding } from './advisories.ts';
import type { Inventory } from './inventory.ts';

export const ADVISORY_UPDATE_JOB = 'SCAN_ADVISORY_UPDATE';

/** Records written per transaction (bounds one transaction's length on large feeds). */
const BATCH = 500;
/** A downloaded feed larger than this is refused (OSV's largest ecosystem zips are a few hundred MiB). */
export const MAX_FEED_BYTES = 1024 * 1024 * 1024;

export interface AdvisoryServiceOptions {
  db: Db;
  /** Needed only for http(s) sources. */
  guard?: OutboundGuard;
  fetchTimeoutMs?: number;
}

export interface RematchResult {
  importId: number;
  /** Inventories matched again (an import touched one of their packages). */
  rematched: number;
  /** Inventories only marked current (no package of theirs changed). */
  skipped: number;
  /** Digests whose findings changed. */
  changed: string[];
}

type Matchable = Pick<Inventory, 'os' | 'packages'>;

/** The ecosystems advisories may name for an inventory's packages: bare and, for OS packages, with the release. */
function lookupKeys(inv: Matchable): { ecosystems: string[]; names: string[] } {
  const ecos = new Set<string>();
  const names = new Set<string>();
  for (const p of inv.packages) {
    ecos.add(p.ecosystem);
    const rel = releaseEcosystem(p.ecosystem, inv.os);
    if (rel) {
      ecos.add(rel);
      // Ubuntu qualifies releases further (`Ubuntu:22.04:LTS`)
      if (p.ecosystem === 'Ubuntu') ecos.add(`${rel}:LTS`);
    }
    names.add(advisoryName(p));
  }
  return { ecosystems: [...ecos], names: [...names] };
}

const sameFindings = (a: Finding[], b: Finding[]): boolean => JSON.stringify(a) === JSON.stringify(b);

export class AdvisoryService {
  readonly repo: AdvisoryRepository<Advisory, Pick<Inventory, 'os' | 'packages'>, Finding>;
  private readonly o: AdvisoryServiceOptions;
  constructor(o: AdvisoryServiceOptions) {
    this.o = o;
    this.repo = new AdvisoryRepository<Advisory, Pick<Inventory, 'os' | 'packages'>, Finding>(o.db);
  }

  /**
   * Imports records: a newer `modified` replaces the stored one, an equal or older one is left alone, a withdrawn
   * one removes it. Returns the finished import (its id is what inventories are versioned against).
   */
  async importAdvisories(records: Iterable<Advisory>, source: string): Promise<AdvisoryImport> {
    const id = await this.repo.saveImportStart(source);
    const counts = { added: 0, updated: 0, withdrawn: 0, unchanged: 0 };
    let batch: Advisory[] = [];
    const flush = async () => {
      const b = batch;
      batch = [];
      // The last record of an id in one batch wins (mirrors may list an id twice).
      const byId = new Map(b.map((a) => [a.id, a]));
      await this.o.db.tx(async (q) => {
        const stored = await this.repo.findModified([...byId.keys()], q);
        for (const a of byId.values()) {
          const have = stored.get(a.id);
          if (a.withdrawn) {
            if (have !== undefined && (await this.repo.removeAdvisory(a.id, q))) counts.withdrawn++;
            else counts.unchanged++;
          } else if (have === undefined) {
            await this.repo.saveAdvisory(a, id, q);
            counts.added++;
          } else if (Date.parse(a.modified) > Date.parse(have) || (Number.isNaN(Date.parse(have)) && a.modified !== have)) {
            await this.repo.saveAdvisory(a, id, q);
            counts.updated++;
          } else counts.unchanged++;
        }
      });
    };
    for (const a of records) {
      batch.push(a);
      if (batch.length >= BATCH) await flush();
    }
    if (batch.length) await flush();
    await this.repo.saveImportEnd(id, counts);
    return (await this.repo.findImport(id))!;
  }

  /** Imports from `scanner.advisories`: a path (file, directory, zip) or an http(s) URL fetched through the guard. */
  async importFrom(location: string, signal?: AbortSignal): Promise<AdvisoryImport> {
    if (/^https?:\/\//i.test(location)) {
      if (!this.o.guard) throw new Error('no outbound guard for an advisory URL');
      // node:http skips `lookup` for an IP literal, so the URL itself is checked first (names again per connection).
      await this.o.guard.checkUrl(location);
      const res = await sendOutbound(this.o.guard, {
        method: 'GET',
        url: location,
        headers: { accept: 'application/zip, application/json' },
        timeoutMs: this.o.fetchTimeoutMs ?? 10 * 60_000,
        maxBodyBytes: MAX_FEED_BYTES,
        signal,
      });
      if (res.status !== 200) throw new Error(`advisory source answered ${res.status}`);
      // The URL may carry credentials in its query: only its origin and path are recorded.
      const u = new URL(location);
      return this.importAdvisories(advisoriesFromBytes(res.bytes!, `${u.origin}${u.pathname}`), `${u.origin}${u.pathname}`);
    }
    return this.importAdvisories(advisoriesFromPath(location), location);
  }

  /** Findings of an inventory against the stored advisories (indexed lookup of its packages only). */
  async matchInventory(inv: Matchable): Promise<Finding[]> {
    const { ecosystems, names } = lookupKeys(inv);
    return match(inv, await this.repo.listAdvisoriesFor(ecosystems, names));
  }

  /** Stores a freshly scanned artifact's inventory and its findings now. */
  async recordScan(digest: string, inv: Matchable): Promise<Finding[]> {
    const latest = (await this.repo.findLatestImport())?.id ?? 0;
    const findings = await this.matchInventory(inv);
    await this.repo.saveInventory(digest, { os: inv.os, packages: inv.packages }, findings, latest);
    return findings;
  }

  /**
   * Re-matches every stored inventory matched before the latest import. An inventory none of whose packages an
   * advisory written since touches is only marked current (after an import that withdrew records, every one is
   * matched again: a removed row leaves nothing to compare with); the rest are matched again from the store.
   */
  async rematchAll(opts: { signal?: AbortSignal; onProgress?: (done: number) => void } = {}): Promise<RematchResult> {
    const latest = await this.repo.findLatestImport();
    const out: RematchResult = { importId: latest?.id ?? 0, rematched: 0, skipped: 0, changed: [] };
    if (!latest) return out;
    // A withdrawal leaves no row to compare import ids with: any import since that withdrew forces a full match.
    // Asked once per distinct import an inventory was last matched at (usually one or two for all of them).
    const withdrawals = new Map<number, Promise<boolean>>();
    const withdrawnSince = (since: number): Promise<boolean> => {
      let p = withdrawals.get(since);
      if (!p) {
        p = this.o.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM advisory_imports WHERE id > ? AND withdrawn > 0', [since]).then((r) => Number(r!.n) > 0);
        withdrawals.set(since, p);
      }
      return p;
    };
    // What records written since an import affect, asked once per distinct import (an in-memory set per inventory
    // check instead of a query each).
    const changes = new Map<number, Promise<Set<string>>>();
    const changedSince = (since: number): Promise<Set<string>> => {
      let p = changes.get(since);
      if (!p) changes.set(since, (p = this.repo.listChangedKeys(since)));
      return p;
    };
    let after = '';
    for (;;) {
      if (opts.signal?.aborted) break;
      const page = await this.repo.listStaleInventories(latest.id, after, 100);
      if (!page.length) break;
      // The page's writes go in one transaction (one commit, not one per inventory).
      const current: string[] = [];
      const rematched: { digest: string; findings: Finding[] }[] = [];
      for (const digest of page) {
        const s = (await this.repo.findInventory(digest))!;
        let touched = await withdrawnSince(s.matchedImport);
        if (!touched) {
          const changed = await changedSince(s.matchedImport);
          const { ecosystems, names } = lookupKeys(s.inventory);
          touched = ecosystems.some((e) => names.some((n) => changed.has(`${e}\0${n}`)));
        }
        if (!touched) {
          current.push(digest);
          continue;
        }
        const findings = await this.matchInventory(s.inventory);
        rematched.push({ digest, findings });
        if (!sameFindings(findings, s.findings)) out.changed.push(digest);
      }
      await this.o.db.tx(async (q) => {
        await this.repo.saveMatchedImport(current, latest.id, q);
        for (const r of rematched) await this.repo.saveFindings(r.digest, r.findings, latest.id, q);
      });
      out.skipped += current.length;
      out.rematched += rematched.length;
      after = page[page.length - 1];
      opts.onProgress?.(out.rematched + out.skipped);
    }
    return out;
  }

  /** The advisory update job: import from the configured source, then re-match the stored inventories. */
  jobHandler(location: string): JobHandler {
    return async (ctx) => {
      const imp = await this.importFrom(location, ctx.signal);
      ctx.log(`imported ${imp.source}: ${imp.added} added, ${imp.updated} updated, ${imp.withdrawn} withdrawn, ${imp.unchanged} unchanged`);
      const r = await this.rematchAll({ signal: ctx.signal });
      ctx.log(`re-matched ${r.rematched} inventories (${r.skipped} untouched), ${r.changed.length} with new findings`);
      return { import_id: imp.id, added: imp.added, updated: imp.updated, withdrawn: imp.withdrawn, rematched: r.rematched, changed: r.changed.length };
    };
  }

  /**
   * Registers the job type and schedules it every `intervalSeconds` (0: no schedule; a configured source is then
   * imported only when the job is submitted).
   */
  async registerJob(jobs: JobService, location: string, intervalSeconds: number): Promise<void> {
    jobs.register(ADVISORY_UPDATE_JOB, this.jobHandler(location), { retainExecutions: 20, maxAttempts: 3, backoffMs: 60_000 });
    if (intervalSeconds > 0) await jobs.schedule(ADVISORY_UPDATE_JOB, `@every ${intervalSeconds}s`);
    else await jobs.unschedule(ADVISORY_UPDATE_JOB);
  }
}
