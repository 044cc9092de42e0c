// A project's trusted keys (migration 25): cosign public keys and notation certificates, as PEM.
import type { Queryable } from '../db/db.ts';

export type TrustedKeyKind = 'cosign' | 'notation';

export interface TrustedKeyRow {
  id: number;
  projectId: number;
  name: string;
  kind: TrustedKeyKind;
  pem: string;
  fingerprint: string;
  creator: string;
  createdAt: number;
}
interface Raw {
  id: number;
  project_id: number;
  name: string;
  kind: string;
  pem: string;
  fingerprint: string;
  creator: string;
  created_at: number;
}
const toRow = (r: Raw): TrustedKeyRow => ({
  id: Number(r.id),
  projectId: Number(r.project_id),
  name: r.name,
  kind: r.kind === 'notation' ? 'notation' : 'cosign',
  pem: r.pem,
  fingerprint: r.fingerprint,
  creator: r.creator,
  createdAt: Number(r.created_at),
});

export class TrustedKeyRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  async listKeys(projectId: number, q: Queryable = this.db): Promise<TrustedKeyRow[]> {
    return (await q.all<Raw>('SELECT * FROM trusted_keys WHERE project_id = ? ORDER BY id', [projectId])).map(toRow);
  }
  async findKey(projectId: number, id: number, q: Queryable = this.db): Promise<TrustedKeyRow | null> {
    const r = await q.get<Raw>('SELECT * FROM trusted_keys WHERE project_id = ? AND id = ?', [projectId, id]);
    return r ? toRow(r) : null;
  }
  /** Inserts a key; null when the project already has one of that name or fingerprint. */
  async saveNewKey(k: Omit<TrustedKeyRow, 'id' | 'createdAt'>, q: Queryable = this.db): Promise<number | null> {
    const r = await q.get<{ id: number }>(
      `INSERT INTO trusted_keys (project_id, name, kind, pem, fingerprint, creator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT DO NOTHING RETURNING id`,
      [k.projectId, k.name, k.kind, k.pem, k.fingerprint, k.creator, Date.now()],
    );
    return r ? Number(r.id) : null;
  }
  async removeKey(projectId: number, id: number, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('DELETE FROM trusted_keys WHERE project_id = ? AND id = ?', [projectId, id])).changes > 0;
  }
}
