// Harbor's Project and CVEAllowlist JSON, built in one place for every handler that answers projects
// (GET /projects, GET /projects/{id}, GET /search), so field names, order and zero values cannot drift apart.
import type { CveAllowlist } from '../../../repositories/cve-allowlist-repository.ts';
import type { Project } from '../../../repositories/project-repository.ts';
import { highestRole, type RoleId } from '../../../services/auth/rbac.ts';
import { isoTime, ZERO_TIME } from '../../../time.ts';

/** Harbor's CVEAllowlist JSON (expires_at omitted when it never expires; zero times for a list never set). */
export function presentAllowlist(l: CveAllowlist) {
  return {
    id: l.id,
    project_id: l.projectId,
    ...(l.expiresAt === null ? {} : { expires_at: l.expiresAt }),
    items: l.items,
    creation_time: l.createdAt ? isoTime(l.createdAt) : ZERO_TIME,
    update_time: l.updatedAt ? isoTime(l.updatedAt) : ZERO_TIME,
  };
}

/** What a project answer adds to the stored project. */
export interface ProjectParts {
  /** The caller's role ids in the project (empty for robots and non-members). */
  roles: readonly RoleId[];
  repoCount: number;
  metadata: Record<string, string>;
  /**
   * Owner name and allowlist, given by the project endpoints; /search leaves both out, as Harbor's search
   * (which lists projects without their owner join or allowlist) does.
   */
  ownerName?: string;
  cveAllowlist?: CveAllowlist;
}

/** Harbor's Project JSON; keys in Harbor's order. */
export function presentProject(p: Project, parts: ProjectParts): Record<string, unknown> {
  return {
    project_id: p.id,
    owner_id: p.ownerId ?? 0,
    name: p.name,
    creation_time: isoTime(p.createdAt),
    update_time: isoTime(p.updatedAt),
    deleted: false,
    ...(parts.ownerName !== undefined ? { owner_name: parts.ownerName } : {}),
    togglable: true,
    current_user_role_id: highestRole(parts.roles),
    current_user_role_ids: parts.roles.length ? [...parts.roles].sort() : null,
    repo_count: parts.repoCount,
    metadata: parts.metadata,
    ...(parts.cveAllowlist !== undefined ? { cve_allowlist: presentAllowlist(parts.cveAllowlist) } : {}),
    // Harbor's omitempty: only a proxy-cache project carries the endpoint it pulls through from.
    ...(p.registryId ? { registry_id: p.registryId } : {}),
  };
}
