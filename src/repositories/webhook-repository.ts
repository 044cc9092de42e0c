// Webhook policies of a project (Harbor's notification_policy) and the last time each fired per event type.
// Rows hold targets as stored: auth_header already sealed; sealing/opening is the service's job.
import type { Db, Param, Queryable } from '../db/db.ts';
import { escapeLike } from './member-repository.ts';

/** Name filter of a list: exact, or a case-insensitive substring (Harbor's `name=~x`). */
export interface PolicyNameFilter {
  eq?: string;
  like?: string;
}

export interface StoredTarget {
  type: string;
  address: string;
  /** Sealed (SecretBox) or '' */
  auth_header: string;
  skip_cert_verify: boolean;
  payload_format: string;
}
export interface WebhookPolicyRow {
  id: number;
  projectId: number;
  name: string;
  description: string;
  enabled: boolean;
  eventTypes: string[];
  targets: StoredTarget[];
  creator: string;
  createdAt: number;
  updatedAt: number;
}
export type NewWebhookPolicy = Omit<WebhookPolicyRow, 'id' | 'createdAt' | 'updatedAt'>;

interface Raw {
  id: number;
  project_id: number;
  name: string;
  description: string;
  enabled: number;
  event_types: string;
  targets: string;
  creator: string;
  created_at: number;
  updated_at: number;
}
const toRow = (r: Raw): WebhookPolicyRow => ({
  id: Number(r.id),
  projectId: Number(r.project_id),
  name: r.name,
  description: r.description,
  enabled: Number(r.enabled) === 1,
  eventTypes: JSON.parse(r.event_types) as string[],
  targets: JSON.parse(r.targets) as StoredTarget[],
  creator: r.creator,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export class WebhookRepository {
  private readonly db: Db;
  constructor(db: Db) {
    this.db = db;
  }
  private where(projectId: number, f: PolicyNameFilter): [string, Param[]] {
    let sql = 'project_id = ?';
    const p: Param[] = [projectId];
    if (f.eq !== undefined) {
      sql += ' AND name = ?';
      p.push(f.eq);
    }
    if (f.like !== undefined) {
      sql += ` AND LOWER(name) LIKE ? ESCAPE '\\'`;
      p.push(`%${escapeLike(f.like.toLowerCase())}%`);
    }
    return [sql, p];
  }
  async countPolicies(projectId: number, f: PolicyNameFilter = {}): Promise<number> {
    const [w, p] = this.where(projectId, f);
    const r = await this.db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM webhook_policies WHERE ${w}`, p);
    return Number(r?.n ?? 0);
  }
  async listPolicies(projectId: number, limit: number, offset: number, f: PolicyNameFilter = {}): Promise<WebhookPolicyRow[]> {
    const [w, p] = this.where(projectId, f);
    const rows = await this.db.all<Raw>(`SELECT * FROM webhook_policies WHERE ${w} ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?`, [...p, limit, offset]);
    return rows.map(toRow);
  }
  /** Enabled policies of a project (event types are filtered by the caller; they are a JSON list). */
  async listEnabledPolicies(projectId: number, q: Queryable = this.db): Promise<WebhookPolicyRow[]> {
    return (await q.all<Raw>('SELECT * FROM webhook_policies WHERE project_id = ? AND enabled = 1 ORDER BY id', [projectId])).map(toRow);
  }
  async findPolicy(id: number): Promise<WebhookPolicyRow | null> {
    const r = await this.db.get<Raw>('SELECT * FROM webhook_policies WHERE id = ?', [id]);
    return r ? toRow(r) : null;
  }
  /** Inserts a policy; null when the name is taken in the project. */
  async saveNewPolicy(p: NewWebhookPolicy): Promise<number | null> {
    const now = Date.now();
    const r = await this.db.get<{ id: number }>(
      `INSERT INTO webhook_policies (project_id, name, description, enabled, event_types, targets, creator, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (project_id, name) DO NOTHING RETURNING id`,
      [p.projectId, p.name, p.description, p.enabled ? 1 : 0, JSON.stringify(p.eventTypes), JSON.stringify(p.targets), p.creator, now, now],
    );
    return r ? Number(r.id) : null;
  }
  /** Replaces a policy's editable fields; false when the new name is taken by another policy of the project. */
  async savePolicy(p: WebhookPolicyRow): Promise<boolean> {
    return this.db.tx(async (q) => {
      const clash = await q.get('SELECT id FROM webhook_policies WHERE project_id = ? AND name = ? AND id <> ?', [p.projectId, p.name, p.id]);
      if (clash) return false;
      await q.run('UPDATE webhook_policies SET name = ?, description = ?, enabled = ?, event_types = ?, targets = ?, updated_at = ? WHERE id = ?', [
        p.name,
        p.description,
        p.enabled ? 1 : 0,
        JSON.stringify(p.eventTypes),
        JSON.stringify(p.targets),
        Date.now(),
        p.id,
      ]);
      return true;
    });
  }
  async removePolicy(id: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM webhook_policies WHERE id = ?', [id])).changes > 0;
  }
  /** Last trigger times of the policies, keyed `${policyId}/${eventType}` (delivery writes them). */
  async listLastTriggers(policyIds: readonly number[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!policyIds.length) return out;
    const rows = await this.db.all<{ policy_id: number; event_type: string; last_trigger_time: number }>(
      `SELECT policy_id, event_type, last_trigger_time FROM webhook_last_triggers WHERE policy_id IN (${policyIds.map(() => '?').join(',')})`,
      [...policyIds],
    );
    for (const r of rows) out.set(`${Number(r.policy_id)}/${r.event_type}`, Number(r.last_trigger_time));
    return out;
  }
  /** Last trigger times of (policy, event type) pairs, one statement per 200 (a later time wins). */
  async saveLastTriggers(list: readonly { policyId: number; eventType: string; at: number }[], q: Queryable = this.db): Promise<void> {
    for (let i = 0; i < list.length; i += 200) {
      const part = list.slice(i, i + 200);
      await q.run(
        `INSERT INTO webhook_last_triggers (policy_id, event_type, last_trigger_time) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}
         ON CONFLICT (policy_id, event_type) DO UPDATE SET last_trigger_time = excluded.last_trigger_time`,
        part.flatMap((t) => [t.policyId, t.eventType, t.at]),
      );
    }
  }
}
