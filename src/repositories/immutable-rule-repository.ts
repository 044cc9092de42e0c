// Immutable tag rules (migration 18): one row per rule, the rule body as JSON text, `rule_key` its canonical
// form (unique per project), `disabled` a column of its own (toggled without rewriting the rule, as Harbor).
import type { Queryable } from '../db/db.ts';

export interface ImmutableSelector {
  kind: string;
  decoration: string;
  pattern: string;
  extras?: string;
}
/** The stored rule body (Harbor's Metadata without id, project and disabled). */
export interface ImmutableRuleBody {
  priority: number;
  action: string;
  template: string;
  params?: Record<string, unknown>;
  tag_selectors: ImmutableSelector[];
  scope_selectors: Record<string, ImmutableSelector[]>;
}
export interface ImmutableRuleRow {
  id: number;
  projectId: number;
  disabled: boolean;
  rule: ImmutableRuleBody;
}

interface Raw {
  id: number;
  project_id: number;
  rule: string;
  disabled: number | boolean;
}
const toRow = (r: Raw): ImmutableRuleRow => ({ id: Number(r.id), projectId: Number(r.project_id), disabled: Boolean(Number(r.disabled)), rule: JSON.parse(r.rule) as ImmutableRuleBody });

export class ImmutableRuleRepository {
  private readonly db: Queryable;
  constructor(db: Queryable) {
    this.db = db;
  }
  /** The project's rules by id (Harbor lists them so). */
  async listRules(projectId: number, q: Queryable = this.db): Promise<ImmutableRuleRow[]> {
    return (await q.all<Raw>('SELECT id, project_id, rule, disabled FROM immutable_tag_rules WHERE project_id = ? ORDER BY id', [projectId])).map(toRow);
  }
  async countRules(projectId: number, q: Queryable = this.db): Promise<number> {
    const r = await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM immutable_tag_rules WHERE project_id = ?', [projectId]);
    return Number(r?.n ?? 0);
  }
  async findRule(projectId: number, id: number, q: Queryable = this.db): Promise<ImmutableRuleRow | null> {
    const r = await q.get<Raw>('SELECT id, project_id, rule, disabled FROM immutable_tag_rules WHERE project_id = ? AND id = ?', [projectId, id]);
    return r ? toRow(r) : null;
  }
  /** Inserts a rule; null when the project already has the same rule (rule_key). */
  async saveNewRule(projectId: number, rule: ImmutableRuleBody, key: string, disabled: boolean, q: Queryable = this.db): Promise<number | null> {
    const r = await q.get<{ id: number }>(
      'INSERT INTO immutable_tag_rules (project_id, rule, rule_key, disabled, created_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (project_id, rule_key) DO NOTHING RETURNING id',
      [projectId, JSON.stringify(rule), key, disabled ? 1 : 0, Date.now()],
    );
    return r ? Number(r.id) : null;
  }
  /** Rewrites a rule's body; false when another rule of the project already is this rule. */
  async saveRule(projectId: number, id: number, rule: ImmutableRuleBody, key: string, q: Queryable = this.db): Promise<boolean> {
    const clash = await q.get('SELECT id FROM immutable_tag_rules WHERE project_id = ? AND rule_key = ? AND id <> ?', [projectId, key, id]);
    if (clash) return false;
    await q.run('UPDATE immutable_tag_rules SET rule = ?, rule_key = ? WHERE project_id = ? AND id = ?', [JSON.stringify(rule), key, projectId, id]);
    return true;
  }
  async saveDisabled(projectId: number, id: number, disabled: boolean, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('UPDATE immutable_tag_rules SET disabled = ? WHERE project_id = ? AND id = ?', [disabled ? 1 : 0, projectId, id])).changes > 0;
  }
  async removeRule(projectId: number, id: number, q: Queryable = this.db): Promise<boolean> {
    return (await q.run('DELETE FROM immutable_tag_rules WHERE project_id = ? AND id = ?', [projectId, id])).changes > 0;
  }
}
