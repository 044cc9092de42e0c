// Labels: global ones (scope 'g', system admins) and project ones (scope 'p', the project's admins and
// maintainers). Who may do what is decided by the caller (routes, with AccessPolicy); this holds the data rules.
import { ApiErrors } from '../../errors.ts';
import type { LabelFilter, LabelRepository, LabelRow, LabelSortField } from '../../repositories/label-repository.ts';
import type { AuditSink } from '../audit/audit.ts';

const str = (v: unknown, name: string, max: number, required = false): string => {
  if (v === undefined || v === null) {
    if (required) throw ApiErrors.badRequest(`${name} is required`);
    return '';
  }
  if (typeof v !== 'string') throw ApiErrors.badRequest(`${name} must be a string`);
  if (required && !v.trim()) throw ApiErrors.badRequest(`${name} is required`);
  if (v.length > max) throw ApiErrors.badRequest(`${name} is too long`);
  if (v.includes('\0')) throw ApiErrors.badRequest(`${name} must not contain NUL`);
  return v;
};

export class LabelService {
  private readonly labels: LabelRepository;
  private readonly audit: AuditSink;
  constructor(deps: { labels: LabelRepository; audit: AuditSink }) {
    this.labels = deps.labels;
    this.audit = deps.audit;
  }
  async list(f: LabelFilter, sort: { field: LabelSortField; desc: boolean }[], limit: number, offset: number): Promise<{ total: number; items: LabelRow[] }> {
    const [total, items] = await Promise.all([this.labels.countLabels(f), this.labels.listLabels(f, sort, limit, offset)]);
    return { total, items };
  }
  async get(id: number): Promise<LabelRow | null> {
    return this.labels.findLabel(id);
  }
  /** Creates a label from Harbor's Label body: only name, description, color (scope/project_id decided by the caller). */
  async create(actor: string, scope: 'g' | 'p', projectId: number, body: Record<string, unknown>): Promise<number> {
    const name = str(body.name, 'name', 128, true);
    const id = await this.labels.saveNewLabel({ name, description: str(body.description, 'description', 1024), color: str(body.color, 'color', 32), scope, projectId });
    if (id === null) throw ApiErrors.conflict(`label ${name} already exists`);
    await this.audit.record({ username: actor, operation: 'create', resourceType: 'label', resource: name, projectId: projectId || null });
    return id;
  }
  /** Updates name/description/color; scope and project_id never change. */
  async update(actor: string, label: LabelRow, body: Record<string, unknown>): Promise<void> {
    const next = {
      name: body.name === undefined ? label.name : str(body.name, 'name', 128, true),
      description: body.description === undefined ? label.description : str(body.description, 'description', 1024),
      color: body.color === undefined ? label.color : str(body.color, 'color', 32),
    };
    if (!(await this.labels.updateLabel(label.id, next))) throw ApiErrors.conflict(`label ${next.name} already exists`);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'label', resource: next.name, projectId: label.projectId || null });
  }
  async remove(actor: string, label: LabelRow): Promise<void> {
    if (!(await this.labels.removeLabel(label.id))) throw ApiErrors.notFound('label not found');
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'label', resource: label.name, projectId: label.projectId || null });
  }
}
