// Repositories of the management API: lists (per project, or every project the caller sees), counts, the
// description, and deletion with every artifact (blob links go with the rows; the bytes are left to GC).
import type { Db } from '../../db/db.ts';
import { ApiErrors } from '../../errors.ts';
import type { ArtifactQueryRepository, RepositoryField, RepositoryRow, RepositoryScope } from '../../repositories/artifact-query-repository.ts';
import type { ListQuery } from '../../repositories/list-query.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { EventPublisher } from '../events/types.ts';
import { immutableDeleteError, type ImmutabilityService } from './immutability-service.ts';

export class RepositoryService {
  private readonly db: Db;
  private readonly query: ArtifactQueryRepository;
  private readonly audit: AuditSink;
  private readonly events: EventPublisher;
  private readonly immutability: ImmutabilityService;
  constructor(deps: { db: Db; query: ArtifactQueryRepository; audit: AuditSink; events: EventPublisher; immutability: ImmutabilityService }) {
    this.events = deps.events;
    this.immutability = deps.immutability;
    this.db = deps.db;
    this.query = deps.query;
    this.audit = deps.audit;
  }

  private async views(rows: RepositoryRow[]) {
    const counts = await this.query.countArtifacts(rows.map((r) => r.id));
    return rows.map((r) => ({
      id: r.id,
      project_id: r.projectId,
      name: r.name,
      description: r.description,
      artifact_count: counts.get(r.id) ?? 0,
      pull_count: r.pullCount,
      creation_time: new Date(r.createdAt).toISOString(),
      update_time: new Date(r.updatedAt).toISOString(),
    }));
  }

  async list(scope: RepositoryScope, q: ListQuery<RepositoryField>) {
    const [total, rows] = await Promise.all([this.query.countRepositories(scope, q.where), this.query.listRepositories(scope, q)]);
    return { total, items: await this.views(rows) };
  }

  /** The repository `project/name` of the project, or 404. */
  async find(project: { id: number; name: string }, name: string): Promise<RepositoryRow> {
    const r = await this.query.findRepository(`${project.name}/${name}`);
    if (!r || r.projectId !== project.id) throw ApiErrors.notFound(`repository ${name.slice(0, 255)} not found`);
    return r;
  }

  async get(project: { id: number; name: string }, name: string) {
    return (await this.views([await this.find(project, name)]))[0];
  }

  async updateDescription(actor: string, project: { id: number; name: string }, name: string, description: unknown): Promise<void> {
    const r = await this.find(project, name);
    if (description === undefined || description === null) return;
    if (typeof description !== 'string') throw ApiErrors.badRequest('description must be a string');
    if (description.length > 65_535) throw ApiErrors.badRequest('description is too long');
    await this.query.updateRepositoryDescription(r.id, description);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'repository', resource: r.name, projectId: project.id });
  }

  async remove(actor: string, project: { id: number; name: string }, name: string): Promise<void> {
    const r = await this.find(project, name);
    await this.db.tx(async (q) => {
      // Harbor deletes a repository artifact by artifact, so an immutable tag in it refuses the whole delete.
      const immutable = await this.immutability.matcher(project.id, q);
      const short = r.name.slice(project.name.length + 1);
      const locked = (await this.query.listTagNamesOfRepository(r.id, q)).find((t) => immutable(short, t));
      if (locked !== undefined) throw immutableDeleteError(locked);
      await this.query.removeRepository(r.id, q);
      await this.events.publish(q, [{ type: 'DELETE_REPOSITORY', operator: actor, projectId: project.id, data: { projectId: project.id, projectName: project.name, repository: r.name } }]);
    });
  }
}
