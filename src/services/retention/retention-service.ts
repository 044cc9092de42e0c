// Tag retention (Harbor's retention controller, launcher and job): one policy per project (the project's
// `retention_id` metadata points at it), a RETENTION job execution per trigger — manual, dry run or the policy's
// cron schedule — with one task per repository some enabled rule selects; each task evaluates the repository
// (evaluator.ts), keeps immutable artifacts, deletes the rest through ArtifactService.remove (audit log,
// DELETE_ARTIFACT events, quota; GC frees the bytes later) and logs a table of what it retained and deleted.
// The last task to finish publishes TAG_RETENTION.
import type { Db, Queryable } from '../../db/db.ts';
import { ApiErrors } from '../../errors.ts';
import type { EventPublisher } from '../../events.ts';
import type { ArtifactQueryRepository } from '../../repositories/artifact-query-repository.ts';
import type { ProjectRepository } from '../../repositories/project-repository.ts';
import type { RetentionPolicyRow, RetentionRepository } from '../../repositories/retention-repository.ts';
import type { ImmutabilityService } from '../artifact/immutability-service.ts';
import type { ArtifactService } from '../artifact/artifact-service.ts';
import { isValidPattern } from '../artifact/doublestar.ts';
import type { AuditSink } from '../audit/audit.ts';
import { InvalidScheduleError, type Execution, type JobContext, type JobParams, type JobService, type JobTrigger, type Task } from '../jobs/job-service.ts';
import { validateSchedule } from '../jobs/schedule-spec.ts';
import { evaluateRepository, ruleSelectsRepository, TEMPLATES, type Candidate, type RetentionRule, type RetentionSelector } from './evaluator.ts';

export const RETENTION_JOB = 'RETENTION';
/** Harbor's limit (handler/retention.go). */
export const MAX_RETENTION_RULES = 15;

/** Harbor's GET /retentions/metadatas payload, as Harbor lists it (five templates, two selector kinds). */
export const RETENTION_METADATA = {
  templates: [
    { rule_template: 'latestPushedK', display_text: 'the most recently pushed # artifacts', action: 'retain', params: [{ type: 'int', unit: 'COUNT', required: true }] },
    { rule_template: 'latestPulledN', display_text: 'the most recently pulled # artifacts', action: 'retain', params: [{ type: 'int', unit: 'COUNT', required: true }] },
    { rule_template: 'nDaysSinceLastPush', display_text: 'pushed within the last # days', action: 'retain', params: [{ type: 'int', unit: 'DAYS', required: true }] },
    { rule_template: 'nDaysSinceLastPull', display_text: 'pulled within the last # days', action: 'retain', params: [{ type: 'int', unit: 'DAYS', required: true }] },
    { rule_template: 'always', display_text: 'always', action: 'retain', params: [] },
  ],
  scope_selectors: [{ display_text: 'Repositories', kind: 'doublestar', decorations: ['repoMatches', 'repoExcludes'] }],
  tag_selectors: [{ display_text: 'Tags', kind: 'doublestar', decorations: ['matches', 'excludes'] }],
};

export interface RetentionPolicy {
  algorithm: string;
  rules: RetentionRule[];
  trigger: { kind: string; settings: Record<string, unknown>; references: Record<string, unknown> };
  scope: { level: string; ref: number };
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : '');

function parseSelector(v: unknown, where: string, kinds: Record<string, readonly string[]>): RetentionSelector {
  if (!isObj(v)) throw ApiErrors.badRequest(`${where} must be an object`);
  const { kind, decoration, pattern = '', extras } = v;
  if (typeof kind !== 'string' || !(kind in kinds)) throw ApiErrors.badRequest(`${where}.kind must be one of ${Object.keys(kinds).join(', ')}`);
  if (typeof decoration !== 'string' || !kinds[kind].includes(decoration)) throw ApiErrors.badRequest(`${where}.decoration must be one of ${kinds[kind].join(', ')}`);
  if (typeof pattern !== 'string' || pattern.length > 1024) throw ApiErrors.badRequest(`${where}.pattern must be a string`);
  if (kind === 'doublestar' && pattern !== '' && !isValidPattern(pattern)) throw ApiErrors.badRequest(`${where}.pattern ${JSON.stringify(pattern)} is invalid`);
  if (extras !== undefined && typeof extras !== 'string') throw ApiErrors.badRequest(`${where}.extras must be a string`);
  return { kind, decoration, pattern, ...(extras ? { extras } : {}) };
}

/** The policy of a request body (Harbor's RetentionPolicy): 400 for what Harbor could not run, 409 for duplicate rules. */
export function parsePolicy(body: Record<string, unknown>): RetentionPolicy {
  const { algorithm = 'or', rules = [], trigger, scope } = body;
  if (!Array.isArray(rules)) throw ApiErrors.badRequest('rules must be an array');
  if (rules.length > MAX_RETENTION_RULES) throw ApiErrors.badRequest(`only ${MAX_RETENTION_RULES} rules are allowed at most`);
  if (algorithm !== 'or') throw ApiErrors.badRequest('algorithm must be or');
  const parsed = rules.map((r, i): RetentionRule => {
    const w = `rules[${i}]`;
    if (!isObj(r)) throw ApiErrors.badRequest(`${w} must be an object`);
    const { priority = 0, disabled = false, action = 'retain', template, params, tag_selectors = [], scope_selectors = {} } = r;
    if (typeof priority !== 'number' || !Number.isInteger(priority)) throw ApiErrors.badRequest(`${w}.priority must be an integer`);
    if (typeof disabled !== 'boolean') throw ApiErrors.badRequest(`${w}.disabled must be a boolean`);
    if (action !== 'retain') throw ApiErrors.badRequest(`${w}.action must be retain`);
    if (typeof template !== 'string' || !TEMPLATES.includes(template)) throw ApiErrors.badRequest(`${w}.template must be one of ${TEMPLATES.join(', ')}`);
    if (params !== undefined && !isObj(params)) throw ApiErrors.badRequest(`${w}.params must be an object`);
    if (!Array.isArray(tag_selectors)) throw ApiErrors.badRequest(`${w}.tag_selectors must be an array`);
    if (!isObj(scope_selectors)) throw ApiErrors.badRequest(`${w}.scope_selectors must be an object`);
    for (const k of Object.keys(scope_selectors)) if (k !== 'repository') throw ApiErrors.badRequest(`${w}: scope selector ${k.slice(0, 64)} is not supported`);
    const repoSel = scope_selectors.repository ?? [];
    if (!Array.isArray(repoSel)) throw ApiErrors.badRequest(`${w}.scope_selectors.repository must be an array`);
    return {
      id: i + 1,
      priority,
      disabled,
      action: 'retain',
      template,
      params: (params as Record<string, unknown> | undefined) ?? {},
      tag_selectors: tag_selectors.map((s, j) => parseSelector(s, `${w}.tag_selectors[${j}]`, { doublestar: ['matches', 'excludes'], label: ['withLabels', 'withoutLabels'] })),
      scope_selectors: { repository: repoSel.map((s, j) => parseSelector(s, `${w}.scope_selectors.repository[${j}]`, { doublestar: ['repoMatches', 'repoExcludes'] })) },
    };
  });
  // Harbor's checkRuleConflict: two identical rules (ids aside) are a 409.
  const seen = new Map<string, number>();
  parsed.forEach((r, n) => {
    const key = JSON.stringify({ ...r, id: 0 });
    const old = seen.get(key);
    if (old !== undefined) throw ApiErrors.conflict(`rule ${n} is conflict with rule ${old}`);
    seen.set(key, n);
  });
  let trig: RetentionPolicy['trigger'] = { kind: 'Schedule', settings: {}, references: {} };
  if (trigger !== undefined) {
    if (!isObj(trigger)) throw ApiErrors.badRequest('trigger must be an object');
    const { kind = 'Schedule', settings = {}, references = {} } = trigger;
    if (kind !== 'Schedule') throw ApiErrors.badRequest('trigger.kind must be Schedule');
    if (!isObj(settings) || !isObj(references)) throw ApiErrors.badRequest('trigger.settings and trigger.references must be objects');
    const cron = settings.cron;
    if (cron !== undefined && cron !== '') {
      if (typeof cron !== 'string') throw ApiErrors.badRequest('trigger.settings.cron must be a string');
      try {
        validateSchedule(cron);
      } catch (e) {
        if (e instanceof InvalidScheduleError) throw ApiErrors.badRequest(e.message);
        throw e;
      }
    }
    trig = { kind, settings, references };
  }
  if (!isObj(scope)) throw ApiErrors.badRequest('scope is required');
  if (scope.level !== 'project') throw ApiErrors.badRequest(`scope ${String(scope.level ?? '').slice(0, 64)} is not support`);
  const ref = scope.ref;
  if (typeof ref !== 'number' || !Number.isInteger(ref) || ref <= 0) throw ApiErrors.badRequest(`invalid Project id ${String(ref).slice(0, 32)}`);
  return { algorithm: 'or', rules: parsed, trigger: trig, scope: { level: 'project', ref } };
}

export function policyView(row: RetentionPolicyRow) {
  const p = row.policy as unknown as RetentionPolicy;
  return { id: row.id, algorithm: p.algorithm, rules: p.rules, trigger: p.trigger, scope: { level: 'project', ref: row.projectId } };
}

export function executionView(e: Execution) {
  return {
    id: e.id,
    policy_id: e.vendorId,
    start_time: iso(e.startTime),
    end_time: iso(e.endTime),
    status: e.status,
    trigger: e.trigger.toUpperCase(),
    // Harbor's swagger model drops the execution's operator (JSONCopy into RetentionExecution), so it is not shown.
    dry_run: e.extraAttrs.dry_run === true,
  };
}

/** What a task of a run carries (frozen at trigger time, as Harbor passes the policy to its job). */
interface TaskParams {
  project_id: number;
  /** Full name, `project/name`. */
  repository: string;
  dry_run: boolean;
  operator: string;
  rules: RetentionRule[];
}

const unixSeconds = (ms: number | null | undefined) => (ms ? Math.floor(ms / 1000) : 0);

export class RetentionService {
  private readonly db: Db;
  private readonly repo: RetentionRepository;
  private readonly projects: ProjectRepository;
  private readonly jobs: JobService;
  private readonly immutability: ImmutabilityService;
  private readonly artifacts: ArtifactService;
  private readonly query: ArtifactQueryRepository;
  private readonly audit: AuditSink;
  private readonly events: EventPublisher;
  constructor(d: {
    db: Db;
    repo: RetentionRepository;
    projects: ProjectRepository;
    jobs: JobService;
    immutability: ImmutabilityService;
    artifacts: ArtifactService;
    query: ArtifactQueryRepository;
    audit: AuditSink;
    events: EventPublisher;
  }) {
    this.db = d.db;
    this.repo = d.repo;
    this.projects = d.projects;
    this.jobs = d.jobs;
    this.immutability = d.immutability;
    this.artifacts = d.artifacts;
    this.query = d.query;
    this.audit = d.audit;
    this.events = d.events;
  }

  find(id: number): Promise<RetentionPolicyRow | null> {
    return this.repo.findPolicy(id);
  }

  /** Creates the project's policy (the caller checked tag-retention:create on `policy.scope.ref`). */
  async create(actor: string, policy: RetentionPolicy): Promise<number> {
    const projectId = policy.scope.ref;
    const id = await this.db.tx(async (q) => {
      const old = await this.repo.findPolicyOfProject(projectId, q);
      if (old) throw ApiErrors.badRequest(`project ${projectId} already has retention policy ${old.id}`);
      const id = await this.repo.saveNewPolicy(projectId, policy as unknown as Record<string, unknown>, q);
      if (id === null) throw ApiErrors.badRequest(`project ${projectId} already has retention policy`);
      await this.projects.saveProjectMetadata(projectId, 'retention_id', String(id), q);
      return id;
    });
    await this.syncSchedule(id, policy);
    await this.audit.record({ username: actor, operation: 'create', resourceType: 'retention', resource: String(id), projectId });
    return id;
  }

  async update(actor: string, row: RetentionPolicyRow, policy: RetentionPolicy): Promise<void> {
    // The scope stays the policy's project (Harbor's update cannot move a policy to another project).
    const p = { ...policy, scope: { level: 'project', ref: row.projectId } };
    await this.repo.savePolicy(row.id, p as unknown as Record<string, unknown>);
    await this.syncSchedule(row.id, p);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'retention', resource: String(row.id), projectId: row.projectId });
  }

  async remove(actor: string, row: RetentionPolicyRow): Promise<void> {
    await this.db.tx(async (q) => {
      await this.repo.removePolicy(row.id, q);
      await q.run("DELETE FROM project_metadata WHERE project_id = ? AND name = 'retention_id'", [row.projectId]);
    });
    await this.jobs.unschedule(RETENTION_JOB, row.id);
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'retention', resource: String(row.id), projectId: row.projectId });
  }

  /** The policy's cron (trigger.settings.cron) as a job schedule of vendor = policy id; none without a cron. */
  private async syncSchedule(id: number, policy: RetentionPolicy): Promise<void> {
    const cron = policy.trigger.settings.cron;
    if (typeof cron === 'string' && cron !== '') await this.jobs.schedule(RETENTION_JOB, cron, { policy_id: id, dry_run: false }, { vendorId: id });
    else await this.jobs.unschedule(RETENTION_JOB, id);
  }

  /** One task per repository of the project that an enabled rule selects (Harbor's launcher). */
  private async plan(policyId: number, dryRun: boolean, operator: string, q?: Queryable): Promise<JobParams[]> {
    const row = await this.repo.findPolicy(policyId, q);
    if (!row) {
      // The policy went with its project (ON DELETE CASCADE): its schedule goes at its next firing.
      if (q) await this.repo.removeSchedulesOfPolicy(policyId, q);
      return [];
    }
    const p = row.policy as unknown as RetentionPolicy;
    const project = await this.projects.findProjectById(row.projectId);
    if (!project) return [];
    const rules = p.rules.filter((r) => !r.disabled);
    if (!rules.length) return [];
    const repos = await this.repo.listRepositoryNames(row.projectId, q);
    return repos
      .filter((r) => rules.some((rule) => ruleSelectsRepository(rule, r.name.slice(project.name.length + 1))))
      .map((r) => ({ project_id: row.projectId, repository: r.name, dry_run: dryRun, operator, rules }) satisfies TaskParams as unknown as JobParams);
  }

  async trigger(actor: string, row: RetentionPolicyRow, dryRun: boolean, trigger: JobTrigger = 'manual'): Promise<Execution> {
    const tasks = await this.plan(row.id, dryRun, actor);
    return this.jobs.submit(RETENTION_JOB, { policy_id: row.id, dry_run: dryRun }, trigger, { vendorId: row.id, tasks, extraAttrs: { dry_run: dryRun, operator: actor } });
  }

  async listExecutions(row: RetentionPolicyRow, page: { limit: number; offset: number }): Promise<{ total: number; items: ReturnType<typeof executionView>[] }> {
    const f = { vendorType: RETENTION_JOB, vendorId: row.id };
    const [total, items] = await Promise.all([this.jobs.countExecutions(f), this.jobs.listExecutions({ ...f, limit: page.limit, offset: page.offset })]);
    return { total, items: items.map(executionView) };
  }

  /** The execution of this policy, or Harbor's 404. */
  async execution(row: RetentionPolicyRow, eid: number): Promise<Execution> {
    const e = await this.jobs.getExecution(eid);
    if (!e || e.vendorType !== RETENTION_JOB || e.vendorId !== row.id) throw ApiErrors.notFound(`project: ${row.projectId}, execution id ${eid} not found`);
    return e;
  }

  async stop(row: RetentionPolicyRow, eid: number): Promise<void> {
    await this.execution(row, eid);
    await this.jobs.stop(eid);
  }

  async listTasks(row: RetentionPolicyRow, eid: number, page: { limit: number; offset: number }) {
    await this.execution(row, eid);
    const all = await this.jobs.listTasks(eid);
    const slice = all.slice(page.offset, page.offset + page.limit);
    const results = await this.repo.listTaskResults(slice.map((t) => t.id));
    return { total: all.length, items: slice.map((t) => this.taskView(t, results.get(t.id))) };
  }

  private taskView(t: Task, r: { total: number; retained: number } | undefined) {
    const p = t.params as unknown as Partial<TaskParams>;
    const project = typeof p.repository === 'string' ? p.repository.slice(0, p.repository.indexOf('/')) : '';
    return {
      id: t.id,
      execution_id: t.executionId,
      repository: typeof p.repository === 'string' ? p.repository.slice(project.length + 1) : '',
      job_id: String(t.id),
      status: t.status,
      status_code: t.statusCode,
      status_revision: t.updateTime,
      start_time: iso(t.startTime),
      end_time: iso(t.endTime),
      total: r?.total ?? 0,
      retained: r?.retained ?? 0,
    };
  }

  async taskLog(row: RetentionPolicyRow, eid: number, tid: number): Promise<string> {
    await this.execution(row, eid);
    const t = await this.jobs.getTask(tid);
    if (!t || t.executionId !== eid) throw ApiErrors.notFound(`project: ${row.projectId}, execution id ${eid} not found`);
    return this.jobs.getTaskLogText(tid);
  }

  /** Registers the RETENTION job type: schedule firings are split into per-repository tasks by `plan`. */
  register(): void {
    this.jobs.register(RETENTION_JOB, (ctx) => this.runTask(ctx), {
      retainExecutions: 50,
      retainPerVendor: true,
      plan: (params, vendorId, q) => this.plan(vendorId, params.dry_run === true, '', q),
    });
  }

  /** Loads a repository's candidates (Harbor's dep client GetCandidates: one per top-level artifact). */
  async candidates(repositoryId: number): Promise<Candidate[]> {
    const rows = await this.query.listArtifacts(repositoryId, {}, [], 1_000_000_000, 0);
    const ids = rows.map((r) => r.id);
    const [tags, labels] = await Promise.all([this.query.listTagsOf(ids), this.query.listLabelsOf(ids)]);
    const tagsBy = new Map<number, typeof tags>();
    for (const t of tags) tagsBy.set(t.artifactId, [...(tagsBy.get(t.artifactId) ?? []), t]);
    const labelsBy = new Map<number, string[]>();
    for (const l of labels) labelsBy.set(l.artifactId, [...(labelsBy.get(l.artifactId) ?? []), l.name]);
    return rows.map((r) => {
      const ts = tagsBy.get(r.id) ?? [];
      return {
        digest: r.digest,
        tags: ts.map((t) => t.name),
        labels: labelsBy.get(r.id) ?? [],
        pushedTime: Math.max(unixSeconds(r.pushTime), ...ts.map((t) => unixSeconds(t.pushTime))),
        pulledTime: Math.max(unixSeconds(r.pullTime), ...ts.map((t) => unixSeconds(t.pullTime))),
      };
    });
  }

  private async runTask(ctx: JobContext): Promise<void> {
    const p = ctx.params as unknown as TaskParams;
    const dry = p.dry_run === true;
    const tag = dry ? '[DRY RUN] ' : '';
    ctx.log(`Run retention process. Repository: ${p.repository} Rule Algorithm: or Dry Run: ${dry}`);
    const project = await this.projects.findProjectById(p.project_id);
    const short = project ? p.repository.slice(project.name.length + 1) : '';
    let total = 0;
    let retainedCount = 0;
    const deletedRefs: string[] = [];
    if (project) {
      let loc;
      try {
        loc = await this.artifacts.locate(project, short);
      } catch {
        loc = null; // the repository went away since the trigger
      }
      if (loc) {
        const all = await this.candidates(loc.repo.id);
        total = all.length;
        ctx.log(`Load ${all.length} candidates from repository ${p.repository}`);
        const verdict = evaluateRepository(p.rules, short, all, Math.floor(Date.now() / 1000));
        const immutable = await this.immutability.matcher(p.project_id);
        const rows: [Candidate, string][] = verdict.retained.map((c) => [c, 'RETAIN']);
        for (const c of verdict.deleted) {
          if (ctx.signal.aborted) {
            rows.push([c, 'STOPPED']);
            continue;
          }
          // Harbor's performer: an artifact any of whose tags is immutable is never deleted.
          if (c.tags.some((t) => immutable(short, t))) {
            rows.push([c, 'IMMUTABLE']);
            continue;
          }
          if (dry) {
            rows.push([c, 'DEL']);
            deletedRefs.push(`${p.repository}@${c.digest}`);
            continue;
          }
          try {
            await this.artifacts.remove(p.operator || 'retention', loc, c.digest);
            rows.push([c, 'DEL']);
            deletedRefs.push(`${p.repository}@${c.digest}`);
          } catch (e) {
            rows.push([c, `ERR: ${(e as Error).message}`]);
          }
        }
        retainedCount = total - deletedRefs.length;
        const time = (s: number) => (s ? new Date(s * 1000).toISOString() : '-');
        ctx.log(`${tag}Digest | Tag | Labels | PushedTime | PulledTime | Retention`);
        for (const [c, verdictText] of rows)
          ctx.log(`${tag}${c.digest} | ${c.tags.join(',') || '<none>'} | ${c.labels.join(',')} | ${time(c.pushedTime)} | ${time(c.pulledTime)} | ${verdictText}`);
      }
    }
    ctx.log(`${tag}${dry ? 'would delete' : 'deleted'} ${deletedRefs.length} of ${total} artifacts, retained ${retainedCount}`);
    await this.finish(ctx, p, total, retainedCount, deletedRefs);
  }

  /**
   * Saves this task's counts; the task whose counts complete the execution's publishes TAG_RETENTION with Harbor's
   * retention summary (totals of every task), once: the execution row is locked so tasks finishing together see
   * each other's counts, and a marker keeps a re-run of the last task from announcing twice.
   */
  private async finish(ctx: JobContext, p: TaskParams, total: number, retained: number, deleted: string[]): Promise<void> {
    const project = await this.projects.findProjectById(p.project_id);
    const ex = await this.jobs.getExecution(ctx.executionId);
    await this.db.tx(async (q) => {
      await this.repo.lockExecution(ctx.executionId, q);
      await this.repo.saveTaskResult(ctx.taskId, ctx.executionId, total, retained, q);
      const sum = await this.repo.sumResults(ctx.executionId, q);
      if (sum.reported < sum.tasks || !(await this.repo.saveAnnounced(ctx.executionId, q))) return;
      await this.events.publish(q, [
        {
          type: 'TAG_RETENTION',
          operator: p.operator,
          projectId: p.project_id,
          data: {
            retention: {
              total: sum.total,
              retained: sum.retained,
              project_name: project?.name ?? '',
              retention_policy_id: ex?.vendorId ?? 0,
              result: 'SUCCESS',
              // This task's deletions; the other tasks' are in their logs.
              deleted_artifact: deleted.map((ref) => ({ type: 'image', status: 'SUCCESS', name_and_tag: ref })),
            },
          },
        },
      ]);
    });
  }
}
