// Robot accounts, Harbor's v2 model: system robots (`robot$name`, sysadmins only, grants on named projects or
// '*') and project robots (`robot$project+name`, one grant on their project). The secret is shown once and
// stored as argon2id; logins check disable and expiry on every call (one indexed read) and cache only the
// argon2 verification. Nobody grants more than they hold: a project robot's actions must all be held by its
// creator on that project (CVE-2019-16919 / CVE-2019-19023), and grants name project ids, not names.
import type { CacheBus } from '../../drivers/cache-bus/cache-bus.ts';
import { createHash } from 'node:crypto';
import { ApiErrors } from '../../errors.ts';
import type { ProjectRepository, Project } from '../../repositories/project-repository.ts';
import type { Robot, RobotField, RobotRepository, StoredGrant } from '../../repositories/robot-repository.ts';
import type { UserRepository } from '../../repositories/user-repository.ts';
import type { ListQuery } from '../../repositories/list-query.ts';
import type { AuditSink } from '../audit/audit.ts';
import type { AccessPolicy } from './access-policy.ts';
import { generatePassword, hashPassword, verifyNobody, verifyPassword } from './password.ts';
import { ROBOT_PREFIX as DEFAULT_PREFIX, type Principal, type RobotAuthenticator, type RobotPrincipal } from './principal.ts';
import { ALL_PROJECT_POLICIES, ROBOT_SYSTEM_GRANTABLE, type Policy } from './rbac.ts';
import { checkPasswordPolicy } from './user-service.ts';

/** Harbor's text (pkg/robot/dao): the project id (0 for system robots) and the stored, prefix-less name. */
const robotExists = (projectId: number, storedName: string) => ApiErrors.conflict(`robot account ${projectId}:${storedName} already exists`);

/** Harbor's robot name grammar (`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`). */
const NAME_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Prefixes of identities Berth creates itself (scanner robots). `robot…` names are allowed, as in Harbor. */
const RESERVED_NAME_RE = /^scanner([._-]|$)/;
/** Harbor's default robot_token_duration, days. */
export const DEFAULT_ROBOT_DURATION_DAYS = 30;
const MAX_DURATION_DAYS = 36_500;
const DAY_MS = 86_400_000;

/**
 * What a robot may be granted on a project: the project policies of the role matrix, except managing robots
 * and members and updating or deleting the project itself (those stay with people).
 */
export const ROBOT_GRANTABLE: ReadonlySet<Policy> = new Set(
  [...ALL_PROJECT_POLICIES].filter((p) => !/^(robot|member):/.test(p) && !['self:update', 'self:delete', 'configuration:update'].includes(p)),
);

export interface RobotAccessView {
  resource: string;
  action: string;
  effect: 'allow';
}
export interface RobotView {
  robot: Robot;
  /** Project name (or '*') per grant; grants on projects that no longer exist are left out. */
  permissions: { kind: 'project' | 'system'; namespace: string; access: RobotAccessView[] }[];
  /** robot_name_prefix + stored name, as Harbor shows and logs in with. */
  fullName: string;
  creator: string;
}

const SYSTEM_GRANTABLE: ReadonlySet<Policy> = new Set(ROBOT_SYSTEM_GRANTABLE);

interface ParsedGrant {
  kind: 'project' | 'system';
  namespace: string;
  access: Policy[];
}

type Caller = Principal;
const isSysadmin = (c: Caller) => c.kind === 'user' && c.sysadmin;
const actorName = (c: Caller) => (c.kind === 'user' ? c.username : c.kind === 'robot' ? c.name : '');

function text(v: unknown, field: string, max: number): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string' || v.length > max || /[\x00-\x08\x0b-\x1f\x7f]/.test(v)) throw ApiErrors.badRequest(`invalid ${field}`);
  return v;
}

function parseDuration(v: unknown, dflt: number): number {
  if (v === undefined || v === null || v === 0) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1 || v > MAX_DURATION_DAYS)
    throw ApiErrors.badRequest(`duration must be -1 (never expires) or a number of days up to ${MAX_DURATION_DAYS}`);
  return v;
}

const expiryOf = (createdAt: number, duration: number) => (duration === -1 ? -1 : createdAt + duration * DAY_MS);

function parsePermissions(v: unknown): ParsedGrant[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > 100) throw ApiErrors.badRequest('permissions must be a non-empty list');
  return v.map((p) => {
    if (!p || typeof p !== 'object' || Array.isArray(p)) throw ApiErrors.badRequest('invalid permission');
    const { kind, namespace, access } = p as Record<string, unknown>;
    if (kind !== 'project' && kind !== 'system') throw ApiErrors.badRequest('permission kind must be "system" or "project"');
    // Harbor: a system permission's namespace is always "/".
    if (kind === 'system' && namespace !== '/') throw ApiErrors.badRequest('a system permission has the namespace "/"');
    if (typeof namespace !== 'string' || namespace === '' || namespace.length > 255 || namespace.includes('\0')) throw ApiErrors.badRequest('invalid permission namespace');
    if (!Array.isArray(access) || access.length === 0 || access.length > 200) throw ApiErrors.badRequest('permission access must be a non-empty list');
    const policies = new Set<Policy>();
    for (const a of access) {
      if (!a || typeof a !== 'object') throw ApiErrors.badRequest('invalid access');
      const { resource, action, effect } = a as Record<string, unknown>;
      if (typeof resource !== 'string' || typeof action !== 'string') throw ApiErrors.badRequest('access needs a resource and an action');
      if (effect !== undefined && effect !== null && effect !== '' && effect !== 'allow') throw ApiErrors.badRequest('only the "allow" effect is supported');
      const policy = `${resource}:${action}` as Policy;
      if (!(kind === 'system' ? SYSTEM_GRANTABLE : ROBOT_GRANTABLE).has(policy)) throw ApiErrors.badRequest(`${resource.slice(0, 64)}:${action.slice(0, 64)} cannot be granted to a robot`);
      policies.add(policy);
    }
    return { kind, namespace, access: [...policies].sort() };
  });
}

export class RobotService implements RobotAuthenticator {
  private readonly robots: RobotRepository;
  private readonly projects: ProjectRepository;
  private readonly users: UserRepository;
  private readonly policy: AccessPolicy;
  private readonly audit: AuditSink;
  private readonly defaultDuration: () => Promise<number>;
  private readonly prefix: () => Promise<string>;
  // Verified secrets (hash of name and secret → the secret hash they matched); a refresh changes the stored
  // hash, so stale entries stop matching at once, in every process.
  private readonly verified = new Map<string, { secretHash: string; until: number }>();
  private readonly byName = new Map<string, { principal: RobotPrincipal | null; until: number }>();
  private readonly bus: CacheBus | null;

  constructor(deps: {
    robots: RobotRepository;
    projects: ProjectRepository;
    users: UserRepository;
    policy: AccessPolicy;
    audit: AuditSink;
    /** Days a robot lives when the request gives no duration (Harbor's robot_token_duration setting). */
    defaultDuration?: () => Promise<number>;
    /** Harbor's robot_name_prefix (runtime setting), read on every use so a change applies at once. */
    namePrefix?: () => Promise<string>;
    /** Robot changes made by any process drop the cached principals (byName) here. */
    bus?: CacheBus;
  }) {
    this.bus = deps.bus ?? null;
    this.bus?.subscribe('robot', (key) => {
      this.byName.clear();
      if (key === null) this.verified.clear();
    });
    this.robots = deps.robots;
    this.projects = deps.projects;
    this.users = deps.users;
    this.policy = deps.policy;
    this.audit = deps.audit;
    this.defaultDuration = deps.defaultDuration ?? (async () => DEFAULT_ROBOT_DURATION_DAYS);
    this.prefix = deps.namePrefix ?? (async () => DEFAULT_PREFIX);
  }

  // ---- authentication

  private usable(r: Robot | null, now = Date.now()): r is Robot {
    return !!r && !r.disabled && (r.expiresAt === -1 || r.expiresAt > now);
  }

  /** Whether a login name is a robot's: it carries the configured prefix. */
  async isRobotName(name: string): Promise<boolean> {
    return name.startsWith(await this.prefix());
  }

  /** The stored name behind a full name, or null when it lacks the configured prefix. */
  private async storedName(fullName: string): Promise<string | null> {
    const prefix = await this.prefix();
    return fullName.startsWith(prefix) && fullName.length > prefix.length ? fullName.slice(prefix.length) : null;
  }

  private toPrincipal(r: Robot, fullName: string): RobotPrincipal {
    return {
      kind: 'robot',
      id: r.id,
      name: fullName,
      level: r.level,
      projectId: r.projectId,
      permissions: r.permissions.map((g) => ({ namespace: g.namespace, access: g.access })),
    };
  }

  async authenticate(name: string, secret: string): Promise<RobotPrincipal | null> {
    if (name.length > 512 || !secret || secret.length > 1024) return null;
    const stored = await this.storedName(name);
    const r = stored === null ? null : await this.robots.findRobotByName(stored);
    // An unknown, disabled or expired robot costs a hash too: timing does not tell which robots exist.
    if (!this.usable(r)) return verifyNobody(secret).then(() => null);
    const key = createHash('sha256').update(`${name}\0${secret}`).digest('base64');
    const hit = this.verified.get(key);
    const now = Date.now();
    if (!hit || hit.secretHash !== r.secretHash || hit.until <= now) {
      if (!(await verifyPassword(secret, r.secretHash))) return null;
      if (this.verified.size > 10_000) this.verified.clear();
      this.verified.set(key, { secretHash: r.secretHash, until: now + 10 * 60_000 });
    }
    return this.toPrincipal(r, name);
  }

  /** The robot behind a token subject (re-read every few seconds: a disabled robot's tokens stop resolving). */
  async principalByName(name: string): Promise<RobotPrincipal | null> {
    const stored = await this.storedName(name);
    if (stored === null) return null;
    const now = Date.now();
    const hit = this.byName.get(name);
    if (hit && hit.until > now) return hit.principal;
    const r = await this.robots.findRobotByName(stored);
    const principal = this.usable(r, now) ? this.toPrincipal(r, name) : null;
    if (this.byName.size > 10_000) this.byName.clear();
    this.byName.set(name, { principal, until: now + 5_000 });
    return principal;
  }

  /** Drops cached robot principals in every process (a disabled or deleted robot's tokens stop at once). */
  private async dropCached(id: number): Promise<void> {
    if (this.bus) await this.bus.publish('robot', String(id));
    else this.byName.clear();
  }

  // ---- management

  /** The robot `id` if the caller may see it and perform `action` on it: 401 anonymous, 404 unseen, 403 not allowed. */
  private async authorized(caller: Caller, id: number, action: 'read' | 'update' | 'delete'): Promise<Robot> {
    if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('unauthorized');
    const r = await this.robots.findRobotById(id);
    if (!r) throw ApiErrors.notFound(`robot ${id} not found`);
    if (isSysadmin(caller)) return r;
    const project = r.level === 'project' && r.projectId !== null ? await this.projects.findProjectById(r.projectId) : null;
    const policies = project ? await this.policy.policiesOn(caller, project) : new Set<Policy>();
    if (!policies.has('robot:read')) throw ApiErrors.notFound(`robot ${id} not found`);
    if (!policies.has(`robot:${action}`)) throw ApiErrors.forbidden(`robot:${action} is not allowed on project ${project!.name}`);
    return r;
  }

  /**
   * The stored grants for `parsed`, checked against what the caller holds. System robots: sysadmins only,
   * projects by name or '*'. Project robots: exactly one grant, on `project`.
   */
  private async grantsFor(caller: Caller, level: 'system' | 'project', parsed: ParsedGrant[], fixedProject: Project | null): Promise<{ grants: StoredGrant[]; project: Project | null }> {
    if (level === 'system') {
      if (!isSysadmin(caller)) throw ApiErrors.forbidden('only system admins can manage system robots');
      const grants: StoredGrant[] = [];
      if (parsed.filter((g) => g.kind === 'system').length > 1) throw ApiErrors.badRequest('at most one system permission');
      for (const g of parsed) {
        if (g.kind === 'system') grants.push({ kind: 'system', namespace: '/', access: g.access });
        else if (g.namespace === '*') grants.push({ kind: 'project', namespace: '*', access: g.access });
        else {
          const p = await this.projects.findProjectByName(g.namespace);
          if (!p) throw ApiErrors.badRequest(`project ${g.namespace.slice(0, 255)} not found`);
          grants.push({ kind: 'project', namespace: p.id, access: g.access });
        }
      }
      return { grants, project: null };
    }
    if (parsed.length !== 1 || parsed[0].kind !== 'project' || parsed[0].namespace === '*') throw ApiErrors.badRequest('a project robot has exactly one permission, on its project');
    const project = fixedProject ?? (await this.projects.findProjectByName(parsed[0].namespace));
    if (fixedProject && fixedProject.name !== parsed[0].namespace) throw ApiErrors.badRequest('a project robot cannot be moved to another project');
    if (!project) {
      if (isSysadmin(caller)) throw ApiErrors.badRequest(`project ${parsed[0].namespace.slice(0, 255)} not found`);
      throw ApiErrors.forbidden('not allowed to create robots in this project');
    }
    const held = await this.policy.policiesOn(caller, project);
    if (!held.has(fixedProject ? 'robot:update' : 'robot:create')) throw ApiErrors.forbidden(`not allowed to manage robots of project ${project.name}`);
    const missing = parsed[0].access.filter((a) => !held.has(a));
    if (missing.length) throw ApiErrors.forbidden(`a robot cannot be granted what its creator does not hold: ${missing.join(', ').slice(0, 200)}`);
    return { grants: [{ kind: 'project', namespace: project.id, access: parsed[0].access }], project };
  }

  async create(caller: Caller, input: Record<string, unknown>): Promise<{ robot: Robot; fullName: string; secret: string }> {
    if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('unauthorized');
    const level = input.level;
    if (level !== 'system' && level !== 'project') throw ApiErrors.badRequest('level must be "system" or "project"');
    const name = input.name;
    if (typeof name !== 'string' || name.length > 200 || !NAME_RE.test(name)) throw ApiErrors.badRequest('invalid robot name: lower-case letters, digits and . _ - separators');
    if (RESERVED_NAME_RE.test(name)) throw ApiErrors.badRequest('robot names may not start with the reserved prefix scanner');
    const description = text(input.description, 'description', 1024);
    const duration = parseDuration(input.duration, await this.defaultDuration());
    if (input.disable !== undefined && input.disable !== null && typeof input.disable !== 'boolean') throw ApiErrors.badRequest('disable must be a boolean');
    const given = input.secret;
    const secret = given === undefined || given === null || given === '' ? generatePassword() : checkPasswordPolicy(given);
    const { grants, project } = await this.grantsFor(caller, level, parsePermissions(input.permissions), null);
    // Harbor's naming: prefix + name for system robots, prefix + project + "+" + name for project robots; the
    // prefix is not stored.
    const storedName = level === 'system' ? name : `${project!.name}+${name}`;
    const fullName = (await this.prefix()) + storedName;
    const now = Date.now();
    const robot = await this.robots.saveNewRobot(
      {
        name: storedName,
        description,
        level,
        projectId: project?.id ?? null,
        secretHash: await hashPassword(secret),
        disabled: input.disable === true,
        duration,
        expiresAt: expiryOf(now, duration),
        permissions: grants,
        creatorType: caller.kind === 'robot' ? 'robot' : 'local',
        creatorRef: caller.id,
      },
      now,
    );
    if (!robot) throw robotExists(project?.id ?? 0, storedName);
    // A row from before names were stored bare (`robot$…`) holds the same name under another key.
    if ((await this.robots.findRobotByName(storedName))?.id !== robot.id) {
      await this.robots.removeRobot(robot.id);
      throw robotExists(project?.id ?? 0, storedName);
    }
    await this.audit.record({ username: actorName(caller), operation: 'create', resourceType: 'robot', resource: fullName, projectId: robot.projectId });
    return { robot, fullName, secret };
  }

  async get(caller: Caller, id: number): Promise<RobotView> {
    return this.view(await this.authorized(caller, id, 'read'));
  }

  /**
   * Lists robots. Sysadmins see all (filtered by `where`); anyone else must name one project they may list
   * robots of (`q=Level=project,ProjectID=<id>`), and sees that project's robots only.
   */
  async list(caller: Caller, q: ListQuery<RobotField>): Promise<{ total: number; items: RobotView[] }> {
    if (caller.kind === 'anonymous') throw ApiErrors.unauthorized('unauthorized');
    if (!isSysadmin(caller)) {
      const pid = q.where.project_id;
      const project = pid && pid.op === 'eq' ? await this.projects.findProjectById(Number(pid.value)) : null;
      if (!project || !(await this.policy.can(caller, project, 'robot:list'))) throw ApiErrors.forbidden('listing robots needs ProjectID of a project you may list robots of');
      q = { ...q, where: { ...q.where, level: { op: 'eq', value: 'project' } } };
    }
    const total = await this.robots.countRobots(q.where);
    const items = [];
    for (const r of await this.robots.listRobots(q)) items.push(await this.view(r));
    return { total, items };
  }

  /** The robots of one project the caller may list robots of (GET /projects/{p}/robots). */
  async listOfProject(caller: Caller, project: Project, q: ListQuery<RobotField>): Promise<{ total: number; items: RobotView[] }> {
    if (!isSysadmin(caller) && !(await this.policy.can(caller, project, 'robot:list'))) throw ApiErrors.forbidden(`robot:list is not allowed on project ${project.name}`);
    const where = { ...q.where, level: { op: 'eq' as const, value: 'project' }, project_id: { op: 'eq' as const, value: project.id } };
    const total = await this.robots.countRobots(where);
    const items = [];
    for (const r of await this.robots.listRobots({ ...q, where })) items.push(await this.view(r));
    return { total, items };
  }

  /** PUT: description, duration, disable and permissions; id, name, level, secret and times are never taken. */
  async update(caller: Caller, id: number, input: Record<string, unknown>): Promise<void> {
    const r = await this.authorized(caller, id, 'update');
    const description = input.description === undefined ? r.description : text(input.description, 'description', 1024);
    if (input.disable !== undefined && input.disable !== null && typeof input.disable !== 'boolean') throw ApiErrors.badRequest('disable must be a boolean');
    const disabled = typeof input.disable === 'boolean' ? input.disable : r.disabled;
    const duration = input.duration === undefined ? r.duration : parseDuration(input.duration, await this.defaultDuration());
    let permissions = r.permissions;
    if (input.permissions !== undefined) {
      const fixed = r.level === 'project' && r.projectId !== null ? await this.projects.findProjectById(r.projectId) : null;
      if (r.level === 'project' && !fixed) throw ApiErrors.notFound(`robot ${id} not found`);
      permissions = (await this.grantsFor(caller, r.level, parsePermissions(input.permissions), fixed)).grants;
    }
    await this.robots.updateRobot(id, { description, disabled, duration, expiresAt: expiryOf(r.createdAt, duration), permissions });
    await this.dropCached(id);
    await this.audit.record({ username: actorName(caller), operation: 'update', resourceType: 'robot', resource: (await this.prefix()) + r.name, projectId: r.projectId });
  }

  /** PATCH: a new secret, generated when `secret` is empty, else the given one (password policy applies). */
  async refreshSecret(caller: Caller, id: number, secret: unknown): Promise<string> {
    const r = await this.authorized(caller, id, 'update');
    const next = secret === undefined || secret === null || secret === '' ? generatePassword() : checkPasswordPolicy(secret);
    await this.robots.updateRobotSecret(id, await hashPassword(next));
    await this.audit.record({ username: actorName(caller), operation: 'update', resourceType: 'robot', resource: (await this.prefix()) + r.name, projectId: r.projectId, detail: 'secret refreshed' });
    return next;
  }

  async remove(caller: Caller, id: number): Promise<void> {
    const r = await this.authorized(caller, id, 'delete');
    await this.robots.removeRobot(id);
    await this.dropCached(id);
    await this.audit.record({ username: actorName(caller), operation: 'delete', resourceType: 'robot', resource: (await this.prefix()) + r.name, projectId: r.projectId });
  }

  private async view(r: Robot): Promise<RobotView> {
    const permissions: RobotView['permissions'] = [];
    for (const g of r.permissions) {
      const namespace = g.namespace === '*' || g.namespace === '/' ? g.namespace : (await this.projects.findProjectById(g.namespace))?.name;
      if (namespace === undefined) continue;
      permissions.push({
        kind: g.kind === 'system' ? 'system' : 'project',
        namespace,
        access: g.access.map((p) => {
          const i = p.lastIndexOf(':');
          return { resource: p.slice(0, i), action: p.slice(i + 1), effect: 'allow' as const };
        }),
      });
    }
    const creator = r.creatorType === 'robot' ? ((await this.robots.findRobotById(r.creatorRef))?.name ?? '') : ((await this.users.findUserById(r.creatorRef))?.username ?? '');
    return { robot: r, permissions, creator, fullName: (await this.prefix()) + r.name };
  }
}
