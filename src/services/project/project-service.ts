// Projects (the first path component of every repository), their metadata and members. Callers authorize
// with AccessPolicy first (src/http/api/projects.ts); this service enforces the domain rules.
import { ApiErrors } from '../../errors.ts';
import type { Db } from '../../db/db.ts';
import type { CveAllowlist, CveAllowlistRepository } from '../../repositories/cve-allowlist-repository.ts';
import type { Member, MemberRepository } from '../../repositories/member-repository.ts';
import type { Project, ProjectField, ProjectRepository, Visibility } from '../../repositories/project-repository.ts';
import type { UserRepository } from '../../repositories/user-repository.ts';
import type { ListQuery } from '../../repositories/list-query.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { EventPublisher } from '../events/types.ts';
import type { UserGroupService } from '../usergroup/user-group-service.ts';

/** Harbor's text for a project that still has repositories (DELETE → 412 PRECONDITION, and `_deletable`). */
export const PROJECT_NOT_DELETABLE = 'the project contains repositories, can not be deleted';
import { isRoleId, Roles, type RoleId } from '../auth/rbac.ts';

/** Harbor's project name rule. */
export const PROJECT_NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

// Metadata keys Harbor stores per project, with their allowed values (`public` is the projects.public column).
const BOOL = ['true', 'false'];
const METADATA_VALUES: Readonly<Record<string, readonly string[] | null>> = {
  public: BOOL,
  enable_content_trust: BOOL,
  enable_content_trust_cosign: BOOL,
  prevent_vul: BOOL,
  severity: ['none', 'low', 'medium', 'high', 'critical'],
  auto_scan: BOOL,
  auto_sbom_generation: BOOL,
  reuse_sys_cve_allowlist: BOOL,
  retention_id: null,
  // Proxy-cache projects only (Harbor drops it for others): the upstream bandwidth limit, Kbps (int32 text).
  proxy_speed_kb: null,
};

/** Harbor's metadata.proxy_speed_kb check: an int32 in decimal. */
function checkProxySpeed(v: string): void {
  if (!/^-?[0-9]{1,10}$/.test(v) || Math.abs(Number(v)) > 2 ** 31 - 1)
    throw ApiErrors.badRequest(`metadata.proxy_speed_kb should by an int32, but got: '${v.slice(0, 32)}'`);
}

/**
 * Endpoint types a proxy-cache project may pull through from (Harbor's default permitted types that Berth has
 * adapters for, plus the generic OCI one).
 */
export const PROXY_CACHE_TYPES: readonly string[] = ['harbor', 'docker-registry', 'oci'];

/** What project creation needs to know of replication endpoints (the registry service). */
export interface ProxyEndpoints {
  /** The endpoint's type; throws the registry service's 404 for an unknown id. */
  typeOf(id: number): Promise<string>;
}

/** Validates a metadata map: known keys only, string values from each key's set ("true"/"false" for flags). */
export function checkMetadata(input: unknown): Record<string, string> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw ApiErrors.badRequest('metadata must be an object');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input as Record<string, unknown>)) {
    if (!Object.hasOwn(METADATA_VALUES, k)) throw ApiErrors.badRequest(`unknown metadata key: ${k.slice(0, 64)}`);
    // Harbor's clients send "true"/"false"; a JSON boolean is accepted as the same.
    const s = typeof v === 'boolean' ? String(v) : v;
    const allowed = METADATA_VALUES[k];
    if (typeof s !== 'string' || s.length > 255 || /[\x00-\x1f]/.test(s) || (allowed && !allowed.includes(s.toLowerCase())))
      throw ApiErrors.badRequest(`invalid value for metadata ${k}`);
    out[k] = allowed ? s.toLowerCase() : s;
  }
  return out;
}

/** A CVE allowlist from a request (Harbor's CVEAllowlist), validated as Harbor's allowlist.Validate does. */
export function checkCveAllowlist(input: unknown, projectId: number): { expiresAt: number | null; items: { cve_id: string }[] } | null {
  if (input === undefined || input === null) return null;
  if (typeof input !== 'object' || Array.isArray(input)) throw ApiErrors.badRequest('cve_allowlist must be an object');
  const b = input as { project_id?: unknown; expires_at?: unknown; items?: unknown };
  // Harbor: project_id 0/absent means this project; any other id is refused.
  if (b.project_id !== undefined && b.project_id !== null && b.project_id !== 0 && b.project_id !== projectId)
    throw ApiErrors.badRequest(`project_id in cve_allowlist must be ${projectId} but it's ${typeof b.project_id === 'number' ? b.project_id : String(b.project_id).slice(0, 32)}`);
  const expiresAt = b.expires_at ?? null;
  if (expiresAt !== null && (typeof expiresAt !== 'number' || !Number.isSafeInteger(expiresAt) || expiresAt < 0)) throw ApiErrors.badRequest('expires_at must be seconds since the epoch');
  const raw = b.items ?? [];
  // Bounded: the list is stored as one JSON value and read with every project.
  if (!Array.isArray(raw) || raw.length > 10_000) throw ApiErrors.badRequest('cve_allowlist.items must be a list of at most 10000 items');
  const seen = new Set<string>();
  const items: { cve_id: string }[] = [];
  for (const it of raw) {
    const id = it && typeof it === 'object' ? (it as { cve_id?: unknown }).cve_id : undefined;
    if (typeof id !== 'string' || id.trim() === '') throw ApiErrors.badRequest('empty or whitespace-only CVE ID in allowlist');
    if (id.length > 255 || /[\x00-\x1f]/.test(id)) throw ApiErrors.badRequest('invalid CVE ID in allowlist');
    if (seen.has(id)) throw ApiErrors.badRequest(`duplicate CVE ID in allowlist: ${id}`);
    seen.add(id);
    items.push({ cve_id: id });
  }
  return { expiresAt: expiresAt as number | null, items };
}

export class ProjectService {
  private readonly db: Db;
  private readonly projects: ProjectRepository;
  private readonly members: MemberRepository;
  private readonly users: UserRepository;
  private readonly audit: AuditSink;
  private readonly events: EventPublisher;
  private readonly groups: Pick<UserGroupService, 'forMembership'> | null;
  private readonly allowlists: CveAllowlistRepository;
  private readonly endpoints: ProxyEndpoints | null;
  private readonly onProxyProject: ((actor: string, p: Project) => Promise<void>) | null;
  constructor(deps: {
    db: Db;
    projects: ProjectRepository;
    members: MemberRepository;
    users: UserRepository;
    audit: AuditSink;
    events: EventPublisher;
    allowlists: CveAllowlistRepository;
    groups?: Pick<UserGroupService, 'forMembership'>;
    /** Replication endpoints, which proxy-cache projects point at (none: `registry_id` is refused). */
    endpoints?: ProxyEndpoints;
    /** Called after a proxy-cache project is created (Harbor gives it a default retention policy). */
    onProxyProject?: (actor: string, p: Project) => Promise<void>;
  }) {
    this.endpoints = deps.endpoints ?? null;
    this.onProxyProject = deps.onProxyProject ?? null;
    this.events = deps.events;
    this.allowlists = deps.allowlists;
    this.db = deps.db;
    this.projects = deps.projects;
    this.members = deps.members;
    this.users = deps.users;
    this.audit = deps.audit;
    this.groups = deps.groups ?? null;
  }

  /** `{project_name_or_id}`: an id when it parses as an integer, unless the caller says it is a name. */
  async find(ref: string, isName: boolean): Promise<Project | null> {
    if (!isName && /^[0-9]{1,15}$/.test(ref)) return this.projects.findProjectById(Number(ref));
    return this.projects.findProjectByName(ref);
  }

  async exists(name: string): Promise<boolean> {
    return !!(await this.projects.findProjectByName(name));
  }

  async list(v: Visibility, q: ListQuery<ProjectField>): Promise<{ total: number; items: Project[] }> {
    return { total: await this.projects.countProjects(v, q.where), items: await this.projects.listProjects(v, q) };
  }

  async repositoryCount(p: Project): Promise<number> {
    return this.projects.countProjectRepositories(p.id);
  }

  /** All metadata, `public` included, as Harbor returns it (string values). */
  async metadata(p: Project): Promise<Record<string, string>> {
    return { ...(await this.projects.findProjectMetadata(p.id)), public: String(p.public) };
  }

  /** The project's CVE allowlist; an empty one (id 0) when none was set, as Harbor answers. */
  async cveAllowlist(p: Project): Promise<CveAllowlist> {
    return (await this.allowlists.findAllowlist(p.id)) ?? { id: 0, projectId: p.id, expiresAt: null, items: [], createdAt: 0, updatedAt: 0 };
  }

  /**
   * Creates a project; its creator becomes its ProjectAdmin. `registry_id` makes it a proxy-cache project: it
   * must name an endpoint of a type proxy caching supports (Harbor's checks and messages); it is fixed for the
   * project's life.
   */
  async create(
    actor: { id: number; username: string },
    input: { project_name?: unknown; public?: unknown; metadata?: unknown; storageLimit?: number | null; registry_id?: unknown; cve_allowlist?: unknown },
  ): Promise<Project> {
    const name = input.project_name;
    if (typeof name !== 'string' || name.length > 255 || !PROJECT_NAME_RE.test(name)) throw ApiErrors.badRequest('invalid project name');
    let registryId = 0;
    if (input.registry_id !== undefined && input.registry_id !== null) {
      const rid = input.registry_id;
      if (typeof rid !== 'number' || !Number.isSafeInteger(rid) || rid <= 0) throw ApiErrors.badRequest(`${String(rid).slice(0, 32)} is invalid value of registry_id, it should be geater than 0`);
      if (!this.endpoints) throw ApiErrors.notFound(`failed to get the registry ${rid}: registry ${rid} not found`);
      let type: string;
      try {
        type = await this.endpoints.typeOf(rid);
      } catch (e) {
        if (e instanceof Error && 'status' in e && (e as { status: number }).status === 404) throw ApiErrors.notFound(`failed to get the registry ${rid}: registry ${rid} not found`);
        throw e;
      }
      if (!PROXY_CACHE_TYPES.includes(type)) throw ApiErrors.badRequest(`unsupported registry type ${type}`);
      registryId = rid;
    }
    // Validated before the project exists (project_id 0 or absent is the only valid one then).
    const allowlist = checkCveAllowlist(input.cve_allowlist, 0);
    const meta = checkMetadata(input.metadata);
    // Harbor: the proxy settings are dropped for a normal project, content trust for a proxy one; retention_id
    // is never taken from a request.
    if (registryId) {
      if (meta.proxy_speed_kb !== undefined) checkProxySpeed(meta.proxy_speed_kb);
      delete meta.enable_content_trust;
    } else delete meta.proxy_speed_kb;
    if (meta.retention_id !== undefined && meta.retention_id !== '')
      throw ApiErrors.badRequest("the retention_id in the request's payload when creating a project should be omitted, alternatively passing an empty string");
    delete meta.retention_id;
    if (input.public !== undefined && input.public !== null && typeof input.public !== 'boolean') throw ApiErrors.badRequest('public must be a boolean');
    const isPublic = meta.public !== undefined ? meta.public === 'true' : input.public === true;
    delete meta.public;
    const project = await this.db.tx(async (q) => {
      const p = await this.projects.saveNewProject({ name, public: isPublic, ownerId: actor.id, storageLimit: input.storageLimit ?? null, registryId }, q);
      if (!p) return null;
      for (const [k, v] of Object.entries(meta)) await this.projects.saveProjectMetadata(p.id, k, v, q);
      if (allowlist) await this.allowlists.saveAllowlist(p.id, allowlist, q);
      await this.members.saveMember({ projectId: p.id, entityType: 'u', entityId: actor.id, roleId: Roles.ProjectAdmin }, q);
      await this.events.publish(q, [{ type: 'CREATE_PROJECT', operator: actor.username, projectId: p.id, data: { projectId: p.id, projectName: p.name } }]);
      return p;
    });
    if (!project) throw ApiErrors.conflict(`The project named ${name} already exists`); // Harbor's text (pkg/project/dao)
    if (registryId && this.onProxyProject) await this.onProxyProject(actor.username, project);
    return project;
  }

  /**
   * A project created by a system robot (system `project:create`): as Harbor, the system admin with the lowest
   * id owns it (a robot cannot be a member); events and the audit log name the robot.
   */
  async createByRobot(robotName: string, input: Parameters<ProjectService['create']>[1]): Promise<Project> {
    const owner = await this.users.findFirstSysadmin();
    if (!owner) throw ApiErrors.forbidden('no system admin to own the project');
    return this.create({ id: owner.id, username: robotName }, input);
  }

  /** Metadata of an update, with Harbor's proxy rules (proxy_speed_kb only on a proxy-cache project). */
  private metadataFor(p: Project, input: unknown): Record<string, string> {
    const meta = checkMetadata(input);
    if (meta.proxy_speed_kb !== undefined) {
      if (!p.registryId) throw ApiErrors.badRequest('proxy_speed_kb is only for proxy cache projects');
      checkProxySpeed(meta.proxy_speed_kb);
    }
    if (p.registryId) delete meta.enable_content_trust;
    return meta;
  }

  async updateMetadata(actor: string, p: Project, input: unknown): Promise<void> {
    const meta = this.metadataFor(p, input);
    if (meta.public !== undefined) await this.projects.updateProjectPublic(p.id, meta.public === 'true');
    delete meta.public;
    await this.db.tx(async (q) => {
      for (const [k, v] of Object.entries(meta)) await this.projects.saveProjectMetadata(p.id, k, v, q);
    });
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'project', resource: p.name, projectId: p.id, detail: JSON.stringify(Object.keys(checkMetadata(input))) });
  }

  /** PUT /projects/{p}: metadata and, when given, the CVE allowlist (replaced as a whole), in one transaction. */
  async update(actor: string, p: Project, input: { metadata: unknown; cve_allowlist?: unknown; registry_id?: unknown }): Promise<void> {
    // The endpoint of a proxy-cache project is fixed (Harbor keeps registry_id out of updates); saying it again is fine.
    if (input.registry_id !== undefined && input.registry_id !== null && input.registry_id !== p.registryId)
      throw ApiErrors.badRequest('the registry_id of a project cannot be changed');
    const meta = this.metadataFor(p, input.metadata);
    const allowlist = checkCveAllowlist(input.cve_allowlist, p.id);
    await this.db.tx(async (q) => {
      if (meta.public !== undefined) await this.projects.updateProjectPublic(p.id, meta.public === 'true', q);
      for (const [k, v] of Object.entries(meta)) if (k !== 'public') await this.projects.saveProjectMetadata(p.id, k, v, q);
      if (allowlist) await this.allowlists.saveAllowlist(p.id, allowlist, q);
    });
    const changed = [...Object.keys(meta), ...(allowlist ? ['cve_allowlist'] : [])];
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'project', resource: p.name, projectId: p.id, detail: JSON.stringify(changed) });
  }

  async removeMetadata(actor: string, p: Project, key: string): Promise<void> {
    if (!Object.hasOwn(METADATA_VALUES, key)) throw ApiErrors.notFound(`metadata ${key.slice(0, 64)} not found`);
    if (key === 'public') throw ApiErrors.badRequest('public cannot be deleted');
    if (!(await this.projects.removeProjectMetadata(p.id, key))) throw ApiErrors.notFound(`metadata ${key} not found`);
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'metadata', resource: `${p.name}:${key}`, projectId: p.id });
  }

  /** Deletes an empty project; 412 PRECONDITION with Harbor's text when it still has repositories. */
  async remove(actor: string, p: Project): Promise<void> {
    const ok = await this.db.tx(async (q) => {
      if (!(await this.projects.removeEmptyProject(p.id, q))) return false;
      await this.events.publish(q, [{ type: 'DELETE_PROJECT', operator: actor, projectId: p.id, data: { projectId: p.id, projectName: p.name } }]);
      return true;
    });
    if (!ok) throw ApiErrors.precondition(PROJECT_NOT_DELETABLE);
  }

  /** Harbor's ProjectSummary: repository count and members per role. */
  async summary(p: Project): Promise<Record<string, number>> {
    const byRole = await this.members.countMembersByRole(p.id);
    return {
      repo_count: await this.projects.countProjectRepositories(p.id),
      project_admin_count: byRole.get(Roles.ProjectAdmin) ?? 0,
      maintainer_count: byRole.get(Roles.Maintainer) ?? 0,
      developer_count: byRole.get(Roles.Developer) ?? 0,
      guest_count: byRole.get(Roles.Guest) ?? 0,
      limited_guest_count: byRole.get(Roles.LimitedGuest) ?? 0,
    };
  }

  // ---- members

  async listMembers(p: Project, entityName: string | null, limit: number, offset: number): Promise<{ total: number; items: Member[] }> {
    return { total: await this.members.countMembers(p.id, entityName), items: await this.members.listMembers(p.id, entityName, limit, offset) };
  }

  /** A member of this project; 404 for an id that belongs to another project. */
  async getMember(p: Project, memberId: number): Promise<Member> {
    const m = await this.members.findMember(p.id, memberId);
    if (!m) throw ApiErrors.notFound(`member ${memberId} not found in project ${p.name}`);
    return m;
  }

  /**
   * Adds a user member (`member_user: {username | user_id}`) or a group member (`member_group: {id}` or
   * `{group_name, group_type, ldap_group_dn}`, the group created on the fly when absent, as Harbor does).
   */
  async addMember(actor: string, p: Project, input: { role_id?: unknown; member_user?: unknown; member_group?: unknown }): Promise<number> {
    if (!isRoleId(input.role_id)) throw ApiErrors.badRequest('invalid role_id');
    const hasGroup = input.member_group !== undefined && input.member_group !== null;
    const hasUser = input.member_user !== undefined && input.member_user !== null;
    if (hasGroup && hasUser) throw ApiErrors.badRequest('give member_user or member_group, not both');
    if (hasGroup) {
      if (!this.groups) throw ApiErrors.badRequest('group members are not supported');
      const g = await this.groups.forMembership(actor, input.member_group);
      const id = await this.members.saveMember({ projectId: p.id, entityType: 'g', entityId: g.id, roleId: input.role_id });
      if (id === null) throw ApiErrors.conflict(`the group ${g.name} is already a member of ${p.name}`);
      await this.audit.record({ username: actor, operation: 'create', resourceType: 'member', resource: g.name, projectId: p.id, detail: `group role=${input.role_id}` });
      return id;
    }
    const mu = input.member_user as { username?: unknown; user_id?: unknown } | undefined;
    if (!mu || typeof mu !== 'object') throw ApiErrors.badRequest('member_user is required');
    const user =
      typeof mu.user_id === 'number' && mu.user_id > 0
        ? await this.users.findUserById(mu.user_id)
        : typeof mu.username === 'string' && mu.username.length <= 255 && !mu.username.includes('\0')
          ? await this.users.findUserByName(mu.username)
          : null;
    if (!user) throw ApiErrors.notFound('user not found');
    const id = await this.members.saveMember({ projectId: p.id, entityType: 'u', entityId: user.id, roleId: input.role_id });
    if (id === null) throw ApiErrors.conflict(`${user.username} is already a member of ${p.name}`);
    await this.audit.record({ username: actor, operation: 'create', resourceType: 'member', resource: user.username, projectId: p.id, detail: `role=${input.role_id}` });
    return id;
  }

  async updateMemberRole(actor: string, p: Project, memberId: number, roleId: unknown): Promise<void> {
    if (!isRoleId(roleId)) throw ApiErrors.badRequest('invalid role_id');
    const m = await this.getMember(p, memberId);
    await this.members.updateMemberRole(p.id, memberId, roleId as RoleId);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'member', resource: m.entityName, projectId: p.id, detail: `role=${roleId}` });
  }

  async removeMember(actor: string, p: Project, memberId: number): Promise<void> {
    const m = await this.getMember(p, memberId);
    await this.members.removeMember(p.id, memberId);
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'member', resource: m.entityName, projectId: p.id });
  }
}
