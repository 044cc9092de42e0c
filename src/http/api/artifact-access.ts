// Shared by the repository, artifact and label routes: the project in the URL as the caller may see it, and
// the repository name as Harbor sends it (a name with `/` arrives double-URL-encoded: `a%252Fb`).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ApiErrors } from '../../errors.ts';
import type { Project } from '../../repositories/project-repository.ts';
import { principalName, type Principal } from '../../services/auth/principal.ts';
import type { Policy } from '../../services/auth/rbac.ts';
import type { ApiAuth, ApiDeps } from './context.ts';
import { parseGoBool } from './query.ts';

/** The project (by name) the caller must see (401 anonymous / 404 otherwise, robots included), then `needed` (401 / 403). */
export async function projectFor(
  deps: Pick<ApiDeps, 'projects' | 'policy'>,
  auth: ApiAuth,
  req: FastifyRequest,
  ref: string,
  needed: Policy,
  /** false for `{project_name_or_id}` paths: an integer is an id unless X-Is-Resource-Name: true. */
  isName = true,
): Promise<{ project: Project; caller: Principal; policies: Set<Policy> }> {
  const caller = await auth.principal(req);
  const project = await deps.projects.find(ref, isName);
  const policies = project ? await deps.policy.policiesOn(caller, project) : new Set<Policy>();
  if (!project || !seesProject(caller, policies)) {
    if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
    throw ApiErrors.notFound(`project ${ref.slice(0, 255)} not found`);
  }
  if (!policies.has(needed)) {
    if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
    throw ApiErrors.forbidden(`${needed} is not allowed on project ${project.name}`);
  }
  return { project, caller, policies };
}

/** A user sees a project through `self:read`; a robot through any grant it holds there (it has no roles). */
export const seesProject = (caller: Principal, policies: ReadonlySet<Policy>): boolean =>
  policies.has('self:read') || (caller.kind === 'robot' && policies.size > 0);

/** The repository name from the path (decoded once more, as Harbor clients encode it twice). */
export function repoParam(v: string | undefined): string {
  let s = v ?? '';
  if (s.includes('%')) {
    try {
      s = decodeURIComponent(s);
    } catch {
      throw ApiErrors.badRequest('invalid repository name');
    }
  }
  if (!s || s.length > 255 || s.includes('\0')) throw ApiErrors.badRequest('invalid repository name');
  return s;
}

export const actorOf = (p: Principal): string => principalName(p);

/** Boolean query flag (Go's ParseBool: `true`/`True`/`1`/`false`/…), or its default; anything else is a 400. */
export function flag(q: URLSearchParams, name: string, dflt: boolean): boolean {
  const v = q.get(name);
  if (v === null || v === '') return dflt;
  const b = parseGoBool(v);
  if (b !== null) return b;
  throw ApiErrors.badRequest(`${name} must be a boolean`);
}

/** Replies are plain JSON in these scopes: a response schema documents, it never drops a field. */
export function plainJson(app: FastifyInstance): void {
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
}

// ---- schema fragments (Harbor's swagger definitions, for the generated OpenAPI document)

export const ERRORS = {
  type: 'object',
  properties: { errors: { type: 'array', items: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } } },
};
export const errs = (...codes: number[]) => Object.fromEntries(codes.map((c) => [String(c), ERRORS]));
export const PAGE_QS = {
  q: { type: 'string' },
  sort: { type: 'string' },
  page: { type: 'integer', default: 1 },
  page_size: { type: 'integer', default: 10 },
};
export const TAG_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    repository_id: { type: 'integer' },
    artifact_id: { type: 'integer' },
    name: { type: 'string' },
    push_time: { type: 'string', format: 'date-time' },
    pull_time: { type: 'string', format: 'date-time' },
    immutable: { type: 'boolean' },
  },
};
export const LABEL_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    name: { type: 'string' },
    description: { type: 'string' },
    color: { type: 'string' },
    scope: { type: 'string' },
    project_id: { type: 'integer' },
    creation_time: { type: 'string', format: 'date-time' },
    update_time: { type: 'string', format: 'date-time' },
  },
};
export const ACCESSORY_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    artifact_id: { type: 'integer' },
    subject_artifact_id: { type: 'integer' },
    subject_artifact_digest: { type: 'string' },
    subject_artifact_repo: { type: 'string' },
    size: { type: 'integer' },
    digest: { type: 'string' },
    type: { type: 'string' },
    icon: { type: 'string' },
    creation_time: { type: 'string', format: 'date-time' },
  },
};
export const ARTIFACT_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    type: { type: 'string' },
    media_type: { type: 'string' },
    manifest_media_type: { type: 'string' },
    artifact_type: { type: 'string' },
    project_id: { type: 'integer' },
    repository_id: { type: 'integer' },
    repository_name: { type: 'string' },
    digest: { type: 'string' },
    size: { type: 'integer' },
    icon: { type: 'string' },
    push_time: { type: 'string', format: 'date-time' },
    pull_time: { type: 'string', format: 'date-time' },
    extra_attrs: { type: 'object', additionalProperties: true },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
    references: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          parent_id: { type: 'integer' },
          child_id: { type: 'integer' },
          child_digest: { type: 'string' },
          platform: { type: 'object', additionalProperties: true },
          annotations: { type: 'object', additionalProperties: { type: 'string' } },
          urls: { type: 'array', items: { type: 'string' } },
        },
      },
    },
    tags: { type: 'array', items: TAG_SCHEMA },
    addition_links: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { href: { type: 'string' }, absolute: { type: 'boolean' } } },
    },
    labels: { type: 'array', items: LABEL_SCHEMA },
    accessories: { type: 'array', items: ACCESSORY_SCHEMA },
    scan_overview: {
      type: 'object',
      description: "Harbor's ScanOverview: the scan summary (NativeReportSummary) per report MIME type (with_scan_overview)",
      additionalProperties: {
        type: 'object',
        properties: {
          report_id: { type: 'string' },
          scan_status: { type: 'string' },
          severity: { type: 'string' },
          duration: { type: 'integer' },
          summary: { type: 'object', properties: { total: { type: 'integer' }, fixable: { type: 'integer' }, summary: { type: 'object', additionalProperties: { type: 'integer' } } } },
          start_time: { type: 'string', format: 'date-time' },
          end_time: { type: 'string', format: 'date-time' },
          complete_percent: { type: 'integer' },
          scanner: { type: 'object', properties: { name: { type: 'string' }, vendor: { type: 'string' }, version: { type: 'string' } } },
        },
      },
    },
    inherited_accessories: { type: 'array', items: ACCESSORY_SCHEMA, description: 'The signatures of the indexes listing this artifact (with_inherited_accessory)' },
  },
};
export const REPOSITORY_SCHEMA = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    project_id: { type: 'integer' },
    name: { type: 'string' },
    description: { type: 'string' },
    artifact_count: { type: 'integer' },
    pull_count: { type: 'integer' },
    creation_time: { type: 'string', format: 'date-time' },
    update_time: { type: 'string', format: 'date-time' },
  },
};
export const paged = (items: object) => ({
  type: 'array',
  items,
  headers: { 'X-Total-Count': { type: 'integer' }, Link: { type: 'string' } },
});
export const CREATED = { type: 'null', description: 'Created', headers: { Location: { type: 'string' } } };
export const EMPTY = { type: 'null', description: 'Success' };
