// What a principal may do on a repository. This is the minimal policy of the registry core: system admins may
// do everything; everyone may pull from public projects. The identity issue replaces the body of
// repositoryActions with the role matrix, behind the same signature.
import { projectOf } from '../../oci/digest.ts';
import type { ProjectRepository, Project } from '../../repositories/project-repository.ts';
import { ALL_REPOSITORY_ACTIONS, type Principal, type RepositoryAction } from './principal.ts';

export class AccessPolicy {
  private readonly projects: ProjectRepository;
  constructor(projects: ProjectRepository) {
    this.projects = projects;
  }

  /** The project a repository name lives in, or null (no project component, or no such project). */
  async projectFor(repositoryName: string): Promise<Project | null> {
    const p = projectOf(repositoryName);
    return p ? this.projects.findProjectByName(p) : null;
  }

  async repositoryActions(principal: Principal, repositoryName: string): Promise<Set<RepositoryAction>> {
    const project = await this.projectFor(repositoryName);
    if (!project) return new Set();
    if (principal.kind === 'user' && principal.sysadmin) return new Set(ALL_REPOSITORY_ACTIONS);
    if (project.public) return new Set(['pull']);
    return new Set();
  }

  canListCatalog(principal: Principal): boolean {
    return principal.kind === 'user' && principal.sysadmin;
  }
}
