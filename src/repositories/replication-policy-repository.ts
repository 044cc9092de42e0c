// Replication policies (Harbor's replication_policy). Registry id 0 is the local registry; trigger and filters
// are stored as Harbor's JSON shapes.
import type { Db, Queryable } from '../db/db.ts';

export interface ReplicationFilter {
  type: string;
  value: unknown;
  decoration?: string;
}

export interface ReplicationTrigger {
  type: string;
  trigger_settings?: { cron?: string };
}

export interface ReplicationPolicyRow {
  id: number;
  name: string;
  description: string;
  creator: string;
  srcRegistryId: number;
  destRegistryId: number;
  destNamespace: string;
  destNamespaceReplaceCount: number;
  trigger: ReplicationTrigger;
  filters: ReplicationFilter[];
  replicateDeletion: boolean;
  override: boolean;
  enabled: boolean;
  speed: number;
  copyByChunk: boolean;
  singleActiveReplication: boolean;
  /** Berth extension: '' (Harbor's one-way replication) or 'anti-entropy' (dual-master cycles). */
  mode: string;
  createdAt: number;
  updatedAt: number;
}
export type NewReplicationPolicy = Omit<ReplicationPolicyRow, 'id' | 'createdAt' | 'updatedAt'>;

type R = Record<string, unknown>;
const toRow = (r: R): ReplicationPolicyRow => ({
  id: Number(r.id),
  name: String(r.name),
  description: String(r.description),
  creator: String(r.creator),
  srcRegistryId: Number(r.src_registry_id),
  destRegistryId: Number(r.dest_registry_id),
  destNamespace: String(r.dest_namespace),
  destNamespaceReplaceCount: Number(r.dest_namespace_replace_count),
  trigger: JSON.parse(String(r.trigger_json)) as ReplicationTrigger,
  filters: JSON.parse(String(r.filters_json)) as ReplicationFilter[],
  replicateDeletion: Number(r.replicate_deletion) === 1,
  override: Number(r.override) === 1,
  enabled: Number(r.enabled) === 1,
  speed: Number(r.speed),
  copyByChunk: Number(r.copy_by_chunk) === 1,
  singleActiveReplication: Number(r.single_active_replication) === 1,
  mode: String(r.mode ?? ''),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});
const b = (v: boolean) => (v ? 1 : 0);
const values = (p: NewReplicationPolicy) => [
  p.name,
  p.description,
  p.creator,
  p.srcRegistryId,
  p.destRegistryId,
  p.destNamespace,
  p.destNamespaceReplaceCount,
  JSON.stringify(p.trigger),
  JSON.stringify(p.filters),
  b(p.replicateDeletion),
  b(p.override),
  b(p.enabled),
  p.speed,
  b(p.copyByChunk),
  b(p.singleActiveReplication),
  p.mode,
];

export class ReplicationPolicyRepository {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }

  async savePolicy(p: NewReplicationPolicy): Promise<number> {
    const now = Date.now();
    const r = await this.db.get<R>(
      `INSERT INTO replication_policies (name, description, creator, src_registry_id, dest_registry_id, dest_namespace,
         dest_namespace_replace_count, trigger_json, filters_json, replicate_deletion, override, enabled, speed, copy_by_chunk,
         single_active_replication, mode, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [...values(p), now, now],
    );
    return Number(r!.id);
  }

  async updatePolicy(id: number, p: NewReplicationPolicy): Promise<boolean> {
    const r = await this.db.run(
      `UPDATE replication_policies SET name = ?, description = ?, creator = ?, src_registry_id = ?, dest_registry_id = ?,
         dest_namespace = ?, dest_namespace_replace_count = ?, trigger_json = ?, filters_json = ?, replicate_deletion = ?,
         override = ?, enabled = ?, speed = ?, copy_by_chunk = ?, single_active_replication = ?, mode = ?, updated_at = ? WHERE id = ?`,
      [...values(p), Date.now(), id],
    );
    return r.changes === 1;
  }

  async findPolicy(id: number, q: Queryable = this.db): Promise<ReplicationPolicyRow | null> {
    const r = await q.get<R>('SELECT * FROM replication_policies WHERE id = ?', [id]);
    return r ? toRow(r) : null;
  }

  async findPolicyByName(name: string): Promise<ReplicationPolicyRow | null> {
    const r = await this.db.get<R>('SELECT * FROM replication_policies WHERE name = ?', [name]);
    return r ? toRow(r) : null;
  }

  /** Oldest first; `name` filters by substring. */
  async listPolicies(o: { name?: string; limit: number; offset: number }): Promise<{ items: ReplicationPolicyRow[]; total: number }> {
    const where = o.name ? 'WHERE name LIKE ?' : '';
    const params = o.name ? [`%${o.name.replace(/[%_\\]/g, '')}%`] : [];
    const total = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM replication_policies ${where}`, params);
    const rows = await this.db.all<R>(`SELECT * FROM replication_policies ${where} ORDER BY id LIMIT ? OFFSET ?`, [...params, o.limit, o.offset]);
    return { items: rows.map(toRow), total: Number(total!.n) };
  }

  /** Enabled policies whose trigger is event_based and whose source is the local registry. */
  async listEventPolicies(q: Queryable = this.db): Promise<ReplicationPolicyRow[]> {
    const rows = await q.all<R>('SELECT * FROM replication_policies WHERE enabled = 1 AND src_registry_id = 0');
    return rows.map(toRow).filter((p) => p.trigger.type === 'event_based');
  }

  async countPoliciesUsingRegistry(registryId: number): Promise<number> {
    const r = await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM replication_policies WHERE src_registry_id = ? OR dest_registry_id = ?', [registryId, registryId]);
    return Number(r!.n);
  }

  /** This instance's id (anti-entropy loop prevention), created once; race-free across processes sharing the DB. */
  async findOrCreateInstanceId(fresh: string): Promise<string> {
    await this.db.run('INSERT INTO berth_instance (singleton, id, created_at) VALUES (1, ?, ?) ON CONFLICT (singleton) DO NOTHING', [fresh, Date.now()]);
    const r = await this.db.get<{ id: string }>('SELECT id FROM berth_instance WHERE singleton = 1');
    return r!.id;
  }

  async removePolicy(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM replication_policies WHERE id = ?', [id])).changes === 1;
  }
}
