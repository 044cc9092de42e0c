// Replication endpoints (Harbor's registry table). Rows hold the credential secret as stored — sealed by
// SecretBox; sealing and opening are the service's job, and no row is ever serialized to a client as is.
import type { Db } from '../db/db.ts';
import { orderSql, whereSql, type ListQuery } from './list-query.ts';

export interface RegistryRow {
  id: number;
  name: string;
  type: string;
  url: string;
  description: string;
  credentialType: string;
  accessKey: string;
  /** Sealed (SecretBox) or '' */
  accessSecret: string;
  insecure: boolean;
  caCertificate: string;
  status: string;
  createdAt: number;
  updatedAt: number;
}
export type NewRegistry = Omit<RegistryRow, 'id' | 'createdAt' | 'updatedAt'>;

export type RegistryField = 'name' | 'type' | 'url' | 'description' | 'creation_time' | 'update_time';
const COLUMNS: Record<RegistryField, string> = {
  name: 'name',
  type: 'type',
  url: 'url',
  description: 'description',
  creation_time: 'created_at',
  update_time: 'updated_at',
};

interface Raw {
  id: number;
  name: string;
  type: string;
  url: string;
  description: string;
  credential_type: string;
  access_key: string;
  access_secret: string;
  insecure: number;
  ca_certificate: string;
  status: string;
  created_at: number;
  updated_at: number;
}
const toRow = (r: Raw): RegistryRow => ({
  id: Number(r.id),
  name: r.name,
  type: r.type,
  url: r.url,
  description: r.description,
  credentialType: r.credential_type,
  accessKey: r.access_key,
  accessSecret: r.access_secret,
  insecure: Number(r.insecure) === 1,
  caCertificate: r.ca_certificate,
  status: r.status,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export class RegistryRepository {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }
  async countRegistries(q: Pick<ListQuery<RegistryField>, 'where'>): Promise<number> {
    const [w, p] = whereSql(COLUMNS, q.where);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM registries WHERE 1 = 1${w}`, p);
    return Number(r?.n ?? 0);
  }
  async listRegistries(q: ListQuery<RegistryField>): Promise<RegistryRow[]> {
    const [w, p] = whereSql(COLUMNS, q.where);
    const order = orderSql(COLUMNS, q.sort, 'id');
    return (await this.db.all<Raw>(`SELECT * FROM registries WHERE 1 = 1${w}${order} LIMIT ? OFFSET ?`, [...p, q.limit, q.offset])).map(toRow);
  }
  async findRegistry(id: number): Promise<RegistryRow | null> {
    const r = await this.db.get<Raw>('SELECT * FROM registries WHERE id = ?', [id]);
    return r ? toRow(r) : null;
  }
  /** Inserts an endpoint; null when the name is taken. */
  async saveNewRegistry(r: NewRegistry): Promise<number | null> {
    const now = Date.now();
    const row = await this.db.get<{ id: number }>(
      `INSERT INTO registries (name, type, url, description, credential_type, access_key, access_secret, insecure, ca_certificate, status, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`,
      [r.name, r.type, r.url, r.description, r.credentialType, r.accessKey, r.accessSecret, r.insecure ? 1 : 0, r.caCertificate, r.status, now, now],
    );
    return row ? Number(row.id) : null;
  }
  /** Replaces an endpoint's fields; false when the new name belongs to another endpoint. */
  async saveRegistry(r: RegistryRow): Promise<boolean> {
    return this.db.tx(async (q) => {
      if (await q.get('SELECT id FROM registries WHERE name = ? AND id <> ?', [r.name, r.id])) return false;
      await q.run(
        `UPDATE registries SET name = ?, type = ?, url = ?, description = ?, credential_type = ?, access_key = ?, access_secret = ?,
         insecure = ?, ca_certificate = ?, status = ?, updated_at = ? WHERE id = ?`,
        [r.name, r.type, r.url, r.description, r.credentialType, r.accessKey, r.accessSecret, r.insecure ? 1 : 0, r.caCertificate, r.status, Date.now(), r.id],
      );
      return true;
    });
  }
  async saveRegistryStatus(id: number, status: string): Promise<void> {
    await this.db.run('UPDATE registries SET status = ? WHERE id = ?', [status, id]);
  }
  async removeRegistry(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM registries WHERE id = ?', [id])).changes > 0;
  }
}
