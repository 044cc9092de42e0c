// /api/v2.0/projects: projects, their metadata and members, authorized by Harbor's role matrix.
// A project the caller may not see answers as if it did not exist (401 anonymous, 404 otherwise), so ids
// and names of private projects cannot be probed; an object id from another project is a 404.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseStorageLimit } from '../../services/registry/quota-service.ts';
import { ApiErrors } from '../../errors.ts';
import type { Member } from '../../repositories/member-repository.ts';
import type { Project, ProjectField } from '../../repositories/project-repository.ts';
import type { Principal } from '../../services/auth/principal.ts';
import { highestRole, ROLE_NAMES, type Policy } from '../../services/auth/rbac.ts';
import { parsePage, parseQ, parseSort, setPageHeaders } from './query.ts';
import { API_PREFIX, bodyObject, isoTime, pathId, queryOf, type ApiAuth, type ApiDeps } from './index.ts';

const PROJECT_Q = {
  name: { type: 'string', fuzzy: true, union: true },
  public: { type: 'bool' },
  project_id: { type: 'int', union: true },
  owner_id: { type: 'int' },
  creation_time: { type: 'int', range: true },
  update_time: { type: 'int', range: true },
} as const;
const PROJECT_SORT: readonly ProjectField[] = ['name', 'project_id', 'creation_time', 'update_time'];

type Req = FastifyRequest<{ Params: { ref: string; mid?: string; meta?: string } }>;

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
    const project = await projects.find(req.params.ref, req.headers['x-is-resource-name'] === 'true');
    const policies = project ? await policy.policiesOn(caller, project) : new Set<Policy>();
    if (!project || !policies.has('self:read')) {
      if (caller.kind !== 'user') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.notFound(`project ${req.params.ref.slice(0, 255)} not found`);
    }
    if (!policies.has(needed)) {
      if (caller.kind !== 'user') throw ApiErrors.unauthorized('authentication required');
      throw ApiErrors.forbidden(`${needed} is not allowed on project ${project.name}`);
    }
    return { project, caller, policies };
  };
  const actor = (p: Principal) => (p.kind === 'user' ? p.username : '');

  const projectResp = async (p: Project, caller: Principal) => {
    const roles = caller.kind === 'user' ? await policy.rolesIn(caller, p) : [];
    const owner = p.ownerId === null ? null : await users.get(p.ownerId).catch(() => null);
    const resp: Record<string, unknown> = {
      project_id: p.id,
      owner_id: p.ownerId ?? 0,
      name: p.name,
      creation_time: isoTime(p.createdAt),
      update_time: isoTime(p.updatedAt),
      deleted: false,
      owner_name: owner?.username ?? '',
      togglable: true,
      current_user_role_id: highestRole(roles),
      current_user_role_ids: roles.length ? [...roles].sort() : null,
      repo_count: await projects.repositoryCount(p),
      metadata: await projects.metadata(p),
    };
    return resp;
  };

  app.post('/projects', async (req, reply) => {
    const me = await auth.user(req);
    if (!me.sysadmin && (await configs.get('project_creation_restriction')) === 'adminonly') throw ApiErrors.forbidden('only system admins can create projects');
    const b = bodyObject(req);
    // storage_limit (bytes, -1 unlimited) is honoured from system admins only, as Harbor does; others get the
    // configured default. registry_id and cve_allowlist are not supported yet and ignored.
    const storageLimit = me.sysadmin && b.storage_limit !== undefined && b.storage_limit !== null ? parseStorageLimit(b.storage_limit, 'storage_limit') : null;
    const p = await projects.create(me, { project_name: b.project_name, public: b.public, metadata: b.metadata, storageLimit });
    const byName = req.headers['x-resource-name-in-location'] === 'true';
    return reply
      .code(201)
      .header('Location', `${API_PREFIX}/projects/${byName ? p.name : p.id}`)
      .send();
  });

  app.head('/projects', async (req, reply) => {
    await auth.user(req);
    const name = queryOf(req).get('project_name');
    if (!name) throw ApiErrors.badRequest('project_name is required');
    if (!(await projects.exists(name))) throw ApiErrors.notFound(`project ${name.slice(0, 255)} not found`);
    return reply.code(200).send();
  });

  app.get('/projects', async (req, reply) => {
    const caller = await auth.principal(req);
    const q = queryOf(req);
    const page = parsePage(q);
    const where = parseQ(q.get('q'), PROJECT_Q);
    const name = q.get('name');
    if (name) where.name = { op: 'like', value: name.slice(0, 255) };
    const pub = q.get('public');
    if (pub !== null) {
      if (!['true', 'false', '1', '0'].includes(pub)) throw ApiErrors.badRequest('public must be a boolean');
      where.public = { op: 'eq', value: pub === 'true' || pub === '1' ? 1 : 0 };
    }
    const ownerName = q.get('owner');
    if (ownerName) {
      where.owner_id = { op: 'eq', value: (await users.findByName(ownerName))?.id ?? -1 };
    }
    const visibility =
      caller.kind === 'user' && caller.sysadmin
        ? ({ all: true } as const)
        : { all: false as const, memberOf: caller.kind === 'user' ? await policy.projectIdsOf(caller) : [] };
    const r = await projects.list(visibility, { where, sort: parseSort(q.get('sort'), PROJECT_SORT), limit: page.limit, offset: page.offset });
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    const out = [];
    for (const p of r.items) out.push(await projectResp(p, caller));
    return out;
  });

  app.get('/projects/:ref', async (req: Req) => {
    const { project, caller } = await resolve(req, 'self:read');
    return projectResp(project, caller);
  });

  app.put('/projects/:ref', async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'self:update');
    const b = bodyObject(req);
    const meta = { ...((b.metadata as Record<string, unknown> | undefined) ?? {}) };
    if (typeof b.public === 'boolean' && meta.public === undefined) meta.public = String(b.public);
    await projects.updateMetadata(actor(caller), project, meta);
    return reply.send();
  });

  app.delete('/projects/:ref', async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'self:delete');
    await projects.remove(actor(caller), project);
    return reply.send();
  });

  app.get('/projects/:ref/_deletable', async (req: Req) => {
    const { project } = await resolve(req, 'self:delete');
    const n = await projects.repositoryCount(project);
    return n === 0 ? { deletable: true } : { deletable: false, message: `the project contains ${n} repositories` };
  });

  app.get('/projects/:ref/summary', async (req: Req) => {
    const { project } = await resolve(req, 'self:read');
    return projects.summary(project);
  });

  // ---- metadata

  app.get('/projects/:ref/metadatas', async (req: Req) => {
    const { project } = await resolve(req, 'metadata:read');
    return projects.metadata(project);
  });
  app.get('/projects/:ref/metadatas/', async (req: Req) => {
    const { project } = await resolve(req, 'metadata:read');
    return projects.metadata(project);
  });
  const addMetadata = async (req: Req, reply: FastifyReply) => {
    const { project, caller } = await resolve(req, 'metadata:create');
    await projects.updateMetadata(actor(caller), project, bodyObject(req));
    return reply.send();
  };
  app.post('/projects/:ref/metadatas', addMetadata);
  app.post('/projects/:ref/metadatas/', addMetadata);
  app.get('/projects/:ref/metadatas/:meta', async (req: Req) => {
    const { project } = await resolve(req, 'metadata:read');
    const all = await projects.metadata(project);
    const key = req.params.meta!;
    if (!Object.hasOwn(all, key)) throw ApiErrors.notFound(`metadata ${key.slice(0, 64)} not found`);
    return { [key]: all[key] };
  });
  app.put('/projects/:ref/metadatas/:meta', async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'metadata:update');
    const b = bodyObject(req);
    const key = req.params.meta!;
    if (Object.keys(b).length !== 1 || !Object.hasOwn(b, key)) throw ApiErrors.badRequest(`the body must hold exactly the key ${key.slice(0, 64)}`);
    await projects.updateMetadata(actor(caller), project, b);
    return reply.send();
  });
  app.delete('/projects/:ref/metadatas/:meta', async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'metadata:delete');
    await projects.removeMetadata(actor(caller), project, req.params.meta!);
    return reply.send();
  });

  // ---- members

  app.get('/projects/:ref/members', async (req: Req, reply) => {
    const { project } = await resolve(req, 'member:list');
    const q = queryOf(req);
    const page = parsePage(q);
    const r = await projects.listMembers(project, q.get('entityname')?.slice(0, 255) || null, page.limit, page.offset);
    setPageHeaders(reply, req.raw.url ?? '', r.total, page);
    return r.items.map(memberResp);
  });
  app.post('/projects/:ref/members', async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'member:create');
    const b = bodyObject(req);
    const id = await projects.addMember(actor(caller), project, { role_id: b.role_id, member_user: b.member_user, member_group: b.member_group });
    return reply.code(201).header('Location', `${API_PREFIX}/projects/${project.id}/members/${id}`).send();
  });
  app.get('/projects/:ref/members/:mid', async (req: Req) => {
    const { project } = await resolve(req, 'member:read');
    return memberResp(await projects.getMember(project, pathId(req.params.mid, 'member id')));
  });
  app.put('/projects/:ref/members/:mid', async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'member:update');
    await projects.updateMemberRole(actor(caller), project, pathId(req.params.mid, 'member id'), bodyObject(req).role_id);
    return reply.send();
  });
  app.delete('/projects/:ref/members/:mid', async (req: Req, reply) => {
    const { project, caller } = await resolve(req, 'member:delete');
    await projects.removeMember(actor(caller), project, pathId(req.params.mid, 'member id'));
    return reply.send();
  });
}
