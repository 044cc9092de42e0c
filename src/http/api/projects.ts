// /api/v2.0/projects: projects, their metadata and members, authorized by Harbor's role matrix.
// A project the caller may not see answers as if it did not exist (401 anonymous, 404 otherwise), so ids
// and names of private projects cannot be probed; an object id from another project is a 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseStorageLimit } from '../../services/registry/quota-service.ts';
import { SCANNER_REGISTRATION, scannerView } from './scanners.ts';
import { ApiErrors } from '../../errors.ts';
import type { Member } from '../../repositories/member-repository.ts';
import type { Project, ProjectField } from '../../repositories/project-repository.ts';
import type { Principal } from '../../services/auth/principal.ts';
import { PROJECT_NOT_DELETABLE } from '../../services/project/project-service.ts';
import { ROLE_NAMES, type Policy } from '../../services/auth/rbac.ts';
import { presentProject } from './presenters/project.ts';
import { registryView } from './registries.ts';
import { parseGoBool, parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { bodyOf, bool, CREATED, dateTime, EMPTY, int, mapOf, obj, op, PAGED, pageQuery, str } from './schemas.ts';
import { API_PREFIX, bodyObject, headerFlag, pathId, queryOf, type ApiAuth, type ApiDeps } from './context.ts';

const PROJECT_Q = {
  name: { type: 'string', fuzzy: true, union: true },
  public: { type: 'bool' },
  project_id: { type: 'int', union: true },
  owner_id: { type: 'int' },
  creation_time: { type: 'int', range: true },
  update_time: { type: 'int', range: true },
} as const;
const PROJECT_SORT: readonly ProjectField[] = ['name', 'project_id', 'creation_time', 'update_time'];

// ---- schemas (Harbor's Project, ProjectReq, ProjectSummary, ProjectDeletable, ProjectMember(Entity), RoleRequest)

const TAG = 'project';
const P = { project_name_or_id: str('The name or id of the project (a name when X-Is-Resource-Name: true)') };
const PM = { ...P, mid: int('Member ID.') };
const PMETA = { ...P, meta_name: str('The name of metadata.') };
const METADATA = {
  type: 'object',
  description: 'The metadata of the project (string values)',
  properties: Object.fromEntries(
    ['public', 'enable_content_trust', 'enable_content_trust_cosign', 'prevent_vul', 'severity', 'auto_scan', 'auto_sbom_generation', 'reuse_sys_cve_allowlist', 'retention_id', 'proxy_speed_kb'].map((k) => [k, str()]),
  ),
  additionalProperties: { type: 'string' },
};
const CVE_ALLOWLIST = obj({
  id: int('ID of the allowlist'),
  project_id: int('ID of the project which the allowlist belongs to.'),
  expires_at: { type: ['integer', 'null'], description: 'the time for expiration of the allowlist, in seconds since epoch; absent: never expires' },
  items: { type: 'array', items: obj({ cve_id: str('The ID of the CVE, such as "CVE-2019-10164"') }) },
  creation_time: { ...dateTime, description: 'The creation time of the allowlist.' },
  update_time: { ...dateTime, description: 'The update time of the allowlist.' },
});
const PROJECT = obj({
  project_id: int('Project ID'),
  owner_id: int("The owner ID of the project always means the creator of the project."),
  name: str('The name of the project.'),
  creation_time: { ...dateTime, description: 'The creation time of the project.' },
  update_time: { ...dateTime, description: 'The update time of the project.' },
  deleted: bool('A deletion mark of the project.'),
  owner_name: str('The owner name of the project.'),
  togglable: bool('Correspond to the UI about whether the project\'s publicity is  updatable (for UI)'),
  current_user_role_id: int('The role ID with highest permission of the current user who triggered the API (for UI).'),
  current_user_role_ids: { type: ['array', 'null'], items: { type: 'integer' }, description: 'The list of role ID of the current user who triggered the API (for UI)' },
  repo_count: int('The number of the repositories under this project.'),
  metadata: METADATA,
  cve_allowlist: CVE_ALLOWLIST,
  registry_id: int('The ID of referenced registry when the project is a proxy cache project (absent otherwise).'),
});
const PROJECT_REQ = bodyOf('ProjectReq', {
  project_name: str('The name of the project.'),
  public: bool('deprecated, reserved for project creation in replication'),
  metadata: METADATA,
  storage_limit: { type: ['integer', 'null'], format: 'int64', description: 'The storage quota of the project (bytes, -1 unlimited; system admins only).' },
  registry_id: { type: ['integer', 'null'], format: 'int64', description: 'The ID of referenced registry when creating the proxy cache project (must name an existing registry)' },
  cve_allowlist: { ...CVE_ALLOWLIST, description: 'The CVE allowlist of the project (stored and returned; not enforced yet)' },
});
const MEMBER = obj({
  id: int('the project member id'),
  project_id: int('the project id'),
  entity_name: str('the name of the group member.'),
  role_name: str('the name of the role'),
  role_id: int('the role id'),
  entity_id: int('the id of entity, if the member is a user, it is user_id in user table. if the member is a user group, it is the user group\'s ID in user_group table.'),
  entity_type: str("the entity's type, u for user entity, g for group entity."),
});
const PROJECT_LIST_QUERY = {
  ...pageQuery({ q: true, sort: true }),
  name: str('The name of project.'),
  public: bool('The project is public or private.'),
  owner: str('The name of project owner.'),
  with_detail: bool('Bool value indicating whether return detailed information of the project'),
};
const S = {
  createProject: op({ operationId: 'createProject', tag: TAG, summary: 'Create a new project.', body: PROJECT_REQ, ok: { 201: CREATED }, errors: [400, 401, 409, 500] }),
  headProject: op({ operationId: 'headProject', tag: TAG, summary: 'Check if the project name user provided already exists.', query: { project_name: str('Project name for checking exists.') }, ok: { 200: EMPTY() }, errors: [400, 404, 500] }),
  listProjects: op({ operationId: 'listProjects', tag: TAG, summary: 'List projects', query: PROJECT_LIST_QUERY, ok: { 200: PAGED(PROJECT) }, errors: [400, 401, 500] }),
  getProject: op({ operationId: 'getProject', tag: TAG, summary: 'Return specific project detail information', params: P, ok: { 200: PROJECT }, errors: [401, 403, 404, 500] }),
  updateProject: op({ operationId: 'updateProject', tag: TAG, summary: 'Update properties for a selected project.', params: P, body: PROJECT_REQ, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 500] }),
  deleteProject: op({ operationId: 'deleteProject', tag: TAG, summary: 'Delete project by projectID', params: P, ok: { 200: EMPTY() }, errors: [400, 403, 404, 412, 500] }),
  getProjectDeletable: op({
    operationId: 'getProjectDeletable',
    tag: TAG,
    summary: 'Get the deletable status of the project',
    params: P,
    ok: { 200: obj({ deletable: bool('Whether the project can be deleted.'), message: str('The detail message when the project can not be deleted.') }) },
    errors: [401, 403, 404, 500],
  }),
  getProjectSummary: op({
    operationId: 'getProjectSummary',
    tag: TAG,
    summary: 'Get summary of the project.',
    params: P,
    ok: {
      200: {
        ...obj({
          ...Object.fromEntries(['repo_count', 'project_admin_count', 'maintainer_count', 'developer_count', 'guest_count', 'limited_guest_count'].map((k) => [k, int()])),
          // Harbor's ProjectSummary.quota: ResourceLists (storage in bytes), present for callers who may read the quota.
          quota: obj({ hard: mapOf(int()), used: mapOf(int()) }),
        }),
        additionalProperties: true,
      },
    },
    errors: [400, 401, 403, 404, 500],
  }),
  getScannerOfProject: op({ operationId: 'getScannerOfProject', tag: TAG, summary: 'Get project level scanner', params: P, ok: { 200: SCANNER_REGISTRATION }, errors: [400, 401, 403, 404, 500] }),
  setScannerOfProject: op({
    operationId: 'setScannerOfProject',
    tag: TAG,
    summary: 'Configure scanner for the specified project',
    params: P,
    body: bodyOf('ProjectScanner', { uuid: str('The identifier of the scanner registration') }, ['uuid']),
    ok: { 200: EMPTY() },
    errors: [400, 401, 403, 404, 500],
  }),
  listScannerCandidatesOfProject: op({
    operationId: 'listScannerCandidatesOfProject',
    tag: TAG,
    summary: 'Get scanner registration candidates for configurating project level scanner',
    params: P,
    query: pageQuery({ q: true, sort: true }),
    ok: { 200: PAGED(SCANNER_REGISTRATION) },
    errors: [400, 401, 403, 500],
  }),
  listProjectMetadatas: (hide: boolean) =>
    op({ operationId: 'listProjectMetadatas', tag: 'projectMetadata', summary: 'Get the metadata of the specific project', params: P, ok: { 200: mapOf(str()) }, errors: [400, 401, 403, 404, 500], hide }),
  addProjectMetadatas: (hide: boolean) =>
    op({
      operationId: 'addProjectMetadatas',
      tag: 'projectMetadata',
      summary: 'Add metadata for the specific project',
      params: P,
      body: mapOf(str(), 'metadata'),
      ok: { 200: EMPTY() },
      errors: [400, 401, 403, 404, 409, 500],
      hide,
    }),
  getProjectMetadata: op({ operationId: 'getProjectMetadata', tag: 'projectMetadata', summary: 'Get the specific metadata of the specific project', params: PMETA, ok: { 200: mapOf(str()) }, errors: [400, 401, 403, 404, 500] }),
  updateProjectMetadata: op({
    operationId: 'updateProjectMetadata',
    tag: 'projectMetadata',
    summary: 'Update the specific metadata for the specific project',
    params: PMETA,
    body: mapOf(str(), 'metadata'),
    ok: { 200: EMPTY() },
    errors: [400, 401, 403, 404, 409, 500],
  }),
  deleteProjectMetadata: op({ operationId: 'deleteProjectMetadata', tag: 'projectMetadata', summary: 'Delete the specific metadata for the specific project', params: PMETA, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 409, 500] }),
  listProjectMembers: op({ operationId: 'listProjectMembers', tag: 'member', summary: 'Get all project member information', params: P, query: { ...pageQuery(), entityname: str('The entity name to search.') }, ok: { 200: PAGED(MEMBER) }, errors: [400, 401, 403, 404, 500] }),
  createProjectMember: op({
    operationId: 'createProjectMember',
    tag: 'member',
    summary: 'Create project member',
    params: P,
    body: bodyOf('ProjectMember', {
      role_id: int('The role id 1 for projectAdmin, 2 for developer, 3 for guest, 4 for maintainer'),
      member_user: obj({ user_id: int('The ID of the user.'), username: str() }),
      member_group: obj({ id: int('The ID of the user group'), group_name: str(), group_type: int(), ldap_group_dn: str() }),
    }),
    ok: { 201: CREATED },
    errors: [400, 401, 403, 409, 500],
  }),
  getProjectMember: op({ operationId: 'getProjectMember', tag: 'member', summary: 'Get the project member information', params: PM, ok: { 200: MEMBER }, errors: [400, 401, 403, 404, 500] }),
  updateProjectMember: op({
    operationId: 'updateProjectMember',
    tag: 'member',
    summary: 'Update project member',
    params: PM,
    body: bodyOf('RoleRequest', { role_id: int('The role id 1 for projectAdmin, 2 for developer, 3 for guest, 4 for maintainer') }),
    ok: { 200: EMPTY() },
    errors: [400, 401, 403, 404, 500],
  }),
  deleteProjectMember: op({ operationId: 'deleteProjectMember', tag: 'member', summary: 'Delete project member', params: PM, ok: { 200: EMPTY() }, errors: [400, 401, 403, 404, 500] }),
};

type Req = FastifyRequest<{ Params: { project_name_or_id: string; mid?: number; meta_name?: string } }>;

function memberResp(m: Member) {
  return {
    id: m.id,
    project_id: m.projectId,
    entity_name: m.entityName,
    role_name: ROLE_NAMES[m.roleId],
    role_id: m.roleId,
    entity_id: m.entityId,
    entity_type: m.entityType,
  };
}

export async function projectRoutes(app: FastifyInstance, deps: ApiDeps, auth: ApiAuth): Promise<void> {
  const { projects, policy, users, configs } = deps;

  /** The project in the URL, which the caller must see; then `needed` (403 when it is missing). */
  const resolve = async (req: Req, needed: Policy): Promise<{ project: Project; caller: Principal; policies: Set<Policy> }> => {
    const caller = await auth.principal(req);
    const project = await projects.find(req.params.project_name_or_id, headerFlag(req, 'X-Is-Resource-Name'));
    const policies = project ? await policy.policiesOn(caller, project) : new Set<Policy>();
    if (!project || !policies.has('self:read')) {
      if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.notFound(`project ${req.params.project_name_or_id.slice(0, 255)} not found`);
    }
    if (!policies.has(needed)) {
      if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.forbidden(`${needed} is not allowed on project ${project.name}`);
    }
    return { project, caller, policies };
  };
  /** Harbor's RequireAuthenticated: any user or robot, never anonymous (even on a public project). */
  const authenticated = async (req: FastifyRequest) => {
    if ((await auth.principal(req)).kind === 'anonymous') throw ApiErrors.unauthorized('UnAuthorized');
  };
  const actor = (p: Principal) => (p.kind === 'user' ? p.username : '');

  const projectResp = async (p: Project, caller: Principal) => {
    const roles = caller.kind === 'user' ? await policy.rolesIn(caller, p) : [];
    const owner = p.ownerId === null ? null : await users.get(p.ownerId).catch(() => null);
    return presentProject(p, {
      roles,
      ownerName: owner?.username ?? '',
      repoCount: await projects.repositoryCount(p),
      metadata: await projects.metadata(p),
      cveAllowlist: await projects.cveAllowlist(p),
    });
  };

  app.post('/projects', { schema: S.createProject }, async (req, reply) => {
    const me = await auth.principal(req);
    if (me.kind === 'anonymous') throw ApiErrors.unauthorized('authentication required');
    // Harbor 2.2+: a system robot holding system project:create may create projects (and counts as an admin for
    // the rules below); project robots never may.
    if (me.kind === 'robot' && me.level !== 'system') throw ApiErrors.forbidden('Only system level robot can create project');
    if (me.kind === 'robot' && !policy.canSystem(me, 'project:create')) throw ApiErrors.forbidden('the robot does not hold project:create');
    const admin = policy.canSystem(me, 'project:create');
    if (!admin && (await configs.get('project_creation_restriction')) === 'adminonly') throw ApiErrors.forbidden('only system admins can create projects');
    const b = bodyObject(req);
    // storage_limit (bytes, -1 unlimited) is honoured from system admins only, as Harbor does; others, and 0 (Harbor's
    // "not given"), get the configured default. A proxy cache project (registry_id) is for system admins only (Harbor's 403).
    if (b.registry_id !== undefined && b.registry_id !== null && !admin) throw ApiErrors.forbidden('Only system admin can create proxy cache project');
    const storageLimit = admin && b.storage_limit !== undefined && b.storage_limit !== null && b.storage_limit !== 0 ? parseStorageLimit(b.storage_limit, 'storage_limit') : null;
    const input = { project_name: b.project_name, public: b.public, metadata: b.metadata, storageLimit, registry_id: b.registry_id, cve_allowlist: b.cve_allowlist };
    const p = me.kind === 'robot' ? await projects.createByRobot(me.name, input) : await projects.create(me, input);
    const byName = headerFlag(req, 'X-Resource-Name-In-Location');
    return reply
      .code(201)
      .header('Location', `${API_PREFIX}/projects/${byName ? p.name : p.id}`)
      .send();
  });

  // exposeHeadRoute: @fastify/swagger leaves HEAD routes out of the document unless asked.
  app.head('/projects', { schema: S.headProject, config: { swagger: { exposeHeadRoute: true } } }, async (req, reply) => {
    await auth.user(req);
    const name = queryOf(req).get('project_name');
    if (!name) throw ApiErrors.badRequest('project_name is required');
    if (!(await projects.exists(name))) throw ApiErrors.notFound(`project ${name.slice(0, 255)} not found`);
    return reply.code(200).send();
  });

  app.get('/projects', { schema: S.listProjects }, async (req, reply) => {
    const caller = await auth.principal(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), PROJECT_Q);
    const name = q.get('name');
    if (name) where.name = { op: 'like', value: name.slice(0, 255) };
    const pub = q.get('public');
    if (pub !== null) {
      const b = parseGoBool(pub);
      if (b === null) throw ApiErrors.badRequest('public must be a boolean');
      where.public = { op: 'eq', value: b ? 1 : 0 };
    }
    const ownerName = q.get('owner');
    if (ownerName) {
      where.owner_id = { op: 'eq', value: (await users.findByName(ownerName))?.id ?? -1 };
    }
    const visibility =
      caller.kind === 'user' && caller.sysadmin
        ? ({ all: true } as const)
        : { all: false as const, memberOf: caller.kind === 'anonymous' ? [] : await policy.projectIdsOf(caller) };
    const r = await projects.list(visibility, { where, sort: parseSort(q.get('sort'), PROJECT_SORT), limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    const out = [];
    for (const p of r.items) out.push(await projectResp(p, caller));
    return out;
  });

  app.get('/projects/:project_name_or_id', { schema: S.getProject }, async (req: Req) => {
    const { project, caller } = await resolve(req, 'self:read');
    return projectResp(project, caller);
  });

  app.put('/projects/:project_name_or_id', { schema: S.updateProject }, async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'self:update');
    const b = bodyObject(req);
    const meta = { ...((b.metadata as Record<string, unknown> | undefined) ?? {}) };
    if (typeof b.public === 'boolean' && meta.public === undefined) meta.public = String(b.public);
    await projects.update(actor(caller), project, { metadata: meta, cve_allowlist: b.cve_allowlist, registry_id: b.registry_id });
    return reply.send();
  });

  app.delete('/projects/:project_name_or_id', { schema: S.deleteProject }, async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'self:delete');
    await projects.remove(actor(caller), project);
    return reply.send();
  });

  app.get('/projects/:project_name_or_id/_deletable', { schema: S.getProjectDeletable }, async (req: Req) => {
    const { project } = await resolve(req, 'self:delete');
    const n = await projects.repositoryCount(project);
    return n === 0 ? { deletable: true } : { deletable: false, message: PROJECT_NOT_DELETABLE };
  });

  app.get('/projects/:project_name_or_id/summary', { schema: S.getProjectSummary }, async (req: Req) => {
    const { project, policies } = await resolve(req, 'self:read');
    // As Harbor: member counts for callers who may list members, the quota for those who may read it.
    const s: Record<string, unknown> = await projects.summary(project);
    if (!policies.has('member:list'))
      for (const k of ['project_admin_count', 'maintainer_count', 'developer_count', 'guest_count', 'limited_guest_count']) delete s[k];
    if (policies.has('quota:read')) {
      const q = await deps.quotas.get(project.id);
      if (q) s.quota = { hard: { storage: q.hard }, used: { storage: q.used } };
    }
    // Harbor's getProjectRegistrySummary: a proxy-cache project's endpoint, without its credential.
    if (project.registryId) {
      const r = await deps.registries.get(project.registryId).catch(() => null);
      if (r) {
        const { credential: _c, ...view } = registryView(r);
        s.registry = view;
      }
    }
    return s;
  });

  // ---- the project's scanner: its own choice, else the default registration (the built-in one unless changed).

  app.get('/projects/:project_name_or_id/scanner', { schema: S.getScannerOfProject }, async (req: Req) => {
    await authenticated(req);
    const { project } = await resolve(req, 'scanner:read');
    const s = await deps.scanners.viewOfProject(project.id);
    return s ? scannerView(s) : {};
  });
  app.put('/projects/:project_name_or_id/scanner', { schema: S.setScannerOfProject }, async (req: Req, reply) => {
    await authenticated(req);
    const { project } = await resolve(req, 'scanner:create');
    const uuid = bodyObject(req).uuid;
    if (typeof uuid !== 'string' || uuid === '') throw ApiErrors.badRequest('missing scanner UUID');
    await deps.scanners.setOfProject(project.id, uuid);
    return reply.send();
  });
  app.get('/projects/:project_name_or_id/scanner/candidates', { schema: S.listScannerCandidatesOfProject }, async (req: Req, reply) => {
    await authenticated(req);
    await resolve(req, 'scanner:create');
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), { name: { type: 'string', fuzzy: true }, description: { type: 'string', fuzzy: true }, url: { type: 'string', fuzzy: true } } as const);
    const sort = parseSort(q.get('sort'), ['name', 'creation_time', 'update_time'] as const);
    const r = await deps.scanners.list({ where, sort, limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(scannerView);
  });

  // ---- metadata

  app.get('/projects/:project_name_or_id/metadatas', { schema: S.listProjectMetadatas(true) }, async (req: Req) => {
    const { project } = await resolve(req, 'metadata:read');
    return projects.metadata(project);
  });
  app.get('/projects/:project_name_or_id/metadatas/', { schema: S.listProjectMetadatas(false) }, async (req: Req) => {
    const { project } = await resolve(req, 'metadata:read');
    return projects.metadata(project);
  });
  const addMetadata = async (req: Req, reply: FastifyReply) => {
    const { project, caller } = await resolve(req, 'metadata:create');
    await projects.updateMetadata(actor(caller), project, bodyObject(req));
    return reply.send();
  };
  app.post('/projects/:project_name_or_id/metadatas', { schema: S.addProjectMetadatas(true) }, addMetadata);
  app.post('/projects/:project_name_or_id/metadatas/', { schema: S.addProjectMetadatas(false) }, addMetadata);
  app.get('/projects/:project_name_or_id/metadatas/:meta_name', { schema: S.getProjectMetadata }, async (req: Req) => {
    const { project } = await resolve(req, 'metadata:read');
    const all = await projects.metadata(project);
    const key = req.params.meta_name!;
    if (!Object.hasOwn(all, key)) throw ApiErrors.notFound(`metadata ${key.slice(0, 64)} not found`);
    return { [key]: all[key] };
  });
  app.put('/projects/:project_name_or_id/metadatas/:meta_name', { schema: S.updateProjectMetadata }, async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'metadata:update');
    const b = bodyObject(req);
    const key = req.params.meta_name!;
    if (Object.keys(b).length !== 1 || !Object.hasOwn(b, key)) throw ApiErrors.badRequest(`the body must hold exactly the key ${key.slice(0, 64)}`);
    await projects.updateMetadata(actor(caller), project, b);
    return reply.send();
  });
  app.delete('/projects/:project_name_or_id/metadatas/:meta_name', { schema: S.deleteProjectMetadata }, async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'metadata:delete');
    await projects.removeMetadata(actor(caller), project, req.params.meta_name!);
    return reply.send();
  });

  // ---- members

  app.get('/projects/:project_name_or_id/members', { schema: S.listProjectMembers }, async (req: Req, reply) => {
    const { project } = await resolve(req, 'member:list');
    const q = queryOf(req);
    const page = parsePage(q);
    const r = await projects.listMembers(project, q.get('entityname')?.slice(0, 255) || null, page.limit, page.offset);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(memberResp);
  });
  app.post('/projects/:project_name_or_id/members', { schema: S.createProjectMember }, async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'member:create');
    const b = bodyObject(req);
    const id = await projects.addMember(actor(caller), project, { role_id: b.role_id, member_user: b.member_user, member_group: b.member_group });
    return reply.code(201).header('Location', `${API_PREFIX}/projects/${project.id}/members/${id}`).send();
  });
  app.get('/projects/:project_name_or_id/members/:mid', { schema: S.getProjectMember }, async (req: Req) => {
    const { project } = await resolve(req, 'member:read');
    return memberResp(await projects.getMember(project, pathId(String(req.params.mid), 'member id')));
  });
  app.put('/projects/:project_name_or_id/members/:mid', { schema: S.updateProjectMember }, async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'member:update');
    await projects.updateMemberRole(actor(caller), project, pathId(String(req.params.mid), 'member id'), bodyObject(req).role_id);
    return reply.send();
  });
  app.delete('/projects/:project_name_or_id/members/:mid', { schema: S.deleteProjectMember }, async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'member:delete');
    await projects.removeMember(actor(caller), project, pathId(String(req.params.mid), 'member id'));
    return reply.send();
  });
}
