// OSV advisories and artifacts' stored inventories (migration 21). Advisories are looked up by the (ecosystem,
// name) of their affected packages through advisory_packages; the record itself is kept as JSON text.
import { inList, type Queryable } from '../db/db.ts';

/**
 * What this repository reads of an OSV record: its id, `modified` and affected packages (the index). The full
 * record type is the scanner's (services/scan/advisories.ts), given as the class's type parameter — repositories
 * do not import services.
 */
export interface AdvisoryRecord {
  id: string;
  modified: string;
  affected?: { package?: { ecosystem?: string; name?: string } }[];
}

export interface AdvisoryImport {
  id: number;
  source: string;
  startedAt: number;
  finishedAt: number | null;
  added: number;
  updated: number;
  withdrawn: number;
  unchanged: number;
}

export interface StoredInventory<I = unknown, F = unknown> {
  digest: string;
  inventory: I;
  findings: F[];
  /** The latest import id this inventory was matched against. */
  matchedImport: number;
  scannedAt: number;
  matchedAt: number;
}

interface ImportRow {
  id: number;
  source: string;
  started_at: number;
  finished_at: number | null;
  added: number;
  updated: number;
  withdrawn: number;
  unchanged: number;
}
const toImport = (r: ImportRow): AdvisoryImport => ({
  id: Number(r.id),
  source: r.source,
  startedAt: Number(r.started_at),
  finishedAt: r.finished_at === null ? null : Number(r.finished_at),
  added: Number(r.added),
  updated: Number(r.updated),
  withdrawn: Number(r.withdrawn),
  unchanged: Number(r.unchanged),
});

interface InventoryRow {
  digest: string;
  inventory: string;
  findings: string;
  matched_import: number;
  scanned_at: number;
  matched_at: number;
}
const toInventory = <I, F>(r: InventoryRow): StoredInventory<I, F> => ({
  digest: r.digest,
  inventory: JSON.parse(r.inventory) as I,
  findings: JSON.parse(r.findings) as F[],
  matchedImport: Number(r.matched_import),
  scannedAt: Number(r.scanned_at),
  matchedAt: Number(r.matched_at),
});

/** Bounded IN-lists (both databases cap bound parameters). */
const CHUNK = 400;

/** A: the OSV record type, I: an inventory, F: a finding (the scanner's types; stored as JSON). */
export class AdvisoryRepository<A extends AdvisoryRecord = AdvisoryRecord, I = unknown, F = unknown> {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }

  async saveImportStart(source: string, q: Queryable = this.db): Promise<number> {
    const r = await q.get<{ id: number }>('INSERT INTO advisory_imports (source, started_at) VALUES (?, ?) RETURNING id', [source, Date.now()]);
    return Number(r!.id);
  }
  async saveImportEnd(id: number, counts: Pick<AdvisoryImport, 'added' | 'updated' | 'withdrawn' | 'unchanged'>, q: Queryable = this.db): Promise<void> {
    await q.run('UPDATE advisory_imports SET finished_at = ?, added = ?, updated = ?, withdrawn = ?, unchanged = ? WHERE id = ?', [
      Date.now(),
      counts.added,
      counts.updated,
      counts.withdrawn,
      counts.unchanged,
      id,
    ]);
  }
  async findImport(id: number): Promise<AdvisoryImport | null> {
    const r = await this.db.get<ImportRow>('SELECT * FROM advisory_imports WHERE id = ?', [id]);
    return r ? toImport(r) : null;
  }
  /** The newest finished import (null before the first). */
  async findLatestImport(): Promise<AdvisoryImport | null> {
    const r = await this.db.get<ImportRow>('SELECT * FROM advisory_imports WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1');
    return r ? toImport(r) : null;
  }

  /** `modified` of the stored records among `ids`. */
  async findModified(ids: readonly string[], q: Queryable = this.db): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (let i = 0; i < ids.length; i += CHUNK) {
      const part = ids.slice(i, i + CHUNK);
      for (const r of await q.all<{ id: string; modified: string }>(`SELECT id, modified FROM advisories WHERE id IN (${inList(part.length)})`, part)) {
        out.set(r.id, r.modified);
      }
    }
    return out;
  }

  /** Writes (or replaces) one advisory and its package index. */
  async saveAdvisory(a: A, importId: number, q: Queryable = this.db): Promise<void> {
    await q.run(
      `INSERT INTO advisories (id, modified, import_id, record) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET modified = excluded.modified, import_id = excluded.import_id, record = excluded.record`,
      [a.id, a.modified, importId, JSON.stringify(a)],
    );
    await q.run('DELETE FROM advisory_packages WHERE advisory_id = ?', [a.id]);
    const keys = new Set<string>();
    for (const af of a.affected ?? []) if (af.package?.ecosystem && af.package.name) keys.add(`${af.package.ecosystem}\0${af.package.name}`);
    for (const k of keys) {
      const [ecosystem, name] = k.split('\0');
      await q.run('INSERT INTO advisory_packages (advisory_id, ecosystem, name) VALUES (?, ?, ?)', [a.id, ecosystem, name]);
    }
  }
  async removeAdvisory(id: string, q: Queryable = this.db): Promise<boolean> {
    await q.run('DELETE FROM advisory_packages WHERE advisory_id = ?', [id]);
    return (await q.run('DELETE FROM advisories WHERE id = ?', [id])).changes > 0;
  }
  async findAdvisory(id: string): Promise<A | null> {
    const r = await this.db.get<{ record: string }>('SELECT record FROM advisories WHERE id = ?', [id]);
    return r ? (JSON.parse(r.record) as A) : null;
  }
  async countAdvisories(): Promise<number> {
    const r = await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM advisories');
    return Number(r!.n);
  }

  /**
   * Advisories affecting any of `names` in the ecosystems `ecosystems` (e.g. `Debian` and `Debian:12`): the
   * indexed lookup a match needs, never a scan of the whole table.
   */
  async listAdvisoriesFor(ecosystems: readonly string[], names: readonly string[]): Promise<A[]> {
    if (!ecosystems.length || !names.length) return [];
    const seen = new Map<string, A>();
    for (let i = 0; i < names.length; i += CHUNK) {
      const part = names.slice(i, i + CHUNK);
      const rows = await this.db.all<{ id: string; record: string }>(
        `SELECT DISTINCT a.id, a.record FROM advisory_packages p JOIN advisories a ON a.id = p.advisory_id
         WHERE p.ecosystem IN (${inList(ecosystems.length)}) AND p.name IN (${inList(part.length)})`,
        [...ecosystems, ...part],
      );
      for (const r of rows) if (!seen.has(r.id)) seen.set(r.id, JSON.parse(r.record) as A);
    }
    return [...seen.values()];
  }
  /** `ecosystem\0name` of every package an advisory written by an import after `sinceImport` affects. */
  async listChangedKeys(sinceImport: number): Promise<Set<string>> {
    const rows = await this.db.all<{ ecosystem: string; name: string }>(
      'SELECT DISTINCT p.ecosystem, p.name FROM advisory_packages p JOIN advisories a ON a.id = p.advisory_id WHERE a.import_id > ?',
      [sinceImport],
    );
    return new Set(rows.map((r) => `${r.ecosystem}\0${r.name}`));
  }
  /** Marks inventories current with their findings unchanged. */
  async saveMatchedImport(digests: readonly string[], matchedImport: number, q: Queryable = this.db): Promise<void> {
    for (let i = 0; i < digests.length; i += CHUNK) {
      const part = digests.slice(i, i + CHUNK);
      await q.run(`UPDATE artifact_inventories SET matched_import = ?, matched_at = ? WHERE digest IN (${inList(part.length)})`, [matchedImport, Date.now(), ...part]);
    }
  }

  async saveInventory(digest: string, inv: I, findings: F[], matchedImport: number, q: Queryable = this.db): Promise<void> {
    const now = Date.now();
    await q.run(
      `INSERT INTO artifact_inventories (digest, inventory, findings, matched_import, scanned_at, matched_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (digest) DO UPDATE SET inventory = excluded.inventory, findings = excluded.findings,
         matched_import = excluded.matched_import, scanned_at = excluded.scanned_at, matched_at = excluded.matched_at`,
      [digest, JSON.stringify(inv), JSON.stringify(findings), matchedImport, now, now],
    );
  }
  async saveFindings(digest: string, findings: F[], matchedImport: number, q: Queryable = this.db): Promise<void> {
    await q.run('UPDATE artifact_inventories SET findings = ?, matched_import = ?, matched_at = ? WHERE digest = ?', [
      JSON.stringify(findings),
      matchedImport,
      Date.now(),
      digest,
    ]);
  }
  async findInventory(digest: string): Promise<StoredInventory<I, F> | null> {
    const r = await this.db.get<InventoryRow>('SELECT * FROM artifact_inventories WHERE digest = ?', [digest]);
    return r ? toInventory(r) : null;
  }
  /** Digests of inventories matched before import `importId`, a page at a time (keyset on digest). */
  async listStaleInventories(importId: number, after: string, limit: number): Promise<string[]> {
    const rows = await this.db.all<{ digest: string }>(
      'SELECT digest FROM artifact_inventories WHERE matched_import < ? AND digest > ? ORDER BY digest LIMIT ?',
      [importId, after, limit],
    );
    return rows.map((r) => r.digest);
  }
  async removeInventory(digest: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM artifact_inventories WHERE digest = ?', [digest])).changes > 0;
  }
}
