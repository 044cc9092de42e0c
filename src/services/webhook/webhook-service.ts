// Webhook policies of a project (Harbor's notification policies): validation as Harbor's webhook handler and
// controller, plus Berth's SSRF guard at save time. auth_header values are sealed by SecretBox before they are
// stored and opened only when a policy is shown to someone allowed to edit it or (later) when delivering; they
// are never put in an error message or a log line.
import { ApiErrors } from '../../errors.ts';
import { OutboundRefusedError, type OutboundGuard } from '../../drivers/http/outbound-guard.ts';
import type { PolicyNameFilter, StoredTarget, WebhookPolicyRow, WebhookRepository } from '../../repositories/webhook-repository.ts';
import type { AuditSink } from '../audit/audit.ts';
import { SECRET_MASK, type SecretBox } from '../security/secret-box.ts';
import type { Execution, JobService, Task } from '../jobs/job-service.ts';


/** Harbor's supported event types (pkg/notification initSupportedNotifyType), in Harbor's order. */
export const WEBHOOK_EVENT_TYPES = [
  'PUSH_ARTIFACT',
  'PULL_ARTIFACT',
  'DELETE_ARTIFACT',
  'QUOTA_EXCEED',
  'QUOTA_WARNING',
  'SCANNING_FAILED',
  'SCANNING_STOPPED',
  'SCANNING_COMPLETED',
  'REPLICATION',
  'TAG_RETENTION',
] as const;
export const WEBHOOK_NOTIFY_TYPES = ['http', 'slack'] as const;
/** Job (and execution vendor) types of deliveries, as Harbor names them. */
export const WEBHOOK_JOB = 'WEBHOOK';
export const SLACK_JOB = 'SLACK';
export const WEBHOOK_JOB_TYPES = [WEBHOOK_JOB, SLACK_JOB] as const;
export const WEBHOOK_PAYLOAD_FORMATS = ['Default', 'CloudEvents'] as const;

/** What the API shows for a target's auth_header that is set: the value itself never leaves Berth (as Harbor does
 * for registry credentials). Sent back unchanged on update, it keeps the stored header — for the same address only,
 * so whoever may edit a policy cannot redirect a token they never saw to a host of their own. */
export const AUTH_HEADER_MASK = SECRET_MASK;

/** A target as the API shows it (auth_header masked). */
export interface WebhookTarget {
  type: string;
  address: string;
  auth_header: string;
  skip_cert_verify: boolean;
  payload_format: string;
}
export interface WebhookPolicy extends Omit<WebhookPolicyRow, 'targets'> {
  targets: WebhookTarget[];
}

const str = (v: unknown, name: string, max: number): string => {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw ApiErrors.badRequest(`${name} must be a string`);
  if (v.length > max) throw ApiErrors.badRequest(`${name} is too long`);
  if (v.includes('\0')) throw ApiErrors.badRequest(`${name} must not contain NUL`);
  return v;
};

export class WebhookService {
  private readonly repo: WebhookRepository;
  private readonly guard: OutboundGuard;
  private readonly box: SecretBox;
  private readonly audit: AuditSink;
  private readonly jobs: JobService;
  constructor(deps: { repo: WebhookRepository; guard: OutboundGuard; box: SecretBox; audit: AuditSink; jobs: JobService }) {
    this.repo = deps.repo;
    this.jobs = deps.jobs;
    this.guard = deps.guard;
    this.box = deps.box;
    this.audit = deps.audit;
  }

  private open(p: WebhookPolicyRow): WebhookPolicy {
    return { ...p, targets: p.targets.map((t) => ({ ...t, auth_header: t.auth_header ? AUTH_HEADER_MASK : '' })) };
  }

  async list(projectId: number, limit: number, offset: number, name: PolicyNameFilter = {}): Promise<{ total: number; items: WebhookPolicy[] }> {
    const [total, rows] = await Promise.all([this.repo.countPolicies(projectId, name), this.repo.listPolicies(projectId, limit, offset, name)]);
    return { total, items: rows.map((r) => this.open(r)) };
  }

  /** The policy when it belongs to the project; 404 naming it otherwise (as Harbor's requirePolicyInProject). */
  async get(projectId: number, id: number): Promise<WebhookPolicy> {
    return this.open(await this.require(projectId, id));
  }

  private async require(projectId: number, id: number): Promise<WebhookPolicyRow> {
    const p = await this.repo.findPolicy(id);
    if (!p || p.projectId !== projectId) throw ApiErrors.notFound(`project id:${projectId}, webhook policy id: ${id} not found`);
    return p;
  }

  /** Validates Harbor's WebhookPolicy body: event types, targets (guarded addresses), name; seals auth headers. */
  private async parse(body: Record<string, unknown>, current: readonly StoredTarget[] = []): Promise<Pick<WebhookPolicyRow, 'name' | 'description' | 'enabled' | 'eventTypes' | 'targets'>> {
    const name = str(body.name, 'name', 256).trim();
    if (!name) throw ApiErrors.badRequest('name is required');
    const rawEvents = body.event_types;
    if (rawEvents !== undefined && rawEvents !== null && !Array.isArray(rawEvents)) throw ApiErrors.badRequest('event_types must be an array');
    const eventTypes = (rawEvents ?? []) as unknown[];
    if (!eventTypes.length) throw ApiErrors.badRequest('empty event type');
    for (const e of eventTypes)
      if (typeof e !== 'string' || !(WEBHOOK_EVENT_TYPES as readonly string[]).includes(e))
        throw ApiErrors.badRequest(`unsupported event type ${String(e).slice(0, 64)}`);
    const rawTargets = body.targets;
    if (rawTargets !== undefined && rawTargets !== null && !Array.isArray(rawTargets)) throw ApiErrors.badRequest('targets must be an array');
    const list = (rawTargets ?? []) as unknown[];
    if (!list.length) throw ApiErrors.badRequest(`empty notification target with policy ${name}`);
    if (list.length > 16) throw ApiErrors.badRequest('too many targets');
    const targets: StoredTarget[] = [];
    for (const raw of list) {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw ApiErrors.badRequest('a target must be an object');
      const t = raw as Record<string, unknown>;
      const type = str(t.type, 'type', 32);
      const addressText = str(t.address, 'address', 2048).trim();
      if (!addressText) throw ApiErrors.badRequest('target address is required');
      let url: URL;
      try {
        url = await this.guard.checkUrl(addressText, { allowUnresolved: true });
      } catch (err) {
        if (err instanceof OutboundRefusedError) throw ApiErrors.badRequest(`target address refused: ${err.message}`);
        throw err;
      }
      if (!(WEBHOOK_NOTIFY_TYPES as readonly string[]).includes(type)) throw ApiErrors.badRequest(`unsupported target type ${type.slice(0, 32)} with policy ${name}`);
      let payloadFormat = str(t.payload_format, 'payload_format', 32);
      // Harbor: slack has its own payload; a format may not be set for it.
      if (payloadFormat && type === 'slack') throw ApiErrors.badRequest('set payload format is not allowed for slack');
      if (payloadFormat && !(WEBHOOK_PAYLOAD_FORMATS as readonly string[]).includes(payloadFormat))
        throw ApiErrors.badRequest(`unsupported payload format type: ${payloadFormat.slice(0, 32)}`);
      if (!payloadFormat && type === 'http') payloadFormat = 'Default';
      if (t.skip_cert_verify !== undefined && typeof t.skip_cert_verify !== 'boolean') throw ApiErrors.badRequest('skip_cert_verify must be a boolean');
      const authHeader = str(t.auth_header, 'auth_header', 4096);
      if (/[\r\n]/.test(authHeader)) throw ApiErrors.badRequest('auth_header must be a single line');
      // Harbor keeps scheme, host and path only (drops query and fragment; SSRF issue #3755).
      const address = `${url.protocol}//${url.host}${url.pathname === '/' && !/\/$/.test(addressText.split(/[?#]/)[0]!) ? '' : url.pathname}`;
      let sealed = authHeader ? this.box.seal(authHeader) : '';
      if (authHeader === AUTH_HEADER_MASK) {
        const kept = current.find((c) => c.type === type && c.address === address && c.auth_header);
        if (!kept) throw ApiErrors.badRequest(`auth_header must be given again for target ${address}: the stored one is kept only for the same address`);
        sealed = kept.auth_header;
      }
      targets.push({
        type,
        address,
        auth_header: sealed,
        skip_cert_verify: t.skip_cert_verify === true,
        payload_format: payloadFormat,
      });
    }
    if (body.enabled !== undefined && body.enabled !== null && typeof body.enabled !== 'boolean') throw ApiErrors.badRequest('enabled must be a boolean');
    return { name, description: str(body.description, 'description', 1024), enabled: body.enabled !== false, eventTypes: [...new Set(eventTypes as string[])], targets };
  }

  async create(actor: string, projectId: number, body: Record<string, unknown>): Promise<number> {
    const p = await this.parse(body);
    const id = await this.repo.saveNewPolicy({ ...p, projectId, creator: actor });
    if (id === null) throw ApiErrors.conflict(`notification policy named ${p.name} already exists`);
    await this.audit.record({ username: actor, operation: 'create', resourceType: 'notification_policy', resource: p.name, projectId });
    return id;
  }

  async update(actor: string, projectId: number, id: number, body: Record<string, unknown>): Promise<void> {
    const cur = await this.require(projectId, id);
    const p = await this.parse(body, cur.targets);
    if (!(await this.repo.savePolicy({ ...cur, ...p }))) throw ApiErrors.conflict(`notification policy named ${p.name} already exists`);
    await this.audit.record({ username: actor, operation: 'update', resourceType: 'notification_policy', resource: p.name, projectId });
  }

  async remove(actor: string, projectId: number, id: number): Promise<void> {
    const cur = await this.require(projectId, id);
    await this.repo.removePolicy(id);
    await this.audit.record({ username: actor, operation: 'delete', resourceType: 'notification_policy', resource: cur.name, projectId });
  }

  /** Harbor's WebhookLastTrigger list: one row per (policy, event type) of the project. */
  async lastTriggers(projectId: number): Promise<{ policy: WebhookPolicyRow; eventType: string; lastTrigger: number | null }[]> {
    const policies = await this.repo.listPolicies(projectId, 100_000, 0);
    const times = await this.repo.listLastTriggers(policies.map((p) => p.id));
    return policies.flatMap((policy) => policy.eventTypes.map((eventType) => ({ policy, eventType, lastTrigger: times.get(`${policy.id}/${eventType}`) ?? null })));
  }

  // ---- deliveries: one execution (with one task) per policy target and event, as Harbor's hook manager ----

  /** The policy's executions, newest first, with task counts per status (Harbor's metrics). */
  async executions(
    projectId: number,
    policyId: number,
    page: { limit: number; offset: number },
    status?: readonly string[],
  ): Promise<{ total: number; items: (Execution & { taskCounts: Record<string, number> })[] }> {
    await this.require(projectId, policyId);
    const f = { vendorType: WEBHOOK_JOB_TYPES, vendorId: policyId, ...(status ? { status } : {}) };
    const [total, items] = await Promise.all([this.jobs.countExecutions(f), this.jobs.listExecutions({ ...f, ...page })]);
    const counts = await this.jobs.countTasksByStatus(items.map((e) => e.id));
    return { total, items: items.map((e) => ({ ...e, taskCounts: counts.get(e.id) ?? {} })) };
  }

  /** An execution of the policy; 404 as Harbor's requireExecutionInPolicy otherwise. */
  private async requireExecution(projectId: number, policyId: number, executionId: number): Promise<Execution> {
    await this.require(projectId, policyId);
    const ex = await this.jobs.getExecution(executionId);
    if (!ex || ex.vendorId !== policyId || !(WEBHOOK_JOB_TYPES as readonly string[]).includes(ex.vendorType))
      throw ApiErrors.notFound(`execution ${executionId} not found in policy ${policyId}`);
    return ex;
  }

  async tasks(projectId: number, policyId: number, executionId: number): Promise<Task[]> {
    await this.requireExecution(projectId, policyId, executionId);
    return this.jobs.listTasks(executionId);
  }

  async taskLog(projectId: number, policyId: number, executionId: number, taskId: number): Promise<string> {
    await this.requireExecution(projectId, policyId, executionId);
    const t = await this.jobs.getTask(taskId);
    if (!t || t.executionId !== executionId) throw ApiErrors.notFound(`task ${taskId} not found in execution ${executionId}`);
    return this.jobs.getTaskLogText(taskId);
  }
}
