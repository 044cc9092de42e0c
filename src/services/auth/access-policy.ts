// What a principal may do on a project and its repositories: Harbor's role matrix (rbac.ts) applied to the
// caller's memberships. System admins may do everything; everyone may pull from public projects.
import { projectOf } from '../../oci/digest.ts';
import type { ProjectRepository, Project } from '../../repositories/project-repository.ts';
import type { MemberRepository } from '../../repositories/member-repository.ts';
import type { Principal, RepositoryAction } from './principal.ts';
import { projectPolicies, repositoryActionsOf, type Policy, type RoleId } from './rbac.ts';

export class AccessPolicy {
  private readonly projects: ProjectRepository;
  private readonly members: MemberRepository;
  constructor(projects: ProjectRepository, members: MemberRepository) {
    this.projects = projects;
    this.members = members;
  }

  /** The project a repository name lives in, or null (no project component, or no such project). */
  async projectFor(repositoryName: string): Promise<Project | null> {
    const p = projectOf(repositoryName);
    return p ? this.projects.findProjectByName(p) : null;
  }

  /** The roles the principal holds in the project (empty for anonymous and non-members). */
  async rolesIn(principal: Principal, project: Project): Promise<RoleId[]> {
    if (principal.kind !== 'user') return [];
    return this.members.findRoleIds(project.id, principal.id);
  }

  /** Ids of the projects the principal is a member of. */
  async projectIdsOf(principal: Principal): Promise<number[]> {
    if (principal.kind === 'robot') return [...new Set(principal.permissions.flatMap((g) => (typeof g.namespace === 'number' ? [g.namespace] : [])))];
    return principal.kind === 'user' ? this.members.listProjectIdsOfUser(principal.id) : [];
  }

  /** Every `resource:action` policy the principal holds on the project. */
  async policiesOn(principal: Principal, project: Project): Promise<Set<Policy>> {
    // A robot holds its grants (no roles), a project robot only on its project; like every authenticated
    // principal in Harbor it may also read (pull) public projects — issue 12.
    if (principal.kind === 'robot') {
      const out = projectPolicies({ sysadmin: false, roles: [], isPublic: project.public });
      if (principal.level === 'project' && principal.projectId !== project.id) return out;
      for (const g of principal.permissions) if (g.namespace === '*' || g.namespace === project.id) for (const a of g.access) out.add(a as Policy);
      return out;
    }
    const sysadmin = principal.kind === 'user' && principal.sysadmin;
    const roles = sysadmin ? [] : await this.rolesIn(principal, project);
    return projectPolicies({ sysadmin, roles, isPublic: project.public });
  }

  /**
   * A system-scope policy (project:create, registry:list, ...): system admins hold them all; a system robot holds
   * the ones of its system grant (namespace '/'); nobody else holds any.
   */
  canSystem(principal: Principal, policy: Policy): boolean {
    if (principal.kind === 'user') return principal.sysadmin;
    if (principal.kind !== 'robot' || principal.level !== 'system') return false;
    return principal.permissions.some((g) => g.namespace === '/' && g.access.includes(policy));
  }

  async can(principal: Principal, project: Project, policy: Policy): Promise<boolean> {
    return (await this.policiesOn(principal, project)).has(policy);
  }

  async repositoryActions(principal: Principal, repositoryName: string): Promise<Set<RepositoryAction>> {
    const project = await this.projectFor(repositoryName);
    if (!project) return new Set();
    return repositoryActionsOf(await this.policiesOn(principal, project));
  }

  canListCatalog(principal: Principal): boolean {
    return principal.kind === 'user' && principal.sysadmin;
  }
}
