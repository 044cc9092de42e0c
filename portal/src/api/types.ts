// Harbor v2.0 API shapes used by the portal, hand-written from goharbor/harbor api/v2.0/swagger.yaml
// (definitions of the same names). Berth's OpenAPI document is generated from its route schemas; once it is
// served at /api/v2.0/openapi.json, `node scripts/gen-portal-types.ts <url>` writes src/api/schema.d.ts from it.

export interface Errors {
  errors?: { code?: string; message?: string }[];
}

export interface UserResp {
  user_id: number;
  username: string;
  email: string;
  realname: string;
  comment: string;
  sysadmin_flag: boolean;
  admin_role_in_auth?: boolean;
  creation_time: string;
  update_time: string;
}

export interface Access {
  resource: string;
  action: string;
  effect?: string;
}

export type ProjectMetadata = Partial<Record<'public' | 'enable_content_trust' | 'enable_content_trust_cosign' | 'prevent_vul' | 'severity' | 'auto_scan' | 'auto_sbom_generation' | 'reuse_sys_cve_allowlist', string>>;

export interface Project {
  project_id: number;
  owner_id: number;
  name: string;
  creation_time: string;
  update_time: string;
  owner_name: string;
  current_user_role_id: number;
  current_user_role_ids: number[] | null;
  repo_count: number;
  metadata: ProjectMetadata;
}

export interface ProjectSummary {
  repo_count: number;
  project_admin_count?: number;
  maintainer_count?: number;
  developer_count?: number;
  guest_count?: number;
  limited_guest_count?: number;
  quota?: { hard: { storage: number }; used: { storage: number } };
}

export interface Quota {
  id: number;
  ref: { id: number; name: string };
  hard: { storage: number };
  used: { storage: number };
  creation_time: string;
  update_time: string;
}

export interface ProjectMember {
  id: number;
  project_id: number;
  entity_name: string;
  role_name: string;
  role_id: number;
  entity_id: number;
  entity_type: 'u' | 'g';
}

export interface UserGroup {
  id: number;
  group_name: string;
  group_type: number;
  ldap_group_dn?: string;
}

export interface Repository {
  id: number;
  project_id: number;
  name: string;
  description?: string;
  artifact_count: number;
  pull_count: number;
  creation_time: string;
  update_time: string;
}

export interface Tag {
  id: number;
  repository_id: number;
  artifact_id: number;
  name: string;
  push_time: string;
  pull_time: string;
  immutable?: boolean;
}

export interface Label {
  id: number;
  name: string;
  description: string;
  color: string;
  scope: 'g' | 'p';
  project_id: number;
  creation_time?: string;
  update_time?: string;
}

export interface Accessory {
  id: number;
  artifact_id: number;
  subject_artifact_id?: number;
  subject_artifact_digest?: string;
  subject_artifact_repo?: string;
  size: number;
  digest: string;
  type: string;
  icon?: string;
  creation_time: string;
}

export interface Reference {
  parent_id: number;
  child_id: number;
  child_digest: string;
  platform?: { architecture?: string; os?: string; variant?: string };
}

export interface Artifact {
  id: number;
  type: string;
  media_type: string;
  manifest_media_type: string;
  artifact_type?: string;
  project_id: number;
  repository_id: number;
  repository_name?: string;
  digest: string;
  size: number;
  icon?: string;
  push_time: string;
  pull_time: string;
  extra_attrs?: Record<string, unknown>;
  annotations?: Record<string, string> | null;
  references?: Reference[] | null;
  tags?: Tag[] | null;
  labels?: Label[] | null;
  accessories?: Accessory[] | null;
  addition_links?: Record<string, { href: string; absolute: boolean }> | null;
}

export interface BuildHistoryEntry {
  created?: string;
  created_by?: string;
  empty_layer?: boolean;
  comment?: string;
}

export interface RobotPermission {
  kind: 'project' | 'system';
  namespace: string;
  access: Access[];
}

export interface Robot {
  id: number;
  name: string;
  description?: string;
  level: 'system' | 'project';
  duration: number;
  editable?: boolean;
  disable: boolean;
  expires_at: number;
  permissions: RobotPermission[];
  creation_time: string;
  update_time: string;
}

export interface RobotCreated {
  id: number;
  name: string;
  secret: string;
  creation_time: string;
  expires_at: number;
}

export interface AuditLog {
  id: number;
  username: string;
  resource: string;
  resource_type: string;
  operation: string;
  op_time: string;
}

export interface ExecHistory {
  id: number;
  job_name: string;
  job_kind: string;
  job_parameters: string;
  schedule?: { type?: string; cron?: string };
  job_status: string;
  creation_time: string;
  update_time: string;
}

export interface GCSchedule {
  id?: number;
  parameters?: Record<string, unknown>;
  schedule?: { type?: string; cron?: string; next_scheduled_time?: string | null };
}

export interface SystemInfo {
  auth_mode?: string;
  primary_auth_mode?: boolean;
  self_registration?: boolean;
  banner_message?: string;
  oidc_provider_name?: string;
  external_url?: string;
  registry_url?: string;
  harbor_version?: string;
  has_ca_root?: boolean;
  project_creation_restriction?: string;
  read_only?: boolean;
  notification_enable?: boolean;
  registry_storage_provider_name?: string;
  current_time?: string;
}

export interface Statistic {
  private_project_count: number;
  private_repo_count: number;
  public_project_count: number;
  public_repo_count: number;
  total_project_count: number;
  total_repo_count: number;
  total_storage_consumption: number;
}

export interface ConfigItem {
  value: unknown;
  editable: boolean;
}
export type ConfigurationsResponse = Record<string, ConfigItem>;

export interface Health {
  status: string;
  components?: { name: string; status: string; error?: string }[];
}

/** Harbor's project role ids. */
export const ROLES = { projectAdmin: 1, developer: 2, guest: 3, maintainer: 4, limitedGuest: 5 } as const;
export const ROLE_KEYS: Record<number, string> = { 1: 'projectAdmin', 2: 'developer', 3: 'guest', 4: 'maintainer', 5: 'limitedGuest' };
