// The API shapes the portal uses, as aliases of the types generated from Berth's served OpenAPI
// (schema.d.ts, `npm run gen:portal-types`), so the portal cannot drift from what the server declares.
// Berth's route schemas are inlined (no components/schemas), so each shape is named by the response that carries it.
import type { paths } from './schema.d.ts';

/**
 * The JSON body of a path's `method` response `status`. A path or status missing from schema.d.ts gives a string
 * literal naming it (not `never`, on which any property access would type-check), so every use fails to compile.
 */
type Body<P extends keyof paths, M extends keyof paths[P], S extends number = 200> = paths[P][M] extends {
  responses: { [K in S]: { content: { 'application/json': infer T } } };
}
  ? T
  : `no ${S} JSON body for ${M & string} ${P}`;
/** One element of a list body. */
type Item<T> = T extends readonly (infer I)[] ? I : 'not a list body';

const _artifact = '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}';

export type Errors = Body<'/projects', 'get', 401>;
export type UserResp = Body<'/users/current', 'get'>;
export type Access = Item<Body<'/users/current/permissions', 'get'>>;
export type Project = Body<'/projects/{project_name_or_id}', 'get'>;
export type ProjectMetadata = NonNullable<Project['metadata']>;
export type ProjectSummary = Body<'/projects/{project_name_or_id}/summary', 'get'>;
export type Quota = Item<Body<'/quotas', 'get'>>;
export type ProjectMember = Item<Body<'/projects/{project_name_or_id}/members', 'get'>>;
export type UserGroup = Item<Body<'/usergroups', 'get'>>;
export type Repository = Item<Body<'/projects/{project_name}/repositories', 'get'>>;
export type Tag = Item<Body<`${typeof _artifact}/tags`, 'get'>>;
export type Label = Item<Body<'/labels', 'get'>>;
export type Accessory = Item<Body<`${typeof _artifact}/accessories`, 'get'>>;
export type Artifact = Body<typeof _artifact, 'get'>;
export type Reference = Item<NonNullable<Artifact['references']>>;
/** One entry of an artifact's scan_overview (Harbor's NativeReportSummary). */
export type ScanSummary = NonNullable<NonNullable<Artifact['scan_overview']>[string]>;
export type Robot = Body<'/robots/{robot_id}', 'get'>;
export type RobotPermission = Item<NonNullable<Robot['permissions']>>;
export type RobotCreated = Body<'/robots', 'post', 201>;
export type AuditLog = Item<Body<'/audit-logs', 'get'>>;
export type ExecHistory = Body<'/system/gc/{gc_id}', 'get'>;
export type GCSchedule = Body<'/system/gc/schedule', 'get'>;
export type SystemInfo = Body<'/systeminfo', 'get'>;
export type Statistic = Body<'/statistics', 'get'>;
export type ConfigurationsResponse = Body<'/configurations', 'get'>;
export type Health = Body<'/health', 'get'>;

/**
 * One entry of an image's build history (additions/build_history). Berth's document declares additions as an opaque
 * body (their shape depends on the addition), so this one stays hand-written, from Harbor's (docker's) history entry.
 */
export interface BuildHistoryEntry {
  created?: string;
  created_by?: string;
  empty_layer?: boolean;
  comment?: string;
}

/**
 * One finding of the vulnerabilities addition (Harbor's report; the addition is declared as an opaque body like the
 * other additions, so this shape is hand-written from Harbor's VulnerabilityItem).
 */
export interface VulnerabilityItem {
  id: string;
  package: string;
  version: string;
  fix_version: string;
  severity: string;
  description: string;
  links: string[];
  preferred_cvss?: { score_v3: number | null; score_v2: number | null };
}
export interface VulnerabilityReport {
  generated_at: string;
  severity: string;
  scanner: { name: string; vendor: string; version: string };
  vulnerabilities: VulnerabilityItem[];
}

/** Harbor's project role ids. */
export const ROLES = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 } as const;
export const ROLE_KEYS: Record<number, string> = { 1: 'projectAdmin', 2: 'developer', 3: 'guest', 4: 'maintainer', 5: 'limitedGuest' };

// Registry endpoints and replication (issue #14).
export type RegistryEndpoint = Body<'/registries/{id}', 'get'>;
