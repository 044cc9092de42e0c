// Versioned schema migrations, one list for both dialects. Each step is SQL with tokens that differ by
// dialect ({{id}} for an auto-increment primary key, {{bytes}} for binary, {{name}} for names listed in
// byte order — tags and catalog pages must be ASCII-sorted whatever the database's default collation);
// anything else must be portable.
// Never edit a released step: add a new one.
import type { Db } from './db.ts';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry core',
    sql: `
CREATE TABLE users (
  id {{id}},
  username TEXT NOT NULL UNIQUE,
  email TEXT UNIQUE,
  realname TEXT NOT NULL DEFAULT '',
  password_hash TEXT NOT NULL,
  sysadmin INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE projects (
  id {{id}},
  name TEXT NOT NULL UNIQUE,
  public INTEGER NOT NULL DEFAULT 0,
  owner_id BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE repositories (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id),
  name {{name}} NOT NULL UNIQUE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX repositories_project ON repositories(project_id);
CREATE TABLE blobs (
  digest TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE repository_blobs (
  repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest TEXT NOT NULL REFERENCES blobs(digest),
  created_at BIGINT NOT NULL,
  PRIMARY KEY (repository_id, digest)
);
CREATE INDEX repository_blobs_digest ON repository_blobs(digest);
CREATE TABLE manifests (
  id {{id}},
  repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  artifact_type TEXT,
  config_media_type TEXT,
  size BIGINT NOT NULL,
  content {{bytes}} NOT NULL,
  subject_digest TEXT,
  annotations TEXT,
  created_at BIGINT NOT NULL,
  UNIQUE (repository_id, digest)
);
CREATE INDEX manifests_subject ON manifests(repository_id, subject_digest);
CREATE TABLE manifest_references (
  manifest_id BIGINT NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  digest TEXT NOT NULL,
  kind TEXT NOT NULL,
  PRIMARY KEY (manifest_id, digest, kind)
);
CREATE INDEX manifest_references_digest ON manifest_references(digest);
CREATE TABLE tags (
  repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
  name {{name}} NOT NULL,
  manifest_id BIGINT NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  PRIMARY KEY (repository_id, name)
);
CREATE INDEX tags_manifest ON tags(manifest_id);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  repository_name TEXT NOT NULL,
  principal TEXT NOT NULL,
  algorithm TEXT NOT NULL,
  size BIGINT NOT NULL DEFAULT 0,
  started_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX uploads_updated ON uploads(updated_at);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'upload parts',
    // Each PATCH writes its own immutable part; the session row lists the acknowledged ones, in order.
    sql: `ALTER TABLE uploads ADD COLUMN parts TEXT NOT NULL DEFAULT '[]'`,
  },
  {
    version: 3,
    name: 'job service: executions, tasks, task logs, schedules',
    // Harbor's execution/task model on the shared database. Tasks are the queue: claimed with a lease
    // (locked_by, lease_until), retried at run_at, re-run by any process once a lease expires.
    sql: `
CREATE TABLE executions (
  id {{id}},
  vendor_type TEXT NOT NULL,
  vendor_id BIGINT NOT NULL DEFAULT -1,
  status TEXT NOT NULL,
  status_message TEXT NOT NULL DEFAULT '',
  trigger TEXT NOT NULL,
  extra_attrs TEXT NOT NULL DEFAULT '{}',
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  update_time BIGINT NOT NULL
);
CREATE INDEX executions_vendor ON executions(vendor_type, vendor_id, id);
CREATE TABLE tasks (
  id {{id}},
  execution_id BIGINT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  job_type TEXT NOT NULL,
  status TEXT NOT NULL,
  status_code INTEGER NOT NULL DEFAULT 0,
  status_message TEXT NOT NULL DEFAULT '',
  params TEXT NOT NULL DEFAULT '{}',
  progress DOUBLE PRECISION NOT NULL DEFAULT 0,
  run_count INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 1,
  run_at BIGINT NOT NULL,
  locked_by TEXT,
  lease_until BIGINT,
  stop_requested INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  creation_time BIGINT NOT NULL,
  start_time BIGINT,
  end_time BIGINT,
  update_time BIGINT NOT NULL
);
CREATE INDEX tasks_execution ON tasks(execution_id);
CREATE INDEX tasks_due ON tasks(status, run_at);
CREATE INDEX tasks_lease ON tasks(status, lease_until);
CREATE TABLE task_logs (
  id {{id}},
  task_id BIGINT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  line TEXT NOT NULL
);
CREATE INDEX task_logs_task ON task_logs(task_id, id);
CREATE TABLE schedules (
  id {{id}},
  vendor_type TEXT NOT NULL,
  vendor_id BIGINT NOT NULL DEFAULT -1,
  cron TEXT NOT NULL,
  params TEXT NOT NULL DEFAULT '{}',
  enabled INTEGER NOT NULL DEFAULT 1,
  next_run_at BIGINT,
  creation_time BIGINT NOT NULL,
  update_time BIGINT NOT NULL,
  UNIQUE (vendor_type, vendor_id)
);
CREATE INDEX schedules_due ON schedules(enabled, next_run_at);
`,
  },
  {
    version: 4,
    name: 'garbage collection: blob deletion marker, pending blob links',
    // blobs.deleting: set (epoch ms) by GC once no link remains; the file is removed under that row's lock and
    // the row goes with it. repository_blobs.pending_since: set when an upload or mount creates/refreshes a
    // link, cleared when a manifest references it; only such never-referenced links get GC's grace period.
    sql: `
ALTER TABLE blobs ADD COLUMN deleting BIGINT;
ALTER TABLE repository_blobs ADD COLUMN pending_since BIGINT;
UPDATE repository_blobs SET pending_since = created_at
`,
  },
  {
    version: 5,
    name: 'identity: members, project metadata, audit log',
    // Members are users ('u') or groups ('g', later); one role per entity and project, the union across entities.
    sql: `
ALTER TABLE users ADD COLUMN comment TEXT NOT NULL DEFAULT '';
CREATE TABLE project_members (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  entity_type TEXT NOT NULL,
  entity_id BIGINT NOT NULL,
  role_id INTEGER NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (project_id, entity_type, entity_id)
);
CREATE INDEX project_members_entity ON project_members(entity_type, entity_id);
CREATE TABLE project_metadata (
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (project_id, name)
);
CREATE TABLE audit_logs (
  id {{id}},
  username TEXT NOT NULL,
  operation TEXT NOT NULL,
  resource_type TEXT NOT NULL,
  resource TEXT NOT NULL,
  project_id BIGINT,
  detail TEXT,
  op_time BIGINT NOT NULL
);
CREATE INDEX audit_logs_time ON audit_logs(op_time);
`,
  },
  {
    version: 6,
    name: 'per-project storage quota',
    // NULL: the configured default (quota.default_storage_limit); -1: unlimited; otherwise bytes.
    sql: `
ALTER TABLE projects ADD COLUMN storage_limit BIGINT
`,
  },
  {
    version: 7,
    name: 'portal sessions and robot accounts',
    // sessions: id_hash = SHA-256 of the random 256-bit cookie value (the value itself is never stored);
    // pw_fp = a fingerprint of the user's password hash at login, so a password change ends every session.
    // robots: Harbor v2 robots; permissions is JSON [{kind, namespace: project id | '*', access: ['resource:action']}]
    // (project ids, not names, so a project deleted and re-created under the same name grants nothing).
    sql: `
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  pw_fp TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expiry ON sessions(expires_at);
CREATE TABLE robots (
  id {{id}},
  name TEXT NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  level TEXT NOT NULL,
  project_id BIGINT REFERENCES projects(id) ON DELETE CASCADE,
  secret_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  duration BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  permissions TEXT NOT NULL,
  creator_type TEXT NOT NULL,
  creator_ref BIGINT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE INDEX robots_project ON robots(project_id)
`,
  },
  {
    version: 8,
    name: 'runtime configurations, user groups, LDAP users',
    // configurations: API-set values (JSON text) overriding the config file's defaults, allow-listed keys only.
    // user_groups: Harbor's groups (1 LDAP, 2 HTTP, 3 OIDC); lookup_key = the normalized DN for LDAP groups, the
    // name otherwise. user_group_members: the groups a user was found in at their last LDAP login (nested included).
    // users.auth_source: 'db' or 'ldap'; users.admin_role_in_auth: sysadmin through ldap_group_admin_dn at last login.
    sql: `
CREATE TABLE configurations (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE user_groups (
  id {{id}},
  group_name TEXT NOT NULL,
  group_type INTEGER NOT NULL,
  ldap_group_dn TEXT NOT NULL DEFAULT '',
  lookup_key TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (group_type, lookup_key)
);
CREATE TABLE user_group_members (
  user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  group_id BIGINT NOT NULL REFERENCES user_groups(id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, group_id)
);
CREATE INDEX user_group_members_group ON user_group_members(group_id);
ALTER TABLE users ADD COLUMN auth_source TEXT NOT NULL DEFAULT 'db';
ALTER TABLE users ADD COLUMN admin_role_in_auth INTEGER NOT NULL DEFAULT 0
`,
  },
  {
    version: 9,
    name: 'artifacts API: repository description and pull count, pull times, tag ids, labels',
    // tags.id: BIGSERIAL fills existing rows on PostgreSQL; SQLite accepts the type name and the repository
    // reads its rowid instead. manifests.extra_attrs caches the summary read from an image's config blob.
    // labels.project_id is 0 for global labels (scope 'g'), as Harbor has it.
    // repository_artifact_counts: +1/-1 rows written by triggers on manifests without a subject (insert-only,
    // so pushes never wait on each other for it); readers sum them and fold them into one row now and then.
    // No foreign key: the rows of a deleted repository are removed with it by RepositoryService.
    sql: `
ALTER TABLE repositories ADD COLUMN description TEXT NOT NULL DEFAULT '';
ALTER TABLE repositories ADD COLUMN pull_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE manifests ADD COLUMN pull_time BIGINT;
ALTER TABLE manifests ADD COLUMN extra_attrs TEXT;
ALTER TABLE tags ADD COLUMN id BIGSERIAL;
ALTER TABLE tags ADD COLUMN pull_time BIGINT;
CREATE INDEX manifests_push ON manifests(repository_id, created_at, id);
CREATE INDEX manifests_media ON manifests(repository_id, media_type);
CREATE TABLE labels (
  id {{id}},
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  color TEXT NOT NULL DEFAULT '',
  scope TEXT NOT NULL,
  project_id BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (scope, project_id, name)
);
CREATE INDEX labels_project ON labels(project_id);
CREATE TABLE artifact_labels (
  manifest_id BIGINT NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
  label_id BIGINT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (manifest_id, label_id)
);
CREATE INDEX artifact_labels_label ON artifact_labels(label_id, manifest_id);
CREATE TABLE repository_artifact_counts (
  id {{id}},
  repository_id BIGINT NOT NULL,
  delta BIGINT NOT NULL
);
CREATE INDEX repository_artifact_counts_repo ON repository_artifact_counts(repository_id, id);
CREATE INDEX manifest_references_children ON manifest_references(digest, manifest_id) WHERE kind = 'manifest';
INSERT INTO repository_artifact_counts (repository_id, delta) SELECT repository_id, COUNT(*) FROM manifests WHERE subject_digest IS NULL GROUP BY repository_id;
{{sqlite}}CREATE TRIGGER manifests_count_insert AFTER INSERT ON manifests WHEN NEW.subject_digest IS NULL BEGIN INSERT INTO repository_artifact_counts (repository_id, delta) VALUES (NEW.repository_id, 1); END;
CREATE TRIGGER manifests_count_delete AFTER DELETE ON manifests WHEN OLD.subject_digest IS NULL BEGIN INSERT INTO repository_artifact_counts (repository_id, delta) VALUES (OLD.repository_id, -1); END{{/sqlite}}
{{postgres}}CREATE FUNCTION berth_count_manifest() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF TG_OP = 'INSERT' THEN IF NEW.subject_digest IS NULL THEN INSERT INTO repository_artifact_counts (repository_id, delta) VALUES (NEW.repository_id, 1); END IF; ELSIF OLD.subject_digest IS NULL THEN INSERT INTO repository_artifact_counts (repository_id, delta) VALUES (OLD.repository_id, -1); END IF; RETURN NULL; END $$;
CREATE TRIGGER manifests_count AFTER INSERT OR DELETE ON manifests FOR EACH ROW EXECUTE FUNCTION berth_count_manifest(){{/postgres}}
`,
  },
  {
    version: 10,
    name: 'audit log per-project index',
    // Project admins read their projects' audit logs newest first (/projects/{p}/logs, /auditlog-exts).
    sql: `
CREATE INDEX audit_logs_project_time ON audit_logs(project_id, op_time)
`,
  },
  {
    version: 11,
    name: 'login failures shared by processes',
    // The lockout series per username lives in the database so N processes do not allow N times the guesses.
    sql: `
CREATE TABLE login_failures (
  username TEXT PRIMARY KEY,
  count INTEGER NOT NULL,
  locked_until BIGINT NOT NULL DEFAULT 0,
  updated_at BIGINT NOT NULL
);
CREATE INDEX login_failures_updated ON login_failures(updated_at)
`,
  },
  {
    version: 12,
    name: 'event outbox',
    // The transactional outbox (services/events): rows are written in the transaction of the change they describe;
    // seq orders them in commit order (see EventOutbox), each subscriber's cursor is the last seq it handled.
    sql: `
CREATE TABLE events (
  seq {{id}},
  id TEXT NOT NULL UNIQUE,
  type TEXT NOT NULL,
  operator TEXT NOT NULL DEFAULT '',
  project_id BIGINT,
  data TEXT NOT NULL,
  occurred_at BIGINT NOT NULL
);
CREATE INDEX events_occurred ON events(occurred_at);
CREATE TABLE event_cursors (
  name TEXT PRIMARY KEY,
  last_seq BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)
`,
  },
  {
    // The job service monitor (Harbor's /jobservice): a paused flag per job type, honoured by every process
    // claiming tasks (Harbor's queue_status), and one row per worker pool (process) with its heartbeat, so the
    // pools of all processes sharing the database are listed.
    version: 13,
    name: 'job queue status and worker pools',
    sql: `
CREATE TABLE job_queue_status (
  job_type TEXT PRIMARY KEY,
  paused INTEGER NOT NULL DEFAULT 0,
  update_time BIGINT NOT NULL
);
CREATE TABLE job_worker_pools (
  id TEXT PRIMARY KEY,
  host TEXT NOT NULL,
  pid BIGINT NOT NULL,
  concurrency INTEGER NOT NULL,
  start_time BIGINT NOT NULL,
  heartbeat_at BIGINT NOT NULL
)
`,
  },
  {
    // Issue 13 (webhooks): Harbor's notification_policy and notification_job last-trigger bookkeeping.
    // targets is JSON text; each target's auth_header is sealed by SecretBox before it is stored.
    version: 14,
    name: 'webhook policies',
    sql: `
CREATE TABLE webhook_policies (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  enabled INTEGER NOT NULL DEFAULT 1,
  event_types TEXT NOT NULL,
  targets TEXT NOT NULL,
  creator TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (project_id, name)
);
CREATE TABLE webhook_last_triggers (
  policy_id BIGINT NOT NULL REFERENCES webhook_policies(id) ON DELETE CASCADE,
  event_type TEXT NOT NULL,
  last_trigger_time BIGINT NOT NULL,
  PRIMARY KEY (policy_id, event_type)
)
`,
  },
  {
    // Issue 12 (projects): a project's CVE allowlist (Harbor's cve_allowlist table), stored and returned;
    // enforcement comes with scanning. One row per project; items are Harbor's [{cve_id}] as JSON text.
    version: 16,
    name: 'project cve allowlists',
    sql: `
CREATE TABLE project_cve_allowlists (
  id {{id}},
  project_id BIGINT NOT NULL UNIQUE REFERENCES projects(id) ON DELETE CASCADE,
  expires_at BIGINT,
  items TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)
`,
  },  {
    // Issue 14 (replication): Harbor's registry table — remote endpoints replication copies to and from.
    // access_secret is sealed by SecretBox before it is stored and never returned by the API.
    version: 17,
    name: 'replication registries',
    sql: `
CREATE TABLE registries (
  id {{id}},
  name {{name}} NOT NULL UNIQUE,
  type TEXT NOT NULL,
  url TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  credential_type TEXT NOT NULL DEFAULT '',
  access_key TEXT NOT NULL DEFAULT '',
  access_secret TEXT NOT NULL DEFAULT '',
  insecure INTEGER NOT NULL DEFAULT 0,
  ca_certificate TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)
`,
  },
  {
    // Issue 17 (tag immutability): Harbor's immutable_tag_rule — per-project rules, the rule (selectors,
    // template, action, priority) as JSON text; rule_key is its canonical form, unique per project (Harbor's
    // UNIQUE(project_id, tag_filter): the same rule twice is a 409).
    version: 18,
    name: 'immutable tag rules',
    sql: `
CREATE TABLE immutable_tag_rules (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  rule TEXT NOT NULL,
  rule_key TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  UNIQUE (project_id, rule_key)
)
`,
  },
  {
    // Issue 17 (tag retention): Harbor's retention_policy, one per project (the project's retention_id metadata
    // points at it); the policy (algorithm, rules, trigger, scope) as JSON text. Executions and tasks are the job
    // service's (vendor_type RETENTION, vendor_id the policy id); retention_task_results keeps Harbor's per-task
    // total / retained counts.
    version: 19,
    name: 'retention policies',
    sql: `
CREATE TABLE retention_policies (
  id {{id}},
  project_id BIGINT NOT NULL UNIQUE REFERENCES projects(id) ON DELETE CASCADE,
  policy TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE retention_task_results (
  task_id BIGINT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
  execution_id BIGINT NOT NULL REFERENCES executions(id) ON DELETE CASCADE,
  total INTEGER NOT NULL,
  retained INTEGER NOT NULL
);
CREATE INDEX retention_task_results_execution ON retention_task_results(execution_id);
CREATE TABLE retention_announced (
  execution_id BIGINT PRIMARY KEY REFERENCES executions(id) ON DELETE CASCADE
)
`,
  },
  {
    // Issue 14 (replication) part 2: Harbor's replication_policy. Registry id 0 is the local registry. trigger
    // and filters are Harbor's JSON shapes; executions and tasks live in the job tables (vendor REPLICATION).
    version: 20,
    name: 'replication policies',
    sql: `
CREATE TABLE replication_policies (
  id {{id}},
  name {{name}} NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  creator TEXT NOT NULL DEFAULT '',
  src_registry_id BIGINT NOT NULL DEFAULT 0,
  dest_registry_id BIGINT NOT NULL DEFAULT 0,
  dest_namespace TEXT NOT NULL DEFAULT '',
  dest_namespace_replace_count INTEGER NOT NULL DEFAULT -1,
  trigger_json TEXT NOT NULL DEFAULT '{}',
  filters_json TEXT NOT NULL DEFAULT '[]',
  replicate_deletion INTEGER NOT NULL DEFAULT 0,
  override INTEGER NOT NULL DEFAULT 0,
  enabled INTEGER NOT NULL DEFAULT 1,
  speed INTEGER NOT NULL DEFAULT -1,
  copy_by_chunk INTEGER NOT NULL DEFAULT 0,
  single_active_replication INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)
`,
  },
  {
    // Issue 15 (scanning) part 2: OSV advisories, one row per OSV id with the record as JSON, versioned by the
    // import that last wrote it and the source's `modified`; advisory_packages indexes (ecosystem, name) of
    // every affected entry for lookup. artifact_inventories keeps each scanned artifact's package inventory and
    // last findings so a new import re-matches without reading any layer again.
    version: 21,
    name: 'advisories and inventories',
    sql: `
CREATE TABLE advisory_imports (
  id {{id}},
  source TEXT NOT NULL,
  started_at BIGINT NOT NULL,
  finished_at BIGINT,
  added INTEGER NOT NULL DEFAULT 0,
  updated INTEGER NOT NULL DEFAULT 0,
  withdrawn INTEGER NOT NULL DEFAULT 0,
  unchanged INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE advisories (
  id {{name}} PRIMARY KEY,
  modified TEXT NOT NULL,
  import_id BIGINT NOT NULL,
  record TEXT NOT NULL
);
CREATE INDEX advisories_import ON advisories(import_id);
CREATE TABLE advisory_packages (
  advisory_id {{name}} NOT NULL REFERENCES advisories(id) ON DELETE CASCADE,
  ecosystem {{name}} NOT NULL,
  name {{name}} NOT NULL,
  PRIMARY KEY (advisory_id, ecosystem, name)
);
CREATE INDEX advisory_packages_lookup ON advisory_packages(ecosystem, name);
CREATE TABLE artifact_inventories (
  digest {{name}} PRIMARY KEY,
  inventory TEXT NOT NULL,
  findings TEXT NOT NULL DEFAULT '[]',
  matched_import BIGINT NOT NULL DEFAULT 0,
  scanned_at BIGINT NOT NULL,
  matched_at BIGINT NOT NULL
)
`,
  },
  {
    // Issue 15 (scanning) part 3: scanner registrations (Harbor's scanner_registration; the built-in one is a
    // row with immutable = 1, its credential column sealed by the secret box), the scanner a project chose, one
    // report per (artifact digest, registration, MIME type) with the job that produced it, and the system CVE
    // allowlist (Harbor keeps it as project 0 of cve_allowlist; projects here have a foreign key, so a table).
    version: 22,
    name: 'scanners, scan reports, system CVE allowlist',
    sql: `
CREATE TABLE scanner_registrations (
  uuid {{name}} PRIMARY KEY,
  name {{name}} NOT NULL UNIQUE,
  description TEXT NOT NULL DEFAULT '',
  url TEXT NOT NULL,
  auth TEXT NOT NULL DEFAULT '',
  access_credential TEXT NOT NULL DEFAULT '',
  skip_cert_verify INTEGER NOT NULL DEFAULT 0,
  use_internal_addr INTEGER NOT NULL DEFAULT 0,
  disabled INTEGER NOT NULL DEFAULT 0,
  is_default INTEGER NOT NULL DEFAULT 0,
  immutable INTEGER NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
);
CREATE TABLE project_scanners (
  project_id BIGINT PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
  registration_uuid {{name}} NOT NULL
);
CREATE TABLE scan_reports (
  id {{name}} PRIMARY KEY,
  digest {{name}} NOT NULL,
  registration_uuid {{name}} NOT NULL,
  mime_type TEXT NOT NULL,
  status TEXT NOT NULL,
  status_message TEXT NOT NULL DEFAULT '',
  execution_id BIGINT,
  task_id BIGINT,
  project_id BIGINT,
  repository TEXT NOT NULL DEFAULT '',
  report TEXT,
  start_time BIGINT NOT NULL,
  end_time BIGINT,
  UNIQUE (digest, registration_uuid, mime_type)
);
CREATE INDEX scan_reports_execution ON scan_reports(execution_id);
CREATE TABLE system_cve_allowlist (
  id INTEGER PRIMARY KEY,
  expires_at BIGINT,
  items TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)
`,
  },
  {
    // Issue 17: proxy-cache projects. A project with registry_id > 0 pulls through from that replication
    // endpoint (0 = a normal project, as Harbor's project.registry_id). Fixed at creation.
    version: 24,
    name: 'proxy cache projects',
    sql: `ALTER TABLE projects ADD COLUMN registry_id BIGINT NOT NULL DEFAULT 0`,
  },
  {
    // Issue 16 (signatures) part 1: a project's trusted keys (Berth's extension). kind 'cosign' holds a PEM public
    // key, 'notation' a PEM certificate; fingerprint is the SHA-256 of the DER, unique per project. Numbered 25:
    // 22-24 belong to work landing in parallel.
    version: 25,
    name: 'trusted keys',
    sql: `
CREATE TABLE trusted_keys (
  id {{id}},
  project_id BIGINT NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name {{name}} NOT NULL,
  kind TEXT NOT NULL,
  pem TEXT NOT NULL,
  fingerprint TEXT NOT NULL,
  creator TEXT NOT NULL DEFAULT '',
  created_at BIGINT NOT NULL,
  UNIQUE (project_id, name),
  UNIQUE (project_id, fingerprint)
)
`,
  },
  {
    version: 26,
    name: 'tasks by execution and status',
    // An execution's status is derived from its tasks by status (refreshExecutions); with only (execution_id)
    // and (status, …) indexes the planner walked every task of a status — the whole queued backlog per refresh.
    sql: `
CREATE INDEX tasks_execution_status ON tasks(execution_id, status);
DROP INDEX tasks_execution
`,
  },
  {
    // Issue 19 (OIDC): one row per user onboarded through the OIDC provider (Harbor's oidc_user). subiss = sub +
    // issuer of the ID token; secret = the CLI secret, token = the provider's tokens (JSON), both sealed by
    // SecretBox. Numbered 27: 22-26 are taken; parallel work may renumber at merge.
    version: 27,
    name: 'oidc users',
    sql: `
CREATE TABLE oidc_users (
  user_id BIGINT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  subiss TEXT NOT NULL UNIQUE,
  secret TEXT NOT NULL,
  token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL
)
`,
  },
  {
    // Issue 14 (replication) part 3: a policy's Berth-only mode ('' = Harbor's one-way replication,
    // 'anti-entropy' = dual-master cycles), and this instance's id (loop prevention: a replicated push names the
    // instance it was first pushed to, and is never sent back there).
    version: 28,
    name: 'replication anti-entropy',
    sql: `
ALTER TABLE replication_policies ADD COLUMN mode TEXT NOT NULL DEFAULT '';
CREATE TABLE berth_instance (
  singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
  id TEXT NOT NULL,
  created_at BIGINT NOT NULL
)
`,
  },
];

function render(sql: string, dialect: Db['dialect']): string {
  return sql
    // {{sqlite}}...{{/sqlite}} and {{postgres}}...{{/postgres}}: statements for one dialect only (triggers).
    .replace(/\{\{(sqlite|postgres)\}\}([\s\S]*?)\{\{\/\1\}\}/g, (_, d: string, body: string) => (d === dialect ? body : ''))
    .replaceAll('{{id}}', dialect === 'sqlite' ? 'INTEGER PRIMARY KEY AUTOINCREMENT' : 'BIGSERIAL PRIMARY KEY')
    .replaceAll('{{bytes}}', dialect === 'sqlite' ? 'BLOB' : 'BYTEA')
    .replaceAll('{{name}}', dialect === 'sqlite' ? 'TEXT' : 'TEXT COLLATE "C"');
}

/** Applies pending migrations; safe to call from several processes at once on PostgreSQL (advisory lock). */
export async function migrate(db: Db): Promise<number[]> {
  // Under the lock too: concurrent CREATE TABLE IF NOT EXISTS races on PostgreSQL's catalog (duplicate pg_type).
  await db.tx(async (q) => {
    if (q.dialect === 'postgres') await q.get('SELECT pg_advisory_xact_lock(4242001)');
    await q.run('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)');
  });
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    const done = await db.tx(async (q) => {
      if (q.dialect === 'postgres') await q.get('SELECT pg_advisory_xact_lock(4242001)');
      if (await q.get('SELECT version FROM schema_migrations WHERE version = ?', [m.version])) return false;
      for (const stmt of render(m.sql, q.dialect).split(/;\s*\n/).map((s) => s.trim()).filter(Boolean)) await q.run(stmt);
      await q.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [m.version, m.name, Date.now()]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}
