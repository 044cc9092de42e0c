// A real Harbor API client against Berth: the `harborapi` Python package (PyPI, async httpx + pydantic models
// of Harbor's swagger; venv made by scripts/ci-deps.sh) runs test/contract/harborapi_scenario.py: system info,
// current user, create and read a project, push an image with crane, list repositories and artifacts, tags,
// create a label and attach it, read the audit log, delete the artifact, project summary. A pydantic
// validation error in any step is a response shape Harbor clients cannot read.
// A step is required as soon as Berth documents the operations it calls (its OpenAPI document), so the
// scenario tightens by itself as endpoints land; the test fails if fewer steps than the core set are required.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useApi } from '../api/fixture.ts';
import { REPO_ROOT, toolPath } from '../helpers/clients.ts';

const PYTHON = join(REPO_ROOT, '.tools', 'pyvenv', 'bin', 'python');
const SCRIPT = join(import.meta.dirname, 'harborapi_scenario.py');

/** Scenario step → the Berth operations (Harbor operationIds) it calls. */
const STEP_OPS: Record<string, string[]> = {
  systeminfo: ['getSystemInfo'],
  current_user: ['getCurrentUserInfo'],
  create_project: ['createProject'],
  get_project: ['getProject'],
  list_projects: ['listProjects'],
  push_image: [],
  list_repositories: ['listRepositories'],
  get_repository: ['getRepository'],
  list_artifacts: ['listArtifacts'],
  get_artifact: ['getArtifact'],
  artifact_tags: ['listTags'],
  create_label: ['CreateLabel', 'GetLabelByID'],
  add_label: ['addLabel', 'getArtifact'],
  audit_logs: ['listAuditLogs'],
  create_tag: ['createTag', 'listTags', 'deleteTag'],
  accessories: ['listAccessories'],
  build_history: ['getAddition'],
  copy_artifact: ['CopyArtifact', 'listArtifacts'],
  update_repository: ['updateRepository', 'getRepository'],
  delete_artifact: ['deleteArtifact', 'listArtifacts'],
  project_summary: ['getProjectSummary'],
  users: ['createUser', 'getUser', 'updateUserProfile', 'listUsers', 'searchUsers', 'getCurrentUserPermissions'],
  members: ['createProjectMember', 'updateProjectMember', 'getProjectMember', 'listProjectMembers'],
  project_metadata: ['listProjectMetadatas', 'getProjectDeletable'],
  quotas: ['listQuotas', 'getQuota'],
  system_jobs: ['getGCHistory', 'getGCSchedule', 'getPurgeHistory', 'getPurgeSchedule'],
  system: ['getStatistic', 'getHealth', 'getPing', 'getVolumes'],
  configurations: ['getConfigurations'],
  robots: ['CreateRobot', 'ListRobot', 'GetRobotByID', 'DeleteRobot'],
  error_envelope: ['deleteProject', 'getProject'],
  labels_list: ['ListLabels'],
  all_repositories: ['listAllRepositories', 'search'],
  usergroups: ['listUserGroups'],
  project_logs: ['getLogs'],
  permissions: ['getPermissions'],
};
const CORE = ['current_user', 'create_project', 'get_project', 'list_projects', 'push_image', 'project_summary'];

interface Step {
  name: string;
  ok: boolean;
  detail?: unknown;
  error?: string;
  trace?: string;
}

// One Berth for the file; it must log no server errors (the fixture checks at the end).
const f = useApi();

test('harborapi 0.26.2 (a real Harbor API client) runs the scenario against Berth', async (t) => {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: run scripts/ci-deps.sh (it installs harborapi into .tools/pyvenv)`);
  const crane = toolPath('crane');
  const project = `harborapi-${Date.now().toString(36)}`;
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, f.berth.url, 'admin', f.berth.adminPassword, project], {
    env: { ...process.env, CRANE: crane, PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = JSON.parse(stdout) as { harborapi: string; steps: Step[] };
  assert.equal(result.harborapi, '0.26.2');
  assert.deepEqual(result.steps.map((s) => s.name), Object.keys(STEP_OPS), 'the scenario ran every step in order');

  const doc = (await (await fetch(`${f.berth.url}/api/v2.0/openapi.json`)).json()) as { paths: Record<string, Record<string, { operationId?: string }>> };
  const documented = new Set<string>();
  for (const item of Object.values(doc.paths)) for (const op of Object.values(item)) if (op.operationId) documented.add(op.operationId);

  const required = Object.keys(STEP_OPS).filter((s) => STEP_OPS[s].every((id) => documented.has(id)));
  for (const s of CORE) assert.ok(required.includes(s), `core step ${s} is not covered by Berth's documented operations`);
  const notYet = Object.keys(STEP_OPS).filter((s) => !required.includes(s));
  if (notYet.length) t.diagnostic(`steps not required (their operations are not in Berth's document yet): ${notYet.join(', ')}`);

  const failed = result.steps.filter((s) => required.includes(s.name) && !s.ok);
  assert.deepEqual(
    failed.map((s) => `${s.name}: ${s.error}`),
    [],
    `harborapi steps failed:\n${failed.map((s) => `${s.name}: ${s.error}\n${s.trace ?? ''}`).join('\n')}`,
  );
  for (const s of result.steps) t.diagnostic(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name} ${JSON.stringify(s.ok ? s.detail : s.error).slice(0, 300)}`);

  // What the client did is really there (read back with Berth's own API).
  const admin = f.admin;
  const p = await admin.call('GET', `/projects/${project}`, undefined, { 'X-Is-Resource-Name': 'true' });
  assert.equal(p.status, 200, p.text);
  assert.equal(p.json().metadata.public, 'false');
  if (required.includes('delete_artifact')) {
    const arts = await admin.call('GET', `/projects/${project}/repositories/app/artifacts`);
    assert.equal(arts.status, 200, arts.text);
    assert.deepEqual(arts.json(), []);
  }
});
