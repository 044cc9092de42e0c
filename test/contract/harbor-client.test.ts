// The client generated from Harbor's swagger against Berth: PyPI's `harbor-api-client` 2.12.2 (Python package
// `harbor_client`, venv made by scripts/ci-deps.sh) runs test/contract/harbor_client_scenario.py, which calls
// every operation of the issue-12 tags with a generated client's wire habits (JSON content type on body-less
// DELETEs, booleans as `True`, page_size=0) and checks the values it gets back.
// As in harborapi.test.ts, a step is required once Berth serves all operations it calls (its OpenAPI document).
// On top of that, every operation of those tags that Berth serves must have been called by some step, so a
// newly served operation cannot go untested. KNOWN_GAPS lists steps that fail today because of gaps other
// branches close; a listed step that passes fails the test, so the list can only shrink.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { useApi } from '../api/fixture.ts';
import { REPO_ROOT, toolPath } from '../helpers/clients.ts';

const PYTHON = join(REPO_ROOT, '.tools', 'pyvenv', 'bin', 'python');
const SCRIPT = join(import.meta.dirname, 'harbor_client_scenario.py');

/** The Harbor swagger tags this scenario covers (issue #12). */
const TAGS = [
  'project', 'projectMetadata', 'repository', 'artifact', 'label', 'member', 'user', 'usergroup', 'robot', 'quota',
  'gc', 'purge', 'auditlog', 'configure', 'systeminfo', 'health', 'statistic', 'search', 'ping', 'icon',
  'permissions', 'Ldap', 'jobservice', 'schedule',
];

/** Served operations of those tags that harbor-api-client 2.12.2 has no method for (Harbor 2.13 additions). */
const NOT_IN_CLIENT: Record<string, string> = {
  getLogExts: 'Harbor 2.13 (auditlog-exts); not in the 2.12.2 swagger',
  listAuditLogExts: 'Harbor 2.13 (auditlog-exts); not in the 2.12.2 swagger',
  listAuditLogEventTypes: 'Harbor 2.13 (auditlog-exts); not in the 2.12.2 swagger',
  ListProjectRobots: 'Harbor 2.13 (/projects/{ref}/robots); not in the 2.12.2 swagger',
};

/** Scenario step → the Harbor operationIds it calls. */
const STEP_OPS: Record<string, string[]> = {
  systeminfo: ['getSystemInfo', 'getVolumes'],
  system_cert: ['getCert'],
  health_ping: ['getHealth', 'getPing'],
  permissions: ['getPermissions'],
  create_project: ['createProject', 'getProject'],
  current_user: ['getCurrentUserInfo', 'getCurrentUserPermissions'],
  head_project: ['headProject'],
  list_projects: ['listProjects'],
  update_project: ['updateProject', 'getProject'],
  project_metadata: ['addProjectMetadatas', 'listProjectMetadatas', 'getProjectMetadata', 'updateProjectMetadata', 'deleteProjectMetadata'],
  project_scanner: ['listScannerCandidatesOfProject', 'getScannerOfProject', 'setScannerOfProject'],
  push_image: [],
  repositories: ['listRepositories', 'getRepository', 'updateRepository', 'listAllRepositories'],
  artifacts: ['listArtifacts', 'getArtifact', 'listArtifactsOfProject'],
  additions: ['getAddition', 'getVulnerabilitiesAddition', 'listAccessories'],
  tags: ['createTag', 'listTags', 'deleteTag'],
  labels: ['CreateLabel', 'GetLabelByID', 'UpdateLabel', 'ListLabels', 'addLabel', 'getArtifact', 'removeLabel', 'DeleteLabel'],
  copy_and_delete: ['CopyArtifact', 'listArtifacts', 'deleteArtifact', 'deleteRepository', 'getRepository'],
  project_summary: ['getProjectSummary', 'getProjectDeletable'],
  project_logs: ['getLogs'],
  users: ['createUser', 'getUser', 'updateUserProfile', 'updateUserPassword', 'setUserSysAdmin', 'listUsers', 'searchUsers'],
  cli_secret: ['setCliSecret'],
  members: ['createProjectMember', 'getProjectMember', 'updateProjectMember', 'listProjectMembers', 'deleteProjectMember'],
  delete_user: ['deleteUser', 'getUser'],
  usergroups: ['createUserGroup', 'getUserGroup', 'updateUserGroup', 'listUserGroups', 'searchUserGroups', 'deleteUserGroup'],
  robots: ['CreateRobot', 'GetRobotByID', 'UpdateRobot', 'RefreshSec', 'ListRobot', 'DeleteRobot'],
  quotas: ['listQuotas', 'updateQuota', 'getQuota'],
  search_and_statistics: ['search', 'getStatistic'],
  audit_logs: ['listAuditLogs'],
  gc: ['createGCSchedule', 'getGCHistory', 'getGC', 'getGCLog', 'stopGC', 'updateGCSchedule', 'getGCSchedule'],
  purge: ['createPurgeSchedule', 'getPurgeHistory', 'getPurgeJob', 'getPurgeJobLog', 'stopPurge', 'updatePurgeSchedule', 'getPurgeSchedule'],
  configurations: ['getConfigurations', 'updateConfigurations'],
  internal_config: ['getInternalconfig'],
  ldap: ['pingLdap', 'searchLdapUser', 'searchLdapGroup', 'importLdapUser'],
  jobservice: ['getWorkerPools', 'getWorkers', 'listJobQueues', 'actionPendingJobs', 'stopRunningJob', 'actionGetJobLog'],
  schedules: ['getSchedulePaused', 'listSchedules'],
  icons: ['listArtifacts', 'getIcon'],
  webhooks: [
    'GetSupportedEventTypes', 'CreateWebhookPolicyOfProject', 'GetWebhookPolicyOfProject', 'UpdateWebhookPolicyOfProject',
    'ListWebhookPoliciesOfProject', 'LastTrigger', 'ListExecutionsOfWebhookPolicy', 'ListWebhookJobs', 'DeleteWebhookPolicyOfProject',
  ],
  page_size_zero: ['listProjects', 'listUsers'],
  delete_project: ['deleteProject', 'deleteRepository', 'getProjectDeletable', 'getProject'],
};

/** Steps that fail on this branch because of gaps other branches are closing (step → reason). */
// The merger empties this as the branches land; a stale entry fails the test.
const KNOWN_GAPS: Record<string, string> = {
};

interface Step {
  name: string;
  ok: boolean;
  calls: string[];
  detail?: unknown;
  error?: string;
  trace?: string;
}

// One Berth for the file; it must log no server errors (the fixture checks at the end).
const f = useApi();

test('harbor-api-client 2.12.2 (the client generated from Harbor swagger) runs the scenario against Berth', async (t) => {
  assert.ok(existsSync(PYTHON), `${PYTHON} is missing: run scripts/ci-deps.sh (it installs harbor-api-client into .tools/pyvenv)`);
  const project = `hclient-${Date.now().toString(36)}`;
  const { stdout } = await promisify(execFile)(PYTHON, [SCRIPT, f.berth.url, 'admin', f.berth.adminPassword, project], {
    env: { ...process.env, CRANE: toolPath('crane'), PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 300_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const result = JSON.parse(stdout) as { harbor_client: string; steps: Step[] };
  assert.equal(result.harbor_client, '2.12.2');
  assert.deepEqual(result.steps.map((s) => s.name), Object.keys(STEP_OPS), 'the scenario ran every step in order');

  // Berth's served operations: operationId by "METHOD /path" (the client records swagger path templates).
  const doc = (await (await fetch(`${f.berth.url}/api/v2.0/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { operationId?: string; tags?: string[] }>>;
  };
  const byRoute = new Map<string, string>();
  const inScope = new Set<string>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op.operationId) continue;
      byRoute.set(`${method.toUpperCase()} ${path}`, op.operationId);
      if (op.tags?.some((tag) => TAGS.includes(tag))) inScope.add(op.operationId);
    }
  }
  const served = new Set(byRoute.values());

  // What each step really called is what STEP_OPS says it calls (so the required-ness below is honest).
  const called = new Set<string>();
  for (const s of result.steps) {
    for (const c of s.calls) {
      const id = byRoute.get(c);
      if (!id) continue; // not served: the step is not required anyway
      called.add(id);
      assert.ok(STEP_OPS[s.name].includes(id), `step ${s.name} called ${id} (${c}), which STEP_OPS does not list`);
    }
  }

  const required = Object.keys(STEP_OPS).filter((s) => STEP_OPS[s].every((id) => served.has(id)));
  const notYet = Object.keys(STEP_OPS).filter((s) => !required.includes(s));
  if (notYet.length) t.diagnostic(`steps not required (their operations are not in Berth's document yet): ${notYet.join(', ')}`);
  for (const s of result.steps) t.diagnostic(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name} ${JSON.stringify(s.ok ? s.detail : s.error).slice(0, 300)}`);

  const failed = result.steps.filter((s) => required.includes(s.name) && !s.ok && !(s.name in KNOWN_GAPS));
  assert.deepEqual(
    failed.map((s) => `${s.name}: ${s.error}`),
    [],
    `harbor_client steps failed:\n${failed.map((s) => `${s.name}: ${s.error}\n${s.trace ?? ''}`).join('\n')}`,
  );
  const stale = result.steps.filter((s) => s.name in KNOWN_GAPS && s.ok).map((s) => s.name);
  assert.deepEqual(stale, [], `stale KNOWN_GAPS entry: ${stale.join(', ')} passed — remove it from KNOWN_GAPS`);
  for (const s of result.steps) if (s.name in KNOWN_GAPS && !s.ok) t.diagnostic(`known gap ${s.name} (${KNOWN_GAPS[s.name]}): ${s.error?.slice(0, 200)}`);

  // Nothing left out: every served operation of the tags was called by some step (a failing known-gap step
  // may stop before its later calls; those operations count once the gap closes).
  const gapOps = new Set(Object.keys(KNOWN_GAPS).flatMap((s) => STEP_OPS[s]));
  const uncalled = [...inScope].filter((id) => !called.has(id) && !(id in NOT_IN_CLIENT) && !gapOps.has(id)).sort();
  assert.deepEqual(uncalled, [], `served operations of ${TAGS.join(', ')} that no step called`);
  for (const id of Object.keys(NOT_IN_CLIENT)) assert.ok(!called.has(id), `${id} is listed in NOT_IN_CLIENT but was called`);
  const gapUncalled = [...inScope].filter((id) => !called.has(id) && gapOps.has(id));
  if (gapUncalled.length) t.diagnostic(`not reached because a known-gap step failed first: ${gapUncalled.sort().join(', ')}`);
  const inScopeCalled = [...inScope].filter((id) => called.has(id));
  t.diagnostic(`harbor_client called ${called.size} served operations (${inScopeCalled.length} of the ${inScope.size} served in the scenario's tags; ${Object.keys(NOT_IN_CLIENT).length} not in the 2.12.2 client)`);

  // What the client did is really there (read back with Berth's own API): the project is gone again.
  const admin = f.admin;
  if (required.includes('delete_project') && !('delete_project' in KNOWN_GAPS)) {
    const p = await admin.call('GET', `/projects/${project}`, undefined, { 'X-Is-Resource-Name': 'true' });
    assert.equal(p.status, 404, p.text);
  }
});
